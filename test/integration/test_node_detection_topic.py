"""detector topic across processes, as on a robot that already runs a detector: the node (`python -m mppe_ros node`,
detector topic) in one process, the robot's detector (test/detector_process.py: image in, Detection2DArray with the
image's header out) in another, the camera and the listener here.

Frame by frame, the Image published before and after its CameraInfo in turn: the node answers each frame with exactly
the detector's persons (the class filter keeps "person" and "0", drops the car; the score and size thresholds drop the
rest; a rotated box becomes its upright one), an empty array with an empty persons list; a frame the detector skipped
is not answered, is counted (/diagnostics "Images without detections") and its cause is explained once in the log.
Fails when the class filter lets another class in.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
import rclpy
from child_process import UNBUFFERED_ENV, Child, node_child, stop_children
from conftest import REPO_ROOT, child_env
from detector_process import FIRST_STAMP_S, PERIOD_NS, PERSON_CLASSES, SKIPPED, expected_persons
from ros_harness import NodeProcessPeer, stamp_header, wait_for
from ros_tools import requires

pytestmark = [requires("vision_msgs"), pytest.mark.slow]
FRAMES = 12
WARM_UP_INDEX = -50  # warm-up frames are stamped 5 s before the test's first (indices -50, -49, ...)
WITHOUT_KEY = "Images without detections since startup"


def warm_up(camera: NodeProcessPeer) -> int:
    """Send frames stamped before the test's (detected by the plan) every 2 s until one is answered: the detector's
    publisher has matched the node's subscription. Returns how many were not answered, once all are counted."""
    sent: list[int] = []

    def answered() -> bool:
        if not sent or wait_for(lambda: sent[-1] in camera.poses, 2.0) is False:
            index = WARM_UP_INDEX + len(sent)
            sent.append(camera.publish(stamp_header(*divmod(FIRST_STAMP_S * 10**9 + index * PERIOD_NS, 10**9))))
        return any(stamp in camera.poses for stamp in sent)

    assert wait_for(answered, 90), "no warm-up frame was answered"
    missed = sum(stamp not in camera.poses for stamp in sent)
    assert wait_for(lambda: camera.counter(WITHOUT_KEY) == missed, 30), (missed, camera.diagnostics)
    return missed


def test_the_node_answers_with_exactly_the_robot_detectors_persons(official_weights):
    context = rclpy.Context()
    rclpy.init(context=context)
    camera = NodeProcessPeer(context, "detections_camera")
    processes = []
    try:
        # a script's own folder is on its sys.path, not the repository: PYTHONPATH makes mppe_ros importable
        env = {**child_env(), **UNBUFFERED_ENV, "PYTHONPATH": str(REPO_ROOT)}
        processes.append(Child([sys.executable, "test/detector_process.py"], env))
        processes.append(node_child(
            official_weights, "detector:=topic", f"person_class_id:={PERSON_CLASSES}", "input_reliability:=reliable",
            "input_depth:=20", "detections_timeout_s:=0.5",
        ))  # fmt: skip
        detector, node = processes
        assert detector.started("detector ready"), detector.text()
        assert node.started("ready: subscribing"), node.text()
        assert wait_for(lambda: camera.image_pub.get_subscription_count() == 2, 30)  # the node and the detector
        ready_line = next(line for line in node.output if "ready: subscribing" in line)
        assert "boxes from /detections (exact stamps)" in ready_line, ready_line
        missed = warm_up(camera)  # the detector's detections reach the node (their discovery is not awaited above)

        skipped = 0
        for index in range(FRAMES):  # one at a time (the node keeps only the newest pair), in both publish orders
            header = stamp_header(*divmod(FIRST_STAMP_S * 10**9 + index * PERIOD_NS, 10**9))
            stamp_ns = camera.publish(header, info_first=index % 2 == 1)
            expected = expected_persons(index)
            if expected is None:
                skipped += 1
                counted = wait_for(lambda n=missed + skipped: camera.counter(WITHOUT_KEY) == n, 30)
                assert counted, (index, camera.diagnostics, node.text())
                continue
            assert wait_for(lambda s=stamp_ns: s in camera.poses, 60), (index, node.text())
            persons = sorted(camera.poses[stamp_ns].persons, key=lambda p: -p.score)
            assert len(persons) == len(expected), (index, [list(p.box_xywh_px) for p in persons])
            for person, (box, score) in zip(persons, expected, strict=True):
                np.testing.assert_allclose(person.box_xywh_px, box, atol=1e-3)
                assert person.score == pytest.approx(score, abs=1e-6)
                assert len(person.joints) == 21 and np.isfinite(person.root.z) and person.root.z > 0
            assert len({p.id for p in persons}) == len(persons)
        skipped_stamps = {FIRST_STAMP_S * 10**9 + index * PERIOD_NS for index in SKIPPED}
        assert not skipped_stamps & set(camera.poses), "a frame without detections was answered"
        assert len([stamp for stamp in camera.poses if stamp >= FIRST_STAMP_S * 10**9]) == FRAMES - len(SKIPPED)
        text = node.text()
        assert text.count("got no Detection2DArray with its stamp") == 1, text  # explained once, counted always
    finally:
        stop_children(processes)
        camera.close()
        rclpy.shutdown(context=context)
