"""skeleton2d: the MuCo-21 / Human3.6M-18 -> hri_msgs/Skeleton2D (OpenPose-18) table and the normalised points."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from mppe_ros.joint_sets import H36M_18, MUCO_21
from mppe_ros.skeleton2d import (
    SKELETON2D_SLOTS,
    SKELETON2D_TABLE,
    skeleton2d_indices,
    skeleton2d_points,
    skeleton2d_sources,
)

# hri_msgs/msg/Skeleton2D's constants in index order (test_rep155 checks them against the installed message).
OPENPOSE_18 = (
    "NOSE", "NECK", "RIGHT_SHOULDER", "RIGHT_ELBOW", "RIGHT_WRIST", "LEFT_SHOULDER", "LEFT_ELBOW", "LEFT_WRIST",
    "RIGHT_HIP", "RIGHT_KNEE", "RIGHT_ANKLE", "LEFT_HIP", "LEFT_KNEE", "LEFT_ANKLE", "LEFT_EYE", "RIGHT_EYE",
    "LEFT_EAR", "RIGHT_EAR",
)  # fmt: skip
JOINT_SETS = pytest.mark.parametrize("joint_set", [MUCO_21, H36M_18], ids=lambda s: s.name)
WIDTH, HEIGHT = 640, 480


def test_every_slot_named_in_order():
    assert SKELETON2D_SLOTS == OPENPOSE_18
    assert len(SKELETON2D_TABLE) == 18 and all(len(row) == 3 for row in SKELETON2D_TABLE)


@JOINT_SETS
def test_every_mapped_name_exists_once_and_sides_agree(joint_set):
    sources = skeleton2d_sources(joint_set)
    mapped = [name for name in sources if name is not None]
    assert set(mapped) <= set(joint_set.joint_names)
    assert len(mapped) == len(set(mapped)) == 14  # every slot but the eyes and ears
    for slot, name in zip(SKELETON2D_SLOTS, sources, strict=True):
        if slot.endswith(("_EYE", "_EAR")):
            assert name is None
        elif slot.startswith(("LEFT_", "RIGHT_")):
            assert name == f"{slot[0]}_{slot.split('_', 1)[1].capitalize()}"  # LEFT_KNEE <- L_Knee
    assert sources[1] == "Thorax"  # NECK: OpenPose's mid-shoulder point
    indices = skeleton2d_indices(joint_set)
    assert [None if i is None else joint_set.joint_names[i] for i in indices] == list(sources)


def test_unknown_joint_set_raises():
    with pytest.raises(ValueError, match="no Skeleton2D mapping"):
        skeleton2d_sources(dataclasses.replace(MUCO_21, name="coco_17"))


@JOINT_SETS
def test_points_are_normalised_with_confidences(joint_set):
    rng = np.random.default_rng(1)
    joints_px = rng.uniform((0, 0), (WIDTH, HEIGHT), (joint_set.joint_num, 2))
    confidence = rng.uniform(0.2, 1.0, joint_set.joint_num)
    points = skeleton2d_points(joints_px, joint_set, WIDTH, HEIGHT, confidence)
    assert points.shape == (18, 3)
    for slot, index in enumerate(skeleton2d_indices(joint_set)):
        if index is None:
            assert tuple(points[slot]) == (0.0, 0.0, 0.0)
        else:
            u, v = joints_px[index]
            np.testing.assert_allclose(points[slot], (u / WIDTH, v / HEIGHT, confidence[index]), rtol=0, atol=1e-15)
    assert ((0.0 <= points[:, :2]) & (points[:, :2] <= 1.0)).all()
    default = skeleton2d_points(joints_px, joint_set, WIDTH, HEIGHT)
    mapped = [slot for slot, index in enumerate(skeleton2d_indices(joint_set)) if index is not None]
    assert (default[mapped, 2] == 1.0).all()


@JOINT_SETS
def test_outside_and_non_finite_joints(joint_set):
    joints_px = np.full((joint_set.joint_num, 2), 100.0)
    nose, neck, knee = skeleton2d_indices(joint_set)[0:2] + skeleton2d_indices(joint_set)[9:10]
    joints_px[nose] = (-30.0, 100.0)  # left of the image
    joints_px[neck] = (np.nan, 50.0)
    joints_px[knee] = (WIDTH + 5.0, HEIGHT + 9.0)
    points = skeleton2d_points(joints_px, joint_set, WIDTH, HEIGHT, np.full(joint_set.joint_num, 0.8))
    np.testing.assert_allclose(points[0], (0.0, 100.0 / HEIGHT, 0.0))  # clipped to the border, c = 0
    np.testing.assert_allclose(points[1], (0.0, 0.0, 0.0))
    np.testing.assert_allclose(points[9], (1.0, 1.0, 0.0))
    assert points[2, 2] == pytest.approx(0.8)


def test_bad_input_raises():
    with pytest.raises(ValueError, match="image size"):
        skeleton2d_points(np.zeros((21, 2)), MUCO_21, 0, 480)
    with pytest.raises(ValueError, match="joints_px must have shape"):
        skeleton2d_points(np.zeros((18, 2)), MUCO_21, WIDTH, HEIGHT)
    with pytest.raises(ValueError, match="confidence must have shape"):
        skeleton2d_points(np.zeros((18, 2)), H36M_18, WIDTH, HEIGHT, np.ones(21))
