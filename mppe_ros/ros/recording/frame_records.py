"""A published PersonPose3DArray as the plain values the JSON lines and the overlay video take."""

from __future__ import annotations

from typing import Any

import numpy as np


def _xyz(point: Any) -> list[float]:
    return [float(point.x), float(point.y), float(point.z)]


def poses_record(msg: Any) -> dict[str, Any]:
    """One --jsonl line (mppe_ros.recordings.jsonl's schema) from a PersonPose3DArray; metres, px, [0, 1]."""
    stamp = msg.header.stamp
    return {
        "stamp": {"sec": int(stamp.sec), "nanosec": int(stamp.nanosec)},
        "stamp_s": int(stamp.sec) + int(stamp.nanosec) * 1e-9,
        "frame_id": msg.header.frame_id,
        "skeleton": msg.skeleton,
        "persons": [
            {
                "id": int(person.id),
                "is_tracked": bool(person.is_tracked),
                "score": float(person.score),
                "box_xywh_px": [float(v) for v in person.box_xywh_px],
                "root_m": _xyz(person.root),
                "joints_m": [_xyz(joint) for joint in person.joints],
                "joint_confidences": [float(c) for c in person.joint_confidences],
                "joints_px": [[float(p.x), float(p.y)] for p in person.joints_px],
            }
            for person in msg.persons
        ],
    }


def overlay_arrays(msg: Any) -> dict[str, Any]:
    """mppe_ros.overlay.draw_poses' arguments from a PersonPose3DArray: boxes [N, 4] px, joints_px [N, J, 2],
    roots_m [N, 3], bones, person_ids."""
    joint_num = len(msg.joint_names)
    persons = msg.persons
    return {
        "boxes_xywh_px": np.array([list(p.box_xywh_px) for p in persons], dtype=np.float64).reshape(-1, 4),
        "joints_px": np.array([[(q.x, q.y) for q in p.joints_px] for p in persons], dtype=np.float64).reshape(
            -1, joint_num, 2
        ),
        "roots_m": np.array([_xyz(p.root) for p in persons], dtype=np.float64).reshape(-1, 3),
        "bones": list(zip(msg.bone_a, msg.bone_b, strict=True)),
        "person_ids": [int(p.id) for p in persons],
    }
