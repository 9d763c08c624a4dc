"""mppe_ros.precision: the native-bf16 override reaches a child process (a subprocess: integration)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from conftest import child_env

from mppe_ros import precision as precision_module
from mppe_ros.camera import PinholeCamera

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
BN_LAYERS_PER_NET = 56  # 53 in the ResNet-50 trunk + 3 in the deconvolution head
CAMERA = PinholeCamera(1500.0, 1500.0, 320.0, 240.0, 640, 480)


@pytest.mark.slow  # a child process that imports torch
@pytest.mark.parametrize(("override", "expected"), [("1", "torch.bfloat16"), ("0", "torch.float32")])
def test_the_override_reaches_a_child_process(override, expected):
    code = "from mppe_ros.precision import resolve_precision; print(resolve_precision('auto', 'cpu'))"
    env = {**child_env(), precision_module.NATIVE_BF16_OVERRIDE_ENV: override}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == expected
