"""sensor_msgs/CompressedImage -> the inference library's BGR arrays.

`compressed_image_to_bgr`: sensor_msgs/CompressedImage (image_transport's "compressed" transport) -> the same BGR
uint8 [H, W, 3] as a raw Image. The format names the codec: "jpeg" or "png", alone or as image_transport writes it
("rgb8; jpeg compressed bgr8", "16UC1; png compressed"). The payload is decoded with cv2.imdecode as stored (colour
JPEG/PNG are BGR, whatever the original encoding was); grey and alpha as for raw images (mppe_ros.ros.conversions);
16-bit PNG is scaled to 8 bits like the raw 16-bit encodings.
"""

from __future__ import annotations

import cv2
import numpy as np
from sensor_msgs.msg import CompressedImage

from mppe_ros.ros.conversions import ImageFormatError, UnsupportedCompressionError, native_to_bgr

COMPRESSED_CODECS = ("jpeg", "jpg", "png")  # the codec word of CompressedImage.format
_SIGNATURES = {"JPEG": b"\xff\xd8\xff", "PNG": b"\x89PNG\r\n\x1a\n"}
_JPEG_END = b"\xff\xd9"  # end-of-image marker: a JPEG without it was cut short
# decoded (channels, bytes per channel) -> the ENCODINGS entry that native_to_bgr converts from
_DECODED_ENCODINGS = {
    (1, 1): "mono8",
    (3, 1): "bgr8",
    (4, 1): "bgra8",
    (1, 2): "mono16",
    (3, 2): "bgr16",
    (4, 2): "bgra16",
}


def compressed_image_to_bgr(msg: CompressedImage) -> np.ndarray:
    """Decode a sensor_msgs/CompressedImage (JPEG or PNG) to the pipeline's input.

    Returns:
        uint8 [height, width, 3], BGR, C-contiguous, as `image_to_bgr` returns for a raw Image.

    Raises:
        UnsupportedCompressionError: the format names no codec of COMPRESSED_CODECS.
        ImageFormatError: empty data, not a JPEG/PNG payload, a truncated JPEG, or OpenCV cannot decode it.
    """
    compressed_format = msg.format
    codec = compressed_format.split(";")[-1].split()
    if not codec or codec[0].lower() not in COMPRESSED_CODECS:
        raise UnsupportedCompressionError(compressed_format)
    data = np.frombuffer(memoryview(msg.data), dtype=np.uint8)
    described = f"compressed image ({compressed_format!r}, {data.size} B)"
    if data.size == 0:
        raise ImageFormatError(f"{described} has no data")
    kind = next((name for name, magic in _SIGNATURES.items() if data[: len(magic)].tobytes() == magic), None)
    if kind is None:
        raise ImageFormatError(f"{described} is neither JPEG nor PNG: it starts with {data[:8].tobytes().hex(' ')}")
    if kind == "JPEG" and _JPEG_END not in data[-64:].tobytes():
        raise ImageFormatError(f"{described} is a truncated JPEG (no end-of-image marker FF D9): the message was cut")
    decoded = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if decoded is None:
        raise ImageFormatError(f"{described} is a corrupt or truncated {kind}: OpenCV cannot decode it")
    native = decoded.reshape(decoded.shape[0], decoded.shape[1], -1)  # JPEG/PNG: 1, 3 or 4 channels, uint8/16
    return native_to_bgr(native, _DECODED_ENCODINGS[native.shape[2], native.dtype.itemsize])
