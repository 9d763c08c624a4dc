"""REP-155 (ROS4HRI) bodies and their TF frames, from the tracker's confirmed tracks.

`BodyPublisher.publish` is called once per processed frame with that frame's tracks (mppe_ros.tracking.TrackedPerson)
and publishes, every message with the image's header (topics in the node's namespace: `/front/humans/bodies/...` in
`/front`):
- `/humans/bodies/tracked` (hri_msgs/IdsList): the body ids of this frame's confirmed tracks, every frame (also empty);
- per confirmed track, `/humans/bodies/<id>/`:
  - `roi` (hri_msgs/NormalizedRegionOfInterest2D): the detection box of this frame divided by the image size,
    clipped to [0, 1]; c = this frame's detection score;
  - `skeleton2d` (hri_msgs/Skeleton2D): the 2D joints in OpenPose-18 order (mppe_ros.skeleton2d: the table, the
    normalisation, c = the joint confidence, 0 for slots without a joint);
  - `cropped` (sensor_msgs/Image, bgr8): the detection box cut from the full-resolution image (not the 256x256
    network input), only while the topic has a subscriber and the image is given;
- TF (`publish_tf`): one tf2_msgs/TFMessage per frame on `/tf` with, per confirmed track, `body_<id>` in the image's
  frame (the optical frame) at the image's stamp (mppe_ros.body_frame: origin at the mid-hip in full 3D, x forward,
  z up the spine), and (`publish_joint_frames`) `<joint>_<id>` per finite joint (`l_hip_b7`, ...) parented to
  `body_<id>`, with the body's axes. It is the publisher tf2_ros.TransformBroadcaster creates (TFMessage on /tf,
  reliable, volatile, keep last 100), so tf2_ros is not needed.

Body ids: `b<track id>` (BODY_ID_PREFIX + PersonPose3D.id on /humans/poses3d), `<id prefix>_b<track id>` for a node
with an id prefix (so two cameras' bodies and TF frames never share a name): ROS 2 topic name tokens cannot start with
a digit, so the bare track id cannot name `/humans/bodies/<id>/roi`. Track ids are never reused, so a body id is valid
while tracked and never names another person.

A body's publishers are created when its track is first confirmed and destroyed at the first frame it is absent
from the tracks for longer than `retain_s` (frame times; 0: the first frame without it; the node passes the tracker's
max_age_s with every frame, so a change applies at once), so the node's publisher count returns to its base as people
come and go. The node calls `publish` and `close` on its executor thread, where rclpy wants publishers created.
hri_msgs and tf2_msgs are optional: `rep155_available()` says whether
they import.
"""

from __future__ import annotations

import importlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from geometry_msgs.msg import Quaternion, TransformStamped, Vector3
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from mppe_ros.body_frame import DEFAULT_MIN_CONFIDENCE, body_frame
from mppe_ros.joint_sets import JointSet
from mppe_ros.ros.conversions import bgr_to_image_msg
from mppe_ros.ros.node_names import BODIES_NAMESPACE
from mppe_ros.skeleton2d import skeleton2d_points

BODY_ID_PREFIX = "b"
_BODY_ID = re.compile(r"(?:[A-Za-z][A-Za-z0-9_]*_)?b([0-9]+)")
BODY_FRAME_PREFIX = "body_"
TF_TOPIC = "/tf"
# tf2_ros.TransformBroadcaster's publisher: QoSProfile(depth=100) = reliable, volatile, keep last 100.
TF_QOS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=100,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.VOLATILE,
)
BODY_QOS = QoSProfile(depth=10)  # tracked, roi, skeleton2d: reliable, volatile (what ROS4HRI subscribers use)
CROPPED_QOS = QoSProfile(depth=1)  # images: keep one
INSTALL_HINT = (
    "install them (rosdep keys hri_msgs and tf2_msgs; without a ROS install: bash ../shared/ros-tools/install.sh .venv)"
)


def rep155_available() -> tuple[bool, str]:
    """(True, "") when hri_msgs and tf2_msgs import; else (False, one line naming what is missing and the remedy)."""
    missing = []
    for module in ("hri_msgs.msg", "tf2_msgs.msg"):
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(module.split(".")[0])
    if missing:
        return False, f"REP-155 bodies and TF are off: {' and '.join(missing)} cannot be imported; {INSTALL_HINT}"
    return True, ""


def body_id(track_id: int, id_prefix: str = "") -> str:
    """The REP-155 body id of a track (`b17` for track 17; `front_b17` for a node with id prefix `front`)."""
    return f"{id_prefix}_{BODY_ID_PREFIX}{int(track_id)}" if id_prefix else f"{BODY_ID_PREFIX}{int(track_id)}"


def track_id_of(body: str) -> int:
    """The track id (PersonPose3D.id) of a body id: the inverse of body_id."""
    match = _BODY_ID.fullmatch(body)
    if match is None:
        raise ValueError(f"{body!r} is not a body id ([<id prefix>_]{BODY_ID_PREFIX}<track id>)")
    return int(match.group(1))


def body_frame_id(body: str) -> str:
    """The TF frame of a body id (`body_b17`)."""
    return f"{BODY_FRAME_PREFIX}{body}"


def joint_frame_id(joint_name: str, body: str) -> str:
    """The TF frame of one joint of a body (`l_hip_b17`)."""
    return f"{joint_name.lower()}_{body}"


@dataclass
class _Body:
    roi: Any
    skeleton: Any
    cropped: Any | None
    last_seen_s: float
    publishers: list[Any] = field(default_factory=list)


class BodyPublisher:
    """Publishes the REP-155 layer of the node's tracks (see the module docstring).

    Args:
        node: the rclpy node that owns every publisher.
        publish_tf: publish `body_<id>` frames on /tf.
        publish_cropped: create `/humans/bodies/<id>/cropped` (filled only while subscribed and given the image).
        publish_joint_frames: with publish_tf, one frame per joint under `body_<id>`.
        namespace: the bodies' topic prefix (relative: in the node's namespace).
        id_prefix: the node's id prefix (mppe_ros.ros.node_names) in every body id and TF frame name.
        retain_s: keep a body's publishers this long (s, stamps) after its last frame (e.g. the tracker's
            max_age_s, so a track re-found after an occlusion keeps them); 0: destroy at the first frame without it.
        min_confidence: joints below this confidence do not orient the body frame (mppe_ros.body_frame).

    Raises:
        ImportError: hri_msgs (or, with publish_tf, tf2_msgs) does not import (check rep155_available() first).
    """

    def __init__(
        self,
        node: Any,
        publish_tf: bool = True,
        publish_cropped: bool = True,
        publish_joint_frames: bool = False,
        namespace: str = BODIES_NAMESPACE,
        retain_s: float = 0.0,
        min_confidence: float = DEFAULT_MIN_CONFIDENCE,
        id_prefix: str = "",
    ) -> None:
        retain_s = _checked_retention(retain_s)
        from hri_msgs.msg import IdsList, NormalizedPointOfInterest2D, NormalizedRegionOfInterest2D, Skeleton2D

        self._ids_list, self._roi, self._skeleton2d = IdsList, NormalizedRegionOfInterest2D, Skeleton2D
        self._point = NormalizedPointOfInterest2D
        self.node = node
        self.namespace = namespace.rstrip("/")
        self.publish_cropped = publish_cropped
        self.publish_joint_frames = publish_joint_frames
        self.retain_s = retain_s
        self.min_confidence = float(min_confidence)
        self.id_prefix = id_prefix
        self._bodies: dict[str, _Body] = {}
        self._tracked_pub: Any | None = node.create_publisher(self._ids_list, f"{self.namespace}/tracked", BODY_QOS)
        self._tf_pub: Any | None = None
        self._tf_message: Any = None
        if publish_tf:
            from tf2_msgs.msg import TFMessage

            self._tf_message = TFMessage
            self._tf_pub = node.create_publisher(self._tf_message, TF_TOPIC, TF_QOS)

    @property
    def body_ids(self) -> list[str]:
        """The bodies that have publishers now, oldest first."""
        return list(self._bodies)

    def publish(
        self,
        header: Header,
        tracks: Sequence[Any],
        joint_set: JointSet,
        image_width: int,
        image_height: int,
        image_bgr: np.ndarray | None = None,
        time_s: float | None = None,
        retain_s: float | None = None,
    ) -> None:
        """Publish one frame's bodies (call it on the executor thread: it creates and destroys publishers).

        Args:
            header: the input image's header (stamp and frame_id copied into every message).
            tracks: this frame's mppe_ros.tracking.TrackedPerson (Tracker.update's list); tentative ones are ignored.
            joint_set: the skeleton of the tracks' joints.
            image_width, image_height: the image size, px.
            image_bgr: the frame ([image_height, image_width, 3] uint8 BGR) for the `cropped` topics, or None.
            time_s: the frame's time for the bodies' retention, s (mppe_ros.tracking.frame_clock); None: the stamp.
            retain_s: the retention from this frame on, s (the tracker's max_age_s now); None: the constructor's.
        """
        if self._tracked_pub is None:
            raise RuntimeError("BodyPublisher is closed")
        if image_width <= 0 or image_height <= 0:
            raise ValueError(f"image size must be > 0, got {image_width}x{image_height}")
        if image_bgr is not None and tuple(image_bgr.shape[:2]) != (image_height, image_width):
            raise ValueError(f"image_bgr has shape {image_bgr.shape}, expected ({image_height}, {image_width}, 3)")
        header = Header(stamp=header.stamp, frame_id=header.frame_id)
        if retain_s is not None:
            self.retain_s = _checked_retention(retain_s)
        stamp_s = header.stamp.sec + header.stamp.nanosec * 1e-9 if time_s is None else time_s
        confirmed = [(body_id(t.track_id, self.id_prefix), t) for t in tracks if t.is_confirmed]
        self._end_bodies({body for body, _ in confirmed}, stamp_s)
        transforms: list[TransformStamped] = []
        for body, track in confirmed:
            publishers = self._bodies.get(body) or self._new_body(body)
            publishers.last_seen_s = stamp_s
            publishers.roi.publish(self._roi_msg(header, track, image_width, image_height))
            publishers.skeleton.publish(self._skeleton_msg(header, track, joint_set, image_width, image_height))
            cropped = publishers.cropped
            if cropped is not None and image_bgr is not None and cropped.get_subscription_count() > 0:
                crop = _box_crop(image_bgr, track.person.box_xywh_px)
                if crop is not None:
                    cropped.publish(bgr_to_image_msg(crop, header))
            if self._tf_pub is not None:
                transforms += self._transforms(header, body, track, joint_set)
        self._tracked_pub.publish(self._ids_list(header=header, ids=[body for body, _ in confirmed]))
        if self._tf_pub is not None and transforms:
            self._tf_pub.publish(self._tf_message(transforms=transforms))

    def close(self) -> None:
        """Destroy every publisher (the bodies', tracked and /tf); publish() afterwards raises. Idempotent."""
        self._end_bodies(set(), math.inf)
        for publisher in (self._tracked_pub, self._tf_pub):
            if publisher is not None:
                self.node.destroy_publisher(publisher)
        self._tracked_pub = self._tf_pub = None

    # --- per body ------------------------------------------------------------------------------

    def _new_body(self, body: str) -> _Body:
        prefix = f"{self.namespace}/{body}"
        create = self.node.create_publisher
        cropped = create(Image, f"{prefix}/cropped", CROPPED_QOS) if self.publish_cropped else None
        entry = _Body(
            roi=create(self._roi, f"{prefix}/roi", BODY_QOS),
            skeleton=create(self._skeleton2d, f"{prefix}/skeleton2d", BODY_QOS),
            cropped=cropped,
            last_seen_s=-math.inf,
        )
        entry.publishers = [p for p in (entry.roi, entry.skeleton, cropped) if p is not None]
        self._bodies[body] = entry
        return entry

    def _end_bodies(self, present: set[str], stamp_s: float) -> None:
        """Destroy the publishers of bodies absent from `present` for longer than retain_s (or seen 'after' stamp_s:
        time went back)."""
        for body in [b for b in self._bodies if b not in present]:
            age_s = stamp_s - self._bodies[body].last_seen_s
            if age_s > self.retain_s or age_s < 0.0:
                for publisher in self._bodies.pop(body).publishers:
                    self.node.destroy_publisher(publisher)

    def _roi_msg(self, header: Header, track: Any, width: int, height: int) -> Any:
        x, y, w, h = (float(v) for v in track.person.box_xywh_px)
        xmin, xmax = np.clip(np.nan_to_num([x / width, (x + w) / width]), 0.0, 1.0)
        ymin, ymax = np.clip(np.nan_to_num([y / height, (y + h) / height]), 0.0, 1.0)
        c = float(np.clip(np.nan_to_num(track.person.score), 0.0, 1.0))
        return self._roi(header=header, xmin=float(xmin), ymin=float(ymin), xmax=float(xmax), ymax=float(ymax), c=c)

    def _skeleton_msg(self, header: Header, track: Any, joint_set: JointSet, width: int, height: int) -> Any:
        points = skeleton2d_points(track.joints_px, joint_set, width, height, track.person.joint_confidence)
        skeleton = [self._point(x=float(x), y=float(y), c=float(c)) for x, y, c in points]
        return self._skeleton2d(header=header, skeleton=skeleton)

    def _transforms(self, header: Header, body: str, track: Any, joint_set: JointSet) -> list[TransformStamped]:
        frame = body_frame(track.joints_m, joint_set, track.person.joint_confidence, self.min_confidence)
        if frame is None:
            return []
        parent = body_frame_id(body)
        transforms = [transform_stamped(header, header.frame_id, parent, frame.origin_m, frame.quaternion_xyzw)]
        if self.publish_joint_frames:
            joints = np.asarray(track.joints_m, dtype=np.float64)
            identity = np.array([0.0, 0.0, 0.0, 1.0])
            for name, xyz, local in zip(joint_set.joint_names, joints, frame.to_body(joints), strict=True):
                if np.isfinite(xyz).all():
                    transforms.append(transform_stamped(header, parent, joint_frame_id(name, body), local, identity))
        return transforms


def _checked_retention(retain_s: float) -> float:
    if not (math.isfinite(retain_s) and retain_s >= 0.0):
        raise ValueError(f"retain_s must be a finite number >= 0 s, got {retain_s!r}")
    return float(retain_s)


def transform_stamped(
    header: Header, parent: str, child: str, translation: np.ndarray, quaternion_xyzw: np.ndarray
) -> TransformStamped:
    """parent <- child at header's stamp: translation [3] m, quaternion_xyzw [4] (geometry_msgs order)."""
    msg = TransformStamped(header=Header(stamp=header.stamp, frame_id=parent), child_frame_id=child)
    tx, ty, tz = (float(v) for v in translation)
    qx, qy, qz, qw = (float(v) for v in quaternion_xyzw)
    msg.transform.translation = Vector3(x=tx, y=ty, z=tz)
    msg.transform.rotation = Quaternion(x=qx, y=qy, z=qz, w=qw)
    return msg


def _box_crop(image_bgr: np.ndarray, box_xywh_px: np.ndarray) -> np.ndarray | None:
    """The pixels of the box (x, y, w, h) px clipped to the image (outward to whole pixels), or None if empty."""
    height, width = image_bgr.shape[:2]
    x, y, w, h = (float(v) for v in box_xywh_px)
    if not all(math.isfinite(v) for v in (x, y, w, h)):
        return None
    x0, y0 = max(0, math.floor(x)), max(0, math.floor(y))
    x1, y1 = min(width, math.ceil(x + w)), min(height, math.ceil(y + h))
    if x1 <= x0 or y1 <= y0:
        return None
    return image_bgr[y0:y1, x0:x1]
