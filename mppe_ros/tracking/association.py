"""Association of detections to tracks: the cost of each (track, detection) pair and the optimal assignment.

Four cues, each a cost in [0, 1]:
- box: 1 - IoU of the detection's box and the track's predicted box (its last box moved with its predicted root);
- layout: 1 - an OKS-like similarity of the 2D joint layouts (each set relative to its root joint, so that a
  turn or a stop the prediction missed does not count): the mean over joints of exp(-d^2 / (2 (sigma scale)^2)),
  d a joint's distance in px, scale the square root of the track's box area (px);
- 3D: the root's Mahalanobis distance from the track's prediction (tracking.kalman: loose along the camera ray,
  tight across it) over gate_sigmas; a pair beyond 1 is outside the gate and never matched;
- size: |ln(detection box height / track box height)| (the track's scaled by its predicted change of depth) over
  size_tolerance, at most 1. Box heights are measured in the image and do not share RootNet's depth error: of two
  people crossing in the image at different depths, the nearer one's box is the larger.
The pair's cost is their weighted mean; a pair costing more than max_cost is not matched either (a lost track is
not pulled onto whatever detection lies in its wide gate). The assignment minimising the total cost over feasible
pairs is solved exactly with scipy.optimize.linear_sum_assignment.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

INFEASIBLE = 1e6  # cost of a pair that must not be matched (every feasible cost is <= 1)


def box_iou(boxes_a_xywh_px: np.ndarray, boxes_b_xywh_px: np.ndarray) -> np.ndarray:
    """[A, B] intersection over union of boxes [A, 4] and [B, 4] (x_min, y_min, width, height in px)."""
    a = np.asarray(boxes_a_xywh_px, dtype=np.float64).reshape(-1, 1, 4)
    b = np.asarray(boxes_b_xywh_px, dtype=np.float64).reshape(1, -1, 4)
    width = np.minimum(a[..., 0] + a[..., 2], b[..., 0] + b[..., 2]) - np.maximum(a[..., 0], b[..., 0])
    height = np.minimum(a[..., 1] + a[..., 3], b[..., 1] + b[..., 3]) - np.maximum(a[..., 1], b[..., 1])
    intersection = np.clip(width, 0.0, None) * np.clip(height, 0.0, None)
    union = a[..., 2] * a[..., 3] + b[..., 2] * b[..., 3] - intersection
    return np.where(union > 0.0, intersection / np.where(union > 0.0, union, 1.0), 0.0)


def layout_similarity(
    track_joints_px: np.ndarray, track_scale_px: np.ndarray, joints_px: np.ndarray, root_index: int, sigma: float
) -> np.ndarray:
    """[T, D] OKS-like similarity in [0, 1] of the 2D joint layouts [D, J, 2] to the tracks' [T, J, 2] (px).

    Each layout is taken relative to its joint `root_index`; track_scale_px: [T] each track's size, px (the square
    root of its box area): a joint sigma * scale px away from the track's scores exp(-1/2).
    """
    tracks = np.asarray(track_joints_px, dtype=np.float64)
    detections = np.asarray(joints_px, dtype=np.float64)
    tracks = tracks - tracks[:, root_index : root_index + 1]
    detections = detections - detections[:, root_index : root_index + 1]
    squared_px2 = np.sum((tracks[:, None] - detections[None]) ** 2, axis=-1)  # [T, D, J]
    spread_px2 = 2.0 * (sigma * np.maximum(np.asarray(track_scale_px, dtype=np.float64), 1e-9)) ** 2
    similarity: np.ndarray = np.exp(-squared_px2 / spread_px2[:, None, None]).mean(axis=-1)
    return similarity


def size_difference(track_heights_px: np.ndarray, heights_px: np.ndarray) -> np.ndarray:
    """[T, D] |ln(height / track height)| of detection box heights [D] against the tracks' expected ones [T] (px)."""
    track_heights_px = np.maximum(np.asarray(track_heights_px, dtype=np.float64), 1e-9)
    heights_px = np.maximum(np.asarray(heights_px, dtype=np.float64), 1e-9)
    difference: np.ndarray = np.abs(np.log(heights_px[None, :] / track_heights_px[:, None]))
    return difference


def association_cost(
    iou: np.ndarray, similarity: np.ndarray, gate: np.ndarray, size: np.ndarray,
    weights: tuple[float, float, float, float], max_cost: float,
) -> np.ndarray:  # fmt: skip
    """[T, D] cost from IoU, layout similarity, normalised gate distance and normalised size difference (each
    [T, D]) and the weights (box, layout, 3D, size; any scale): their weighted mean; pairs outside the gate
    (gate > 1) or costing more than max_cost get INFEASIBLE."""
    box_w, layout_w, gate_w, size_w = weights
    terms = box_w * (1.0 - iou) + layout_w * (1.0 - similarity) + gate_w * np.minimum(gate, 1.0)
    cost = (terms + size_w * np.minimum(size, 1.0)) / sum(weights)
    return np.where((gate <= 1.0) & (cost <= max_cost), cost, INFEASIBLE)


def assign(cost: np.ndarray) -> list[tuple[int, int]]:
    """Optimal (track row, detection column) pairs of a [T, D] cost matrix, infeasible pairs left out."""
    if cost.size == 0:
        return []
    rows, cols = linear_sum_assignment(cost)
    return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if cost[r, c] < INFEASIBLE]
