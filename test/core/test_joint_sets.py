"""mppe_ros.joint_sets: the two released skeletons are consistent, and lookup by name."""

from __future__ import annotations

import pytest

from mppe_ros.joint_sets import H36M_18, JOINT_SETS, MUCO_21, get_joint_set


@pytest.mark.parametrize("joint_set", [MUCO_21, H36M_18], ids=lambda s: s.name)
def test_indices_are_valid_and_names_unique(joint_set):
    count = joint_set.joint_num
    assert len(set(joint_set.joint_names)) == count
    assert 0 <= joint_set.root_index < count and joint_set.joint_names[joint_set.root_index] == "Pelvis"
    for a, b in (*joint_set.bones, *joint_set.flip_pairs):
        assert 0 <= a < count and 0 <= b < count and a != b
    flipped = [i for pair in joint_set.flip_pairs for i in pair]
    assert len(flipped) == len(set(flipped))  # each joint has at most one mirror


def test_flip_pairs_join_left_and_right_joints():
    for joint_set in (MUCO_21, H36M_18):
        for a, b in joint_set.flip_pairs:
            names = {joint_set.joint_names[a], joint_set.joint_names[b]}
            assert {name.replace("L_", "").replace("R_", "") for name in names} == {
                joint_set.joint_names[a].replace("L_", "").replace("R_", "")
            }


def test_joint_counts_and_lookup():
    assert (MUCO_21.joint_num, H36M_18.joint_num) == (21, 18)
    assert get_joint_set("muco_21") is MUCO_21 and get_joint_set("h36m_18") is H36M_18
    assert set(JOINT_SETS) == {"muco_21", "h36m_18"}
    with pytest.raises(ValueError, match="muco_21"):
        get_joint_set("coco_17")
