"""Synthetic recordings for the tests and the benchmark: a rosbag2 bag of Image + CameraInfo pairs with equal stamps,
two stick figures walking, optional bad frames (a corrupt Image, a lost CameraInfo, a stamp going back) and an
optional moving camera on /tf and /tf_static; the same scene as a ROS 1 bag, a video and an image folder."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from std_msgs.msg import Header

from mppe_ros.ros.conversions import bgr_to_image_msg
from mppe_ros.ros.recording.bag_writer import OutputBag
from mppe_ros.testing import messages
from mppe_ros.testing.synthetic import draw_stick_figure
from mppe_ros.tracking.transforms import RigidTransform

IMAGE_TOPIC, INFO_TOPIC = "/camera/image_raw", "/camera/camera_info"
FRAME_ID = "camera_optical_frame"
WORLD_FRAME, BASE_FRAME = "odom", "base_link"
# base_link <- FRAME_ID (/tf_static): the camera 1 m up, its optical z along base_link's x (REP-103)
CAMERA_MOUNT = RigidTransform(
    np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]]), np.array([0.0, 0.0, 1.0])
)


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
    start_ns: int = 100_000_000_000, speed_mps: float | None = None, tf_frames: int | None = None,
) -> list[int]:  # fmt: skip
    """Write the scene; returns every image's stamp (ns), in log order.

    corrupt: frames whose Image has too few data bytes; lost_info: frames without their CameraInfo; back_at: from
    this frame on, the stamps start again 10 s earlier (a camera restarted); speed_mps: the robot drives along
    odom's x at this speed (camera_pose): /tf odom -> base_link at the stamps of the first `tf_frames` frames (all
    by default), /tf_static base_link -> FRAME_ID (CAMERA_MOUNT).
    """
    bag = OutputBag(path, storage)
    stamps = []
    period_ns = int(round(1e9 / rate_hz))
    if speed_mps is not None:
        bag.write("/tf_static", _tf_message(BASE_FRAME, FRAME_ID, start_ns, CAMERA_MOUNT), start_ns - 1)
    for index in range(frames):
        if speed_mps is not None and index < (frames if tf_frames is None else tf_frames):
            pose = odom_from_base(speed_mps, index * period_ns * 1e-9)
            log_ns = start_ns + index * period_ns
            bag.write("/tf", _tf_message(WORLD_FRAME, BASE_FRAME, log_ns, pose), log_ns - 1)
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


def odom_from_base(speed_mps: float, elapsed_s: float) -> RigidTransform:
    """odom <- base_link `elapsed_s` after the first frame: the robot at x = speed * t."""
    return RigidTransform(np.eye(3), np.array([speed_mps * elapsed_s, 0.0, 0.0]))


def camera_pose(speed_mps: float, elapsed_s: float) -> RigidTransform:
    """odom <- FRAME_ID `elapsed_s` after the first frame (odom_from_base @ CAMERA_MOUNT)."""
    return odom_from_base(speed_mps, elapsed_s) @ CAMERA_MOUNT


def _tf_message(parent: str, child: str, stamp_ns: int, pose: RigidTransform) -> object:
    from tf2_msgs.msg import TFMessage

    from mppe_ros.body_frame import rotation_to_quaternion_xyzw
    from mppe_ros.ros.rep155 import transform_stamped

    quaternion = rotation_to_quaternion_xyzw(pose.rotation)
    return TFMessage(transforms=[transform_stamped(header_at(stamp_ns), parent, child, pose.translation_m, quaternion)])


def write_ros1_bag(path: str | Path, frames: int, width: int = 160, height: int = 120, rate_hz: float = 10.0,
                   start_ns: int = 100_000_000_000) -> list[int]:  # fmt: skip
    """The scene as a ROS 1 bag (rosbags' ROS 1 writer, Noetic's definitions); returns the images' stamps (ns)."""
    from rosbags.rosbag1 import Writer
    from rosbags.typesys import Stores, get_typestore

    store = get_typestore(Stores.ROS1_NOETIC)
    types = store.types
    stamps, period_ns = [], int(round(1e9 / rate_hz))
    with Writer(Path(path)) as writer:
        image_connection = writer.add_connection(IMAGE_TOPIC, "sensor_msgs/msg/Image", typestore=store)
        info_connection = writer.add_connection(INFO_TOPIC, "sensor_msgs/msg/CameraInfo", typestore=store)
        for index in range(frames):
            stamp = start_ns + index * period_ns
            sec, nanosec = divmod(stamp, 1_000_000_000)
            header = types["std_msgs/msg/Header"](index, types["builtin_interfaces/msg/Time"](sec, nanosec), FRAME_ID)
            pixels = frame_image(width, height, index)
            image = types["sensor_msgs/msg/Image"](header, height, width, "bgr8", 0, width * 3, pixels.reshape(-1))
            fx = 1.2 * width
            k = np.array([fx, 0.0, width / 2, 0.0, fx, height / 2, 0.0, 0.0, 1.0])
            p = np.array([fx, 0.0, width / 2, 0.0, 0.0, fx, height / 2, 0.0, 0.0, 0.0, 1.0, 0.0])
            roi = types["sensor_msgs/msg/RegionOfInterest"](0, 0, 0, 0, False)
            info = types["sensor_msgs/msg/CameraInfo"](header, height, width, "plumb_bob", np.zeros(5), k,
                                                       np.eye(3).reshape(-1), p, 0, 0, roi)  # fmt: skip
            writer.write(image_connection, stamp, store.serialize_ros1(image, "sensor_msgs/msg/Image"))
            writer.write(info_connection, stamp + 1, store.serialize_ros1(info, "sensor_msgs/msg/CameraInfo"))
            stamps.append(stamp)
    return stamps


def write_video(path: str | Path, frames: int, width: int = 160, height: int = 120, fps: float = 10.0) -> None:
    """The scene as an .mp4 (mp4v) video."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    for index in range(frames):
        writer.write(frame_image(width, height, index))
    writer.release()


def write_image_folder(folder: str | Path, frames: int, width: int = 160, height: int = 120) -> None:
    """The scene as PNG files frame_0000.png ... in `folder` (created)."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    for index in range(frames):
        cv2.imwrite(str(Path(folder) / f"frame_{index:04d}.png"), frame_image(width, height, index))


def write_camera_yaml(path: str | Path, width: int = 160, height: int = 120) -> None:
    """The scene's intrinsics (fx = fy = 1.2 width px) in camera_calibration's YAML format."""
    fx = 1.2 * width
    k = [fx, 0.0, width / 2, 0.0, fx, height / 2, 0.0, 0.0, 1.0]
    p = [fx, 0.0, width / 2, 0.0, 0.0, fx, height / 2, 0.0, 0.0, 0.0, 1.0, 0.0]
    lines = [f"image_width: {width}", f"image_height: {height}", "camera_name: scene",
             f"camera_matrix: {{rows: 3, cols: 3, data: {k}}}", "distortion_model: plumb_bob",
             "distortion_coefficients: {rows: 1, cols: 5, data: [0, 0, 0, 0, 0]}",
             "rectification_matrix: {rows: 3, cols: 3, data: [1, 0, 0, 0, 1, 0, 0, 0, 1]}",
             f"projection_matrix: {{rows: 3, cols: 4, data: {p}}}"]  # fmt: skip
    Path(path).write_text("\n".join(lines) + "\n")
