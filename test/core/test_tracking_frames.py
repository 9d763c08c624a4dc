"""Tracking in a fixed frame (no ROS): a camera orbiting two people who stand still, 180 deg at 60 deg/s, tracked in
the world with the camera's pose per frame and, for contrast, in the camera's optical frame; RigidTransform and
`express` (results in the output frame). The networks are stubs returning each frame's ideal encoding of the people
as the moving camera sees them, so the pipeline's measurements are exact and every difference comes from the frames."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from helpers_core import CAMERA, StubPoseNet, StubRootNet, encode_scene

from mppe_ros.joint_sets import MUCO_21
from mppe_ros.pipeline import MppePipeline
from mppe_ros.testing.synthetic import synthetic_frame
from mppe_ros.tracking import CameraSession, RigidTransform, SessionSettings, TrackIds, express

IMAGE = synthetic_frame(640, 480)
RATE_HZ, TURN_RATE_RADPS, ORBIT_M, CAMERA_HEIGHT_M = 10.0, math.radians(60.0), 7.0, 1.0
FRAMES = int(math.pi / TURN_RATE_RADPS * RATE_HZ) + 1  # 180 deg
PEOPLE_ROOTS_M = np.array([[0.6, 0.2, 1.0], [-0.5, -0.6, 1.0]])  # world (odom: x forward, y left, z up)


def world_joints_m() -> np.ndarray:
    """[2, 21, 3] the two standing people in the world, m (skeletons within 0.45 m of their roots)."""
    rng = np.random.default_rng(5)
    return PEOPLE_ROOTS_M[:, None, :] + rng.uniform((-0.25, -0.2, -0.45), (0.25, 0.2, 0.4), (2, 21, 3))


def camera_pose(time_s: float) -> RigidTransform:
    """world <- optical of a camera orbiting the origin at ORBIT_M, looking at it, heading turning at 60 deg/s."""
    angle = TURN_RATE_RADPS * time_s
    forward = np.array([math.cos(angle), math.sin(angle), 0.0])
    right, down = np.array([math.sin(angle), -math.cos(angle), 0.0]), np.array([0.0, 0.0, -1.0])
    position_m = -ORBIT_M * forward + np.array([0.0, 0.0, CAMERA_HEIGHT_M])
    return RigidTransform(np.stack([right, down, forward], axis=1), position_m)


def orbit(tracking_in_world: bool):
    """The TrackedResult of every frame of the orbit, tracked in the world (poses given) or in the optical frame."""
    joints_world_m = world_joints_m()
    pose_net, root_net = StubPoseNet(np.zeros((2, 21, 3))), StubRootNet(np.zeros((2, 3)))
    session = CameraSession(MppePipeline(pose_net, root_net, MUCO_21), TrackIds())
    root = MUCO_21.root_index
    results = []
    for k in range(FRAMES):
        time_s = k / RATE_HZ
        pose = camera_pose(time_s)
        joints_cam_mm = pose.inverse().points(joints_world_m) * 1000.0
        boxes, coords, root_output = encode_scene(joints_cam_mm, CAMERA, root)
        pose_net.coords, root_net.output = torch.as_tensor(coords).float(), torch.as_tensor(root_output).float()
        given = pose if tracking_in_world else RigidTransform.identity()
        results.append(session(IMAGE, CAMERA, time_s, time_s, SessionSettings(), boxes, None, given))
    return results


def confirmed(results) -> list[dict[int, object]]:
    """Per frame: {track id: TrackedPerson} of the confirmed tracks."""
    return [{t.track_id: t for t in r.tracks if t.is_confirmed} for r in results]


def test_people_standing_still_stay_still_in_the_world_while_the_camera_turns_180_deg():
    frames = confirmed(orbit(tracking_in_world=True))[3:]  # confirmed from the third frame (min_hits)
    assert all(len(f) == 2 for f in frames) and len({tuple(sorted(f)) for f in frames}) == 1  # the same two ids
    for track_id in frames[0]:
        roots_m = np.array([f[track_id].root_m for f in frames])
        speeds_mps = np.linalg.norm([f[track_id].velocity_mps for f in frames], axis=1)
        truths_m = world_joints_m()[:, MUCO_21.root_index]
        truth_m = truths_m[np.argmin(np.linalg.norm(truths_m - roots_m[0], axis=1))]
        np.testing.assert_allclose(roots_m, np.broadcast_to(truth_m, roots_m.shape), atol=0.01)
        assert speeds_mps.max() < 0.02, speeds_mps


def test_the_same_scene_tracked_in_the_camera_frame_shows_the_robots_motion_as_the_peoples():
    frames = confirmed(orbit(tracking_in_world=False))[3:]
    speeds_mps = [np.linalg.norm(t.velocity_mps) for f in frames[5:] for t in f.values()]
    sweeps_m = [np.ptp([f[i].root_m for f in frames if i in f], axis=0).max() for i in frames[0]]
    assert min(speeds_mps) > 0.2 and max(speeds_mps) > 0.6, speeds_mps  # apparent motion, m/s
    assert min(sweeps_m) > 0.8, sweeps_m  # each person sweeps about a metre in the optical frame


def test_express_gives_the_world_tracks_in_the_output_frame():
    (result,) = orbit(tracking_in_world=True)[-1:]
    output_from_world = RigidTransform.from_quaternion((0.0, 0.0, math.sin(0.3), math.cos(0.3)), [1.0, -2.0, 0.5])
    output_from_camera = output_from_world @ camera_pose((FRAMES - 1) / RATE_HZ)
    moved = express(result, output_from_world, output_from_camera)
    for before, after in zip(result.tracks, moved.tracks, strict=True):
        np.testing.assert_allclose(after.root_m, output_from_world.points(before.root_m))
        np.testing.assert_allclose(after.velocity_mps, output_from_world.rotation @ before.velocity_mps)
        np.testing.assert_allclose(after.joints_px, before.joints_px)
    for person, moved_person, track in zip(result.result.persons, moved.result.persons, moved.tracks, strict=True):
        np.testing.assert_allclose(moved_person.root_cam_m, output_from_camera.points(person.root_cam_m))
        np.testing.assert_allclose(moved_person.root_cam_m, track.root_m, atol=1e-6)  # exact measurements
    assert express(result, RigidTransform.identity(), RigidTransform.identity()) is result


def test_rigid_transforms_compose_invert_and_match_quaternions():
    turn = RigidTransform.from_quaternion((0.0, 0.0, math.sin(math.pi / 4), math.cos(math.pi / 4)), [1.0, 0.0, 0.0])
    np.testing.assert_allclose(turn.points([1.0, 0.0, 0.0]), [1.0, 1.0, 0.0], atol=1e-12)  # 90 deg about z, then x+1
    np.testing.assert_allclose(turn.vectors([1.0, 0.0, 0.0]), [0.0, 1.0, 0.0], atol=1e-12)
    points = np.random.default_rng(0).normal(size=(5, 3))
    np.testing.assert_allclose(turn.inverse().points(turn.points(points)), points, atol=1e-12)
    np.testing.assert_allclose((turn @ turn).points(points), turn.points(turn.points(points)), atol=1e-12)
    pose = camera_pose(0.0)
    assert pose.depths_m(np.zeros(3)) == pytest.approx(ORBIT_M)  # the orbit's centre is ORBIT_M ahead
    assert RigidTransform.identity().is_identity and not turn.is_identity
