"""`mppe-ros process` on small bags: every good frame answered with its stamp, bad ones counted, the outputs read by
rosbags and by the mcap reader, two runs identical, usage errors (exit 2), parameters as the node reads them."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from mppe_ros.apps import cli
from mppe_ros.recordings.jsonl import read_jsonl
from mppe_ros.ros.parameter_files import node_config
from mppe_ros.testing.recordings import IMAGE_TOPIC, INFO_TOPIC, write_bag

BOXES = [[20.0, 10.0, 40.0, 90.0], [90.0, 10.0, 40.0, 90.0]]


def params_file(tmp_path: Path, weights: dict, **values) -> Path:
    """An mppe_node parameter file with the test weights (values: more parameters)."""
    lines = ["mppe_node:", "  ros__parameters:", "    device: cpu",
             f"    posenet_path: {weights['posenet']}", f"    rootnet_path: {weights['rootnet']}"]  # fmt: skip
    lines += [f"    {name}: {json.dumps(value)}" for name, value in values.items()]
    path = tmp_path / "params.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def process(tmp_path: Path, weights: dict, bag: Path, out: Path, *extra: str) -> int:
    boxes = tmp_path / "boxes.json"
    boxes.write_text(json.dumps(BOXES))
    arguments = [str(bag), "--out", str(out), "--params-file", str(params_file(tmp_path, weights)), "--boxes"]
    return cli.main(["process", *arguments, str(boxes), *extra])


def mcap_messages(bag: Path) -> list[tuple[str, int, object]]:
    """(topic, log time ns, decoded) of every message, read by the mcap + mcap-ros2-support reader."""
    from mcap.reader import make_reader
    from mcap_ros2.decoder import DecoderFactory

    (file,) = bag.glob("*.mcap")
    with file.open("rb") as stream:
        reader = make_reader(stream, decoder_factories=[DecoderFactory()])
        return [(c.topic, m.log_time, d) for _, c, m, d in reader.iter_decoded_messages()]


def rosbags_messages(bag: Path) -> list[tuple[str, int, object]]:
    """(topic, log time ns, decoded) of every message, read by rosbags with the embedded definitions."""
    from rosbags.highlevel import AnyReader

    with AnyReader([bag]) as reader:
        return [(c.topic, t, reader.deserialize(raw, c.msgtype)) for c, t, raw in reader.messages()]


def test_bad_frames_counted_outputs_readable_and_runs_identical(tmp_path, official_weights, capsys):
    bag = tmp_path / "in"
    stamps = write_bag(bag, 8, corrupt=(2,), lost_info=(5,), back_at=6)
    out, jsonl = tmp_path / "out", tmp_path / "out.jsonl"
    assert process(tmp_path, official_weights, bag, out, "--jsonl", str(jsonl)) == 0
    text = capsys.readouterr().out
    assert "7 of 8 frames answered" in text and "bad_image: 1 skipped" in text, text
    assert "camera_info_reused: 1" in text and "stamp_went_back: 1" in text, text
    good = [stamp for index, stamp in enumerate(stamps) if index != 2]
    records = read_jsonl(jsonl)
    assert [r["stamp"]["sec"] * 10**9 + r["stamp"]["nanosec"] for r in records] == good
    assert all(len(r["persons"]) == 2 and len(r["persons"][0]["joints_m"]) == 21 for r in records)
    for reader in (mcap_messages, rosbags_messages):
        messages = reader(out)
        counts = Counter(topic for topic, _, _ in messages)
        assert counts[IMAGE_TOPIC] == 8 and counts[INFO_TOPIC] == 7 and counts["/humans/poses3d/markers"] == 7
        poses = [msg for topic, _, msg in messages if topic == "/humans/poses3d"]
        assert [p.header.stamp.sec * 10**9 + p.header.stamp.nanosec for p in poses] == good
    metadata = (out / "metadata.yaml").read_text()
    assert "mppe_ros.version" in metadata and "mppe_ros.weights_sha256" in metadata
    again, jsonl_again = tmp_path / "again", tmp_path / "again.jsonl"
    assert process(tmp_path, official_weights, bag, again, "--jsonl", str(jsonl_again)) == 0
    assert jsonl_again.read_bytes() == jsonl.read_bytes()
    assert [m for m in rosbags_messages(again) if m[0] == "/humans/poses3d"].__repr__() == [
        m for m in rosbags_messages(out) if m[0] == "/humans/poses3d"
    ].__repr__()


def test_sqlite3_output_and_no_copy(tmp_path, official_weights):
    bag = tmp_path / "in"
    write_bag(bag, 3, storage="sqlite3")
    out = tmp_path / "out"
    assert process(tmp_path, official_weights, bag / "in.db3", out, "--storage", "sqlite3", "--no-copy-input") == 0
    counts = Counter(topic for topic, _, _ in rosbags_messages(out))
    assert counts["/humans/poses3d"] == 3 and IMAGE_TOPIC not in counts


def test_not_a_recording_and_existing_out_exit_2(tmp_path, capsys):
    text_file = tmp_path / "notes.txt"
    text_file.write_text("hello")
    assert cli.main(["process", str(text_file), "--out", str(tmp_path / "o")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "notes.txt" in error and "expected" in error, error
    bag = tmp_path / "in"
    write_bag(bag, 1)
    (tmp_path / "exists").mkdir()
    assert cli.main(["process", str(bag), "--out", str(tmp_path / "exists")]) == 2
    assert "--overwrite" in capsys.readouterr().err


def test_parameters_as_the_node_reads_them(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("mppe_node:\n  ros__parameters:\n    device: cpu\n    score_threshold: 0.7\n")
    config = node_config([path], ["max_persons:=3"])
    assert config.detection.score_threshold == 0.7 and config.detection.max_persons == 3
    assert config.model.detector == "fasterrcnn_mobilenet_v3_large_320_fpn"  # profile auto on cpu: fast
    assert node_config([path], ["profile:=accurate"]).model.precision == "fp32"
    with pytest.raises(ValueError, match="max_persons"):
        node_config([path], ["max_persons:=-1"])
    with pytest.raises(ValueError, match="unknown"):
        node_config([], ["no_such:=1"])
