"""`mppe-ros`: the command line of the inference library (no ROS needed).

    mppe-ros infer IMAGE --fx F --fy F --cx C --cy C [--boxes boxes.json] [--precision fp32] [--json out.json]
        [--overlay out.png]
    mppe-ros weights [--download [--detector fasterrcnn_resnet50_fpn]]
    mppe-ros process INPUT... --out OUTPUT [--params-file F] [-p name:=value] [--jsonl F] [--video F] [--ray [ADDR]]
    mppe-ros bench [--quick] [--persons 1,5,10,20] [--device cpu,cuda] [--precision fp32,fp16] [--out DIR]
    mppe-ros evaluate mupots|h36m --data DIR ...   (mppe_ros/apps/evaluate.py)

Errors the user can fix (missing weights, unreadable image, bad intrinsics or boxes) end with a
message on stderr and exit code 2, without a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
import torch

from mppe_ros.apps import evaluate
from mppe_ros.bench import arguments as bench_arguments
from mppe_ros.camera import PinholeCamera
from mppe_ros.detection import DETECTOR_MODELS
from mppe_ros.joint_sets import JOINT_SETS, get_joint_set
from mppe_ros.overlay import draw_skeletons
from mppe_ros.pipeline import DETECTOR_MODEL_NAMES, PRECISIONS, MppePipeline, PipelineConfig
from mppe_ros.profiles import PROFILE_DETECTORS
from mppe_ros.results import PoseResult
from mppe_ros.weights import (
    DEFAULT_WEIGHTS,
    OFFICIAL_WEIGHTS,
    WeightsFile,
    WeightsNotFoundError,
    cache_dir,
    detector_file,
    download_command,
    download_files,
    official_file,
)

EXIT_USAGE = 2
UNTRAINED_WARNING = (
    "WARNING: --untrained: PoseNet and RootNet have RANDOM weights; the poses are MEANINGLESS "
    "(use this only to try the tool and its outputs)"
)


def build_parser() -> argparse.ArgumentParser:
    """The `mppe-ros` argument parser with its subcommands."""
    parser = argparse.ArgumentParser(
        prog="mppe-ros",
        description="Absolute 3D human poses from one RGB image (3DMPPE).",
        epilog="`python -m mppe_ros` takes the same commands, plus `demo` (make demo) and `node` (mppe_node).",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    infer = commands.add_parser("infer", help="estimate the 3D poses in one image")
    infer.add_argument("image", help="image file (read with OpenCV, BGR)")
    for name, what in (("fx", "focal length along x"), ("fy", "focal length along y"),
                       ("cx", "principal point x"), ("cy", "principal point y")):  # fmt: skip
        infer.add_argument(
            f"--{name}", type=float, required=True, help=f"{what}, px (the demo used 1500 and the image centre)"
        )
    infer.add_argument(
        "--dist", type=float, nargs="+", metavar="K", help="OpenCV distortion k1 k2 p1 p2 [k3 ...] (needs --raw)"
    )
    infer.add_argument("--raw", action="store_true", help="the image is raw (not rectified): undistort with --dist")
    infer.add_argument("--boxes", help="JSON file with a list of person boxes [x, y, w, h] in px; skips the detector")
    infer.add_argument("--posenet", help="PoseNet checkpoint (default: the weights cache, see `mppe-ros weights`)")
    infer.add_argument("--rootnet", help="RootNet checkpoint (default: the weights cache)")
    infer.add_argument(
        "--joint-set", default="muco_21", choices=sorted(JOINT_SETS), help="skeleton of the PoseNet file"
    )
    infer.add_argument(
        "--detector",
        default=DETECTOR_MODEL_NAMES[0],
        choices=DETECTOR_MODEL_NAMES,
        help="person detector (without --boxes)",
    )
    infer.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    infer.add_argument(
        "--precision", default="fp32", choices=PRECISIONS, help="network precision (fp16: CUDA only; see docs/node.md)"
    )
    infer.add_argument("--allow-download", action="store_true", help="download missing weights from the official links")
    infer.add_argument("--json", metavar="OUT", help="write the result as JSON to this file ('-': stdout)")
    infer.add_argument("--overlay", metavar="OUT", help="write the image with the skeletons drawn to this file")
    infer.add_argument("--untrained", action="store_true", help="random weights (testing only: meaningless poses)")
    infer.set_defaults(handler=run_infer)

    weights = commands.add_parser(
        "weights",
        help="show which weight files are found where; --download fetches the demo's files",
        description="Lists every weight file, where it is looked for and whether it is present. --download "
        "fetches the files the demo and the node's defaults need: PoseNet and RootNet (MuCo-3DHP, from "
        "Google Drive) into the weights cache ($MPPE_ROS_HOME) and the detector's COCO weights into "
        "torchvision's cache ($TORCH_HOME/hub/checkpoints); files already present are kept.",
    )
    weights.add_argument("--download", action="store_true", help="download the missing files the demo needs")
    weights.add_argument(
        "--detector",
        choices=DETECTOR_MODEL_NAMES,
        help="whose COCO weights --download fetches (the node's `detector` parameter; default: both profiles' "
        f"detectors, {' and '.join(PROFILE_DETECTORS)}: the node loads one of them by default, by the hardware)",
    )
    weights.set_defaults(handler=run_weights)

    bench = commands.add_parser("bench", help="per-stage speed against the official per-person pipeline")
    bench_arguments.add_arguments(bench)
    bench.set_defaults(handler=run_bench)
    evaluate.add_parser(commands)  # `mppe-ros evaluate mupots|h36m` (docs/evaluation.md)

    process = commands.add_parser("process", help="every frame of bags, videos or image folders, written as a bag")
    from mppe_ros.apps.process import add_arguments  # imports no ROS: rclpy only when `process` runs

    add_arguments(process)
    process.set_defaults(handler=run_process)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of `mppe-ros`; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
        return code
    except (WeightsNotFoundError, OSError, ValueError) as error:  # incl. CheckpointError, CameraIntrinsicsError
        sys.stderr.write(f"mppe-ros: error: {error}\n")
        return EXIT_USAGE


def run_infer(args: argparse.Namespace) -> int:
    """`mppe-ros infer`: one image -> summary on stdout, optional JSON and overlay files."""
    if args.dist and not args.raw:
        raise ValueError("--dist describes a raw (distorted) image: add --raw, or drop --dist for a rectified image")
    image_bgr = cv2.imread(args.image, cv2.IMREAD_COLOR) if Path(args.image).is_file() else None
    if image_bgr is None:
        raise ValueError(f"cannot read image {args.image!r} (missing, unreadable or not an image file)")
    camera = PinholeCamera(
        args.fx, args.fy, args.cx, args.cy, distortion=tuple(args.dist or ()), rectified=not args.raw
    )
    boxes_xywh = read_boxes(args.boxes) if args.boxes else None
    with tempfile.TemporaryDirectory(prefix="mppe_ros_untrained_") as temp_dir:
        posenet_path, rootnet_path = args.posenet, args.rootnet
        if args.untrained:
            sys.stderr.write(UNTRAINED_WARNING + "\n")
            joint_num = get_joint_set(args.joint_set).joint_num
            from mppe_ros.testing.synthetic import trained_like_weights  # the tests' and benchmarks' recipe

            posenet_path, rootnet_path = map(str, trained_like_weights(Path(temp_dir), joint_num))
        config = PipelineConfig(
            joint_set=args.joint_set,
            posenet_path=posenet_path,
            rootnet_path=rootnet_path,
            detector="none" if boxes_xywh is not None else args.detector,
            device=args.device,
            precision=args.precision,
            allow_download=args.allow_download,
        )
        pipeline = MppePipeline.from_config(config)
    result = pipeline(image_bgr, camera, boxes_xywh=boxes_xywh)
    print_summary(result)
    if args.json:
        document = {"image": args.image, "untrained": args.untrained, **result.to_json_dict()}
        text = json.dumps(document, indent=2)
        if args.json == "-":
            sys.stdout.write(text + "\n")
        else:
            Path(args.json).write_text(text + "\n")
    if args.overlay and not cv2.imwrite(args.overlay, draw_skeletons(image_bgr, result)):
        raise ValueError(f"cannot write overlay {args.overlay!r} (unknown image extension or unwritable path?)")
    if args.untrained:
        sys.stderr.write(UNTRAINED_WARNING + "\n")
    return 0


def read_boxes(path: str) -> np.ndarray:
    """float64 [N, 4] boxes from a JSON list of [x, y, w, h] (px); ValueError if malformed."""
    try:
        boxes = json.loads(Path(path).read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"boxes file {path!r} is not valid JSON: {error}") from None
    array = np.asarray(boxes, dtype=np.float64) if isinstance(boxes, list) else None
    if array is None or (array.size and (array.ndim != 2 or array.shape[1] != 4)):
        raise ValueError(f"boxes file {path!r} must hold a JSON list of [x, y, w, h] lists (px), got {boxes!r:.200}")
    return array.reshape(-1, 4)


def print_summary(result: PoseResult) -> None:
    """One line per person (root in m, optical frame) and one line of stage timings, on stdout."""
    print(f"{len(result.persons)} persons ({result.joint_set.name})")
    for index, person in enumerate(result.persons):
        x_m, y_m, z_m = person.root_cam_m
        print(f"  #{index}: score {person.score:.2f}, root x {x_m:+.3f} y {y_m:+.3f} z {z_m:.3f} m, "
              f"box {np.round(person.box_xywh_px, 1).tolist()}")  # fmt: skip
    print("  time: " + ", ".join(f"{stage} {seconds * 1000:.1f} ms" for stage, seconds in result.timings_s.items()))


def run_bench(args: argparse.Namespace) -> int:
    """`mppe-ros bench`: the benchmark stack is imported only here, not for `infer` or `weights`."""
    from mppe_ros.bench import benchmark

    return benchmark.main(args)


def run_process(args: argparse.Namespace) -> int:
    """`mppe-ros process` (mppe_ros.apps.process: rclpy and rosbags are imported only here)."""
    from mppe_ros.apps import process

    return process.run_process(args)


def demo_weights_files(detector: str | None = None) -> list[WeightsFile]:
    """The files the demo (and the node's default parameters) need: PoseNet, RootNet and the COCO weights of
    `detector`, or (None) of both profiles' detectors (mppe_ros.profiles: the node's default follows the hardware)."""
    posenet, rootnet = DEFAULT_WEIGHTS["muco_21"]
    detectors = [detector] if detector else list(PROFILE_DETECTORS)
    return [official_file(posenet), official_file(rootnet)] + [
        detector_file(name, DETECTOR_MODELS[name][1].url) for name in detectors
    ]


def all_weights_files() -> list[WeightsFile]:
    """Every file `mppe-ros weights` lists: OFFICIAL_WEIGHTS in the cache, then each detector's COCO weights."""
    return [official_file(name) for name in OFFICIAL_WEIGHTS] + [
        detector_file(name, entry[1].url) for name, entry in DETECTOR_MODELS.items()
    ]


def run_weights(args: argparse.Namespace) -> int:
    """`mppe-ros weights`: each file, where it is looked for, present or missing; `--download` fetches the demo's."""
    if args.download:
        files = demo_weights_files(args.detector)
        download_files(files)  # WeightsNotFoundError (exit 2) lists what failed
        print(f"all {len(files)} weight files are present: make demo, mppe-ros infer and the node find them")
        return 0
    print(f"weights cache: {cache_dir()} (set MPPE_ROS_HOME to change)")
    print(f"detector weights: torchvision's cache {torch.hub.get_dir()}/checkpoints (set TORCH_HOME to change)")
    files = all_weights_files()
    width = max(len(item.name) for item in files)
    for item in files:
        present = item.path.is_file()
        where = str(item.path) if present else f"put it at {item.path}"
        print(f"{item.name:<{width}}  {'present' if present else 'missing':<8} {where}")
        print(f"{'':<{width}}  {item.description}; link: {item.link}")
    demo = demo_weights_files(args.detector)
    missing = [item.name for item in demo if not item.path.is_file()]
    if missing:
        print(f"the demo needs {len(demo)} files, {len(missing)} missing ({', '.join(missing)}): "
              f"fetch them with `{download_command(args.detector)}`")  # fmt: skip
    else:
        print(f"the demo's {len(demo)} files are present")
    return 0


if __name__ == "__main__":
    sys.exit(main())
