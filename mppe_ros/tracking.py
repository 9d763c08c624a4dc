"""Multi-person 3D tracker: stable ids, a Kalman-filtered root with velocity, and One-Euro smoothed joints.

Smoothing: the published root is the Kalman filter's (constant velocity: no lag at constant speed; its noise
model knows the depth error is along the ray); the joints are that root plus One-Euro filtered root-relative
joints; the 2D joints are One-Euro filtered. The One-Euro filters restart when a track is born or re-found
(measured again after more than smoothing_reset_gap_s); the Kalman filter carries on, its uncertainty grown.
A One-Euro filter on the root itself cannot tell 10 % depth noise (up to metres per second far away) from
walking, and smoothed 3x less at the same lag in python -m mppe_ros.bench.tracking.

Each frame (Tracker.update with the frame's PoseResult and its capture stamp in s) runs ByteTrack's two stages:
detections scoring >= high_score_threshold are matched against every live track, then detections between
low_score_threshold and high_score_threshold against the confirmed tracks still unmatched (they keep a track alive
through partial occlusion but never start one). The cost combines 2D box IoU and a 3D root gate loose along the
camera ray and tight across it (tracking_association). A new track is tentative until measured in min_hits
frames; a tentative track missed once is dropped; a confirmed track missed is kept max_age_s seconds (stamps,
so dropped frames do not age it faster) and re-found where its Kalman filter predicts it.

Ids are uint32, start at 1, increase by one per new track and are never reused within a Tracker's lifetime
(reset() keeps the counter). At 15 new tracks per second, 2^32 - 1 ids last 9 years; past that update() raises.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mppe_ros.camera import PinholeCamera
from mppe_ros.results import PersonPose, PoseResult
from mppe_ros.smoothing import OneEuroFilter
from mppe_ros.tracking_association import assign, association_cost, box_iou, gate_distance
from mppe_ros.tracking_kalman import RootKalmanFilter
from mppe_ros.tracking_settings import TrackerSettings

MAX_TRACK_ID = 2**32 - 1
_MIN_PROJECTED_DEPTH_M = 0.1  # a root predicted closer than this (or behind the camera) does not move its box


@dataclass(frozen=True, eq=False)
class TrackedPerson:
    """One track measured in this frame.

    Attributes:
        track_id: the track's id (uint32, >= 1, never reused).
        is_confirmed: the track was measured in at least min_hits frames.
        person: this frame's measurement (raw).
        root_cam_m: [3] root, m, optical frame: the Kalman filter's position (raw with smoothing=False).
        joints_cam_m: [J, 3] joints, m, optical frame: that root + One-Euro smoothed root-relative joints (or raw).
        joints_px: [J, 2] 2D joints, px: One-Euro smoothed (or raw).
        velocity_cam_mps: [3] root velocity from the Kalman filter, m/s, optical frame.
        age_s: time since the track's first measurement, s (stamps).
        frames_measured: frames the track was measured in, this one included.
        score: mean detection score of the track's measurements, [0, 1].
    """

    track_id: int
    is_confirmed: bool
    person: PersonPose
    root_cam_m: np.ndarray
    joints_cam_m: np.ndarray
    joints_px: np.ndarray
    velocity_cam_mps: np.ndarray
    age_s: float
    frames_measured: int
    score: float


class _Track:
    """A track's state: Kalman filter, filters of the joints, counters (stamps in s)."""

    def __init__(self, track_id: int, person: PersonPose, root_index: int, stamp_s: float, s: TrackerSettings):
        self.track_id = track_id
        self.root_index = root_index
        self.birth_s = stamp_s
        self.kalman = RootKalmanFilter(
            person.root_cam_m, s.accel_noise_mps2, s.measurement_across_ray_m, s.measurement_along_ray_per_depth
        )
        self.pose_filter = OneEuroFilter(s.smoothing_min_cutoff_hz, s.smoothing_beta, s.smoothing_d_cutoff_hz)
        self.px_filter = OneEuroFilter(s.smoothing_min_cutoff_hz, s.smoothing_beta_px, s.smoothing_d_cutoff_hz)
        self.hits = 0
        self.score_sum = 0.0
        self.is_confirmed = False
        self.last_measured_s = stamp_s
        self.person = person

    def measure(self, person: PersonPose, stamp_s: float, settings: TrackerSettings) -> TrackedPerson:
        """Take this frame's measurement; returns the published view of the track."""
        if self.hits:
            self.kalman.predict(stamp_s - self.last_measured_s)
            self.kalman.update(person.root_cam_m)
        if self.hits == 0 or stamp_s - self.last_measured_s > settings.smoothing_reset_gap_s:
            for f in (self.pose_filter, self.px_filter):
                f.reset()
        self.hits += 1
        self.score_sum += person.score
        self.is_confirmed = self.is_confirmed or self.hits >= settings.min_hits
        self.last_measured_s = stamp_s
        self.person = person
        root, joints, joints_px = person.root_cam_m, person.joints_cam_m, person.joints_px
        relative = joints - joints[self.root_index]
        smooth_root = self.kalman.position_m if self.hits > 1 else root  # the Kalman filter starts at `root`
        smooth_relative = self.pose_filter(relative, stamp_s)
        smooth_px = self.px_filter(joints_px, stamp_s)
        if settings.smoothing:
            root, joints, joints_px = smooth_root, smooth_root + smooth_relative, smooth_px
        return TrackedPerson(
            self.track_id, self.is_confirmed, person, root, joints, joints_px,
            self.kalman.velocity_mps, stamp_s - self.birth_s, self.hits, self.score_sum / self.hits,
        )  # fmt: skip

    def predicted_root_m(self, stamp_s: float) -> np.ndarray:
        """[3] root the Kalman filter predicts at `stamp_s`, m."""
        return self.kalman.predicted(stamp_s - self.last_measured_s)[0][:3]

    def predicted_box_xywh_px(self, box_xywh_px: np.ndarray, stamp_s: float, camera: PinholeCamera) -> np.ndarray:
        """[4] `box_xywh_px` (a box of the last frame, px) moved by the predicted image motion of the root."""
        box_xywh_px = np.asarray(box_xywh_px, dtype=np.float64)
        roots_m = np.stack((self.predicted_root_m(stamp_s), self.kalman.position_m))
        if (roots_m[:, 2] < _MIN_PROJECTED_DEPTH_M).any():
            return box_xywh_px
        now_px, then_px = camera.camera_to_pixels(roots_m)
        return box_xywh_px + np.concatenate((now_px - then_px, (0.0, 0.0)))


class Tracker:
    """Tracks the persons of successive PoseResults (see the module docstring).

    Args:
        settings: TrackerSettings (defaults if None).
    """

    def __init__(self, settings: TrackerSettings | None = None) -> None:
        self.settings = settings or TrackerSettings()
        self._tracks: list[_Track] = []
        self._next_id = 1
        self._stamp_s: float | None = None
        self._camera: PinholeCamera | None = None

    def reset(self) -> None:
        """Drop every track (e.g. when time jumps back); ids continue from where they were."""
        self._tracks = []
        self._stamp_s = None

    def update(self, result: PoseResult, stamp_s: float) -> list[TrackedPerson]:
        """Associate this frame's persons with the tracks and update them.

        Args:
            result: the frame's persons (their score, box_xywh_px, root_cam_m, joints).
            stamp_s: capture time of the frame, s (the image header stamp, never the wall clock); non-decreasing.

        Returns:
            The tracks measured in this frame (tentative and confirmed), by increasing track id. Persons
            scoring below low_score_threshold and low-score persons that no confirmed track takes are left out.

        Raises:
            ValueError: stamp_s earlier than the previous frame's (call reset() first).
            OverflowError: a new track would need an id above MAX_TRACK_ID.
        """
        stamp_s = float(stamp_s)
        if self._stamp_s is not None and stamp_s < self._stamp_s:
            raise ValueError(f"stamp {stamp_s!r} s is before the previous frame's {self._stamp_s!r} s; reset() first")
        s = self.settings
        self._stamp_s, self._camera = stamp_s, result.camera
        self._tracks = [t for t in self._tracks if stamp_s - t.last_measured_s <= s.max_age_s]
        persons = result.persons
        high = [i for i, p in enumerate(persons) if p.score >= s.high_score_threshold]
        low = [i for i, p in enumerate(persons) if s.low_score_threshold <= p.score < s.high_score_threshold]
        matches = self._match(self._tracks, [persons[i] for i in high], stamp_s, result.camera)
        matched = {id(self._tracks[t]): high[d] for t, d in matches}
        remaining = [t for t in self._tracks if t.is_confirmed and id(t) not in matched]
        for t, d in self._match(remaining, [persons[i] for i in low], stamp_s, result.camera):
            matched[id(remaining[t])] = low[d]
        self._tracks = [t for t in self._tracks if t.is_confirmed or id(t) in matched]
        published = [t.measure(persons[matched[id(t)]], stamp_s, s) for t in self._tracks if id(t) in matched]
        taken = set(matched.values())
        for i in high:
            if i not in taken:
                track = self._new_track(persons[i], result.joint_set.root_index, stamp_s)
                published.append(track.measure(persons[i], stamp_s, s))
        return sorted(published, key=lambda p: p.track_id)

    def predicted_boxes_xywh_px(self, stamp_s: float, expand_factor: float = 1.2) -> dict[int, np.ndarray]:
        """Crop boxes for the next frame, for the detector-free frames: {track id: [4] (x, y, w, h) px}.

        For each confirmed track measured in the last update: the box around its last 2D joints, moved by the
        image motion of its root predicted from the last measurement to `stamp_s` (s), scaled by `expand_factor`
        (>= 1) about its centre.
        """
        if expand_factor < 1.0:
            raise ValueError(f"expand_factor must be >= 1, got {expand_factor!r}")
        boxes: dict[int, np.ndarray] = {}
        if self._camera is None:  # no update yet: no track
            return boxes
        for track in self._tracks:
            if track.is_confirmed and track.last_measured_s == self._stamp_s:
                low_px, high_px = track.person.joints_px.min(0), track.person.joints_px.max(0)
                size_px = (high_px - low_px) * expand_factor
                box = np.concatenate(((low_px + high_px - size_px) / 2.0, size_px))
                boxes[track.track_id] = track.predicted_box_xywh_px(box, stamp_s, self._camera)
        return boxes

    def _match(
        self, tracks: list[_Track], persons: list[PersonPose], stamp_s: float, camera: PinholeCamera
    ) -> list[tuple[int, int]]:
        """Optimal (track index, person index) pairs within the gate."""
        if not tracks or not persons:
            return []
        s = self.settings
        predicted_m = np.stack([t.predicted_root_m(stamp_s) for t in tracks])
        growth_m = s.gate_growth_mps * np.array([stamp_s - t.last_measured_s for t in tracks])
        depth_m = np.clip(predicted_m[:, 2], 0.0, None)
        along_m = s.gate_along_ray_m + s.gate_along_ray_per_depth * depth_m + growth_m
        across_m = s.gate_across_ray_m + growth_m
        gate = gate_distance(predicted_m, along_m, across_m, np.stack([p.root_cam_m for p in persons]))
        track_boxes = np.stack([t.predicted_box_xywh_px(t.person.box_xywh_px, stamp_s, camera) for t in tracks])
        iou = box_iou(track_boxes, np.stack([p.box_xywh_px for p in persons]))
        return assign(association_cost(iou, gate, s.iou_weight))

    def _new_track(self, person: PersonPose, root_index: int, stamp_s: float) -> _Track:
        if self._next_id > MAX_TRACK_ID:
            raise OverflowError(f"track ids exhausted (uint32, {MAX_TRACK_ID} tracks); create a new Tracker")
        track = _Track(self._next_id, person, root_index, stamp_s, self.settings)
        self._next_id += 1
        self._tracks.append(track)
        return track
