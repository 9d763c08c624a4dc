"""The equivalence test of issue 22: the live node fed the same frames one at a time (reliable, waiting for each
result) publishes the same poses as `mppe-ros process` writes (ids, joints within 1e-6 m)."""

from __future__ import annotations

import numpy as np
import ros_harness
from ros_harness import make_pipeline, start

from mppe_ros.recordings.jsonl import read_jsonl
from mppe_ros.ros.parameter_files import node_config
from mppe_ros.ros.recording.frame_records import poses_record
from mppe_ros.ros.recording.run import RunOptions, process_recording
from mppe_ros.testing.recordings import scene_boxes, scene_messages, write_bag

context = ros_harness.context  # fixture
FRAMES, WIDTH, HEIGHT = 8, 160, 120
ID_BASE = 500  # both sides' track ids: 501, 502, ...


class SceneDetector:
    """A fast stand-in detector: the scene's boxes of the frame it is given (found by the image), score 0.9."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, image_bgr, detection=None):
        self.calls += 1
        boxes = scene_boxes(WIDTH, HEIGHT, 0)
        return boxes, np.full(len(boxes), 0.9)


def test_live_node_publishes_what_process_writes(tmp_path, context, official_weights):
    pipeline = make_pipeline(official_weights, detector=SceneDetector())
    bag = tmp_path / "in"
    stamps = write_bag(bag, FRAMES, WIDTH, HEIGHT)
    # a block of its own, as process takes: the in-process node's ids do not follow earlier tests' nodes
    mppe, harness = start(context, pipeline, boxes=None, markers=False, reliable=True, track_id_base=ID_BASE)
    try:
        live = []
        for index, stamp in enumerate(stamps):
            image, info = scene_messages(index, stamp, WIDTH, HEIGHT)
            live.append(poses_record(harness.exchange(image, info)))
    finally:
        harness.close()
        mppe.destroy_node()
    jsonl = tmp_path / "out.jsonl"
    options = RunOptions(out=tmp_path / "out", jsonl=jsonl)
    summary = process_recording(
        bag, node_config([], ["device:=cpu", f"track_id_base:={ID_BASE}"]), pipeline, None, options
    )
    written = read_jsonl(jsonl)
    assert summary.processed == FRAMES and len(written) == len(live) == FRAMES
    for node_frame, process_frame in zip(live, written, strict=True):
        assert node_frame["stamp"] == process_frame["stamp"]
        assert [p["id"] for p in node_frame["persons"]] == [p["id"] for p in process_frame["persons"]]
        assert all(p["id"] > ID_BASE for p in process_frame["persons"])
        assert node_frame["persons"], "the detector's persons are answered"
        for a, b in zip(node_frame["persons"], process_frame["persons"], strict=True):
            np.testing.assert_allclose(a["joints_m"], b["joints_m"], atol=1e-6, rtol=0)
            assert a["is_tracked"] == b["is_tracked"]
    assert any(p["is_tracked"] for p in written[-1]["persons"])  # tracking ran (confirmed tracks)
