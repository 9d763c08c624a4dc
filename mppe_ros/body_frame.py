"""The REP-155 body frame of one person, from that person's metric 3D joints (no ROS).

REP-155 (ROS4HRI) gives each body a frame `body_<id>`: x forward (out of the chest), y to the person's left,
z up along the spine towards the head, right-handed (y = z x x). `body_frame` builds it in the camera's optical
frame (x right, y down, z forward, metres), where mppe_ros's joints are:
- origin: the mid-hip, (L_Hip + R_Hip) / 2, in full 3D (never clamped to the camera's height); when a hip is
  unreliable, the Pelvis joint (the root); when that is too, the mean of the reliable joints;
- z: from the lower centre (the origin) to the upper centre: Thorax, else Neck, else the mid-shoulder, else the
  spine joint (MuCo Spine, Human3.6M Torso), else Head: the first reliable one far enough from the origin;
- y: the person's left, L_Hip - R_Hip (or L_Shoulder - R_Shoulder), made orthogonal to z (Gram-Schmidt);
- x = y x z, the direction the chest faces.

When joints are unreliable the orientation comes from the first usable pair, and `BodyFrame.method` says which
(METHODS, in the order tried):
- "hips_spine": y from the hips, z from the spine (the normal case);
- "shoulders_spine": y from the shoulders (a hip missing, or the hips collinear with the spine);
- "hips_vertical", "shoulders_vertical": no usable spine; z is the camera's up (-y optical) made orthogonal to y;
- "facing_camera": neither hips nor shoulders: z = camera up, x horizontal towards the camera (from the origin
  to the optical centre), y = z x x.
A joint is unreliable when a coordinate is non-finite or, if confidences are given, its confidence is below
`min_confidence`; a vector is unusable when shorter than MIN_LENGTH_M or within MIN_ANGLE_DEG of being parallel to
the other axis (degenerate / collinear).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mppe_ros.joint_sets import JointSet

METHODS = ("hips_spine", "shoulders_spine", "hips_vertical", "shoulders_vertical", "facing_camera")
ORIGINS = ("mid_hip", "pelvis", "joints_mean")
MIN_LENGTH_M = 0.02  # hip / shoulder width or spine length below this: degenerate
MIN_ANGLE_DEG = 20.0  # left-right vector within this angle of the up vector: collinear
DEFAULT_MIN_CONFIDENCE = 0.1  # PersonPose.joint_confidence below this: the joint is unreliable
_CAMERA_UP = np.array([0.0, -1.0, 0.0])  # optical frame: y points down
_OPTICAL_FORWARD = np.array([0.0, 0.0, 1.0])

# Joint names of each joint set for the pieces of the frame (mppe_ros.joint_sets), most preferred first.
_UPPER = ("Thorax", "Neck", "<mid_shoulder>", "Spine", "Torso", "Head")


@dataclass(frozen=True, eq=False)
class BodyFrame:
    """A body frame in the camera's optical frame.

    Attributes:
        origin_m: [3] origin, m, optical frame.
        rotation: [3, 3] rotation matrix whose columns are the body's x (forward), y (left), z (up) axes in the
            optical frame (so optical = rotation @ body + origin_m); orthonormal, determinant +1.
        method: how the orientation was found, one of METHODS.
        origin_source: how the origin was found, one of ORIGINS.
    """

    origin_m: np.ndarray
    rotation: np.ndarray
    method: str
    origin_source: str

    def __post_init__(self) -> None:
        for name, shape in (("origin_m", (3,)), ("rotation", (3, 3))):
            value = np.array(getattr(self, name), dtype=np.float64)
            if value.shape != shape:
                raise ValueError(f"BodyFrame.{name} must have shape {shape}, got {value.shape}")
            value.setflags(write=False)
            object.__setattr__(self, name, value)

    @property
    def quaternion_xyzw(self) -> np.ndarray:
        """[4] unit quaternion (x, y, z, w) of `rotation`, w >= 0 (geometry_msgs/Quaternion order)."""
        return rotation_to_quaternion_xyzw(self.rotation)

    @property
    def matrix(self) -> np.ndarray:
        """[4, 4] homogeneous transform from body to optical coordinates."""
        matrix = np.eye(4)
        matrix[:3, :3] = self.rotation
        matrix[:3, 3] = self.origin_m
        return matrix

    def to_body(self, points_m: np.ndarray) -> np.ndarray:
        """[N, 3] optical-frame points (m) -> [N, 3] the same points in body coordinates (m)."""
        points: np.ndarray = (np.asarray(points_m, dtype=np.float64) - self.origin_m) @ self.rotation
        return points


def body_frame(
    joints_cam_m: np.ndarray,
    joint_set: JointSet,
    confidence: np.ndarray | None = None,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
) -> BodyFrame | None:
    """The REP-155 body frame of one person (see the module docstring).

    Args:
        joints_cam_m: [J, 3] joints in the optical frame, m, in `joint_set` order.
        joint_set: the skeleton (MUCO_21 or H36M_18, or any set naming L_Hip/R_Hip/L_Shoulder/R_Shoulder/...).
        confidence: [J] per-joint confidence (PersonPose.joint_confidence), or None: every finite joint is reliable.
        min_confidence: joints with a confidence below this are unreliable.

    Returns:
        The frame, or None when no joint is reliable (no origin).

    Raises:
        ValueError: joints_cam_m (or confidence) does not match the joint set.
    """
    joints = np.asarray(joints_cam_m, dtype=np.float64)
    if joints.shape != (joint_set.joint_num, 3):
        raise ValueError(f"joints_cam_m must have shape ({joint_set.joint_num}, 3), got {joints.shape}")
    reliable = np.asarray(np.isfinite(joints).all(axis=1))
    if confidence is not None:
        scores = np.asarray(confidence, dtype=np.float64)
        if scores.shape != (joint_set.joint_num,):
            raise ValueError(f"confidence must have shape ({joint_set.joint_num},), got {scores.shape}")
        reliable &= np.nan_to_num(scores, nan=-1.0) >= min_confidence
    joint = _Joints(joints, reliable, joint_set).get
    origin, origin_source = _origin(joint, joints, reliable, joint_set.root_index)
    if origin is None:
        return None
    up = next((v for name in _UPPER if (p := joint(name)) is not None and _norm(v := p - origin) >= MIN_LENGTH_M), None)
    lateral = {part: _difference(joint(f"L_{part}"), joint(f"R_{part}")) for part in ("Hip", "Shoulder")}
    candidates = (
        ("hips_spine", lateral["Hip"], up),
        ("shoulders_spine", lateral["Shoulder"], up),
        ("hips_vertical", lateral["Hip"], _CAMERA_UP),
        ("shoulders_vertical", lateral["Shoulder"], _CAMERA_UP),
    )
    for method, left, upward in candidates:
        rotation = _from_left_and_up(left, upward)
        if rotation is not None:
            return BodyFrame(origin, rotation, method, origin_source)
    return BodyFrame(origin, _facing_camera(origin), "facing_camera", origin_source)


def rotation_to_quaternion_xyzw(rotation: np.ndarray) -> np.ndarray:
    """[3, 3] rotation matrix -> [4] unit quaternion (x, y, z, w) with w >= 0 (Shepperd's method)."""
    m = np.asarray(rotation, dtype=np.float64)
    trace = m[0, 0] + m[1, 1] + m[2, 2]
    if trace > 0.0:
        s = 2.0 * math.sqrt(1.0 + trace)
        q = [(m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s, s / 4.0]
    elif m[0, 0] >= m[1, 1] and m[0, 0] >= m[2, 2]:
        s = 2.0 * math.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2])
        q = [s / 4.0, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s, (m[2, 1] - m[1, 2]) / s]
    elif m[1, 1] >= m[2, 2]:
        s = 2.0 * math.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2])
        q = [(m[0, 1] + m[1, 0]) / s, s / 4.0, (m[1, 2] + m[2, 1]) / s, (m[0, 2] - m[2, 0]) / s]
    else:
        s = 2.0 * math.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1])
        q = [(m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, s / 4.0, (m[1, 0] - m[0, 1]) / s]
    quaternion = np.array(q)
    quaternion /= np.linalg.norm(quaternion)
    return -quaternion if quaternion[3] < 0.0 else quaternion


class _Joints:
    """The reliable joints of one person by name; "<mid_hip>", "<mid_shoulder>": the midpoint of the L_/R_ pair."""

    def __init__(self, joints: np.ndarray, reliable: np.ndarray, joint_set: JointSet) -> None:
        self.joints, self.reliable = joints, reliable
        self.index = {name: i for i, name in enumerate(joint_set.joint_names)}

    def get(self, name: str) -> np.ndarray | None:
        """The joint called `name` ([3], m), or None when the set lacks it or it is unreliable."""
        if name.startswith("<mid_"):
            part = name[len("<mid_") : -1].capitalize()
            left, right = self.get(f"L_{part}"), self.get(f"R_{part}")
            return None if left is None or right is None else (left + right) / 2.0
        i = self.index.get(name)
        return self.joints[i] if i is not None and self.reliable[i] else None


def _origin(
    joint: Callable[[str], np.ndarray | None], joints: np.ndarray, reliable: np.ndarray, root_index: int
) -> tuple[np.ndarray | None, str]:
    """The origin and its source (ORIGINS), or (None, "") without a reliable joint."""
    mid_hip = joint("<mid_hip>")
    if mid_hip is not None:
        return mid_hip, "mid_hip"
    if reliable[root_index]:
        return joints[root_index].copy(), "pelvis"
    if reliable.any():
        return joints[reliable].mean(axis=0), "joints_mean"
    return None, ""


def _from_left_and_up(left: np.ndarray | None, up: np.ndarray | None) -> np.ndarray | None:
    """Columns x, y, z from a left-pointing and an upward vector: z = up, y = left made orthogonal to z (Gram-Schmidt),
    x = y x z; None when either is missing, short or within MIN_ANGLE_DEG of the other."""
    if left is None or up is None or _norm(left) < MIN_LENGTH_M or _norm(up) < MIN_LENGTH_M:
        return None
    z = up / _norm(up)
    across = left - (left @ z) * z
    if _norm(across) < math.sin(math.radians(MIN_ANGLE_DEG)) * _norm(left):
        return None
    y = across / _norm(across)
    return np.stack((np.cross(y, z), y, z), axis=1)


def _facing_camera(origin: np.ndarray) -> np.ndarray:
    """Columns x, y, z for a person upright (z = camera up) facing the optical centre (x horizontal, towards it)."""
    z = _CAMERA_UP
    toward = -origin - (-origin @ z) * z
    x = toward / _norm(toward) if _norm(toward) >= 1e-9 else -_OPTICAL_FORWARD
    return np.stack((x, np.cross(z, x), z), axis=1)


def _difference(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    return None if a is None or b is None else a - b


def _norm(vector: np.ndarray) -> float:
    return float(np.linalg.norm(vector))
