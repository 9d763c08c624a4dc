"""detector topic: a vision_msgs/Detection2DArray becomes the frame's person boxes (class, score, size, NMS, count)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from ros_tools import requires
from std_msgs.msg import Header

from mppe_ros.ros.detection_messages import VISION_MSGS_MISSING, class_ids, person_boxes
from mppe_ros.ros.node_settings import NodeSettings
from mppe_ros.settings import DetectionSettings
from mppe_ros.testing import messages

pytestmark = requires("vision_msgs")
PERSON = [("person", 0.9)]


def boxes_of(objects, class_id="person", **settings):
    """(boxes_xywh, scores) of a Detection2DArray of `objects`; none of them malformed."""
    boxes, scores, malformed = person_boxes(messages.detections(Header(frame_id="cam"), objects), class_id,
                                            DetectionSettings(**settings))  # fmt: skip
    assert malformed == 0
    return boxes, scores


def test_only_the_person_class_is_kept_with_its_own_hypothesis_score():
    boxes, scores = boxes_of([
        ((10, 20, 30, 60), [("car", 0.99)], 0.0),
        ((50, 20, 30, 60), [("car", 0.95), ("person", 0.7)], 0.0),  # person's score, not the car's
        ((90, 20, 30, 60), [("person", 0.6), ("person", 0.8)], 0.0),  # the best person hypothesis
        ((130, 20, 30, 60), [], 0.0),  # no hypothesis: not a person
    ])  # fmt: skip
    np.testing.assert_allclose(boxes, [[90, 20, 30, 60], [50, 20, 30, 60]])
    np.testing.assert_allclose(scores, [0.8, 0.7])


def test_class_ids_are_compared_as_strings_one_or_several():
    objects = [((10, 20, 30, 60), [("0", 0.9)], 0.0), ((60, 20, 30, 60), [("person", 0.8)], 0.0)]
    assert len(boxes_of(objects, "0")[0]) == 1
    assert len(boxes_of(objects, "person")[0]) == 1
    assert len(boxes_of(objects, " person , 0 ")[0]) == 2
    assert len(boxes_of(objects, "Person")[0]) == 0  # exact, case-sensitive, as ObjectHypothesis.class_id is
    assert class_ids("person, 0,pedestrian") == {"person", "0", "pedestrian"}


def test_score_size_nms_and_max_persons_apply_as_to_detectnet():
    objects = [
        ((10, 10, 30, 60), [("person", 0.49)], 0.0),  # below score_threshold 0.5
        ((50, 10, 15, 60), [("person", 0.9)], 0.0),  # 15 px wide < min_box_size_px 16
        ((80, 10, 30, 60), [("person", 0.9)], 0.0),
        ((81, 11, 30, 60), [("person", 0.85)], 0.0),  # IoU > 0.5 with the one before: suppressed
        ((130, 10, 30, 60), [("person", 0.7)], 0.0),
        ((170, 10, 30, 60), [("person", 0.6)], 0.0),
    ]
    boxes, scores = boxes_of(objects)
    np.testing.assert_allclose(scores, [0.9, 0.7, 0.6])
    np.testing.assert_allclose(boxes[:, 0], [80, 130, 170])
    assert len(boxes_of(objects, max_persons=2)[0]) == 2
    assert len(boxes_of(objects, score_threshold=0.4, min_box_size_px=10.0)[0]) == 5


def test_a_rotated_box_becomes_the_axis_aligned_box_around_it():
    boxes, _ = boxes_of([((100, 100, 90, 40), PERSON, math.pi / 2)])  # 90 x 40 turned upright about (145, 120)
    np.testing.assert_allclose(boxes, [[125, 75, 40, 90]], atol=1e-9)
    boxes, _ = boxes_of([((0, 0, 40, 40), PERSON, math.pi / 4)])  # a square at 45 deg: its diagonal wide
    side = 40 * math.sqrt(2)
    np.testing.assert_allclose(boxes, [[20 - side / 2, 20 - side / 2, side, side]], atol=1e-9)


def test_an_empty_array_gives_no_person():
    assert boxes_of([])[0].shape == (0, 4)


def test_non_finite_or_negative_boxes_and_scores_are_dropped_and_counted():
    good = ((10, 10, 30, 60), PERSON, 0.0)
    malformed = [
        ((math.nan, 10, 30, 60), PERSON, 0.0),
        ((10, 10, math.inf, 60), PERSON, 0.0),
        ((10, 10, 30, 60), PERSON, math.nan),  # theta
        ((60, 10, 30, 60), [("person", math.nan)], 0.0),
        ((60, 10, -30, 60), PERSON, 0.0),
        ((60, 10, 30, -60), PERSON, 0.0),
    ]
    cars = [((60, 10, math.nan, 60), [("car", 0.9)], 0.0)]  # not a person: neither kept nor counted
    msg = messages.detections(Header(frame_id="cam"), [good, *malformed, *cars])
    boxes, scores, dropped = person_boxes(msg, "person", DetectionSettings())
    np.testing.assert_allclose(boxes, [[10, 10, 30, 60]])
    assert scores.tolist() == [0.9] and dropped == len(malformed)


@pytest.mark.parametrize("value", ["", " ", ",", "person,", "a,,b"])
def test_person_class_id_must_name_a_class(value):
    with pytest.raises(ValueError, match="person_class_id"):
        NodeSettings(person_class_id=value)


def test_the_missing_package_line_names_what_to_install():
    assert "vision-msgs" in VISION_MSGS_MISSING and "install.sh" in VISION_MSGS_MISSING
