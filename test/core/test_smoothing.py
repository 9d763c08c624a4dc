"""One-Euro filter on known signals: convergence, step, ramp lag, jitter, variable dt, reset, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mppe_ros.tracking.smoothing import OneEuroFilter, smoothing_factor

RATE_HZ = 15.0


def run(filt: OneEuroFilter, values: np.ndarray, stamps_s: np.ndarray) -> np.ndarray:
    return np.stack([filt(v, t) for v, t in zip(values, stamps_s, strict=True)])


def test_smoothing_factor_is_the_one_pole_formula():
    assert smoothing_factor(1.0, 0.1) == pytest.approx(1.0 / (1.0 + 1.0 / (2 * math.pi * 0.1)))
    assert smoothing_factor(1.0, 1e6) == pytest.approx(1.0, abs=1e-5)


def test_first_sample_passes_and_constant_input_converges_for_any_shape():
    filt = OneEuroFilter(1.0, 0.0, 1.0)
    start = np.arange(63.0).reshape(21, 3)
    assert np.array_equal(filt(start, 0.0), start)
    target = np.full((21, 3), 5.0)
    out = run(filt, [target] * 60, np.arange(1, 61) / RATE_HZ)
    assert out.shape == (60, 21, 3)
    assert np.abs(out[-1] - target).max() < 1e-3
    assert not filt.value.flags.writeable


def test_step_response_with_beta_zero_is_a_one_pole_low_pass():
    filt = OneEuroFilter(1.0, 0.0, 1.0)
    filt(np.zeros(2), 0.0)
    dt = 1.0 / RATE_HZ
    out = run(filt, [np.ones(2)] * 5, dt * np.arange(1, 6))
    alpha = smoothing_factor(1.0, dt)
    np.testing.assert_allclose(out[:, 0], 1.0 - (1.0 - alpha) ** np.arange(1, 6))
    assert np.all(np.diff(out[:, 0]) > 0) and out[-1, 0] < 1.0  # monotonic, no overshoot


def test_ramp_lag_is_tau_without_beta_and_shrinks_with_beta():
    stamps = np.arange(0, 10, 1.0 / RATE_HZ)
    ramp = 1.4 * stamps  # m, walking at 1.4 m/s
    lag_plain_s = (ramp - run(OneEuroFilter(1.0, 0.0, 1.0), ramp, stamps))[-1] / 1.4
    assert lag_plain_s == pytest.approx(1.0 / (2 * math.pi * 1.0), rel=0.05)  # steady-state lag of a low-pass = tau
    lag_beta_s = (ramp - run(OneEuroFilter(1.0, 2.0, 1.0), ramp, stamps))[-1] / 1.4
    assert lag_beta_s < 0.4 * lag_plain_s


def test_jitter_on_noisy_constant_is_reduced():
    rng = np.random.default_rng(3)
    stamps = np.arange(0, 20, 1.0 / RATE_HZ)
    noisy = 4.0 + rng.normal(0, 0.1, (len(stamps), 3))
    out = run(OneEuroFilter(0.5, 0.5, 1.0), noisy, stamps)
    jitter = lambda x: np.sqrt(np.mean(np.diff(x[30:], 2, axis=0) ** 2))  # noqa: E731
    assert jitter(noisy) / jitter(out) > 4.0
    assert abs(out[30:].mean() - 4.0) < 0.02


def test_variable_dt_a_long_gap_follows_and_same_stamp_repeats():
    filt = OneEuroFilter(1.0, 0.0, 1.0)
    filt(np.zeros(1), 0.0)
    small = filt(np.ones(1), 0.01)[0]
    assert small == pytest.approx(smoothing_factor(1.0, 0.01))
    assert filt(np.full(1, 7.0), 0.01)[0] == small  # dt = 0: the previous output, unchanged
    after_gap = filt(np.full(1, 10.0), 30.0)[0]  # 30 s later: alpha ~ 1
    assert after_gap == pytest.approx(10.0, abs=0.06)  # 1 - alpha = tau / (tau + dt)


def test_time_going_back_and_a_new_shape_are_rejected_and_reset_restarts():
    filt = OneEuroFilter(1.0, 0.5, 1.0)
    filt(np.zeros(3), 1.0)
    with pytest.raises(ValueError, match="before the previous"):
        filt(np.zeros(3), 0.5)
    with pytest.raises(ValueError, match="shape"):
        filt(np.zeros(2), 2.0)
    filt.reset()
    assert filt.value is None
    assert np.array_equal(filt(np.full(2, 9.0), 0.0), [9.0, 9.0])


@pytest.mark.parametrize("args", [(0.0, 0.0, 1.0), (1.0, -1.0, 1.0), (1.0, 0.0, 0.0), (math.nan, 0.0, 1.0)])
def test_bad_parameters_are_rejected(args):
    with pytest.raises(ValueError):
        OneEuroFilter(*args)
