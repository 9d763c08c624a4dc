"""Pose results -> mppe_ros messages, and any message -> JSON-ready values.

Results (`result_to_msg`): PoseResult (metres, from the library) -> mppe_ros/PersonPose3DArray with
the image's header. `message_to_dict` turns any message into JSON-ready Python values.
"""

from __future__ import annotations

import array
from collections.abc import Sequence
from typing import Any

import numpy as np
from geometry_msgs.msg import Point, Vector3
from std_msgs.msg import Header

from mppe_ros.msg import PersonPose3D, PersonPose3DArray


def result_to_msg(result: Any, header: Header, tracks: Sequence[Any] | None = None) -> PersonPose3DArray:
    """PoseResult (and its tracks) -> PersonPose3DArray (3D in metres as the library gives them; 2D in px).

    Args:
        result: mppe_ros.results.PoseResult of one image.
        header: the input image's header; stamp and frame_id are copied unchanged.
        tracks: mppe_ros.tracking.TrackedPerson of this frame (tracking on): the persons are these, with the
            track id, smoothed values and track fields; None: the persons of `result`, id = index.
    """
    joint_set, camera = result.joint_set, result.camera
    msg = PersonPose3DArray(
        header=Header(stamp=header.stamp, frame_id=header.frame_id),
        skeleton=joint_set.name,
        joint_names=list(joint_set.joint_names),
        root_index=joint_set.root_index,
        bone_a=[a for a, _ in joint_set.bones],
        bone_b=[b for _, b in joint_set.bones],
        fx=float(camera.fx),
        fy=float(camera.fy),
        cx=float(camera.cx),
        cy=float(camera.cy),
    )
    if tracks is None:
        msg.persons = [_person_msg(index, person) for index, person in enumerate(result.persons)]
    else:
        msg.persons = [_tracked_person_msg(track) for track in tracks]
    return msg


def _person_msg(index: int, person: Any) -> PersonPose3D:
    return PersonPose3D(
        id=index,
        is_tracked=False,
        score=float(person.score),
        box_xywh_px=np.asarray(person.box_xywh_px, dtype=np.float32),
        root=_point(person.root_cam_m),
        joints=[_point(xyz) for xyz in person.joints_cam_m],
        joint_confidences=[float(c) for c in person.joint_confidence],
        joints_px=[Point(x=float(u), y=float(v), z=0.0) for u, v in person.joints_px],
        frames_measured=1,
    )


def _tracked_person_msg(track: Any) -> PersonPose3D:
    msg = _person_msg(track.track_id, track.person)
    msg.is_tracked = bool(track.is_confirmed)
    msg.root = _point(track.root_m)
    msg.joints = [_point(xyz) for xyz in track.joints_m]
    msg.joints_px = [Point(x=float(u), y=float(v), z=0.0) for u, v in track.joints_px]
    vx, vy, vz = (float(v) for v in track.velocity_mps)
    msg.root_velocity = Vector3(x=vx, y=vy, z=vz)
    msg.age_s = float(track.age_s)
    msg.frames_measured = int(track.frames_measured)
    return msg


def _point(xyz: Any) -> Point:
    x, y, z = (float(v) for v in xyz)
    return Point(x=x, y=y, z=z)


def message_to_dict(msg: Any) -> Any:
    """Any ROS message (or field value) as plain JSON-ready Python values, field by field."""
    if hasattr(msg, "get_fields_and_field_types"):
        return {name: message_to_dict(getattr(msg, name)) for name in msg.get_fields_and_field_types()}
    if isinstance(msg, (list, tuple)):
        return [message_to_dict(value) for value in msg]
    if isinstance(msg, (array.array, np.ndarray)):
        return msg.tolist()
    if isinstance(msg, (bytes, bytearray)):
        return list(msg)
    if isinstance(msg, np.generic):
        return msg.item()
    return msg
