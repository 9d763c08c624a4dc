"""Reading the data sets' files with one clear line for each problem (ValueError naming the file and what was
expected), shared by the MuPoTS-3D and Human3.6M readers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import scipy.io


def read_json(path: Path, expected: str) -> Any:
    """The JSON document in `path`; ValueError (missing, unreadable, not JSON) naming the file and `expected`."""
    if not path.is_file():
        raise ValueError(f"{path}: missing (expected {expected})")
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: not readable JSON ({error}); expected {expected}") from None


def require(condition: bool, path: Path, expected: str) -> None:
    """ValueError `<path>: malformed, expected <expected>` unless `condition`."""
    if not condition:
        raise ValueError(f"{path}: malformed, expected {expected}")


def field_of(record: Any, key: str, path: Path, expected: str) -> Any:
    """`record[key]` of a JSON object; ValueError naming the file and `expected` when absent."""
    require(isinstance(record, dict) and key in record, path, expected)
    return record[key]


def read_mat(path: Path, expected: str) -> dict[str, np.ndarray]:
    """The variables of a MATLAB .mat file (scipy.io.loadmat, no `__header__` entries); ValueError naming the file
    and `expected` when it is missing or unreadable."""
    if not path.is_file():
        raise ValueError(f"{path}: missing (expected {expected})")
    # SciPy 1.11 (Ubuntu 24.04's) raises IndexError on a file shorter than the 128-byte MATLAB header.
    unreadable = (OSError, ValueError, TypeError, IndexError, NotImplementedError, scipy.io.matlab.MatReadError)
    try:
        content = scipy.io.loadmat(str(path))
    except unreadable as error:
        raise ValueError(f"{path}: not a readable .mat file ({error}); expected {expected}") from None
    return {key: value for key, value in content.items() if not key.startswith("__")}
