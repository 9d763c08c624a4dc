"""mppe_ros.tracking_kalman: ray-shaped measurement noise, prediction and update of the root filter."""

from __future__ import annotations

import numpy as np
import pytest

from mppe_ros.tracking_kalman import INITIAL_SPEED_STD_MPS, RootKalmanFilter, ray_covariance


def test_ray_covariance_is_wide_along_the_ray_and_narrow_across():
    covariance = ray_covariance(np.array([0.0, 0.0, 4.0]), across_std_m=0.1, along_std_m=0.5)
    np.testing.assert_allclose(covariance, np.diag([0.01, 0.01, 0.25]), atol=1e-12)
    point = np.array([3.0, 0.0, 4.0])
    ray = point / 5.0
    assert ray @ ray_covariance(point, 0.1, 0.5) @ ray == pytest.approx(0.25)


def test_predict_moves_with_the_velocity_and_grows_the_uncertainty():
    kalman = RootKalmanFilter(np.array([0.0, 0.0, 5.0]), 1.0, 0.05, 0.05)
    assert kalman.covariance[3, 3] == pytest.approx(INITIAL_SPEED_STD_MPS**2)
    kalman.state[3:] = (1.0, 0.0, 0.0)
    state, covariance = kalman.predicted(0.5)
    np.testing.assert_allclose(state[:3], [0.5, 0.0, 5.0])
    assert np.trace(covariance) > np.trace(kalman.covariance)
    np.testing.assert_allclose(kalman.position_m, [0.0, 0.0, 5.0])  # predicted() changes nothing


def test_updates_of_a_constant_velocity_walk_estimate_its_velocity():
    kalman = RootKalmanFilter(np.array([0.0, 0.0, 5.0]), 0.5, 0.02, 0.02)
    for step in range(1, 31):
        kalman.predict(0.1)
        kalman.update(np.array([0.1 * step * 1.2, 0.0, 5.0]))
    np.testing.assert_allclose(kalman.velocity_mps, [1.2, 0.0, 0.0], atol=0.05)
    np.testing.assert_allclose(kalman.covariance, kalman.covariance.T, atol=1e-12)
