"""Reference 2 of `mppe-ros bench`: the machine's matrix throughput and the networks' FLOPs per person."""

from __future__ import annotations

import time
from collections.abc import Callable

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from mppe_ros.bench.timing import synchronize
from mppe_ros.networks import INPUT_SIZE_PX
from mppe_ros.precision import cpu_has_native_bf16, ieee_float32


def count_flops(posenet: nn.Module, rootnet: nn.Module) -> dict[str, int]:
    """FLOPs (2 per multiply-add) of one 256x256 crop through each network, counted by torch."""
    images = torch.zeros(1, 3, INPUT_SIZE_PX, INPUT_SIZE_PX)
    flops = {}
    for name, net, args in (("posenet", posenet, (images,)), ("rootnet", rootnet, (images, torch.ones(1)))):
        with torch.inference_mode(), FlopCounterMode(display=False) as counter:
            net.cpu()(*args)
        flops[name] = int(counter.get_total_flops())
    flops["total"] = flops["posenet"] + flops["rootnet"]
    return flops


def gemm_plan(device: torch.device, dtype: torch.dtype, quick: bool = False) -> tuple[int, bool]:
    """(matrix side, with the oneDNN 1x1 convolution) of gemm_flops_per_s: a small matmul only where the
    CPU emulates reduced precision (no native bf16), which takes seconds per large product there."""
    emulated = device.type == "cpu" and dtype != torch.float32 and not cpu_has_native_bf16()
    size = 512 if (quick or emulated) else (8192 if device.type == "cuda" else 2048)
    return size, device.type == "cpu" and not emulated


def gemm_flops_per_s(device: torch.device, dtype: torch.dtype, quick: bool = False) -> dict[str, float]:
    """Best-of-3 large matrix products: torch.mm (MKL / cuBLAS) and, on the CPU, a 1x1
    convolution as a GEMM (oneDNN, the library running the networks). `best` is the higher."""
    size, with_conv = gemm_plan(device, dtype, quick)
    a = torch.randn(size, size, device=device).to(dtype)
    candidates: dict[str, tuple[Callable, float]] = {"matmul": (lambda: a @ a, 2.0 * size**3)}
    if with_conv:
        x = torch.randn(4, 1024, 32, 32).to(dtype).contiguous(memory_format=torch.channels_last)
        w = torch.randn(1024, 1024, 1, 1).to(dtype).contiguous(memory_format=torch.channels_last)
        candidates["conv1x1"] = (lambda: torch.nn.functional.conv2d(x, w), 2.0 * 4 * 32 * 32 * 1024 * 1024)
    result = {}
    # IEEE float32 on CUDA, as the prepared float32 networks compute (acceleration.ieee_float32).
    with torch.inference_mode(), ieee_float32():
        for name, (function, flops) in candidates.items():
            function()
            times = []
            for _ in range(3):
                synchronize(device)
                start_s = time.perf_counter()
                function()
                synchronize(device)
                times.append(time.perf_counter() - start_s)
            result[name] = flops / min(times)
    result["best"] = max(result.values())
    return result
