"""Rigid transforms between frames (REP-103: metres, right-handed) and a frame's results expressed in another frame.

`RigidTransform(rotation, translation_m)` maps points of a source frame into a target frame: p_target = R p_source + t
(what tf2 calls the transform `target <- source`, lookup_transform(target, source, stamp)). A CameraSession given the
camera's pose in a fixed tracking frame (`tracking <- camera optical`, e.g. odom <- camera_optical_frame at the
image's stamp) tracks people in that frame, so the robot's own motion does not move them; `express` then gives a
frame's results in the output frame (`output <- tracking`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from mppe_ros.tracking.session import TrackedResult


@dataclass(frozen=True, eq=False)
class RigidTransform:
    """p_target = rotation @ p_source + translation_m.

    Attributes:
        rotation: [3, 3] rotation matrix (orthonormal, det +1).
        translation_m: [3] the source frame's origin in the target frame, m.
    """

    rotation: np.ndarray
    translation_m: np.ndarray

    @classmethod
    def identity(cls) -> RigidTransform:
        """The transform of a frame to itself."""
        return cls(np.eye(3), np.zeros(3))

    @classmethod
    def from_quaternion(
        cls, quaternion_xyzw: tuple[float, float, float, float], translation_m: np.ndarray
    ) -> RigidTransform:
        """From a quaternion (x, y, z, w: geometry_msgs/Quaternion's order; normalised here) and a translation, m."""
        x, y, z, w = np.asarray(quaternion_xyzw, dtype=np.float64) / max(float(np.linalg.norm(quaternion_xyzw)), 1e-12)
        rotation = np.array([
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ])  # fmt: skip
        return cls(rotation, np.asarray(translation_m, dtype=np.float64).reshape(3))

    @property
    def is_identity(self) -> bool:
        """Exactly the identity (points and vectors come back unchanged, bit for bit)."""
        return bool(np.array_equal(self.rotation, np.eye(3)) and not self.translation_m.any())

    def points(self, points_m: np.ndarray) -> np.ndarray:
        """[..., 3] points of the source frame -> the target frame, m."""
        points_m = np.asarray(points_m, dtype=np.float64)
        if self.is_identity:
            return points_m
        moved: np.ndarray = points_m @ self.rotation.T + self.translation_m
        return moved

    def vectors(self, vectors: np.ndarray) -> np.ndarray:
        """[..., 3] free vectors (velocities, directions) of the source frame -> the target frame's axes."""
        vectors = np.asarray(vectors, dtype=np.float64)
        if self.is_identity:
            return vectors
        turned: np.ndarray = vectors @ self.rotation.T
        return turned

    def inverse(self) -> RigidTransform:
        """source <- target."""
        return RigidTransform(self.rotation.T, -self.rotation.T @ self.translation_m)

    def __matmul__(self, other: RigidTransform) -> RigidTransform:
        """self (a <- b) @ other (b <- c) = a <- c."""
        return RigidTransform(self.rotation @ other.rotation, self.rotation @ other.translation_m + self.translation_m)

    def depths_m(self, points_m: np.ndarray) -> np.ndarray:
        """[...] depths of target-frame points [..., 3] along the source frame's z axis (for a camera's pose
        `tracking <- optical`: the distance in front of the camera, m)."""
        return np.asarray(self.inverse().points(points_m))[..., 2]


IDENTITY = RigidTransform.identity()


def express(
    tracked: TrackedResult, output_from_tracking: RigidTransform, output_from_camera: RigidTransform
) -> TrackedResult:
    """`tracked` (tracks, trails in the tracking frame; the raw persons in the camera's optical frame) with every 3D
    quantity in the output frame: points moved, velocities turned into its axes (the velocity stays the one relative
    to the tracking frame). 2D quantities (px) are unchanged. The raw persons' `root_cam_m` / `joints_cam_m` then hold
    output-frame coordinates (what the messages publish with tracking off)."""
    if output_from_tracking.is_identity and output_from_camera.is_identity:
        return tracked
    persons = tuple(
        dataclasses.replace(
            person,
            root_cam_m=output_from_camera.points(person.root_cam_m),
            joints_cam_m=output_from_camera.points(person.joints_cam_m),
        )
        for person in tracked.result.persons
    )
    tracks = None
    if tracked.tracks is not None:
        tracks = [
            dataclasses.replace(
                track,
                root_m=output_from_tracking.points(track.root_m),
                joints_m=output_from_tracking.points(track.joints_m),
                velocity_mps=output_from_tracking.vectors(track.velocity_mps),
            )
            for track in tracked.tracks
        ]
    trails = {track_id: output_from_tracking.points(trail) for track_id, trail in tracked.trails.items()}
    result = dataclasses.replace(tracked.result, persons=persons)
    return dataclasses.replace(tracked, result=result, tracks=tracks, trails=trails)
