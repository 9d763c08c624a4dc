"""One node lifetime through a long, mixed, seeded stream: no bad frame may ever silence the node.

Every kind of bad input (several times each, back to back and interleaved) and unusual but valid
frames are mixed with good frames, first one at a time (slower than inference: every counter must
equal what was sent, every good frame must be answered), then as a burst faster than inference
(every pair accounted for), with parameter changes through the real parameter service in between.
Run with injected boxes and with a (random-weights) torchvision detector. Set MPPE_ROS_STREAM_SEED
to replay a failing sequence; the seed is in every failure message.
"""

from __future__ import annotations

import math
import os
import random
import time
from collections import Counter

import numpy as np
import pytest
import ros_harness
from rcl_interfaces.msg import Parameter as ParameterMsg
from rcl_interfaces.msg import ParameterType, ParameterValue
from rcl_interfaces.srv import SetParameters
from ros_harness import BOXES, camera_info, image_msg, make_pipeline, sample_image, stamp_header, start

from mppe_ros.ros.conversions import bgr_to_image_msg

context, pipeline = ros_harness.context, ros_harness.pipeline  # fixtures
SEED = int(os.environ.get("MPPE_ROS_STREAM_SEED", "20261201"))
LOG_PERIOD_S = 3.0
PIPELINE_ERROR_NS = 7  # a stamp's nanoseconds that make the injected boxes malformed
BURST_HZ = 30.0
MIN_FRAME_S = 0.1  # each good frame takes at least this long: the burst outruns inference on every CPU


class AtLeast:
    """The pipeline, taking at least `seconds` per frame (its attributes are the pipeline's)."""

    def __init__(self, pipeline, seconds: float) -> None:
        self.pipeline, self.seconds = pipeline, seconds

    def __call__(self, *args, **kwargs):
        started_s = time.monotonic()
        try:
            return self.pipeline(*args, **kwargs)
        finally:
            time.sleep(max(0.0, self.seconds - (time.monotonic() - started_s)))

    def __getattr__(self, name: str):
        return getattr(self.pipeline, name)


def _bad_encoding(header):
    image = image_msg(header)
    image.encoding = "bayer_rggb8"
    return image, camera_info(header)


def _truncated(header):
    image = image_msg(header)
    image.data = bytes(image.data)[: len(image.data) // 2]
    return image, camera_info(header)


def _short_step(header):
    image = image_msg(header)
    image.step = image.width
    return image, camera_info(header)


def _empty(header):
    image = image_msg(header)
    image.width = image.height = image.step = 0
    image.data = b""
    return image, camera_info(header)


def _zero_k(header):
    info = camera_info(header)
    info.k = [0.0] * 9
    return image_msg(header), info


def _nan_fx(header):
    return image_msg(header), camera_info(header, fx=float("nan"))


def _wrong_size(header):
    return image_msg(header), camera_info(header, width=320, height=240)


def _nan_distortion(header):
    info = camera_info(header)
    info.distortion_model, info.d = "plumb_bob", [float("nan"), 0.0, 0.0, 0.0, 0.0]
    return image_msg(header), info


def _three_distortion_coefficients(header):
    info = camera_info(header)
    info.distortion_model, info.d = "plumb_bob", [0.1, 0.0, 0.0]
    return image_msg(header), info


def _pipeline_error(header):
    header.stamp.nanosec = PIPELINE_ERROR_NS
    return image_msg(header), camera_info(header)


def _good(header):
    return image_msg(header), camera_info(header)


def _mono8(header):
    grey = sample_image()[:, :, 1].copy()
    image = image_msg(header)
    image.encoding, image.step, image.data = "mono8", image.width, grey.tobytes()
    return image, camera_info(header)


def _rgba8_padded(header):
    rgba = np.dstack([sample_image()[:, :, ::-1], np.full(sample_image().shape[:2], 255, np.uint8)])
    padded = np.zeros((rgba.shape[0], rgba.shape[1] * 4 + 12), np.uint8)
    padded[:, : rgba.shape[1] * 4] = rgba.reshape(rgba.shape[0], -1)
    image = bgr_to_image_msg(sample_image(), header)
    image.encoding, image.step, image.data = "rgba8", padded.shape[1], padded.tobytes()
    return image, camera_info(header)


def _mono16_bigendian_padded(header):
    grey16 = sample_image()[:, :, 1].astype(">u2") * 257  # big-endian 16 bit, rows padded by 6 bytes
    rows = np.zeros((grey16.shape[0], grey16.shape[1] * 2 + 6), np.uint8)
    rows[:, : grey16.shape[1] * 2] = grey16.view(np.uint8).reshape(grey16.shape[0], -1)
    image = image_msg(header)
    image.encoding, image.is_bigendian, image.step, image.data = "mono16", 1, rows.shape[1], rows.tobytes()
    return image, camera_info(header)


# kind -> (make the pair, the counter it must raise, a fragment of its log line and of no other kind's)
BAD = {
    "unsupported_encoding": (_bad_encoding, "unsupported_encoding", "'bayer_rggb8' is not supported"),
    "truncated_data": (_truncated, "bad_image", "image data has"),
    "step_too_small": (_short_step, "bad_image", "is shorter than one row"),
    "empty_0x0": (_empty, "bad_image", "image size must be > 0"),
    "zero_k": (_zero_k, "bad_camera_info", "all zeros"),
    "nan_fx": (_nan_fx, "bad_camera_info", "camera fx must be"),
    "wrong_size_info": (_wrong_size, "bad_camera_info", "320x240"),
    "nan_distortion": (_nan_distortion, "bad_camera_info", "got (nan, 0.0, 0.0, 0.0, 0.0)"),
    "three_distortion_coefficients": (_three_distortion_coefficients, "bad_camera_info", "got (0.1, 0.0, 0.0)"),
    "pipeline_error": (_pipeline_error, "pipeline_errors", "boxes_xywh must have shape"),
}
GOOD = {
    "bgr8": _good,
    "mono8": _mono8,
    "rgba8_padded": _rgba8_padded,
    "mono16_bigendian_padded": _mono16_bigendian_padded,
}
HANDLED = ("frames_processed", "unsupported_encoding", "bad_image", "bad_camera_info", "pipeline_errors")


def mixed_sequence(rng: random.Random, repeats: int) -> list[str]:
    """Every bad kind `repeats` times, in runs of 1 to 3 (back to back), each run followed by good frames."""
    bad = [kind for kind in BAD for _ in range(repeats)]
    rng.shuffle(bad)
    sequence = []
    while bad:
        size = rng.randint(1, 3)
        run, bad = bad[:size], bad[size:]
        sequence += run + [rng.choice(list(GOOD)) for _ in range(rng.randint(1, 2))]
    return sequence


def handled(stats) -> int:
    return sum(getattr(stats, name) for name in HANDLED)


def set_parameter_via_service(harness, name: str, value) -> bool:
    """`ros2 param set`-style: a SetParameters request to <node>/set_parameters; True if accepted."""
    service = f"{harness.mppe_node.get_fully_qualified_name()}/set_parameters"
    client = harness.node.create_client(SetParameters, service)
    try:
        assert client.wait_for_service(timeout_sec=10.0)
        kind = {bool: ParameterType.PARAMETER_BOOL, int: ParameterType.PARAMETER_INTEGER,
                float: ParameterType.PARAMETER_DOUBLE}[type(value)]  # fmt: skip
        field = {bool: "bool_value", int: "integer_value", float: "double_value"}[type(value)]
        request = SetParameters.Request(
            parameters=[ParameterMsg(name=name, value=ParameterValue(type=kind, **{field: value}))]
        )
        future = client.call_async(request)
        assert harness.spin_until(future.done, 10.0), f"no answer from the parameter service for {name}"
        return future.result().results[0].successful
    finally:
        harness.node.destroy_client(client)


def boxes_for(with_detector: bool):
    """Injected boxes: malformed for the pipeline-error stamps; else one person, or the detector (None)."""

    def boxes(msg):
        if msg.header.stamp.nanosec == PIPELINE_ERROR_NS:
            return np.zeros((2, 3))
        return None if with_detector else BOXES[:1]

    return boxes


@pytest.fixture(params=["injected_boxes", "detector"])
def stream_node(request, context, pipeline, official_weights, detector_weights):
    """A node with injected boxes, or with a torchvision detector (random weights) in its pipeline."""
    from mppe_ros.detection import TorchvisionPersonDetector

    with_detector = request.param == "detector"
    pipe = pipeline
    if with_detector:
        detector = TorchvisionPersonDetector(weights_path=detector_weights[0], min_size_px=120)
        pipe = make_pipeline(official_weights, detector)
    mppe, harness = start(
        context,
        AtLeast(pipe, MIN_FRAME_S),
        boxes=boxes_for(with_detector),
        rosout=True,
        reliable=True,
        log_period_s=LOG_PERIOD_S,
    )
    yield mppe, harness
    harness.close()
    mppe.destroy_node()


@pytest.mark.slow  # 20 to 35 s per variant on 2 cores, plus a detector pipeline to build
def test_node_survives_a_long_mixed_stream(stream_node):
    mppe, harness = stream_node
    rng = random.Random(SEED)
    why = f"(MPPE_ROS_STREAM_SEED={SEED})"
    sent: Counter[str] = Counter()
    started_s = time.monotonic()

    # Phase 1, slower than inference: one frame at a time, each handled before the next is sent.
    stamp = 1000
    previous_bad = False
    for index, kind in enumerate(mixed_sequence(rng, repeats=3)):
        stamp += 1
        header = stamp_header(stamp)
        image, info = (BAD[kind][0] if kind in BAD else GOOD[kind])(header)
        expected = handled(mppe.stats) + 1
        harness.publish(image, info)
        sent[kind] += 1
        ok = harness.spin_until(lambda e=expected: handled(mppe.stats) >= e, 30.0)
        assert ok, f"frame {index} ({kind}) was never handled {why}; stats {mppe.stats}\n{harness.log_text()}"
        if kind in GOOD:
            answered = harness.spin_until(lambda h=image.header: bool(harness.poses_with_stamp(h)), 30.0)
            assert answered, f"good frame {index} ({kind}, after a bad one: {previous_bad}) unanswered {why}"
        previous_bad = kind in BAD
        if index % 9 == 4:  # run-time parameter changes during the stream, through the real service
            assert set_parameter_via_service(harness, "score_threshold", rng.choice([0.3, 0.5, 0.7]))
            assert set_parameter_via_service(harness, "publish_markers", rng.random() < 0.5)
            assert not set_parameter_via_service(harness, "max_persons", 0), "an invalid value is refused"

    stats = mppe.stats
    for counter in ("unsupported_encoding", "bad_image", "bad_camera_info", "pipeline_errors"):
        expected = sum(n for kind, n in sent.items() if kind in BAD and BAD[kind][1] == counter)
        assert getattr(stats, counter) == expected, f"{counter}: {getattr(stats, counter)} != {expected} {why}"
    assert stats.frames_processed == sum(n for kind, n in sent.items() if kind in GOOD), f"{stats} {why}"
    assert stats.images_received == stats.pairs_received == sum(sent.values()), f"{stats} {why}"
    assert stats.frames_skipped == 0, f"{stats} {why}"

    # Phase 2, faster than inference (MIN_FRAME_S): a burst at 30 Hz; every pair is processed, skipped or counted bad.
    burst = mixed_sequence(rng, repeats=2)
    for kind in burst:
        stamp += 1
        header = stamp_header(stamp)
        harness.publish(*(BAD[kind][0] if kind in BAD else GOOD[kind])(header))
        harness.spin_until(lambda: False, 1.0 / BURST_HZ)
    last = stamp_header(stamp + 1)
    harness.publish(image_msg(last), camera_info(last))
    assert harness.spin_until(lambda: bool(harness.poses_with_stamp(last)), 60.0), f"after the burst {why}"
    total = sum(sent.values()) + len(burst) + 1
    stats = mppe.stats
    assert stats.pairs_received == total, f"{stats} {why}"
    assert handled(stats) + stats.frames_skipped == total, f"every pair accounted for: {stats} {why}"
    assert stats.frames_skipped > 0, f"the burst was faster than inference: {stats} {why}"

    # Every kind's log line appears, throttled: at most once per log_period_s (the encoding once).
    duration_s = time.monotonic() - started_s

    def every_kind_logged() -> bool:
        return all(any(fragment in log.msg for log in harness.logs) for _, _, fragment in BAD.values())

    harness.spin_until(every_kind_logged, 30.0)  # /rosout lines arrive after the counters
    for log in harness.logs:  # each line is counted for one kind only
        kinds = [kind for kind, (_, _, fragment) in BAD.items() if fragment in log.msg]
        assert len(kinds) <= 1, f"{log.msg!r} matches the fragments of {kinds} {why}"
    for kind, (_, _, fragment) in BAD.items():
        lines = sum(fragment in log.msg for log in harness.logs)
        limit = 1 if kind == "unsupported_encoding" else math.ceil(duration_s / LOG_PERIOD_S) + 1
        assert 1 <= lines <= limit, f"{kind}: {lines} log lines (limit {limit}) {why}\n{harness.log_text()}"
    assert mppe.worker_alive and mppe._log.failures == 0, why
