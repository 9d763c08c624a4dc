"""mppe_ros.weights.download against a local HTTP server: Google Drive's confirmation page, direct files,
redirects, and every refused answer (truncated, HTML, wrong keys or hash) leaving no file behind."""

from __future__ import annotations

import hashlib
import http.server
import io
import os
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import torch

from mppe_ros.weights import (
    CHECKOUT_DOWNLOAD_COMMAND,
    DOWNLOAD_COMMAND,
    EXPECTED_CONTENT,
    MIRROR_ENV,
    OFFICIAL_WEIGHTS,
    WeightsDownloadError,
    WeightsNotFoundError,
    cache_path,
    detector_file,
    download_file,
    download_files,
    resolve_weights,
    torch_hub_hash,
    torchvision_cache_file,
)
from mppe_ros.weights.download import ExpectedContent, ProgressBar, check_weights_file, file_format

POSENET = EXPECTED_CONTENT["posenet"]
DETECTOR_URL = "https://download.pytorch.org/models/fasterrcnn_resnet50_fpn_coco-258fb6c6.pth"
# Google Drive today: uc?export=download -> 303 to drive.usercontent.google.com/download -> this page, whose form
# (hidden id, export, confirm, uuid) gives the file. Older pages: a link with confirm=<token>.
CONFIRM_PAGE = """<!DOCTYPE html><html><head><title>Google Drive - Virus scan warning</title></head><body>
<form id="search" action="/search"><input type="text" name="q"></form>
<p>Google Drive can't scan this file for viruses.</p><p>snapshot_24.pth.tar (412M) is too large.</p>
<form id="download-form" action="{base}/download" method="get"><input type="submit" value="Download anyway"/>
<input type="hidden" name="id" value="abc"><input type="hidden" name="export" value="download">
<input type="hidden" name="confirm" value="t"><input type="hidden" name="uuid" value="12a4-5678">
</form></body></html>"""
OLD_CONFIRM_PAGE = '<html><body><a id="uc-download-link" href="/uc?export=download&amp;confirm=Xy_1&amp;id=abc">'
QUOTA_PAGE = (
    "<!DOCTYPE html><html><head><title>Google Drive - Quota exceeded</title></head><body>Too many</body></html>"
)


def posenet_checkpoint(joint_num: int = 21) -> dict:
    """A tiny file in the released layout: DataParallel keys, epoch and optimizer entries."""
    network = {"module.backbone.conv1.weight": torch.zeros(64, 3, 7, 7), "module.head.final_layer.bias": torch.zeros(
        joint_num * 64)}  # fmt: skip
    return {"epoch": 24, "network": network, "optimizer": {"state": {}, "param_groups": [{"lr": 1e-5, "params": [0]}]}}


CONV1 = torch.zeros(64, 3, 7, 7)


def detector_state() -> dict:
    return {
        "backbone.body.conv1.weight": CONV1,
        "rpn.head.conv.0.0.weight": torch.zeros(256, 256, 3, 3),
        "roi_heads.box_predictor.cls_score.weight": torch.zeros(91, 1024),
        "roi_heads.box_predictor.bbox_pred.weight": torch.zeros(364, 1024),
    }


def saved(content: object, legacy: bool = False) -> bytes:
    buffer = io.BytesIO()
    torch.save(content, buffer, _use_new_zipfile_serialization=not legacy)
    return buffer.getvalue()


class DriveLikeServer(http.server.ThreadingHTTPServer):
    """127.0.0.1 server: `files` path -> (body, content type), plus Drive's pages and broken answers."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.base = f"http://127.0.0.1:{self.server_address[1]}"
        self.files: dict[str, tuple[bytes, str]] = {}
        self.requests: list[str] = []


class _Handler(http.server.BaseHTTPRequestHandler):
    server: DriveLikeServer

    def log_message(self, *args) -> None:  # keep the test output clean
        pass

    def _send(self, body: bytes, content_type: str, length: int | None = None, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length != -1:  # -1: no Content-Length, the body ends when the connection closes
            self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def _redirect(self, location: str, status: int = 303) -> None:
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        path, query = urlsplit(self.path).path, parse_qs(urlsplit(self.path).query)
        weights = self.server.files["/weights.pth"][0]
        if path == "/uc" and "confirm" in query and query["confirm"] != ["t"]:  # the old page's link
            self._send(weights, "application/octet-stream")
        elif path == "/uc":
            self._redirect(f"{self.server.base}/download?id={query['id'][0]}&export=download")
        elif path == "/download" and query.get("uuid") == ["12a4-5678"] and query.get("confirm") == ["t"]:
            self.send_response(200)  # Drive sends the file with its name, chunked length unknown here
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Disposition", 'attachment; filename="snapshot_24.pth.tar"')
            self.send_header("Content-Length", str(len(weights)))
            self.end_headers()
            self.wfile.write(weights)
        elif path == "/download":
            self._send(CONFIRM_PAGE.format(base=self.server.base).encode(), "text/html; charset=utf-8")
        elif path == "/old_drive":
            self._send(OLD_CONFIRM_PAGE.encode(), "text/html")
        elif path == "/quota":
            self._send(QUOTA_PAGE.encode(), "text/html; charset=utf-8")
        elif path == "/html_as_binary":  # a proxy's error page, announced as a binary file
            self._send(QUOTA_PAGE.encode(), "application/octet-stream")
        elif path == "/interrupted":  # announces the full size, sends half, hangs up
            self._send(weights[: len(weights) // 2], "application/octet-stream", len(weights))
        elif path == "/truncated":  # no Content-Length: only the content check sees the missing end
            self._send(weights[: len(weights) // 2], "application/octet-stream", -1)
        elif path.startswith("/moved/"):
            self._redirect(path.removeprefix("/moved"), 302)
        elif path in self.server.files:
            self._send(*self.server.files[path])
        else:
            self._send(b"not found", "text/plain", status=404)


@pytest.fixture(scope="module")
def server():
    httpd = DriveLikeServer()
    httpd.files.update({
        "/weights.pth": (saved(posenet_checkpoint()), "application/octet-stream"),
        "/legacy.pth": (saved(posenet_checkpoint(), legacy=True), "application/octet-stream"),
        "/rootnet.pth": (saved({"network": {"module.backbone.conv1.weight": torch.zeros(64, 3, 7, 7),
                                            "module.root.depth_layer.weight": torch.zeros(1, 2048, 1, 1)}}),
                         "application/octet-stream"),
        "/wrong_shape.pth": (saved({"backbone.conv1.weight": torch.zeros(64, 1, 7, 7),
                                    "head.final_layer.bias": torch.zeros(1344)}), "application/octet-stream"),
        "/not_torch.bin": (b"\x00\x01" * 500, "application/octet-stream"),
        "/detector.pth": (saved(detector_state()), "binary/octet-stream"),
    })  # fmt: skip
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


def served_table(url: str) -> dict:
    import dataclasses

    return {"posenet_muco": dataclasses.replace(OFFICIAL_WEIGHTS["posenet_muco"], download_url=url)}


def only(folder: Path) -> list[str]:
    return sorted(item.name for item in folder.iterdir())


@pytest.mark.parametrize(
    "path",
    ["/weights.pth", "/uc?export=download&id=abc&confirm=t", "/old_drive", "/moved/weights.pth", "/legacy.pth"],
    ids=["direct", "drive-confirmation-form", "drive-confirm-link", "redirect", "legacy-pickle"],
)
def test_download(server, tmp_path, capsys, path):
    found = resolve_weights(
        {"posenet_muco": None}, allow_download=True, cache=tmp_path, table=served_table(server.base + path)
    )
    target = cache_path(OFFICIAL_WEIGHTS["posenet_muco"], tmp_path)
    assert found == {"posenet_muco": target}
    served = server.files["/legacy.pth" if "legacy" in path else "/weights.pth"][0]
    assert target.read_bytes() == served
    assert only(target.parent) == [target.name]  # no .part left
    umask = os.umask(0o022)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # readable like any file the user writes
    assert "posenet_muco: [##############################] 100%" in capsys.readouterr().err  # the bar, on stderr


def test_drive_flow_follows_the_download_form(server, tmp_path):
    server.requests.clear()
    download_file(server.base + "/uc?export=download&id=abc", tmp_path / "f.pth", expected=POSENET)
    assert server.requests == ["/uc?export=download&id=abc", "/download?id=abc&export=download",
                               "/download?id=abc&export=download&confirm=t&uuid=12a4-5678"]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/interrupted", "interrupted: received"),
        ("/truncated", "the file cannot be loaded: it is not a readable PyTorch file"),
        ("/quota", r'answered with an HTML page \("Google Drive - Quota exceeded"\) instead of the file'),
        (
            "/html_as_binary",
            r'sent an HTML page \(\d+ bytes, title "Google Drive - Quota exceeded"\), not a checkpoint',
        ),
        ("/not_torch.bin", r"not a PyTorch file \(neither a zip archive nor a pickle"),
        ("/rootnet.pth", "did not give a 3DMPPE PoseNet checkpoint: missing keys head.final_layer.bias;"),
        ("/wrong_shape.pth", r"shapes differ: backbone.conv1.weight \(expected 64x3x7x7, got 64x1x7x7\)"),
        ("/no_such_file", "HTTP Error 404"),
    ],
)
def test_refused_download_leaves_nothing(server, tmp_path, path, expected):
    target = tmp_path / "posenet_muco" / "snapshot_24.pth.tar"
    with pytest.raises(WeightsDownloadError, match=expected):
        download_file(server.base + path, target, expected=POSENET)
    assert only(target.parent) == []
    with pytest.raises(WeightsNotFoundError, match=f"download failed: .*{expected}") as caught:
        resolve_weights(
            {"posenet_muco": None}, allow_download=True, cache=tmp_path, table=served_table(server.base + path)
        )
    assert f"put at:  {target}" in str(caught.value)
    assert only(target.parent) == []


def test_sha256_prefix_is_checked(server, tmp_path):
    data = server.files["/detector.pth"][0]
    good = ExpectedContent("a detector", sha256_prefix=hashlib.sha256(data).hexdigest()[:8])
    download_file(server.base + "/detector.pth", tmp_path / "ok.pth", expected=good)
    bad = ExpectedContent("a detector", sha256_prefix="258fb6c6")
    with pytest.raises(WeightsDownloadError, match=r"sha256 \w+\.\.\. does not start with 258fb6c6"):
        download_file(server.base + "/detector.pth", tmp_path / "bad.pth", expected=bad)
    assert only(tmp_path) == ["ok.pth"]


def test_detector_weights_go_to_torchvisions_cache(server, tmp_path, monkeypatch, capsys):
    """The detector's URL, redirected to the local server through the mirror, lands where torchvision looks."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    assert detector_file("fasterrcnn_resnet50_fpn", DETECTOR_URL).expected.sha256_prefix == "258fb6c6"  # official
    monkeypatch.setenv(MIRROR_ENV, server.base + "/moved")  # <mirror>/<name>/<file> -> 302 -> /detector.pth
    server.files["/fasterrcnn_resnet50_fpn/fasterrcnn_resnet50_fpn_coco-258fb6c6.pth"] = server.files["/detector.pth"]
    item = detector_file("fasterrcnn_resnet50_fpn", DETECTOR_URL)
    assert item.path == tmp_path / "torch/hub/checkpoints/fasterrcnn_resnet50_fpn_coco-258fb6c6.pth"
    assert item.url == f"{server.base}/moved/fasterrcnn_resnet50_fpn/fasterrcnn_resnet50_fpn_coco-258fb6c6.pth"
    lines: list[str] = []
    assert download_files([item], report=lines.append) == {"fasterrcnn_resnet50_fpn": item.path}
    assert "checked: a torchvision COCO detector state_dict" in lines[-1]
    # torchvision's own loader finds the file in its cache (no network: the URL is the official one).
    state = torch.hub.load_state_dict_from_url(DETECTOR_URL, weights_only=True, progress=False)
    assert set(state) == set(detector_state())
    assert download_files([item], report=lines.append) == {"fasterrcnn_resnet50_fpn": item.path}
    assert lines[-1].endswith("(kept)")


def test_mirror_serves_the_3dmppe_files(server, tmp_path, monkeypatch):
    server.files["/posenet_muco/snapshot_24.pth.tar"] = server.files["/weights.pth"]
    monkeypatch.setenv(MIRROR_ENV, server.base + "/")
    found = resolve_weights({"posenet_muco": None}, allow_download=True, cache=tmp_path)
    assert found["posenet_muco"].read_bytes() == server.files["/weights.pth"][0]


def test_download_files_tries_every_file_and_lists_the_failures(server, tmp_path, monkeypatch):
    monkeypatch.setenv(MIRROR_ENV, server.base)  # /rootnet_muco/... is not served: 404
    server.files["/posenet_muco/snapshot_24.pth.tar"] = server.files["/weights.pth"]
    from mppe_ros.weights import official_file

    items = [official_file("rootnet_muco", tmp_path), official_file("posenet_muco", tmp_path)]
    with pytest.raises(WeightsNotFoundError) as caught:
        download_files(items, report=lambda line: None)
    message = str(caught.value)
    assert message.startswith("1 of 2 weight files could not be downloaded (nothing partial was kept):")
    assert "rootnet_muco: download of" in message and "HTTP Error 404" in message
    assert f"and put it at:    {items[0].path}" in message and OFFICIAL_WEIGHTS["rootnet_muco"].link in message
    assert items[1].path.is_file() and only(items[0].path.parent) == []


def test_missing_message_names_the_download_command(tmp_path):
    with pytest.raises(WeightsNotFoundError) as caught:
        resolve_weights({"posenet_muco": None, "rootnet_muco": None}, cache=tmp_path)
    assert f"in one command, run: {DOWNLOAD_COMMAND} (from a checkout: {CHECKOUT_DOWNLOAD_COMMAND})" in str(
        caught.value
    )
    with pytest.raises(WeightsNotFoundError) as caught:  # a configured path that is missing: fix the path
        resolve_weights({"posenet_muco": tmp_path / "mine.pth"}, cache=tmp_path)
    assert DOWNLOAD_COMMAND not in str(caught.value)


def test_file_format_and_check(tmp_path):
    assert file_format(b"PK\x03\x04rest") == "zip" and file_format(b"\x80\x02\x8a\x0al") == "legacy"
    assert file_format(b"\n  <!DOCTYPE html>") == "html" and file_format(b"\x00\x01") == "unknown"
    path = tmp_path / "legacy.pth"
    path.write_bytes(saved(posenet_checkpoint(18), legacy=True))
    assert check_weights_file(path, POSENET) == "legacy"
    assert torch_hub_hash("maskrcnn_resnet50_fpn_coco-bf2d0c1e.pth") == "bf2d0c1e" and torch_hub_hash("a.pth") is None
    assert torchvision_cache_file(DETECTOR_URL).parent == Path(torch.hub.get_dir()) / "checkpoints"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar(monkeypatch):
    monkeypatch.setattr("mppe_ros.weights.download.PROGRESS_INTERVAL_S", 0.0)
    terminal = _Terminal()
    bar = ProgressBar("posenet_muco", 4_000_000, terminal)
    bar.update(1_000_000)
    bar.update(4_000_000)
    bar.close()
    frames = terminal.getvalue().split("\r")
    assert frames[1].startswith("posenet_muco: [########......................]  25%  1.0 of 4.0 MB  ")
    assert frames[3].startswith("posenet_muco: [##############################] 100%  4.0 of 4.0 MB")
    assert terminal.getvalue().endswith(" s\n")
    log = io.StringIO()  # not a terminal: whole lines only (CI logs)
    ProgressBar("x", None, log).close()
    assert "\r" not in log.getvalue() and log.getvalue().startswith("x: 0.0 MB  ")
