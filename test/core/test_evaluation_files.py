"""The official files: MuPoTS-3D prediction .mat files (issue 24), annot.mat / occlusion.mat, MuPoTS-3D.json, the
boxes file and the Human3.6M annotation JSONs; read back exactly, malformed ones named in one line."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.io
from helpers_evaluation import Person, perfect_predictions, person_at, project, two_sequences, write_h36m, write_mupots

from mppe_ros.evaluation.h36m_data import read_samples
from mppe_ros.evaluation.mupots_data import read_annotation_json, read_boxes, read_sequence, sequences_in
from mppe_ros.evaluation.mupots_protocol import FramePrediction, score_sequences
from mppe_ros.evaluation.mupots_summary import summarize
from mppe_ros.evaluation.prediction_files import FILE_2D, FILE_3D, read_prediction_files, write_prediction_files


def scores(data_dir, predictions, relative=True, matched_only=False):
    ground_truth = {s: read_sequence(data_dir, s) for s in sequences_in(data_dir)}
    return [(row.name, row.pck, row.auc, row.pck_visible) for row in
            summarize(score_sequences(ground_truth, predictions, relative, matched_only))]  # fmt: skip


def test_ground_truth_read_back_from_annot_and_occlusion_mat(tmp_path):
    occluded = np.zeros(17, dtype=bool)
    occluded[[3, 9]] = True
    scenes = {4: [[Person(person_at((0, 0, 5000)), occluded), Person(person_at((900, 0, 6000)), valid=False)]]}
    write_mupots(tmp_path, scenes)
    frames = read_sequence(tmp_path, 4)
    assert sequences_in(tmp_path) == [4] and len(frames) == 1 and len(frames[0]) == 1  # the invalid one left out
    person = frames[0][0]
    np.testing.assert_array_equal(person.joints_3d_mm, person_at((0, 0, 5000)))
    np.testing.assert_allclose(person.joints_2d_px, project(person_at((0, 0, 5000))))
    assert person.occluded.tolist() == occluded.tolist()


def test_round_trip_through_the_mat_files_scores_as_in_memory(tmp_path):
    scenes = two_sequences()
    write_mupots(tmp_path, scenes)
    predictions = perfect_predictions(scenes)
    noisy = predictions["TS1_img_000001"]
    rng = np.random.default_rng(3)
    predictions["TS1_img_000001"] = FramePrediction(
        noisy.joints_2d_px, noisy.joints_3d_mm + rng.normal(0, 90, (2, 17, 3))
    )
    predictions["TS2_img_000000"] = FramePrediction(np.zeros((0, 17, 2)), np.zeros((0, 17, 3)))  # nobody found
    write_prediction_files(predictions, tmp_path / "preds")
    content = scipy.io.loadmat(str(tmp_path / "preds" / FILE_3D))
    assert content["TS1_img_000001"].shape == (2, 17, 3) and content["TS2_img_000000"].shape == (0, 17, 3)
    read_back = read_prediction_files(tmp_path / "preds", predictions)
    for relative in (True, False):
        assert scores(tmp_path, read_back, relative) == scores(tmp_path, predictions, relative)
    assert scores(tmp_path, read_back)[-1][1] < 100.0


def test_a_hand_made_predictions_file_with_a_known_error_gives_the_known_3dpck(tmp_path):
    scenes = {1: [[Person(person_at((0, 0, 5000)))]]}
    write_mupots(tmp_path, scenes)
    joints = person_at((0, 0, 5000))
    shifted = joints + [0.0, 0.0, 200.0]  # absolute: every joint 200 mm too far; relative: perfect
    folder = tmp_path / "hand"
    folder.mkdir()
    scipy.io.savemat(str(folder / FILE_2D), {"TS1_img_000000": [project(joints)]})
    scipy.io.savemat(str(folder / FILE_3D), {"TS1_img_000000": [shifted]})
    predictions = read_prediction_files(folder, ["TS1_img_000000"])
    assert scores(tmp_path, predictions, relative=True)[-1][1] == pytest.approx(100.0)
    assert scores(tmp_path, predictions, relative=False)[-1][1] == pytest.approx(0.0)


@pytest.mark.parametrize(
    ("content_2d", "content_3d", "message"),
    [
        ({}, {"TS1_img_000000": np.zeros((1, 17, 3))}, f"{FILE_2D}: no variable 'TS1_img_000000'"),
        ({"TS1_img_000000": np.zeros((1, 21, 2))}, {"TS1_img_000000": np.zeros((1, 17, 3))},
         r"'TS1_img_000000' has shape \(1, 21, 2\).*expected \[persons, 17, 2\]"),
        ({"TS1_img_000000": np.zeros((1, 17, 2))}, {"TS1_img_000000": np.zeros((1, 17, 2))},
         r"'TS1_img_000000' has shape \(1, 17, 2\).*expected \[persons, 17, 3\]"),
        ({"TS1_img_000000": np.zeros((2, 17, 2))}, {"TS1_img_000000": np.zeros((1, 17, 3))},
         "'TS1_img_000000' has 2 persons in"),
    ],
)  # fmt: skip
def test_malformed_prediction_files_are_one_line_naming_the_key(tmp_path, content_2d, content_3d, message):
    scipy.io.savemat(str(tmp_path / FILE_2D), content_2d)
    scipy.io.savemat(str(tmp_path / FILE_3D), content_3d)
    with pytest.raises(ValueError, match=message) as error:
        read_prediction_files(tmp_path, ["TS1_img_000000"])
    assert "\n" not in str(error.value)


def test_missing_or_unreadable_files_are_named(tmp_path):
    with pytest.raises(ValueError, match=f"{FILE_2D}: missing"):
        read_prediction_files(tmp_path)
    (tmp_path / FILE_2D).write_text("not a mat file")
    (tmp_path / FILE_3D).write_text("not a mat file")
    with pytest.raises(ValueError, match="not a readable .mat file"):
        read_prediction_files(tmp_path)
    with pytest.raises(ValueError, match="no TS<n> sequence folder"):
        sequences_in(tmp_path)
    (tmp_path / "MultiPersonTestSet" / "TS2").mkdir(parents=True)
    with pytest.raises(ValueError, match=r"TS2/annot.mat: missing"):
        read_sequence(tmp_path, 2)


def test_annotation_json_and_boxes_file(tmp_path):
    write_mupots(tmp_path, two_sequences())
    images, annotations = read_annotation_json(tmp_path / "MuPoTS-3D.json")
    assert images[1001].key == "TS1_img_000001" and images[1001].intrinsic == (1500.0, 1500.0, 320.0, 240.0)
    np.testing.assert_allclose(annotations[2000][0].root_cam_mm, [0, 100, 4000])
    boxes = tmp_path / "boxes.json"
    boxes.write_text(json.dumps([{"image_id": 1000, "bbox": [1, 2, 3, 3], "root_cam": [1, 2, 3], "score": 0.5}]))
    assert read_boxes(boxes)[0].score == 0.5
    boxes.write_text(json.dumps([{"image_id": 1000, "bbox": [1, 2, 3]}]))
    with pytest.raises(ValueError, match="boxes.json: malformed, expected RootNet's bbox_root"):
        read_boxes(boxes)


@pytest.mark.parametrize(
    ("protocol", "expected"), [(1, [(11, 0), (11, 64)]), (2, [(9, 0), (9, 64), (11, 0), (11, 64)])]
)
def test_h36m_subjects_and_every_64th_frame(tmp_path, protocol, expected):
    write_h36m(tmp_path)
    samples = read_samples(tmp_path, protocol)
    assert [(s.image_id // 10000, s.image_id % 10000) for s in samples] == expected
    sample = samples[-1]
    assert sample.joints_cam_mm.shape == (18, 3) and sample.action_idx == 2
    np.testing.assert_allclose(sample.joints_cam_mm[14], [64 + 0, 0, 5000])  # R X + t
    np.testing.assert_allclose(sample.joints_cam_mm[17], (sample.joints_cam_mm[11] + sample.joints_cam_mm[14]) / 2)
