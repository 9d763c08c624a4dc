"""Association of detections to tracks: 2D box overlap plus a 3D root distance gated along / across the camera ray.

The gate is an ellipsoid around each track's predicted root (m, optical frame): half-length along the ray through
it `along_m` (loose: a monocular depth is uncertain, more so far away), half-width across it `across_m` (tight).
A pair is feasible when its normalised gate distance g = sqrt((along / along_m)^2 + (across / across_m)^2) <= 1;
its cost is iou_weight * (1 - IoU) + (1 - iou_weight) * g, in [0, 1]. The assignment minimising the total cost
over feasible pairs is solved exactly with scipy.optimize.linear_sum_assignment.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

_INFEASIBLE = 1e6  # cost of a pair outside the gate (any feasible cost is <= 1)


def box_iou(boxes_a_xywh_px: np.ndarray, boxes_b_xywh_px: np.ndarray) -> np.ndarray:
    """[A, B] intersection over union of boxes [A, 4] and [B, 4] (x_min, y_min, width, height in px)."""
    a = np.asarray(boxes_a_xywh_px, dtype=np.float64).reshape(-1, 1, 4)
    b = np.asarray(boxes_b_xywh_px, dtype=np.float64).reshape(1, -1, 4)
    width = np.minimum(a[..., 0] + a[..., 2], b[..., 0] + b[..., 2]) - np.maximum(a[..., 0], b[..., 0])
    height = np.minimum(a[..., 1] + a[..., 3], b[..., 1] + b[..., 3]) - np.maximum(a[..., 1], b[..., 1])
    intersection = np.clip(width, 0.0, None) * np.clip(height, 0.0, None)
    union = a[..., 2] * a[..., 3] + b[..., 2] * b[..., 3] - intersection
    return np.where(union > 0.0, intersection / np.where(union > 0.0, union, 1.0), 0.0)


def gate_distance(
    predicted_m: np.ndarray, along_m: np.ndarray, across_m: np.ndarray, measured_m: np.ndarray
) -> np.ndarray:
    """[T, D] normalised gate distance (<= 1 inside) of measured roots [D, 3] from predicted roots [T, 3] (m).

    along_m, across_m: [T] each track's gate half-length along its ray and half-width across it, m.
    """
    predicted_m = np.asarray(predicted_m, dtype=np.float64).reshape(-1, 3)
    measured_m = np.asarray(measured_m, dtype=np.float64).reshape(-1, 3)
    ray = predicted_m / np.maximum(np.linalg.norm(predicted_m, axis=1, keepdims=True), 1e-9)
    offset = measured_m[None, :, :] - predicted_m[:, None, :]  # [T, D, 3]
    along = np.einsum("tdk,tk->td", offset, ray)
    across = np.linalg.norm(offset - along[..., None] * ray[:, None, :], axis=-1)
    distances: np.ndarray = np.hypot(along / np.asarray(along_m)[:, None], across / np.asarray(across_m)[:, None])
    return distances


def association_cost(iou: np.ndarray, gate: np.ndarray, iou_weight: float) -> np.ndarray:
    """[T, D] cost from IoU [T, D] and gate distance [T, D]; pairs outside the gate (gate > 1) get _INFEASIBLE."""
    cost = iou_weight * (1.0 - iou) + (1.0 - iou_weight) * gate
    return np.where(gate <= 1.0, cost, _INFEASIBLE)


def assign(cost: np.ndarray) -> list[tuple[int, int]]:
    """Optimal (track row, detection column) pairs of a [T, D] cost matrix, infeasible pairs left out."""
    if cost.size == 0:
        return []
    rows, cols = linear_sum_assignment(cost)
    return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if cost[r, c] < _INFEASIBLE]
