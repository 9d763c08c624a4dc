"""Two cameras, two nodes (/front and /rear), one graph: each answers its own camera, and the names that all nodes
share -- track ids, REP-155 body ids, /tf frames, marker namespaces -- never collide.

Both nodes run in this process with injected person boxes (so they track people without a detector) and the
track id blocks the cameras launch file gives them; two camera publishers, one per namespace, send reliable pairs
with stamps of their own. The same nodes in two processes through the real `ros2 launch`: test_launch_cameras.py.
"""

from __future__ import annotations

import time

import rclpy
import ros_harness
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from ros_harness import BOXES, camera_info, image_msg, stamp_header, unique_node_name
from ros_tools import requires
from sensor_msgs.msg import CameraInfo, Image
from visualization_msgs.msg import MarkerArray

from mppe_ros.msg import PersonPose3DArray

context, pipeline = ros_harness.context, ros_harness.pipeline  # fixtures

CAMERAS = {"front": (100_000_000, 3000), "rear": (200_000_000, 4000)}  # namespace: (track_id_base, first stamp s)
FRAMES = 6
RELIABLE = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)


@requires("hri_msgs", "tf2_msgs")
def test_two_namespaced_nodes_answer_their_own_camera_with_names_of_their_own(context, pipeline):
    from hri_msgs.msg import IdsList
    from tf2_msgs.msg import TFMessage

    from mppe_ros.ros.node import MppeNode
    from mppe_ros.ros.rep155 import TF_QOS

    nodes = {
        camera: MppeNode(
            pipeline=pipeline, boxes=BOXES, context=context, node_name=unique_node_name(), namespace=f"/{camera}",
            parameter_overrides=[
                Parameter("track_id_base", value=base), Parameter("input_reliability", value="reliable"),
                Parameter("input_depth", value=50), Parameter("body_min_joint_confidence", value=0.0),
            ],
        )
        for camera, (base, _) in CAMERAS.items()
    }  # fmt: skip
    client = rclpy.create_node("cameras_client", context=context)
    executor = SingleThreadedExecutor(context=context)
    for node in (client, *nodes.values()):
        executor.add_node(node)
    poses: dict[str, list[PersonPose3DArray]] = {"": [], "front": [], "rear": []}
    tracked: dict[str, list[IdsList]] = {"front": [], "rear": []}
    markers: dict[str, list[MarkerArray]] = {"front": [], "rear": []}
    tf: list[TFMessage] = []
    for namespace, received in poses.items():
        prefix = f"/{namespace}" if namespace else ""
        client.create_subscription(PersonPose3DArray, f"{prefix}/humans/poses3d", received.append, RELIABLE)
    for camera in CAMERAS:
        client.create_subscription(IdsList, f"/{camera}/humans/bodies/tracked", tracked[camera].append, 50)
        client.create_subscription(MarkerArray, f"/{camera}/humans/poses3d/markers", markers[camera].append, 50)
    client.create_subscription(TFMessage, "/tf", tf.append, TF_QOS)
    publishers = {
        camera: (
            client.create_publisher(Image, f"/{camera}/image", RELIABLE),
            client.create_publisher(CameraInfo, f"/{camera}/camera_info", RELIABLE),
        )
        for camera in CAMERAS
    }

    def spin_until(done, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            executor.spin_once(timeout_sec=0.02)
            if done():
                return True
        return False

    try:
        assert spin_until(
            lambda: all(p.get_subscription_count() == 1 for pair in publishers.values() for p in pair), 30
        )
        for index in range(FRAMES):
            for camera, (_, first_s) in CAMERAS.items():
                header = stamp_header(first_s, index * 100_000_000)
                image_pub, info_pub = publishers[camera]
                image_pub.publish(image_msg(header))
                info_pub.publish(camera_info(header))
            assert spin_until(lambda i=index: all(len(poses[c]) > i for c in CAMERAS), 60), {
                c: len(poses[c]) for c in poses
            }
        assert poses[""] == [], "a namespaced node published in the root namespace"
        assert spin_until(lambda: all(len(tracked[c]) >= FRAMES for c in CAMERAS), 10)
        for camera, (base, first_s) in CAMERAS.items():
            assert {msg.header.stamp.sec for msg in poses[camera]} == {first_s}, f"{camera}: another camera's frame"
            ids = {person.id for msg in poses[camera] for person in msg.persons}
            assert len(ids) == 2 and all(base < i <= base + 2 for i in ids), (camera, ids)  # its own block
            confirmed = {person.id for person in poses[camera][-1].persons if person.is_tracked}
            assert set(tracked[camera][-1].ids) == {f"{camera}_b{i}" for i in confirmed} and confirmed == ids
            namespaces = {m.ns for array in markers[camera] for m in array.markers}
            assert namespaces == {f"mppe/{camera}/{kind}" for kind in ("bones", "joints", "labels", "trails")}
        frames = {t.child_frame_id for message in tf for t in message.transforms}
        for camera, (base, _) in CAMERAS.items():
            assert {f"body_{camera}_b{base + 1}", f"body_{camera}_b{base + 2}"} <= frames, sorted(frames)
        assert all(name.startswith(("body_front_b", "body_rear_b")) for name in frames), sorted(frames)
    finally:
        executor.shutdown()
        for node in (client, *nodes.values()):
            node.destroy_node()
