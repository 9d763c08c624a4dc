"""Images whose CameraInfo was lost: answered with the latest valid CameraInfo of the same camera.

Between two processes with Fast DDS's defaults, a CameraInfo published just before a large Image is
often lost (17 to 26 of 40 arrived at 1280x720 and 5 Hz, reliable QoS or not) while every Image
arrives; a synchronizer that needs both drops those frames. `CameraInfoFallback` sits around the
synchronizer: it sees every image before the synchronizer does, every CameraInfo, and every pair the
synchronizer emits. An image still unpaired `wait_s` after it was received (receive time, monotonic),
or older than an image the synchronizer has just paired, is resolved: with `enabled`, emitted once
through the same callback with the newest cached CameraInfo whose stamp is not after the image's;
otherwise (fallback off, or no usable CameraInfo) dropped and counted. A pair the synchronizer emits
later for a resolved image is swallowed, so every image is emitted at most once.

The cache keeps, per (frame_id, width, height), the last HISTORY valid CameraInfos (finite K with
fx, fy > 0 and a nonzero size) by stamp, from every CameraInfo received, paired or not: a new K or
size is used from its own stamp on. A sensor_msgs/CompressedImage has no size: it is matched by
frame_id alone (the newest CameraInfo of that frame_id, whatever its size). No ROS import: the
messages only need `header` (and `width`, `height`, `k` where they have them).
"""

from __future__ import annotations

import bisect
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mppe_ros.ros.sync import stamp_ns

HISTORY = 4  # CameraInfos kept per camera key, newest stamps
REUSED = "camera_info_reused"  # NodeStats counters passed to on_event
WITHOUT = "images_without_camera_info"

_Key = tuple[str, int | None, int | None]  # (frame_id, width, height); size None: a CompressedImage


def camera_key(msg: Any) -> _Key:
    """(frame_id, width, height) of an Image or CameraInfo; width and height None for a CompressedImage."""
    return msg.header.frame_id, getattr(msg, "width", None), getattr(msg, "height", None)


def usable(info: Any) -> bool:
    """Whether a CameraInfo can stand in for a lost one: finite K with fx, fy > 0 and a nonzero size."""
    k = [float(value) for value in info.k]
    return info.width > 0 and info.height > 0 and all(map(math.isfinite, k)) and k[0] > 0 and k[4] > 0


@dataclass(frozen=True)
class _Pending:
    image: Any
    stamp: int  # ns
    received_s: float  # monotonic


class CameraInfoFallback:
    """Wraps a synchronizer's (image, camera_info) callback; thread-safe (one lock, never held while waiting).

    Call `image` before the synchronizer sees an image, `camera_info` for every CameraInfo, register
    `paired` as the synchronizer's callback, and call `expire` periodically (every few tens of ms).

    Args:
        on_pair: called with (image, camera_info) once per emitted image, under this object's lock.
        wait_s: an image unpaired this long after it was received is resolved, s (receive time).
        max_pending: more unpaired images than this: the oldest is resolved at once (the
            synchronizer's queue size: it has dropped that image anyway).
        enabled: False: an unpaired image is only counted (WITHOUT), never emitted.
        on_event: called with REUSED or WITHOUT for each resolved image (outside the synchronizer's
            pairing, so once per image).
        clock: monotonic time, s.
        on_dropped: called with each image dropped unpaired (WITHOUT), or None (a recording's summary wants its
            stamp; the node only counts).
    """

    def __init__(
        self,
        on_pair: Callable[[Any, Any], None],
        wait_s: float,
        max_pending: int,
        enabled: bool,
        on_event: Callable[[str], None],
        clock: Callable[[], float] = time.monotonic,
        on_dropped: Callable[[Any], None] | None = None,
    ) -> None:
        self._on_pair, self._on_event, self._clock = on_pair, on_event, clock
        self._on_dropped = on_dropped
        self.wait_s, self.max_pending, self.enabled = wait_s, max_pending, enabled
        self._lock = threading.Lock()
        self._pending: dict[int, _Pending] = {}  # id(image) -> pending, in receive order
        self._cache: dict[_Key, list[tuple[int, Any]]] = {}  # key -> [(stamp ns, CameraInfo)] by stamp

    def image(self, image: Any) -> None:
        """An image was received: it waits for its pair (call before feeding it to the synchronizer)."""
        with self._lock:
            self._pending[id(image)] = _Pending(image, stamp_ns(image), self._clock())
            while len(self._pending) > self.max_pending:
                self._resolve(next(iter(self._pending.values())))

    def camera_info(self, info: Any) -> None:
        """A CameraInfo was received: cache it when usable (newest HISTORY by stamp per camera key)."""
        if not usable(info):
            return
        stamp = stamp_ns(info)
        with self._lock:
            history = self._cache.setdefault(camera_key(info), [])
            stamps = [entry[0] for entry in history]
            index = bisect.bisect_left(stamps, stamp)
            if index < len(history) and history[index][0] == stamp:
                history[index] = (stamp, info)
            else:
                history.insert(index, (stamp, info))
            del history[:-HISTORY]

    def paired(self, image: Any, info: Any) -> None:
        """The synchronizer's callback: emit the pair unless the image was already resolved.

        Unpaired images with an older stamp are resolved first (their CameraInfo would have come
        before this one), so images leave in stamp order. With the fallback off, every pair passes.
        """
        with self._lock:
            pending = self._pending.pop(id(image), None)
            if pending is None and self.enabled:
                return
            stamp = stamp_ns(image)
            for older in [p for p in self._pending.values() if p.stamp < stamp]:
                self._resolve(older)
            self._on_pair(image, info)

    def expire(self) -> None:
        """Resolve the images unpaired for wait_s or longer (a timer calls this)."""
        with self._lock:
            due_s = self._clock() - self.wait_s
            for pending in [p for p in self._pending.values() if p.received_s <= due_s]:
                self._resolve(pending)

    @property
    def pending(self) -> int:
        """Images waiting for their CameraInfo."""
        return len(self._pending)

    def _resolve(self, pending: _Pending) -> None:
        """Emit `pending` with the cached CameraInfo (REUSED), or count it as WITHOUT; under the lock."""
        del self._pending[id(pending.image)]
        info = self._cached(pending) if self.enabled else None
        self._on_event(WITHOUT if info is None else REUSED)
        if info is not None:
            self._on_pair(pending.image, info)
        elif self._on_dropped is not None:
            self._on_dropped(pending.image)

    def _cached(self, pending: _Pending) -> Any:
        """The newest cached CameraInfo for the image's camera with a stamp not after the image's, or None."""
        frame_id, width, height = camera_key(pending.image)
        if width is None:  # CompressedImage: any size of this frame_id
            histories = [history for key, history in self._cache.items() if key[0] == frame_id]
        else:
            histories = [self._cache.get((frame_id, width, height), [])]
        candidates = [entry for history in histories for entry in history if entry[0] <= pending.stamp]
        return max(candidates, key=lambda entry: entry[0])[1] if candidates else None
