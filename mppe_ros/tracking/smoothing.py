"""One-Euro filter (Casiez, Roussel, Vogel, CHI 2012), vectorised over arrays of any shape.

An exponential low-pass whose cutoff rises with the signal's speed: slow movements are smoothed hard
(little jitter), fast ones lightly (little lag). Per element of the signal, at each sample i with
time step dt_s = t_i - t_{i-1}:

    alpha(f_c) = 1 / (1 + tau / dt_s),  tau = 1 / (2 pi f_c)     (smoothing factor of a one-pole low-pass)
    dx_i      = (x_i - xhat_{i-1}) / dt_s                          (speed, signal unit per second)
    dxhat_i   = alpha(d_cutoff_hz) dx_i + (1 - alpha) dxhat_{i-1}  (speed, low-passed)
    f_c       = min_cutoff_hz + beta |dxhat_i|
    xhat_i    = alpha(f_c) x_i + (1 - alpha) xhat_{i-1}

Time comes from the caller (stamps in s), so a variable rate and skipped samples are handled by dt_s itself:
after a long gap alpha tends to 1 and the output follows the new input instead of dragging the old value.
"""

from __future__ import annotations

import math

import numpy as np


def smoothing_factor(cutoff_hz: np.ndarray | float, dt_s: float) -> np.ndarray:
    """alpha in (0, 1] of a one-pole low-pass with cutoff `cutoff_hz` (Hz, > 0) for a step of `dt_s` (s, > 0)."""
    tau_s = 1.0 / (2.0 * math.pi * np.asarray(cutoff_hz, dtype=np.float64))
    return 1.0 / (1.0 + tau_s / dt_s)


class OneEuroFilter:
    """One-Euro filter of a signal of fixed shape (e.g. [3] a point in m, [J, 3] joints in m, [J, 2] joints in px).

    Args:
        min_cutoff_hz: cutoff at zero speed, Hz (> 0); lower = less jitter, more lag when slow.
        beta: cutoff increase per unit of speed, Hz per (signal unit / s) (>= 0); higher = less lag when fast.
        d_cutoff_hz: cutoff of the speed estimate, Hz (> 0).

    Raises:
        ValueError: on a parameter out of range.
    """

    def __init__(self, min_cutoff_hz: float, beta: float, d_cutoff_hz: float) -> None:
        if not (math.isfinite(min_cutoff_hz) and min_cutoff_hz > 0.0):
            raise ValueError(f"min_cutoff_hz must be finite and > 0, got {min_cutoff_hz!r}")
        if not (math.isfinite(beta) and beta >= 0.0):
            raise ValueError(f"beta must be finite and >= 0, got {beta!r}")
        if not (math.isfinite(d_cutoff_hz) and d_cutoff_hz > 0.0):
            raise ValueError(f"d_cutoff_hz must be finite and > 0, got {d_cutoff_hz!r}")
        self.min_cutoff_hz = float(min_cutoff_hz)
        self.beta = float(beta)
        self.d_cutoff_hz = float(d_cutoff_hz)
        self._value: np.ndarray | None = None  # xhat, the last output
        self._speed: np.ndarray | None = None  # dxhat, signal unit per second
        self._stamp_s = 0.0

    @property
    def value(self) -> np.ndarray | None:
        """The last output (read-only), or None before the first sample / after reset()."""
        return self._value

    def reset(self) -> None:
        """Forget the past: the next sample is passed through unchanged and restarts the filter."""
        self._value = None
        self._speed = None

    def __call__(self, value: np.ndarray, stamp_s: float) -> np.ndarray:
        """Filter one sample.

        Args:
            value: the raw sample, any shape (the same at every call until reset()).
            stamp_s: its time, s (monotonic; from the data, e.g. a header stamp, not the wall clock).

        Returns:
            float64 array of value's shape, read-only: the filtered sample. A sample with the same stamp
            as the previous one (dt_s = 0) returns the previous output unchanged.

        Raises:
            ValueError: stamp_s earlier than the previous sample's (call reset() when time jumps back),
                or a shape different from the previous samples'.
        """
        value = np.array(value, dtype=np.float64)
        stamp_s = float(stamp_s)
        if self._value is None:
            self._speed = np.zeros_like(value)
            return self._store(value, stamp_s)
        if value.shape != self._value.shape:
            raise ValueError(f"sample shape {value.shape} differs from the filter's {self._value.shape}")
        dt_s = stamp_s - self._stamp_s
        if dt_s < 0.0:
            raise ValueError(f"stamp {stamp_s!r} s is {-dt_s:.6f} s before the previous one; reset() first")
        if dt_s == 0.0:
            return self._value
        speed = (value - self._value) / dt_s
        self._speed = self._speed + smoothing_factor(self.d_cutoff_hz, dt_s) * (speed - self._speed)
        cutoff_hz = self.min_cutoff_hz + self.beta * np.abs(self._speed)
        return self._store(self._value + smoothing_factor(cutoff_hz, dt_s) * (value - self._value), stamp_s)

    def _store(self, value: np.ndarray, stamp_s: float) -> np.ndarray:
        value.setflags(write=False)
        self._value = value
        self._stamp_s = stamp_s
        return value
