"""Tracker: association (crossing, occlusion, re-entry), ids, time from stamps, two stages, Kalman, smoothing."""

from __future__ import annotations

import numpy as np
import pytest

from mppe_ros.camera import PinholeCamera
from mppe_ros.joint_sets import MUCO_21
from mppe_ros.results import PersonPose, PoseResult
from mppe_ros.tracking import Tracker, TrackIds
from mppe_ros.tracking.settings import TrackerSettings

CAMERA = PinholeCamera(fx=600.0, fy=600.0, cx=320.0, cy=240.0, width=640, height=480)
DT_S = 1.0 / 15.0
# A standing skeleton relative to its root (m): joints spread over 1.7 m height, 0.5 m width.
_OFFSETS_M = np.stack(
    [np.linspace(-0.25, 0.25, 21), np.linspace(-0.85, 0.85, 21) * np.cos(np.arange(21)), np.zeros(21)], 1
)
_OFFSETS_M[MUCO_21.root_index] = 0.0


def person(root_m, score: float = 0.9) -> PersonPose:
    joints_m = np.asarray(root_m, dtype=np.float64) + _OFFSETS_M
    joints_px = CAMERA.camera_to_pixels(joints_m)
    low, high = joints_px.min(0), joints_px.max(0)
    box = np.concatenate((low, high - low))
    return PersonPose(box, box, score, 0.0, joints_m[MUCO_21.root_index, 2] * 1000, joints_px[MUCO_21.root_index],
                      joints_m[MUCO_21.root_index], joints_px, joints_m, np.ones(21))  # fmt: skip


def frame(*persons: PersonPose) -> PoseResult:
    return PoseResult(joint_set=MUCO_21, camera=CAMERA, persons=persons)


def ids_by_x(tracked) -> dict[float, int]:
    return {round(float(t.person.root_cam_m[0]), 3): t.track_id for t in tracked}


def test_tentative_until_min_hits_and_a_missed_tentative_track_is_dropped():
    tracker = Tracker(TrackerSettings(min_hits=3))
    states = [tracker.update(frame(person((0, 0.3, 4))), k * DT_S)[0].is_confirmed for k in range(4)]
    assert states == [False, False, True, True]
    tracker.update(frame(person((1.5, 0.3, 4))), 4 * DT_S)  # a new tentative track (the first one is missed)
    tracker.update(frame(), 5 * DT_S)
    (again,) = tracker.update(frame(person((1.5, 0.3, 4))), 6 * DT_S)
    assert again.track_id == 3 and not again.is_confirmed and again.frames_measured == 1


def test_ids_increase_and_are_never_reused_over_many_births_and_deaths():
    rng = np.random.default_rng(0)
    tracker = Tracker(TrackerSettings(min_hits=1, max_age_s=0.2))
    seen, births, stamp_s = {}, [], 0.0
    for _ in range(40):
        people = [person((rng.uniform(-1.5, 1.5), 0.3, rng.uniform(2, 8))) for _ in range(rng.integers(1, 4))]
        for _ in range(3):
            stamp_s += DT_S
            for t in tracker.update(frame(*people), stamp_s):
                if t.track_id not in seen:
                    births.append(t.track_id)
                seen.setdefault(t.track_id, stamp_s)
        stamp_s += 0.5  # everybody's track expires
    assert births == sorted(births) and len(set(births)) == len(births) and births[0] == 1
    assert len(births) > 60
    tracker.reset()
    (fresh,) = tracker.update(frame(person((0, 0.3, 3))), stamp_s + 1)
    assert fresh.track_id == births[-1] + 1


def test_age_comes_from_stamps_and_skipped_frames_do_not_age_a_track_faster():
    settings = TrackerSettings(min_hits=1, max_age_s=1.0)
    for frames_between in (0, 14):  # the frames of the 1 s gap skipped, or delivered without the person
        tracker = Tracker(settings)
        (first,) = tracker.update(frame(person((0, 0.3, 4))), 100.0)
        for k in range(frames_between):
            tracker.update(frame(), 100.0 + (k + 1) * 0.06)
        (back,) = tracker.update(frame(person((0, 0.3, 4))), 100.9)
        assert back.track_id == first.track_id and back.age_s == pytest.approx(0.9)
        (new,) = tracker.update(frame(person((0, 0.3, 4))), 102.0)  # 1.1 s unseen: expired, a new track
        assert new.track_id == first.track_id + 1 and new.age_s == 0.0 and new.frames_measured == 1


def test_two_people_crossing_with_occlusion_keep_their_ids():
    tracker = Tracker()
    ids: dict[str, set[int]] = {"near": set(), "far": set()}
    for k in range(90):  # 6 s: near walks right at 3 m, far walks left at 5 m; they cross at k = 45
        t_s = k * DT_S
        near, far = person((-2.0 + 1.3 * t_s * 0.7, 0.3, 3.0)), person((2.5 - 1.3 * t_s * 0.87, 0.3, 5.0))
        hidden = 35 <= k <= 55  # the far one is behind the near one
        for t in tracker.update(frame(near) if hidden else frame(near, far), t_s):
            ids["near" if t.person is near else "far"].add(t.track_id)
    assert ids == {"near": {1}, "far": {2}}


def test_re_entry_near_the_prediction_keeps_the_id_and_far_from_it_does_not():
    tracker = Tracker(TrackerSettings(max_age_s=1.5))
    for k in range(30):  # walking right at 1.2 m/s, 4 m away
        (t,) = tracker.update(frame(person((-1.0 + 1.2 * k * DT_S, 0.3, 4.0))), k * DT_S)
    t_s = 29 * DT_S + 0.6  # out of view for 0.6 s, comes back where it would be
    (back,) = tracker.update(frame(person((-1.0 + 1.2 * t_s, 0.3, 4.0))), t_s)
    assert back.track_id == t.track_id
    far = person((-1.0 + 1.2 * t_s - 2.5, 0.3, 4.0))  # 2.5 m across the ray from the prediction
    (other,) = tracker.update(frame(far), t_s + 0.3)
    assert other.track_id != t.track_id and not other.is_confirmed


def test_gate_is_loose_along_the_ray_and_tight_across_it():
    along, across = [], []
    for offset, out in (((0, 0, 1.2), along), ((1.2, 0, 0), across)):  # 1.2 m deeper vs 1.2 m sideways, at 5 m
        gate_only = {"iou_weight": 0.0, "layout_weight": 0.0, "size_weight": 0.0, "max_cost": 1.0}
        tracker = Tracker(TrackerSettings(min_hits=1, **gate_only))
        for k in range(5):
            tracker.update(frame(person((0, 0.3, 5.0))), k * DT_S)
        out.extend(t.track_id for t in tracker.update(frame(person(np.add((0, 0.3, 5.0), offset))), 5 * DT_S))
    assert along == [1] and across == [2]


def test_low_score_detections_continue_confirmed_tracks_only():
    settings = TrackerSettings(min_hits=2, high_score_threshold=0.5, low_score_threshold=0.1)
    tracker = Tracker(settings)
    assert tracker.update(frame(person((0, 0.3, 4), score=0.3)), 0.0) == []  # low score: no new track
    for k in range(3):
        (t,) = tracker.update(frame(person((0, 0.3, 4))), k * DT_S)
    (kept,) = tracker.update(frame(person((0.02, 0.3, 4), score=0.3), person((2, 0.3, 4), score=0.3)), 3 * DT_S)
    assert kept.track_id == t.track_id and kept.frames_measured == 4 and kept.score == pytest.approx(0.75)
    assert tracker.update(frame(person((0.02, 0.3, 4), score=0.05)), 4 * DT_S) == []  # below low: ignored


def test_kalman_velocity_of_a_constant_velocity_walk_with_depth_noise():
    rng = np.random.default_rng(1)
    velocity = np.array([0.8, 0.0, -0.6])
    tracker = Tracker()
    for k in range(60):
        root = np.array([-1.0, 0.3, 5.0]) + velocity * k * DT_S
        (t,) = tracker.update(frame(person(root * (1 + rng.normal(0, 0.05)))), k * DT_S)  # 5 % along the ray
    np.testing.assert_allclose(t.velocity_mps, velocity, atol=0.2)


def test_smoothing_reduces_jitter_restarts_on_re_find_and_can_be_off():
    rng = np.random.default_rng(2)
    roots = np.array([0.3, 0.3, 4.0]) * (1 + rng.normal(0, 0.05, (45, 1)))  # a still person, noisy depth
    outputs = {}
    for smoothing in (True, False):
        tracker = Tracker(TrackerSettings(smoothing=smoothing, smoothing_reset_gap_s=0.5))
        outputs[smoothing] = [tracker.update(frame(person(r)), k * DT_S)[0] for k, r in enumerate(roots)]
        (refound,) = tracker.update(frame(person(roots[0])), 45 * DT_S + 0.8)
        raw = refound.person  # One-Euro filters restarted; the Kalman root carries on
        np.testing.assert_allclose(refound.joints_m - refound.root_m, raw.joints_cam_m - raw.root_cam_m)
        np.testing.assert_allclose(refound.joints_px, raw.joints_px)
    jitter = {s: np.std(np.diff([t.root_m for t in out], 2, axis=0)) for s, out in outputs.items()}
    assert jitter[False] / jitter[True] > 3.0
    assert all(np.array_equal(t.joints_m, t.person.joints_cam_m) for t in outputs[False])
    assert all(np.array_equal(t.joints_px, t.person.joints_px) for t in outputs[False])


def test_predicted_boxes_follow_a_walking_person():
    tracker = Tracker()
    for k in range(20):
        # boxes not from a detector: the track has no size of its own, expand_factor applies
        tracker.update(frame(person((-1.0 + 1.5 * k * DT_S, 0.3, 3.0))), k * DT_S, boxes_from_detector=False)
    boxes = tracker.predicted_boxes_xywh_px(20 * DT_S, expand_factor=1.2)
    nxt = person((-1.0 + 1.5 * 20 * DT_S, 0.3, 3.0))
    (box,) = boxes.values()
    low, high = nxt.joints_px.min(0), nxt.joints_px.max(0)
    assert np.all(box[:2] <= low) and np.all(box[:2] + box[2:] >= high)
    np.testing.assert_allclose(box[2:], 1.2 * (high - low), rtol=1e-6)
    assert box[0] + box[2] / 2 == pytest.approx((low[0] + high[0]) / 2, abs=3.0)  # moved with the person
    with pytest.raises(ValueError):
        tracker.predicted_boxes_xywh_px(21 * DT_S, expand_factor=0.5)


def test_time_going_back_is_rejected_until_reset():
    tracker = Tracker()
    tracker.update(frame(person((0, 0.3, 4))), 10.0)
    with pytest.raises(ValueError, match="reset"):
        tracker.update(frame(), 9.0)
    tracker.reset()
    assert tracker.update(frame(person((0, 0.3, 4))), 9.0)[0].track_id == 2


def test_a_person_who_turns_back_while_unseen_is_re_found():
    tracker = Tracker()  # max_age_s 2.5
    for k in range(30):  # walks right at 1.2 m/s, 4 m away, then out of view (or behind something) for 2 s
        (t,) = tracker.update(frame(person((-1.0 + 1.2 * k * DT_S, 0.3, 4.0))), k * DT_S)
    exit_x, back_s = -1.0 + 1.2 * 29 * DT_S, 29 * DT_S + 2.0
    for k in range(10):  # comes back walking left from 0.3 m beyond where it was last seen
        (back,) = tracker.update(frame(person((exit_x + 0.3 - 1.2 * k * DT_S, 0.3, 4.0))), back_s + k * DT_S)
        assert back.track_id == t.track_id and back.is_confirmed
    assert back.velocity_mps[0] < -0.3  # and its velocity follows the turn


def test_a_nearer_person_where_a_lost_track_is_predicted_starts_its_own_track():
    tracker = Tracker()
    for k in range(20):  # stands 5 m away, then is hidden for 0.5 s
        (far,) = tracker.update(frame(person((0.5, 0.3, 5.0))), k * DT_S)
    t_s = 19 * DT_S + 0.5
    (near,) = tracker.update(frame(person((0.35, 0.3, 3.5))), t_s)  # someone else, on nearly the same ray
    assert near.track_id != far.track_id  # its box is 1.4 times as tall: not the lost person
    (again,) = tracker.update(frame(person((0.5, 0.3, 5.0))), t_s + DT_S)
    assert again.track_id == far.track_id


def test_the_same_walk_at_another_frame_rate_and_with_dropped_frames_gives_the_same_velocity():
    rng = np.random.default_rng(5)
    velocities = []
    for stamps in (np.arange(0.0, 4.0, 1 / 15), np.sort(rng.choice(np.arange(0.0, 4.0, 1 / 30), 60, replace=False))):
        tracker = Tracker()
        for t_s in stamps:
            (t,) = tracker.update(frame(person((-1.0 + 0.9 * t_s, 0.3, 4.0 - 0.4 * t_s))), t_s)
        velocities.append(t.velocity_mps)
        assert t.age_s == pytest.approx(stamps[-1] - stamps[0])
    np.testing.assert_allclose(velocities, [[0.9, 0.0, -0.4]] * 2, atol=0.05)


def test_tracked_holds_the_last_update_and_its_pose_confidence():
    tracker = Tracker(TrackerSettings(min_hits=1))
    assert tracker.tracked == ()
    tracked = tracker.update(frame(person((0, 0.3, 4)), person((1.5, 0.3, 5))), 0.0)
    assert tracker.tracked == tuple(tracked) and [t.track_id for t in tracked] == [1, 2]
    assert tracked[0].pose_confidence == 1.0
    tracker.reset()
    assert tracker.tracked == ()


def test_trackers_sharing_one_track_ids_never_hand_out_an_id_twice():
    """The node's Trackers (one per activation) share the process's TrackIds: ids go on across them."""
    ids = TrackIds()
    first, second = Tracker(TrackerSettings(min_hits=1), ids), Tracker(TrackerSettings(min_hits=1), ids)
    seen = []
    for k, tracker in enumerate((first, second, first)):
        tracker.reset()
        seen += [t.track_id for t in tracker.update(frame(person((0.0, 0, 4)), person((1.5, 0, 4))), float(k))]
    assert seen == [1, 2, 3, 4, 5, 6]
    assert [t.track_id for t in Tracker().update(frame(person((0.0, 0, 4))), 0.0)] == [1]  # its own ids by default
