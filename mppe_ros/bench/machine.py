"""The machine a benchmark ran on: CPU model and features, threads, library versions, GPU, load."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mppe_ros import host_memory
from mppe_ros.precision import NATIVE_BF16_OVERRIDE_ENV, cpu_flags, cpu_has_native_bf16


def machine_info() -> dict[str, Any]:
    """CPU model and features, thread count, library versions, GPU, load average."""
    import cv2

    model = next((line.split(":", 1)[1].strip() for line in _cpuinfo_lines() if line.startswith("model name")), None)
    info = {
        "cpu_model": model or platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cpu_features": sorted(flag for flag in cpu_flags() if flag.startswith(("avx", "amx", "fma"))),
        "cpu_native_bf16": cpu_has_native_bf16(),
        "cpu_native_bf16_override": os.environ.get(NATIVE_BF16_OVERRIDE_ENV) or None,  # set: the flags were not used
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "opencv": cv2.__version__,
        "numpy": np.__version__,
        "cuda_device": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
        "load_average_start": list(os.getloadavg()),
        "malloc_settings": list(host_memory.applied),  # set by the entry point (mppe_ros.apps.entry_points)
    }
    return info


def _cpuinfo_lines() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text(errors="replace").splitlines()
    except OSError:
        return []
