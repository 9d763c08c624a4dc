"""`--camera-info FILE` for a video or an image folder: the YAML `camera_calibration` writes, or a CameraInfo as YAML.

camera_calibration (camera_info_manager's format): image_width, image_height, camera_name, camera_matrix
{rows, cols, data: 9}, distortion_model, distortion_coefficients {data}, rectification_matrix {data: 9},
projection_matrix {data: 12}. A CameraInfo as YAML (`ros2 topic echo --once /camera_info`): width, height, k, d, r, p,
distortion_model and optionally header.frame_id. Intrinsics in px.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

IDENTITY_3X3 = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)


@dataclass(frozen=True)
class CameraInfoFields:
    """The fields of a sensor_msgs/CameraInfo: size px, K [9], D, R [9], P [12] (row-major), frame_id."""

    width: int
    height: int
    k: tuple[float, ...]
    d: tuple[float, ...]
    r: tuple[float, ...]
    p: tuple[float, ...]
    distortion_model: str
    frame_id: str


def _data(value: Any) -> list[float]:
    """A matrix written as {rows, cols, data} or as a plain list."""
    values = value.get("data") if isinstance(value, dict) else value
    return [float(v) for v in (values or [])]


def read_camera_yaml(path: str | Path, frame_id: str = "") -> CameraInfoFields:
    """The CameraInfo fields of a calibration YAML; `frame_id` when the file has none ("camera" if empty).

    Raises:
        ValueError: unreadable, or K / the size missing or malformed (the message names the file).
    """
    try:
        doc = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"camera info {str(path)!r} cannot be read: {error}") from None
    if not isinstance(doc, dict):
        raise ValueError(f"camera info {str(path)!r} is not a YAML mapping")
    calibration = "camera_matrix" in doc
    try:
        k = _data(doc["camera_matrix"] if calibration else doc["k"])
        width = int(doc["image_width"] if calibration else doc["width"])
        height = int(doc["image_height"] if calibration else doc["height"])
        d = _data(doc.get("distortion_coefficients" if calibration else "d"))
        r = _data(doc.get("rectification_matrix" if calibration else "r")) or list(IDENTITY_3X3)
        p = _data(doc.get("projection_matrix" if calibration else "p"))
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"camera info {str(path)!r}: missing or malformed field {error}") from None
    if len(k) != 9 or len(r) != 9 or (p and len(p) != 12):
        raise ValueError(f"camera info {str(path)!r}: K and R need 9 values and P 12, got {len(k)}, {len(r)}, {len(p)}")
    if not p:
        p = [k[0], k[1], k[2], 0.0, k[3], k[4], k[5], 0.0, k[6], k[7], k[8], 0.0]
    header = doc.get("header")
    frame = str((header.get("frame_id") if isinstance(header, dict) else "") or frame_id or "camera")
    model = str(doc.get("distortion_model") or "plumb_bob")
    return CameraInfoFields(width, height, tuple(k), tuple(d), tuple(r), tuple(p), model, frame)
