"""`mppe-ros process INPUT... --out OUTPUT`: every frame of bags, videos or image folders through the node's frame
path, written back as a bag (plus --jsonl, --video); `--ray` runs one recording per Ray task (docs/recordings.md).

Exit codes: 0 done (bad frames are counted, not fatal), 1 a recording failed (others still ran), 2 a usage error (an
input that is not a recording, an existing --out without --overwrite, bad parameters), 130 interrupted (SIGINT).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import signal
import sys
from pathlib import Path
from typing import Any

EXIT_USAGE, EXIT_FAILED, EXIT_INTERRUPTED = 2, 1, 130


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `mppe-ros process`."""
    parser.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="rosbag2 folder, .mcap, .db3, ROS 1 .bag, video or image folder"
    )
    parser.add_argument(
        "--out", required=True, help="output bag folder (with several inputs or --ray: a folder of bags)"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    parser.add_argument("--storage", choices=("mcap", "sqlite3"), default="mcap", help="output bag storage")
    parser.add_argument("--no-copy-input", action="store_true", help="do not copy the input image topics")
    parser.add_argument("--jsonl", help="also write one JSON line per answered frame here (one input only)")
    parser.add_argument(
        "--video", help="also write the frames with skeletons and ids drawn here, .mp4 (one input only)"
    )
    parser.add_argument("--image-topic", default="", help="the Image or CompressedImage topic (default: the only one)")
    parser.add_argument("--camera-info-topic", default="", help="the CameraInfo topic (default: the only one)")
    parser.add_argument("--camera-info", help="camera_calibration YAML or CameraInfo YAML for a video or image folder")
    parser.add_argument("--fps", type=float, help="stamps of a video or image folder: frame i at i/fps s")
    parser.add_argument(
        "--params-file", action="append", default=[], help="mppe_node parameter YAML (config/mppe.yaml)"
    )
    parser.add_argument("-p", dest="overrides", action="append", default=[], metavar="NAME:=VALUE", help="a parameter")
    parser.add_argument("--boxes", help="JSON [[x, y, w, h], ...] px used for every frame instead of the detector")
    parser.add_argument("--untrained", action="store_true", help="random PoseNet/RootNet weights (testing only)")
    parser.add_argument(
        "--report-every", type=int, default=100, help="without a terminal: a progress line every N frames"
    )
    parser.add_argument(
        "--ray", nargs="?", const="", default=None, metavar="ADDRESS", help="one Ray task per recording"
    )
    parser.add_argument("--ray-cpus-per-task", type=float, default=1.0, help="CPUs a Ray task reserves")
    parser.add_argument("--ray-gpus-per-task", type=float, default=0.0, help="GPUs a Ray task reserves")


def sha256(path: str | Path) -> str:
    """The file's sha256 (hex)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def output_paths(args: argparse.Namespace) -> list[Path]:
    """The output bag of each input: --out itself for one input, else --out/<input name>."""
    out = Path(args.out)
    if len(args.inputs) == 1 and args.ray is None:
        return [out]
    return [out / Path(name).name.replace(".", "_") for name in args.inputs]


def check_outputs(args: argparse.Namespace) -> None:
    """Refuse an existing --out (ValueError) unless --overwrite, which removes it."""
    out = Path(args.out)
    if out.exists():
        if not args.overwrite:
            raise ValueError(f"--out {out} exists: pass --overwrite to replace it")
        shutil.rmtree(out) if out.is_dir() else out.unlink()
    if len(output_paths(args)) > 1 or args.ray is not None:
        if args.jsonl or args.video:
            raise ValueError("--jsonl and --video take one input without --ray")
        out.mkdir(parents=True)


def run_one(args: argparse.Namespace, index: int, stop: Any = None) -> dict[str, Any]:
    """Process input `index` of `args` into its output; returns its summary (RunSummary.to_dict)."""
    from mppe_ros.apps.process_setup import build
    from mppe_ros.ros.recording.run import RunOptions, process_recording

    config, pipeline, boxes, provenance = build(args)
    options = RunOptions(
        out=output_paths(args)[index], storage=args.storage, jsonl=Path(args.jsonl) if args.jsonl else None,
        video=Path(args.video) if args.video else None, copy_input=not args.no_copy_input, image_topic=args.image_topic,
        camera_info_topic=args.camera_info_topic, camera_info=Path(args.camera_info) if args.camera_info else None,
        fps=args.fps, progress_bar=sys.stderr.isatty() and args.ray is None, report_every=args.report_every,
        provenance=provenance,
    )  # fmt: skip
    summary = process_recording(args.inputs[index], config, pipeline, boxes, options, stop or (lambda: False))
    return summary.to_dict() | {"text": summary.text()}


def run_process(args: argparse.Namespace) -> int:
    """`mppe-ros process`: sequentially, or on Ray with --ray; prints each summary."""
    from mppe_ros.recordings.inputs import classify

    for name in args.inputs:
        classify(name)  # one line, exit 2, before anything starts
    check_outputs(args)
    if args.ray is not None:
        from mppe_ros.recordings.ray_runner import run_on_ray

        results = run_on_ray(
            [(Path(name).name, run_one, (args, index)) for index, name in enumerate(args.inputs)],
            args.ray or None, args.ray_cpus_per_task, args.ray_gpus_per_task,
        )  # fmt: skip
        failed = 0
        for name, result in results:
            if isinstance(result, str):
                failed += 1
                sys.stderr.write(f"mppe-ros process: {name} failed: {result}\n")
            else:
                print(result["text"])
        return EXIT_FAILED if failed else 0
    stopping = {"requested": False}

    def request_stop(signum: int, frame: object) -> None:
        stopping["requested"] = True

    previous = signal.signal(signal.SIGINT, request_stop)
    try:
        for index in range(len(args.inputs)):
            result = run_one(args, index, lambda: stopping["requested"])
            print(result["text"], flush=True)
            if result["interrupted"]:
                return EXIT_INTERRUPTED
    finally:
        signal.signal(signal.SIGINT, previous)
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m mppe_ros.apps.process ...` (the same as `mppe-ros process ...`)."""
    parser = argparse.ArgumentParser(prog="mppe-ros process")
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run_process(args)
    except (OSError, ValueError) as error:
        sys.stderr.write(f"mppe-ros process: error: {error}\n")
        return EXIT_USAGE


def summary_json(results: list[dict[str, Any]]) -> str:
    """The summaries as JSON (for scripts)."""
    return json.dumps([{k: v for k, v in r.items() if k != "text"} for r in results], indent=2)


if __name__ == "__main__":
    sys.exit(main())
