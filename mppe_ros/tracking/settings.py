"""TrackerSettings and DetectionScheduleSettings: every tunable of the tracker, its smoothing and the detector schedule.

Each field is a mppe_ros.settings `setting()`: its default, inclusive range, one-sentence doc with the unit, and
whether the node may change it while running (run_time). Names carry their units (_s seconds, _m metres, _hz
Hertz, _mps2 m/s^2, _px pixels). Both are passed per call (Tracker.update, DetectionSchedule.plan,
CameraSession): run-time tracker fields apply from that frame on; the others shape each track's filters when it is born.
The defaults were chosen on python -m mppe_ros.bench.tracking (docs/benchmarks/cpu-xeon-spr-2core-tracking.md).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import ClassVar

from mppe_ros.settings import DetectionSettings, Rule, check_settings, setting


@dataclass(frozen=True)
class TrackerSettings:
    """Settings of Tracker (track life, association, the root's Kalman filters) and of its One-Euro smoothing.

    Raises:
        ValueError: a value outside its range, of the wrong type, low_score_threshold > high_score_threshold, or
            association weights that are all zero.
    """

    min_hits: int = setting(
        3, "frames a tentative track must be measured in before it is confirmed", bounds=(1, 100), run_time=True
    )
    max_age_s: float = setting(
        2.5, "a track not measured for longer than this (s, stamps) is deleted", bounds=(0.0, 60.0), run_time=True
    )
    high_score_threshold: float = setting(
        0.5, "detections scoring at least this are matched first and may start tracks", bounds=(0.0, 1.0),
        run_time=True,
    )  # fmt: skip
    low_score_threshold: float = setting(
        0.1, "detections below this are ignored; between the thresholds they only continue confirmed tracks",
        bounds=(0.0, 1.0), run_time=True,
    )  # fmt: skip
    iou_weight: float = setting(
        0.2, "weight of 2D box overlap (1 - IoU with the predicted box) in the association cost", bounds=(0.0, 1.0),
        run_time=True,
    )  # fmt: skip
    layout_weight: float = setting(
        0.2, "weight of the 2D joint layout (1 - OKS of root-relative joints) in the association cost",
        bounds=(0.0, 1.0), run_time=True,
    )  # fmt: skip
    gate_weight: float = setting(
        0.3, "weight of the 3D root distance (Mahalanobis / gate_sigmas) in the association cost", bounds=(0.0, 1.0),
        run_time=True,
    )  # fmt: skip
    size_weight: float = setting(
        0.3, "weight of the box height difference (|ln ratio| / size_tolerance, at most 1) in the association cost",
        bounds=(0.0, 1.0), run_time=True,
    )  # fmt: skip
    max_cost: float = setting(
        0.65, "a track and a detection whose association cost (weighted mean, 0-1) exceeds this are not matched",
        bounds=(0.0, 1.0), run_time=True,
    )  # fmt: skip
    gate_sigmas: float = setting(
        4.0, "3D gate: largest Mahalanobis distance of a measured root from a track's predicted one",
        bounds=(0.1, 100.0), run_time=True,
    )  # fmt: skip
    layout_sigma: float = setting(
        0.1, "OKS spread of a joint, as a fraction of the square root of the track's box area", bounds=(0.001, 10.0),
        run_time=True,
    )  # fmt: skip
    size_tolerance: float = setting(
        0.2, "box height difference |ln(height / track height)| at which the size cost is full", bounds=(0.01, 10.0),
        run_time=True,
    )  # fmt: skip
    accel_noise_mps2: float = setting(
        2.0, "association filter: std of the unmodelled root acceleration, m/s^2 (white noise)", bounds=(0.01, 100.0)
    )
    velocity_time_s: float = setting(
        0.3, "association filter: time constant of the velocity's decay between measurements, s (1000: constant)",
        bounds=(0.01, 1000.0),
    )  # fmt: skip
    measurement_across_ray_m: float = setting(
        0.03, "measurement noise std of a root across the camera ray, m (both filters)", bounds=(0.001, 5.0)
    )
    measurement_along_ray_per_depth: float = setting(
        0.1, "measurement noise std of a root along the ray per metre of depth (m/m): the smoothing filter's, and "
        "where the association filter's own estimate starts", bounds=(0.001, 2.0),
    )  # fmt: skip
    along_ray_adapt_s: float = setting(
        2.0, "association filter: averaging time of its along-ray noise estimate from its innovations, s "
        "(0: fixed at measurement_along_ray_per_depth)", bounds=(0.0, 60.0),
    )  # fmt: skip
    along_ray_min_per_depth: float = setting(
        0.02, "association filter: floor of its along-ray noise estimate per metre of depth (m/m)", bounds=(0.0, 2.0)
    )
    smoothing: bool = setting(True, "publish the smoothed root and joints (false: the raw measurements)", run_time=True)
    smoothing_accel_noise_mps2: float = setting(
        0.5, "smoothing filter of the published root: std of the unmodelled acceleration, m/s^2 (constant velocity)",
        bounds=(0.01, 100.0),
    )  # fmt: skip
    smoothing_min_cutoff_hz: float = setting(
        1.0, "One-Euro cutoff at zero speed (3D and 2D joints), Hz", bounds=(0.01, 100.0)
    )
    smoothing_beta: float = setting(
        5.0, "One-Euro beta of the root-relative 3D joints, Hz per m/s", bounds=(0.0, 1000.0)
    )
    smoothing_beta_px: float = setting(0.01, "One-Euro beta of the 2D joints, Hz per px/s", bounds=(0.0, 100.0))
    smoothing_d_cutoff_hz: float = setting(1.0, "One-Euro cutoff of its speed estimate, Hz", bounds=(0.01, 100.0))
    smoothing_reset_gap_s: float = setting(
        0.5, "a track measured again after a gap longer than this (s) is re-found: its One-Euro filters restart",
        bounds=(0.0, 60.0), run_time=True,
    )  # fmt: skip

    RULES: ClassVar[tuple[Rule, ...]] = (
        Rule(
            ("low_score_threshold", "high_score_threshold"),
            lambda s: s.low_score_threshold <= s.high_score_threshold,
            "{} must not exceed {}",
            {"low_score_threshold": 0.8},
        ),
        Rule(
            ("iou_weight", "layout_weight", "gate_weight", "size_weight"),
            lambda s: any(w > 0.0 for w in s.association_weights),
            "at least one association weight must be > 0: {}, {}, {}, {}",
            {"iou_weight": 0.0, "layout_weight": 0.0, "gate_weight": 0.0, "size_weight": 0.0},
        ),
    )

    def __post_init__(self) -> None:
        check_settings(self)

    @property
    def association_weights(self) -> tuple[float, float, float, float]:
        """(iou_weight, layout_weight, gate_weight, size_weight), as tracking.association.association_cost takes."""
        return (self.iou_weight, self.layout_weight, self.gate_weight, self.size_weight)


@dataclass(frozen=True)
class DetectionScheduleSettings:
    """When the detector runs (mppe_ros.tracking.detection_schedule); between runs, the tracks give the boxes.

    Raises:
        ValueError: a value outside its range or of the wrong type.
    """

    detection_interval_s: float = setting(
        0.5, "run the detector when this long (s, stamps) has passed since it last ran; 0: on every frame",
        bounds=(0.0, 3600.0), run_time=True,
    )  # fmt: skip
    redetect_confidence: float = setting(
        0.3, "run the detector when a confirmed track's pose confidence (mean joint confidence, 0-1) falls below this",
        bounds=(0.0, 1.0), run_time=True,
    )  # fmt: skip
    track_box_expand: float = setting(
        1.2, "a track's crop box between detections: its last 2D joints' bounding box scaled by this about its centre, "
        "until a detector box gave the track its own scale",
        bounds=(1.0, 4.0), run_time=True,
    )  # fmt: skip

    def __post_init__(self) -> None:
        check_settings(self)


@dataclass(frozen=True)
class SessionSettings:
    """One frame's settings of a CameraSession.

    Attributes:
        detection: the detector's filtering (mppe_ros.settings.DetectionSettings).
        schedule: when the detector runs (DetectionScheduleSettings).
        tracker: association, track life, smoothing; the filters' noise of tracks born from this frame on.
        tracking: track people (False: each frame alone, id = index, the detector on every frame).
        trail_s: how long each track's root trail is, s (frame times).
    """

    detection: DetectionSettings = field(default_factory=DetectionSettings)
    schedule: DetectionScheduleSettings = field(default_factory=DetectionScheduleSettings)
    tracker: TrackerSettings = field(default_factory=TrackerSettings)
    tracking: bool = True
    trail_s: float = 2.0


SETTING_RANGES: dict[str, tuple[float, float]] = {
    f.name: f.metadata["range"] for f in dataclasses.fields(TrackerSettings) if f.metadata["range"] is not None
}
