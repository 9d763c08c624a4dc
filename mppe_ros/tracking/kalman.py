"""Kalman filter of one person's 3D root in the tracking frame (m): the camera's optical frame (x right, y down,
z forward), or a fixed frame in which the camera moves (its pose given with each measurement, RigidTransform
`tracking <- optical`; the identity by default).

State [x, y, z, vx, vy, vz] (m, m/s). Motion: the velocity decays towards zero with time constant velocity_time_s
(an integrated Ornstein-Uhlenbeck process; inf gives the constant-velocity model) and is driven by white acceleration
noise of std accel_noise_mps2, so the covariance grows with the step dt_s; both matrices are exact for any dt_s.
A decaying velocity is what people do between measurements: they stop and turn, so a person unseen for a second
is predicted near where they were last seen and walking on, not metres away.

Measurement noise is anisotropic: std across_ray_m across the camera ray, along_ray_per_depth * depth along it (a
monocular root's error is mostly in depth and grows with it; the ray and the depth are the measuring camera's).
With along_ray_adapt_s > 0 the filter estimates its own along-ray noise from its innovations (below): RootNet's
depth error is mostly a per-person bias that repeats from frame to frame, so what a track needs to expect from one
frame to the next is often much less than the error's total size, and how much less depends on the person and the
scene.
"""

from __future__ import annotations

import math

import numpy as np

from mppe_ros.tracking.transforms import IDENTITY, RigidTransform

INITIAL_SPEED_STD_MPS = 1.5  # prior std of each velocity component of a new track (walking speed)
_CLIP_SIGMAS = 3.0  # an innovation counts at most this many (predicted) stds in the noise estimate
_H = np.hstack((np.eye(3), np.zeros((3, 3))))  # measurement: position only


def ray_covariance(point_m: np.ndarray, across_std_m: float, along_std_m: float) -> np.ndarray:
    """[3, 3] covariance: std `along_std_m` along the camera ray through `point_m` ([3], m), `across_std_m` across."""
    ray = np.asarray(point_m, dtype=np.float64) / max(float(np.linalg.norm(point_m)), 1e-9)
    along = np.outer(ray, ray)
    return across_std_m**2 * (np.eye(3) - along) + along_std_m**2 * along


def motion_model(dt_s: float, velocity_time_s: float) -> tuple[np.ndarray, np.ndarray]:
    """One axis (position, velocity) over `dt_s` s: [2, 2] transition and [2, 2] process noise per (m/s^2)^2.

    Velocity decay rate b = 1 / velocity_time_s, x = b dt: transition [[1, (1 - e^-x) / b], [0, e^-x]]; noise
    [[(2x - 3 + 4e^-x - e^-2x) / 2b^3, (1 - e^-x)^2 / 2b^2], [., (1 - e^-2x) / 2b]], which tends to the
    constant-velocity [[dt^3/3, dt^2/2], [dt^2/2, dt]] as b dt -> 0 (used below 1e-4).
    """
    x = dt_s / velocity_time_s
    if x < 1e-4:
        return np.array([[1.0, dt_s], [0.0, 1.0]]), np.array([[dt_s**3 / 3.0, dt_s**2 / 2.0], [dt_s**2 / 2.0, dt_s]])
    rate, decay = 1.0 / velocity_time_s, math.exp(-x)
    q_pp = (2.0 * x - 3.0 + 4.0 * decay - decay**2) / (2.0 * rate**3)
    q_pv = (1.0 - decay) ** 2 / (2.0 * rate**2)
    q_vv = (1.0 - decay**2) / (2.0 * rate)
    return np.array([[1.0, (1.0 - decay) / rate], [0.0, decay]]), np.array([[q_pp, q_pv], [q_pv, q_vv]])


class RootKalmanFilter:
    """Kalman filter of a root: position [3] m and velocity [3] m/s, started from a first measurement.

    Args:
        root_m: [3] first measured root, m, tracking frame.
        accel_noise_mps2: std of the unmodelled acceleration, m/s^2.
        across_ray_m: measurement std across the ray, m.
        along_ray_per_depth: measurement std along the ray per metre of depth (m/m); with along_ray_adapt_s > 0,
            the starting value of the estimate.
        velocity_time_s: time constant of the velocity's decay, s (inf: constant velocity).
        along_ray_adapt_s: 0: along_ray_per_depth stays fixed. > 0: the filter estimates it as the exponential
            average, over this many seconds, of its along-ray innovations squared (each clipped to 3 predicted
            stds, so one wrong association does not open the gate) less the share of the prediction's own
            uncertainty, and never below along_ray_min_per_depth.
        along_ray_min_per_depth: floor of that estimate (m/m).
        camera_pose: the measuring camera's pose in the tracking frame (`tracking <- optical`; identity: the tracking
            frame is the optical frame).
    """

    def __init__(
        self, root_m: np.ndarray, accel_noise_mps2: float, across_ray_m: float, along_ray_per_depth: float,
        velocity_time_s: float = math.inf, along_ray_adapt_s: float = 0.0, along_ray_min_per_depth: float = 0.0,
        camera_pose: RigidTransform = IDENTITY,
    ) -> None:  # fmt: skip
        self._accel_noise_mps2 = accel_noise_mps2
        self._across_ray_m = across_ray_m
        self._velocity_time_s = velocity_time_s
        self._adapt_s = along_ray_adapt_s
        self._along_min = along_ray_min_per_depth
        self.along_ray_per_depth = along_ray_per_depth
        self._innovation_sq = along_ray_per_depth**2  # average (along-ray innovation / depth)^2
        self._since_update_s = 0.0
        self.state = np.concatenate((np.asarray(root_m, dtype=np.float64), np.zeros(3)))
        self.covariance = np.zeros((6, 6))
        self.covariance[:3, :3] = self.measurement_covariance(root_m, camera_pose)
        self.covariance[3:, 3:] = INITIAL_SPEED_STD_MPS**2 * np.eye(3)

    @property
    def position_m(self) -> np.ndarray:
        """[3] estimated root, m."""
        return self.state[:3].copy()

    @property
    def velocity_mps(self) -> np.ndarray:
        """[3] estimated root velocity, m/s."""
        return self.state[3:].copy()

    def measurement_covariance(self, root_m: np.ndarray, camera_pose: RigidTransform = IDENTITY) -> np.ndarray:
        """[3, 3] covariance of a root measured at `root_m` ([3], m) by the camera at `camera_pose`: wide along that
        camera's ray, narrow across."""
        along_std_m = self.along_ray_per_depth * max(float(camera_pose.depths_m(root_m)), 0.0)
        ray_m = np.asarray(root_m, dtype=np.float64) - camera_pose.translation_m
        return ray_covariance(ray_m, self._across_ray_m, max(along_std_m, self._across_ray_m))

    def predicted(self, dt_s: float) -> tuple[np.ndarray, np.ndarray]:
        """State [6] and covariance [6, 6] `dt_s` seconds (>= 0) ahead, without changing the filter."""
        transition, noise = motion_model(dt_s, self._velocity_time_s)
        transition = np.kron(transition, np.eye(3))
        noise = np.kron(noise * self._accel_noise_mps2**2, np.eye(3))
        return transition @ self.state, transition @ self.covariance @ transition.T + noise

    def predict(self, dt_s: float) -> None:
        """Advance the filter by `dt_s` seconds (>= 0)."""
        self.state, self.covariance = self.predicted(dt_s)
        self._since_update_s += dt_s

    def innovation_distances(
        self, dt_s: float, roots_m: np.ndarray, camera_pose: RigidTransform = IDENTITY
    ) -> np.ndarray:
        """[D] Mahalanobis distances of roots [D, 3] (m) measured by the camera at `camera_pose` from the root
        predicted `dt_s` s ahead.

        The innovation covariance is the predicted position's plus a measurement's at the predicted root: wide
        along the camera ray, narrow across, and growing with dt_s.
        """
        state, covariance = self.predicted(dt_s)
        innovation_cov = covariance[:3, :3] + self.measurement_covariance(state[:3], camera_pose)
        offsets_m = np.asarray(roots_m, dtype=np.float64).reshape(-1, 3) - state[:3]
        squared = np.einsum("dk,kd->d", offsets_m, np.linalg.solve(innovation_cov, offsets_m.T))
        distances: np.ndarray = np.sqrt(np.clip(squared, 0.0, None))
        return distances

    def update(self, root_m: np.ndarray, camera_pose: RigidTransform = IDENTITY) -> None:
        """Correct the (already predicted) state with a root `root_m` ([3], m) measured by the camera at
        `camera_pose`."""
        root_m = np.asarray(root_m, dtype=np.float64)
        if self._adapt_s > 0.0:
            self._adapt_along_ray_noise(root_m, camera_pose)
        measurement_cov = self.measurement_covariance(root_m, camera_pose)
        innovation_cov = _H @ self.covariance @ _H.T + measurement_cov
        gain = np.linalg.solve(innovation_cov, _H @ self.covariance).T  # [6, 3]; innovation_cov is symmetric
        self.state = self.state + gain @ (root_m - _H @ self.state)
        keep = np.eye(6) - gain @ _H
        self.covariance = keep @ self.covariance @ keep.T + gain @ measurement_cov @ gain.T  # Joseph form
        self._since_update_s = 0.0

    def _adapt_along_ray_noise(self, root_m: np.ndarray, camera_pose: RigidTransform) -> None:
        """Move along_ray_per_depth towards what this measurement's along-ray innovation says (see the class)."""
        depth_m = max(float(camera_pose.depths_m(self.state[:3])), 0.1)
        ray_m = self.state[:3] - camera_pose.translation_m
        ray = ray_m / max(float(np.linalg.norm(ray_m)), 1e-9)
        predicted_sq = float(ray @ self.covariance[:3, :3] @ ray) / depth_m**2  # the prediction's share
        limit = _CLIP_SIGMAS * math.sqrt(predicted_sq + self.along_ray_per_depth**2)
        innovation = float(np.clip(ray @ (root_m - self.state[:3]) / depth_m, -limit, limit))
        weight = 1.0 - math.exp(-self._since_update_s / self._adapt_s)
        self._innovation_sq += weight * (innovation**2 - self._innovation_sq)
        self.along_ray_per_depth = math.sqrt(max(self._along_min**2, self._innovation_sq - predicted_sq))
