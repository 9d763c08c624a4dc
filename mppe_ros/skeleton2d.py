"""The 2D skeleton in hri_msgs/Skeleton2D's layout (OpenPose COCO-18 order), from a joint set's 2D joints (no ROS).

SKELETON2D_TABLE is the one mapping: per Skeleton2D slot (its constant's name in hri_msgs/msg/Skeleton2D, in index
order: NOSE = 0 ... RIGHT_EAR = 17), the joint of MuCo-21 and of Human3.6M-18 (mppe_ros.joint_sets names) that
fills it, or None. Choices:
- NECK is OpenPose's mid-shoulder point: MuCo's Thorax (MPI-INF-3DHP's neck) and Human3.6M's Thorax (3DMPPE adds it as
  the mid-shoulder);
- NOSE: Human3.6M's Nose; MuCo-21 has no nose, its Head (the head's centre, between the eyes in a frontal image)
  stands in;
- the eyes and ears have no source joint in either set: c = 0 (and x = y = 0).
Slot names and order are checked against the installed hri_msgs by test/ros/test_rep155.py.
"""

from __future__ import annotations

import functools

import numpy as np

from mppe_ros.joint_sets import H36M_18, MUCO_21, JointSet

# Skeleton2D slot           MuCo-21        Human3.6M-18
SKELETON2D_TABLE: tuple[tuple[str, str | None, str | None], ...] = (
    ("NOSE",                "Head",        "Nose"),
    ("NECK",                "Thorax",      "Thorax"),
    ("RIGHT_SHOULDER",      "R_Shoulder",  "R_Shoulder"),
    ("RIGHT_ELBOW",         "R_Elbow",     "R_Elbow"),
    ("RIGHT_WRIST",         "R_Wrist",     "R_Wrist"),
    ("LEFT_SHOULDER",       "L_Shoulder",  "L_Shoulder"),
    ("LEFT_ELBOW",          "L_Elbow",     "L_Elbow"),
    ("LEFT_WRIST",          "L_Wrist",     "L_Wrist"),
    ("RIGHT_HIP",           "R_Hip",       "R_Hip"),
    ("RIGHT_KNEE",          "R_Knee",      "R_Knee"),
    ("RIGHT_ANKLE",         "R_Ankle",     "R_Ankle"),
    ("LEFT_HIP",            "L_Hip",       "L_Hip"),
    ("LEFT_KNEE",           "L_Knee",      "L_Knee"),
    ("LEFT_ANKLE",          "L_Ankle",     "L_Ankle"),
    ("LEFT_EYE",            None,          None),
    ("RIGHT_EYE",           None,          None),
    ("LEFT_EAR",            None,          None),
    ("RIGHT_EAR",           None,          None),
)  # fmt: skip
SKELETON2D_SLOTS: tuple[str, ...] = tuple(slot for slot, _, _ in SKELETON2D_TABLE)
_COLUMNS = {MUCO_21.name: 1, H36M_18.name: 2}  # joint set -> its column of SKELETON2D_TABLE


def skeleton2d_sources(joint_set: JointSet) -> tuple[str | None, ...]:
    """The joint name of `joint_set` filling each Skeleton2D slot (None: no source), in slot order.

    Raises:
        ValueError: SKELETON2D_TABLE has no column for this joint set.
    """
    column = _COLUMNS.get(joint_set.name)
    if column is None:
        raise ValueError(f"no Skeleton2D mapping for joint set {joint_set.name!r}; expected one of {sorted(_COLUMNS)}")
    return tuple(row[column] for row in SKELETON2D_TABLE)


@functools.lru_cache(maxsize=8)
def skeleton2d_indices(joint_set: JointSet) -> tuple[int | None, ...]:
    """The joint index of `joint_set` filling each Skeleton2D slot (None: no source), in slot order."""
    return tuple(None if name is None else joint_set.joint_names.index(name) for name in skeleton2d_sources(joint_set))


def skeleton2d_points(
    joints_px: np.ndarray,
    joint_set: JointSet,
    width: int,
    height: int,
    confidence: np.ndarray | None = None,
) -> np.ndarray:
    """The 18 Skeleton2D points of one person: [18, 3] rows (x, y, c), in slot order.

    Args:
        joints_px: [J, 2] joints (u, v), px, in `joint_set` order.
        joint_set: the skeleton of `joints_px`.
        width, height: the image size, px (> 0).
        confidence: [J] per-joint confidence in [0, 1] (PersonPose.joint_confidence), or None: 1 for every joint.

    Returns:
        x = u / width, y = v / height and c = the joint's confidence. Slots without a source joint, and joints
        with a non-finite coordinate: (0, 0, 0). Joints outside the image: clipped to its border ([0, 1]), c = 0.
    """
    if width <= 0 or height <= 0:
        raise ValueError(f"image size must be > 0, got {width}x{height}")
    joints = np.asarray(joints_px, dtype=np.float64)
    if joints.shape != (joint_set.joint_num, 2):
        raise ValueError(f"joints_px must have shape ({joint_set.joint_num}, 2), got {joints.shape}")
    scores = np.ones(joint_set.joint_num) if confidence is None else np.asarray(confidence, dtype=np.float64)
    if scores.shape != (joint_set.joint_num,):
        raise ValueError(f"confidence must have shape ({joint_set.joint_num},), got {scores.shape}")
    points = np.zeros((len(SKELETON2D_TABLE), 3))
    for slot, index in enumerate(skeleton2d_indices(joint_set)):
        if index is None or not np.isfinite(joints[index]).all():
            continue
        normalised = joints[index] / (width, height)
        inside = bool(((normalised >= 0.0) & (normalised <= 1.0)).all())
        c = float(np.clip(np.nan_to_num(scores[index]), 0.0, 1.0)) if inside else 0.0
        points[slot] = (*np.clip(normalised, 0.0, 1.0), c)
    return points
