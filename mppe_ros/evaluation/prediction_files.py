"""The official MuPoTS-3D prediction files: `preds_2d_kpt_mupots.mat` and `preds_3d_kpt_mupots.mat`.

Layout of 3DMPPE_POSENET_RELEASE data/MuPoTS/MuPoTS.py `evaluate()` (read by `mpii_mupots_multiperson_eval.m`):
`scipy.io.savemat` files with one variable per image, named `<sequence folder>_<image stem>` (TS1_img_000000),
holding [persons, 17, 2] image px and [persons, 17, 3] camera mm, in the MuPoTS joint order (the first 17
MuCo-3DHP joints: Head_top, Thorax, R_Shoulder, ..., Pelvis 14, Spine, Head), persons in the order of the boxes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import scipy.io

from mppe_ros.evaluation.files import read_mat
from mppe_ros.evaluation.mupots_protocol import JOINT_NUM, FramePrediction

FILE_2D = "preds_2d_kpt_mupots.mat"
FILE_3D = "preds_3d_kpt_mupots.mat"


def write_prediction_files(predictions: Mapping[str, FramePrediction], folder: Path) -> tuple[Path, Path]:
    """Write both files into `folder` (created); an image without a person gets a [0, 17, *] array (the
    MATLAB script needs a variable for every annotated image). Returns the two paths."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays_2d = {
        key: np.asarray(p.joints_2d_px, dtype=np.float64).reshape(-1, JOINT_NUM, 2) for key, p in predictions.items()
    }
    arrays_3d = {
        key: np.asarray(p.joints_3d_mm, dtype=np.float64).reshape(-1, JOINT_NUM, 3) for key, p in predictions.items()
    }
    paths = folder / FILE_2D, folder / FILE_3D
    scipy.io.savemat(str(paths[0]), arrays_2d)
    scipy.io.savemat(str(paths[1]), arrays_3d)
    return paths


def read_prediction_files(folder: Path, required_keys: Iterable[str] = ()) -> dict[str, FramePrediction]:
    """Both files of `folder` -> predictions by key. ValueError, one line naming the file and the key: a file
    missing or unreadable, a key of `required_keys` missing, a wrong shape or joint count, the two files'
    person counts differing."""
    arrays_2d = _load(folder / FILE_2D)
    arrays_3d = _load(folder / FILE_3D)
    for key in required_keys:
        for name, arrays in ((FILE_2D, arrays_2d), (FILE_3D, arrays_3d)):
            if key not in arrays:
                raise ValueError(f"{folder / name}: no variable {key!r} (every annotated image needs one, "
                                 "[persons, 17, 2|3], possibly with 0 persons)")  # fmt: skip
    predictions = {}
    for key in arrays_2d.keys() & arrays_3d.keys():
        joints_2d = _checked(arrays_2d[key], 2, folder / FILE_2D, key, "px")
        joints_3d = _checked(arrays_3d[key], 3, folder / FILE_3D, key, "camera mm")
        if len(joints_2d) != len(joints_3d):
            raise ValueError(f"{folder}: {key!r} has {len(joints_2d)} persons in {FILE_2D} but {len(joints_3d)} "
                             f"in {FILE_3D}")  # fmt: skip
        predictions[key] = FramePrediction(joints_2d, joints_3d)
    return predictions


def _load(path: Path) -> dict[str, np.ndarray]:
    return read_mat(path, f"the official {path.name}, written by scipy.io.savemat")


def _checked(value: np.ndarray, dims: int, path: Path, key: str, unit: str) -> np.ndarray:
    """[P, 17, dims] float64; a single person saved as [17, dims] (MATLAB drops nothing, but hand-made files
    may) is accepted as [1, 17, dims]."""
    array = np.asarray(value)
    if array.ndim == 2 and array.shape == (JOINT_NUM, dims):
        array = array[None]
    if array.size == 0 and array.ndim >= 1:
        return np.zeros((0, JOINT_NUM, dims))
    if array.ndim != 3 or array.shape[1:] != (JOINT_NUM, dims) or not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"{path}: {key!r} has shape {array.shape} ({array.dtype}), expected [persons, {JOINT_NUM}, "
                         f"{dims}] numbers ({unit}, MuPoTS joint order)")  # fmt: skip
    return array.astype(np.float64)
