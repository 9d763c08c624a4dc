"""PoseNet and RootNet of 3DMPPE (Moon et al., ICCV 2019), exactly as released.

Attribute names are the checkpoint keys (with the DataParallel prefix of the released files stripped):
`backbone.*` is torchvision's ResNet-50 trunk, PoseNet's head is `head.deconv_layers.{0..8}` +
`head.final_layer`, RootNet's is `root.deconv_layers`, `root.xy_layer`, `root.depth_layer`.
Building a network gives random weights; `mppe_ros.checkpoints` loads the released ones.
"""

from __future__ import annotations

import torch
from torch import nn
from torchvision.models.resnet import Bottleneck, ResNet

INPUT_SIZE_PX = 256  # square network input (config.input_shape)
HEATMAP_SIZE = 64  # output_shape = input_shape // 4
DEPTH_DIM = 64  # PoseNet depth bins (config.depth_dim)
BACKBONE_CHANNELS = 2048
DECONV_CHANNELS = 256
CONFIDENCE_RADIUS_CELLS = 2.0  # joint confidence radius: 8 px of the 256 px crop


class ResNetBackbone(ResNet):
    """torchvision ResNet-50 without `avgpool` and `fc`; returns the layer4 map.

    Input [B, 3, 256, 256] -> output [B, 2048, 8, 8].
    """

    def __init__(self) -> None:
        super().__init__(Bottleneck, [3, 4, 6, 3])
        del self.avgpool, self.fc

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(images))))
        features: torch.Tensor = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return features


def build_deconv_layers() -> nn.Sequential:
    """Three x [ConvTranspose2d(4, stride 2, pad 1, no bias), BatchNorm2d(256), ReLU]: 8 -> 64 px."""
    layers: list[nn.Module] = []
    in_channels = BACKBONE_CHANNELS
    for _ in range(3):
        layers += [
            nn.ConvTranspose2d(in_channels, DECONV_CHANNELS, 4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(DECONV_CHANNELS),
            nn.ReLU(inplace=True),
        ]
        in_channels = DECONV_CHANNELS
    return nn.Sequential(*layers)


def soft_argmax(logits: torch.Tensor, joint_num: int, depth_dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Integral regression: one softmax over all D*H*W cells per joint, then expected indices.

    Args:
        logits: [B, J*D, H, W], channel index j*D + d (joint-major, depth-minor).
        joint_num: J.
        depth_dim: D (1 for RootNet's 2D heatmap).

    Returns:
        coords: [B, J, 3] float32, (x along W, y along H, z along D), each in heatmap cells 0..size-1
            (cell centres at integer positions, no +0.5).
        confidence: [B, J] float32 in [0, 1], the probability mass of the 2D (x, y) marginal within
            2 cells of the decoded (x, y); sharp unimodal heatmaps give values near 1.
    """
    batch, _, height, width = logits.shape
    flat = logits.float().reshape(batch, joint_num, depth_dim * height * width)
    prob = torch.softmax(flat, dim=2).reshape(batch, joint_num, depth_dim, height, width)
    xs = torch.arange(width, dtype=prob.dtype, device=prob.device)
    ys = torch.arange(height, dtype=prob.dtype, device=prob.device)
    zs = torch.arange(depth_dim, dtype=prob.dtype, device=prob.device)
    x = (prob.sum(dim=(2, 3)) * xs).sum(dim=2)
    y = (prob.sum(dim=(2, 4)) * ys).sum(dim=2)
    z = (prob.sum(dim=(3, 4)) * zs).sum(dim=2)
    coords = torch.stack((x, y, z), dim=2)

    prob_xy = prob.sum(dim=2)  # [B, J, H, W]
    near = (xs.view(1, 1, 1, width) - x[..., None, None]) ** 2 + (
        ys.view(1, 1, height, 1) - y[..., None, None]
    ) ** 2 <= CONFIDENCE_RADIUS_CELLS**2
    confidence = (prob_xy * near).sum(dim=(2, 3))
    return coords, confidence


class PoseHead(nn.Module):
    """PoseNet head: deconvolutions to 64x64, then a 1x1 conv to joint_num * depth_dim channels."""

    def __init__(self, joint_num: int) -> None:
        super().__init__()
        self.deconv_layers = build_deconv_layers()
        self.final_layer = nn.Conv2d(DECONV_CHANNELS, joint_num * DEPTH_DIM, kernel_size=1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.final_layer(self.deconv_layers(features))
        return logits


class PoseNet(nn.Module):
    """Root-relative 3D pose network (the released `ResPoseNet` of 3DMPPE_POSENET_RELEASE)."""

    def __init__(self, joint_num: int = 21) -> None:
        super().__init__()
        self.joint_num = joint_num
        self.backbone = ResNetBackbone()
        self.head = PoseHead(joint_num)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Run PoseNet on normalised crops.

        Args:
            images: [B, 3, 256, 256] network input (see mppe_ros.preprocessing).

        Returns:
            coords: [B, J, 3] (x, y in 64-cell heatmap units, z in depth bins 0..63).
            confidence: [B, J] in [0, 1] (see soft_argmax).
        """
        return soft_argmax(self.head(self.backbone(images)), self.joint_num, DEPTH_DIM)


class RootHead(nn.Module):
    """RootNet head: a 2D root heatmap from deconvolutions and gamma from the pooled backbone map."""

    def __init__(self) -> None:
        super().__init__()
        self.deconv_layers = build_deconv_layers()
        self.xy_layer = nn.Conv2d(DECONV_CHANNELS, 1, kernel_size=1)
        self.depth_layer = nn.Conv2d(BACKBONE_CHANNELS, 1, kernel_size=1)

    def forward(self, features: torch.Tensor, k_value: torch.Tensor) -> torch.Tensor:
        xy, _ = soft_argmax(self.xy_layer(self.deconv_layers(features)), joint_num=1, depth_dim=1)
        pooled = features.mean(dim=(2, 3), keepdim=True)  # global average pool of layer4
        gamma = self.depth_layer(pooled).view(-1, 1).float()
        depth_mm = gamma * k_value.reshape(-1, 1).float()
        return torch.cat((xy[:, 0, :2], depth_mm), dim=1)


class RootNet(nn.Module):
    """Absolute root depth network (the released `ResPoseNet` of 3DMPPE_ROOTNET_RELEASE)."""

    def __init__(self) -> None:
        super().__init__()
        self.backbone = ResNetBackbone()
        self.root = RootHead()

    def forward(self, images: torch.Tensor, k_value: torch.Tensor) -> torch.Tensor:
        """Run RootNet on normalised crops.

        Args:
            images: [B, 3, 256, 256] network input.
            k_value: [B] or [B, 1] distance prior k in mm (mppe_ros.preprocessing.compute_k_value).

        Returns:
            [B, 3] float32: root x, y in 64-cell heatmap units, and the absolute root depth in mm
            (gamma * k, paper eq. 2).
        """
        root: torch.Tensor = self.root(self.backbone(images), k_value)
        return root


def build_posenet(joint_num: int = 21) -> PoseNet:
    """A randomly initialised PoseNet in eval mode (21 joints: MuCo; 18: Human3.6M)."""
    return PoseNet(joint_num).eval()


def build_rootnet() -> RootNet:
    """A randomly initialised RootNet in eval mode."""
    return RootNet().eval()
