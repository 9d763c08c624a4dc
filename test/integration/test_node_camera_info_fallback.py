"""camera_info_fallback through one node over DDS (one process): withheld CameraInfos, cached intrinsics.

With tracking off each frame is computed alone, so the same image and boxes with the same intrinsics
give the same roots: a frame answered with a reused CameraInfo must equal the frame paired with that
CameraInfo, and after a new K it must follow the new K.
"""

from __future__ import annotations

import ros_harness
from ros_harness import camera_info, image_msg, stamp_header, start

context, pipeline = ros_harness.context, ros_harness.pipeline  # fixtures
EXPLAINED = "answered with the latest CameraInfo of the same frame_id and size"


def roots(poses) -> list[tuple[float, float, float]]:
    return [(round(p.root.x, 4), round(p.root.y, 4), round(p.root.z, 4)) for p in poses.persons]


def test_withheld_camera_infos_are_replaced_by_the_cached_intrinsics(context, pipeline):
    mppe, harness = start(context, pipeline, reliable=True, rosout=True, tracking=False)

    def send(seconds: int, fx: float | None) -> list:
        """Image (and its CameraInfo with this fx unless None); the roots answered for its stamp."""
        header = stamp_header(seconds)
        harness.image_pub.publish(image_msg(header))
        if fx is not None:
            harness.info_pub.publish(camera_info(header, fx=fx))
        assert harness.spin_until(lambda: bool(harness.poses_with_stamp(header)), 30), (seconds, mppe.stats)
        return roots(harness.poses_with_stamp(header)[0])

    try:
        assert harness.spin_until(lambda: harness.image_pub.get_subscription_count() == 1, 10)
        paired = send(1, fx=150.0)
        assert send(2, fx=None) == paired  # answered with the CameraInfo of stamp 1
        assert send(3, fx=None) == paired and mppe.stats.camera_info_reused == 2
        new_k = send(4, fx=300.0)  # a new K, from its own stamp on
        assert new_k != paired
        assert send(5, fx=None) == new_k and send(6, fx=150.0) == paired
        assert mppe.stats.camera_info_reused == 3 and mppe.stats.images_without_camera_info == 0
        assert mppe.stats.pairs_received == 6 and mppe.stats.frames_processed == 6
        assert harness.spin_until(lambda: EXPLAINED in harness.log_text(), 10)
        assert harness.log_text().count(EXPLAINED) == 1 and "fastdds_large_data.xml" in harness.log_text()
    finally:
        harness.close()
        mppe.destroy_node()


def test_with_the_fallback_off_a_frame_without_camera_info_is_not_answered_but_counted(context, pipeline):
    mppe, harness = start(context, pipeline, reliable=True, tracking=False, camera_info_fallback=False)
    try:
        assert harness.spin_until(lambda: harness.image_pub.get_subscription_count() == 1, 10)
        harness.exchange(image_msg(stamp_header(1)), camera_info(stamp_header(1)))
        harness.image_pub.publish(image_msg(stamp_header(2)))  # its CameraInfo never comes
        assert harness.spin_until(lambda: mppe.stats.images_without_camera_info == 1, 10), mppe.stats
        harness.exchange(image_msg(stamp_header(3)), camera_info(stamp_header(3)))
        assert not harness.poses_with_stamp(stamp_header(2))
        assert mppe.stats.camera_info_reused == 0 and mppe.stats.frames_processed == 2
    finally:
        harness.close()
        mppe.destroy_node()
