"""The time the tracker runs on: the image header stamps, or arrival times where the stamps do not move.

Tracks age, the detector schedule counts and the trails and REP-155 bodies expire by the frames' capture stamps (s),
never the wall clock. A driver that does not stamp its images (every stamp 0) or repeats a stamp (a bag recorded
without its clock, a driver re-sending a frame) would freeze that time: tracks would never expire and the detector
would never run again. FrameClock gives each frame its time:
- the header stamp while the stamps increase (plus the offset that earlier substitutions left, so time never goes
  back; 0 when the stamps were always fine);
- for a zero stamp or one equal to the previous frame's: the previous frame's time plus the time between the two
  frames' arrivals (monotonic receive times, s), with the kind of problem ("zero" or "repeated") for one warning.
A stamp earlier than the previous one is a restart (a bag played again, a camera or clock restarted): the caller
drops its tracks and calls `reset`.
"""

from __future__ import annotations

from dataclasses import dataclass

ZERO, REPEATED = "zero", "repeated"


@dataclass(frozen=True)
class FrameTime:
    """A frame's tracking time.

    Attributes:
        time_s: the time the tracker, the schedule and the trails use, s.
        problem: "" when it is the stamp, else why it is not (ZERO or REPEATED).
    """

    time_s: float
    problem: str = ""


class FrameClock:
    """Frame times from header stamps and arrival times (see the module docstring); not thread-safe."""

    def __init__(self) -> None:
        self._stamp_s: float | None = None  # the last nonzero stamp
        self._time_s: float | None = None
        self._received_s = 0.0
        self._offset_s = 0.0  # time - stamp for increasing stamps
        self.substituted = 0  # frames whose time is not their stamp

    def reset(self) -> None:
        """Forget the previous frames (after time went back: the next frame's stamp is its time)."""
        self._stamp_s = self._time_s = None
        self._received_s = self._offset_s = 0.0

    def went_back(self, stamp_s: float) -> float | None:
        """The previous nonzero stamp (s) when `stamp_s` (nonzero) is before it (a restart), else None."""
        if stamp_s != 0.0 and self._stamp_s is not None and stamp_s < self._stamp_s:
            return self._stamp_s
        return None

    def __call__(self, stamp_s: float, received_s: float) -> FrameTime:
        """The time of the frame stamped `stamp_s` (s; 0: unstamped) that arrived at `received_s` (monotonic s)."""
        stamp_s, received_s = float(stamp_s), float(received_s)
        previous_s = self._time_s
        if previous_s is None:
            frame = FrameTime(stamp_s, ZERO if stamp_s == 0.0 else "")
        elif stamp_s == 0.0 or (self._stamp_s is not None and stamp_s <= self._stamp_s):
            frame = FrameTime(
                previous_s + max(received_s - self._received_s, 0.0), ZERO if stamp_s == 0.0 else REPEATED
            )
            if stamp_s != 0.0:
                self._offset_s = frame.time_s - stamp_s
        else:
            frame = FrameTime(max(stamp_s + self._offset_s, previous_s))
        if stamp_s != 0.0:
            self._stamp_s = stamp_s
        self.substituted += bool(frame.problem)
        self._time_s, self._received_s = frame.time_s, received_s
        return frame
