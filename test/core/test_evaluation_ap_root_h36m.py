"""AP_root (RootNet's MuPoTS_eval.py) and the Human3.6M protocols (PA-MPJPE, MPJPE, MRPE) of the 3DMPPE release."""

from __future__ import annotations

import numpy as np
import pytest
from helpers_evaluation import SKELETON_MM

from mppe_ros.evaluation.ap_root import RootAnnotation, RootPrediction, ap_root
from mppe_ros.evaluation.h36m_protocol import joint_errors, mrpe, rigid_align, score_samples

A, B, C = (np.array(p, dtype=float) for p in ((0, 0, 5000), (1000, 0, 6000), (-1000, 0, 7000)))


def gt(*roots, valid=True):
    return [RootAnnotation(root, valid) for root in roots]


def test_ap_root_counts_a_root_249_mm_off_and_not_one_251_mm_off():
    annotations = {1: gt(A, B, C)}
    predictions = [
        RootPrediction(1, A, 0.9),
        RootPrediction(1, B + [249.0, 0, 0], 0.8),
        RootPrediction(1, C + [0, 0, 251.0], 0.7),
    ]
    # precision 1, 1, 2/3; recall 1/3, 2/3, 2/3 -> AP = 1 * (2/3 - 1/3) + 2/3 * 0
    assert ap_root(predictions, annotations) == pytest.approx(1 / 3)
    predictions[2] = RootPrediction(1, C + [0, 0, 249.0], 0.7)
    assert ap_root(predictions, annotations) == pytest.approx(2 / 3)


def test_ap_root_sorts_by_score_and_skips_the_first_recall_step_as_the_original():
    annotations = {1: gt(A, B, C)}
    ordered = [RootPrediction(1, C + [0, 0, 251.0], 0.1), RootPrediction(1, B, 0.8), RootPrediction(1, A, 0.9)]
    assert ap_root(ordered, annotations) == pytest.approx(1 / 3)  # in file order it would be 7/18
    assert ap_root([RootPrediction(1, A, 0.9)], {1: gt(A)}) == 0.0  # one perfect prediction: no step after the first


def test_ap_root_takes_the_nearest_ground_truth_even_when_it_is_matched_already():
    annotations = {1: gt(A, A + [200.0, 0, 0], C)}
    predictions = [RootPrediction(1, C, 0.95), RootPrediction(1, A, 0.9), RootPrediction(1, A + [10.0, 0, 0], 0.8)]
    # the third is nearest to the matched A: a false positive, although A + 200 mm is within 250 mm and free
    assert ap_root(predictions, annotations) == pytest.approx(1 * (2 / 3 - 1 / 3) + 2 / 3 * 0)


def test_ap_root_ignores_invalid_annotations_and_images_without_valid_ones():
    annotations = {1: gt(A, B) + gt(C, valid=False), 2: gt(A, valid=False)}
    predictions = [RootPrediction(1, A, 0.9), RootPrediction(1, C, 0.85), RootPrediction(2, A, 0.8),
                   RootPrediction(1, B, 0.7)]  # fmt: skip
    # image 2 skipped; C is invalid so that prediction is a false positive; gt_num = 2
    assert ap_root(predictions, annotations) == pytest.approx(0.5 * 0 + (2 / 3) * (1.0 - 0.5))


def rotation_z(degrees):
    a = np.radians(degrees)
    return np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])


def h36m_pose():
    return np.vstack([SKELETON_MM, [[0, -300, 50]]])  # 18 joints (the last plays Thorax)


def test_protocol_1_removes_rotation_and_translation_but_not_scale():
    gt_mm = h36m_pose() + [0, 0, 5000]
    pred = (rotation_z(30) @ h36m_pose().T).T + [300, 20, 5500]
    np.testing.assert_allclose(joint_errors(pred, gt_mm, 1), 0, atol=1e-9)
    np.testing.assert_allclose(rigid_align(pred, gt_mm), gt_mm, atol=1e-9)
    scaled = h36m_pose() * 1.1 + [0, 0, 5000]  # the release's rigid_align has no scale
    assert joint_errors(scaled, gt_mm, 1).mean() > 5.0
    assert joint_errors(pred, gt_mm, 2).mean() > 50.0  # protocol 2 does not rotate


def test_protocol_2_is_root_aligned_and_leaves_out_the_thorax():
    gt_mm = h36m_pose() + [0, 0, 5000]
    pred = gt_mm + [120.0, -40.0, 300.0]
    pred[17] += 500.0  # Thorax: not scored
    pred[5] += [0.0, 34.0, 0.0]
    errors = joint_errors(pred, gt_mm, 2)
    assert errors.shape == (17,)
    assert errors.mean() == pytest.approx(34.0 / 17)


def test_scores_per_action_and_total():
    errors = np.vstack([np.full(17, 10.0), np.full(17, 30.0), np.full(17, 50.0)])
    scores = score_samples(errors, [2, 2, 16], protocol=2)
    assert scores.error_mm == pytest.approx(30.0) and scores.metric == "MPJPE" and scores.samples == 3
    assert scores.per_action_mm["Directions"] == pytest.approx(20.0)
    assert scores.per_action_mm["WalkTogether"] == pytest.approx(50.0)
    assert np.isnan(scores.per_action_mm["Eating"])


def test_mrpe_total_and_per_axis():
    result = mrpe(np.array([[30.0, 0, 40], [0, -10, 0]]), np.zeros((2, 3)))
    assert result.total_mm == pytest.approx((50 + 10) / 2)
    assert (result.x_mm, result.y_mm, result.z_mm) == (pytest.approx(15.0), pytest.approx(5.0), pytest.approx(20.0))
