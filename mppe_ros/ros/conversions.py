"""sensor_msgs/Image <-> the inference library's BGR arrays.

Compressed images: mppe_ros.ros.compressed; results to messages: mppe_ros.ros.pose_messages.

Images (`image_to_bgr`): sensor_msgs/Image -> contiguous BGR uint8 [H, W, 3], the pipeline's input.
- Encodings: bgr8, rgb8, bgra8, rgba8, mono8, 8UC1/8UC3/8UC4 (read as mono8/bgr8/bgra8), the 16-bit
  mono16, 16UC1, bgr16, rgb16, bgra16, rgba16, and the packed YUV 4:2:2 yuv422 / uyvy (UYVY) and
  yuv422_yuy2 / yuyv (YUYV, what usb_cam publishes). Alpha is dropped; grey is copied to 3 channels.
- 16-bit data is scaled linearly to 8 bits over the full range: v8 = round(v16 / 257), so 65535 ->
  255. A 10- or 12-bit camera that fills only the low bits of 16 therefore looks dark (its poses are
  still computed; the networks were trained on 8-bit colour images).
- Rows are read with the message's `step` (padding after each row is skipped) and 16-bit samples
  with the byte order of `is_bigendian`. `data` must hold at least `step * height` bytes.
- cv_bridge (ROS 2's, from a ROS install) decodes the raw array when it is importable AND passes a
  self-test on padded, big-endian probes; otherwise, and in the PyPI environment, the built-in
  decoder does (PyPI's `cv-bridge` ignores `step` and byte order and fails the self-test).
  Validation and the conversion to 8-bit BGR are the same either way.
"""

from __future__ import annotations

import functools
from typing import Any

import cv2
import numpy as np
from sensor_msgs.msg import Image
from std_msgs.msg import Header

# encoding -> (channels in the message, bytes per channel, cv2 conversion to BGR or None)
ENCODINGS: dict[str, tuple[int, int, int | None]] = {
    "bgr8": (3, 1, None),
    "rgb8": (3, 1, cv2.COLOR_RGB2BGR),
    "bgra8": (4, 1, cv2.COLOR_BGRA2BGR),
    "rgba8": (4, 1, cv2.COLOR_RGBA2BGR),
    "mono8": (1, 1, cv2.COLOR_GRAY2BGR),
    "8UC1": (1, 1, cv2.COLOR_GRAY2BGR),
    "8UC3": (3, 1, None),
    "8UC4": (4, 1, cv2.COLOR_BGRA2BGR),
    "mono16": (1, 2, cv2.COLOR_GRAY2BGR),
    "16UC1": (1, 2, cv2.COLOR_GRAY2BGR),
    "bgr16": (3, 2, None),
    "rgb16": (3, 2, cv2.COLOR_RGB2BGR),
    "bgra16": (4, 2, cv2.COLOR_BGRA2BGR),
    "rgba16": (4, 2, cv2.COLOR_RGBA2BGR),
    "yuv422": (2, 1, cv2.COLOR_YUV2BGR_UYVY),
    "uyvy": (2, 1, cv2.COLOR_YUV2BGR_UYVY),
    "yuv422_yuy2": (2, 1, cv2.COLOR_YUV2BGR_YUY2),
    "yuyv": (2, 1, cv2.COLOR_YUV2BGR_YUY2),
}
SUPPORTED_ENCODINGS = tuple(ENCODINGS)


class UnsupportedEncodingError(ValueError):
    """The image encoding is not one of SUPPORTED_ENCODINGS."""

    def __init__(self, encoding: str) -> None:
        super().__init__(
            f"image encoding {encoding!r} is not supported; expected one of {', '.join(SUPPORTED_ENCODINGS)}"
        )
        self.encoding = encoding


class ImageFormatError(ValueError):
    """The image's size, step or data length is inconsistent (a malformed message)."""


class UnsupportedCompressionError(UnsupportedEncodingError):
    """The CompressedImage format names no codec of mppe_ros.ros.compressed.COMPRESSED_CODECS (`encoding`: the
    format)."""

    def __init__(self, compressed_format: str) -> None:
        ValueError.__init__(
            self,
            f"compressed image format {compressed_format!r} is not supported; expected a JPEG or PNG format as "
            "image_transport's compressed transport writes it ('jpeg', 'png', 'bgr8; jpeg compressed bgr8', ...)",
        )
        self.encoding = compressed_format


def image_to_bgr(msg: Any, use_cv_bridge: bool = True) -> np.ndarray:
    """Convert a sensor_msgs/Image to the pipeline's input.

    Args:
        msg: sensor_msgs/Image (or any object with height, width, encoding, is_bigendian, step, data).
        use_cv_bridge: allow cv_bridge for decoding when it is installed and passes its self-test.

    Returns:
        uint8 [height, width, 3], BGR, C-contiguous (a copy; the message is not referenced).

    Raises:
        UnsupportedEncodingError: unknown encoding.
        ImageFormatError: zero size, step shorter than a row, or data shorter than step * height.
    """
    channels, bytes_per_channel, _ = _layout(msg)
    if use_cv_bridge and cv_bridge_works():
        native = _cv_bridge().imgmsg_to_cv2(msg, desired_encoding="passthrough")
        native = np.asarray(native).reshape(msg.height, msg.width, channels)
    else:
        native = decode_native(msg)
    return native_to_bgr(native, msg.encoding)


def _layout(msg: Any) -> tuple[int, int, int | None]:
    """Validate the message's geometry; return its ENCODINGS entry."""
    encoding = msg.encoding
    if encoding not in ENCODINGS:
        raise UnsupportedEncodingError(encoding)
    channels, bytes_per_channel, code = ENCODINGS[encoding]
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    row_bytes = width * channels * bytes_per_channel
    if height <= 0 or width <= 0:
        raise ImageFormatError(f"image size must be > 0, got {width}x{height} ({encoding})")
    if encoding in ("yuv422", "uyvy", "yuv422_yuy2", "yuyv") and width % 2:
        raise ImageFormatError(f"a {encoding} image needs an even width, got {width}")
    if step < row_bytes:
        raise ImageFormatError(f"image step {step} B is shorter than one row of {width} px {encoding} ({row_bytes} B)")
    if len(msg.data) < step * height:
        raise ImageFormatError(
            f"image data has {len(msg.data)} B, expected step * height = {step} * {height} = {step * height} B "
            f"({width}x{height} {encoding})"
        )
    return channels, bytes_per_channel, code


def decode_native(msg: Any) -> np.ndarray:
    """The image as stored, honouring step and byte order: [H, W, C] uint8 or native-endian uint16."""
    channels, bytes_per_channel, _ = _layout(msg)
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    raw = np.frombuffer(memoryview(msg.data), dtype=np.uint8, count=step * height)
    rows = raw.reshape(height, step)[:, : width * channels * bytes_per_channel]
    if bytes_per_channel == 1:
        return np.array(rows, copy=True).reshape(height, width, channels)
    dtype = np.dtype(">u2" if msg.is_bigendian else "<u2")
    samples = np.ascontiguousarray(rows).view(dtype).astype(np.uint16)
    return samples.reshape(height, width, channels)


def native_to_bgr(native: np.ndarray, encoding: str) -> np.ndarray:
    """[H, W, C] array in `encoding`'s channel order (uint8, or uint16 for 16-bit encodings) -> BGR uint8 [H, W, 3]."""
    channels, bytes_per_channel, code = ENCODINGS[encoding]
    if bytes_per_channel == 2:
        native = np.rint(native.astype(np.float32) * (1.0 / 257.0)).astype(np.uint8)
    native = native.reshape(native.shape[0], native.shape[1], channels)
    if code is None:
        return np.ascontiguousarray(native)
    source = native[..., 0] if channels == 1 else np.ascontiguousarray(native)
    return np.ascontiguousarray(cv2.cvtColor(source, code))


def bgr_to_image_msg(image: np.ndarray, header: Header, encoding: str = "bgr8") -> Image:
    """Pack a BGR uint8 [H, W, 3] (or grey [H, W] for mono8) array into a sensor_msgs/Image.

    Args:
        image: the pixels; for "rgb8" it is converted from BGR.
        header: copied into the message (stamp and frame_id).
        encoding: "bgr8", "rgb8" or "mono8".
    """
    if encoding == "rgb8":
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    elif encoding not in ("bgr8", "mono8"):
        raise ValueError(f"encoding must be bgr8, rgb8 or mono8, got {encoding!r}")
    image = np.ascontiguousarray(image, dtype=np.uint8)
    channels = 1 if image.ndim == 2 else image.shape[2]
    if channels != ENCODINGS[encoding][0]:
        raise ValueError(f"{encoding} needs {ENCODINGS[encoding][0]} channels, got array of shape {image.shape}")
    msg = Image(header=header, height=image.shape[0], width=image.shape[1], encoding=encoding)
    msg.is_bigendian = 0
    msg.step = image.shape[1] * channels
    msg.data = image.tobytes()  # ~50x faster than assigning the array
    return msg


# --- cv_bridge, only when it is installed and correct ---------------------------------------------


@functools.lru_cache(maxsize=1)
def _cv_bridge() -> Any:
    from cv_bridge import CvBridge  # ROS 2's cv_bridge; absent in the PyPI environment

    return CvBridge()


@functools.lru_cache(maxsize=1)
def cv_bridge_works() -> bool:
    """True when cv_bridge imports and decodes padded rgb8 and big-endian padded mono16 correctly."""
    try:
        bridge = _cv_bridge()
        for probe in _probe_images():
            decoded = np.asarray(bridge.imgmsg_to_cv2(probe, desired_encoding="passthrough"))
            expected = decode_native(probe)
            if decoded.dtype != expected.dtype or not np.array_equal(decoded.reshape(expected.shape), expected):
                return False
        return True
    except Exception:  # noqa: BLE001 - any failure of a third-party converter means "do not use it"
        return False


def _probe_images() -> list[Image]:
    rng = np.random.default_rng(7)
    probes = []
    for encoding, dtype in (("rgb8", np.uint8), ("mono16", np.dtype(">u2"))):
        channels = ENCODINGS[encoding][0]
        pixels = rng.integers(0, np.iinfo(np.dtype(dtype).newbyteorder("=")).max, (3, 5, channels)).astype(dtype)
        row = pixels.reshape(3, -1).view(np.uint8)
        padded = np.zeros((3, row.shape[1] + 3), np.uint8)
        padded[:, : row.shape[1]] = row
        msg = Image(height=3, width=5, encoding=encoding, step=padded.shape[1])
        msg.is_bigendian = int(np.dtype(dtype).byteorder == ">")
        msg.data = padded.tobytes()
        probes.append(msg)
    return probes


def converter_backend() -> str:
    """ "cv_bridge" or "builtin": which decoder image_to_bgr uses here."""
    return "cv_bridge" if cv_bridge_works() else "builtin"
