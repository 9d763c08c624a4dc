"""The MuPoTS-3D multi-person 3D pose protocol, ported from the official MATLAB evaluation.

Ports `mpii_mupots_multiperson_eval.m` (3DMPPE_POSENET_RELEASE data/MuPoTS/) and the MuPoTS-3D `util/` functions
it calls: `mpii_multiperson_get_identity_matching.m`, `mpii_map_to_gt_bone_lengths.m`, `mpii_get_joints.m`
('relevant'), `mpii_compute_3d_pck.m` with `mpii_get_pck_auc_joint_groups.m`, and
`mpii_evaluate_multiperson_errors_visibility_mask.m`. Indices here are 0-based (MATLAB's minus one); the
MATLAB index is given beside each constant. Joints: the 17 MuPoTS joints (the first 17 MuCo-3DHP joints,
pelvis 14). Units: px for 2D, mm for 3D.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

JOINT_NUM = 17
PELVIS = 14  # MATLAB 15
# mpii_get_joints('relevant') joint_parents_o1, MATLAB [2 16 2 3 4 2 6 7 15 9 10 15 12 13 15 15 2] minus one
PARENTS = (1, 15, 1, 2, 3, 1, 5, 6, 14, 8, 9, 14, 11, 12, 14, 14, 1)
# the script's safe_traversal_order(2:end), MATLAB [16 2 1 17 3 4 5 6 7 8 9 10 11 12 13 14] minus one
TRAVERSAL_ORDER = (15, 1, 0, 16, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13)
MATCHING_JOINTS = tuple(range(1, 14))  # MATLAB matching_joints = 2:14
MATCHING_THRESHOLD_PX = 40.0
UNMATCHED_VALUE_MM = 100000.0  # the script's pred_p for a missed person: every joint counts as wrong
# mpii_get_pck_auc_joint_groups (MuPoTS-3D util): 14 scored joints; pelvis, spine and head are not scored
JOINT_GROUPS: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("Head", (0,)), ("Neck", (1,)), ("Shou", (2, 5)), ("Elbow", (3, 6)), ("Wrist", (4, 7)),
    ("Hip", (8, 11)), ("Knee", (9, 12)), ("Ankle", (10, 13)),
)  # fmt: skip
PCK_THRESHOLD_MM = 150.0
AUC_THRESHOLDS_MM = tuple(float(t) for t in range(0, 151, 5))  # MATLAB 0:5:150, 31 values
MASK_JOINTS = tuple(range(14))  # the visibility-mask tables use joints 1:14
MASK_NAN_MM = 160.0  # ..._visibility_mask.m replaces NaN errors by 160 mm


@dataclass(frozen=True)
class GroundTruthPerson:
    """One valid annotation of a frame (annot.mat `isValidFrame` 1).

    Attributes:
        joints_2d_px: [17, 2] `annot2` (u, v) px.
        joints_3d_mm: [17, 3] `univ_annot3` camera coordinates, mm (what the script scores against).
        occluded: [17] bool, occlusion.mat `occlusion_labels` (1 = occluded).
    """

    joints_2d_px: np.ndarray
    joints_3d_mm: np.ndarray
    occluded: np.ndarray


@dataclass(frozen=True)
class FramePrediction:
    """The predictions of one image: [P, 17, 2] px and [P, 17, 3] camera mm, MuPoTS joint order."""

    joints_2d_px: np.ndarray
    joints_3d_mm: np.ndarray


def frame_key(sequence: int, frame_index: int) -> str:
    """The prediction files' key of frame `frame_index` (0-based) of TS`sequence`, e.g. TS1_img_000000."""
    return f"TS{sequence}_img_{frame_index:06d}"


def identity_matching(
    gt_2d: np.ndarray, gt_visible: np.ndarray, pred_2d: np.ndarray, pred_visible: np.ndarray, threshold: float
) -> np.ndarray:
    """Greedy 2D matching, port of mpii_multiperson_get_identity_matching.m.

    Each ground-truth person in order takes the still unmatched prediction with the most joints closer than
    `threshold` px in both x and y (strict <), counted where both are visible; ties go to the first
    prediction; a score of 0 leaves the person unmatched.

    Args:
        gt_2d: [G, K, 2] px; gt_visible: [G, K] bool; pred_2d: [P, K, 2] px; pred_visible: [P, K] bool.

    Returns:
        int [G]: the matched prediction's index, -1 for none.
    """
    matching = np.full(len(gt_2d), -1, dtype=int)
    taken = np.zeros(len(pred_2d), dtype=bool)
    for i in range(len(gt_2d)):
        scores = np.zeros(len(pred_2d), dtype=int)
        for j in range(len(pred_2d)):
            if taken[j]:
                continue
            diff = np.abs(gt_2d[i] - pred_2d[j])
            close = (diff[:, 0] < threshold) & (diff[:, 1] < threshold)
            scores[j] = int(np.sum(close & gt_visible[i] & pred_visible[j]))
        if len(scores) and scores.max() > 0:
            matching[i] = int(np.argmax(scores))  # first maximum, as MATLAB's max
            taken[matching[i]] = True
    return matching


def map_to_gt_bone_lengths(pred_mm: np.ndarray, gt_mm: np.ndarray) -> np.ndarray:
    """Rescale each predicted bone to the ground truth's length, port of mpii_map_to_gt_bone_lengths.m.

    Along TRAVERSAL_ORDER, joint j is placed at its (already moved) parent plus the *original* predicted
    bone vector scaled to the ground-truth bone length; the pelvis stays. A zero-length predicted bone gives
    NaN, as in MATLAB.

    Args:
        pred_mm: [17, 3] mm; gt_mm: [17, 3] mm.

    Returns:
        float64 [17, 3] mm.
    """
    pred_mm = np.asarray(pred_mm, dtype=np.float64)
    mapped = pred_mm.copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        for joint in TRAVERSAL_ORDER:
            parent = PARENTS[joint]
            gt_length = np.linalg.norm(gt_mm[joint] - gt_mm[parent])
            bone = pred_mm[joint] - pred_mm[parent]
            mapped[joint] = mapped[parent] + bone * gt_length / np.linalg.norm(bone)
    return mapped


@dataclass
class SequenceErrors:
    """What the script collects for one sequence: per-joint errors of each evaluated person.

    Attributes:
        errors_mm: [N, 17] per-joint 3D errors of the N evaluated persons, mm.
        occluded: [N, 17] bool occlusion labels of the same persons.
        annotated: valid annotations of the sequence; undetected: of them, not matched.
    """

    errors_mm: list[np.ndarray] = field(default_factory=list)
    occluded: list[np.ndarray] = field(default_factory=list)
    annotated: int = 0
    undetected: int = 0

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """errors [N, 17] mm and occluded [N, 17] bool."""
        if not self.errors_mm:
            return np.zeros((0, JOINT_NUM)), np.zeros((0, JOINT_NUM), dtype=bool)
        return np.stack(self.errors_mm), np.stack(self.occluded)


def score_frame(
    persons: Sequence[GroundTruthPerson],
    prediction: FramePrediction,
    relative: bool,
    matched_only: bool,
    into: SequenceErrors,
) -> None:
    """The script's loop body for one frame with valid annotations: match, rescale, per-joint errors.

    relative: both poses centred on their own pelvis (else absolute camera coordinates); matched_only:
    EVALUATION_MODE 1 (a missed person is left out) instead of 0 (a missed person counts every joint wrong).
    """
    into.annotated += len(persons)
    if not persons:
        return
    joints = list(MATCHING_JOINTS)
    gt_2d = np.stack([person.joints_2d_px[joints] for person in persons])
    pred_2d = np.asarray(prediction.joints_2d_px, dtype=np.float64).reshape(-1, JOINT_NUM, 2)[:, joints]
    pred_visible = ~((pred_2d[:, :, 0] == 0) & (pred_2d[:, :, 1] == 0))
    gt_visible = np.ones(gt_2d.shape[:2], dtype=bool)
    matching = identity_matching(gt_2d, gt_visible, pred_2d, pred_visible, MATCHING_THRESHOLD_PX)
    into.undetected += int(np.sum(matching < 0))
    pred_3d = np.asarray(prediction.joints_3d_mm, dtype=np.float64).reshape(-1, JOINT_NUM, 3)
    for person, match in zip(persons, matching, strict=True):
        gt = np.asarray(person.joints_3d_mm, dtype=np.float64)
        if relative:
            gt = gt - gt[PELVIS]
        if match >= 0:
            pred = pred_3d[match] - pred_3d[match][PELVIS] if relative else pred_3d[match]
            pred = map_to_gt_bone_lengths(pred, gt)
        elif matched_only:
            continue
        else:
            pred = np.full_like(gt, UNMATCHED_VALUE_MM)
        into.errors_mm.append(np.sqrt(np.sum((pred - gt) ** 2, axis=1)))
        into.occluded.append(np.asarray(person.occluded, dtype=bool))


def score_sequences(
    ground_truth: Mapping[int, Sequence[Sequence[GroundTruthPerson]]],
    predictions: Mapping[str, FramePrediction],
    relative: bool,
    matched_only: bool,
) -> dict[int, SequenceErrors]:
    """Every frame of every sequence (sequence number -> frames -> valid persons), as the script loops.

    Frames without a valid annotation need no prediction; any other frame's key (frame_key) must be in
    `predictions` (ValueError naming the key otherwise).
    """
    collected: dict[int, SequenceErrors] = {}
    for sequence, frames in ground_truth.items():
        errors = collected[sequence] = SequenceErrors()
        for index, persons in enumerate(frames):
            if not persons:
                continue
            key = frame_key(sequence, index)
            if key not in predictions:
                raise ValueError(f"the predictions have no entry {key!r} (an image with annotated people)")
            score_frame(persons, predictions[key], relative, matched_only, errors)
    return collected


def pck_auc(errors_mm: np.ndarray) -> tuple[dict[str, float], dict[str, float]]:
    """3DPCK@150 mm and AUC (0..150 mm, step 5) in %, per joint group and 'Total', port of mpii_compute_3d_pck.m.

    A joint is correct when its error is strictly below the threshold; 'Total' weights each group by its joint
    count (so it is the fraction over the 14 scored joints). No person: NaN, as MATLAB's 0/0.

    Args:
        errors_mm: [N, 17] per-joint errors, mm.
    """
    errors_mm = np.asarray(errors_mm, dtype=np.float64).reshape(-1, JOINT_NUM)
    frames = len(errors_mm)
    pck: dict[str, float] = {}
    auc: dict[str, float] = {}
    total_curve = np.zeros(len(AUC_THRESHOLDS_MM))
    total_pck = 0.0
    joint_count = 0
    with np.errstate(invalid="ignore", divide="ignore"):
        for name, joints in JOINT_GROUPS:
            group = errors_mm[:, list(joints)]
            curve = np.array([np.sum(group < t) for t in AUC_THRESHOLDS_MM]) / np.float64(len(joints) * frames)
            pck[name] = float(100 * np.sum(group < PCK_THRESHOLD_MM) / np.float64(len(joints) * frames))
            auc[name] = float(100 * curve.sum() / len(AUC_THRESHOLDS_MM))
            total_curve += curve * len(joints)
            total_pck += pck[name] * len(joints)
            joint_count += len(joints)
    pck["Total"] = total_pck / joint_count
    auc["Total"] = float(100 * (total_curve / joint_count).sum() / len(AUC_THRESHOLDS_MM))
    return pck, auc


def masked_pck(errors_mm: np.ndarray, mask: np.ndarray) -> tuple[float, int]:
    """3DPCK in % over the joints where `mask` holds, and their count: the 'Total' column of
    mpii_evaluate_multiperson_errors_visibility_mask.m (joints 1:14; NaN errors count as 160 mm; correct when
    the error is not above 150 mm). No such joint: NaN.

    Args:
        errors_mm: [N, 17] mm; mask: [N, 17] bool.
    """
    joints = list(MASK_JOINTS)
    errors = np.nan_to_num(np.asarray(errors_mm, dtype=np.float64).reshape(-1, JOINT_NUM)[:, joints], nan=MASK_NAN_MM)
    weights = np.asarray(mask, dtype=np.float64).reshape(-1, JOINT_NUM)[:, joints]
    count = int(weights.sum())
    wrong = np.sum((errors * weights) > PCK_THRESHOLD_MM)
    return (float(100 * (1 - wrong / count)) if count else float("nan")), count
