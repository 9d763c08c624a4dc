"""mppe_ros.bench.soak: `mppe-ros bench --soak-frames N` streams N frames through the real node and reports its
memory. A tiny soak checks the report's structure only (no memory or timing asserts)."""

from __future__ import annotations

import pytest
from conftest import REPO_ROOT, run_bench

from mppe_ros.apps import cli
from mppe_ros.bench import soak as bench_soak

REPO = REPO_ROOT
FRAMES, WARMUP_FRAMES, EVERY_FRAMES = 300, 50, 100


@pytest.fixture(scope="module")
def soak(tmp_path_factory):
    """`python -m mppe_ros bench --soak-frames 300` in a child process, as a user runs it."""
    arguments = ["--soak-frames", str(FRAMES), "--soak-warmup-frames", str(WARMUP_FRAMES),
                 "--soak-every", str(EVERY_FRAMES)]  # fmt: skip
    document, table, stdout = run_bench(arguments, tmp_path_factory.mktemp("soak"), "soak")
    assert "| frame | elapsed s | RSS MB | heap MB | gc objects |" in stdout  # the table is printed too
    return document, table


@pytest.mark.slow  # the soak fixture: a child process streaming 350 frames through the node
def test_the_soak_reports_each_measurement_and_the_slopes(soak):
    document, _ = soak
    assert document["schema"] == bench_soak.SCHEMA
    assert (document["frames"], document["warmup_frames"], document["persons"]) == (FRAMES, WARMUP_FRAMES, 0)
    assert [point["frame"] for point in document["checkpoints"]] == [0, 100, 200, 300]
    for point in document["checkpoints"]:
        assert set(point) == {"frame", "elapsed_s", "rss_mb", "heap_mb", "gc_objects"}
        assert point["rss_mb"] > 0 and point["heap_mb"] >= 0 and point["gc_objects"] > 0
    assert set(document["slopes"]) == {"rss_mb_per_1000_frames", "heap_mb_per_1000_frames"}
    assert all(isinstance(value, float) for value in document["slopes"].values())
    assert isinstance(document["goal_met"], bool) and document["goal_mb_per_1000_frames"] == 1.0
    assert "tracemalloc" in document["heap_method"] and document["machine"]["cpu_model"]


@pytest.mark.slow
def test_every_counted_frame_was_processed_by_the_node(soak):
    document, _ = soak
    sent = FRAMES + WARMUP_FRAMES
    node = document["node"]
    assert node["images_received"] == node["pairs_received"] == node["frames_processed"] == sent
    assert node["frames_skipped"] == node["pipeline_errors"] == 0
    assert document["results_received"] == document["markers_received"] == sent


@pytest.mark.slow
def test_the_soak_writes_a_table(soak):
    document, table = soak
    assert table.startswith("# mppe_ros node soak") and "| 300 |" in table
    assert f"processed {document['node']['frames_processed']}" in table and "per 1000 frames (goal < 1:" in table


def test_slope_is_the_least_squares_growth_per_1000_frames():
    assert bench_soak.slope_mb_per_1000_frames([0, 1000, 2000], [10.0, 10.5, 11.0]) == pytest.approx(0.5)
    assert bench_soak.slope_mb_per_1000_frames([0, 100, 200], [5.0, 5.0, 5.0]) == pytest.approx(0.0)
    assert bench_soak.slope_mb_per_1000_frames([0], [5.0]) is None


def test_the_bench_command_takes_the_soak_options():
    args = cli.build_parser().parse_args(["bench", "--soak-frames", "5", "--soak-persons", "1"])
    assert args.handler is cli.run_bench
    assert (args.soak_frames, args.soak_persons, args.soak_warmup_frames, args.soak_every) == (5, 1, 500, 1000)
    assert cli.build_parser().parse_args(["bench"]).soak_frames is None  # the benchmark, not a soak
