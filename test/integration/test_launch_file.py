"""The real launch file through the real `ros2 launch`: defaults, arguments, a pair in, poses out, exits.

`ros2 launch <repo>/launch/mppe.launch.py ...` runs as a child process in its own session (its own
process group, as a terminal's job), so the working tree's launch file is what runs; the package it
starts (`mppe_node`, config/) is the one installed into the venv by `make setup`. The node gets
official-format synthetic weights (no download). This test process checks through rclpy what arrived:
the node's parameters (its `get_parameters` service), the topics it subscribes, and a
PersonPose3DArray answering a published Image + CameraInfo pair. Each launch ends with a stop (SIGINT
to its process group, as Ctrl-C; SIGTERM to the `ros2 launch` process alone, as `kill`, systemd or
docker do) or a node that cannot start, and must leave no process behind.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
import rclpy
from child_process import UNBUFFERED_ENV, Child
from conftest import REPO_ROOT, child_env
from lifecycle_msgs.srv import GetState
from rcl_interfaces.srv import GetParameters
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import parameter_value_to_python
from rclpy.qos import QoSProfile, ReliabilityPolicy
from ros_harness import FRAME, camera_info, image_msg, stamp_header
from ros_tools import requires, ros2_command, tools_env
from sensor_msgs.msg import CameraInfo, Image

from mppe_ros.msg import PersonPose3DArray
from mppe_ros.profiles import ACCURATE, choose_profile

LAUNCH_FILE = REPO_ROOT / "launch" / "mppe.launch.py"
# A DDS domain of this module's own: every launch starts a node named /mppe_node, and a /mppe_node another test of
# the run left in the shared domain would receive this module's lifecycle and parameter requests.
DOMAIN_ID = (int(os.environ["ROS_DOMAIN_ID"]) + 113) % 232 or 1
READY_WITHIN_S = 120.0  # imports and model loading on 2 loaded cores (about 20 to 40 s)
FAILS_WITHIN_S = 90.0  # `cannot start` comes after the imports
STOP_WITHIN_S = 20.0  # the node stops within 5 s; launch's own escalation takes up to 10 s more
REAPED_WITHIN_S = 10.0  # after `ros2 launch` exited, its processes' exits show in /proc

LAUNCH_TOOLS = [
    requires("launch", "launch_ros", "ros2launch", "ros2cli"),
    pytest.mark.skipif(ros2_command() is None, reason="no ros2 command: install the real ROS 2 tools"),
]
pytestmark = [pytest.mark.slow, *LAUNCH_TOOLS]


def process_table() -> dict[int, tuple[str, int, int, str]]:
    """{pid: (state, ppid, process group, command line)} of every process (from /proc)."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        table[int(entry.name)] = (fields[0], int(fields[1]), int(fields[2]), command)
    return table


class RosLaunch(Child):
    """`ros2 launch LAUNCH_FILE ARGUMENTS` in its own session; its output is collected."""

    def __init__(
        self, arguments: list[str], env: dict[str, str] | None = None, launch_file: Path = LAUNCH_FILE
    ) -> None:
        command = [ros2_command(), "launch", str(launch_file), *arguments]
        environment = {**tools_env(child_env()), **UNBUFFERED_ENV, "ROS_DOMAIN_ID": str(DOMAIN_ID), **(env or {})}
        super().__init__(command, environment, new_session=True)

    def wait_until(self, done, what: str, timeout_s: float = READY_WITHIN_S) -> None:
        """Call done() until it is true; fail when `ros2 launch` exits first or after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while not done():
            assert self.process.poll() is None, f"ros2 launch exited ({self.process.returncode}):\n{self.text()}"
            assert time.monotonic() < deadline, f"{what}: not within {timeout_s} s:\n{self.text()}"
            time.sleep(0.05)  # a condition that does not spin must not take a core from the node starting

    def started_pids(self) -> list[int]:
        """The processes launch reports starting ("process started with pid [N]")."""
        return [int(pid) for pid in re.findall(r"process started with pid \[(\d+)\]", self.text())]

    def group(self) -> dict[int, str]:
        """{pid: command line} of the running processes in the launch's process group, itself included."""
        return {
            pid: command
            for pid, (state, _, group, command) in process_table().items()
            if group == self.process.pid and state != "Z"
        }

    def wait(self, timeout_s: float) -> tuple[int, float]:
        """(return code, seconds) once `ros2 launch` has exited; fails after `timeout_s`."""
        started_s = time.monotonic()
        try:
            code = self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            pytest.fail(f"ros2 launch still running after {timeout_s} s:\n{self.text()}")
        self.reader.join(5.0)
        return code, time.monotonic() - started_s

    def leftovers(self, pids: list[int]) -> dict[int, str]:
        """The processes of the launch (its group, and `pids` wherever they are) still running."""
        table = process_table()
        left = {pid: table[pid][3] for pid in pids if pid in table and table[pid][0] != "Z"}
        return {**left, **self.group()}

    def leftovers_after_exit(self, pids: list[int], timeout_s: float = REAPED_WITHIN_S) -> dict[int, str]:
        """leftovers(pids) once there are none, or after `timeout_s` (the kernel's bookkeeping of the last exits)."""
        deadline = time.monotonic() + timeout_s
        while (left := self.leftovers(pids)) and time.monotonic() < deadline:
            time.sleep(0.1)
        return left

    def close(self) -> None:
        """Kill whatever is left (a failed test must not leave a node running for the next one)."""
        for pid in [*self.group(), *self.started_pids()]:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self.process.poll() is None:
            self.process.wait(10.0)


def assert_stops(launch: RosLaunch, pids: list[int], within_s: float, expected_code: int) -> float:
    code, took_s = launch.wait(within_s)
    assert code == expected_code, f"ros2 launch exited {code}, expected {expected_code}:\n{launch.text()}"
    assert launch.leftovers_after_exit(pids) == {}, f"left running after ros2 launch exited:\n{launch.text()}"
    return took_s


@pytest.fixture
def launches():
    started: list[RosLaunch] = []

    def start(arguments: list[str], env: dict[str, str] | None = None, launch_file: Path = LAUNCH_FILE) -> RosLaunch:
        started.append(RosLaunch(arguments, env, launch_file))
        return started[-1]

    yield start
    for launch in started:
        launch.close()


def params_file(path: Path, key: str = "mppe_node", **values) -> Path:
    """A ROS parameter file for `key` (mppe_node; /** for any node in any namespace) with `values` (strings quoted,
    numbers and booleans as they are)."""
    lines = [f"{key}:", "  ros__parameters:"]
    for name, value in values.items():
        text = f'"{value}"' if isinstance(value, (str, Path)) else str(value).lower()
        lines.append(f"    {name}: {text}")
    path.write_text("\n".join(lines) + "\n")
    return path


class Probe:
    """A test node in its own context: the node's parameters, the graph, and an Image + CameraInfo pair."""

    def __init__(self) -> None:
        self.context = rclpy.Context()
        rclpy.init(context=self.context, domain_id=DOMAIN_ID)
        self.node = rclpy.create_node("launch_file_probe", context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.poses: list[PersonPose3DArray] = []
        self.node.create_subscription(PersonPose3DArray, "/humans/poses3d", self.poses.append, 10)

    def subscribed(self, topic: str, node: str = "/mppe_node"):
        """A condition: `node` subscribes `topic` (it is running: its inputs exist)."""
        return lambda: self.spin_until(lambda: node in self.subscribers(topic), 0.2)

    def spin_until(self, done, timeout_s: float, every_s: float = 0.0, action=None) -> bool:
        deadline, next_action = time.monotonic() + timeout_s, 0.0
        while time.monotonic() < deadline:
            if action is not None and time.monotonic() >= next_action:
                action()
                next_action = time.monotonic() + every_s
            self.executor.spin_once(timeout_sec=0.05)
            if done():
                return True
        return False

    def parameters(self, node: str, names: list[str]) -> dict[str, object]:
        client = self.node.create_client(GetParameters, f"{node}/get_parameters")
        assert self.spin_until(client.service_is_ready, 30.0), f"no {node}/get_parameters service"
        future = client.call_async(GetParameters.Request(names=names))
        assert self.spin_until(future.done, 30.0), "get_parameters did not answer"
        return {
            name: parameter_value_to_python(value) for name, value in zip(names, future.result().values, strict=True)
        }

    def subscribers(self, topic: str) -> list[str]:
        return [
            f"{info.node_namespace.rstrip('/')}/{info.node_name}"
            for info in self.node.get_subscriptions_info_by_topic(topic)
        ]

    def exchange(self, image_topic: str, info_topic: str, seconds: int, timeout_s: float = 60.0) -> PersonPose3DArray:
        """Publish a pair (RELIABLE, equal stamps) every second until the poses with its stamp arrive."""
        qos = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
        image_pub = self.node.create_publisher(Image, image_topic, qos)
        info_pub = self.node.create_publisher(CameraInfo, info_topic, qos)
        header = stamp_header(seconds)

        def publish() -> None:
            image_pub.publish(image_msg(header))
            info_pub.publish(camera_info(header))

        def answered() -> list[PersonPose3DArray]:
            return [p for p in self.poses if (p.header.stamp.sec, p.header.stamp.nanosec) == (seconds, 0)]

        assert self.spin_until(lambda: bool(answered()), timeout_s, every_s=1.0, action=publish), (
            f"no /humans/poses3d for stamp {seconds} within {timeout_s} s"
        )
        return answered()[0]

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.shutdown(context=self.context)


@pytest.fixture
def probe():
    probe = Probe()
    yield probe
    probe.close()


def test_defaults_start_headless_and_ctrl_c_ends_everything(
    launches, official_weights, detector_weights, fast_detector_weights, probe, tmp_path
):
    """No argument at all: the installed config/mppe.yaml, the default device, the detector of profile auto here
    (accurate with CUDA, fast without), no RViz.

    The weights sit where a user's would: the mppe_ros cache ($MPPE_ROS_HOME) and torchvision's ($TORCH_HOME).
    Ctrl-C (SIGINT to the process group) ends the launch with status 0 and no process left.
    """
    cache = tmp_path / "mppe_ros_home"
    for name, key in (("posenet_muco", "posenet"), ("rootnet_muco", "rootnet")):
        (cache / name).mkdir(parents=True)
        (cache / name / official_weights[key].name).symlink_to(official_weights[key])
    hub = tmp_path / "torch_home" / "hub" / "checkpoints"
    hub.mkdir(parents=True)
    for path in (detector_weights[0], fast_detector_weights):
        (hub / path.name).symlink_to(path)

    launch = launches([], env={"MPPE_ROS_HOME": str(cache), "TORCH_HOME": str(tmp_path / "torch_home")})
    launch.wait_until(probe.subscribed("/camera/image_raw"), "mppe_node subscribes /camera/image_raw")
    # discovery shows each subscription on its own: the second one may come later than the first
    launch.wait_until(probe.subscribed("/camera/camera_info"), "mppe_node subscribes /camera/camera_info")
    profile = choose_profile("auto", "auto")  # asks torch for CUDA, as the node does
    assert probe.parameters("/mppe_node", ["device", "detector", "use_rectified", "profile"]) == {
        "device": "auto",
        "detector": profile.defaults.get("detector", ACCURATE["detector"]),
        "use_rectified": False,
        "profile": "auto",
    }
    assert "rviz2" not in launch.text(), launch.text()
    processes = launch.group()
    assert not [command for command in processes.values() if "rviz" in command], processes
    assert [pid for pid, command in processes.items() if "mppe_node" in command] == launch.started_pids()

    pids = launch.started_pids()
    os.killpg(launch.process.pid, signal.SIGINT)
    took_s = assert_stops(launch, pids, STOP_WITHIN_S, expected_code=0)
    assert "process has finished cleanly" in launch.text() and "Traceback" not in launch.text(), launch.text()
    print(f"Ctrl-C: ros2 launch exited 0 after {took_s:.1f} s")


def test_arguments_arrive_a_pair_is_answered_and_sigterm_leaves_nothing(launches, official_weights, probe, tmp_path):
    """device:=, camera:=, image:=, use_rectified:= and a params_file reach the node; a pair gets poses back
    with its stamp and frame; SIGTERM to `ros2 launch` alone stops the node first, then ends the launch."""
    parameters = params_file(
        tmp_path / "params.yaml",
        posenet_path=official_weights["posenet"],
        rootnet_path=official_weights["rootnet"],
        detector="none",  # every frame is answered with an empty persons list: stamp and frame are enough here
        score_threshold=0.65,
    )
    image_topic = "/cam/left/image_rect"
    launch = launches(
        ["device:=cpu", "camera:=/cam", f"image:={image_topic}", "use_rectified:=true", f"params_file:={parameters}"]
    )
    launch.wait_until(probe.subscribed(image_topic), f"mppe_node subscribes {image_topic}")
    info_topic = "/cam/camera_info"  # from camera:=, as image:= overrides only the image
    launch.wait_until(probe.subscribed(info_topic), f"mppe_node subscribes {info_topic}")

    values = probe.parameters("/mppe_node", ["device", "use_rectified", "detector", "score_threshold", "posenet_path"])
    assert values == {
        "device": "cpu",
        "use_rectified": True,
        "detector": "none",
        "score_threshold": 0.65,
        "posenet_path": str(official_weights["posenet"]),
    }
    assert "/mppe_node" not in probe.subscribers("/cam/image_raw")  # both inputs seen: the default one is not there

    poses = probe.exchange(image_topic, info_topic, seconds=4242)
    assert (poses.header.stamp.sec, poses.header.stamp.nanosec, poses.header.frame_id) == (4242, 0, FRAME)
    assert list(poses.persons) == []

    pids = launch.started_pids()
    assert len(pids) == 1
    launch.process.send_signal(signal.SIGTERM)
    took_s = assert_stops(launch, pids, STOP_WITHIN_S, expected_code=-signal.SIGTERM)
    assert "SIGTERM: stopping" in launch.text(), launch.text()
    print(f"SIGTERM: ros2 launch ended by SIGTERM after {took_s:.1f} s, node stopped first")


def test_a_node_that_cannot_start_fails_the_launch(launches, official_weights, tmp_path):
    missing = tmp_path / "no_such_snapshot_24.pth.tar"
    parameters = params_file(
        tmp_path / "params.yaml", posenet_path=missing, rootnet_path=official_weights["rootnet"], detector="none"
    )
    launch = launches(["device:=cpu", f"params_file:={parameters}"])
    code, took_s = launch.wait(FAILS_WITHIN_S)
    text = launch.text()
    assert code == 1, f"ros2 launch exited {code}:\n{text}"
    assert "cannot start:" in text and str(missing) in text, text
    assert "mppe_node exited with status 1" in text, text
    assert launch.leftovers_after_exit(launch.started_pids()) == {}, text
    print(f"node failure: ros2 launch exited {code} after {took_s:.1f} s")


@requires("vision_msgs")
def test_detections_argument_remaps_the_robot_detectors_topic(launches, official_weights, probe, tmp_path):
    """With detector topic in params_file, detections:= is the Detection2DArray topic the node subscribes."""
    parameters = params_file(
        tmp_path / "params.yaml",
        posenet_path=official_weights["posenet"],
        rootnet_path=official_weights["rootnet"],
        detector="topic",
    )
    launch = launches(["device:=cpu", f"params_file:={parameters}", "detections:=/yolo/detections"])
    launch.wait_until(probe.subscribed("/yolo/detections"), "mppe_node subscribes /yolo/detections")
    assert "/mppe_node" not in probe.subscribers("/detections")
    ready = "boxes from /yolo/detections (exact stamps)"
    launch.wait_until(lambda: ready in launch.text(), f"the ready line says {ready}")


def no_detector_params(tmp_path: Path, weights: dict[str, Path], **values) -> Path:
    """A parameter file with the synthetic PoseNet/RootNet and no detector (frames answered at once), plus `values`."""
    defaults = {"posenet_path": weights["posenet"], "rootnet_path": weights["rootnet"], "detector": "none"}
    return params_file(tmp_path / "params.yaml", **{**defaults, **values})


def lifecycle_state(probe: Probe, node: str = "/mppe_node") -> str:
    """The node's lifecycle state label through its `get_state` service."""
    client = probe.node.create_client(GetState, f"{node}/get_state")
    assert probe.spin_until(client.service_is_ready, 60.0), f"no {node}/get_state service"
    future = client.call_async(GetState.Request())
    assert probe.spin_until(future.done, 30.0), "get_state did not answer"
    return future.result().current_state.label


def test_lifecycle_launch_drives_configure_and_activate(launches, official_weights, probe, tmp_path):
    """lifecycle:=launch: the node starts unconfigured (autostart false); launch_ros configures and activates it."""
    parameters = no_detector_params(tmp_path, official_weights)
    launch = launches(["device:=cpu", "lifecycle:=launch", f"params_file:={parameters}"])
    launch.wait_until(probe.subscribed("/camera/image_raw"), "mppe_node subscribes after launch activated it")
    # it subscribes inside its activate transition: the state reads "active" once that transition has ended
    launch.wait_until(lambda: lifecycle_state(probe) == "active", "mppe_node active")
    assert probe.parameters("/mppe_node", ["autostart"]) == {"autostart": False}  # so launch_ros activated it
    poses = probe.exchange("/camera/image_raw", "/camera/camera_info", seconds=5151)
    assert poses.header.stamp.sec == 5151
    pids = launch.started_pids()
    os.killpg(launch.process.pid, signal.SIGINT)
    assert_stops(launch, pids, STOP_WITHIN_S, expected_code=0)


def test_lifecycle_launch_with_a_failed_configure_fails_the_launch(launches, official_weights, tmp_path):
    missing = tmp_path / "no_such_snapshot_24.pth.tar"
    parameters = no_detector_params(tmp_path, official_weights, posenet_path=missing)
    launch = launches(["device:=cpu", "lifecycle:=launch", f"params_file:={parameters}"])
    code, _ = launch.wait(FAILS_WITHIN_S + STOP_WITHIN_S)
    text = launch.text()
    assert code == 1, f"ros2 launch exited {code}:\n{text}"
    assert "cannot configure:" in text and "could not be configured" in text, text
    assert launch.leftovers_after_exit(launch.started_pids()) == {}, text


def test_lifecycle_manual_waits_unconfigured(launches, official_weights, probe, tmp_path):
    """lifecycle:=manual: nothing configures the node; it waits for a lifecycle manager, subscribing nothing."""
    parameters = no_detector_params(tmp_path, official_weights)
    launch = launches(["device:=cpu", "lifecycle:=manual", f"params_file:={parameters}"])
    launch.wait_until(lambda: "/mppe_node" in probe.node.get_fully_qualified_node_names(), "mppe_node in the graph")
    assert lifecycle_state(probe) == "unconfigured"
    assert "/mppe_node" not in probe.subscribers("/camera/image_raw")
    pids = launch.started_pids()
    os.killpg(launch.process.pid, signal.SIGINT)
    assert_stops(launch, pids, STOP_WITHIN_S, expected_code=0)
