"""The node's parameter callbacks without a node: a change is accepted whole or refused whole, and never raises."""

from __future__ import annotations

from rclpy.parameter import Parameter

from mppe_ros.ros.parameter_changes import apply_change, check_change
from mppe_ros.ros.parameters import NodeConfig


def test_a_broken_rule_is_refused_naming_both_parameters_and_the_config_is_kept():
    config = NodeConfig()
    answer = check_change(config, [Parameter("track_low_score_threshold", value=0.8)])
    assert not answer.successful
    assert "track_low_score_threshold" in answer.reason and "track_high_score_threshold" in answer.reason
    both = [Parameter("track_low_score_threshold", value=0.6), Parameter("track_high_score_threshold", value=0.7)]
    assert check_change(config, both).successful  # valid as a whole
    applied = apply_change(config, both)
    assert not applied.error and applied.config.tracking.low_score_threshold == 0.6 and config == NodeConfig()


def test_a_bad_value_is_refused_and_unknown_names_are_left_to_rclpy():
    answer = check_change(
        NodeConfig(), [Parameter("sync_mode", value="fastest"), Parameter("use_sim_time", value=True)]
    )
    assert not answer.successful and "sync_mode" in answer.reason


def test_apply_never_raises_and_keeps_the_config_on_a_failure():
    config = NodeConfig()
    applied = apply_change(config, [Parameter("track_low_score_threshold", value=0.8)])  # not checked first
    assert applied.config is config and "refused as a whole" in applied.error


def test_tracking_changes_with_tracking_off_are_named_as_unused():
    config = NodeConfig().replace(tracking=False)
    applied = apply_change(config, [Parameter("detection_interval_s", value=1.0), Parameter("marker_scale", value=2.0)])
    assert applied.unused == ("detection_interval_s",) and applied.config.schedule.detection_interval_s == 1.0
    assert apply_change(NodeConfig(), [Parameter("detection_interval_s", value=1.0)]).unused == ()
