"""Child processes of the tests (the node, a camera, a detector, `ros2 launch`): their output captured line by line,
started when a line appears, and always stopped (no test leaves a node behind to answer the next test's topics)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

from conftest import REPO_ROOT, child_env
from ros_harness import wait_for

# Every line at once: rclpy's logging and Python's stdout unbuffered, so a test reads what the child did so far.
UNBUFFERED_ENV = {"PYTHONUNBUFFERED": "1", "RCUTILS_LOGGING_BUFFERED_STREAM": "0"}


def default_transports_env() -> dict[str, str]:
    """A child's environment with Fast DDS's default transports (no profile file from the caller's shell)."""
    env = {**child_env(), **UNBUFFERED_ENV}
    env.pop("FASTDDS_DEFAULT_PROFILES_FILE", None)
    env.pop("FASTDDS_BUILTIN_TRANSPORTS", None)
    return env


class Child:
    """`COMMAND...` run from the repository root, stdout and stderr in `output`.

    Args:
        command: e.g. [sys.executable, "test/detector_process.py"].
        env: the environment (default: child_env() with unbuffered output).
        new_session: a process group of its own (a terminal's job: SIGINT is not ignored, signals reach it alone).
    """

    def __init__(self, command: list[str], env: dict[str, str] | None = None, new_session: bool = False) -> None:
        env = {**child_env(), **UNBUFFERED_ENV} if env is None else env
        self.output: list[str] = []
        self.process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=new_session,
        )  # fmt: skip
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        self.output.extend(line.decode(errors="replace") for line in self.process.stdout)

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def started(self, line: str, timeout_s: float = 180.0) -> bool:
        """Wait until the child printed a line containing `line` (True) or exited or timed out (False)."""
        wait_for(lambda: any(line in text for text in self.output) or not self.running, timeout_s)
        return self.running and any(line in text for text in self.output)

    def text(self, last_lines: int | None = None) -> str:
        """What the child printed so far (its last `last_lines` lines if given), for assertion messages."""
        return "".join(self.output if last_lines is None else self.output[-last_lines:])


def node_child(weights: dict, *parameters: str, env: dict[str, str] | None = None) -> Child:
    """`python -m mppe_ros node` on the CPU with the given weights (official_weights) and `name:=value` parameters."""
    command = [sys.executable, "-m", "mppe_ros", "node", "--ros-args", "-p", f"posenet_path:={weights['posenet']}"]
    command += ["-p", f"rootnet_path:={weights['rootnet']}", "-p", "device:=cpu"]
    for parameter in parameters:
        command += ["-p", parameter]
    return Child(command, env)


def run_camera_publisher(*arguments: str, env: dict[str, str]) -> int | str:
    """Run mppe_ros.testing.camera_publisher to its end (`--settle-s 1.5` added): the pairs it sent, or what it
    printed if it failed."""
    done = subprocess.run(
        [sys.executable, "-m", "mppe_ros.testing.camera_publisher", *arguments, "--settle-s", "1.5"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    if done.returncode != 0:
        return f"camera_publisher exited {done.returncode}: {done.stdout}{done.stderr}"
    return json.loads(done.stdout.splitlines()[-1])["sent"]


def stop_children(children: list[Child], timeout_s: float = 30.0) -> None:
    """SIGTERM each child, wait for all; one still running after timeout_s is killed."""
    for child in children:
        child.process.terminate()
    for child in children:
        try:
            child.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            child.process.kill()
            child.process.wait(timeout_s)
