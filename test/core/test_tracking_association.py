"""mppe_ros.tracking.association: IoU, joint layout, size, the weighted cost with its gates and the assignment."""

from __future__ import annotations

import numpy as np
import pytest

from mppe_ros.tracking.association import (
    INFEASIBLE,
    assign,
    association_cost,
    box_iou,
    layout_similarity,
    size_difference,
)


def test_box_iou():
    a = np.array([[0.0, 0.0, 10.0, 10.0]])
    b = np.array([[0.0, 0.0, 10.0, 10.0], [5.0, 0.0, 10.0, 10.0], [20.0, 20.0, 5.0, 5.0], [0.0, 0.0, 0.0, 0.0]])
    np.testing.assert_allclose(box_iou(a, b), [[1.0, 50.0 / 150.0, 0.0, 0.0]])
    assert box_iou(np.zeros((0, 4)), b).shape == (0, 4)


def test_layout_similarity_ignores_position_and_sees_scale():
    rng = np.random.default_rng(0)
    layout = rng.uniform(-50.0, 50.0, (21, 2))
    layout[14] = 0.0  # the root
    track = (layout + (300.0, 200.0))[None]
    moved = layout + (420.0, 260.0)  # the same layout elsewhere in the image
    farther = 0.7 * layout + (300.0, 200.0)  # the same pose 1 / 0.7 times as far away
    similarity = layout_similarity(track, np.array([100.0]), np.stack([moved, farther]), root_index=14, sigma=0.1)
    assert similarity[0, 0] == pytest.approx(1.0)
    assert similarity[0, 1] < 0.7
    one_joint_off = moved.copy()
    one_joint_off[3] += (10.0, 0.0)  # sigma * scale = 10 px away: exp(-1/2)
    expected = (20 + np.exp(-0.5)) / 21
    assert layout_similarity(track, np.array([100.0]), one_joint_off[None], 14, 0.1)[0, 0] == pytest.approx(expected)


def test_size_difference_is_the_absolute_log_ratio():
    np.testing.assert_allclose(size_difference(np.array([100.0, 200.0]), np.array([100.0, 50.0])),
                               [[0.0, np.log(2.0)], [np.log(2.0), np.log(4.0)]])  # fmt: skip


def test_cost_is_the_weighted_mean_and_both_gates_mark_infeasible_pairs():
    iou, similarity = np.array([[0.9, 0.0, 0.5]]), np.array([[0.8, 0.2, 0.5]])
    gate, size = np.array([[0.5, 0.2, 1.5]]), np.array([[0.0, 3.0, 0.0]])
    cost = association_cost(iou, similarity, gate, size, (1.0, 1.0, 2.0, 0.0), max_cost=0.7)
    assert cost[0, 0] == pytest.approx((0.1 + 0.2 + 2 * 0.5) / 4.0)
    assert cost[0, 1] == pytest.approx((1.0 + 0.8 + 2 * 0.2) / 4.0)
    assert cost[0, 2] == INFEASIBLE  # outside the 3D gate
    sized = association_cost(iou, similarity, gate, size, (1.0, 1.0, 2.0, 4.0), max_cost=0.6)
    assert sized[0, 0] == pytest.approx((0.1 + 0.2 + 2 * 0.5) / 8.0)
    assert sized[0, 1] == INFEASIBLE  # (2.2 + 4 * 1) / 8 > max_cost: the size term saturates at 1


def test_assign_is_optimal_and_leaves_infeasible_pairs_out():
    assert assign(np.array([[0.2, INFEASIBLE], [INFEASIBLE, INFEASIBLE]])) == [(0, 0)]
    assert assign(np.zeros((0, 3))) == []
    assert assign(np.array([[0.2, 0.1], [0.1, 0.9]])) == [(0, 1), (1, 0)]  # optimal, not greedy
