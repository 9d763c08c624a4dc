"""The command line of `mppe-ros bench` (benchmark, soak and --detectors options) and their machine-dependent defaults.

Light to import (argparse only; torch when the defaults are filled in): `mppe-ros` builds its parser
from here without importing the benchmark itself (mppe_ros.bench.benchmark).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

DEFAULT_PERSONS = (1, 5, 10, 20)
DEFAULT_SIZES = ((640, 480), (1280, 720))


def settings(args: argparse.Namespace) -> dict[str, Any]:
    """The options of a run, as recorded in its JSON document."""
    return {key: value for key, value in vars(args).items() if key not in ("handler", "command")}


def _size(text: str) -> tuple[int, int]:
    width, _, height = text.lower().partition("x")
    if not (width.isdigit() and height.isdigit() and int(width) >= 64 and int(height) >= 64):
        raise argparse.ArgumentTypeError(f"image size must be WIDTHxHEIGHT (at least 64x64), got {text!r}")
    return int(width), int(height)


def _list(kind: Callable[[str], Any]) -> Callable[[str], list]:
    return lambda text: [kind(item) for item in text.split(",") if item]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `mppe-ros bench` (also used by `python -m mppe_ros.bench.benchmark`)."""
    option = parser.add_argument
    option("--quick", action="store_true", help="CI-size run: 1 person, 320x240, 1 frame, no detector/ablation/node")
    option("--persons", type=_list(int), help="comma-separated person counts (default 1,5,10,20)")
    option("--sizes", type=_list(_size), help="comma-separated WIDTHxHEIGHT (default 640x480,1280x720)")
    option("--device", type=_list(str), help="comma-separated cpu, cuda (default: cpu, and cuda when present)")
    option("--precision", type=_list(str), help="comma-separated fp32, bf16, fp16, auto "
           "(default: fp32, + bf16 on CPUs with native bf16, + fp16 on CUDA)")  # fmt: skip
    option("--cuda-graphs", action="store_true", help="on CUDA, also measure each precision with CUDA graphs")
    option("--repeats", type=int, help="measured frames per configuration (default: 3 on CPU, 20 on CUDA)")
    option("--warmup", type=int, help="unmeasured frames first (default: 1 on CPU, 3 on CUDA)")
    option("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    option("--no-detector", dest="detector", action="store_false", help="skip the detector configuration")
    option("--detector-min-size", type=int, default=800, help="detector's shorter image side, px (default 800)")
    option("--no-reference", dest="reference", action="store_false", help="skip the official per-person reference")
    option("--no-ablation", dest="ablation", action="store_false", help="skip the per-optimisation ablation")
    option("--node-seconds", type=float, help="node-level benchmark length, s (default 60; 0: skip)")
    option("--posenet", help="PoseNet checkpoint (default: seeded random official-format weights)")
    option("--rootnet", help="RootNet checkpoint (default: seeded random official-format weights)")
    option("--out", default="bench_output", help="folder for benchmark.json and benchmark.md, or soak.json and "
           "soak.md (default bench_output)")  # fmt: skip
    add_soak_arguments(parser)
    add_node_schedule_arguments(parser)
    option("--process", action="store_true", help="`mppe-ros process` frames/s on a generated bag against the live "
           "node's results/s on the same frames instead of the benchmark (mppe_ros.bench.recording; process.json and "
           ".md): --process-seconds, the first of --sizes (default 640x480), --precision, --node-detector and "
           "--node-detector-min-size apply")  # fmt: skip
    option("--process-seconds", type=float, default=30.0, help="the generated bag's length at 30 Hz, s (default 30)")
    option("--detectors", action="store_true", help="time each person detector instead of the benchmark "
           "(mppe_ros.bench.detectors; detectors.json and .md): --sizes (default 640x480), --detector-min-size, "
           "--repeats (default 5), --warmup (default 1), --threads, --precision fp32,bf16 apply")  # fmt: skip
    option("--machine-name", help="the machine's name in the --detectors report (default: the CPU model)")


def parsed(argv: Sequence[str] | argparse.Namespace | None, prog: str, description: str) -> argparse.Namespace:
    """`argv` parsed with the benchmark's options (add_arguments), or `argv` itself when it is parsed already."""
    if isinstance(argv, argparse.Namespace):
        return argv
    parser = argparse.ArgumentParser(prog=prog, description=description)
    add_arguments(parser)
    return parser.parse_args(argv)


def finish_arguments(args: argparse.Namespace) -> argparse.Namespace:
    """Fill the defaults that depend on --quick and on the machine."""
    import torch

    from mppe_ros.precision import PRECISIONS

    quick = args.quick
    args.persons = args.persons or ([1] if quick else list(DEFAULT_PERSONS))
    args.sizes = args.sizes or ([(320, 240)] if quick else list(DEFAULT_SIZES))
    args.device = args.device or (["cpu"] + (["cuda"] if torch.cuda.is_available() else []))
    if quick:
        args.repeats = args.repeats or 1
        args.warmup = 0 if args.warmup is None else args.warmup
        args.detector = args.ablation = False
    if args.node_seconds is None:
        args.node_seconds = 0.0 if quick else 60.0
    if any(count < 1 for count in args.persons) or (args.repeats is not None and args.repeats < 1):
        raise ValueError(f"--persons and --repeats must be >= 1, got {args.persons} and {args.repeats}")
    unknown = [name for name in args.precision or [] if name not in PRECISIONS]
    if unknown:
        raise ValueError(f"--precision must list names from {list(PRECISIONS)}, got {unknown}")
    for name in args.device:
        if name not in ("cpu", "cuda") and not name.startswith("cuda:"):
            raise ValueError(f"--device must list cpu, cuda or cuda:N, got {name!r}")
        if name.startswith("cuda") and not torch.cuda.is_available():
            raise ValueError(f"--device {name}: torch sees no CUDA GPU here")
    return args


def add_soak_arguments(parser: argparse.ArgumentParser) -> None:
    """The soak options of `mppe-ros bench` (mppe_ros.bench.soak)."""
    option = parser.add_argument
    option("--soak-frames", type=int, metavar="N", help="soak instead of the benchmark: stream N frames through the "
           "node after the warm-up and report its memory (10000 in docs/performance.md); the first of --sizes (default "
           "320x240), --device and --precision apply")  # fmt: skip
    option("--soak-persons", type=int, default=0, metavar="P",
           help="injected persons per soak frame (default 0: no networks)")  # fmt: skip
    option("--soak-warmup-frames", type=int, default=500, metavar="N",
           help="soak frames before the first measurement (default 500)")  # fmt: skip
    option("--soak-every", type=int, default=1000, metavar="N", help="soak frames between measurements (default 1000)")


def add_node_schedule_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `mppe-ros bench --node-schedule` (mppe_ros.bench.node_schedule; --node-seconds, --sizes,
    --precision and --out apply too)."""
    option = parser.add_argument
    option(
        "--node-schedule",
        action="store_true",
        help="node-level results/s and latency with detection_interval_s "
        "0 against the detector schedule instead of the benchmark (mppe_ros.bench.node_schedule; node_schedule.json "
        "and .md): --node-seconds (default 30 here), the first of --sizes (default 640x480) and --precision apply",
    )
    option(
        "--node-persons",
        type=_list(int),
        default=[2, 5],
        help="comma-separated person counts of --node-schedule (default 2,5)",
    )
    option(
        "--node-intervals",
        type=_list(float),
        default=[0.0, 0.5, 1.0],
        help="comma-separated detection_interval_s values, s, of --node-schedule; 0 is "
        "added when missing (default 0,0.5,1)",
    )
    option("--node-rounds", type=int, default=1, help="interleaved rounds of --node-schedule (default 1)")
    option(
        "--node-detector",
        default="fasterrcnn_mobilenet_v3_large_320_fpn",
        help="the detector network of --node-schedule (default fasterrcnn_mobilenet_v3_large_320_fpn)",
    )
    option("--node-detector-min-size", type=int, default=320,
           help="its shorter image side, px (the detector_min_size_px setting; default 320)")  # fmt: skip
