"""launch/mppe.launch.py, config/mppe.yaml and config/mppe.rviz agree with what the node declares.

This test runs on every machine, also without `launch` and `launch_ros` (not on PyPI): the launch
file's structure is read with recording stand-ins of the classes it uses, and every argument,
parameter (name and type), remapping and file it refers to is checked. What the file does is tested
with the real tools by test_launch_file.py (`ros2 launch`: arguments arriving, exit codes, lifecycle).
"""

from __future__ import annotations

import importlib.util
import sys
import types

import pytest
import yaml
from conftest import REPO_ROOT

from mppe_ros.ros.node import MARKERS_TOPIC
from mppe_ros.ros.parameters import NODE_NAME, PARAMETER_FILE_KEY, PARAMETERS_BY_NAME

REPO = REPO_ROOT
STANDINS = {
    "launch": ["LaunchDescription"],
    "launch.actions": ["DeclareLaunchArgument", "EmitEvent", "OpaqueFunction", "RegisterEventHandler", "Shutdown"],
    "launch.conditions": ["IfCondition"],
    "launch.event_handlers": ["OnProcessExit", "OnProcessStart"],
    "launch.events": ["matches_action"],
    "launch.substitutions": ["EqualsSubstitution", "LaunchConfiguration", "PathJoinSubstitution", "PythonExpression"],
    "launch_ros.actions": ["LifecycleNode", "Node"],
    "launch_ros.event_handlers": ["OnStateTransition"],
    "launch_ros.events.lifecycle": ["ChangeState"],
    "launch_ros.parameter_descriptions": ["ParameterValue"],
    "launch_ros.substitutions": ["FindPackageShare"],
}


class Recorded:
    """Stand-in for a launch class: remembers its arguments."""

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs

    def __repr__(self):
        return f"{type(self).__name__}{self.args}"


@pytest.fixture(scope="module")
def description():
    patch = pytest.MonkeyPatch()
    for module_name, class_names in STANDINS.items():
        module = types.ModuleType(module_name)
        for class_name in class_names:
            setattr(module, class_name, type(class_name, (Recorded,), {}))
        patch.setitem(sys.modules, module_name, module)
    for parent in ("launch_ros", "launch_ros.events"):
        patch.setitem(sys.modules, parent, types.ModuleType(parent))
    try:
        spec = importlib.util.spec_from_file_location("mppe_launch", REPO / "launch" / "mppe.launch.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module.generate_launch_description()
    finally:
        patch.undo()


def entities(description, kind):
    return [entity for entity in description.args[0] if type(entity).__name__ == kind]


def arguments(description):
    return {arg.args[0]: arg.kwargs for arg in entities(description, "DeclareLaunchArgument")}


def node(description, executable):
    nodes = [*entities(description, "Node"), *entities(description, "LifecycleNode")]
    return next(n for n in nodes if n.kwargs["executable"] == executable)


def test_arguments(description):
    args = arguments(description)
    assert set(args) == {
        "camera",
        "image",
        "camera_info",
        "use_rectified",
        "params_file",
        "device",
        "rviz",
        "fixed_frame",
        "lifecycle",
        "namespace",
        "track_id_base",
        "detections",
    }
    assert all(arg.get("description") for arg in args.values())
    assert "choices" not in args["device"], "the node checks the device (its settings type owns the values)"
    assert args["device"]["default_value"] == PARAMETERS_BY_NAME["device"].default
    assert args["rviz"]["choices"] == args["use_rectified"]["choices"] == ["true", "false"]
    assert args["rviz"]["default_value"] == "false", "headless by default: a ros-base install has no rviz2"
    camera = args["image"]["default_value"][0]
    assert type(camera).__name__ == "LaunchConfiguration" and camera.args == ("camera",)
    assert (
        args["image"]["default_value"][1] == "/image_raw" and args["camera_info"]["default_value"][1] == "/camera_info"
    )


def test_node_parameters_are_declared_with_the_right_types(description):
    mppe = node(description, "mppe_node")
    assert mppe.kwargs["package"] == "mppe_ros" and mppe.kwargs["name"] == NODE_NAME
    params_file, overrides = mppe.kwargs["parameters"]
    assert params_file.args == ("params_file",)
    assert overrides, "the launch file sets a few parameters on top of the file"
    for name, value in overrides.items():
        assert name in PARAMETERS_BY_NAME, f"launch sets undeclared parameter {name}"
        assert type(value).__name__ == "ParameterValue"
        assert value.kwargs["value_type"] is type(PARAMETERS_BY_NAME[name].default), name
        launch_argument = value.args[0].args[0]
        launch_argument = (
            launch_argument.args[0] if type(launch_argument).__name__ == "LaunchConfiguration" else launch_argument
        )
        assert launch_argument in arguments(description), name


def test_remappings_match_the_node_topics_and_files_exist(description):
    mppe = node(description, "mppe_node")
    assert [source for source, _ in mppe.kwargs["remappings"]] == ["image", "camera_info", "detections"]
    default = arguments(description)["params_file"]["default_value"]
    assert default.args[0][1:] == ["config", "mppe.yaml"] and (REPO / "config" / "mppe.yaml").is_file()
    cmake = (REPO / "CMakeLists.txt").read_text()
    assert "install(DIRECTORY launch config" in cmake


def test_the_node_is_required_and_rviz_comes_first(description):
    """The node's exit ends the launch (a non-zero status raises, so the launch returns 1); RViz is
    visited first, so a missing rviz2 fails the launch before the node is started."""
    mppe = node(description, "mppe_node")
    handlers = [entity.args[0] for entity in entities(description, "RegisterEventHandler")]
    on_exit = [h for h in handlers if type(h).__name__ == "OnProcessExit" and h.kwargs["target_action"] is mppe]
    assert len(on_exit) == 1
    handler = on_exit[0].kwargs["on_exit"]
    ok = handler(types.SimpleNamespace(returncode=0, pid=1), types.SimpleNamespace(is_shutdown=False))
    assert [type(action).__name__ for action in ok] == ["Shutdown"]
    assert handler(types.SimpleNamespace(returncode=0, pid=1), types.SimpleNamespace(is_shutdown=True)) is None
    with pytest.raises(RuntimeError, match="mppe_node exited with status 1"):
        handler(types.SimpleNamespace(returncode=1, pid=1), None)
    nodes = [e for e in description.args[0] if type(e).__name__ in ("Node", "LifecycleNode")]
    assert [n.kwargs["executable"] for n in nodes] == ["rviz2", "mppe_node"]
    assert type(mppe).__name__ == "LifecycleNode", "launch_ros must know it as a managed node (lifecycle:=launch)"


def test_rviz_config(description):
    rviz = node(description, "rviz2")
    assert rviz.kwargs["condition"].args[0].args == ("rviz",)
    config_path = rviz.kwargs["arguments"][1].args[0][1:]
    assert config_path == ["config", "mppe.rviz"]
    config = yaml.safe_load((REPO / "config" / "mppe.rviz").read_text())["Visualization Manager"]
    displays = {display["Class"]: display for display in config["Displays"]}
    assert {"rviz_default_plugins/Grid", "rviz_default_plugins/MarkerArray", "rviz_default_plugins/Image"} <= set(
        displays
    )
    assert displays["rviz_default_plugins/MarkerArray"]["Topic"]["Value"] == f"/{MARKERS_TOPIC}"
    image_topic = displays["rviz_default_plugins/Image"]["Topic"]
    assert image_topic["Reliability Policy"] == "Best Effort"
    assert rviz.kwargs["remappings"][0][0] == image_topic["Value"], "the launch file remaps the RViz image topic"
    assert config["Global Options"]["Fixed Frame"] == arguments(description)["fixed_frame"]["default_value"]
    assert rviz.kwargs["arguments"][2:] == ["-f", rviz.kwargs["arguments"][3]]
    assert rviz.kwargs["arguments"][3].args == ("fixed_frame",)


def test_yaml_parameters_have_the_declared_types():
    values = yaml.safe_load((REPO / "config" / "mppe.yaml").read_text())[PARAMETER_FILE_KEY]["ros__parameters"]
    for name, value in values.items():
        assert PARAMETERS_BY_NAME[name].check(value) is None, name
        assert type(value) is type(PARAMETERS_BY_NAME[name].default), f"{name}: write floats with a decimal point"


def test_node_topics_are_relative_and_remappable():
    import rclpy

    from mppe_ros.ros.node import MppeNode

    context = rclpy.Context()
    rclpy.init(context=context)
    try:
        plain = MppeNode(pipeline=lambda *args, **kwargs: None, context=context)
        assert (plain.image_topic, plain.camera_info_topic) == ("/image", "/camera_info")
        plain.destroy_node()
        remap = ["--ros-args", "-r", "image:=/cam/image_rect", "-r", "camera_info:=/cam/camera_info"]
        remapped = MppeNode(pipeline=lambda *args, **kwargs: None, context=context, cli_args=remap, namespace="/robot")
        assert (remapped.image_topic, remapped.camera_info_topic) == ("/cam/image_rect", "/cam/camera_info")
        remapped.destroy_node()
        in_namespace = MppeNode(pipeline=lambda *args, **kwargs: None, context=context, namespace="/camera")
        assert (in_namespace.image_topic, in_namespace.camera_info_topic) == ("/camera/image", "/camera/camera_info")
        in_namespace.destroy_node()
    finally:
        rclpy.shutdown(context=context)
