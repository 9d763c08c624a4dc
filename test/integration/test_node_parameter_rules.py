"""A parameter change is accepted whole or refused whole, through the node's real parameter services over DDS.

In one node lifetime, every cross-field rule of the settings types (enumerated: a new rule cannot be forgotten) is
broken through `set_parameters` and `set_parameters_atomically`: refused with a reason naming its parameters, the
configuration unchanged, the node still answering a pair. Before, the post-set callback raised and the process
exited. A valid combined change (both score thresholds at once) is accepted atomically.
"""

from __future__ import annotations

import ros_harness
from rcl_interfaces.srv import SetParameters, SetParametersAtomically
from rclpy.parameter import Parameter
from ros_harness import camera_info, image_msg, stamp_header, start

from mppe_ros.ros.parameters import parameter_name, parameter_rules

context, pipeline = ros_harness.context, ros_harness.pipeline  # fixtures


def violations() -> list[tuple[str, dict[str, object]]]:
    """(rule wording, {parameter name: value}) for every rule of the node's settings types."""
    return [
        (rule.wording, {parameter_name(group, field): value for field, value in rule.violation.items()})
        for group, rule in parameter_rules()
    ]


def test_every_cross_field_rule_is_refused_whole_and_the_node_keeps_answering(context, pipeline):
    rules = violations()
    assert len(rules) >= 2, rules  # the score thresholds and the association weights, at least
    mppe, harness = start(context, pipeline, reliable=True)
    name = mppe.get_fully_qualified_name()
    each = harness.node.create_client(SetParameters, f"{name}/set_parameters")
    atomic = harness.node.create_client(SetParametersAtomically, f"{name}/set_parameters_atomically")
    assert harness.spin_until(lambda: each.service_is_ready() and atomic.service_is_ready(), 10)

    def call(client, values: dict[str, object]):
        request = client.srv_type.Request(
            parameters=[Parameter(n, value=v).to_parameter_msg() for n, v in values.items()]
        )
        future = client.call_async(request)
        assert harness.spin_until(future.done, 30), f"{client.srv_name} did not answer"
        return future.result()

    stamp_s = 100
    try:
        for wording, values in rules:
            before = mppe.config
            answer = call(atomic, values).result
            assert not answer.successful and all(n in answer.reason for n in values), (wording, answer.reason)
            assert mppe.config == before
            results = call(each, values).results  # one at a time: the last one completes the violation
            assert not results[-1].successful and all(n in results[-1].reason for n in values), results[-1].reason
            assert call(each, {n: before.value(n) for n in values}).results  # back to the values before
            assert mppe.config == before, wording
            stamp_s += 1
            header = stamp_header(stamp_s)
            assert harness.exchange(image_msg(header), camera_info(header)) is not None
        answer = call(atomic, {"track_low_score_threshold": 0.6, "track_high_score_threshold": 0.7}).result
        assert answer.successful, answer.reason  # valid as a whole, though the first alone would not be
        assert (mppe.config.tracking.low_score_threshold, mppe.config.tracking.high_score_threshold) == (0.6, 0.7)
        header = stamp_header(stamp_s + 1)
        assert harness.exchange(image_msg(header), camera_info(header)) is not None
    finally:
        harness.close()
        mppe.destroy_node()
