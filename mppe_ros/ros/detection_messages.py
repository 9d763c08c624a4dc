"""The robot's own detector (`detector: topic`): vision_msgs/Detection2DArray -> the frame's person boxes.

A Detection2D is a person when one of its `results` has an `ObjectHypothesis.class_id` among the node's
`person_class_id` (e.g. "person", or "0" for a YOLO model's COCO index; several separated by commas); its score is the
highest such hypothesis' score. Its `bbox` (centre, size, rotation theta in rad) becomes the axis-aligned box around
it. A person whose box or score is not finite, or whose box has a negative side, is dropped and counted for the
node's log line. Then the library's own filter applies, as to DetectNet's boxes
(mppe_ros.detection.filter_person_detections): score >= score_threshold, both sides >= min_box_size_px, NMS at
nms_iou_threshold, the max_persons highest scores.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mppe_ros.settings import DetectionSettings

VISION_MSGS_MISSING = (
    "detector topic needs vision_msgs (its Detection2DArray message) and it does not import: install "
    "ros-$ROS_DISTRO-vision-msgs (rosdep key vision_msgs; here: bash ../shared/ros-tools/install.sh .venv), or set "
    "detector to a DetectNet model"
)


def detections_type() -> type:
    """vision_msgs.msg.Detection2DArray.

    Raises:
        ImportError: vision_msgs does not import (VISION_MSGS_MISSING says what to install).
    """
    try:
        from vision_msgs.msg import Detection2DArray
    except ImportError:
        raise ImportError(VISION_MSGS_MISSING) from None
    kind: type = Detection2DArray
    return kind


def class_ids(parameter: str) -> frozenset[str]:
    """The person class ids of the `person_class_id` parameter ("person", "0", "person, pedestrian")."""
    return frozenset(token.strip() for token in parameter.split(",") if token.strip())


def person_score(detection: Any, wanted: frozenset[str]) -> float | None:
    """The highest score of the detection's hypotheses whose class_id is wanted; None when it has none."""
    scores = [result.hypothesis.score for result in detection.results if result.hypothesis.class_id in wanted]
    return max(scores) if scores else None


def box_xyxy_px(bbox: Any) -> tuple[float, float, float, float]:
    """The axis-aligned (x1, y1, x2, y2) px around a vision_msgs/BoundingBox2D (centre, size, theta in rad)."""
    cos, sin = abs(math.cos(bbox.center.theta)), abs(math.sin(bbox.center.theta))
    half_w = 0.5 * (cos * bbox.size_x + sin * bbox.size_y)
    half_h = 0.5 * (sin * bbox.size_x + cos * bbox.size_y)
    x, y = bbox.center.position.x, bbox.center.position.y
    return x - half_w, y - half_h, x + half_w, y + half_h


def well_formed(bbox: Any, score: float) -> bool:
    """A finite centre, angle, size and score, and no negative side."""
    values = (bbox.center.position.x, bbox.center.position.y, bbox.center.theta, bbox.size_x, bbox.size_y, score)
    return all(math.isfinite(value) for value in values) and bbox.size_x >= 0 and bbox.size_y >= 0


def person_boxes(msg: Any, class_id_parameter: str, settings: DetectionSettings) -> tuple[np.ndarray, np.ndarray, int]:
    """The person boxes of one Detection2DArray, filtered as DetectNet's (the module docstring).

    Returns:
        boxes_xywh: float64 [M, 4] (x_min, y_min, width, height) px, by decreasing score.
        scores: float64 [M].
        malformed: the person detections dropped before the filter for not being well_formed (for a log line).
    """
    from mppe_ros.detection import COCO_PERSON_LABEL, filter_person_detections

    wanted = class_ids(class_id_parameter)
    people = [
        (detection, score) for detection in msg.detections if (score := person_score(detection, wanted)) is not None
    ]
    kept = [(detection, score) for detection, score in people if well_formed(detection.bbox, score)]
    boxes_xyxy = np.array([box_xyxy_px(detection.bbox) for detection, _ in kept], dtype=np.float64).reshape(-1, 4)
    scores = np.array([score for _, score in kept], dtype=np.float64)
    labels = np.full(len(kept), COCO_PERSON_LABEL)
    boxes_xywh, scores = filter_person_detections(boxes_xyxy, labels, scores, settings)
    return boxes_xywh, scores, len(people) - len(kept)
