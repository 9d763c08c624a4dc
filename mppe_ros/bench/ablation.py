"""The ablation of `mppe-ros bench`: RootNet + PoseNet time of each optimisation step on the same crops."""

from __future__ import annotations

import time
from collections.abc import Callable

import torch
from torch import nn

from mppe_ros.acceleration import prepare_for_inference
from mppe_ros.bench.timing import stats, synchronize
from mppe_ros.networks import INPUT_SIZE_PX


def ablation(posenet: nn.Module, rootnet: nn.Module, device: torch.device, persons: int, rounds: int) -> list[dict]:
    """RootNet + PoseNet time of each optimisation step on the same crops, interleaved in rounds.

    Per person (official) -> one batch -> + BatchNorm folded -> + channels-last -> + PoseNet's
    final layer as an NCHW GEMM (ours, fp32); on CUDA then float16, and float16 with CUDA graphs.
    """
    torch.manual_seed(0)
    images = torch.randn(persons, 3, INPUT_SIZE_PX, INPUT_SIZE_PX, device=device) * 60.0
    k_value = torch.full((persons,), 1e4, device=device)
    plain_pose, plain_root = posenet.to(device).eval(), rootnet.to(device).eval()

    def batched(pose: nn.Module, root: nn.Module) -> Callable[[], None]:
        return lambda: (root(images, k_value), pose(images))

    def per_person() -> None:
        for index in range(persons):
            plain_root(images[index : index + 1], k_value[index : index + 1])
            plain_pose(images[index : index + 1])

    variants: dict[str, Callable[[], None]] = {"official: one forward per person, fp32": per_person}
    variants["one batch, fp32"] = batched(plain_pose, plain_root)
    for label, options in (
        ("+ BatchNorm folded", {"channels_last": False, "nchw_logits": False}),
        ("+ channels-last", {"nchw_logits": False}),
        ("+ final layer as NCHW GEMM", {}),
    ):
        variants[label + ", fp32"] = batched(*(prepare_for_inference(net, device, "fp32", **options)
                                               for net in (plain_pose, plain_root)))  # fmt: skip
    if device.type == "cuda":
        for graphs in (False, True):
            label = "fp16" + (" + CUDA graphs" if graphs else "")
            variants[label] = batched(*(prepare_for_inference(net, device, "fp16", cuda_graphs=graphs)
                                        for net in (plain_pose, plain_root)))  # fmt: skip
    times: dict[str, list[float]] = {label: [] for label in variants}
    with torch.inference_mode():
        for round_index in range(rounds + 1):  # round 0 warms up
            for label, function in variants.items():
                synchronize(device)
                start_s = time.perf_counter()
                function()
                synchronize(device)
                if round_index:
                    times[label].append(time.perf_counter() - start_s)
    base = stats(times["official: one forward per person, fp32"])
    rows = []
    for label, samples in times.items():
        row = {"variant": label, "persons": persons, "nets": stats(samples)}
        row["speedup_median"] = base["median_s"] / row["nets"]["median_s"]
        row["speedup_min"] = base["min_s"] / row["nets"]["min_s"]
        rows.append(row)
    return rows
