"""Synthetic recordings for the tests and the benchmark: a rosbag2 bag of Image + CameraInfo pairs with equal stamps,
two stick figures walking, and optional bad frames (a corrupt Image, a lost CameraInfo, a stamp going back)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from std_msgs.msg import Header

from mppe_ros.ros.conversions import bgr_to_image_msg
from mppe_ros.ros.recording.bag_writer import OutputBag
from mppe_ros.testing import messages
from mppe_ros.testing.synthetic import draw_stick_figure

IMAGE_TOPIC, INFO_TOPIC = "/camera/image_raw", "/camera/camera_info"
FRAME_ID = "camera_optical_frame"


def scene_boxes(width: int, height: int, index: int, persons: int = 2) -> np.ndarray:
    """[persons, 4] (x, y, w, h) px of frame `index`: upright persons side by side, drifting 1 px per frame."""
    w, h = width / (2.5 * persons), height * 0.8
    return np.array([[(i + 0.3) * width / persons + index % 20, height * 0.1, w, h] for i in range(persons)])


def frame_image(width: int, height: int, index: int, persons: int = 2) -> np.ndarray:
    """The BGR [height, width, 3] frame `index` of the scene."""
    image = np.full((height, width, 3), (90, 120, 60), np.uint8)
    for box in scene_boxes(width, height, index, persons):
        draw_stick_figure(image, box, (200, 180, 160))
    return image


def header_at(stamp_ns: int) -> Header:
    """A header at `stamp_ns` in FRAME_ID."""
    header = Header(frame_id=FRAME_ID)
    header.stamp.sec, header.stamp.nanosec = divmod(stamp_ns, 1_000_000_000)
    return header


def scene_messages(index: int, stamp_ns: int, width: int = 160, height: int = 120, persons: int = 2) -> tuple:
    """(sensor_msgs/Image, sensor_msgs/CameraInfo) of frame `index` at `stamp_ns` (fx = fy = 1.2 width px)."""
    header = header_at(stamp_ns)
    image = bgr_to_image_msg(frame_image(width, height, index, persons), header)
    fx = 1.2 * width
    return image, messages.camera_info(header, fx, fx, width / 2, height / 2, width, height)


def write_bag(
    path: str | Path, frames: int, width: int = 160, height: int = 120, rate_hz: float = 10.0, persons: int = 2,
    storage: str = "mcap", corrupt: tuple[int, ...] = (), lost_info: tuple[int, ...] = (), back_at: int | None = None,
    start_ns: int = 100_000_000_000,
) -> list[int]:  # fmt: skip
    """Write the scene; returns every image's stamp (ns), in log order.

    corrupt: frames whose Image has too few data bytes; lost_info: frames without their CameraInfo; back_at: from
    this frame on, the stamps start again 10 s earlier (a camera restarted).
    """
    bag = OutputBag(path, storage)
    stamps = []
    period_ns = int(round(1e9 / rate_hz))
    for index in range(frames):
        log_ns = start_ns + index * period_ns
        stamp = log_ns - (10_000_000_000 if back_at is not None and index >= back_at else 0)
        header = header_at(stamp)
        image = bgr_to_image_msg(frame_image(width, height, index, persons), header)
        if index in corrupt:
            image.data = bytes(image.data)[: len(image.data) // 2]
        bag.write(IMAGE_TOPIC, image, log_ns)
        if index not in lost_info:
            fx = 1.2 * width
            bag.write(
                INFO_TOPIC, messages.camera_info(header, fx, fx, width / 2, height / 2, width, height), log_ns + 1
            )
        stamps.append(stamp)
    bag.close()
    return stamps
