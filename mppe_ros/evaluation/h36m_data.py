"""Readers of the Human3.6M files of the 3DMPPE release (`annotations/` of the PoseNet README's data tree).

Per subject S: `Human36M_subjectS_data.json` (COCO-style: images with `id`, `file_name`, `width`, `height`,
`subject`, `action_idx`, `subaction_idx`, `cam_idx`, `frame_idx`; annotations with `image_id`, `bbox` [x, y, w, h]
px), `Human36M_subjectS_camera.json` ({cam_idx: {R 3x3, t [3] mm, f [2] px, c [2] px}}) and
`Human36M_subjectS_joint_3d.json` ({action: {subaction: {frame: 17x3 world mm}}}). As Human36M.load_data: test
frames are those with frame_idx % 64 == 0 of the protocol's subjects; joints go to the camera with R X + t
(float32, as the original), Thorax (mean of the shoulders) is appended as joint 17.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mppe_ros.evaluation.files import field_of, read_json, require
from mppe_ros.evaluation.h36m_protocol import SAMPLING, SUBJECTS, check_protocol

L_SHOULDER, R_SHOULDER = 11, 14


@dataclass(frozen=True)
class H36mSample:
    """One test image: its id and path (relative to `images/`), size px, f [2] and c [2] px, the annotated box
    [4] px (not processed), the ground truth [18, 3] camera mm (Thorax appended) and action_idx (2..16)."""

    image_id: int
    file_name: str
    width: int
    height: int
    focal: np.ndarray
    principal: np.ndarray
    bbox_xywh_px: np.ndarray
    joints_cam_mm: np.ndarray
    action_idx: int


def read_samples(data_dir: Path, protocol: int) -> list[H36mSample]:
    """The protocol's test samples under `data_dir` (the folder holding `annotations/`), in annotation order."""
    check_protocol(protocol)
    samples = []
    for subject in SUBJECTS[protocol]:
        base = data_dir / "annotations" / f"Human36M_subject{subject}"
        data_path = Path(f"{base}_data.json")
        data = read_json(data_path, "the 3DMPPE release's COCO-style Human3.6M annotations (images, annotations)")
        cameras = read_json(Path(f"{base}_camera.json"), "{cam_idx: {R, t, f, c}}")
        joints = read_json(Path(f"{base}_joint_3d.json"), "{action: {subaction: {frame: 17x3 mm}}}")
        images = {int(image["id"]): image for image in field_of(data, "images", data_path, "images")}
        for ann in field_of(data, "annotations", data_path, "annotations"):
            image = images.get(int(field_of(ann, "image_id", data_path, "annotations[].image_id")))
            require(image is not None, data_path, "every annotation's image_id among the images")
            assert image is not None
            if int(image["subject"]) != subject or int(image["frame_idx"]) % SAMPLING != 0:
                continue
            samples.append(_sample(image, ann, cameras, joints, data_path))
    return samples


def _sample(image: dict, ann: dict, cameras: dict, joints: dict, path: Path) -> H36mSample:
    try:
        camera = cameras[str(image["cam_idx"])]
        rotation = np.array(camera["R"], dtype=np.float32)
        translation = np.array(camera["t"], dtype=np.float32)
        world = np.array(joints[str(image["action_idx"])][str(image["subaction_idx"])][str(image["frame_idx"])],
                         dtype=np.float32)  # fmt: skip
        focal, principal = np.array(camera["f"], dtype=np.float32), np.array(camera["c"], dtype=np.float32)
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"{path}: image {image.get('id')} has no camera or 3D joints in the subject's "
                         "_camera.json / _joint_3d.json") from None  # fmt: skip
    require(world.shape == (17, 3) and rotation.shape == (3, 3), path, "17x3 joints and a 3x3 R")
    world = np.vstack([world, (world[L_SHOULDER] + world[R_SHOULDER]) * 0.5])
    cam = (rotation @ world.T).T + translation.reshape(1, 3)
    return H36mSample(
        int(image["id"]), str(image["file_name"]), int(image["width"]), int(image["height"]), focal, principal,
        np.asarray(ann["bbox"], dtype=np.float64), cam.astype(np.float64), int(image["action_idx"]),
    )  # fmt: skip
