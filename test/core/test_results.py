"""mppe_ros.results: shape checks, read-only arrays, the JSON form."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mppe_ros.camera import PinholeCamera
from mppe_ros.joint_sets import H36M_18, MUCO_21
from mppe_ros.results import PersonPose, PoseResult

CAMERA = PinholeCamera(fx=500.0, fy=510.0, cx=160.0, cy=120.0, width=320, height=240)


def _person(joint_num: int = 21, **changes) -> PersonPose:
    fields = {
        "box_xywh_px": [1, 2, 3, 4],
        "processed_box_xywh_px": [0, 0, 5, 5],
        "score": 1,
        "k_value": 5000,
        "root_depth_mm": 3000,
        "root_px": [1, 2],
        "root_cam_m": [0.1, 0.2, 3.0],
        "joints_px": np.zeros((joint_num, 2)),
        "joints_cam_m": np.ones((joint_num, 3)),
        "joint_confidence": np.ones(joint_num),
    }
    return PersonPose(**{**fields, **changes})


def test_fields_become_read_only_float_arrays_and_floats():
    person = _person()
    assert person.box_xywh_px.dtype == np.float64 and isinstance(person.score, float)
    with pytest.raises(ValueError):
        person.joints_px[0, 0] = 1.0


def test_wrong_shapes_are_rejected():
    with pytest.raises(ValueError, match="box_xywh_px"):
        _person(box_xywh_px=[1, 2, 3])
    with pytest.raises(ValueError, match="joints_cam_m"):
        _person(joints_cam_m=np.ones((21, 2)))
    with pytest.raises(ValueError, match="h36m_18"):
        PoseResult(H36M_18, CAMERA, [_person(21)])


def test_json_form_is_plain_json_and_round_trips_the_numbers():
    result = PoseResult(MUCO_21, CAMERA, [_person()], {"crop": 0.5})
    document = json.loads(json.dumps(result.to_json_dict()))
    assert document["joint_set"] == "muco_21" and document["camera"]["fy"] == 510.0
    assert document["timings_s"] == {"crop": 0.5} and document["persons"][0]["root_cam_m"] == [0.1, 0.2, 3.0]
    assert len(document["persons"][0]["joints_px"]) == 21
