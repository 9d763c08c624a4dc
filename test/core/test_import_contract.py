"""The rooms' import contract (mppe_ros.testing.import_contract) holds, and it catches a violation."""

from __future__ import annotations

from pathlib import Path

from mppe_ros.testing import import_contract


def test_the_package_keeps_the_contract():
    assert import_contract.violations() == []


def test_a_core_module_importing_ros_or_a_room_is_caught(tmp_path: Path):
    package = tmp_path / "mppe_ros"
    (package / "ros").mkdir(parents=True)
    (package / "camera.py").write_text(
        "import numpy\nfrom mppe_ros.joint_sets import MUCO_21\n\n\ndef later():\n    import rclpy\n"
        "    from mppe_ros.ros import node\n    from mppe_ros import bench\n    from sensor_msgs.msg import Image\n"
    )
    (package / "ros" / "node.py").write_text("import rclpy\nfrom mppe_ros.apps import cli\n")
    found = import_contract.violations(package)
    assert found == [
        "mppe_ros/camera.py:6: core imports rclpy (ros)",
        "mppe_ros/camera.py:7: core imports mppe_ros.ros (ros)",
        "mppe_ros/camera.py:8: core imports mppe_ros.bench (bench)",
        "mppe_ros/camera.py:9: core imports sensor_msgs.msg (ros)",
        "mppe_ros/ros/node.py:2: ros imports mppe_ros.apps (apps)",
    ], found


def test_a_core_subpackage_may_import_the_core_but_no_room(tmp_path: Path):
    package = tmp_path / "mppe_ros"
    for folder in ("tracking", "testing"):
        (package / folder).mkdir(parents=True)
    (package / "tracking" / "session.py").write_text(
        "from mppe_ros.camera import PinholeCamera\nfrom mppe_ros.tracking.tracker import Tracker\n"
        "from mppe_ros.weights import resolve_weights\nfrom mppe_ros.ros.frames import NodeStats\n"
        "from mppe_ros import testing\nfrom std_msgs.msg import Header\n"
    )
    (package / "testing" / "synthetic.py").write_text("from mppe_ros.tracking import Tracker\n")
    assert import_contract.room_of_file(package / "tracking" / "session.py", package) == "core"
    found = import_contract.violations(package)
    assert found == [
        "mppe_ros/tracking/session.py:4: core imports mppe_ros.ros.frames (ros)",
        "mppe_ros/tracking/session.py:5: core imports mppe_ros.testing (testing)",
        "mppe_ros/tracking/session.py:6: core imports std_msgs.msg (ros)",
    ], found
