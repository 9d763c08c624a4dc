"""The golden file: MppePipeline (CPU fp32) on fixed synthetic inputs == test/data/golden_pipeline.json.

Inputs, outputs and tolerances: mppe_ros.testing.golden. A failure means a number moved beyond float
noise: find the change that moved it; if the change is intended, regenerate the file on purpose with
    .venv/bin/python -m mppe_ros.testing.golden --write --file test/data/golden_pipeline.json
and say why in the commit.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mppe_ros.testing import golden

pytestmark = pytest.mark.slow  # builds and runs the pipeline once (about 8 s)
GOLDEN_FILE = Path(__file__).resolve().parent.parent / "data" / "golden_pipeline.json"


@pytest.fixture(scope="module")
def documents() -> tuple[dict, dict]:
    return json.loads(GOLDEN_FILE.read_text()), golden.compute()


def test_the_file_describes_these_inputs(documents):
    expected, actual = documents
    assert expected["schema"] == actual["schema"] == golden.SCHEMA
    assert expected["inputs"] == actual["inputs"]
    assert set(expected["outputs"]) == {"rectified", "raw"}
    assert all(len(persons) == len(golden.BOXES_XYWH_PX) for persons in expected["outputs"].values())


@pytest.mark.parametrize("field", sorted(golden.TOLERANCES))
def test_outputs_equal_the_golden_file(documents, field):
    expected, actual = documents
    for camera, persons in expected["outputs"].items():
        for index, (want, got) in enumerate(zip(persons, actual["outputs"][camera], strict=True)):
            np.testing.assert_allclose(
                np.asarray(got[field]),
                np.asarray(want[field]),
                rtol=0,
                atol=golden.TOLERANCES[field],
                err_msg=f"{field} of person {index}, {camera} camera",
            )


def test_the_two_cameras_give_different_3d_joints(documents):
    """The raw camera's undistortion reaches the 3D joints (the networks see the same raw pixels)."""
    outputs = documents[0]["outputs"]
    for rectified, raw in zip(outputs["rectified"], outputs["raw"], strict=True):
        assert rectified["joints_px"] == raw["joints_px"]
        assert np.abs(np.subtract(rectified["joints_mm"], raw["joints_mm"])).max() > 0.5


def test_a_moved_number_is_caught(documents):
    expected, actual = documents
    moved = json.loads(json.dumps(actual))
    moved["outputs"]["raw"][1]["joints_px"][3][0] += 0.1
    largest = golden.differences(expected, moved)
    assert largest["joints_px"] > golden.TOLERANCES["joints_px"]
