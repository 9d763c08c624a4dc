"""ROS messages of synthetic inputs: the one CameraInfo builder of the tests, the benchmarks and the demo."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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


def detections(header: Header, objects: Sequence[tuple[Sequence[float], Sequence[tuple[str, float]], float]]) -> Any:
    """A vision_msgs/Detection2DArray as a detector publishes it (needs vision_msgs).

    Args:
        header: the image's header (detectors copy it).
        objects: per detection (box (x, y, w, h) px before rotation, [(class_id, score), ...], theta rad): the box's
            centre is (x + w / 2, y + h / 2) and it is rotated by theta about it.
    """
    from vision_msgs.msg import Detection2D, Detection2DArray, ObjectHypothesisWithPose

    array = Detection2DArray(header=header)
    for (x, y, width, height), hypotheses, theta in objects:
        detection = Detection2D(header=header)
        detection.bbox.center.position.x, detection.bbox.center.position.y = x + width / 2, y + height / 2
        detection.bbox.center.theta, detection.bbox.size_x, detection.bbox.size_y = theta, width, height
        for class_id, score in hypotheses:
            result = ObjectHypothesisWithPose()
            result.hypothesis.class_id, result.hypothesis.score = class_id, score
            detection.results.append(result)
        array.detections.append(detection)
    return array
