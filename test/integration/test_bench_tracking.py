"""Tracking benchmark: a quick run writes the documented JSON and prints the table (no timing asserts)."""

from __future__ import annotations

import json

import numpy as np

from mppe_ros.bench import tracking as bench_tracking
from mppe_ros.bench.tracking_metrics import jitter, mot_summary
from mppe_ros.bench.tracking_scenes import NoiseModel, make_scenes
from mppe_ros.tracking_settings import TrackerSettings

FIGURES = {
    "scenes", "person_frames", "idf1", "mota", "id_switches", "id_switches_per_1000_person_frames",
    "false_positives", "misses", "jitter_raw_mm", "jitter_smoothed_mm", "jitter_truth_mm", "jitter_reduction",
    "jitter_raw_px", "jitter_smoothed_px", "lag_raw_ms", "lag_smoothed_ms", "added_lag_ms",
}  # fmt: skip
KINDS = {"crossing", "crossing_4", "walking_3", "reentry", "standing_4", "crowd_10", "variable_rate", "all_15hz"}


def test_quick_run_writes_the_documented_json(tmp_path, capsys):
    assert bench_tracking.main(["--quick", "--out", str(tmp_path), "--seed", "3"]) == 0
    report = json.loads((tmp_path / "bench_tracking.json").read_text())
    assert set(report) == {"seed", "quick", "metrics_library", "settings", "noise", "scenes", "targets", "runtime_s"}
    assert report["seed"] == 3 and report["quick"] is True and report["metrics_library"].startswith("motmetrics ")
    assert set(report["scenes"]) == KINDS
    for kind, figures in report["scenes"].items():
        assert set(figures) == FIGURES, kind
        assert 0.0 <= figures["idf1"] <= 1.0 and figures["mota"] <= 1.0 and figures["person_frames"] > 0
        assert figures["jitter_smoothed_mm"] < figures["jitter_raw_mm"]
    assert set(report["targets"]) == set(bench_tracking.TARGETS)
    assert all(set(t) == {"value", "limit", "met"} for t in report["targets"].values())
    assert report["settings"]["smoothing"] is True and report["noise"]["depth_fraction"] == 0.1
    assert report["scenes"]["standing_4"]["id_switches"] == 0  # still people keep their ids
    table = capsys.readouterr().out
    assert "| crossing |" in table and "| target | value | limit | met |" in table


def test_same_seed_same_figures():
    def figures(seed: int) -> dict:
        rng = np.random.default_rng(seed)
        scene = make_scenes(rng, quick=True)[0]
        accumulator, segments = bench_tracking.run_scene(scene, TrackerSettings(), NoiseModel(), rng)
        return {**mot_summary([accumulator]), "jitter_mm": jitter(segments, "smoothed_m", 1000.0)}

    assert figures(1) == figures(1)
    assert figures(1) != figures(2)
