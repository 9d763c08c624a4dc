"""sensor_msgs/CompressedImage -> BGR: real JPEG/PNG bytes from cv2.imencode, image_transport's format strings."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from sensor_msgs.msg import CompressedImage, Image

from mppe_ros.ros.compressed import compressed_image_to_bgr
from mppe_ros.ros.conversions import (
    ImageFormatError,
    UnsupportedCompressionError,
    UnsupportedEncodingError,
    image_to_bgr,
)

H, W = 24, 32
REF = np.random.default_rng(1).integers(0, 256, (H, W, 3), dtype=np.uint8)  # BGR reference
GREY = cv2.cvtColor(REF, cv2.COLOR_BGR2GRAY)


def compressed(image: np.ndarray, extension: str, compressed_format: str) -> CompressedImage:
    """A CompressedImage holding cv2.imencode(extension, image) (image as OpenCV stores it: BGR, grey, uint16)."""
    ok, payload = cv2.imencode(extension, image)
    assert ok
    return CompressedImage(format=compressed_format, data=payload.tobytes())


def red_patch() -> np.ndarray:
    image = np.zeros((H, W, 3), np.uint8)
    image[4:20, 8:24] = (0, 0, 255)  # BGR red
    return image


@pytest.mark.parametrize("compressed_format", ["bgr8; jpeg compressed bgr8", "rgb8; jpeg compressed bgr8", "jpeg"])
def test_jpeg_keeps_colour_order(compressed_format):
    """image_transport compresses rgb8 and bgr8 alike as a BGR JPEG: red stays red, not blue."""
    out = compressed_image_to_bgr(compressed(red_patch(), ".jpg", compressed_format))
    assert out.dtype == np.uint8 and out.shape == (H, W, 3) and out.flags.c_contiguous
    blue, green, red = (int(v) for v in out[12, 16])
    assert red > 230 and blue < 25 and green < 25, out[12, 16]


@pytest.mark.parametrize("compressed_format", ["png", "bgr8; png compressed bgr8", "rgb8; png compressed bgr8"])
def test_png_is_exact_and_equals_the_raw_path(compressed_format):
    out = compressed_image_to_bgr(compressed(REF, ".png", compressed_format))
    np.testing.assert_array_equal(out, REF)
    raw = Image(height=H, width=W, encoding="bgr8", step=W * 3, data=REF.tobytes())
    np.testing.assert_array_equal(out, image_to_bgr(raw))


@pytest.mark.parametrize(
    ("extension", "compressed_format"),
    [(".png", "mono8; png compressed mono8"), (".jpg", "mono8; jpeg compressed mono8")],
)
def test_mono_becomes_three_equal_channels(extension, compressed_format):
    out = compressed_image_to_bgr(compressed(GREY, extension, compressed_format))
    assert out.shape == (H, W, 3)
    np.testing.assert_array_equal(out[..., 0], out[..., 1])
    np.testing.assert_array_equal(out[..., 0], out[..., 2])
    tolerance = 0 if extension == ".png" else 8
    assert np.abs(out[..., 0].astype(int) - GREY).max() <= tolerance


def test_png_alpha_is_dropped():
    bgra = np.concatenate([REF, np.full((H, W, 1), 77, np.uint8)], axis=2)
    np.testing.assert_array_equal(compressed_image_to_bgr(compressed(bgra, ".png", "bgra8; png compressed bgra8")), REF)


@pytest.mark.parametrize("compressed_format", ["16UC1; png compressed", "mono16; png compressed mono16"])
def test_16_bit_png_is_scaled_like_the_raw_16_bit_path(compressed_format):
    values = np.array([[0, 256, 1000, 4095, 32768, 65535]], np.uint16)
    out = compressed_image_to_bgr(compressed(values, ".png", compressed_format))
    np.testing.assert_array_equal(out[0, :, 0], [0, 1, 4, 16, 128, 255])
    raw = Image(height=1, width=6, encoding="mono16", step=12, data=values.astype("<u2").tobytes())
    np.testing.assert_array_equal(out, image_to_bgr(raw))


@pytest.mark.parametrize(("extension", "compressed_format"), [(".jpg", "jpeg"), (".png", "png")])
def test_truncated_payload_is_a_bad_image_naming_format_and_size(extension, compressed_format):
    msg = compressed(REF, extension, compressed_format)
    msg.data = bytes(msg.data[: len(msg.data) // 2])
    with pytest.raises(ImageFormatError, match=rf"'{compressed_format}', {len(msg.data)} B.*truncated"):
        compressed_image_to_bgr(msg)


def test_garbage_and_empty_payloads_are_bad_images():
    with pytest.raises(ImageFormatError, match=r"'jpeg', 22 B\) is neither JPEG nor PNG: it starts with 6e 6f"):
        compressed_image_to_bgr(CompressedImage(format="jpeg", data=b"not an image at all..."))
    with pytest.raises(ImageFormatError, match=r"'bgr8; png compressed bgr8', 0 B\) has no data"):
        compressed_image_to_bgr(CompressedImage(format="bgr8; png compressed bgr8"))


def test_corrupt_body_after_a_valid_signature_is_a_bad_image():
    msg = compressed(REF, ".png", "png")
    msg.data = bytes(msg.data[:16]) + bytes(len(msg.data) - 16)  # PNG signature, then zeros
    with pytest.raises(ImageFormatError, match="corrupt or truncated PNG"):
        compressed_image_to_bgr(msg)


@pytest.mark.parametrize("compressed_format", ["16UC1; compressedDepth png", "theora", ""])
def test_other_transports_are_unsupported_encodings(compressed_format):
    """Counted and logged once per format like an unsupported raw encoding (FrameHandler.skip)."""
    msg = compressed(REF, ".png", compressed_format)
    with pytest.raises(UnsupportedCompressionError, match="JPEG or PNG") as raised:
        compressed_image_to_bgr(msg)
    assert isinstance(raised.value, UnsupportedEncodingError) and raised.value.encoding == compressed_format
