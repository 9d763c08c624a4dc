"""The package's own synchronizers, driven with plain messages as message_filters' tests do."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from mppe_ros.ros.sync import (
    ApproximateTimeSynchronizer,
    ExactTimeSynchronizer,
    LatestOnly,
    make_synchronizer,
    stamp_ns,
)


def msg(t_s: float, tag: str = "") -> SimpleNamespace:
    ns = int(round(t_s * 1e9))
    stamp = SimpleNamespace(sec=ns // 1_000_000_000, nanosec=ns % 1_000_000_000)
    return SimpleNamespace(header=SimpleNamespace(stamp=stamp), tag=tag)


def collect(sync):
    out = []
    sync.register_callback(lambda *msgs: out.append(tuple(m.tag for m in msgs)))
    return out


def test_stamp_ns():
    assert stamp_ns(msg(12.5)) == 12_500_000_000


def test_exact_pairs_equal_stamps_in_any_order():
    sync = ExactTimeSynchronizer(2, queue_size=5)
    out = collect(sync)
    sync.add(msg(1.0, "i1"), 0)
    sync.add(msg(2.0, "c2"), 1)
    assert out == []
    sync.add(msg(1.0, "c1"), 1)
    sync.add(msg(2.0, "i2"), 0)
    assert out == [("i1", "c1"), ("i2", "c2")]
    assert sync.queues == [{}, {}]


def test_exact_never_pairs_different_stamps():
    sync = make_synchronizer("exact", queue_size=3, slop_s=1.0)
    out = collect(sync)
    sync.add(msg(1.0, "i"), 0)
    sync.add(msg(1.001, "c"), 1)
    assert out == []


def test_queue_limit_drops_the_oldest():
    sync = ExactTimeSynchronizer(2, queue_size=2)
    out = collect(sync)
    for t in (1.0, 2.0, 3.0):
        sync.add(msg(t, f"i{t:g}"), 0)
    assert sorted(sync.queues[0]) == [2_000_000_000, 3_000_000_000]
    sync.add(msg(1.0, "c1"), 1)  # its partner was pushed out
    sync.add(msg(3.0, "c3"), 1)
    assert out == [("i3", "c3")]


def test_approximate_pairs_within_slop_and_picks_the_closest():
    sync = ApproximateTimeSynchronizer(2, queue_size=5, slop_s=0.05)
    out = collect(sync)
    sync.add(msg(1.00, "c100"), 1)
    sync.add(msg(1.03, "c103"), 1)
    sync.add(msg(1.10, "c110"), 1)
    sync.add(msg(1.04, "i104"), 0)  # 1.03 is closer than 1.00; 1.10 is beyond the slop
    assert out == [("i104", "c103")]
    assert 1_030_000_000 not in sync.queues[1] and 1_000_000_000 in sync.queues[1]


def test_approximate_refuses_beyond_slop_and_equal_to_slop():
    sync = ApproximateTimeSynchronizer(2, queue_size=5, slop_s=0.05)
    out = collect(sync)
    sync.add(msg(1.0, "i"), 0)
    sync.add(msg(1.2, "c"), 1)
    sync.add(msg(2.0, "i2"), 0)
    sync.add(msg(2.05, "c2"), 1)  # spread == slop: message_filters requires spread < slop
    assert out == []
    sync.add(msg(2.049, "c3"), 1)
    assert out == [("i2", "c3")]


def test_approximate_emits_each_message_once():
    sync = ApproximateTimeSynchronizer(2, queue_size=5, slop_s=0.1)
    out = collect(sync)
    sync.add(msg(1.0, "i1"), 0)
    sync.add(msg(1.01, "c1"), 1)
    sync.add(msg(1.02, "c2"), 1)  # i1 already used
    assert out == [("i1", "c1")]
    sync.add(msg(1.03, "i2"), 0)
    assert out == [("i1", "c1"), ("i2", "c2")]


def test_camera_stream_pairs_every_frame():
    # A camera: image and camera_info with the same stamp, arriving in either order, with jitter.
    sync = make_synchronizer("approximate", queue_size=3, slop_s=0.01)
    out = collect(sync)
    for frame in range(20):
        t = frame / 30.0
        first, second = ((0, "i"), (1, "c")) if frame % 2 else ((1, "c"), (0, "i"))
        sync.add(msg(t, f"{first[1]}{frame}"), first[0])
        sync.add(msg(t + 0.0005, f"{second[1]}{frame}"), second[0])
    assert out == [(f"i{f}", f"c{f}") for f in range(20)]


def test_connect_input_and_message_filters_spelling():
    sync = ApproximateTimeSynchronizer(2, queue_size=2, slop_s=0.1)
    got = []
    sync.registerCallback(lambda image, info: got.append((image.tag, info.tag)))
    sync.connect_input(1)(msg(5.0, "c"))
    sync.connect_input(0)(msg(5.0, "i"))
    assert got == [("i", "c")]
    with pytest.raises(ValueError):
        sync.connect_input(2)


def test_callback_runs_under_the_lock():
    sync = ExactTimeSynchronizer(2, queue_size=2)
    held = []
    sync.register_callback(lambda *msgs: held.append(sync.lock.locked()))
    sync.add(msg(1.0), 0)
    sync.add(msg(1.0), 1)
    assert held == [True]


def test_concurrent_inputs_are_safe():
    sync = ExactTimeSynchronizer(2, queue_size=1000)
    out = collect(sync)

    def feed(index):
        for k in range(500):
            sync.add(msg(k * 0.01, str(k)), index)

    threads = [threading.Thread(target=feed, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(int(a) for a, b in out) == list(range(500)) and all(a == b for a, b in out)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [(("approximate", 5, 0.0), "slop_s"), (("exact", 0, 0.1), "queue_size"), (("nearest", 5, 0.1), "sync mode")],
)
def test_bad_settings(args, fragment):
    with pytest.raises(ValueError, match=fragment):
        make_synchronizer(*args)


def test_latest_only_keeps_the_newest_and_says_when_it_replaced_one():
    slot = LatestOnly()
    assert slot.take(timeout_s=0.01) is None
    assert slot.put("a") is False
    assert slot.put("b") is True and slot.put("c") is True
    assert slot.take() == "c"
    assert slot.take(timeout_s=0.01) is None


def test_latest_only_wakes_a_waiting_taker_and_closes():
    slot = LatestOnly()
    got = []
    taker = threading.Thread(target=lambda: got.extend([slot.take(), slot.take()]))
    taker.start()
    slot.put("frame")
    threading.Event().wait(0.05)
    slot.close()
    taker.join(timeout=5)
    assert not taker.is_alive() and got == ["frame", None]
    assert slot.take() is None
