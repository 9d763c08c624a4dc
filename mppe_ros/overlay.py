"""2D drawing of poses on their image (boxes, skeletons, id and distance labels) and the person palette.

The one drawing of the package: `mppe-ros infer --overlay` draws a PoseResult (draw_skeletons), the
demo draws the PersonPose3DArray it received (draw_poses on the message's arrays). PERSON_COLORS is
also the palette of the RViz markers (mppe_ros.ros.markers), so a person has one colour everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from mppe_ros.results import PoseResult

# Person colours (Tableau 10), RGB in [0, 1]; person id i gets PERSON_COLORS[i % 10].
PERSON_COLORS: tuple[tuple[float, float, float], ...] = (
    (0.122, 0.467, 0.706),
    (1.000, 0.498, 0.055),
    (0.173, 0.627, 0.173),
    (0.839, 0.153, 0.157),
    (0.580, 0.404, 0.741),
    (0.549, 0.337, 0.294),
    (0.890, 0.467, 0.761),
    (0.498, 0.498, 0.498),
    (0.737, 0.741, 0.133),
    (0.090, 0.745, 0.812),
)


def person_color_bgr(person_id: int) -> tuple[int, int, int]:
    """PERSON_COLORS[person_id % 10] as an OpenCV BGR colour (0..255)."""
    red, green, blue = PERSON_COLORS[person_id % len(PERSON_COLORS)]
    return round(255 * blue), round(255 * green), round(255 * red)


def draw_poses(
    image_bgr: np.ndarray,
    boxes_xywh_px: np.ndarray,
    joints_px: np.ndarray,
    roots_m: np.ndarray,
    bones: Sequence[tuple[int, int]],
    person_ids: Sequence[int] | None = None,
    note: str = "",
) -> np.ndarray:
    """Draw persons on a copy of `image_bgr`.

    Per person (colour by id): the box, the bones between its joints, the joints, and a label
    "#<id> <distance> m" where the distance is the Euclidean norm of its root (camera centre to root
    joint). Non-finite joints are left out. `note` (e.g. that the weights are untrained) is written in
    red at the bottom left.

    Args:
        image_bgr: uint8 [H, W, 3] BGR image the poses were computed on.
        boxes_xywh_px: [N, 4] person boxes, px.
        joints_px: [N, J, 2] joints, px.
        roots_m: [N, 3] roots in the camera frame, m.
        bones: (joint a, joint b) index pairs.
        person_ids: [N] ids (default 0..N-1).

    Returns:
        A new uint8 [H, W, 3] BGR image.
    """
    canvas = np.ascontiguousarray(image_bgr).copy()
    thickness = max(1, round(max(canvas.shape[:2]) / 400))
    ids = range(len(boxes_xywh_px)) if person_ids is None else person_ids
    for person_id, box, joints, root in zip(ids, boxes_xywh_px, joints_px, roots_m, strict=True):
        color = person_color_bgr(person_id)
        x, y, w, h = np.nan_to_num(np.asarray(box, dtype=np.float64))
        cv2.rectangle(canvas, (round(x), round(y)), (round(x + w), round(y + h)), color, thickness)
        points = [(round(u), round(v)) if np.isfinite(u) and np.isfinite(v) else None for u, v in joints]
        for a, b in bones:
            start, end = points[a], points[b]
            if start is not None and end is not None:
                cv2.line(canvas, start, end, color, thickness + 1, cv2.LINE_AA)
        for point in points:
            if point is not None:
                cv2.circle(canvas, point, thickness + 2, color, -1, cv2.LINE_AA)
        label = f"#{person_id} {float(np.linalg.norm(root)):.2f} m"
        _outlined_text(canvas, label, (round(x), max(12 * thickness, round(y) - 4)), color, thickness)
    if note:
        _outlined_text(canvas, note, (8, canvas.shape[0] - 12), (0, 0, 255), thickness)
    return canvas


def draw_skeletons(image_bgr: np.ndarray, result: PoseResult, note: str = "") -> np.ndarray:
    """draw_poses of every person of `result` (ids: their index in result.persons) on `image_bgr`."""
    persons = result.persons
    joint_num = result.joint_set.joint_num
    return draw_poses(
        image_bgr,
        np.array([p.box_xywh_px for p in persons]).reshape(-1, 4),
        np.array([p.joints_px for p in persons]).reshape(-1, joint_num, 2),
        np.array([p.root_cam_m for p in persons]).reshape(-1, 3),
        result.joint_set.bones,
        note=note,
    )


def _outlined_text(
    canvas: np.ndarray, text: str, origin: tuple[int, int], color: tuple[int, int, int], thickness: int
) -> None:
    for text_color, text_thickness in (((0, 0, 0), thickness + 2), (color, thickness)):
        cv2.putText(
            canvas, text, origin, cv2.FONT_HERSHEY_SIMPLEX, 0.5 * thickness, text_color, text_thickness, cv2.LINE_AA
        )
