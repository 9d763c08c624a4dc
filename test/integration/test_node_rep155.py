"""REP-155 bodies and TF from a running node: a subscriber using only hri_msgs and TF sees the people of
/humans/poses3d with the same ids; without hri_msgs the node runs as before and says so in one line."""

from __future__ import annotations

import sys

import numpy as np
import ros_harness
from ros_harness import FRAME, camera_info, image_msg, stamp_header, start
from ros_tools import requires

from mppe_ros.joint_sets import MUCO_21

context, pipeline = ros_harness.context, ros_harness.pipeline  # fixtures


def moving_boxes(image) -> np.ndarray:
    t_s = image.header.stamp.sec + image.header.stamp.nanosec * 1e-9 - 7000
    return ros_harness.BOXES + np.array([10.0 * t_s, 0.0, 0.0, 0.0])


@requires("hri_msgs", "tf2_msgs")
def test_bodies_and_tf_are_the_people_of_poses3d(context, pipeline):
    from hri_msgs.msg import IdsList, NormalizedRegionOfInterest2D
    from tf2_msgs.msg import TFMessage

    from mppe_ros.ros.rep155 import TF_QOS

    # random weights: joint confidences are far below a trained model's, so every finite joint is used here
    mppe, harness = start(context, pipeline, boxes=moving_boxes, reliable=True, body_min_joint_confidence=0.0)
    tracked: list[IdsList] = []
    tf: list[TFMessage] = []
    rois: list[NormalizedRegionOfInterest2D] = []
    harness.node.create_subscription(IdsList, "/humans/bodies/tracked", tracked.append, 10)
    harness.node.create_subscription(TFMessage, "/tf", tf.append, TF_QOS)
    try:
        for index in range(6):
            header = stamp_header(7000, index * 100_000_000)
            poses = harness.exchange(image_msg(header), camera_info(header))
        confirmed = [p for p in poses.persons if p.is_tracked]
        assert len(confirmed) == 2
        body_ids = {f"b{p.id}" for p in confirmed}
        stamp = (poses.header.stamp.sec, poses.header.stamp.nanosec)
        assert harness.spin_until(
            lambda: any((m.header.stamp.sec, m.header.stamp.nanosec) == stamp for m in tracked), 10
        ), (stamp, [(m.header.stamp.sec, m.header.stamp.nanosec, list(m.ids)) for m in tracked])
        latest = next(m for m in reversed(tracked) if (m.header.stamp.sec, m.header.stamp.nanosec) == stamp)
        assert set(latest.ids) == body_ids and latest.header.frame_id == FRAME
        person = confirmed[0]
        roi_topic = f"/humans/bodies/b{person.id}/roi"
        roi_subscription = harness.node.create_subscription(NormalizedRegionOfInterest2D, roi_topic, rois.append, 10)
        assert harness.spin_until(lambda: roi_subscription.get_publisher_count() == 1, 10)
        for index in range(6, 12):  # until the new subscription has matched and received one
            header = stamp_header(7000, index * 100_000_000)
            poses = harness.exchange(image_msg(header), camera_info(header))
            if harness.spin_until(lambda: bool(rois), 1):
                break
        assert rois, f"nothing on {roi_topic}"
        assert 0.0 <= rois[-1].xmin < rois[-1].xmax <= 1.0 and 0.0 <= rois[-1].ymin < rois[-1].ymax <= 1.0
        person = next(p for p in poses.persons if p.id == person.id)
        stamp = (poses.header.stamp.sec, poses.header.stamp.nanosec)
        assert harness.spin_until(
            lambda: any((t.header.stamp.sec, t.header.stamp.nanosec) == stamp for m in tf for t in m.transforms), 10
        ), f"no /tf at {stamp}: {len(tf)} messages"
        transform = next(
            t for m in tf for t in m.transforms
            if t.child_frame_id == f"body_b{person.id}" and (t.header.stamp.sec, t.header.stamp.nanosec) == stamp
        )  # fmt: skip
        assert transform.header.frame_id == FRAME
        joints = np.array([[j.x, j.y, j.z] for j in person.joints])
        names = list(MUCO_21.joint_names)
        mid_hip = (joints[names.index("L_Hip")] + joints[names.index("R_Hip")]) / 2
        origin = transform.transform.translation
        np.testing.assert_allclose([origin.x, origin.y, origin.z], mid_hip, atol=1e-3)  # within 1 mm, full 3D
    finally:
        harness.close()
        mppe.destroy_node()


def test_without_hri_msgs_the_node_runs_and_says_so_once(context, pipeline, monkeypatch):
    monkeypatch.setitem(sys.modules, "hri_msgs", None)
    monkeypatch.setitem(sys.modules, "hri_msgs.msg", None)
    mppe, harness = start(context, pipeline, rosout=True, reliable=True)
    try:
        header = stamp_header(7100)
        assert len(harness.exchange(image_msg(header), camera_info(header)).persons) == 2
        assert harness.spin_until(lambda: "REP-155 bodies and TF are off" in harness.log_text(), 5)
        assert harness.log_text().count("REP-155 bodies and TF are off") == 1
    finally:
        harness.close()
        mppe.destroy_node()
