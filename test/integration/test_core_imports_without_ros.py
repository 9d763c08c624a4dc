"""Every core module (mppe_ros/*.py and the core subpackages) imports in a process where every ROS module is blocked."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import REPO_ROOT, child_env

from mppe_ros.testing.import_contract import room_of_file

PACKAGE = REPO_ROOT / "mppe_ros"
# "camera", "tracking", "tracking.session", ...: the top-level modules and the core subpackages' modules
CORE_MODULES = sorted(
    ".".join(path.relative_to(PACKAGE).with_suffix("").parts).removesuffix(".__init__")
    for path in PACKAGE.rglob("*.py")
    if room_of_file(path, PACKAGE) == "core" and path.relative_to(PACKAGE).parts[0] not in ("__init__.py", "msg")
)

PROBE = """
import sys
for blocked in ("rclpy", "std_msgs", "sensor_msgs", "geometry_msgs", "visualization_msgs", "rcl_interfaces",
                "builtin_interfaces", "cv_bridge", "message_filters", "mppe_ros.msg"):
    sys.modules[blocked] = None  # any import of these now raises ImportError
import importlib
for name in sys.argv[1:]:
    importlib.import_module("mppe_ros." + name)
print("imported", len(sys.argv) - 1)
"""


@pytest.mark.slow  # a child process that imports every core module (torch)
def test_core_imports_with_ros_blocked():
    assert {"networks", "pipeline", "tracking", "tracking.session", "weights.resolve"} <= set(CORE_MODULES)
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *CORE_MODULES],
        cwd=REPO_ROOT, env=child_env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"imported {len(CORE_MODULES)}" in result.stdout
