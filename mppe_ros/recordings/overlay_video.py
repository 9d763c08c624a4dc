"""`--video FILE`: the input frames with the skeletons and ids drawn (mppe_ros.overlay) and the stamp in a corner."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from mppe_ros.overlay import draw_poses


class OverlayVideo:
    """An mp4v video at `fps`, opened at the first frame (its size is the first frame's)."""

    def __init__(self, path: str | Path, fps: float) -> None:
        self.path, self.fps = Path(path), fps
        self._writer: Any = None
        self._size = (0, 0)  # (width, height) px of the video
        self.frames = 0

    def write(self, image_bgr: np.ndarray, stamp_ns: int, poses: dict[str, Any]) -> None:
        """One frame: [H, W, 3] uint8 BGR, its stamp (ns) and draw_poses' keyword arguments (the persons)."""
        canvas = draw_poses(image_bgr, **poses)
        cv2.putText(canvas, f"{stamp_ns * 1e-9:.3f} s", (8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 2)
        if self._writer is None:
            height, width = canvas.shape[:2]
            self._size = (width, height)
            self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter.fourcc(*"mp4v"), self.fps, (width, height))
            if not self._writer.isOpened():
                raise ValueError(f"cannot write video {str(self.path)!r} (unknown extension or unwritable path?)")
        if (canvas.shape[1], canvas.shape[0]) != self._size:  # a frame of another size: scaled to the video's
            canvas = cv2.resize(canvas, self._size)
        self._writer.write(canvas)
        self.frames += 1

    def close(self) -> None:
        """Finish the file (idempotent)."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None
