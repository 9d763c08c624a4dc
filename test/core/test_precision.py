"""mppe_ros.precision: precision names, native bf16 from the CPU flags or the override, IEEE float32."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from mppe_ros import precision as precision_module
from mppe_ros.acceleration import InferenceNet
from mppe_ros.camera import PinholeCamera
from mppe_ros.pipeline import PipelineConfig
from mppe_ros.precision import ieee_float32, resolve_precision

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
BN_LAYERS_PER_NET = 56  # 53 in the ResNet-50 trunk + 3 in the deconvolution head
CAMERA = PinholeCamera(1500.0, 1500.0, 320.0, 240.0, 640, 480)


@pytest.mark.parametrize(
    ("precision", "device", "expected"),
    [
        ("fp32", "cpu", torch.float32),
        ("bf16", "cpu", torch.bfloat16),
        ("fp16", "cuda", torch.float16),
        ("bf16", "cuda", torch.bfloat16),
        ("auto", "cuda", torch.float16),
    ],
)
def test_precision_names(precision, device, expected):
    assert resolve_precision(precision, device) is expected


@pytest.mark.parametrize(("flags", "expected"), [({"avx2"}, torch.float32), ({"avx512_bf16"}, torch.bfloat16),
                                                 ({"amx_bf16", "avx2"}, torch.bfloat16)])  # fmt: skip
def test_auto_on_cpu_follows_native_bf16(monkeypatch, flags, expected):
    monkeypatch.delenv(precision_module.NATIVE_BF16_OVERRIDE_ENV, raising=False)
    monkeypatch.setattr(precision_module, "cpu_flags", lambda: frozenset(flags))
    assert resolve_precision("auto", "cpu") is expected


@pytest.mark.parametrize("flags", [{"avx2"}, {"amx_bf16", "avx512_bf16"}])
@pytest.mark.parametrize(("override", "expected"), [("1", torch.bfloat16), ("0", torch.float32)])
def test_the_environment_overrides_the_cpu_flags(monkeypatch, flags, override, expected):
    monkeypatch.setattr(precision_module, "cpu_flags", lambda: frozenset(flags))
    monkeypatch.setenv(precision_module.NATIVE_BF16_OVERRIDE_ENV, override)
    assert precision_module.cpu_has_native_bf16() is (override == "1")
    assert resolve_precision("auto", "cpu") is expected
    monkeypatch.setenv(precision_module.NATIVE_BF16_OVERRIDE_ENV, "yes")
    with pytest.raises(ValueError, match="MPPE_ROS_CPU_NATIVE_BF16 must be 1, 0 or unset, got 'yes'"):
        precision_module.cpu_has_native_bf16()


@pytest.mark.parametrize(
    ("precision", "device", "message"),
    [
        ("fp16", "cpu", r"precision must be one of \['fp32', 'bf16', 'auto'\] on device 'cpu'.*got 'fp16'"),
        ("float16", "cpu", r"precision must be one of \['fp32', 'bf16', 'fp16', 'auto'\], got 'float16'"),
        ("", "cuda", "precision must be one of"),
    ],
)
def test_bad_precisions_are_clear_errors(precision, device, message):
    with pytest.raises(ValueError, match=message):
        resolve_precision(precision, device)
    if device == "cpu":
        with pytest.raises(ValueError, match="precision must be one of"):
            PipelineConfig(device="cpu", precision=precision)


class _PrecisionProbe(nn.Module):
    """Records the CUDA float32 settings in force while it runs."""

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        self.seen = (torch.backends.cudnn.conv.fp32_precision, torch.backends.cuda.matmul.fp32_precision)
        return images


@pytest.mark.parametrize("dtype, expected", [(torch.float32, ("ieee", "ieee")), (torch.bfloat16, None)])
def test_float32_networks_run_without_tf32_and_restore_the_settings(dtype, expected):
    before = (torch.backends.cudnn.conv.fp32_precision, torch.backends.cuda.matmul.fp32_precision)
    probe = _PrecisionProbe()
    InferenceNet(probe, dtype, torch.contiguous_format)(torch.zeros(1, 3, 4, 4))
    assert probe.seen == (expected or before)
    assert (torch.backends.cudnn.conv.fp32_precision, torch.backends.cuda.matmul.fp32_precision) == before


def test_ieee_float32_restores_the_settings_after_an_error():
    before = torch.backends.cudnn.conv.fp32_precision
    with pytest.raises(RuntimeError, match="inside"), ieee_float32():
        raise RuntimeError("inside")
    assert torch.backends.cudnn.conv.fp32_precision == before


def test_cpu_flags_are_read(monkeypatch):
    monkeypatch.delenv(precision_module.NATIVE_BF16_OVERRIDE_ENV, raising=False)
    flags = precision_module.cpu_flags()
    assert isinstance(flags, frozenset)
    assert precision_module.cpu_has_native_bf16() == bool(flags & {"avx512_bf16", "amx_bf16"})
