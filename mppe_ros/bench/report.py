"""Readable tables (markdown) of a `mppe-ros bench` JSON document (mppe_ros.bench.benchmark)."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

STAGE_COLUMNS = ("image_conversion", "detection", "crop", "rootnet", "posenet", "decoding", "message_building")
RUN_HEADER = (
    "device", "precision", "image", "persons", "end to end", "p90", "fps", "conversion", "detection", "crop",
    "RootNet", "PoseNet", "decoding", "message", "nets", "official nets", "speed-up nets", "speed-up e2e",
    "GFLOP/s", "% GEMM", "peak RSS MiB", "CUDA max MiB",
)  # fmt: skip


def _ms(stage: dict[str, float] | None, key: str = "median_s") -> str:
    return "n/a" if stage is None else f"{stage[key] * 1000:.1f}"


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def _number(value: float | None, scale: float = 1.0, digits: int = 0, suffix: str = "") -> str:
    return "n/a" if value is None else f"{value * scale:.{digits}f}{suffix}"


def _table(header: tuple[str, ...], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(r) + " |" for r in rows]


def progress_line(record: dict[str, Any]) -> str:
    """One line per measured configuration, printed while the benchmark runs."""
    stages = record["stages"]
    speedup = record.get("speedup_vs_reference", {}).get("nets_median")
    width, height = record["image_size"]
    return (
        f"{record['device']} {record['precision']} {width}x{height} {record['config']} ({record['persons']} persons): "
        f"end to end {_ms(stages['end_to_end'])} ms, nets {_ms(stages['nets'])} ms, "
        f"vs official per-person {_ratio(speedup)}"
    )


def _run_row(run: dict[str, Any]) -> list[str]:
    stages, speedup = run["stages"], run.get("speedup_vs_reference", {})
    return [
        run["device"],
        run["precision"],
        "x".join(map(str, run["image_size"])),
        f"{run['persons']} ({run['config']})" if run["detector"] else str(run["persons"]),
        _ms(stages["end_to_end"]),
        _ms(stages["end_to_end"], "p90_s"),
        f"{run['fps']:.1f}",
        *(_ms(stages[name]) for name in STAGE_COLUMNS),
        _ms(stages["nets"]),
        _ms(run.get("reference", {}).get("nets")),
        _ratio(speedup.get("nets_median")),
        _ratio(speedup.get("end_to_end_median")),
        _number(run["achieved_flops_per_s"], 1e-9),
        _number(run["gemm_fraction"], 100.0, suffix="%"),
        _number(run["peak_rss_mb"]),
        _number(run["cuda_max_allocated_mb"]),
    ]


def _gemm_lines(document: dict[str, Any]) -> list[str]:
    measured: dict[tuple[str, str], list[float]] = {}
    for row in document["gemm"]:
        measured.setdefault((row["device"], row["precision"]), []).append(row["best"] / 1e9)
    lines = ["GEMM throughput (best of matmul and, on the CPU, a oneDNN 1x1 convolution), GFLOP/s:", ""]
    for (device, precision), values in measured.items():
        median = statistics.median(values)
        lines.append(f"- {device} {precision}: median {median:.0f}, max {max(values):.0f} ({len(values)} measurements)")
    return lines


def _accuracy_rows(document: dict[str, Any]) -> list[list[str]]:
    rows = [
        [row["device"], "ours fp32 vs official", str(row["persons"]), "", f"{row['joints_max_mm']:.4f}", "",
         f"{row['joints_max_px']:.5f}", f"{row['root_depth_max_mm']:.4f}"]
        for row in document["parity_vs_official"]
    ]  # fmt: skip
    rows += [
        [row["device"], f"{row['precision']} vs fp32", str(row["persons"]), f"{row['joints_mean_mm']:.3f}",
         f"{row['joints_max_mm']:.3f}", f"{row['joints_mean_px']:.4f}", f"{row['joints_max_px']:.4f}",
         f"{row['root_depth_max_mm']:.3f}"]
        for row in document["accuracy"]
    ]  # fmt: skip
    return rows


def _node_line(node: dict[str, Any]) -> str:
    if "skipped" in node:
        return "Node level: " + node["skipped"]
    latency = "no result" if node["latency_median_s"] is None else (
        f"median {node['latency_median_s'] * 1000:.0f} ms, p99 {node['latency_p99_s'] * 1000:.0f} ms"
    )  # fmt: skip
    return (
        f"Node level ({node['device']} {node['precision']}, {node['persons']} persons, "
        f"{node['image_size'][0]}x{node['image_size'][1]}): {node['published']} images at {node['rate_hz']:.0f} Hz "
        f"for {node['seconds']:.0f} s; publish-to-result latency {latency}; "
        f"{node['skipped_share'] * 100:.1f}% of the frames got no result (the node received "
        f"{node['node_images_received']} images, paired {node['node_pairs_received']}, skipped "
        f"{node['node_frames_skipped']} for newer ones, processed {node['node_frames_processed']})"
    )


def markdown(document: dict[str, Any]) -> str:
    """The benchmark as markdown: machine, stage table, references, accuracy, ablation, notes."""
    machine, flops = document["machine"], document["flops_per_person"]
    load_end = machine.get("load_average_end", [float("nan")])[0]
    override = machine.get("cpu_native_bf16_override")
    native_bf16 = str(machine["cpu_native_bf16"])
    if override:
        native_bf16 += f" (set by MPPE_ROS_CPU_NATIVE_BF16={override})"
    lines = [
        "# mppe_ros benchmark",
        "",
        f"- CPU: {machine['cpu_model']} ({machine['cpu_count']} logical CPUs, torch threads "
        f"{machine['torch_threads']}, {machine['torch_cpu_capability']}, native bf16: {native_bf16}); "
        f"GPU: {machine['cuda_device'] or 'none'}",
        f"- torch {machine['torch']}, OpenCV {machine['opencv']}, Python {machine['python']}; load average "
        f"{machine['load_average_start'][0]:.2f} at the start, {load_end:.2f} at the end; glibc malloc: "
        f"{', '.join(machine.get('malloc_settings', [])) or 'as is'}",
        f"- weights: {document.get('weights')}; FLOPs per person: PoseNet {flops['posenet'] / 1e9:.2f} G + "
        f"RootNet {flops['rootnet'] / 1e9:.2f} G = {flops['total'] / 1e9:.2f} GFLOP",
        "- times in ms, median over frames (p90 and min in the JSON); `nets` = RootNet + PoseNet stage; "
        "`official` = the official per-person float32 loop on the same frame in the same run; `% GEMM` = "
        "achieved FLOP/s of the nets stage over a large GEMM of the same precision measured just before",
        "",
        *_table(RUN_HEADER, [_run_row(run) for run in document["runs"]]),
    ]
    if document["gemm"]:
        lines += ["", *_gemm_lines(document)]
    if document["accuracy"] or document["parity_vs_official"]:
        header = ("device", "compared", "persons", "joints mean mm", "joints max mm", "joints mean px",
                  "joints max px", "root depth max mm")  # fmt: skip
        lines += ["", *_table(header, _accuracy_rows(document))]
    if document["ablation"]:
        header = ("device", "variant", "persons", "median ms", "min ms", "speed-up (median)", "speed-up (min)")
        rows = [
            [row["device"], row["variant"], str(row["persons"]), _ms(row["nets"]), _ms(row["nets"], "min_s"),
             _ratio(row["speedup_median"]), _ratio(row["speedup_min"])]
            for row in document["ablation"]
        ]  # fmt: skip
        lines += ["", "Ablation (RootNet + PoseNet on the same crops, interleaved rounds):", "", *_table(header, rows)]
    if document.get("node"):
        lines += ["", _node_line(document["node"])]
    if document["notes"]:
        lines += ["", "Notes:", "", *(f"- {note}" for note in document["notes"])]
    return "\n".join(lines) + "\n"


def soak_markdown(document: dict[str, Any]) -> str:
    """The soak (mppe_ros.bench.soak) as markdown: settings, one row per measurement, slopes and node counters."""
    machine, node, slopes = document["machine"], document["node"], document["slopes"]
    width, height = document["image_size"]
    rows = [
        [str(p["frame"]), f"{p['elapsed_s']:.0f}", f"{p['rss_mb']:.1f}", f"{p['heap_mb']:.3f}", str(p["gc_objects"])]
        for p in document["checkpoints"]
    ]
    lines = [
        "# mppe_ros node soak",
        "",
        f"- CPU: {machine['cpu_model']} ({machine['cpu_count']} logical CPUs, torch threads "
        f"{machine['torch_threads']}, {machine['torch_cpu_capability']}); torch {machine['torch']}; glibc malloc: "
        f"{', '.join(machine.get('malloc_settings', [])) or 'as is'}",
        f"- {document['frames']} frames after {document['warmup_frames']} warm-up frames, {width}x{height} bgr8, "
        f"{document['persons']} injected persons, {document['device']} {document['precision']}, one frame at a "
        f"time over DDS (reliable): {document['duration_s']:.0f} s, {document['frames_per_s']:.1f} frames/s",
        f"- node: received {node['images_received']} images and {node['camera_infos_received']} camera_infos, paired "
        f"{node['pairs_received']}, processed {node['frames_processed']}, skipped {node['frames_skipped']}, errors "
        f"{node['pipeline_errors']}; client received {document['results_received']} results and "
        f"{document['markers_received']} marker arrays",
        f"- RSS: {document['rss_method']}; heap: {document['heap_method']}; measured after gc.collect()",
        "",
        *_table(("frame", "elapsed s", "RSS MB", "heap MB", "gc objects"), rows),
        "",
        f"Slope after the warm-up: RSS {_number(slopes['rss_mb_per_1000_frames'], digits=3)} MB and heap "
        f"{_number(slopes['heap_mb_per_1000_frames'], digits=3)} MB per 1000 frames (goal < "
        f"{document['goal_mb_per_1000_frames']:g}: {'met' if document['goal_met'] else 'NOT met'}).",
    ]
    return "\n".join(lines) + "\n"


def write_outputs(out_dir: str | Path, stem: str, document: dict[str, Any], table: str) -> None:
    """Write `<stem>.json` and `<stem>.md` into `out_dir` (created), print the table and where they went."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{stem}.json").write_text(json.dumps(document, indent=2) + "\n")
    (out / f"{stem}.md").write_text(table)
    print(table)
    print(f"wrote {out / f'{stem}.json'} and {out / f'{stem}.md'}")
