"""ROS messages of synthetic inputs: the one CameraInfo builder of the tests, the benchmarks and the demo."""

from __future__ import annotations

from collections.abc import Sequence

from sensor_msgs.msg import CameraInfo
from std_msgs.msg import Header


def camera_info(
    header: Header,
    fx: float,
    fy: float,
    cx: float,
    cy: float,
    width: int,
    height: int,
    distortion: Sequence[float] = (0.0,) * 5,
) -> CameraInfo:
    """A plumb_bob CameraInfo: K and P from fx, fy, cx, cy (px), R identity, D = `distortion`."""
    info = CameraInfo(header=header, width=width, height=height, distortion_model="plumb_bob")
    info.k = [fx, 0.0, cx, 0.0, fy, cy, 0.0, 0.0, 1.0]
    info.p = [fx, 0.0, cx, 0.0, 0.0, fy, cy, 0.0, 0.0, 0.0, 1.0, 0.0]
    info.r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    info.d = [float(value) for value in distortion]
    return info
