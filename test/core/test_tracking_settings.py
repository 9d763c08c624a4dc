"""mppe_ros.tracking_settings: every tracker setting has a range, its default lies in it, values are checked."""

from __future__ import annotations

import dataclasses

import pytest

from mppe_ros.tracking_settings import SETTING_RANGES, TrackerSettings


def test_settings_are_validated_against_their_ranges():
    assert set(SETTING_RANGES) == {f.name for f in dataclasses.fields(TrackerSettings)}
    for name, (low, high) in SETTING_RANGES.items():
        default = getattr(TrackerSettings(), name)
        assert isinstance(default, bool) or low <= default <= high
    with pytest.raises(ValueError, match="max_age_s"):
        TrackerSettings(max_age_s=-1.0)
    with pytest.raises(ValueError, match="min_hits"):
        TrackerSettings(min_hits=2.5)
    with pytest.raises(ValueError, match="low_score_threshold"):
        TrackerSettings(low_score_threshold=0.6, high_score_threshold=0.5)
    assert TrackerSettings(max_age_s=2).max_age_s == 2.0
