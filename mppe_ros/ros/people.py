"""People over time in the node: the tracker, the detector schedule, the root trails, the REP-155 bodies.

One People per activation. Time is the image header stamp (s), never the wall clock: skipped frames and a
variable rate do not age a track faster. Per frame, `plan` says whether the detector runs or the confirmed
tracks give the crop boxes (mppe_ros.detection_schedule); the result goes to `update`. With tracking off the
node publishes each frame's persons as they are (id = index) and the detector runs on every frame.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np
from std_msgs.msg import Header

from mppe_ros.detection_schedule import DetectionPlan, DetectionSchedule
from mppe_ros.tracking import TrackedPerson, Tracker
from mppe_ros.tracking_settings import DetectionScheduleSettings, TrackerSettings


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
    """One activation's tracker, detector schedule, trails and (optional) REP-155 body publisher.

    Args:
        settings: the tracker's settings.
        bodies: a mppe_ros.ros.rep155.BodyPublisher, or None (the layer is off).
    """

    def __init__(self, settings: TrackerSettings, bodies: Any = None) -> None:
        self.tracker = Tracker(settings)
        self.schedule = DetectionSchedule()
        self.trails = RootTrails()
        self.bodies = bodies
        self.confirmed = 0  # confirmed tracks measured in the last frame (for /diagnostics)
        self.detector_runs = 0  # frames the detector ran on
        self.track_crops = 0  # frames cropped where the confirmed tracks are, without the detector
        self.time_resets = 0  # frames stamped before the previous one: the tracks were dropped
        self._last_stamp_s: float | None = None

    def restart_if_time_went_back(self, header: Header) -> float | None:
        """The previous frame's stamp (s) if this frame's is earlier, after dropping the tracks, the
        detector schedule and the trails (a bag played again, a camera or clock restarted); else None.

        Track ids continue from where they were (never reused).
        """
        stamp_s, previous_s = stamp_seconds(header), self._last_stamp_s
        self._last_stamp_s = stamp_s
        if previous_s is None or stamp_s >= previous_s:
            return None
        self.tracker.reset()
        self.schedule.reset()
        self.trails = RootTrails()
        self.time_resets += 1
        return previous_s

    def plan(
        self, header: Header, image_size_px: tuple[int, int], settings: DetectionScheduleSettings
    ) -> DetectionPlan:
        """Whether this frame runs the detector, or the confirmed tracks' crop boxes (settings read per frame)."""
        self.schedule.settings = settings
        plan = self.schedule.plan(stamp_seconds(header), self.tracker, image_size_px)
        if plan.detect:
            self.detector_runs += 1
        else:
            self.track_crops += 1
        return plan

    def update(
        self, result: Any, header: Header, settings: TrackerSettings, boxes_from_detector: bool = True
    ) -> list[TrackedPerson]:
        """Tracks measured in this frame (tentative ones included, is_confirmed says which), by track id.

        boxes_from_detector: False when the frame was cropped where the tracks are (the plan's boxes).

        The run-time settings (association, track life, smoothing) apply from this frame on; the Kalman
        filters' noise settings apply to tracks born after a change.
        """
        self.tracker.settings = settings
        tracks = self.tracker.update(result, stamp_seconds(header), boxes_from_detector)
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
