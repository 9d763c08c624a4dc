"""Precision names and where they resolve: the networks' dtype on a device, and IEEE float32 on CUDA.

Precision names: "fp32", "bf16", "fp16" (CUDA only) and "auto" (fp16 on CUDA; on a CPU bf16 where
it has native bfloat16 arithmetic, AVX512-BF16 or AMX, else fp32: emulated bf16 is many times
slower than fp32). The environment variable MPPE_ROS_CPU_NATIVE_BF16=1 or 0 overrides that detection
(tests and benchmarks take either branch on any CPU; it changes what is chosen, not what the CPU can do).
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator
from pathlib import Path

import torch

PRECISIONS = ("fp32", "bf16", "fp16", "auto")
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
NATIVE_BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")  # /proc/cpuinfo flags with bf16 dot products
NATIVE_BF16_OVERRIDE_ENV = "MPPE_ROS_CPU_NATIVE_BF16"  # "1" or "0": overrides the flags


@functools.lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """Feature flags of the first CPU in /proc/cpuinfo (empty where that file does not exist)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def cpu_has_native_bf16() -> bool:
    """True when the CPU multiplies bfloat16 natively (AVX512-BF16 or AMX-BF16).

    $MPPE_ROS_CPU_NATIVE_BF16 set to "1" or "0" overrides the flags; another non-empty value is a ValueError.
    """
    override = os.environ.get(NATIVE_BF16_OVERRIDE_ENV, "")
    if override:
        if override not in ("0", "1"):
            raise ValueError(f"{NATIVE_BF16_OVERRIDE_ENV} must be 1, 0 or unset, got {override!r}")
        return override == "1"
    return any(flag in cpu_flags() for flag in NATIVE_BF16_CPU_FLAGS)


def resolve_precision(precision: str, device: str | torch.device) -> torch.dtype:
    """The network dtype for a precision name on a device.

    Args:
        precision: "fp32", "bf16", "fp16" or "auto".
        device: where the networks run.

    Returns:
        torch.float32, torch.bfloat16 or torch.float16.

    Raises:
        ValueError: unknown name, or "fp16" on a device other than CUDA (CPU float16
            convolutions are emulated and far slower than float32).
    """
    device = torch.device(device)
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {list(PRECISIONS)}, got {precision!r}")
    if precision == "auto":
        if device.type == "cuda":
            return torch.float16
        return torch.bfloat16 if device.type == "cpu" and cpu_has_native_bf16() else torch.float32
    if precision == "fp16" and device.type != "cuda":
        raise ValueError(
            f"precision must be one of ['fp32', 'bf16', 'auto'] on device {str(device)!r} (fp16 needs "
            "CUDA; bf16 is fast on CPUs with AVX512-BF16 or AMX), got 'fp16'"
        )
    return DTYPES[precision]


@contextlib.contextmanager
def ieee_float32() -> Iterator[None]:
    """Within the block, CUDA float32 convolutions and matmuls compute in IEEE float32.

    torch lets cuDNN use TF32 (10-bit mantissa) for float32 convolutions by default; with it, "fp32"
    differed from the official loop by up to 1.6 px / 20 mm on an H200 (0.0004 px without). The
    previous settings are restored on exit; CPU computation is unaffected.
    """
    # torch swaps the cudnn module for a CudnnModule at import; its `conv` is not in the module's annotations.
    settings = (torch.backends.cudnn.conv, torch.backends.cuda.matmul)  # type: ignore[attr-defined]
    previous = [setting.fp32_precision for setting in settings]
    try:
        for setting in settings:
            setting.fp32_precision = "ieee"
        yield
    finally:
        for setting, value in zip(settings, previous, strict=True):
            setting.fp32_precision = value
