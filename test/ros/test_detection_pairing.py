"""DetectionPairing without DDS: pairs meet their detections by stamp, in either order; what waits too long, or too
many, is dropped and counted; approximate takes the nearest stamp within the slop."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from mppe_ros.ros.detection_pairing import (
    DETECTIONS_UNMATCHED,
    IMAGES_WITHOUT,
    MAX_PENDING,
    DetectionPairing,
    explanation,
)

PERIOD_NS = 100_000_000  # 10 Hz


def stamped(kind: str, stamp_ns: int):
    sec, nanosec = divmod(stamp_ns, 10**9)
    return SimpleNamespace(kind=kind, header=SimpleNamespace(stamp=SimpleNamespace(sec=sec, nanosec=nanosec)))


class Recorder:
    def __init__(self, mode="exact", slop_s=0.05, timeout_s=0.5):
        self.now_s = 0.0
        self.frames, self.events = [], []
        self.pairing = DetectionPairing(
            lambda image, info, dets: self.frames.append((image.stamp, dets.stamp)), mode, slop_s, timeout_s,
            self.events.append, clock=lambda: self.now_s,
        )  # fmt: skip

    def pair(self, stamp_ns: int) -> None:
        image = stamped("image", stamp_ns)
        image.stamp = stamp_ns
        self.pairing.pair(image, stamped("info", stamp_ns))

    def detections(self, stamp_ns: int) -> None:
        msg = stamped("detections", stamp_ns)
        msg.stamp = stamp_ns
        self.pairing.detections(msg)


def test_exact_pairs_meet_in_either_order_once():
    r = Recorder()
    r.pair(0)
    r.detections(0)  # detections after the image: the usual order
    r.detections(PERIOD_NS)
    r.pair(PERIOD_NS)  # the image late (large, another process)
    r.pair(2 * PERIOD_NS)
    r.detections(2 * PERIOD_NS + 1)  # 1 ns off: not exact
    assert r.frames == [(0, 0), (PERIOD_NS, PERIOD_NS)]
    assert r.pairing.waiting == (1, 1) and r.events == []


def test_what_waits_longer_than_the_timeout_is_counted_and_dropped():
    r = Recorder(timeout_s=0.5)
    r.pair(0)  # the detector skipped this frame
    r.detections(5 * PERIOD_NS)  # detections whose image was lost
    r.now_s = 0.4
    r.pairing.expire()
    assert r.events == [] and r.pairing.waiting == (1, 1)
    r.now_s = 0.6
    r.pairing.expire()
    assert sorted(r.events) == [DETECTIONS_UNMATCHED, IMAGES_WITHOUT] and r.pairing.waiting == (0, 0)
    r.pair(5 * PERIOD_NS)  # too late: its detections are gone
    assert r.frames == []


def test_beyond_max_pending_the_oldest_is_dropped_and_counted():
    r = Recorder()
    for index in range(MAX_PENDING + 3):  # a detector that never answers, within the timeout
        r.pair(index * PERIOD_NS)
    assert r.events == [IMAGES_WITHOUT] * 3 and r.pairing.waiting == (MAX_PENDING, 0)
    r.detections(0)  # the oldest was dropped
    r.detections(3 * PERIOD_NS)  # the oldest kept
    assert r.frames == [(3 * PERIOD_NS, 3 * PERIOD_NS)]


def test_a_repeated_stamp_replaces_the_older_message_and_counts_it():
    r = Recorder()
    r.detections(0)
    r.detections(0)
    assert r.events == [DETECTIONS_UNMATCHED] and r.pairing.waiting == (0, 1)


def test_approximate_takes_the_nearest_stamp_within_the_slop():
    r = Recorder(mode="approximate", slop_s=0.03)
    r.pair(0)
    r.pair(PERIOD_NS)
    r.detections(PERIOD_NS - 20_000_000)  # 20 ms before the second image, 80 ms after the first
    r.detections(3 * PERIOD_NS + 40_000_000)  # 40 ms from anything: waits
    assert r.frames == [(PERIOD_NS, PERIOD_NS - 20_000_000)]
    r.pair(3 * PERIOD_NS + 50_000_000)  # 10 ms away
    assert r.frames[-1] == (3 * PERIOD_NS + 50_000_000, 3 * PERIOD_NS + 40_000_000)
    assert r.pairing.waiting == (1, 0)


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="exact"):
        Recorder(mode="nearest")


def test_the_explanations_name_the_topics_and_the_remedies():
    text = explanation(IMAGES_WITHOUT, "/cam/image_raw", "/yolo/detections", 0.5, "exact")
    assert "/yolo/detections" in text and "detections_sync_mode approximate" in text and "remap" in text
    text = explanation(DETECTIONS_UNMATCHED, "/cam/image_raw", "/yolo/detections", 0.5, "exact")
    assert "matched no image" in text and "/cam/image_raw" in text
