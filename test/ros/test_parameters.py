"""The parameter table, NodeConfig, config/mppe.yaml and the declaration on a real rclpy node."""

from __future__ import annotations

import dataclasses
import sys

import pytest
import yaml
from conftest import REPO_ROOT

from mppe_ros.profiles import PROFILE_PARAMETERS
from mppe_ros.ros.node_settings import NodeSettings
from mppe_ros.ros.parameters import (
    NODE_NAME,
    PARAMETER_FILE_KEY,
    PARAMETERS,
    PARAMETERS_BY_NAME,
    NodeConfig,
    declare_node_parameters,
    markdown_table,
    parameter_name,
    yaml_text,
)
from mppe_ros.settings import DetectionSettings, ModelSettings
from mppe_ros.tracking.settings import DetectionScheduleSettings, TrackerSettings

REPO = REPO_ROOT


def test_table_imports_neither_torch_nor_the_pipeline():
    # `python -m mppe_ros.ros.parameters` stays cheap: the settings types are torch-free.
    import subprocess

    code = (
        "import sys, mppe_ros.ros.parameters; "
        "assert not {'torch', 'torchvision', 'cv2', 'mppe_ros.pipeline'} & set(sys.modules), sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_table_is_generated_from_the_settings_types():
    groups = {
        "model": ModelSettings,
        "detection": DetectionSettings,
        "node": NodeSettings,
        "tracking": TrackerSettings,
        "schedule": DetectionScheduleSettings,
    }
    assert [field.name for field in dataclasses.fields(NodeConfig)] == list(groups)
    expected = [
        (parameter_name(group, field.name), group)
        for group, kind in groups.items()
        for field in dataclasses.fields(kind)
    ]
    assert [(spec.name, spec.group) for spec in PARAMETERS] == expected
    assert PARAMETERS_BY_NAME["track_min_hits"].field.name == "min_hits"
    assert PARAMETERS_BY_NAME["smoothing_beta"].group == "tracking"
    config = NodeConfig().replace(track_max_age_s=4.0, detection_interval_s=0.25)
    assert config.tracking.max_age_s == 4.0 and config.value("track_max_age_s") == 4.0
    assert config.schedule.detection_interval_s == 0.25
    for spec in PARAMETERS:
        assert NodeConfig().value(spec.name) == spec.default, spec.name
    # The library's own types are the ones the node holds and passes on (no copies by matching names).
    assert type(NodeConfig().model) is ModelSettings and type(NodeConfig().detection) is DetectionSettings


def test_yaml_file_and_docs_table_are_the_generated_text():
    assert (REPO / "config" / "mppe.yaml").read_text() == yaml_text()
    node_doc = (REPO / "docs" / "node.md").read_text()
    assert markdown_table() in node_doc, (
        "docs/node.md parameter table: paste `python -m mppe_ros.ros.parameters --markdown`"
    )
    values = yaml.safe_load(yaml_text())[PARAMETER_FILE_KEY]["ros__parameters"]
    written = [spec for spec in PARAMETERS if spec.name not in PROFILE_PARAMETERS]  # those are commented out
    assert list(values) == [spec.name for spec in written]
    assert all(values[spec.name] == spec.default and type(values[spec.name]) is type(spec.default) for spec in written)
    for name in PROFILE_PARAMETERS:  # uncommented, each is the parameter's default
        line = next(line for line in yaml_text().splitlines() if line.startswith(f"    # {name}: "))
        assert yaml.safe_load(line.replace("# ", "", 1).strip()) == {name: PARAMETERS_BY_NAME[name].default}


def test_command_line_prints_the_generated_files():
    import subprocess

    for flag, text in (("--yaml", yaml_text()), ("--markdown", markdown_table())):
        done = subprocess.run(
            [sys.executable, "-m", "mppe_ros.ros.parameters", flag],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
        )
        assert done.stdout == text


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
    assert {spec.name for spec in PARAMETERS if spec.group == "detection"} <= dynamic


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("score_threshold", 1.5, "[0.0, 1.0]"),
        ("score_threshold", float("nan"), "[0.0, 1.0]"),
        ("device", "tpu", "'auto', 'cpu', 'cuda' or 'cuda:N'"),
        ("joint_set", "coco", "one of ['muco_21', 'h36m_18']"),
        ("max_persons", 2.5, "must be an integer"),
        ("max_persons", True, "[1, 100]"),
        ("max_persons", 101, "[1, 100]"),
        ("detector_min_size_px", 0, ">= 1"),
        ("publish_markers", 1, "must be a bool"),
        ("sync_slop_s", 0.0, "[0.001, 10.0]"),
    ],
)
def test_bad_values_are_refused_with_the_parameter_name(name, value, fragment):
    problem = PARAMETERS_BY_NAME[name].check(value)
    assert problem and name in problem and fragment in problem
    with pytest.raises(ValueError, match=name):
        NodeConfig.from_mapping({name: value})


def test_one_range_everywhere():
    """The node's check, the settings types and the library's constructors refuse the same values."""
    from mppe_ros.pipeline import PipelineConfig

    with pytest.raises(ValueError, match="max_persons"):
        DetectionSettings(max_persons=101)
    assert PARAMETERS_BY_NAME["max_persons"].check(101)
    with pytest.raises(ValueError, match="detector_min_size_px"):
        PipelineConfig(detector_min_size_px=0)
    assert PipelineConfig(device="cpu", detector="none").detector_min_size_px == NodeConfig().model.detector_min_size_px
    assert PipelineConfig(device="cuda:1", detector="none").device == "cuda:1"
    assert PARAMETERS_BY_NAME["device"].check("cuda:1") is None


def test_config_accepts_int_for_float_and_rejects_unknown_names():
    assert NodeConfig.from_mapping({"sync_slop_s": 1}).node.sync_slop_s == 1.0
    assert isinstance(NodeConfig().replace(marker_scale=2).node.marker_scale, float)
    with pytest.raises(ValueError, match="unknown parameters"):
        NodeConfig.from_mapping({"score_treshold": 0.3})
    changed = NodeConfig().replace(score_threshold=0.25, marker_scale=2.0)
    assert changed.detection == DetectionSettings(score_threshold=0.25) and changed.node.marker_scale == 2.0
    assert changed.model == ModelSettings()


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
        assert config.detection.score_threshold == 0.3 and config.model.device == "cpu"
        assert config.detection.max_persons == 20
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
        bad_choice = Node("mppe_bad_device", context=context, parameter_overrides=[Parameter("device", value="gpu")])
        with pytest.raises(ValueError, match="device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got 'gpu'"):
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
        expected = NodeConfig().replace(marker_scale=2.5, sync_mode="exact")  # profile accurate: the defaults
        assert declare_node_parameters(node, has_cuda=lambda: True) == expected
        node.destroy_node()
    finally:
        rclpy.shutdown(context=context)


def test_the_packaged_params_file_reaches_a_node_in_a_namespace(tmp_path):
    """config/mppe.yaml's key applies to mppe_node in /front too (one node per camera); a file keyed mppe_node, as it
    was, is silently ignored there (rcl matches the key to the fully qualified name /mppe_node)."""
    import rclpy
    from rclpy.node import Node

    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml_text().replace("    marker_scale: 1.0\n", "    marker_scale: 2.5\n"))
    by_name = tmp_path / "by_name.yaml"
    by_name.write_text(f"{NODE_NAME}:\n  ros__parameters:\n    marker_scale: 3.5\n")
    context = rclpy.Context()
    rclpy.init(context=context)
    try:
        for path, expected in ((changed, 2.5), (by_name, 1.0)):
            node = Node(
                NODE_NAME, namespace="/front", context=context, cli_args=["--ros-args", "--params-file", str(path)]
            )
            assert declare_node_parameters(node, has_cuda=lambda: True).node.marker_scale == expected, path.name
            node.destroy_node()
    finally:
        rclpy.shutdown(context=context)


def test_choices_follow_their_owners():
    from mppe_ros.detection import DETECTOR_MODELS
    from mppe_ros.joint_sets import JOINT_SETS
    from mppe_ros.precision import PRECISIONS

    assert PARAMETERS_BY_NAME["detector"].choices == (*DETECTOR_MODELS, "none", "topic")
    assert PARAMETERS_BY_NAME["precision"].choices == tuple(PRECISIONS)
    assert PARAMETERS_BY_NAME["joint_set"].choices == tuple(JOINT_SETS)


def test_descriptors_carry_finite_ranges_and_constraints():
    from mppe_ros.ros.parameters import descriptor

    size = descriptor(PARAMETERS_BY_NAME["detector_min_size_px"])
    assert not size.integer_range and size.additional_constraints == ">= 1" and size.read_only
    score = descriptor(PARAMETERS_BY_NAME["score_threshold"])
    assert score.floating_point_range[0].from_value == 0.0 and not score.read_only
    assert "cuda:N" in descriptor(PARAMETERS_BY_NAME["device"]).additional_constraints
