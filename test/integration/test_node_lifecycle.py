"""The node's lifecycle through the real lifecycle services (`/mppe_node/change_state`, `get_state`).

One node lifetime goes through every transition twice: unconfigured (nothing published, nothing
subscribed), configure (publishers, models), activate (pairs answered), deactivate (markers cleared,
pairs no longer answered), cleanup (models freed), configure and activate again, shutdown (the spin ends).
"""

from __future__ import annotations

import gc
import weakref

import pytest
import ros_harness
from lifecycle_msgs.msg import State, Transition
from lifecycle_msgs.srv import ChangeState, GetState
from rclpy.lifecycle import TransitionCallbackReturn
from ros_harness import Harness, camera_info, image_msg, stamp_header, start, unique_node_name
from visualization_msgs.msg import Marker

from mppe_ros.ros.startup import NodeFinalized

context, pipeline = ros_harness.context, ros_harness.pipeline  # fixtures


class Lifecycle:
    """Clients of the node's lifecycle services on the harness node."""

    def __init__(self, harness: Harness) -> None:
        self.harness = harness
        node_name = harness.mppe_node.get_fully_qualified_name()
        self.change = harness.node.create_client(ChangeState, f"{node_name}/change_state")
        self.get = harness.node.create_client(GetState, f"{node_name}/get_state")
        assert harness.spin_until(lambda: self.change.service_is_ready() and self.get.service_is_ready(), 10)

    def _call(self, client, request):
        future = client.call_async(request)
        assert self.harness.spin_until(future.done, 60), f"{client.srv_name} did not answer"
        return future.result()

    def state(self) -> str:
        return self._call(self.get, GetState.Request()).current_state.label

    def transition(self, transition_id: int) -> bool:
        return self._call(self.change, ChangeState.Request(transition=Transition(id=transition_id))).success


def poses_answered(harness: Harness, seconds: int, timeout_s: float = 5.0) -> bool:
    """Publish a pair stamped `seconds` (every 0.5 s) until poses with its stamp arrive or the timeout."""
    header = stamp_header(seconds)
    return harness.spin_until(
        lambda: bool(harness.poses_with_stamp(header)),
        timeout_s,
        every_s=0.5,
        action=lambda: harness.publish(image_msg(header), camera_info(header)),
    )


def test_one_lifetime_through_every_transition_twice(context, pipeline):
    mppe, harness = start(context, pipeline, reliable=True, autostart=False)
    lifecycle = Lifecycle(harness)
    try:
        assert lifecycle.state() == "unconfigured"
        assert harness.node.count_publishers("/humans/poses3d") == 0 and mppe.count_subscribers("image") == 0
        for round_ in range(2):
            assert lifecycle.transition(Transition.TRANSITION_CONFIGURE) and lifecycle.state() == "inactive"
            assert harness.node.count_publishers("/humans/poses3d") == 1
            assert not poses_answered(harness, 100 + round_, timeout_s=2.0), "inactive, yet a pair was answered"
            assert lifecycle.transition(Transition.TRANSITION_ACTIVATE) and lifecycle.state() == "active"
            assert poses_answered(harness, 200 + round_, timeout_s=30.0), mppe.stats
            harness.markers.clear()
            assert lifecycle.transition(Transition.TRANSITION_DEACTIVATE) and lifecycle.state() == "inactive"
            assert harness.spin_until(lambda: bool(harness.markers), 5), "deactivate published no DELETEALL"
            assert [m.action for m in harness.markers[-1].markers] == [Marker.DELETEALL] * 4
            assert mppe.count_subscribers("image") == 0 and not mppe.worker_alive
            assert not poses_answered(harness, 300 + round_, timeout_s=2.0), "deactivated, yet a pair was answered"
            assert lifecycle.transition(Transition.TRANSITION_CLEANUP) and lifecycle.state() == "unconfigured"
            assert mppe.pipeline is None and harness.node.count_publishers("/humans/poses3d") == 0
        assert lifecycle.transition(Transition.TRANSITION_CONFIGURE)
        assert lifecycle.transition(Transition.TRANSITION_ACTIVATE)
        assert poses_answered(harness, 400, timeout_s=30.0)
        future = lifecycle.change.call_async(
            ChangeState.Request(transition=Transition(id=Transition.TRANSITION_ACTIVE_SHUTDOWN))
        )
        with pytest.raises(NodeFinalized):  # what rclpy.spin raises in `run`, which then returns 0
            harness.spin_until(lambda: False, 10)
        harness.spin_until(future.done, 10)
        assert mppe.pipeline is None and not mppe.worker_alive
        assert mppe._state_machine.current_state[0] == State.PRIMARY_STATE_FINALIZED
    finally:
        harness.close()
        mppe.destroy_node()


def test_configure_failure_is_one_message_and_a_failed_transition(context, tmp_path):
    from rclpy.parameter import Parameter

    from mppe_ros.ros.node import MppeNode

    missing = str(tmp_path / "posenet_missing.pth")
    overrides = [Parameter("autostart", value=False), Parameter("posenet_path", value=missing)]
    mppe = MppeNode(
        boxes=ros_harness.BOXES, context=context, parameter_overrides=overrides, node_name=unique_node_name()
    )
    harness = Harness(context, mppe, rosout=True)
    lifecycle = Lifecycle(harness)
    try:
        for _ in range(2):  # the node stays usable after a failed configure
            assert not lifecycle.transition(Transition.TRANSITION_CONFIGURE)
            assert lifecycle.state() == "unconfigured"
        assert harness.spin_until(lambda: harness.log_text().count("cannot configure") == 2, 5), harness.log_text()
        lines = [log.msg for log in harness.logs if "cannot configure" in log.msg]
        assert all(missing in line or "posenet" in line.lower() for line in lines), lines
        assert "Traceback" not in harness.log_text()
    finally:
        harness.close()
        mppe.destroy_node()


def test_cleanup_frees_the_models_built_from_parameters(context, official_weights):
    from rclpy.parameter import Parameter

    from mppe_ros.ros.node import MppeNode

    overrides = [
        Parameter("posenet_path", value=str(official_weights["posenet"])),
        Parameter("rootnet_path", value=str(official_weights["rootnet"])),
        Parameter("detector", value="none"),
        Parameter("device", value="cpu"),
    ]
    # autostart: configured and active
    mppe = MppeNode(context=context, parameter_overrides=overrides, node_name=unique_node_name())
    try:
        assert mppe.pipeline is not None and mppe.worker_alive
        built = weakref.ref(mppe.pipeline)
        assert mppe.trigger_deactivate() == mppe.trigger_cleanup() == TransitionCallbackReturn.SUCCESS
        gc.collect()
        assert built() is None, f"the pipeline is still referenced by {gc.get_referrers(built())}"
    finally:
        mppe.destroy_node()


def test_unchanged_for_users_autostart_subscribes_at_once(context, pipeline):
    mppe, harness = start(context, pipeline)
    try:
        assert mppe.count_subscribers("image") == 1 and mppe.worker_alive
        assert Lifecycle(harness).state() == "active"
    finally:
        harness.close()
        mppe.destroy_node()


def test_a_destroyed_node_leaves_at_once_and_a_successor_of_its_name_keeps_its_rosout(context, pipeline):
    """rclpy's LifecycleNode left its rcl node to the garbage collector, whose late teardown cut the next
    node of the same name off /rosout; destroy_node now finalizes it (gc is held off to make "late" certain)."""
    from mppe_ros.ros.node import MppeNode

    name = unique_node_name()
    gc.disable()
    try:
        first = MppeNode(pipeline=pipeline, boxes=ros_harness.BOXES, context=context, node_name=name)
        first.destroy_node()
        del first
        second, harness = start(context, pipeline, rosout=True, node_name=name)
        try:
            assert f"/{name}" in harness.node.get_fully_qualified_node_names()
            assert harness.node.get_fully_qualified_node_names().count(f"/{name}") == 1, "the first is still there"
            gc.enable()
            gc.collect()  # where the first node's rcl teardown used to happen
            second.get_logger().info("the successor still logs")
            assert harness.spin_until(lambda: "the successor still logs" in harness.log_text(), 5), harness.log_text()
        finally:
            harness.close()
            second.destroy_node()
    finally:
        gc.enable()
