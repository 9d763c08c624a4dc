"""sensor_msgs/Image -> BGR for every encoding (padded rows, both byte orders); results -> messages."""

from __future__ import annotations

import sys
import types

import cv2
import numpy as np
import pytest
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from mppe_ros.ros import conversions
from mppe_ros.ros.conversions import (
    ENCODINGS,
    ImageFormatError,
    UnsupportedEncodingError,
    bgr_to_image_msg,
    image_to_bgr,
)

H, W, PAD = 5, 6, 7
REF = np.random.default_rng(0).integers(0, 256, (H, W, 3), dtype=np.uint8)  # BGR reference
GREY = cv2.cvtColor(REF, cv2.COLOR_BGR2GRAY)


def make_msg(pixels: np.ndarray, encoding: str, pad: int = 0, bigendian: bool = False) -> Image:
    """Pack [H, W, C] pixels row by row with `pad` garbage bytes after each row."""
    if pixels.dtype == np.uint16:
        pixels = pixels.astype(">u2" if bigendian else "<u2")
    rows = np.ascontiguousarray(pixels).reshape(pixels.shape[0], -1).view(np.uint8)
    data = np.full((rows.shape[0], rows.shape[1] + pad), 0xAB, np.uint8)
    data[:, : rows.shape[1]] = rows
    msg = Image(height=pixels.shape[0], width=pixels.shape[1], encoding=encoding, step=data.shape[1])
    msg.is_bigendian = int(bigendian)
    msg.data = data.tobytes()
    return msg


def source_pixels(encoding: str) -> tuple[np.ndarray, np.ndarray]:
    """(pixels as the encoding stores them, expected BGR output)."""
    alpha = np.full((H, W, 1), 77, np.uint8)
    table = {
        "bgr8": (REF, REF),
        "8UC3": (REF, REF),
        "rgb8": (REF[..., ::-1], REF),
        "bgra8": (np.concatenate([REF, alpha], 2), REF),
        "8UC4": (np.concatenate([REF, alpha], 2), REF),
        "rgba8": (np.concatenate([REF[..., ::-1], alpha], 2), REF),
        "mono8": (GREY[..., None], np.repeat(GREY[..., None], 3, 2)),
        "8UC1": (GREY[..., None], np.repeat(GREY[..., None], 3, 2)),
    }
    if encoding in table:
        return table[encoding]
    base = encoding.replace("16", "8").replace("8UC1", "mono8")
    pixels8, expected = table["mono8" if encoding in ("mono16", "16UC1") else base]
    return pixels8.astype(np.uint16) * 257, expected  # full-range 16-bit: exact back to 8 bits


SIMPLE = [e for e in ENCODINGS if not e.startswith(("yuv", "uyvy", "yuyv"))]


@pytest.mark.parametrize("encoding", SIMPLE)
@pytest.mark.parametrize("pad", [0, PAD])
@pytest.mark.parametrize("bigendian", [False, True])
def test_every_encoding_with_padding_and_byte_order(encoding, pad, bigendian):
    pixels, expected = source_pixels(encoding)
    out = image_to_bgr(make_msg(pixels, encoding, pad, bigendian))
    assert out.dtype == np.uint8 and out.shape == (H, W, 3) and out.flags.c_contiguous
    np.testing.assert_array_equal(out, expected)


def test_mono16_scaling_is_documented_full_range():
    values = np.array([[0, 256, 1000, 4095, 32768, 65535]], np.uint16)[..., None]
    out = image_to_bgr(make_msg(values, "mono16", pad=3, bigendian=True))
    np.testing.assert_array_equal(out[0, :, 0], [0, 1, 4, 16, 128, 255])
    assert (out[..., 0] == out[..., 2]).all()


def test_big_endian_flag_is_honoured():
    values = np.array([[258]], np.uint16)[..., None]  # 0x0102
    msg = make_msg(values, "mono16", bigendian=True)
    assert image_to_bgr(msg)[0, 0, 0] == 1
    msg.is_bigendian = 0  # the same bytes read little-endian: 0x0201 = 513 -> 2
    assert image_to_bgr(msg)[0, 0, 0] == 2


@pytest.mark.parametrize(
    ("encoding", "order"), [("yuv422", "UYVY"), ("uyvy", "UYVY"), ("yuv422_yuy2", "YUYV"), ("yuyv", "YUYV")]
)
def test_packed_yuv(encoding, order):
    # Left half mid grey (Y=128, U=V=128), right half saturated red (Y=76, U=85, V=255).
    packed = np.zeros((2, 4, 2), np.uint8)
    for column, (y, u, v) in enumerate([(128, 128, 128)] * 2 + [(76, 85, 255)] * 2):
        chroma = u if column % 2 == 0 else v
        packed[:, column] = (chroma, y) if order == "UYVY" else (y, chroma)
    out = image_to_bgr(make_msg(packed, encoding, pad=2))
    assert out.shape == (2, 4, 3)
    np.testing.assert_allclose(out[:, :2].astype(int), 128, atol=2)
    blue, green, red = out[0, 3].astype(int)
    assert red > 230 and green < 30 and blue < 30


def test_unsupported_encoding():
    msg = make_msg(REF, "bgr8")
    msg.encoding = "bayer_rggb8"
    with pytest.raises(UnsupportedEncodingError) as info:
        image_to_bgr(msg)
    assert info.value.encoding == "bayer_rggb8" and "rgb8" in str(info.value)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda m: setattr(m, "data", bytes(m.data)[:-1]), "data has"),
        (lambda m: setattr(m, "step", 3 * W - 1), "step"),
        (lambda m: setattr(m, "height", 0), "size"),
        (lambda m: setattr(m, "width", W + 10), "step"),
    ],
)
def test_malformed_images(change, fragment):
    msg = make_msg(REF, "bgr8")
    change(msg)
    with pytest.raises(ImageFormatError, match=fragment):
        image_to_bgr(msg)


def test_image_msg_round_trip():
    header = Header(frame_id="cam_optical")
    header.stamp.sec, header.stamp.nanosec = 7, 9
    for encoding in ("bgr8", "rgb8"):
        msg = bgr_to_image_msg(REF, header, encoding)
        assert (msg.step, msg.encoding, msg.header.frame_id) == (3 * W, encoding, "cam_optical")
        np.testing.assert_array_equal(image_to_bgr(msg), REF)
    np.testing.assert_array_equal(image_to_bgr(bgr_to_image_msg(GREY, header, "mono8"))[..., 0], GREY)


@pytest.fixture
def fake_cv_bridge(monkeypatch):
    """Install a cv_bridge module; `mode` picks a correct or a step-ignoring (PyPI-like) bridge."""

    def install(mode: str):
        class CvBridge:
            def imgmsg_to_cv2(self, msg, desired_encoding="passthrough"):
                if mode == "broken":  # ignores step, like PyPI cv-bridge
                    channels, bytes_per_channel, _ = ENCODINGS[msg.encoding]
                    raw = np.frombuffer(bytes(msg.data), np.uint8)[
                        : msg.height * msg.width * channels * bytes_per_channel
                    ]
                    return raw.reshape(msg.height, msg.width, channels * bytes_per_channel)
                CvBridge.calls += 1
                return conversions.decode_native(msg)

        CvBridge.calls = 0
        module = types.ModuleType("cv_bridge")
        module.CvBridge = CvBridge
        monkeypatch.setitem(sys.modules, "cv_bridge", module)
        conversions._cv_bridge.cache_clear()
        conversions.cv_bridge_works.cache_clear()
        return CvBridge

    yield install
    conversions._cv_bridge.cache_clear()
    conversions.cv_bridge_works.cache_clear()


def test_working_cv_bridge_is_used(fake_cv_bridge):
    bridge = fake_cv_bridge("good")
    assert conversions.converter_backend() == "cv_bridge"
    calls = bridge.calls
    np.testing.assert_array_equal(image_to_bgr(make_msg(REF, "rgb8", PAD)), REF[..., ::-1])
    assert bridge.calls == calls + 1


def test_broken_cv_bridge_is_not_used(fake_cv_bridge):
    fake_cv_bridge("broken")
    assert conversions.converter_backend() == "builtin"
    np.testing.assert_array_equal(image_to_bgr(make_msg(REF, "bgr8", PAD)), REF)


def test_no_cv_bridge_here_means_builtin():
    conversions._cv_bridge.cache_clear()
    conversions.cv_bridge_works.cache_clear()
    try:
        import cv_bridge  # noqa: F401
    except ImportError:
        assert conversions.converter_backend() == "builtin"
