"""`detector: topic`: each synchronized (image, camera_info) pair meets the Detection2DArray of its stamp.

Detectors copy the image header into their detections (yolo_ros, Isaac ROS, darknet_ros), so pairing is `exact` by
default: equal stamps. `approximate` takes the nearest stamp within `slop_s` (a detector that restamps): when a pair
or a detection arrives, the nearest waiting partner within slop_s is taken at once (greedy, as message_filters').
Either side waits at most `timeout_s` (receive time, monotonic: how long a message may wait is not a stamp's
business) and at most MAX_PENDING messages; then it is dropped and counted: an image pair as IMAGES_WITHOUT (its
frame gets no result), a detection as DETECTIONS_UNMATCHED. Each is explained once (`explanation`). No ROS import:
the messages only need `header.stamp`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from mppe_ros.ros.sync import stamp_ns

MAX_PENDING = 30  # image pairs (and detections) kept waiting for their partner: 1 s at 30 Hz
IMAGES_WITHOUT = "images_without_detections"  # NodeStats counters passed to on_event
DETECTIONS_UNMATCHED = "detections_unmatched"


def explanation(counter: str, image_topic: str, detections_topic: str, timeout_s: float, mode: str) -> str:
    """The log line that explains the first image (or detection) of its kind dropped by the pairing."""
    if counter == IMAGES_WITHOUT:
        return (
            f"an image on {image_topic} got no Detection2DArray with its stamp on {detections_topic} within "
            f"{timeout_s:g} s ({mode} pairing): that frame gets no result (counted: images without detections). "
            "Usual causes: the detector is not running or listens to another image topic (remap detections:=...), "
            "it skips frames (each skipped one is counted here), it is slower than detections_timeout_s, or it does "
            "not copy the image's header stamp (detections_sync_mode approximate)"
        )
    return (
        f"a Detection2DArray on {detections_topic} matched no image of {image_topic} within {timeout_s:g} s "
        f"({mode} pairing; counted: detections unmatched): its image was lost or replaced on the way, or its stamp "
        "is not an image's (a detector that restamps: detections_sync_mode approximate)"
    )


class DetectionPairing:
    """Joins (image, camera_info) pairs and detections by stamp (the module docstring); thread-safe (one lock).

    Args:
        on_frame: called with (image, camera_info, detections) once per joined pair, under this object's lock.
        mode: "exact" (equal stamps) or "approximate" (nearest within slop_s).
        slop_s: approximate pairing's largest stamp difference, s.
        timeout_s: a message waits this long for its partner, s (receive time).
        on_event: called with IMAGES_WITHOUT or DETECTIONS_UNMATCHED for every message dropped unpaired.
        clock: monotonic time, s.
    """

    def __init__(
        self,
        on_frame: Callable[[Any, Any, Any], None],
        mode: str,
        slop_s: float,
        timeout_s: float,
        on_event: Callable[[str], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if mode not in ("exact", "approximate"):
            raise ValueError(f"detections pairing mode must be 'exact' or 'approximate', got {mode!r}")
        self._on_frame, self._on_event, self._clock = on_frame, on_event, clock
        self.mode, self.timeout_s = mode, timeout_s
        self._slop_ns = round(slop_s * 1e9) if mode == "approximate" else 0
        self._lock = threading.Lock()
        self._pairs: dict[int, tuple[Any, Any, float]] = {}  # stamp ns -> (image, camera_info, received_s)
        self._detections: dict[int, tuple[Any, float]] = {}  # stamp ns -> (detections, received_s)

    def pair(self, image: Any, camera_info: Any) -> None:
        """A synchronized (image, camera_info): joined with waiting detections of its stamp, or kept waiting."""
        stamp = stamp_ns(image)
        with self._lock:
            partner = self._partner(stamp, self._detections)
            if partner is None:
                self._keep(self._pairs, stamp, (image, camera_info, self._clock()), IMAGES_WITHOUT)
                return
            detections, _ = self._detections.pop(partner)
            self._on_frame(image, camera_info, detections)

    def detections(self, msg: Any) -> None:
        """A Detection2DArray: joined with the waiting pair of its stamp, or kept waiting."""
        stamp = stamp_ns(msg)
        with self._lock:
            partner = self._partner(stamp, self._pairs)
            if partner is None:
                self._keep(self._detections, stamp, (msg, self._clock()), DETECTIONS_UNMATCHED)
                return
            image, camera_info, _ = self._pairs.pop(partner)
            self._on_frame(image, camera_info, msg)

    def expire(self) -> None:
        """Drop (and count) what waited longer than timeout_s; call periodically."""
        oldest_s = self._clock() - self.timeout_s
        with self._lock:
            for waiting, counter in ((self._pairs, IMAGES_WITHOUT), (self._detections, DETECTIONS_UNMATCHED)):
                for stamp in [stamp for stamp, entry in waiting.items() if entry[-1] < oldest_s]:
                    del waiting[stamp]
                    self._on_event(counter)

    @property
    def waiting(self) -> tuple[int, int]:
        """(image pairs, detections) waiting for their partner now."""
        with self._lock:
            return len(self._pairs), len(self._detections)

    def _partner(self, stamp: int, waiting: dict[int, Any]) -> int | None:
        """The waiting stamp that pairs with `stamp` (equal, or the nearest within the slop), or None."""
        if stamp in waiting or not self._slop_ns:
            return stamp if stamp in waiting else None
        near = [(abs(other - stamp), other) for other in waiting if abs(other - stamp) <= self._slop_ns]
        return min(near)[1] if near else None

    def _keep(self, waiting: dict[int, Any], stamp: int, entry: Any, counter: str) -> None:
        """Keep `entry` waiting; a repeated stamp replaces (and counts) the older message, and beyond MAX_PENDING
        the oldest stamp is dropped (counted)."""
        if stamp in waiting:
            self._on_event(counter)
        waiting[stamp] = entry
        while len(waiting) > MAX_PENDING:
            del waiting[min(waiting)]
            self._on_event(counter)
