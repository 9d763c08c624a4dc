"""The official 3DMPPE demo (RootNet demo + PoseNet demo), one person and one forward at a time.

Written from the official demo/demo.py and common/utils of both release repositories (as
described in docs 3dmppe.md §4-5), deliberately independent of mppe_ros.preprocessing and
mppe_ros.postprocessing: it is the parity oracle of the tests and the baseline of the speed
benchmark. It keeps the demo's data types (float32 arrays, torchvision ToTensor + Normalize on a
float32 crop) and its 3x3 inverse affine. Units: px and mm, as in the demo.

Only difference from the demo: a box the official process_bbox rejects (returns None; the demo
would crash) is skipped.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import torch
from torchvision import transforms

from mppe_ros.networks import DEPTH_DIM, HEATMAP_SIZE, INPUT_SIZE_PX, PoseNet, RootNet
from mppe_ros.precision import ieee_float32
from mppe_ros.preprocessing import invert_affines

_DEMO_TRANSFORM = transforms.Compose(
    [transforms.ToTensor(), transforms.Normalize(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))]
)


def official_process_bbox(bbox: np.ndarray, width: int, height: int) -> np.ndarray | None:
    """common/utils/pose_utils.process_bbox of the release repositories (input size 256x256)."""
    x, y, w, h = bbox
    x1 = np.max((0, x))
    y1 = np.max((0, y))
    x2 = np.min((width - 1, x1 + np.max((0, w - 1))))
    y2 = np.min((height - 1, y1 + np.max((0, h - 1))))
    if w * h > 0 and x2 >= x1 and y2 >= y1:
        bbox = np.array([x1, y1, x2 - x1, y2 - y1])
    else:
        return None
    w = bbox[2]
    h = bbox[3]
    c_x = bbox[0] + w / 2.0
    c_y = bbox[1] + h / 2.0
    aspect_ratio = 1.0
    if w > aspect_ratio * h:
        h = w / aspect_ratio
    elif w < aspect_ratio * h:
        w = h * aspect_ratio
    bbox[2] = w * 1.25
    bbox[3] = h * 1.25
    bbox[0] = c_x - bbox[2] / 2.0
    bbox[1] = c_y - bbox[3] / 2.0
    return bbox


def official_patch(image_bgr: np.ndarray, bbox: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """generate_patch_image at inference settings: (float32 RGB 256x256x3 crop, 2x3 affine)."""
    c_x = float(bbox[0] + 0.5 * bbox[2])
    c_y = float(bbox[1] + 0.5 * bbox[3])
    src_center = np.array([c_x, c_y], dtype=np.float32)
    src_downdir = np.array([0, float(bbox[3]) * 0.5], dtype=np.float32)
    src_rightdir = np.array([float(bbox[2]) * 0.5, 0], dtype=np.float32)
    dst_center = np.array([INPUT_SIZE_PX * 0.5, INPUT_SIZE_PX * 0.5], dtype=np.float32)
    dst_downdir = np.array([0, INPUT_SIZE_PX * 0.5], dtype=np.float32)
    dst_rightdir = np.array([INPUT_SIZE_PX * 0.5, 0], dtype=np.float32)
    src = np.zeros((3, 2), dtype=np.float32)
    src[0, :], src[1, :], src[2, :] = src_center, src_center + src_downdir, src_center + src_rightdir
    dst = np.zeros((3, 2), dtype=np.float32)
    dst[0, :], dst[1, :], dst[2, :] = dst_center, dst_center + dst_downdir, dst_center + dst_rightdir
    trans = cv2.getAffineTransform(np.float32(src), np.float32(dst))
    patch = cv2.warpAffine(image_bgr.copy(), trans, (INPUT_SIZE_PX, INPUT_SIZE_PX), flags=cv2.INTER_LINEAR)
    return patch[:, :, ::-1].copy().astype(np.float32), trans


class OfficialPipeline:
    """RootNet then PoseNet per box, as the two official demos do, with real intrinsics.

    Args:
        posenet: PoseNet (eval mode).
        rootnet: RootNet (eval mode).
        focal: (fx, fy) in px.
        princpt: (cx, cy) in px.
        bbox_real_mm: assumed real person box for k, mm.
        device: torch device the networks run on (they are moved there).
    """

    def __init__(
        self,
        posenet: PoseNet,
        rootnet: RootNet,
        focal: tuple[float, float],
        princpt: tuple[float, float],
        bbox_real_mm: tuple[float, float] = (2000.0, 2000.0),
        device: str = "cpu",
    ) -> None:
        self.posenet = posenet.to(device).eval()
        self.rootnet = rootnet.to(device).eval()
        self.focal = focal
        self.princpt = princpt
        self.bbox_real_mm = bbox_real_mm
        self.device = device

    def __call__(self, image_bgr: np.ndarray, boxes_xywh: list) -> list[dict[str, np.ndarray]]:
        """Run the demo on each box.

        Args:
            image_bgr: uint8 [H, W, 3] BGR image.
            boxes_xywh: boxes (x_min, y_min, width, height) in px.

        Returns:
            One dict per usable box, in order: `box_index`, `bbox` (processed, px), `k_value`,
            `root_depth_mm`, `root_px` (RootNet's 2D root by the eval code's closed form),
            `pose_2d_px` [J, 2], `pose_3d_mm` [J, 3] (camera frame), `affine` [2, 3].
        """
        height, width = image_bgr.shape[:2]
        outputs = []
        for box_index, box in enumerate(boxes_xywh):
            bbox = official_process_bbox(np.array(box, dtype=np.float64), width, height)
            if bbox is None:
                continue
            patch, trans = official_patch(image_bgr, bbox)
            img = _DEMO_TRANSFORM(patch).to(self.device)[None, :, :, :]
            area = bbox[2] * bbox[3]
            k_value = np.array(
                [math.sqrt(self.bbox_real_mm[0] * self.bbox_real_mm[1] * self.focal[0] * self.focal[1] / area)]
            ).astype(np.float32)
            k_tensor = torch.from_numpy(k_value).view(1, 1, 1).to(self.device)
            with torch.no_grad(), ieee_float32():  # float32 as released (no TF32 on newer GPUs)
                root_3d = self.rootnet(img, k_tensor)[0].cpu().numpy()
                pose_3d = self.posenet(img)[0][0].cpu().numpy()
            root_depth = root_3d[2]
            root_px = np.array(
                [root_3d[0] / HEATMAP_SIZE * bbox[2] + bbox[0], root_3d[1] / HEATMAP_SIZE * bbox[3] + bbox[1]]
            )
            pose_3d[:, 0] = pose_3d[:, 0] / HEATMAP_SIZE * INPUT_SIZE_PX
            pose_3d[:, 1] = pose_3d[:, 1] / HEATMAP_SIZE * INPUT_SIZE_PX
            pose_3d_xy1 = np.concatenate((pose_3d[:, :2], np.ones_like(pose_3d[:, :1])), 1)
            pose_3d[:, :2] = pose_3d_xy1 @ invert_affines(trans[None])[0].T  # the demo's inv(3x3 affine), in 2x3
            pose_2d = pose_3d[:, :2].copy()
            pose_3d[:, 2] = (pose_3d[:, 2] / DEPTH_DIM * 2 - 1) * (2000 / 2) + root_depth
            outputs.append(
                {
                    "box_index": box_index,
                    "bbox": bbox,
                    "k_value": float(k_value[0]),
                    "root_depth_mm": float(root_depth),
                    "root_px": root_px,
                    "pose_2d_px": pose_2d,
                    "pose_3d_mm": self._pixel2cam(pose_3d),
                    "affine": trans,
                }
            )
        return outputs

    def _pixel2cam(self, pixel_coord: np.ndarray) -> np.ndarray:
        """pose_utils.pixel2cam: X = (u - cx) / fx * Z, Y = (v - cy) / fy * Z."""
        x = (pixel_coord[:, 0] - self.princpt[0]) / self.focal[0] * pixel_coord[:, 2]
        y = (pixel_coord[:, 1] - self.princpt[1]) / self.focal[1] * pixel_coord[:, 2]
        z = pixel_coord[:, 2]
        return np.concatenate((x[:, None], y[:, None], z[:, None]), 1)
