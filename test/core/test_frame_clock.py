"""FrameClock: the tracker's time from header stamps, arrival times where stamps are zero or repeat."""

from __future__ import annotations

import pytest

from mppe_ros.tracking.frame_clock import REPEATED, ZERO, FrameClock


def times(clock: FrameClock, frames: list[tuple[float, float]]) -> list[tuple[float, str]]:
    return [(round(f.time_s, 9), f.problem) for f in (clock(stamp_s, received_s) for stamp_s, received_s in frames)]


def test_increasing_stamps_are_the_time_whatever_the_arrival():
    clock = FrameClock()
    assert times(clock, [(100.0, 5.0), (100.1, 5.9), (100.3, 6.0)]) == [(100.0, ""), (100.1, ""), (100.3, "")]
    assert clock.substituted == 0


def test_zero_stamps_advance_by_the_arrival_gaps():
    clock = FrameClock()
    got = times(clock, [(0.0, 10.0), (0.0, 10.25), (0.0, 10.5), (0.0, 10.5)])
    assert got == [(0.0, ZERO), (0.25, ZERO), (0.5, ZERO), (0.5, ZERO)]
    assert clock.substituted == 4


def test_repeated_stamps_advance_by_the_arrival_gaps_and_time_never_goes_back():
    clock = FrameClock()
    got = times(clock, [(50.0, 1.0), (50.0, 1.2), (50.0, 1.4), (50.1, 1.5), (50.2, 1.6)])
    # the offset the repeats left (0.4 s) carries on, so the next stamps do not take time back
    assert got == [(50.0, ""), (50.2, REPEATED), (50.4, REPEATED), (50.5, ""), (50.6, "")]


def test_a_zero_stamp_among_real_ones_is_unstamped_not_a_restart():
    clock = FrameClock()
    assert clock(20.0, 0.0).time_s == 20.0
    assert clock.went_back(0.0) is None
    frame = clock(0.0, 0.1)
    assert frame.problem == ZERO and frame.time_s == pytest.approx(20.1)
    assert clock(20.2, 0.2).time_s == pytest.approx(20.2)


def test_a_stamp_before_the_previous_is_a_restart_after_reset():
    clock = FrameClock()
    clock(30.0, 0.0)
    clock(30.5, 0.5)
    assert clock.went_back(10.0) == 30.5 and clock.went_back(31.0) is None
    clock.reset()
    assert times(clock, [(10.0, 1.0), (10.1, 1.1)]) == [(10.0, ""), (10.1, "")]
