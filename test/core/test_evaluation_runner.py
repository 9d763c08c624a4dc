"""The networks as the official test runs them: the flip test of main/test.py, the eval code's closed-form decoding
of a given (already processed) box with a given root depth, RootNet on boxes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers_core import StubRootNet
from torch import nn

from mppe_ros.evaluation.runner import MUPOTS_FLIP_PAIRS, decode_official, posenet_on_boxes, rootnet_on_boxes
from mppe_ros.joint_sets import MUCO_21
from mppe_ros.pipeline import MppePipeline

BASE = np.random.default_rng(0).uniform(5, 58, (1, 21, 3))
MIRRORED = np.random.default_rng(1).uniform(5, 58, (1, 21, 3))


class MirrorAwarePoseNet(nn.Module):
    """BASE for a crop brighter on its left, MIRRORED for the flipped crop (brighter on its right)."""

    joint_num = 21

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        flipped = images[:, :, :, :8].mean() < images[:, :, :, -8:].mean()
        coords = torch.as_tensor(MIRRORED if flipped else BASE, dtype=torch.float32).repeat(len(images), 1, 1)
        return coords, torch.ones(coords.shape[:2])


def pipeline(rootnet_output=np.zeros((1, 3))):
    return MppePipeline(MirrorAwarePoseNet(), StubRootNet(rootnet_output), MUCO_21, device="cpu")


def left_bright_image():
    image = np.zeros((480, 640, 3), np.uint8)
    image[:, :320] = 200
    return image


def test_flip_test_averages_with_the_mirrored_output_mapped_back():
    box = np.array([[192.0, 112.0, 256.0, 256.0]])  # the crop's left half is bright
    coords = posenet_on_boxes(pipeline(), left_bright_image(), box, MUPOTS_FLIP_PAIRS)
    mapped = MIRRORED.copy()
    mapped[:, :, 0] = 63 - mapped[:, :, 0]  # output_shape[1] - x - 1
    for left, right in MUPOTS_FLIP_PAIRS:  # 6 pairs: hands and toes (17..20) are not swapped in MuPoTS.py
        mapped[:, [left, right]] = mapped[:, [right, left]]
    np.testing.assert_allclose(coords, (BASE + mapped) / 2, atol=1e-5)
    np.testing.assert_allclose(posenet_on_boxes(pipeline(), left_bright_image(), box, MUPOTS_FLIP_PAIRS, False), BASE,
                               atol=1e-5)  # fmt: skip
    assert MUPOTS_FLIP_PAIRS == ((2, 5), (3, 6), (4, 7), (8, 11), (9, 12), (10, 13))


def test_decoding_uses_the_box_as_given_and_each_joints_own_depth():
    coords = np.array([[[32.0, 16.0, 32.0], [0.0, 64.0, 48.0]]])  # heatmap x, y, depth bin
    box = np.array([[100.0, 50.0, 300.0, 300.0]])  # not processed again
    joints_px, joints_mm = decode_official(coords, box, np.array([5000.0]), (1500.0, 1400.0), (320.0, 240.0))
    np.testing.assert_allclose(joints_px[0], [[250.0, 125.0], [100.0, 350.0]])
    z = np.array([5000.0, 5000.0 + 500.0])  # (48 / 64 * 2 - 1) * 1000 = +500 mm
    np.testing.assert_allclose(joints_mm[0, :, 2], z)
    np.testing.assert_allclose(joints_mm[0, :, 0], (joints_px[0, :, 0] - 320.0) / 1500.0 * z)
    np.testing.assert_allclose(joints_mm[0, :, 1], (joints_px[0, :, 1] - 240.0) / 1400.0 * z)


def test_rootnet_on_boxes_back_projects_its_root_at_its_depth():
    root = rootnet_on_boxes(pipeline(np.array([[32.0, 32.0, 6000.0]])), left_bright_image(),
                            np.array([[192.0, 112.0, 256.0, 256.0]]), (1500.0, 1500.0), (300.0, 240.0))  # fmt: skip
    np.testing.assert_allclose(root, [[(320.0 - 300.0) / 1500.0 * 6000.0, 0.0, 6000.0]], atol=1e-6)
    assert root.shape == (1, 3) and rootnet_on_boxes(pipeline(), left_bright_image(), np.zeros((0, 4)), (1, 1),
                                                     (0, 0)).shape == (0, 3)  # fmt: skip


@pytest.mark.parametrize("count", [0, 2])
def test_posenet_on_no_box_or_several(count):
    boxes = np.tile([[192.0, 112.0, 256.0, 256.0]], (count, 1))
    assert posenet_on_boxes(pipeline(), left_bright_image(), boxes, MUPOTS_FLIP_PAIRS).shape == (count, 21, 3)
