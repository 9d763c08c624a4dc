"""mppe_ros.bench.benchmark: `python -m mppe_ros bench --quick` writes the documented JSON and table."""

from __future__ import annotations

import argparse

import pytest
import torch
from conftest import REPO_ROOT, child_env, run_bench

from mppe_ros.apps import cli
from mppe_ros.bench import benchmark, machine
from mppe_ros.bench.throughput import gemm_plan
from mppe_ros.host_memory import MALLOC_SETTINGS, _glibc
from mppe_ros.precision import NATIVE_BF16_OVERRIDE_ENV

REPO = REPO_ROOT

RUN_KEYS = {
    "device", "precision", "image_size", "config", "persons", "detector", "stages", "fps", "reference",
    "speedup_vs_reference", "achieved_flops_per_s", "gemm_flops_per_s", "gemm_fraction", "peak_rss_mb",
    "cuda_max_allocated_mb",
}  # fmt: skip
STAGES = {"image_conversion", "detection", "crop", "rootnet", "posenet", "decoding", "message_building",
          "end_to_end", "nets"}  # fmt: skip


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """`python -m mppe_ros bench --quick` in a child process, as `make bench` runs it.

    Native bf16 is overridden off, so the default precisions are fp32 alone on every CPU (both defaults:
    test_default_precisions_follow_native_bf16).
    """
    env = {**child_env(), NATIVE_BF16_OVERRIDE_ENV: "0"}
    arguments = ["--quick", "--device", "cpu", "--persons", "2"]
    document, table, stdout = run_bench(arguments, tmp_path_factory.mktemp("bench"), "benchmark", env)
    assert "| cpu | fp32 | 320x240 | 2 |" in stdout  # the table is printed too
    return document, table


@pytest.mark.slow  # the quick_run fixture: `mppe-ros bench --quick` in a child process
def test_quick_run_writes_the_documented_json(quick_run):
    document, _ = quick_run
    assert document["schema"] == benchmark.SCHEMA
    assert {"machine", "settings", "weights", "flops_per_person", "runs", "gemm", "accuracy",
            "parity_vs_official", "ablation", "notes"} <= set(document)  # fmt: skip
    assert document["flops_per_person"]["total"] > 30e9  # ResNet-50 x2 at 256x256 + heads
    (run,) = document["runs"]
    assert RUN_KEYS <= set(run) and run["persons"] == 2 and run["device"] == "cpu"
    assert set(run["stages"]) == STAGES
    for stage in run["stages"].values():
        assert stage is None or {"median_s", "p90_s", "min_s", "mean_s", "samples"} <= set(stage)
    assert {"nets", "end_to_end"} == set(run["reference"])
    assert run["speedup_vs_reference"]["nets_median"] > 0 and 0 < run["gemm_fraction"]
    machine = document["machine"]
    assert machine["cpu_model"] and "load_average_end" in machine
    assert machine["cpu_native_bf16"] is False and machine["cpu_native_bf16_override"] == "0"
    assert any(note.startswith("cpu bf16 not run by default") for note in document["notes"])
    if _glibc() is not None:  # the entry point tuned malloc before anything else
        assert document["machine"]["malloc_settings"] == [name for name, *_ in MALLOC_SETTINGS]
    parity = document["parity_vs_official"][0]
    assert parity["joints_max_px"] < 0.01 and parity["joints_max_mm"] < 0.25


@pytest.mark.slow
def test_quick_run_writes_a_table(quick_run):
    _, table = quick_run
    assert "| device | precision | image | persons |" in table and "| cpu | fp32 | 320x240 | 2 |" in table
    assert "native bf16: False (set by MPPE_ROS_CPU_NATIVE_BF16=0)" in table


@pytest.mark.parametrize(("native", "precisions", "notes"), [("1", ["fp32", "bf16"], 0), ("0", ["fp32"], 1)])
def test_default_precisions_follow_native_bf16(monkeypatch, native, precisions, notes):
    monkeypatch.setenv(NATIVE_BF16_OVERRIDE_ENV, native)
    found: list[str] = []
    args = argparse.Namespace(precision=None, cuda_graphs=False)
    assert benchmark._variants(torch.device("cpu"), args, found) == [(name, False) for name in precisions]
    assert len(found) == notes and all("no native bfloat16" in note for note in found)
    assert machine.machine_info()["cpu_native_bf16"] is (native == "1")


@pytest.mark.parametrize(("native", "dtype", "plan"), [("1", torch.bfloat16, (2048, True)),
                                                      ("0", torch.bfloat16, (512, False)),
                                                      ("0", torch.float32, (2048, True))])  # fmt: skip
def test_the_gemm_reference_is_small_only_where_bf16_is_emulated(monkeypatch, native, dtype, plan):
    monkeypatch.setenv(NATIVE_BF16_OVERRIDE_ENV, native)
    assert gemm_plan(torch.device("cpu"), dtype) == plan
    assert gemm_plan(torch.device("cpu"), dtype, quick=True) == (512, plan[1])


def test_the_cli_has_a_bench_subcommand():
    args = cli.build_parser().parse_args(["bench", "--quick", "--persons", "1,3", "--sizes", "640x480"])
    assert args.handler is cli.run_bench and args.persons == [1, 3] and args.sizes == [(640, 480)]
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["bench", "--sizes", "640"])
