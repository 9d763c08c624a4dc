"""`python -m mppe_ros {infer,weights,bench,demo,node} ...`: see mppe_ros.apps.entry_points."""

from mppe_ros.apps.entry_points import mppe_ros

if __name__ == "__main__":
    mppe_ros()
