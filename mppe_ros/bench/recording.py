"""`mppe-ros bench --process`: `mppe-ros process` on a generated bag against the live node on the same frames, in
the same run.

The bag (mppe_ros.testing.recordings.write_bag): 640x480 bgr8 Image + CameraInfo pairs (the first of --sizes) at
30 Hz for --process-seconds s (default 30), two stick figures. Both sides run one pipeline recipe: PoseNet and
RootNet with seeded trained-like weights in the first of --precision (default: bf16 on a CPU with native bfloat16,
else fp32), and the SceneDetector of mppe_ros.bench.node_schedule (the real --node-detector network at
--node-detector-min-size px, the scene's boxes returned); the node's defaults otherwise (tracking, the detector
schedule at detection_interval_s 0.5) with redetect_confidence 0, as in node_schedule.

- process: mppe_ros.ros.recording.run.process_recording on the bag into an MCAP bag with the inputs copied (the
  command's defaults); frames/s = frames answered / wall time from the call to the closed output bag.
- the live node: mppe_ros.bench.node.run publishing the bag's images and CameraInfo at 30 Hz for the same seconds
  over DDS on loopback (reliable); results/s = results received / seconds published.

Reported: both, their ratio, each side's share of the frames answered and detector runs. Writes process.json and
process.md. Nets batched across frames (a --batch-frames) are not offered: the detector schedule needs each frame's
tracks before the next frame's boxes.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

SCHEMA = "mppe_ros.process_bench/1"
PERSONS = 2
RATE_HZ = 30.0
SCENE_CYCLE = 20  # mppe_ros.testing.recordings' frames repeat every 20 (the figures drift index % 20 px)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Generate the bag, run process on it, then the live node on its frames; the JSON document."""
    from mppe_ros.bench import node as bench_node
    from mppe_ros.bench.machine import machine_info
    from mppe_ros.bench.node_schedule import SceneDetector, precision_of
    from mppe_ros.testing.recordings import scene_boxes, scene_messages, write_bag

    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")  # loopback only
    seconds = float(args.process_seconds)
    if seconds <= 0:
        raise ValueError(f"--process-seconds must be > 0, got {seconds}")
    width, height = args.sizes[0] if args.sizes else (640, 480)
    precision = precision_of(args)
    machine = machine_info()
    parameters = {"redetect_confidence": 0.0}
    boxes = scene_boxes(width, height, 0, PERSONS)
    with tempfile.TemporaryDirectory(prefix="mppe_process_bench_") as folder:
        bag = Path(folder) / "recording"
        frames = int(round(seconds * RATE_HZ))
        write_bag(bag, frames, width, height, RATE_HZ, PERSONS)
        detector = SceneDetector(args.node_detector, args.node_detector_min_size, boxes, Path(folder))
        offline = _process(bag, Path(folder) / "out", detector, precision, parameters)
        offline["frames"] = frames
        print(f"  process: {offline['processed']} of {frames} frames in {offline['wall_s']:.1f} s, "
              f"{offline['frames_per_s']:.2f} frames/s", flush=True)  # fmt: skip
        images = [scene_messages(index, 0, width, height, PERSONS)[0] for index in range(SCENE_CYCLE)]
        info = scene_messages(0, 0, width, height, PERSONS)[1]
        detector = SceneDetector(args.node_detector, args.node_detector_min_size, boxes, Path(folder))
        live = bench_node.run(seconds, "cpu", precision, width, height, PERSONS, detector=detector,
                              parameters=parameters, frames=(images, info))  # fmt: skip
        print(f"  live node: {live['results']} of {live['published']} frames answered, "
              f"{live['results_per_s']:.2f} results/s", flush=True)  # fmt: skip
    machine["load_average_end"] = list(os.getloadavg())
    ratio = offline["frames_per_s"] / live["results_per_s"] if live["results_per_s"] > 0 else None
    return {
        "schema": SCHEMA, "machine": machine, "seconds": seconds, "rate_hz": RATE_HZ, "image_size": [width, height],
        "persons": PERSONS, "precision": precision, "device": "cpu", "detector": args.node_detector,
        "detector_min_size_px": args.node_detector_min_size, "parameters": parameters,
        "process": offline, "node": live, "process_vs_node": ratio,
    }  # fmt: skip


def _process(bag: Path, out: Path, detector: Any, precision: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """process_recording on `bag` with the benchmark's pipeline; its counts and frames/s."""
    from mppe_ros.joint_sets import MUCO_21
    from mppe_ros.pipeline import MppePipeline
    from mppe_ros.ros.parameter_files import node_config
    from mppe_ros.ros.recording.run import RunOptions, process_recording
    from mppe_ros.testing.synthetic import trained_like_nets

    pipeline = MppePipeline(*trained_like_nets(), MUCO_21, detector=detector, device="cpu", precision=precision)
    overrides = ["device:=cpu", f"precision:={precision}", *(f"{name}:={value}" for name, value in parameters.items())]
    config = node_config([], overrides)
    start_s = time.perf_counter()
    summary = process_recording(bag, config, pipeline, None, RunOptions(out=out))
    wall_s = time.perf_counter() - start_s
    return {
        "processed": summary.processed, "skipped": summary.skipped, "wall_s": wall_s,
        "frames_per_s": summary.processed / wall_s, "detector_calls": len(detector.seconds),
    }  # fmt: skip


def markdown(document: dict[str, Any]) -> str:
    """The document as a markdown report."""
    machine, offline, live = document["machine"], document["process"], document["node"]
    width, height = document["image_size"]
    ratio = document["process_vs_node"]
    return "\n".join([
        "# mppe-ros process against the live node, on the same frames",
        "",
        f"- machine: {machine['cpu_model']}, {machine['cpu_count']} logical CPUs, torch threads "
        f"{machine['torch_threads']}, native bf16 {machine['cpu_native_bf16']}; torch {machine['torch']}; load "
        f"average {machine['load_average_start'][0]:.2f} at the start, {machine['load_average_end'][0]:.2f} at the end",
        f"- input: a generated bag, {width}x{height} bgr8 Image + CameraInfo at {document['rate_hz']:.0f} Hz for "
        f"{document['seconds']:g} s, {document['persons']} persons; the live node gets the same images at the same "
        "rate over DDS on loopback (reliable)",
        f"- PoseNet and RootNet: seeded trained-like weights, {document['precision']}; detector: "
        f"{document['detector']} at {document['detector_min_size_px']} px (run for real, the scene's boxes returned); "
        "the node's defaults (tracking, detection_interval_s 0.5), redetect_confidence 0",
        "",
        "| | frames answered | of frames | per second | detector runs |",
        "|---|---|---|---|---|",
        f"| `mppe-ros process` | {offline['processed']} | {offline['frames']} | {offline['frames_per_s']:.2f} frames/s "
        f"| {offline['detector_calls']} |",
        f"| live node | {live['results']} | {live['published']} | {live['results_per_s']:.2f} results/s | "
        f"{live['detector_runs']} |",
        "",
        f"process / live node: {'-' if ratio is None else f'{ratio:.2f}x'} (process answers every frame; the live "
        f"node answered {100 * (1 - live['skipped_share']):.0f}% of the frames published to it).",
        "",
    ])  # fmt: skip


def main(args: argparse.Namespace) -> int:
    """`mppe-ros bench --process`: prints the table, writes process.json and process.md to --out."""
    from mppe_ros.bench import report as bench_report

    document = run(args)
    bench_report.write_outputs(args.out, "process", document, markdown(document))
    return 0
