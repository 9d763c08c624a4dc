"""Weight file resolution: explicit path, cache, messages, downloads from a local HTTP server."""

from __future__ import annotations

from pathlib import Path

import pytest

from mppe_ros.joint_sets import JOINT_SETS
from mppe_ros.weights import (
    DEFAULT_WEIGHTS,
    OFFICIAL_WEIGHTS,
    WeightsNotFoundError,
    cache_dir,
    cache_path,
    describe_weights,
    resolve_weights,
)


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
