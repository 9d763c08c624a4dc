"""Start mppe_node on a camera (and, on request, RViz with the skeletons).

    ros2 launch mppe_ros mppe.launch.py camera:=/camera
    ros2 launch mppe_ros mppe.launch.py image:=/cam/image_rect camera_info:=/cam/camera_info use_rectified:=true
    ros2 launch mppe_ros mppe.launch.py camera:=/camera rviz:=true     # on a desktop with rviz2 installed
    ros2 launch mppe_ros mppe.launch.py params_file:=robot.yaml detections:=/yolo/detections  # detector: topic
    ros2 launch mppe_ros mppe.launch.py namespace:=front camera:=/front track_id_base:=100000000   # one of several
    ros2 launch mppe_ros cameras.launch.py cameras:=front,rear          # one node per camera (that file)

Arguments:
    camera          namespace of the camera driver (default /camera); image and camera_info default to
                    <camera>/image_raw and <camera>/camera_info.
    image           image topic (sensor_msgs/Image); overrides the camera default.
    camera_info     its CameraInfo topic (same stamps as the images).
    use_rectified   true when `image` is rectified (image_rect): intrinsics from P instead of K (default false).
    detections      with the parameter `detector: topic` (in params_file): the robot's detector's
                    vision_msgs/Detection2DArray topic (default detections, in the node's namespace).
    params_file     parameter file (default: this package's config/mppe.yaml).
    namespace       the node's namespace (default none): its outputs resolve in it (/front/humans/poses3d in
                    front), and its body ids, TF frames and marker namespaces get the prefix front (id_prefix).
    track_id_base   its track ids are track_id_base + 1, + 2, ... (default 0): one block per node of a robot.
    device          auto | cpu | cuda | cuda:N (default auto; checked by the node, like every parameter).
    rviz            true | false (default false: headless, no rviz2 needed): also start RViz with
                    config/mppe.rviz.
    fixed_frame     RViz fixed frame: the camera's optical frame (the images' header.frame_id), or output_frame.
    lifecycle       who runs mppe_node's lifecycle transitions (it is a managed node):
                    node (default): the node configures and activates itself (parameter autostart true);
                    launch: this file does, with launch_ros lifecycle events (ChangeState configure, then
                    activate when the node is inactive; a failed configure fails the launch, exit 1);
                    manual: nobody; the node waits unconfigured for a lifecycle manager (nav2's
                    lifecycle_manager, `ros2 service call /mppe_node/change_state ...`).

Every other parameter comes from params_file (see config/mppe.yaml); only the arguments above are
set here, so each parameter is declared and documented in one place (its settings type, see
mppe_ros/ros/parameters.py).

Exit behaviour (launch 3.x, `ros2 launch`):
    - mppe_node is required: when it exits, the whole launch shuts down (RViz too).
    - It exits 0 (a stop request, the lifecycle shutdown transition): `ros2 launch` exits 0.
    - It exits non-zero (e.g. `cannot start: ...`, status 1): `ros2 launch` exits 1. launch's
      LaunchService cannot return a process's own status; an error raised in the exit handler is
      its one way to return non-zero ("Caught exception in launch ...: mppe_node exited with status N").
    - SIGINT (Ctrl-C): mppe_node gets SIGINT (from the terminal, or from launch when it is not
      interactive; launch escalates to SIGTERM after 5 s, SIGKILL after 10 s); `ros2 launch` exits 0
      when the node stopped with status 0, 1 otherwise.
    - SIGTERM to `ros2 launch` (systemd, docker stop, kill PID): launch 3.x installs no SIGTERM
      handler, so the launch would die at once and leave mppe_node running. This file stops the
      processes it started first (SIGTERM, SIGKILL after STOP_TIMEOUT_S), then lets SIGTERM end
      `ros2 launch` as before: killed by SIGTERM (status -15, shell 143).
    - RViz is not required: closing it leaves the node running. RViz comes first, so an install
      without rviz2 and rviz:=true fails (`package 'rviz2' not found`, exit 1) before mppe_node starts.
"""

from __future__ import annotations

import os
import signal
import sys
import time

import lifecycle_msgs.msg
from launch.actions import DeclareLaunchArgument, EmitEvent, OpaqueFunction, RegisterEventHandler, Shutdown
from launch.conditions import IfCondition
from launch.event_handlers import OnProcessExit, OnProcessStart
from launch.events import matches_action
from launch.substitutions import EqualsSubstitution, LaunchConfiguration, PathJoinSubstitution, PythonExpression
from launch_ros.actions import LifecycleNode, Node
from launch_ros.event_handlers import OnStateTransition
from launch_ros.events.lifecycle import ChangeState
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare

from launch import LaunchDescription

PACKAGE = "mppe_ros"
STOP_TIMEOUT_S = 10.0  # after SIGTERM to `ros2 launch`: the node stops within 5 s, a frame in flight included


class NodeFailedError(RuntimeError):
    """mppe_node exited with a non-zero status: raised in launch's event loop so `ros2 launch` exits 1."""


class StopOnSigterm:
    """Stops the processes of this launch when `ros2 launch` receives SIGTERM, then lets the signal end it.

    Installed (main thread, launch's event loop) when the first process starts, uninstalled when the
    last one exits; a SIGTERM handler that was there before is restored and called afterwards.
    """

    def __init__(self) -> None:
        self.pids: set[int] = set()
        self.previous = None
        self.installed = False

    def started(self, event, context):
        self.pids.add(event.pid)
        if not self.installed:
            try:
                self.previous = signal.signal(signal.SIGTERM, self.on_sigterm)
                self.installed = True
            except ValueError:  # not the main thread: launch's own handling applies
                pass

    def exited(self, event, context):
        self.pids.discard(event.pid)
        if not self.pids:
            self.uninstall()

    def uninstall(self) -> None:
        if self.installed and signal.getsignal(signal.SIGTERM) == self.on_sigterm:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if self.previous is None else self.previous)
        self.installed = False

    def on_sigterm(self, signum, frame) -> None:
        running = [pid for pid in self.pids if is_running_child(pid)]
        if running:
            print(f"[launch] SIGTERM: stopping {running} before exiting", file=sys.stderr, flush=True)
        stop(running, signal.SIGTERM, STOP_TIMEOUT_S)
        stop([pid for pid in running if is_running_child(pid)], signal.SIGKILL, 2.0)
        previous = self.previous
        self.uninstall()
        sys.stdout.flush()
        sys.stderr.flush()
        if callable(previous):
            previous(signum, frame)
        elif previous != signal.SIG_IGN:  # the default action: end this process as SIGTERM does
            os.kill(os.getpid(), signum)


def stop(pids: list[int], signum: int, timeout_s: float) -> None:
    """Send `signum` to each of `pids` and wait until they have all exited or `timeout_s` passed."""
    for pid in pids:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout_s
    while any(is_running_child(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)


def is_running_child(pid: int) -> bool:
    """`pid` is a child of this process that has not ended (one that has is reaped here; a reused pid is not ours)."""
    try:
        ended, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:  # not a child (any more): reaped already, e.g. by asyncio's child watcher
        return False
    return ended == 0


def required(stop_on_sigterm: StopOnSigterm):
    """The exit handler of mppe_node: shut the launch down; a non-zero status makes its return code 1."""

    def on_exit(event, context):
        stop_on_sigterm.exited(event, context)
        if event.returncode != 0:
            raise NodeFailedError(f"mppe_node exited with status {event.returncode}")
        if (
            context.is_shutdown
        ):  # already shutting down (Ctrl-C): a second Shutdown stops launch_ros's ROS adapter twice
            return None
        return [Shutdown(reason="mppe_node exited")]

    return on_exit


def configure_failed(context):
    """A configure the launch file asked for came back to unconfigured: fail the launch (exit 1)."""
    raise NodeFailedError("mppe_node could not be configured (see its `cannot configure:` line)")


def managed_by_launch(mppe_node: LifecycleNode) -> list:
    """lifecycle:=launch: configure at start, activate once inactive, a failed configure fails the launch."""
    launch_manages = IfCondition(EqualsSubstitution(LaunchConfiguration("lifecycle"), "launch"))

    def change_state(transition_id: int) -> EmitEvent:
        return EmitEvent(
            event=ChangeState(lifecycle_node_matcher=matches_action(mppe_node), transition_id=transition_id)
        )

    return [
        RegisterEventHandler(
            OnProcessStart(
                target_action=mppe_node, on_start=[change_state(lifecycle_msgs.msg.Transition.TRANSITION_CONFIGURE)]
            ),
            condition=launch_manages,
        ),
        RegisterEventHandler(
            OnStateTransition(
                target_lifecycle_node=mppe_node,
                start_state="configuring",
                goal_state="inactive",
                entities=[change_state(lifecycle_msgs.msg.Transition.TRANSITION_ACTIVATE)],
            ),
            condition=launch_manages,
        ),
        RegisterEventHandler(
            OnStateTransition(
                target_lifecycle_node=mppe_node,
                start_state="configuring",
                goal_state="unconfigured",
                entities=[OpaqueFunction(function=configure_failed)],
            ),
            condition=launch_manages,
        ),
    ]


def in_namespace(namespace: LaunchConfiguration, name: str) -> PythonExpression:
    """The absolute name `name` (relative) resolves to in `namespace` ("" or "front" or "/robot/front")."""
    return PythonExpression(["'/'.join([''] + [t for t in '", namespace, f"'.split('/') if t] + ['{name}'])"])


def generate_launch_description() -> LaunchDescription:
    camera = LaunchConfiguration("camera")
    namespace = LaunchConfiguration("namespace")
    image = LaunchConfiguration("image")
    camera_info = LaunchConfiguration("camera_info")
    share = FindPackageShare(PACKAGE)
    arguments = [
        DeclareLaunchArgument("camera", default_value="/camera", description="camera driver namespace"),
        DeclareLaunchArgument("image", default_value=[camera, "/image_raw"], description="image topic"),
        DeclareLaunchArgument("camera_info", default_value=[camera, "/camera_info"], description="CameraInfo topic"),
        DeclareLaunchArgument(
            "use_rectified",
            default_value="false",
            choices=["true", "false"],
            description="true: the image is rectified, intrinsics from CameraInfo.P; false: raw, from K",
        ),
        DeclareLaunchArgument(
            "detections",
            default_value="detections",
            description="Detection2DArray topic of the robot's detector (with the parameter detector: topic)",
        ),
        DeclareLaunchArgument(
            "params_file",
            default_value=PathJoinSubstitution([share, "config", "mppe.yaml"]),
            description="mppe_node parameter file",
        ),
        DeclareLaunchArgument(
            "device", default_value="auto", description="inference device: auto, cpu, cuda or cuda:N"
        ),
        DeclareLaunchArgument("namespace", default_value="", description="mppe_node's namespace (one per camera)"),
        DeclareLaunchArgument(
            "track_id_base", default_value="0", description="track ids are track_id_base + 1, + 2, ... (per node)"
        ),
        DeclareLaunchArgument(
            "rviz",
            default_value="false",
            choices=["true", "false"],
            description="start RViz (needs rviz2; default false: headless)",
        ),
        DeclareLaunchArgument(
            "fixed_frame",
            default_value="camera_optical_frame",
            description="RViz fixed frame: the camera optical frame of the images",
        ),
        DeclareLaunchArgument(
            "lifecycle",
            default_value="node",
            choices=["node", "launch", "manual"],
            description="who runs the lifecycle transitions: node (autostart), launch (launch_ros events) or manual",
        ),
    ]
    mppe_node = LifecycleNode(
        package=PACKAGE,
        executable="mppe_node",
        name="mppe_node",
        namespace=namespace,
        output="screen",
        parameters=[
            LaunchConfiguration("params_file"),
            {
                "device": ParameterValue(LaunchConfiguration("device"), value_type=str),
                "use_rectified": ParameterValue(LaunchConfiguration("use_rectified"), value_type=bool),
                "track_id_base": ParameterValue(LaunchConfiguration("track_id_base"), value_type=int),
                "autostart": ParameterValue(
                    EqualsSubstitution(LaunchConfiguration("lifecycle"), "node"), value_type=bool
                ),
            },
        ],
        remappings=[("image", image), ("camera_info", camera_info), ("detections", LaunchConfiguration("detections"))],
    )
    rviz = Node(
        package="rviz2",
        executable="rviz2",
        name="mppe_rviz",
        output="screen",
        arguments=[
            "-d",
            PathJoinSubstitution([share, "config", "mppe.rviz"]),
            "-f",
            LaunchConfiguration("fixed_frame"),
        ],
        # config/mppe.rviz shows /mppe/image; it becomes the camera's image topic here.
        remappings=[
            ("/mppe/image", image),
            ("/humans/poses3d/markers", in_namespace(namespace, "humans/poses3d/markers")),
        ],
        condition=IfCondition(LaunchConfiguration("rviz")),
    )
    stop_on_sigterm = StopOnSigterm()
    handlers = [
        RegisterEventHandler(OnProcessStart(target_action=rviz, on_start=stop_on_sigterm.started)),
        RegisterEventHandler(OnProcessExit(target_action=rviz, on_exit=stop_on_sigterm.exited)),
        RegisterEventHandler(OnProcessStart(target_action=mppe_node, on_start=stop_on_sigterm.started)),
        RegisterEventHandler(OnProcessExit(target_action=mppe_node, on_exit=required(stop_on_sigterm))),
    ]
    # rviz before mppe_node: without rviz2, rviz:=true fails before the node is started (nothing orphaned).
    return LaunchDescription([*arguments, *handlers, *managed_by_launch(mppe_node), rviz, mppe_node])
