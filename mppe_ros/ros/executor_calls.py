"""Work handed from the inference thread to the node's executor thread, in order.

rclpy creates and destroys publishers safely on the thread that spins the node; the REP-155 bodies need both as
people come and go. The inference thread queues such a call (`call_soon`, thread-safe) and wakes the executor
through a guard condition; the executor runs the queued calls oldest first. A call that raises is reported through
`on_error` and does not stop the spin.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Any


class ExecutorCalls:
    """A FIFO of calls run on `node`'s executor thread.

    Args:
        node: the rclpy node whose executor runs the calls.
        on_error: called (on the executor thread) with the exception a call raised.
    """

    def __init__(self, node: Any, on_error: Callable[[Exception], None]) -> None:
        self._calls: deque[Callable[[], None]] = deque()
        self._lock = threading.Lock()
        self._on_error = on_error
        self._guard = node.create_guard_condition(self._run)

    def call_soon(self, call: Callable[[], None]) -> None:
        """Queue `call` for the executor thread (from any thread)."""
        with self._lock:
            self._calls.append(call)
        self._guard.trigger()

    @property
    def pending(self) -> int:
        """Calls queued and not run yet."""
        return len(self._calls)

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._calls:
                    return
                call = self._calls.popleft()
            try:
                call()
            except Exception as error:  # noqa: BLE001 - a failing call must not end the spin
                self._on_error(error)
