"""mppe_node end to end over Fast DDS on loopback: Image + CameraInfo in, poses and markers out.

Real rclpy, real messages, real PoseNet/RootNet with random official-format weights; the persons
are the boxes injected into the node, so the test knows what the library computes for them.
"""

from __future__ import annotations

import subprocess
import sys
import threading

import numpy as np
import pytest
import ros_harness
import ros_tools
from conftest import REPO_ROOT, child_env
from rclpy.parameter import Parameter
from ros_harness import BOXES, CX, CY, FRAME, FX, FY, camera_info, image_msg, sample_image, stamp_header, start
from visualization_msgs.msg import Marker

from mppe_ros.camera import PinholeCamera
from mppe_ros.joint_sets import MUCO_21
from mppe_ros.ros import frames as frames_module
from mppe_ros.ros.node import MARKERS_TOPIC, POSES_TOPIC, StartupError
from mppe_ros.ros.parameters import NodeConfig
from mppe_ros.ros.startup import build_pipeline
from mppe_ros.settings import DetectionSettings

context, pipeline = ros_harness.context, ros_harness.pipeline  # fixtures
REPO = REPO_ROOT


def test_poses_and_markers_end_to_end(context, pipeline):
    mppe, harness = start(context, pipeline, tracking=False)  # raw values, id = index: what the library computes
    try:
        header = stamp_header(1_700_000_000, 123_456_789)
        msg = harness.exchange(image_msg(header), camera_info(header))
        # Header copied from the image: capture stamp and optical frame, never now().
        assert (msg.header.stamp.sec, msg.header.stamp.nanosec, msg.header.frame_id) == (
            1_700_000_000,
            123_456_789,
            FRAME,
        )
        assert msg.skeleton == "muco_21" and list(msg.joint_names) == list(MUCO_21.joint_names)
        assert msg.root_index == MUCO_21.root_index and list(zip(msg.bone_a, msg.bone_b, strict=True)) == list(
            MUCO_21.bones
        )
        assert (msg.fx, msg.fy, msg.cx, msg.cy) == (FX, FY, CX, CY)
        # Equal to what the library computes for the same frame, camera and boxes.
        camera = PinholeCamera.from_camera_info(camera_info(header), use_projection=False)
        expected = pipeline(sample_image(), camera, boxes_xywh=BOXES)
        assert len(msg.persons) == len(expected.persons) == 2
        for person_msg, person in zip(msg.persons, expected.persons, strict=True):
            joints_m = np.array([[p.x, p.y, p.z] for p in person_msg.joints])
            np.testing.assert_allclose(joints_m, person.joints_cam_m, atol=1e-6)
            np.testing.assert_allclose([[p.x, p.y] for p in person_msg.joints_px], person.joints_px, atol=1e-4)
            np.testing.assert_allclose(
                [person_msg.root.x, person_msg.root.y, person_msg.root.z], person.root_cam_m, atol=1e-6
            )
            np.testing.assert_allclose(person_msg.box_xywh_px, person.box_xywh_px)
            # Metres: the root depth is RootNet's millimetres / 1000.
            assert person_msg.root.z == pytest.approx(person.root_depth_mm / 1000.0, abs=1e-6)
        # Markers: a DELETEALL per namespace, then bones, joints, label per person, in the image frame.
        assert harness.spin_until(
            lambda: any(m.markers[0].header.stamp.sec == 1_700_000_000 for m in harness.markers), 30
        )
        markers = next(m for m in harness.markers if m.markers[0].header.stamp.sec == 1_700_000_000).markers
        clears = [(m.action, m.ns) for m in markers[:4]]
        assert clears == [(Marker.DELETEALL, f"mppe/{kind}") for kind in ("bones", "joints", "labels", "trails")]
        assert [(m.ns, m.id) for m in markers[4:]] == [
            ("mppe/bones", 0),
            ("mppe/joints", 0),
            ("mppe/labels", 0),
            ("mppe/bones", 1),
            ("mppe/joints", 1),
            ("mppe/labels", 1),
        ]
        assert all(m.header.frame_id == FRAME and m.header.stamp.nanosec == 123_456_789 for m in markers)
        np.testing.assert_allclose(
            [[p.x, p.y, p.z] for p in markers[5].points], expected.persons[0].joints_cam_m, atol=1e-6
        )
        assert mppe.sync_backend in ("message_filters", "mppe_ros.ros.sync")
        assert mppe.stats.frames_processed >= 1 and mppe.stats.bad_image == 0
    finally:
        harness.close()
        mppe.destroy_node()


def test_nobody_gives_an_empty_array_and_deleteall(context, pipeline):
    mppe, harness = start(context, pipeline, boxes=np.zeros((0, 4)))
    try:
        header = stamp_header(10)
        msg = harness.exchange(image_msg(header), camera_info(header))
        assert msg.persons == [] and msg.header.frame_id == FRAME and len(msg.joint_names) == 21
        assert harness.spin_until(lambda: any(m.markers[0].header.stamp.sec == 10 for m in harness.markers), 30)
        markers = next(m for m in harness.markers if m.markers[0].header.stamp.sec == 10).markers
        assert [m.action for m in markers] == [Marker.DELETEALL] * 4
    finally:
        harness.close()
        mppe.destroy_node()


def test_markers_only_built_for_subscribers_and_runtime_parameters(context, pipeline, monkeypatch):
    built = []
    real = frames_module.poses_to_markers
    monkeypatch.setattr(frames_module, "poses_to_markers", lambda *a, **k: built.append(k or a) or real(*a, **k))
    mppe, harness = start(context, pipeline, boxes=BOXES[:1], markers=False)
    try:
        header = stamp_header(20)
        harness.exchange(image_msg(header), camera_info(header))
        assert built == [] and mppe.markers_publisher.get_subscription_count() == 0
        assert mppe.poses_publisher.topic_name == f"/{POSES_TOPIC}" == "/humans/poses3d"
        assert mppe.markers_publisher.topic_name == f"/{MARKERS_TOPIC}"
        # Run-time changes: accepted for dynamic parameters, refused out of range or read-only.
        results = mppe.set_parameters([Parameter("marker_scale", value=3.0), Parameter("score_threshold", value=0.2)])
        assert all(r.successful for r in results)
        assert mppe.config.node.marker_scale == 3.0 and mppe.config.detection.score_threshold == 0.2
        assert not mppe.set_parameters([Parameter("score_threshold", value=1.5)])[0].successful
        assert not mppe.set_parameters([Parameter("device", value="cuda")])[0].successful
        assert not mppe.set_parameters([Parameter("joint_set", value="nope")])[0].successful
        assert mppe.config.detection.score_threshold == 0.2
    finally:
        harness.close()
        mppe.destroy_node()


@pytest.mark.filterwarnings("ignore:Deprecated in favor of:DeprecationWarning")  # rclpy reports the QoS mismatch
def test_reliable_input_parameter_and_exact_sync(context, pipeline):
    # input_reliability=reliable only matches reliable publishers: the harness publishes best effort,
    # so no pair may arrive (the README's "match a reliable publisher" advice in reverse).
    mppe, harness = start(context, pipeline, boxes=BOXES[:1], input_reliability="reliable", sync_mode="exact")
    try:
        header = stamp_header(30)
        got = harness.spin_until(
            lambda: bool(harness.poses),
            2.0,
            every_s=0.3,
            action=lambda: harness.publish(image_msg(header), camera_info(header)),
        )
        assert not got and mppe.stats.images_received == 0
    finally:
        harness.close()
        mppe.destroy_node()


SYNC_BACKENDS = [
    pytest.param(
        "message_filters", "message_filters", marks=ros_tools.requires("message_filters"), id="message_filters"
    ),
    pytest.param("builtin", "mppe_ros.ros.sync", id="builtin"),  # installs without message_filters: every machine
]


@pytest.mark.parametrize(("sync_backend", "backend_name"), SYNC_BACKENDS)
@pytest.mark.parametrize("sync_mode", ["approximate", "exact"])
def test_each_synchronizer_pairs_the_inputs(context, pipeline, sync_mode, sync_backend, backend_name):
    parameters = {"sync_mode": sync_mode, "sync_backend": sync_backend}
    mppe, harness = start(context, pipeline, boxes=BOXES[:1], markers=False, **parameters)
    try:
        assert mppe.sync_backend == backend_name
        header = stamp_header(40)
        assert len(harness.exchange(image_msg(header), camera_info(header)).persons) == 1
    finally:
        harness.close()
        mppe.destroy_node()


def test_message_filters_asked_for_but_missing_is_a_startup_error(context, pipeline, monkeypatch):
    monkeypatch.setitem(sys.modules, "message_filters", None)  # `import message_filters` raises ImportError
    with pytest.raises(StartupError, match="sync_backend is message_filters but the package does not import"):
        start(context, pipeline, sync_backend="message_filters")
    mppe, harness = start(context, pipeline, markers=False)  # auto falls back to the built-in one
    try:
        assert mppe.sync_backend == "mppe_ros.ros.sync"
    finally:
        harness.close()
        mppe.destroy_node()


class RecordingDetector:
    """A PersonDetector that records the settings each call was given."""

    def __init__(self) -> None:
        self.settings_seen: list[DetectionSettings | None] = []

    def __call__(self, image_bgr, settings=None):
        self.settings_seen.append(settings)
        return BOXES[:1].copy(), np.array([0.9])


def test_each_frame_sees_one_configuration_while_parameters_change(context, official_weights):
    """A thread changes two parameters together, again and again, while frames are processed: no frame sees a mix."""
    detector = RecordingDetector()
    pipe = ros_harness.make_pipeline(official_weights, detector)
    mppe, harness = start(context, pipe, boxes=None, markers=False)
    stop = threading.Event()

    def change_parameters() -> None:
        step = 0
        while not stop.is_set():
            value = 0.1 + 0.01 * (step % 80)  # score_threshold == nms_iou_threshold in every consistent snapshot
            changes = [Parameter("score_threshold", value=value), Parameter("nms_iou_threshold", value=value)]
            assert mppe.set_parameters_atomically(changes).successful
            step += 1

    changer = threading.Thread(target=change_parameters)
    changer.start()
    try:
        for index in range(6):
            header = stamp_header(300 + index)
            harness.exchange(image_msg(header), camera_info(header))
    finally:
        stop.set()
        changer.join()
        harness.close()
        mppe.destroy_node()
    assert len(detector.settings_seen) >= 6
    assert all(s is not None and s.score_threshold == s.nms_iou_threshold for s in detector.settings_seen)
    assert len({s.score_threshold for s in detector.settings_seen}) > 1, "the parameters changed during the stream"


def run_node(*ros_args: str) -> subprocess.CompletedProcess:
    # conftest points MPPE_ROS_HOME at a folder that does not exist: no weights can be found.
    command = [sys.executable, "-m", "mppe_ros", "node", "--ros-args", *ros_args]
    return subprocess.run(command, cwd=REPO, env=child_env(), capture_output=True, text=True, timeout=180)


@pytest.mark.slow  # a child process that imports torch and rclpy
def test_missing_weights_one_clear_error_and_exit_code():
    done = run_node("-p", "device:=cpu")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "cannot start" in done.stderr and "weights not found" in done.stderr and "put at" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert done.stderr.count("cannot start") == 1


@pytest.mark.slow  # two child processes that import torch and rclpy
def test_bad_parameter_at_start_is_one_error_line():
    done = run_node("-p", "device:=gpu")
    assert done.returncode == 1 and "cannot start: bad parameter" in done.stderr and "device" in done.stderr
    assert "Traceback" not in done.stderr
    done = run_node("-p", "max_persons:=0")
    assert done.returncode == 1 and "max_persons" in done.stderr and "Traceback" not in done.stderr


def test_cuda_requested_without_cuda_is_a_startup_error():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(StartupError, match="device:=cpu"):
        build_pipeline(NodeConfig.from_mapping({"device": "cuda"}))
