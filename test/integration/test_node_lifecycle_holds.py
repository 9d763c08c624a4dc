"""Lifecycle and ids that hold, through the real lifecycle services over DDS.

- Track ids (and so REP-155 body ids) are unique for the whole process: they go on across deactivate/activate and
  cleanup/configure (before, every activation started again at 1).
- One inference worker at most, ever: a frame still computing when the node is deactivated (abandoned after
  SHUTDOWN_WAIT_S) is waited for by the next activation, which fails with a clear reason if it takes longer than
  ACTIVATE_WAIT_S; the abandoned frame is never published (before, the new activation's worker ran the pipeline
  next to it).
- A failed activation leaves no publisher behind (before, the REP-155 tracked and /tf publishers stayed).
- The REP-155 per-body publishers are created and destroyed on the executor thread, never on the inference thread.
"""

from __future__ import annotations

import sys
import threading

import ros_harness
from lifecycle_msgs.msg import Transition
from ros_harness import camera_info, image_msg, stamp_header, start
from ros_tools import requires
from test_node_lifecycle import Lifecycle

context, pipeline = ros_harness.context, ros_harness.pipeline  # fixtures
SLOW_S = 8000  # the stamp (s) of the frames the pipeline holds until released
ACTIVATE, DEACTIVATE = Transition.TRANSITION_ACTIVATE, Transition.TRANSITION_DEACTIVATE
CONFIGURE, CLEANUP = Transition.TRANSITION_CONFIGURE, Transition.TRANSITION_CLEANUP


def answer(harness, seconds: int):
    header = stamp_header(seconds)
    return harness.exchange(image_msg(header), camera_info(header))


def confirmed_ids(harness, first_s: int, frames: int = 4) -> set[int]:
    poses = [answer(harness, first_s + index) for index in range(frames)]
    return {p.id for p in poses[-1].persons if p.is_tracked}


def test_track_ids_go_on_across_activations_and_configurations(context, pipeline):
    mppe, harness = start(context, pipeline, reliable=True, track_max_age_s=60.0)
    lifecycle = Lifecycle(harness)
    try:
        seen: list[set[int]] = [confirmed_ids(harness, 100)]
        for index, transitions in enumerate(([DEACTIVATE, ACTIVATE], [DEACTIVATE, CLEANUP, CONFIGURE, ACTIVATE])):
            for transition in transitions:
                assert lifecycle.transition(transition), transition
            seen.append(confirmed_ids(harness, 200 + 100 * index))
        assert all(len(ids) == 2 for ids in seen), seen
        assert all(min(later) > max(earlier) for earlier, later in zip(seen, seen[1:], strict=False)), seen
    finally:
        harness.close()
        mppe.destroy_node()


class HeldPipeline:
    """The real pipeline; frames stamped SLOW_S wait until `release` is set. Records the concurrent calls."""

    def __init__(self, inner) -> None:
        self.inner, self.release, self.holding = inner, threading.Event(), threading.Event()
        self._lock, self._running, self.most_at_once = threading.Lock(), 0, 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def __call__(self, image, camera, **kwargs):
        with self._lock:
            self._running += 1
            self.most_at_once = max(self.most_at_once, self._running)
        try:
            if self.holding_frame:
                self.holding.set()
                assert self.release.wait(60), "never released"
            return self.inner(image, camera, **kwargs)
        finally:
            with self._lock:
                self._running -= 1

    holding_frame = False


def held_boxes(held: HeldPipeline):
    def boxes(image):
        held.holding_frame = image.header.stamp.sec == SLOW_S
        return ros_harness.BOXES

    return boxes


def test_one_worker_ever_and_an_abandoned_frame_is_never_published(context, pipeline):
    held = HeldPipeline(pipeline)
    mppe, harness = start(context, held, boxes=held_boxes(held), reliable=True, rosout=True)
    lifecycle = Lifecycle(harness)
    slow = stamp_header(SLOW_S)
    try:
        for release_after_s, activation_succeeds in ((1.0, True), (None, False)):
            answer(harness, 100)
            held.release.clear()
            held.holding.clear()
            harness.publish(image_msg(slow), camera_info(slow))
            assert harness.spin_until(held.holding.is_set, 30), "the slow frame never reached the pipeline"
            assert lifecycle.transition(DEACTIVATE)  # abandons the frame after SHUTDOWN_WAIT_S
            assert mppe.worker_alive
            if release_after_s is not None:
                threading.Timer(release_after_s, held.release.set).start()
            assert lifecycle.transition(ACTIVATE) == activation_succeeds
            if not activation_succeeds:
                assert lifecycle.state() == "inactive"
                assert harness.spin_until(lambda: "still being computed" in harness.log_text(), 5), harness.log_text()
                held.release.set()
                assert harness.spin_until(lambda: not mppe.worker_alive, 30)
                assert lifecycle.transition(ACTIVATE)
            answer(harness, 200)  # the new activation answers
            harness.spin_until(lambda: False, 0.5)
            assert not harness.poses_with_stamp(slow), "a frame of an old activation was published"
        assert held.most_at_once == 1, f"{held.most_at_once} frames ran the pipeline at once"
    finally:
        held.release.set()
        harness.close()
        mppe.destroy_node()


@requires("hri_msgs", "tf2_msgs")
def test_a_failed_activation_leaves_no_publisher_behind(context, pipeline, monkeypatch):
    mppe, harness = start(context, pipeline, reliable=True, autostart=False, sync_backend="message_filters")
    lifecycle = Lifecycle(harness)
    try:
        assert lifecycle.transition(CONFIGURE)
        before = sorted(p.topic_name for p in mppe.publishers)
        monkeypatch.setitem(sys.modules, "message_filters", None)  # a machine without message_filters
        assert not lifecycle.transition(ACTIVATE) and lifecycle.state() == "inactive"
        assert sorted(p.topic_name for p in mppe.publishers) == before
        monkeypatch.delitem(sys.modules, "message_filters")
        assert lifecycle.transition(ACTIVATE) and answer(harness, 100)
    finally:
        harness.close()
        mppe.destroy_node()


@requires("hri_msgs", "tf2_msgs")
def test_body_publishers_are_made_and_destroyed_on_the_executor_thread(context, pipeline):
    """People come and go: a body's publishers end at its first frame more than track_max_age_s after its last."""
    present = [True]
    mppe, harness = start(
        context, pipeline, boxes=lambda image: ros_harness.BOXES if present[0] else ros_harness.BOXES[:0],
        reliable=True, track_max_age_s=0.3,
    )  # fmt: skip
    threads: list[str] = []
    for name in ("create_publisher", "destroy_publisher"):
        real = getattr(mppe, name)
        setattr(
            mppe, name, lambda *a, _real=real, **k: (threads.append(threading.current_thread().name), _real(*a, **k))[1]
        )
    bodies = lambda: mppe.bodies.body_ids  # noqa: E731
    try:
        for cycle in range(2):
            present[0] = True
            for index in range(4):
                header = stamp_header(300 + 10 * cycle, index * 100_000_000)
                harness.exchange(image_msg(header), camera_info(header))
            assert harness.spin_until(lambda: len(bodies()) == 2, 10), bodies()
            present[0] = False
            answer(harness, 305 + 10 * cycle)
            assert harness.spin_until(lambda: not bodies(), 10), bodies()
        assert len(threads) >= 8 and set(threads) == {threading.main_thread().name}, threads
    finally:
        harness.close()
        mppe.destroy_node()
