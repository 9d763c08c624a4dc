"""mppe_ros.tracking.kalman: ray-shaped noise, the decaying-velocity motion model, prediction, update, the gate
distance and the along-ray noise the filter learns from its innovations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mppe_ros.tracking.kalman import INITIAL_SPEED_STD_MPS, RootKalmanFilter, motion_model, ray_covariance

DT_S = 1.0 / 15.0


def test_ray_covariance_is_wide_along_the_ray_and_narrow_across():
    covariance = ray_covariance(np.array([0.0, 0.0, 4.0]), across_std_m=0.1, along_std_m=0.5)
    np.testing.assert_allclose(covariance, np.diag([0.01, 0.01, 0.25]), atol=1e-12)
    point = np.array([3.0, 0.0, 4.0])
    ray = point / 5.0
    assert ray @ ray_covariance(point, 0.1, 0.5) @ ray == pytest.approx(0.25)


def test_motion_model_is_constant_velocity_without_decay_and_bounds_a_decaying_velocity():
    transition, noise = motion_model(0.5, math.inf)
    np.testing.assert_allclose(transition, [[1.0, 0.5], [0.0, 1.0]])
    np.testing.assert_allclose(noise, [[0.5**3 / 3, 0.5**2 / 2], [0.5**2 / 2, 0.5]])
    near_cv, near_cv_noise = motion_model(0.5, 1e5)  # a very slow decay tends to constant velocity
    np.testing.assert_allclose(near_cv, transition, rtol=1e-4)
    np.testing.assert_allclose(near_cv_noise, noise, rtol=1e-3)
    long_run, long_noise = motion_model(100.0, 0.3)  # walking on for 0.3 s at most; velocity variance q * 0.3 / 2
    assert long_run[0, 1] == pytest.approx(0.3) and long_run[1, 1] == pytest.approx(0.0, abs=1e-12)
    assert long_noise[1, 1] == pytest.approx(0.15)
    halves = motion_model(0.25, 0.3)[0] @ motion_model(0.25, 0.3)[0]  # two half steps are one step
    np.testing.assert_allclose(halves, motion_model(0.5, 0.3)[0])


def test_predict_moves_with_the_velocity_and_grows_the_uncertainty():
    kalman = RootKalmanFilter(np.array([0.0, 0.0, 5.0]), 1.0, 0.05, 0.05)
    assert kalman.covariance[3, 3] == pytest.approx(INITIAL_SPEED_STD_MPS**2)
    kalman.state[3:] = (1.0, 0.0, 0.0)
    state, covariance = kalman.predicted(0.5)
    np.testing.assert_allclose(state[:3], [0.5, 0.0, 5.0])
    assert np.trace(covariance) > np.trace(kalman.covariance)
    np.testing.assert_allclose(kalman.position_m, [0.0, 0.0, 5.0])  # predicted() changes nothing
    decaying = RootKalmanFilter(np.array([0.0, 0.0, 5.0]), 1.0, 0.05, 0.05, velocity_time_s=0.3)
    decaying.state[3:] = (1.0, 0.0, 0.0)
    assert decaying.predicted(2.0)[0][0] == pytest.approx(0.3 * (1.0 - math.exp(-2.0 / 0.3)))  # stops ~0.3 m on


def test_updates_of_a_constant_velocity_walk_estimate_its_velocity():
    kalman = RootKalmanFilter(np.array([0.0, 0.0, 5.0]), 0.5, 0.02, 0.02)
    for step in range(1, 31):
        kalman.predict(0.1)
        kalman.update(np.array([0.1 * step * 1.2, 0.0, 5.0]))
    np.testing.assert_allclose(kalman.velocity_mps, [1.2, 0.0, 0.0], atol=0.05)
    np.testing.assert_allclose(kalman.covariance, kalman.covariance.T, atol=1e-12)


def test_innovation_distance_is_loose_along_the_ray_and_tight_across():
    kalman = RootKalmanFilter(np.array([0.0, 0.0, 5.0]), 0.5, 0.03, 0.1)
    along, across = kalman.innovation_distances(0.0, np.array([[0.0, 0.0, 5.5], [0.5, 0.0, 5.0]]))
    assert along < 2.0 < 8.0 < across  # 0.5 m along the ray is ~1 sigma, 0.5 m across is many
    np.testing.assert_allclose(kalman.innovation_distances(0.0, np.array([[0.0, 0.0, 5.0]])), [0.0], atol=1e-12)


@pytest.mark.parametrize(("frame_std", "bias_std"), [(0.03, 0.095), (0.10, 0.0)])
def test_the_along_ray_noise_estimate_follows_the_frame_to_frame_part_of_the_depth_error(frame_std, bias_std):
    rng = np.random.default_rng(4)
    truth = np.array([0.5, 0.3, 4.0])
    bias = rng.normal(0.0, bias_std)  # one person's RootNet bias: the same in every frame
    kalman = RootKalmanFilter(truth, 2.0, 0.03, 0.1, 0.3, along_ray_adapt_s=2.0, along_ray_min_per_depth=0.02)
    for _ in range(300):
        kalman.predict(DT_S)
        kalman.update(truth * (1.0 + bias + rng.normal(0.0, frame_std)))
    assert kalman.along_ray_per_depth == pytest.approx(frame_std, rel=0.35)
