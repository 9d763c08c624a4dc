"""The synthetic standing person of the body-frame tests (test_body_frame, test_rep155): joints by name in body
coordinates, placed in the optical frame with given body axes."""

from __future__ import annotations

import numpy as np

from mppe_ros.joint_sets import JointSet

# A standing person in body coordinates (m; x forward, y to the person's left, z up), spine straight up, mid-hip at 0.
# The pelvis sits 3 cm above the mid-hip so that "origin = mid-hip" and "origin = pelvis" differ.
BODY_JOINTS_M = {
    "Pelvis": (0.0, 0.0, 0.03), "L_Hip": (0.0, 0.1, 0.0), "R_Hip": (0.0, -0.1, 0.0),
    "Spine": (0.0, 0.0, 0.25), "Torso": (0.0, 0.0, 0.25), "Thorax": (0.0, 0.0, 0.5), "Neck": (0.0, 0.0, 0.55),
    "Head": (0.06, 0.0, 0.65), "Nose": (0.1, 0.0, 0.62), "Head_top": (0.02, 0.0, 0.75),
    "L_Shoulder": (0.0, 0.18, 0.48), "L_Elbow": (0.0, 0.22, 0.22), "L_Wrist": (0.05, 0.22, 0.0),
    "L_Hand": (0.07, 0.22, -0.05), "L_Knee": (0.03, 0.1, -0.45), "L_Ankle": (0.0, 0.1, -0.88),
    "L_Toe": (0.12, 0.1, -0.92),
}  # fmt: skip
BODY_JOINTS_M |= {f"R_{name[2:]}": (x, -y, z) for name, (x, y, z) in BODY_JOINTS_M.items() if name.startswith("L_")}
# Body axes in the optical frame (columns x, y, z) of a person facing the camera: forward = towards the camera
# (-z optical), the person's left = the camera's right (+x optical), up = -y optical.
FACING_CAMERA = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, -1.0], [-1.0, 0.0, 0.0]])
MID_HIP_M = np.array([0.3, 0.2, 3.0])  # below the camera's height (optical y > 0): not clamped to it


def yaw(degrees: float) -> np.ndarray:
    """Rotation about the body's up axis (a person turning on the spot)."""
    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def standing_joints(
    joint_set: JointSet, rotation: np.ndarray = FACING_CAMERA, mid_hip_m: np.ndarray = MID_HIP_M
) -> np.ndarray:
    """[J, 3] optical-frame joints (m): BODY_JOINTS_M with body axes `rotation`, the mid-hip at `mid_hip_m`."""
    local = np.array([BODY_JOINTS_M[name] for name in joint_set.joint_names])
    return local @ np.asarray(rotation).T + mid_hip_m


def quaternion_to_rotation(q: np.ndarray) -> np.ndarray:
    x, y, z, w = q
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])  # fmt: skip
