"""The node's /diagnostics status, laid out as diagnostic_updater publishes it (built here, not published).

`DiagnosticsReporter.report` turns the NodeStats counters and FrameTimings of one period (between
two reports, on the ROS clock time the caller passes) into a diagnostic_msgs/DiagnosticArray with
one DiagnosticStatus, as diagnostic_updater.Updater names it: name "<node name>: <task>",
hardware_id the inference device, level OK/WARN/ERROR (bytes), message = every problem, worst
first, joined by "; " (DiagnosticStatusWrapper.mergeSummary), values KeyValue strings ("%f" / "%d";
the output rate under FrequencyStatus's keys). rqt_robot_monitor and diagnostic_aggregator read it.

Levels (thresholds: the NodeSettings diagnostics_* parameters):
- ERROR: the inference thread is not alive; median latency > diagnostics_error_latency_s.
- WARN: median latency > diagnostics_warn_latency_s; pairs arrived but results were published at
  less than diagnostics_min_output_hz; no synchronized pair for diagnostics_no_input_s while active
  (measured at the reports' resolution); bad input, pipeline errors, images dropped without a
  CameraInfo or (detector topic) without detections in the period; detections that matched no image are
  counted in the values only. Images answered with a cached CameraInfo ("CameraInfo reused") are
  counted in the values only: the frame was answered.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from dataclasses import dataclass

from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue

from mppe_ros.ros.frames import FrameTiming, FrameTimings, NodeStats
from mppe_ros.ros.node_settings import NodeSettings

TASK = "pose estimation"
OK, WARN, ERROR = DiagnosticStatus.OK, DiagnosticStatus.WARN, DiagnosticStatus.ERROR  # levels, bytes
# NodeStats counters of bad frames -> their label in the values and the message
BAD_FRAMES = {
    "unsupported_encoding": "Unsupported encoding",
    "bad_image": "Bad image",
    "bad_camera_info": "Bad camera_info",
    "pipeline_errors": "Pipeline errors",
    "images_without_camera_info": "Images without camera_info",
    "no_transform": "No transform",
    "images_without_detections": "Images without detections",
}
COUNTERS = (
    "images_received",
    "camera_infos_received",
    "pairs_received",
    "frames_processed",
    "frames_skipped",
    "camera_info_reused",
    "detections_received",
    "detections_unmatched",
    *BAD_FRAMES,
)


@dataclass(frozen=True)
class _Snapshot:
    """The counters at one report: ROS time (s), NodeStats counters, FrameTimings.recorded."""

    time_s: float
    counters: dict[str, int]
    timings_recorded: int


@dataclass(frozen=True)
class _Period:
    """What happened between two reports: duration (s), counter increments, timings of the published frames."""

    duration_s: float
    new: dict[str, int]
    timings: list[FrameTiming]

    def rate_hz(self, counter: str) -> float:
        """Increments of `counter` per second over the period (0 for an empty period)."""
        return self.new[counter] / self.duration_s if self.duration_s > 0 else 0.0

    def median_s(self, name: str) -> float:
        """Median of the finite FrameTiming field `name` over the period, s (nan without one)."""
        values = [value for timing in self.timings if math.isfinite(value := getattr(timing, name))]
        return statistics.median(values) if values else math.nan


class DiagnosticsReporter:
    """Builds the node's DiagnosticArray from one report to the next (pure: no node, publisher or timer).

    Args:
        node_name: the node's name as diagnostic_updater prefixes it (Node.get_name()).
        hardware_id: the inference device, e.g. "cpu" or "cuda:0".
        task: the status name after "<node name>: ".
    """

    def __init__(self, node_name: str, hardware_id: str, task: str = TASK) -> None:
        self.name, self.hardware_id = f"{node_name}: {task}", hardware_id
        self._previous: _Snapshot | None = None
        self._pair_seen_s = 0.0  # ROS time of the report that last saw a new pair (or of the reset)

    def reset(self, stats: NodeStats, timings: FrameTimings, now_s: float) -> None:
        """Start the first period at `now_s` (ROS time, s): call when the node becomes active."""
        self._start(stats, timings, now_s)

    def _start(self, stats: NodeStats, timings: FrameTimings, now_s: float) -> _Snapshot:
        self._previous = _Snapshot(now_s, _counters(stats), timings.recorded)
        self._pair_seen_s = now_s
        return self._previous

    def report(
        self,
        stats: NodeStats,
        timings: FrameTimings,
        settings: NodeSettings,
        now_s: float,
        *,
        worker_alive: bool,
        tracks: int,
        precision: str,
        active: bool = True,
        extra: Mapping[str, str] | None = None,
    ) -> DiagnosticArray:
        """The status of the period since the previous report (or reset) up to `now_s`.

        Args:
            stats, timings: the node's counters and FrameHandler.timings.
            settings: the thresholds (diagnostics_* parameters).
            now_s: the node clock's time, s (the clock of FrameHandler.ros_time_s).
            worker_alive: whether the inference thread runs.
            tracks: number of confirmed tracks (0 when tracking is off).
            precision: the networks' precision in use (e.g. "fp32", "fp16").
            active: the node processes input (lifecycle active); no-input is only a problem then.
            extra: more values (key -> string), appended after the standard ones.

        A first report without reset, or a clock that went back, starts a new, empty period.
        """
        previous = self._previous
        if previous is None or now_s < previous.time_s:
            previous = self._start(stats, timings, now_s)
        recorded, recent = timings.since(previous.timings_recorded)
        self._previous = _Snapshot(now_s, _counters(stats), recorded)
        new = {name: self._previous.counters[name] - previous.counters[name] for name in COUNTERS}
        period = _Period(now_s - previous.time_s, new, recent)
        if period.new["pairs_received"] > 0:
            self._pair_seen_s = now_s
        silent_s = now_s - self._pair_seen_s
        problems = _problems(period, settings, worker_alive, active, silent_s)
        status = DiagnosticStatus(name=self.name, hardware_id=self.hardware_id)
        status.level = max((level for level, _ in problems), default=OK)
        status.message = "; ".join(text for _, text in problems) or _ok_message(period, active)
        values = _values(period, stats, silent_s, settings) + [
            ("Device", self.hardware_id),
            ("Precision", precision),
            ("Confirmed tracks", f"{tracks:d}"),
            ("Inference thread alive", str(bool(worker_alive))),
            ("Active", str(bool(active))),
            *(extra or {}).items(),
        ]
        status.values = [KeyValue(key=key, value=value) for key, value in values]
        array = DiagnosticArray(status=[status])
        now_ns = round(now_s * 1e9)
        array.header.stamp = Time(sec=now_ns // 1_000_000_000, nanosec=now_ns % 1_000_000_000)
        return array


def _counters(stats: NodeStats) -> dict[str, int]:
    return {name: getattr(stats, name) for name in COUNTERS}


def _problems(
    period: _Period, settings: NodeSettings, worker_alive: bool, active: bool, silent_s: float
) -> list[tuple[bytes, str]]:
    """(level, text) of every problem of the period, errors first."""
    error_s, warn_s = settings.diagnostics_error_latency_s, settings.diagnostics_warn_latency_s
    latency_s, output_hz = period.median_s("latency_s"), period.rate_hz("frames_processed")
    latency = f"median latency {latency_s:.3g} s (capture stamp to publication) >"
    bad = [f"{period.new[name]} {label.lower()}" for name, label in BAD_FRAMES.items() if period.new[name] > 0]
    checks = [
        (not worker_alive, ERROR, "inference thread stopped: no frame is answered any more (restart the node)"),
        (latency_s > error_s, ERROR, f"{latency} {error_s:g} s (diagnostics_error_latency_s)"),
        (error_s >= latency_s > warn_s, WARN, f"{latency} {warn_s:g} s (diagnostics_warn_latency_s)"),
        (
            period.new["pairs_received"] > 0 and output_hz < settings.diagnostics_min_output_hz,
            WARN,
            f"publishing {output_hz:.3g} Hz < {settings.diagnostics_min_output_hz:g} Hz (diagnostics_min_output_hz) "
            f"while synchronized pairs arrive at {period.rate_hz('pairs_received'):.3g} Hz",
        ),
        (
            active and silent_s >= settings.diagnostics_no_input_s,
            WARN,
            f"no synchronized pair for {silent_s:.3g} s (diagnostics_no_input_s {settings.diagnostics_no_input_s:g} "
            f"s): images {period.rate_hz('images_received'):.3g} Hz, "
            f"camera_infos {period.rate_hz('camera_infos_received'):.3g} Hz",
        ),
        (bool(bad), WARN, f"frames skipped in the last {period.duration_s:.3g} s: {', '.join(bad)}"),
    ]
    return [(level, text) for failed, level, text in checks if failed]


def _ok_message(period: _Period, active: bool) -> str:
    if not active:
        return "inactive: not processing input"
    return (
        f"{period.rate_hz('frames_processed'):.3g} Hz published from {period.rate_hz('pairs_received'):.3g} Hz "
        f"synchronized pairs, median latency {period.median_s('latency_s'):.3g} s"
    )


def _values(period: _Period, stats: NodeStats, silent_s: float, settings: NodeSettings) -> list[tuple[str, str]]:
    """The rates, timings and counters as (key, string) pairs, FrequencyStatus's keys for the output."""
    values = [
        ("Events in window", f"{period.new['frames_processed']:d}"),
        ("Events since startup", f"{stats.frames_processed:d}"),
        ("Duration of window (s)", f"{period.duration_s:f}"),
        ("Actual frequency (Hz)", f"{period.rate_hz('frames_processed'):f}"),
        ("Minimum acceptable frequency (Hz)", f"{settings.diagnostics_min_output_hz:f}"),
        ("Image frequency (Hz)", f"{period.rate_hz('images_received'):f}"),
        ("CameraInfo frequency (Hz)", f"{period.rate_hz('camera_infos_received'):f}"),
        ("Synchronized pair frequency (Hz)", f"{period.rate_hz('pairs_received'):f}"),
        ("Median processing time (s)", f"{period.median_s('processing_s'):f}"),
        ("Median latency (s)", f"{period.median_s('latency_s'):f}"),
        ("Timed frames in window", f"{len(period.timings):d}"),
        ("Time since last synchronized pair (s)", f"{silent_s:f}"),
        ("Skipped frames in window", f"{period.new['frames_skipped']:d}"),
        ("Skipped frames since startup", f"{stats.frames_skipped:d}"),
        ("CameraInfo reused in window", f"{period.new['camera_info_reused']:d}"),
        ("CameraInfo reused since startup", f"{stats.camera_info_reused:d}"),
        ("Detections received in window", f"{period.new['detections_received']:d}"),
        ("Detections unmatched in window", f"{period.new['detections_unmatched']:d}"),
        ("Detections unmatched since startup", f"{stats.detections_unmatched:d}"),
    ]
    for name, label in BAD_FRAMES.items():
        values += [
            (f"{label} in window", f"{period.new[name]:d}"),
            (f"{label} since startup", f"{getattr(stats, name):d}"),
        ]
    return values
