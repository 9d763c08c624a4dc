"""mppe_ros.gpu_crop: torch crops against cv2.warpAffine (CPU here; CUDA when present)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from mppe_ros.gpu_crop import CropSampler, invert_affines, source_coordinate_terms, warp_crops
from mppe_ros.preprocessing import crop_affine, crop_patches, patches_to_tensor, process_bbox

DEVICES = [
    "cpu",
    pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")),
]
# Inside, on every border and corner, tiny (upsampled ~10x), huge (downsampled), fractional.
BOXES = np.array(
    [
        (139.41, 102.25, 222.39, 241.57),
        (0.5, 43.74, 90.1, 220.09),
        (-60.0, -40.0, 150.0, 200.0),
        (560.0, 400.0, 200.0, 150.0),
        (600.3, 10.7, 39.0, 60.2),
        (300.0, 200.0, 12.0, 25.0),
        (-500.0, -300.0, 1700.0, 1100.0),
        (17.25, 333.5, 45.5, 130.75),
    ]
)


def sharp_image(width: int = 640, height: int = 480, seed: int = 0) -> np.ndarray:
    """Noise with hard black/white lines: the worst case for bilinear rounding."""
    image = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    image[:, ::7] = 255
    image[::5, :] = 0
    return image


def affines_for(image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    height, width = image.shape[:2]
    processed = [process_bbox(box, width, height) for box in boxes]
    return np.stack([crop_affine(box) for box in processed if box is not None])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("size", [(640, 480), (333, 211)])
def test_crops_equal_cv2_warp_affine(device, size):
    image = sharp_image(*size)
    affines = affines_for(image, BOXES)
    terms = torch.from_numpy(source_coordinate_terms(affines)).to(device)
    crops = warp_crops(torch.from_numpy(image).to(device), terms).cpu().numpy()
    for crop, affine in zip(crops, affines, strict=True):
        expected = cv2.warpAffine(image, affine, (256, 256), flags=cv2.INTER_LINEAR)
        difference = np.abs(crop.astype(int) - expected.astype(int))
        assert difference.max() <= 1  # the contract; OpenCV 4.x's fixed-point warp is matched exactly:
        assert (difference == 0).mean() > 0.999


def test_outside_the_image_is_black_and_edges_blend_with_black():
    image = np.full((100, 120, 3), 200, np.uint8)
    affine = crop_affine(np.array([-60.0, -60.0, 120.0, 120.0]))  # the top-left quarter of the crop is outside
    crop = warp_crops(torch.from_numpy(image), torch.from_numpy(source_coordinate_terms(affine[None])))[0].numpy()
    expected = cv2.warpAffine(image, affine, (256, 256), flags=cv2.INTER_LINEAR)
    np.testing.assert_array_equal(crop, expected)
    assert (crop[:100, :100] == 0).all() and (crop[200:, 200:] == 200).all()
    assert 0 < crop[128, 130, 0] <= 200 or 0 < crop[130, 128, 0] <= 200  # the boundary row/column blends


def test_inverse_affines_equal_opencv():
    affines = affines_for(sharp_image(), BOXES)
    expected = np.stack([cv2.invertAffineTransform(affine) for affine in affines])
    np.testing.assert_allclose(invert_affines(affines), expected, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("device", DEVICES)
def test_network_input_equals_the_cpu_preprocessing(device):
    image = sharp_image()
    height, width = image.shape[:2]
    processed = np.array([box for box in (process_bbox(b, width, height) for b in BOXES) if box is not None])
    patches, affines = crop_patches(image, processed)
    sampler = CropSampler(device)
    images = sampler(image, affines)
    assert images.shape == (len(processed), 3, 256, 256) and images.dtype == torch.float32
    assert images.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(images.cpu(), patches_to_tensor(patches), rtol=0, atol=1e-4)
    half = CropSampler(device, dtype=torch.bfloat16, channels_last=False)(image, affines)
    assert half.dtype == torch.bfloat16 and half.is_contiguous()
    torch.testing.assert_close(half.float().cpu(), images.cpu(), rtol=1e-2, atol=1e-2)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_upload_reuses_its_pinned_buffer_and_handles_new_frame_sizes():
    sampler = CropSampler("cuda")
    first = sharp_image(640, 480, seed=1)
    uploaded = sampler.upload(first)
    buffer = sampler._pinned
    np.testing.assert_array_equal(uploaded.cpu().numpy(), first)
    second = sharp_image(640, 480, seed=2)
    np.testing.assert_array_equal(sampler.upload(second).cpu().numpy(), second)
    assert sampler._pinned is buffer and buffer.is_pinned()
    third = sharp_image(1280, 720, seed=3)
    np.testing.assert_array_equal(sampler.upload(third).cpu().numpy(), third)
