"""2D overlay of a PoseResult on its image: boxes, skeletons, and each person's id and distance."""

from __future__ import annotations

import cv2
import numpy as np

from mppe_ros.results import PoseResult

# Person colours (BGR, the matplotlib tab10 palette); person i gets PERSON_COLORS_BGR[i % 10].
PERSON_COLORS_BGR = (
    (180, 119, 31),
    (14, 127, 255),
    (44, 160, 44),
    (40, 39, 214),
    (189, 103, 148),
    (75, 86, 140),
    (194, 119, 227),
    (127, 127, 127),
    (34, 189, 188),
    (207, 190, 23),
)


def draw_skeletons(image_bgr: np.ndarray, result: PoseResult) -> np.ndarray:
    """Draw every person of `result` on a copy of `image_bgr`.

    Per person (colour stable by index in result.persons): the input box, the bones of
    result.joint_set between joints_px, the joints, and a label "#<index> <distance> m" where the
    distance is the Euclidean norm of root_cam_m (camera centre to root joint).

    Args:
        image_bgr: uint8 [H, W, 3] BGR image the result was computed on.
        result: poses of that image.

    Returns:
        A new uint8 [H, W, 3] BGR image.
    """
    canvas = np.ascontiguousarray(image_bgr).copy()
    thickness = max(1, round(max(canvas.shape[:2]) / 400))
    for index, person in enumerate(result.persons):
        color = PERSON_COLORS_BGR[index % len(PERSON_COLORS_BGR)]
        x, y, w, h = np.nan_to_num(person.box_xywh_px)
        cv2.rectangle(canvas, (round(x), round(y)), (round(x + w), round(y + h)), color, thickness)
        joints = [(round(u), round(v)) if np.isfinite(u) and np.isfinite(v) else None for u, v in person.joints_px]
        for a, b in result.joint_set.bones:
            if joints[a] is not None and joints[b] is not None:
                cv2.line(canvas, joints[a], joints[b], color, thickness + 1, cv2.LINE_AA)
        for joint in joints:
            if joint is not None:
                cv2.circle(canvas, joint, thickness + 2, color, -1, cv2.LINE_AA)
        label = f"#{index} {float(np.linalg.norm(person.root_cam_m)):.2f} m"
        origin = (round(x), max(12 * thickness, round(y) - 4))
        for text_color, text_thickness in (((0, 0, 0), thickness + 2), (color, thickness)):  # outlined text
            cv2.putText(
                canvas,
                label,
                origin,
                cv2.FONT_HERSHEY_SIMPLEX,
                0.5 * thickness,
                text_color,
                text_thickness,
                cv2.LINE_AA,
            )
    return canvas
