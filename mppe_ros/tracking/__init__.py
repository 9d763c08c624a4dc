"""People over time: the multi-person 3D tracker, its smoothing, the detector schedule, the frame clock and
CameraSession, which runs them with a pipeline frame by frame for one camera (no ROS).

Modules: tracker (Tracker, TrackedPerson, TrackIds), association (the cost and the assignment), kalman (the root's
filters), smoothing (One-Euro), settings (TrackerSettings, DetectionScheduleSettings), detection_schedule (when the
detector runs), frame_clock (the frames' times), session (CameraSession). The names below are the public API.
"""

from mppe_ros.tracking.detection_schedule import DetectionPlan, DetectionSchedule
from mppe_ros.tracking.frame_clock import FrameClock, FrameTime
from mppe_ros.tracking.session import (
    BOXES_FROM,
    PROCESS_TRACK_IDS,
    CameraSession,
    RootTrails,
    SessionSettings,
    TrackedResult,
)
from mppe_ros.tracking.settings import DetectionScheduleSettings, TrackerSettings
from mppe_ros.tracking.smoothing import OneEuroFilter
from mppe_ros.tracking.tracker import MAX_TRACK_ID, TrackedPerson, Tracker, TrackIds

__all__ = [
    "BOXES_FROM", "MAX_TRACK_ID", "PROCESS_TRACK_IDS", "CameraSession", "DetectionPlan", "DetectionSchedule",
    "DetectionScheduleSettings", "FrameClock", "FrameTime", "OneEuroFilter", "RootTrails", "SessionSettings",
    "TrackIds", "TrackedPerson", "TrackedResult", "Tracker", "TrackerSettings",
]  # fmt: skip
