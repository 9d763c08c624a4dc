"""DetectionSchedule: the detector on a schedule from stamps, or when a track is missing or unsure; crop boxes from
the tracks' last 2D joints, at the size their detector boxes had (or expanded), clipped to the image."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from mppe_ros.camera import PinholeCamera
from mppe_ros.joint_sets import MUCO_21
from mppe_ros.results import PersonPose, PoseResult
from mppe_ros.tracking import Tracker
from mppe_ros.tracking.detection_schedule import DetectionSchedule, clip_box_xywh_px
from mppe_ros.tracking.settings import DetectionScheduleSettings, TrackerSettings

CAMERA = PinholeCamera(fx=600.0, fy=600.0, cx=320.0, cy=240.0, width=640, height=480)
IMAGE_SIZE = (640, 480)
DT_S = 1.0 / 15.0


def person(x_m: float, confidence: float = 0.9, box_per_joints=(1.0, 1.0)) -> PersonPose:
    """A person standing 4 m away at x_m, its joints spread over 1.7 m height and 0.5 m width; its box is the joints'
    box scaled by box_per_joints (width, height) about its centre."""
    offsets = np.stack([np.linspace(-0.25, 0.25, 21), np.linspace(-0.85, 0.85, 21), np.zeros(21)], 1)
    offsets[MUCO_21.root_index] = 0.0
    joints_m = np.array([x_m, 0.3, 4.0]) + offsets
    joints_px = CAMERA.camera_to_pixels(joints_m)
    size = np.ptp(joints_px, axis=0) * box_per_joints
    box = np.concatenate(((joints_px.min(0) + joints_px.max(0) - size) / 2, size))
    root = MUCO_21.root_index
    return PersonPose(box, box, 0.9, 0.0, 4000.0, joints_px[root], joints_m[root], joints_px, joints_m,
                      np.full(21, confidence))  # fmt: skip


def tracked_tracker(*people: PersonPose, frames: int = 3, boxes_from_detector: bool = True) -> Tracker:
    """A Tracker whose last update (at (frames - 1) * DT_S) confirmed `people`."""
    tracker = Tracker(TrackerSettings(min_hits=frames))
    for k in range(frames):
        tracker.update(PoseResult(joint_set=MUCO_21, camera=CAMERA, persons=people), k * DT_S, boxes_from_detector)
    return tracker


def reasons(schedule: DetectionSchedule, tracker: Tracker, stamps_s) -> list[str]:
    return [schedule.plan(t_s, tracker, IMAGE_SIZE).reason for t_s in stamps_s]


def test_interval_zero_detects_on_every_frame():
    schedule = DetectionSchedule(DetectionScheduleSettings(detection_interval_s=0.0))
    tracker = tracked_tracker(person(0.0))
    assert reasons(schedule, tracker, [0.2, 0.2 + DT_S, 0.3]) == ["every_frame"] * 3


def test_the_interval_counts_from_stamps_and_skipped_frames_do_not_delay_it():
    tracker = tracked_tracker(person(0.0))
    schedule = DetectionSchedule(DetectionScheduleSettings(detection_interval_s=0.5))
    assert reasons(schedule, tracker, [1.0, 1.1, 1.2, 1.45]) == ["first", "tracks", "tracks", "tracks"]
    assert reasons(schedule, tracker, [1.5, 1.6]) == ["interval", "tracks"]  # 0.5 s after 1.0
    assert reasons(schedule, tracker, [3.7, 3.8]) == ["interval", "tracks"]  # frames 1.6-3.7 were skipped
    assert reasons(schedule, tracker, [2.0]) == ["first"]  # time went back: start again
    schedule.reset()
    assert reasons(schedule, tracker, [2.1]) == ["first"]


def test_no_confirmed_track_measured_in_the_last_frame_detects():
    schedule = DetectionSchedule(DetectionScheduleSettings(detection_interval_s=10.0))
    assert reasons(schedule, Tracker(), [0.0, 0.1]) == ["first", "no_track"]
    tentative = Tracker(TrackerSettings(min_hits=3))
    tentative.update(PoseResult(joint_set=MUCO_21, camera=CAMERA, persons=(person(0.0),)), 0.1)
    assert reasons(schedule, tentative, [0.2]) == ["no_track"]
    lost = tracked_tracker(person(0.0))
    lost.update(PoseResult(joint_set=MUCO_21, camera=CAMERA, persons=()), 0.3)  # confirmed, but missed just now
    assert reasons(schedule, lost, [0.4]) == ["no_track"]


def test_a_track_with_low_pose_confidence_triggers_the_detector():
    settings = DetectionScheduleSettings(detection_interval_s=10.0, redetect_confidence=0.4)
    sure = tracked_tracker(person(-1.0), person(1.0))
    unsure = tracked_tracker(person(-1.0), person(1.0, confidence=0.3))
    for tracker, second in ((sure, "tracks"), (unsure, "low_confidence")):
        schedule = DetectionSchedule(settings)
        assert reasons(schedule, tracker, [1.0, 1.0 + DT_S]) == ["first", second]


def test_crop_boxes_are_the_tracks_joints_expanded_and_clipped_to_the_image():
    left, right = person(-0.4), person(1.85)  # the right one stands across the image's right border
    tracker = tracked_tracker(left, right, boxes_from_detector=False)  # never seen by the detector: track_box_expand
    schedule = DetectionSchedule(DetectionScheduleSettings(detection_interval_s=10.0, track_box_expand=1.5))
    schedule.plan(0.0, tracker, IMAGE_SIZE)
    plan = schedule.plan(3 * DT_S, tracker, IMAGE_SIZE)
    assert not plan.detect and plan.reason == "tracks" and plan.track_ids == (1, 2)
    low, high = left.joints_px.min(0), left.joints_px.max(0)
    size = 1.5 * (high - low)
    np.testing.assert_allclose(plan.boxes_xywh_px[0], np.concatenate(((low + high - size) / 2, size)), atol=0.5)
    x, y, w, h = plan.boxes_xywh_px[1]
    assert x + w == pytest.approx(640.0) and 0.0 <= y and y + h <= 480.0  # clipped at the border
    assert w < 1.5 * np.ptp(right.joints_px[:, 0])
    outside = tracked_tracker(person(6.0))  # entirely right of the image: no box, so the detector runs
    schedule.plan(0.0, outside, IMAGE_SIZE)
    assert schedule.plan(3 * DT_S, outside, IMAGE_SIZE).reason == "no_track"


def test_crop_boxes_keep_the_size_the_detector_gave_each_track():
    """RootNet's depth scales with the crop box's size: between detections a track's box keeps the width and height
    ratios to its joints that its last detector box had, so its depth does not jump at every detection."""
    wide, tall = person(-1.0, box_per_joints=(1.6, 1.1)), person(1.0, box_per_joints=(1.2, 1.3))
    tracker = tracked_tracker(wide, tall)
    schedule = DetectionSchedule(DetectionScheduleSettings(detection_interval_s=10.0, track_box_expand=2.0))
    schedule.plan(0.0, tracker, IMAGE_SIZE)
    for _ in range(3):  # frames cropped from the tracks' own boxes do not change the ratios
        plan = schedule.plan(3 * DT_S, tracker, IMAGE_SIZE)
        assert plan.reason == "tracks" and plan.track_ids == (1, 2)
        for box, source in zip(plan.boxes_xywh_px, (wide, tall), strict=True):
            np.testing.assert_allclose(box[2:], source.box_xywh_px[2:], rtol=1e-6)  # the detector's size again
        crops = [person(-1.0, box_per_joints=(1.0, 1.0)), person(1.0, box_per_joints=(2.5, 2.5))]
        tracker.update(PoseResult(joint_set=MUCO_21, camera=CAMERA, persons=tuple(crops)), 3 * DT_S, False)


def test_clip_box():
    np.testing.assert_allclose(clip_box_xywh_px(np.array([-10.0, 20.0, 30.0, 500.0]), (640, 480)), [0, 20, 20, 460])
    np.testing.assert_allclose(clip_box_xywh_px(np.array([700.0, 20.0, 30.0, 50.0]), (640, 480)), [640, 20, 0, 50])


def test_track_boxes_carry_the_tracks_last_detector_scores():
    """A frame cropped where the tracks are publishes each person with its track's last detector score, not 1.0."""
    tracker, schedule = Tracker(), DetectionSchedule(DetectionScheduleSettings(detection_interval_s=10.0))
    scores = np.array([0.83, 0.61])

    def frame_result(frame_scores) -> PoseResult:  # two people standing still, scored as given
        people = [
            dataclasses.replace(person(x), score=float(s)) for x, s in zip((-1.0, 1.0), frame_scores, strict=True)
        ]
        return PoseResult(joint_set=MUCO_21, camera=CAMERA, persons=tuple(people))

    for index in range(4):
        t_s = index * DT_S
        plan = schedule.plan(t_s, tracker, IMAGE_SIZE)
        result = frame_result(scores if plan.detect else plan.scores)
        tracker.update(result, t_s, boxes_from_detector=plan.detect)
    assert not plan.detect and sorted(plan.scores) == sorted(scores)
    assert sorted(p.score for p in tracker.tracked) == sorted(scores)
