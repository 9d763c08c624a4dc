"""Multi-person 3D tracker: stable ids, a Kalman-filtered root with velocity, and One-Euro smoothed joints.

Each frame (Tracker.update with the frame's PoseResult and its capture stamp in s) is associated in stages, each an
optimal assignment over the cost of tracking.association (2D box overlap, 2D joint layout, the 3D root gated
loose along the camera ray and tight across it, box size):
1. detections scoring >= high_score_threshold against the confirmed tracks, most recently measured first (a
   cascade by time since last seen, as DeepSORT's: a track lost for a while has a wide gate and must not take the
   detection of a person measured a frame ago);
2. detections between low_score_threshold and high_score_threshold (partly hidden people) against the confirmed
   tracks still unmatched (ByteTrack's second stage: they keep a track alive but never start one);
3. the high-score detections left against the tentative tracks (ByteTrack's last stage).
High-score detections still left start tentative tracks; a tentative track is confirmed once measured in min_hits
frames and dropped when missed; a confirmed track missed is kept max_age_s seconds (stamps, so dropped frames do
not age it faster) and re-found where its filter predicts it.

Each track has two Kalman filters of its root (tracking.kalman). The association filter expects people to stop and
turn (its velocity decays within velocity_time_s) and learns how much the person's measured depth varies from frame
to frame (RootNet's error is mostly a per-person bias; see along_ray_adapt_s), so its gate stays tight where
the depths are consistent. The smoothing filter (constant velocity, the fixed 10 % depth noise) gives the
published root and velocity: it removes the per-frame depth noise at little lag. The published joints are that
root plus One-Euro filtered root-relative joints; the 2D joints are One-Euro filtered. The One-Euro filters restart
when a track is born or re-found (measured again after more than smoothing_reset_gap_s).

Positions, gates, filters and velocities live in the tracking frame: the camera's optical frame, or a fixed frame
(odom) when each update is given the camera's pose in it (camera_pose, `tracking <- optical` at the frame's stamp),
so a robot's own motion does not move the people it tracks. The gate's ray, the depths and the predicted image
motion are the measuring camera's at its pose of the time.

Ids are uint32, start at 1, increase by one per new track and are never reused: they come from a TrackIds
allocator, the Tracker's own by default (reset() keeps it); Trackers that share one (the node's, for the whole
process) never hand out the same id. At 15 new tracks per second, 2^32 - 1 ids last 9 years; past that update()
raises. Each track keeps the score of its last detector-boxed measurement (last_detector_scores): frames cropped
where the tracks are pass it as their boxes' scores, so a published score is always a detector's.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from mppe_ros.camera import PinholeCamera
from mppe_ros.results import PersonPose, PoseResult
from mppe_ros.tracking.association import assign, association_cost, box_iou, layout_similarity, size_difference
from mppe_ros.tracking.kalman import RootKalmanFilter
from mppe_ros.tracking.settings import TrackerSettings
from mppe_ros.tracking.smoothing import OneEuroFilter
from mppe_ros.tracking.transforms import IDENTITY, RigidTransform

MAX_TRACK_ID = 2**32 - 1
_MIN_PROJECTED_DEPTH_M = 0.1  # a root predicted closer than this (or behind the camera) does not move its box
_MAX_BOX_PER_JOINTS = 3.0  # bound of a detector box's width or height over its joints' (kept >= 1)


class TrackIds:
    """Track ids 1, 2, ... (uint32), each handed out once; thread-safe, so Trackers may share one."""

    def __init__(self) -> None:
        self._next_id = 1
        self._lock = threading.Lock()

    def take(self) -> int:
        """The next id.

        Raises:
            OverflowError: all MAX_TRACK_ID ids were handed out.
        """
        with self._lock:
            if self._next_id > MAX_TRACK_ID:
                raise OverflowError(f"track ids exhausted (uint32, {MAX_TRACK_ID} tracks); create a new TrackIds")
            self._next_id += 1
            return self._next_id - 1


@dataclass(frozen=True, eq=False)
class TrackedPerson:
    """One track measured in this frame.

    Attributes:
        track_id: the track's id (uint32, >= 1, never reused).
        is_confirmed: the track was measured in at least min_hits frames.
        person: this frame's measurement (raw).
        root_m: [3] root, m, tracking frame: the smoothing Kalman filter's position (raw with smoothing=False).
        joints_m: [J, 3] joints, m, tracking frame: that root + One-Euro smoothed root-relative joints (or raw).
        joints_px: [J, 2] 2D joints, px: One-Euro smoothed (or raw).
        velocity_mps: [3] root velocity from the smoothing Kalman filter, m/s, tracking frame.
    The tracking frame is the camera's optical frame unless the updates were given the camera's pose in a fixed frame
    (Tracker.update's camera_pose); `person` stays in the optical frame.
        age_s: time since the track's first measurement, s (stamps).
        frames_measured: frames the track was measured in, this one included.
        score: mean detection score of the track's measurements, [0, 1].
    """

    track_id: int
    is_confirmed: bool
    person: PersonPose
    root_m: np.ndarray
    joints_m: np.ndarray
    joints_px: np.ndarray
    velocity_mps: np.ndarray
    age_s: float
    frames_measured: int
    score: float

    @property
    def pose_confidence(self) -> float:
        """Mean joint confidence of this frame's measurement, [0, 1]."""
        return float(np.mean(self.person.joint_confidence))


class _Track:
    """A track's state: its two Kalman filters (tracking frame), the filters of its joints, counters (stamps in s),
    the camera's pose at its last measurement."""

    def __init__(
        self, track_id: int, person: PersonPose, root_index: int, stamp_s: float, s: TrackerSettings,
        camera_pose: RigidTransform,
    ) -> None:  # fmt: skip
        self.track_id = track_id
        self.root_index = root_index
        self.birth_s = stamp_s
        self.camera_pose = camera_pose
        root_m, across_m, along = (
            camera_pose.points(person.root_cam_m),
            s.measurement_across_ray_m,
            s.measurement_along_ray_per_depth,
        )
        self.motion = RootKalmanFilter(
            root_m, s.accel_noise_mps2, across_m, along, s.velocity_time_s, s.along_ray_adapt_s,
            s.along_ray_min_per_depth, camera_pose,
        )  # fmt: skip
        self.smooth = RootKalmanFilter(root_m, s.smoothing_accel_noise_mps2, across_m, along, camera_pose=camera_pose)
        self.pose_filter = OneEuroFilter(s.smoothing_min_cutoff_hz, s.smoothing_beta, s.smoothing_d_cutoff_hz)
        self.px_filter = OneEuroFilter(s.smoothing_min_cutoff_hz, s.smoothing_beta_px, s.smoothing_d_cutoff_hz)
        self.hits = 0
        self.score_sum = 0.0
        self.is_confirmed = False
        self.last_measured_s = stamp_s
        self.person = person
        self.box_per_joints: np.ndarray | None = None  # [2] last detector box size / its joints' box size
        self.detector_score = float(person.score)  # score of the last measurement in a detector's box

    def measure(
        self, person: PersonPose, stamp_s: float, settings: TrackerSettings, box_from_detector: bool,
        camera_pose: RigidTransform,
    ) -> TrackedPerson:  # fmt: skip
        """Take this frame's measurement (`person`, optical frame, by the camera at `camera_pose`); returns the
        published view of the track (tracking frame).

        box_from_detector: the person's box came from the detector (not from this track's own crop box), so its
        size relative to the 2D joints' bounding box is recorded for the track's next crop boxes.
        """
        if box_from_detector:
            self.detector_score = float(person.score)
            self.box_per_joints = np.clip(
                person.box_xywh_px[2:] / np.maximum(np.ptp(person.joints_px, axis=0), 1.0),
                1.0, _MAX_BOX_PER_JOINTS,
            )  # fmt: skip
        root, joints = camera_pose.points(person.root_cam_m), camera_pose.points(person.joints_cam_m)
        if self.hits:  # both filters start at the first measurement
            for kalman in (self.motion, self.smooth):
                kalman.predict(stamp_s - self.last_measured_s)
                kalman.update(root, camera_pose)
        if self.hits == 0 or stamp_s - self.last_measured_s > settings.smoothing_reset_gap_s:
            for f in (self.pose_filter, self.px_filter):
                f.reset()
        self.hits += 1
        self.score_sum += person.score
        self.is_confirmed = self.is_confirmed or self.hits >= settings.min_hits
        self.last_measured_s = stamp_s
        self.person, self.camera_pose = person, camera_pose
        joints_px = person.joints_px
        smooth_root = self.smooth.position_m
        smooth_relative = self.pose_filter(joints - joints[self.root_index], stamp_s)
        smooth_px = self.px_filter(joints_px, stamp_s)
        if settings.smoothing:
            root, joints, joints_px = smooth_root, smooth_root + smooth_relative, smooth_px
        return TrackedPerson(
            self.track_id, self.is_confirmed, person, root, joints, joints_px,
            self.smooth.velocity_mps, stamp_s - self.birth_s, self.hits, self.score_sum / self.hits,
        )  # fmt: skip

    def predicted_root_m(self, stamp_s: float) -> np.ndarray:
        """[3] root the association filter predicts at `stamp_s`, m."""
        return self.motion.predicted(stamp_s - self.last_measured_s)[0][:3]

    def predicted_shift_px(
        self, stamp_s: float, camera: PinholeCamera, kalman: RootKalmanFilter, camera_pose: RigidTransform
    ) -> np.ndarray:
        """[2] image motion of the root that `kalman` (one of the track's) predicts from its last measurement to
        `stamp_s` seen by the camera at `camera_pose` then, px (the camera's own motion included)."""
        now_m = camera_pose.inverse().points(kalman.predicted(stamp_s - self.last_measured_s)[0][:3])
        roots_m = np.stack((now_m, self.camera_pose.inverse().points(kalman.position_m)))  # optical frames
        if (roots_m[:, 2] < _MIN_PROJECTED_DEPTH_M).any():
            return np.zeros(2)
        now_px, then_px = camera.camera_to_pixels(roots_m)
        shift_px: np.ndarray = now_px - then_px
        return shift_px

    def predicted_height_px(self, stamp_s: float, camera_pose: RigidTransform) -> float:
        """The last box's height scaled by the predicted change of depth seen by the camera at `camera_pose` (a box's
        height goes as 1 / depth), px."""
        now_m = max(float(camera_pose.depths_m(self.predicted_root_m(stamp_s))), _MIN_PROJECTED_DEPTH_M)
        then_m = float(self.camera_pose.depths_m(self.motion.position_m))
        return float(self.person.box_xywh_px[3]) * max(then_m / now_m, 0.0)


class Tracker:
    """Tracks the persons of successive PoseResults (see the module docstring).

    Args:
        settings: TrackerSettings (defaults if None) of the updates given none.
        ids: where new tracks' ids come from (a new TrackIds if None: ids 1, 2, ... of this Tracker).
    """

    def __init__(self, settings: TrackerSettings | None = None, ids: TrackIds | None = None) -> None:
        self.settings = settings or TrackerSettings()
        self._tracks: list[_Track] = []
        self._ids = ids or TrackIds()
        self._stamp_s: float | None = None
        self._camera: PinholeCamera | None = None
        self._camera_pose = IDENTITY  # the camera's pose in the tracking frame at the last update
        self._tracked: tuple[TrackedPerson, ...] = ()

    @property
    def tracked(self) -> tuple[TrackedPerson, ...]:
        """What the last update returned (empty before the first and after reset())."""
        return self._tracked

    def reset(self) -> None:
        """Drop every track (e.g. when time jumps back); ids continue from where they were."""
        self._tracks = []
        self._stamp_s = None
        self._tracked = ()

    def update(
        self, result: PoseResult, stamp_s: float, boxes_from_detector: bool = True,
        settings: TrackerSettings | None = None, camera_pose: RigidTransform = IDENTITY,
    ) -> list[TrackedPerson]:  # fmt: skip
        """Associate this frame's persons with the tracks and update them.

        Args:
            result: the frame's persons (their score, box_xywh_px, root_cam_m, joints).
            stamp_s: capture time of the frame, s (the image header stamp, never the wall clock); non-decreasing.
            boxes_from_detector: the persons' boxes came from a detector (or were given), not from
                predicted_boxes_xywh_px: each measured track then records its box size relative to its joints.
            settings: this frame's settings (the constructor's if None): the run-time fields apply from this frame
                on, the filters' noise to the tracks born in it.
            camera_pose: the camera's pose in the tracking frame at stamp_s (`tracking <- optical`, e.g. odom <-
                camera_optical_frame); the identity tracks in the optical frame. Use one tracking frame throughout.

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
        s = settings or self.settings
        self._stamp_s, self._camera, self._camera_pose = stamp_s, result.camera, camera_pose
        self._tracks = [t for t in self._tracks if stamp_s - t.last_measured_s <= s.max_age_s]
        persons = result.persons
        high = [i for i, p in enumerate(persons) if p.score >= s.high_score_threshold]
        low = [i for i, p in enumerate(persons) if s.low_score_threshold <= p.score < s.high_score_threshold]
        confirmed = [t for t in self._tracks if t.is_confirmed]
        matched: dict[_Track, int] = {}  # track -> index in persons
        for last_s in sorted({t.last_measured_s for t in confirmed}, reverse=True):
            same_age = [t for t in confirmed if t.last_measured_s == last_s]
            high = self._match(same_age, high, result, stamp_s, s, matched)
        self._match([t for t in confirmed if t not in matched], low, result, stamp_s, s, matched)
        high = self._match([t for t in self._tracks if not t.is_confirmed], high, result, stamp_s, s, matched)
        self._tracks = [t for t in self._tracks if t.is_confirmed or t in matched]
        for i in high:
            matched[self._new_track(persons[i], result.joint_set.root_index, stamp_s, s)] = i
        published = sorted(
            (t.measure(persons[i], stamp_s, s, boxes_from_detector, camera_pose) for t, i in matched.items()),
            key=lambda p: p.track_id,
        )
        self._tracked = tuple(published)
        return published

    def predicted_boxes_xywh_px(
        self, stamp_s: float, expand_factor: float = 1.2, camera_pose: RigidTransform | None = None
    ) -> dict[int, np.ndarray]:
        """Crop boxes for the next frame, for the detector-free frames: {track id: [4] (x, y, w, h) px}.

        For each confirmed track measured in the last update: the box around its last 2D joints, scaled about its
        centre to the width and height ratios its last detector box had to its joints' box (so RootNet, whose depth
        scales with the box size, sees the box size the detector would give), or by `expand_factor` (>= 1) for a
        track never measured in a detector box, and moved by the image motion of its root from the last
        measurement to `stamp_s` (s) that the smoothing filter predicts (constant velocity: right for a walking
        person one frame ahead) and of the camera to `camera_pose` (that frame's, in the tracking frame; None: where
        it was at the last update). Not clipped to the image.
        """
        if expand_factor < 1.0:
            raise ValueError(f"expand_factor must be >= 1, got {expand_factor!r}")
        boxes: dict[int, np.ndarray] = {}
        if self._camera is None:  # no update yet: no track
            return boxes
        camera_pose = self._camera_pose if camera_pose is None else camera_pose
        for track in self._tracks:
            if track.is_confirmed and track.last_measured_s == self._stamp_s:
                low_px, high_px = track.person.joints_px.min(0), track.person.joints_px.max(0)
                scale = expand_factor if track.box_per_joints is None else track.box_per_joints
                size_px = (high_px - low_px) * scale
                centre_px = (low_px + high_px) / 2.0 + track.predicted_shift_px(
                    stamp_s, self._camera, track.smooth, camera_pose
                )
                boxes[track.track_id] = np.concatenate((centre_px - size_px / 2.0, size_px))
        return boxes

    def _match(
        self, tracks: list[_Track], candidates: list[int], result: PoseResult, stamp_s: float, s: TrackerSettings,
        matched: dict[_Track, int],
    ) -> list[int]:  # fmt: skip
        """Pair `tracks` optimally with the persons of `result` indexed by `candidates` into `matched`
        (track -> person index); returns the candidates left."""
        if not tracks or not candidates:
            return candidates
        persons, pose = [result.persons[i] for i in candidates], self._camera_pose
        roots_m = pose.points(np.stack([p.root_cam_m for p in persons]))
        gate = np.stack([t.motion.innovation_distances(stamp_s - t.last_measured_s, roots_m, pose) for t in tracks])
        shifts_px = np.stack([t.predicted_shift_px(stamp_s, result.camera, t.motion, pose) for t in tracks])
        track_boxes = np.stack([t.person.box_xywh_px for t in tracks]) + np.pad(shifts_px, ((0, 0), (0, 2)))
        iou = box_iou(track_boxes, np.stack([p.box_xywh_px for p in persons]))
        similarity = layout_similarity(
            np.stack([t.person.joints_px for t in tracks]), np.sqrt(track_boxes[:, 2] * track_boxes[:, 3]),
            np.stack([p.joints_px for p in persons]), result.joint_set.root_index, s.layout_sigma,
        )  # fmt: skip
        heights_px = np.array([t.predicted_height_px(stamp_s, pose) for t in tracks])
        size = size_difference(heights_px, np.array([p.box_xywh_px[3] for p in persons]))
        cost = association_cost(
            iou, similarity, gate / s.gate_sigmas, size / s.size_tolerance, s.association_weights, s.max_cost
        )
        pairs = assign(cost)
        for t, d in pairs:
            matched[tracks[t]] = candidates[d]
        taken = {d for _, d in pairs}
        return [c for d, c in enumerate(candidates) if d not in taken]

    def last_detector_scores(self) -> dict[int, float]:
        """{track id: score of its last measurement in a detector's box} of the tracks kept now."""
        return {track.track_id: track.detector_score for track in self._tracks}

    def _new_track(self, person: PersonPose, root_index: int, stamp_s: float, s: TrackerSettings) -> _Track:
        track = _Track(self._ids.take(), person, root_index, stamp_s, s, self._camera_pose)
        self._tracks.append(track)
        return track
