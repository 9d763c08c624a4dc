"""When to run the person detector; between detections, each confirmed track gives its own crop box.

The detector (Faster R-CNN) is most of a frame's time; PoseNet and RootNet need only a box per person. So, per frame
(stamp in s, from the image header), DetectionSchedule.plan decides:
- run the detector (DetectionPlan.detect, with the reason) when detection_interval_s is 0 (every frame), when the
  detector has not run yet, when detection_interval_s has passed since it last ran (stamps; time going back counts
  as a restart), when there is no confirmed track measured in the last frame, or when one of those tracks' pose
  confidence (mean joint confidence) is below redetect_confidence;
- else crop where the tracks are: for each confirmed track measured in the last frame, the bounding box of its last
  2D joints scaled about its centre to the size its last detector box had relative to its joints (track_box_expand
  for a track never measured in a detector box) and moved by its predicted image motion
  (Tracker.predicted_boxes_xywh_px), clipped to the image, with the track's last detector score as the box's score
  (DetectionPlan.scores: what the person is published with). If no box is left inside the image, the detector runs.
The caller is expected to follow the plan: a plan that says detect counts as the detector having run at that stamp.
The boxes of either kind go through the pipeline and meet in the same association step (Tracker.update).

    plan = schedule.plan(stamp_s, tracker, (width, height))
    result = pipeline(image, camera) if plan.detect else pipeline(image, camera, plan.boxes_xywh_px, plan.scores)
    tracked = tracker.update(result, stamp_s, boxes_from_detector=plan.detect)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mppe_ros.tracking.settings import DetectionScheduleSettings
from mppe_ros.tracking.tracker import Tracker
from mppe_ros.tracking.transforms import RigidTransform

MIN_BOX_SIDE_PX = 2.0  # a clipped track box narrower or lower than this is dropped
REASONS = ("every_frame", "first", "interval", "no_track", "low_confidence", "tracks")


@dataclass(frozen=True, eq=False)
class DetectionPlan:
    """One frame's decision.

    Attributes:
        detect: run the detector on this frame.
        reason: why, one of REASONS ("tracks": the detector is skipped and boxes_xywh_px come from the tracks).
        boxes_xywh_px: [N, 4] crop boxes (x, y, w, h) px inside the image; [0, 4] when detect.
        track_ids: the N tracks the boxes come from, in the same order.
        scores: [N] those tracks' last detector scores, [0, 1]: the boxes' scores ([0] when detect).
    """

    detect: bool
    reason: str
    boxes_xywh_px: np.ndarray
    track_ids: tuple[int, ...] = ()
    scores: np.ndarray = field(default_factory=lambda: np.zeros(0))


class DetectionSchedule:
    """Decides per frame whether the detector runs (see the module docstring).

    Args:
        settings: DetectionScheduleSettings (defaults if None) of the plans given none.
    """

    def __init__(self, settings: DetectionScheduleSettings | None = None) -> None:
        self.settings = settings or DetectionScheduleSettings()
        self._last_detection_s: float | None = None

    def reset(self) -> None:
        """Forget when the detector last ran: the next plan detects."""
        self._last_detection_s = None

    def plan(
        self, stamp_s: float, tracker: Tracker, image_size_px: tuple[int, int],
        settings: DetectionScheduleSettings | None = None, camera_pose: RigidTransform | None = None,
    ) -> DetectionPlan:  # fmt: skip
        """The plan for the frame captured at `stamp_s` (s), from the tracker's state after the previous frame.

        Args:
            stamp_s: the frame's capture time, s (header stamp).
            tracker: the Tracker the frame's result will go to (its last update is the previous frame).
            image_size_px: (width, height) of the frame, px, to clip the boxes to.
            settings: this frame's settings (the constructor's if None).
            camera_pose: the camera's pose in the tracking frame at stamp_s (None: the last update's).
        """
        stamp_s, s = float(stamp_s), settings or self.settings
        reason = self._detection_reason(stamp_s, tracker, s)
        if reason is None:
            boxes = tracker.predicted_boxes_xywh_px(stamp_s, s.track_box_expand, camera_pose)
            clipped = {i: clip_box_xywh_px(box, image_size_px) for i, box in boxes.items()}
            kept = {i: box for i, box in clipped.items() if min(box[2], box[3]) >= MIN_BOX_SIDE_PX}
            if kept:
                scores = tracker.last_detector_scores()
                track_scores = np.array([scores[i] for i in kept])
                return DetectionPlan(False, "tracks", np.stack(list(kept.values())), tuple(kept), track_scores)
            reason = "no_track"
        self._last_detection_s = stamp_s
        return DetectionPlan(True, reason, np.zeros((0, 4)))

    def _detection_reason(self, stamp_s: float, tracker: Tracker, s: DetectionScheduleSettings) -> str | None:
        """Why the detector must run on this frame, or None."""
        last_s = self._last_detection_s
        if s.detection_interval_s == 0.0:
            return "every_frame"
        if last_s is None or stamp_s < last_s:
            return "first"
        if stamp_s - last_s >= s.detection_interval_s:
            return "interval"
        confirmed = [t for t in tracker.tracked if t.is_confirmed]
        if not confirmed:
            return "no_track"
        if min(t.pose_confidence for t in confirmed) < s.redetect_confidence:
            return "low_confidence"
        return None


def clip_box_xywh_px(box_xywh_px: np.ndarray, image_size_px: tuple[int, int]) -> np.ndarray:
    """[4] the part of box (x, y, w, h) px inside an image of (width, height) px (width, height 0 when none)."""
    width, height = image_size_px
    x0, y0 = np.clip(box_xywh_px[:2], 0.0, (width, height))
    x1, y1 = np.clip(np.asarray(box_xywh_px[:2]) + box_xywh_px[2:], 0.0, (width, height))
    return np.array([x0, y0, max(x1 - x0, 0.0), max(y1 - y0, 0.0)])
