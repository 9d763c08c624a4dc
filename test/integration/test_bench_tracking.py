"""Tracking benchmark: the noise models as documented, and a quick run writes the documented JSON and markdown."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mppe_ros.bench import tracking as bench_tracking
from mppe_ros.bench.tracking_metrics import jitter, mot_summary
from mppe_ros.bench.tracking_scenes import (
    CORRELATED_DEPTH,
    IID_DEPTH,
    NOISE_MODELS,
    NoiseModel,
    Scene,
    Walker,
    depth_biases,
    frames,
    make_scenes,
)
from mppe_ros.tracking.settings import TrackerSettings

FIGURES = {
    "scenes", "person_frames", "idf1", "mota", "id_switches", "id_switches_per_1000_person_frames",
    "false_positives", "misses", "jitter_raw_mm", "jitter_smoothed_mm", "jitter_truth_mm", "jitter_reduction",
    "jitter_raw_px", "jitter_smoothed_px", "lag_raw_ms", "lag_smoothed_ms", "added_lag_ms",
}  # fmt: skip
KINDS = {"crossing", "crossing_4", "walking_3", "reentry", "standing_4", "crowd_10", "variable_rate", "all_15hz"}
STILL = Walker(0, np.array([(0.0, 0.5, 4.0), (400.0, 0.5, 4.0)]))  # one person standing 4 m away


def test_the_depth_bias_is_an_ar1_with_the_stated_std_and_correlation_time():
    stamps = np.arange(0.0, 400.0, 1.0 / 15.0)
    bias = depth_biases(Scene("still", (STILL,), stamps), CORRELATED_DEPTH, np.random.default_rng(0))[0]
    assert CORRELATED_DEPTH.depth_bias_fraction == pytest.approx(np.sqrt(0.1**2 - 0.03**2))
    assert np.std(bias) == pytest.approx(CORRELATED_DEPTH.depth_bias_fraction, rel=0.15)
    lag = 15  # 1 s: correlation exp(-1 s / 2 s)
    assert np.corrcoef(bias[:-lag], bias[lag:])[0, 1] == pytest.approx(np.exp(-1.0 / 2.0), abs=0.08)
    iid = depth_biases(Scene("still", (STILL,), stamps), IID_DEPTH, np.random.default_rng(0))[0]
    assert not iid.any()
    with pytest.raises(ValueError, match="depth_frame_fraction"):
        NoiseModel(depth_frame_fraction=0.2)


@pytest.mark.parametrize("name", sorted(NOISE_MODELS))
def test_both_models_give_10_percent_depth_error_in_all_and_differ_from_frame_to_frame(name):
    scene = Scene("still", (STILL,), np.arange(0.0, 300.0, 1.0 / 15.0))
    errors = np.array([result.persons[0].root_depth_mm / 4000.0 - 1.0
                       for _, result, sources, _ in frames(scene, NOISE_MODELS[name], np.random.default_rng(1))
                       if sources and sources[0] == 0])  # fmt: skip
    assert np.std(errors) == pytest.approx(0.10, rel=0.2)
    frame_to_frame = np.std(np.diff(errors)) / np.sqrt(2.0)  # of a bias plus white noise: about the white part
    assert frame_to_frame == pytest.approx(NOISE_MODELS[name].depth_frame_fraction, rel=0.2)


def test_quick_run_writes_the_documented_json_and_markdown(tmp_path, capsys):
    assert bench_tracking.main(["--quick", "--out", str(tmp_path), "--seeds", "3", "--machine", "test box"]) == 0
    report = json.loads((tmp_path / "bench_tracking.json").read_text())
    assert set(report) == {"seeds", "quick", "metrics_library", "machine", "settings", "noise_models",
                           "targets_noise_model", "results", "runtime_s"}  # fmt: skip
    assert report["seeds"] == [3] and report["quick"] is True and report["metrics_library"].startswith("motmetrics ")
    assert report["machine"] == "test box" and report["targets_noise_model"] == "correlated_depth"
    assert set(report["noise_models"]) == set(report["results"]) == {"correlated_depth", "iid_depth"}
    assert report["noise_models"]["iid_depth"]["depth_frame_fraction"] == 0.1
    for result in report["results"].values():
        assert set(result["scenes"]) == KINDS
        for kind, figures in result["scenes"].items():
            assert set(figures) == FIGURES, kind
            assert 0.0 <= figures["idf1"] <= 1.0 and figures["mota"] <= 1.0 and figures["person_frames"] > 0
            assert figures["jitter_smoothed_mm"] < figures["jitter_raw_mm"]
        assert set(result["targets"]) == set(bench_tracking.TARGETS)
        assert all(set(t) == {"value", "limit", "met"} for t in result["targets"].values())
        assert result["scenes"]["standing_4"]["id_switches"] == 0  # still people keep their ids
    assert report["settings"]["smoothing"] is True
    table = capsys.readouterr().out
    assert table == (tmp_path / "bench_tracking.md").read_text()
    assert "## correlated_depth" in table and "## iid_depth" in table and "| crossing |" in table
    assert "| target | value | limit | met |" in table and "machine: test box" in table


def test_same_seed_same_figures():
    def figures(seed: int) -> dict:
        scene = make_scenes(np.random.default_rng(seed), quick=True)[0]
        accumulator, segments = bench_tracking.run_scene(
            scene, TrackerSettings(), CORRELATED_DEPTH, np.random.default_rng((seed, 0))
        )
        return {**mot_summary([accumulator]), "jitter_mm": jitter(segments, "smoothed_m", 1000.0)}

    assert figures(1) == figures(1)
    assert figures(1) != figures(2)
