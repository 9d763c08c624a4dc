"""The parameter table, NodeConfig, config/mppe.yaml and the declaration on a real rclpy node."""

from __future__ import annotations

import dataclasses
import sys

import pytest
import yaml
from conftest import REPO_ROOT

from mppe_ros.ros.parameters import (
    NODE_NAME,
    PARAMETERS,
    PARAMETERS_BY_NAME,
    NodeConfig,
    declare_node_parameters,
    markdown_table,
    yaml_text,
)

REPO = REPO_ROOT


def test_table_is_pure_python():
    # parameters.py must not import ROS at module level (it is imported without rclpy).
    import subprocess

    code = (
        "import sys; sys.modules['rclpy'] = None; sys.modules['rcl_interfaces'] = None; import mppe_ros.ros.parameters"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_yaml_keys_equal_table_keys_equal_dataclass_fields():
    values = yaml.safe_load((REPO / "config" / "mppe.yaml").read_text())[NODE_NAME]["ros__parameters"]
    table = [spec.name for spec in PARAMETERS]
    fields = [field.name for field in dataclasses.fields(NodeConfig)]
    assert list(values) == table == fields
    for spec in PARAMETERS:
        assert values[spec.name] == spec.default and type(values[spec.name]) is type(spec.default), spec.name
        assert getattr(NodeConfig(), spec.name) == spec.default, spec.name


def test_yaml_file_is_the_generated_text():
    assert (REPO / "config" / "mppe.yaml").read_text() == yaml_text()


def test_every_row_is_documented_and_consistent():
    for spec in PARAMETERS:
        assert spec.description and type(spec.default) in (bool, int, float, str), spec.name
        assert spec.check(spec.default) is None, spec.name
        if spec.choices:
            assert isinstance(spec.default, str) and spec.default in spec.choices
        if spec.value_range is not None:
            assert isinstance(spec.default, (int, float)) and not isinstance(spec.default, bool)
    dynamic = {spec.name for spec in PARAMETERS if spec.dynamic}
    assert {"score_threshold", "nms_iou_threshold", "publish_markers", "marker_lifetime_s"} <= dynamic
    assert not {"device", "posenet_path", "sync_mode", "input_reliability"} & dynamic
    table = markdown_table()
    assert all(f"`{spec.name}`" in table for spec in PARAMETERS)


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("score_threshold", 1.5, "[0.0, 1.0]"),
        ("score_threshold", float("nan"), "[0.0, 1.0]"),
        ("device", "tpu", "one of"),
        ("max_persons", 2.5, "must be a int"),
        ("max_persons", True, "must be a int"),
        ("publish_markers", 1, "must be a bool"),
        ("sync_slop_s", 0.0, "[0.001, 10.0]"),
    ],
)
def test_bad_values_are_refused_with_the_parameter_name(name, value, fragment):
    problem = PARAMETERS_BY_NAME[name].check(value)
    assert problem and name in problem and fragment in problem
    with pytest.raises(ValueError, match=name):
        NodeConfig.from_mapping({name: value})


def test_config_accepts_int_for_float_and_rejects_unknown_names():
    assert NodeConfig.from_mapping({"sync_slop_s": 1}).sync_slop_s == 1.0
    assert isinstance(NodeConfig(marker_scale=2).marker_scale, float)
    with pytest.raises(ValueError, match="unknown parameters"):
        NodeConfig.from_mapping({"score_treshold": 0.3})
    assert NodeConfig().replace(score_threshold=0.25).score_threshold == 0.25


def test_declared_on_a_node_with_descriptors_and_overrides():
    import rclpy
    from rclpy.node import Node
    from rclpy.parameter import Parameter

    context = rclpy.Context()
    rclpy.init(context=context)
    try:
        node = Node(
            NODE_NAME,
            context=context,
            parameter_overrides=[Parameter("score_threshold", value=0.3), Parameter("device", value="cpu")],
        )
        config = declare_node_parameters(node)
        assert config.score_threshold == 0.3 and config.device == "cpu" and config.max_persons == 20
        descriptor = node.describe_parameter("score_threshold")
        assert descriptor.floating_point_range[0].to_value == 1.0 and not descriptor.read_only
        assert node.describe_parameter("max_persons").integer_range[0].to_value == 100
        assert node.describe_parameter("device").read_only
        assert "cuda" in node.describe_parameter("device").additional_constraints
        # rclpy enforces ranges and read-only flags after declaration.
        assert not node.set_parameters([Parameter("score_threshold", value=2.0)])[0].successful
        assert not node.set_parameters([Parameter("device", value="cuda")])[0].successful
        node.destroy_node()
    finally:
        rclpy.shutdown(context=context)


def test_out_of_range_start_value_is_an_error():
    import rclpy
    from rclpy.exceptions import InvalidParameterValueException
    from rclpy.node import Node
    from rclpy.parameter import Parameter

    context = rclpy.Context()
    rclpy.init(context=context)
    try:
        node = Node(NODE_NAME, context=context, parameter_overrides=[Parameter("max_persons", value=0)])
        with pytest.raises(InvalidParameterValueException):
            declare_node_parameters(node)
        bad_choice = Node("mppe_node_2", context=context, parameter_overrides=[Parameter("device", value="gpu")])
        with pytest.raises(ValueError, match="device must be one of"):
            declare_node_parameters(bad_choice)
    finally:
        rclpy.shutdown(context=context)


def test_params_file_loads_through_rcl_with_the_declared_types(tmp_path):
    import rclpy
    from rclpy.node import Node

    changed = tmp_path / "changed.yaml"
    changed.write_text(f"{NODE_NAME}:\n  ros__parameters:\n    marker_scale: 2.5\n    sync_mode: exact\n")
    context = rclpy.Context()
    rclpy.init(context=context)
    try:
        args = ["--ros-args", "--params-file", str(REPO / "config" / "mppe.yaml"), "--params-file", str(changed)]
        node = Node(NODE_NAME, context=context, cli_args=args)
        assert declare_node_parameters(node) == NodeConfig(marker_scale=2.5, sync_mode="exact")
        node.destroy_node()
    finally:
        rclpy.shutdown(context=context)


def test_choices_follow_the_pipeline():
    from mppe_ros.pipeline import DETECTORS, PRECISIONS, PipelineConfig

    assert PARAMETERS_BY_NAME["detector"].choices == tuple(DETECTORS)
    assert PARAMETERS_BY_NAME["precision"].choices == tuple(PRECISIONS)
    shared = set(PipelineConfig.__dataclass_fields__) & set(PARAMETERS_BY_NAME)
    assert {"device", "detector", "detector_min_size_px", "precision", "joint_set"} <= shared


def test_detection_rows_are_the_detection_settings():
    from mppe_ros.detection import DetectionSettings

    assert NodeConfig().detection_settings() == DetectionSettings()
    changed = NodeConfig(score_threshold=0.2, nms_iou_threshold=0.3, max_persons=4, min_box_size_px=2.0)
    assert changed.detection_settings() == DetectionSettings(0.2, 0.3, 4, 2.0)
