"""Timers of `mppe-ros bench`: CUDA-synchronised wall time, latency statistics, peak memory."""

from __future__ import annotations

import resource
import time
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn


def synchronize(device: torch.device) -> None:
    """Wait for queued CUDA work (no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class TimedNet(nn.Module):
    """Adds the wall time of each forward (synchronised) to `seconds`."""

    def __init__(self, net: nn.Module, device: torch.device) -> None:
        super().__init__()
        self.net, self.device, self.seconds = net, device, 0.0

    def forward(self, *args: torch.Tensor):
        synchronize(self.device)
        start_s = time.perf_counter()
        output = self.net(*args)
        synchronize(self.device)
        self.seconds += time.perf_counter() - start_s
        return output


def stats(samples_s: Sequence[float]) -> dict[str, float]:
    """median, p90, min and mean of latencies (s)."""
    values = np.asarray(samples_s, dtype=np.float64)
    return {
        "median_s": float(np.median(values)),
        "p90_s": float(np.percentile(values, 90)),
        "min_s": float(values.min()),
        "mean_s": float(values.mean()),
        "samples": len(values),
    }


def peak_memory_mb(device: torch.device) -> dict[str, float | None]:
    """Peak RSS of this process so far and CUDA max allocated since the last reset, MiB."""
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB
    cuda_mb = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None
    return {"peak_rss_mb": rss_mb, "cuda_max_allocated_mb": cuda_mb}
