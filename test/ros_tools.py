"""The real ROS 2 tools lane: skip marks for tests that need launch, launch_testing, message_filters or ros2cli.

Those tools come with a ROS 2 install, or into `.venv` from `../shared/ros-tools` (`.ci/run` installs them
when that folder exists). Without them the tests skip and say which module is missing and how to get it.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
TOOLS_ENV_SH = REPO_ROOT / ".venv" / "share" / "ros-tools" / "env.sh"
INSTALL_HINT = "install the real ROS 2 tools: bash ../shared/ros-tools/install.sh .venv (or source a ROS 2 install)"


def has_module(name: str) -> bool:
    """Whether `name` imports (found by the import system; nothing is executed)."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def requires(*modules: str) -> pytest.MarkDecorator:
    """Skip unless every module in `modules` imports, naming the missing ones and the remedy."""
    missing = [name for name in modules if not has_module(name)]
    return pytest.mark.skipif(bool(missing), reason=f"needs {', '.join(missing)}: {INSTALL_HINT}")


def ros2_command() -> str | None:
    """The `ros2` executable next to this Python (the venv's bin) or on PATH, or None."""
    beside = Path(sys.executable).parent / "ros2"
    return str(beside) if beside.exists() else shutil.which("ros2")


def tools_env(base: dict[str, str]) -> dict[str, str]:
    """`base` plus what `env.sh` sets for `ros2` and `ros2 launch`: the venv first on PATH and AMENT_PREFIX_PATH.

    The DDS settings of `base` (domain id, discovery range, profiles file) are kept.
    """
    venv = str(Path(sys.executable).parent.parent)
    env = dict(base)
    env.pop("_ROS_WHEELS_BOOTSTRAP_COMPLETE", None)
    env["PATH"] = f"{venv}/bin:{env.get('PATH', '')}"
    env["AMENT_PREFIX_PATH"] = ":".join(p for p in (venv, env.get("AMENT_PREFIX_PATH", "")) if p)
    return env
