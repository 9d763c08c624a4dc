"""A parameter change to the running node: accepted whole or refused whole (the node's two parameter callbacks).

`check_change` answers the on-set callback: the complete new NodeConfig is built (every value, every cross-field
rule of the settings types) before answering, so a refused set leaves the configuration as it was. `apply_change`
(the post-set callback) gives the new configuration and what to say. Neither raises: a parameter callback that raises
ends an rclpy process.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rcl_interfaces.msg import SetParametersResult

from mppe_ros.ros.parameters import PARAMETERS_BY_NAME, NodeConfig


def check_change(config: NodeConfig, parameters: list[Any]) -> SetParametersResult:
    """Whether `parameters` (rclpy Parameters) may replace their values in `config`, with every reason why not."""
    known = [p for p in parameters if p.name in PARAMETERS_BY_NAME]
    problems = [problem for p in known if (problem := PARAMETERS_BY_NAME[p.name].check(p.value))]
    if not problems:
        try:
            config.replace(**{p.name: p.value for p in known})
        except ValueError as error:
            problems.append(str(error))
        except Exception as error:  # noqa: BLE001 - a parameter callback must never end the process
            problems.append(f"{type(error).__name__}: {error}")
    return SetParametersResult(successful=not problems, reason="; ".join(problems))


@dataclass(frozen=True)
class AppliedChange:
    """What the post-set callback did: the configuration now, the changes (name -> value), the error that kept the
    old configuration (else ""), and the changed names that have no effect (tracking and schedule parameters while
    tracking is false)."""

    config: NodeConfig
    changes: dict[str, Any]
    error: str = ""
    unused: tuple[str, ...] = ()


def apply_change(config: NodeConfig, parameters: list[Any]) -> AppliedChange:
    """`config` with `parameters` (rclpy Parameters, checked by check_change before) applied; never raises."""
    changes = {p.name: p.value for p in parameters if p.name in PARAMETERS_BY_NAME}
    try:
        changed = config.replace(**changes)
    except Exception as failure:  # noqa: BLE001 - a parameter callback must never end the process
        return AppliedChange(config, changes, error=str(failure) or type(failure).__name__)
    unused = () if changed.node.tracking else tuple(
        sorted(name for name in changes if PARAMETERS_BY_NAME[name].group in ("tracking", "schedule"))
    )  # fmt: skip
    return AppliedChange(changed, changes, unused=unused)
