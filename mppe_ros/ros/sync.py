"""Time synchronizers for messages with a header stamp, as in ROS 2 `message_filters`.

`mppe_node` pairs each Image with its CameraInfo through `message_filters` where that package is
installed; where it is not (the PyPI environment), through these two classes, which reproduce the
behaviour of message_filters' Python `TimeSynchronizer` and `ApproximateTimeSynchronizer`:

- `ExactTimeSynchronizer`: a set of messages is emitted when every input holds a message with the
  same stamp; the emitted stamp is removed from every queue (older unmatched messages stay until
  the queue limit pushes them out).
- `ApproximateTimeSynchronizer`: when a message arrives, the messages of the other inputs whose
  stamps lie within `slop_s` of it are candidates, closest first; the first combination whose
  stamp spread (max - min) is below `slop_s` is emitted and its messages are removed from their
  queues (message_filters' greedy Python algorithm; unmatched messages stay until pushed out).

Each input keeps at most `queue_size` messages (the oldest stamp is dropped first). The callback
runs under the synchronizer's lock, like message_filters' callbacks: it must only store the set
and return. Pure Python: the messages only need `header.stamp.sec` and `header.stamp.nanosec`.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Any

Callback = Callable[..., None]


def stamp_ns(msg: Any) -> int:
    """The message's header stamp in integer nanoseconds."""
    stamp = msg.header.stamp
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


class _Synchronizer:
    """Per-input queues {stamp_ns: msg}, queue limit, callbacks and the lock."""

    def __init__(self, input_count: int, queue_size: int) -> None:
        if input_count < 2:
            raise ValueError(f"input_count must be >= 2, got {input_count}")
        if queue_size < 1:
            raise ValueError(f"queue_size must be >= 1, got {queue_size}")
        self.input_count = input_count
        self.queue_size = queue_size
        self.queues: list[dict[int, Any]] = [{} for _ in range(input_count)]
        self.lock = threading.Lock()
        self._callbacks: list[Callback] = []

    def register_callback(self, callback: Callback) -> None:
        """Call `callback(msg_0, msg_1, ...)` (input order) for every synchronized set."""
        self._callbacks.append(callback)

    # message_filters spelling, so the node can use either implementation the same way.
    registerCallback = register_callback  # noqa: N815

    def connect_input(self, index: int) -> Callable[[Any], None]:
        """A subscription callback that feeds messages into input `index`."""
        if not 0 <= index < self.input_count:
            raise ValueError(f"input index must be in [0, {self.input_count - 1}], got {index}")
        return lambda msg: self.add(msg, index)

    def add(self, msg: Any, index: int) -> None:
        """Feed one message into input `index`; calls the callbacks when it completes a set."""
        stamp = stamp_ns(msg)
        with self.lock:
            queue = self.queues[index]
            queue[stamp] = msg
            while len(queue) > self.queue_size:
                del queue[min(queue)]
            self._match(stamp, index)

    def _emit(self, msgs: list[Any]) -> None:
        for callback in self._callbacks:
            callback(*msgs)

    def _match(self, stamp: int, index: int) -> None:
        raise NotImplementedError


class ExactTimeSynchronizer(_Synchronizer):
    """Emits sets of messages with identical stamps (message_filters.TimeSynchronizer)."""

    def _match(self, stamp: int, index: int) -> None:
        common = set.intersection(*(set(queue) for queue in self.queues))
        for common_stamp in sorted(common):
            msgs = [queue.pop(common_stamp) for queue in self.queues]
            self._emit(msgs)


class ApproximateTimeSynchronizer(_Synchronizer):
    """Emits sets whose stamps lie within `slop_s` (message_filters.ApproximateTimeSynchronizer).

    Args:
        input_count: number of inputs (2 for Image + CameraInfo).
        queue_size: messages kept per input.
        slop_s: stamp spread of an emitted set is below this, s (> 0; message_filters never
            emits with a slop of 0: use ExactTimeSynchronizer for equal stamps).
    """

    def __init__(self, input_count: int, queue_size: int, slop_s: float) -> None:
        super().__init__(input_count, queue_size)
        if not slop_s > 0.0:
            raise ValueError(f"slop_s must be > 0 s (use exact sync for equal stamps), got {slop_s!r}")
        self.slop_ns = int(round(slop_s * 1e9))

    def _match(self, stamp: int, index: int) -> None:
        candidates: list[list[int]] = []
        for other_index, queue in enumerate(self.queues):
            if other_index == index:
                continue
            near = sorted((abs(s - stamp), s) for s in queue if abs(s - stamp) <= self.slop_ns)
            if not near:
                return
            candidates.append([s for _, s in near])
        for combination in itertools.product(*candidates):
            stamps = list(combination)
            stamps.insert(index, stamp)
            if max(stamps) - min(stamps) < self.slop_ns:
                msgs = [queue.pop(s) for queue, s in zip(self.queues, stamps, strict=True)]
                self._emit(msgs)
                return


def make_synchronizer(mode: str, queue_size: int, slop_s: float, input_count: int = 2) -> _Synchronizer:
    """`ExactTimeSynchronizer` for mode "exact", `ApproximateTimeSynchronizer` for "approximate"."""
    if mode == "exact":
        return ExactTimeSynchronizer(input_count, queue_size)
    if mode == "approximate":
        return ApproximateTimeSynchronizer(input_count, queue_size, slop_s)
    raise ValueError(f"sync mode must be 'approximate' or 'exact', got {mode!r}")


class LatestOnly:
    """One-slot mailbox from the synchronizer callback to the inference thread: never a backlog.

    `put` (called under the synchronizer's lock) only stores the item, replacing one that was not
    taken yet, and says so (the caller counts the skipped frame); `take` (the inference thread) waits
    for the newest item.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: Any = None
        self._closed = False

    def put(self, item: Any) -> bool:
        """Store `item` as the newest; True when it replaced an item that was never taken."""
        with self._cond:
            replaced = self._item is not None
            self._item = item
            self._cond.notify()
            return replaced

    def take(self, timeout_s: float | None = None) -> Any:
        """The newest item (removed from the slot); None once closed or after `timeout_s` without one."""
        with self._cond:
            self._cond.wait_for(lambda: self._item is not None or self._closed, timeout_s)
            if self._closed:
                return None
            item, self._item = self._item, None
            return item

    def close(self) -> None:
        """Wake `take` for good: it returns None from now on."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
