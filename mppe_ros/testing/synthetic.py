"""Synthetic inputs shared by the tests, the benchmarks, `mppe-ros infer --untrained` and the demo.

The one recipe for plausible random weights (`trained_like_nets`, saved in the released file format by
`trained_like_weights`), synthetic frames, person boxes and stick figures. Everything is seeded: the same call gives
the same numbers (on the same torch build), which the golden test (mppe_ros.testing.golden) relies on.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn
from torchvision.models.resnet import Bottleneck

from mppe_ros.checkpoints import save_official_checkpoint
from mppe_ros.networks import PoseNet, RootNet, build_posenet, build_rootnet

RESIDUAL_SCALE = 0.2  # trained_like_nets: scale of each residual branch's last BatchNorm
LOGIT_STD = 3.0  # trained_like_nets: standard deviation of the output logits on the calibration crops
POSENET_FILE, ROOTNET_FILE = "snapshot_24.pth.tar", "snapshot_18.pth.tar"  # the released names and epochs
POSENET_EPOCH, ROOTNET_EPOCH = 24, 18


def synthetic_frame(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A uint8 BGR [height, width, 3] frame with gradients, blocks and noise (structure for random nets)."""
    rng = np.random.default_rng(seed)
    v, u = np.mgrid[0:height, 0:width]
    image = np.stack([u * 255 // max(width - 1, 1), v * 255 // max(height - 1, 1), (u + v) % 256], axis=2)
    for _ in range(24):
        x, y = rng.integers(0, width), rng.integers(0, height)
        image[y : y + max(height // 8, 1), x : x + max(width // 16, 1)] = rng.integers(0, 256, 3)
    return np.clip(image + rng.integers(-20, 21, image.shape), 0, 255).astype(np.uint8)


def person_boxes(count: int, width: int, height: int) -> np.ndarray:
    """[count, 4] (x, y, w, h) px: upright person-sized boxes on a grid covering the frame."""
    columns = int(np.ceil(np.sqrt(count * width / height)))
    rows = int(np.ceil(count / columns))
    cell_w, cell_h = width / columns, height / rows
    index = np.arange(count)
    x, y = (index % columns) * cell_w, (index // columns) * cell_h
    sizes = np.broadcast_to([0.6 * cell_w, 0.9 * cell_h], (count, 2))
    return np.concatenate([np.stack([x + 0.2 * cell_w, y + 0.05 * cell_h], 1), sizes], 1)


def draw_stick_figure(image_bgr: np.ndarray, box_xywh_px, colour: tuple[int, int, int] = (60, 60, 60)) -> None:
    """Draw an upright stick figure (head, trunk, arms, legs) filling `box_xywh_px` into `image_bgr`, in place."""
    x, y, w, h = (int(v) for v in box_xywh_px)
    cx, width = x + w // 2, max(2, w // 10)
    cv2.circle(image_bgr, (cx, y + h // 10), max(h // 12, 1), colour, -1)
    cv2.line(image_bgr, (cx, y + h // 5), (cx, y + 3 * h // 5), colour, max(2, w // 8))
    arms = ((x, y + h // 4, y + h // 2), (x + w, y + h // 4, y + h // 2))
    legs = ((x + w // 5, y + 3 * h // 5, y + h), (x + 4 * w // 5, y + 3 * h // 5, y + h))
    for end_x, start_y, end_y in arms + legs:
        cv2.line(image_bgr, (cx, start_y), (end_x, end_y), colour, width)


def network_input(image_bgr: np.ndarray) -> torch.Tensor:
    """[3, H, W] float32 in about the range of the normalised network input ((0..255 - mean) / std)."""
    return torch.from_numpy(np.ascontiguousarray(image_bgr)).permute(2, 0, 1).float() * 4.0 - 500.0


def trained_like_nets(joint_num: int = 21, seed: int = 0) -> tuple[PoseNet, RootNet]:
    """Seeded random PoseNet and RootNet (eval mode) whose value ranges resemble trained ones.

    Untrained ResNets with identity BatchNorm statistics reach activations of ~1e5 (float16
    overflows) and heatmap logits of ~1e3 (a one-hot softmax, where 1e-7 relative differences between
    convolution algorithms move joints by whole cells); a trained net has neither. So the BatchNorm
    statistics are calibrated on synthetic crops (one train-mode pass), the residual branches damped
    and the output layers scaled: logits with a standard deviation of LOGIT_STD, and RootNet's gamma ~1
    (depth ~ k, distances of metres).
    """
    torch.manual_seed(seed)
    crop = network_input(synthetic_frame(128, 128, seed))
    images = torch.stack([crop, crop.flip(2)])
    posenet, rootnet = build_posenet(joint_num), build_rootnet()
    for net, head in ((posenet, posenet.head), (rootnet, rootnet.root)):
        for module in net.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.momentum = None  # cumulative average: exactly this pass's statistics
        output_layer = head.final_layer if net is posenet else head.xy_layer
        with torch.no_grad():
            output_layer(head.deconv_layers(net.train().backbone(images)))
            net.eval()
            for block in net.backbone.modules():
                if isinstance(block, Bottleneck):  # damped residual branches, as trained ResNets have
                    block.bn3.weight.mul_(RESIDUAL_SCALE)
                    block.bn3.bias.mul_(RESIDUAL_SCALE)
            logits = output_layer(head.deconv_layers(net.backbone(images)))
            output_layer.weight.mul_(LOGIT_STD / logits.std().clamp_min(1e-6))
            output_layer.bias.zero_()
            if net is rootnet:
                head.depth_layer.weight.mul_(0.01)
                head.depth_layer.bias.fill_(1.0)
    return posenet, rootnet


def trained_like_weights(folder: Path | str, joint_num: int = 21, seed: int = 0) -> tuple[Path, Path]:
    """trained_like_nets saved as released-format files in `folder`: (PoseNet file, RootNet file).

    The files carry the released names and epochs (snapshot_24.pth.tar, snapshot_18.pth.tar) and load
    with mppe_ros.checkpoints like the real ones. The poses they give are meaningless.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    posenet, rootnet = trained_like_nets(joint_num, seed)
    paths = folder / POSENET_FILE, folder / ROOTNET_FILE
    save_official_checkpoint(posenet, paths[0], epoch=POSENET_EPOCH)
    save_official_checkpoint(rootnet, paths[1], epoch=ROOTNET_EPOCH)
    return paths
