"""The package builds with colcon into a fresh workspace, and its messages import from there."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from conftest import REPO_ROOT, child_env

VENV = Path(sys.prefix)
PACKAGE_FILES = (
    "package.xml",
    "CMakeLists.txt",
    "setup.py",
    "msg",
    "mppe_ros",
    "launch",
    "config",
    "scripts",
    "resource",
)


def test_colcon_build_installs_importable_messages(tmp_path):
    colcon = shutil.which("colcon", path=str(VENV / "bin"))
    assert colcon, "colcon is not installed in the venv (requirements.txt)"
    source = tmp_path / "ws" / "src" / "mppe_ros"
    source.mkdir(parents=True)
    for name in PACKAGE_FILES:
        path = REPO_ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif path.exists():
            shutil.copy2(path, source / name)

    env = child_env()
    env.update(AMENT_PREFIX_PATH=str(VENV), CMAKE_PREFIX_PATH=str(VENV))
    env["PATH"] = f"{VENV / 'bin'}:{env['PATH']}"
    build = subprocess.run(
        [
            colcon,
            "build",
            "--event-handlers",
            "console_direct-",
            "--cmake-args",
            f"-DPython3_EXECUTABLE={sys.executable}",
            "-DBUILD_TESTING=OFF",
            "-Wno-dev",
        ],
        cwd=tmp_path / "ws",
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]

    install = tmp_path / "ws" / "install" / "mppe_ros"
    site = install / Path(sysconfig.get_paths()["purelib"]).relative_to(sys.prefix)
    assert (site / "mppe_ros" / "msg" / "_person_pose3_d_array.py").is_file()
    assert (install / "lib" / "mppe_ros" / "mppe_node").is_file()
    assert (install / "share" / "mppe_ros" / "launch" / "mppe.launch.py").is_file()
    assert (install / "share" / "mppe_ros" / "config" / "mppe.yaml").is_file()

    # colcon's install space has no RPATH: its setup scripts add lib/ to LD_LIBRARY_PATH.
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
