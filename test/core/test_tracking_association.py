"""mppe_ros.tracking_association: IoU, the ray-aligned gate, the cost and the optimal assignment."""

from __future__ import annotations

import numpy as np
import pytest

from mppe_ros.tracking_association import assign, association_cost, box_iou, gate_distance


def test_box_iou():
    a = np.array([[0.0, 0.0, 10.0, 10.0]])
    b = np.array([[0.0, 0.0, 10.0, 10.0], [5.0, 0.0, 10.0, 10.0], [20.0, 20.0, 5.0, 5.0], [0.0, 0.0, 0.0, 0.0]])
    np.testing.assert_allclose(box_iou(a, b), [[1.0, 50.0 / 150.0, 0.0, 0.0]])
    assert box_iou(np.zeros((0, 4)), b).shape == (0, 4)


def test_gate_is_normalised_along_the_ray_and_across_it():
    predicted = np.array([[0.0, 0.0, 5.0]])
    measured = np.array([[0.0, 0.0, 6.0], [0.2, 0.0, 5.0], [0.0, 0.0, 5.0]])
    distances = gate_distance(predicted, np.array([2.0]), np.array([0.4]), measured)
    np.testing.assert_allclose(distances, [[0.5, 0.5, 0.0]], atol=1e-12)


def test_cost_marks_pairs_outside_the_gate_and_assign_leaves_them_out():
    iou = np.array([[0.9, 0.0], [0.0, 0.8]])
    gate = np.array([[0.1, 2.0], [3.0, 1.5]])
    cost = association_cost(iou, gate, iou_weight=0.5)
    assert cost[0, 0] == pytest.approx(0.5 * 0.1 + 0.5 * 0.1)
    assert assign(cost) == [(0, 0)]  # track 1 has no feasible detection
    assert assign(np.zeros((0, 3))) == []
    assert assign(np.array([[0.2, 0.1], [0.1, 0.9]])) == [(0, 1), (1, 0)]  # optimal, not greedy
