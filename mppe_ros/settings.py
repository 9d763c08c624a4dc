"""The settings types: each setting's default, valid values and meaning, written once.

A setting is a field of a frozen dataclass made by `setting()`; its metadata holds what the
tracker's settings (mppe_ros.tracking.settings) hold, under the same keys: "range" (inclusive
(low, high) of a number; high may be inf), "doc" (one sentence, with the unit), and, where they
apply, "choices" (allowed strings), "pattern" (regex and its wording for a free-form string),
"optional" (None is accepted and means "not set") and "run_time" (the node applies a change while
running). `check_settings` validates an instance from that metadata in its __post_init__;
`check_value` validates one value. Rules across the fields of one type are data too: a settings type lists them
in its class attribute `RULES` (Rule: the fields, the predicate, the wording, a violating example), which
`check_settings` checks after the values, so the node can refuse a parameter change that breaks one before applying
it, and tests enumerate them (`rules_of`). The node's parameter table,
its descriptors, config/mppe.yaml and the table in docs/node.md are generated from these fields
(mppe_ros.ros.parameters). This module imports neither torch nor ROS.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mppe_ros.joint_sets import JOINT_SETS

# Detector model names (mppe_ros.detection.DETECTOR_MODELS, same order, a test checks; their input sizes
# and accuracy: that module's docstring).
DETECTOR_MODEL_NAMES = (
    "fasterrcnn_resnet50_fpn",
    "fasterrcnn_resnet50_fpn_v2",
    "fasterrcnn_mobilenet_v3_large_fpn",
    "fasterrcnn_mobilenet_v3_large_320_fpn",
    "maskrcnn_resnet50_fpn",
)
# The `detector` setting's choices: a model, none (no detector: boxes are given per frame, or nobody is seen) or
# topic (the node's `detections` topic gives each frame's boxes; for the library it is none: no model is loaded).
DETECTORS = (*DETECTOR_MODEL_NAMES, "none", "topic")
# Network precisions (mppe_ros.precision.PRECISIONS, a test checks; that module imports torch).
PRECISION_CHOICES = ("fp32", "bf16", "fp16", "auto")


def setting(
    default: Any,
    doc: str,
    *,
    bounds: tuple[float, float] | None = None,
    choices: tuple[str, ...] = (),
    pattern: tuple[str, str] | None = None,
    optional: bool = False,
    run_time: bool = False,
) -> Any:
    """A dataclass field with its default and metadata (see the module docstring)."""
    metadata = {"doc": doc, "range": bounds, "choices": choices, "pattern": pattern}
    return dataclasses.field(default=default, metadata={**metadata, "optional": optional, "run_time": run_time})


def check_value(field: dataclasses.Field[Any], value: Any, label: str | None = None) -> tuple[Any, str | None]:
    """`value` as the setting `field` stores it (int -> float for a float setting), and why it is refused.

    Returns:
        (value, None) when acceptable, else (value, a message naming `label` (default: the field name)).
    """
    label = label or field.name
    meta, kind = field.metadata, type(field.default)
    if value is None and meta["optional"]:
        return value, None
    low, high = meta["range"] or (-math.inf, math.inf)
    bounds = f">= {low}" if high == math.inf else f"in [{low}, {high}]"
    if kind is float and type(value) is int:
        value = float(value)
    if kind in (int, float):
        if type(value) not in (int, float):
            return value, f"{label} must be a number {bounds}, got {value!r}"
        if kind is int and type(value) is not int:
            return value, f"{label} must be an integer, got {value!r}"
        if not (math.isfinite(value) and low <= value <= high):
            return value, f"{label} must be a number {bounds}, got {value!r}"
        return value, None
    if type(value) is not kind:
        return value, f"{label} must be a {kind.__name__}, got {value!r} ({type(value).__name__})"
    if meta["choices"] and value not in meta["choices"]:
        return value, f"{label} must be one of {list(meta['choices'])}, got {value!r}"
    if meta["pattern"] and not re.fullmatch(meta["pattern"][0], str(value)):
        return value, f"{label} must be {meta['pattern'][1]}, got {value!r}"
    return value, None


@dataclass(frozen=True)
class Rule:
    """A rule across fields of one settings type.

    Attributes:
        fields: the fields it relates, in the order of `wording`'s placeholders.
        holds: the predicate, of a settings value.
        wording: the rule with one `{}` per field, e.g. "{} must not exceed {}".
        violation: field values that break it (the others at their defaults), for tests and examples.
    """

    fields: tuple[str, ...]
    holds: Callable[[Any], bool]
    wording: str
    violation: dict[str, Any]

    def message(self, settings: Any, name: Callable[[str], str]) -> str:
        """The broken rule with each field as `name(field) (value)`."""
        return self.wording.format(*(f"{name(f)} ({getattr(settings, f)!r})" for f in self.fields))


class RuleError(ValueError):
    """A settings value breaks one of its type's RULES (`rule`, the `settings` value that breaks it)."""

    def __init__(self, rule: Rule, settings: Any) -> None:
        super().__init__(rule.message(settings, lambda f: f"{type(settings).__name__}.{f}"))
        self.rule, self.settings = rule, settings


def rules_of(kind: type) -> tuple[Rule, ...]:
    """The cross-field rules of a settings type (its RULES; none by default)."""
    rules: tuple[Rule, ...] = getattr(kind, "RULES", ())
    return rules


def check_settings(settings: Any) -> None:
    """Validate every `setting()` field of a frozen dataclass instance, then its RULES (call it in __post_init__).

    Raises:
        ValueError: "<Type>.<field> must be ..., got ..." for the first refused value; RuleError for the first
            broken rule.
    """
    for field in dataclasses.fields(settings):
        if "doc" not in field.metadata:
            continue
        value, problem = check_value(field, getattr(settings, field.name), f"{type(settings).__name__}.{field.name}")
        if problem:
            raise ValueError(problem)
        object.__setattr__(settings, field.name, value)
    for rule in rules_of(type(settings)):
        if not rule.holds(settings):
            raise RuleError(rule, settings)


def default_of(kind: type, name: str) -> Any:
    """The default of setting `name` of the settings type `kind` (for signatures that mirror it)."""
    return next(field.default for field in dataclasses.fields(kind) if field.name == name)


def setting_fields(kind: type) -> tuple[dataclasses.Field[Any], ...]:
    """The `setting()` fields of a settings type, in declaration order."""
    return tuple(field for field in dataclasses.fields(kind) if "doc" in field.metadata)


@dataclass(frozen=True)
class DetectionSettings:
    """How detections are filtered into person boxes (one immutable value: a frame sees one set).

    Raises:
        ValueError: a value outside its range (see each field's metadata).
    """

    score_threshold: float = setting(0.5, "minimum detection score of a person box", bounds=(0.0, 1.0), run_time=True)
    nms_iou_threshold: float = setting(
        0.5, "IoU above which the lower-scored of two person boxes is dropped (NMS)", bounds=(0.0, 1.0), run_time=True
    )
    max_persons: int = setting(
        20, "at most this many persons per frame (highest scores first)", bounds=(1, 100), run_time=True
    )
    min_box_size_px: float = setting(
        16.0, "person boxes with a side shorter than this are ignored, px", bounds=(0.0, 4096.0), run_time=True
    )

    def __post_init__(self) -> None:
        check_settings(self)


@dataclass(frozen=True)
class ModelSettings:
    """Which networks, detector, device and precision a pipeline loads (read once, at start-up).

    Raises:
        ValueError: a value that is not one of its choices or outside its range.
    """

    posenet_path: str | None = setting(
        "",
        "PoseNet checkpoint (snapshot_24.pth.tar); empty: the weights cache "
        "($MPPE_ROS_HOME or ~/.cache/mppe_ros, see `mppe-ros weights`)",
        optional=True,
    )
    rootnet_path: str | None = setting(
        "", "RootNet checkpoint (snapshot_18.pth.tar); empty: the weights cache", optional=True
    )
    joint_set: str = setting(
        "muco_21",
        "skeleton the PoseNet file was trained with: muco_21 (MuCo-3DHP, the released demo model) "
        "or h36m_18 (Human3.6M)",
        choices=tuple(JOINT_SETS),
    )
    detector: str = setting(
        DETECTORS[0],
        "person detector (torchvision COCO model); topic: the boxes of the robot's own detector, "
        "vision_msgs/Detection2DArray on `detections` (no model is loaded); none: no detector, every frame has no "
        "persons unless boxes are injected (tests, demo)",
        choices=DETECTORS,
    )
    detector_weights_path: str | None = setting(
        "", "detector state_dict file; empty: torchvision's cache", optional=True
    )
    detector_min_size_px: int = setting(
        800,
        "shorter image side the detector resizes to, px (torchvision's default; smaller is faster and "
        "finds fewer small persons; the longer side stays at most 1333 px)",
        bounds=(1, math.inf),
    )
    device: str = setting(
        "auto",
        "inference device: auto (cuda when available, else cpu), cpu, cuda or cuda:N",
        pattern=(r"auto|cpu|cuda(:[0-9]+)?", "'auto', 'cpu', 'cuda' or 'cuda:N'"),
    )
    precision: str = setting(
        "fp32",
        "network precision: fp32 (exact to the official models), bf16, fp16 (CUDA only) or auto "
        "(fp16 on CUDA; bf16 on a CPU with native bfloat16, else fp32)",
        choices=PRECISION_CHOICES,
    )

    def __post_init__(self) -> None:
        check_settings(self)
