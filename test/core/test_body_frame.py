"""body_frame: the REP-155 body frame (x forward, y left, z up) from optical-frame 3D joints, and its fallbacks."""

from __future__ import annotations

import numpy as np
import pytest
from helpers_body import BODY_JOINTS_M, FACING_CAMERA, MID_HIP_M, quaternion_to_rotation, standing_joints, yaw

from mppe_ros.body_frame import METHODS, BodyFrame, body_frame, rotation_to_quaternion_xyzw
from mppe_ros.joint_sets import H36M_18, MUCO_21, JointSet

JOINT_SETS = pytest.mark.parametrize("joint_set", [MUCO_21, H36M_18], ids=lambda s: s.name)


def assert_proper_rotation(rotation: np.ndarray) -> None:
    np.testing.assert_allclose(rotation.T @ rotation, np.eye(3), atol=1e-12)
    assert np.linalg.det(rotation) == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(np.cross(rotation[:, 2], rotation[:, 0]), rotation[:, 1], atol=1e-12)  # y = z x x


def index(joint_set: JointSet, *names: str) -> list[int]:
    return [joint_set.joint_names.index(name) for name in names]


@JOINT_SETS
def test_person_facing_the_camera(joint_set):
    frame = body_frame(standing_joints(joint_set), joint_set)
    assert frame is not None and (frame.method, frame.origin_source) == ("hips_spine", "mid_hip")
    np.testing.assert_allclose(frame.origin_m, MID_HIP_M, rtol=0, atol=1e-9)
    assert_proper_rotation(frame.rotation)
    np.testing.assert_allclose(frame.rotation, FACING_CAMERA, atol=1e-9)
    forward = frame.rotation[:, 0]
    assert forward @ np.array([0.0, 0.0, -1.0]) > 0.999  # x points out of the chest, towards the camera
    assert forward @ -frame.origin_m > 0  # ... i.e. from the body towards the optical centre
    assert frame.rotation[:, 2] @ np.array([0.0, -1.0, 0.0]) > 0.999  # z up (optical -y)


@JOINT_SETS
@pytest.mark.parametrize("degrees", [90.0, -90.0, 180.0, 33.0])
def test_turned_person(joint_set, degrees):
    rotation = FACING_CAMERA @ yaw(degrees)
    frame = body_frame(standing_joints(joint_set, rotation), joint_set)
    assert frame is not None and frame.method == "hips_spine"
    assert_proper_rotation(frame.rotation)
    np.testing.assert_allclose(frame.rotation, rotation, atol=1e-9)
    if degrees == 90.0:  # turned to her left: faces the camera's right (+x optical)
        np.testing.assert_allclose(frame.rotation[:, 0], [1.0, 0.0, 0.0], atol=1e-9)
    if degrees == 180.0:  # back to the camera
        np.testing.assert_allclose(frame.rotation[:, 0], [0.0, 0.0, 1.0], atol=1e-9)


@JOINT_SETS
def test_leaning_and_lying_people_follow_the_spine(joint_set):
    rng = np.random.default_rng(3)
    for _ in range(20):
        q = rng.normal(size=4)
        rotation = quaternion_to_rotation(q / np.linalg.norm(q))
        frame = body_frame(standing_joints(joint_set, rotation), joint_set)
        assert frame is not None and frame.method == "hips_spine"
        np.testing.assert_allclose(frame.rotation, rotation, atol=1e-9)


@JOINT_SETS
def test_gram_schmidt_keeps_the_spine_as_z(joint_set):
    joints = standing_joints(joint_set)
    left, right = index(joint_set, "L_Hip", "R_Hip")
    joints[left] += (0.0, 0.0, -0.04)  # left hip 4 cm further forward (towards the camera): pelvis turned
    joints[right] += (0.0, 0.0, 0.04)
    frame = body_frame(joints, joint_set)
    assert frame is not None and frame.method == "hips_spine"
    assert_proper_rotation(frame.rotation)
    np.testing.assert_allclose(frame.rotation[:, 2], FACING_CAMERA[:, 2], atol=1e-9)  # z along the spine, exactly
    np.testing.assert_allclose(frame.origin_m, MID_HIP_M, atol=1e-9)
    turned = np.degrees(np.arctan2(frame.rotation[0, 0], -frame.rotation[2, 0]))  # 0: facing the camera
    assert turned == pytest.approx(np.degrees(np.arctan2(-0.08, 0.2)), abs=1e-6)  # her left hip forward: faces -x


@JOINT_SETS
def test_a_missing_hip_falls_back_to_the_shoulders_and_the_pelvis(joint_set):
    joints = standing_joints(joint_set)
    joints[index(joint_set, "L_Hip")] = np.nan
    frame = body_frame(joints, joint_set)
    assert frame is not None and (frame.method, frame.origin_source) == ("shoulders_spine", "pelvis")
    np.testing.assert_allclose(frame.origin_m, joints[joint_set.root_index], atol=1e-12)
    np.testing.assert_allclose(frame.rotation, FACING_CAMERA, atol=1e-9)


@JOINT_SETS
def test_hips_collinear_with_the_spine_fall_back_to_the_shoulders(joint_set):
    joints = standing_joints(joint_set)
    left, right = index(joint_set, "L_Hip", "R_Hip")
    joints[left], joints[right] = MID_HIP_M + (0.0, -0.1, 0.0), MID_HIP_M + (0.0, 0.1, 0.0)  # along the spine
    frame = body_frame(joints, joint_set)
    assert frame is not None and (frame.method, frame.origin_source) == ("shoulders_spine", "mid_hip")
    np.testing.assert_allclose(frame.origin_m, MID_HIP_M, atol=1e-9)
    np.testing.assert_allclose(frame.rotation, FACING_CAMERA, atol=1e-9)


@JOINT_SETS
def test_coincident_hips_are_degenerate(joint_set):
    joints = standing_joints(joint_set)
    joints[index(joint_set, "L_Hip", "R_Hip")] = MID_HIP_M
    frame = body_frame(joints, joint_set)
    assert frame is not None and frame.method == "shoulders_spine"


@JOINT_SETS
def test_low_confidence_hips_are_unreliable(joint_set):
    confidence = np.full(joint_set.joint_num, 0.9)
    confidence[index(joint_set, "R_Hip")] = 0.05
    frame = body_frame(standing_joints(joint_set), joint_set, confidence, min_confidence=0.1)
    assert frame is not None and (frame.method, frame.origin_source) == ("shoulders_spine", "pelvis")
    frame = body_frame(standing_joints(joint_set), joint_set, confidence, min_confidence=0.01)
    assert frame is not None and (frame.method, frame.origin_source) == ("hips_spine", "mid_hip")


@JOINT_SETS
def test_no_spine_uses_the_camera_up(joint_set):
    joints = standing_joints(joint_set)
    upper = [
        n
        for n in ("Thorax", "Neck", "Spine", "Torso", "Head", "L_Shoulder", "R_Shoulder")
        if n in joint_set.joint_names
    ]
    joints[index(joint_set, *upper)] = np.nan
    frame = body_frame(joints, joint_set)
    assert frame is not None and frame.method == "hips_vertical"
    np.testing.assert_allclose(frame.rotation, FACING_CAMERA, atol=1e-9)
    turned = standing_joints(joint_set, FACING_CAMERA @ yaw(90.0))
    turned[index(joint_set, *upper)] = np.nan
    frame = body_frame(turned, joint_set)
    assert frame is not None and frame.method == "hips_vertical"
    np.testing.assert_allclose(frame.rotation, FACING_CAMERA @ yaw(90.0), atol=1e-9)


@JOINT_SETS
def test_no_torso_faces_the_camera(joint_set):
    joints = standing_joints(joint_set)
    keep = index(joint_set, "L_Knee", "R_Knee")
    joints[[i for i in range(joint_set.joint_num) if i not in keep]] = np.nan
    frame = body_frame(joints, joint_set)
    assert frame is not None and (frame.method, frame.origin_source) == ("facing_camera", "joints_mean")
    np.testing.assert_allclose(frame.origin_m, joints[keep].mean(0), atol=1e-12)
    assert_proper_rotation(frame.rotation)
    np.testing.assert_allclose(frame.rotation[:, 2], [0.0, -1.0, 0.0], atol=1e-12)  # z = -y optical
    towards = -frame.origin_m * (1.0, 0.0, 1.0)
    np.testing.assert_allclose(frame.rotation[:, 0], towards / np.linalg.norm(towards), atol=1e-12)


@JOINT_SETS
def test_no_reliable_joint_gives_none(joint_set):
    assert body_frame(np.full((joint_set.joint_num, 3), np.nan), joint_set) is None
    confidence = np.zeros(joint_set.joint_num)
    assert body_frame(standing_joints(joint_set), joint_set, confidence) is None


@JOINT_SETS
def test_quaternion_matrix_and_body_coordinates(joint_set):
    rotation = FACING_CAMERA @ yaw(57.0)
    joints = standing_joints(joint_set, rotation)
    frame = body_frame(joints, joint_set)
    assert frame is not None
    q = frame.quaternion_xyzw
    assert np.linalg.norm(q) == pytest.approx(1.0) and q[3] >= 0
    np.testing.assert_allclose(quaternion_to_rotation(q), frame.rotation, atol=1e-12)
    matrix = frame.matrix
    np.testing.assert_allclose(matrix[:3, :3], frame.rotation)
    np.testing.assert_allclose(matrix[:3, 3], frame.origin_m)
    np.testing.assert_allclose(matrix[3], [0, 0, 0, 1])
    local = np.array([BODY_JOINTS_M[name] for name in joint_set.joint_names])
    np.testing.assert_allclose(frame.to_body(joints), local, atol=1e-9)


def test_quaternion_of_every_branch():
    rng = np.random.default_rng(0)
    turns = [np.diag(d) for d in ((1, -1, -1), (-1, 1, -1), (-1, -1, 1), (1, 1, 1))]
    randoms = [quaternion_to_rotation(q / np.linalg.norm(q)) for q in rng.normal(size=(200, 4))]
    for rotation in turns + randoms:
        q = rotation_to_quaternion_xyzw(rotation)
        assert np.linalg.norm(q) == pytest.approx(1.0) and q[3] >= 0
        np.testing.assert_allclose(quaternion_to_rotation(q), rotation, atol=1e-12)


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match="joints_cam_m must have shape"):
        body_frame(np.zeros((18, 3)), MUCO_21)
    with pytest.raises(ValueError, match="confidence must have shape"):
        body_frame(standing_joints(MUCO_21), MUCO_21, np.ones(18))
    with pytest.raises(ValueError, match="rotation"):
        BodyFrame(np.zeros(3), np.eye(4), METHODS[0], "mid_hip")
