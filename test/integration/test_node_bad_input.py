"""Every bad input is logged, counted and skipped, and the node answers the next good frame."""

from __future__ import annotations

import numpy as np
import pytest
import ros_harness
from ros_harness import BOXES, camera_info, image_msg, stamp_header, start

context, pipeline = ros_harness.context, ros_harness.pipeline  # fixtures

BAD_STAMP = 666


def boxes_for(msg):
    """Injected boxes: a wrong shape for the bad stamp of the pipeline-error case, else one person."""
    return np.zeros((2, 3)) if msg.header.stamp.sec == BAD_STAMP + 1 else BOXES[:1]


def unsupported_encoding(header):
    image = image_msg(header)
    image.encoding = "bayer_rggb8"
    return image, camera_info(header)


def data_too_short(header):
    image = image_msg(header)
    image.data = bytes(image.data)[: len(image.data) // 2]
    return image, camera_info(header)


def step_too_small(header):
    image = image_msg(header)
    image.step = image.width  # a bgr8 row needs 3 * width bytes
    return image, camera_info(header)


def zero_intrinsics(header):
    info = camera_info(header)
    info.k = [0.0] * 9
    return image_msg(header), info


def nan_intrinsics(header):
    return image_msg(header), camera_info(header, fx=float("nan"))


def negative_focal_length(header):
    return image_msg(header), camera_info(header, fy=-100.0)


def size_mismatch(header):
    return image_msg(header), camera_info(header, width=320, height=240)


CASES = [
    (unsupported_encoding, "unsupported_encoding", "bayer_rggb8"),
    (data_too_short, "bad_image", "image data has"),
    (step_too_small, "bad_image", "step"),
    (zero_intrinsics, "bad_camera_info", "all zeros"),
    (nan_intrinsics, "bad_camera_info", "fx must be"),
    (negative_focal_length, "bad_camera_info", "fy must be"),
    (size_mismatch, "bad_camera_info", "320x240"),
]


@pytest.mark.parametrize(("make_bad", "counter", "fragment"), CASES, ids=[case[0].__name__ for case in CASES])
def test_bad_frame_is_logged_counted_skipped_then_good_frame_answered(context, pipeline, make_bad, counter, fragment):
    mppe, harness = start(context, pipeline, boxes=boxes_for, rosout=True, log_period_s=60.0)
    try:
        bad_header = stamp_header(BAD_STAMP)
        bad = make_bad(bad_header)
        # Twice (at least): logged once (throttled, or once per encoding), counted every time.
        assert harness.spin_until(
            lambda: getattr(mppe.stats, counter) >= 2, 20, every_s=0.3, action=lambda: harness.publish(*bad)
        )
        assert harness.spin_until(lambda: fragment in harness.log_text(), 10), harness.log_text()
        assert sum(fragment in log.msg for log in harness.logs) == 1, harness.log_text()
        assert not harness.poses_with_stamp(bad_header), "nothing false is published for a bad frame"
        assert mppe.stats.frames_processed == 0
        good_header = stamp_header(1000)
        msg = harness.exchange(image_msg(good_header), camera_info(good_header))
        assert len(msg.persons) == 1 and len(msg.persons[0].joints) == 21
    finally:
        harness.close()
        mppe.destroy_node()


def test_pipeline_error_is_logged_and_the_node_goes_on(context, pipeline):
    mppe, harness = start(context, pipeline, boxes=boxes_for, rosout=True)
    try:
        header = stamp_header(BAD_STAMP + 1)
        assert harness.spin_until(
            lambda: mppe.stats.pipeline_errors >= 1,
            20,
            every_s=0.5,
            action=lambda: harness.publish(image_msg(header), camera_info(header)),
        )
        assert harness.spin_until(lambda: "boxes_xywh must have shape" in harness.log_text(), 10), harness.log_text()
        good = stamp_header(1001)
        assert len(harness.exchange(image_msg(good), camera_info(good)).persons) == 1
    finally:
        harness.close()
        mppe.destroy_node()


def test_no_persons_publishes_an_empty_array_then_persons_again(context, pipeline):
    empty_stamp = 77
    mppe, harness = start(
        context, pipeline, boxes=lambda msg: np.zeros((0, 4)) if msg.header.stamp.sec == empty_stamp else BOXES
    )
    try:
        header = stamp_header(empty_stamp)
        assert harness.exchange(image_msg(header), camera_info(header)).persons == []
        good = stamp_header(1002)
        assert len(harness.exchange(image_msg(good), camera_info(good)).persons) == 2
        assert mppe.stats.pipeline_errors == mppe.stats.bad_image == mppe.stats.bad_camera_info == 0
    finally:
        harness.close()
        mppe.destroy_node()


def test_no_input_warning_names_topics_and_qos(context, pipeline):
    mppe, harness = start(context, pipeline, rosout=True, no_input_warning_s=1.0)
    try:
        assert harness.spin_until(lambda: "no synchronized pair" in harness.log_text(), 10), harness.log_text()
        text = harness.log_text()
        assert "/image" in text and "/camera_info" in text and "input_reliability=best_effort" in text
    finally:
        harness.close()
        mppe.destroy_node()


def test_unpaired_stamps_are_explained(context, pipeline):
    mppe, harness = start(context, pipeline, rosout=True, no_input_warning_s=1.0, sync_slop_s=0.01)
    try:
        image_header, info_header = stamp_header(50), stamp_header(51)
        harness.spin_until(
            lambda: "never paired" in harness.log_text(),
            10,
            every_s=0.2,
            action=lambda: harness.publish(image_msg(image_header), camera_info(info_header)),
        )
        assert "never paired" in harness.log_text() and mppe.stats.pairs_received == 0
    finally:
        harness.close()
        mppe.destroy_node()
