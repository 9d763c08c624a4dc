"""`mppe-ros process` with tracking_frame / output_frame: the recording's /tf and /tf_static, all loaded before the
first frame, looked up at each image's stamp (a robot driving at 0.5 m/s); a frame after the last transform is
skipped and counted; inputs without transforms are refused in one line (exit 2)."""

from __future__ import annotations

from collections import Counter

import numpy as np
from test_process import process, rosbags_messages

from mppe_ros.recordings.jsonl import read_jsonl
from mppe_ros.testing.recordings import WORLD_FRAME, camera_pose, write_bag, write_camera_yaml, write_video

SPEED_MPS, RATE_HZ = 0.5, 10.0


def test_outputs_in_odom_through_the_recordings_transforms(tmp_path, official_weights, capsys):
    bag = tmp_path / "in"
    stamps = write_bag(bag, 6, rate_hz=RATE_HZ, speed_mps=SPEED_MPS, tf_frames=5)  # frame 5: after the last /tf
    plain, moved = tmp_path / "plain.jsonl", tmp_path / "moved.jsonl"
    no_tracking = ("-p", "tracking:=false")  # unsmoothed joints: the two runs differ only by the transform
    assert process(tmp_path, official_weights, bag, tmp_path / "o1", *no_tracking, "--jsonl", str(plain)) == 0
    capsys.readouterr()
    arguments = (*no_tracking, "-p", f"output_frame:={WORLD_FRAME}", "--jsonl", str(moved))
    assert process(tmp_path, official_weights, bag, tmp_path / "o2", *arguments) == 0
    text = capsys.readouterr().out
    assert "5 of 6 frames answered" in text and "no_transform: 1 skipped" in text, text
    copied = Counter(topic for topic, _, _ in rosbags_messages(tmp_path / "o2"))
    assert copied["/tf"] == 5 and copied["/tf_static"] == 1  # the input's transforms (no bodies: tracking off)
    in_camera, in_odom = read_jsonl(plain), read_jsonl(moved)
    assert [r["stamp"]["sec"] * 10**9 + r["stamp"]["nanosec"] for r in in_odom] == stamps[:5]
    for index, (camera_frame, odom_frame) in enumerate(zip(in_camera, in_odom, strict=False)):
        assert odom_frame["frame_id"] == WORLD_FRAME
        pose = camera_pose(SPEED_MPS, index / RATE_HZ)
        for a, b in zip(camera_frame["persons"], odom_frame["persons"], strict=True):
            np.testing.assert_allclose(pose.points(np.array(a["joints_m"])), b["joints_m"], atol=1e-6, rtol=0)


def test_tracking_in_odom_is_deterministic(tmp_path, official_weights):
    bag = tmp_path / "in"
    write_bag(bag, 6, rate_hz=RATE_HZ, speed_mps=SPEED_MPS)
    runs = []
    for name in ("a", "b"):
        jsonl = tmp_path / f"{name}.jsonl"
        arguments = ("-p", f"tracking_frame:={WORLD_FRAME}", "--jsonl", str(jsonl))
        assert process(tmp_path, official_weights, bag, tmp_path / name, *arguments) == 0
        runs.append(jsonl.read_bytes())
    assert runs[0] == runs[1]
    records = read_jsonl(tmp_path / "a.jsonl")
    assert len(records) == 6 and {p["id"] for r in records for p in r["persons"]} == {1, 2}


def test_frames_without_transforms_are_refused_exit_2(tmp_path, official_weights, capsys):
    bag, video, calibration = tmp_path / "in", tmp_path / "walk.mp4", tmp_path / "calib.yaml"
    write_bag(bag, 2)
    write_video(video, 2)
    write_camera_yaml(calibration)
    frames = ("-p", f"tracking_frame:={WORLD_FRAME}")
    assert process(tmp_path, official_weights, bag, tmp_path / "o1", *frames) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "/tf" in error and "/camera/image_raw" in error, error
    assert not (tmp_path / "o1").exists()
    arguments = (*frames, "--camera-info", str(calibration))
    assert process(tmp_path, official_weights, video, tmp_path / "o2", *arguments) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "video or an image folder has none" in error, error
