"""Scores of the tracking benchmark: MOT metrics (py-motmetrics) and the jitter and lag of the smoothing.

MOT: a hypothesis (confirmed track, its measured box) matches a true person when their box IoU >= 0.5 (the
MOTChallenge criterion); IDF1, MOTA and ID switches are motmetrics' (CLEAR MOT and identity metrics).
Jitter: RMS over joints and frames of the second difference of the joint positions (mm, or px in 2D) along a
track. Lag: the time shift of the truth (ms) that minimises the RMS error of the estimate against the shifted
truth; the lag smoothing adds is that of the smoothed joints minus that of the raw ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import motmetrics
import numpy as np

from mppe_ros.bench.tracking_scenes import Walker
from mppe_ros.tracking.association import box_iou

MATCH_IOU = 0.5
LAG_SHIFTS_MS = np.arange(-100.0, 300.1, 2.5)  # time shifts of the truth searched for the lag


@dataclass(frozen=True, eq=False)
class Segment:
    """One true person followed by one track over consecutive measured frames.

    Attributes: walker (the truth), stamps_s [N] s, raw_m / smoothed_m [N, J, 3] m, raw_px / smoothed_px [N, J, 2] px.
    """

    walker: Walker
    stamps_s: np.ndarray
    raw_m: np.ndarray
    smoothed_m: np.ndarray
    raw_px: np.ndarray
    smoothed_px: np.ndarray


def new_accumulator() -> motmetrics.MOTAccumulator:
    """A motmetrics accumulator for one scene."""
    return motmetrics.MOTAccumulator(auto_id=True)


def add_frame(accumulator: motmetrics.MOTAccumulator, truth_ids: list[int], truth_boxes: np.ndarray,
              track_ids: list[int], track_boxes: np.ndarray) -> None:  # fmt: skip
    """Record one frame: true ids and boxes [T, 4] px, hypothesis (track) ids and boxes [H, 4] px."""
    iou = box_iou(np.reshape(truth_boxes, (-1, 4)), np.reshape(track_boxes, (-1, 4)))
    accumulator.update(truth_ids, track_ids, np.where(iou >= MATCH_IOU, 1.0 - iou, np.nan))


def mot_summary(accumulators: list[motmetrics.MOTAccumulator]) -> dict[str, float]:
    """IDF1, MOTA, ID switches (total and per 1,000 person-frames) etc. over scenes' accumulators together."""
    names = [str(i) for i in range(len(accumulators))]
    metrics = ["idf1", "mota", "num_switches", "num_objects", "num_false_positives", "num_misses"]
    overall = (
        motmetrics.metrics.create()
        .compute_many(accumulators, metrics=metrics, names=names, generate_overall=True)
        .loc["OVERALL"]
    )
    person_frames = int(overall["num_objects"])
    return {
        "idf1": float(overall["idf1"]),
        "mota": float(overall["mota"]),
        "id_switches": int(overall["num_switches"]),
        "person_frames": person_frames,
        "id_switches_per_1000_person_frames": 1000.0 * int(overall["num_switches"]) / max(person_frames, 1),
        "false_positives": int(overall["num_false_positives"]),
        "misses": int(overall["num_misses"]),
    }


def _second_differences(series: np.ndarray) -> np.ndarray:
    """[N - 2, J] norms of the second differences of a [N, J, D] series."""
    return np.linalg.norm(series[2:] - 2.0 * series[1:-1] + series[:-2], axis=-1)


def jitter(segments: list[Segment], field: str, scale: float = 1.0) -> float:
    """RMS second difference of `field` (raw_m, smoothed_m, raw_px, smoothed_px, truth_m) over segments, x scale."""
    parts = []
    for seg in segments:
        series = seg.walker.joints_m(seg.stamps_s) if field == "truth_m" else getattr(seg, field)
        if len(series) >= 3:
            parts.append(_second_differences(series).ravel())
    values = np.concatenate(parts) if parts else np.zeros(0)
    return float(np.sqrt(np.mean(values**2)) * scale) if values.size else float("nan")


def lag_ms(segments: list[Segment], field: str) -> float:
    """The time shift of the truth (ms, in LAG_SHIFTS_MS) that minimises `field`'s RMS 3D error, all segments."""
    squared_error = np.zeros(len(LAG_SHIFTS_MS))
    for seg in segments:
        times_s = (seg.stamps_s[None, :] - LAG_SHIFTS_MS[:, None] / 1000.0).ravel()  # [S * N], every shift at once
        truth = seg.walker.joints_m(times_s).reshape(len(LAG_SHIFTS_MS), *getattr(seg, field).shape)
        squared_error += np.sum((getattr(seg, field)[None] - truth) ** 2, axis=(1, 2, 3))
    return float(LAG_SHIFTS_MS[int(np.argmin(squared_error))]) if segments else float("nan")
