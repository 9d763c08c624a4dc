"""CameraSession without ROS: the detector schedule, time going back, zero or repeated stamps, tracking off, given
boxes and no detector, and the track crop boxes kept at the detector boxes' size (an MppePipeline whose networks
output the ideal encoding of two standing persons: every crop decodes to the same joints)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from helpers_core import CAMERA, StubPoseNet, StubRootNet, encode_scene, skeletons_mm

from mppe_ros.joint_sets import MUCO_21
from mppe_ros.pipeline import MppePipeline
from mppe_ros.testing.synthetic import synthetic_frame
from mppe_ros.tracking import CameraSession, DetectionScheduleSettings, SessionSettings, TrackIds
from mppe_ros.tracking.detection_schedule import clip_box_xywh_px
from mppe_ros.tracking.frame_clock import REPEATED, ZERO

IMAGE = synthetic_frame(640, 480)
PERIOD_S = 0.125  # 8 frames/s: the stamps are exact in binary
SCORES = np.array([0.95, 0.6])
SCHEDULE = SessionSettings(schedule=DetectionScheduleSettings(detection_interval_s=0.5, redetect_confidence=0.0))


class Detector:
    """Finds the two persons at their boxes (with SCORES) and counts its calls."""

    def __init__(self, boxes: np.ndarray) -> None:
        self.boxes, self.calls = boxes, 0

    def __call__(self, image_bgr: np.ndarray, settings=None) -> tuple[np.ndarray, np.ndarray]:
        self.calls += 1
        return self.boxes.copy(), SCORES.copy()


@pytest.fixture
def scene() -> tuple[MppePipeline, np.ndarray]:
    """(a pipeline with a Detector, the detector's [2, 4] boxes px)."""
    boxes, pose_coords, root_output = encode_scene(skeletons_mm(2, seed=3), CAMERA, MUCO_21.root_index)
    pipeline = MppePipeline(StubPoseNet(pose_coords), StubRootNet(root_output), MUCO_21, detector=Detector(boxes))
    return pipeline, boxes


def run(session: CameraSession, stamps_s, settings: SessionSettings = SCHEDULE, received_s=None):
    """The TrackedResult of each stamp (arrival times: the stamps, or `received_s`)."""
    received_s = stamps_s if received_s is None else received_s
    return [session(IMAGE, CAMERA, t_s, r_s, settings) for t_s, r_s in zip(stamps_s, received_s, strict=True)]


def test_the_detector_runs_on_its_schedule_and_the_tracks_give_the_boxes_between(scene):
    pipeline, _ = scene
    session = CameraSession(pipeline, TrackIds())
    frames = run(session, [1.0 + k * PERIOD_S for k in range(12)])
    # first, then no confirmed track until min_hits (3), then every 0.5 s of stamps since the last detection (0.25 s)
    assert [f.boxes_from for f in frames] == ["detector"] * 3 + ["tracks"] * 3 + ["detector"] + ["tracks"] * 3 + [
        "detector"
    ] + ["tracks"], [f.reason for f in frames]
    assert [f.reason for f in frames[:3]] == ["first", "no_track", "no_track"] and frames[6].reason == "interval"
    assert pipeline.detector.calls == session.detector_runs == 5 and session.track_crops == 7
    assert all([t.track_id for t in f.tracks] == [1, 2] for f in frames) and session.confirmed == 2
    assert all(f.frame.time_s == 1.0 + k * PERIOD_S and not f.frame.problem for k, f in enumerate(frames))
    every_frame = dataclasses.replace(SCHEDULE, schedule=DetectionScheduleSettings(detection_interval_s=0.0))
    assert run(session, [1.0 + 12 * PERIOD_S], every_frame)[0].reason == "every_frame"  # settings apply per call


def test_track_boxes_keep_the_detector_boxes_size_and_scores(scene):
    pipeline, boxes = scene
    frames = run(CameraSession(pipeline, TrackIds()), [1.0 + k * PERIOD_S for k in range(4)])
    cropped = frames[3]
    assert cropped.boxes_from == "tracks"
    # standing persons: the box around the decoded joints, scaled by the detector box's ratio to them, is that box
    # (clipped to the image)
    expected = [clip_box_xywh_px(box, (IMAGE.shape[1], IMAGE.shape[0])) for box in boxes]
    np.testing.assert_allclose([p.box_xywh_px for p in cropped.result.persons], expected, atol=1e-3)
    np.testing.assert_allclose([p.score for p in cropped.result.persons], SCORES)
    np.testing.assert_allclose([t.root_m for t in cropped.tracks], [t.root_m for t in frames[2].tracks])
    assert set(cropped.trails) == {1, 2} and cropped.trails[1].shape == (4, 3)


def test_time_going_back_drops_the_tracks_and_ids_continue(scene):
    pipeline, _ = scene
    session = CameraSession(pipeline, TrackIds())
    before = run(session, [10.0 + k * PERIOD_S for k in range(4)])
    back = run(session, [5.0, 5.0 + PERIOD_S])
    assert back[0].went_back_from_s == before[-1].frame.time_s and back[1].went_back_from_s is None
    assert session.time_resets == 1 and back[0].boxes_from == "detector" and back[0].reason == "first"
    assert [t.track_id for t in back[0].tracks] == [3, 4] and not any(t.is_confirmed for t in back[0].tracks)
    assert back[0].frame.time_s == 5.0 and set(back[0].trails) == {3, 4} and back[0].trails[3].shape == (1, 3)


@pytest.mark.parametrize(
    ("stamps_s", "problem"), [([0.0] * 5, ZERO), ([3.0, 3.0, 3.0, 3.0, 3.0], REPEATED)], ids=["zero", "repeated"]
)
def test_zero_or_repeated_stamps_use_the_arrival_times(scene, stamps_s, problem):
    pipeline, _ = scene
    session = CameraSession(pipeline, TrackIds())
    frames = run(session, stamps_s, received_s=[100.0 + k * PERIOD_S for k in range(5)])
    assert [f.frame.time_s for f in frames] == [stamps_s[0] + k * PERIOD_S for k in range(5)]
    assert [f.frame.problem for f in frames] == ([ZERO] * 5 if problem == ZERO else [""] + [REPEATED] * 4)
    assert frames[-1].tracks[0].is_confirmed and frames[-1].tracks[0].age_s == 4 * PERIOD_S
    assert session.time_resets == 0 and session.clock.substituted == (5 if problem == ZERO else 4)


def test_tracking_off_publishes_each_frame_alone_with_the_detector_on_every_frame(scene):
    pipeline, _ = scene
    session = CameraSession(pipeline, TrackIds())
    off = dataclasses.replace(SCHEDULE, tracking=False)
    frames = run(session, [1.0, 1.0 + PERIOD_S, 0.5, 0.0], off)
    assert all(f.tracks is None and f.trails == {} and len(f.result.persons) == 2 for f in frames)
    assert [(f.boxes_from, f.reason) for f in frames] == [("detector", "every_frame")] * 4
    assert [f.frame.time_s for f in frames] == [1.0, 1.0 + PERIOD_S, 0.5, 0.0] and not any(
        f.frame.problem for f in frames
    )
    assert session.time_resets == session.track_crops == 0 and session.detector_runs == pipeline.detector.calls == 4
    assert [t.track_id for t in run(session, [2.0])[0].tracks] == [1, 2]  # tracking on again: tracks start


def test_given_boxes_are_used_and_without_a_detector_nobody_is_seen(scene):
    pipeline, boxes = scene
    pipeline.detector = None
    session = CameraSession(pipeline, TrackIds())
    assert not session.has_detector
    given = session(IMAGE, CAMERA, 1.0, 1.0, SCHEDULE, boxes, SCORES)
    assert (given.boxes_from, given.reason) == ("given", "") and [t.track_id for t in given.tracks] == [1, 2]
    np.testing.assert_allclose([p.score for p in given.result.persons], SCORES)
    nobody = session(IMAGE, CAMERA, 1.0 + PERIOD_S, 1.0 + PERIOD_S, SCHEDULE)
    assert (nobody.boxes_from, nobody.result.persons, nobody.tracks) == ("none", (), [])
    assert session.detector_runs == session.track_crops == 0


def test_the_public_names_load_on_first_use_and_nothing_else():
    import mppe_ros.tracking as tracking

    assert sorted(tracking.__all__) == sorted(tracking._MODULE_OF)
    assert all(getattr(tracking, name) is not None for name in tracking.__all__)
    with pytest.raises(AttributeError, match="no attribute 'People'"):
        _ = tracking.People
