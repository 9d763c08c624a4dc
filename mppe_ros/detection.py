"""DetectNet: person boxes from a torchvision COCO detector (Faster / Mask R-CNN, ResNet-50 FPN).

3DMPPE's DetectNet is Mask R-CNN trained on COCO; any detector that returns person boxes works.
The detector is built without weights (nothing is downloaded at construction) and its COCO
weights are read from a given file or from torchvision's own cache
(`torch.hub.get_dir()/checkpoints/<official file name>`, i.e. `$TORCH_HOME/hub/checkpoints`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

import numpy as np
import torch
import torchvision
from torchvision.models import WeightsEnum, detection

from mppe_ros.checkpoints import PathLike, load_state_dict_checked, read_state_dict
from mppe_ros.settings import DetectionSettings, ModelSettings, check_value, default_of
from mppe_ros.weights import WeightsNotFoundError

COCO_PERSON_LABEL = 1  # torchvision's COCO category index of "person"
# torchvision keeps its 100 best detections of all 90 classes; with a low score threshold other
# classes would crowd persons out, so the cap (applied after the score threshold) is raised.
DETECTIONS_CAP = 100_000
# model_name -> (builder, official COCO weights); the weights give the file name and URL.
DETECTOR_MODELS: dict[str, tuple[Callable[..., torch.nn.Module], WeightsEnum]] = {
    "fasterrcnn_resnet50_fpn": (
        detection.fasterrcnn_resnet50_fpn,
        detection.FasterRCNN_ResNet50_FPN_Weights.COCO_V1,
    ),
    "maskrcnn_resnet50_fpn": (
        detection.maskrcnn_resnet50_fpn,
        detection.MaskRCNN_ResNet50_FPN_Weights.COCO_V1,
    ),
}
_MIN_SIZE_SETTING = next(f for f in dataclasses.fields(ModelSettings) if f.name == "detector_min_size_px")


class PersonDetector(Protocol):
    """Anything that finds person boxes in an image."""

    def __call__(
        self, image_bgr: np.ndarray, settings: DetectionSettings | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Detect persons.

        Args:
            image_bgr: uint8 [H, W, 3] image, BGR (OpenCV order).
            settings: filtering for this call; None: the detector's own.

        Returns:
            boxes_xywh: float64 [N, 4] (x_min, y_min, width, height) in px, highest score first.
            scores: float64 [N] detection scores in [0, 1].
        """
        ...


def _model_entry(model_name: str) -> tuple[Callable[..., torch.nn.Module], WeightsEnum]:
    if model_name not in DETECTOR_MODELS:
        raise ValueError(f"model_name must be one of {sorted(DETECTOR_MODELS)}, got {model_name!r}")
    return DETECTOR_MODELS[model_name]


def detector_weights_file(model_name: str, weights_path: PathLike | None = None) -> Path:
    """The COCO weights file of `model_name`: `weights_path`, else torchvision's cache file.

    Args:
        model_name: a key of DETECTOR_MODELS.
        weights_path: configured state_dict file; None or "": torchvision's cache.

    Returns:
        Path of an existing file.

    Raises:
        ValueError: unknown `model_name`.
        WeightsNotFoundError: the file does not exist; the message gives the download URL and
            where to put the file.
    """
    url = _model_entry(model_name)[1].url
    cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(url).path).name
    path = Path(weights_path).expanduser() if weights_path else cached
    if path.is_file():
        return path
    problem = (
        f"the configured detector_weights_path {path} does not exist"
        if weights_path
        else f"{path} (torchvision's cache) does not exist"
    )
    raise WeightsNotFoundError(
        f"COCO weights of the person detector {model_name} not found: {problem}. Download {url} "
        f"and put it at {cached} (set TORCH_HOME to move torchvision's cache), or set "
        "detector_weights_path to the file."
    )


def filter_person_detections(
    boxes_xyxy: np.ndarray,
    labels: np.ndarray,
    scores: np.ndarray,
    settings: DetectionSettings | None = None,
    **changes: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """Keep confident, large enough, non-overlapping person boxes (torchvision detector outputs).

    Steps (the fields of DetectionSettings): COCO label 1 (person) only; score >= score_threshold;
    width and height >= min_box_size_px; non-maximum suppression (boxes overlapping a higher-scored
    one with IoU > nms_iou_threshold are dropped); the max_persons highest scores.

    Args:
        boxes_xyxy: [N, 4] (x1, y1, x2, y2) in px.
        labels: [N] COCO category indices.
        scores: [N] in [0, 1].
        settings: the filtering; None: DetectionSettings().
        **changes: fields of `settings` replaced for this call (validated), e.g. score_threshold=0.3.

    Returns:
        boxes_xywh: float64 [M, 4] (x_min, y_min, width, height) in px, by decreasing score.
        scores: float64 [M].
    """
    settings = dataclasses.replace(settings or DetectionSettings(), **changes)
    boxes_xyxy = np.asarray(boxes_xyxy, dtype=np.float64).reshape(-1, 4)
    labels = np.asarray(labels).reshape(-1)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if not len(boxes_xyxy) == len(labels) == len(scores):
        raise ValueError(
            f"boxes_xyxy, labels and scores must have the same length, got {len(boxes_xyxy)}, "
            f"{len(labels)} and {len(scores)}"
        )
    sizes_px = boxes_xyxy[:, 2:] - boxes_xyxy[:, :2]
    keep = np.flatnonzero(
        (labels == COCO_PERSON_LABEL)
        & (scores >= settings.score_threshold)
        & np.isfinite(boxes_xyxy).all(axis=1)
        & (sizes_px >= settings.min_box_size_px).all(axis=1)
    )
    order = torchvision.ops.nms(
        torch.from_numpy(boxes_xyxy[keep]), torch.from_numpy(scores[keep]), settings.nms_iou_threshold
    )  # indices into `keep` by decreasing score
    keep = keep[order.numpy()[: settings.max_persons]]
    return np.concatenate([boxes_xyxy[keep, :2], sizes_px[keep]], axis=1), scores[keep]


class TorchvisionPersonDetector:
    """DetectNet as a torchvision COCO detector; implements PersonDetector.

    The settings are applied where torchvision applies its own: the score threshold and the NMS IoU
    become the model's `roi_heads.score_thresh` / `nms_thresh` for each call (torchvision's defaults,
    0.05 and 0.5, would otherwise filter first; its cap of 100 detections of all classes is raised to
    DETECTIONS_CAP), then `filter_person_detections` keeps persons.

    Args:
        model_name: a key of DETECTOR_MODELS (ModelSettings.detector without "none").
        weights_path: COCO state_dict file; None: torchvision's cache (see detector_weights_file).
        settings: the default filtering (DetectionSettings); a call may pass its own.
        min_size_px: shorter image side the detector resizes to (torchvision `min_size`), px
            (ModelSettings.detector_min_size_px).
        device: torch device, e.g. "cpu" or "cuda:0".

    Raises:
        ValueError: a setting is out of range or the model name is unknown.
        WeightsNotFoundError: the weights file does not exist.
        CheckpointError: the file is not this detector's state_dict.
    """

    def __init__(
        self,
        model_name: str = default_of(ModelSettings, "detector"),
        weights_path: PathLike | None = None,
        settings: DetectionSettings = DetectionSettings(),
        min_size_px: int = default_of(ModelSettings, "detector_min_size_px"),
        device: str | torch.device = "cpu",
    ) -> None:
        if not isinstance(settings, DetectionSettings):
            raise ValueError(f"settings must be a DetectionSettings, got {type(settings).__name__}")
        _, problem = check_value(_MIN_SIZE_SETTING, min_size_px, "min_size_px")
        if problem:
            raise ValueError(problem)
        builder, _ = _model_entry(model_name)
        self.weights_path = detector_weights_file(model_name, weights_path)
        state_dict = read_state_dict(self.weights_path)
        model = builder(weights=None, weights_backbone=None, min_size=min_size_px)
        load_state_dict_checked(model, state_dict, self.weights_path, f"torchvision {model_name}")
        self.model_name = model_name
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.settings = settings

    def __call__(
        self, image_bgr: np.ndarray, settings: DetectionSettings | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Detect persons (see PersonDetector); not thread-safe (one caller at a time).

        Args:
            image_bgr: uint8 [H, W, 3] image, BGR.
            settings: filtering for this call; None: `self.settings`.

        Returns:
            boxes_xywh: float64 [N, 4] (x_min, y_min, width, height) in px, by decreasing score.
            scores: float64 [N].
        """
        if not isinstance(image_bgr, np.ndarray) or image_bgr.dtype != np.uint8:
            raise ValueError(
                "image_bgr must be a uint8 numpy array [H, W, 3], got "
                f"{getattr(image_bgr, 'dtype', type(image_bgr).__name__)}"
            )
        if image_bgr.ndim != 3 or image_bgr.shape[2] != 3 or 0 in image_bgr.shape:
            raise ValueError(f"image_bgr must have shape [H, W, 3], got {image_bgr.shape}")
        settings = self.settings if settings is None else settings
        roi_heads: Any = self.model.roi_heads  # torchvision applies its own thresholds here: ours replace them
        roi_heads.score_thresh = settings.score_threshold
        roi_heads.nms_thresh = settings.nms_iou_threshold
        roi_heads.detections_per_img = DETECTIONS_CAP
        rgb = torch.from_numpy(np.ascontiguousarray(image_bgr[:, :, ::-1])).to(self.device)
        with torch.inference_mode():
            output = self.model([rgb.permute(2, 0, 1).float().div(255.0)])[0]
        return filter_person_detections(
            output["boxes"].cpu().numpy(),
            output["labels"].cpu().numpy(),
            output["scores"].cpu().numpy(),
            settings,
        )
