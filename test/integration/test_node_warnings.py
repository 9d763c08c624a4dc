"""The node's warnings about missing input: no pair at all (names the topics and QoS), unpaired stamps.

Bad frames (encodings, image data, intrinsics, pipeline errors) are covered by test_node_stream.py
over DDS and by the unit tests of conversions (test/ros) and camera (test/core).
"""

from __future__ import annotations

import ros_harness
from ros_harness import camera_info, image_msg, stamp_header, start

context, pipeline = ros_harness.context, ros_harness.pipeline  # fixtures


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
