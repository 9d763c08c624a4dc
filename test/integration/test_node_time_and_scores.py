"""Time and scores that mean something, through the node over DDS.

- Zero stamps (a driver that does not stamp) or one stamp repeated (a bag without its clock): every frame is
  answered, one warning names the cause, and tracks still age by the time between the frames' arrivals: a person
  gone for longer than track_max_age_s comes back with a new id. Before, such time never moved: the old track took
  the person back, and the detector schedule never ran the detector again.
- Frames cropped where the tracks are (the detector skipped by the schedule) publish each person with its track's
  last detector score, on /humans/poses3d and in the REP-155 roi; before, they were published with 1.0.
"""

from __future__ import annotations

import numpy as np
import pytest
import ros_harness
from ros_harness import camera_info, image_msg, stamp_header, start
from ros_tools import requires

context, pipeline = ros_harness.context, ros_harness.pipeline  # fixtures
MAX_AGE_S = 3.0  # s; generous: frames of a loaded 2-core machine arrive up to about 1 s apart
SCORES = (0.83, 0.64)


class Scene:
    """Injected boxes: the two persons, or nobody while `away`."""

    def __init__(self) -> None:
        self.away = False

    def __call__(self, image) -> np.ndarray:
        return np.zeros((0, 4)) if self.away else ros_harness.BOXES.copy()


def answer(harness, header):
    """Publish one pair with this (possibly repeated) stamp and wait for its own answer."""
    harness.poses.clear()
    return harness.exchange(image_msg(header), camera_info(header))


@pytest.mark.parametrize("stamp_s", [0, 9000], ids=["zero_stamps", "repeated_stamp"])
def test_stamps_that_do_not_move_still_age_the_tracks(context, pipeline, stamp_s):
    scene = Scene()
    mppe, harness = start(
        context, pipeline, boxes=scene, reliable=True, rosout=True, track_max_age_s=MAX_AGE_S, log_period_s=0.1
    )
    header = stamp_header(stamp_s)
    try:
        frames = [answer(harness, header) for _ in range(4)]
        first_ids = {p.id for p in frames[-1].persons}
        assert len(first_ids) == 2 and all(p.is_tracked for p in frames[-1].persons), frames[-1].persons
        scene.away = True
        assert answer(harness, header).persons == []
        harness.spin_until(lambda: False, MAX_AGE_S + 1.0)  # the people stay away for longer than max_age_s
        assert answer(harness, header).persons == []
        scene.away = False
        back = [answer(harness, header) for _ in range(4)]
        back_ids = {p.id for p in back[-1].persons}
        assert len(back_ids) == 2 and min(back_ids) > max(first_ids), (first_ids, back_ids)
        assert mppe.stats.pipeline_errors == 0 and mppe.stats.stamps_substituted >= 9, mppe.stats
        cause = "every image header stamp is 0" if stamp_s == 0 else "does not increase"
        assert harness.spin_until(lambda: cause in harness.log_text(), 5), harness.log_text()
        assert harness.log_text().count(cause) == 1, harness.log_text()  # said once, not per frame
    finally:
        harness.close()
        mppe.destroy_node()


class ScoringDetector:
    """Finds the two injected persons with fixed scores; counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, image_bgr, settings=None):
        self.calls += 1
        return ros_harness.BOXES.copy(), np.array(SCORES)


@requires("hri_msgs")
def test_frames_cropped_from_tracks_publish_the_tracks_detector_scores(context, official_weights):
    from hri_msgs.msg import IdsList, NormalizedRegionOfInterest2D

    detector = ScoringDetector()
    pipe = ros_harness.make_pipeline(official_weights, detector)
    parameters = {"detection_interval_s": 0.5, "redetect_confidence": 0.0}
    mppe, harness = start(context, pipe, boxes=None, reliable=True, **parameters)
    rois: list[NormalizedRegionOfInterest2D] = []
    listened: set[str] = set()

    def listen(tracked: IdsList) -> None:  # every body's roi, as soon as /humans/bodies/tracked names it
        for body in set(tracked.ids) - listened:
            listened.add(body)
            harness.node.create_subscription(
                NormalizedRegionOfInterest2D, f"/humans/bodies/{body}/roi", rois.append, 10
            )

    harness.node.create_subscription(IdsList, "/humans/bodies/tracked", listen, 10)
    try:
        published = []
        for index in range(25):
            header = stamp_header(6000, index * 100_000_000)
            published += [p.score for p in harness.exchange(image_msg(header), camera_info(header)).persons]
        assert mppe.session.track_crops >= 5 and detector.calls < 25, (mppe.session.track_crops, detector.calls)
        assert set(np.round(published, 6)) <= set(SCORES), sorted(set(published))
        assert rois, f"no roi received from the bodies {listened}"
        assert {round(roi.c, 6) for roi in rois} <= set(SCORES), [roi.c for roi in rois]
    finally:
        harness.close()
        mppe.destroy_node()
