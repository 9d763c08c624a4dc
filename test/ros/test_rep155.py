"""BodyPublisher: the REP-155 bodies (tracked, roi, skeleton2d, cropped) and their TF frames, over real rclpy pub/sub.

The tracks are mppe_ros.tracking.TrackedPerson built directly from the synthetic standing person of helpers_body.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import rclpy
import ros_harness
from helpers_body import FACING_CAMERA, MID_HIP_M, quaternion_to_rotation, standing_joints, yaw
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import QoSProfile
from ros_tools import requires
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from mppe_ros.camera import PinholeCamera
from mppe_ros.joint_sets import H36M_18, MUCO_21, JointSet
from mppe_ros.results import PersonPose
from mppe_ros.tracking import TrackedPerson

context = ros_harness.context  # fixture: a fresh rclpy context per test

pytestmark = requires("hri_msgs", "tf2_msgs")

WIDTH, HEIGHT = 320, 240
CAMERA = PinholeCamera(fx=200.0, fy=210.0, cx=161.0, cy=118.0, width=WIDTH, height=HEIGHT)
FRAME = "test_camera_optical_frame"


def stamp_header(seconds: float) -> Header:
    header = Header(frame_id=FRAME)
    header.stamp.sec, header.stamp.nanosec = int(seconds), int(round((seconds % 1) * 1e9))
    return header


def track(
    track_id: int,
    joint_set: JointSet = MUCO_21,
    mid_hip_m=MID_HIP_M,
    rotation=FACING_CAMERA,
    confirmed: bool = True,
    score: float = 0.8,
    box_xywh_px=None,
) -> TrackedPerson:
    """A track of the standing synthetic person at `mid_hip_m` (optical frame, m) with body axes `rotation`."""
    joints_m = standing_joints(joint_set, rotation, np.asarray(mid_hip_m, dtype=np.float64))
    joints_px = CAMERA.camera_to_pixels(joints_m)
    if box_xywh_px is None:
        low, high = joints_px.min(0), joints_px.max(0)
        box_xywh_px = np.concatenate((low, high - low))
    root = joints_m[joint_set.root_index]
    confidence = np.linspace(0.5, 1.0, joint_set.joint_num)
    person = PersonPose(box_xywh_px, box_xywh_px, score, 0.0, root[2] * 1000, joints_px[joint_set.root_index], root,
                        joints_px, joints_m, confidence)  # fmt: skip
    return TrackedPerson(
        track_id=track_id, is_confirmed=confirmed, person=person, root_m=root, joints_m=joints_m,
        joints_px=joints_px, velocity_mps=np.zeros(3), age_s=1.0, frames_measured=3, score=0.7,
    )  # fmt: skip


def frame_image() -> np.ndarray:
    v, u = np.mgrid[0:HEIGHT, 0:WIDTH]
    return np.stack([u % 256, v % 256, (u * 7 + v * 3) % 256], axis=2).astype(np.uint8)


class Graph:
    """The publishing node (owner of the BodyPublisher) and a listener node, spun by one executor."""

    def __init__(self, context):
        self.node = rclpy.create_node("rep155_test_node", context=context)
        self.listener = rclpy.create_node("rep155_test_listener", context=context)
        self.executor = SingleThreadedExecutor(context=context)
        self.executor.add_node(self.node)
        self.executor.add_node(self.listener)
        self.received: dict[str, list] = {}

    def subscribe(self, msg_type, topic: str, qos=10) -> list:
        messages = self.received.setdefault(topic, [])
        self.listener.create_subscription(msg_type, topic, messages.append, qos)
        return messages

    def until(self, done, action=None, timeout_s: float = 20.0) -> bool:
        """Spin (calling action() every 0.2 s) until done() or the deadline."""
        deadline, next_action = time.monotonic() + timeout_s, 0.0
        while time.monotonic() < deadline:
            if action is not None and time.monotonic() >= next_action:
                action()
                next_action = time.monotonic() + 0.2
            self.executor.spin_once(timeout_sec=0.02)
            if done():
                return True
        return False

    def publisher_topics(self) -> list[str]:
        return sorted(p.topic_name for p in self.node.publishers)

    def graph_topics(self) -> list[str]:
        names = self.node.get_publisher_names_and_types_by_node(self.node.get_name(), self.node.get_namespace())
        return sorted(name for name, _ in names)

    def close(self):
        self.executor.shutdown()
        self.listener.destroy_node()
        self.node.destroy_node()


@pytest.fixture
def graph(context):
    value = Graph(context)
    yield value
    value.close()


def body_publisher(graph, **options):
    from mppe_ros.ros.rep155 import BodyPublisher

    return BodyPublisher(graph.node, **options)


def test_available_and_the_message_layout():
    from hri_msgs.msg import Skeleton2D

    from mppe_ros.ros.rep155 import rep155_available
    from mppe_ros.skeleton2d import SKELETON2D_SLOTS

    assert rep155_available() == (True, "")
    assert [getattr(Skeleton2D, slot) for slot in SKELETON2D_SLOTS] == list(range(18))
    constants = {name: getattr(Skeleton2D, name) for name in dir(Skeleton2D) if name.isupper()}
    assert sorted((v, n) for n, v in constants.items() if isinstance(v, int)) == list(enumerate(SKELETON2D_SLOTS))
    assert len(Skeleton2D().skeleton) == 18


def test_body_ids():
    from mppe_ros.ros.rep155 import body_frame_id, body_id, joint_frame_id, track_id_of

    assert body_id(17) == "b17" and track_id_of("b17") == 17
    assert body_frame_id("b17") == "body_b17" and joint_frame_id("L_Hip", "b17") == "l_hip_b17"
    with pytest.raises(ValueError, match="not a body id"):
        track_id_of("17")


def test_topics_ids_roi_skeleton_cropped_and_tf(graph):
    from hri_msgs.msg import IdsList, NormalizedRegionOfInterest2D, Skeleton2D
    from tf2_msgs.msg import TFMessage

    from mppe_ros.ros.rep155 import TF_QOS
    from mppe_ros.skeleton2d import skeleton2d_points

    publisher = body_publisher(graph, publish_tf=True, publish_cropped=True, publish_joint_frames=True)
    outside = np.array([-20.0, 30.0, 80.0, 400.0])  # leaves the image at the left and the bottom
    tracks = [
        track(5),
        track(9, mid_hip_m=(-0.6, 0.1, 4.0), rotation=FACING_CAMERA @ yaw(90.0), box_xywh_px=outside),
        track(11, confirmed=False),  # tentative: not a body yet
    ]
    tracked = graph.subscribe(IdsList, "/humans/bodies/tracked")
    rois = {i: graph.subscribe(NormalizedRegionOfInterest2D, f"/humans/bodies/b{i}/roi") for i in (5, 9)}
    skeletons = {i: graph.subscribe(Skeleton2D, f"/humans/bodies/b{i}/skeleton2d") for i in (5, 9)}
    cropped = graph.subscribe(Image, "/humans/bodies/b5/cropped", QoSProfile(depth=1))
    tf = graph.subscribe(TFMessage, "/tf", TF_QOS)
    header, image = stamp_header(12.25), frame_image()

    def received() -> bool:
        return all((tracked, rois[5], rois[9], skeletons[5], skeletons[9], cropped, tf))

    assert graph.until(received, lambda: publisher.publish(header, tracks, MUCO_21, WIDTH, HEIGHT, image))
    assert publisher.body_ids == ["b5", "b9"]
    assert sorted(t for t in graph.publisher_topics() if t.startswith("/humans")) == [
        "/humans/bodies/b5/cropped", "/humans/bodies/b5/roi", "/humans/bodies/b5/skeleton2d",
        "/humans/bodies/b9/cropped", "/humans/bodies/b9/roi", "/humans/bodies/b9/skeleton2d",
        "/humans/bodies/tracked",
    ]  # fmt: skip
    assert "/humans/bodies/b11/roi" not in graph.publisher_topics()
    assert not graph.listener.get_publishers_info_by_topic("/humans/bodies/b11/roi")
    messages = [tracked[-1], rois[5][-1], rois[9][-1], skeletons[5][-1], cropped[-1]]
    for msg in messages + [transform for transform in tf[-1].transforms if transform.header.frame_id == FRAME]:
        assert (msg.header.frame_id, msg.header.stamp.sec, msg.header.stamp.nanosec) == (FRAME, 12, 250_000_000)

    # tracked: the confirmed tracks, ids = "b" + PersonPose3D.id (the track id)
    assert list(tracked[-1].ids) == ["b5", "b9"]

    # roi: the box over the image size, clipped to [0, 1]; c = the detection score
    x, y, w, h = tracks[0].person.box_xywh_px
    roi = rois[5][-1]
    expected_roi = [x / WIDTH, y / HEIGHT, (x + w) / WIDTH, (y + h) / HEIGHT, 0.8]
    np.testing.assert_allclose([roi.xmin, roi.ymin, roi.xmax, roi.ymax, roi.c], expected_roi, rtol=1e-6)
    clipped = rois[9][-1]
    np.testing.assert_allclose([clipped.xmin, clipped.ymin, clipped.xmax, clipped.ymax], [0.0, 0.125, 0.1875, 1.0])
    for value in rois.values():
        r = value[-1]
        assert 0.0 <= r.xmin <= r.xmax <= 1.0 and 0.0 <= r.ymin <= r.ymax <= 1.0 and 0.0 <= r.c <= 1.0

    # skeleton2d: the table's 18 slots, normalised, c = the joint confidence (0 without a source joint)
    expected = skeleton2d_points(tracks[0].joints_px, MUCO_21, WIDTH, HEIGHT, tracks[0].person.joint_confidence)
    got = np.array([(p.x, p.y, p.c) for p in skeletons[5][-1].skeleton])
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
    head = MUCO_21.joint_names.index("Head")
    np.testing.assert_allclose(got[0, :2], tracks[0].joints_px[head] / (WIDTH, HEIGHT), atol=1e-6)  # NOSE <- Head
    assert (got[14:, 2] == 0.0).all() and (got[:14, 2] > 0.0).all()

    # cropped: the detection box cut from the full image
    x0, y0 = int(np.floor(x)), int(np.floor(y))
    x1, y1 = int(np.ceil(x + w)), int(np.ceil(y + h))
    crop = cropped[-1]
    assert (crop.width, crop.height, crop.encoding) == (x1 - x0, y1 - y0, "bgr8")
    pixels = np.frombuffer(bytes(crop.data), np.uint8).reshape(crop.height, crop.width, 3)
    np.testing.assert_array_equal(pixels, image[y0:y1, x0:x1])

    # TF: body_<id> in the optical frame, origin at the mid-hip (full 3D), x out of the chest, z up
    transforms = {t.child_frame_id: t for t in tf[-1].transforms}
    body = transforms["body_b5"]
    assert body.header.frame_id == FRAME
    origin = np.array([body.transform.translation.x, body.transform.translation.y, body.transform.translation.z])
    joints = tracks[0].joints_m
    left, right = MUCO_21.joint_names.index("L_Hip"), MUCO_21.joint_names.index("R_Hip")
    assert np.abs(origin - (joints[left] + joints[right]) / 2).max() < 1e-3
    assert origin[1] == pytest.approx(MID_HIP_M[1])  # below the camera: not clamped to its height
    q = body.transform.rotation
    rotation = quaternion_to_rotation(np.array([q.x, q.y, q.z, q.w]))
    np.testing.assert_allclose(rotation.T @ rotation, np.eye(3), atol=1e-9)
    assert np.linalg.det(rotation) == pytest.approx(1.0, abs=1e-9)
    assert rotation[:, 0] @ (0.0, 0.0, -1.0) > 0.999  # facing the camera: x points from the body to the camera
    assert rotation[:, 2] @ (0.0, -1.0, 0.0) > 0.999
    turned = transforms["body_b9"]
    q = turned.transform.rotation
    np.testing.assert_allclose(quaternion_to_rotation(np.array([q.x, q.y, q.z, q.w]))[:, 0], [1, 0, 0], atol=1e-6)
    assert "body_b11" not in transforms

    # joint frames under body_<id>, with the body's axes
    l_hip = transforms["l_hip_b5"]
    assert l_hip.header.frame_id == "body_b5"
    local = np.array([l_hip.transform.translation.x, l_hip.transform.translation.y, l_hip.transform.translation.z])
    np.testing.assert_allclose(rotation @ local + origin, joints[left], atol=1e-6)
    assert len([t for t in transforms.values() if t.header.frame_id == "body_b5"]) == MUCO_21.joint_num
    publisher.close()


def test_h36m_bodies(graph):
    from hri_msgs.msg import Skeleton2D
    from tf2_msgs.msg import TFMessage

    from mppe_ros.ros.rep155 import TF_QOS

    publisher = body_publisher(graph, publish_cropped=False)
    skeletons = graph.subscribe(Skeleton2D, "/humans/bodies/b3/skeleton2d")
    tf = graph.subscribe(TFMessage, "/tf", TF_QOS)
    tracks = [track(3, H36M_18)]
    assert graph.until(
        lambda: skeletons and tf, lambda: publisher.publish(stamp_header(1.0), tracks, H36M_18, WIDTH, HEIGHT)
    )
    assert "/humans/bodies/b3/cropped" not in graph.publisher_topics()
    nose = H36M_18.joint_names.index("Nose")
    point = skeletons[-1].skeleton[0]
    np.testing.assert_allclose([point.x, point.y], tracks[0].joints_px[nose] / (WIDTH, HEIGHT), atol=1e-6)
    (body,) = tf[-1].transforms
    t = body.transform.translation
    np.testing.assert_allclose([t.x, t.y, t.z], MID_HIP_M, atol=1e-6)
    publisher.close()


def test_ended_bodies_leave_tracked_and_lose_their_publishers(graph):
    from hri_msgs.msg import IdsList

    publisher = body_publisher(graph, publish_tf=True, publish_cropped=True, retain_s=1.0)
    base = len(graph.publisher_topics())
    tracked = graph.subscribe(IdsList, "/humans/bodies/tracked")

    def publish(stamp_s: float, ids: list[int]) -> bool:
        tracked.clear()
        return graph.until(
            lambda: bool(tracked),
            lambda: publisher.publish(stamp_header(stamp_s), [track(i) for i in ids], MUCO_21, WIDTH, HEIGHT),
        )

    assert publish(10.0, [1, 2]) and list(tracked[-1].ids) == ["b1", "b2"]
    assert len(graph.publisher_topics()) == base + 6
    assert publish(10.5, [2]) and list(tracked[-1].ids) == ["b2"]
    assert publisher.body_ids == ["b1", "b2"]  # within retain_s: kept for a re-found track
    assert publish(11.6, [2]) and list(tracked[-1].ids) == ["b2"]
    assert publisher.body_ids == ["b2"]
    assert not [t for t in graph.publisher_topics() if t.startswith("/humans/bodies/b1/")]
    assert graph.until(lambda: not [t for t in graph.graph_topics() if t.startswith("/humans/bodies/b1/")])
    assert publish(11.7, []) and list(tracked[-1].ids) == []  # every frame, also empty
    assert publish(13.0, []) and publisher.body_ids == [] and len(graph.publisher_topics()) == base
    assert publish(13.1, [4]) and publisher.body_ids == ["b4"]
    assert publish(5.0, []) and publisher.body_ids == []  # time went back: ended
    publisher.close()


def test_hundreds_of_tracks_born_and_ended_leave_no_publisher(graph):
    before = graph.publisher_topics()
    publisher = body_publisher(graph, publish_tf=True, publish_cropped=True, publish_joint_frames=True)
    base = graph.publisher_topics()
    assert len(base) == len(before) + 2  # tracked and /tf
    live: dict[int, int] = {}  # track id -> frames left
    next_id, stamp_s, most = 1, 100.0, 0
    for _ in range(150):
        for i in [i for i, left in live.items() if left == 0]:
            del live[i]
        live = {i: left - 1 for i, left in live.items()}
        for _ in range(2):
            live[next_id] = 1 + next_id % 5
            next_id += 1
        tracks = [track(i, mid_hip_m=(0.1 * (i % 7) - 0.3, 0.2, 3.0)) for i in sorted(live)]
        publisher.publish(stamp_header(stamp_s), tracks, MUCO_21, WIDTH, HEIGHT, frame_image())
        graph.executor.spin_once(timeout_sec=0)
        stamp_s += 1 / 15
        most = max(most, len(publisher.body_ids))
        assert len(graph.publisher_topics()) == len(base) + 3 * len(live)
    assert next_id > 300 and most >= 8
    publisher.publish(stamp_header(stamp_s), [], MUCO_21, WIDTH, HEIGHT)
    assert publisher.body_ids == [] and graph.publisher_topics() == base
    assert graph.until(lambda: not [t for t in graph.graph_topics() if t.startswith("/humans/bodies/b")])
    publisher.close()
    publisher.close()  # idempotent
    assert graph.publisher_topics() == before
    with pytest.raises(RuntimeError, match="closed"):
        publisher.publish(stamp_header(stamp_s), [], MUCO_21, WIDTH, HEIGHT)


def test_bad_input(graph):
    publisher = body_publisher(graph)
    with pytest.raises(ValueError, match="image size"):
        publisher.publish(stamp_header(1.0), [], MUCO_21, 0, HEIGHT)
    with pytest.raises(ValueError, match="image_bgr has shape"):
        publisher.publish(stamp_header(1.0), [], MUCO_21, WIDTH, HEIGHT, np.zeros((10, 10, 3), np.uint8))
    with pytest.raises(ValueError, match="retain_s"):
        body_publisher(graph, retain_s=-1.0)
    publisher.close()
