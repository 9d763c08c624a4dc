"""Pre-processing against the official demo numbers (3dmppe.md §4-5) and the official code."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers_core import DEMO_BOXES, DEMO_K, DEMO_PROCESSED, DEMO_SIZE

from mppe_ros.preprocessing import compute_k_value, crop_affine, crop_patches, patches_to_tensor, process_bbox
from mppe_ros.testing.reference import _DEMO_TRANSFORM, official_patch, official_process_bbox
from mppe_ros.testing.synthetic import synthetic_frame


@pytest.mark.parametrize("index", range(len(DEMO_BOXES)))
def test_process_bbox_matches_demo_table(index):
    processed = process_bbox(np.array(DEMO_BOXES[index]), *DEMO_SIZE)
    x, y, side = DEMO_PROCESSED[index]
    assert processed.dtype == np.float64
    np.testing.assert_allclose(processed, [x, y, side, side], rtol=0, atol=1e-9)


def test_k_value_matches_demo_table():
    processed = np.array([process_bbox(np.array(box), *DEMO_SIZE) for box in DEMO_BOXES])
    k_value = compute_k_value(processed, 1500.0, 1500.0)
    assert k_value.dtype == np.float32
    assert k_value.tolist() == list(DEMO_K)  # bit-exact float32, as the official demo casts


def test_k_value_uses_both_focal_lengths_and_the_real_size():
    processed = np.array([[0.0, 0.0, 250.0, 250.0]])
    expected = math.sqrt(1800.0 * 1700.0 * 1400.0 * 1550.0 / 250.0**2)
    np.testing.assert_allclose(compute_k_value(processed, 1400.0, 1550.0, (1800.0, 1700.0)), [expected], rtol=1e-7)


def test_crop_affine_of_demo_box_0():
    affine = crop_affine(process_bbox(np.array(DEMO_BOXES[0]), *DEMO_SIZE))
    np.testing.assert_allclose(affine[0], [0.851311486, 0.0, -84.917256], atol=2e-7)
    np.testing.assert_allclose(affine[1], [0.0, 0.851311572, -61.446624], atol=2e-7)
    assert affine[0, 0] != affine[1, 1]  # float32 points: the scales differ in the 7th digit


def test_process_bbox_sanitises_like_the_official_code():
    rng = np.random.default_rng(1)
    boxes = np.concatenate([rng.uniform(-100, 700, (200, 2)), rng.uniform(-20, 400, (200, 2))], axis=1)
    boxes = np.concatenate([boxes, [[639.0, 10.0, 30.0, 40.0], [10.0, 10.0, 1.0, 40.0], [-5.0, -5.0, 3.0, 3.0]]])
    for box in boxes:
        ours, official = process_bbox(box, 640, 480), official_process_bbox(box.copy(), 640, 480)
        if official is None or official[2] == 0:  # a 1x1-px box: official builds a singular crop
            assert ours is None
        else:
            np.testing.assert_array_equal(ours, official)


@pytest.mark.parametrize(
    "box",
    [
        (700, 10, 50, 50),
        (10, 500, 50, 50),
        (10, 10, 0, 50),
        (10, 10, 50, 0),
        (10, 10, -5, -5),
        (10, 10, 1, 1),
        (639.5, 10, 1, 1),
        (np.nan, 10, 50, 50),
        (10, 10, np.inf, np.nan),
    ],
)
def test_unusable_boxes_give_none(box):
    assert process_bbox(np.array(box, dtype=float), 640, 480) is None


def test_processed_box_may_leave_the_image_and_is_square():
    processed = process_bbox(np.array([-50.0, 400.0, 100.0, 300.0]), 640, 480)
    assert processed[0] < 0 and processed[1] + processed[3] > 480 and processed[2] == processed[3]


def test_integer_boxes_are_not_truncated():
    np.testing.assert_array_equal(
        process_bbox(np.array([10, 20, 31, 41]), 640, 480), process_bbox(np.array([10.0, 20.0, 31.0, 41.0]), 640, 480)
    )


def test_crops_and_tensor_equal_the_official_per_person_code():
    image = synthetic_frame(*DEMO_SIZE)
    processed = np.array([process_bbox(np.array(box), *DEMO_SIZE) for box in DEMO_BOXES])
    patches, affines = crop_patches(image, processed)
    assert patches.dtype == np.uint8 and patches.shape == (5, 256, 256, 3) and affines.shape == (5, 2, 3)
    tensor = patches_to_tensor(patches)
    assert tensor.dtype.is_floating_point and tensor.shape == (5, 3, 256, 256)
    for n, box in enumerate(processed):
        official, trans = official_patch(image, box)
        np.testing.assert_array_equal(patches[n], official)
        np.testing.assert_array_equal(affines[n], trans)
        np.testing.assert_allclose(tensor[n].numpy(), _DEMO_TRANSFORM(official).numpy(), rtol=1e-6, atol=1e-4)
    assert tensor.max() > 100  # the 0..255 quirk: no division by 255


def test_crop_is_bgr_to_rgb_with_black_border():
    image = np.zeros((100, 100, 3), dtype=np.uint8)
    image[..., 0] = 200  # blue in BGR
    patches, _ = crop_patches(image, np.array([[-100.0, -100.0, 300.0, 300.0]]))
    centre = patches[0, 128, 128]
    assert centre.tolist() == [0, 0, 200]  # RGB: blue last
    assert patches[0, 5, 5].tolist() == [0, 0, 0]  # outside the image: black


def test_empty_batch():
    patches, affines = crop_patches(np.zeros((10, 10, 3), np.uint8), np.zeros((0, 4)))
    assert patches.shape == (0, 256, 256, 3) and affines.shape == (0, 2, 3)
    assert patches_to_tensor(patches).shape == (0, 3, 256, 256)
    assert compute_k_value(np.zeros((0, 4)), 1.0, 1.0).shape == (0,)
