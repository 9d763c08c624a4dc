"""DetectNet: weights lookup, a real (random) torchvision detector, and box filtering."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mppe_ros.checkpoints import CheckpointError
from mppe_ros.detection import (
    COCO_PERSON_LABEL,
    DetectionSettings,
    TorchvisionPersonDetector,
    detector_weights_file,
    filter_person_detections,
)
from mppe_ros.weights import WeightsNotFoundError

OTHER_LABEL = 3  # COCO "car"


@pytest.fixture(scope="module")
def random_weights(detector_weights):
    """A random Faster R-CNN state_dict saved like torchvision's COCO file (conftest)."""
    return detector_weights


def test_detector_loads_weights_and_runs(random_weights):
    path, state = random_weights
    detector = TorchvisionPersonDetector(
        weights_path=path, min_size_px=160, settings=DetectionSettings(score_threshold=0.0)
    )
    assert detector.weights_path == path and not detector.model.training
    loaded = detector.model.state_dict()
    assert all(torch.equal(loaded[key], value) for key, value in state.items())
    image = np.random.default_rng(0).integers(0, 256, size=(120, 160, 3), dtype=np.uint8)
    boxes_xywh, scores = detector(image)
    assert boxes_xywh.dtype == np.float64 and boxes_xywh.shape == (len(scores), 4)
    assert scores.dtype == np.float64 and len(scores) <= detector.settings.max_persons
    assert np.all(np.diff(scores) <= 0)
    with pytest.raises(ValueError, match=r"image_bgr must have shape \[H, W, 3\], got \(120, 160\)"):
        detector(image[:, :, 0])
    with pytest.raises(ValueError, match="image_bgr must be a uint8 numpy array .* got float32"):
        detector(image.astype(np.float32))


@pytest.mark.parametrize(
    ("model_name", "filename"),
    [
        ("fasterrcnn_resnet50_fpn", "fasterrcnn_resnet50_fpn_coco-258fb6c6.pth"),
        ("maskrcnn_resnet50_fpn", "maskrcnn_resnet50_fpn_coco-bf2d0c1e.pth"),
    ],
)
def test_missing_weights_say_what_to_download_and_where(monkeypatch, tmp_path, model_name, filename):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    cached = tmp_path / "hub" / "checkpoints" / filename
    with pytest.raises(WeightsNotFoundError) as caught:
        TorchvisionPersonDetector(model_name)
    message = str(caught.value)
    assert f"https://download.pytorch.org/models/{filename}" in message
    assert f"put it at {cached}" in message and "detector_weights_path" in message
    with pytest.raises(WeightsNotFoundError, match="configured detector_weights_path .*nowhere.pth"):
        TorchvisionPersonDetector(model_name, weights_path=tmp_path / "nowhere.pth")
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"x")
    assert detector_weights_file(model_name) == cached


def test_corrupt_weights_file(tmp_path):
    path = tmp_path / "detector.pth"
    path.write_bytes(b"\x80\x02garbage" * 100)
    with pytest.raises(CheckpointError, match="not a readable PyTorch file"):
        TorchvisionPersonDetector(weights_path=path)


@pytest.mark.parametrize(
    ("setting", "value"),
    [("score_threshold", 1.5), ("nms_iou_threshold", -0.1), ("max_persons", 0), ("max_persons", 101),
     ("min_box_size_px", -1.0), ("score_threshold", True)],
)  # fmt: skip
def test_settings_out_of_range(setting, value):
    with pytest.raises(ValueError, match=f"{setting} must be a number in .* got {value}"):
        DetectionSettings(**{setting: value})


def test_min_size_out_of_range():
    with pytest.raises(ValueError, match="min_size_px must be a number >= 1, got 0"):
        TorchvisionPersonDetector(min_size_px=0)


def test_every_score_threshold_has_an_effect(random_weights, tmp_path):
    """Thresholds act inside torchvision's ROI heads: below its own 0.05 (and past its 100-box cap) too."""
    _, state = random_weights
    flat = dict(state)  # class logits scaled down: every class scores about 1/91 = 0.011
    flat["roi_heads.box_predictor.cls_score.weight"] = state["roi_heads.box_predictor.cls_score.weight"] * 0.1
    torch.save(flat, tmp_path / "flat.pth")
    detector = TorchvisionPersonDetector(weights_path=tmp_path / "flat.pth", min_size_px=160)
    image = np.random.default_rng(1).integers(0, 256, size=(120, 160, 3), dtype=np.uint8)
    counts = {
        threshold: len(detector(image, DetectionSettings(score_threshold=threshold, max_persons=100))[1])
        for threshold in (0.0, 0.01, 0.05)
    }
    assert counts[0.0] >= counts[0.01] > counts[0.05] == 0, counts
    assert detector.settings == DetectionSettings()  # a call's settings do not stay


def test_unknown_model():
    with pytest.raises(ValueError, match="model_name must be one of .* got 'yolo'"):
        TorchvisionPersonDetector("yolo")


def test_filter_keeps_persons_above_threshold_as_xywh():
    boxes_xyxy = np.array([[10, 20, 110, 220], [300, 40, 380, 200], [0, 0, 50, 50], [500, 10, 600, 300]], float)
    labels = np.array([COCO_PERSON_LABEL, COCO_PERSON_LABEL, OTHER_LABEL, COCO_PERSON_LABEL])
    scores = np.array([0.9, 0.6, 0.99, 0.4])
    boxes_xywh, kept_scores = filter_person_detections(boxes_xyxy, labels, scores, score_threshold=0.5)
    np.testing.assert_array_equal(boxes_xywh, [[10, 20, 100, 200], [300, 40, 80, 160]])
    np.testing.assert_array_equal(kept_scores, [0.9, 0.6])
    assert boxes_xywh.dtype == np.float64 and kept_scores.dtype == np.float64


def test_filter_nms_min_size_and_max_persons():
    boxes_xyxy = np.array(
        [
            [0, 0, 100, 200],  # 0.7
            [5, 5, 105, 205],  # 0.8, IoU with the first ~0.86 -> suppresses it
            [200, 0, 300, 200],  # 0.75, separate
            [400, 0, 410, 200],  # 0.95 but 10 px wide
            [600, 0, 700, 200],  # 0.6, separate
            [40, 0, 140, 200],  # 0.65, IoU with the second ~0.46 -> kept at 0.5
        ],
        float,
    )
    labels = np.full(6, COCO_PERSON_LABEL)
    scores = np.array([0.7, 0.8, 0.75, 0.95, 0.6, 0.65])
    boxes_xywh, kept = filter_person_detections(
        boxes_xyxy, labels, scores, score_threshold=0.5, nms_iou_threshold=0.5, min_box_size_px=16
    )
    np.testing.assert_array_equal(kept, [0.8, 0.75, 0.65, 0.6])
    np.testing.assert_array_equal(boxes_xywh[0], [5, 5, 100, 200])
    _, kept = filter_person_detections(boxes_xyxy, labels, scores, nms_iou_threshold=0.4)
    np.testing.assert_array_equal(kept, [0.8, 0.75, 0.6])
    _, kept = filter_person_detections(boxes_xyxy, labels, scores, min_box_size_px=5, max_persons=2)
    np.testing.assert_array_equal(kept, [0.95, 0.8])


def test_filter_empty_and_mismatched_inputs():
    boxes_xywh, scores = filter_person_detections(np.zeros((0, 4)), np.zeros(0), np.zeros(0))
    assert boxes_xywh.shape == (0, 4) and scores.shape == (0,)
    with pytest.raises(ValueError, match="same length, got 2, 1 and 1"):
        filter_person_detections(np.zeros((2, 4)), np.ones(1), np.ones(1))
