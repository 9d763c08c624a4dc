"""Constant-velocity Kalman filter of one person's 3D root in the camera optical frame (m, x right, y down, z fwd).

State [x, y, z, vx, vy, vz] (m, m/s). Process noise: white acceleration of std accel_noise_mps2, so its
covariance grows with the step dt_s (Q = q^2 [[dt^3/3, dt^2/2], [dt^2/2, dt]] per axis). Measurement noise
is anisotropic: std measurement_across_ray_m across the camera ray, and measurement_along_ray_per_depth * z
along it (a monocular root's error is mostly in depth and grows with it).
"""

from __future__ import annotations

import numpy as np

INITIAL_SPEED_STD_MPS = 1.5  # prior std of each velocity component of a new track (walking speed)
_H = np.hstack((np.eye(3), np.zeros((3, 3))))  # measurement: position only


def ray_covariance(point_m: np.ndarray, across_std_m: float, along_std_m: float) -> np.ndarray:
    """[3, 3] covariance: std `along_std_m` along the camera ray through `point_m` ([3], m), `across_std_m` across."""
    ray = np.asarray(point_m, dtype=np.float64) / max(float(np.linalg.norm(point_m)), 1e-9)
    along = np.outer(ray, ray)
    return across_std_m**2 * (np.eye(3) - along) + along_std_m**2 * along


class RootKalmanFilter:
    """Kalman filter of a root: position [3] m and velocity [3] m/s, started from a first measurement.

    Args:
        root_m: [3] first measured root, m.
        accel_noise_mps2: std of the unmodelled acceleration, m/s^2.
        across_ray_m: measurement std across the ray, m.
        along_ray_per_depth: measurement std along the ray per metre of depth (m/m).
    """

    def __init__(self, root_m: np.ndarray, accel_noise_mps2: float, across_ray_m: float, along_ray_per_depth: float):
        self._accel_noise_mps2 = accel_noise_mps2
        self._across_ray_m = across_ray_m
        self._along_ray_per_depth = along_ray_per_depth
        self.state = np.concatenate((np.asarray(root_m, dtype=np.float64), np.zeros(3)))
        self.covariance = np.zeros((6, 6))
        self.covariance[:3, :3] = self.measurement_covariance(root_m)
        self.covariance[3:, 3:] = INITIAL_SPEED_STD_MPS**2 * np.eye(3)

    @property
    def position_m(self) -> np.ndarray:
        """[3] estimated root, m."""
        return self.state[:3].copy()

    @property
    def velocity_mps(self) -> np.ndarray:
        """[3] estimated root velocity, m/s."""
        return self.state[3:].copy()

    def measurement_covariance(self, root_m: np.ndarray) -> np.ndarray:
        """[3, 3] covariance of a measured root at `root_m` ([3], m): wide along the ray, narrow across."""
        along_std_m = self._along_ray_per_depth * max(float(root_m[2]), 0.0)
        return ray_covariance(root_m, self._across_ray_m, max(along_std_m, self._across_ray_m))

    def predicted(self, dt_s: float) -> tuple[np.ndarray, np.ndarray]:
        """State [6] and covariance [6, 6] `dt_s` seconds (>= 0) ahead, without changing the filter."""
        transition = np.eye(6)
        transition[:3, 3:] = dt_s * np.eye(3)
        q = self._accel_noise_mps2**2
        noise = np.kron(np.array([[dt_s**3 / 3.0, dt_s**2 / 2.0], [dt_s**2 / 2.0, dt_s]]) * q, np.eye(3))
        return transition @ self.state, transition @ self.covariance @ transition.T + noise

    def predict(self, dt_s: float) -> None:
        """Advance the filter by `dt_s` seconds (>= 0)."""
        self.state, self.covariance = self.predicted(dt_s)

    def update(self, root_m: np.ndarray) -> None:
        """Correct the (already predicted) state with a measured root `root_m` ([3], m)."""
        root_m = np.asarray(root_m, dtype=np.float64)
        measurement_cov = self.measurement_covariance(root_m)
        innovation_cov = _H @ self.covariance @ _H.T + measurement_cov
        gain = np.linalg.solve(innovation_cov, _H @ self.covariance).T  # [6, 3]; innovation_cov is symmetric
        self.state = self.state + gain @ (root_m - _H @ self.state)
        keep = np.eye(6) - gain @ _H
        self.covariance = keep @ self.covariance @ keep.T + gain @ measurement_cov @ gain.T  # Joseph form
