"""detector topic in one node lifetime (in-process DDS): a malformed person detection is dropped with a log line,
person_class_id changed at run time applies from the next frame, a bad value is refused whole, a detector that
restamps is paired with detections_sync_mode approximate, a detector slower than detections_timeout_s loses only its
late frames (each counted), and configure fails in one line, naming what to install, where vision_msgs does not
import."""

from __future__ import annotations

import math
import sys

import pytest
import ros_harness
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from ros_harness import camera_info, image_msg, stamp_header, start
from ros_tools import requires

from mppe_ros.testing import messages

pytestmark = requires("vision_msgs")
context, pipeline = ros_harness.context, ros_harness.pipeline  # fixtures
RELIABLE = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
OBJECTS = [((12.0, 10.0, 50.0, 100.0), [("person", 0.9)], 0.0), ((92.0, 20.0, 40.0, 90.0), [("car", 0.8)], 0.0)]


def matched(harness, publisher) -> bool:
    """The node subscribes the harness's image, camera_info and detections publishers (each frame is sent once)."""
    publishers = (harness.image_pub, harness.info_pub, publisher)
    return all(each.get_subscription_count() == 1 for each in publishers)


def exchange(harness, publisher, second: int, detections_offset_ns: int = 0, objects=OBJECTS):
    """Frame at `second` s with its detections of `objects` (stamped `detections_offset_ns` later); its
    PersonPose3DArray."""
    header = stamp_header(second)
    detections_header = stamp_header(second, detections_offset_ns)
    harness.publish(image_msg(header), camera_info(header))
    publisher.publish(messages.detections(detections_header, objects))
    assert harness.spin_until(lambda: bool(harness.poses_with_stamp(header)), 60), harness.mppe_node.stats
    return harness.poses_with_stamp(header)[0]


def test_malformed_boxes_are_logged_and_class_changes_apply_at_run_time(context, pipeline):
    from vision_msgs.msg import Detection2DArray

    mppe, harness = start(context, pipeline, boxes=None, reliable=True, rosout=True, detector="topic", tracking=False)
    publisher = harness.node.create_publisher(Detection2DArray, "detections", RELIABLE)
    try:
        assert harness.spin_until(lambda: matched(harness, publisher), 30)
        assert [list(p.box_xywh_px) for p in exchange(harness, publisher, 10).persons] == [[12, 10, 50, 100]]
        malformed = [((30.0, 10.0, math.nan, 100.0), [("person", 0.95)], 0.0)]  # a NaN width: dropped, logged
        assert len(exchange(harness, publisher, 11, objects=OBJECTS + malformed).persons) == 1
        logged = "1 person detection(s) dropped from the Detection2DArray of 11.000000000 s: a non-finite"
        assert harness.spin_until(lambda: logged in harness.log_text(), 10), harness.log_text()
        assert mppe.set_parameters([Parameter("person_class_id", value="car")])[0].successful
        assert [list(p.box_xywh_px) for p in exchange(harness, publisher, 12).persons] == [[92, 20, 40, 90]]
        refused = mppe.set_parameters([Parameter("person_class_id", value="car,,person")])[0]
        assert not refused.successful and "person_class_id" in refused.reason
        assert len(exchange(harness, publisher, 13).persons) == 1  # still car
        assert mppe.stats.images_without_detections == 0 and mppe.stats.detections_received == 4
    finally:
        harness.close()
        mppe.destroy_node()


@pytest.mark.parametrize("mode, answered", [("approximate", True), ("exact", False)])
def test_a_detector_that_restamps_needs_approximate_pairing(context, pipeline, mode, answered):
    from vision_msgs.msg import Detection2DArray

    mppe, harness = start(
        context, pipeline, boxes=None, reliable=True, detector="topic", detections_sync_mode=mode,
        detections_timeout_s=0.2, tracking=False,
    )  # fmt: skip
    publisher = harness.node.create_publisher(Detection2DArray, "detections", RELIABLE)
    try:
        assert harness.spin_until(lambda: matched(harness, publisher), 30)
        if answered:
            assert len(exchange(harness, publisher, 20, detections_offset_ns=10_000_000).persons) == 1  # 10 ms later
            return
        header = stamp_header(20)
        harness.publish(image_msg(header), camera_info(header))
        publisher.publish(messages.detections(stamp_header(20, 10_000_000), OBJECTS))
        counted = harness.spin_until(lambda: mppe.stats.images_without_detections == 1, 30)
        assert counted and mppe.stats.detections_unmatched == 1 and not harness.poses_with_stamp(header)
    finally:
        harness.close()
        mppe.destroy_node()


def test_a_detector_slower_than_the_timeout_loses_those_frames_only(context, pipeline):
    """Frames whose detections come after detections_timeout_s are counted twice (the image without detections, the
    late detections unmatched) and never answered; the frames before and after them are answered."""
    from vision_msgs.msg import Detection2DArray

    mppe, harness = start(
        context, pipeline, boxes=None, reliable=True, detector="topic", detections_timeout_s=0.3, tracking=False
    )
    publisher = harness.node.create_publisher(Detection2DArray, "detections", RELIABLE)
    late = {32, 33, 36}
    try:
        assert harness.spin_until(lambda: matched(harness, publisher), 30)
        for second in range(30, 38):
            if second not in late:
                assert len(exchange(harness, publisher, second).persons) == 1, second
                continue
            header = stamp_header(second)
            harness.publish(image_msg(header), camera_info(header))
            lost = len([each for each in late if each <= second])
            assert harness.spin_until(lambda n=lost: mppe.stats.images_without_detections == n, 30), mppe.stats
            publisher.publish(messages.detections(header, OBJECTS))  # after the image gave up waiting
            assert harness.spin_until(lambda n=lost: mppe.stats.detections_unmatched == n, 30), mppe.stats
        assert not any(harness.poses_with_stamp(stamp_header(second)) for second in late)
        assert mppe.stats.detections_received == 8 and mppe.stats.frames_processed == 5, mppe.stats
    finally:
        harness.close()
        mppe.destroy_node()


def test_configure_fails_in_one_line_without_vision_msgs(context, pipeline, monkeypatch):
    from mppe_ros.ros.node import FAILURE, MppeNode

    monkeypatch.setitem(sys.modules, "vision_msgs.msg", None)  # import vision_msgs.msg raises ImportError
    node = MppeNode(pipeline=pipeline, context=context, parameter_overrides=[
        Parameter("detector", value="topic"), Parameter("autostart", value=False)
    ])  # fmt: skip
    try:
        assert node.trigger_configure() == FAILURE
        assert "vision-msgs" in node._transition_error and "install.sh" in node._transition_error
    finally:
        node.destroy_node()
