"""Shared test set-up: DDS isolation, official-format weights with synthetic values, a random detector."""

from __future__ import annotations

import gc
import os
import random
from pathlib import Path

import pytest

# Every test run gets its own DDS domain on loopback only, so a concurrent run or a robot on the
# same network cannot deliver messages into our listeners. Set before rclpy is imported anywhere.
os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
os.environ["ROS_DOMAIN_ID"] = os.environ.get("MPPE_ROS_TEST_DOMAIN_ID", str(random.SystemRandom().randint(1, 101)))
os.environ.setdefault("RMW_IMPLEMENTATION", "rmw_fastrtps_cpp")
# Never let tests reach for weights in the user's cache or on the network.
os.environ["MPPE_ROS_HOME"] = os.environ.get("MPPE_ROS_TEST_HOME", "/nonexistent/mppe_ros_test_home")

REPO_ROOT = Path(__file__).resolve().parent.parent


def child_env() -> dict[str, str]:
    """Environment for a child Python process that imports rclpy.

    The ROS wheels' bootstrapper re-executes Python once and marks it with
    `_ROS_WHEELS_BOOTSTRAP_COMPLETE`; a child inheriting that mark skips its own re-exec and
    cannot load the ROS libraries.
    """
    env = dict(os.environ)
    env.pop("_ROS_WHEELS_BOOTSTRAP_COMPLETE", None)
    return env


@pytest.fixture(autouse=True)
def finalize_earlier_nodes(request):
    """Before each integration test, collect the garbage of earlier tests on the main thread while nothing spins: an
    rclpy node kept only by reference cycles is otherwise finalized wherever the collector next runs, e.g. in this
    test's executor thread, where destroying its DDS participant deadlocked a CI run (Fast DDS set_listener waiting
    on a listener thread, the GIL held). The core and ros rooms skip it (it costs about 0.1 s a test)."""
    if "integration" in request.node.path.parts:
        gc.collect()


@pytest.fixture(scope="session")
def official_weights(tmp_path_factory) -> dict[str, Path]:
    """PoseNet (MuCo, 21 joints) and RootNet files in the released format: the one synthetic recipe
    (mppe_ros.testing.synthetic.trained_like_weights, seeded, BatchNorm calibrated)."""
    from mppe_ros.testing.synthetic import trained_like_weights

    posenet, rootnet = trained_like_weights(tmp_path_factory.mktemp("official_weights"))
    return {"posenet": posenet, "rootnet": rootnet}


@pytest.fixture(scope="session")
def detector_weights(tmp_path_factory) -> tuple[Path, dict]:
    """A seeded random Faster R-CNN state_dict saved like torchvision's COCO file (no BN counters)."""
    import torch
    from torchvision.models import detection

    torch.manual_seed(0)
    model = detection.fasterrcnn_resnet50_fpn(weights=None, weights_backbone=None)
    state = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    path = tmp_path_factory.mktemp("detector") / "fasterrcnn_resnet50_fpn_coco-258fb6c6.pth"
    torch.save(state, path)
    return path, state


@pytest.fixture(scope="session")
def fast_detector_weights(tmp_path_factory) -> Path:
    """A seeded random state_dict of profile fast's detector, saved under torchvision's COCO file name."""
    import torch
    from torchvision.models import detection

    from mppe_ros.detection import DETECTOR_MODELS
    from mppe_ros.profiles import PROFILES

    name = str(PROFILES["fast"]["detector"])
    torch.manual_seed(0)
    model = getattr(detection, name)(weights=None, weights_backbone=None)
    state = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    path = tmp_path_factory.mktemp("fast_detector") / Path(DETECTOR_MODELS[name][1].url).name
    torch.save(state, path)
    return path


def run_bench(arguments: list[str], out: Path, stem: str, env: dict[str, str] | None = None) -> tuple[dict, str, str]:
    """`python -m mppe_ros bench ARGUMENTS --out OUT` in a child process, as `make bench` runs it.

    Returns: the written `<stem>.json` (parsed), `<stem>.md` and the printed stdout.
    """
    import json
    import subprocess
    import sys

    command = [sys.executable, "-m", "mppe_ros", "bench", *arguments, "--out", str(out)]
    done = subprocess.run(command, cwd=REPO_ROOT, env=env or child_env(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads((out / f"{stem}.json").read_text()), (out / f"{stem}.md").read_text(), done.stdout
