"""The node's warnings about missing input: nothing at all (names the topics and QoS), camera_info without
images (names the large-image causes and remedies), unpaired stamps.

Bad frames (encodings, image data, intrinsics, pipeline errors) are covered by test_node_stream.py
over DDS and by the unit tests of conversions (test/ros) and camera (test/core).
"""

from __future__ import annotations

import ros_harness
from rclpy.parameter import Parameter
from ros_harness import camera_info, image_msg, stamp_header, start

context, pipeline = ros_harness.context, ros_harness.pipeline  # fixtures


def warn_once_arrived(mppe, harness, arrived, publish, fragment: str) -> bool:
    """The no-input warning is said once, with the cause seen at that moment: it is off (no_input_warning_s 0) until
    `arrived()` (what was published has reached the node, however long discovery takes), then 1 s; True once
    `fragment` is logged. Publishes with `publish()` every 0.2 s throughout."""
    assert harness.spin_until(arrived, 30, every_s=0.2, action=publish), mppe.stats
    assert mppe.set_parameters([Parameter("no_input_warning_s", value=1.0)])[0].successful
    return harness.spin_until(lambda: fragment in harness.log_text(), 30, every_s=0.2, action=publish)


def test_no_input_warning_names_topics_and_qos(context, pipeline):
    mppe, harness = start(context, pipeline, rosout=True, no_input_warning_s=1.0)
    try:
        assert harness.spin_until(lambda: "no synchronized pair" in harness.log_text(), 30), harness.log_text()
        text = harness.log_text()
        assert "/image" in text and "/camera_info" in text and "received nothing" in text
        assert "input_reliability=auto, subscribed best_effort" in text
    finally:
        harness.close()
        mppe.destroy_node()


def test_unpaired_stamps_are_explained(context, pipeline):
    mppe, harness = start(context, pipeline, rosout=True, no_input_warning_s=0.0, sync_slop_s=0.01)
    try:
        image_header, info_header = stamp_header(50), stamp_header(51)
        assert warn_once_arrived(
            mppe,
            harness,
            lambda: mppe.stats.images_received > 0 and mppe.stats.camera_infos_received > 0,
            lambda: harness.publish(image_msg(image_header), camera_info(info_header)),
            "never paired",
        ), harness.log_text()
        assert mppe.stats.pairs_received == 0
    finally:
        harness.close()
        mppe.destroy_node()


def test_camera_info_without_images_names_the_large_image_causes(context, pipeline):
    mppe, harness = start(context, pipeline, rosout=True, no_input_warning_s=0.0)
    try:
        assert warn_once_arrived(
            mppe,
            harness,
            lambda: mppe.stats.camera_infos_received > 0,
            lambda: harness.info_pub.publish(camera_info(stamp_header(60))),
            "camera_infos arrived but no image",
        ), harness.log_text()
        text = harness.log_text()
        assert "camera_infos arrived but no image on /image" in text, text
        for remedy in ("fastdds_large_data.xml", "input_reliability auto", "net.core.rmem_max", "image_transport"):
            assert remedy in text, (remedy, text)
        assert mppe.stats.images_received == 0 and mppe.stats.camera_infos_received > 0
    finally:
        harness.close()
        mppe.destroy_node()


def test_images_lost_among_camera_infos_are_reported_while_pairs_arrive(context, pipeline):
    """The low-input pattern: pairs do arrive, but far fewer images than camera_infos (images lost in transit)."""
    mppe, harness = start(context, pipeline, rosout=True, no_input_warning_s=1.0, log_period_s=0.5)
    sent = {"count": 0}

    def publish_mostly_camera_info():
        sent["count"] += 1
        header = stamp_header(70 + sent["count"])
        if sent["count"] % 5 == 1:  # 1 image in 5 pairs
            harness.image_pub.publish(image_msg(header))
        harness.info_pub.publish(camera_info(header))

    try:
        found = harness.spin_until(
            lambda: "only " in harness.log_text() and "images arrived with" in harness.log_text(),
            30,
            every_s=0.05,
            action=publish_mostly_camera_info,
        )
        assert found, harness.log_text()
        assert mppe.stats.pairs_received > 0 and "fastdds_large_data.xml" in harness.log_text()
    finally:
        harness.close()
        mppe.destroy_node()
