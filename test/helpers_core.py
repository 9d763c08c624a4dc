"""Shared helpers for the inference-core tests: demo constants, cameras, stub nets, ground-truth scenes.

Synthetic frames, boxes and weights come from mppe_ros.testing.synthetic (shared with the benchmarks).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from mppe_ros.camera import PinholeCamera
from mppe_ros.networks import DEPTH_DIM, HEATMAP_SIZE, INPUT_SIZE_PX, build_posenet, build_rootnet
from mppe_ros.preprocessing import crop_affine, process_bbox

# The official demo (3dmppe.md §5): 640x392 image, f = 1500 px, principal point at the centre.
DEMO_SIZE = (640, 392)
DEMO_BOXES = (
    (139.41, 102.25, 222.39, 241.57),
    (287.17, 61.52, 74.88, 165.61),
    (540.04, 48.81, 99.96, 223.36),
    (372.58, 170.84, 266.63, 217.19),
    (0.5, 43.74, 90.1, 220.09),
)
DEMO_PROCESSED = (
    (99.74875, 72.17875, 300.7125),
    (221.22875, 40.94375, 205.7625),
    (450.545, 21.015, 277.95),
    (339.37625, 112.91625, 332.0375),
    (-91.88125, 16.35375, 273.8625),
)
DEMO_K = (9976.306640625, 14579.916015625, 10793.30859375, 9035.1240234375, 10954.40234375)

# A camera with fx != fy and an off-centre principal point, for a 640x480 image.
CAMERA = PinholeCamera(fx=1400.0, fy=1550.0, cx=300.5, cy=262.25, width=640, height=480)
RAW_CAMERA = PinholeCamera(
    fx=1400.0,
    fy=1550.0,
    cx=300.5,
    cy=262.25,
    width=640,
    height=480,
    distortion=(-0.28, 0.09, 0.001, -0.0015, -0.01),
    rectified=False,
)


def randomise_batchnorm(net: nn.Module, seed: int = 0) -> nn.Module:
    """Non-trivial running statistics and affine parameters, so folding has something to fold."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, nn.BatchNorm2d):
                size = module.num_features
                module.running_mean.copy_(torch.randn(size, generator=generator) * 0.2)
                module.running_var.copy_(torch.rand(size, generator=generator) + 0.5)
                module.weight.copy_(torch.rand(size, generator=generator) + 0.5)
                module.bias.copy_(torch.randn(size, generator=generator) * 0.2)
    return net.eval()


def skeletons_mm(count: int, joint_num: int = 21, seed: int = 0) -> np.ndarray:
    """[count, J, 3] plausible 3D joints in the optical frame, mm (people 5-9 m away, spread out)."""
    rng = np.random.default_rng(seed)
    roots = np.stack(
        [rng.uniform(-1000, 1000, count), rng.uniform(-200, 200, count), rng.uniform(5000, 9000, count)], 1
    )
    offsets = rng.uniform((-300, -900, -250), (300, 800, 250), (count, joint_num, 3))
    return roots[:, None, :] + offsets


class StubPoseNet(nn.Module):
    """Returns fixed outputs for a batch of exactly N crops, and counts its calls."""

    def __init__(self, coords: np.ndarray, joint_num: int = 21) -> None:
        super().__init__()
        self.joint_num = joint_num
        self.coords = torch.as_tensor(coords, dtype=torch.float32)
        self.calls = 0

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        assert images.shape == (len(self.coords), 3, INPUT_SIZE_PX, INPUT_SIZE_PX)
        self.calls += 1
        return self.coords.clone(), torch.ones(self.coords.shape[:2])


class StubRootNet(nn.Module):
    """Returns fixed (x_hm, y_hm, depth_mm) rows for a batch of exactly N crops."""

    def __init__(self, output: np.ndarray) -> None:
        super().__init__()
        self.output = torch.as_tensor(output, dtype=torch.float32)
        self.calls = 0

    def forward(self, images: torch.Tensor, k_value: torch.Tensor) -> torch.Tensor:
        assert images.shape[0] == len(self.output) == k_value.shape[0]
        self.calls += 1
        return self.output.clone()


def encode_scene(
    joints_mm: np.ndarray, camera: PinholeCamera, root_index: int = 14
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ideal network outputs for known 3D joints (the inverse of the decoding, from the spec).

    Returns:
        boxes_xywh: [N, 4] tight boxes around each person's projected joints, px.
        pose_coords: [N, J, 3] PoseNet output (x, y heatmap cells; z depth bins).
        root_output: [N, 3] RootNet output (root x, y heatmap cells; root depth mm).
    """
    joints_px = camera.camera_to_pixels(joints_mm)
    low, high = joints_px.min(axis=1) - 10.0, joints_px.max(axis=1) + 10.0
    boxes = np.concatenate([low, high - low], axis=1)
    width, height = camera.width, camera.height
    pose_coords, root_output = [], []
    for box, px, mm in zip(boxes, joints_px, joints_mm, strict=True):
        affine = crop_affine(process_bbox(box, width, height))
        crop_px = px @ affine[:, :2].T + affine[:, 2]
        xy_hm = crop_px * HEATMAP_SIZE / INPUT_SIZE_PX
        z_bins = ((mm[:, 2] - mm[root_index, 2]) / 1000.0 + 1.0) / 2.0 * DEPTH_DIM
        pose_coords.append(np.concatenate([xy_hm, z_bins[:, None]], axis=1))
        root_output.append([*xy_hm[root_index], mm[root_index, 2]])
    return boxes, np.array(pose_coords), np.array(root_output)


CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
BN_LAYERS_PER_NET = 56  # 53 in the ResNet-50 trunk + 3 in the deconvolution head


def bn_random_nets() -> tuple[nn.Module, nn.Module]:
    """PoseNet (21 joints) and RootNet, seeded, with randomised BatchNorm statistics (folding has work to do)."""
    torch.manual_seed(0)
    return randomise_batchnorm(build_posenet(21), 1), randomise_batchnorm(build_rootnet(), 2)


def heatmap_logits(net: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """The logits before the soft-argmax (PoseNet's final layer, RootNet's xy layer)."""
    head = net.head if hasattr(net, "head") else net.root
    features = head.deconv_layers(net.backbone(images))
    return head.final_layer(features) if hasattr(head, "final_layer") else head.xy_layer(features)
