"""`mppe-ros process` on the inputs other than a rosbag2 bag: a video file and an image folder with --camera-info (the
YAML camera_calibration writes), and a ROS 1 .bag; every frame answered at its stamp, the frames copied to the bag."""

from __future__ import annotations

from collections import Counter

from test_process import params_file, process, rosbags_messages

from mppe_ros.apps import cli
from mppe_ros.recordings.jsonl import read_jsonl
from mppe_ros.testing.recordings import (
    IMAGE_TOPIC,
    INFO_TOPIC,
    write_camera_yaml,
    write_image_folder,
    write_ros1_bag,
    write_video,
)


def answered_stamps_ns(jsonl) -> list[int]:
    return [r["stamp"]["sec"] * 10**9 + r["stamp"]["nanosec"] for r in read_jsonl(jsonl)]


def test_video_with_camera_calibration_yaml(tmp_path, official_weights, capsys):
    video, calibration = tmp_path / "walk.mp4", tmp_path / "calib.yaml"
    write_video(video, 6, fps=10.0)
    write_camera_yaml(calibration)
    out, jsonl = tmp_path / "out", tmp_path / "out.jsonl"
    code = process(tmp_path, official_weights, video, out, "--camera-info", str(calibration), "--jsonl", str(jsonl))
    assert code == 0
    assert "6 of 6 frames answered" in capsys.readouterr().out
    assert answered_stamps_ns(jsonl) == [index * 100_000_000 for index in range(6)]  # frame i at i / fps
    assert all(len(r["persons"]) == 2 and r["frame_id"] == "camera" for r in read_jsonl(jsonl))
    counts = Counter(topic for topic, _, _ in rosbags_messages(out))
    assert counts["/camera/image_raw"] == counts["/camera/camera_info"] == counts["/humans/poses3d"] == 6


def test_image_folder_with_fps(tmp_path, official_weights):
    folder, calibration = tmp_path / "frames", tmp_path / "calib.yaml"
    write_image_folder(folder, 5)
    write_camera_yaml(calibration)
    out, jsonl = tmp_path / "out", tmp_path / "out.jsonl"
    arguments = ("--camera-info", str(calibration), "--fps", "15", "--jsonl", str(jsonl))
    assert process(tmp_path, official_weights, folder, out, *arguments) == 0
    assert answered_stamps_ns(jsonl) == [round(index * 1e9 / 15) for index in range(5)]
    poses = [msg for topic, _, msg in rosbags_messages(out) if topic == "/humans/poses3d"]
    assert [len(msg.persons) for msg in poses] == [2] * 5


def test_video_without_camera_info_exit_2(tmp_path, official_weights, capsys):
    video = tmp_path / "walk.mp4"
    write_video(video, 2)
    assert process(tmp_path, official_weights, video, tmp_path / "out") == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "--camera-info" in error, error


def test_ros1_bag(tmp_path, official_weights, capsys):
    bag = tmp_path / "old.bag"
    stamps = write_ros1_bag(bag, 4)
    out, jsonl = tmp_path / "out", tmp_path / "out.jsonl"
    assert process(tmp_path, official_weights, bag, out, "--jsonl", str(jsonl)) == 0
    assert "4 of 4 frames answered" in capsys.readouterr().out
    assert answered_stamps_ns(jsonl) == stamps
    messages = rosbags_messages(out)  # the ROS 1 frames copied as ROS 2 messages, readable with the definitions
    counts = Counter(topic for topic, _, _ in messages)
    assert counts[IMAGE_TOPIC] == counts[INFO_TOPIC] == counts["/humans/poses3d"] == 4
    images = [msg for topic, _, msg in messages if topic == IMAGE_TOPIC]
    assert [m.header.stamp.sec * 10**9 + m.header.stamp.nanosec for m in images] == stamps
    assert images[0].width == 160 and images[0].encoding == "bgr8"


def test_detector_topic_is_refused_in_one_line(tmp_path, official_weights, capsys):
    video, calibration = tmp_path / "walk.mp4", tmp_path / "calib.yaml"
    write_video(video, 2)
    write_camera_yaml(calibration)
    parameters = str(params_file(tmp_path, official_weights))
    arguments = [str(video), "--out", str(tmp_path / "out"), "--params-file", parameters, "--camera-info"]
    assert cli.main(["process", *arguments, str(calibration), "-p", "detector:=topic"]) == 2  # no --boxes
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "detector topic" in error and "--boxes" in error, error
    assert not (tmp_path / "out").exists()
