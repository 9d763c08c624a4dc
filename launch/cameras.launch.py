"""One mppe_node per camera: mppe.launch.py once per name, each in its own namespace.

    ros2 launch mppe_ros cameras.launch.py cameras:=front,rear
    ros2 launch mppe_ros cameras.launch.py cameras:=front,rear params_file:=robot.yaml device:=cuda

Camera `front` is read from its driver in /front (`/front/image_raw`, `/front/camera_info`) by `/front/mppe_node`,
which publishes `/front/humans/poses3d`, `/front/humans/poses3d/markers` and `/front/humans/bodies/...`; its body ids
and TF frames carry the prefix `front` (`front_b100000001`, `body_front_b100000001`), its track ids start at
100000001 (the second camera's at 200000001, ...), so nothing of one camera collides with another's.

Arguments:
    cameras        comma-separated camera names (default front,rear): each a ROS name token (a letter, then
                   letters, digits or _), each once.
    params_file    parameter file for every node (default: this package's config/mppe.yaml; keyed `/**` so it
                   reaches namespaced nodes, where a key `mppe_node` would not).
    device         inference device for every node: auto, cpu, cuda or cuda:N (default auto).
    track_id_block track ids per camera (default 100000000): camera k (1, 2, ...) gets ids k * block + 1, ...
    lifecycle      node | launch | manual, as in mppe.launch.py (default node).

With `detector: topic` in params_file, each node pairs its images with its own camera's detections: `detections` is
relative, so `/front/mppe_node` reads `/front/detections` (the robot's detector run once per camera, in its namespace).

Each camera's group is scoped, so one camera's launch configurations (image, camera_info) never reach the next.
Every node is required: when one exits, the launch shuts down (exit 1 when it failed), as with one camera.
"""

from __future__ import annotations

import re
from pathlib import Path

from launch.actions import DeclareLaunchArgument, GroupAction, IncludeLaunchDescription, OpaqueFunction
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.substitutions import FindPackageShare

from launch import LaunchDescription

CAMERA_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
DEFAULT_TRACK_ID_BLOCK = 100_000_000
MAX_TRACK_ID_BASE = 2_000_000_000  # mppe_node's track_id_base bound


def camera_names(text: str) -> list[str]:
    """The names in `cameras:=` ("front, rear" -> ["front", "rear"]); ValueError naming what is wrong."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise ValueError("cameras:= names no camera: give e.g. cameras:=front,rear")
    for name in names:
        if not CAMERA_NAME.fullmatch(name):
            raise ValueError(f"camera name {name!r}: a letter, then letters, digits or _ (it names a namespace)")
    if len(set(names)) != len(names):
        raise ValueError(f"cameras:={text}: each camera once (two nodes in one namespace would share every topic)")
    return names


def track_id_bases(count: int, block: int) -> list[int]:
    """Each camera's track_id_base: block, 2 * block, ... (within mppe_node's bound)."""
    if block < 1 or count * block > MAX_TRACK_ID_BASE:
        raise ValueError(f"track_id_block {block} for {count} cameras: 1 to {MAX_TRACK_ID_BASE // count}")
    return [index * block for index in range(1, count + 1)]


def one_node_per_camera(context) -> list[GroupAction]:
    """The scoped include of mppe.launch.py for each camera of `cameras:=`."""
    names = camera_names(LaunchConfiguration("cameras").perform(context))
    block = int(LaunchConfiguration("track_id_block").perform(context))
    single = str(Path(__file__).with_name("mppe.launch.py"))
    shared = {name: LaunchConfiguration(name) for name in ("params_file", "device", "lifecycle")}
    return [
        GroupAction(
            [
                IncludeLaunchDescription(
                    PythonLaunchDescriptionSource(single),
                    launch_arguments={
                        **shared,
                        "namespace": name,
                        "camera": f"/{name}",
                        "track_id_base": str(base),
                        "rviz": "false",
                    }.items(),
                )
            ],
            scoped=True,
        )
        for name, base in zip(names, track_id_bases(len(names), block), strict=True)
    ]


def generate_launch_description() -> LaunchDescription:
    share = FindPackageShare("mppe_ros")
    return LaunchDescription(
        [
            DeclareLaunchArgument("cameras", default_value="front,rear", description="comma-separated camera names"),
            DeclareLaunchArgument(
                "params_file",
                default_value=PathJoinSubstitution([share, "config", "mppe.yaml"]),
                description="parameter file of every node (keyed /**)",
            ),
            DeclareLaunchArgument("device", default_value="auto", description="auto, cpu, cuda or cuda:N"),
            DeclareLaunchArgument(
                "track_id_block", default_value=str(DEFAULT_TRACK_ID_BLOCK), description="track ids per camera"
            ),
            DeclareLaunchArgument(
                "lifecycle", default_value="node", choices=["node", "launch", "manual"], description="as mppe.launch.py"
            ),
            OpaqueFunction(function=one_node_per_camera),
        ]
    )
