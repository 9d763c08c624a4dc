"""Decoding: heatmap cells -> image px, depth bins -> mm, back-projection with each joint's depth."""

from __future__ import annotations

import numpy as np
import torch
from helpers_core import CAMERA, RAW_CAMERA, encode_scene, skeletons_mm

from mppe_ros.networks import DEPTH_DIM, HEATMAP_SIZE, soft_argmax
from mppe_ros.postprocessing import decode_poses, depth_bins_to_relative_mm, heatmap_to_image_px, mm_to_m
from mppe_ros.preprocessing import crop_affine, process_bbox

ROOT = 14


def test_depth_bins_to_relative_mm():
    np.testing.assert_allclose(depth_bins_to_relative_mm([0.0, 32.0, 63.0, 16.5]), [-1000.0, 0.0, 968.75, -484.375])


def test_mm_to_m():
    np.testing.assert_allclose(mm_to_m(np.array([1500.0, -20.0])), [1.5, -0.02])


def test_heatmap_to_image_px_inverts_the_crop_affine_and_matches_the_eval_closed_form():
    boxes = np.array([[100.0, 50.0, 240.0, 300.0], [-30.0, 200.0, 90.0, 60.0]])
    processed = np.array([process_bbox(box, 640, 480) for box in boxes])
    affines = np.stack([crop_affine(box) for box in processed])
    coords_hm = np.random.default_rng(0).uniform(0, 63, (2, 21, 2))
    image_px = heatmap_to_image_px(coords_hm, affines)
    # eval code: x = x_hm / 64 * bbox_w + bbox_x (agrees with the inverse affine to float32 rounding)
    closed_form = coords_hm / HEATMAP_SIZE * processed[:, None, 2:] + processed[:, None, :2]
    np.testing.assert_allclose(image_px, closed_form, atol=1e-4)
    # and back through the forward affine
    crop_px = image_px @ affines[:, :, :2].transpose(0, 2, 1) + affines[:, None, :, 2]
    np.testing.assert_allclose(crop_px, coords_hm * 4.0, atol=1e-9)


def peaked_logits(cells: np.ndarray, peak: float = 60.0) -> torch.Tensor:
    """PoseNet logits [N, J*64, 64, 64] with one sharp peak per joint at integer (x, y, z) cells."""
    count, joint_num, _ = cells.shape
    logits = torch.zeros(count, joint_num * DEPTH_DIM, HEATMAP_SIZE, HEATMAP_SIZE)
    for n in range(count):
        for j, (x, y, z) in enumerate(cells[n]):
            logits[n, j * DEPTH_DIM + z, y, x] = peak  # channel = j * D + d (joint-major)
    return logits


def test_crafted_heatmaps_decode_to_the_constructed_3d_joints():
    """Sharp heatmaps at known cells -> soft_argmax -> decode == the spec's forward model."""
    rng = np.random.default_rng(3)
    cells = rng.integers(0, 64, (2, 21, 3))
    coords, confidence = soft_argmax(peaked_logits(cells), 21, DEPTH_DIM)
    np.testing.assert_allclose(coords.numpy(), cells, atol=1e-4)
    assert confidence.min() > 0.99

    boxes = np.array([[200.0, 100.0, 150.0, 320.0], [20.0, 60.0, 120.0, 260.0]])
    processed = np.array([process_bbox(box, 640, 480) for box in boxes])
    affines = np.stack([crop_affine(box) for box in processed])
    root_output = np.array([[30.0, 33.0, 6200.0], [28.5, 35.0, 8100.0]])
    decoded = decode_poses(coords.numpy(), root_output, affines, CAMERA, ROOT)

    u = cells[..., 0] / 64 * processed[:, None, 2] + processed[:, None, 0]
    v = cells[..., 1] / 64 * processed[:, None, 3] + processed[:, None, 1]
    z_mm = (cells[..., 2] / 64 * 2 - 1) * 1000 + root_output[:, None, 2]
    expected_mm = np.stack([(u - CAMERA.cx) / CAMERA.fx * z_mm, (v - CAMERA.cy) / CAMERA.fy * z_mm, z_mm], axis=2)
    np.testing.assert_allclose(decoded.joints_px, np.stack([u, v], axis=2), atol=1e-3)
    np.testing.assert_allclose(decoded.joints_cam_m * 1000.0, expected_mm, atol=0.01)
    np.testing.assert_allclose(decoded.root_depth_mm, root_output[:, 2])
    root_u = root_output[:, 0] / 64 * processed[:, 2] + processed[:, 0]
    root_v = root_output[:, 1] / 64 * processed[:, 3] + processed[:, 1]
    np.testing.assert_allclose(decoded.root_px, np.stack([root_u, root_v], axis=1), atol=1e-3)


def test_root_cam_is_posenet_root_at_rootnet_depth():
    joints_mm = skeletons_mm(2)
    boxes, pose_coords, root_output = encode_scene(joints_mm, CAMERA, ROOT)
    pose_coords[:, ROOT, 2] += 1.6  # PoseNet's root not exactly at relative depth 0 (50 mm)
    affines = np.stack([crop_affine(process_bbox(box, 640, 480)) for box in boxes])
    decoded = decode_poses(pose_coords, root_output, affines, CAMERA, ROOT)
    np.testing.assert_allclose(decoded.root_cam_m[:, 2], root_output[:, 2] / 1000.0)
    np.testing.assert_allclose(decoded.joints_cam_m[:, ROOT, 2], root_output[:, 2] / 1000.0 + 0.05)
    np.testing.assert_allclose(decoded.root_cam_m * 1000.0, joints_mm[:, ROOT], atol=1e-3)


def test_each_joint_uses_its_own_depth_and_distortion_is_removed():
    joints_mm = skeletons_mm(3, seed=5)
    for camera in (CAMERA, RAW_CAMERA):
        boxes, pose_coords, root_output = encode_scene(joints_mm, camera, ROOT)
        affines = np.stack([crop_affine(process_bbox(box, 640, 480)) for box in boxes])
        decoded = decode_poses(pose_coords, root_output, affines, camera, ROOT)
        np.testing.assert_allclose(decoded.joints_cam_m * 1000.0, joints_mm, atol=1e-3)
        np.testing.assert_allclose(decoded.joints_px, camera.camera_to_pixels(joints_mm), atol=1e-6)
