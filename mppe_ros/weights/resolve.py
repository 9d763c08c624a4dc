"""Where the released 3DMPPE weight files are: configuration, the cache, or a download.

Each file is resolved in this order: an explicit path from configuration (`posenet_path`,
`rootnet_path`; it must exist), then the cache `<cache>/<name>/<filename>` (cache =
`$MPPE_ROS_HOME`, default `~/.cache/mppe_ros`), then a download from the official link when
`allow_download` is set. A download goes to a temporary `<file>.<random>.part`, is checked (a
PyTorch file with the expected keys, see EXPECTED_CONTENT) and is renamed only then, so a `.part`
file is never used. Whatever is still missing is reported in one `WeightsNotFoundError` that lists
every file, its official link and where to put it, and names the one command that fetches the
demo's files (DOWNLOAD_COMMAND, `mppe-ros weights --download`).

Downloads come from the official links, or from a mirror when `$MPPE_ROS_WEIGHTS_MIRROR` is set
(a base URL serving `<name>/<filename>`, the layout of the cache; `download_url`). The detector's
COCO weights live in torchvision's cache instead (`torchvision_cache_file`, where torchvision looks).
The released files and what each must hold: mppe_ros.weights.official; the download itself (Google Drive's
confirmation page, progress bar, checks, atomic write): mppe_ros.weights.download.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlparse

import torch

from mppe_ros.checkpoints import PathLike
from mppe_ros.weights.download import DOWNLOAD_TIMEOUT_S, ExpectedContent, WeightsDownloadError, download_file
from mppe_ros.weights.official import EXPECTED_CONTENT, OFFICIAL_WEIGHTS, OfficialWeights

DOWNLOAD_COMMAND = "mppe-ros weights --download"
CHECKOUT_DOWNLOAD_COMMAND = ".venv/bin/python -m mppe_ros weights --download"  # the same, from a checkout
MIRROR_ENV = "MPPE_ROS_WEIGHTS_MIRROR"
_TORCH_HUB_HASH = re.compile(r"-([a-f0-9]{6,})\.")  # torch.hub's file names end in -<sha256 prefix>.<ext>


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


def download_command(detector: str | None = None) -> str:
    """The command that fetches the demo's weights; `--detector NAME` added for another detector."""
    return DOWNLOAD_COMMAND + (f" --detector {detector}" if detector else "")


def download_hint(detector: str | None = None) -> str:
    """The sentence of the missing-weights messages that names the one download command."""
    extra = f" --detector {detector}" if detector else ""
    return (
        "To fetch the demo's files (PoseNet and RootNet MuCo-3DHP, the detector's COCO weights) in one command, "
        f"run: {download_command(detector)} (from a checkout: {CHECKOUT_DOWNLOAD_COMMAND}{extra})"
    )


def mirror_url(name: str, filename: str) -> str | None:
    """`$MPPE_ROS_WEIGHTS_MIRROR/<name>/<filename>` when the mirror is set, else None."""
    mirror = os.environ.get(MIRROR_ENV, "").strip()
    return f"{mirror.rstrip('/')}/{name}/{filename}" if mirror else None


def download_url(entry: OfficialWeights) -> str | None:
    """Where `entry` is downloaded from: the mirror when set, else its official direct URL (or None)."""
    return mirror_url(entry.name, entry.filename) or entry.download_url


def torchvision_cache_file(url: str) -> Path:
    """`torch.hub.get_dir()/checkpoints/<file name of url>`: where torchvision looks for (and caches) `url`."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(url).path).name


def torch_hub_hash(filename: str) -> str | None:
    """The sha256 prefix in a torch.hub file name (`...-258fb6c6.pth` -> "258fb6c6"), or None."""
    found = _TORCH_HUB_HASH.search(filename)
    return found[1] if found else None


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
        elif (url := download_url(entry)) is None:
            problems.append((entry, "not in the cache, and it has no direct download link"))
        else:
            try:
                found[name] = download_file(
                    url, cache_path(entry, cache), label=name, expected=EXPECTED_CONTENT[entry.network]
                )
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
    if any(download_url(entry) for entry, reason in problems if not reason.startswith("the configured")):
        lines.append(download_hint() + ".")
    return "\n".join(lines)


@dataclass(frozen=True)
class WeightsFile:
    """A file that `mppe-ros weights` lists and `mppe-ros weights --download` fetches.

    Attributes:
        name: a key of OFFICIAL_WEIGHTS, or a detector model name (mppe_ros.detection.DETECTOR_MODELS).
        path: where it is looked for and downloaded to.
        url: where `--download` fetches it from; None: by hand only (folder link).
        link: the official page or URL, to fetch it by hand.
        expected: what the downloaded file must hold.
        description: what it is.
    """

    name: str
    path: Path
    url: str | None
    link: str
    expected: ExpectedContent
    description: str


def official_file(name: str, cache: PathLike | None = None) -> WeightsFile:
    """The OFFICIAL_WEIGHTS entry `name` as a WeightsFile in the cache (`cache_path`)."""
    entry = OFFICIAL_WEIGHTS[name]
    return WeightsFile(
        name, cache_path(entry, cache), download_url(entry), entry.link, EXPECTED_CONTENT[entry.network],
        entry.description,
    )  # fmt: skip


def detector_file(model_name: str, url: str, description: str = "") -> WeightsFile:
    """A torchvision detector's COCO weights at `url`, in torchvision's cache under torchvision's file name.

    From the official URL the sha256 prefix in the file name is checked (as torch.hub does); from
    the mirror (`$MPPE_ROS_WEIGHTS_MIRROR/<model_name>/<file name>`) only the content.
    """
    path = torchvision_cache_file(url)
    mirrored = mirror_url(model_name, path.name)
    expected = EXPECTED_CONTENT["detector"]
    if not mirrored:
        expected = replace(expected, sha256_prefix=torch_hub_hash(path.name))
    return WeightsFile(
        model_name, path, mirrored or url, url, expected,
        description or f"person detector {model_name}, torchvision's COCO weights",
    )  # fmt: skip


def download_files(
    files: Sequence[WeightsFile],
    *,
    report: Callable[[str], None] = print,
    timeout_s: float = DOWNLOAD_TIMEOUT_S,
) -> dict[str, Path]:
    """Fetch each file that is missing (present files are kept as they are), trying every one.

    Args:
        files: what to fetch (e.g. `official_file(...)`, `detector_file(...)`).
        report: receives one line per file: present, downloading (from, to), saved.
        timeout_s: timeout of each network operation, s.

    Returns:
        name -> path of each file, all present.

    Raises:
        WeightsNotFoundError: some files could not be fetched (the others were); the message lists
            each with the reason, its link and where to put it by hand.
    """
    found: dict[str, Path] = {}
    failed: list[tuple[WeightsFile, str]] = []
    for item in files:
        if item.path.is_file():
            report(f"{item.name}: present at {item.path} (kept)")
            found[item.name] = item.path
        elif item.url is None:
            failed.append((item, "it has no direct download link (only a folder link)"))
        else:
            report(f"{item.name}: downloading {item.url}\n{'':>{len(item.name) + 2}}to {item.path}")
            try:
                download_file(item.url, item.path, label=item.name, timeout_s=timeout_s, expected=item.expected)
            except WeightsDownloadError as error:
                failed.append((item, str(error)))
                continue
            size_mb = item.path.stat().st_size / 1e6
            report(f"{item.name}: saved {item.path} ({size_mb:.1f} MB, checked: {item.expected.what})")
            found[item.name] = item.path
    if failed:
        lines = [f"{len(failed)} of {len(files)} weight files could not be downloaded (nothing partial was kept):"]
        for item, reason in failed:
            lines += [
                f"  {item.name}: {reason}",
                f"    fetch it by hand: {item.link}",
                f"    and put it at:    {item.path}",
            ]
        raise WeightsNotFoundError("\n".join(lines))
    return found
