"""The detector choices next to fasterrcnn_resnet50_fpn: ResNet-50 FPN v2 and the two MobileNetV3-Large FPN models.

Each is a real torchvision model built from a seeded random state_dict saved in torchvision's format under
torchvision's file name (no download, no mock): it loads from torchvision's cache or detector_weights_path,
takes the thresholds and the input size, returns person boxes, and refuses another detector's file by name.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from mppe_ros.checkpoints import CheckpointError
from mppe_ros.detection import (
    COCO_PERSON_LABEL,
    DETECTOR_MODELS,
    DetectionSettings,
    TorchvisionPersonDetector,
    detector_cache_file,
    detector_weights_file,
)
from mppe_ros.settings import DETECTOR_MODEL_NAMES, DETECTORS, ModelSettings
from mppe_ros.testing.synthetic import draw_stick_figure, synthetic_frame
from mppe_ros.weights import WeightsNotFoundError

NEW_VARIANTS = {  # name -> torchvision's file name (its download URL's last part)
    "fasterrcnn_resnet50_fpn_v2": "fasterrcnn_resnet50_fpn_v2_coco-dd69338a.pth",
    "fasterrcnn_mobilenet_v3_large_fpn": "fasterrcnn_mobilenet_v3_large_fpn-fb6a3cc7.pth",
    "fasterrcnn_mobilenet_v3_large_320_fpn": "fasterrcnn_mobilenet_v3_large_320_fpn-907ea3f9.pth",
}
MOBILENET, MOBILENET_320 = "fasterrcnn_mobilenet_v3_large_fpn", "fasterrcnn_mobilenet_v3_large_320_fpn"
MIN_SIZE_PX = 160  # small inputs keep each forward short
PERSON_LOGIT_BIAS = 6.0  # the person logit's bias: with the class weights scaled down, persons score ~0.8


@pytest.fixture(scope="module")
def variant_weights(tmp_path_factory, detector_weights) -> dict[str, tuple[Path, dict]]:
    """name -> (file, state_dict): seeded random weights in torchvision's format, at torchvision's file name.

    torchvision's COCO files of the FrozenBatchNorm2d models (ResNet-50 FPN, MobileNet) have no BatchNorm
    counters; v2 uses BatchNorm2d, whose counters are kept. The box predictor calls every proposal a person: its
    class weights are scaled down and the person bias raised (persons ~0.8, every other class ~0.002, so the
    default 0.5 threshold keeps persons only) and its box regression is zeroed (boxes = the RPN's proposals).
    fasterrcnn_resnet50_fpn: conftest's file.
    """
    folder = tmp_path_factory.mktemp("detector_variants")
    files = {"fasterrcnn_resnet50_fpn": detector_weights}
    for index, (name, filename) in enumerate(NEW_VARIANTS.items()):
        torch.manual_seed(index)
        state = DETECTOR_MODELS[name][0](weights=None, weights_backbone=None).state_dict()
        if not name.endswith("_v2"):
            state = {key: value for key, value in state.items() if not key.endswith("num_batches_tracked")}
        state["roi_heads.box_predictor.cls_score.weight"] *= 0.05
        state["roi_heads.box_predictor.cls_score.bias"][COCO_PERSON_LABEL] += PERSON_LOGIT_BIAS
        state["roi_heads.box_predictor.bbox_pred.weight"].zero_()
        state["roi_heads.box_predictor.bbox_pred.bias"].zero_()
        torch.save(state, folder / filename)
        files[name] = (folder / filename, state)
    return files


@pytest.fixture
def torch_home(monkeypatch, tmp_path) -> Path:
    """An empty torchvision cache (TORCH_HOME) for this test: `<it>/hub/checkpoints/`."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    return tmp_path / "hub" / "checkpoints"


def person_image(width: int = 160, height: int = 120) -> np.ndarray:
    image = synthetic_frame(width, height)
    draw_stick_figure(image, (width // 3, height // 8, width // 4, 3 * height // 4))
    return image


def test_the_detector_setting_lists_every_model_in_table_order():
    assert DETECTOR_MODEL_NAMES == tuple(DETECTOR_MODELS) and DETECTORS == (*DETECTOR_MODELS, "none", "topic")
    assert DETECTORS[0] == "fasterrcnn_resnet50_fpn"
    assert ModelSettings(detector=MOBILENET_320).detector == MOBILENET_320
    assert set(NEW_VARIANTS) < set(DETECTOR_MODELS)


@pytest.mark.parametrize("name", list(NEW_VARIANTS))
def test_each_variant_loads_from_torchvisions_cache_and_finds_persons(variant_weights, torch_home, name):
    """From the cache file of torchvision's name, strictly, with the thresholds in its ROI heads and our min size."""
    path, state = variant_weights[name]
    cached = torch_home / NEW_VARIANTS[name]
    cached.parent.mkdir(parents=True)
    cached.symlink_to(path)
    assert detector_weights_file(name) == detector_cache_file(name) == cached
    settings = DetectionSettings(nms_iou_threshold=0.3, max_persons=100)  # the default score threshold, 0.5
    detector = TorchvisionPersonDetector(name, settings=settings, min_size_px=MIN_SIZE_PX)
    assert detector.weights_path == cached and detector.model_name == name and not detector.model.training
    loaded = detector.model.state_dict()
    assert all(torch.equal(loaded[key], value) for key, value in state.items())
    transform = detector.model.transform
    assert transform.min_size == (MIN_SIZE_PX,) and transform.max_size == (640 if name == MOBILENET_320 else 1333)

    image = person_image()
    boxes_xywh, scores = detector(image)
    assert len(scores) > 0, "the weights call every proposal a person, at ~0.8"
    assert boxes_xywh.dtype == np.float64 and boxes_xywh.shape == (len(scores), 4)
    assert np.all(np.diff(scores) <= 0) and np.all((scores >= 0.5) & (scores <= 1))
    assert np.all(boxes_xywh[:, :2] >= 0) and np.all(boxes_xywh[:, 2:] >= settings.min_box_size_px)
    assert np.all(boxes_xywh[:, 0] + boxes_xywh[:, 2] <= 160) and np.all(boxes_xywh[:, 1] + boxes_xywh[:, 3] <= 120)
    assert (detector.model.roi_heads.score_thresh, detector.model.roi_heads.nms_thresh) == (0.5, 0.3)
    assert detector.model.roi_heads.detections_per_img > 1000  # torchvision's cap of 100 is raised


def test_a_calls_thresholds_apply_to_a_mobilenet_and_do_not_stay(variant_weights):
    detector = TorchvisionPersonDetector(MOBILENET_320, weights_path=variant_weights[MOBILENET_320][0],
                                         min_size_px=MIN_SIZE_PX)  # fmt: skip
    image = person_image()
    loose = len(detector(image, DetectionSettings(nms_iou_threshold=0.9, max_persons=100))[1])
    tight = len(detector(image, DetectionSettings(nms_iou_threshold=0.1, max_persons=100))[1])
    assert loose > tight > 0
    assert len(detector(image, DetectionSettings(score_threshold=0.99))[1]) == 0
    assert detector.model.roi_heads.score_thresh == 0.99 and detector.settings == DetectionSettings()


@pytest.mark.parametrize("name", list(NEW_VARIANTS))
def test_missing_weights_of_each_variant_say_what_to_download_and_where(torch_home, name):
    with pytest.raises(WeightsNotFoundError) as caught:
        TorchvisionPersonDetector(name)
    message = str(caught.value)
    assert f"https://download.pytorch.org/models/{NEW_VARIANTS[name]}" in message
    assert f"put it at {torch_home / NEW_VARIANTS[name]}" in message and "detector_weights_path" in message


@pytest.mark.parametrize(
    ("configured", "given", "named"),
    [
        (MOBILENET, "fasterrcnn_resnet50_fpn_v2", "fasterrcnn_resnet50_fpn_v2"),
        ("fasterrcnn_resnet50_fpn_v2", "fasterrcnn_resnet50_fpn", "fasterrcnn_resnet50_fpn"),
        ("fasterrcnn_resnet50_fpn", MOBILENET_320, f"{MOBILENET} / {MOBILENET_320}"),
        (MOBILENET_320, "fasterrcnn_resnet50_fpn", "fasterrcnn_resnet50_fpn"),
        ("maskrcnn_resnet50_fpn", "fasterrcnn_resnet50_fpn", "fasterrcnn_resnet50_fpn"),
    ],
)
def test_another_architectures_state_dict_is_refused_by_name(variant_weights, tmp_path, configured, given, named):
    """Under a neutral file name too: the keys and shapes say which detector the file belongs to."""
    neutral = tmp_path / "detector.pth"
    neutral.symlink_to(variant_weights[given][0])
    with pytest.raises(CheckpointError) as caught:
        TorchvisionPersonDetector(configured, weights_path=neutral)
    message = str(caught.value)
    assert f"are a state_dict of torchvision {named}, not of the configured detector {configured}" in message
    assert f"set detector to {named.split(' / ')[0]}, or detector_weights_path to a {configured} file" in message
    assert Path(DETECTOR_MODELS[configured][1].url).name in message


@pytest.mark.parametrize(("configured", "other"), [(MOBILENET, MOBILENET_320), (MOBILENET_320, MOBILENET)])
def test_the_two_mobilenets_share_an_architecture_and_are_told_apart_by_torchvisions_file_name(
    variant_weights, tmp_path, configured, other
):
    other_file = variant_weights[other][0]
    with pytest.raises(CheckpointError, match=f"carry torchvision's file name of {other}, not of the configured "
                       f"detector {configured} .*only the name tells their COCO weights apart"):  # fmt: skip
        TorchvisionPersonDetector(configured, weights_path=other_file, min_size_px=MIN_SIZE_PX)
    neutral = tmp_path / "my_mobilenet.pth"  # the same weights under another name: nothing tells them apart
    neutral.symlink_to(other_file)
    assert TorchvisionPersonDetector(configured, weights_path=neutral, min_size_px=MIN_SIZE_PX).model_name == configured


def test_a_file_of_no_detector_gets_the_key_report(variant_weights, tmp_path):
    _, state = variant_weights[MOBILENET]
    truncated = dict(list(state.items())[:-3])
    torch.save(truncated, tmp_path / "truncated.pth")
    with pytest.raises(CheckpointError, match=r"does not match the torchvision .* 3 missing keys"):
        TorchvisionPersonDetector(MOBILENET, weights_path=tmp_path / "truncated.pth")


@pytest.mark.parametrize(
    ("name", "min_size_px", "expected"),
    [
        (MOBILENET_320, 800, (640, 480)),  # capped by its own 640 px longer side
        (MOBILENET_320, 320, (426, 320)),  # as trained
        (MOBILENET, 320, (426, 320)),
        (MOBILENET, 800, (1066, 800)),  # the 1333 px cap does not bite for 4:3
    ],
)
def test_input_size_is_what_torchvision_resizes_to(variant_weights, name, min_size_px, expected):
    detector = TorchvisionPersonDetector(name, weights_path=variant_weights[name][0], min_size_px=min_size_px)
    assert detector.input_size_px(640, 480) == expected
    images = detector.model.transform([torch.zeros(3, 480, 640)])[0]
    assert tuple(reversed(images.image_sizes[0])) == expected
    wide = detector.model.transform([torch.zeros(3, 200, 1600)])[0]  # the longer side's cap
    assert tuple(reversed(wide.image_sizes[0])) == detector.input_size_px(1600, 200)


def test_a_callers_bf16_autocast_still_gives_float64_boxes(variant_weights):
    """The pipeline runs the detector in float32; under a caller's CPU autocast the outputs are bfloat16."""
    detector = TorchvisionPersonDetector(MOBILENET_320, weights_path=variant_weights[MOBILENET_320][0],
                                         min_size_px=MIN_SIZE_PX)  # fmt: skip
    with torch.autocast("cpu", dtype=torch.bfloat16):
        boxes_xywh, scores = detector(person_image())
    assert boxes_xywh.dtype == scores.dtype == np.float64 and len(scores) > 0
