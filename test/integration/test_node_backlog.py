"""Publishing faster than inference: no backlog builds up, latency stays bounded, skips are reported."""

from __future__ import annotations

import time

import ros_harness
from ros_harness import BOXES, camera_info, image_msg, sample_image, stamp_header, start

context, pipeline = ros_harness.context, ros_harness.pipeline  # fixtures

PUBLISH_PERIOD_S = 0.05  # 20 Hz, many times faster than inference of two persons (MIN_FRAME_S on a fast machine)
PUBLISH_FOR_S = 6.0
MIN_FRAME_S = 0.3  # each frame takes at least this long, so the stream outruns inference on every CPU
QUIET_S = 1.0  # the node is settled once its counters and the results received stay unchanged this long


def settled(mppe, harness, quiet_s: float):
    """True once every pair received was processed or skipped, every result arrived, and nothing changed for
    quiet_s (an image whose CameraInfo was lost is paired late, by the fallback: its frame must end too)."""
    state = {"counts": None, "since_s": 0.0}

    def done() -> bool:
        stats, now_s = mppe.stats, time.monotonic()
        counts = (stats.pairs_received, stats.frames_processed, stats.frames_skipped, len(harness.poses))
        if counts != state["counts"]:
            state.update(counts=counts, since_s=now_s)
        pairs, processed, skipped, results = counts
        return pairs == processed + skipped and results == processed and now_s - state["since_s"] >= quiet_s

    return done


class AtLeast:
    """The pipeline, taking at least `seconds` per frame (its attributes are the pipeline's)."""

    def __init__(self, pipeline, seconds: float) -> None:
        self.pipeline, self.seconds = pipeline, seconds

    def __call__(self, *args, **kwargs):
        started_s = time.monotonic()
        result = self.pipeline(*args, **kwargs)
        time.sleep(max(0.0, self.seconds - (time.monotonic() - started_s)))
        return result

    def __getattr__(self, name: str):
        return getattr(self.pipeline, name)


def test_newest_pair_only_bounded_latency_and_skip_report(context, pipeline):
    mppe, harness = start(context, AtLeast(pipeline, MIN_FRAME_S), boxes=BOXES, rosout=True, log_period_s=1.0)
    image = sample_image()
    published_at: dict[int, float] = {}

    def publish_next():
        index = len(published_at)
        header = stamp_header(2000 + index)
        published_at[index] = time.monotonic()
        harness.publish(image_msg(header, image), camera_info(header))

    try:
        start_s = time.monotonic()
        harness.spin_until(
            lambda: time.monotonic() - start_s > PUBLISH_FOR_S, PUBLISH_FOR_S + 1, PUBLISH_PERIOD_S, publish_next
        )
        published, last_sent_s = len(published_at), time.monotonic()
        # Let the frame in progress, a pending pair and late CameraInfo-fallback pairs finish and their results arrive.
        assert harness.spin_until(settled(mppe, harness, QUIET_S), 60), mppe.stats
        stats = mppe.stats
        outputs = [(arrived_s, msg.header.stamp.sec - 2000) for arrived_s, msg in harness.poses]
        assert len(outputs) >= 2, (stats, published)
        assert stats.frames_processed == len(outputs)
        # Receiving went on while inference ran, and frames replaced before inference were counted.
        assert stats.images_received >= 0.5 * published, (stats, published)
        assert stats.frames_skipped >= published // 4 and stats.frames_skipped > stats.frames_processed, stats
        assert stats.pairs_received == stats.frames_processed + stats.frames_skipped
        # Bounded latency: every output is about one inference old, never the tail of a queue.
        per_frame_s = max(stats.last_processing_s, (last_sent_s - start_s) / len(outputs))
        for arrived_s, index in outputs:
            latency_s = arrived_s - published_at[index]
            assert latency_s < 3.0 * per_frame_s + 2.0, (latency_s, per_frame_s, outputs)
        # Outputs are in stamp order and the last one is one of the newest frames.
        indices = [index for _, index in outputs]
        assert indices == sorted(indices)
        assert published - 1 - indices[-1] < 3.0 * per_frame_s / PUBLISH_PERIOD_S + 10, (indices, published)
        assert harness.spin_until(lambda: "skipped" in harness.log_text(), 30), harness.log_text()
        assert "only the newest pair is processed" in harness.log_text()
    finally:
        harness.close()
        mppe.destroy_node()
