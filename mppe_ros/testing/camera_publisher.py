"""A stand-in camera driver in its own process: synthetic bgr8 Image + CameraInfo pairs at a fixed rate.

    python -m mppe_ros.testing.camera_publisher --width 1280 --height 720 --rate-hz 5 --count 20 \
        --reliability best_effort --wait-for reliable

It publishes `image` and `camera_info` (relative names: remap or use a namespace) with equal stamps
(`--first-stamp-s` + i / rate), frame_id `camera_optical_frame`, keep last 10; `--order` image-first (as
image_transport's CameraPublisher does; the default) or info-first (as some drivers do). With `--wait-for` it first
waits until a subscription of that reliability is on the image topic (and `--settle-s` more), so a
node with `input_reliability auto` has re-subscribed before the first frame. It prints one JSON line:
{"sent": N, "waited_s": ...}. The DDS settings (FASTDDS_DEFAULT_PROFILES_FILE, ROS_DOMAIN_ID) are the
environment's: this is how the cross-process QoS tests reproduce a camera driver.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import rclpy
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from mppe_ros.ros.conversions import bgr_to_image_msg
from mppe_ros.testing import messages

FRAME_ID = "camera_optical_frame"


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=640, help="image width, px")
    parser.add_argument("--height", type=int, default=480, help="image height, px")
    parser.add_argument("--rate-hz", type=float, default=5.0, help="pairs per second")
    parser.add_argument("--count", type=int, default=20, help="pairs to send")
    parser.add_argument("--reliability", choices=("reliable", "best_effort"), default="reliable")
    parser.add_argument("--wait-for", choices=("reliable", "best_effort", "any"), default="any")
    parser.add_argument("--wait-timeout-s", type=float, default=30.0, help="give up waiting after this, s")
    parser.add_argument("--settle-s", type=float, default=1.0, help="wait this long after the subscriber appears, s")
    parser.add_argument("--first-stamp-s", type=int, default=1000, help="stamp of the first pair, s")
    parser.add_argument(
        "--order", choices=("image-first", "info-first"), default="image-first", help="publishing order of a pair"
    )
    return parser.parse_args(argv)


def _subscriber_ready(node: rclpy.node.Node, topic: str, wanted: str) -> bool:
    infos = node.get_subscriptions_info_by_topic(topic)
    if wanted == "any":
        return bool(infos)
    policy = ReliabilityPolicy.RELIABLE if wanted == "reliable" else ReliabilityPolicy.BEST_EFFORT
    return any(info.qos_profile.reliability == policy for info in infos)


def main(argv: list[str] | None = None) -> None:
    """Publish `--count` pairs; print {"sent", "waited_s"} as JSON."""
    args = _parse(argv)
    rclpy.init()
    node = rclpy.create_node("mppe_camera_publisher")
    policy = ReliabilityPolicy.RELIABLE if args.reliability == "reliable" else ReliabilityPolicy.BEST_EFFORT
    qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=10, reliability=policy)
    image_pub = node.create_publisher(Image, "image", qos)
    info_pub = node.create_publisher(CameraInfo, "camera_info", qos)
    started_s = time.monotonic()
    while not _subscriber_ready(node, image_pub.topic_name, args.wait_for):
        if time.monotonic() - started_s > args.wait_timeout_s:
            raise SystemExit(
                f"no {args.wait_for} subscription on {image_pub.topic_name} within {args.wait_timeout_s} s"
            )
        rclpy.spin_once(node, timeout_sec=0.1)
    time.sleep(args.settle_s)
    waited_s = time.monotonic() - started_s
    bgr = np.random.default_rng(0).integers(0, 255, (args.height, args.width, 3), dtype=np.uint8)
    focal_px = 0.8 * args.width
    for index in range(args.count):
        stamp_ns = args.first_stamp_s * 10**9 + round(index * 1e9 / args.rate_hz)
        header = Header(frame_id=FRAME_ID)
        header.stamp.sec, header.stamp.nanosec = divmod(stamp_ns, 10**9)
        info = messages.camera_info(
            header, focal_px, focal_px, args.width / 2, args.height / 2, args.width, args.height
        )
        image = bgr_to_image_msg(bgr, header)
        if args.order == "info-first":
            info_pub.publish(info)
            image_pub.publish(image)
        else:
            image_pub.publish(image)
            info_pub.publish(info)
        rclpy.spin_once(node, timeout_sec=1.0 / args.rate_hz)
    time.sleep(1.0)  # let reliable samples be acknowledged before the participant goes away
    print(json.dumps({"sent": args.count, "waited_s": round(waited_s, 2)}), flush=True)
    node.destroy_node()
    rclpy.try_shutdown()


if __name__ == "__main__":
    main()
