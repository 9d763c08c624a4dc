"""CameraInfo lost next to large images between processes (Fast DDS defaults): the node still answers.

One `python -m mppe_ros node` child (defaults: input_reliability auto, camera_info_fallback true;
detector none, so every frame that arrives is answered at once) and, in their own processes, two
runs of mppe_ros.testing.camera_publisher: 40 reliable 1280x720 bgr8 pairs at 5 Hz, first with the
CameraInfo published just before the Image (plain rclpy receives only 17 to 26 of the 40 CameraInfos
then), then with the Image first (image_transport's order). No Fast DDS profile in any process. In each
order every image from the first one whose CameraInfo arrived is answered (one may still be in flight):
the images before it have no CameraInfo to reuse, which a loaded machine makes more than one, and each
is counted ("Images without camera_info"); before the fallback, images were lost all along the run.
/diagnostics "CameraInfo reused since startup" accounts for the reused ones, and the reason is logged
once.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import uuid

import pytest
import rclpy
from conftest import REPO_ROOT, child_env
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import QoSProfile, ReliabilityPolicy
from ros_harness import stop_children, wait_for

from mppe_ros.msg import PersonPose3DArray

PAIRS = 40
RATE_HZ = 5
WITHOUT_KEY = "Images without camera_info since startup"
REUSED_KEY = "CameraInfo reused since startup"
EXPLAINED = "answered with the latest CameraInfo of the same frame_id and size"


def default_transports_env() -> dict[str, str]:
    """A child's environment with Fast DDS's default transports (no profile file from the caller's shell)."""
    env = {**child_env(), "RCUTILS_LOGGING_BUFFERED_STREAM": "0", "PYTHONUNBUFFERED": "1"}
    env.pop("FASTDDS_DEFAULT_PROFILES_FILE", None)
    env.pop("FASTDDS_BUILTIN_TRANSPORTS", None)
    return env


class Results:
    """Stamps (ns) on /humans/poses3d and the latest /diagnostics values, spun in a thread."""

    def __init__(self, context) -> None:
        self.node = rclpy.create_node(f"camera_info_results_{uuid.uuid4().hex[:6]}", context=context)
        self.stamps_ns: set[int] = set()
        qos = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
        self.node.create_subscription(PersonPose3DArray, "/humans/poses3d", self._add, qos)
        self.diagnostics: dict[str, str] = {}
        self.node.create_subscription(DiagnosticArray, "/diagnostics", self._diagnose, 10)
        self.executor = SingleThreadedExecutor(context=context)
        self.executor.add_node(self.node)
        self.thread = threading.Thread(target=self.executor.spin, daemon=True)
        self.thread.start()

    def _add(self, msg: PersonPose3DArray) -> None:
        self.stamps_ns.add(msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec)

    def _diagnose(self, msg: DiagnosticArray) -> None:
        self.diagnostics = {kv.key: kv.value for kv in msg.status[0].values}

    def between(self, first_s: int, last_s: int) -> int:
        """Distinct stamps in [first_s, last_s]."""
        return sum(first_s * 10**9 <= ns <= last_s * 10**9 for ns in self.stamps_ns)

    def first_answered(self, first_s: int) -> int:
        """The index of the first answered pair of the run starting at first_s (RATE_HZ), or PAIRS."""
        indices = [round((ns - first_s * 10**9) * RATE_HZ / 1e9) for ns in self.stamps_ns]
        return min((index for index in indices if 0 <= index < PAIRS), default=PAIRS)

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()


@pytest.mark.slow
def test_camera_info_first_or_image_first_every_frame_is_answered(official_weights):
    node_output: list[str] = []
    node = subprocess.Popen(
        [
            sys.executable, "-m", "mppe_ros", "node", "--ros-args",
            "-p", f"posenet_path:={official_weights['posenet']}", "-p", f"rootnet_path:={official_weights['rootnet']}",
            "-p", "detector:=none", "-p", "device:=cpu", "-p", "log_period_s:=1.0",
        ],
        cwd=REPO_ROOT, env=default_transports_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    threading.Thread(target=lambda: node_output.extend(line.decode() for line in node.stdout), daemon=True).start()
    context = rclpy.Context()
    rclpy.init(context=context)
    results = Results(context)
    figures, answered_total = [], 0
    try:
        assert wait_for(
            lambda: any("ready: subscribing" in line for line in node_output) or node.poll() is not None, 180
        )
        assert node.poll() is None, "".join(node_output)
        for index, order in enumerate(("info-first", "image-first")):
            first_s = 1000 * (index + 1)
            reused_before = int(results.diagnostics.get(REUSED_KEY, "0"))
            without_before = int(results.diagnostics.get(WITHOUT_KEY, "0"))
            done = subprocess.run(
                [
                    sys.executable, "-m", "mppe_ros.testing.camera_publisher", "--width", "1280", "--height", "720",
                    "--rate-hz", str(RATE_HZ), "--count", str(PAIRS), "--reliability", "reliable",
                    "--wait-for", "reliable", "--first-stamp-s", str(first_s), "--settle-s", "1.5", "--order", order,
                ],
                cwd=REPO_ROOT, env=default_transports_env(), capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            assert done.returncode == 0, f"{order}: {done.stdout}{done.stderr}\nnode:\n{''.join(node_output)}"
            assert json.loads(done.stdout.splitlines()[-1])["sent"] == PAIRS
            wait_for(lambda first=first_s: results.between(first, first + PAIRS) >= PAIRS, 5.0)  # the last results
            answered = results.between(first_s, first_s + PAIRS)
            answered_total += answered
            # a report that saw every answer: its counters include this run
            seen = wait_for(
                lambda total=answered_total: int(results.diagnostics.get("Events since startup", "0")) >= total, 5.0
            )
            reused = int(results.diagnostics[REUSED_KEY]) - reused_before if REUSED_KEY in results.diagnostics else None
            without = int(results.diagnostics.get(WITHOUT_KEY, "0")) - without_before
            first = results.first_answered(first_s)
            figures.append(
                f"{order}: {answered}/{PAIRS} answered, {reused} with a reused CameraInfo, "
                f"{first} before any CameraInfo arrived"
            )
            case = f"{figures}; /diagnostics {results.diagnostics}\nnode:\n{''.join(node_output[-30:])}"
            # Every image from the first one whose CameraInfo arrived is answered (one may still be in flight); the
            # images before it had no CameraInfo to reuse (a loaded machine loses the first ones too), each counted.
            assert first < PAIRS // 2 and answered >= PAIRS - first - 1, case
            assert seen and reused is not None and 0 <= reused <= answered and without >= first, case
        print("CameraInfo fallback, 1280x720 at 5 Hz, Fast DDS defaults:", "; ".join(figures))
        explanations = sum(EXPLAINED in line for line in node_output)
        assert explanations == (1 if int(results.diagnostics[REUSED_KEY]) else 0), "".join(node_output)
        assert node.poll() is None, "".join(node_output)
    finally:
        results.close()
        rclpy.shutdown(context=context)
        stop_children([node])
