"""People over time: the multi-person 3D tracker, its smoothing, the detector schedule, the frame clock and
CameraSession, which runs them with a pipeline frame by frame for one camera (no ROS).

Modules: tracker (Tracker, TrackedPerson, TrackIds), association (the cost and the assignment), kalman (the root's
filters), smoothing (One-Euro), settings (TrackerSettings, DetectionScheduleSettings, SessionSettings),
detection_schedule (when the detector runs), frame_clock (the frames' times), session (CameraSession), transforms
(RigidTransform between frames, `express` in another frame). The names
below are the public API; each is imported on first use, so `mppe_ros.tracking.settings` (the node's parameter
table) loads neither OpenCV nor the tracker.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mppe_ros.tracking.detection_schedule import DetectionPlan, DetectionSchedule
    from mppe_ros.tracking.frame_clock import FrameClock, FrameTime
    from mppe_ros.tracking.session import BOXES_FROM, PROCESS_TRACK_IDS, CameraSession, RootTrails, TrackedResult
    from mppe_ros.tracking.settings import DetectionScheduleSettings, SessionSettings, TrackerSettings
    from mppe_ros.tracking.smoothing import OneEuroFilter
    from mppe_ros.tracking.tracker import MAX_TRACK_ID, TrackedPerson, Tracker, TrackIds
    from mppe_ros.tracking.transforms import IDENTITY, RigidTransform, express

_MODULE_OF = {
    "DetectionPlan": "detection_schedule", "DetectionSchedule": "detection_schedule", "FrameClock": "frame_clock",
    "FrameTime": "frame_clock", "BOXES_FROM": "session", "PROCESS_TRACK_IDS": "session", "CameraSession": "session",
    "RootTrails": "session", "TrackedResult": "session", "DetectionScheduleSettings": "settings",
    "SessionSettings": "settings", "TrackerSettings": "settings", "OneEuroFilter": "smoothing",
    "MAX_TRACK_ID": "tracker", "TrackedPerson": "tracker", "Tracker": "tracker", "TrackIds": "tracker",
    "IDENTITY": "transforms", "RigidTransform": "transforms", "express": "transforms",
}  # fmt: skip
# the keys of _MODULE_OF (test_camera_session checks)
__all__ = [
    "BOXES_FROM",
    "IDENTITY",
    "MAX_TRACK_ID",
    "PROCESS_TRACK_IDS",
    "RigidTransform",
    "CameraSession",
    "DetectionPlan",
    "DetectionSchedule",
    "DetectionScheduleSettings",
    "FrameClock",
    "FrameTime",
    "OneEuroFilter",
    "RootTrails",
    "SessionSettings",
    "TrackIds",
    "TrackedPerson",
    "TrackedResult",
    "Tracker",
    "TrackerSettings",
    "express",
]  # fmt: skip


def __getattr__(name: str) -> Any:
    """The public name `name`, from its module (imported on first use)."""
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_MODULE_OF[name]}"), name)
