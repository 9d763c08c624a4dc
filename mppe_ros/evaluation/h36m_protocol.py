"""The Human3.6M protocols of the 3DMPPE release: MPJPE / PA-MPJPE of PoseNet and RootNet's MRPE.

Ports `Human36M.evaluate` of 3DMPPE_POSENET_RELEASE (data/Human36M/Human36M.py, with `rigid_align` /
`rigid_transform_3D` of common/utils/pose_utils.py) and `Human36M.evaluate` of 3DMPPE_ROOTNET_RELEASE (MRPE).
Protocol 1: subject 11, errors after a rigid (rotation + translation, no scale: the release's rigid_align)
alignment of the root-centred prediction to the root-centred ground truth (PA-MPJPE). Protocol 2: subjects 9
and 11, root-centred errors (MPJPE). Test frames: every 64th (frame_idx % 64 == 0). Scored joints: the 17
Human3.6M joints (the appended Thorax, index 17, is left out). Units: mm.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SUBJECTS = {1: (11,), 2: (9, 11)}
SAMPLING = 64
ROOT = 0
EVAL_JOINTS = tuple(range(17))
ACTIONS = (
    "Directions", "Discussion", "Eating", "Greeting", "Phoning", "Posing", "Purchases", "Sitting", "SittingDown",
    "Smoking", "Photo", "Waiting", "Walking", "WalkDog", "WalkTogether",
)  # fmt: skip  # action_idx 2..16 of the file names (act_02 .. act_16)


def check_protocol(protocol: int) -> None:
    """ValueError unless `protocol` is 1 or 2."""
    if protocol not in SUBJECTS:
        raise ValueError(f"Human3.6M protocol must be 1 or 2, got {protocol!r}")


def rigid_align(pred_mm: np.ndarray, gt_mm: np.ndarray) -> np.ndarray:
    """Rotate and translate `pred_mm` [J, 3] onto `gt_mm` [J, 3] (least squares, Kabsch, reflection
    corrected), port of pose_utils.rigid_align: no scale, as the release computes PA-MPJPE."""
    pred_mm = np.asarray(pred_mm, dtype=np.float64)
    gt_mm = np.asarray(gt_mm, dtype=np.float64)
    centroid_pred, centroid_gt = pred_mm.mean(axis=0), gt_mm.mean(axis=0)
    covariance = (pred_mm - centroid_pred).T @ (gt_mm - centroid_gt)
    u, _, v = np.linalg.svd(covariance)  # numpy's v is V^T, as in the original
    rotation = v.T @ u.T
    if np.linalg.det(rotation) < 0:
        v[2] = -v[2]
        rotation = v.T @ u.T
    translation = centroid_gt - rotation @ centroid_pred
    aligned: np.ndarray = (rotation @ pred_mm.T).T + translation
    return aligned


def joint_errors(pred_mm: np.ndarray, gt_mm: np.ndarray, protocol: int) -> np.ndarray:
    """Per-joint errors [17] mm of one sample: both centred on the root, rigidly aligned for protocol 1,
    Thorax dropped. pred_mm, gt_mm: [18, 3] (or [17, 3]) camera mm."""
    check_protocol(protocol)
    pred = np.asarray(pred_mm, dtype=np.float64) - pred_mm[ROOT]
    gt = np.asarray(gt_mm, dtype=np.float64) - gt_mm[ROOT]
    if protocol == 1:
        pred = rigid_align(pred, gt)
    eval_joints = list(EVAL_JOINTS)
    return np.asarray(np.sqrt(np.sum((pred[eval_joints] - gt[eval_joints]) ** 2, axis=1)))


@dataclass(frozen=True)
class H36mScores:
    """Protocol result: `error_mm` the mean over samples and joints (PA-MPJPE for protocol 1, MPJPE for 2),
    `per_action_mm` the same per action (NaN for an action without samples), `samples` the sample count."""

    protocol: int
    error_mm: float
    per_action_mm: dict[str, float]
    samples: int

    @property
    def metric(self) -> str:
        """'PA-MPJPE' or 'MPJPE'."""
        return "PA-MPJPE" if self.protocol == 1 else "MPJPE"


def score_samples(errors_mm: np.ndarray, action_indices: Sequence[int], protocol: int) -> H36mScores:
    """H36mScores of per-sample joint errors [N, 17] mm and each sample's action_idx (2..16)."""
    errors_mm = np.asarray(errors_mm, dtype=np.float64).reshape(-1, len(EVAL_JOINTS))
    actions = np.asarray(action_indices, dtype=int) - 2
    per_action = {}
    for index, name in enumerate(ACTIONS):
        chosen = errors_mm[actions == index]
        per_action[name] = float(chosen.mean()) if chosen.size else float("nan")
    total = float(errors_mm.mean()) if errors_mm.size else float("nan")
    return H36mScores(protocol, total, per_action, len(errors_mm))


@dataclass(frozen=True)
class Mrpe:
    """RootNet's mean root position error, mm: total (Euclidean) and per axis (absolute), over `samples`."""

    total_mm: float
    x_mm: float
    y_mm: float
    z_mm: float
    samples: int


def mrpe(pred_roots_mm: np.ndarray, gt_roots_mm: np.ndarray) -> Mrpe:
    """MRPE of predicted roots [N, 3] against ground-truth roots [N, 3] (camera mm), as RootNet's evaluate."""
    squared = (np.asarray(pred_roots_mm, dtype=np.float64) - np.asarray(gt_roots_mm, dtype=np.float64)) ** 2
    squared = squared.reshape(-1, 3)
    if not len(squared):
        return Mrpe(float("nan"), float("nan"), float("nan"), float("nan"), 0)
    x, y, z = (float(np.mean(np.sqrt(squared[:, axis]))) for axis in range(3))
    return Mrpe(float(np.mean(np.sqrt(squared.sum(axis=1)))), x, y, z, len(squared))
