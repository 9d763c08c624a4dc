"""Start mppe_node on a camera (and RViz with the skeletons).

    ros2 launch mppe_ros mppe.launch.py camera:=/camera rviz:=true
    ros2 launch mppe_ros mppe.launch.py image:=/cam/image_rect camera_info:=/cam/camera_info use_rectified:=true

Arguments:
    camera          namespace of the camera driver; image and camera_info default to
                    <camera>/image_raw and <camera>/camera_info.
    image           image topic (sensor_msgs/Image); overrides the camera default.
    camera_info     its CameraInfo topic (same stamps as the images).
    use_rectified   true when `image` is rectified (image_rect): intrinsics from P instead of K.
    params_file     parameter file (default: this package's config/mppe.yaml).
    device          auto | cpu | cuda | cuda:N (checked by the node, like every parameter).
    rviz            true | false: also start RViz with config/mppe.rviz.
    fixed_frame     RViz fixed frame: the camera's optical frame (the images' header.frame_id).

Every other parameter comes from params_file (see config/mppe.yaml); only the arguments above are
set here, so each parameter is declared and documented in one place (its settings type, see
mppe_ros/ros/parameters.py).
"""

from launch.actions import DeclareLaunchArgument
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare

from launch import LaunchDescription

PACKAGE = "mppe_ros"


def generate_launch_description() -> LaunchDescription:
    camera = LaunchConfiguration("camera")
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
            "params_file",
            default_value=PathJoinSubstitution([share, "config", "mppe.yaml"]),
            description="mppe_node parameter file",
        ),
        DeclareLaunchArgument(
            "device", default_value="auto", description="inference device: auto, cpu, cuda or cuda:N"
        ),
        DeclareLaunchArgument("rviz", default_value="true", choices=["true", "false"], description="start RViz"),
        DeclareLaunchArgument(
            "fixed_frame",
            default_value="camera_optical_frame",
            description="RViz fixed frame: the camera optical frame of the images",
        ),
    ]
    mppe_node = Node(
        package=PACKAGE,
        executable="mppe_node",
        name="mppe_node",
        output="screen",
        parameters=[
            LaunchConfiguration("params_file"),
            {
                "device": ParameterValue(LaunchConfiguration("device"), value_type=str),
                "use_rectified": ParameterValue(LaunchConfiguration("use_rectified"), value_type=bool),
            },
        ],
        remappings=[("image", image), ("camera_info", camera_info)],
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
        remappings=[("/mppe/image", image)],
        condition=IfCondition(LaunchConfiguration("rviz")),
    )
    return LaunchDescription([*arguments, mppe_node, rviz])
