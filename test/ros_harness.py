"""Shared pieces of the node tests: real rclpy contexts, messages and a deadline loop."""

from __future__ import annotations

import functools
import gc
import itertools
import threading
import time
from collections.abc import Callable

import numpy as np
import pytest
import rclpy
from rcl_interfaces.msg import Log
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header
from visualization_msgs.msg import MarkerArray

from mppe_ros.camera import PinholeCamera
from mppe_ros.msg import PersonPose3DArray
from mppe_ros.ros.conversions import bgr_to_image_msg
from mppe_ros.testing import messages
from mppe_ros.testing.synthetic import draw_stick_figure

WIDTH, HEIGHT = 160, 120
FX, FY, CX, CY = 150.0, 155.0, 82.0, 58.0
FRAME = "test_camera_optical_frame"
BOXES = np.array([[12.0, 10.0, 50.0, 100.0], [92.0, 20.0, 40.0, 90.0]])
_NODE_NUMBERS = itertools.count(1)


def unique_node_name() -> str:
    """mppe_node_<n>, a new name for every test node of this process.

    rcl keeps one /rosout publisher per logger name and process, and a node's late teardown (its rcl
    node is finalized when its last handle goes, possibly during the next test) removes that name's
    publisher even when it belongs to a newer node of the same name: that node then logs nothing on
    /rosout. In a full test run this silenced three different tests' nodes; distinct names cannot collide.
    """
    return f"mppe_node_{next(_NODE_NUMBERS)}"


def wait_for(condition: Callable[[], bool], timeout_s: float) -> bool:
    """Poll `condition` every 50 ms (for outputs spun elsewhere: a thread or another process) until it holds
    (True) or `timeout_s` passed (False)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


class NodeProcessPeer:
    """This process's side of a test with the node in another process: reliable `image` + `camera_info` publishers
    (unless `camera` is False: the camera is another process), the node's /humans/poses3d by stamp (ns) and its latest
    /diagnostics values, spun in a thread (read them with wait_for)."""

    def __init__(self, context, name: str, camera: bool = True) -> None:
        from diagnostic_msgs.msg import DiagnosticArray

        reliable = QoSProfile(depth=20, reliability=ReliabilityPolicy.RELIABLE)
        self.node = rclpy.create_node(name, context=context)
        if camera:
            self.image_pub = self.node.create_publisher(Image, "image", reliable)
            self.info_pub = self.node.create_publisher(CameraInfo, "camera_info", reliable)
        self.poses: dict[int, PersonPose3DArray] = {}
        self.diagnostics: dict[str, str] = {}
        self.node.create_subscription(PersonPose3DArray, "/humans/poses3d", self._pose, reliable)
        self.node.create_subscription(DiagnosticArray, "/diagnostics", self._diagnose, 10)
        self.executor = SingleThreadedExecutor(context=context)
        self.executor.add_node(self.node)
        self.thread = threading.Thread(target=self.executor.spin, daemon=True)
        self.thread.start()

    def _pose(self, msg: PersonPose3DArray) -> None:
        self.poses[msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec] = msg

    def _diagnose(self, msg) -> None:
        self.diagnostics = {kv.key: kv.value for kv in msg.status[0].values}

    def publish(self, header: Header, info_first: bool = False) -> int:
        """Publish a pair with this header (image first, as image_transport does, unless `info_first`); its stamp,
        ns."""
        sends = [(self.image_pub, image_msg(header)), (self.info_pub, camera_info(header))]
        for publisher, message in reversed(sends) if info_first else sends:
            publisher.publish(message)
        return header.stamp.sec * 10**9 + header.stamp.nanosec

    def answered_between(self, first_s: int, last_s: int) -> int:
        """Distinct stamps answered in [first_s, last_s]."""
        return sum(first_s * 10**9 <= ns <= last_s * 10**9 for ns in list(self.poses))

    def counter(self, key: str) -> int:
        """A /diagnostics counter value (e.g. "No transform since startup"), 0 before the first report."""
        return int(self.diagnostics.get(key, "0"))

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()


def sample_image() -> np.ndarray:
    """A small BGR picture with two stick figures inside BOXES (mppe_ros.testing.synthetic)."""
    image = np.full((HEIGHT, WIDTH, 3), (90, 120, 60), np.uint8)
    for box in BOXES:
        draw_stick_figure(image, box, (200, 180, 160))
    return image


def stamp_header(seconds: int, nanoseconds: int = 0, frame_id: str = FRAME) -> Header:
    header = Header(frame_id=frame_id)
    header.stamp.sec, header.stamp.nanosec = seconds, nanoseconds
    return header


def camera_info(header: Header, fx: float = FX, fy: float = FY, width: int = WIDTH, height: int = HEIGHT) -> CameraInfo:
    """The test camera's CameraInfo (mppe_ros.testing.messages), with fx, fy or the size changed if given."""
    return messages.camera_info(header, fx, fy, CX, CY, width, height)


def image_msg(header: Header, image: np.ndarray | None = None) -> Image:
    return bgr_to_image_msg(sample_image() if image is None else image, header)


class Harness:
    """A test node in the given context: publishes image + camera_info, records the node's outputs."""

    def __init__(self, context, mppe_node, markers: bool = True, rosout: bool = False, reliable: bool = False):
        self.node = rclpy.create_node("mppe_test_harness", context=context)
        qos = QoSProfile(
            depth=100 if reliable else 10,
            reliability=ReliabilityPolicy.RELIABLE if reliable else ReliabilityPolicy.BEST_EFFORT,
        )
        self.image_pub = self.node.create_publisher(Image, "image", qos)
        self.info_pub = self.node.create_publisher(CameraInfo, "camera_info", qos)
        self.poses: list[tuple[float, PersonPose3DArray]] = []
        self.markers: list[MarkerArray] = []
        self.logs: list[Log] = []
        self.node.create_subscription(
            PersonPose3DArray, "/humans/poses3d", lambda m: self.poses.append((time.monotonic(), m)), 10
        )
        if markers:
            self.node.create_subscription(MarkerArray, "/humans/poses3d/markers", self.markers.append, 10)
        if rosout:
            # /rosout keeps its last 1000 lines for late subscribers (transient local): the node's start-up too.
            rosout_qos = QoSProfile(depth=1000, durability=DurabilityPolicy.TRANSIENT_LOCAL)
            self.node.create_subscription(Log, "/rosout", self.logs.append, rosout_qos)
        self.executor = SingleThreadedExecutor(context=context)
        self.executor.add_node(self.node)
        self.executor.add_node(mppe_node)
        self.mppe_node = mppe_node

    def publish(self, image: Image, info: CameraInfo) -> None:
        self.image_pub.publish(image)
        self.info_pub.publish(info)

    def spin_until(self, done: Callable[[], bool], timeout_s: float = 30.0, every_s: float = 0.0, action=None) -> bool:
        """Spin until done() (True) or the deadline (False); call action() every `every_s` seconds."""
        deadline = time.monotonic() + timeout_s
        next_action = 0.0
        while time.monotonic() < deadline:
            if action is not None and time.monotonic() >= next_action:
                action()
                next_action = time.monotonic() + every_s
            self.executor.spin_once(timeout_sec=0.02)
            if done():
                return True
        return False

    def poses_with_stamp(self, header: Header) -> list[PersonPose3DArray]:
        key = (header.stamp.sec, header.stamp.nanosec)
        return [m for _, m in self.poses if (m.header.stamp.sec, m.header.stamp.nanosec) == key]

    def exchange(self, image: Image, info: CameraInfo, timeout_s: float = 60.0) -> PersonPose3DArray:
        """Publish the pair (again every 2 s: best effort may drop it) until poses with its stamp arrive."""
        ok = self.spin_until(
            lambda: bool(self.poses_with_stamp(image.header)),
            timeout_s,
            every_s=2.0,
            action=lambda: self.publish(image, info),
        )
        assert ok, (
            f"no PersonPose3DArray for stamp {image.header.stamp} within {timeout_s} s; stats {self.mppe_node.stats}"
        )
        return self.poses_with_stamp(image.header)[0]

    def log_text(self) -> str:
        return "\n".join(f"{log.name}: {log.msg}" for log in self.logs)

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()


def make_pipeline(weights: dict, detector=None):
    """MppePipeline on CPU from the official-format files of the `official_weights` fixture."""
    from mppe_ros.checkpoints import load_posenet, load_rootnet
    from mppe_ros.joint_sets import MUCO_21
    from mppe_ros.pipeline import MppePipeline

    posenet, rootnet = load_posenet(weights["posenet"], MUCO_21), load_rootnet(weights["rootnet"])
    return MppePipeline(posenet, rootnet, MUCO_21, detector=detector, device="cpu")


@functools.lru_cache(maxsize=1)
def _load_pipeline(posenet_path: str, rootnet_path: str):
    """Loaded once per test run, even though each test module registers the fixture again."""
    pipe = make_pipeline({"posenet": posenet_path, "rootnet": rootnet_path})
    pipe(sample_image(), PinholeCamera(FX, FY, CX, CY), boxes_xywh=BOXES[:1])  # warm-up
    return pipe


@pytest.fixture(scope="session")
def pipeline(official_weights):
    """MppePipeline on CPU with random official-format weights and no detector (boxes are injected)."""
    return _load_pipeline(str(official_weights["posenet"]), str(official_weights["rootnet"]))


@pytest.fixture
def context():
    """A fresh rclpy context per test (init / shutdown)."""
    ctx = rclpy.Context()
    rclpy.init(context=ctx)
    try:
        yield ctx
    finally:
        rclpy.shutdown(context=ctx)
        gc.collect()  # nodes only kept alive by reference cycles are finalized now, not during the next test


def start(context, pipeline, boxes=BOXES, markers=True, rosout=False, reliable=False, node_name=None, **parameters):
    """An MppeNode with injected pipeline/boxes and parameter overrides, plus a Harness around it.

    reliable=True: reliable publishers and subscription (input_reliability), so every frame arrives.
    node_name: unique_node_name() unless given.
    """
    from rclpy.parameter import Parameter

    from mppe_ros.ros.node import MppeNode

    if reliable:
        parameters = {"input_reliability": "reliable", "input_depth": 100, **parameters}
    overrides = [Parameter(name, value=value) for name, value in parameters.items()]
    mppe = MppeNode(pipeline=pipeline, boxes=boxes, context=context, parameter_overrides=overrides,
                     node_name=node_name or unique_node_name())  # fmt: skip
    return mppe, Harness(context, mppe, markers=markers, rosout=rosout, reliable=reliable)
