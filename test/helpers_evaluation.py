"""Small synthetic MuPoTS-3D and Human3.6M data in the official formats, with known poses.

MuPoTS: MultiPersonTestSet/TS<n>/{annot.mat, occlusion.mat, img_*.jpg} (MATLAB cell arrays written with
scipy.io.savemat, read back as the official files are) and the COCO-style MuPoTS-3D.json of the 3DMPPE release.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import scipy.io

from mppe_ros.evaluation.mupots_protocol import FramePrediction, frame_key

INTRINSIC = (1500.0, 1500.0, 320.0, 240.0)  # fx, fy, cx, cy px
SIZE = (640, 480)
# A standing person in the MuPoTS order (Head_top, Thorax, R_Shoulder, R_Elbow, R_Wrist, L_Shoulder, L_Elbow,
# L_Wrist, R_Hip, R_Knee, R_Ankle, L_Hip, L_Knee, L_Ankle, Pelvis, Spine, Head), mm, pelvis at the origin.
SKELETON_MM = np.array([
    [0, -700, 0], [0, -450, 0], [-180, -440, 0], [-200, -180, 20], [-210, 60, 40], [180, -440, 0],
    [200, -180, 20], [210, 60, 40], [-100, 0, 0], [-110, 420, 10], [-120, 820, 30], [100, 0, 0],
    [110, 420, 10], [120, 820, 30], [0, 0, 0], [0, -220, 0], [0, -600, 10],
], dtype=np.float64)  # fmt: skip


def person_at(root_mm: tuple[float, float, float]) -> np.ndarray:
    """SKELETON_MM with its pelvis at `root_mm` (camera mm): [17, 3]."""
    return SKELETON_MM + np.asarray(root_mm, dtype=np.float64)


def project(joints_mm: np.ndarray) -> np.ndarray:
    """[J, 3] camera mm -> [J, 2] px with INTRINSIC."""
    fx, fy, cx, cy = INTRINSIC
    return np.stack([joints_mm[:, 0] / joints_mm[:, 2] * fx + cx, joints_mm[:, 1] / joints_mm[:, 2] * fy + cy], 1)


@dataclass
class Person:
    """One annotation: 3D joints [17, 3] mm, occluded [17] bool, valid (isValidFrame)."""

    joints_mm: np.ndarray
    occluded: np.ndarray = field(default_factory=lambda: np.zeros(17, dtype=bool))
    valid: bool = True


def write_mupots(folder: Path, scenes: dict[int, list[list[Person]]], images: bool = False) -> Path:
    """Write sequences (number -> frames -> persons; every frame of a sequence has the same person columns) and
    MuPoTS-3D.json under `folder`; `images`: also black JPEG frames. Returns `folder`."""
    document: dict[str, list] = {"images": [], "annotations": []}
    for sequence, frames in scenes.items():
        out = folder / "MultiPersonTestSet" / f"TS{sequence}"
        out.mkdir(parents=True, exist_ok=True)
        columns = max(len(persons) for persons in frames)
        annotations = np.empty((len(frames), columns), dtype=object)
        occlusions = np.empty((len(frames), columns), dtype=object)
        for i, persons in enumerate(frames):
            image_id = sequence * 1000 + i
            name = f"TS{sequence}/img_{i:06d}.jpg"
            document["images"].append({"id": image_id, "file_name": name, "width": SIZE[0], "height": SIZE[1],
                                       "intrinsic": list(INTRINSIC)})  # fmt: skip
            if images:
                cv2.imwrite(str(folder / "MultiPersonTestSet" / name), np.zeros((SIZE[1], SIZE[0], 3), np.uint8))
            for k in range(columns):
                person = persons[k] if k < len(persons) else Person(person_at((0, 0, 5000)), valid=False)
                annotations[i, k] = {"annot2": project(person.joints_mm).T, "annot3": person.joints_mm.T,
                                     "univ_annot3": person.joints_mm.T,
                                     "isValidFrame": np.array([[int(person.valid)]])}  # fmt: skip
                occlusions[i, k] = person.occluded.astype(np.float64)[None]
                document["annotations"].append({
                    "id": len(document["annotations"]), "image_id": image_id, "is_valid": int(person.valid),
                    "keypoints_cam": person.joints_mm.tolist(), "keypoints_img": project(person.joints_mm).tolist(),
                    "bbox": box_of(person.joints_mm).tolist(),
                })  # fmt: skip
        scipy.io.savemat(str(out / "annot.mat"), {"annotations": annotations})
        scipy.io.savemat(str(out / "occlusion.mat"), {"occlusion_labels": occlusions})
    (folder / "MuPoTS-3D.json").write_text(json.dumps(document))
    return folder


def box_of(joints_mm: np.ndarray) -> np.ndarray:
    """The 2D bounding box [x, y, w, h] px of the projected joints, with a 10 % margin."""
    px = project(joints_mm)
    low, high = px.min(0), px.max(0)
    margin = 0.1 * (high - low)
    return np.concatenate([low - margin, high - low + 2 * margin])


def perfect_predictions(scenes: dict[int, list[list[Person]]]) -> dict[str, FramePrediction]:
    """Predictions equal to the valid ground truth (in column order) for every frame."""
    predictions = {}
    for sequence, frames in scenes.items():
        for i, persons in enumerate(frames):
            joints = np.array([p.joints_mm for p in persons if p.valid]).reshape(-1, 17, 3)
            predictions[frame_key(sequence, i)] = FramePrediction(
                np.array([project(j) for j in joints]).reshape(-1, 17, 2), joints
            )
    return predictions


def two_sequences() -> dict[int, list[list[Person]]]:
    """TS1: 2 frames x 2 persons; TS2: 1 frame x 1 person (sequences of different sizes)."""
    return {
        1: [[Person(person_at((-600, 0, 5000))), Person(person_at((700, 50, 6000)))],
            [Person(person_at((-580, 0, 5000))), Person(person_at((720, 50, 6000)))]],
        2: [[Person(person_at((0, 100, 4000)))]],
    }  # fmt: skip


def write_h36m(folder: Path, frames: tuple[int, ...] = (0, 1, 64), subjects: tuple[int, ...] = (9, 11)) -> Path:
    """Human3.6M annotations/ of the 3DMPPE release (one camera: identity R, t = (0, 0, 5000) mm, f 1500, c at
    the centre) with one person per frame (action 2, subaction 1) and black images/. Returns `folder`."""
    for subject in subjects:
        data: dict[str, list] = {"images": [], "annotations": []}
        joints: dict[str, dict] = {"2": {"1": {}}}
        for frame in frames:
            image_id = subject * 10000 + frame
            name = f"s_{subject:02d}_act_02_subact_01_ca_01/frame_{frame:06d}.jpg"
            world = SKELETON_MM + [frame, 0.0, 0.0]  # 17 joints: plays the 17 Human3.6M joints
            joints["2"]["1"][str(frame)] = world.tolist()
            data["images"].append({"id": image_id, "file_name": name, "width": SIZE[0], "height": SIZE[1],
                                   "subject": subject, "action_idx": 2, "subaction_idx": 1, "cam_idx": 1,
                                   "frame_idx": frame})  # fmt: skip
            data["annotations"].append({"id": image_id, "image_id": image_id,
                                        "bbox": box_of(world + [0.0, 0.0, 5000.0]).tolist()})  # fmt: skip
            path = folder / "images" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(path), np.zeros((SIZE[1], SIZE[0], 3), np.uint8))
        camera = {"1": {"R": np.eye(3).tolist(), "t": [0.0, 0.0, 5000.0], "f": [1500.0, 1500.0], "c": [320.0, 240.0]}}
        base = folder / "annotations" / f"Human36M_subject{subject}"
        base.parent.mkdir(parents=True, exist_ok=True)
        Path(f"{base}_data.json").write_text(json.dumps(data))
        Path(f"{base}_camera.json").write_text(json.dumps(camera))
        Path(f"{base}_joint_3d.json").write_text(json.dumps(joints))
    return folder


def write_boxes(path: Path, scenes: dict[int, list[list[Person]]], root_error_mm: float = 0.0) -> Path:
    """bbox_root_mupots_output.json for the valid persons: square x1.25 boxes around the projected joints, the
    ground-truth root moved by `root_error_mm` along x, score 0.9 falling with each entry."""
    entries = []
    for sequence, frames in scenes.items():
        for i, persons in enumerate(frames):
            for person in (p for p in persons if p.valid):
                x, y, w, h = box_of(person.joints_mm)
                side = max(w, h) * 1.25
                root = person.joints_mm[14] + [root_error_mm, 0.0, 0.0]
                entries.append({"image_id": sequence * 1000 + i, "score": 0.9 - 0.01 * len(entries),
                                "bbox": [x + w / 2 - side / 2, y + h / 2 - side / 2, side, side],
                                "root_cam": root.tolist()})  # fmt: skip
    path.write_text(json.dumps(entries))
    return path
