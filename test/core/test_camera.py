"""PinholeCamera: validation, CameraInfo (K vs P, binning, ROI), projection round trips."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from helpers_core import CAMERA, RAW_CAMERA, skeletons_mm

from mppe_ros.camera import CameraIntrinsicsError, PinholeCamera


def camera_info(**changes):
    """A duck-typed sensor_msgs/CameraInfo of a calibrated 640x480 camera."""
    fields = {
        "width": 640,
        "height": 480,
        "distortion_model": "plumb_bob",
        "d": [-0.28, 0.09, 0.001, -0.0015, -0.01],
        "k": [1400.0, 0.0, 300.5, 0.0, 1550.0, 262.25, 0.0, 0.0, 1.0],
        "p": [1300.0, 0.0, 310.0, 0.0, 0.0, 1450.0, 250.0, 0.0, 0.0, 0.0, 1.0, 0.0],
        "binning_x": 0,
        "binning_y": 0,
        "roi": SimpleNamespace(x_offset=0, y_offset=0, width=0, height=0, do_rectify=False),
    }
    fields.update(changes)
    return SimpleNamespace(**fields)


@pytest.mark.parametrize("field", ["fx", "fy"])
@pytest.mark.parametrize("value", [0.0, -5.0, math.nan, math.inf])
def test_focal_length_must_be_finite_and_positive(field, value):
    values = {"fx": 1000.0, "fy": 1000.0, "cx": 320.0, "cy": 240.0, field: value}
    with pytest.raises(CameraIntrinsicsError, match=f"{field} must be a finite number > 0.*got {value}"):
        PinholeCamera(**values)


@pytest.mark.parametrize("field", ["cx", "cy"])
def test_principal_point_must_be_finite(field):
    with pytest.raises(CameraIntrinsicsError, match=f"{field} must be a finite number"):
        PinholeCamera(**{"fx": 1000.0, "fy": 1000.0, "cx": 320.0, "cy": 240.0, field: math.nan})


def test_other_invalid_values():
    with pytest.raises(CameraIntrinsicsError, match="must be a number"):
        PinholeCamera(fx="wide", fy=1.0, cx=0.0, cy=0.0)
    with pytest.raises(CameraIntrinsicsError, match="width must be None or an integer > 0"):
        PinholeCamera(fx=1.0, fy=1.0, cx=0.0, cy=0.0, width=0, height=10)
    with pytest.raises(CameraIntrinsicsError, match="4, 5, 8, 12 or 14"):
        PinholeCamera(fx=1.0, fy=1.0, cx=0.0, cy=0.0, distortion=(0.1, 0.2), rectified=False)
    with pytest.raises(CameraIntrinsicsError, match="rectified=False"):
        PinholeCamera(fx=1.0, fy=1.0, cx=0.0, cy=0.0, distortion=(0.1, 0.0, 0.0, 0.0, 0.0))


def test_from_camera_info_raw_reads_k_and_d():
    camera = PinholeCamera.from_camera_info(camera_info(), use_projection=False)
    assert (camera.fx, camera.fy, camera.cx, camera.cy) == (1400.0, 1550.0, 300.5, 262.25)
    assert camera.distortion == (-0.28, 0.09, 0.001, -0.0015, -0.01)
    assert not camera.rectified and camera.has_distortion
    assert (camera.width, camera.height) == (640, 480)


def test_from_camera_info_rectified_reads_p_without_distortion():
    camera = PinholeCamera.from_camera_info(camera_info(), use_projection=True)
    assert (camera.fx, camera.fy, camera.cx, camera.cy) == (1300.0, 1450.0, 310.0, 250.0)
    assert camera.distortion == () and camera.rectified and not camera.has_distortion


def test_from_camera_info_binning_and_roi_as_image_geometry():
    roi = SimpleNamespace(x_offset=100, y_offset=40, width=400, height=300, do_rectify=True)
    camera = PinholeCamera.from_camera_info(camera_info(binning_x=2, binning_y=4, roi=roi), use_projection=False)
    assert (camera.fx, camera.fy) == (700.0, 387.5)
    assert (camera.cx, camera.cy) == ((300.5 - 100) / 2, (262.25 - 40) / 4)
    assert (camera.width, camera.height) == (200, 75)
    camera.check_image_size(200, 75)
    with pytest.raises(CameraIntrinsicsError, match="200x75 image.*got a 640x480"):
        camera.check_image_size(640, 480)


def test_uncalibrated_camera_info_is_a_clear_error():
    with pytest.raises(CameraIntrinsicsError, match="CameraInfo.k is all zeros: uncalibrated camera"):
        PinholeCamera.from_camera_info(camera_info(k=[0.0] * 9), use_projection=False)
    with pytest.raises(CameraIntrinsicsError, match="CameraInfo.p is all zeros.*use_projection=False"):
        PinholeCamera.from_camera_info(camera_info(p=[0.0] * 12), use_projection=True)
    with pytest.raises(CameraIntrinsicsError, match="fx must be a finite number > 0"):
        PinholeCamera.from_camera_info(camera_info(k=[0.0, 0, 300, 0, 1000, 200, 0, 0, 1]), use_projection=False)


def test_fisheye_raw_images_are_refused():
    with pytest.raises(CameraIntrinsicsError, match="'equidistant' is not supported"):
        PinholeCamera.from_camera_info(camera_info(distortion_model="equidistant", d=[0.1] * 4), use_projection=False)


def test_size_unknown_is_not_checked():
    PinholeCamera(fx=1.0, fy=1.0, cx=0.0, cy=0.0).check_image_size(17, 3)


def test_pixels_to_camera_is_pixel2cam():
    points_px = np.array([[300.5 + 140.0, 262.25 - 310.0], [0.0, 0.0]])
    depth_mm = np.array([5000.0, 2000.0])
    points = CAMERA.pixels_to_camera(points_px, depth_mm)
    np.testing.assert_allclose(points[0], [500.0, -1000.0, 5000.0])
    np.testing.assert_allclose(points[1], [-300.5 / 1400 * 2000, -262.25 / 1550 * 2000, 2000.0])


@pytest.mark.parametrize("camera", [CAMERA, RAW_CAMERA], ids=["rectified", "raw_distorted"])
def test_round_trip_camera_pixels_camera(camera):
    points_mm = skeletons_mm(3)
    points_px = camera.camera_to_pixels(points_mm)
    assert points_px.shape == (3, 21, 2)
    np.testing.assert_allclose(camera.pixels_to_camera(points_px, points_mm[..., 2]), points_mm, atol=1e-3)


def test_distortion_moves_pixels_and_is_undone():
    points_mm = skeletons_mm(1)[0]
    distorted_px = RAW_CAMERA.camera_to_pixels(points_mm)
    ideal_px = CAMERA.camera_to_pixels(points_mm)
    assert np.abs(distorted_px - ideal_px).max() > 2.0  # the distortion is not negligible here
    # Treating the raw pixels as undistorted would be wrong by more than a centimetre.
    assert np.abs(CAMERA.pixels_to_camera(distorted_px, points_mm[:, 2]) - points_mm).max() > 10.0
    np.testing.assert_allclose(RAW_CAMERA.pixels_to_camera(distorted_px, points_mm[:, 2]), points_mm, atol=1e-3)
