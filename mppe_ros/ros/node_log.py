"""Throttled, per-key logging for the node that cannot raise.

rclpy remembers one logging context per call site and raises `ValueError: Logger severity cannot
be changed between calls` when one source line logs at two severities. Each severity therefore has
its own method here, so every rclpy call site always logs at one severity. A key is logged at most
once per `period_s()` seconds (or once, `once=True`); the throttle clock is the monotonic wall
clock (it paces log lines, it measures nothing in the scene). Should logging itself fail, the
text goes to stderr and `failures` counts it: reporting a problem never raises.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any


class ThrottledLog:
    """Per-key throttled logging on an rclpy logger.

    Args:
        logger: the node's rclpy logger (`node.get_logger()`).
        period_s: returns the current throttle period, s (read at every call: a parameter).
    """

    def __init__(self, logger: Any, period_s: Callable[[], float]) -> None:
        self._logger = logger
        self._period_s = period_s
        self._last_s: dict[str, float] = {}
        self.failures = 0  # log calls that raised; their text went to stderr

    def error(self, key: str, text: str, once: bool = False) -> bool:
        """Log `text` at ERROR unless `key` was logged within the period (or ever, once=True)."""
        return self._emit(key, once, text, lambda: self._logger.error(text))  # this line: ERROR only

    def warning(self, key: str, text: str, once: bool = False) -> bool:
        """Log `text` at WARN unless `key` was logged within the period (or ever, once=True)."""
        return self._emit(key, once, text, lambda: self._logger.warning(text))  # this line: WARN only

    def info(self, key: str, text: str, once: bool = False) -> bool:
        """Log `text` at INFO unless `key` was logged within the period (or ever, once=True)."""
        return self._emit(key, once, text, lambda: self._logger.info(text))  # this line: INFO only

    def _emit(self, key: str, once: bool, text: str, log: Callable[[], object]) -> bool:
        if not self._due(key, once):
            return False
        try:
            log()
        except Exception as error:  # noqa: BLE001 - reporting must never raise
            self._fallback(error, text)
        return True

    def _due(self, key: str, once: bool) -> bool:
        now_s, last_s = time.monotonic(), self._last_s.get(key)
        if last_s is not None and (once or now_s - last_s < self._period_s()):
            return False
        self._last_s[key] = now_s
        return True

    def _fallback(self, error: Exception, text: str) -> None:
        self.failures += 1
        try:
            print(f"[mppe_node] logging failed ({type(error).__name__}: {error}); message: {text}", file=sys.stderr)
        except Exception:  # noqa: BLE001, S110 - stderr itself is gone: nothing is left to report to
            pass
