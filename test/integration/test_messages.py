"""PersonPose3DArray round-trips every field between two nodes over Fast DDS on loopback."""

from __future__ import annotations

import time

import pytest
import rclpy
from geometry_msgs.msg import Point
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import QoSProfile, ReliabilityPolicy

from mppe_ros.msg import PersonPose3D, PersonPose3DArray


def make_message() -> PersonPose3DArray:
    msg = PersonPose3DArray()
    msg.header.stamp.sec = 1_700_000_123
    msg.header.stamp.nanosec = 456_789_000
    msg.header.frame_id = "camera_color_optical_frame"
    msg.skeleton = "muco_21"
    msg.joint_names = ["Head_top", "Thorax", "Pelvis"]
    msg.root_index = 2
    msg.bone_a = [0, 1]
    msg.bone_b = [1, 2]
    msg.fx, msg.fy, msg.cx, msg.cy = 615.25, 612.5, 321.75, 238.125
    for person_id in range(2):
        person = PersonPose3D()
        person.id = person_id
        person.is_tracked = bool(person_id)
        person.score = 0.875 - person_id / 8
        person.box_xywh_px = [10.5 + person_id, 20.25, 100.0, 200.5]
        person.root = Point(x=0.1 * person_id, y=-0.2, z=3.5)
        person.joints = [Point(x=0.5 * j, y=-0.25 * j, z=3.0 + j) for j in range(3)]
        person.joint_confidences = [0.5, 0.75, 1.0]
        person.joints_px = [Point(x=100.0 + j, y=50.0 + j, z=0.0) for j in range(3)]
        msg.persons.append(person)
    return msg


@pytest.fixture
def ros_context():
    context = rclpy.Context()
    rclpy.init(context=context)
    try:
        yield context
    finally:
        rclpy.shutdown(context=context)


def test_every_field_round_trips_between_two_nodes(ros_context):
    qos = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
    sender = rclpy.create_node("pose_sender", context=ros_context)
    receiver = rclpy.create_node("pose_receiver", context=ros_context)
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(sender)
    executor.add_node(receiver)
    received: list[PersonPose3DArray] = []
    receiver.create_subscription(PersonPose3DArray, "/humans/poses3d", received.append, qos)
    publisher = sender.create_publisher(PersonPose3DArray, "/humans/poses3d", qos)
    sent = make_message()
    try:
        deadline = time.monotonic() + 30.0
        while not received and time.monotonic() < deadline:
            if publisher.get_subscription_count() > 0:
                publisher.publish(sent)
            executor.spin_once(timeout_sec=0.05)
        assert received, "no PersonPose3DArray arrived within 30 s"
        assert received[0] == sent
        got = received[0]
        assert got.header.frame_id == "camera_color_optical_frame"
        assert (got.header.stamp.sec, got.header.stamp.nanosec) == (1_700_000_123, 456_789_000)
        assert got.persons[1].joints[2].z == pytest.approx(5.0)
        assert list(got.persons[0].box_xywh_px) == pytest.approx([10.5, 20.25, 100.0, 200.5])
    finally:
        executor.shutdown()
        sender.destroy_node()
        receiver.destroy_node()


def test_changed_field_is_seen_as_different():
    """The equality used above can fail: one differing joint makes messages unequal."""
    a, b = make_message(), make_message()
    b.persons[1].joints[0].x += 1e-3
    assert a != b
