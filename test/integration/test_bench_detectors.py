"""mppe_ros.bench.detectors: `mppe-ros bench --detectors` times every Faster R-CNN choice against
fasterrcnn_resnet50_fpn in the same run. One tiny run (1 frame of 96x64, min size 64, float32 only) checks
the report's structure; no timing is asserted."""

from __future__ import annotations

import argparse

import pytest
from conftest import run_bench

from mppe_ros.bench import arguments as bench_arguments
from mppe_ros.bench import detectors as bench_detectors
from mppe_ros.detection import DETECTOR_MODELS

MODELS = [name for name in DETECTOR_MODELS if name.startswith("fasterrcnn_")]
MOBILENET_320 = "fasterrcnn_mobilenet_v3_large_320_fpn"


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """`python -m mppe_ros bench --detectors ...` in a child process, as a user runs it."""
    arguments = ["--detectors", "--sizes", "96x64", "--detector-min-size", "64", "--repeats", "1", "--warmup", "0",
                 "--precision", "fp32", "--machine-name", "test machine"]  # fmt: skip
    return run_bench(arguments, tmp_path_factory.mktemp("detectors"), "detectors")


@pytest.mark.slow
def test_every_detector_is_timed_against_resnet50_fpn_in_the_same_run(tiny_run):
    document, _, _ = tiny_run
    assert document["schema"] == bench_detectors.SCHEMA and document["baseline"] == "fasterrcnn_resnet50_fpn"
    assert (document["repeats"], document["warmup"], document["detector_min_size_px"]) == (1, 0, 64)
    assert document["options"] == {"sizes": [[96, 64]], "detector_min_size": 64, "repeats": 1, "warmup": 0,
                                   "threads": None, "precision": ["fp32"], "machine_name": "test machine"}  # fmt: skip
    assert MODELS == ["fasterrcnn_resnet50_fpn", "fasterrcnn_resnet50_fpn_v2", "fasterrcnn_mobilenet_v3_large_fpn",
                      MOBILENET_320]  # fmt: skip
    rows = document["runs"]
    assert [(row["model"], row["min_size_px"]) for row in rows] == [(name, 64) for name in MODELS] + [
        (MOBILENET_320, 320)
    ]
    for row in rows:
        assert row["precision"] == "fp32" and row["image_size"] == [96, 64] and row["proposals_median"] > 0
        assert row["parameters"] > 1e6
        for clock in ("wall", "cpu"):
            timed = row[clock]
            assert timed["time"]["samples"] == 1 and timed["time"]["median_s"] > 0 and len(timed["samples_s"]) == 1
            ratio = rows[0][clock]["time"]["median_s"] / timed["time"]["median_s"]
            assert timed["speedup_vs_baseline"]["median_s"] == pytest.approx(ratio)
            assert timed["speedup_vs_baseline"]["per_round_median"] == pytest.approx(ratio)  # one round
            assert timed["speedup_vs_fp32"] == 1.0
    assert all(value == 1.0 for value in rows[0]["cpu"]["speedup_vs_baseline"].values())
    by_size = {(row["model"], row["min_size_px"]): row for row in rows}
    assert by_size[(MOBILENET_320, 64)]["max_size_px"] == 640 and by_size[(MODELS[0], 64)]["max_size_px"] == 1333
    assert by_size[(MOBILENET_320, 64)]["input_size"] == [96, 64]  # min 64: the frame as it is
    assert by_size[(MOBILENET_320, 320)]["input_size"] == [480, 320]  # its own 320 px
    assert document["machine"]["name"] == "test machine" and document["machine"]["cpu_model"]
    assert "seeded random" in document["weights"] and not any("autocast" in note for note in document["notes"])


@pytest.mark.slow
def test_the_report_is_printed_and_written_as_a_table(tiny_run):
    document, table, stdout = tiny_run
    assert table.startswith("# mppe_ros person detectors (CPU)") and "- machine: test machine (" in table
    assert table in stdout and "96x64 round 1 of 1:" in stdout
    assert "| fasterrcnn_resnet50_fpn | fp32 | 96x64 | 64 / 1333 | 96x64 |" in table
    assert f"| {MOBILENET_320} | fp32 | 96x64 | 320 / 640 | 480x320 |" in table
    assert table.count("\n| fasterrcnn_") == len(document["runs"]) and "| 1.00x | 1.00x | 1.00x |  |" in table


def test_only_fp32_and_bf16_are_timed():
    parser = argparse.ArgumentParser()
    bench_arguments.add_arguments(parser)
    with pytest.raises(ValueError, match=r"--precision with --detectors must list fp32 and/or bf16 .* \['fp16'\]"):
        bench_detectors.main(parser.parse_args(["--detectors", "--precision", "fp32,fp16"]))
