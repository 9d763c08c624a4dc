"""`python -m mppe_ros demo` (what `make demo` runs): the whole graph in a child process, untrained and without
weights."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import pytest
from conftest import REPO_ROOT, child_env

from mppe_ros import host_memory

pytestmark = pytest.mark.slow  # each test runs `python -m mppe_ros demo` in a child process
REPO = REPO_ROOT


def run_demo(*args: str, timeout_s: float = 240.0) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mppe_ros", "demo", *args],
        cwd=REPO,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )


def test_untrained_demo_writes_every_output_and_says_it_is_meaningless(tmp_path):
    output = tmp_path / "demo_output"
    done = run_demo("--untrained", "--frames", "1", "--rate-hz", "4", "--output", str(output), "--timeout-s", "180")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "meaningless" in done.stdout and "Traceback" not in done.stderr
    if host_memory._glibc() is not None:  # the entry point tuned malloc before the node started
        assert "buffer reuse (glibc malloc): on" in done.stdout + done.stderr
    report = json.loads((output / "poses3d.json").read_text())
    assert report["untrained"] is True and "meaningless" in report["note"]
    message = report["messages"][0]
    assert message["header"]["frame_id"] == "camera_optical_frame" and message["skeleton"] == "muco_21"
    assert len(message["persons"]) == 2 and all(len(p["joints"]) == 21 for p in message["persons"])
    assert [m["action"] for m in report["last_markers"]["markers"][:4]] == [3] * 4  # DELETEALL per namespace first
    assert report["node_stats"]["frames_processed"] >= 1
    for name, shape in (("input.png", (480, 640, 3)), ("overlay.png", (480, 640, 3)), ("skeletons_3d.png", None)):
        image = cv2.imread(str(output / name))
        assert image is not None and (shape is None or image.shape == shape), name
    assert (cv2.imread(str(output / "overlay.png")) != cv2.imread(str(output / "input.png"))).any()


def test_demo_without_weights_stops_with_the_weights_message(tmp_path):
    # conftest points MPPE_ROS_HOME at a folder that does not exist: no weights can be found.
    output = tmp_path / "demo_output"
    done = run_demo("--output", str(output), timeout_s=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "weights not found" in done.stderr and "put at" in done.stderr and "--untrained" in done.stderr
    assert "Traceback" not in done.stderr
    assert not output.exists()
