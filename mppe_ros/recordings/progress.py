"""Progress of a long run: a tqdm bar on a terminal (frames done, frames/s, time left), else a line every N frames.

The total comes from the input's index (a bag's message count, a video's frame count); None: unknown.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO


class Progress:
    """Counts frames done.

    Args:
        name: the recording's name (the bar's label).
        total: frames expected, or None.
        bar: True: a tqdm bar; False: `report_every` > 0 prints "name: N/total frames" every that many frames.
        report_every: lines without a bar (0: none).
        stream: where bar and lines go (stderr).
    """

    def __init__(
        self, name: str, total: int | None, bar: bool, report_every: int = 0, stream: TextIO | None = None
    ) -> None:
        self.name, self.total, self.report_every = name, total, report_every
        self.stream = stream or sys.stderr
        self.done = 0
        self._bar: Any = None
        if bar:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=name, unit="frame", file=self.stream, dynamic_ncols=True)

    def update(self, frames: int = 1) -> None:
        """`frames` more frames done."""
        self.done += frames
        if self._bar is not None:
            self._bar.update(frames)
        elif self.report_every and self.done % self.report_every == 0:
            of = f"/{self.total}" if self.total is not None else ""
            self.stream.write(f"{self.name}: {self.done}{of} frames\n")
            self.stream.flush()

    def close(self) -> None:
        """End the bar."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
