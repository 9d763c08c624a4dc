"""The MuPoTS-3D protocol (mpii_mupots_multiperson_eval.m and its util/ functions): each rule has a test that fails
when the rule is ported differently."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers_evaluation import Person, perfect_predictions, person_at, project, two_sequences

from mppe_ros.evaluation.mupots_protocol import (
    FramePrediction,
    GroundTruthPerson,
    identity_matching,
    map_to_gt_bone_lengths,
    masked_pck,
    pck_auc,
    score_sequences,
)
from mppe_ros.evaluation.mupots_summary import mean_of_sequences, summarize

WRIST, ELBOW = 4, 3


def ground_truth(scenes):
    return {
        sequence: [[GroundTruthPerson(project(p.joints_mm), p.joints_mm, p.occluded) for p in persons if p.valid]
                   for persons in frames]
        for sequence, frames in scenes.items()
    }  # fmt: skip


def table(scenes, predictions, relative=True, matched_only=False):
    rows = summarize(score_sequences(ground_truth(scenes), predictions, relative, matched_only))
    return {row.name: row for row in rows}


def one_person_scene(root=(0.0, 0.0, 5000.0), occluded=None):
    occluded = np.zeros(17, dtype=bool) if occluded is None else occluded
    return {1: [[Person(person_at(root), occluded)]]}


def prediction_of(joints_3d, joints_2d=None):
    joints_3d = np.asarray(joints_3d, dtype=np.float64).reshape(-1, 17, 3)
    joints_2d = np.array([project(j) for j in joints_3d]) if joints_2d is None else joints_2d
    return FramePrediction(np.asarray(joints_2d).reshape(-1, 17, 2), joints_3d)


def wrist_moved_by(joints, error_mm):
    """The wrist turned about the elbow (forearm length kept, so the bone rescale leaves it) until it is
    `error_mm` from where it was."""
    joints = joints.copy()
    bone = joints[WRIST] - joints[ELBOW]
    length = np.linalg.norm(bone)
    normal = np.cross(bone, [0.0, 0.0, 1.0])
    normal /= np.linalg.norm(normal)
    theta = 2 * math.asin(error_mm / (2 * length))
    joints[WRIST] = joints[ELBOW] + bone * math.cos(theta) + normal * length * math.sin(theta)
    return joints


@pytest.mark.parametrize("relative", [True, False])
@pytest.mark.parametrize("matched_only", [True, False])
def test_perfect_predictions_give_100_percent(relative, matched_only):
    scenes = two_sequences()
    rows = table(scenes, perfect_predictions(scenes), relative, matched_only)
    for row in rows.values():
        assert row.pck == pytest.approx(100.0) and row.pck_visible == pytest.approx(100.0)
        assert row.undetected == 0
        # AUC counts error < t for t = 0, 5, ..., 150: a zero error misses only t = 0 (strict <)
        assert row.auc == pytest.approx(100 * 30 / 31)
    assert rows["Total"].persons == 5 and rows["TS1"].persons == 4 and rows["TS2"].persons == 1


@pytest.mark.parametrize(("error_mm", "expected"), [(149.0, 100.0), (151.0, 100 * 13 / 14)])
def test_one_joint_149_mm_off_counts_and_151_mm_does_not(error_mm, expected):
    scenes = one_person_scene()
    joints = wrist_moved_by(scenes[1][0][0].joints_mm, error_mm)
    predictions = {"TS1_img_000000": prediction_of(joints)}
    row = table(scenes, predictions)["Total"]
    assert row.pck == pytest.approx(expected)  # 14 scored joints
    assert row.pck_groups["Wrist"] == pytest.approx(100.0 if error_mm < 150 else 50.0)


@pytest.mark.parametrize(("shift_mm", "expected"), [(149.0, 100.0), (151.0, 0.0)])
def test_absolute_mode_keeps_the_root_error_and_relative_mode_removes_it(shift_mm, expected):
    scenes = one_person_scene()
    joints = scenes[1][0][0].joints_mm + [shift_mm, 0.0, 0.0]
    predictions = {"TS1_img_000000": prediction_of(joints, project(scenes[1][0][0].joints_mm)[None])}
    assert table(scenes, predictions, relative=False)["Total"].pck == pytest.approx(expected)
    assert table(scenes, predictions, relative=True)["Total"].pck == pytest.approx(100.0)


def test_a_missed_person_counts_all_joints_wrong_only_in_all_annotated_mode():
    scenes = {1: [[Person(person_at((-600, 0, 5000))), Person(person_at((700, 0, 6000)))]]}
    predictions = {"TS1_img_000000": prediction_of(person_at((-600, 0, 5000)))}  # the second person is missed
    everyone = table(scenes, predictions, matched_only=False)["Total"]
    matched = table(scenes, predictions, matched_only=True)["Total"]
    assert everyone.pck == pytest.approx(50.0) and everyone.persons == 2 and everyone.undetected == 1
    assert matched.pck == pytest.approx(100.0) and matched.persons == 1 and matched.undetected == 1
    assert everyone.pck_occluded != everyone.pck_occluded  # no occluded joint: NaN, as MATLAB's 0/0


@pytest.mark.parametrize(("shift_px", "matched"), [(39.9, True), (40.0, False)])
def test_matching_needs_every_counted_joint_closer_than_40_px(shift_px, matched):
    scenes = one_person_scene()
    joints = scenes[1][0][0].joints_mm
    joints_2d = project(joints) + [0.0, shift_px]  # y only: both coordinates must be within the threshold
    predictions = {"TS1_img_000000": prediction_of(joints, joints_2d[None])}
    row = table(scenes, predictions)["Total"]
    assert row.undetected == (0 if matched else 1)
    assert row.pck == pytest.approx(100.0 if matched else 0.0)


def test_matching_uses_joints_2_to_14_only():
    scenes = one_person_scene()
    joints = scenes[1][0][0].joints_mm
    joints_2d = project(joints)
    joints_2d[[0, 14, 15, 16]] += 500.0  # head top, pelvis, spine, head: MATLAB joints 1, 15, 16, 17
    predictions = {"TS1_img_000000": prediction_of(joints, joints_2d[None])}
    assert table(scenes, predictions)["Total"].undetected == 0
    joints_2d[1:14] += 500.0
    assert table(scenes, {"TS1_img_000000": prediction_of(joints, joints_2d[None])})["Total"].undetected == 1


def test_identity_matching_is_greedy_in_ground_truth_order_and_skips_zero_joints():
    gt = np.zeros((2, 3, 2))
    gt[1] += 100.0
    pred = np.stack([gt[0] + 5.0, gt[0] + 1.0, gt[1]])  # both first predictions fit person 0; first wins the tie
    visible = np.ones((3, 3), dtype=bool)
    assert identity_matching(gt, np.ones((2, 3), bool), pred, visible, 40.0).tolist() == [0, 2]
    # a prediction taken by person 0 is not available to person 1 even when it fits it better
    pred = np.stack([gt[0] + 1.0, gt[0] + 1.0])
    assert identity_matching(np.stack([gt[0], gt[0]]), np.ones((2, 3), bool), pred, visible[:2], 40.0).tolist() == [
        0,
        1,
    ]
    # a prediction's joint at (0, 0) is invisible: it never counts
    invisible = np.array([[False, False, False]])
    assert identity_matching(gt[:1], np.ones((1, 3), bool), gt[:1], invisible, 40.0).tolist() == [-1]


def test_bone_rescale_computed_by_hand():
    gt = person_at((0, 0, 5000))
    pred = gt.copy()
    pred[ELBOW] += [0.0, 50.0, 0.0]  # upper arm turned and longer
    pred[WRIST] = pred[ELBOW] + [0.0, 100.0, 0.0]  # forearm straight down, 100 mm
    mapped = map_to_gt_bone_lengths(pred, gt)
    shoulder = gt[2]
    upper = np.linalg.norm(gt[ELBOW] - shoulder)
    forearm = np.linalg.norm(gt[WRIST] - gt[ELBOW])
    # elbow: the shoulder (unchanged: its bone kept) + the predicted upper arm direction at the GT length
    elbow = shoulder + (pred[ELBOW] - shoulder) / np.linalg.norm(pred[ELBOW] - shoulder) * upper
    # wrist: the moved elbow + the *original* predicted forearm vector (0, 100, 0) at the GT length
    wrist = elbow + np.array([0.0, forearm, 0.0])
    np.testing.assert_allclose(mapped[ELBOW], elbow, atol=1e-9)
    np.testing.assert_allclose(mapped[WRIST], wrist, atol=1e-9)
    untouched = [j for j in range(17) if j not in (ELBOW, WRIST)]
    np.testing.assert_allclose(mapped[untouched], gt[untouched], atol=1e-9)


def test_bone_rescale_follows_the_traversal_from_the_pelvis():
    gt = person_at((0, 0, 5000))
    pred = (gt - gt[14]) * 1.7 + gt[14]  # every bone 1.7 times too long: the rescale gives the ground truth back
    np.testing.assert_allclose(map_to_gt_bone_lengths(pred, gt), gt, atol=1e-9)
    scenes = one_person_scene()
    assert table(scenes, {"TS1_img_000000": prediction_of(pred, project(gt)[None])}, relative=False)["Total"].pck == 100


def test_total_pools_the_persons_and_is_not_the_mean_of_the_sequences():
    scenes = two_sequences()  # TS1: 4 persons, TS2: 1 person
    predictions = perfect_predictions(scenes)
    wrong = predictions["TS2_img_000000"]
    predictions["TS2_img_000000"] = FramePrediction(wrong.joints_2d_px, wrong.joints_3d_mm + [500.0, 0.0, 0.0])
    rows = table(scenes, predictions, relative=False)
    assert rows["TS1"].pck == pytest.approx(100.0) and rows["TS2"].pck == pytest.approx(0.0)
    assert rows["Total"].pck == pytest.approx(80.0)
    assert mean_of_sequences(list(rows.values())) == pytest.approx(50.0)


def test_visible_and_occluded_joints_are_scored_apart():
    occluded = np.zeros(17, dtype=bool)
    occluded[WRIST] = True
    scenes = one_person_scene(occluded=occluded)
    joints = wrist_moved_by(scenes[1][0][0].joints_mm, 151.0)
    row = table(scenes, {"TS1_img_000000": prediction_of(joints)})["Total"]
    assert row.pck_visible == pytest.approx(100.0) and row.visible_joints == 13  # joints 1..14 only
    assert row.pck_occluded == pytest.approx(0.0) and row.occluded_joints == 1


def test_the_mask_tables_count_150_mm_as_correct_and_nan_as_160_mm_unlike_the_pck():
    errors = np.zeros((1, 17))
    errors[0, 0] = 150.0
    pck, _ = pck_auc(errors)
    assert pck["Total"] == pytest.approx(100 * 13 / 14)  # mpii_compute_3d_pck: error < 150
    assert masked_pck(errors, np.ones((1, 17), bool)) == (pytest.approx(100.0), 14)  # visibility mask: > 150 wrong
    errors[0, 0] = np.nan
    assert masked_pck(errors, np.ones((1, 17), bool))[0] == pytest.approx(100 * 13 / 14)
    errors[0, 0] = 0.0
    errors[0, 14:] = 1000.0  # pelvis, spine, head are not scored
    assert pck_auc(errors)[0]["Total"] == pytest.approx(100.0)


def test_auc_averages_the_31_thresholds():
    errors = np.full((1, 17), 72.0)  # below t = 75 .. 150: 16 of the 31 thresholds
    assert pck_auc(errors)[1]["Total"] == pytest.approx(100 * 16 / 31)


def test_an_annotated_frame_without_predictions_is_an_error_naming_the_key_and_empty_frames_need_none():
    scenes = {3: [[], [Person(person_at((0, 0, 5000)))]]}
    with pytest.raises(ValueError, match="'TS3_img_000001'"):
        score_sequences(ground_truth(scenes), {}, True, False)
    empty = FramePrediction(np.zeros((0, 17, 2)), np.zeros((0, 17, 3)))
    rows = table(scenes, {"TS3_img_000001": empty})
    assert rows["TS3"].pck == 0.0 and rows["TS3"].undetected == 1 and rows["TS3"].annotated == 1
