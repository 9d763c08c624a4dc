"""TrackerSettings: every tunable of the tracker and its smoothing, each with its default and valid range.

Names carry their units (_s seconds, _m metres, _hz Hertz, _mps metres per second, _mps2 m/s^2); the
node's parameter table can be generated from SETTING_RANGES and the dataclass defaults.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from mppe_ros.settings import check_settings, setting


def _setting(default: Any, low: float, high: float, doc: str) -> Any:
    """A mppe_ros.settings field (one validator for every settings type) with its inclusive range."""
    return setting(default, doc, bounds=(low, high))


@dataclass(frozen=True)
class TrackerSettings:
    """Settings of Tracker (association, Kalman filter, track life) and of its One-Euro smoothing.

    Every field is validated against its range (inclusive) in SETTING_RANGES; see each field's metadata["doc"].

    Raises:
        ValueError: a value outside its range, of the wrong type, or low_score_threshold > high_score_threshold.
    """

    min_hits: int = _setting(3, 1, 100, "frames a tentative track must be measured in before it is confirmed")
    max_age_s: float = _setting(1.5, 0.0, 60.0, "a track not measured for longer than this (s, stamps) is deleted")
    high_score_threshold: float = _setting(
        0.5, 0.0, 1.0, "detections scoring at least this are matched first and may start tracks"
    )
    low_score_threshold: float = _setting(
        0.1, 0.0, 1.0, "detections below this are ignored; between the thresholds they only continue tracks"
    )
    iou_weight: float = _setting(
        0.6, 0.0, 1.0, "share of 2D box overlap (1 - IoU) in the association cost; the rest is the 3D gate distance"
    )
    gate_across_ray_m: float = _setting(0.6, 0.01, 10.0, "3D gate half-width across the camera ray, m")
    gate_along_ray_m: float = _setting(0.5, 0.01, 10.0, "3D gate half-length along the camera ray at zero depth, m")
    gate_along_ray_per_depth: float = _setting(
        0.25, 0.0, 5.0, "growth of the along-ray gate per metre of depth (m/m): RootNet's error grows with depth"
    )
    gate_growth_mps: float = _setting(
        1.0, 0.0, 10.0, "growth of both gate sizes per second since the track was last measured, m/s"
    )
    accel_noise_mps2: float = _setting(
        0.5, 0.01, 100.0, "Kalman process noise: std of the unmodelled root acceleration, m/s^2 (white noise)"
    )
    measurement_across_ray_m: float = _setting(0.05, 0.001, 5.0, "Kalman measurement noise std across the ray, m")
    measurement_along_ray_per_depth: float = _setting(
        0.1, 0.001, 2.0, "Kalman measurement noise std along the ray per metre of depth (m/m)"
    )
    smoothing: bool = _setting(
        True, 0, 1, "publish the Kalman root and One-Euro smoothed joints (false: the raw measurements)"
    )
    smoothing_min_cutoff_hz: float = _setting(1.0, 0.01, 100.0, "One-Euro cutoff at zero speed (3D and 2D joints), Hz")
    smoothing_beta: float = _setting(5.0, 0.0, 1000.0, "One-Euro beta of the root-relative 3D joints, Hz per m/s")
    smoothing_beta_px: float = _setting(0.01, 0.0, 100.0, "One-Euro beta of the 2D joints, Hz per px/s")
    smoothing_d_cutoff_hz: float = _setting(1.0, 0.01, 100.0, "One-Euro cutoff of its speed estimate, Hz")
    smoothing_reset_gap_s: float = _setting(
        0.5, 0.0, 60.0, "a track measured again after a gap longer than this (s) is re-found: its filters restart"
    )

    def __post_init__(self) -> None:
        check_settings(self)
        if self.low_score_threshold > self.high_score_threshold:
            raise ValueError(
                f"TrackerSettings.low_score_threshold ({self.low_score_threshold}) must not exceed "
                f"high_score_threshold ({self.high_score_threshold})"
            )


SETTING_RANGES: dict[str, tuple[float, float]] = {
    f.name: f.metadata["range"] for f in dataclasses.fields(TrackerSettings)
}
