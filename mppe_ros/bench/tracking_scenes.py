"""Synthetic 3D scenes for the tracking benchmark: people with known trajectories, seen as noisy detections.

People walk on a floor plane along piecewise-linear waypoints (t_s, x_m, z_m) in the camera optical frame (m, x
right, y down, z forward; the camera 1.3 m above the floor, level), with a MuCo-21 skeleton that swings its
limbs as they walk. Each frame, every person in view is projected through a pinhole camera into a PersonPose
as the pipeline would give it (see NoiseModel for the sizes): 2D joints with Gaussian noise (px); a root depth
error proportional to depth (RootNet) made of a per-person bias that drifts slowly plus a small per-frame part;
root-relative depths with noise (PoseNet); a box with noise; some are missed (at random, or hidden behind a nearer
person: > 60 % of the box covered; these are not in the truth either), partly hidden ones (30-60 %) score low
with twice the 2D noise, and false positives appear at random places.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mppe_ros.camera import PinholeCamera
from mppe_ros.joint_sets import MUCO_21
from mppe_ros.results import PersonPose, PoseResult

CAMERA = PinholeCamera(fx=600.0, fy=600.0, cx=320.0, cy=240.0, width=640, height=480)
PELVIS_Y_M = 0.35  # pelvis 0.95 m above the floor, camera 1.3 m
STRIDE_M = 1.4  # one gait cycle per 1.4 m walked
# MuCo-21 joints relative to the pelvis (m) of a person facing the camera (forward = -z), and how far each
# swings forward per gait cycle (m, sign = phase: legs against the arms of the same side).
_TEMPLATE_M = np.array([
    (0, -0.85, 0), (0, -0.45, 0), (-0.18, -0.45, 0), (-0.22, -0.18, 0), (-0.24, 0.05, 0), (0.18, -0.45, 0),
    (0.22, -0.18, 0), (0.24, 0.05, 0), (-0.1, 0, 0), (-0.1, 0.45, 0), (-0.1, 0.85, 0), (0.1, 0, 0),
    (0.1, 0.45, 0), (0.1, 0.85, 0), (0, 0, 0), (0, -0.22, 0), (0, -0.65, 0), (-0.25, 0.12, 0), (0.25, 0.12, 0),
    (-0.1, 0.9, -0.12), (0.1, 0.9, -0.12),
], dtype=np.float64)  # fmt: skip
_SWING_M = np.array([0, 0, 0, -0.08, -0.15, 0, 0.08, 0.15, 0, 0.12, 0.25, 0, -0.12, -0.25, 0, 0, 0, -0.17, 0.17, 0.28,
                     -0.28])  # fmt: skip


@dataclass(frozen=True)
class NoiseModel:
    """Detection noise, of the sizes the pipeline shows.

    Root depth: measured = true * (1 + bias + e). RootNet's error is mostly the same for the same person from one
    frame to the next (its depth comes from the box size against a 2 m x 2 m prior, so a person's height, build and
    pose set it), so `bias` is a per-person AR(1) (Ornstein-Uhlenbeck) process with correlation time
    depth_bias_time_s (correlation exp(-dt / time) between samples dt apart) and a stationary std such that the total
    std is depth_fraction: sqrt(depth_fraction^2 - depth_frame_fraction^2); `e` is independent per frame, std
    depth_frame_fraction. depth_frame_fraction = depth_fraction is the older, harsher i.i.d. model (IID_DEPTH).

    Attributes:
        joint_px: std of each 2D joint coordinate, px (twice that for partly hidden persons).
        depth_fraction: total std of the root depth error / depth.
        depth_frame_fraction: std of its independent per-frame part / depth (<= depth_fraction).
        depth_bias_time_s: correlation time of the per-person bias, s.
        relative_depth_m: std of each root-relative joint depth, m (PoseNet).
        box_px: std of each box coordinate, px.
        miss_probability: chance that a visible person is not detected in a frame.
        false_positives_per_frame: mean count of false detections per frame (Poisson), scoring 0.1-0.6.
    """

    joint_px: float = 2.0
    depth_fraction: float = 0.10
    depth_frame_fraction: float = 0.03
    depth_bias_time_s: float = 2.0
    relative_depth_m: float = 0.03
    box_px: float = 3.0
    miss_probability: float = 0.05
    false_positives_per_frame: float = 0.1

    def __post_init__(self) -> None:
        if not 0.0 <= self.depth_frame_fraction <= self.depth_fraction:
            raise ValueError(f"depth_frame_fraction must be in [0, depth_fraction], got {self.depth_frame_fraction}")

    @property
    def depth_bias_fraction(self) -> float:
        """Stationary std of the per-person bias / depth."""
        return float(np.sqrt(self.depth_fraction**2 - self.depth_frame_fraction**2))


CORRELATED_DEPTH = NoiseModel()  # the realistic model: 9.5 % per-person bias (2 s correlation) + 3 % per frame
IID_DEPTH = NoiseModel(depth_frame_fraction=0.10)  # the harsher one: all 10 % drawn afresh every frame
NOISE_MODELS = {"correlated_depth": CORRELATED_DEPTH, "iid_depth": IID_DEPTH}


@dataclass(frozen=True, eq=False)
class Walker:
    """A person: waypoints [K, 3] (t_s, x_m, z_m), present from the first to the last waypoint's time."""

    person_id: int
    waypoints: np.ndarray
    sway_phase: float = 0.0

    def present(self, t_s: np.ndarray) -> np.ndarray:
        """[N] bool: the person is in the scene (maybe out of view) at times t_s [N]."""
        return (t_s >= self.waypoints[0, 0]) & (t_s <= self.waypoints[-1, 0])

    def joints_m(self, t_s: np.ndarray) -> np.ndarray:
        """[N, J, 3] true joints at times t_s [N], m, optical frame."""
        t_s = np.atleast_1d(np.asarray(t_s, dtype=np.float64))
        times, x_m, z_m = self.waypoints.T
        step_m = np.hypot(np.diff(x_m), np.diff(z_m))
        walked_m = np.interp(t_s, times, np.concatenate(([0.0], np.cumsum(step_m))))
        segment = np.clip(np.searchsorted(times, t_s, side="right") - 1, 0, len(times) - 2)
        heading = np.stack((np.diff(x_m)[segment], np.diff(z_m)[segment]), 1)
        speed = np.linalg.norm(heading, axis=1, keepdims=True)
        forward = np.where(speed > 1e-9, heading / np.maximum(speed, 1e-9), (0.0, -1.0))  # stand facing the camera
        sway_m = 0.02 * np.sin(2 * np.pi * 0.3 * t_s + self.sway_phase)
        root = np.stack(
            (np.interp(t_s, times, x_m) + sway_m, np.full_like(t_s, PELVIS_Y_M), np.interp(t_s, times, z_m)), 1
        )
        # Rotate the template about the vertical (y) axis so that its forward (-z) becomes `forward`.
        sin, cos = -forward[:, 0], -forward[:, 1]
        tx, ty, tz = _TEMPLATE_M.T
        rotated = np.stack((cos[:, None] * tx + sin[:, None] * tz, np.broadcast_to(ty, (len(t_s), len(ty))),
                            -sin[:, None] * tx + cos[:, None] * tz), -1)  # fmt: skip
        swing = _SWING_M * np.sin(2 * np.pi * walked_m / STRIDE_M)[:, None] * (speed > 1e-9)
        forward_3d = np.stack((forward[:, 0], np.zeros(len(t_s)), forward[:, 1]), 1)
        return root[:, None, :] + rotated + swing[..., None] * forward_3d[:, None, :]


@dataclass(frozen=True, eq=False)
class Scene:
    """A scene: its kind (e.g. "crossing"), the people in it, and the frame stamps [F] (s)."""

    kind: str
    walkers: tuple[Walker, ...]
    stamps_s: np.ndarray


def truth_box_xywh_px(joints_px: np.ndarray) -> np.ndarray:
    """[4] box around 2D joints [J, 2] (px), 10 % wider and 15 % taller (limbs and hair beyond the joints)."""
    low, high = joints_px.min(0), joints_px.max(0)
    size = (high - low) * (1.1, 1.15)
    return np.concatenate(((low + high - size) / 2, size))


def in_view(box_xywh_px: np.ndarray, depth_m: float) -> bool:
    """A person counts as in view when in front (> 0.8 m) and at least half of its box inside the image."""
    x0, y0 = np.clip(box_xywh_px[:2], 0, (CAMERA.width, CAMERA.height))
    x1, y1 = np.clip(box_xywh_px[:2] + box_xywh_px[2:], 0, (CAMERA.width, CAMERA.height))
    return depth_m > 0.8 and (x1 - x0) * (y1 - y0) >= 0.5 * box_xywh_px[2] * box_xywh_px[3]


def truth_at(scene: Scene, stamp_s: float) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """{person id: (joints [J, 3] m, box [4] px)} of the people in view at stamp_s."""
    truth = {}
    for walker in scene.walkers:
        if walker.present(np.array([stamp_s]))[0]:
            joints = walker.joints_m(stamp_s)[0]
            box = truth_box_xywh_px(CAMERA.camera_to_pixels(joints))
            if in_view(box, joints[MUCO_21.root_index, 2]):
                truth[walker.person_id] = (joints, box)
    return truth


def _covered_fraction(box_xywh_px: np.ndarray, other_xywh_px: np.ndarray) -> float:
    """Share of box_xywh_px's area that other_xywh_px covers."""
    low = np.maximum(box_xywh_px[:2], other_xywh_px[:2])
    high = np.minimum(box_xywh_px[:2] + box_xywh_px[2:], other_xywh_px[:2] + other_xywh_px[2:])
    return float(np.prod(np.clip(high - low, 0.0, None)) / (box_xywh_px[2] * box_xywh_px[3]))


def _measure(joints_m: np.ndarray, box_px: np.ndarray, score: float, noise: NoiseModel, joint_px: float,
             depth_error: float, rng: np.random.Generator) -> PersonPose:  # fmt: skip
    """A PersonPose of true joints [J, 3] m and box [4] px, its root depth off by `depth_error` x depth."""
    root = MUCO_21.root_index
    joints_px = CAMERA.camera_to_pixels(joints_m) + rng.normal(0.0, joint_px, (len(joints_m), 2))
    root_depth_m = joints_m[root, 2] * (1.0 + depth_error)
    depth_m = root_depth_m + joints_m[:, 2] - joints_m[root, 2] + rng.normal(0.0, noise.relative_depth_m, len(joints_m))
    depth_m[root] = root_depth_m
    joints_cam = CAMERA.pixels_to_camera(joints_px, depth_m)
    box = box_px + rng.normal(0.0, noise.box_px, 4)
    return PersonPose(box_xywh_px=box, processed_box_xywh_px=box, score=score, k_value=0.0,
                      root_depth_mm=root_depth_m * 1000.0, root_px=joints_px[root], root_cam_m=joints_cam[root],
                      joints_px=joints_px, joints_cam_m=joints_cam,
                      joint_confidence=np.ones(len(joints_m)))  # fmt: skip


def depth_biases(scene: Scene, noise: NoiseModel, rng: np.random.Generator) -> dict[int, np.ndarray]:
    """{person id: [F] its root depth bias (fraction of depth) at each of the scene's F stamps}: NoiseModel's AR(1),
    exact for any time step (b_k = c b_(k-1) + sqrt(1 - c^2) s n_k, c = exp(-dt / time), n_k ~ N(0, 1)), started
    from its stationary distribution N(0, s^2), s = depth_bias_fraction."""
    std = noise.depth_bias_fraction
    keep = np.exp(-np.diff(scene.stamps_s) / noise.depth_bias_time_s)
    biases = {}
    for walker in scene.walkers:
        steps = rng.normal(0.0, 1.0, len(scene.stamps_s))
        bias = np.empty(len(scene.stamps_s))
        bias[0] = std * steps[0]
        for k, c in enumerate(keep, start=1):
            bias[k] = c * bias[k - 1] + np.sqrt(1.0 - c * c) * std * steps[k]
        biases[walker.person_id] = bias
    return biases


def detect(scene: Scene, stamp_s: float, noise: NoiseModel, rng: np.random.Generator,
           depth_bias: dict[int, float] | None = None):  # fmt: skip
    """The frame's detections (a PoseResult), for each the id of the person it shows (-1: a false positive),
    and the truth of the people visible (in view, not hidden): {person id: (joints [J, 3] m, box [4] px)}.

    depth_bias: {person id: this frame's root depth bias (fraction of depth)}, from depth_biases (None: no bias).
    """
    truth = truth_at(scene, stamp_s)
    ids = sorted(truth, key=lambda i: truth[i][0][MUCO_21.root_index, 2])  # nearest first
    persons, sources, visible = [], [], {}
    for n, person_id in enumerate(ids):
        joints, box = truth[person_id]
        covered = max((_covered_fraction(box, truth[i][1]) for i in ids[:n]), default=0.0)
        if covered > 0.6:
            continue
        visible[person_id] = truth[person_id]
        if rng.random() < noise.miss_probability:
            continue
        hidden = covered > 0.3
        score = rng.uniform(0.2, 0.45) if hidden else rng.uniform(0.6, 0.99)
        depth_error = (depth_bias or {}).get(person_id, 0.0) + rng.normal(0.0, noise.depth_frame_fraction)
        persons.append(_measure(joints, box, score, noise, noise.joint_px * (2 if hidden else 1), depth_error, rng))
        sources.append(person_id)
    for _ in range(rng.poisson(noise.false_positives_per_frame)):
        depth_m = rng.uniform(2.0, 8.0)
        fake = Walker(-1, np.array([(0.0, rng.uniform(-0.4, 0.4) * depth_m, depth_m), (1.0, 0.0, depth_m)]))
        joints = fake.joints_m(0.0)[0]
        persons.append(_measure(joints, truth_box_xywh_px(CAMERA.camera_to_pixels(joints)), rng.uniform(0.1, 0.6),
                                noise, noise.joint_px, rng.normal(0.0, noise.depth_fraction), rng))  # fmt: skip
        sources.append(-1)
    return PoseResult(joint_set=MUCO_21, camera=CAMERA, persons=persons), sources, visible


def frames(scene: Scene, noise: NoiseModel, rng: np.random.Generator):
    """Each frame of the scene in turn: (stamp s, then detect()'s three values), the depth biases drawn first."""
    biases = depth_biases(scene, noise, rng)
    for k, stamp_s in enumerate(scene.stamps_s):
        bias = {person_id: float(series[k]) for person_id, series in biases.items()}
        yield (float(stamp_s), *detect(scene, float(stamp_s), noise, rng, bias))


def _walk(rng: np.random.Generator, start_xz: np.ndarray, targets_xz: list, start_s: float = 0.0) -> np.ndarray:
    """Waypoints [K, 3] walking from start_xz through targets_xz ([2] m each) at 1.0-1.6 m/s, pausing at times."""
    points, t_s, here = [(start_s, *start_xz)], start_s, np.asarray(start_xz, dtype=np.float64)
    for target in targets_xz:
        target = np.asarray(target, dtype=np.float64)
        t_s += np.linalg.norm(target - here) / rng.uniform(1.0, 1.6)
        points.append((t_s, *target))
        if rng.random() < 0.3:
            t_s += rng.uniform(0.5, 2.0)
            points.append((t_s, *target))
        here = target
    return np.array(points)


def _crossing(rng: np.random.Generator, duration_s: float, pairs: int) -> list[Walker]:
    """`pairs` pairs walking sideways in opposite directions, one nearer: they cross in front of each other."""
    walkers = []
    for pair in range(pairs):
        near_m = rng.uniform(2.5, 4.0)
        for side, depth_m in ((-1, near_m), (1, near_m + rng.uniform(0.8, 2.5))):
            half_m = 0.35 * depth_m
            ends = [(side * half_m, depth_m), (-side * half_m, depth_m)] * int(duration_s)
            walkers.append(Walker(2 * pair + (side > 0), _walk(rng, ends[0], ends[1:]), rng.uniform(0, 6)))
    return walkers


def _roaming(rng: np.random.Generator, count: int, duration_s: float, standing: bool = False) -> list[Walker]:
    """`count` people walking between random floor points in view (or standing still)."""
    walkers = []
    for person_id in range(count):

        def point():
            depth_m = rng.uniform(2.0, 7.0)
            return (rng.uniform(-0.35, 0.35) * depth_m, depth_m)

        start = point()
        waypoints = np.array([(0.0, *start), (duration_s, *start)]) if standing else _walk(
            rng, start, [point() for _ in range(int(duration_s))])  # fmt: skip
        walkers.append(Walker(person_id, waypoints, rng.uniform(0, 6)))
    return walkers


def _reentry(rng: np.random.Generator, duration_s: float) -> list[Walker]:
    """Two people; each in turn walks out of view sideways and comes back after about a second."""
    walkers = []
    for person_id, side in enumerate((-1, 1)):
        depth_m = rng.uniform(2.5, 5.0)
        inside, outside = (0.1 * side * depth_m, depth_m), (side * (0.55 * depth_m + 0.6), depth_m)
        walkers.append(Walker(person_id, _walk(rng, inside, [outside, inside] * int(duration_s / 4 + 1)), 0.0))
    return walkers


def make_scenes(rng: np.random.Generator, quick: bool) -> list[Scene]:
    """The benchmark's scenes: 1 to 10 people crossing, roaming, leaving and re-entering, standing; 15 Hz except
    "variable_rate" (15 Hz with +-20 ms stamp jitter, 10 % of the frames dropped and ~0.5 s gaps)."""
    duration_s, repeats = (6.0, 1) if quick else (20.0, 6)
    stamps = np.arange(0.0, duration_s, 1.0 / 15.0)
    scenes = []
    for _ in range(repeats):
        scenes += [
            Scene("crossing", tuple(_crossing(rng, duration_s, 1)), stamps),
            Scene("crossing", tuple(_crossing(rng, duration_s, 1)), stamps),
            Scene("crossing_4", tuple(_crossing(rng, duration_s, 2)), stamps),
            Scene("walking_3", tuple(_roaming(rng, 3, duration_s)), stamps),
            Scene("reentry", tuple(_reentry(rng, duration_s)), stamps),
            Scene("standing_4", tuple(_roaming(rng, 4, duration_s, standing=True)), stamps),
            Scene("crowd_10", tuple(_roaming(rng, 10, duration_s)), stamps),
        ]
        jittered = stamps + rng.uniform(-0.02, 0.02, len(stamps))
        keep = (rng.random(len(stamps)) > 0.1) & (np.sin(stamps * 1.3) < 0.95)  # random drops and ~0.5 s gaps
        scenes.append(Scene("variable_rate", tuple(_crossing(rng, duration_s, 1)), np.sort(jittered[keep])))
    return scenes
