"""Measurement pieces of `mppe-ros bench` (mppe_ros.bench.benchmark): inputs, timers, references.

Synthetic frames and person boxes, trained-like official-format weight files, a detector wrapper,
per-frame stage timing of our pipeline interleaved with the official per-person pipeline, GEMM
throughput, FLOP counting, peak memory, accuracy and parity of results, and the ablation of each
optimisation. Times are wall-clock seconds (CUDA synchronised where a stage ends on the GPU).
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode
from torchvision.models.resnet import Bottleneck

from mppe_ros.acceleration import cpu_has_native_bf16, ieee_float32, prepare_for_inference
from mppe_ros.camera import PinholeCamera
from mppe_ros.checkpoints import save_official_checkpoint
from mppe_ros.networks import INPUT_SIZE_PX, build_posenet, build_rootnet
from mppe_ros.pipeline import MppePipeline
from mppe_ros.testing.reference import OfficialPipeline

DETECTOR_PERSONS = 10  # persons behind the detector configuration (boxes returned after detection)
FOCAL_PX = 1500.0  # the official demo's focal length
RESIDUAL_SCALE = 0.2  # trained_like_nets: scale of each residual branch's last BatchNorm


# --- synthetic inputs ------------------------------------------------------------------------------


def synthetic_frame(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A uint8 BGR frame with gradients, blocks and noise."""
    rng = np.random.default_rng(seed)
    v, u = np.mgrid[0:height, 0:width]
    image = np.stack([u * 255 // (width - 1), v * 255 // (height - 1), (u + v) % 256], axis=2)
    for _ in range(24):
        x, y = rng.integers(0, width), rng.integers(0, height)
        image[y : y + height // 8, x : x + width // 16] = rng.integers(0, 256, 3)
    return np.clip(image + rng.integers(-20, 21, image.shape), 0, 255).astype(np.uint8)


def person_boxes(count: int, width: int, height: int) -> np.ndarray:
    """[count, 4] (x, y, w, h) px: upright person-sized boxes on a grid covering the frame."""
    columns = int(np.ceil(np.sqrt(count * width / height)))
    rows = int(np.ceil(count / columns))
    cell_w, cell_h = width / columns, height / rows
    index = np.arange(count)
    x, y = (index % columns) * cell_w, (index // columns) * cell_h
    sizes = np.broadcast_to([0.6 * cell_w, 0.9 * cell_h], (count, 2))
    return np.concatenate([np.stack([x + 0.2 * cell_w, y + 0.05 * cell_h], 1), sizes], 1)


def trained_like_nets(joint_num: int = 21, seed: int = 0) -> tuple[nn.Module, nn.Module]:
    """Seeded random PoseNet and RootNet (eval mode) whose value ranges resemble trained ones.

    Untrained ResNets with identity BatchNorm statistics reach activations of ~1e5 (float16
    overflows) and heatmap logits of ~1e3 (a one-hot softmax); a trained net has neither. So the
    BatchNorm statistics are calibrated on synthetic crops (one train-mode pass) and the output
    layers scaled: heatmap logits with a standard deviation of 3, gamma ~1 (depth ~ k).
    """
    torch.manual_seed(seed)
    crop = torch.from_numpy(synthetic_frame(128, 128, seed)).permute(2, 0, 1).float()
    images = torch.stack([crop, crop.flip(2)]) * 4.0 - 500.0  # ~ the range of the (0..255 - mean) / std input
    posenet, rootnet = build_posenet(joint_num), build_rootnet()
    for net, head in ((posenet, posenet.head), (rootnet, rootnet.root)):
        for module in net.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.momentum = None  # cumulative average: exactly this pass's statistics
        output_layer = head.final_layer if net is posenet else head.xy_layer
        with torch.no_grad():
            logits = output_layer(head.deconv_layers(net.train().backbone(images)))
            net.eval()
            for block in net.backbone.modules():
                if isinstance(block, Bottleneck):  # damped residual branches, as trained ResNets have
                    block.bn3.weight.mul_(RESIDUAL_SCALE)
                    block.bn3.bias.mul_(RESIDUAL_SCALE)
            logits = output_layer(head.deconv_layers(net.backbone(images)))
            output_layer.weight.mul_(3.0 / logits.std().clamp_min(1e-6))
            output_layer.bias.zero_()
            if net is rootnet:
                head.depth_layer.weight.mul_(0.01)
                head.depth_layer.bias.fill_(1.0)
    return posenet, rootnet


def trained_like_weights(folder: Path, joint_num: int = 21, seed: int = 0) -> tuple[Path, Path]:
    """trained_like_nets saved as released-format files: (PoseNet file, RootNet file) in `folder`."""
    paths = folder / "posenet_snapshot_24.pth.tar", folder / "rootnet_snapshot_18.pth.tar"
    for net, path in zip(trained_like_nets(joint_num, seed), paths, strict=True):
        save_official_checkpoint(net, path)
    return paths


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


# --- measurements ----------------------------------------------------------------------------------


def synchronize(device: torch.device) -> None:
    """Wait for queued CUDA work (no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class TimedNet(nn.Module):
    """Adds the wall time of each forward (synchronised) to `seconds`."""

    def __init__(self, net: nn.Module, device: torch.device) -> None:
        super().__init__()
        self.net, self.device, self.seconds = net, device, 0.0

    def forward(self, *args: torch.Tensor):
        synchronize(self.device)
        start_s = time.perf_counter()
        output = self.net(*args)
        synchronize(self.device)
        self.seconds += time.perf_counter() - start_s
        return output


def stats(samples_s: Sequence[float]) -> dict[str, float]:
    """median, p90, min and mean of latencies (s)."""
    values = np.asarray(samples_s, dtype=np.float64)
    return {
        "median_s": float(np.median(values)),
        "p90_s": float(np.percentile(values, 90)),
        "min_s": float(values.min()),
        "mean_s": float(values.mean()),
        "samples": len(values),
    }


def count_flops(posenet: nn.Module, rootnet: nn.Module) -> dict[str, int]:
    """FLOPs (2 per multiply-add) of one 256x256 crop through each network, counted by torch."""
    images = torch.zeros(1, 3, INPUT_SIZE_PX, INPUT_SIZE_PX)
    flops = {}
    for name, net, args in (("posenet", posenet, (images,)), ("rootnet", rootnet, (images, torch.ones(1)))):
        with torch.inference_mode(), FlopCounterMode(display=False) as counter:
            net.cpu()(*args)
        flops[name] = int(counter.get_total_flops())
    flops["total"] = flops["posenet"] + flops["rootnet"]
    return flops


def gemm_plan(device: torch.device, dtype: torch.dtype, quick: bool = False) -> tuple[int, bool]:
    """(matrix side, with the oneDNN 1x1 convolution) of gemm_flops_per_s: a small matmul only where the
    CPU emulates reduced precision (no native bf16), which takes seconds per large product there."""
    emulated = device.type == "cpu" and dtype != torch.float32 and not cpu_has_native_bf16()
    size = 512 if (quick or emulated) else (8192 if device.type == "cuda" else 2048)
    return size, device.type == "cpu" and not emulated


def gemm_flops_per_s(device: torch.device, dtype: torch.dtype, quick: bool = False) -> dict[str, float]:
    """Best-of-3 large matrix products: torch.mm (MKL / cuBLAS) and, on the CPU, a 1x1
    convolution as a GEMM (oneDNN, the library running the networks). `best` is the higher."""
    size, with_conv = gemm_plan(device, dtype, quick)
    a = torch.randn(size, size, device=device).to(dtype)
    candidates: dict[str, tuple[Callable, float]] = {"matmul": (lambda: a @ a, 2.0 * size**3)}
    if with_conv:
        x = torch.randn(4, 1024, 32, 32).to(dtype).contiguous(memory_format=torch.channels_last)
        w = torch.randn(1024, 1024, 1, 1).to(dtype).contiguous(memory_format=torch.channels_last)
        candidates["conv1x1"] = (lambda: torch.nn.functional.conv2d(x, w), 2.0 * 4 * 32 * 32 * 1024 * 1024)
    result = {}
    # IEEE float32 on CUDA, as the prepared float32 networks compute (acceleration.ieee_float32).
    with torch.inference_mode(), ieee_float32():
        for name, (function, flops) in candidates.items():
            function()
            times = []
            for _ in range(3):
                synchronize(device)
                start_s = time.perf_counter()
                function()
                synchronize(device)
                times.append(time.perf_counter() - start_s)
            result[name] = flops / min(times)
    result["best"] = max(result.values())
    return result


def peak_memory_mb(device: torch.device) -> dict[str, float | None]:
    """Peak RSS of this process so far and CUDA max allocated since the last reset, MiB."""
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB
    cuda_mb = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None
    return {"peak_rss_mb": rss_mb, "cuda_max_allocated_mb": cuda_mb}


class RosEdge:
    """Image conversion and message building through mppe_ros.ros.conversions (the ROS edge) when it
    imports (ROS 2 and the built messages present); otherwise those stages are None."""

    def __init__(self) -> None:
        try:
            from mppe_ros.ros import conversions
        except ImportError as error:  # no ROS 2 / messages not built
            self.note = f"image conversion and message building skipped: {error}"
            self.conversions = None
            return
        self.note = None
        self.conversions, self.header = conversions, conversions.Header(frame_id="camera_optical_frame")

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
    if edge.conversions:
        edge.conversions.result_to_msg(result, edge.header)
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


def ablation(posenet: nn.Module, rootnet: nn.Module, device: torch.device, persons: int, rounds: int) -> list[dict]:
    """RootNet + PoseNet time of each optimisation step on the same crops, interleaved in rounds.

    Per person (official) -> one batch -> + BatchNorm folded -> + channels-last -> + PoseNet's
    final layer as an NCHW GEMM (ours, fp32); on CUDA then float16, and float16 with CUDA graphs.
    """
    torch.manual_seed(0)
    images = torch.randn(persons, 3, INPUT_SIZE_PX, INPUT_SIZE_PX, device=device) * 60.0
    k_value = torch.full((persons,), 1e4, device=device)
    plain_pose, plain_root = posenet.to(device).eval(), rootnet.to(device).eval()

    def batched(pose: nn.Module, root: nn.Module) -> Callable[[], None]:
        return lambda: (root(images, k_value), pose(images))

    def per_person() -> None:
        for index in range(persons):
            plain_root(images[index : index + 1], k_value[index : index + 1])
            plain_pose(images[index : index + 1])

    variants: dict[str, Callable[[], None]] = {"official: one forward per person, fp32": per_person}
    variants["one batch, fp32"] = batched(plain_pose, plain_root)
    for label, options in (
        ("+ BatchNorm folded", {"channels_last": False, "nchw_logits": False}),
        ("+ channels-last", {"nchw_logits": False}),
        ("+ final layer as NCHW GEMM", {}),
    ):
        variants[label + ", fp32"] = batched(*(prepare_for_inference(net, device, "fp32", **options)
                                               for net in (plain_pose, plain_root)))  # fmt: skip
    if device.type == "cuda":
        for graphs in (False, True):
            label = "fp16" + (" + CUDA graphs" if graphs else "")
            variants[label] = batched(*(prepare_for_inference(net, device, "fp16", cuda_graphs=graphs)
                                        for net in (plain_pose, plain_root)))  # fmt: skip
    times: dict[str, list[float]] = {label: [] for label in variants}
    with torch.inference_mode():
        for round_index in range(rounds + 1):  # round 0 warms up
            for label, function in variants.items():
                synchronize(device)
                start_s = time.perf_counter()
                function()
                synchronize(device)
                if round_index:
                    times[label].append(time.perf_counter() - start_s)
    base = stats(times["official: one forward per person, fp32"])
    rows = []
    for label, samples in times.items():
        row = {"variant": label, "persons": persons, "nets": stats(samples)}
        row["speedup_median"] = base["median_s"] / row["nets"]["median_s"]
        row["speedup_min"] = base["min_s"] / row["nets"]["min_s"]
        rows.append(row)
    return rows
