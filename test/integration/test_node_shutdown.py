"""Stopping mppe_node at any moment: SIGINT / SIGTERM during start-up, idle, with a frame in flight.

The real `python -m mppe_ros node` runs as a child process with official-format random weights and
a random-weights torchvision detector (a frame takes seconds at 800 px on a CPU). A requested stop
must end it within a few seconds with status 0, no traceback and no process left behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import rclpy
import ros_harness
from conftest import REPO_ROOT, child_env
from ros_harness import BOXES, camera_info, image_msg, stamp_header, start

from mppe_ros.msg import PersonPose3DArray

context, pipeline = ros_harness.context, ros_harness.pipeline  # fixtures
REPO = REPO_ROOT
# SHUTDOWN_WAIT_S (2 s) for a frame in flight, plus the exit: 1.6-1.8 s idle alone, 5.3 s with 3 suites on 2 cores
STOP_WITHIN_S = 8.0


class NodeProcess:
    """`python -m mppe_ros node` with random weights, a unique node name, stderr collected."""

    def __init__(self, weights: dict[str, Path], detector_path: Path) -> None:
        self.name = f"mppe_stop_{uuid.uuid4().hex[:8]}"
        command = [
            sys.executable, "-m", "mppe_ros", "node", "--ros-args", "-r", f"__node:={self.name}",
            "-p", f"posenet_path:={weights['posenet']}", "-p", f"rootnet_path:={weights['rootnet']}",
            "-p", f"detector_weights_path:={detector_path}", "-p", "device:=cpu", "-p", "input_reliability:=reliable",
        ]  # fmt: skip
        env = {**child_env(), "RCUTILS_LOGGING_BUFFERED_STREAM": "0", "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.output.append(line.decode(errors="replace"))

    def text(self) -> str:
        return "".join(self.output)

    def wait_for(self, done, timeout_s: float = 120.0, what: str = "") -> None:
        deadline = time.monotonic() + timeout_s
        while not done():
            assert self.process.poll() is None, f"node exited early waiting for {what}:\n{self.text()}"
            assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{self.text()}"
            time.sleep(0.05)

    def importing_torch(self) -> bool:
        """The node's imports are under way: torch's library is mapped (after the ROS wheels' re-exec)."""
        try:
            return "libtorch" in Path(f"/proc/{self.process.pid}/maps").read_text()
        except OSError:
            return False

    def has_open(self, path: Path) -> bool:
        """The process holds `path` open (a descriptor closing while we look is skipped, not an error)."""
        for fd in Path(f"/proc/{self.process.pid}/fd").iterdir():
            try:
                if os.readlink(fd) == str(path):
                    return True
            except OSError:
                continue
        return False

    def stop(self, signum: int) -> float:
        """Send `signum`; the seconds until the process ended."""
        sent_s = time.monotonic()
        self.process.send_signal(signum)
        try:
            self.process.wait(timeout=60.0)
        finally:
            if self.process.poll() is None:
                self.process.kill()
        time.sleep(0.2)  # let the reader thread drain
        return time.monotonic() - sent_s

    def leftovers(self) -> list[str]:
        """Processes whose command line names this node (none may outlive it)."""
        found = []
        for proc in Path("/proc").iterdir():
            if proc.name.isdigit():
                try:
                    if self.name in (proc / "cmdline").read_text():
                        found.append(proc.name)
                except OSError:
                    continue
        return found


@pytest.fixture
def node_process(official_weights, detector_weights):
    process = NodeProcess(official_weights, detector_weights[0])
    yield process
    if process.process.poll() is None:
        process.process.kill()


def assert_clean_stop(process: NodeProcess, signum: int, within_s: float = STOP_WITHIN_S) -> None:
    took_s = process.stop(signum)
    text = process.text()
    assert process.process.returncode == 0, f"status {process.process.returncode} after {signum}:\n{text}"
    assert took_s < within_s, f"took {took_s:.1f} s to stop:\n{text}"
    assert "Traceback" not in text and "Error" not in text, text
    assert process.leftovers() == []


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_stop_while_idle(node_process, signum):
    node_process.wait_for(lambda: "ready:" in node_process.text(), what="ready")
    assert_clean_stop(node_process, signum)


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_stop_during_model_loading(node_process, official_weights, signum):
    node_process.wait_for(lambda: node_process.has_open(official_weights["posenet"]), what="loading PoseNet")
    assert "ready:" not in node_process.text()
    assert_clean_stop(node_process, signum)


@pytest.mark.slow
def test_stop_during_the_imports(node_process):
    """Python runs signal handlers between bytecodes: inside torch's native initialisation (seconds on a
    loaded CPU) the stop waits until it returns, then ends the process at once, with status 0."""
    node_process.wait_for(node_process.importing_torch, what="the imports (torch)")
    assert_clean_stop(node_process, signal.SIGINT, within_s=60.0)


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_stop_with_a_frame_in_flight(node_process, signum):
    node_process.wait_for(lambda: "ready:" in node_process.text(), what="ready")
    ctx = rclpy.Context()
    rclpy.init(context=ctx)
    try:
        harness = rclpy.create_node("shutdown_test_publisher", context=ctx)
        image_pub = harness.create_publisher(type(image_msg(stamp_header(1))), "image", 10)
        info_pub = harness.create_publisher(type(camera_info(stamp_header(1))), "camera_info", 10)
        results: list[PersonPose3DArray] = []
        harness.create_subscription(PersonPose3DArray, "/humans/poses3d", results.append, 10)
        executor = rclpy.executors.SingleThreadedExecutor(context=ctx)
        executor.add_node(harness)

        def publish(sec: int) -> None:
            header = stamp_header(sec)
            image_pub.publish(image_msg(header))
            info_pub.publish(camera_info(header))

        deadline, sec = time.monotonic() + 120.0, 1
        while not results and time.monotonic() < deadline:  # a first frame end to end (and warm-up)
            publish(sec)
            sec += 1
            end = time.monotonic() + 1.0
            while time.monotonic() < end and not results:
                executor.spin_once(timeout_sec=0.05)
        assert results, f"no result from the node:\n{node_process.text()}"
        publish(10_000)  # the detector at 800 px takes seconds on a CPU: this frame is in flight
        end = time.monotonic() + 0.3
        while time.monotonic() < end:
            executor.spin_once(timeout_sec=0.05)
        assert not any(r.header.stamp.sec == 10_000 for r in results)
        assert_clean_stop(node_process, signum)
        executor.shutdown()
        harness.destroy_node()
    finally:
        rclpy.shutdown(context=ctx)


class BlockingPipeline:
    """The test pipeline, held inside its call until released (a frame in flight)."""

    def __init__(self, pipeline) -> None:
        self.pipeline, self.entered, self.release = pipeline, threading.Event(), threading.Event()

    def __call__(self, *args, **kwargs):
        self.entered.set()
        self.release.wait(30.0)
        return self.pipeline(*args, **kwargs)


def test_destroy_node_with_a_frame_in_flight_publishes_nothing_after(context, pipeline):
    blocking = BlockingPipeline(pipeline)
    mppe, harness = start(context, blocking, boxes=BOXES[:1], reliable=True)
    try:
        header = stamp_header(4242)
        harness.publish(image_msg(header), camera_info(header))
        assert harness.spin_until(blocking.entered.is_set, 20.0)
        harness.executor.remove_node(mppe)
        started_s = time.monotonic()
        mppe.destroy_node()  # waits SHUTDOWN_WAIT_S for the frame, then leaves it
        assert time.monotonic() - started_s < STOP_WITHIN_S
        blocking.release.set()
        mppe._last_worker.join(30.0)
        assert not mppe.worker_alive and mppe.stats.frames_processed == 0
        harness.spin_until(lambda: False, 1.0)
        assert not harness.poses_with_stamp(header), "published after destroy_node"
    finally:
        blocking.release.set()
        harness.close()


class Fatal(BaseException):
    """Not an Exception: what the per-frame guard does not catch (as SystemExit from a library)."""


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the thread's loud end
def test_a_stopped_worker_ends_the_node_with_status_1(context, pipeline, capfd):
    from mppe_ros.ros.node import run

    def fatal(*args, **kwargs):
        raise Fatal("the inference thread is gone")

    mppe, harness = start(context, fatal, boxes=BOXES[:1], reliable=True, rosout=True)
    try:
        header = stamp_header(5151)
        harness.publish(image_msg(header), camera_info(header))
        give_up = threading.Timer(60.0, context.shutdown)  # run() would then return 0 and fail the test
        give_up.start()
        try:
            assert run(mppe, harness.executor) == 1  # rclpy.spin ends with the worker's error
        finally:
            give_up.cancel()
        mppe._last_worker.join(5.0)
        assert not mppe.worker_alive  # rclpy.spin ends with the worker's error
        # the fatal line, on /rosout or on the console (after a long run of other tests /rosout was seen to stay
        # silent in this process; the console line is what a supervisor's log shows anyway)
        console: list[str] = []

        def logged() -> bool:
            console.append(capfd.readouterr().err)
            return "exiting with status 1" in harness.log_text() + "".join(console)

        assert harness.spin_until(logged, 20.0), harness.log_text() + "".join(console)
        assert "Fatal: the inference thread is gone" in harness.log_text() + "".join(console)
    finally:
        harness.close()
        mppe.destroy_node()


def test_detector_none_without_boxes_says_so_once(context, pipeline):
    mppe, harness = start(context, pipeline, boxes=None, rosout=True)  # the test pipeline has no detector
    try:
        for sec in (6161, 6162):
            header = stamp_header(sec)
            assert harness.exchange(image_msg(header), camera_info(header)).persons == []
        assert harness.spin_until(lambda: "detector is none" in harness.log_text(), 5.0), harness.log_text()
        lines = [log.msg for log in harness.logs if "detector is none and no boxes are injected" in log.msg]
        assert len(lines) == 1 and mppe.stats.frames_processed == 2
    finally:
        harness.close()
        mppe.destroy_node()
