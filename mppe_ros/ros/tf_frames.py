"""The frames of a frame's results through TF: the camera's pose in `tracking_frame` and the output frame's transform,
looked up at the image's stamp with tf2_ros. The node's Buffer is filled by a TransformListener and a lookup waits up
to `tf_timeout_s` on the inference thread (never the executor's: the listener's subscriptions are served there
meanwhile); `mppe-ros process` fills one with a recording's /tf and /tf_static before its first frame and never waits
(mppe_ros.ros.recording.bag_tf).

Empty `tracking_frame` / `output_frame` mean the image's own frame (header.frame_id): no lookup at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mppe_ros.tracking.transforms import IDENTITY, RigidTransform

INSTALL_TF2 = (
    "tracking_frame/output_frame need tf2_ros: install it (apt: ros-$ROS_DISTRO-tf2-ros-py, rosdep key tf2_ros_py; "
    "this repository's venv: bash ../shared/ros-tools/install.sh .venv) or leave both parameters empty"
)
USUAL_CAUSES = (
    "usual causes: no robot_state_publisher (or static transform) for the camera, no odometry publishing the "
    "tracking frame, or a clock mismatch (use_sim_time true for a bag played with --clock, false for a live camera)"
)


class TransformUnavailableError(RuntimeError):
    """No transform at the image's stamp; `kind` (lookup, connectivity, extrapolation) keys the log line."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class FramePoses:
    """One image's frames: camera_pose (tracking <- optical), output_from_tracking, output_from_camera, and the
    output frame's name (the messages' header.frame_id)."""

    camera_pose: RigidTransform
    output_from_tracking: RigidTransform
    output_from_camera: RigidTransform
    output_frame: str


def rigid_transform(msg: Any) -> RigidTransform:
    """geometry_msgs/TransformStamped -> RigidTransform (header.frame_id <- child_frame_id)."""
    t, q = msg.transform.translation, msg.transform.rotation
    return RigidTransform.from_quaternion((q.x, q.y, q.z, q.w), np.array([t.x, t.y, t.z]))


def wanted_frames(settings: Any) -> tuple[str, str]:
    """(tracking_frame, output_frame) of NodeSettings `settings`: tracking_frame only with tracking on; "" is the
    image's frame."""
    return settings.tracking_frame if settings.tracking else "", settings.output_frame


def import_tf2() -> Any:
    """The tf2_ros module; ImportError with INSTALL_TF2 when it does not import."""
    try:
        import tf2_ros
    except ImportError:
        raise ImportError(INSTALL_TF2) from None
    return tf2_ros


class TfFrames:
    """Lookups in a tf2_ros Buffer; `poses` gives an image's FramePoses.

    Args:
        buffer: a tf2_ros.Buffer (filled by a TransformListener: `listening`; or with a recording's transforms).
        tracking_frame, output_frame: the frames (empty: the image's frame; the node passes tracking_frame only
            with tracking on).
        listener: the TransformListener filling `buffer`, unregistered by `close` (None: nothing to stop).
        waits: whether a lookup waits up to its timeout (False: the buffer holds everything there will be).
    """

    def __init__(
        self, buffer: Any, tracking_frame: str, output_frame: str, listener: Any = None, waits: bool = True
    ) -> None:
        self.buffer, self.tracking_frame, self.output_frame = buffer, tracking_frame, output_frame
        self.listener, self.waits = listener, waits
        self._tf2 = import_tf2()

    @classmethod
    def listening(cls, node: Any, tracking_frame: str, output_frame: str) -> TfFrames:
        """A Buffer filled by a TransformListener on `node`, whose executor serves its /tf and /tf_static
        subscriptions.

        Raises:
            ImportError: tf2_ros does not import (the message is INSTALL_TF2).
        """
        tf2_ros = import_tf2()
        buffer = tf2_ros.Buffer(node=node)
        return cls(buffer, tracking_frame, output_frame, tf2_ros.TransformListener(buffer, node, spin_thread=False))

    def close(self) -> None:
        """Stop listening (the subscriptions are destroyed)."""
        if self.listener is not None:
            self.listener.unregister()

    def poses(self, header: Any, timeout_s: float) -> FramePoses:
        """The frames of the image with `header` (frame_id, stamp).

        Raises:
            TransformUnavailableError: a transform is missing or needs extrapolation after waiting timeout_s.
        """
        camera = header.frame_id
        timeout_s = timeout_s if self.waits else 0.0
        tracking, output = self.tracking_frame or camera, self.output_frame or camera
        camera_pose = self._lookup(tracking, camera, header.stamp, timeout_s)
        output_from_tracking = self._lookup(output, tracking, header.stamp, timeout_s)
        return FramePoses(camera_pose, output_from_tracking, output_from_tracking @ camera_pose, output)

    def _lookup(self, target: str, source: str, stamp: Any, timeout_s: float) -> RigidTransform:
        if target == source:
            return IDENTITY
        from rclpy.duration import Duration
        from rclpy.time import Time

        tf2 = self._tf2
        try:
            msg = self.buffer.lookup_transform(target, source, Time.from_msg(stamp), Duration(seconds=timeout_s))
        except tf2.ExtrapolationException as error:
            raise TransformUnavailableError(
                "extrapolation", f"{target} <- {source} at the image stamp: {error}"
            ) from None
        except tf2.ConnectivityException as error:
            message = f"{target} <- {source}: no chain of transforms: {error}"
            raise TransformUnavailableError("connectivity", message) from None
        except tf2.TransformException as error:  # LookupException, InvalidArgumentException, ...
            raise TransformUnavailableError("lookup", f"{target} <- {source}: {error}") from None
        return rigid_transform(msg)
