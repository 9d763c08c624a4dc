"""What a recording path is: a rosbag2 folder, a bare .mcap or .db3, a ROS 1 .bag, a video file or an image folder.

`classify(path)` looks at the path's kind and first bytes (never at its name alone), so a renamed or truncated file
is refused with one line naming it and what was expected (RecordingInputError, a ValueError: the CLI's exit 2).
"""

from __future__ import annotations

from pathlib import Path

BAG, VIDEO, IMAGES = "bag", "video", "images"  # the kinds of input
MCAP_MAGIC = b"\x89MCAP0\r\n"
SQLITE_MAGIC = b"SQLite format 3\x00"
ROS1_MAGIC = b"#ROSBAG V2.0"
VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".mpg", ".mpeg")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
EXPECTED = (
    "a rosbag2 folder (metadata.yaml with .mcap or .db3 files), a bare .mcap or .db3 file, a ROS 1 .bag, a video "
    f"file ({', '.join(VIDEO_SUFFIXES)}) or a folder of images ({', '.join(IMAGE_SUFFIXES)})"
)


class RecordingInputError(ValueError):
    """A path that is not a recording this command reads (the message names it and what was expected)."""


def _magic(path: Path) -> bytes:
    with path.open("rb") as stream:
        return stream.read(16)


def bag_file_kind(path: Path) -> str | None:
    """ "mcap", "sqlite3" or "ros1" from a file's first bytes, else None."""
    head = _magic(path)
    if head.startswith(MCAP_MAGIC):
        return "mcap"
    if head.startswith(SQLITE_MAGIC):
        return "sqlite3"
    if head.startswith(ROS1_MAGIC):
        return "ros1"
    return None


def image_files(folder: Path) -> list[Path]:
    """The image files of a folder, sorted by name (the frame order)."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def classify(path: str | Path) -> str:
    """BAG, VIDEO or IMAGES for `path`.

    Raises:
        RecordingInputError: missing, unreadable, or none of those (the message names the path and EXPECTED).
    """
    path = Path(path)
    if not path.exists():
        raise RecordingInputError(f"{path}: no such file or folder; expected {EXPECTED}")
    if path.is_dir():
        files = [p for p in path.iterdir() if p.is_file()]
        if (path / "metadata.yaml").is_file() or any(p.suffix in (".mcap", ".db3") for p in files):
            return BAG
        if image_files(path):
            return IMAGES
        raise RecordingInputError(f"{path}: a folder without metadata.yaml, bag files or images; expected {EXPECTED}")
    try:
        kind = bag_file_kind(path)
    except OSError as error:
        raise RecordingInputError(f"{path}: cannot be read ({error}); expected {EXPECTED}") from None
    if kind is not None:
        return BAG
    if path.suffix.lower() in VIDEO_SUFFIXES:
        return VIDEO
    if path.suffix.lower() in (".mcap", ".db3", ".bag"):
        raise RecordingInputError(
            f"{path}: named like a bag but its content is not one (corrupt?); expected {EXPECTED}"
        )
    raise RecordingInputError(f"{path}: not a bag or a video; expected {EXPECTED}")
