"""Measurement pieces of `mppe-ros bench` (mppe_ros.bench.benchmark): one configuration, frame by frame.

A detector wrapper that injects boxes, the ROS edge (image conversion, message building), per-frame
stage timing of our pipeline interleaved with the official per-person pipeline (reference 1), and
the accuracy and parity of results. Times are wall-clock seconds (CUDA synchronised where a stage
ends on the GPU). Timers: mppe_ros.bench.timing; reference 2: mppe_ros.bench.throughput; the
ablation: mppe_ros.bench.ablation; synthetic inputs and weights: mppe_ros.testing.synthetic.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mppe_ros.bench.timing import peak_memory_mb, stats
from mppe_ros.camera import PinholeCamera
from mppe_ros.pipeline import MppePipeline
from mppe_ros.testing.reference import OfficialPipeline

DETECTOR_PERSONS = 10  # persons behind the detector configuration (boxes returned after detection)
FOCAL_PX = 1500.0  # the official demo's focal length


# --- inputs --------------------------------------------------------------------------------------


class FixedBoxesDetector:
    """Runs a real detector (its cost is what is measured) and returns the injected boxes.

    Args:
        detector: a PersonDetector.
        boxes_xywh: [N, 4] boxes returned instead of the detections, px.
        autocast: on CUDA, run the detector under torch.autocast with this dtype (None: as is).
    """

    def __init__(self, detector: Callable, boxes_xywh: np.ndarray, autocast: torch.dtype | None = None) -> None:
        self.detector = detector
        self.boxes_xywh = boxes_xywh
        self.autocast = autocast

    def __call__(self, image_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with torch.autocast("cuda", dtype=self.autocast or torch.float16, enabled=self.autocast is not None):
            self.detector(image_bgr)
        return self.boxes_xywh, np.ones(len(self.boxes_xywh))


def random_detector(folder: Path, device: torch.device, min_size_px: int) -> Callable:
    """torchvision Faster R-CNN R50-FPN with seeded random weights (timing only)."""
    from torchvision.models import detection

    from mppe_ros.detection import TorchvisionPersonDetector

    path = folder / "fasterrcnn_random.pth"
    if not path.exists():
        torch.manual_seed(0)
        torch.save(detection.fasterrcnn_resnet50_fpn(weights=None, weights_backbone=None).state_dict(), path)
    return TorchvisionPersonDetector("fasterrcnn_resnet50_fpn", path, min_size_px=min_size_px, device=device)


class RosEdge:
    """Image conversion and message building through mppe_ros.ros.conversions and mppe_ros.ros.pose_messages (the
    ROS edge) when they import (ROS 2 and the built messages present); otherwise those stages are None."""

    def __init__(self) -> None:
        try:
            from mppe_ros.ros import conversions, pose_messages
        except ImportError as error:  # no ROS 2 / messages not built
            self.note = f"image conversion and message building skipped: {error}"
            self.conversions = self.messages = None
            return
        self.note = None
        self.conversions, self.messages = conversions, pose_messages
        self.header = conversions.Header(frame_id="camera_optical_frame")

    def image_message(self, image_bgr: np.ndarray) -> Any:
        """The frame as a sensor_msgs/Image (rgb8, as most drivers publish), or the array."""
        if self.conversions is None:
            return image_bgr
        return self.conversions.bgr_to_image_msg(image_bgr, self.header, "rgb8")


def run_frame(pipeline: MppePipeline, edge: RosEdge, message: Any, camera: PinholeCamera, boxes) -> tuple:
    """One frame through conversion, the pipeline and message building: (timings_s, result)."""
    start_s = time.perf_counter()
    image = edge.conversions.image_to_bgr(message) if edge.conversions else message
    converted_s = time.perf_counter()
    result = pipeline(image, camera, boxes_xywh=boxes)
    done_s = time.perf_counter()
    if edge.messages:
        edge.messages.result_to_msg(result, edge.header)
    end_s = time.perf_counter()
    timings = {"image_conversion": converted_s - start_s, **result.timings_s}
    timings.update(message_building=end_s - done_s, end_to_end=end_s - start_s)
    timings["nets"] = timings["rootnet"] + timings["posenet"]
    return timings, result


def measure_config(
    pipeline: MppePipeline,
    official: OfficialPipeline | None,
    edge: RosEdge,
    image: np.ndarray,
    boxes: np.ndarray | None,
    repeats: int,
    warmup: int,
) -> dict[str, Any]:
    """Ours and the official per-person way, interleaved frame by frame on the same frame.

    The official pipeline gets the boxes our pipeline used; with a detector, its end-to-end time
    includes our detection time of that frame (the official demo has no detector of its own).
    """
    device = pipeline.device
    message = edge.image_message(image)
    camera = PinholeCamera(FOCAL_PX, FOCAL_PX, image.shape[1] / 2, image.shape[0] / 2, image.shape[1], image.shape[0])
    samples: dict[str, list[float]] = {}
    reference = {"nets": [], "end_to_end": []}
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    persons = 0
    for index in range(warmup + repeats):
        timings, result = run_frame(pipeline, edge, message, camera, boxes)
        persons = len(result.persons)
        if official is not None:
            official.rootnet.seconds = official.posenet.seconds = 0.0
            start_s = time.perf_counter()
            official(image, [p.box_xywh_px for p in result.persons])
            reference_s = time.perf_counter() - start_s + timings["detection"]  # the same detector, if any
        if index < warmup:
            continue
        for stage, seconds in timings.items():
            samples.setdefault(stage, []).append(seconds)
        if official is not None:
            reference["nets"].append(official.rootnet.seconds + official.posenet.seconds)
            reference["end_to_end"].append(reference_s)
    record: dict[str, Any] = {"persons": persons, "stages": {k: stats(v) for k, v in samples.items()}}
    record["fps"] = 1.0 / record["stages"]["end_to_end"]["median_s"]
    if edge.conversions is None:
        for stage in ("image_conversion", "message_building"):
            record["stages"][stage] = None
    if official is not None and persons:
        record["reference"] = {name: stats(values) for name, values in reference.items()}
        record["speedup_vs_reference"] = {
            f"{part}_{estimate}": record["reference"][part][f"{estimate}_s"] / record["stages"][part][f"{estimate}_s"]
            for part in ("nets", "end_to_end")
            for estimate in ("median", "min")
        }
    record.update(peak_memory_mb(device))
    return record


def accuracy(reference_result, result) -> dict[str, float]:
    """Joint differences of two PoseResults of the same frame: 3D (mm), 2D (px), root depth (mm)."""
    pairs = list(zip(reference_result.persons, result.persons, strict=True))
    joints_mm = np.concatenate([np.linalg.norm(a.joints_cam_m - b.joints_cam_m, axis=-1) for a, b in pairs]) * 1000
    joints_px = np.concatenate([np.linalg.norm(a.joints_px - b.joints_px, axis=-1) for a, b in pairs])
    return {
        "persons": len(pairs),
        "joints_mean_mm": float(joints_mm.mean()),
        "joints_max_mm": float(joints_mm.max()),
        "joints_mean_px": float(joints_px.mean()),
        "joints_max_px": float(joints_px.max()),
        "root_depth_max_mm": float(max(abs(a.root_depth_mm - b.root_depth_mm) for a, b in pairs)),
    }


def parity_vs_official(result, official_outputs: list[dict]) -> dict[str, float]:
    """Our result against OfficialPipeline's on the same frame: largest coordinate differences (px, mm)."""
    pairs = list(zip(result.persons, official_outputs, strict=True))
    return {
        "persons": len(pairs),
        "joints_max_px": max(float(np.abs(p.joints_px - o["pose_2d_px"]).max()) for p, o in pairs),
        "joints_max_mm": max(float(np.abs(p.joints_cam_m * 1000.0 - o["pose_3d_mm"]).max()) for p, o in pairs),
        "root_depth_max_mm": max(abs(p.root_depth_mm - o["root_depth_mm"]) for p, o in pairs),
    }
