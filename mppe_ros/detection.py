"""DetectNet: person boxes from a torchvision COCO detector (Faster / Mask R-CNN).

3DMPPE's DetectNet is Mask R-CNN trained on COCO; any detector that returns person boxes works.
The choices (DETECTOR_MODELS, the `detector` setting), all torchvision COCO models, person = class 1:

| name | backbone | COCO box mAP | GFLOPs (torchvision) | torchvision's input size |
| --- | --- | --- | --- | --- |
| fasterrcnn_resnet50_fpn (default) | ResNet-50 FPN | 37.0 | 134 | min 800, max 1333 px |
| fasterrcnn_resnet50_fpn_v2 | ResNet-50 FPN (BN heads) | 46.7 | 280 | min 800, max 1333 px |
| fasterrcnn_mobilenet_v3_large_fpn | MobileNetV3-Large FPN | 32.8 | 4.5 | min 800, max 1333 px |
| fasterrcnn_mobilenet_v3_large_320_fpn | MobileNetV3-Large FPN | 22.8 | 0.72 | min 320, max 640 px |
| maskrcnn_resnet50_fpn | ResNet-50 FPN + masks | 37.9 | 134 | min 800, max 1333 px |

Input size: torchvision scales each frame by min(min_size / shorter side, max_size / longer side).
`min_size_px` (ModelSettings.detector_min_size_px, default 800) replaces torchvision's min_size for
every model; max_size stays the model's own (1333 px; 640 px for the 320 variant). So the 320
variant at the default 800 is capped by its 640 px longer side (a 640x480 frame runs at 640x480,
not 427x320); set detector_min_size_px to 320 to run it at the size it was trained at. The 320
variant also keeps torchvision's lighter region proposals (150 instead of 1000, objectness >= 0.05).
The score and NMS thresholds (DetectionSettings) act the same way in every model (its ROI heads).

The detector is built without weights (nothing is downloaded at construction) and its COCO
weights are read from a given file or from torchvision's own cache
(`torch.hub.get_dir()/checkpoints/<official file name>`, i.e. `$TORCH_HOME/hub/checkpoints`), with
torch.load(weights_only=True). A state_dict of another architecture is refused by naming the
detector it belongs to. The two MobileNet variants share one architecture (same keys and shapes),
so a file can only be told apart from the other's by torchvision's file name, which is checked.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

import numpy as np
import torch
import torchvision
from torchvision.models import WeightsEnum, detection

from mppe_ros.checkpoints import CheckpointError, PathLike, load_state_dict_checked, read_state_dict
from mppe_ros.settings import DetectionSettings, ModelSettings, check_value, default_of
from mppe_ros.weights import WeightsNotFoundError

COCO_PERSON_LABEL = 1  # torchvision's COCO category index of "person"
# torchvision keeps its 100 best detections of all 90 classes; with a low score threshold other
# classes would crowd persons out, so the cap (applied after the score threshold) is raised.
DETECTIONS_CAP = 100_000
# model_name -> (builder, official COCO weights); the weights give the file name and URL. The order
# is the `detector` setting's (mppe_ros.settings.DETECTOR_MODEL_NAMES, a test checks).
DETECTOR_MODELS: dict[str, tuple[Callable[..., torch.nn.Module], WeightsEnum]] = {
    "fasterrcnn_resnet50_fpn": (
        detection.fasterrcnn_resnet50_fpn,
        detection.FasterRCNN_ResNet50_FPN_Weights.COCO_V1,
    ),
    "fasterrcnn_resnet50_fpn_v2": (
        detection.fasterrcnn_resnet50_fpn_v2,
        detection.FasterRCNN_ResNet50_FPN_V2_Weights.COCO_V1,
    ),
    "fasterrcnn_mobilenet_v3_large_fpn": (
        detection.fasterrcnn_mobilenet_v3_large_fpn,
        detection.FasterRCNN_MobileNet_V3_Large_FPN_Weights.COCO_V1,
    ),
    "fasterrcnn_mobilenet_v3_large_320_fpn": (
        detection.fasterrcnn_mobilenet_v3_large_320_fpn,
        detection.FasterRCNN_MobileNet_V3_Large_320_FPN_Weights.COCO_V1,
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


def detector_weights_url(model_name: str) -> str:
    """torchvision's download URL of the COCO weights of `model_name` (a key of DETECTOR_MODELS)."""
    return str(_model_entry(model_name)[1].url)


def detector_cache_file(model_name: str) -> Path:
    """Where torchvision's cache keeps the COCO weights of `model_name`: `<torch hub>/checkpoints/<file name>`."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(detector_weights_url(model_name)).path).name


@functools.cache
def _architecture(model_name: str) -> frozenset[tuple[str, tuple[int, ...]]]:
    """(key, shape) of every weight of `model_name` without BatchNorm counters (built on the meta device)."""
    with torch.device("meta"):
        model = _model_entry(model_name)[0](weights=None, weights_backbone=None)
    return _signature(model.state_dict())


def _signature(state_dict: dict[str, torch.Tensor]) -> frozenset[tuple[str, tuple[int, ...]]]:
    return frozenset(
        (key, tuple(value.shape)) for key, value in state_dict.items() if not key.endswith("num_batches_tracked")
    )


def check_detector_state_dict(model_name: str, state_dict: dict[str, torch.Tensor], path: PathLike) -> None:
    """Refuse a state_dict that belongs to another detector of DETECTOR_MODELS, naming that detector.

    Two checks: the keys and shapes (another architecture), and the file name (torchvision's name of
    another detector's file: the only way to tell the two MobileNet variants apart, which share one
    architecture). A file that fits no detector is left to load_state_dict_checked's key report.

    Raises:
        CheckpointError: the file is another detector's; the message says which and what to set.
    """
    path = Path(path)
    expected_file = detector_cache_file(model_name).name
    advice = f"set detector to {{}}, or detector_weights_path to a {model_name} file (torchvision's {expected_file})"
    signature = _signature(state_dict)
    if signature != _architecture(model_name):
        matches = [name for name in DETECTOR_MODELS if name != model_name and _architecture(name) == signature]
        if matches:
            raise CheckpointError(
                f"detector weights {path} are a state_dict of torchvision {' / '.join(matches)}, not of the "
                f"configured detector {model_name} (another architecture): " + advice.format(matches[0])
            )
        return
    named = [name for name in DETECTOR_MODELS if name != model_name and detector_cache_file(name).name == path.name]
    if named:
        raise CheckpointError(
            f"detector weights {path} carry torchvision's file name of {named[0]}, not of the configured detector "
            f"{model_name} ({expected_file}); the two share one architecture, so only the name tells their COCO "
            "weights apart: " + advice.format(named[0])
        )


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
    url, cached = detector_weights_url(model_name), detector_cache_file(model_name)
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
            (ModelSettings.detector_min_size_px); the longer side stays at most the model's own
            max_size (1333 px, 640 px for fasterrcnn_mobilenet_v3_large_320_fpn; see input_size_px).
        device: torch device, e.g. "cpu" or "cuda:0".

    Raises:
        ValueError: a setting is out of range or the model name is unknown.
        WeightsNotFoundError: the weights file does not exist.
        CheckpointError: the file is not this detector's state_dict (another detector's: named).
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
        check_detector_state_dict(model_name, state_dict, self.weights_path)
        model = builder(weights=None, weights_backbone=None, min_size=min_size_px)
        load_state_dict_checked(model, state_dict, self.weights_path, f"torchvision {model_name}")
        self.model_name = model_name
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.settings = settings

    def input_size_px(self, width: int, height: int) -> tuple[int, int]:
        """(width, height) torchvision resizes a width x height frame to before the backbone, px.

        scale = min(min_size / shorter side, max_size / longer side), each side floor(side * scale)
        (torchvision's GeneralizedRCNNTransform; the batch is then zero-padded to multiples of 32).
        """
        transform: Any = self.model.transform
        scale = min(transform.min_size[-1] / min(width, height), transform.max_size / max(width, height))
        return math.floor(width * scale), math.floor(height * scale)

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
        return filter_person_detections(  # float(): a caller's torch.autocast may give bfloat16 (no numpy type)
            output["boxes"].float().cpu().numpy(),
            output["labels"].cpu().numpy(),
            output["scores"].float().cpu().numpy(),
            settings,
        )
