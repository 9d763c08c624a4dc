"""tracking_frame / output_frame with TF from another process, as on a robot: robot_state_publisher's static
base_link -> camera transform sent before the node starts (it must reach the node's late TransformListener through
/tf_static's transient-local durability), odometry's odom -> base_link at each image's stamp on /tf.

One `python -m mppe_ros node` child (tracking_frame odom, output_frame base_link, detector none: every frame that has
its transforms is answered at once, with an empty persons list); this test process is the robot: the static and the
dynamic TransformBroadcaster, the camera (reliable pairs) and the listener of /humans/poses3d and /diagnostics.
First frames without odometry: none is answered, each is counted ("No transform" on /diagnostics) and the cause is
logged; then odometry starts and every frame is answered in base_link with its own stamp.
"""

from __future__ import annotations

import pytest
import rclpy
from child_process import node_child, stop_children
from geometry_msgs.msg import TransformStamped
from ros_harness import FRAME, NodeProcessPeer, stamp_header, wait_for
from ros_tools import requires

pytestmark = [requires("tf2_ros"), pytest.mark.slow]
WITHOUT_ODOMETRY, WITH_ODOMETRY = range(3), range(3, 13)  # frame indices, 10 per second from stamp 500 s
NO_TRANSFORM_KEY = "No transform since startup"


def transform(stamp, parent: str, child: str, x_m: float) -> TransformStamped:
    msg = TransformStamped(child_frame_id=child)
    msg.header.stamp, msg.header.frame_id = stamp, parent
    msg.transform.translation.x = x_m
    msg.transform.rotation.w = 1.0
    return msg


class Robot(NodeProcessPeer):
    """This process's side: the camera and what the node publishes (NodeProcessPeer), and the TF broadcasters."""

    def __init__(self, context) -> None:
        import tf2_ros

        super().__init__(context, "tf_robot")
        self.static = tf2_ros.StaticTransformBroadcaster(self.node)
        self.odometry = tf2_ros.TransformBroadcaster(self.node)

    def frame(self, index: int, odometry: bool) -> int:
        """Send frame `index` (with its odom -> base_link first when `odometry`); its stamp, ns."""
        header = stamp_header(500, index * 100_000_000)
        if odometry:
            self.odometry.sendTransform(transform(header.stamp, "odom", "base_link", 0.05 * index))
        return self.publish(header)


def test_transforms_from_another_process_static_first_odometry_late(official_weights):
    context = rclpy.Context()
    rclpy.init(context=context)
    robot = Robot(context)
    node = None
    try:
        robot.static.sendTransform(transform(stamp_header(0).stamp, "base_link", FRAME, 0.2))  # before the node
        node = node_child(
            official_weights, "detector:=none", "input_reliability:=reliable", "input_depth:=20",
            "tracking_frame:=odom", "output_frame:=base_link", "tf_timeout_s:=0.3", "log_period_s:=1.0",
        )  # fmt: skip
        assert node.started("ready: subscribing"), node.text()
        assert wait_for(lambda: robot.image_pub.get_subscription_count() == 1, 30)

        skipped = []
        for index in WITHOUT_ODOMETRY:  # one at a time: the node keeps only the newest pair
            skipped.append(robot.frame(index, odometry=False))
            counted = wait_for(lambda: robot.counter(NO_TRANSFORM_KEY) == len(skipped), 30)
            assert counted, (robot.diagnostics, node.text())
        for index in WITH_ODOMETRY:
            stamp_ns = robot.frame(index, odometry=True)
            assert wait_for(lambda s=stamp_ns: s in robot.poses, 30), (index, node.text())
            assert robot.poses[stamp_ns].header.frame_id == "base_link"
        assert not set(skipped) & set(robot.poses), "a frame without its transform was answered"
        assert robot.counter(NO_TRANSFORM_KEY) == len(skipped), robot.diagnostics
        text = node.text()
        assert "no transform" in text and "odom" in text and "robot_state_publisher" in text, text
    finally:
        stop_children([node] if node is not None else [])
        robot.close()
        rclpy.shutdown(context=context)
