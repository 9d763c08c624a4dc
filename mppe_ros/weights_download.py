"""Download of one weight file: Google Drive's confirmation page, a progress line, an atomic write.

The data goes to `<file>.part`, is checked to load as a PyTorch file (mppe_ros.checkpoints.read_state_dict)
and is renamed only then, so a `.part` file is never used. mppe_ros.weights decides what to download.
"""

from __future__ import annotations

import html
import os
import re
import sys
import time
import urllib.request
from http.client import HTTPResponse
from pathlib import Path
from urllib.parse import urlencode, urljoin

from mppe_ros.checkpoints import CheckpointError, PathLike, read_state_dict

CHUNK_BYTES = 1 << 20
DOWNLOAD_TIMEOUT_S = 60.0  # per socket operation, not for the whole file
MAX_PAGE_BYTES = 1 << 20  # an HTML answer (Google Drive's confirmation page) is read up to this
PROGRESS_INTERVAL_S = 1.0


class WeightsDownloadError(OSError):
    """A download failed; the partial file has been removed."""


def _confirmation_url(page: str, page_url: str) -> str | None:
    """Google Drive's "cannot scan this file for viruses" page -> the URL confirming the download.

    Current pages hold a form (action + hidden inputs); older ones a link with `confirm=<token>`.
    """
    form = re.search(r'<form[^>]*\saction="([^"]+)"', page)
    if form:
        fields = []
        for tag in re.findall(r"<input[^>]*>", page):
            name, value = re.search(r'\sname="([^"]*)"', tag), re.search(r'\svalue="([^"]*)"', tag)
            if 'type="hidden"' in tag and name:
                fields.append((html.unescape(name[1]), html.unescape(value[1] if value else "")))
        action = urljoin(page_url, html.unescape(form[1]))
        return f"{action}?{urlencode(fields)}" if fields else action
    link = re.search(r'href="([^"]*confirm=[^"]*)"', page)
    return urljoin(page_url, html.unescape(link[1])) if link else None


def _open(url: str, timeout_s: float) -> HTTPResponse:
    """Open `url`, following one HTML confirmation page (large Google Drive files)."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    page_url, next_url = url, url
    for _ in range(2):  # the file, or Drive's confirmation page and then the file
        request = urllib.request.Request(next_url, headers={"User-Agent": "mppe_ros"})
        response: HTTPResponse = opener.open(request, timeout=timeout_s)
        if "text/html" not in response.headers.get("Content-Type", ""):
            return response
        with response:
            page = response.read(MAX_PAGE_BYTES).decode("utf-8", errors="replace")
        page_url = response.geturl()
        confirmed = _confirmation_url(page, page_url)
        if confirmed is None:
            break
        next_url = confirmed
    raise WeightsDownloadError(
        f"{page_url} answered with an HTML page instead of the file (quota exceeded, or the file "
        "is no longer shared?); download the file by hand"
    )


def _show_progress(label: str, received_bytes: int, total_bytes: int | None, done: bool) -> None:
    """One updating line on stderr when it is a terminal, else one line per call."""
    text = f"{label}: {received_bytes / 1e6:.1f} MB"
    if total_bytes:
        text += f" of {total_bytes / 1e6:.1f} MB ({100 * received_bytes / total_bytes:.0f}%)"
    interactive = sys.stderr.isatty()
    sys.stderr.write(("\r" if interactive else "") + text + ("\n" if done or not interactive else ""))
    sys.stderr.flush()


def download_file(url: str, destination: PathLike, *, label: str = "", timeout_s: float = DOWNLOAD_TIMEOUT_S) -> Path:
    """Download `url` to `destination` atomically, with progress on stderr.

    The data goes to `<destination>.part`; only a complete (Content-Length reached) file that
    holds a state_dict (mppe_ros.checkpoints.read_state_dict) is renamed to `destination`. On any
    failure the `.part` file is removed.

    Args:
        url: http(s) URL; an HTML answer is taken as Google Drive's confirmation page.
        destination: final file path; parent directories are created.
        label: name shown in the progress line (default: the file name).
        timeout_s: timeout of each network operation, s.

    Returns:
        `destination`.

    Raises:
        WeightsDownloadError: network error, HTTP error, incomplete or non-PyTorch content.
    """
    destination = Path(destination)
    part = destination.with_name(destination.name + ".part")
    destination.parent.mkdir(parents=True, exist_ok=True)
    try:
        with _open(url, timeout_s) as response, part.open("wb") as stream:
            length = response.headers.get("Content-Length")
            total_bytes = int(length) if length and length.isdigit() else None
            received_bytes, shown_s = 0, time.monotonic()
            while chunk := response.read(CHUNK_BYTES):
                stream.write(chunk)
                received_bytes += len(chunk)
                if time.monotonic() - shown_s > PROGRESS_INTERVAL_S:
                    _show_progress(label or destination.name, received_bytes, total_bytes, False)
                    shown_s = time.monotonic()
            _show_progress(label or destination.name, received_bytes, total_bytes, True)
        if received_bytes == 0 or (total_bytes is not None and received_bytes != total_bytes):
            raise WeightsDownloadError(
                f"download of {url} interrupted: received {received_bytes} of {total_bytes or '?'} bytes"
            )
        try:
            read_state_dict(part)
        except CheckpointError as error:
            raise WeightsDownloadError(
                f"{url} did not give a PyTorch weights file ({error}); download it by hand from the official link"
            ) from error
        os.replace(part, destination)
    except BaseException as error:  # incl. KeyboardInterrupt: never leave a .part behind
        part.unlink(missing_ok=True)
        if isinstance(error, WeightsDownloadError) or not isinstance(error, Exception):
            raise
        raise WeightsDownloadError(f"download of {url} failed: {error}") from error
    return destination
