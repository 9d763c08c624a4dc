"""Several cameras through the real `ros2 launch launch/cameras.launch.py cameras:=front,rear`: two mppe_node
processes in /front and /rear, one graph, two cameras; each answers its own camera and nothing leaks.

The parameter file is keyed `/**` as config/mppe.yaml is (a key `mppe_node` would not reach a namespaced node: the
nodes would keep the default weights and fail here). This test process plays both camera drivers (reliable pairs on
/front/image_raw and /rear/image_raw with stamps of their own) and watches every output: the poses and markers in
each namespace, the root namespace's /humans/poses3d (nothing may arrive there), /diagnostics (one status per node),
and each node's parameters (its track id block from the launch file, the shared file's values).
"""

from __future__ import annotations

import os
import signal

import pytest
from conftest import REPO_ROOT
from diagnostic_msgs.msg import DiagnosticArray
from ros_harness import camera_info, image_msg, stamp_header
from sensor_msgs.msg import CameraInfo, Image
from test_launch_file import LAUNCH_TOOLS, STOP_WITHIN_S, Probe, RosLaunch, assert_stops, params_file
from visualization_msgs.msg import MarkerArray

from mppe_ros.msg import PersonPose3DArray

CAMERAS_LAUNCH = REPO_ROOT / "launch" / "cameras.launch.py"
PAIRS = 6
FIRST_STAMP_S = {"front": 1000, "rear": 2000}

pytestmark = [pytest.mark.slow, *LAUNCH_TOOLS]


class Outputs:
    """Everything the two nodes publish, by topic (reliable, kept)."""

    def __init__(self, probe: Probe) -> None:
        self.poses: dict[str, list[PersonPose3DArray]] = {}
        self.markers: dict[str, list[MarkerArray]] = {}
        self.statuses: set[str] = set()
        for namespace in ("", "/front", "/rear"):
            topic = f"{namespace}/humans/poses3d"
            self.poses[topic] = []
            probe.node.create_subscription(PersonPose3DArray, topic, self.poses[topic].append, 100)
            topic = f"{namespace}/humans/poses3d/markers"
            self.markers[topic] = []
            probe.node.create_subscription(MarkerArray, topic, self.markers[topic].append, 100)
        probe.node.create_subscription(
            DiagnosticArray, "/diagnostics", lambda msg: self.statuses.update(s.name for s in msg.status), 10
        )

    def stamps(self, topic: str) -> set[int]:
        return {msg.header.stamp.sec for msg in self.poses[topic]}


def test_two_cameras_two_nodes_each_answers_its_own_camera(official_weights, tmp_path):
    parameters = params_file(
        tmp_path / "params.yaml",
        key="/**",
        posenet_path=official_weights["posenet"],
        rootnet_path=official_weights["rootnet"],
        detector="none",  # every frame is answered at once (empty persons): stamps and topics are the point here
        input_reliability="reliable",
        input_depth=20,
    )
    launch = RosLaunch(["cameras:=front,rear", "device:=cpu", f"params_file:={parameters}"], launch_file=CAMERAS_LAUNCH)
    probe = Probe()
    try:
        outputs = Outputs(probe)
        for camera in FIRST_STAMP_S:
            launch.wait_until(probe.subscribed(f"/{camera}/image_raw", f"/{camera}/mppe_node"), f"{camera} node")
        bases = {camera: probe.parameters(f"/{camera}/mppe_node", ["track_id_base", "detector", "id_prefix"])
                 for camera in FIRST_STAMP_S}  # fmt: skip
        assert bases == {
            "front": {"track_id_base": 100_000_000, "detector": "none", "id_prefix": ""},
            "rear": {"track_id_base": 200_000_000, "detector": "none", "id_prefix": ""},
        }
        assert "/mppe_node" not in probe.subscribers("/camera/image_raw"), "no node in the root namespace"

        qos = 20
        publishers = {
            camera: (
                probe.node.create_publisher(Image, f"/{camera}/image_raw", qos_reliable(qos)),
                probe.node.create_publisher(CameraInfo, f"/{camera}/camera_info", qos_reliable(qos)),
            )
            for camera in FIRST_STAMP_S
        }
        expected = {camera: set(range(first, first + PAIRS)) for camera, first in FIRST_STAMP_S.items()}

        def publish_missing() -> None:
            for camera, (image_pub, info_pub) in publishers.items():
                for seconds in sorted(expected[camera] - outputs.stamps(f"/{camera}/humans/poses3d"))[:2]:
                    header = stamp_header(seconds)
                    image_pub.publish(image_msg(header))
                    info_pub.publish(camera_info(header))

        answered = probe.spin_until(
            lambda: all(expected[c] <= outputs.stamps(f"/{c}/humans/poses3d") for c in FIRST_STAMP_S),
            120.0,
            every_s=0.5,
            action=publish_missing,
        )
        assert answered, {c: sorted(outputs.stamps(f"/{c}/humans/poses3d")) for c in FIRST_STAMP_S}
        for camera in FIRST_STAMP_S:
            assert outputs.stamps(f"/{camera}/humans/poses3d") == expected[camera], f"{camera}: another camera's frame"
        assert outputs.poses["/humans/poses3d"] == [], "a namespaced node published in the root namespace"

        probe.spin_until(lambda: all(outputs.markers[f"/{c}/humans/poses3d/markers"] for c in FIRST_STAMP_S), 10.0)
        for camera in FIRST_STAMP_S:
            namespaces = {m.ns for array in outputs.markers[f"/{camera}/humans/poses3d/markers"] for m in array.markers}
            assert namespaces and all(ns.startswith(f"mppe/{camera}/") for ns in namespaces), namespaces
        assert outputs.markers["/humans/poses3d/markers"] == []

        names = {f"/{c}/mppe_node: pose estimation" for c in FIRST_STAMP_S}
        assert probe.spin_until(lambda: names <= outputs.statuses, 10.0), outputs.statuses

        pids = launch.started_pids()
        assert len(pids) == 2
        os.killpg(launch.process.pid, signal.SIGINT)  # Ctrl-C: both nodes stop, the launch exits 0
        assert_stops(launch, pids, STOP_WITHIN_S, expected_code=0)
    finally:
        probe.close()
        launch.close()


def qos_reliable(depth: int):
    from rclpy.qos import QoSProfile, ReliabilityPolicy

    return QoSProfile(depth=depth, reliability=ReliabilityPolicy.RELIABLE)
