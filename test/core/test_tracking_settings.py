"""mppe_ros.tracking.settings: every setting has its metadata, its default lies in its range, values are checked."""

from __future__ import annotations

import dataclasses

import pytest

from mppe_ros.settings import setting_fields
from mppe_ros.tracking.settings import SETTING_RANGES, DetectionScheduleSettings, TrackerSettings


@pytest.mark.parametrize("kind", [TrackerSettings, DetectionScheduleSettings])
def test_every_field_is_a_setting_whose_default_is_valid(kind):
    assert setting_fields(kind) == dataclasses.fields(kind)
    for field in setting_fields(kind):
        assert field.metadata["doc"] and isinstance(field.metadata["run_time"], bool)
        if field.metadata["range"] is not None:
            low, high = field.metadata["range"]
            assert low <= field.default <= high, field.name
        else:
            assert isinstance(field.default, bool), field.name
    kind()  # the defaults pass their own checks


def test_tracker_settings_are_validated():
    assert set(SETTING_RANGES) == {f.name for f in dataclasses.fields(TrackerSettings)} - {"smoothing"}
    with pytest.raises(ValueError, match="max_age_s"):
        TrackerSettings(max_age_s=-1.0)
    with pytest.raises(ValueError, match="min_hits"):
        TrackerSettings(min_hits=2.5)
    with pytest.raises(ValueError, match="low_score_threshold"):
        TrackerSettings(low_score_threshold=0.6, high_score_threshold=0.5)
    with pytest.raises(ValueError, match="association weight"):
        TrackerSettings(iou_weight=0.0, layout_weight=0.0, gate_weight=0.0, size_weight=0.0)
    assert TrackerSettings(max_age_s=2).max_age_s == 2.0
    assert TrackerSettings().association_weights == (0.2, 0.2, 0.3, 0.3)


def test_detection_schedule_settings_are_validated_and_changeable_at_run_time():
    assert all(f.metadata["run_time"] for f in dataclasses.fields(DetectionScheduleSettings))
    assert DetectionScheduleSettings().detection_interval_s == 0.5  # chosen from `mppe-ros bench --node-schedule`
    with pytest.raises(ValueError, match="detection_interval_s"):
        DetectionScheduleSettings(detection_interval_s=-0.1)
    with pytest.raises(ValueError, match="track_box_expand"):
        DetectionScheduleSettings(track_box_expand=0.9)
    with pytest.raises(ValueError, match="redetect_confidence"):
        DetectionScheduleSettings(redetect_confidence=1.5)


def test_every_rule_names_its_fields_and_its_violation_breaks_it():
    from mppe_ros.settings import RuleError, rules_of

    rules = rules_of(TrackerSettings)
    assert len(rules) == 2
    for rule in rules:
        assert rule.holds(TrackerSettings()) and rule.wording.count("{}") == len(rule.fields)
        with pytest.raises(RuleError) as error:
            TrackerSettings(**rule.violation)
        assert all(f"TrackerSettings.{field}" in str(error.value) for field in rule.fields)
