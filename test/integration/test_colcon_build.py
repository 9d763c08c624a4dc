"""The package builds with colcon into a fresh workspace, and its messages import from there.

The build is made once per test session (`built_workspace`) and shared with test_colcon_test, which runs
`colcon test` in the same workspace. It is a user's plain `colcon build`: BUILD_TESTING stays ON (colcon's
default), so the ament_cmake_pytest tests are registered too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import REPO_ROOT, child_env

pytestmark = pytest.mark.slow

VENV = Path(sys.prefix)
PACKAGE_FILES = (
    "package.xml",
    "CMakeLists.txt",
    "setup.py",
    "pytest.ini",
    "msg",
    "mppe_ros",
    "launch",
    "config",
    "scripts",
    "resource",
    "test",
)


@dataclass(frozen=True)
class Workspace:
    """A colcon workspace with mppe_ros in src/, built (or not: see `build`)."""

    root: Path
    build: subprocess.CompletedProcess[str]

    @property
    def source(self) -> Path:
        return self.root / "src" / "mppe_ros"

    @property
    def install(self) -> Path:
        return self.root / "install" / "mppe_ros"

    @property
    def site(self) -> Path:
        """The install space's site-packages (where `mppe_ros` and `mppe_ros.msg` are)."""
        return self.install / Path(sysconfig.get_paths()["purelib"]).relative_to(sys.prefix)

    def assert_built(self) -> None:
        assert self.build.returncode == 0, self.build.stdout[-3000:] + self.build.stderr[-3000:]


def colcon_command() -> str:
    colcon = shutil.which("colcon", path=str(VENV / "bin"))
    assert colcon, "colcon is not installed in the venv (requirements.txt)"
    return colcon


def colcon_env() -> dict[str, str]:
    """What colcon needs to find the venv's ROS packages (build time: AMENT_PREFIX_PATH) and tools."""
    env = child_env()
    env.update(AMENT_PREFIX_PATH=str(VENV), CMAKE_PREFIX_PATH=str(VENV))
    env["PATH"] = f"{VENV / 'bin'}:{env['PATH']}"
    return env


_BUILT: dict[Path, Workspace] = {}  # one build per test session (keyed by its base temporary folder)


def built_workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """Copy the package into a temporary workspace and `colcon build` it, once per test session."""
    session = tmp_path_factory.getbasetemp()
    if session not in _BUILT:
        _BUILT[session] = _build_workspace(tmp_path_factory.mktemp("colcon_ws"))
    return _BUILT[session]


def _build_workspace(root: Path) -> Workspace:
    source = root / "src" / "mppe_ros"
    source.mkdir(parents=True)
    for name in PACKAGE_FILES:
        path = REPO_ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif path.exists():
            shutil.copy2(path, source / name)
    build = subprocess.run(
        [
            colcon_command(),
            "build",
            "--event-handlers",
            "console_direct-",
            "--cmake-args",
            f"-DPython3_EXECUTABLE={sys.executable}",
            "-Wno-dev",
        ],
        cwd=root,
        env=colcon_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    return Workspace(root, build)


def test_colcon_build_installs_importable_messages(tmp_path_factory, tmp_path):
    workspace = built_workspace(tmp_path_factory)
    workspace.assert_built()
    install, site = workspace.install, workspace.site
    assert (site / "mppe_ros" / "msg" / "_person_pose3_d_array.py").is_file()
    assert (install / "lib" / "mppe_ros" / "mppe_node").is_file()
    assert (install / "share" / "mppe_ros" / "launch" / "mppe.launch.py").is_file()
    assert (install / "share" / "mppe_ros" / "config" / "mppe.yaml").is_file()

    # colcon's install space has no RPATH: its setup scripts add lib/ to LD_LIBRARY_PATH.
    env = colcon_env()
    env["LD_LIBRARY_PATH"] = f"{install / 'lib'}:{env.get('LD_LIBRARY_PATH', '')}"
    env["PYTHONPATH"] = str(site)
    probe = (
        "import mppe_ros, mppe_ros.msg as m;"
        f"assert mppe_ros.__path__[0].startswith({str(site)!r}), mppe_ros.__path__;"
        "msg = m.PersonPose3DArray(skeleton='muco_21', persons=[m.PersonPose3D(id=3)]);"
        "from rclpy.serialization import serialize_message, deserialize_message;"
        "back = deserialize_message(serialize_message(msg), m.PersonPose3DArray);"
        "assert back == msg; print('ok')"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr[-3000:]
    assert os.path.getsize(site / "mppe_ros" / "__init__.py") > 0, "our __init__.py must replace the generated one"
