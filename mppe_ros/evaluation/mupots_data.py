"""Readers of the MuPoTS-3D files the official evaluation uses.

- `MultiPersonTestSet/TS<n>/annot.mat` and `occlusion.mat` (the MuPoTS-3D download): what the MATLAB script scores
  against (`annotations{frame, person}` with `annot2` 2x17 px, `univ_annot3` 3x17 mm, `isValidFrame`;
  `occlusion_labels{frame, person}` 1x17).
- `MuPoTS-3D.json` (the 3DMPPE data release, COCO-style): images (`id`, `file_name` like `TS1/img_000000.jpg`,
  `width`, `height`, `intrinsic` [fx, fy, cx, cy] px) and annotations (`image_id`, `keypoints_cam` 17x3 mm,
  `is_valid`) for the image list, the intrinsics and AP_root.
- `bbox_root_mupots_output.json` (RootNet's release): a list of {`image_id`, `bbox` [x, y, w, h] px (already
  processed: square, x1.25), `root_cam` [X, Y, Z] mm, `score`}.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mppe_ros.evaluation.ap_root import ROOT_INDEX, RootAnnotation
from mppe_ros.evaluation.files import field_of, read_json, read_mat, require
from mppe_ros.evaluation.mupots_protocol import JOINT_NUM, GroundTruthPerson

TEST_SET = "MultiPersonTestSet"
ANNOTATION_FILE = "MuPoTS-3D.json"


@dataclass(frozen=True)
class MupotsImage:
    """One image of MuPoTS-3D.json: id, file name (relative to MultiPersonTestSet), size px, fx fy cx cy px."""

    image_id: int
    file_name: str
    width: int
    height: int
    intrinsic: tuple[float, float, float, float]

    @property
    def key(self) -> str:
        """The prediction files' key: sequence folder and file stem, e.g. TS1_img_000000."""
        parts = Path(self.file_name).parts
        return f"{parts[-2]}_{Path(parts[-1]).stem}" if len(parts) >= 2 else Path(self.file_name).stem


@dataclass(frozen=True)
class BoxRoot:
    """One entry of bbox_root_mupots_output.json: processed box [4] px, root [3] camera mm, score."""

    image_id: int
    bbox_xywh_px: np.ndarray
    root_cam_mm: np.ndarray
    score: float


def read_annotation_json(path: Path) -> tuple[dict[int, MupotsImage], dict[int, list[RootAnnotation]]]:
    """MuPoTS-3D.json -> images by id, and every annotation of each image (file order) as RootAnnotation."""
    expected = "the COCO-style MuPoTS-3D.json of the 3DMPPE release (images with intrinsic, annotations)"
    document = read_json(path, expected)
    images: dict[int, MupotsImage] = {}
    for item in field_of(document, "images", path, expected):
        intrinsic = field_of(item, "intrinsic", path, "images[].intrinsic [fx, fy, cx, cy]")
        require(isinstance(intrinsic, list) and len(intrinsic) == 4, path, "images[].intrinsic [fx, fy, cx, cy]")
        image = MupotsImage(
            int(field_of(item, "id", path, expected)), str(field_of(item, "file_name", path, expected)),
            int(field_of(item, "width", path, expected)), int(field_of(item, "height", path, expected)),
            tuple(float(value) for value in intrinsic),  # type: ignore[arg-type]
        )  # fmt: skip
        images[image.image_id] = image
    annotations: dict[int, list[RootAnnotation]] = {image_id: [] for image_id in images}
    for item in field_of(document, "annotations", path, expected):
        joints = np.asarray(field_of(item, "keypoints_cam", path, "annotations[].keypoints_cam 17x3"), dtype=float)
        require(joints.shape == (JOINT_NUM, 3), path, "annotations[].keypoints_cam of shape 17x3 (mm)")
        image_id = int(field_of(item, "image_id", path, expected))
        annotations.setdefault(image_id, []).append(
            RootAnnotation(joints[ROOT_INDEX], bool(field_of(item, "is_valid", path, "annotations[].is_valid")))
        )
    return images, annotations


def read_boxes(path: Path) -> list[BoxRoot]:
    """bbox_root_mupots_output.json (or the Human3.6M one) -> BoxRoot entries in file order."""
    expected = "RootNet's bbox_root_*_output.json: a list of {image_id, bbox [x, y, w, h], root_cam [X, Y, Z], score}"
    document = read_json(path, expected)
    require(isinstance(document, list), path, expected)
    boxes = []
    for item in document:
        bbox = np.asarray(field_of(item, "bbox", path, expected), dtype=np.float64).reshape(-1)
        root = np.asarray(field_of(item, "root_cam", path, expected), dtype=np.float64).reshape(-1)
        require(bbox.shape == (4,) and root.shape == (3,), path, expected)
        score = float(item.get("score", 1.0))
        boxes.append(BoxRoot(int(field_of(item, "image_id", path, expected)), bbox, root, score))
    return boxes


def sequences_in(data_dir: Path) -> list[int]:
    """The sequence numbers n of the TS<n> folders under MultiPersonTestSet, ascending; ValueError if none."""
    folder = data_dir / TEST_SET
    found = sorted(int(m.group(1)) for p in folder.glob("TS*") if (m := re.fullmatch(r"TS(\d+)", p.name)))
    if not found:
        raise ValueError(f"{folder}: no TS<n> sequence folder (expected the MuPoTS-3D MultiPersonTestSet)")
    return found


def _cell(value: Any, name: str) -> np.ndarray:
    """A numeric array stored in a struct field or cell as loadmat returns it (object wrappers removed)."""
    while isinstance(value, np.ndarray) and value.dtype == object:
        value = value.reshape(-1)[0]
    return np.asarray(value[name][0, 0] if name else value, dtype=np.float64)


def read_sequence(data_dir: Path, sequence: int) -> list[list[GroundTruthPerson]]:
    """TS<sequence>/annot.mat and occlusion.mat -> per frame, the valid persons (annotation column order)."""
    folder = data_dir / TEST_SET / f"TS{sequence}"
    annot_path, occlusion_path = folder / "annot.mat", folder / "occlusion.mat"
    annotations = _loadmat(annot_path, "annotations", "a cell array annotations{frame, person} of structs")
    occlusions = _loadmat(occlusion_path, "occlusion_labels", "a cell array occlusion_labels{frame, person}")
    require(occlusions.shape == annotations.shape, occlusion_path, f"occlusion_labels of shape {annotations.shape}")
    frames = []
    for i in range(annotations.shape[0]):
        persons = []
        for k in range(annotations.shape[1]):
            record = annotations[i, k]
            try:
                if not _cell(record, "isValidFrame").reshape(-1)[0]:
                    continue
                joints_2d, joints_3d = _cell(record, "annot2"), _cell(record, "univ_annot3")
            except (ValueError, IndexError, KeyError):
                raise ValueError(f"{annot_path}: annotations{{{i + 1},{k + 1}}} lacks annot2, univ_annot3 "
                                 "or isValidFrame") from None  # fmt: skip
            occluded = _cell(occlusions[i, k], "").reshape(-1)
            require(joints_2d.shape == (2, JOINT_NUM) and joints_3d.shape == (3, JOINT_NUM), annot_path,
                    f"annot2 2x17 and univ_annot3 3x17 in annotations{{{i + 1},{k + 1}}}")  # fmt: skip
            require(
                occluded.shape == (JOINT_NUM,), occlusion_path, f"1x17 labels in occlusion_labels{{{i + 1},{k + 1}}}"
            )
            persons.append(GroundTruthPerson(joints_2d.T, joints_3d.T, occluded != 0))
        frames.append(persons)
    return frames


def _loadmat(path: Path, variable: str, expected: str) -> np.ndarray:
    value = read_mat(path, f"the MuPoTS-3D file with {expected}").get(variable)
    require(
        isinstance(value, np.ndarray) and value.ndim == 2 and value.dtype == object, path, f"{variable}: {expected}"
    )
    return value  # type: ignore[return-value]
