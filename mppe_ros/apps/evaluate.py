"""`mppe-ros evaluate mupots|h36m`: the paper's table on the user's machine (docs/evaluation.md).

    mppe-ros evaluate mupots --data DIR [--boxes bbox_root_mupots_output.json | --predictions DIR] [--out DIR]
    mppe-ros evaluate h36m --data DIR --protocol 1|2 [--gt-boxes-roots | --boxes FILE] [--out DIR]

MuPoTS-3D: both official prediction files (preds_2d/3d_kpt_mupots.mat) are written to --out and scored as read
back; --predictions scores existing files without any network. Errors the user can fix: ValueError / OSError,
turned into one line and exit 2 by mppe_ros.apps.cli.main.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import cv2
import numpy as np

from mppe_ros.camera import PinholeCamera
from mppe_ros.evaluation import runner
from mppe_ros.evaluation.ap_root import RootPrediction, ap_root
from mppe_ros.evaluation.h36m_data import read_samples
from mppe_ros.evaluation.h36m_protocol import joint_errors, mrpe, score_samples
from mppe_ros.evaluation.mupots_data import (
    ANNOTATION_FILE,
    TEST_SET,
    BoxRoot,
    read_annotation_json,
    read_boxes,
    read_sequence,
    sequences_in,
)
from mppe_ros.evaluation.mupots_protocol import JOINT_NUM, FramePrediction, frame_key, score_sequences
from mppe_ros.evaluation.mupots_summary import summarize
from mppe_ros.evaluation.prediction_files import read_prediction_files, write_prediction_files
from mppe_ros.evaluation.report import MUPOTS_MODES, h36m_document, markdown, mupots_document, sha256_of, write_report
from mppe_ros.joint_sets import H36M_18, get_joint_set
from mppe_ros.pipeline import DETECTOR_MODEL_NAMES, PRECISIONS, MppePipeline, PipelineConfig
from mppe_ros.preprocessing import process_bbox
from mppe_ros.weights import DEFAULT_WEIGHTS, resolve_weights

T = TypeVar("T")


def add_parser(commands: Any) -> None:
    """Register `evaluate` (with `mupots` and `h36m`) on the `mppe-ros` subcommands."""
    evaluate = commands.add_parser("evaluate", help="the paper's table: MuPoTS-3D 3DPCK/AP_root, Human3.6M MPJPE")
    datasets = evaluate.add_subparsers(dest="dataset", required=True)
    mupots = datasets.add_parser("mupots", help="MuPoTS-3D (mpii_mupots_multiperson_eval.m, AP_root)")
    mupots.add_argument("--data", required=True, help=f"folder with {ANNOTATION_FILE} and {TEST_SET}/TS1..TS20")
    mupots.add_argument("--boxes", help="bbox_root_mupots_output.json (RootNet's release): the paper's boxes and roots")
    mupots.add_argument("--predictions", help="score the preds_*_kpt_mupots.mat files of this folder (no network)")
    h36m = datasets.add_parser("h36m", help="Human3.6M protocol 1 (PA-MPJPE) or 2 (MPJPE), RootNet's MRPE")
    h36m.add_argument("--data", required=True, help="folder with annotations/ and images/ of the 3DMPPE release")
    h36m.add_argument("--protocol", type=int, choices=(1, 2), required=True)
    source = h36m.add_mutually_exclusive_group()
    source.add_argument("--gt-boxes-roots", action="store_true", help="ground-truth boxes and roots (the paper's "
                        "'with ground-truth information' rows)")  # fmt: skip
    source.add_argument("--boxes", help="bbox_root_human36m_output.json (default: DATA/bbox_root/ if present)")
    for parser in (mupots, h36m):
        parser.add_argument("--out", default="evaluation_output", help="folder for the report (and .mat files)")
        parser.add_argument("--posenet", help="PoseNet checkpoint (default: the weights cache)")
        parser.add_argument("--rootnet", help="RootNet checkpoint (default: the weights cache)")
        parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
        parser.add_argument("--precision", default="fp32", choices=PRECISIONS, help="network precision")
        parser.add_argument("--no-flip", action="store_true", help="skip the flip test (the official test flips)")
        parser.add_argument("--allow-download", action="store_true", help="download missing weights")
        parser.add_argument("--untrained", action="store_true", help="random weights (testing only: meaningless)")
    mupots.add_argument("--detector", default=DETECTOR_MODEL_NAMES[0], choices=DETECTOR_MODEL_NAMES,
                        help="person detector (without --boxes)")  # fmt: skip
    evaluate.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Dispatch to the data set; print the Markdown table."""
    document = run_mupots(args) if args.dataset == "mupots" else run_h36m(args)
    sys.stdout.write(markdown(document))
    return 0


def progress(items: Iterable[T], total: int, what: str) -> Iterator[T]:
    """tqdm on stderr when it is a terminal, else the items as they are."""
    from tqdm import tqdm

    yield from tqdm(items, total=total, desc=what, disable=not sys.stderr.isatty())


def _pipeline(args: argparse.Namespace, joint_set: str, temp_dir: str, detector: str) -> tuple[MppePipeline, dict]:
    """The pipeline of the given or cached weights, and the settings naming them (sha256)."""
    posenet_name, rootnet_name = DEFAULT_WEIGHTS[joint_set]
    if args.untrained:
        from mppe_ros.testing.synthetic import trained_like_weights

        sys.stderr.write("WARNING: --untrained: RANDOM weights, the numbers are MEANINGLESS\n")
        posenet, rootnet = trained_like_weights(Path(temp_dir), get_joint_set(joint_set).joint_num)
        paths = {posenet_name: posenet, rootnet_name: rootnet}
    else:
        requests = {posenet_name: args.posenet or None, rootnet_name: args.rootnet or None}
        paths = resolve_weights(requests, allow_download=args.allow_download)
    config = PipelineConfig(joint_set=joint_set, posenet_path=str(paths[posenet_name]),
                            rootnet_path=str(paths[rootnet_name]), detector=detector, device=args.device,
                            precision=args.precision)  # fmt: skip
    pipeline = MppePipeline.from_config(config)
    settings = {"posenet": str(paths[posenet_name]), "posenet_sha256": sha256_of(paths[posenet_name]),
                "rootnet": str(paths[rootnet_name]), "rootnet_sha256": sha256_of(paths[rootnet_name]),
                "untrained": args.untrained, "precision": args.precision, "device": str(pipeline.device),
                "flip_test": not args.no_flip}  # fmt: skip
    return pipeline, settings


def _image(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION) if path.is_file() else None
    if image is None:
        raise ValueError(f"{path}: missing or not an image (expected the data set's frame)")
    return image


def run_mupots(args: argparse.Namespace) -> dict[str, Any]:
    """MuPoTS-3D: predictions (networks or files), the four modes, AP_root, the report in --out."""
    data, out = Path(args.data), Path(args.out)
    ground_truth = {sequence: read_sequence(data, sequence) for sequence in sequences_in(data)}
    keys = [frame_key(s, i) for s, frames in ground_truth.items() for i, persons in enumerate(frames) if persons]
    boxes = read_boxes(Path(args.boxes)) if args.boxes else None
    settings: dict[str, Any] = {"data": str(data), "sequences": len(ground_truth)}
    roots: list[RootPrediction] | None = None
    if boxes is not None:
        roots = [RootPrediction(box.image_id, box.root_cam_mm, box.score) for box in boxes]
    if args.predictions:
        folder = Path(args.predictions)
        settings.update(predictions=str(folder), boxes=args.boxes or "none (AP_root needs --boxes)")
    else:
        images, _ = read_annotation_json(data / ANNOTATION_FILE)
        with tempfile.TemporaryDirectory(prefix="mppe_ros_eval_") as temp_dir:
            pipeline, network_settings = _pipeline(args, "muco_21", temp_dir, "none" if boxes else args.detector)
        settings.update(network_settings, boxes=args.boxes or f"our detector ({args.detector}) and RootNet")
        predictions, ours = _predict_mupots(pipeline, data, images, boxes, not args.no_flip)
        roots = roots if boxes is not None else ours
        write_prediction_files({key: predictions.get(key, _EMPTY) for key in {*predictions, *keys}}, out)
        if boxes is None:
            roots_json = [{"image_id": r.image_id, "root_cam": r.root_cam_mm.tolist(), "score": r.score} for r in ours]
            (out / "bbox_root_mupots_output.json").write_text(json.dumps(roots_json))
        folder = out
    read_back = read_prediction_files(folder, keys)
    tables = {mode: summarize(score_sequences(ground_truth, read_back, relative, matched_only))
              for mode, (relative, matched_only) in MUPOTS_MODES.items()}  # fmt: skip
    ap = ap_root(roots, read_annotation_json(data / ANNOTATION_FILE)[1]) if roots is not None else None
    document = mupots_document(tables, ap, settings)
    write_report(document, out, "mupots")
    return document


_EMPTY = FramePrediction(np.zeros((0, JOINT_NUM, 2)), np.zeros((0, JOINT_NUM, 3)))


def _predict_mupots(
    pipeline: MppePipeline, data: Path, images: dict, boxes: list[BoxRoot] | None, flip: bool
) -> tuple[dict[str, FramePrediction], list[RootPrediction]]:
    """Per image key the first 17 joints (px, camera mm), in the boxes' order; our roots (detector mode)."""
    by_image: dict[int, list[BoxRoot]] = {}
    for box in boxes or ():
        by_image.setdefault(box.image_id, []).append(box)
    predictions: dict[str, FramePrediction] = {}
    ours: list[RootPrediction] = []
    chosen = [image for image in images.values() if boxes is None or image.image_id in by_image]
    for image in progress(chosen, len(chosen), "MuPoTS-3D"):
        frame = _image(data / TEST_SET / image.file_name)
        fx, fy, cx, cy = image.intrinsic
        if boxes is not None:
            processed = np.array([box.bbox_xywh_px for box in by_image[image.image_id]])
            depth = np.array([box.root_cam_mm[2] for box in by_image[image.image_id]])
        else:
            result = pipeline(frame, PinholeCamera(fx, fy, cx, cy))
            processed = np.array([p.processed_box_xywh_px for p in result.persons]).reshape(-1, 4)
            depth = np.array([p.root_depth_mm for p in result.persons])
            ours += [RootPrediction(image.image_id, np.asarray(p.root_cam_m) * 1000.0, float(p.score))
                     for p in result.persons]  # fmt: skip
        coords = runner.posenet_on_boxes(pipeline, frame, processed, runner.MUPOTS_FLIP_PAIRS, flip)[:, :JOINT_NUM]
        joints_px, joints_mm = runner.decode_official(coords, processed, depth, (fx, fy), (cx, cy))
        predictions[image.key] = FramePrediction(joints_px, joints_mm)
    return predictions, ours


def run_h36m(args: argparse.Namespace) -> dict[str, Any]:
    """Human3.6M: the protocol's error with given (or ground-truth) boxes and roots, and the roots' MRPE."""
    data, out = Path(args.data), Path(args.out)
    samples = read_samples(data, args.protocol)
    boxes_path = Path(args.boxes) if args.boxes else data / "bbox_root" / "bbox_root_human36m_output.json"
    if not args.gt_boxes_roots and not boxes_path.is_file():
        raise ValueError(f"{boxes_path}: missing; pass --boxes bbox_root_human36m_output.json (RootNet's release) "
                         "or --gt-boxes-roots")  # fmt: skip
    released = {} if args.gt_boxes_roots else {box.image_id: box for box in read_boxes(boxes_path)}
    with tempfile.TemporaryDirectory(prefix="mppe_ros_eval_") as temp_dir:
        pipeline, settings = _pipeline(args, H36M_18.name, temp_dir, "none")
    settings.update(data=str(data), protocol=args.protocol,
                    boxes="ground truth (process_bbox) and ground-truth roots" if args.gt_boxes_roots
                    else str(boxes_path))  # fmt: skip
    errors, actions, pred_roots, gt_roots = [], [], [], []
    for sample in progress(samples, len(samples), f"Human3.6M protocol {args.protocol}"):
        gt_root = sample.joints_cam_mm[0]
        if args.gt_boxes_roots:
            box = process_bbox(sample.bbox_xywh_px, sample.width, sample.height)
            if box is None:
                continue
            root = gt_root
        else:
            if sample.image_id not in released:
                raise ValueError(f"{boxes_path}: no entry for image_id {sample.image_id} (a protocol test image)")
            box, root = released[sample.image_id].bbox_xywh_px, released[sample.image_id].root_cam_mm
        frame = _image(data / "images" / sample.file_name)
        boxes = np.asarray(box, dtype=np.float64).reshape(1, 4)
        coords = runner.posenet_on_boxes(pipeline, frame, boxes, H36M_18.flip_pairs, not args.no_flip)
        _, joints_mm = runner.decode_official(coords, boxes, np.array([root[2]]), sample.focal, sample.principal)
        errors.append(joint_errors(joints_mm[0], sample.joints_cam_mm, args.protocol))
        actions.append(sample.action_idx)
        rootnet = runner.rootnet_on_boxes(pipeline, frame, boxes, sample.focal, sample.principal)[0]
        pred_roots.append(rootnet if args.gt_boxes_roots else root)
        gt_roots.append(gt_root)
    scores = score_samples(np.array(errors).reshape(-1, 17), actions, args.protocol)
    roots = mrpe(np.array(pred_roots).reshape(-1, 3), np.array(gt_roots).reshape(-1, 3))
    mrpe_values = {"MRPE (mm)": roots.total_mm, "MRPE x (mm)": roots.x_mm, "MRPE y (mm)": roots.y_mm,
                   "MRPE z (mm)": roots.z_mm}  # fmt: skip
    settings["mrpe_roots"] = "our RootNet on the ground-truth boxes" if args.gt_boxes_roots else "the boxes file's"
    document = h36m_document(args.protocol, args.gt_boxes_roots, scores.error_mm, scores.per_action_mm, mrpe_values,
                             scores.samples, settings)  # fmt: skip
    write_report(document, out, f"h36m_protocol{args.protocol}")
    return document
