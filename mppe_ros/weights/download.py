"""Download of one weight file: Google Drive's confirmation page, a progress bar, checks, an atomic write.

The data goes to a temporary `<file>.<random>.part` next to the destination and is checked before it is
renamed to the destination (`os.replace`, atomic on one file system), so a partial or wrong file never
appears under the final name and is removed on any failure (Ctrl-C included). The checks
(`check_weights_file`): every announced byte arrived (Content-Length); the file is a PyTorch file, a zip
archive (torch >= 1.6) or a legacy pickle (the 2019 releases), never an HTML page; the sha256 starts with
the expected prefix when one is known (torch.hub's file names carry one); it loads with
`torch.load(weights_only=True)` (mppe_ros.checkpoints.read_state_dict) and holds the expected keys and
shapes. mppe_ros.weights decides what to download and from where.
"""

from __future__ import annotations

import hashlib
import html
import os
import re
import sys
import tempfile
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.client import HTTPResponse
from pathlib import Path
from typing import TextIO
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from mppe_ros.checkpoints import CheckpointError, PathLike, read_state_dict

CHUNK_BYTES = 1 << 20
DOWNLOAD_TIMEOUT_S = 60.0  # per socket operation, not for the whole file
MAX_PAGE_BYTES = 1 << 20  # an HTML answer (Google Drive's confirmation page) is read up to this
MAX_CONFIRMATIONS = 2  # HTML pages followed before giving up (Drive shows one)
PROGRESS_INTERVAL_S = 0.2  # redraw period of the bar on a terminal
LOG_INTERVAL_S = 10.0  # period of the progress lines when stderr is not a terminal (CI logs)
BAR_WIDTH = 30
_ZIP_MAGIC = b"PK\x03\x04"  # torch.save since torch 1.6
_PICKLE_PROTOCOLS = range(2, 6)  # legacy torch.save: a pickle, protocol 2 by default (b"\x80\x02")


class WeightsDownloadError(OSError):
    """A download failed or gave a wrong file; nothing was left at the destination."""


@dataclass(frozen=True)
class ExpectedContent:
    """What a downloaded weights file must hold.

    Attributes:
        what: the kind of file, for messages, e.g. "a 3DMPPE PoseNet checkpoint".
        keys: state_dict key (after removing `module.`) -> its shape, or None for any shape.
        sha256_prefix: lowercase hex prefix of the file's sha256; None: not checked.
    """

    what: str
    keys: Mapping[str, tuple[int, ...] | None] = field(default_factory=dict)
    sha256_prefix: str | None = None


def file_format(head: bytes) -> str:
    """ "zip", "legacy" (pickle), "html" or "unknown", from the first bytes of a file."""
    if head.startswith(_ZIP_MAGIC):
        return "zip"
    if len(head) >= 2 and head[0] == 0x80 and head[1] in _PICKLE_PROTOCOLS:
        return "legacy"
    if head.lstrip().lower().startswith((b"<!doctype", b"<html", b"<?xml", b"<head", b"<body")):
        return "html"
    return "unknown"


def _page_title(page: str) -> str:
    title = re.search(r"<title[^>]*>(.*?)</title>", page, re.IGNORECASE | re.DOTALL)
    return " ".join(html.unescape(title[1]).split())[:120] if title else ""


def check_weights_file(path: PathLike, expected: ExpectedContent | None = None, sha256: str | None = None) -> str:
    """Check that `path` is a PyTorch weights file with the expected content.

    Args:
        path: the file (a downloaded `.part`).
        expected: keys, shapes and hash it must have; None: only that it is a readable state_dict.
        sha256: the file's sha256 in hex when already computed (else computed when needed).

    Returns:
        The format: "zip" or "legacy".

    Raises:
        WeightsDownloadError: an HTML page, another format, a wrong hash, not loadable with
            `torch.load(weights_only=True)`, or keys / shapes that differ from `expected`; the
            message says which (the caller names the file and what it should be).
    """
    path = Path(path)
    with path.open("rb") as stream:
        head = stream.read(64)
    kind = file_format(head)
    if kind == "html":
        title = _page_title(path.read_bytes()[:MAX_PAGE_BYTES].decode("utf-8", errors="replace"))
        raise WeightsDownloadError(
            f"the server sent an HTML page ({path.stat().st_size} bytes"
            + (f', title "{title}"' if title else "")
            + "), not a checkpoint: the link is not a direct download, the quota is exceeded, or a proxy "
            "or login page answered"
        )
    if kind == "unknown":
        raise WeightsDownloadError(
            f"the data is not a PyTorch file (neither a zip archive nor a pickle; it starts with {head[:16]!r})"
        )
    if expected is not None and expected.sha256_prefix:
        if sha256 is None:
            digest = hashlib.sha256()
            with path.open("rb") as stream:
                while chunk := stream.read(CHUNK_BYTES):
                    digest.update(chunk)
            sha256 = digest.hexdigest()
        if not sha256.startswith(expected.sha256_prefix.lower()):
            raise WeightsDownloadError(
                f"the file's sha256 {sha256[:16]}... does not start with {expected.sha256_prefix} (the hash in its "
                "official name): corrupted or another file"
            )
    try:
        state_dict = read_state_dict(path)  # torch.load(..., weights_only=True)
    except CheckpointError as error:  # its message names the file: here the temporary one
        raise WeightsDownloadError(str(error).replace(f"checkpoint file {path} ", "the file ")) from error
    if expected is not None:
        missing = [key for key in expected.keys if key not in state_dict]
        wrong = [
            f"{key} (expected {'x'.join(map(str, shape))}, got {'x'.join(map(str, state_dict[key].shape))})"
            for key, shape in expected.keys.items()
            if shape is not None and key in state_dict and tuple(state_dict[key].shape) != shape
        ]
        if missing or wrong:
            raise WeightsDownloadError(
                "; ".join(
                    text
                    for text in (
                        f"missing keys {', '.join(missing)}" if missing else "",
                        f"shapes differ: {', '.join(wrong)}" if wrong else "",
                    )
                    if text
                )
            )
    return kind


def _confirmation_url(page: str, page_url: str) -> str | None:
    """Google Drive's "can't scan this file for viruses" page -> the URL confirming the download.

    Current pages hold a form `download-form` (action + hidden inputs id, export, confirm, uuid); older
    ones a link with `confirm=<token>`. None: no such form or link (a quota or error page).
    """
    forms = re.findall(r"(<form\b[^>]*>)(.*?)(?:</form>|$)", page, re.IGNORECASE | re.DOTALL)
    forms.sort(key=lambda form: 'id="download-form"' not in form[0])  # Drive's form first
    for tag, body in forms:
        action = re.search(r'\saction="([^"]*)"', tag)
        if not action:
            continue
        fields = []
        for field_tag in re.findall(r"<input\b[^>]*>", body, re.IGNORECASE):
            name, value = re.search(r'\sname="([^"]*)"', field_tag), re.search(r'\svalue="([^"]*)"', field_tag)
            if re.search(r'\stype="hidden"', field_tag, re.IGNORECASE) and name:
                fields.append((html.unescape(name[1]), html.unescape(value[1] if value else "")))
        if not fields:
            continue
        parts = urlsplit(urljoin(page_url, html.unescape(action[1])))
        query = urlencode(parse_qsl(parts.query) + fields)
        return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
    link = re.search(r'href="([^"]*[?&](?:amp;)?confirm=[^"]*)"', page)
    return urljoin(page_url, html.unescape(link[1])) if link else None


def _open(url: str, timeout_s: float) -> HTTPResponse:
    """Open `url` (redirects followed), then each HTML confirmation page's target (large Drive files)."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    next_url = url
    for _ in range(MAX_CONFIRMATIONS + 1):
        request = urllib.request.Request(next_url, headers={"User-Agent": "mppe_ros"})
        response: HTTPResponse = opener.open(request, timeout=timeout_s)
        if "text/html" not in response.headers.get("Content-Type", ""):
            return response
        with response:
            page = response.read(MAX_PAGE_BYTES).decode("utf-8", errors="replace")
        page_url = response.geturl()
        confirmed = _confirmation_url(page, page_url)
        if confirmed is None:
            title = _page_title(page)
            raise WeightsDownloadError(
                f"{page_url} answered with an HTML page"
                + (f' ("{title}")' if title else "")
                + " instead of the file (quota exceeded, or the file is no longer shared?)"
            )
        next_url = confirmed
    raise WeightsDownloadError(f"{url}: still an HTML page after {MAX_CONFIRMATIONS} confirmations")


class ProgressBar:
    """A progress bar on a text stream: redrawn in place on a terminal, a line every LOG_INTERVAL_S otherwise.

    `label: [#########.....................]  31%   42.5 of 137.2 MB  8.1 MB/s`
    """

    def __init__(self, label: str, total_bytes: int | None, stream: TextIO | None = None) -> None:
        self.label, self.total_bytes = label, total_bytes
        self.stream = stream if stream is not None else sys.stderr
        self.interactive = self.stream.isatty()
        self.started_s = self.shown_s = time.monotonic()
        self.received_bytes = 0

    def text(self) -> str:
        elapsed_s = max(time.monotonic() - self.started_s, 1e-6)
        rate = f"{self.received_bytes / 1e6 / elapsed_s:.1f} MB/s"
        if self.total_bytes:
            share = min(self.received_bytes / self.total_bytes, 1.0)
            filled = round(share * BAR_WIDTH)
            return (
                f"{self.label}: [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {100 * share:3.0f}%  "
                f"{self.received_bytes / 1e6:.1f} of {self.total_bytes / 1e6:.1f} MB  {rate}"
            )
        return f"{self.label}: {self.received_bytes / 1e6:.1f} MB  {rate}"

    def update(self, received_bytes: int) -> None:
        self.received_bytes = received_bytes
        now = time.monotonic()
        if now - self.shown_s >= (PROGRESS_INTERVAL_S if self.interactive else LOG_INTERVAL_S):
            self.shown_s = now
            self.stream.write(("\r" + self.text()) if self.interactive else self.text() + "\n")
            self.stream.flush()

    def close(self) -> None:
        elapsed_s = time.monotonic() - self.started_s
        self.stream.write(("\r" if self.interactive else "") + f"{self.text()}, {elapsed_s:.1f} s\n")
        self.stream.flush()


def download_file(
    url: str,
    destination: PathLike,
    *,
    label: str = "",
    timeout_s: float = DOWNLOAD_TIMEOUT_S,
    expected: ExpectedContent | None = None,
) -> Path:
    """Download `url` to `destination` atomically, with a progress bar on stderr.

    The data goes to a temporary `<destination>.<random>.part` in the same folder; only a complete
    file (Content-Length reached) that passes `check_weights_file` is renamed to `destination`. On
    any failure the temporary file is removed and `destination` is left as it was.

    Args:
        url: http(s) URL; redirects are followed, an HTML answer is taken as Google Drive's
            confirmation page and its form (or confirm link) followed.
        destination: final file path; parent directories are created.
        label: name shown in the progress bar (default: the file name).
        timeout_s: timeout of each network operation, s.
        expected: what the file must hold (keys, shapes, sha256 prefix); None: any state_dict.

    Returns:
        `destination`.

    Raises:
        WeightsDownloadError: network or HTTP error, an HTML page, incomplete data, or a file that
            is not the expected PyTorch weights.
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    descriptor, part_name = tempfile.mkstemp(prefix=f"{destination.name}.", suffix=".part", dir=destination.parent)
    part = Path(part_name)
    try:
        os.fchmod(descriptor, 0o666 & ~_umask())  # mkstemp's 0600 would hide a shared cache from other users
        with os.fdopen(descriptor, "wb") as stream, _open(url, timeout_s) as response:
            length = response.headers.get("Content-Length")
            total_bytes = int(length) if length and length.isdigit() else None
            progress, digest, received_bytes = ProgressBar(label or destination.name, total_bytes), hashlib.sha256(), 0
            while chunk := response.read(CHUNK_BYTES):
                stream.write(chunk)
                digest.update(chunk)
                received_bytes += len(chunk)
                progress.update(received_bytes)
            progress.close()
            stream.flush()
            os.fsync(stream.fileno())
        if received_bytes == 0 or (total_bytes is not None and received_bytes != total_bytes):
            raise WeightsDownloadError(
                f"download of {url} interrupted: received {received_bytes} of {total_bytes or '?'} bytes"
            )
        try:
            check_weights_file(part, expected, digest.hexdigest())
        except WeightsDownloadError as error:
            raise WeightsDownloadError(f"{url} did not give {_what(expected)}: {error}; nothing was saved") from None
        os.replace(part, destination)
    except BaseException as error:  # incl. KeyboardInterrupt: never leave a .part behind
        part.unlink(missing_ok=True)
        if isinstance(error, WeightsDownloadError) or not isinstance(error, Exception):
            raise
        raise WeightsDownloadError(f"download of {url} failed: {error}") from error
    return destination


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _what(expected: ExpectedContent | None) -> str:
    return expected.what if expected is not None else "a PyTorch weights file"
