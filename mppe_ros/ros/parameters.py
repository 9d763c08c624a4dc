"""The parameters of `mppe_node`, generated from the settings types.

Each parameter is a field of one settings type, which owns its default, range, choices, meaning and
whether it changes at run time: ModelSettings and DetectionSettings (mppe_ros.settings, shared with
the library) and NodeSettings below (inputs, synchronization, markers, logging). NodeConfig holds one
value of each; `PARAMETERS` (one ParameterSpec per field, in that order) is derived from them, and
so are the descriptors (`declare_node_parameters`), config/mppe.yaml and the README table
(`python -m mppe_ros.ros.parameters --yaml | --markdown`; tests check both files). Importing this
module does not import torch.

Types follow the defaults: a float parameter must be written with a decimal point in YAML (`1.0`,
not `1`), or rclpy rejects it as an integer.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import textwrap
from dataclasses import dataclass
from typing import Any

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor

from mppe_ros.settings import (
    DetectionSettings,
    ModelSettings,
    Rule,
    RuleError,
    check_settings,
    check_value,
    rules_of,
    setting,
    setting_fields,
)
from mppe_ros.tracking.settings import DetectionScheduleSettings, SessionSettings, TrackerSettings

Value = bool | int | float | str
NODE_NAME = "mppe_node"


@dataclass(frozen=True)
class NodeSettings:
    """The node's own settings: camera input, synchronization, QoS, markers and logging."""

    use_rectified: bool = setting(
        False,
        "false: the image is raw (image_raw), intrinsics from CameraInfo.K and joints undistorted with D; "
        "true: the image is rectified (image_rect), intrinsics from CameraInfo.P",
        run_time=True,
    )
    sync_mode: str = setting(
        "approximate",
        "pairing of image and camera_info: approximate (stamps within sync_slop_s) or exact (equal stamps)",
        choices=("approximate", "exact"),
    )
    sync_slop_s: float = setting(
        0.05, "approximate mode pairs messages whose stamps differ by less than this, s", bounds=(0.001, 10.0)
    )
    sync_queue_size: int = setting(5, "messages kept per input while waiting for a partner", bounds=(1, 100))
    camera_info_fallback: bool = setting(
        True,
        "an image whose CameraInfo does not arrive within max(sync_slop_s, 0.1 s) is answered with the latest valid "
        "CameraInfo of the same frame_id and size (counted as CameraInfo reused); false: strict pairs, such images "
        "are dropped (counted as images without camera_info)",
    )
    input_reliability: str = setting(
        "auto",
        "QoS reliability of the image and camera_info subscriptions: auto (reliable when every publisher found on "
        "the input topics is reliable, else best effort; re-checked when publishers appear or change), best_effort "
        "(matches every publisher) or reliable (only reliable ones)",
        choices=("auto", "best_effort", "reliable"),
    )
    input_depth: int = setting(1, "QoS history depth (keep last) of the input subscriptions", bounds=(1, 100))
    image_transport: str = setting(
        "raw",
        "raw: subscribe `image` (sensor_msgs/Image); compressed: subscribe `<image>/compressed` "
        "(sensor_msgs/CompressedImage, JPEG or PNG, decoded with OpenCV)",
        choices=("raw", "compressed"),
    )
    sync_backend: str = setting(
        "auto",
        "synchronizer: auto (message_filters where it imports, else the built-in one), message_filters or builtin "
        "(mppe_ros.ros.sync, same semantics)",
        choices=("auto", "message_filters", "builtin"),
    )
    publish_markers: bool = setting(
        True, "publish RViz markers on /humans/poses3d/markers (built only while someone subscribes)", run_time=True
    )
    marker_lifetime_s: float = setting(
        2.0,
        "marker lifetime in RViz, s (0: until replaced; every array starts with DELETEALL anyway)",
        bounds=(0.0, 3600.0),
        run_time=True,
    )
    marker_scale: float = setting(
        1.0,
        "size factor of the markers (bones 2 cm wide, joints 5 cm, labels 12 cm high at 1.0)",
        bounds=(0.01, 100.0),
        run_time=True,
    )
    marker_trail_s: float = setting(
        2.0,
        "with tracking, each track's marker shows its root's path over the last this many seconds (0: no trail)",
        bounds=(0.0, 60.0),
        run_time=True,
    )
    tracking: bool = setting(
        True,
        "track people over time: PersonPose3D.id is the track id, joints smoothed, root velocity (false: each frame "
        "alone, id = index in the frame)",
    )
    publish_rep155: bool = setting(
        True,
        "with tracking, publish REP-155 bodies (/humans/bodies/...) where hri_msgs and tf2_msgs import (one log "
        "line when they do not)",
    )
    publish_tf: bool = setting(True, "with publish_rep155, a TF frame body_<id> per confirmed track on /tf")
    publish_joint_frames: bool = setting(False, "with publish_tf, also one TF frame per joint under body_<id>")
    body_min_joint_confidence: float = setting(
        0.1,
        "joints below this confidence are not used for the body_<id> frame (hips, spine, shoulders; fallbacks "
        "otherwise)",
        bounds=(0.0, 1.0),
    )
    publish_cropped: bool = setting(
        True, "with publish_rep155, /humans/bodies/<id>/cropped: the detection box cut from the image, while subscribed"
    )
    log_period_s: float = setting(
        5.0, "period of the throttled log lines (skipped frames, bad input), s", bounds=(0.1, 3600.0), run_time=True
    )
    no_input_warning_s: float = setting(
        10.0,
        "warn once when no synchronized pair arrived after this long, s (0: never)",
        bounds=(0.0, 3600.0),
        run_time=True,
    )
    autostart: bool = setting(
        True,
        "true: configure and activate the lifecycle node at start-up (ros2 run, the launch file, the demo); "
        "false: wait in the unconfigured state for lifecycle transitions (ros2 lifecycle, launch_ros)",
    )
    diagnostics_period_s: float = setting(
        1.0, "period of the /diagnostics status, s (0: not published)", bounds=(0.0, 3600.0)
    )
    diagnostics_min_output_hz: float = setting(
        0.5,
        "/diagnostics WARN when pairs arrive but results are published at less than this rate, Hz",
        bounds=(0.0, 1000.0),
        run_time=True,
    )
    diagnostics_warn_latency_s: float = setting(
        1.0,
        "/diagnostics WARN when the median latency (capture stamp to publication) exceeds this, s",
        bounds=(0.0, 3600.0),
        run_time=True,
    )
    diagnostics_error_latency_s: float = setting(
        5.0,
        "/diagnostics ERROR when the median latency exceeds this, s",
        bounds=(0.0, 3600.0),
        run_time=True,
    )
    diagnostics_no_input_s: float = setting(
        5.0,
        "/diagnostics WARN when no synchronized pair arrived for this long while active, s",
        bounds=(0.1, 3600.0),
        run_time=True,
    )

    def __post_init__(self) -> None:
        check_settings(self)


@dataclass(frozen=True)
class NodeConfig:
    """The node's parameter values: one settings value per group (a frame reads one NodeConfig)."""

    model: ModelSettings = ModelSettings()
    detection: DetectionSettings = DetectionSettings()
    node: NodeSettings = NodeSettings()
    tracking: TrackerSettings = TrackerSettings()
    schedule: DetectionScheduleSettings = DetectionScheduleSettings()

    @property
    def session(self) -> SessionSettings:
        """The camera session's settings of this configuration (a frame's)."""
        return SessionSettings(
            self.detection, self.schedule, self.tracking, self.node.tracking, self.node.marker_trail_s
        )

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> NodeConfig:
        """Build from {parameter name: value}; missing names take their default, unknown names are an error."""
        return cls().replace(**values)

    def replace(self, **changes: Any) -> NodeConfig:
        """A copy with the parameters `changes` (by parameter name) applied, validated by their settings types
        (every value, then every cross-field rule: the whole new configuration, or ValueError and nothing).

        Raises:
            ValueError: an unknown name, a refused value, or a broken rule (named by its parameters and values).
        """
        unknown = sorted(set(changes) - set(PARAMETERS_BY_NAME))
        if unknown:
            raise ValueError(f"unknown parameters {unknown}; known: {sorted(PARAMETERS_BY_NAME)}")
        groups: dict[str, dict[str, Any]] = {}
        for name, value in changes.items():
            spec = PARAMETERS_BY_NAME[name]
            groups.setdefault(spec.group, {})[spec.field.name] = value
        replaced = {}
        for group, values in groups.items():
            try:
                replaced[group] = dataclasses.replace(getattr(self, group), **values)
            except RuleError as error:
                names = error.rule.message(error.settings, lambda field_name, g=group: parameter_name(g, field_name))
                raise ValueError(f"refused as a whole: {names}") from None
        return dataclasses.replace(self, **replaced)

    def value(self, name: str) -> Value:
        """The value of parameter `name`."""
        spec = PARAMETERS_BY_NAME[name]
        value: Value = getattr(getattr(self, spec.group), spec.field.name)
        return value


@dataclass(frozen=True)
class ParameterSpec:
    """One parameter, derived from a settings field (see PARAMETERS).

    Attributes:
        name: parameter name (the YAML key): the settings field's name (see parameter_name).
        group: the NodeConfig field holding it ("model", "detection" or "node").
        field: the settings field (default, metadata: doc, range, choices, pattern, run_time).
    """

    name: str
    group: str
    field: dataclasses.Field[Any]

    @property
    def default(self) -> Value:
        """Default value; its type is the parameter's type."""
        default: Value = self.field.default
        return default

    @property
    def description(self) -> str:
        """One sentence, with the unit where there is one."""
        return str(self.field.metadata["doc"])

    @property
    def choices(self) -> tuple[str, ...]:
        """Allowed values of a string parameter (empty: any string, or see `constraint`)."""
        return tuple(self.field.metadata["choices"])

    @property
    def value_range(self) -> tuple[float, float] | None:
        """Inclusive (min, max) of a numeric parameter (max may be inf), or None."""
        bounds: tuple[float, float] | None = self.field.metadata["range"]
        return bounds

    @property
    def dynamic(self) -> bool:
        """True when the node applies a change at run time; otherwise read-only."""
        return bool(self.field.metadata["run_time"])

    @property
    def constraint(self) -> str:
        """The constraint in words (descriptor `additional_constraints`, README), or ""."""
        if self.choices:
            return "one of: " + ", ".join(self.choices)
        if self.field.metadata["pattern"]:
            return "one of: " + self.field.metadata["pattern"][1].replace("'", "")
        if self.value_range is not None and math.inf in self.value_range:
            return f">= {self.value_range[0]}"
        return ""

    def check(self, value: Any) -> str | None:
        """Why `value` is not acceptable for this parameter, or None when it is."""
        return check_value(self.field, value)[1]


def parameter_name(group: str, field_name: str) -> str:
    """The parameter name of a settings field: the field name, with `track_` before the tracker's own settings
    (`track_min_hits`, `track_max_age_s`; its smoothing_* fields keep their names)."""
    if group == "tracking" and not field_name.startswith("smoothing"):
        return f"track_{field_name}"
    return field_name


def _parameters() -> tuple[ParameterSpec, ...]:
    specs = tuple(
        ParameterSpec(parameter_name(group.name, field.name), group.name, field)
        for group in dataclasses.fields(NodeConfig)
        for field in setting_fields(group.type if isinstance(group.type, type) else type(group.default))
    )
    names = [spec.name for spec in specs]
    if len(set(names)) != len(names):
        raise RuntimeError(f"two settings types define the same parameter name: {names}")
    return specs


def parameter_rules() -> list[tuple[str, Rule]]:
    """Every cross-field rule of the node's settings types: (NodeConfig group, rule)."""
    return [
        (group.name, rule)
        for group in dataclasses.fields(NodeConfig)
        for rule in rules_of(type(getattr(NodeConfig(), group.name)))
    ]


PARAMETERS: tuple[ParameterSpec, ...] = _parameters()
PARAMETERS_BY_NAME: dict[str, ParameterSpec] = {spec.name: spec for spec in PARAMETERS}


def descriptor(spec: ParameterSpec) -> ParameterDescriptor:
    """The rcl descriptor of a parameter: description, range, constraint, read-only unless dynamic."""
    result = ParameterDescriptor(
        name=spec.name, description=spec.description, read_only=not spec.dynamic, additional_constraints=spec.constraint
    )
    if spec.value_range is not None and math.inf not in spec.value_range:
        low, high = spec.value_range
        if isinstance(spec.default, float):
            result.floating_point_range = [FloatingPointRange(from_value=float(low), to_value=float(high))]
        else:
            result.integer_range = [IntegerRange(from_value=int(low), to_value=int(high), step=1)]
    return result


def declare_node_parameters(node: Any) -> NodeConfig:
    """Declare every PARAMETERS row on an rclpy node and return the values it starts with.

    Finite ranges go into the descriptor (rclpy enforces them, also for values from a parameter
    file); choices and open ranges into `additional_constraints` (checked by the settings types
    here and in the node's set-parameters callback); every parameter that is not `dynamic` is
    read-only after start-up.

    Raises:
        ValueError: a value given at start-up (parameter file, command line) is not acceptable;
            the message names the parameter, what is expected and what was given.
    """
    declarations = [(spec.name, spec.default, descriptor(spec)) for spec in PARAMETERS]
    parameters = node.declare_parameters("", declarations)
    values = {parameter.name: parameter.value for parameter in parameters}
    problems = [problem for name, value in values.items() if (problem := PARAMETERS_BY_NAME[name].check(value))]
    if problems:
        raise ValueError("; ".join(problems))
    return NodeConfig.from_mapping(values)


def yaml_text() -> str:
    """config/mppe.yaml as generated from the table (comments = descriptions)."""
    lines = [
        "# Defaults of mppe_node, generated by `python -m mppe_ros.ros.parameters --yaml` from",
        "# the settings types (mppe_ros/settings.py, mppe_ros/ros/parameters.py). Floats need a decimal point.",
        f"{NODE_NAME}:",
        "  ros__parameters:",
    ]
    for spec in PARAMETERS:
        flag = " [run-time]" if spec.dynamic else ""
        lines += textwrap.wrap(spec.description + flag, 100, initial_indent="    # ", subsequent_indent="    #   ")
        lines.append(f"    {spec.name}: {_yaml_value(spec.default)}")
    return "\n".join(lines) + "\n"


def markdown_table() -> str:
    """The README's parameter table (name, default, run-time changeable, meaning)."""
    rows = ["| Parameter | Default | Run time | Meaning |", "|---|---|---|---|"]
    for spec in PARAMETERS:
        meaning = spec.description
        if spec.value_range is not None and math.inf not in spec.value_range:
            meaning += f" (range {spec.value_range[0]} to {spec.value_range[1]})"
        elif spec.value_range is not None:
            meaning += f" ({spec.constraint})"
        rows.append(
            f"| `{spec.name}` | `{_yaml_value(spec.default)}` | {'yes' if spec.dynamic else 'no'} | {meaning} |"
        )
    return "\n".join(rows) + "\n"


def _yaml_value(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def main(argv: list[str] | None = None) -> None:
    """`python -m mppe_ros.ros.parameters --yaml | --markdown`: print the YAML defaults or README table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--yaml", action="store_true", help="print config/mppe.yaml")
    group.add_argument("--markdown", action="store_true", help="print the README parameter table")
    args = parser.parse_args(argv)
    print(yaml_text() if args.yaml else markdown_table(), end="")


if __name__ == "__main__":
    main()
