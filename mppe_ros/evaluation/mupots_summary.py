"""The MuPoTS-3D tables: per sequence and in total, from the per-joint errors of mupots_protocol.

Per sequence the numbers are those of the official script's CSV files (mpii_compute_3d_pck.m 'Total' column for
3DPCK and AUC, the visibility-mask tables for visible and occluded joints). The MuPoTS script itself writes only
the sequence rows; the total here pools every evaluated person of every sequence before counting, as the 'All' row
of the MPI-INF-3DHP util's `mpii_evaluate_errors.m` does: sequences with more people weigh more, so it is not the
plain mean of the sequence values (mean_of_sequences gives that one for comparison).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from mppe_ros.evaluation.mupots_protocol import SequenceErrors, masked_pck, pck_auc

TOTAL = "Total"


@dataclass(frozen=True)
class SequenceScore:
    """The scores of one sequence (name `TS<n>`) or of all of them (name `Total`).

    Attributes:
        persons: evaluated persons (all annotated ones, or only the matched ones).
        annotated, undetected: valid annotations, and of them the ones no prediction matched.
        pck, auc: 3DPCK@150 mm and AUC 0..150 mm over the 14 scored joints, %.
        pck_groups, auc_groups: the same per joint group (mupots_protocol.JOINT_GROUPS), %.
        pck_visible, pck_occluded: 3DPCK over the visible / occluded joints (joints 1..14), %.
        visible_joints, occluded_joints: how many joints each of those counts.
    """

    name: str
    persons: int
    annotated: int
    undetected: int
    pck: float
    auc: float
    pck_groups: dict[str, float]
    auc_groups: dict[str, float]
    pck_visible: float
    pck_occluded: float
    visible_joints: int
    occluded_joints: int


def score(name: str, errors_mm: np.ndarray, occluded: np.ndarray, annotated: int, undetected: int) -> SequenceScore:
    """SequenceScore of [N, 17] errors (mm) and occlusion labels."""
    pck, auc = pck_auc(errors_mm)
    pck_visible, visible = masked_pck(errors_mm, ~occluded)
    pck_occluded, occluded_count = masked_pck(errors_mm, occluded)
    return SequenceScore(
        name=name,
        persons=len(errors_mm),
        annotated=annotated,
        undetected=undetected,
        pck=pck.pop("Total"),
        auc=auc.pop("Total"),
        pck_groups=pck,
        auc_groups=auc,
        pck_visible=pck_visible,
        pck_occluded=pck_occluded,
        visible_joints=visible,
        occluded_joints=occluded_count,
    )


def summarize(collected: Mapping[int, SequenceErrors]) -> list[SequenceScore]:
    """One SequenceScore per sequence (in sequence order), then the pooled Total."""
    rows = []
    all_errors, all_occluded = [], []
    for sequence in sorted(collected):
        errors, occluded = collected[sequence].arrays()
        all_errors.append(errors)
        all_occluded.append(occluded)
        item = collected[sequence]
        rows.append(score(f"TS{sequence}", errors, occluded, item.annotated, item.undetected))
    annotated = sum(item.annotated for item in collected.values())
    undetected = sum(item.undetected for item in collected.values())
    errors = np.concatenate(all_errors) if all_errors else np.zeros((0, 17))
    occluded = np.concatenate(all_occluded) if all_occluded else np.zeros((0, 17), dtype=bool)
    rows.append(score(TOTAL, errors, occluded, annotated, undetected))
    return rows


def mean_of_sequences(rows: list[SequenceScore]) -> float:
    """The plain mean of the sequences' 3DPCK (%, sequences without an evaluated person left out): reported
    beside the Total for comparison with papers that average sequences."""
    values = [row.pck for row in rows if row.name != TOTAL and row.persons]
    return float(np.mean(values)) if values else float("nan")
