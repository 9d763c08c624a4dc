"""People over time in the node: the tracker, the markers' root trails and the REP-155 bodies (one activation).

Time is the image header stamp (s), never the wall clock: skipped frames and a variable rate do not age a
track faster. With tracking off the node publishes each frame's persons as they are (id = index).
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np
from std_msgs.msg import Header

from mppe_ros.tracking import TrackedPerson, Tracker
from mppe_ros.tracking_settings import TrackerSettings


def stamp_seconds(header: Header) -> float:
    """The header stamp in seconds."""
    return float(header.stamp.sec) + float(header.stamp.nanosec) * 1e-9


class RootTrails:
    """Recent root positions per track id (m, optical frame) for the markers' trails, `trail_s` long (stamps)."""

    def __init__(self) -> None:
        self._points: dict[int, deque[tuple[float, np.ndarray]]] = {}

    def add(self, tracks: list[TrackedPerson], stamp_s: float, trail_s: float) -> dict[int, np.ndarray]:
        """Record this frame's roots; forget ids not in `tracks`. Returns {id: [T, 3] oldest first}."""
        alive = {track.track_id for track in tracks}
        for track_id in set(self._points) - alive:
            del self._points[track_id]
        for track in tracks:
            points = self._points.setdefault(track.track_id, deque())
            points.append((stamp_s, np.asarray(track.root_cam_m, dtype=np.float64)))
            while points and stamp_s - points[0][0] > trail_s:
                points.popleft()
        return {track_id: np.stack([xyz for _, xyz in points]) for track_id, points in self._points.items()}


class People:
    """One activation's tracker, trails and (optional) REP-155 body publisher.

    Args:
        settings: the tracker's settings.
        bodies: a mppe_ros.ros.rep155.BodyPublisher, or None (the layer is off).
    """

    def __init__(self, settings: TrackerSettings, bodies: Any = None) -> None:
        self.tracker = Tracker(settings)
        self.trails = RootTrails()
        self.bodies = bodies
        self.confirmed = 0  # confirmed tracks measured in the last frame (for /diagnostics)

    def update(self, result: Any, header: Header) -> list[TrackedPerson]:
        """Tracks measured in this frame (tentative ones included, is_confirmed says which), by track id."""
        tracks = self.tracker.update(result, stamp_seconds(header))
        self.confirmed = sum(track.is_confirmed for track in tracks)
        return tracks

    def publish_bodies(self, header: Header, tracks: list[TrackedPerson], result: Any, image_bgr: np.ndarray) -> None:
        """The REP-155 topics and TF of this frame (nothing when the layer is off)."""
        if self.bodies is not None:
            height, width = image_bgr.shape[:2]
            self.bodies.publish(header, tracks, result.joint_set, width, height, image_bgr)

    def close(self) -> None:
        """Destroy the body publishers (call after the inference thread stopped)."""
        if self.bodies is not None:
            self.bodies.close()
            self.bodies = None
