"""The tables a researcher pastes: our numbers beside the paper's, with the difference, per sequence and in total,
as Markdown and JSON, with the exact settings (weights' sha256, boxes source, precision, device, flip test).

Paper numbers: 3DMPPE (Moon et al., ICCV 2019) Tables 3-5 as shipped in the official READMEs, RootNet's README
(MRPE, AP_root); 3DPCK_abs from the supplementary material as issue 23 quotes it.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from mppe_ros.evaluation.mupots_summary import SequenceScore

PAPER_MUPOTS = {
    "3DPCK_rel, all annotated (%)": 81.8,
    "3DPCK_rel, matched only (%)": 82.5,
    "3DPCK_abs, matched only (%)": 31.8,
    "AP_root@25cm (%)": 31.0,
}
PAPER_H36M = {
    (1, False): ("PA-MPJPE (mm)", 35.2),
    (1, True): ("PA-MPJPE (mm)", 34.0),
    (2, False): ("MPJPE (mm)", 54.4),
    (2, True): ("MPJPE (mm)", 53.3),
}
PAPER_MRPE = {"MRPE (mm)": 120.0, "MRPE x (mm)": 23.3, "MRPE y (mm)": 23.0, "MRPE z (mm)": 108.1}
MUPOTS_MODES = {  # table column -> (relative, matched_only)
    "rel_all": (True, False),
    "rel_matched": (True, True),
    "abs_all": (False, False),
    "abs_matched": (False, True),
}


def sha256_of(path: str | Path | None) -> str | None:
    """The file's sha256 (hex), None without a file."""
    if not path:
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _number(value: float | None) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else round(float(value), 4)


def comparison(ours: Mapping[str, float], paper: Mapping[str, float]) -> list[dict[str, Any]]:
    """Rows {metric, ours, paper, difference (ours - paper)} for every metric of `ours` (paper None if absent)."""
    rows = []
    for metric, value in ours.items():
        reference = paper.get(metric)
        difference = None if reference is None or math.isnan(value) else value - reference
        rows.append({"metric": metric, "ours": _number(value), "paper": reference, "difference": _number(difference)})
    return rows


def mupots_document(
    tables: Mapping[str, list[SequenceScore]], ap_root_fraction: float | None, settings: Mapping[str, Any]
) -> dict[str, Any]:
    """The MuPoTS-3D report: summary rows against the paper, per-sequence scores of each mode (MUPOTS_MODES)."""
    totals = {mode: rows[-1] for mode, rows in tables.items()}
    ours = {
        "3DPCK_rel, all annotated (%)": totals["rel_all"].pck,
        "3DPCK_rel, matched only (%)": totals["rel_matched"].pck,
        "3DPCK_abs, matched only (%)": totals["abs_matched"].pck,
        "3DPCK_abs, all annotated (%)": totals["abs_all"].pck,
        "AUC_rel, all annotated (%)": totals["rel_all"].auc,
    }
    if ap_root_fraction is not None:
        ours["AP_root@25cm (%)"] = 100 * ap_root_fraction
    sequences = {mode: [_score_json(row) for row in rows] for mode, rows in tables.items()}
    return {"dataset": "MuPoTS-3D", "settings": dict(settings), "summary": comparison(ours, PAPER_MUPOTS),
            "sequences": sequences}  # fmt: skip


def _score_json(row: SequenceScore) -> dict[str, Any]:
    return {key: (_number(value) if isinstance(value, float) else value) for key, value in asdict(row).items()}


def h36m_document(
    protocol: int, gt_info: bool, error_mm: float, per_action_mm: Mapping[str, float], mrpe: Mapping[str, float],
    samples: int, settings: Mapping[str, Any],
) -> dict[str, Any]:  # fmt: skip
    """The Human3.6M report: the protocol's error and RootNet's MRPE against the paper, per action."""
    metric, paper = PAPER_H36M[(protocol, gt_info)]
    ours = {metric: error_mm, **mrpe}
    reference = {metric: paper, **(PAPER_MRPE if protocol == 2 else {})}
    return {"dataset": f"Human3.6M protocol {protocol}", "settings": {**settings, "samples": samples},
            "summary": comparison(ours, reference),
            "per_action_mm": {name: _number(value) for name, value in per_action_mm.items()}}  # fmt: skip


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def _signed(value: float | None) -> str | None:
    return None if value is None else f"{value:+.1f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in rows]


def markdown(document: Mapping[str, Any]) -> str:
    """The report as Markdown: settings, the comparison with the paper, then per sequence or per action."""
    lines = [f"# {document['dataset']}: our numbers and the paper's", "", "Settings:", ""]
    lines += [f"- {key}: {value}" for key, value in document["settings"].items()]
    summary = [[row["metric"], row["ours"], row["paper"], _signed(row["difference"])] for row in document["summary"]]
    lines += ["", *_table(["metric", "ours", "paper", "ours - paper"], summary)]
    if "sequences" in document:
        modes = document["sequences"]
        names = [row["name"] for row in modes["rel_all"]]
        header = ["sequence", "annotated", "undetected", "3DPCK rel all", "rel matched", "abs matched", "abs all",
                  "AUC rel all", "rel all visible", "rel all occluded"]  # fmt: skip
        rows = []
        for index, name in enumerate(names):
            rel_all = modes["rel_all"][index]
            rows.append([name, rel_all["annotated"], rel_all["undetected"], rel_all["pck"],
                         modes["rel_matched"][index]["pck"], modes["abs_matched"][index]["pck"],
                         modes["abs_all"][index]["pck"], rel_all["auc"], rel_all["pck_visible"],
                         rel_all["pck_occluded"]])  # fmt: skip
        lines += ["", "Per sequence (3DPCK@150 mm, %; Total pools every person of every sequence):", ""]
        lines += _table(header, rows)
    if "per_action_mm" in document:
        lines += ["", "Per action (mm):", "", *_table(["action", "error"], list(document["per_action_mm"].items()))]
    return "\n".join(lines) + "\n"


def write_report(document: Mapping[str, Any], folder: Path, stem: str) -> tuple[Path, Path]:
    """`<stem>.md` and `<stem>.json` in `folder` (created); returns both paths."""
    folder.mkdir(parents=True, exist_ok=True)
    md_path, json_path = folder / f"{stem}.md", folder / f"{stem}.json"
    md_path.write_text(markdown(document))
    json_path.write_text(json.dumps(document, indent=2) + "\n")
    return md_path, json_path
