"""launch/mppe.launch.py under the launch_testing framework, the way a ROS 2 package's `colcon test` runs launch tests.

launch_testing's pytest plugin collects this module (its `generate_test_description` has the launch_test mark),
runs the launch in this process with the node as a child process, runs the active tests while it runs and the
post-shutdown tests after launch_testing stopped it. Without launch_testing (the real tools lane off) it is skipped.
The node gets random-weight official-format files and no detector: every pair is answered with no persons.
"""

from __future__ import annotations

import os
import tempfile
import time
import unittest
from pathlib import Path

import pytest
from ros_tools import INSTALL_HINT, tools_env

for _module in ("launch_testing", "launch_ros"):
    pytest.importorskip(_module, reason=f"needs {_module}: {INSTALL_HINT}")

import launch_testing  # noqa: E402
import launch_testing.actions  # noqa: E402
import launch_testing.asserts  # noqa: E402
import rclpy  # noqa: E402
from launch.launch_description_sources import PythonLaunchDescriptionSource  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from sensor_msgs.msg import CameraInfo, Image  # noqa: E402
from std_msgs.msg import Header  # noqa: E402

import launch  # noqa: E402
from mppe_ros.msg import PersonPose3DArray  # noqa: E402
from mppe_ros.ros.conversions import bgr_to_image_msg  # noqa: E402
from mppe_ros.testing.messages import camera_info  # noqa: E402
from mppe_ros.testing.synthetic import synthetic_frame, trained_like_weights  # noqa: E402

LAUNCH_FILE = Path(__file__).resolve().parents[2] / "launch" / "mppe.launch.py"
FRAME = "launch_testing_camera_optical_frame"
WIDTH, HEIGHT = 160, 120


@pytest.mark.slow  # launch_testing starts the node as a child process (its marks are the module's)
@pytest.mark.launch_test
def generate_test_description():
    """The repository's launch file, headless, with a parameter file naming random-weight checkpoints, in a scope
    with what env.sh sets (the venv first on PATH and AMENT_PREFIX_PATH), so this process's environment is kept."""
    folder = Path(tempfile.mkdtemp(prefix="mppe_launch_testing_"))
    posenet, rootnet = trained_like_weights(folder)
    params = folder / "params.yaml"
    params.write_text(
        "mppe_node:\n  ros__parameters:\n"
        f"    posenet_path: {posenet}\n    rootnet_path: {rootnet}\n    detector: none\n    device: cpu\n"
    )
    env = tools_env(dict(os.environ))
    scope = launch.actions.GroupAction(
        [
            launch.actions.SetEnvironmentVariable("PATH", env["PATH"]),
            launch.actions.SetEnvironmentVariable("AMENT_PREFIX_PATH", env["AMENT_PREFIX_PATH"]),
            launch.actions.IncludeLaunchDescription(
                PythonLaunchDescriptionSource(str(LAUNCH_FILE)),
                launch_arguments={"params_file": str(params), "rviz": "false"}.items(),
            ),
        ],
        scoped=True,
    )
    return launch.LaunchDescription([scope, launch_testing.actions.ReadyToTest()]), {}


class TestTheLaunchedNode(unittest.TestCase):
    """While the launch runs: the node logs that it is ready and answers a pair with the image's stamp and frame."""

    def test_a_pair_is_answered_with_its_stamp_and_frame(self, proc_output):
        proc_output.assertWaitFor("ready: subscribing", timeout=120, stream="stderr")
        context = rclpy.Context()
        rclpy.init(context=context)
        node = rclpy.create_node("mppe_launch_testing_probe", context=context)
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(node)
        try:
            answers: list[PersonPose3DArray] = []
            node.create_subscription(PersonPose3DArray, "/humans/poses3d", answers.append, 10)
            image_pub = node.create_publisher(Image, "/camera/image_raw", 10)
            info_pub = node.create_publisher(CameraInfo, "/camera/camera_info", 10)
            header = Header(frame_id=FRAME)
            header.stamp.sec = 4242
            image = bgr_to_image_msg(synthetic_frame(WIDTH, HEIGHT), header)
            info = camera_info(header, 150.0, 150.0, WIDTH / 2, HEIGHT / 2, WIDTH, HEIGHT)
            deadline, next_send = time.monotonic() + 60.0, 0.0
            while time.monotonic() < deadline and not any(a.header.stamp.sec == 4242 for a in answers):
                if time.monotonic() >= next_send:
                    image_pub.publish(image)
                    info_pub.publish(info)
                    next_send = time.monotonic() + 1.0
                executor.spin_once(timeout_sec=0.05)
            answered = [a for a in answers if a.header.stamp.sec == 4242]
            assert answered, "no PersonPose3DArray for the published pair within 60 s"
            assert answered[0].header.frame_id == FRAME and answered[0].persons == []
        finally:
            executor.shutdown()
            node.destroy_node()
            rclpy.shutdown(context=context)


@launch_testing.post_shutdown_test()
class TestTheLaunchEnds(unittest.TestCase):
    """After launch_testing stopped the launch (SIGINT): every process it started exited cleanly."""

    def test_every_process_exited_with_status_0(self, proc_info):
        launch_testing.asserts.assertExitCodes(proc_info)
