"""The one pinhole camera model of mppe_ros, and the one reader of CameraInfo intrinsics.

Conventions: pixel coordinates are OpenCV's (u right, v down, the centre of pixel (column i, row j)
is at (i, j)); 3D points are in the camera optical frame (x right, y down, z forward), in whatever
length unit the caller passes as depth (the pipeline uses mm).

Which matrix is used (`PinholeCamera.from_camera_info`):
- `use_projection=True` (the image is rectified, e.g. `image_rect`): fx, fy, cx, cy come from the
  3x4 projection matrix P, distortion is ignored (rectified images have none) and 3D points are in
  the rectified camera frame (the raw frame rotated by CameraInfo.r; identical for a monocular
  camera, whose R is the identity).
- `use_projection=False` (the image is raw, e.g. `image_raw`): fx, fy, cx, cy come from K and the
  coefficients D are kept; pixels are undistorted with K and D (OpenCV's plumb_bob /
  rational_polynomial model) before back-projection. P and R are not used.
Binning and ROI are applied as image_geometry does: principal point shifted by the ROI offset,
then focal lengths and principal point divided by the binning factors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

# Distortion coefficient counts cv2.undistortPoints / cv2.projectPoints accept.
_OPENCV_DISTORTION_LENGTHS = (0, 4, 5, 8, 12, 14)
UNDISTORT_TOLERANCE_PX = 1e-9  # pixels_to_camera: largest accepted reprojection error of an undistorted pixel
UNDISTORT_MAX_STEPS = 50


class CameraIntrinsicsError(ValueError):
    """Intrinsics are missing, invalid or do not match the image."""


@dataclass(frozen=True)
class PinholeCamera:
    """Pinhole intrinsics of the image that is processed.

    Attributes:
        fx: focal length along u in px, finite and > 0.
        fy: focal length along v in px, finite and > 0.
        cx: principal point u in px.
        cy: principal point v in px.
        width: image width in px the intrinsics belong to, or None (not checked).
        height: image height in px, or None.
        distortion: OpenCV distortion coefficients (k1, k2, p1, p2[, k3[, k4, k5, k6 ...]]) of a raw
            image; empty or all-zero for none.
        rectified: True when the image is rectified (distortion must then be empty or zero).

    Raises:
        CameraIntrinsicsError: on a non-finite or non-positive focal length, a non-finite
            principal point, a bad image size, or distortion given for a rectified image.
    """

    fx: float
    fy: float
    cx: float
    cy: float
    width: int | None = None
    height: int | None = None
    distortion: tuple[float, ...] = ()
    rectified: bool = True

    def __post_init__(self) -> None:
        for name in ("fx", "fy", "cx", "cy"):
            value = _as_float(name, getattr(self, name))
            if not math.isfinite(value) or (name in ("fx", "fy") and value <= 0.0):
                expected = "a finite number > 0 (px)" if name in ("fx", "fy") else "a finite number (px)"
                raise CameraIntrinsicsError(f"camera {name} must be {expected}, got {value!r}")
            object.__setattr__(self, name, value)
        for name in ("width", "height"):
            value = getattr(self, name)
            if value is not None and (int(value) != value or value <= 0):
                raise CameraIntrinsicsError(f"camera {name} must be None or an integer > 0 (px), got {value!r}")
            object.__setattr__(self, name, None if value is None else int(value))
        distortion = tuple(_as_float("distortion", d) for d in self.distortion)
        if len(distortion) not in _OPENCV_DISTORTION_LENGTHS or not all(map(math.isfinite, distortion)):
            raise CameraIntrinsicsError(
                f"camera distortion must hold 4, 5, 8, 12 or 14 finite OpenCV coefficients, got {distortion!r}"
            )
        if self.rectified and any(distortion):
            raise CameraIntrinsicsError(
                f"distortion {distortion!r} given for a rectified image; pass rectified=False for a raw image"
            )
        object.__setattr__(self, "distortion", distortion)

    @classmethod
    def from_camera_info(cls, msg: Any, use_projection: bool) -> PinholeCamera:
        """Build the camera from a sensor_msgs/CameraInfo (duck-typed: k, p, d, width, height, ...).

        Args:
            msg: object with `k` (9), `p` (12), `d`, `width`, `height` and optionally
                `distortion_model`, `binning_x`, `binning_y`, `roi` (x_offset, y_offset, width, height).
            use_projection: True for a rectified image (reads P, no distortion); False for a raw
                image (reads K and D). See the module docstring.

        Raises:
            CameraIntrinsicsError: all-zero matrix (uncalibrated camera), unsupported distortion
                model, or invalid values.
        """
        field, matrix = ("p", msg.p) if use_projection else ("k", msg.k)
        values = [float(v) for v in matrix]
        if len(values) != (12 if use_projection else 9):
            raise CameraIntrinsicsError(
                f"CameraInfo.{field} must have {12 if use_projection else 9} values, got {len(values)}"
            )
        if not any(values):
            hint = " (or set use_projection=False to use K with a raw image)" if use_projection else ""
            raise CameraIntrinsicsError(f"CameraInfo.{field} is all zeros: uncalibrated camera; calibrate it{hint}")
        row = 4 if use_projection else 3
        fx, cx, fy, cy = values[0], values[2], values[row + 1], values[row + 2]
        distortion: tuple[float, ...] = ()
        if not use_projection:
            model = getattr(msg, "distortion_model", "") or ""
            if model not in ("", "plumb_bob", "rational_polynomial"):
                raise CameraIntrinsicsError(
                    f"distortion model {model!r} is not supported for raw images; expected plumb_bob or "
                    "rational_polynomial (use a rectified image with use_projection=True)"
                )
            distortion = tuple(float(v) for v in msg.d)
        binning_x = max(1, int(getattr(msg, "binning_x", 0) or 0))
        binning_y = max(1, int(getattr(msg, "binning_y", 0) or 0))
        roi = getattr(msg, "roi", None)
        x_offset, y_offset, roi_width, roi_height = (
            (roi.x_offset, roi.y_offset, roi.width, roi.height) if roi is not None else (0, 0, 0, 0)
        )
        if not (x_offset or y_offset or roi_width or roi_height):  # all-zero ROI = full resolution
            roi_width, roi_height = msg.width, msg.height
        return cls(
            fx=fx / binning_x,
            fy=fy / binning_y,
            cx=(cx - x_offset) / binning_x,
            cy=(cy - y_offset) / binning_y,
            width=roi_width // binning_x or None,
            height=roi_height // binning_y or None,
            distortion=distortion,
            rectified=use_projection,
        )

    @property
    def has_distortion(self) -> bool:
        """True when pixels must be (un)distorted: a raw image with non-zero coefficients."""
        return not self.rectified and any(self.distortion)

    @property
    def _distortion_array(self) -> np.ndarray:
        return np.asarray(self.distortion, dtype=np.float64)

    @property
    def intrinsic_matrix(self) -> np.ndarray:
        """K as float64 [3, 3]: [[fx, 0, cx], [0, fy, cy], [0, 0, 1]]."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    def check_image_size(self, width: int, height: int) -> None:
        """Raise CameraIntrinsicsError when the image size differs from the calibrated one.

        Args:
            width: image width in px.
            height: image height in px.
        """
        if self.width is None or self.height is None:
            return
        if (self.width, self.height) != (width, height):
            raise CameraIntrinsicsError(
                f"camera intrinsics are for a {self.width}x{self.height} image (after binning/ROI), "
                f"got a {width}x{height} image; use the CameraInfo that belongs to this image"
            )

    def pixels_to_camera(self, points_px: np.ndarray, depth: np.ndarray) -> np.ndarray:
        """Back-project pixels with known depth: X = (u - cx) / fx * Z, Y = (v - cy) / fy * Z.

        For a raw image with distortion, (u, v) are first undistorted to normalised coordinates
        with K and D (see _undistort).

        Args:
            points_px: [..., 2] (u, v) in px.
            depth: [...] Z of each point along the optical axis (any length unit).

        Returns:
            float64 [..., 3] (X, Y, Z) in the optical frame, in the unit of `depth`.
        """
        points_px = np.asarray(points_px, dtype=np.float64)
        depth = np.asarray(depth, dtype=np.float64)
        if self.has_distortion:
            normalised = self._undistort(points_px.reshape(-1, 2)).reshape(points_px.shape)
        else:
            normalised = (points_px - (self.cx, self.cy)) / (self.fx, self.fy)
        return np.concatenate((normalised * depth[..., None], depth[..., None]), axis=-1)

    def _undistort(self, points_px: np.ndarray) -> np.ndarray:
        """Distorted pixels [N, 2] -> undistorted normalised coordinates [N, 2] ((u - cx) / fx after undistortion).

        cv2.undistortPoints (a fixed number of iterations, not always converged for strong distortion) gives
        the start; fixed-point steps through cv2.projectPoints then bring the reprojection error below
        UNDISTORT_TOLERANCE_PX.
        """
        normalised = cv2.undistortPoints(points_px.reshape(-1, 1, 2), self.intrinsic_matrix, self._distortion_array)
        normalised = normalised.reshape(-1, 2)
        for _ in range(UNDISTORT_MAX_STEPS):
            residual_px = points_px - self.camera_to_pixels(
                np.concatenate((normalised, np.ones_like(normalised[:, :1])), 1)
            )
            if not (np.abs(residual_px) > UNDISTORT_TOLERANCE_PX).any():  # NaN points stay NaN
                break
            normalised = normalised + residual_px / (self.fx, self.fy)
        return normalised

    def camera_to_pixels(self, points: np.ndarray) -> np.ndarray:
        """Project 3D points (Z > 0) to pixels, applying distortion for a raw distorted image.

        Args:
            points: [..., 3] (X, Y, Z) in the optical frame, any length unit.

        Returns:
            float64 [..., 2] (u, v) in px.
        """
        points = np.asarray(points, dtype=np.float64)
        if self.has_distortion:
            pixels, _ = cv2.projectPoints(
                points.reshape(-1, 1, 3), np.zeros(3), np.zeros(3), self.intrinsic_matrix, self._distortion_array
            )
            projected: np.ndarray = pixels.reshape(*points.shape[:-1], 2)
            return projected
        normalised = points[..., :2] / points[..., 2:3]
        pixels_px: np.ndarray = normalised * (self.fx, self.fy) + (self.cx, self.cy)
        return pixels_px


def _as_float(name: str, value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise CameraIntrinsicsError(f"camera {name} must be a number, got {value!r}") from None
