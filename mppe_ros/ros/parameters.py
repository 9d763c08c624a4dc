"""The parameters of `mppe_node`, generated from the settings types.

Each parameter is a field of one settings type, which owns its default, range, choices, meaning and
whether it changes at run time: ModelSettings and DetectionSettings (mppe_ros.settings, shared with
the library), TrackerSettings and DetectionScheduleSettings (mppe_ros.tracking.settings) and NodeSettings
(mppe_ros.ros.node_settings: inputs, synchronization, markers, logging). NodeConfig holds one
value of each; `PARAMETERS` (one ParameterSpec per field, in that order) is derived from them, and
so are the descriptors (`declare_node_parameters`), config/mppe.yaml and the table in docs/node.md
(`python -m mppe_ros.ros.parameters --yaml | --markdown`; tests check both files). Importing this
module does not import torch.

Types follow the defaults: a float parameter must be written with a decimal point in YAML (`1.0`,
not `1`), or rclpy rejects it as an integer.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import math
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor

from mppe_ros.profiles import PROFILE_PARAMETERS, PROFILES, Value, choose_profile, cuda_available
from mppe_ros.ros.node_settings import NodeSettings
from mppe_ros.settings import (
    DetectionSettings,
    ModelSettings,
    Rule,
    RuleError,
    check_value,
    rules_of,
    setting_fields,
)
from mppe_ros.tracking.settings import DetectionScheduleSettings, SessionSettings, TrackerSettings

NODE_NAME = "mppe_node"
PARAMETER_FILE_KEY = "/**"  # config/mppe.yaml's node key: every node the file is given to, in any namespace


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
                names = error.rule.message(error.settings, functools.partial(parameter_name, group))
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
        group: the NodeConfig field holding it ("model", "detection", "node", "tracking" or "schedule").
        field: the settings field (default, metadata: doc, range, choices, pattern, run_time).
    """

    name: str
    group: str
    field: dataclasses.Field[Any]

    @property
    def default(self) -> Value:
        """Default value; its type is the parameter's type."""
        default = self.field.default
        assert isinstance(default, bool | int | float | str), self.name  # every setting has a default of these
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
        """The constraint in words (descriptor `additional_constraints`, docs/node.md), or ""."""
        if self.choices:
            return "one of: " + ", ".join(self.choices)
        if self.field.metadata["pattern"]:
            return "one of: " + str(self.field.metadata["pattern"][1]).replace("'", "")
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
FIRST_DECLARED = ("profile", "device")  # they choose the profile, which gives other parameters their defaults
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


def declare_node_parameters(node: Any, has_cuda: Callable[[], bool] = cuda_available) -> NodeConfig:
    """Declare every PARAMETERS row on an rclpy node and return the values it starts with.

    `profile` and `device` are declared first; their profile (mppe_ros.profiles.choose_profile, `has_cuda`
    asked for profile auto with device auto) gives the defaults of the other parameters it names, so a value from
    a parameter file or the command line always wins over the profile.

    Finite ranges go into the descriptor (rclpy enforces them, also for values from a parameter
    file); choices and open ranges into `additional_constraints` (checked by the settings types
    here and in the node's set-parameters callback); every parameter that is not `dynamic` is
    read-only after start-up.

    Raises:
        ValueError: a value given at start-up (parameter file, command line) is not acceptable;
            the message names the parameter, what is expected and what was given.
    """
    values = _declare(node, [PARAMETERS_BY_NAME[name] for name in FIRST_DECLARED], {})
    profile = choose_profile(str(values["profile"]), str(values["device"]), has_cuda)
    values |= _declare(node, [spec for spec in PARAMETERS if spec.name not in values], profile.defaults)
    return NodeConfig.from_mapping(values)


def _declare(node: Any, specs: list[ParameterSpec], defaults: dict[str, Value]) -> dict[str, Value]:
    """Declare `specs` (default: `defaults`, else the settings field's); their start values, checked."""
    declarations = [(spec.name, defaults.get(spec.name, spec.default), descriptor(spec)) for spec in specs]
    values = {parameter.name: parameter.value for parameter in node.declare_parameters("", declarations)}
    problems = [problem for name, value in values.items() if (problem := PARAMETERS_BY_NAME[name].check(value))]
    if problems:
        raise ValueError("; ".join(problems))
    return values


def yaml_text() -> str:
    """config/mppe.yaml as generated from the table (comments = descriptions)."""
    lines = [
        "# Defaults of mppe_node, generated by `python -m mppe_ros.ros.parameters --yaml` from",
        "# the settings types (mppe_ros/settings.py, mppe_ros/tracking/settings.py, mppe_ros/ros/node_settings.py).",
        "# Floats need a decimal point. The key /** applies them to mppe_node in any namespace (a key mppe_node would",
        "# only match /mppe_node: a namespaced node, one per camera, would silently keep its defaults).",
        f"{PARAMETER_FILE_KEY}:",
        "  ros__parameters:",
    ]
    for spec in PARAMETERS:
        flag = " [run-time]" if spec.dynamic else ""
        lines += textwrap.wrap(spec.description + flag, 100, initial_indent="    # ", subsequent_indent="    #   ")
        if spec.name in PROFILE_PARAMETERS:  # written here, it would always win over the profile
            fast = _yaml_value(PROFILES["fast"][spec.name])
            lines.append(
                f"    #   set by profile (accurate: {_yaml_value(spec.default)}, fast: {fast}); uncomment to fix it:"
            )
            lines.append(f"    # {spec.name}: {_yaml_value(spec.default)}")
        else:
            lines.append(f"    {spec.name}: {_yaml_value(spec.default)}")
    return "\n".join(lines) + "\n"


def markdown_table() -> str:
    """The parameter table of docs/node.md (name, default, run-time changeable, meaning; the profile's values)."""
    rows = ["| Parameter | Default | Run time | Meaning |", "|---|---|---|---|"]
    for spec in PARAMETERS:
        meaning = spec.description
        if spec.value_range is not None and math.inf not in spec.value_range:
            meaning += f" (range {spec.value_range[0]} to {spec.value_range[1]})"
        elif spec.value_range is not None:
            meaning += f" ({spec.constraint})"
        if spec.name in PROFILE_PARAMETERS:
            meaning += (
                f"; the default is profile accurate's, profile fast sets `{_yaml_value(PROFILES['fast'][spec.name])}`"
            )
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
    """`python -m mppe_ros.ros.parameters --yaml | --markdown`: print the YAML defaults or docs/node.md table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--yaml", action="store_true", help="print config/mppe.yaml")
    group.add_argument("--markdown", action="store_true", help="print the docs/node.md parameter table")
    args = parser.parse_args(argv)
    print(yaml_text() if args.yaml else markdown_table(), end="")


if __name__ == "__main__":
    main()
