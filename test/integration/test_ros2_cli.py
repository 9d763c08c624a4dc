"""The real `ros2` command line against a running mppe_node: param get / set / describe, topic list / info.

`python -m mppe_ros node` runs as a child process (official-format synthetic weights, no detector, CPU);
each `ros2 ...` command is a child process too, with the tools' environment (tools_env) and
`--no-daemon`, so no `_ros2_daemon` is started (the last test checks that none is left for this
run's ROS_DOMAIN_ID).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import rclpy
from conftest import REPO_ROOT, child_env
from ros_tools import requires, ros2_command, tools_env

from mppe_ros.ros.parameters import PARAMETERS_BY_NAME

NODE = "/mppe_node"
READY_WITHIN_S = 120.0  # imports and model loading on 2 loaded cores (about 20 to 40 s)
# --no-daemon: the command discovers the graph itself; param verbs wait up to --timeout for the node, topic
# verbs look for --spin-time (discovery takes a second or more on loaded cores)
PARAM = ("--no-daemon", "--timeout", "20")
GRAPH = ("--no-daemon", "--spin-time", "5")
COMMAND_TIMEOUT_S = 60.0  # one `ros2` command: Python, rclpy and discovery on loaded cores (about 3 to 8 s)

pytestmark = [
    pytest.mark.slow,
    requires("ros2cli", "ros2param", "ros2topic"),
    pytest.mark.skipif(ros2_command() is None, reason="no ros2 command: install the real ROS 2 tools"),
]


def ros2(*arguments: str) -> subprocess.CompletedProcess:
    """`ros2 ARGUMENTS` as a user types it (its status, stdout and stderr)."""
    return subprocess.run(
        [ros2_command(), *arguments],
        cwd=REPO_ROOT,
        env=tools_env(child_env()),
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
    )


def ros2_ok(*arguments: str) -> str:
    done = ros2(*arguments)
    assert done.returncode == 0, f"ros2 {' '.join(arguments)}: status {done.returncode}\n{done.stdout}{done.stderr}"
    return done.stdout


def daemons() -> list[str]:
    """Command lines of running ros2 daemons of this run's domain."""
    needle = f"--name ros2-daemon --ros-domain-id {os.environ['ROS_DOMAIN_ID']} "
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if needle in command:
                found.append(command)
    return found


def wait_until_running(process: subprocess.Popen, output: list[str]) -> None:
    """The node is up: it publishes /humans/poses3d and subscribes its image input (seen through rclpy)."""
    context = rclpy.Context()
    rclpy.init(context=context)
    try:
        probe = rclpy.create_node("ros2_cli_probe", context=context)
        deadline = time.monotonic() + READY_WITHIN_S

        def up() -> bool:
            publishers = [i.node_name for i in probe.get_publishers_info_by_topic("/humans/poses3d")]
            subscribers = [i.node_name for i in probe.get_subscriptions_info_by_topic("/image")]
            return "mppe_node" in publishers and "mppe_node" in subscribers

        while not up():
            assert process.poll() is None, f"the node exited ({process.returncode}):\n{''.join(output)}"
            assert time.monotonic() < deadline, f"the node did not start within {READY_WITHIN_S} s:\n{''.join(output)}"
            time.sleep(0.2)
        probe.destroy_node()
    finally:
        rclpy.shutdown(context=context)


@pytest.fixture(scope="module")
def node(official_weights):
    """A running `python -m mppe_ros node` named mppe_node; stopped (SIGINT) after the module's tests."""
    command = [
        sys.executable, "-m", "mppe_ros", "node", "--ros-args",
        "-p", f"posenet_path:={official_weights['posenet']}", "-p", f"rootnet_path:={official_weights['rootnet']}",
        "-p", "detector:=none", "-p", "device:=cpu",
    ]  # fmt: skip
    env = {**child_env(), "RCUTILS_LOGGING_BUFFERED_STREAM": "0", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(line.decode(errors="replace") for line in process.stdout))
    reader.daemon = True
    reader.start()
    try:
        wait_until_running(process, output)
        yield process
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(30.0)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10.0)
        if daemons():  # a verb without --no-daemon would have started one: do not leave it behind
            ros2("daemon", "stop")


def test_param_get_and_set(node):
    default = PARAMETERS_BY_NAME["score_threshold"].default
    assert ros2_ok("param", "get", NODE, "score_threshold", *PARAM).strip() == f"Double value is: {default}"
    assert ros2_ok("param", "set", NODE, "score_threshold", "0.7", *PARAM).strip() == "Set parameter successful"
    assert ros2_ok("param", "get", NODE, "score_threshold", *PARAM).strip() == "Double value is: 0.7"


def test_a_refused_set_says_why_and_changes_nothing(node):
    before = ros2_ok("param", "get", NODE, "score_threshold", *PARAM).strip()
    assert PARAMETERS_BY_NAME["score_threshold"].value_range == (0.0, 1.0)
    done = ros2("param", "set", NODE, "score_threshold", "1.5", *PARAM)
    # ros2param 0.36 reports a refusal on stderr and still exits 0
    assert done.returncode == 0 and "Setting parameter failed: " in done.stderr, done.stdout + done.stderr
    reason = done.stderr.split("Setting parameter failed: ", 1)[1].strip()
    assert "score_threshold" in reason and ("range" in reason or "1.0" in reason), f"no reason: {done.stderr}"
    assert ros2_ok("param", "get", NODE, "score_threshold", *PARAM).strip() == before
    print(f"refused: {reason}")


def test_param_describe_shows_the_range_and_description(node):
    spec = PARAMETERS_BY_NAME["score_threshold"]
    text = ros2_ok("param", "describe", NODE, "score_threshold", *PARAM)
    low, high = spec.value_range
    assert "Type: double" in text, text
    assert f"Description: {spec.description}" in text, text
    assert f"Min value: {low}" in text and f"Max value: {high}" in text, text


def test_topic_list_and_info_show_the_reliable_output(node):
    topics = ros2_ok("topic", "list", *GRAPH).split()
    assert "/humans/poses3d" in topics and "/humans/poses3d/markers" in topics, topics
    text = ros2_ok("topic", "info", "/humans/poses3d", "-v", *GRAPH)
    assert "Type: mppe_ros/msg/PersonPose3DArray" in text, text
    endpoints = [block for block in text.split("\n\n") if "Node name: mppe_node" in block]
    publishers = [block for block in endpoints if "Endpoint type: PUBLISHER" in block]
    assert len(publishers) == 1, text
    assert "Reliability: RELIABLE" in publishers[0], text


def test_no_daemon_is_left(node):
    assert daemons() == []


def test_param_set_breaking_a_cross_field_rule_is_refused_and_the_node_lives_on(node):
    """Each rule of the settings types, broken with `ros2 param set` one value at a time: the value that breaks it
    is refused with the rule and both parameters named; the node keeps its old value and keeps running."""
    from mppe_ros.ros.parameters import parameter_name, parameter_rules

    for group, rule in parameter_rules():
        values = {parameter_name(group, field): value for field, value in rule.violation.items()}
        *first, last = values.items()
        for name, value in first:
            assert "Set parameter successful" in ros2_ok("param", "set", *PARAM, NODE, name, repr(float(value)))
        refused = ros2("param", "set", *PARAM, NODE, last[0], repr(float(last[1])))
        text = refused.stdout + refused.stderr
        assert "Setting parameter failed" in text and all(n in text for n in values), text
        default = PARAMETERS_BY_NAME[last[0]].default
        assert str(default) in ros2_ok("param", "get", *PARAM, NODE, last[0])
        for name, _ in first:  # back to the defaults for the next rule
            ros2_ok("param", "set", *PARAM, NODE, name, repr(float(PARAMETERS_BY_NAME[name].default)))
        assert node.poll() is None, "the node exited"
