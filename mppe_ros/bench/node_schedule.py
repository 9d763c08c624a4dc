"""`mppe-ros bench --node-schedule`: the node's results per second and latency with the detector on every frame
(`detection_interval_s` 0) against the detector schedule (`detection_interval_s` > 0), measured in the same run.

Every configuration (persons x detection_interval_s) is a fresh MppeNode over DDS on loopback, fed as
mppe_ros.bench.node.run feeds it: 640x480 bgr8 pairs (the first of --sizes) at 30 Hz for --node-seconds s
from a reliable publisher; tracking on (the default); PoseNet and RootNet with seeded trained-like weights
in the first of --precision (default: bf16 on a CPU with native bfloat16, else fp32).

The detector is a SceneDetector: the real torchvision network (--node-detector, default
fasterrcnn_mobilenet_v3_large_320_fpn at --node-detector-min-size 320 px, seeded random weights in torchvision's
format) runs on every frame the schedule gives it, so its time is real, and the scene's person boxes are
returned instead of its output (untrained weights find nobody, and the benchmark downloads nothing).
Between detections the node crops where its confirmed tracks are (mppe_ros.tracking.detection_schedule); with
untrained PoseNet weights those tracks' joints are not a person's, so a track can be lost and the detector
run earlier than the interval: `detector_runs` and `track_crops` say how often each happened. Their pose
confidences are also far below a trained model's, so redetect_confidence is 0 here (as in the node tests):
a trained model re-detects early only when its tracks' poses are unsure.

The configurations run in interleaved rounds (--node-rounds, each configuration once per round) so that a
change of the machine's load reaches all of them alike. Per configuration: results/s (results received /
seconds published), the median publish-to-result latency, and both as ratios to detection_interval_s 0
with the same persons (the mean over rounds of the ratio within a round). Writes node_schedule.json and .md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from mppe_ros.detection import DetectionSettings, TorchvisionPersonDetector

SCHEMA = "mppe_ros.node_schedule/1"
SCENE_SCORE = 0.99
GOAL_RESULTS_PER_S = 4.0  # issue 13: 2 persons, 2 cores with native bf16
GOAL_LATENCY_S = 0.4


class SceneDetector:
    """A PersonDetector with a real detector's cost and the scene's answer (see the module docstring).

    Args:
        model_name: a key of mppe_ros.detection.DETECTOR_MODELS.
        min_size_px: the detector's shorter image side, px.
        boxes_xywh_px: [N, 4] the scene's person boxes (x, y, w, h), px, returned by every call.
        weights_folder: where the seeded random weights file is written (once).
    """

    def __init__(self, model_name: str, min_size_px: int, boxes_xywh_px: np.ndarray, weights_folder: Path) -> None:
        from mppe_ros.bench.detectors import random_weights_file

        weights = random_weights_file(model_name, weights_folder)
        self.detector = TorchvisionPersonDetector(model_name, weights_path=weights, min_size_px=min_size_px)
        self.boxes_xywh_px = np.asarray(boxes_xywh_px, dtype=np.float64)
        self.seconds: list[float] = []  # wall time of each call, s

    def __call__(
        self, image_bgr: np.ndarray, settings: DetectionSettings | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Run the network on `image_bgr` (uint8 [H, W, 3]); return the scene's boxes [N, 4] px and scores [N]."""
        start_s = time.perf_counter()
        self.detector(image_bgr, settings)
        self.seconds.append(time.perf_counter() - start_s)
        return self.boxes_xywh_px.copy(), np.full(len(self.boxes_xywh_px), SCENE_SCORE)


def precision_of(args: argparse.Namespace) -> str:
    """The first of --precision, default bf16 on a CPU with native bfloat16, else fp32."""
    from mppe_ros.precision import cpu_has_native_bf16

    if args.precision:
        return args.precision[0]
    return "bf16" if cpu_has_native_bf16() else "fp32"


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every configuration once per round, interleaved; the JSON document (see the module docstring)."""
    from mppe_ros.bench import node as bench_node
    from mppe_ros.bench.machine import machine_info
    from mppe_ros.testing.synthetic import person_boxes

    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")  # loopback only
    intervals = sorted({0.0, *args.node_intervals})
    persons = list(args.node_persons)
    if min(intervals) < 0 or min(persons) < 1 or args.node_rounds < 1:
        raise ValueError(f"--node-intervals must be >= 0, --node-persons and --node-rounds >= 1: got {intervals}, "
                         f"{persons}, {args.node_rounds}")  # fmt: skip
    seconds = args.node_seconds or 30.0
    width, height = args.sizes[0] if args.sizes else (640, 480)
    precision = precision_of(args)
    machine = machine_info()
    rows: dict[tuple[int, float], list[dict[str, Any]]] = {(p, i): [] for p in persons for i in intervals}
    with tempfile.TemporaryDirectory(prefix="mppe_node_schedule_") as folder:
        for round_index in range(args.node_rounds):
            for count in persons:
                boxes = person_boxes(count, width, height)
                for interval_s in intervals:
                    detector = SceneDetector(args.node_detector, args.node_detector_min_size, boxes, Path(folder))
                    parameters = {"detection_interval_s": interval_s, "redetect_confidence": 0.0}
                    row = bench_node.run(seconds, "cpu", precision, width, height, count, detector=detector,
                                         parameters=parameters)  # fmt: skip
                    row["detector_calls"] = len(detector.seconds)
                    row["detector_median_s"] = statistics.median(detector.seconds) if detector.seconds else None
                    row["round"] = round_index
                    rows[(count, interval_s)].append(row)
                    print(_progress_line(row, interval_s), flush=True)
    machine["load_average_end"] = list(os.getloadavg())
    configurations = [_summary(count, interval_s, rows) for count in persons for interval_s in intervals]
    return {
        "schema": SCHEMA, "machine": machine, "seconds": seconds, "rate_hz": bench_node.RATE_HZ,
        "image_size": [width, height], "precision": precision, "device": "cpu", "rounds": args.node_rounds,
        "detector": args.node_detector, "detector_min_size_px": args.node_detector_min_size,
        "goals": {"persons": 2, "results_per_s": GOAL_RESULTS_PER_S, "latency_median_s": GOAL_LATENCY_S},
        "configurations": configurations,
    }  # fmt: skip


def _progress_line(row: dict[str, Any], interval_s: float) -> str:
    latency = row["latency_median_s"]
    return (f"  {row['persons']} persons, detection_interval_s {interval_s:g}: {row['results_per_s']:.2f} results/s, "
            f"median latency {'-' if latency is None else f'{latency:.3f} s'}, detector on {row['detector_runs']} "
            f"of {row['node_frames_processed']} frames, {_seconds(row['detector_median_s'])} s per call")  # fmt: skip


def _summary(count: int, interval_s: float, rows: dict[tuple[int, float], list[dict[str, Any]]]) -> dict[str, Any]:
    """One configuration over its rounds, with its ratios to detection_interval_s 0 (same persons, same round)."""
    own, every_frame = rows[(count, interval_s)], rows[(count, 0.0)]
    latencies = [row["latency_median_s"] for row in own if row["latency_median_s"] is not None]
    pairs = list(zip(own, every_frame, strict=True))
    speedups = [row["results_per_s"] / base["results_per_s"] for row, base in pairs if base["results_per_s"] > 0]
    latency_ratios = [row["latency_median_s"] / base["latency_median_s"] for row, base in pairs
                      if row["latency_median_s"] and base["latency_median_s"]]  # fmt: skip
    processed = sum(row["node_frames_processed"] for row in own)
    detector_s = [row["detector_median_s"] for row in own if row["detector_median_s"] is not None]
    return {
        "persons": count, "detection_interval_s": interval_s,
        "results_per_s": statistics.fmean(row["results_per_s"] for row in own),
        "latency_median_s": statistics.fmean(latencies) if latencies else None,
        "latency_p99_s": max((row["latency_p99_s"] for row in own if row["latency_p99_s"] is not None), default=None),
        "results_per_s_vs_every_frame": statistics.fmean(speedups) if speedups else None,
        "latency_vs_every_frame": statistics.fmean(latency_ratios) if latency_ratios else None,
        "detector_share": sum(row["detector_runs"] for row in own) / processed if processed else None,
        "detector_median_s": statistics.fmean(detector_s) if detector_s else None,
        "rounds": own,
    }  # fmt: skip


def markdown(document: dict[str, Any]) -> str:
    """The document as a markdown report: settings, one row per configuration, the goal of issue 13."""
    machine = document["machine"]
    width, height = document["image_size"]
    lines = [
        "# mppe_ros node: detector on every frame vs the detector schedule",
        "",
        f"- machine: {machine['cpu_model']}, {machine['cpu_count']} logical CPUs, torch threads "
        f"{machine['torch_threads']}, native bf16 {machine['cpu_native_bf16']}; torch {machine['torch']}; load "
        f"average {machine['load_average_start'][0]:.2f} at the start, {machine['load_average_end'][0]:.2f} at the end",
        f"- input: {width}x{height} bgr8 image + camera_info at {document['rate_hz']:.0f} Hz for "
        f"{document['seconds']:.0f} s per configuration over DDS on loopback (reliable), {document['rounds']} "
        "interleaved round(s); tracking on",
        f"- PoseNet and RootNet: seeded trained-like weights, {document['precision']}; detector: "
        f"{document['detector']} at {document['detector_min_size_px']} px, its network run for real with seeded "
        "random weights, the scene's person boxes returned (untrained weights find nobody)",
        "- results/s = results received / seconds published; latency = publication to result; ratios against "
        "detection_interval_s 0 with the same persons, within each round",
        "",
        "| persons | detection_interval_s | results/s | vs every frame | median latency s | vs every frame | "
        "p99 latency s | detector on frames | detector s per call (median) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in document["configurations"]:
        lines.append(
            f"| {row['persons']} | {row['detection_interval_s']:g} | {row['results_per_s']:.2f} | "
            f"{_ratio(row['results_per_s_vs_every_frame'])} | {_seconds(row['latency_median_s'])} | "
            f"{_ratio(row['latency_vs_every_frame'])} | {_seconds(row['latency_p99_s'])} | "
            f"{_share(row['detector_share'])} | {_seconds(row['detector_median_s'])} |"
        )
    goals = document["goals"]
    goal = (f"Goal (issue 13, {goals['persons']} persons, 2 cores with native bf16): >= {goals['results_per_s']:g} "
            f"results/s and <= {goals['latency_median_s']:g} s median latency.")  # fmt: skip
    lines += ["", goal]
    return "\n".join(lines) + "\n"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def main(args: argparse.Namespace) -> int:
    """`mppe-ros bench --node-schedule`: prints the table, writes node_schedule.json and .md to --out."""
    from mppe_ros.bench import report as bench_report

    document = run(args)
    bench_report.write_outputs(args.out, "node_schedule", document, markdown(document))
    return 0
