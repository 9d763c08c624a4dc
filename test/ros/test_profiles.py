"""Profiles (mppe_ros.profiles): which one auto chooses, that they only change defaults, the log line.

Declared on real rclpy nodes with parameter overrides and the package's own config/mppe.yaml (which leaves the
profile's parameters commented out: written there, they would always win over the profile).
"""

from __future__ import annotations

import pytest
import rclpy
from conftest import REPO_ROOT
from rclpy.node import Node
from rclpy.parameter import Parameter

from mppe_ros.profiles import ACCURATE, PROFILE_PARAMETERS, PROFILES, choose_profile
from mppe_ros.ros.parameters import NODE_NAME, PARAMETERS_BY_NAME, NodeConfig, declare_node_parameters

FAST = PROFILES["fast"]


def no_cuda_question() -> bool:
    raise AssertionError("CUDA asked for although the device decides")


@pytest.mark.parametrize(
    ("requested", "device", "has_cuda", "chosen"),
    [
        ("auto", "auto", lambda: True, "accurate"),
        ("auto", "auto", lambda: False, "fast"),
        ("auto", "cpu", no_cuda_question, "fast"),
        ("auto", "cuda:1", no_cuda_question, "accurate"),
        ("fast", "cuda", no_cuda_question, "fast"),
        ("accurate", "cpu", no_cuda_question, "accurate"),
    ],
)
def test_auto_is_accurate_on_cuda_and_fast_on_a_cpu(requested, device, has_cuda, chosen):
    assert choose_profile(requested, device, has_cuda).name == chosen


def test_unknown_profile_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="auto, accurate, fast"):
        choose_profile("fastest", "cpu")


def test_accurate_is_the_settings_defaults_and_fast_sets_only_known_parameters():
    assert set(ACCURATE) == set(PROFILE_PARAMETERS) and PROFILES["accurate"] == {}
    assert ACCURATE == {name: PARAMETERS_BY_NAME[name].default for name in PROFILE_PARAMETERS}
    for name, value in FAST.items():
        assert PARAMETERS_BY_NAME[name].check(value) is None, name


@pytest.fixture
def context():
    context = rclpy.Context()
    rclpy.init(context=context)
    yield context
    rclpy.shutdown(context=context)


def declared(context, has_cuda, overrides=(), files=()) -> NodeConfig:
    args = [arg for path in files for arg in ("--params-file", str(path))]
    node = Node(NODE_NAME, context=context, parameter_overrides=list(overrides), cli_args=["--ros-args", *args])
    try:
        return declare_node_parameters(node, has_cuda=has_cuda)
    finally:
        node.destroy_node()


def profile_values(config: NodeConfig) -> dict[str, object]:
    return {name: config.value(name) for name in PROFILE_PARAMETERS}


def test_the_profile_gives_defaults_and_an_explicit_value_wins(context):
    package_file = REPO_ROOT / "config" / "mppe.yaml"
    assert profile_values(declared(context, lambda: False, files=[package_file])) == FAST
    assert profile_values(declared(context, lambda: True, files=[package_file])) == ACCURATE
    explicit = [Parameter("detector", value="fasterrcnn_resnet50_fpn")]
    config = declared(context, lambda: False, overrides=explicit)
    assert profile_values(config) == FAST | {"detector": "fasterrcnn_resnet50_fpn"}  # the other two still fast
    config = declared(context, no_cuda_question, overrides=[Parameter("profile", value="accurate"), *explicit])
    assert profile_values(config) == ACCURATE and config.node.profile == "accurate"
    config = declared(context, no_cuda_question, overrides=[Parameter("device", value="cpu")])
    assert profile_values(config) == FAST and config.model.device == "cpu"


def test_a_bad_profile_value_is_a_start_up_error_naming_the_choices(context):
    with pytest.raises(ValueError, match="profile"):
        declared(context, no_cuda_question, overrides=[Parameter("profile", value="quick")])


def test_the_start_up_line_says_the_profile_why_and_what_was_kept(context):
    config = declared(context, lambda: False, overrides=[Parameter("precision", value="fp32")])
    line = choose_profile(config.node.profile, config.model.device, lambda: False).summary(config.value)
    assert line.startswith("profile fast (auto: no CUDA device")
    assert "detector fasterrcnn_mobilenet_v3_large_320_fpn" in line and "detector_min_size_px 320" in line
    assert "set explicitly, kept over the profile: precision fp32" in line and "profile:=accurate" in line
