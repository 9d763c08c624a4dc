"""Frames of a video file or an image folder, with stamps: frame i at i / fps s (deterministic, from 0).

A video's fps is its container's (CAP_PROP_FPS) unless given; an image folder's is `fps` (default 30 Hz) and its
frames are its images sorted by name. A frame that cannot be decoded is yielded as None (counted by the caller).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from mppe_ros.recordings.inputs import IMAGES, RecordingInputError, image_files

DEFAULT_FPS = 30.0


class FrameSource:
    """The frames of one video or image folder.

    Args:
        path: the video file or the folder.
        kind: VIDEO or IMAGES (mppe_ros.recordings.inputs.classify).
        fps: frames per second for the stamps; None: the video's own (DEFAULT_FPS if it has none) or DEFAULT_FPS.

    Attributes:
        total: the frame count (a video's index may be approximate), or None.
        fps: the rate the stamps follow, Hz.
    """

    def __init__(self, path: str | Path, kind: str, fps: float | None = None) -> None:
        self.path, self.kind = Path(path), kind
        self._files = image_files(self.path) if kind == IMAGES else []
        self.total: int | None = len(self._files) if kind == IMAGES else None
        own_fps = 0.0
        if kind != IMAGES:
            capture = cv2.VideoCapture(str(self.path))
            if not capture.isOpened():
                raise RecordingInputError(f"{self.path}: not a video OpenCV can open")
            own_fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
            count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
            self.total = count if count > 0 else None
            capture.release()
        self.fps = float(fps or (own_fps if own_fps > 0 else DEFAULT_FPS))

    def stamp_ns(self, index: int) -> int:
        """The stamp of frame `index`, ns."""
        return int(round(index * 1e9 / self.fps))

    def __iter__(self) -> Iterator[tuple[int, np.ndarray | None]]:
        """(stamp ns, [H, W, 3] uint8 BGR frame or None when it does not decode), in order."""
        if self.kind == IMAGES:
            for index, file in enumerate(self._files):
                yield self.stamp_ns(index), cv2.imread(str(file), cv2.IMREAD_COLOR)
            return
        capture = cv2.VideoCapture(str(self.path))
        try:
            index = 0
            while True:
                ok, frame = capture.read()
                if not ok:
                    return
                yield self.stamp_ns(index), frame
                index += 1
        finally:
            capture.release()
