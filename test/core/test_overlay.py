"""mppe_ros.overlay: the one 2D drawing (a PoseResult or a message's arrays) and the person palette."""

from __future__ import annotations

import numpy as np

from mppe_ros.camera import PinholeCamera
from mppe_ros.joint_sets import MUCO_21
from mppe_ros.overlay import PERSON_COLORS, draw_poses, draw_skeletons, person_color_bgr
from mppe_ros.results import PersonPose, PoseResult

CAMERA = PinholeCamera(fx=500.0, fy=500.0, cx=160.0, cy=120.0, width=320, height=240)


def _person(x: float) -> PersonPose:
    joints_px = np.stack([np.full(21, x + 30.0), np.linspace(40.0, 200.0, 21)], 1)
    joints_m = np.concatenate([joints_px, np.full((21, 1), 3.0)], 1) * 0.001
    box = np.array([x, 30.0, 60.0, 180.0])
    return PersonPose(box, box, 1.0, 5000.0, 3000.0, joints_px[14], joints_m[14], joints_px, joints_m, np.ones(21))


def test_palette_is_tableau_10_and_bgr_is_its_reverse():
    assert len(PERSON_COLORS) == 10 and all(0.0 <= c <= 1.0 for color in PERSON_COLORS for c in color)
    assert person_color_bgr(0) == (180, 119, 31) and person_color_bgr(13) == person_color_bgr(3)


def test_draw_skeletons_colours_each_person_and_leaves_the_input_alone():
    image = np.zeros((240, 320, 3), np.uint8)
    result = PoseResult(MUCO_21, CAMERA, (_person(20.0), _person(200.0)))
    canvas = draw_skeletons(image, result)
    assert not image.any() and canvas.shape == image.shape and canvas.dtype == np.uint8
    assert tuple(canvas[120, 50]) == person_color_bgr(0)  # on person 0's bone line
    assert tuple(canvas[120, 230]) == person_color_bgr(1)


def test_draw_poses_uses_the_given_ids_skips_non_finite_joints_and_writes_the_note():
    image = np.zeros((240, 320, 3), np.uint8)
    joints = np.full((1, 21, 2), np.nan)
    canvas = draw_poses(image, np.array([[10.0, 10.0, 50.0, 100.0]]), joints, np.zeros((1, 3)), MUCO_21.bones, [7])
    assert tuple(canvas[60, 10]) == person_color_bgr(7)  # the box's left edge
    assert not draw_poses(image, np.zeros((0, 4)), np.zeros((0, 21, 2)), np.zeros((0, 3)), MUCO_21.bones).any()
    noted = draw_poses(image, np.zeros((0, 4)), np.zeros((0, 21, 2)), np.zeros((0, 3)), MUCO_21.bones, note="X")
    assert noted[200:, :40, 2].any()  # red text at the bottom left
