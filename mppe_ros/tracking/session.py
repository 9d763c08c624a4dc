"""One camera's people over time, without ROS: the detector schedule, the tracker, smoothing, frame clock, trails.

Per frame, `CameraSession(image_bgr, camera, stamp_s, received_s, settings)` -> TrackedResult:
1. the frame's time (mppe_ros.tracking.frame_clock: the stamp, or arrival times where stamps are zero or repeat),
   never the wall clock; a stamp before the previous one (a bag played again, a camera or clock restarted) drops the
   tracks, the schedule and the trails (track ids continue: never reused);
2. the boxes: the given ones (tests, the demo), none at all when the pipeline has no detector, else the schedule's
   plan (mppe_ros.tracking.detection_schedule): the detector, or the confirmed tracks' crop boxes with their last
   detector scores;
3. the pipeline on those boxes, with the frame's detection settings;
4. the tracker (ids from one TrackIds: PROCESS_TRACK_IDS by default, for the whole process) and the roots' trails,
   in the tracking frame: the camera's optical frame, or the fixed frame in which `camera_pose` (`tracking <- optical`
   at the stamp, e.g. from TF) places the camera, so a robot's own motion does not move the people it tracks.
With `SessionSettings.tracking` False the persons are published as they are (TrackedResult.tracks None: id = index),
the detector runs on every frame and the time is the stamp. Settings are passed per call and apply from that frame on.
The same session serves the node, a bag or video processor, a benchmark or a notebook:

    session = CameraSession(pipeline)
    for image_bgr, camera, stamp_s in frames:
        tracked = session(image_bgr, camera, stamp_s, time.monotonic(), SessionSettings())
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from mppe_ros.camera import PinholeCamera
from mppe_ros.results import PoseResult
from mppe_ros.tracking.detection_schedule import DetectionSchedule
from mppe_ros.tracking.frame_clock import FrameClock, FrameTime
from mppe_ros.tracking.settings import SessionSettings
from mppe_ros.tracking.tracker import TrackedPerson, Tracker, TrackIds
from mppe_ros.tracking.transforms import IDENTITY, RigidTransform

PROCESS_TRACK_IDS = TrackIds()  # every CameraSession of this process takes its ids here unless given its own
BOXES_FROM = ("detector", "tracks", "given", "none")  # TrackedResult.boxes_from


@dataclass(frozen=True, eq=False)
class TrackedResult:
    """One frame through a CameraSession.

    Attributes:
        result: the pipeline's PoseResult (raw persons, in box order).
        tracks: the tracks measured in this frame by track id (tentative ones included; tracking frame), or None with
            tracking off.
        trails: {track id: [T, 3] recent root positions, m, tracking frame, oldest first}; empty with tracking off.
        boxes_from: where the crop boxes came from, one of BOXES_FROM.
        reason: why the detector ran or not (DetectionPlan.reason; "every_frame" with tracking off), "" when the
            boxes were given or there is no detector.
        frame: the frame's time (FrameTime.time_s, s) and its problem ("" when it is the stamp).
        went_back_from_s: the previous stamp when this one went back (the tracks were dropped), else None; s.
    """

    result: PoseResult
    tracks: list[TrackedPerson] | None
    trails: dict[int, np.ndarray]
    boxes_from: str
    reason: str
    frame: FrameTime
    went_back_from_s: float | None = None


class RootTrails:
    """Recent root positions per track id (m, tracking frame), `trail_s` long (frame times)."""

    def __init__(self) -> None:
        self._points: dict[int, deque[tuple[float, np.ndarray]]] = {}

    def add(self, tracks: list[TrackedPerson], time_s: float, trail_s: float) -> dict[int, np.ndarray]:
        """Record this frame's roots; forget ids not in `tracks`. Returns {id: [T, 3] oldest first}."""
        alive = {track.track_id for track in tracks}
        for track_id in set(self._points) - alive:
            del self._points[track_id]
        for track in tracks:
            points = self._points.setdefault(track.track_id, deque())
            points.append((time_s, np.asarray(track.root_m, dtype=np.float64)))
            while points and time_s - points[0][0] > trail_s:
                points.popleft()
        return {track_id: np.stack([xyz for _, xyz in points]) for track_id, points in self._points.items()}


class CameraSession:
    """One camera's frames in, tracked people out (see the module docstring); not thread-safe (one caller).

    Args:
        pipeline: an MppePipeline (or any callable with its signature); its `detector` attribute (None or absent:
            no detector) says whether it finds persons itself.
        ids: where new tracks' ids come from (PROCESS_TRACK_IDS if None).

    Attributes (counters since construction, for /diagnostics):
        detector_runs: frames the detector ran on.
        track_crops: frames cropped where the confirmed tracks are, without the detector.
        time_resets: frames stamped before the previous one (the tracks were dropped).
        confirmed: confirmed tracks measured in the last frame.
    """

    def __init__(self, pipeline: Callable[..., PoseResult], ids: TrackIds | None = None) -> None:
        self.pipeline = pipeline
        self.tracker = Tracker(ids=ids or PROCESS_TRACK_IDS)
        self.schedule = DetectionSchedule()
        self.clock = FrameClock()
        self.trails = RootTrails()
        self._tracking: bool | None = None  # the mode of the last frame
        self.detector_runs = self.track_crops = self.time_resets = self.confirmed = 0

    @property
    def has_detector(self) -> bool:
        """Whether the pipeline finds persons itself."""
        return getattr(self.pipeline, "detector", None) is not None

    def reset(self) -> None:
        """Drop the tracks, the schedule, the clock and the trails (track ids continue)."""
        self.tracker.reset()
        self.schedule.reset()
        self.clock.reset()
        self.trails = RootTrails()

    def __call__(
        self, image_bgr: np.ndarray, camera: PinholeCamera, stamp_s: float, received_s: float,
        settings: SessionSettings, boxes_xywh: np.ndarray | None = None, scores: np.ndarray | None = None,
        camera_pose: RigidTransform = IDENTITY,
    ) -> TrackedResult:  # fmt: skip
        """One frame.

        Args:
            image_bgr: [H, W, 3] uint8 BGR image.
            camera: its intrinsics.
            stamp_s: its capture stamp, s (the image header's; 0 when unset).
            received_s: its arrival time, s (monotonic clock): the time where stamps are zero or repeat.
            settings: this frame's settings.
            boxes_xywh: [N, 4] person boxes (x, y, w, h) px to use instead of the detector and the schedule, or None.
            scores: [N] their scores, [0, 1] (None: 1.0 each).
            camera_pose: the camera's pose in the tracking frame at the stamp (`tracking <- optical`); the identity
                tracks in the optical frame. One session, one tracking frame.
        """
        if settings.tracking != self._tracking:
            self.reset()
            self._tracking = settings.tracking
        frame, went_back_s = self._frame_time(stamp_s, received_s, settings.tracking)
        height, width = image_bgr.shape[:2]
        boxes_from, reason, boxes_xywh, scores = self._boxes(
            frame.time_s, (width, height), settings, boxes_xywh, scores, camera_pose
        )
        result = self.pipeline(image_bgr, camera, boxes_xywh=boxes_xywh, scores=scores, detection=settings.detection)
        tracks, trails = None, {}
        if settings.tracking:
            tracks = self.tracker.update(result, frame.time_s, boxes_from != "tracks", settings.tracker, camera_pose)
            self.confirmed = sum(track.is_confirmed for track in tracks)
            trails = self.trails.add(tracks, frame.time_s, settings.trail_s)
        return TrackedResult(result, tracks, trails, boxes_from, reason, frame, went_back_s)

    def _frame_time(self, stamp_s: float, received_s: float, tracking: bool) -> tuple[FrameTime, float | None]:
        """(the frame's time, the previous stamp if this one went back, else None); the stamp with tracking off."""
        if not tracking:
            return FrameTime(stamp_s), None
        went_back_s = self.clock.went_back(stamp_s)
        if went_back_s is not None:
            self.reset()
            self.time_resets += 1
        return self.clock(stamp_s, received_s), went_back_s

    def _boxes(
        self, time_s: float, image_size_px: tuple[int, int], settings: SessionSettings,
        boxes_xywh: np.ndarray | None, scores: np.ndarray | None, camera_pose: RigidTransform,
    ) -> tuple[str, str, Any, Any]:  # fmt: skip
        """(boxes_from, reason, boxes, scores) to pass to the pipeline (boxes None: its detector)."""
        if boxes_xywh is not None:
            return "given", "", boxes_xywh, scores
        if not self.has_detector:  # nothing given and no detector: nobody can be seen
            return "none", "", np.zeros((0, 4)), None
        reason = "every_frame"
        if settings.tracking:
            plan = self.schedule.plan(time_s, self.tracker, image_size_px, settings.schedule, camera_pose)
            if not plan.detect:  # crop where the confirmed tracks are, with their last detector scores
                self.track_crops += 1
                return "tracks", plan.reason, plan.boxes_xywh_px, plan.scores
            reason = plan.reason
        self.detector_runs += 1
        return "detector", reason, None, None
