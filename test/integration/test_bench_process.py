"""mppe_ros.bench.recording: `mppe-ros bench --process` runs `mppe-ros process` on a generated bag and the live node
on the same frames, in the same run. One short run (320x240, 1 s at 30 Hz, the 320 px detector at 64 px) checks the
accounting and the report; no speed is asserted."""

from __future__ import annotations

import pytest
from conftest import run_bench

from mppe_ros.bench import recording


@pytest.mark.slow
def test_process_and_the_live_node_are_measured_on_the_same_frames(tmp_path):
    arguments = ["--process", "--process-seconds", "1", "--sizes", "320x240", "--precision", "fp32",
                 "--node-detector-min-size", "64"]  # fmt: skip
    document, table, printed = run_bench(arguments, tmp_path, "process")
    assert document["schema"] == recording.SCHEMA and document["image_size"] == [320, 240]
    offline, live = document["process"], document["node"]
    assert offline["frames"] == offline["processed"] == 30 and offline["skipped"] == 0  # every frame answered
    assert offline["frames_per_s"] == pytest.approx(offline["processed"] / offline["wall_s"])
    assert 1 <= offline["detector_calls"] < 30  # the detector schedule ran (tracks between detections)
    assert 1 <= live["results"] <= live["published"] and live["parameters"] == {"redetect_confidence": 0.0}
    assert document["process_vs_node"] == pytest.approx(offline["frames_per_s"] / live["results_per_s"])
    assert "| `mppe-ros process` | 30 | 30 |" in table and "| live node |" in table and "process / live node:" in table
    assert "process: 30 of 30 frames" in printed and "live node: " in printed
