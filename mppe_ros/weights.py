"""Where the released 3DMPPE weight files are: configuration, the cache, or a download.

Each file is resolved in this order: an explicit path from configuration (`posenet_path`,
`rootnet_path`; it must exist), then the cache `<cache>/<name>/<filename>` (cache =
`$MPPE_ROS_HOME`, default `~/.cache/mppe_ros`), then a download from the official link when
`allow_download` is set. A download goes to `<file>.part`, is checked to load as a PyTorch file
and is renamed only then, so a `.part` file is never used. Whatever is still missing is reported
in one `WeightsNotFoundError` that lists every file, its official link and where to put it.
The download itself (Google Drive's confirmation page, progress, atomic write): mppe_ros.weights_download.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from mppe_ros.checkpoints import PathLike
from mppe_ros.weights_download import WeightsDownloadError, download_file


@dataclass(frozen=True)
class OfficialWeights:
    """One released weight file.

    Attributes:
        name: key in OFFICIAL_WEIGHTS and cache subdirectory.
        network: "posenet" or "rootnet"; the `<network>_path` setting overrides the file.
        filename: released file name.
        joint_set: joint set of a PoseNet's output (mppe_ros.joint_sets); None for RootNet.
        link: official page to download the file by hand (the file, or the folder of all models).
        download_url: direct download URL, None when only a folder link is published.
        description: training data and use.
    """

    name: str
    network: str
    filename: str
    joint_set: str | None
    link: str
    download_url: str | None
    description: str


def _drive_file(file_id: str) -> tuple[str, str]:
    """(view link, direct download URL) of a shared Google Drive file."""
    return (
        f"https://drive.google.com/file/d/{file_id}/view?usp=sharing",
        f"https://drive.google.com/uc?export=download&id={file_id}&confirm=t",
    )


_POSENET_FOLDER = "https://drive.google.com/drive/folders/1El3qfdtgttO90X25k_680V2UCDv_TPoJ?usp=sharing"
_ROOTNET_FOLDER = "https://drive.google.com/drive/folders/1oGXqscxZpakld6j4Lj4hEDy8DCnh9cAs?usp=sharing"
_FOLDER_NOTE = "in the folder of all pre-trained models (no per-file link is published)"

OFFICIAL_WEIGHTS: dict[str, OfficialWeights] = {
    entry.name: entry
    for entry in (
        OfficialWeights(
            "posenet_muco", "posenet", "snapshot_24.pth.tar", "muco_21",
            *_drive_file("1xjefKgjsH-W8v2lVn1Hbwzp2_Su7KtG0"),
            "PoseNet, MuCo-3DHP + MSCOCO, 21 joints: the demo model",
        ),
        OfficialWeights(
            "rootnet_muco", "rootnet", "snapshot_18.pth.tar", None,
            *_drive_file("1ZHoXNFxBBsmis-5Xzu7dfXYGNxjpntgt"),
            "RootNet, MuCo-3DHP + MSCOCO: the demo model",
        ),
        OfficialWeights(
            "posenet_h36m_p1", "posenet", "snapshot_24.pth.tar", "h36m_18", _POSENET_FOLDER, None,
            f"PoseNet, Human3.6M Protocol 1 + MPII, 18 joints, {_FOLDER_NOTE}",
        ),
        OfficialWeights(
            "posenet_h36m_p2", "posenet", "snapshot_24.pth.tar", "h36m_18", _POSENET_FOLDER, None,
            f"PoseNet, Human3.6M Protocol 2 + MPII, 18 joints, {_FOLDER_NOTE}",
        ),
        OfficialWeights(
            "rootnet_h36m_p1", "rootnet", "snapshot_19.pth.tar", None, _ROOTNET_FOLDER, None,
            f"RootNet, Human3.6M Protocol 1 + MPII, {_FOLDER_NOTE}",
        ),
        OfficialWeights(
            "rootnet_h36m_p2", "rootnet", "snapshot_7.pth.tar", None, _ROOTNET_FOLDER, None,
            f"RootNet, Human3.6M Protocol 2 + MPII, {_FOLDER_NOTE}",
        ),
    )
}  # fmt: skip

# (PoseNet, RootNet) used for a joint set; Human3.6M: Protocol 1 (trained on more subjects).
DEFAULT_WEIGHTS: dict[str, tuple[str, str]] = {
    "muco_21": ("posenet_muco", "rootnet_muco"),
    "h36m_18": ("posenet_h36m_p1", "rootnet_h36m_p1"),
}


class WeightsNotFoundError(FileNotFoundError):
    """Weight files are not configured, cached or downloaded; the message says what to do."""


class WeightsStatus(NamedTuple):
    """A row of `describe_weights`: name, the file found (or None), and source."""

    name: str
    path: Path | None
    source: str  # "explicit", "cache" or "missing"


def cache_dir() -> Path:
    """`$MPPE_ROS_HOME` when set and not empty, else `~/.cache/mppe_ros`."""
    return Path(os.environ.get("MPPE_ROS_HOME") or Path.home() / ".cache" / "mppe_ros").expanduser()


def cache_path(entry: OfficialWeights, cache: PathLike | None = None) -> Path:
    """`<cache>/<name>/<filename>`, where the file is looked for and downloaded to."""
    return Path(cache if cache is not None else cache_dir()) / entry.name / entry.filename


def _find(entry: OfficialWeights, explicit: PathLike | None, cache: PathLike | None) -> WeightsStatus:
    """The configured file when `explicit` is set (never the cache then), else the cache file."""
    if explicit:
        source, path = "explicit", Path(explicit).expanduser()
    else:
        source, path = "cache", cache_path(entry, cache)
    return WeightsStatus(entry.name, path, source) if path.is_file() else WeightsStatus(entry.name, None, "missing")


def describe_weights(
    explicit_paths: Mapping[str, PathLike | None] | None = None, cache: PathLike | None = None
) -> list[WeightsStatus]:
    """Where each file of OFFICIAL_WEIGHTS is, for `mppe-ros weights`.

    Args:
        explicit_paths: name -> configured path (None or "": not configured).
        cache: cache directory; None: `cache_dir()`.

    Returns:
        One row per file, in table order; a configured path that does not exist is "missing".
    """
    explicit_paths = explicit_paths or {}
    return [_find(entry, explicit_paths.get(name), cache) for name, entry in OFFICIAL_WEIGHTS.items()]


def resolve_weights(
    requests: Mapping[str, PathLike | None],
    *,
    allow_download: bool = False,
    cache: PathLike | None = None,
    table: Mapping[str, OfficialWeights] = OFFICIAL_WEIGHTS,
) -> dict[str, Path]:
    """Find (or download) each requested weight file.

    Args:
        requests: name in `table` (e.g. "posenet_muco") -> configured path, or None / "" to use
            the cache.
        allow_download: download files missing from the cache (never files given explicitly).
        cache: cache directory; None: `cache_dir()`.
        table: the known weight files (OFFICIAL_WEIGHTS).

    Returns:
        name -> path of an existing file.

    Raises:
        ValueError: a requested name is not in `table`.
        WeightsNotFoundError: some files are missing; the message lists every one of them with
            its official link and the exact path to put it at.
    """
    unknown = sorted(set(requests) - set(table))
    if unknown:
        raise ValueError(f"unknown weights {unknown}; expected names from {sorted(table)}")
    found: dict[str, Path] = {}
    problems: list[tuple[OfficialWeights, str]] = []
    for name, explicit in requests.items():
        entry, status = table[name], _find(table[name], explicit, cache)
        if status.path is not None:
            found[name] = status.path
        elif explicit:
            problems.append((entry, f"the configured {entry.network}_path {explicit} is not an existing file"))
        elif not allow_download:
            problems.append((entry, "not in the cache, and downloads are off (allow_download)"))
        elif entry.download_url is None:
            problems.append((entry, "not in the cache, and it has no direct download link"))
        else:
            try:
                found[name] = download_file(entry.download_url, cache_path(entry, cache), label=name)
            except WeightsDownloadError as error:
                problems.append((entry, f"download failed: {error}"))
    if problems:
        raise WeightsNotFoundError(_missing_message(problems, cache))
    return found


def _missing_message(problems: list[tuple[OfficialWeights, str]], cache: PathLike | None) -> str:
    lines = [
        f"3DMPPE weights not found ({len(problems)} files). Download each file from its link and "
        "put it at the path shown, or set the posenet_path / rootnet_path setting to the file:"
    ]
    for entry, reason in problems:
        lines += [
            f"  {entry.name}: {entry.filename} ({entry.description})",
            f"    problem: {reason}",
            f"    {'link:  ' if entry.download_url else 'folder:'}  {entry.link}",
            f"    put at:  {cache_path(entry, cache)}",
            f"    or set:  {entry.network}_path",
        ]
    where = f"the cache directory {Path(cache if cache is not None else cache_dir())}"
    lines.append(f"Files are looked up in {where}; set MPPE_ROS_HOME to use another directory.")
    return "\n".join(lines)
