"""CameraInfo lost next to large images between processes (Fast DDS defaults): the node still answers.

One `python -m mppe_ros node` child (defaults: input_reliability auto, camera_info_fallback true;
detector none, so every frame that arrives is answered at once) and, in their own processes, two
runs of mppe_ros.testing.camera_publisher: 40 reliable 1280x720 bgr8 pairs at 5 Hz, first with the
CameraInfo published just before the Image (plain rclpy receives only 17 to 26 of the 40 CameraInfos
then), then with the Image first (image_transport's order). No Fast DDS profile in any process. In each
order every image from the first one whose CameraInfo arrived is answered (one may still be in flight):
the images before it have no CameraInfo to reuse, which a loaded machine makes more than one, and each
is counted ("Images without camera_info"); before the fallback, images were lost all along the run.
/diagnostics "CameraInfo reused since startup" accounts for the reused ones, and the reason is logged
once.
"""

from __future__ import annotations

import pytest
import rclpy
from child_process import default_transports_env, node_child, run_camera_publisher, stop_children
from ros_harness import NodeProcessPeer, wait_for

PAIRS = 40
RATE_HZ = 5
WITHOUT_KEY = "Images without camera_info since startup"
REUSED_KEY = "CameraInfo reused since startup"
EXPLAINED = "answered with the latest CameraInfo of the same frame_id and size"


def first_answered(results: NodeProcessPeer, first_s: int) -> int:
    """The index of the first answered pair of the run starting at first_s (RATE_HZ), or PAIRS."""
    indices = [round((ns - first_s * 10**9) * RATE_HZ / 1e9) for ns in list(results.poses)]
    return min((index for index in indices if 0 <= index < PAIRS), default=PAIRS)


@pytest.mark.slow
def test_camera_info_first_or_image_first_every_frame_is_answered(official_weights):
    node = node_child(official_weights, "detector:=none", "log_period_s:=1.0", env=default_transports_env())
    context = rclpy.Context()
    rclpy.init(context=context)
    results = NodeProcessPeer(context, "camera_info_results", camera=False)  # the camera is the publisher process
    figures, answered_total = [], 0
    try:
        assert node.started("ready: subscribing"), node.text()
        for index, order in enumerate(("info-first", "image-first")):
            first_s = 1000 * (index + 1)
            reused_before, without_before = results.counter(REUSED_KEY), results.counter(WITHOUT_KEY)
            sent = run_camera_publisher(
                "--width", "1280", "--height", "720", "--rate-hz", str(RATE_HZ), "--count", str(PAIRS),
                "--reliability", "reliable", "--wait-for", "reliable", "--first-stamp-s", str(first_s),
                "--order", order, env=default_transports_env(),
            )  # fmt: skip
            assert sent == PAIRS, f"{order}: {sent}\nnode:\n{node.text()}"
            wait_for(lambda first=first_s: results.answered_between(first, first + PAIRS) >= PAIRS, 5.0)  # the last
            answered = results.answered_between(first_s, first_s + PAIRS)
            answered_total += answered
            # a report that saw every answer: its counters include this run
            seen = wait_for(lambda total=answered_total: results.counter("Events since startup") >= total, 5.0)
            reused = int(results.diagnostics[REUSED_KEY]) - reused_before if REUSED_KEY in results.diagnostics else None
            without = results.counter(WITHOUT_KEY) - without_before
            first = first_answered(results, first_s)
            figures.append(
                f"{order}: {answered}/{PAIRS} answered, {reused} with a reused CameraInfo, "
                f"{first} before any CameraInfo arrived"
            )
            case = f"{figures}; /diagnostics {results.diagnostics}\nnode:\n{node.text(30)}"
            # Every image from the first one whose CameraInfo arrived is answered (one may still be in flight); the
            # images before it had no CameraInfo to reuse (a loaded machine loses the first ones too), each counted.
            assert first < PAIRS // 2 and answered >= PAIRS - first - 1, case
            assert seen and reused is not None and 0 <= reused <= answered and without >= first, case
        print("CameraInfo fallback, 1280x720 at 5 Hz, Fast DDS defaults:", "; ".join(figures))
        explanations = sum(EXPLAINED in line for line in node.output)
        assert explanations == (1 if int(results.diagnostics[REUSED_KEY]) else 0), node.text()
        assert node.running, node.text()
    finally:
        results.close()
        rclpy.shutdown(context=context)
        stop_children([node])
