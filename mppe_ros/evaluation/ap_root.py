"""AP_root on MuPoTS-3D: the average precision of absolute root positions, port of RootNet's MuPoTS_eval.py
(`calculate_score`, 3DMPPE_ROOTNET_RELEASE data/MuPoTS/MuPoTS_eval.py).

Rules of the original, kept on purpose: predictions are sorted by score, highest first (a stable sort, so
equal scores keep the file's order); each one is compared with the *nearest* valid ground-truth root of its
image (root = joint 14, `keypoints_cam`, mm) and is a true positive when that distance is below the threshold
(strict) and that ground truth is not matched yet, otherwise a false positive (it does not fall back to the next
nearest); predictions in images without a valid annotation are skipped; AP = sum over n >= 1 of
precision[n] * (recall[n] - recall[n-1]), so the first prediction's recall step is not counted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

ROOT_INDEX = 14
THRESHOLD_MM = 250.0


@dataclass(frozen=True)
class RootPrediction:
    """One person's predicted root: image id, root [3] camera mm, detection score."""

    image_id: int
    root_cam_mm: np.ndarray
    score: float


@dataclass(frozen=True)
class RootAnnotation:
    """One annotation of MuPoTS-3D.json: root [3] camera mm (keypoints_cam[14]) and its `is_valid` flag."""

    root_cam_mm: np.ndarray
    is_valid: bool


def ap_root(
    predictions: Sequence[RootPrediction],
    annotations: Mapping[int, Sequence[RootAnnotation]],
    threshold_mm: float = THRESHOLD_MM,
) -> float:
    """AP_root (a fraction 0..1, as the original prints it) of `predictions` against `annotations`
    (image id -> every annotation of the image, valid or not, in file order)."""
    ordered = sorted(predictions, key=lambda item: item.score, reverse=True)
    gt_num = sum(item.is_valid for items in annotations.values() for item in items)
    matched: dict[int, list[bool]] = {}
    true_positives = false_positives = 0
    precision: list[float] = []
    recall: list[float] = []
    for prediction in ordered:
        anns = annotations.get(prediction.image_id, ())
        if not any(item.is_valid for item in anns):
            continue
        flags = matched.setdefault(prediction.image_id, [False] * len(anns))
        nearest, nearest_mm = -1, 9999.0
        for index, ann in enumerate(anns):
            if not ann.is_valid:
                continue
            distance = float(np.sqrt(np.sum((np.asarray(prediction.root_cam_mm) - ann.root_cam_mm) ** 2)))
            if nearest_mm > distance:
                nearest, nearest_mm = index, distance
        if nearest != -1 and nearest_mm < threshold_mm and not flags[nearest]:
            flags[nearest] = True
            true_positives += 1
        else:
            false_positives += 1
        precision.append(true_positives / (true_positives + false_positives))
        recall.append(true_positives / gt_num)
    return float(sum(precision[n + 1] * (recall[n + 1] - recall[n]) for n in range(len(precision) - 1)))
