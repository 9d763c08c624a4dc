"""mppe_ros.host_memory: with the entry points' malloc settings, inference reuses its buffers (page faults)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import REPO_ROOT

from mppe_ros import host_memory

pytestmark = [pytest.mark.skipif(host_memory._glibc() is None, reason="needs glibc"), pytest.mark.slow]  # children
REPO = REPO_ROOT

# As the node does: settings first (or not), then torch, then PoseNet for 2 persons in a worker
# thread, three frames; prints the settings applied and the minor page faults of each frame.
PROBE = """
import sys
from mppe_ros.host_memory import keep_freed_memory_for_reuse
applied = keep_freed_memory_for_reuse() if sys.argv[1] == "tuned" else ()
import json, resource, threading
import torch
from mppe_ros.acceleration import prepare_for_inference
from mppe_ros.networks import build_posenet

net = prepare_for_inference(build_posenet().eval(), "cpu", "fp32")
faults = []

def frames():
    images = torch.zeros(2, 3, 256, 256)
    with torch.inference_mode():
        for _ in range(3):
            before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            net(images)
            faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)

worker = threading.Thread(target=frames)
worker.start()
worker.join()
print(json.dumps({"applied": list(applied), "faults": faults}))
"""


APPLIED = "import json; from mppe_ros.host_memory import keep_freed_memory_for_reuse as keep; print(json.dumps(keep()))"


def run_python(code: str, *args: str, **environment: str):
    """Run `code` in a fresh interpreter without the caller's malloc settings; its stdout as JSON."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MALLOC_", "MPPE_ROS_DEFAULT"))}
    done = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=REPO, env={**env, **environment}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_inference_reuses_its_buffers_instead_of_faulting_them_in_every_frame():
    default, tuned = run_python(PROBE, "default"), run_python(PROBE, "tuned")
    assert tuned["applied"] == ["M_ARENA_MAX", "M_MMAP_THRESHOLD", "M_TRIM_THRESHOLD"]
    assert min(default["faults"][1:]) > 10_000  # the large buffers are mapped afresh every frame
    assert max(tuned["faults"][1:]) * 10 < min(default["faults"][1:])


def test_settings_given_to_glibc_or_an_opt_out_are_respected():
    assert run_python(APPLIED, MALLOC_ARENA_MAX="4", MALLOC_TRIM_THRESHOLD_="131072") == ["M_MMAP_THRESHOLD"]
    assert run_python(APPLIED, MPPE_ROS_DEFAULT_MALLOC="1") == []
