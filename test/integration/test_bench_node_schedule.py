"""mppe_ros.bench.node_schedule: `mppe-ros bench --node-schedule` runs the real node over DDS with the detector on
every frame and with the detector schedule, in the same run. One short run (1 person, 320x240, 3 s per
configuration, the 320 px detector at 64 px) checks the accounting and the report; no speed is asserted."""

from __future__ import annotations

import pytest
from conftest import run_bench

from mppe_ros.bench import node_schedule


@pytest.fixture(scope="module")
def short_run(tmp_path_factory):
    arguments = ["--node-schedule", "--node-seconds", "3", "--node-persons", "1", "--node-intervals", "1",
                 "--sizes", "320x240", "--precision", "fp32", "--node-detector-min-size", "64"]  # fmt: skip
    return run_bench(arguments, tmp_path_factory.mktemp("node_schedule"), "node_schedule")


@pytest.mark.slow
def test_every_frame_and_the_schedule_are_measured_and_accounted_for(short_run):
    document, table, printed = short_run
    assert document["schema"] == node_schedule.SCHEMA and document["precision"] == "fp32"
    assert document["image_size"] == [320, 240] and document["detector_min_size_px"] == 64
    every_frame, scheduled = document["configurations"]
    assert (every_frame["detection_interval_s"], scheduled["detection_interval_s"]) == (0.0, 1.0)  # 0 added
    for configuration in (every_frame, scheduled):
        (row,) = configuration["rounds"]
        assert row["parameters"] == {"detection_interval_s": configuration["detection_interval_s"],
                                     "redetect_confidence": 0.0}  # fmt: skip
        assert row["results"] >= 1 and row["results_per_s"] == row["results"] / 3.0
        assert row["detector_calls"] == row["detector_runs"]  # the node counted what the detector did
        assert 0.0 < row["detector_median_s"] < 60.0
        assert row["detector_runs"] + row["track_crops"] == row["node_frames_processed"]
    assert every_frame["rounds"][0]["track_crops"] == 0 and every_frame["detector_share"] == 1.0
    assert every_frame["results_per_s_vs_every_frame"] == pytest.approx(1.0)
    assert scheduled["rounds"][0]["detector_runs"] >= 1
    assert "| 1 | 0 |" in table and "| 1 | 1 |" in table and "Goal (issue 13" in table
    assert "detection_interval_s 1: " in printed
