"""The robot's own detector for test_node_detection_topic, in its own process: it subscribes `image` and publishes
`detections` (vision_msgs/Detection2DArray) with the image's header, as yolo_ros or Isaac ROS do, following PLAN.

    python test/detector_process.py   # until SIGTERM; prints "detector ready" once subscribed and publishing

SIGTERM ends it at once (os._exit, no interpreter finalisation): the spin wakes every 0.1 s to let Python run the
handler, so a test's terminate() never waits on it.
"""

from __future__ import annotations

import math
import os
import signal

FIRST_STAMP_S, PERIOD_NS = 500, 100_000_000  # the test's frames: index k is stamped 500 s + k * 100 ms
SKIPPED = {3, 7, 10}  # frames the detector publishes nothing for (it skips frames)
EMPTY = {5}  # frames it publishes an empty array for (nobody there)
PERSON_CLASSES = "person, 0"  # the node's person_class_id


def plan(index: int) -> list[tuple[tuple[float, float, float, float], list[tuple[str, float]], float]] | None:
    """Frame `index`'s detections (box (x, y, w, h) px, hypotheses, theta), None when it is skipped."""
    if index in SKIPPED:
        return None
    if index in EMPTY:
        return []
    return [
        ((10.0 + index % 20, 12.0, 40.0, 90.0), [("person", 0.9)], 0.0),
        ((70.0, 45.0, 90.0, 40.0), [("car", 0.95), ("0", 0.8)], math.pi / 2),  # upright: (95, 20, 40, 90)
        ((120.0, 60.0, 30.0, 20.0), [("car", 0.99)], 0.0),
        ((130.0, 10.0, 25.0, 80.0), [("person", 0.3)], 0.0),  # below score_threshold
        ((60.0, 100.0, 8.0, 8.0), [("person", 0.95)], 0.0),  # smaller than min_box_size_px
    ]


def expected_persons(index: int) -> list[tuple[tuple[float, float, float, float], float]] | None:
    """(box_xywh_px, score) of each person the node must answer frame `index` with, by decreasing score."""
    if index in SKIPPED:
        return None
    if index in EMPTY:
        return []
    return [((10.0 + index % 20, 12.0, 40.0, 90.0), 0.9), ((95.0, 20.0, 40.0, 90.0), 0.8)]


def frame_index(header) -> int:
    return round((header.stamp.sec * 10**9 + header.stamp.nanosec - FIRST_STAMP_S * 10**9) / PERIOD_NS)


def main() -> None:
    import rclpy
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import Image
    from vision_msgs.msg import Detection2DArray

    from mppe_ros.testing.messages import detections

    rclpy.init()
    node = rclpy.create_node("robot_detector")
    reliable = QoSProfile(depth=20, reliability=ReliabilityPolicy.RELIABLE)
    publisher = node.create_publisher(Detection2DArray, "detections", reliable)

    def detect(image: Image) -> None:
        objects = plan(frame_index(image.header))
        if objects is not None:
            publisher.publish(detections(image.header, objects))

    node.create_subscription(Image, "image", detect, reliable)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    print("detector ready", flush=True)
    while True:
        rclpy.spin_once(node, timeout_sec=0.1)


if __name__ == "__main__":
    main()
