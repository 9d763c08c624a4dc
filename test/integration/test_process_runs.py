"""`mppe-ros process` as a long batch job: Ctrl-C leaves a readable bag (exit 130), and --ray over several bags
equals the sequential runs
(within 1e-5 m: a Ray task runs torch on 1 thread), a failing recording reported by name without stopping the others."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO_ROOT, child_env
from test_process import BOXES, params_file, rosbags_messages

from mppe_ros.apps import cli
from mppe_ros.testing.recordings import write_bag


@pytest.mark.slow
def test_sigint_closes_a_valid_bag_and_exits_130(tmp_path, official_weights):
    bag, out = tmp_path / "in", tmp_path / "out"
    write_bag(bag, 300)
    boxes = tmp_path / "boxes.json"
    boxes.write_text(json.dumps(BOXES))
    command = [sys.executable, "-m", "mppe_ros", "process", str(bag), "--out", str(out), "--params-file",
               str(params_file(tmp_path, official_weights)), "--boxes", str(boxes), "--report-every", "1"]  # fmt: skip
    child = subprocess.Popen(command, cwd=REPO_ROOT, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)  # fmt: skip
    try:
        assert child.stderr is not None
        for line in child.stderr:
            if line.startswith("in: 3/300 frames"):
                break
        child.send_signal(signal.SIGINT)
        stdout, stderr = child.communicate(timeout=120)
    finally:
        child.kill()
    assert child.returncode == 130, stdout + stderr
    assert "interrupted: stopped after the frame at stamp" in stdout
    poses = [m for m in rosbags_messages(out) if m[0] == "/humans/poses3d"]
    assert 2 <= len(poses) < 300  # the 3rd image read: its CameraInfo comes after it


@pytest.mark.slow
def test_ray_equals_sequential_and_reports_a_failing_recording(tmp_path, official_weights, monkeypatch, capsys):
    monkeypatch.setenv("PYTHONPATH", str(REPO_ROOT))  # the Ray workers import this checkout
    bags = []
    for index in range(3):
        bags.append(tmp_path / f"bag{index}")
        write_bag(bags[-1], 3 + index)
    broken = tmp_path / "broken"
    write_bag(broken, 2, lost_info=(0, 1))  # no CameraInfo topic at all: this recording fails
    boxes = tmp_path / "boxes.json"
    boxes.write_text(json.dumps(BOXES))
    common = ["--params-file", str(params_file(tmp_path, official_weights)), "--boxes", str(boxes)]
    ray_out = tmp_path / "ray"
    code = cli.main(["process", *map(str, bags), str(broken), "--out", str(ray_out), "--ray", *common])
    captured = capsys.readouterr()
    assert code == 1 and "broken failed" in captured.err and "CameraInfo" in captured.err, captured.err
    for bag in bags:
        sequential = tmp_path / f"seq_{bag.name}"
        assert cli.main(["process", str(bag), "--out", str(sequential), *common]) == 0
        ours = [m for m in rosbags_messages(ray_out / bag.name) if m[0] == "/humans/poses3d"]
        theirs = [m for m in rosbags_messages(sequential) if m[0] == "/humans/poses3d"]
        assert len(ours) == len(theirs) == int(bag.name[-1]) + 3
        for (_, time_a, a), (_, time_b, b) in zip(ours, theirs, strict=True):  # a Ray task runs torch on its CPUs'
            assert time_a == time_b and [p.id for p in a.persons] == [p.id for p in b.persons]  # threads: rounding
            joints = [[(j.x, j.y, j.z) for j in p.joints] for m in (a, b) for p in m.persons]
            half = len(joints) // 2
            np.testing.assert_allclose(joints[:half], joints[half:], atol=1e-5, rtol=0)  # float32 sums, 1 vs 2 threads
