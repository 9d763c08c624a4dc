"""`mppe-ros bench` / `make bench`: per-stage speed of the pipeline against two references.

Synthetic frames (640x480 and 1280x720), person boxes injected (1, 5, 10, 20) or found by the
detector, on the CPU and on CUDA when present, with official-format weight files (seeded random
values; real files with --posenet/--rootnet). For every configuration, in the same run:

- per stage (image conversion, detection, crop, RootNet, PoseNet, decoding, message building) and
  end to end: median, p90 and min latency, frames per second, peak RSS and CUDA max allocated;
- reference 1, the official demo's way (mppe_ros.testing.reference.OfficialPipeline: one crop and one
  float32 forward per person per network, same weights), run interleaved with ours on the same
  frame, and our speed-up over it;
- reference 2, the achievable matrix throughput of the machine (a large GEMM in the same
  precision, measured before and after the configuration), the FLOPs of RootNet + PoseNet per
  person (torch.utils.flop_counter on the real modules), and our achieved FLOP/s as a fraction.

Also: an ablation of each optimisation, the accuracy of reduced precision against float32 on
the same inputs, and our float32 result against the official pipeline. Writes benchmark.json
and benchmark.md to --out (default bench_output/). The node-level benchmark is
mppe_ros.bench.node (--node-seconds); the memory soak of the node, mppe_ros.bench.soak (--soak-frames);
the time of each person detector, mppe_ros.bench.detectors (--detectors); the node with the detector on every
frame against the detector schedule, mppe_ros.bench.node_schedule (--node-schedule); `mppe-ros process` against the
live node on the same frames, mppe_ros.bench.recording (--process).

Every speed figure is a ratio measured in the same run, because absolute times on a shared
machine are noisy; the JSON records the load average before and after.
"""

from __future__ import annotations

import argparse
import copy
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from mppe_ros.bench import arguments
from mppe_ros.bench import report as bench_report
from mppe_ros.bench import soak as bench_soak
from mppe_ros.bench.ablation import ablation
from mppe_ros.bench.machine import machine_info
from mppe_ros.bench.measure import (
    DETECTOR_PERSONS,
    FOCAL_PX,
    FixedBoxesDetector,
    RosEdge,
    accuracy,
    measure_config,
    parity_vs_official,
    random_detector,
)
from mppe_ros.bench.throughput import count_flops, gemm_flops_per_s
from mppe_ros.bench.timing import TimedNet
from mppe_ros.camera import PinholeCamera
from mppe_ros.checkpoints import load_posenet, load_rootnet
from mppe_ros.joint_sets import get_joint_set
from mppe_ros.pipeline import MppePipeline
from mppe_ros.precision import cpu_has_native_bf16, resolve_precision
from mppe_ros.testing.reference import OfficialPipeline
from mppe_ros.testing.synthetic import person_boxes, synthetic_frame, trained_like_weights

SCHEMA = "mppe_ros.bench.benchmark/1"


def _variants(device: torch.device, args: argparse.Namespace, notes: list[str]) -> list[tuple[str, bool]]:
    """(precision, cuda_graphs) pairs to run on `device`."""
    native_bf16 = cpu_has_native_bf16()
    if args.precision:
        requested = args.precision
    else:
        requested = ["fp32", "fp16"] if device.type == "cuda" else ["fp32"] + (["bf16"] if native_bf16 else [])
        if device.type == "cpu" and not native_bf16:
            notes.append(
                "cpu bf16 not run by default: this CPU has no native bfloat16 (avx512_bf16/amx_bf16), where bf16 "
                "is emulated and many times slower than fp32 (pass --precision fp32,bf16 to measure it anyway)"
            )
    variants = []
    for precision in requested:
        try:
            resolve_precision(precision, device)
        except ValueError as error:
            notes.append(f"{device.type} {precision} skipped: {error}")
            continue
        variants += [(precision, False)] + ([(precision, True)] if device.type == "cuda" and args.cuda_graphs else [])
    return variants


def run(args: argparse.Namespace) -> dict[str, Any]:
    """All measurements of one `mppe-ros bench` run, as the JSON document."""
    if args.threads:
        torch.set_num_threads(args.threads)
    document: dict[str, Any] = {"schema": SCHEMA, "machine": machine_info(), "settings": arguments.settings(args)}
    document.update(runs=[], gemm=[], accuracy=[], parity_vs_official=[], ablation=[], notes=[])
    with tempfile.TemporaryDirectory(prefix="mppe_bench_") as temp_dir:
        folder = Path(temp_dir)
        if args.posenet and args.rootnet:
            paths = Path(args.posenet), Path(args.rootnet)
            document["weights"] = "given files"
        else:
            paths = trained_like_weights(folder)
            document["weights"] = "seeded random, official format, BatchNorm-calibrated (trained-like ranges)"
        nets = load_posenet(paths[0]), load_rootnet(paths[1])
        document["flops_per_person"] = count_flops(*nets)
        edge = RosEdge()
        if edge.note:
            document["notes"].append(edge.note)
        for name in args.device:
            _run_device(args, document, torch.device(name), nets, edge, folder)
    if args.node_seconds > 0:
        from mppe_ros.bench import node as bench_node

        document["node"] = bench_node.run_or_skip(args)
    document["machine"]["load_average_end"] = list(os.getloadavg())
    return document


def _run_device(args, document: dict, device: torch.device, nets: tuple, edge: RosEdge, folder: Path) -> None:
    """Every (precision, size, persons) configuration on one device, then accuracy and ablation."""
    joint_set = get_joint_set("h36m_18" if nets[0].joint_num == 18 else "muco_21")
    reference_nets = tuple(TimedNet(copy.deepcopy(net), device) for net in nets)
    detector = random_detector(folder, device, args.detector_min_size) if args.detector else None
    accuracy_persons = min(10, max(args.persons))
    accuracy_frames = {}  # precision -> PoseResult of the first size with accuracy_persons boxes
    for precision, graphs in _variants(device, args, document["notes"]):
        pipeline = MppePipeline(*nets, joint_set, device=device, precision=precision, cuda_graphs=graphs)
        for width, height in args.sizes:
            image, center = synthetic_frame(width, height), (width / 2, height / 2)
            official = OfficialPipeline(*reference_nets, (FOCAL_PX, FOCAL_PX), center, device=str(device))
            configs = [(count, person_boxes(count, width, height), None) for count in args.persons]
            if detector is not None:
                detector_boxes = person_boxes(DETECTOR_PERSONS, width, height)
                configs.append(("detector", None, FixedBoxesDetector(detector, detector_boxes)))
                dtype = resolve_precision(precision, device)
                if device.type == "cuda" and dtype != torch.float32:  # would the detector gain from it too?
                    autocast = FixedBoxesDetector(detector, detector_boxes, autocast=dtype)
                    configs.append((f"detector (autocast {precision})", None, autocast))
            for config, boxes, config_detector in configs:
                pipeline.detector = config_detector
                record = _measure(args, document, pipeline, official, edge, image, boxes)
                record.update(precision=precision + ("+cudagraphs" if graphs else ""), config=config)
                print(bench_report.progress_line(record), flush=True)
        if not graphs:  # the accuracy frame: first size, up to 10 persons, no detector
            width, height = args.sizes[0]
            image, boxes = synthetic_frame(width, height), person_boxes(accuracy_persons, width, height)
            camera = PinholeCamera(FOCAL_PX, FOCAL_PX, width / 2, height / 2, width, height)
            pipeline.detector = None
            accuracy_frames[precision] = pipeline(image, camera, boxes_xywh=boxes)
            if precision == "fp32":
                focal, center = (FOCAL_PX, FOCAL_PX), (camera.cx, camera.cy)
                official = OfficialPipeline(*reference_nets, focal, center, device=str(device))
                parity = parity_vs_official(accuracy_frames["fp32"], official(image, boxes))
                document["parity_vs_official"].append({"device": device.type, **parity})
        del pipeline
    for precision, result in accuracy_frames.items():
        if precision != "fp32" and "fp32" in accuracy_frames:
            row = accuracy(accuracy_frames["fp32"], result)
            document["accuracy"].append({"device": device.type, "precision": precision, **row})
    if args.ablation:
        rounds = 3 if device.type == "cpu" else 20
        rows = ablation(*(copy.deepcopy(net) for net in nets), device, accuracy_persons, rounds)
        document["ablation"] += [{"device": device.type, **row} for row in rows]


def _measure(args, document: dict, pipeline: MppePipeline, official, edge, image, boxes) -> dict[str, Any]:
    """One configuration: GEMM reference first, then the frames; the record is added to the document."""
    device = pipeline.device
    repeats = args.repeats or (20 if device.type == "cuda" else 3)
    warmup = args.warmup if args.warmup is not None else (3 if device.type == "cuda" else 1)
    dtype = resolve_precision(pipeline.precision, device)
    gemm = gemm_flops_per_s(device, dtype, args.quick)
    document["gemm"].append({"device": device.type, "precision": str(dtype), **gemm})
    record = measure_config(pipeline, official if args.reference else None, edge, image, boxes, repeats, warmup)
    achieved = document["flops_per_person"]["total"] * record["persons"] / record["stages"]["nets"]["median_s"]
    record.update(
        device=device.type,
        image_size=[image.shape[1], image.shape[0]],
        detector=pipeline.detector is not None,
        achieved_flops_per_s=achieved if record["persons"] else None,
        gemm_flops_per_s=gemm["best"],
        gemm_fraction=achieved / gemm["best"] if record["persons"] else None,
    )
    document["runs"].append(record)
    return record


def main(argv: Sequence[str] | argparse.Namespace | None = None) -> int:
    """Run the benchmark; print the table; write benchmark.json and benchmark.md. Returns 0."""
    args = arguments.parsed(argv, "mppe-ros bench", __doc__.splitlines()[0])
    if args.soak_frames is not None:
        return bench_soak.main(args)
    if args.detectors:
        from mppe_ros.bench import detectors as bench_detectors

        return bench_detectors.main(args)
    if args.node_schedule:
        from mppe_ros.bench import node_schedule as bench_node_schedule

        return bench_node_schedule.main(args)
    if args.process:
        from mppe_ros.bench import recording as bench_recording

        return bench_recording.main(args)
    args = arguments.finish_arguments(args)
    document = run(args)
    bench_report.write_outputs(args.out, "benchmark", document, bench_report.markdown(document))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
