"""poses_to_markers: a pure function of the result (no node)."""

from __future__ import annotations

import numpy as np
import pytest
from std_msgs.msg import Header
from test_pose_messages import make_result
from visualization_msgs.msg import Marker

from mppe_ros.ros.markers import (
    NAMESPACE_BONES,
    NAMESPACE_JOINTS,
    NAMESPACE_LABELS,
    PERSON_COLORS,
    person_color,
    poses_to_markers,
)


def header() -> Header:
    value = Header(frame_id="camera_optical_frame")
    value.stamp.sec, value.stamp.nanosec = 42, 7
    return value


def test_deleteall_first_then_one_set_per_person():
    result = make_result(2)
    markers = poses_to_markers(result, header(), lifetime_s=1.5, scale=2.0).markers
    assert markers[0].action == Marker.DELETEALL
    rest = markers[1:]
    assert [(m.ns, m.id, m.type) for m in rest] == [
        (NAMESPACE_BONES, 0, Marker.LINE_LIST),
        (NAMESPACE_JOINTS, 0, Marker.SPHERE_LIST),
        (NAMESPACE_LABELS, 0, Marker.TEXT_VIEW_FACING),
        (NAMESPACE_BONES, 1, Marker.LINE_LIST),
        (NAMESPACE_JOINTS, 1, Marker.SPHERE_LIST),
        (NAMESPACE_LABELS, 1, Marker.TEXT_VIEW_FACING),
    ]
    for marker in markers:
        assert (marker.header.frame_id, marker.header.stamp.sec, marker.header.stamp.nanosec) == (
            "camera_optical_frame",
            42,
            7,
        )
    for marker in rest:
        assert marker.action == Marker.ADD and marker.pose.orientation.w == 1.0
        assert (marker.lifetime.sec, marker.lifetime.nanosec) == (1, 500_000_000)
        assert (
            0.0 <= min(marker.color.r, marker.color.g, marker.color.b)
            and max(marker.color.r, marker.color.g, marker.color.b) <= 1.0
        )
        assert marker.color.a == 1.0


def test_geometry_in_metres_from_the_result():
    result = make_result(1)
    person = result.persons[0]
    bones, joints, label = poses_to_markers(result, header(), scale=2.0).markers[1:]
    assert len(bones.points) == 2 * len(result.joint_set.bones) and bones.scale.x == pytest.approx(0.04)
    a, b = result.joint_set.bones[3]
    np.testing.assert_allclose([[p.x, p.y, p.z] for p in bones.points[6:8]], person.joints_cam_m[[a, b]])
    np.testing.assert_allclose([[p.x, p.y, p.z] for p in joints.points], person.joints_cam_m)
    assert joints.scale.x == joints.scale.y == joints.scale.z == pytest.approx(0.1)
    distance = float(np.linalg.norm(person.root_cam_m))
    assert label.text == f"0: {distance:.2f} m" and label.scale.z == pytest.approx(0.24)
    assert label.pose.position.y < person.joints_cam_m[:, 1].min()  # above the head (y down)


def test_colours_are_stable_per_id():
    first = poses_to_markers(make_result(3), header()).markers
    again = poses_to_markers(make_result(3), header()).markers
    for marker, same in zip(first[1:], again[1:], strict=True):
        assert (marker.color.r, marker.color.g, marker.color.b) == (same.color.r, same.color.g, same.color.b)
        assert (marker.color.r, marker.color.g, marker.color.b) == pytest.approx(PERSON_COLORS[marker.id])
    assert len({(m.color.r, m.color.g, m.color.b) for m in first[1:]}) == 3
    assert person_color(12).r == person_color(2).r
    result = make_result(1)
    relabelled = poses_to_markers(result, header(), tracks=[track_of(result.persons[0], 5)]).markers
    assert relabelled[1].id == 5 and relabelled[1].color.r == pytest.approx(PERSON_COLORS[5][0])


def track_of(person, track_id: int, shift_m: float = 0.0):
    """A TrackedPerson around `person` (smoothed joints = the person's, shifted by `shift_m` along x)."""
    from mppe_ros.tracking import TrackedPerson

    offset = np.array([shift_m, 0.0, 0.0])
    return TrackedPerson(
        track_id=track_id, is_confirmed=True, person=person, root_m=person.root_cam_m + offset,
        joints_m=person.joints_cam_m + offset, joints_px=person.joints_px, velocity_mps=np.zeros(3),
        age_s=1.0, frames_measured=10, score=0.9,
    )  # fmt: skip


def test_tracks_are_drawn_with_their_ids_smoothed_joints_and_trails():
    result = make_result(2)
    tracks = [track_of(result.persons[1], 42, shift_m=0.5), track_of(result.persons[0], 7)]
    trail = np.array([[0.0, 0.0, 3.0], [0.1, 0.0, 3.0], [0.2, 0.0, 3.0]])
    markers = poses_to_markers(result, header(), tracks=tracks, trails={42: trail, 7: trail[:1]}).markers
    by_ns = {(m.ns, m.id): m for m in markers[1:]}
    assert {marker_id for _, marker_id in by_ns} == {42, 7}
    joints = by_ns[("mppe/joints", 42)]
    np.testing.assert_allclose([[p.x, p.y, p.z] for p in joints.points], tracks[0].joints_m, atol=1e-6)
    assert by_ns[("mppe/labels", 42)].text.startswith("42: ")
    strip = by_ns[("mppe/trails", 42)]
    assert strip.type == Marker.LINE_STRIP and len(strip.points) == 3 and strip.points[2].x == pytest.approx(0.2)
    assert ("mppe/trails", 7) not in by_ns  # one point is not a trail


def test_nobody_gives_only_deleteall():
    markers = poses_to_markers(make_result(0), header()).markers
    assert [m.action for m in markers] == [Marker.DELETEALL]


def test_non_finite_joints_are_left_out():
    from dataclasses import replace

    result = make_result(1)
    joints = result.persons[0].joints_cam_m.copy()
    joints[0] = np.nan  # Head_top: in bone (0, 16) only
    broken = replace(result, persons=(replace(result.persons[0], joints_cam_m=joints),))
    bones, spheres, _ = poses_to_markers(broken, header()).markers[1:]
    assert len(spheres.points) == 20 and len(bones.points) == 2 * (len(result.joint_set.bones) - 1)
    assert all(np.isfinite([p.x, p.y, p.z]).all() for p in bones.points)


def test_bad_lifetime():
    with pytest.raises(ValueError, match="lifetime_s"):
        poses_to_markers(make_result(1), header(), lifetime_s=-1.0)
