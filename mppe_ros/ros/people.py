"""People over time in the node: the tracker, the detector schedule, the frame clock, the trails, the REP-155 bodies.

One People per activation; track ids come from one allocator for the whole process (PROCESS_TRACK_IDS), so they are
never reused across deactivate/activate, cleanup/configure or another node of the process. Time is the frame's
FrameTime (mppe_ros.frame_clock: the header stamp, or arrival times where stamps are zero or repeat), never the wall
clock: skipped frames and a variable rate do not age a track faster. Per frame, `plan` says whether the detector runs
or the confirmed tracks give the crop boxes (mppe_ros.detection_schedule); the result goes to `update`. With
tracking off the node publishes each frame's persons as they are (id = index) and the detector runs on every frame.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

import numpy as np
from std_msgs.msg import Header

from mppe_ros.detection_schedule import DetectionPlan, DetectionSchedule
from mppe_ros.frame_clock import FrameClock, FrameTime
from mppe_ros.tracking import TrackedPerson, Tracker, TrackIds
from mppe_ros.tracking_settings import DetectionScheduleSettings, TrackerSettings

PROCESS_TRACK_IDS = TrackIds()  # every People of this process takes its ids here


def stamp_seconds(header: Header) -> float:
    """The header stamp in seconds."""
    return float(header.stamp.sec) + float(header.stamp.nanosec) * 1e-9


class RootTrails:
    """Recent root positions per track id (m, optical frame) for the markers' trails, `trail_s` long (frame times)."""

    def __init__(self) -> None:
        self._points: dict[int, deque[tuple[float, np.ndarray]]] = {}

    def add(self, tracks: list[TrackedPerson], time_s: float, trail_s: float) -> dict[int, np.ndarray]:
        """Record this frame's roots; forget ids not in `tracks`. Returns {id: [T, 3] oldest first}."""
        alive = {track.track_id for track in tracks}
        for track_id in set(self._points) - alive:
            del self._points[track_id]
        for track in tracks:
            points = self._points.setdefault(track.track_id, deque())
            points.append((time_s, np.asarray(track.root_cam_m, dtype=np.float64)))
            while points and time_s - points[0][0] > trail_s:
                points.popleft()
        return {track_id: np.stack([xyz for _, xyz in points]) for track_id, points in self._points.items()}


class People:
    """One activation's tracker, detector schedule, frame clock, trails and (optional) REP-155 body publisher.

    Args:
        settings: the tracker's settings at activation (its filters' noise for the first tracks).
        bodies: a mppe_ros.ros.rep155.BodyPublisher, or None (the layer is off); used on the executor thread only.
    """

    def __init__(self, settings: TrackerSettings, bodies: Any = None) -> None:
        self.tracker = Tracker(settings, PROCESS_TRACK_IDS)
        self.schedule = DetectionSchedule()
        self.clock = FrameClock()
        self.trails = RootTrails()
        self.bodies = bodies
        self._bodies_lock = threading.Lock()  # publish_bodies and close (both on the executor thread, by design)
        self.confirmed = 0  # confirmed tracks measured in the last frame (for /diagnostics)
        self.detector_runs = 0  # frames the detector ran on
        self.track_crops = 0  # frames cropped where the confirmed tracks are, without the detector
        self.time_resets = 0  # frames stamped before the previous one: the tracks were dropped

    def frame_time(self, header: Header, received_s: float) -> tuple[FrameTime, float | None]:
        """(this frame's time, the previous stamp (s) if this one went back, else None). After a stamp that went
        back (a bag played again, a camera or clock restarted) the tracks, the schedule and the trails start again;
        track ids continue (never reused)."""
        stamp_s = stamp_seconds(header)
        went_back = self.clock.went_back(stamp_s)
        if went_back is not None:
            self.tracker.reset()
            self.schedule.reset()
            self.clock.reset()
            self.trails = RootTrails()
            self.time_resets += 1
        return self.clock(stamp_s, received_s), went_back

    def plan(self, time_s: float, image_size_px: tuple[int, int], settings: DetectionScheduleSettings) -> DetectionPlan:
        """Whether this frame runs the detector, or the confirmed tracks' crop boxes and scores (settings per frame)."""
        self.schedule.settings = settings
        plan = self.schedule.plan(time_s, self.tracker, image_size_px)
        if plan.detect:
            self.detector_runs += 1
        else:
            self.track_crops += 1
        return plan

    def update(
        self, result: Any, time_s: float, settings: TrackerSettings, boxes_from_detector: bool = True
    ) -> list[TrackedPerson]:
        """Tracks measured in this frame (tentative ones included, is_confirmed says which), by track id.

        boxes_from_detector: False when the frame was cropped where the tracks are (the plan's boxes).

        The run-time settings (association, track life, smoothing) apply from this frame on; the Kalman
        filters' noise settings apply to tracks born after a change.
        """
        self.tracker.settings = settings
        tracks = self.tracker.update(result, time_s, boxes_from_detector)
        self.confirmed = sum(track.is_confirmed for track in tracks)
        return tracks

    def publish_bodies(
        self, header: Header, time_s: float, tracks: list[TrackedPerson], result: Any, image_bgr: np.ndarray,
        retain_s: float,
    ) -> None:  # fmt: skip
        """The REP-155 topics and TF of this frame (on the executor thread; nothing when the layer is off or closed).

        retain_s: a body's publishers live this long after its last frame (the tracker's max_age_s now), s.
        """
        with self._bodies_lock:
            if self.bodies is not None:
                height, width = image_bgr.shape[:2]
                self.bodies.publish(header, tracks, result.joint_set, width, height, image_bgr, time_s, retain_s)

    def close(self) -> None:
        """Destroy the body publishers (on the executor thread)."""
        with self._bodies_lock:
            if self.bodies is not None:
                self.bodies.close()
                self.bodies = None
