"""mppe_ros.settings: each setting's default and valid values written once, and enforced from there."""

from __future__ import annotations

import dataclasses
import math

import pytest

from mppe_ros.settings import (
    DetectionSettings,
    ModelSettings,
    check_value,
    default_of,
    setting_fields,
)


def test_every_setting_has_a_doc_and_a_valid_default():
    for kind in (DetectionSettings, ModelSettings):
        for field in setting_fields(kind):
            assert field.metadata["doc"], field.name
            assert check_value(field, field.default)[1] is None, field.name
        kind()  # the defaults pass their own validation


def test_defaults_are_read_from_the_one_field():
    assert default_of(DetectionSettings, "score_threshold") == DetectionSettings().score_threshold == 0.5
    assert default_of(ModelSettings, "device") == "auto"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"score_threshold": 1.5}, r"DetectionSettings.score_threshold must be a number in \[0.0, 1.0\], got 1.5"),
        ({"max_persons": 0}, r"max_persons must be a number in \[1, 100\], got 0"),
        ({"max_persons": 2.5}, "max_persons must be an integer, got 2.5"),
        ({"nms_iou_threshold": math.nan}, "nms_iou_threshold must be a number"),
        ({"score_threshold": True}, "score_threshold must be a number"),
    ],
)
def test_detection_settings_refuse_out_of_range_values(changes, message):
    with pytest.raises(ValueError, match=message):
        DetectionSettings(**changes)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"device": "tpu"}, "ModelSettings.device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got 'tpu'"),
        ({"precision": "fp64"}, "precision must be one of"),
        ({"joint_set": "coco"}, "joint_set must be one of"),
        ({"detector_min_size_px": 0}, "detector_min_size_px must be a number >= 1"),
    ],
)
def test_model_settings_refuse_bad_values(changes, message):
    with pytest.raises(ValueError, match=message):
        ModelSettings(**changes)


def test_accepted_values_are_stored_as_the_setting_stores_them():
    assert DetectionSettings(min_box_size_px=8).min_box_size_px == 8.0  # an int for a float setting
    assert isinstance(DetectionSettings(min_box_size_px=8).min_box_size_px, float)
    assert ModelSettings(device="cuda:1", posenet_path=None).device == "cuda:1"  # optional paths accept None
    with pytest.raises(dataclasses.FrozenInstanceError):
        DetectionSettings().score_threshold = 0.1  # type: ignore[misc]
