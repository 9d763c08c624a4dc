"""The parameters of `mppe_node`, declared in one table.

`PARAMETERS` is the single source: `declare_node_parameters` declares every row on a node with a
`ParameterDescriptor` (description, range, read-only unless changeable at run time), `NodeConfig`
has one field per row, and `config/mppe.yaml` lists the same keys with the same defaults (a test
checks all three). This module imports no ROS package at module level, so it can be tested (and
`python -m mppe_ros.ros.parameters --yaml | --markdown` can print the YAML file and the README table)
without rclpy.

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

Value = bool | int | float | str
NODE_NAME = "mppe_node"


@dataclass(frozen=True)
class ParameterSpec:
    """One parameter: name, default (its type is the parameter's type), meaning and constraints.

    Attributes:
        name: parameter name (also the NodeConfig field and the YAML key).
        default: default value; bool, int, float or str.
        description: one sentence, with the unit where there is one.
        choices: allowed values of a string parameter (empty: any string).
        value_range: inclusive (min, max) of a numeric parameter, or None.
        dynamic: True when the node applies a change at run time (set_parameters); else read-only.
    """

    name: str
    default: Value
    description: str
    choices: tuple[str, ...] = ()
    value_range: tuple[float, float] | None = None
    dynamic: bool = False

    def check(self, value: Any) -> str | None:
        """Return why `value` is not acceptable for this parameter, or None when it is."""
        kind = type(self.default)
        if kind is float and type(value) is int:
            value = float(value)
        if type(value) is not kind:
            return f"{self.name} must be a {kind.__name__}, got {value!r} ({type(value).__name__})"
        if self.choices and value not in self.choices:
            return f"{self.name} must be one of {list(self.choices)}, got {value!r}"
        if self.value_range is not None:
            low, high = self.value_range
            if not (isinstance(value, (int, float)) and math.isfinite(value) and low <= value <= high):
                return f"{self.name} must be in [{low}, {high}], got {value!r}"
        return None


# fmt: off
P = ParameterSpec
PARAMETERS: tuple[ParameterSpec, ...] = (
    # --- models and device (read at start-up) ---
    P("posenet_path", "", "PoseNet checkpoint (snapshot_24.pth.tar); empty: the weights cache "
      "($MPPE_ROS_HOME or ~/.cache/mppe_ros, see `mppe-ros weights`)"),
    P("rootnet_path", "", "RootNet checkpoint (snapshot_18.pth.tar); empty: the weights cache"),
    P("joint_set", "muco_21", "skeleton the PoseNet file was trained with: muco_21 (MuCo-3DHP, "
      "the released demo model) or h36m_18 (Human3.6M)", choices=("muco_21", "h36m_18")),
    P("detector", "fasterrcnn_resnet50_fpn", "person detector (torchvision COCO model); none: no "
      "detector, every frame has no persons unless boxes are injected (tests, demo)",
      choices=("fasterrcnn_resnet50_fpn", "maskrcnn_resnet50_fpn", "none")),
    P("detector_weights_path", "", "detector state_dict file; empty: torchvision's cache"),
    P("detector_min_size_px", 800, "shorter image side the detector resizes to, px (torchvision "
      "default 800; smaller is faster, finds fewer small persons)", value_range=(64, 2048)),
    P("device", "auto", "inference device: auto (cuda when available, else cpu), cpu or cuda",
      choices=("auto", "cpu", "cuda")),
    P("precision", "fp32", "network precision: fp32 (exact to the official models), bf16, fp16 "
      "(CUDA only) or auto (fp16 on CUDA; bf16 on a CPU with native bfloat16, else fp32)",
      choices=("fp32", "bf16", "fp16", "auto")),
    # --- detection settings (changeable at run time) ---
    P("score_threshold", 0.5, "minimum detection score of a person box, [0, 1]",
      value_range=(0.0, 1.0), dynamic=True),
    P("nms_iou_threshold", 0.5, "IoU above which overlapping person boxes are merged (NMS), [0, 1]",
      value_range=(0.0, 1.0), dynamic=True),
    P("max_persons", 20, "at most this many persons per frame (highest scores first)",
      value_range=(1, 100), dynamic=True),
    P("min_box_size_px", 16.0, "person boxes with a side shorter than this are ignored, px",
      value_range=(0.0, 4096.0), dynamic=True),
    # --- camera input ---
    P("use_rectified", False, "false: the image is raw (image_raw), intrinsics from CameraInfo.K and "
      "joints undistorted with D; true: the image is rectified (image_rect), intrinsics from "
      "CameraInfo.P", dynamic=True),
    P("sync_mode", "approximate", "pairing of image and camera_info: approximate (stamps within "
      "sync_slop_s) or exact (equal stamps)", choices=("approximate", "exact")),
    P("sync_slop_s", 0.05, "approximate mode pairs messages whose stamps differ by less than "
      "this, s",
      value_range=(0.001, 10.0)),
    P("sync_queue_size", 5, "messages kept per input while waiting for a partner",
      value_range=(1, 100)),
    P("input_reliability", "best_effort", "QoS reliability of the image and camera_info "
      "subscriptions: best_effort (matches every publisher) or reliable (only reliable ones)",
      choices=("best_effort", "reliable")),
    P("input_depth", 1, "QoS history depth (keep last) of the input subscriptions",
      value_range=(1, 100)),
    # --- output and logging ---
    P("publish_markers", True, "publish RViz markers on /humans/poses3d/markers (built only while "
      "someone subscribes)", dynamic=True),
    P("marker_lifetime_s", 2.0, "marker lifetime in RViz, s (0: until replaced; every array starts "
      "with DELETEALL anyway)", value_range=(0.0, 3600.0), dynamic=True),
    P("marker_scale", 1.0, "size factor of the markers (bones 2 cm wide, joints 5 cm, labels 12 cm "
      "high at 1.0)", value_range=(0.01, 100.0), dynamic=True),
    P("log_period_s", 5.0, "period of the throttled log lines (skipped frames, bad input), s",
      value_range=(0.1, 3600.0), dynamic=True),
    P("no_input_warning_s", 10.0, "warn once when no synchronized pair arrived after this long, s "
      "(0: never)", value_range=(0.0, 3600.0), dynamic=True),
)
del P
# fmt: on

PARAMETERS_BY_NAME: dict[str, ParameterSpec] = {spec.name: spec for spec in PARAMETERS}


@dataclass(frozen=True)
class NodeConfig:
    """The node's parameter values, one field per PARAMETERS row (same names and defaults)."""

    posenet_path: str = ""
    rootnet_path: str = ""
    joint_set: str = "muco_21"
    detector: str = "fasterrcnn_resnet50_fpn"
    detector_weights_path: str = ""
    detector_min_size_px: int = 800
    device: str = "auto"
    precision: str = "fp32"
    score_threshold: float = 0.5
    nms_iou_threshold: float = 0.5
    max_persons: int = 20
    min_box_size_px: float = 16.0
    use_rectified: bool = False
    sync_mode: str = "approximate"
    sync_slop_s: float = 0.05
    sync_queue_size: int = 5
    input_reliability: str = "best_effort"
    input_depth: int = 1
    publish_markers: bool = True
    marker_lifetime_s: float = 2.0
    marker_scale: float = 1.0
    log_period_s: float = 5.0
    no_input_warning_s: float = 10.0

    def __post_init__(self) -> None:
        for spec in PARAMETERS:
            value = getattr(self, spec.name)
            problem = spec.check(value)
            if problem:
                raise ValueError(f"parameter {problem}")
            if isinstance(spec.default, float):
                object.__setattr__(self, spec.name, float(value))

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> NodeConfig:
        """Build from {name: value}; missing names take their default, unknown names are an error."""
        unknown = sorted(set(values) - set(PARAMETERS_BY_NAME))
        if unknown:
            raise ValueError(f"unknown parameters {unknown}; known: {sorted(PARAMETERS_BY_NAME)}")
        return cls(**values)

    def replace(self, **changes: Any) -> NodeConfig:
        """A copy with `changes` applied (validated)."""
        return dataclasses.replace(self, **changes)

    def detection_settings(self) -> Any:
        """The detection rows as a mppe_ros.detection.DetectionSettings."""
        from mppe_ros.detection import DetectionSettings

        return DetectionSettings(
            score_threshold=self.score_threshold,
            nms_iou_threshold=self.nms_iou_threshold,
            max_persons=self.max_persons,
            min_box_size_px=self.min_box_size_px,
        )


def declare_node_parameters(node: Any) -> NodeConfig:
    """Declare every PARAMETERS row on an rclpy node and return the values it starts with.

    Ranges go into the descriptor (rclpy enforces them, also for values from a parameter file),
    choices into `additional_constraints` (checked here and in the node's set-parameters callback),
    and every parameter that is not `dynamic` is read-only after start-up.

    Raises:
        ValueError: a value given at start-up (parameter file, command line) is not acceptable;
            the message names the parameter, what is expected and what was given.
    """
    from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor

    declarations = []
    for spec in PARAMETERS:
        descriptor = ParameterDescriptor(name=spec.name, description=spec.description, read_only=not spec.dynamic)
        if spec.choices:
            descriptor.additional_constraints = "one of: " + ", ".join(spec.choices)
        if spec.value_range is not None and isinstance(spec.default, float):
            low, high = spec.value_range
            descriptor.floating_point_range = [FloatingPointRange(from_value=float(low), to_value=float(high))]
        elif spec.value_range is not None:
            low, high = spec.value_range
            descriptor.integer_range = [IntegerRange(from_value=int(low), to_value=int(high), step=1)]
        declarations.append((spec.name, spec.default, descriptor))
    parameters = node.declare_parameters("", declarations)
    return NodeConfig.from_mapping({parameter.name: parameter.value for parameter in parameters})


def yaml_text() -> str:
    """config/mppe.yaml as generated from the table (comments = descriptions)."""
    lines = [
        "# Defaults of mppe_node, generated by `python -m mppe_ros.ros.parameters --yaml` from",
        "# mppe_ros/parameters.py (the one table of parameters). Floats need a decimal point.",
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
        if spec.value_range is not None:
            meaning += f" (range {spec.value_range[0]} to {spec.value_range[1]})"
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
