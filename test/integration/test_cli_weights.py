"""`mppe-ros weights [--download]` and the missing-weights message of `make demo`, against a local HTTP server
that stands in for Google Drive (confirmation page) and download.pytorch.org (a redirect), via the mirror."""

from __future__ import annotations

import http.server
import io
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import torch
from conftest import REPO_ROOT, child_env

from mppe_ros.apps.cli import main
from mppe_ros.detection import DETECTOR_MODELS, detector_weights_file
from mppe_ros.profiles import PROFILE_DETECTORS
from mppe_ros.weights import DEFAULT_WEIGHTS, DOWNLOAD_COMMAND, MIRROR_ENV, OFFICIAL_WEIGHTS, resolve_weights

DETECTOR = "fasterrcnn_resnet50_fpn"
DETECTOR_URL = DETECTOR_MODELS[DETECTOR][1].url
DETECTOR_FILE = Path(urlsplit(DETECTOR_URL).path).name
DETECTOR_FILES = {name: Path(urlsplit(DETECTOR_MODELS[name][1].url).path).name for name in PROFILE_DETECTORS}
POSENET_PATH, ROOTNET_PATH = "/posenet_muco/snapshot_24.pth.tar", "/rootnet_muco/snapshot_18.pth.tar"
CONFIRM_PAGE = """<!DOCTYPE html><html><head><title>Google Drive - Virus scan warning</title></head><body>
<p>Google Drive can't scan this file for viruses.</p><form id="download-form" action="{base}/download" method="get">
<input type="hidden" name="id" value="P"><input type="hidden" name="export" value="download">
<input type="hidden" name="confirm" value="t"><input type="hidden" name="uuid" value="u-1"></form></body></html>"""


def saved(content: object) -> bytes:
    buffer = io.BytesIO()
    torch.save(content, buffer)
    return buffer.getvalue()


CONV1 = torch.zeros(64, 3, 7, 7)
POSENET = saved({"epoch": 24, "network": {"module.backbone.conv1.weight": CONV1,
                                          "module.head.final_layer.bias": torch.zeros(1344)}})  # fmt: skip
ROOTNET = saved({"epoch": 18, "network": {"module.backbone.conv1.weight": CONV1,
                                          "module.root.depth_layer.weight": torch.zeros(1, 2048, 1, 1)}})  # fmt: skip
DETECTOR_STATE = saved(
    {
        "backbone.body.conv1.weight": CONV1,
        "rpn.head.conv.0.0.weight": torch.zeros(256, 256, 3, 3),
        "roi_heads.box_predictor.cls_score.weight": torch.zeros(91, 1024),
        "roi_heads.box_predictor.bbox_pred.weight": torch.zeros(364, 1024),
    }
)


class _Handler(http.server.BaseHTTPRequestHandler):
    """The mirror `<base>/<name>/<file>`: PoseNet through Drive's pages, RootNet direct, the detector redirected."""

    def log_message(self, *args) -> None:
        pass

    def _answer(self, status: int, headers: dict[str, str], body: bytes = b"") -> None:
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        server = self.server
        server.requests.append(self.path)
        path, query = urlsplit(self.path).path, parse_qs(urlsplit(self.path).query)
        binary = {"Content-Type": "application/octet-stream"}
        if path in server.html:  # a broken answer: an HTML page announced as a file
            self._answer(200, binary, server.html[path].encode())
        elif path == POSENET_PATH:  # like drive.google.com/uc -> drive.usercontent.google.com/download
            self._answer(303, {"Location": f"{server.base}/download?id=P&export=download"})
        elif path == "/download" and query.get("uuid") == ["u-1"]:
            self._answer(200, {**binary, "Content-Disposition": 'attachment; filename="snapshot_24.pth.tar"'}, POSENET)
        elif path == "/download":
            self._answer(
                200, {"Content-Type": "text/html; charset=utf-8"}, CONFIRM_PAGE.format(base=server.base).encode()
            )
        elif path == ROOTNET_PATH:
            self._answer(200, binary, ROOTNET)
        elif path in {f"/{name}/{file}" for name, file in DETECTOR_FILES.items()}:  # like a CDN redirect
            self._answer(302, {"Location": f"/models/{Path(path).name}"})
        elif path in {f"/models/{file}" for file in DETECTOR_FILES.values()}:
            self._answer(200, binary, DETECTOR_STATE)
        else:
            self._answer(404, {"Content-Type": "text/plain"}, b"not found")


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.requests, httpd.html = [], {}
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def homes(tmp_path, monkeypatch, server):
    """Empty weights and torchvision caches, downloads from the local server (for this process and children)."""
    monkeypatch.setenv("MPPE_ROS_HOME", str(tmp_path / "mppe_ros"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv(MIRROR_ENV, server.base)
    server.requests.clear()
    yield tmp_path
    server.html.clear()


def expected_files(home: Path) -> dict[Path, bytes]:
    return {
        home / "mppe_ros" / POSENET_PATH[1:]: POSENET,
        home / "mppe_ros" / ROOTNET_PATH[1:]: ROOTNET,
    } | {home / "torch/hub/checkpoints" / file: DETECTOR_STATE for file in DETECTOR_FILES.values()}


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.slow  # a child process that imports torch (7 s on 2 idle cores)
def test_download_fetches_the_four_files_where_they_are_looked_for(homes, server, capsys):
    done = subprocess.run(  # the real command, as a user types it from a checkout
        [sys.executable, "-m", "mppe_ros", "weights", "--download"],
        cwd=REPO_ROOT, env=child_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    for path, content in expected_files(homes).items():
        assert path.read_bytes() == content
    assert not list(homes.rglob("*.part"))
    assert "/download?id=P&export=download&confirm=t&uuid=u-1" in server.requests  # Drive's form was followed
    for name, what in (("posenet_muco", "3DMPPE PoseNet checkpoint"), ("rootnet_muco", "3DMPPE RootNet checkpoint"),
                       *((name, "torchvision COCO detector state_dict") for name in DETECTOR_FILES)):  # fmt: skip
        assert f"{name}: downloading {server.base}/{name}/" in done.stdout and f"checked: a {what})" in done.stdout
        assert f"{name}: [##############################] 100%" in done.stderr  # the progress bars, on stderr
    assert "all 4 weight files are present" in done.stdout
    # Found by the library's resolution, the detector and torchvision's own loader (no network for a cached file).
    posenet, rootnet = DEFAULT_WEIGHTS["muco_21"]
    assert set(resolve_weights({posenet: None, rootnet: None}).values()) <= set(expected_files(homes))
    assert detector_weights_file(DETECTOR) == homes / "torch/hub/checkpoints" / DETECTOR_FILE
    assert "roi_heads.box_predictor.cls_score.weight" in torch.hub.load_state_dict_from_url(
        DETECTOR_URL, weights_only=True, progress=False
    )
    # Once present, nothing is downloaded again; `mppe-ros weights` lists them as present.
    requests = len(server.requests)
    code, stdout, _ = run_cli(["weights", "--download"], capsys)
    assert code == 0 and stdout.count("(kept)") == 4 and len(server.requests) == requests
    code, stdout, _ = run_cli(["weights"], capsys)
    assert code == 0 and "the demo's 4 files are present" in stdout
    for path in expected_files(homes):
        assert f"present  {path}" in stdout


def test_a_refused_file_exits_2_and_leaves_no_partial_file(homes, server, capsys):
    server.html[POSENET_PATH] = "<!DOCTYPE html><html><head><title>Sign in</title></head><body>login</body></html>"
    code, stdout, stderr = run_cli(["weights", "--download"], capsys)
    assert code == 2 and "Traceback" not in stderr
    assert "\nmppe-ros: error: 1 of 4 weight files could not be downloaded (nothing partial was kept):\n" in stderr
    assert "posenet_muco: " in stderr and "sent an HTML page (" in stderr and 'title "Sign in"' in stderr
    assert "fetch it by hand: https://drive.google.com/file/d/1xjefKgjsH-W8v2lVn1Hbwzp2_Su7KtG0" in stderr
    posenet_file, *others = expected_files(homes)
    assert f"and put it at:    {posenet_file}" in stderr
    assert not posenet_file.exists() and list(posenet_file.parent.iterdir()) == []
    assert all(path.is_file() for path in others)  # the other files were still fetched
    assert not list(homes.rglob("*.part"))


def test_weights_lists_each_file_where_it_is_looked_for(homes, capsys):
    code, stdout, _ = run_cli(["weights"], capsys)
    assert code == 0
    assert f"weights cache: {homes / 'mppe_ros'} (set MPPE_ROS_HOME to change)" in stdout
    assert f"detector weights: torchvision's cache {homes / 'torch/hub'}/checkpoints (set TORCH_HOME" in stdout
    for path in expected_files(homes):
        assert f"missing  put it at {path}" in stdout
    assert stdout.count("missing  put it at") == len(OFFICIAL_WEIGHTS) + len(DETECTOR_MODELS)
    assert (
        f"the demo needs 4 files, 4 missing (posenet_muco, rootnet_muco, {', '.join(DETECTOR_FILES)}): "
        f"fetch them with `{DOWNLOAD_COMMAND}`" in stdout
    )


@pytest.mark.slow  # a child process that imports torch and rclpy and starts the node
def test_demo_without_weights_names_the_download_command(tmp_path):
    env = {**child_env(), "MPPE_ROS_HOME": str(tmp_path / "none"), "TORCH_HOME": str(tmp_path / "torch")}
    done = subprocess.run(
        [sys.executable, "-m", "mppe_ros", "demo", "--output", str(tmp_path / "out")],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    stderr = done.stderr
    assert "Traceback" not in stderr
    # The node's StartupError (built in mppe_ros.weights) names the command ...
    assert f"in one command, run: {DOWNLOAD_COMMAND} (from a checkout: .venv/bin/python -m mppe_ros weights" in stderr
    # ... and the demo lists the three files it needs, then the command once more.
    assert "mppe demo: the demo needs 4 weight files, 4 missing:" in stderr
    width = max(map(len, DETECTOR_FILES))  # the names are padded to the longest
    for name, file in DETECTOR_FILES.items():
        assert f"{name:<{width}}  MISSING  {tmp_path / 'torch/hub/checkpoints' / file}" in stderr
    assert (
        "mppe demo: fetch them all with one command: .venv/bin/python -m mppe_ros weights --download "
        f"(installed: {DOWNLOAD_COMMAND}), then run make demo again" in stderr
    )
