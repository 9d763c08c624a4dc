"""Weight file resolution: explicit path, cache, messages, downloads from a local HTTP server."""

from __future__ import annotations

import dataclasses
import functools
import http.server
import threading
from pathlib import Path

import pytest
import torch

from mppe_ros.joint_sets import JOINT_SETS
from mppe_ros.weights import (
    DEFAULT_WEIGHTS,
    OFFICIAL_WEIGHTS,
    WeightsDownloadError,
    WeightsNotFoundError,
    cache_dir,
    cache_path,
    describe_weights,
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


def put(path: Path, content: bytes = b"weights") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def test_official_table():
    assert {name: (e.network, e.filename, e.joint_set) for name, e in OFFICIAL_WEIGHTS.items()} == {
        "posenet_muco": ("posenet", "snapshot_24.pth.tar", "muco_21"),
        "rootnet_muco": ("rootnet", "snapshot_18.pth.tar", None),
        "posenet_h36m_p1": ("posenet", "snapshot_24.pth.tar", "h36m_18"),
        "posenet_h36m_p2": ("posenet", "snapshot_24.pth.tar", "h36m_18"),
        "rootnet_h36m_p1": ("rootnet", "snapshot_19.pth.tar", None),
        "rootnet_h36m_p2": ("rootnet", "snapshot_7.pth.tar", None),
    }
    assert "1xjefKgjsH-W8v2lVn1Hbwzp2_Su7KtG0" in OFFICIAL_WEIGHTS["posenet_muco"].download_url
    assert "1ZHoXNFxBBsmis-5Xzu7dfXYGNxjpntgt" in OFFICIAL_WEIGHTS["rootnet_muco"].link
    assert "folders/1El3qfdtgttO90X25k_680V2UCDv_TPoJ" in OFFICIAL_WEIGHTS["posenet_h36m_p2"].link
    assert OFFICIAL_WEIGHTS["rootnet_h36m_p1"].download_url is None
    for joint_set, (posenet, rootnet) in DEFAULT_WEIGHTS.items():
        assert OFFICIAL_WEIGHTS[posenet].joint_set == joint_set and joint_set in JOINT_SETS
        assert OFFICIAL_WEIGHTS[rootnet].network == "rootnet"


def test_cache_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MPPE_ROS_HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home"
    assert cache_path(OFFICIAL_WEIGHTS["rootnet_muco"]) == tmp_path / "home/rootnet_muco/snapshot_18.pth.tar"
    monkeypatch.delenv("MPPE_ROS_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_dir() == tmp_path / ".cache" / "mppe_ros"


def test_explicit_path_wins_over_cache(tmp_path):
    cached = put(cache_path(OFFICIAL_WEIGHTS["posenet_muco"], tmp_path / "cache"))
    explicit = put(tmp_path / "mine.pth.tar")
    found = resolve_weights({"posenet_muco": explicit}, cache=tmp_path / "cache")
    assert found == {"posenet_muco": explicit}
    assert cached.is_file()


def test_missing_explicit_path_is_an_error_even_with_a_cached_file(tmp_path):
    put(cache_path(OFFICIAL_WEIGHTS["posenet_muco"], tmp_path))
    with pytest.raises(
        WeightsNotFoundError,
        match=r"configured posenet_path \S*nowhere.pth is not an existing file",
    ):
        resolve_weights({"posenet_muco": tmp_path / "nowhere.pth"}, cache=tmp_path)


def test_cache_hit_and_describe(tmp_path):
    cached = put(cache_path(OFFICIAL_WEIGHTS["rootnet_muco"], tmp_path))
    assert resolve_weights({"rootnet_muco": ""}, cache=tmp_path) == {"rootnet_muco": cached}
    explicit = put(tmp_path / "posenet.pth")
    rows = {row.name: row for row in describe_weights({"posenet_muco": explicit}, cache=tmp_path)}
    assert list(rows) == list(OFFICIAL_WEIGHTS)
    assert (rows["posenet_muco"].path, rows["posenet_muco"].source) == (explicit, "explicit")
    assert (rows["rootnet_muco"].path, rows["rootnet_muco"].source) == (cached, "cache")
    assert (rows["posenet_h36m_p1"].path, rows["posenet_h36m_p1"].source) == (None, "missing")


def test_missing_files_are_all_listed_with_link_and_path(tmp_path):
    entry = OFFICIAL_WEIGHTS["posenet_muco"]
    put(Path(f"{cache_path(entry, tmp_path)}.part"))  # a .part is never used
    requests = {"posenet_muco": None, "rootnet_muco": None, "rootnet_h36m_p2": None}
    with pytest.raises(WeightsNotFoundError) as caught:
        resolve_weights(requests, cache=tmp_path)
    message = str(caught.value)
    assert "(3 files)" in message
    for name in requests:
        assert f"  {name}: {OFFICIAL_WEIGHTS[name].filename}" in message
        kind = "link:  " if OFFICIAL_WEIGHTS[name].download_url else "folder:"
        assert f"{kind}  {OFFICIAL_WEIGHTS[name].link}" in message
        assert f"put at:  {cache_path(OFFICIAL_WEIGHTS[name], tmp_path)}" in message
    assert "or set:  posenet_path" in message and "or set:  rootnet_path" in message
    assert "downloads are off (allow_download)" in message and "MPPE_ROS_HOME" in message


def test_unknown_name():
    with pytest.raises(ValueError, match=r"unknown weights \['posenet_coco'\]"):
        resolve_weights({"posenet_coco": None})


def test_folder_only_models_are_not_downloaded(tmp_path):
    with pytest.raises(WeightsNotFoundError, match="no direct download link"):
        resolve_weights({"posenet_h36m_p1": None}, allow_download=True, cache=tmp_path)


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
