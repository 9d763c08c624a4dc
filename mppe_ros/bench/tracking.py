"""Tracking benchmark: the Tracker on synthetic scenes with known truth; MOT metrics and smoothing jitter / lag.

    python -m mppe_ros.bench.tracking [--quick] [--out DIR] [--seed N]

Prints a markdown table per scene kind and writes DIR/bench_tracking.json:
    {"seed", "quick", "metrics_library", "settings": TrackerSettings fields, "noise": NoiseModel fields,
     "scenes": {kind: {"scenes", "frames", "idf1", "mota", "id_switches", "person_frames",
                       "id_switches_per_1000_person_frames", "false_positives", "misses",
                       "jitter_raw_mm", "jitter_smoothed_mm", "jitter_truth_mm", "jitter_reduction",
                       "jitter_raw_px", "jitter_smoothed_px", "lag_raw_ms", "lag_smoothed_ms", "added_lag_ms"}},
     "targets": {name: {"value", "limit", "met"}}, "runtime_s"}
Kind "all_15hz" pools every 15 Hz scene (its lag: the moving ones, standing people have no lag to measure).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from collections import defaultdict
from importlib.metadata import version
from pathlib import Path

import numpy as np

from mppe_ros.bench import tracking_metrics as metrics
from mppe_ros.bench.tracking_scenes import NoiseModel, Scene, detect, make_scenes
from mppe_ros.tracking import Tracker
from mppe_ros.tracking_settings import TrackerSettings

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
    for stamp_s in scene.stamps_s:
        result, sources, truth = detect(scene, stamp_s, noise, rng)
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
                np.stack([t.person.joints_cam_m for _, t in picked]), np.stack([t.joints_cam_m for _, t in picked]),
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


def run_benchmark(settings: TrackerSettings, noise: NoiseModel, quick: bool, seed: int) -> dict:
    """All scenes tracked with `settings`; the figures per scene kind and the targets (the JSON's content)."""
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    per_kind: dict[str, tuple[list, list]] = defaultdict(lambda: ([], []))
    for scene in make_scenes(rng, quick):
        accumulator, segments = run_scene(scene, settings, noise, rng)
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
    return {
        "seed": seed, "quick": quick, "metrics_library": f"motmetrics {version('motmetrics')}",
        "settings": dataclasses.asdict(settings), "noise": dataclasses.asdict(noise),
        "scenes": kinds, "targets": targets, "runtime_s": time.perf_counter() - start,
    }  # fmt: skip


def markdown_table(report: dict) -> str:
    """The per-kind figures and the targets as markdown."""
    lines = ["| kind | " + " | ".join(_COLUMNS) + " |", "|" + " --- |" * (len(_COLUMNS) + 1)]
    for kind, figures in report["scenes"].items():
        cells = [f"{figures[c]:.3g}" if isinstance(figures[c], float) else str(figures[c]) for c in _COLUMNS]
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    lines += ["", "| target | value | limit | met |", "| --- | --- | --- | --- |"]
    lines += [f"| {n} | {t['value']:.3g} | {t['limit']:g} | {'yes' if t['met'] else 'NO'} |"
              for n, t in report["targets"].items()]  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the table, write DIR/bench_tracking.json; 0 (targets are reported, not enforced)."""
    parser = argparse.ArgumentParser(prog="python -m mppe_ros.bench.tracking", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one short scene per kind (seconds, for tests)")
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for bench_tracking.json")
    parser.add_argument("--seed", type=int, default=0, help="seed of numpy.random.default_rng")
    args = parser.parse_args(argv)
    report = run_benchmark(TrackerSettings(), NoiseModel(), args.quick, args.seed)
    print(markdown_table(report))
    print(f"\n{report['metrics_library']}; {report['runtime_s']:.1f} s")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_tracking.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
