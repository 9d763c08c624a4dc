"""Joint sets of the released 3DMPPE models: names, root, bones and flip pairs.

PoseNet's output order is fixed by its training set: the MuCo+COCO model outputs MuCo-3DHP's 21
joints, the Human3.6M+MPII models output Human3.6M's 17 joints plus Thorax (18).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class JointSet:
    """A skeleton definition.

    Attributes:
        name: identifier used in configuration and messages (`muco_21`, `h36m_18`).
        joint_names: joint names in network output order.
        root_index: index of the root joint (Pelvis) that RootNet's depth refers to.
        bones: pairs of joint indices drawn as limbs.
        flip_pairs: left/right joint index pairs (for flip testing).
    """

    name: str
    joint_names: tuple[str, ...]
    root_index: int
    bones: tuple[tuple[int, int], ...]
    flip_pairs: tuple[tuple[int, int], ...]

    @property
    def joint_num(self) -> int:
        """Number of joints."""
        return len(self.joint_names)


MUCO_21 = JointSet(
    name="muco_21",
    joint_names=(
        "Head_top", "Thorax", "R_Shoulder", "R_Elbow", "R_Wrist", "L_Shoulder", "L_Elbow", "L_Wrist", "R_Hip",
        "R_Knee", "R_Ankle", "L_Hip", "L_Knee", "L_Ankle", "Pelvis", "Spine", "Head", "R_Hand", "L_Hand", "R_Toe",
        "L_Toe",
    ),
    root_index=14,
    bones=(
        (0, 16), (16, 1), (1, 15), (15, 14), (14, 8), (14, 11), (8, 9), (9, 10), (10, 19), (11, 12), (12, 13),
        (13, 20), (1, 2), (2, 3), (3, 4), (4, 17), (1, 5), (5, 6), (6, 7), (7, 18),
    ),
    flip_pairs=((2, 5), (3, 6), (4, 7), (8, 11), (9, 12), (10, 13), (17, 18), (19, 20)),
)  # fmt: skip


H36M_18 = JointSet(
    name="h36m_18",
    joint_names=(
        "Pelvis", "R_Hip", "R_Knee", "R_Ankle", "L_Hip", "L_Knee", "L_Ankle", "Torso", "Neck", "Nose", "Head",
        "L_Shoulder", "L_Elbow", "L_Wrist", "R_Shoulder", "R_Elbow", "R_Wrist", "Thorax",
    ),
    root_index=0,
    bones=(
        (0, 7), (7, 8), (8, 9), (9, 10), (8, 11), (11, 12), (12, 13), (8, 14), (14, 15), (15, 16), (0, 1), (1, 2),
        (2, 3), (0, 4), (4, 5), (5, 6),
    ),
    flip_pairs=((1, 4), (2, 5), (3, 6), (14, 11), (15, 12), (16, 13)),
)  # fmt: skip


JOINT_SETS: dict[str, JointSet] = {MUCO_21.name: MUCO_21, H36M_18.name: H36M_18}


def get_joint_set(name: str) -> JointSet:
    """Return the joint set called `name`.

    Raises:
        ValueError: `name` is not one of JOINT_SETS (the message lists the valid names).
    """
    try:
        return JOINT_SETS[name]
    except KeyError:
        raise ValueError(f"unknown joint set {name!r}; expected one of {sorted(JOINT_SETS)}") from None
