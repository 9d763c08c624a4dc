"""The networks as the official test code runs them (3DMPPE_POSENET_RELEASE main/test.py and the datasets'
`evaluate`): PoseNet on given, already processed boxes with the flip test, decoded with a given root depth in the
closed form of the eval code; RootNet on processed boxes. Uses an MppePipeline's prepared networks.

Decoding (MuPoTS.evaluate / Human36M.evaluate): x_px = x_hm / 64 * box_w + box_x, y_px likewise, z_mm =
(z_bin / 64 * 2 - 1) * 1000 + root_depth_mm, then each joint back-projected with its own depth (pixel2cam).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from mppe_ros.joint_sets import MUCO_21
from mppe_ros.networks import HEATMAP_SIZE
from mppe_ros.pipeline import MppePipeline
from mppe_ros.postprocessing import depth_bins_to_relative_mm
from mppe_ros.preprocessing import compute_k_value, crop_patches, patches_to_tensor

MUPOTS_FLIP_PAIRS = MUCO_21.flip_pairs[:6]  # MuPoTS.flip_pairs: hands and toes are not swapped


def _crops(pipeline: MppePipeline, image_bgr: np.ndarray, boxes: np.ndarray) -> torch.Tensor:
    patches, _ = crop_patches(image_bgr, boxes)
    return patches_to_tensor(patches, pipeline.device)


def posenet_on_boxes(
    pipeline: MppePipeline,
    image_bgr: np.ndarray,
    processed_boxes: np.ndarray,
    flip_pairs: Sequence[tuple[int, int]],
    flip_test: bool = True,
) -> np.ndarray:
    """PoseNet's output [N, J, 3] in heatmap units (x, y 0..63, z depth bins) for each processed box [N, 4] px,
    averaged with the flipped crop's (x -> 63 - x, `flip_pairs` swapped) when `flip_test`, as main/test.py."""
    boxes = np.asarray(processed_boxes, dtype=np.float64).reshape(-1, 4)
    if not len(boxes):
        return np.zeros((0, pipeline.joint_set.joint_num, 3))
    images = _crops(pipeline, image_bgr, boxes)
    with torch.inference_mode():
        coords = pipeline.posenet(images)[0].float().cpu().numpy().astype(np.float64)
        if not flip_test:
            return np.asarray(coords)
        flipped = pipeline.posenet(torch.flip(images, dims=[3]))[0].float().cpu().numpy().astype(np.float64)
    flipped[:, :, 0] = HEATMAP_SIZE - flipped[:, :, 0] - 1
    for left, right in flip_pairs:
        flipped[:, [left, right]] = flipped[:, [right, left]]
    return np.asarray((coords + flipped) / 2.0)


def decode_official(
    coords_hm: np.ndarray,
    processed_boxes: np.ndarray,
    root_depth_mm: np.ndarray,
    focal: Sequence[float] | np.ndarray,
    principal: Sequence[float] | np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Image px [N, J, 2] and camera mm [N, J, 3] of PoseNet outputs [N, J, 3] (heatmap units) in processed boxes
    [N, 4] with root depths [N] mm and intrinsics f, c px."""
    boxes = np.asarray(processed_boxes, dtype=np.float64).reshape(-1, 1, 4)
    coords = np.asarray(coords_hm, dtype=np.float64)
    u = coords[:, :, 0] / HEATMAP_SIZE * boxes[:, :, 2] + boxes[:, :, 0]
    v = coords[:, :, 1] / HEATMAP_SIZE * boxes[:, :, 3] + boxes[:, :, 1]
    z = depth_bins_to_relative_mm(coords[:, :, 2]) + np.asarray(root_depth_mm, dtype=np.float64).reshape(-1, 1)
    x = (u - principal[0]) / focal[0] * z
    y = (v - principal[1]) / focal[1] * z
    return np.stack([u, v], axis=2), np.stack([x, y, z], axis=2)


def rootnet_on_boxes(
    pipeline: MppePipeline, image_bgr: np.ndarray, processed_boxes: np.ndarray, focal: Sequence[float] | np.ndarray,
    principal: Sequence[float] | np.ndarray,
) -> np.ndarray:  # fmt: skip
    """RootNet's root [N, 3] camera mm for processed boxes [N, 4] px, as RootNet's evaluate (k from the processed
    box and f; the 2D root mapped with the closed form, then back-projected at the predicted depth)."""
    boxes = np.asarray(processed_boxes, dtype=np.float64).reshape(-1, 4)
    if not len(boxes):
        return np.zeros((0, 3))
    k_value = compute_k_value(boxes, focal[0], focal[1], (pipeline.bbox_real_mm, pipeline.bbox_real_mm))
    images = _crops(pipeline, image_bgr, boxes)
    with torch.inference_mode():
        output = pipeline.rootnet(images, torch.from_numpy(k_value).to(pipeline.device)).float().cpu().numpy()
    output = output.astype(np.float64)
    u = output[:, 0] / HEATMAP_SIZE * boxes[:, 2] + boxes[:, 0]
    v = output[:, 1] / HEATMAP_SIZE * boxes[:, 3] + boxes[:, 1]
    depth = output[:, 2]
    return np.stack([(u - principal[0]) / focal[0] * depth, (v - principal[1]) / focal[1] * depth, depth], axis=1)
