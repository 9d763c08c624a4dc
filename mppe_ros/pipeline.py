"""The 3DMPPE inference pipeline: person boxes -> crops -> RootNet + PoseNet -> absolute 3D poses.

All persons of an image go through each network in one batch; the crops are cut once and shared
by both networks. Bad input raises a ValueError (or CameraIntrinsicsError) that says what to fix,
before anything reaches torch. A box that the official process_bbox rejects (zero size, entirely
outside the image, NaN) is skipped: the result has no person for it (PersonPose.box_xywh_px says
which input box each person came from). No box at all gives an empty result without running the
networks.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Iterator
from dataclasses import dataclass
from math import inf

import numpy as np
import torch
from torch import nn

from mppe_ros.acceleration import prepare_for_inference
from mppe_ros.camera import PinholeCamera
from mppe_ros.checkpoints import load_posenet, load_rootnet
from mppe_ros.detection import PersonDetector, TorchvisionPersonDetector
from mppe_ros.gpu_crop import CropSampler
from mppe_ros.joint_sets import JointSet, get_joint_set
from mppe_ros.postprocessing import DecodedPoses, decode_poses
from mppe_ros.precision import PRECISIONS as PRECISIONS  # re-exported: the command line's choices
from mppe_ros.precision import resolve_precision
from mppe_ros.preprocessing import (
    as_bgr_image,
    compute_k_value,
    crop_affine,
    crop_patches,
    patches_to_tensor,
    process_bbox,
)
from mppe_ros.results import PersonPose, PoseResult
from mppe_ros.settings import DETECTOR_MODEL_NAMES as DETECTOR_MODEL_NAMES  # re-exported: the command line's choices
from mppe_ros.settings import DetectionSettings, ModelSettings, check_settings, default_of, setting
from mppe_ros.weights import DEFAULT_WEIGHTS, resolve_weights

STAGES = ("detection", "crop", "rootnet", "posenet", "decoding")  # keys of PoseResult.timings_s


@dataclass(frozen=True)
class PipelineConfig(ModelSettings):
    """Everything MppePipeline.from_config needs: the model settings (mppe_ros.settings.ModelSettings:
    joint_set, posenet_path, rootnet_path, detector, detector_weights_path, detector_min_size_px,
    device, precision), the detection filtering and the library-only settings below. Every field is
    validated on construction from its metadata (ValueError), and the precision against the device.

    Attributes:
        detection: how detections are filtered (mppe_ros.settings.DetectionSettings).
        bbox_real_mm: assumed real width and height of a person box for RootNet's k, mm.
        allow_download: let mppe_ros.weights download missing files.
        cuda_graphs: on CUDA, replay one captured CUDA graph per batch size (mppe_ros.acceleration.CudaGraphNet).
    """

    detection: DetectionSettings = DetectionSettings()
    bbox_real_mm: float = setting(2000.0, "assumed real side of a person box for RootNet's k, mm", bounds=(1.0, inf))
    allow_download: bool = setting(False, "let mppe_ros.weights download missing files")
    cuda_graphs: bool = setting(False, "on CUDA, replay one captured graph per batch size (first call: capture)")

    def __post_init__(self) -> None:
        get_joint_set(self.joint_set)  # its own message lists the joint sets
        check_settings(self)
        if not isinstance(self.detection, DetectionSettings):
            raise ValueError(f"PipelineConfig.detection must be a DetectionSettings, got {self.detection!r}")
        resolve_precision(self.precision, parse_device(self.device))

    @classmethod
    def from_settings(cls, model: ModelSettings, detection: DetectionSettings) -> PipelineConfig:
        """The pipeline configuration of `model` (its own fields, unchanged) filtering with `detection`."""
        fields = {field.name: getattr(model, field.name) for field in dataclasses.fields(ModelSettings)}
        return cls(**fields, detection=detection)


def parse_device(device: str) -> torch.device:
    """The torch device named `device` ("auto": cuda when available, else cpu); ValueError if malformed."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}") from None


def resolve_device(device: str) -> torch.device:
    """parse_device, and check that a CUDA device exists (ValueError with what to do otherwise)."""
    parsed = parse_device(device)
    if parsed.type == "cuda" and (parsed.index or 0) >= torch.cuda.device_count():
        raise ValueError(
            f"device {device!r} requested but torch sees {torch.cuda.device_count()} CUDA GPUs; "
            "use device 'cpu' or 'auto', or a CUDA build of torch with a working driver"
        )
    return parsed


@contextlib.contextmanager
def _timed(timings_s: dict[str, float], stage: str) -> Iterator[None]:
    start_s = time.perf_counter()
    yield
    timings_s[stage] = time.perf_counter() - start_s


class MppePipeline:
    """Absolute multi-person 3D pose estimation (3DMPPE) for one image at a time.

    Args:
        posenet: PoseNet (any module mapping [B, 3, 256, 256] to (coords [B, J, 3], confidence [B, J])).
        rootnet: RootNet (module mapping (images, k_value [B]) to [B, 3]).
        joint_set: skeleton of PoseNet's output.
        detector: PersonDetector (`detector(image_bgr) -> (boxes_xywh [N, 4], scores [N])`), or
            None: every call must then pass boxes.
        device: torch device the networks run on.
        bbox_real_mm: assumed real person box side for k, mm.
        precision: "fp32", "bf16", "fp16" (CUDA) or "auto" (mppe_ros.precision.resolve_precision).
        cuda_graphs: on CUDA, each network replays a captured CUDA graph per batch size (one launch instead
            of ~300; the first frame of each new person count captures); ignored on the CPU.

    The networks are not changed: copies are prepared for inference (BatchNorm folded, channels-last,
    `precision`; mppe_ros.acceleration.prepare_for_inference). On CUDA the crops are cut on the GPU
    from one upload of the image (mppe_ros.gpu_crop, within 1 grey level of the OpenCV crops).
    """

    def __init__(
        self,
        posenet: nn.Module,
        rootnet: nn.Module,
        joint_set: JointSet,
        detector: PersonDetector | None = None,
        device: str | torch.device = "cpu",
        bbox_real_mm: float = default_of(PipelineConfig, "bbox_real_mm"),
        precision: str = default_of(ModelSettings, "precision"),
        cuda_graphs: bool = default_of(PipelineConfig, "cuda_graphs"),
    ) -> None:
        joint_num = getattr(posenet, "joint_num", joint_set.joint_num)
        if joint_num != joint_set.joint_num:
            raise ValueError(
                f"PoseNet outputs {joint_num} joints but joint set {joint_set.name!r} has {joint_set.joint_num}"
            )
        self.device = torch.device(device)
        self.precision = precision
        dtype = resolve_precision(precision, self.device)
        self.posenet = prepare_for_inference(posenet, self.device, precision, cuda_graphs=cuda_graphs)
        self.rootnet = prepare_for_inference(rootnet, self.device, precision, cuda_graphs=cuda_graphs)
        self.crop_sampler = CropSampler(self.device, dtype) if self.device.type == "cuda" else None
        self.joint_set = joint_set
        self.detector = detector
        self.bbox_real_mm = float(bbox_real_mm)

    @classmethod
    def from_config(cls, cfg: PipelineConfig) -> MppePipeline:
        """Load the weights (and the detector) named by `cfg`.

        PoseNet and RootNet files: `cfg.posenet_path` / `cfg.rootnet_path`, else the weights cache
        entries of `cfg.joint_set` (mppe_ros.weights.DEFAULT_WEIGHTS), downloaded when
        `cfg.allow_download`.

        Raises:
            mppe_ros.weights.WeightsNotFoundError: a weights file is neither given nor cached (one
                message listing every missing file and where to put it).
            mppe_ros.checkpoints.CheckpointError: a file cannot be loaded.
        """
        device = resolve_device(cfg.device)
        joint_set = get_joint_set(cfg.joint_set)
        posenet_name, rootnet_name = DEFAULT_WEIGHTS[joint_set.name]
        paths = resolve_weights(
            {posenet_name: cfg.posenet_path or None, rootnet_name: cfg.rootnet_path or None},
            allow_download=cfg.allow_download,
        )
        detector = None
        if cfg.detector in DETECTOR_MODEL_NAMES:  # none, topic: boxes are given per frame
            detector = TorchvisionPersonDetector(
                cfg.detector,
                weights_path=cfg.detector_weights_path or None,
                settings=cfg.detection,
                min_size_px=cfg.detector_min_size_px,
                device=device,
            )
        return cls(
            load_posenet(paths[posenet_name], joint_set),
            load_rootnet(paths[rootnet_name]),
            joint_set,
            detector=detector,
            device=device,
            bbox_real_mm=cfg.bbox_real_mm,
            precision=cfg.precision,
            cuda_graphs=cfg.cuda_graphs,
        )

    def __call__(
        self,
        image: np.ndarray,
        camera: PinholeCamera,
        boxes_xywh: np.ndarray | None = None,
        scores: np.ndarray | None = None,
        color_order: str = "bgr",
        detection: DetectionSettings | None = None,
    ) -> PoseResult:
        """Estimate the absolute 3D pose of every person in `image`.

        Args:
            image: uint8 [H, W, 3] colour image.
            camera: intrinsics of `image` (its size must match when the camera has one).
            boxes_xywh: [N, 4] person boxes (x_min, y_min, width, height) in px, used instead of
                the detector; None: run the detector.
            scores: [N] scores of `boxes_xywh`; None: 1.0 each.
            color_order: channel order of `image`, "bgr" (OpenCV) or "rgb".
            detection: the detector's filtering for this call only; None: the detector's own.

        Returns:
            PoseResult with one PersonPose per usable box, in box order.

        Raises:
            ValueError: bad image, boxes or scores, or no detector and no boxes.
            CameraIntrinsicsError: the camera's image size differs from the image.
        """
        image_bgr = as_bgr_image(image, color_order)
        height, width = image_bgr.shape[:2]
        camera.check_image_size(width, height)
        timings_s = dict.fromkeys(STAGES, 0.0)
        with _timed(timings_s, "detection"):
            boxes_xywh, scores = self._person_boxes(image_bgr, boxes_xywh, scores, detection)
        with _timed(timings_s, "crop"):
            processed = [process_bbox(box, width, height) for box in boxes_xywh]
            kept = np.array([index for index, box in enumerate(processed) if box is not None], dtype=int)
            processed_boxes = np.array([processed[index] for index in kept]).reshape(-1, 4)
            k_value = compute_k_value(processed_boxes, camera.fx, camera.fy, (self.bbox_real_mm, self.bbox_real_mm))
            if self.crop_sampler is not None and len(kept):
                affines = np.stack([crop_affine(box) for box in processed_boxes])
                images = self.crop_sampler(image_bgr, affines)
            else:
                patches, affines = crop_patches(image_bgr, processed_boxes)
                images = patches_to_tensor(patches, self.device)
        if not len(kept):
            return PoseResult(self.joint_set, camera, (), timings_s)
        with torch.inference_mode():
            with _timed(timings_s, "rootnet"):
                root_output = self.rootnet(images, torch.from_numpy(k_value).to(self.device)).float().cpu().numpy()
            with _timed(timings_s, "posenet"):
                pose_coords, confidence = (t.float().cpu().numpy() for t in self.posenet(images))
        with _timed(timings_s, "decoding"):
            decoded = decode_poses(pose_coords, root_output, affines, camera, self.joint_set.root_index)
            persons = _person_poses(boxes_xywh[kept], scores[kept], processed_boxes, k_value, decoded, confidence)
        return PoseResult(self.joint_set, camera, persons, timings_s)

    def _person_boxes(
        self,
        image_bgr: np.ndarray,
        boxes_xywh: np.ndarray | None,
        scores: np.ndarray | None,
        detection: DetectionSettings | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Given boxes (validated) or the detector's: float64 [N, 4] boxes and [N] scores."""
        if boxes_xywh is None:
            if self.detector is None or scores is not None:
                raise ValueError("pass boxes_xywh (this pipeline has no person detector, or scores were given)")
            boxes_xywh, scores = self.detector(image_bgr) if detection is None else self.detector(image_bgr, detection)
        boxes_xywh = np.asarray(boxes_xywh, dtype=np.float64)
        if boxes_xywh.size == 0:
            boxes_xywh = boxes_xywh.reshape(0, 4)
        if boxes_xywh.ndim != 2 or boxes_xywh.shape[1] != 4:
            raise ValueError(f"boxes_xywh must have shape [N, 4] (x_min, y_min, width, height), got {boxes_xywh.shape}")
        scores = np.ones(len(boxes_xywh)) if scores is None else np.asarray(scores, dtype=np.float64)
        if scores.shape != (len(boxes_xywh),):
            raise ValueError(f"scores must have shape [{len(boxes_xywh)}] (one per box), got {scores.shape}")
        return boxes_xywh, scores


def _person_poses(
    boxes_xywh: np.ndarray,
    scores: np.ndarray,
    processed_boxes: np.ndarray,
    k_value: np.ndarray,
    decoded: DecodedPoses,
    confidence: np.ndarray,
) -> tuple[PersonPose, ...]:
    """One PersonPose per row of the [N, ...] arrays."""
    return tuple(
        PersonPose(
            box_xywh_px=boxes_xywh[n],
            processed_box_xywh_px=processed_boxes[n],
            score=scores[n],
            k_value=k_value[n],
            root_depth_mm=decoded.root_depth_mm[n],
            root_px=decoded.root_px[n],
            root_cam_m=decoded.root_cam_m[n],
            joints_px=decoded.joints_px[n],
            joints_cam_m=decoded.joints_cam_m[n],
            joint_confidence=confidence[n],
        )
        for n in range(len(boxes_xywh))
    )
