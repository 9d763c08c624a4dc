"""`image_transport: compressed`: the node pairs `<image>/compressed` with camera_info over DDS.

A sequence through one node: JPEG, a truncated JPEG (counted, skipped), PNG, garbage (counted, skipped),
a remapped image topic; every good frame after a bad one is answered with its stamp and frame.
"""

from __future__ import annotations

import cv2
import ros_harness
from rclpy.qos import QoSProfile, ReliabilityPolicy
from ros_harness import camera_info, sample_image, stamp_header, start
from sensor_msgs.msg import CompressedImage

context, pipeline = ros_harness.context, ros_harness.pipeline  # fixtures


def compressed(header, extension: str, fmt: str, cut_bytes: int = 0) -> CompressedImage:
    ok, data = cv2.imencode(extension, sample_image())
    assert ok
    payload = data.tobytes()
    return CompressedImage(header=header, format=fmt, data=payload[: len(payload) - cut_bytes])


def test_compressed_images_are_decoded_paired_and_bad_payloads_counted(context, pipeline):
    mppe, harness = start(context, pipeline, reliable=True, image_transport="compressed")
    publisher = harness.node.create_publisher(
        CompressedImage, "image/compressed", QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
    )

    def send(msg: CompressedImage) -> None:
        publisher.publish(msg)
        harness.info_pub.publish(camera_info(msg.header))

    try:
        assert mppe.image_topic == "/image/compressed"
        assert harness.spin_until(lambda: publisher.get_subscription_count() == 1, 30)
        sequence = [
            ("good", compressed(stamp_header(10), ".jpg", "bgr8; jpeg compressed bgr8")),
            ("bad", compressed(stamp_header(11), ".jpg", "jpeg", cut_bytes=300)),
            ("good", compressed(stamp_header(12), ".png", "bgr8; png compressed bgr8")),
            ("bad", CompressedImage(header=stamp_header(13), format="png", data=b"\x89PNG not really")),
            ("good", compressed(stamp_header(14), ".jpg", "jpeg")),
        ]
        for index, (kind, msg) in enumerate(sequence):
            send(msg)
            if kind == "good":
                assert harness.spin_until(lambda msg=msg: bool(harness.poses_with_stamp(msg.header)), 30), (
                    index,
                    mppe.stats,
                )
                poses = harness.poses_with_stamp(msg.header)[0]
                assert poses.header.frame_id == msg.header.frame_id and len(poses.persons) == len(ros_harness.BOXES)
            else:
                bad_before = index // 2
                assert harness.spin_until(lambda b=bad_before: mppe.stats.bad_image == b + 1, 30), (index, mppe.stats)
        # frames_processed is counted just after the publication the loop waited for
        assert harness.spin_until(lambda: mppe.stats.frames_processed == 3, 30), mppe.stats
        assert mppe.stats.bad_image == 2 and mppe.worker_alive
    finally:
        harness.close()
        mppe.destroy_node()


def test_compressed_topic_follows_the_image_remapping(context, pipeline):
    from rclpy.parameter import Parameter

    from mppe_ros.ros.node import MppeNode

    node = MppeNode(
        pipeline=pipeline,
        context=context,
        cli_args=["--ros-args", "-r", "image:=/cam/image_raw"],
        parameter_overrides=[Parameter("image_transport", value="compressed")],
    )
    try:
        assert node.image_topic == "/cam/image_raw/compressed"
        assert (
            node.count_subscribers("/cam/image_raw/compressed") == 1 and node.count_subscribers("/cam/image_raw") == 0
        )
    finally:
        node.destroy_node()
