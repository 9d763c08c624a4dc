"""Tracking benchmark: the Tracker on synthetic scenes with known truth; MOT metrics and smoothing jitter / lag.

    python -m mppe_ros.bench.tracking [--quick] [--out DIR] [--seeds N ...] [--machine TEXT]

Every scene is tracked under each noise model of tracking_scenes.NOISE_MODELS: "correlated_depth" (RootNet-like:
the root depth error is a slowly drifting per-person bias plus a small per-frame part; the targets are judged on
it) and "iid_depth" (the same 10 % drawn afresh every frame: harsher). Seed s draws the scenes
(numpy.random.default_rng(s)) and scene k's detection noise (default_rng((s, k))), so both models see the same
people, misses and false positives; the figures pool every seed. Prints the markdown and writes
DIR/bench_tracking.json and DIR/bench_tracking.md:
    {"seeds", "quick", "metrics_library", "machine", "settings": TrackerSettings fields,
     "noise_models": {model: NoiseModel fields}, "targets_noise_model": "correlated_depth",
     "results": {model: {"scenes": {kind: {"scenes", "frames", "idf1", "mota", "id_switches", "person_frames",
                                          "id_switches_per_1000_person_frames", "false_positives", "misses",
                                          "jitter_raw_mm", "jitter_smoothed_mm", "jitter_truth_mm",
                                          "jitter_reduction", "jitter_raw_px", "jitter_smoothed_px",
                                          "lag_raw_ms", "lag_smoothed_ms", "added_lag_ms"}},
                         "targets": {name: {"value", "limit", "met"}}}},
     "runtime_s"}
Kind "all_15hz" pools every 15 Hz scene (its lag: the moving ones, standing people have no lag to measure).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import time
from collections import defaultdict
from importlib.metadata import version
from pathlib import Path

import numpy as np

from mppe_ros.bench import tracking_metrics as metrics
from mppe_ros.bench.tracking_scenes import NOISE_MODELS, NoiseModel, Scene, frames, make_scenes
from mppe_ros.tracking import Tracker
from mppe_ros.tracking.settings import TrackerSettings

TARGETS_NOISE_MODEL = "correlated_depth"
TARGETS = {  # name: (scene kind, figure, limit, "min" or "max")
    "crossing_idf1": ("crossing", "idf1", 0.95, "min"),
    "crossing_id_switches_per_1000": ("crossing", "id_switches_per_1000_person_frames", 1.0, "max"),
    "crossing_4_idf1": ("crossing_4", "idf1", 0.95, "min"),
    "crossing_4_id_switches_per_1000": ("crossing_4", "id_switches_per_1000_person_frames", 1.0, "max"),
    "jitter_reduction": ("all_15hz", "jitter_reduction", 3.0, "min"),
    "added_lag_ms": ("all_15hz", "added_lag_ms", 50.0, "max"),
}
_COLUMNS = ("scenes", "person_frames", "idf1", "mota", "id_switches", "id_switches_per_1000_person_frames",
            "jitter_raw_mm", "jitter_smoothed_mm", "jitter_reduction", "added_lag_ms")  # fmt: skip


def run_scene(scene: Scene, settings: TrackerSettings, noise: NoiseModel, rng: np.random.Generator):
    """Track one scene: its motmetrics accumulator and the smoothing segments (see bench_tracking_metrics)."""
    tracker, accumulator = Tracker(settings), metrics.new_accumulator()
    walkers = {w.person_id: w for w in scene.walkers}
    runs: dict[tuple[int, int], list] = defaultdict(list)  # (person, track) -> [(stamp, tracked person)]
    for stamp_s, result, sources, truth in frames(scene, noise, rng):
        tracked = tracker.update(result, stamp_s)
        confirmed = [t for t in tracked if t.is_confirmed]
        metrics.add_frame(accumulator, list(truth), [box for _, box in truth.values()],
                          [t.track_id for t in confirmed], [t.person.box_xywh_px for t in confirmed])  # fmt: skip
        source_of = {id(person): source for person, source in zip(result.persons, sources, strict=True)}
        for t in confirmed:
            if source_of[id(t.person)] >= 0:
                runs[(source_of[id(t.person)], t.track_id)].append((stamp_s, t))
    segments = []
    gap_s = 1.5 * float(np.median(np.diff(scene.stamps_s)))
    for (person_id, _), samples in runs.items():
        breaks = [i + 1 for i in range(len(samples) - 1) if samples[i + 1][0] - samples[i][0] > gap_s]
        for part in np.split(np.arange(len(samples)), breaks):
            picked = [samples[i] for i in part]
            segments.append(metrics.Segment(
                walkers[person_id], np.array([s for s, _ in picked]),
                np.stack([t.person.joints_cam_m for _, t in picked]), np.stack([t.joints_m for _, t in picked]),
                np.stack([t.person.joints_px for _, t in picked]), np.stack([t.joints_px for _, t in picked]),
            ))  # fmt: skip
    return accumulator, segments


def _smoothing_figures(segments: list, lag_segments: list) -> dict[str, float]:
    raw_mm, smooth_mm = metrics.jitter(segments, "raw_m", 1000.0), metrics.jitter(segments, "smoothed_m", 1000.0)
    lag_raw, lag_smooth = metrics.lag_ms(lag_segments, "raw_m"), metrics.lag_ms(lag_segments, "smoothed_m")
    return {
        "jitter_raw_mm": raw_mm, "jitter_smoothed_mm": smooth_mm,
        "jitter_truth_mm": metrics.jitter(segments, "truth_m", 1000.0), "jitter_reduction": raw_mm / smooth_mm,
        "jitter_raw_px": metrics.jitter(segments, "raw_px"),
        "jitter_smoothed_px": metrics.jitter(segments, "smoothed_px"),
        "lag_raw_ms": lag_raw, "lag_smoothed_ms": lag_smooth, "added_lag_ms": lag_smooth - lag_raw,
    }  # fmt: skip


def run_benchmark(settings: TrackerSettings, noise: NoiseModel, quick: bool, seeds: list[int]) -> dict:
    """All scenes of every seed tracked with `settings` under `noise`: {"scenes": figures per kind, "targets"}."""
    per_kind: dict[str, tuple[list, list]] = defaultdict(lambda: ([], []))
    for seed in seeds:
        for index, scene in enumerate(make_scenes(np.random.default_rng(seed), quick)):
            accumulator, segments = run_scene(scene, settings, noise, np.random.default_rng((seed, index)))
            per_kind[scene.kind][0].append(accumulator)
            per_kind[scene.kind][1].extend(segments)
    kinds = {}
    for kind, (accumulators, segments) in per_kind.items():
        kinds[kind] = {"scenes": len(accumulators), **metrics.mot_summary(accumulators),
                       **_smoothing_figures(segments, segments)}  # fmt: skip
    fixed = [k for k in per_kind if k != "variable_rate"]
    pooled = [seg for k in fixed for seg in per_kind[k][1]]
    moving = [seg for k in fixed if not k.startswith("standing") for seg in per_kind[k][1]]
    kinds["all_15hz"] = {"scenes": sum(len(per_kind[k][0]) for k in fixed),
                         **metrics.mot_summary([a for k in fixed for a in per_kind[k][0]]),
                         **_smoothing_figures(pooled, moving)}  # fmt: skip
    targets = {}
    for name, (kind, figure, limit, sense) in TARGETS.items():
        value = kinds[kind][figure]
        targets[name] = {
            "value": value,
            "limit": limit,
            "met": bool(value >= limit if sense == "min" else value <= limit),
        }
    return {"scenes": kinds, "targets": targets}


def machine_label() -> str:
    """CPU model and logical CPU count of this machine (from /proc/cpuinfo where there is one)."""
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")
        ]
        model = names[0] if names else model
    return f"{model}, {os.cpu_count()} logical CPUs"


def _noise_words(noise: dict) -> str:
    """A NoiseModel's root depth error (its fields as a dict) in words."""
    total, frame = noise["depth_fraction"], noise["depth_frame_fraction"]
    if frame >= total:
        return f"root depth error std {total:.0%} of depth, drawn afresh every frame (i.i.d.)"
    bias = (total**2 - frame**2) ** 0.5
    return (f"root depth error std {total:.0%} of depth: a per-person bias of {bias:.1%} (AR(1), correlation time "
            f"{noise['depth_bias_time_s']:g} s) plus {frame:.0%} drawn afresh every frame")  # fmt: skip


def markdown_report(report: dict) -> str:
    """The figures per scene kind and the targets of each noise model, as markdown."""
    lines = [
        "# Tracking benchmark (python -m mppe_ros.bench.tracking)", "",
        f"- machine: {report['machine']}; {report['metrics_library']}; seeds {report['seeds']}"
        f"{' (quick)' if report['quick'] else ''}; {report['runtime_s']:.0f} s",
        f"- targets judged on `{report['targets_noise_model']}`; every noise model is reported",
    ]  # fmt: skip
    for model, result in report["results"].items():
        lines += ["", f"## {model}: {_noise_words(report['noise_models'][model])}", "",
                  "| kind | " + " | ".join(_COLUMNS) + " |", "|" + " --- |" * (len(_COLUMNS) + 1)]  # fmt: skip
        for kind, figures in result["scenes"].items():
            cells = [f"{figures[c]:.3g}" if isinstance(figures[c], float) else str(figures[c]) for c in _COLUMNS]
            lines.append(f"| {kind} | " + " | ".join(cells) + " |")
        lines += ["", "| target | value | limit | met |", "| --- | --- | --- | --- |"]
        lines += [f"| {n} | {t['value']:.3g} | {t['limit']:g} | {'yes' if t['met'] else 'NO'} |"
                  for n, t in result["targets"].items()]  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the markdown, write DIR/bench_tracking.{json,md}; 0 (targets are reported only)."""
    parser = argparse.ArgumentParser(prog="python -m mppe_ros.bench.tracking", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one short scene per kind (seconds, for tests)")
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for bench_tracking.json and .md")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds of the scenes and noise")
    parser.add_argument("--machine", default=None, help="how to name this machine in the report (default: its CPU)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    settings = TrackerSettings()
    results = {name: run_benchmark(settings, noise, args.quick, args.seeds) for name, noise in NOISE_MODELS.items()}
    report = {
        "seeds": args.seeds, "quick": args.quick, "metrics_library": f"motmetrics {version('motmetrics')}",
        "machine": args.machine or machine_label(), "settings": dataclasses.asdict(settings),
        "noise_models": {name: dataclasses.asdict(noise) for name, noise in NOISE_MODELS.items()},
        "targets_noise_model": TARGETS_NOISE_MODEL, "results": results, "runtime_s": time.perf_counter() - start,
    }  # fmt: skip
    text = markdown_report(report)
    print(text, end="")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_tracking.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.out / "bench_tracking.md").write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
