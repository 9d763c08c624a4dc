"""The inference library imports without rclpy or any ROS message package."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO_ROOT, child_env

# Only these modules adapt the library to ROS; everything else is the ROS-free core.
ROS_EDGE_MODULES = {"node", "conversions", "markers", "demo", "bench_node"}
CORE_MODULES = sorted(
    path.stem
    for path in (REPO_ROOT / "mppe_ros").glob("*.py")
    if path.stem not in ROS_EDGE_MODULES | {"__init__"}
)

PROBE = """
import sys
for blocked in ("rclpy", "std_msgs", "sensor_msgs", "geometry_msgs", "visualization_msgs",
                "builtin_interfaces", "cv_bridge", "message_filters", "mppe_ros.msg"):
    sys.modules[blocked] = None  # any import of these now raises ImportError
import importlib
for name in sys.argv[1:]:
    importlib.import_module("mppe_ros." + name)
print("imported", len(sys.argv) - 1)
"""


def test_core_modules_exist():
    assert {"networks", "joint_sets"} <= set(CORE_MODULES)


def test_core_imports_with_ros_blocked():
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *CORE_MODULES],
        cwd=REPO_ROOT, env=child_env(), capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"imported {len(CORE_MODULES)}" in result.stdout


def test_core_sources_do_not_mention_ros_imports():
    offenders = []
    for name in CORE_MODULES:
        for number, line in enumerate((REPO_ROOT / "mppe_ros" / f"{name}.py").read_text().splitlines(), 1):
            stripped = line.strip()
            if stripped.startswith(("import ", "from ")) and any(
                word in stripped for word in ("rclpy", "_msgs", "cv_bridge", "message_filters")
            ):
                offenders.append(f"{name}.py:{number}: {stripped}")
    assert not offenders, offenders
