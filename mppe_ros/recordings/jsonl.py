"""`--jsonl FILE`: one JSON object per answered frame, in processing order, flushed per line (docs/recordings.md).

    {"stamp": {"sec": int, "nanosec": int}, "stamp_s": float, "frame_id": str, "skeleton": str,
     "persons": [{"id": int, "is_tracked": bool, "score": float, "box_xywh_px": [x, y, w, h],
                  "root_m": [x, y, z], "joints_m": [[x, y, z] x J], "joint_confidences": [c x J],
                  "joints_px": [[u, v] x J]}]}

Metres in the camera optical frame (the image's frame_id); scores and confidences in [0, 1]. Floats are written
with Python's repr (exact round trip of the output bag's float64 values).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO


class JsonlWriter:
    """Writes frame records (dicts as above) to `path`, one line each."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._stream: TextIO | None = self.path.open("w", encoding="utf-8")

    def write(self, record: dict[str, Any]) -> None:
        """One frame's line."""
        if self._stream is None:
            raise ValueError(f"{self.path} is closed")
        self._stream.write(json.dumps(record, separators=(",", ":"), allow_nan=True) + "\n")
        self._stream.flush()

    def close(self) -> None:
        """Close the file (idempotent)."""
        if self._stream is not None:
            self._stream.close()
            self._stream = None


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Every record of a --jsonl file."""
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line]
