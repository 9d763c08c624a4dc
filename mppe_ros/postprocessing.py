"""Decoding of the network outputs into image pixels and camera-frame 3D points (3DMPPE §2-§5).

Units: heatmap cells (64 per crop side), crop px (256 per side), image px, mm for depths (the
networks' unit) and metres for every published 3D point; `mm_to_m` is the only conversion.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mppe_ros.camera import PinholeCamera
from mppe_ros.networks import DEPTH_DIM, HEATMAP_SIZE, INPUT_SIZE_PX
from mppe_ros.preprocessing import invert_affines

BBOX_3D_DEPTH_MM = 2000.0  # config.bbox_3d_shape[0]: PoseNet's depth bins span -1000 .. +968.75 mm
MM_PER_M = 1000.0


def mm_to_m(values_mm: np.ndarray) -> np.ndarray:
    """The one mm -> m conversion of mppe_ros (networks work in mm, outputs are in metres)."""
    return np.asarray(values_mm, dtype=np.float64) / MM_PER_M


def heatmap_to_image_px(coords_hm: np.ndarray, affines: np.ndarray) -> np.ndarray:
    """Heatmap cells -> original image px, through the inverse of each crop affine (official demo).

    Cell x maps to crop px x * 256/64 (cell centres at integers, no +0.5), then the
    image -> crop affine is inverted (preprocessing.invert_affines) and applied.

    Args:
        coords_hm: [N, K, 2] (x, y) in heatmap cells of person n's crop.
        affines: [N, 2, 3] image -> crop affines (preprocessing.crop_affine).

    Returns:
        float64 [N, K, 2] (u, v) in image px.
    """
    coords_hm = np.asarray(coords_hm, dtype=np.float64)
    affines = np.asarray(affines, dtype=np.float64)
    crop_px = coords_hm * (INPUT_SIZE_PX / HEATMAP_SIZE)
    crop_to_image = invert_affines(affines)  # [N, 2, 3]
    image_px: np.ndarray = crop_px @ crop_to_image[:, :, :2].transpose(0, 2, 1) + crop_to_image[:, None, :, 2]
    return image_px


def depth_bins_to_relative_mm(z_bins: np.ndarray) -> np.ndarray:
    """PoseNet depth bins (0..63) -> depth relative to the root joint: (z / 64 * 2 - 1) * 1000 mm."""
    return (np.asarray(z_bins, dtype=np.float64) / DEPTH_DIM * 2.0 - 1.0) * (BBOX_3D_DEPTH_MM / 2.0)


@dataclass(frozen=True)
class DecodedPoses:
    """Network outputs of N persons decoded into the original image and the camera frame.

    Attributes:
        joints_px: float64 [N, J, 2] PoseNet joints (u, v) in image px.
        joints_cam_m: float64 [N, J, 3] joints in the optical frame, m; joint j back-projected
            with its own absolute depth Z_j = z_rel_j + root_depth_mm.
        root_depth_mm: float64 [N] RootNet's absolute root depth, mm.
        root_px: float64 [N, 2] RootNet's own 2D root (u, v) in image px.
        root_cam_m: float64 [N, 3] the PoseNet root joint (u, v) back-projected at RootNet's depth, m
            (official demo: RootNet gives only the depth; x, y come from PoseNet).
    """

    joints_px: np.ndarray
    joints_cam_m: np.ndarray
    root_depth_mm: np.ndarray
    root_px: np.ndarray
    root_cam_m: np.ndarray


def decode_poses(
    pose_coords: np.ndarray, root_output: np.ndarray, affines: np.ndarray, camera: PinholeCamera, root_index: int
) -> DecodedPoses:
    """Decode PoseNet and RootNet outputs of N crops.

    Args:
        pose_coords: [N, J, 3] PoseNet output (x, y in heatmap cells, z in depth bins).
        root_output: [N, 3] RootNet output (x, y in heatmap cells, absolute root depth in mm).
        affines: [N, 2, 3] image -> crop affines the crops were cut with.
        camera: intrinsics of the image (undistortion happens here for raw images).
        root_index: index of the root joint in the joint set.

    Returns:
        The decoded poses (see DecodedPoses).
    """
    pose_coords = np.asarray(pose_coords, dtype=np.float64)
    root_output = np.asarray(root_output, dtype=np.float64)
    joints_px = heatmap_to_image_px(pose_coords[..., :2], affines)
    root_depth_mm = root_output[:, 2]
    joints_depth_mm = depth_bins_to_relative_mm(pose_coords[..., 2]) + root_depth_mm[:, None]
    root_px = heatmap_to_image_px(root_output[:, None, :2], affines)[:, 0]
    return DecodedPoses(
        joints_px=joints_px,
        joints_cam_m=mm_to_m(camera.pixels_to_camera(joints_px, joints_depth_mm)),
        root_depth_mm=root_depth_mm,
        root_px=root_px,
        root_cam_m=mm_to_m(camera.pixels_to_camera(joints_px[:, root_index], root_depth_mm)),
    )
