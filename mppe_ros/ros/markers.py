"""RViz skeletons: a pure function from one PoseResult to one visualization_msgs/MarkerArray.

Every array starts with a DELETEALL marker (so a person who left the view leaves no ghost
skeleton), then per person, in the image's frame (the camera optical frame) and in metres:
- ns "mppe/bones", LINE_LIST: one segment per bone of the joint set;
- ns "mppe/joints", SPHERE_LIST: one sphere per joint;
- ns "mppe/labels", TEXT_VIEW_FACING: "<id>: <distance> m" above the head (distance = |root|);
- ns "mppe/trails", LINE_STRIP (with tracking and marker_trail_s > 0): the root's recent positions.
The marker id is the person id (the track id with tracking) in every namespace, and the colour comes
from PERSON_COLORS by id (mppe_ros.overlay, shared with the 2D drawing), so a given id always has the
same colour from frame to frame.
Colour values are in [0, 1] as RViz expects.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
from builtin_interfaces.msg import Duration
from geometry_msgs.msg import Point
from std_msgs.msg import ColorRGBA, Header
from visualization_msgs.msg import Marker, MarkerArray

from mppe_ros.overlay import PERSON_COLORS  # the one person palette (also the 2D overlay's)

NAMESPACE_BONES = "mppe/bones"
NAMESPACE_JOINTS = "mppe/joints"
NAMESPACE_LABELS = "mppe/labels"
NAMESPACE_TRAILS = "mppe/trails"
BONE_WIDTH_M = 0.02  # LINE_LIST line width at scale 1
JOINT_DIAMETER_M = 0.05  # SPHERE_LIST sphere diameter at scale 1
LABEL_HEIGHT_M = 0.12  # TEXT_VIEW_FACING capital letter height at scale 1
LABEL_OFFSET_M = 0.15  # label above the highest joint (optical frame: -y is up)


def person_color(person_id: int, alpha: float = 1.0) -> ColorRGBA:
    """The colour of person `person_id` (stable: depends only on the id)."""
    red, green, blue = PERSON_COLORS[person_id % len(PERSON_COLORS)]
    return ColorRGBA(r=red, g=green, b=blue, a=alpha)


def poses_to_markers(
    result: Any,
    header: Header,
    lifetime_s: float = 0.0,
    scale: float = 1.0,
    tracks: list[Any] | None = None,
    trails: dict[int, np.ndarray] | None = None,
) -> MarkerArray:
    """Build the skeleton markers of one frame.

    Args:
        result: mppe_ros.results.PoseResult (joints_cam_m in metres, optical frame).
        header: the input image's header; every marker gets its stamp and frame_id.
        lifetime_s: how long RViz shows a marker without a new array, s (0: until deleted).
        scale: size factor for line width, sphere diameter and text height.
        tracks: this frame's mppe_ros.tracking.TrackedPerson (tracking on): drawn instead of result's persons,
            with their track ids and smoothed joints; None: result's persons, id = index (as in PersonPose3DArray).
        trails: {track id: [T, 3] recent root positions, m, oldest first}; a strip per id with T >= 2.

    Returns:
        MarkerArray: [DELETEALL, then per person bones, joints, label]; joints or bones with a
        non-finite coordinate are left out.
    """
    header = Header(stamp=header.stamp, frame_id=header.frame_id)
    lifetime = _duration(lifetime_s)
    markers = [Marker(header=header, action=Marker.DELETEALL)]
    bones = result.joint_set.bones
    if tracks is None:
        people = [(index, p.joints_cam_m, p.root_cam_m) for index, p in enumerate(result.persons)]
    else:
        people = [(t.track_id, t.joints_m, t.root_m) for t in tracks]
    for person_id, joints_m, root_m in people:
        joints = np.asarray(joints_m, dtype=np.float64)
        finite = np.asarray(np.isfinite(joints).all(axis=1), dtype=bool)
        new_marker = functools.partial(_new_marker, header, person_id, person_color(person_id), lifetime)
        bone_marker = new_marker(NAMESPACE_BONES, Marker.LINE_LIST)
        bone_marker.scale.x = BONE_WIDTH_M * scale
        bone_marker.points = [_point(joints[index]) for a, b in bones if finite[a] and finite[b] for index in (a, b)]
        joint_marker = new_marker(NAMESPACE_JOINTS, Marker.SPHERE_LIST)
        joint_marker.scale.x = joint_marker.scale.y = joint_marker.scale.z = JOINT_DIAMETER_M * scale
        joint_marker.points = [_point(joint) for joint in joints[finite]]
        markers += [bone_marker, joint_marker]

        root = np.asarray(root_m, dtype=np.float64)
        if finite.any() and np.isfinite(root).all():
            label = new_marker(NAMESPACE_LABELS, Marker.TEXT_VIEW_FACING)
            label.scale.z = LABEL_HEIGHT_M * scale
            top = joints[finite][np.argmin(joints[finite, 1])]
            label.pose.position = _point(top - (0.0, LABEL_OFFSET_M * scale, 0.0))
            label.text = f"{person_id}: {float(np.linalg.norm(root)):.2f} m"
            markers.append(label)
        trail = None if trails is None else trails.get(person_id)
        if trail is not None and len(trail) >= 2:
            strip = new_marker(NAMESPACE_TRAILS, Marker.LINE_STRIP)
            strip.scale.x = BONE_WIDTH_M * scale
            strip.points = [_point(xyz) for xyz in trail if np.isfinite(xyz).all()]
            markers.append(strip)
    return MarkerArray(markers=markers)


def _new_marker(
    header: Header, person_id: int, color: ColorRGBA, lifetime: Duration, namespace: str, kind: int
) -> Marker:
    marker = Marker(header=header, ns=namespace, id=person_id, type=kind, action=Marker.ADD)
    marker.pose.orientation.w = 1.0  # identity pose: the points are in the header's frame
    marker.color = color
    marker.lifetime = lifetime
    return marker


def _point(xyz: np.ndarray) -> Point:
    return Point(x=float(xyz[0]), y=float(xyz[1]), z=float(xyz[2]))


def _duration(seconds: float) -> Duration:
    if not (math.isfinite(seconds) and seconds >= 0.0):
        raise ValueError(f"lifetime_s must be a finite number >= 0 s, got {seconds!r}")
    total_ns = int(round(seconds * 1e9))
    return Duration(sec=total_ns // 1_000_000_000, nanosec=total_ns % 1_000_000_000)
