"""`mppe-ros evaluate`: the commands on tiny synthetic data sets in the official formats (issues 23 and 24)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import scipy.io
from conftest import REPO_ROOT, child_env
from helpers_evaluation import SKELETON_MM, perfect_predictions, two_sequences, write_boxes, write_h36m, write_mupots

from mppe_ros.apps.cli import main
from mppe_ros.evaluation.prediction_files import FILE_2D, FILE_3D, write_prediction_files


def cli(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mppe_ros", "evaluate", *argv], cwd=REPO_ROOT, env=child_env(),
                          capture_output=True, text=True, timeout=300)  # fmt: skip


@pytest.fixture(scope="module")
def mupots(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mupots")
    scenes = two_sequences()
    write_mupots(folder, scenes, images=True)
    write_prediction_files(perfect_predictions(scenes), folder / "perfect")
    write_boxes(folder / "bbox_root_mupots_output.json", scenes)
    return folder


def summary(path):
    return {row["metric"]: row for row in json.loads(path.read_text())["summary"]}


@pytest.mark.slow  # child processes that import torch
def test_scoring_prediction_files_needs_no_network_and_prints_the_paper_beside(mupots, tmp_path):
    done = cli("mupots", "--data", str(mupots), "--predictions", str(mupots / "perfect"),
               "--boxes", str(mupots / "bbox_root_mupots_output.json"), "--out", str(tmp_path))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "| 3DPCK_rel, all annotated (%) | 100.0 | 81.8 | +18.2 |" in done.stdout
    assert "| Total | 5 | 0 | 100.0 |" in done.stdout
    rows = summary(tmp_path / "mupots.json")
    assert rows["3DPCK_abs, matched only (%)"]["ours"] == 100.0
    assert rows["AP_root@25cm (%)"]["ours"] == pytest.approx(80.0)  # 5 perfect roots: the first step is not counted
    assert (tmp_path / "mupots.md").read_text().startswith("# MuPoTS-3D")


@pytest.mark.slow
def test_networks_on_the_released_boxes_write_both_official_files_and_score_them(mupots, tmp_path):
    done = cli("mupots", "--data", str(mupots), "--boxes", str(mupots / "bbox_root_mupots_output.json"),
               "--out", str(tmp_path / "run"), "--untrained", "--device", "cpu")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "MEANINGLESS" in done.stderr
    preds_2d = scipy.io.loadmat(str(tmp_path / "run" / FILE_2D))
    preds_3d = scipy.io.loadmat(str(tmp_path / "run" / FILE_3D))
    keys = {"TS1_img_000000", "TS1_img_000001", "TS2_img_000000"}
    assert {k for k in preds_2d if not k.startswith("__")} == keys
    assert preds_2d["TS1_img_000000"].shape == (2, 17, 2) and preds_3d["TS1_img_000000"].shape == (2, 17, 3)
    assert preds_3d["TS2_img_000000"].shape == (1, 17, 3)
    # the released root depth is the pelvis' depth plus PoseNet's relative depth (within -1000 .. +969 mm)
    assert abs(preds_3d["TS2_img_000000"][0, 14, 2] - 4000.0) <= 1000.0
    document = json.loads((tmp_path / "run" / "mupots.json").read_text())
    assert document["settings"]["flip_test"] is True and len(document["settings"]["posenet_sha256"]) == 64
    again = cli("mupots", "--data", str(mupots), "--predictions", str(tmp_path / "run"), "--out", str(tmp_path / "b"))
    assert again.returncode == 0, again.stderr
    first, second = summary(tmp_path / "run" / "mupots.json"), summary(tmp_path / "b" / "mupots.json")
    assert first["3DPCK_rel, all annotated (%)"] == second["3DPCK_rel, all annotated (%)"]


def test_user_errors_are_one_line_and_exit_2(mupots, tmp_path, capsys):
    assert main(["evaluate", "mupots", "--data", str(tmp_path), "--predictions", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "no TS<n> sequence folder" in error and "Traceback" not in error
    assert main(["evaluate", "mupots", "--data", str(mupots), "--predictions", str(tmp_path)]) == 2
    assert f"{FILE_2D}: missing" in capsys.readouterr().err
    write_h36m(tmp_path / "h36m", frames=(0,), subjects=(11,))
    assert main(["evaluate", "h36m", "--data", str(tmp_path / "h36m"), "--protocol", "1"]) == 2
    assert "pass --boxes bbox_root_human36m_output.json" in capsys.readouterr().err


@pytest.mark.slow  # the networks on 2 crops, flipped
def test_h36m_with_ground_truth_boxes_and_roots(tmp_path, capsys):
    write_h36m(tmp_path, frames=(0, 1), subjects=(11,))
    code = main(["evaluate", "h36m", "--data", str(tmp_path), "--protocol", "1", "--gt-boxes-roots",
                 "--untrained", "--device", "cpu", "--out", str(tmp_path / "out")])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "| PA-MPJPE (mm) |" in out and "| 34.0 |" in out
    document = json.loads((tmp_path / "out" / "h36m_protocol1.json").read_text())
    assert document["settings"]["samples"] == 1 and document["settings"]["mrpe_roots"].startswith("our RootNet")


@pytest.mark.slow  # the networks on 2 crops, flipped
def test_h36m_with_the_released_boxes_reports_the_files_roots_mrpe(tmp_path, capsys):
    write_h36m(tmp_path, frames=(0, 64), subjects=(9, 11))
    entries = []
    errors = {(9, 0): [30.0, 0.0, 40.0], (9, 64): [0.0, -10.0, 0.0], (11, 0): [0.0] * 3, (11, 64): [0.0] * 3}
    for (subject, frame), error in errors.items():  # roots 50, 10, 0 and 0 mm off
        gt_root = SKELETON_MM[0] + [frame, 0.0, 5000.0]  # joint 0 (the Human3.6M root) of write_h36m's frame
        entries.append({"image_id": subject * 10000 + frame, "bbox": [200.0, 100.0, 256.0, 256.0],
                        "root_cam": (gt_root + error).tolist()})  # fmt: skip
    boxes = tmp_path / "bbox_root_human36m_output.json"
    boxes.write_text(json.dumps(entries))
    code = main(["evaluate", "h36m", "--data", str(tmp_path), "--protocol", "2", "--boxes", str(boxes),
                 "--untrained", "--device", "cpu", "--out", str(tmp_path / "out")])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    rows = summary(tmp_path / "out" / "h36m_protocol2.json")
    assert rows["MRPE (mm)"]["ours"] == pytest.approx(15.0) and rows["MRPE (mm)"]["paper"] == 120.0
    assert rows["MRPE z (mm)"]["ours"] == pytest.approx(10.0)
    assert rows["MPJPE (mm)"]["paper"] == 54.4
    entries.pop()
    boxes.write_text(json.dumps(entries))
    assert main(["evaluate", "h36m", "--data", str(tmp_path), "--protocol", "2", "--boxes", str(boxes),
                 "--untrained", "--device", "cpu", "--out", str(tmp_path / "out")]) == 2  # fmt: skip
    assert "no entry for image_id 110064" in capsys.readouterr().err
