"""tracking_frame / output_frame through real TF: a robot turning at 60 deg/s, then driving at 0.5 m/s (the real
tf2_ros TransformBroadcaster publishing odom -> base_link at each image's stamp, a StaticTransformBroadcaster
base_link -> camera optical frame), two people standing still in odom. The networks are stubs set per image to the
ideal encoding of the people as the camera sees them at that stamp (the injected boxes function runs on the node's
inference thread just before the pipeline), so the measurements are exact and the test checks the frames.
Missing, late and extrapolated transforms: counted, explained once, and the node answers after."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch
from geometry_msgs.msg import TransformStamped
from helpers_core import StubPoseNet, StubRootNet, encode_scene
from ros_harness import CX, CY, FX, FY, HEIGHT, WIDTH, camera_info, context, image_msg, stamp_header, start  # noqa: F401
from ros_tools import requires

from mppe_ros.camera import PinholeCamera
from mppe_ros.joint_sets import MUCO_21
from mppe_ros.pipeline import MppePipeline
from mppe_ros.tracking import RigidTransform

pytestmark = [requires("tf2_ros"), pytest.mark.slow]
CAMERA = PinholeCamera(FX, FY, CX, CY, width=WIDTH, height=HEIGHT)
OPTICAL = "front_camera_optical_frame"
RATE_HZ, TURN_S, DRIVE_S = 10.0, 0.5, 1.0
BASE_FROM_OPTICAL = RigidTransform(
    np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]]), np.array([0.1, 0.0, 1.0])
)
ROOTS_ODOM_M = np.array([[4.0, 0.3, 1.0], [5.0, -0.4, 0.9]])


def people_odom_m() -> np.ndarray:
    """[2, 21, 3] the two people in odom, m (still; their root joint is ROOTS_ODOM_M)."""
    offsets = np.random.default_rng(7).uniform((-0.15, -0.2, -0.5), (0.15, 0.2, 0.45), (2, 21, 3))
    offsets -= offsets[:, MUCO_21.root_index : MUCO_21.root_index + 1]
    return ROOTS_ODOM_M[:, None, :] + offsets


def odom_from_base(time_s: float) -> RigidTransform:
    """The robot: yaw -15 deg turning at 60 deg/s for TURN_S, then driving forward at 0.5 m/s."""
    yaw = math.radians(-15.0 + 60.0 * min(time_s, TURN_S))
    forward = np.array([math.cos(yaw), math.sin(yaw), 0.0])
    position = forward * 0.5 * max(time_s - TURN_S, 0.0)
    return RigidTransform.from_quaternion((0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2)), position)


def transform_msg(stamp, parent: str, child: str, transform: RigidTransform) -> TransformStamped:
    msg = TransformStamped()
    msg.header.stamp, msg.header.frame_id, msg.child_frame_id = stamp, parent, child
    r, t = transform.rotation, transform.translation_m
    w = math.sqrt(max(1.0 + r[0, 0] + r[1, 1] + r[2, 2], 1e-12)) / 2.0
    msg.transform.rotation.w, msg.transform.rotation.x = w, (r[2, 1] - r[1, 2]) / (4 * w)
    msg.transform.rotation.y, msg.transform.rotation.z = (r[0, 2] - r[2, 0]) / (4 * w), (r[1, 0] - r[0, 1]) / (4 * w)
    msg.transform.translation.x, msg.transform.translation.y, msg.transform.translation.z = (float(v) for v in t)
    return msg


class Scene:
    """The stub networks and the boxes function that sets them for each image's stamp."""

    T0_S = 100

    def __init__(self) -> None:
        self.pose_net, self.root_net = StubPoseNet(np.zeros((2, 21, 3))), StubRootNet(np.zeros((2, 3)))
        self.pipeline = MppePipeline(self.pose_net, self.root_net, MUCO_21, device="cpu")
        self.people_m = people_odom_m()

    def boxes(self, image) -> np.ndarray:
        time_s = image.header.stamp.sec + image.header.stamp.nanosec * 1e-9 - self.T0_S
        optical_from_odom = (odom_from_base(time_s) @ BASE_FROM_OPTICAL).inverse()
        boxes, coords, root_output = encode_scene(optical_from_odom.points(self.people_m) * 1000.0, CAMERA)
        self.pose_net.coords, self.root_net.output = (
            torch.as_tensor(coords).float(),
            torch.as_tensor(root_output).float(),
        )
        return boxes

    def header(self, k: int):
        return stamp_header(self.T0_S, int(round(k / RATE_HZ * 1e9)), frame_id=OPTICAL)


def run(context, output_frame: str, **parameters):  # noqa: F811
    """Every frame of the robot's motion through the node; returns (scene, node, [PersonPose3DArray])."""
    import tf2_ros

    scene = Scene()
    mppe, harness = start(context, scene.pipeline, boxes=scene.boxes, reliable=True, tracking_frame="odom",
                          output_frame=output_frame, tf_timeout_s=2.0, **parameters)  # fmt: skip
    static, dynamic = tf2_ros.StaticTransformBroadcaster(harness.node), tf2_ros.TransformBroadcaster(harness.node)
    static.sendTransform(transform_msg(scene.header(0).stamp, "base_link", OPTICAL, BASE_FROM_OPTICAL))
    results = []
    try:
        for k in range(int((TURN_S + DRIVE_S) * RATE_HZ) + 1):
            header = scene.header(k)
            dynamic.sendTransform(transform_msg(header.stamp, "odom", "base_link", odom_from_base(k / RATE_HZ)))
            results.append(harness.exchange(image_msg(header), camera_info(header)))
    finally:
        harness.close()
        mppe.destroy_node()
    return scene, mppe, results


def test_people_standing_still_stay_still_in_odom_while_the_robot_turns_and_drives(context):  # noqa: F811
    scene, mppe, results = run(context, output_frame="odom")
    assert {r.header.frame_id for r in results} == {"odom"} and mppe.stats.no_transform == 0
    assert all(len(r.persons) == 2 for r in results) and len({tuple(p.id for p in r.persons) for r in results}) == 1
    roots_m = np.array([[[p.root.x, p.root.y, p.root.z] for p in r.persons] for r in results])  # [frames, 2, 3]
    speeds_mps = np.array([[math.hypot(p.root_velocity.x, p.root_velocity.y, p.root_velocity.z) for p in r.persons]
                           for r in results[1:]])  # fmt: skip
    order = np.argsort(roots_m[0, :, 0])
    deviation_m = np.linalg.norm(roots_m[:, order] - ROOTS_ODOM_M, axis=-1).max()
    print(f"people still in odom, robot turning 60 deg/s then driving 0.5 m/s: roots within {deviation_m:.1e} m, "
          f"speeds at most {speeds_mps.max():.1e} m/s over {len(results)} frames")  # fmt: skip
    np.testing.assert_allclose(roots_m[:, order], np.broadcast_to(ROOTS_ODOM_M, roots_m.shape), atol=0.02)
    assert speeds_mps.max() < 0.05, speeds_mps  # the robot moves at up to 60 deg/s and 0.5 m/s


def test_output_in_base_link_while_tracking_in_odom(context):  # noqa: F811
    scene, mppe, results = run(context, output_frame="base_link")
    assert {r.header.frame_id for r in results} == {"base_link"}
    for k in (0, len(results) - 1):
        expected = odom_from_base(k / RATE_HZ).inverse().points(ROOTS_ODOM_M)
        roots = np.array([[p.root.x, p.root.y, p.root.z] for p in results[k].persons])
        np.testing.assert_allclose(roots[np.argsort(roots[:, 0])], expected[np.argsort(expected[:, 0])], atol=0.02)
    last = results[-1].persons  # the velocity relative to odom (people still), in base_link's axes
    assert max(math.hypot(p.root_velocity.x, p.root_velocity.y, p.root_velocity.z) for p in last) < 0.05


def test_missing_late_and_extrapolated_transforms_are_counted_explained_and_the_node_answers_after(context):  # noqa: F811
    import tf2_ros

    scene = Scene()
    mppe, harness = start(context, scene.pipeline, boxes=scene.boxes, reliable=True, rosout=True,
                          tracking_frame="odom", tf_timeout_s=0.5)  # fmt: skip
    dynamic, static = tf2_ros.TransformBroadcaster(harness.node), tf2_ros.StaticTransformBroadcaster(harness.node)
    try:
        missing = scene.header(0)  # no transform at all yet
        harness.publish(image_msg(missing), camera_info(missing))
        assert harness.spin_until(lambda: mppe.stats.no_transform == 1), mppe.stats
        static.sendTransform(transform_msg(missing.stamp, "base_link", OPTICAL, BASE_FROM_OPTICAL))
        for k in (1, 2):
            header = scene.header(k)
            dynamic.sendTransform(transform_msg(header.stamp, "odom", "base_link", odom_from_base(k / RATE_HZ)))
            assert harness.exchange(image_msg(header), camera_info(header)).header.frame_id == OPTICAL
        late = scene.header(3)  # the image first, its transform 0.2 s later (within tf_timeout_s)
        harness.publish(image_msg(late), camera_info(late))
        sent_s = time.monotonic() + 0.2
        harness.spin_until(lambda: time.monotonic() > sent_s)
        dynamic.sendTransform(transform_msg(late.stamp, "odom", "base_link", odom_from_base(0.3)))
        assert harness.spin_until(lambda: bool(harness.poses_with_stamp(late))) and mppe.stats.no_transform == 1
        ahead = scene.header(8)  # odom -> base_link stops at 0.3 s: extrapolation
        harness.publish(image_msg(ahead), camera_info(ahead))
        assert harness.spin_until(lambda: mppe.stats.no_transform == 2), mppe.stats
        after = scene.header(9)
        dynamic.sendTransform(transform_msg(after.stamp, "odom", "base_link", odom_from_base(0.9)))
        harness.exchange(image_msg(after), camera_info(after))
        assert harness.spin_until(lambda: "extrapolation" in harness.log_text().lower())
        text = harness.log_text()
        assert "no transform" in text and "robot_state_publisher" in text and "use_sim_time" in text, text
        assert not harness.poses_with_stamp(missing) and not harness.poses_with_stamp(ahead)
    finally:
        harness.close()
        mppe.destroy_node()
