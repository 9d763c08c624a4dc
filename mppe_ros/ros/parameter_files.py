"""The node's parameters outside a node: a `--params-file` YAML and `-p name:=value` overrides -> NodeConfig.

The same table (mppe_ros.ros.parameters.PARAMETERS), the same checks (ParameterSpec.check) and the same profile rule
as `declare_node_parameters`: `profile` and `device` choose the profile (mppe_ros.profiles.choose_profile), whose
defaults apply to the parameters not given explicitly. A parameter file is what `ros2 run ... --params-file` takes:
`mppe_node:` (or `/**:`) then `ros__parameters:` then the values (config/mppe.yaml). An override's value is read as
YAML, as ROS reads `-p name:=value` (`1.0` a float, `1` an integer, `true` a bool, anything else a string).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml

from mppe_ros.profiles import Value, choose_profile, cuda_available
from mppe_ros.ros.parameters import FIRST_DECLARED, NODE_NAME, PARAMETERS_BY_NAME, NodeConfig

NODE_KEYS = (NODE_NAME, f"/{NODE_NAME}", "/**")  # the node sections a parameter file may use


def read_params_file(path: str | Path) -> dict[str, Value]:
    """{name: value} of the `mppe_node` (or `/**`) section of a ROS 2 parameter file.

    Raises:
        ValueError: unreadable, not YAML, or without such a section (the message names the file).
    """
    try:
        document = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"parameter file {str(path)!r} cannot be read: {error}") from None
    values: dict[str, Value] = {}
    sections = [document.get(key) for key in NODE_KEYS] if isinstance(document, dict) else []
    found = [section for section in sections if isinstance(section, dict) and "ros__parameters" in section]
    if not found:
        raise ValueError(
            f"parameter file {str(path)!r} has no `{NODE_NAME}: ros__parameters:` (or `/**:`) section "
            "(see config/mppe.yaml)"
        )
    for section in found:
        values.update(section["ros__parameters"] or {})
    return values


def parse_override(text: str) -> tuple[str, Value]:
    """`name:=value` -> (name, value read as YAML); ValueError when malformed."""
    name, separator, raw = text.partition(":=")
    if not separator or not name:
        raise ValueError(f"-p takes name:=value, got {text!r}")
    value = yaml.safe_load(raw) if raw else ""
    if not isinstance(value, bool | int | float | str):
        value = raw
    return name.strip(), value


def node_config(
    params_files: Iterable[str | Path] = (),
    overrides: Iterable[str] = (),
    has_cuda: Callable[[], bool] = cuda_available,
) -> NodeConfig:
    """The NodeConfig a node started with these parameter files (in order) and `-p` overrides would have.

    Raises:
        ValueError: an unknown parameter, a refused value or a broken rule (named), or a bad file.
    """
    values: dict[str, Value] = {}
    for path in params_files:
        values.update(read_params_file(path))
    values.update(parse_override(text) for text in overrides)
    unknown = sorted(set(values) - set(PARAMETERS_BY_NAME))
    if unknown:
        raise ValueError(f"unknown parameters {unknown}; known: {sorted(PARAMETERS_BY_NAME)}")
    problems = [problem for name, value in values.items() if (problem := PARAMETERS_BY_NAME[name].check(value))]
    if problems:
        raise ValueError("; ".join(problems))
    first = {name: values.get(name, PARAMETERS_BY_NAME[name].default) for name in FIRST_DECLARED}
    profile = choose_profile(str(first["profile"]), str(first["device"]), has_cuda)
    return NodeConfig.from_mapping({**profile.defaults, **values})


def effective_parameters(config: NodeConfig) -> dict[str, Any]:
    """{name: value} of every parameter of `config` (the provenance written into an output bag)."""
    return {name: config.value(name) for name in PARAMETERS_BY_NAME}
