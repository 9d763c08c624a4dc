"""`mppe-ros bench --detectors` (or `python -m mppe_ros.bench.detectors`): CPU time per frame of each person detector.

Each Faster R-CNN choice of the `detector` setting (mppe_ros.detection.DETECTOR_MODELS; Mask R-CNN is left
out: the same ResNet-50 FPN as fasterrcnn_resnet50_fpn plus a mask head) runs as the pipeline runs it
(TorchvisionPersonDetector: the frame converted, resized, detected and filtered to persons) on one
synthetic frame per size, at the configured input size (--detector-min-size, the detector_min_size_px
setting, default 800), and fasterrcnn_mobilenet_v3_large_320_fpn also at its own 320 px. Rounds are
interleaved (every configuration once per round) so that a change in the machine's load reaches all of
them alike; the figures are the median and minimum over the rounds, and each configuration's ratio
against fasterrcnn_resnet50_fpn (float32, same frame size) from the same run.

Precision: the pipeline runs the detector in float32 whatever `precision` is (that setting applies to
RootNet and PoseNet). On a CPU with native bfloat16 (AVX512-BF16 / AMX), or with --precision fp32,bf16,
each configuration is also timed under torch.autocast("cpu", bfloat16): a measurement of what bf16 would
give the detector, not what the pipeline runs (--precision fp32: float32 only).

Weights: seeded random values in torchvision's format (loaded through the pipeline's own path). The
time depends on the weights only through the number of region proposals the RPN keeps (at most 1000
per frame, 150 for the 320 variant) and the detections the score threshold lets through; both are
recorded per configuration. Writes detectors.json and detectors.md to --out.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mppe_ros.bench import arguments
from mppe_ros.bench import report as bench_report
from mppe_ros.bench.machine import machine_info
from mppe_ros.bench.timing import stats
from mppe_ros.detection import DETECTOR_MODELS, DetectionSettings, TorchvisionPersonDetector, detector_cache_file
from mppe_ros.precision import cpu_has_native_bf16
from mppe_ros.testing.synthetic import synthetic_frame

SCHEMA = "mppe_ros.bench.detectors/1"
BASELINE = "fasterrcnn_resnet50_fpn"
MODELS = tuple(name for name in DETECTOR_MODELS if name.startswith("fasterrcnn_"))
NATIVE_MIN_SIZE_PX = {"fasterrcnn_mobilenet_v3_large_320_fpn": 320}  # also timed at the size it was trained at
DEFAULT_SIZE = (640, 480)
DEFAULT_REPEATS, DEFAULT_WARMUP = 5, 1
OPTIONS = ("sizes", "detector_min_size", "repeats", "warmup", "threads", "precision", "machine_name")  # recorded
BUSY_LOAD_AVERAGE = 1.0  # 1-minute load average at the start (before this run's work) above which the report warns


@dataclasses.dataclass
class Config:
    """One timed configuration: a detector at a min size, in a precision, and its samples."""

    model: str
    min_size_px: int
    precision: str  # "fp32" or "bf16 (autocast)"
    detector: TorchvisionPersonDetector
    rpn_kept: list[int]  # proposals the RPN kept, one per forward of `detector` (a hook appends; shared)
    seconds: list[float] = dataclasses.field(default_factory=list)  # wall clock, one per round
    cpu_seconds: list[float] = dataclasses.field(default_factory=list)  # this process's CPU time (all threads)
    proposals: list[int] = dataclasses.field(default_factory=list)
    persons: list[int] = dataclasses.field(default_factory=list)


def random_weights_file(model_name: str, folder: Path) -> Path:
    """Seeded random weights of `model_name` saved as torchvision's COCO file (its name, no BatchNorm counters)."""
    path = folder / detector_cache_file(model_name).name
    if not path.exists():
        torch.manual_seed(0)
        model = DETECTOR_MODELS[model_name][0](weights=None, weights_backbone=None)
        state = {key: value for key, value in model.state_dict().items() if not key.endswith("num_batches_tracked")}
        torch.save(state, path)
    return path


def _time_once(config: Config, image: np.ndarray, measured: bool) -> None:
    start_s, start_cpu_s = time.perf_counter(), time.process_time()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=config.precision != "fp32"):
        _, scores = config.detector(image)
    elapsed_s, elapsed_cpu_s = time.perf_counter() - start_s, time.process_time() - start_cpu_s
    if measured:
        config.seconds.append(elapsed_s)
        config.cpu_seconds.append(elapsed_cpu_s)
        config.proposals.append(config.rpn_kept[-1])
        config.persons.append(len(scores))


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every configuration on every frame size, interleaved rounds; the JSON document."""
    if args.threads:
        torch.set_num_threads(args.threads)
    sizes = args.sizes or [DEFAULT_SIZE]
    repeats = args.repeats or DEFAULT_REPEATS
    warmup = DEFAULT_WARMUP if args.warmup is None else args.warmup
    min_size_px = args.detector_min_size
    notes = ["times are for the CPU (the detector is torchvision's, run as TorchvisionPersonDetector runs it)"]
    precisions = ["fp32"] + (["bf16 (autocast)"] if "bf16" in _precisions(args) else [])
    if len(precisions) > 1:
        notes.append("bf16 (autocast): torch.autocast('cpu', bfloat16) around the detector, a measurement only: the "
                     "pipeline runs the detector in float32 (`precision` applies to RootNet and PoseNet)")  # fmt: skip
    elif not args.precision:
        notes.append("bf16 not timed: this CPU has no native bfloat16 (pass --precision fp32,bf16 to time it anyway)")
    machine = machine_info()
    machine["name"] = args.machine_name or machine["cpu_model"]
    document: dict[str, Any] = {
        "schema": SCHEMA, "machine": machine, "baseline": BASELINE, "repeats": repeats, "warmup": warmup,
        "detector_min_size_px": min_size_px, "settings": dataclasses.asdict(DetectionSettings()),
        "weights": "seeded random, torchvision's format (timing only)", "runs": [], "notes": notes,
        "options": {name: getattr(args, name) for name in OPTIONS},
    }  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="mppe_bench_detectors_") as temp_dir:
        configs = _configs(Path(temp_dir), min_size_px, precisions)
        for width, height in sizes:
            image = synthetic_frame(width, height)
            for config in configs:
                config.seconds, config.cpu_seconds, config.proposals, config.persons = [], [], [], []
            for round_index in range(warmup + repeats):
                start_s = time.perf_counter()
                for config in configs:
                    _time_once(config, image, measured=round_index >= warmup)
                kind = "warm-up round" if round_index < warmup else "round"
                print(f"{width}x{height} {kind} {round_index + 1} of {warmup + repeats}: "
                      f"{time.perf_counter() - start_s:.1f} s", flush=True)  # fmt: skip
            rows = [_row(config, width, height) for config in configs]
            _add_ratios(rows)
            for row in rows:
                print(_progress_line(row), flush=True)
            document["runs"] += rows
    machine["load_average_end"] = list(os.getloadavg())
    return document


def _precisions(args: argparse.Namespace) -> list[str]:
    """--precision (fp32 and/or bf16; fp32, the baseline, is always timed), default fp32 + bf16 on native bf16."""
    requested = args.precision or (["fp32", "bf16"] if cpu_has_native_bf16() else ["fp32"])
    unknown = [name for name in requested if name not in ("fp32", "bf16")]
    if unknown:
        raise ValueError(f"--precision with --detectors must list fp32 and/or bf16 (CPU), got {unknown}")
    return requested


def _configs(folder: Path, min_size_px: int, precisions: list[str]) -> list[Config]:
    configs = []
    for model in MODELS:
        sizes = [min_size_px] + [size for size in [NATIVE_MIN_SIZE_PX.get(model)] if size and size != min_size_px]
        for size in sizes:
            detector = TorchvisionPersonDetector(model, random_weights_file(model, folder), min_size_px=size)
            kept: list[int] = []
            rpn: Any = detector.model.rpn  # returns (proposals per image, losses)
            rpn.register_forward_hook(lambda _module, _inputs, output, kept=kept: kept.append(len(output[0][0])))
            configs += [Config(model, size, precision, detector, kept) for precision in precisions]
    return configs


def _row(config: Config, width: int, height: int) -> dict[str, Any]:
    transform: Any = config.detector.model.transform
    return {
        "model": config.model,
        "precision": config.precision,
        "image_size": [width, height],
        "min_size_px": config.min_size_px,
        "max_size_px": transform.max_size,
        "input_size": list(config.detector.input_size_px(width, height)),
        "parameters": sum(p.numel() for p in config.detector.model.parameters()),
        "wall": {"time": stats(config.seconds), "samples_s": list(config.seconds)},  # samples in round order
        "cpu": {"time": stats(config.cpu_seconds), "samples_s": list(config.cpu_seconds)},
        "proposals_median": statistics.median(config.proposals),
        "persons_median": statistics.median(config.persons),
    }


def _per_round(reference: dict[str, Any], row: dict[str, Any]) -> float:
    """Median over rounds of reference time / row time within the same round (load drift between rounds cancels)."""
    return statistics.median(a / b for a, b in zip(reference["samples_s"], row["samples_s"], strict=True))


def _add_ratios(rows: list[dict[str, Any]]) -> None:
    """speed-up = baseline time / time (baseline: fasterrcnn_resnet50_fpn fp32 at the configured size, same frame),
    of wall and of CPU time: the median of the ratios within each round, of the medians and of the minimums."""
    fp32 = {(row["model"], row["min_size_px"]): row for row in rows if row["precision"] == "fp32"}
    base = fp32[(BASELINE, rows[0]["min_size_px"])]  # the first configuration: the configured min size
    for row in rows:
        for clock in ("wall", "cpu"):
            timed, reference = row[clock], base[clock]
            timed["speedup_vs_baseline"] = {
                "per_round_median": _per_round(reference, timed),
                **{key: reference["time"][key] / timed["time"][key] for key in ("median_s", "min_s")},
            }
            timed["speedup_vs_fp32"] = _per_round(fp32[(row["model"], row["min_size_px"])][clock], timed)


def _progress_line(row: dict[str, Any]) -> str:
    width, height = row["image_size"]
    return (
        f"{row['model']} {row['precision']} {width}x{height} -> {row['input_size'][0]}x{row['input_size'][1]}: "
        f"median {row['wall']['time']['median_s'] * 1000:.0f} ms wall, {row['cpu']['time']['median_s'] * 1000:.0f} ms "
        f"CPU; {row['wall']['speedup_vs_baseline']['per_round_median']:.2f}x (wall), "
        f"{row['cpu']['speedup_vs_baseline']['per_round_median']:.2f}x (CPU) the speed of {BASELINE}"
    )


def _markdown_row(row: dict[str, Any]) -> list[str]:
    wall, cpu = row["wall"], row["cpu"]
    bf16 = "" if row["precision"] == "fp32" else f"{wall['speedup_vs_fp32']:.2f}x / {cpu['speedup_vs_fp32']:.2f}x"
    return [
        row["model"], row["precision"], "x".join(map(str, row["image_size"])),
        f"{row['min_size_px']} / {row['max_size_px']}", "x".join(map(str, row["input_size"])),
        f"{wall['time']['median_s'] * 1000:.0f}", f"{wall['time']['min_s'] * 1000:.0f}",
        f"{cpu['time']['median_s'] * 1000:.0f}", f"{cpu['time']['min_s'] * 1000:.0f}",
        f"{wall['speedup_vs_baseline']['per_round_median']:.2f}x",
        f"{cpu['speedup_vs_baseline']['per_round_median']:.2f}x",
        f"{cpu['speedup_vs_baseline']['min_s']:.2f}x", bf16,
        f"{row['proposals_median']:.0f}", f"{row['persons_median']:.0f}", f"{row['parameters'] / 1e6:.1f}",
    ]  # fmt: skip


def markdown(document: dict[str, Any]) -> str:
    """The run as markdown: machine, settings, one row per configuration and frame size, notes."""
    machine = document["machine"]
    header = ("detector", "precision", "frame", "min / max size px", "detector input", "wall ms", "wall min ms",
              "CPU ms", "CPU min ms", "speed-up (wall)", "speed-up (CPU)", "speed-up (CPU, of minimums)",
              "bf16 vs fp32 (wall / CPU)", "proposals", "persons", "parameters M")  # fmt: skip
    load_end = machine.get("load_average_end", [float("nan")])[0]
    notes = list(document["notes"])
    if machine["load_average_start"][0] >= BUSY_LOAD_AVERAGE:
        notes.append(
            f"other processes were running (load average {machine['load_average_start'][0]:.2f} at the start on "
            f"{machine['cpu_count']} logical CPUs): the times are longer than on an idle machine, the more so the more "
            "torch threads (an OpenMP region waits for its slowest thread, and a thread the OS has put aside stalls "
            "it); the ratios within a round are the steadier figures, and a --threads 1 run the least disturbed"
        )
    lines = [
        "# mppe_ros person detectors (CPU)",
        "",
        f"- machine: {machine['name']} ({machine['cpu_model']}, {machine['cpu_count']} logical CPUs, torch threads "
        f"{machine['torch_threads']}, {machine['torch_cpu_capability']}, features "
        f"{', '.join(machine['cpu_features'])}); torch {machine['torch']}; load average "
        f"{machine['load_average_start'][0]:.2f} at the start, {load_end:.2f} at the end",
        f"- each detector as the pipeline runs it (conversion, resize, detection, person filtering at the default "
        f"thresholds), on one synthetic frame; {document['repeats']} interleaved rounds after {document['warmup']} "
        f"warm-up; configured detector_min_size_px {document['detector_min_size_px']}",
        "- times per frame, median (and minimum) over the rounds: `wall` = elapsed time, `CPU` = this process's CPU "
        "time over all its threads (less disturbed by other processes; with several threads it includes their "
        "waiting in spin loops)",
        f"- speed-up = time of {document['baseline']} fp32 at the configured size on the same frame / time, same "
        "run: the median over rounds of the ratio within a round (load changes between rounds cancel), and the "
        "ratio of the minimums; bf16 vs fp32 likewise, against the same detector in fp32",
        f"- weights: {document['weights']}; `proposals` = region proposals the RPN kept (the box head's work), "
        "`persons` = person boxes returned (random weights: few or none)",
        "",
        *bench_report._table(header, [_markdown_row(row) for row in document["runs"]]),
        "",
        "Notes:",
        "",
        *(f"- {note}" for note in notes),
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | argparse.Namespace | None = None) -> int:
    """Run the detectors benchmark; print the table; write detectors.json and detectors.md. Returns 0.

    Options: those of `mppe-ros bench` (mppe_ros.bench.arguments); this one reads --sizes (default
    640x480), --detector-min-size, --repeats (default 5), --warmup (default 1), --threads, --precision
    (fp32 and/or bf16), --machine-name and --out.
    """
    args = arguments.parsed(argv, "python -m mppe_ros.bench.detectors", __doc__.splitlines()[0])
    if (args.repeats is not None and args.repeats < 1) or (args.warmup is not None and args.warmup < 0):
        raise ValueError(f"--repeats must be >= 1 and --warmup >= 0, got {args.repeats} and {args.warmup}")
    if args.detector_min_size < 1:
        raise ValueError(f"--detector-min-size must be >= 1, got {args.detector_min_size}")
    _precisions(args)
    document = run(args)
    bench_report.write_outputs(args.out, "detectors", document, markdown(document))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
