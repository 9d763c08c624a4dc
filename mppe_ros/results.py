"""Immutable results of one processed image: persons with 2D/3D joints, and how they were made.

Frames and units: 2D quantities in px of the input image (OpenCV: u right, v down, pixel centres
at integers); 3D quantities in metres in the camera optical frame (x right, y down, z forward);
depths that come straight from RootNet in mm, as their names say.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mppe_ros.camera import PinholeCamera
from mppe_ros.joint_sets import JointSet

# PersonPose array fields and their shapes (J = joint count); stored as read-only float64 copies.
_ARRAY_SHAPES = {
    "box_xywh_px": (4,),
    "processed_box_xywh_px": (4,),
    "root_px": (2,),
    "root_cam_m": (3,),
    "joints_px": (None, 2),
    "joints_cam_m": (None, 3),
    "joint_confidence": (None,),
}


@dataclass(frozen=True, eq=False)
class PersonPose:
    """One person.

    Attributes:
        box_xywh_px: [4] input box (x_min, y_min, width, height) as given to the networks, px.
        processed_box_xywh_px: [4] square x1.25 box the crop was cut from (may leave the image), px.
        score: detection score in [0, 1] (1.0 for boxes supplied without scores).
        k_value: RootNet's distance prior k, mm (sqrt(2000 * 2000 * fx * fy / box area)).
        root_depth_mm: RootNet's absolute depth of the root joint, mm.
        root_px: [2] RootNet's own 2D root estimate (u, v), px.
        root_cam_m: [3] root joint in the optical frame, m: PoseNet's root joint (u, v)
            back-projected at Z = root_depth_mm (as in the official demo).
        joints_px: [J, 2] PoseNet joints (u, v), px.
        joints_cam_m: [J, 3] joints in the optical frame, m, each back-projected with its own depth.
        joint_confidence: [J] share of each joint's 2D heatmap mass near the decoded point, [0, 1].
    """

    box_xywh_px: np.ndarray
    processed_box_xywh_px: np.ndarray
    score: float
    k_value: float
    root_depth_mm: float
    root_px: np.ndarray
    root_cam_m: np.ndarray
    joints_px: np.ndarray
    joints_cam_m: np.ndarray
    joint_confidence: np.ndarray

    def __post_init__(self) -> None:
        for name, shape in _ARRAY_SHAPES.items():
            value = np.array(getattr(self, name), dtype=np.float64)
            if value.ndim != len(shape) or any(
                s is not None and s != n for s, n in zip(shape, value.shape, strict=True)
            ):
                raise ValueError(f"PersonPose.{name} must have shape {shape} (None = joints), got {value.shape}")
            value.setflags(write=False)
            object.__setattr__(self, name, value)
        for name in ("score", "k_value", "root_depth_mm"):
            object.__setattr__(self, name, float(getattr(self, name)))

    def to_json_dict(self) -> dict[str, Any]:
        """Plain-JSON form: every field by name, arrays as (nested) lists of floats."""
        return {
            f.name: value.tolist() if isinstance(value := getattr(self, f.name), np.ndarray) else value
            for f in dataclasses.fields(self)
        }


@dataclass(frozen=True, eq=False)
class PoseResult:
    """All persons found in one image.

    Attributes:
        joint_set: skeleton of every person's joints (order, root, bones).
        camera: intrinsics the 3D points were computed with.
        persons: one entry per usable input box, in input (detection) order; boxes that
            process_bbox rejects (empty, outside the image) are left out.
        timings_s: wall time per stage in s: detection, crop, rootnet, posenet, decoding.
    """

    joint_set: JointSet
    camera: PinholeCamera
    persons: tuple[PersonPose, ...] = ()
    timings_s: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "persons", tuple(self.persons))
        object.__setattr__(self, "timings_s", dict(self.timings_s))
        for person in self.persons:
            if len(person.joints_px) != self.joint_set.joint_num:
                raise ValueError(
                    f"person has {len(person.joints_px)} joints, joint set {self.joint_set.name!r} "
                    f"has {self.joint_set.joint_num}"
                )

    def to_json_dict(self) -> dict[str, Any]:
        """Plain-JSON form (json.dumps-able); the schema is documented in docs/cli.md."""
        camera = self.camera
        return {
            "joint_set": self.joint_set.name,
            "joint_names": list(self.joint_set.joint_names),
            "root_index": self.joint_set.root_index,
            "bones": [list(bone) for bone in self.joint_set.bones],
            "camera": {
                "fx": camera.fx,
                "fy": camera.fy,
                "cx": camera.cx,
                "cy": camera.cy,
                "width": camera.width,
                "height": camera.height,
                "distortion": list(camera.distortion),
                "rectified": camera.rectified,
            },
            "timings_s": dict(self.timings_s),
            "persons": [person.to_json_dict() for person in self.persons],
        }
