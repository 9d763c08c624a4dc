"""mppe_ros.weights_download: downloads against a local HTTP server (direct, Drive's confirmation page, failures)."""

from __future__ import annotations

import dataclasses
import functools
import http.server
import threading
from pathlib import Path

import pytest
import torch

from mppe_ros.weights import (
    OFFICIAL_WEIGHTS,
    WeightsDownloadError,
    WeightsNotFoundError,
    cache_path,
    download_file,
    resolve_weights,
)

CONFIRM_PAGE = """<!DOCTYPE html><html><body><p>Google Drive can't scan this file for viruses.</p>
<form id="download-form" action="/confirmed" method="get">
<input type="submit" value="Download anyway"/><input type="hidden" name="id" value="abc">
<input type="hidden" name="export" value="download"><input type="hidden" name="confirm" value="t">
<input type="hidden" name="uuid" value="1234-5678"></form></body></html>"""
QUOTA_PAGE = "<!DOCTYPE html><html><body>Too many users have viewed or downloaded this file.</body></html>"


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the directory, plus special paths that imitate Google Drive and broken servers."""

    def log_message(self, *args) -> None:  # keep the test output clean
        pass

    def _send(self, body: bytes, content_type: str, length: int | None = None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        weights = (Path(self.directory) / "weights.pth").read_bytes()
        if self.path == "/drive":
            self._send(CONFIRM_PAGE.encode(), "text/html; charset=utf-8")
        elif self.path == "/confirmed?id=abc&export=download&confirm=t&uuid=1234-5678":
            self._send(weights, "application/octet-stream")
        elif self.path == "/quota":
            self._send(QUOTA_PAGE.encode(), "text/html")
        elif self.path == "/interrupted":  # announces the full size, sends half, hangs up
            self._send(weights[: len(weights) // 2], "application/octet-stream", len(weights))
            self.close_connection = True
        else:
            super().do_GET()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Base URL of an HTTP server on 127.0.0.1 serving a tmp dir with `weights.pth` in it."""
    root = tmp_path_factory.mktemp("served")
    torch.save({"epoch": 0, "network": {"w": torch.arange(6.0)}}, root / "weights.pth")
    (root / "not_torch.bin").write_bytes(b"\x00\x01" * 500)
    handler = functools.partial(_Handler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    finally:
        httpd.shutdown()
        httpd.server_close()


def served_table(url: str) -> dict:
    return {"posenet_muco": dataclasses.replace(OFFICIAL_WEIGHTS["posenet_muco"], download_url=url)}


@pytest.mark.parametrize("path", ["/weights.pth", "/drive"], ids=["direct", "drive-confirmation"])
def test_download(server, tmp_path, capsys, path):
    base_url, root = server
    found = resolve_weights(
        {"posenet_muco": None},
        allow_download=True,
        cache=tmp_path,
        table=served_table(base_url + path),
    )
    target = cache_path(OFFICIAL_WEIGHTS["posenet_muco"], tmp_path)
    assert found == {"posenet_muco": target}
    assert target.read_bytes() == (root / "weights.pth").read_bytes()
    assert [item.name for item in target.parent.iterdir()] == [target.name]
    assert "posenet_muco:" in capsys.readouterr().err  # progress on stderr


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/interrupted", "interrupted: received"),
        ("/quota", "answered with an HTML page instead of the file"),
        ("/not_torch.bin", "did not give a PyTorch weights file"),
        ("/no_such_file", "HTTP Error 404"),
    ],
)
def test_failed_download_leaves_nothing(server, tmp_path, path, expected):
    base_url, _ = server
    target = tmp_path / "posenet_muco" / "snapshot_24.pth.tar"
    with pytest.raises(WeightsDownloadError, match=expected):
        download_file(base_url + path, target)
    assert list(target.parent.iterdir()) == []
    with pytest.raises(WeightsNotFoundError, match=f"download failed: .*{expected}") as caught:
        resolve_weights(
            {"posenet_muco": None},
            allow_download=True,
            cache=tmp_path,
            table=served_table(base_url + path),
        )
    assert f"put at:  {target}" in str(caught.value)
    assert list(target.parent.iterdir()) == []
