"""Pose results -> PersonPose3DArray (mppe_ros.ros.pose_messages), and messages as JSON-ready values."""

from __future__ import annotations

import json

import numpy as np
import pytest
from std_msgs.msg import Header

from mppe_ros.ros.pose_messages import message_to_dict, result_to_msg


def make_result(persons: int = 2):
    from mppe_ros.camera import PinholeCamera
    from mppe_ros.joint_sets import MUCO_21
    from mppe_ros.results import PersonPose, PoseResult

    rng = np.random.default_rng(1)
    people = []
    for index in range(persons):
        joints_m = rng.normal((0.5 * index, 0.0, 3.0 + index), 0.3, (21, 3))
        people.append(
            PersonPose(
                box_xywh_px=(10.0 + index, 20.0, 30.0, 60.0),
                processed_box_xywh_px=(0, 0, 75, 75),
                score=0.9,
                k_value=4000.0,
                root_depth_mm=joints_m[14, 2] * 1000,
                root_px=(25.0, 50.0),
                root_cam_m=joints_m[14],
                joints_px=rng.uniform(0, 100, (21, 2)),
                joints_cam_m=joints_m,
                joint_confidence=rng.uniform(0, 1, 21),
            )
        )
    camera = PinholeCamera(fx=500.0, fy=510.0, cx=80.0, cy=60.0, width=160, height=120)
    return PoseResult(joint_set=MUCO_21, camera=camera, persons=tuple(people))


def test_result_to_msg_copies_header_and_every_field():
    result = make_result()
    header = Header(frame_id="camera_optical_frame")
    header.stamp.sec, header.stamp.nanosec = 1234, 5678
    msg = result_to_msg(result, header)
    assert (msg.header.stamp.sec, msg.header.stamp.nanosec, msg.header.frame_id) == (1234, 5678, "camera_optical_frame")
    assert msg.skeleton == "muco_21" and list(msg.joint_names) == list(result.joint_set.joint_names)
    assert msg.root_index == 14 and list(zip(msg.bone_a, msg.bone_b, strict=True)) == list(result.joint_set.bones)
    assert (msg.fx, msg.fy, msg.cx, msg.cy) == (500.0, 510.0, 80.0, 60.0)
    assert [p.id for p in msg.persons] == [0, 1] and not msg.persons[0].is_tracked
    for person_msg, person in zip(msg.persons, result.persons, strict=True):
        np.testing.assert_allclose([[p.x, p.y, p.z] for p in person_msg.joints], person.joints_cam_m)
        np.testing.assert_allclose([[p.x, p.y] for p in person_msg.joints_px], person.joints_px)
        np.testing.assert_allclose([person_msg.root.x, person_msg.root.y, person_msg.root.z], person.root_cam_m)
        assert person_msg.root.z == pytest.approx(person.root_depth_mm / 1000.0)  # metres, not mm
        np.testing.assert_allclose(person_msg.joint_confidences, person.joint_confidence, rtol=1e-6)
        np.testing.assert_allclose(person_msg.box_xywh_px, person.box_xywh_px)
        assert person_msg.score == pytest.approx(0.9)
    assert result_to_msg(make_result(0), header).persons == []


def test_message_to_dict_is_json():
    msg = result_to_msg(make_result(1), Header(frame_id="f"))
    data = json.loads(json.dumps(message_to_dict(msg)))
    assert data["header"]["frame_id"] == "f" and len(data["persons"][0]["joints"]) == 21
    assert set(data["persons"][0]["joints"][0]) == {"x", "y", "z"} and len(data["persons"][0]["box_xywh_px"]) == 4
