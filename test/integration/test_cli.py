"""`mppe-ros infer` and `mppe-ros weights`: outputs, JSON schema, and user errors (exit 2)."""

from __future__ import annotations

import contextlib
import io
import json

import cv2
import pytest

from mppe_ros.apps.cli import main
from mppe_ros.testing.synthetic import synthetic_frame

PERSON_KEYS = {
    "box_xywh_px", "processed_box_xywh_px", "score", "k_value", "root_depth_mm", "root_px", "root_cam_m",
    "joints_px", "joints_cam_m", "joint_confidence",
}  # fmt: skip
INTRINSICS = ["--fx", "1400", "--fy", "1450", "--cx", "330", "--cy", "230"]


@pytest.fixture(scope="module")
def image_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "scene.png"
    cv2.imwrite(str(path), synthetic_frame(640, 480, seed=7))
    return path


@pytest.fixture(scope="module")
def boxes_path(image_path):
    path = image_path.with_name("boxes.json")
    path.write_text(json.dumps([[700, 10, 30, 30], [200, 80, 120, 300], [400.5, 120, 90, 250]]))
    return path


@pytest.fixture(scope="module")
def untrained_run(image_path, boxes_path, tmp_path_factory):
    """One `infer --untrained` run shared by the tests below: (exit code, stdout, stderr, json, overlay)."""
    out = tmp_path_factory.mktemp("cli_out")
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["infer", str(image_path), *INTRINSICS, "--raw", "--dist", "-0.1", "0.01", "0", "0", "0",
                     "--boxes", str(boxes_path), "--untrained", "--device", "cpu",
                     "--json", str(out / "result.json"), "--overlay", str(out / "overlay.png")])  # fmt: skip
    return code, stdout.getvalue(), stderr.getvalue(), out / "result.json", out / "overlay.png"


def test_infer_untrained_writes_json_with_the_documented_schema(untrained_run, image_path):
    code, stdout, stderr, json_path, _ = untrained_run
    assert code == 0
    assert "RANDOM weights; the poses are MEANINGLESS" in stderr
    assert stdout.startswith("2 persons (muco_21)")
    document = json.loads(json_path.read_text())
    assert set(document) == {"image", "untrained", "joint_set", "joint_names", "root_index", "bones", "camera",
                             "timings_s", "persons"}  # fmt: skip
    assert document["untrained"] is True and document["image"] == str(image_path)
    assert document["joint_set"] == "muco_21" and len(document["joint_names"]) == 21 and document["root_index"] == 14
    assert len(document["bones"]) == 20
    assert document["camera"] == {"fx": 1400.0, "fy": 1450.0, "cx": 330.0, "cy": 230.0, "width": None, "height": None,
                                  "distortion": [-0.1, 0.01, 0.0, 0.0, 0.0], "rectified": False}  # fmt: skip
    assert set(document["timings_s"]) == {"detection", "crop", "rootnet", "posenet", "decoding"}
    persons = document["persons"]
    assert [p["box_xywh_px"] for p in persons] == [[200, 80, 120, 300], [400.5, 120, 90, 250]]  # outside box skipped
    for person in persons:
        assert set(person) == PERSON_KEYS
        assert len(person["joints_px"]) == len(person["joints_cam_m"]) == len(person["joint_confidence"]) == 21
        assert len(person["joints_cam_m"][0]) == 3 and len(person["root_px"]) == 2 and person["score"] == 1.0
        assert person["root_cam_m"][2] == pytest.approx(person["root_depth_mm"] / 1000.0)
        assert 1.0 < person["root_cam_m"][2] < 50.0  # untrained RootNet has gamma = 1: depth = k


def test_infer_writes_an_overlay_png(untrained_run):
    overlay = cv2.imread(str(untrained_run[4]))
    assert overlay is not None and overlay.shape == (480, 640, 3)
    assert (overlay != synthetic_frame(640, 480, seed=7)).any()


def run(argv, capsys):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_missing_weights_exit_2_with_the_message(image_path, boxes_path, capsys):
    code, _, stderr = run(["infer", str(image_path), *INTRINSICS, "--boxes", str(boxes_path)], capsys)
    assert code == 2
    assert stderr.startswith("mppe-ros: error: 3DMPPE weights not found")
    assert "posenet_muco" in stderr and "rootnet_muco" in stderr and "Traceback" not in stderr


def test_missing_explicit_checkpoint_exit_2(image_path, boxes_path, tmp_path, capsys):
    argv = ["infer", str(image_path), *INTRINSICS, "--boxes", str(boxes_path),
            "--posenet", str(tmp_path / "nope.pth.tar"), "--rootnet", str(tmp_path / "nope2.pth.tar")]  # fmt: skip
    code, _, stderr = run(argv, capsys)
    assert code == 2 and "posenet_path" in stderr and str(tmp_path / "nope.pth.tar") in stderr


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--fx", "0"], "camera fx must be a finite number > 0 (px), got 0.0"),
        (["--fy", "nan"], "camera fy must be a finite number > 0"),
        (["--dist", "0.1", "0", "0", "0"], "--dist describes a raw"),
        (["--raw", "--dist", "0.1", "0"], "4, 5, 8, 12 or 14"),
    ],
)
def test_bad_intrinsics_exit_2(image_path, extra, message, capsys):
    code, _, stderr = run(["infer", str(image_path), *INTRINSICS, *extra, "--untrained"], capsys)
    assert code == 2 and message in stderr and "Traceback" not in stderr


def test_fp16_on_the_cpu_exits_2_with_the_choices(image_path, boxes_path, capsys):
    argv = ["infer", str(image_path), *INTRINSICS, "--boxes", str(boxes_path), "--untrained", "--device", "cpu",
            "--precision", "fp16"]  # fmt: skip
    code, _, stderr = run(argv, capsys)
    assert code == 2 and "fp16 needs CUDA" in stderr and "Traceback" not in stderr


def test_bad_image_path_exit_2(tmp_path, capsys):
    code, _, stderr = run(["infer", str(tmp_path / "missing.jpg"), *INTRINSICS], capsys)
    assert code == 2 and "cannot read image" in stderr and stderr.count("\n") == 1


def test_malformed_boxes_exit_2(image_path, tmp_path, capsys):
    for content, message in (("{", "not valid JSON"), ('{"boxes": []}', "must hold a JSON list"), ("[[1, 2]]", "list")):
        (tmp_path / "boxes.json").write_text(content)
        code, _, stderr = run(["infer", str(image_path), *INTRINSICS, "--boxes", str(tmp_path / "boxes.json")], capsys)
        assert code == 2 and message in stderr


def test_weights_table(capsys):
    code, stdout, _ = run(["weights"], capsys)
    assert code == 0 and "weights cache: /nonexistent/mppe_ros_test_home" in stdout
    for name in ("posenet_muco", "rootnet_muco", "posenet_h36m_p1", "rootnet_h36m_p2"):
        assert name in stdout
    assert "missing" in stdout and "put it at" in stdout


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["infer"])
    assert exit_info.value.code == 2


@pytest.mark.slow  # a child process that imports the CLI (torch)
def test_infer_does_not_import_the_benchmark_or_ros():
    """`mppe-ros infer` imports the benchmark stack only for `mppe-ros bench` (a child: a fresh sys.modules)."""
    import subprocess
    import sys

    from conftest import REPO_ROOT, child_env

    code = "import sys, mppe_ros.apps.cli; print(' '.join(sorted(sys.modules)))"
    modules = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=child_env(), capture_output=True, text=True, check=True
    ).stdout.split()
    assert "mppe_ros.bench.arguments" in modules  # the bench options, argparse only
    assert not [m for m in modules if m.startswith(("mppe_ros.bench.benchmark", "mppe_ros.bench.measure", "rclpy"))]
