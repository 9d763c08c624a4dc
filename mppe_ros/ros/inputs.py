"""The node's inputs: image (raw or compressed) + camera_info subscriptions feeding one synchronizer.

The synchronizer is message_filters' where that package imports (real ROS 2) and `sync_backend` allows
it, otherwise mppe_ros.ros.sync's (same semantics). The subscriptions' reliability follows
`input_reliability`; with `auto` it matches the publishers found on the input topics (reliable when
every one of them is reliable, else best effort) and `recheck` re-subscribes when they change, as
rosbag2 does when it records. A reliable publisher's large images reach a best-effort subscription in
another process only partly (a lost UDP fragment drops the whole message), so matching matters.
An image whose CameraInfo does not arrive within the sync window is answered with the latest
valid CameraInfo of the same camera (mppe_ros.ros.camera_info_fallback; `camera_info_fallback`),
counted and explained once per activation in the log. With `detector: topic` a third subscription, `detections`
(vision_msgs/Detection2DArray, same reliability rule), meets each pair by stamp (mppe_ros.ros.detection_pairing);
a frame is emitted only with its detections, and what the pairing drops is counted and explained the same way.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import ModuleType
from typing import Any

from rclpy.node import Node
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, CompressedImage, Image

from mppe_ros.ros.camera_info_fallback import REUSED, CameraInfoFallback
from mppe_ros.ros.detection_messages import detections_type
from mppe_ros.ros.detection_pairing import DetectionPairing, explanation
from mppe_ros.ros.node_settings import NodeSettings
from mppe_ros.ros.sync import make_synchronizer

BUILTIN_BACKEND = "mppe_ros.ros.sync"
FALLBACK_MARGIN_S = 0.1  # an image waits max(sync_slop_s, this) for its CameraInfo (receive time), s
FALLBACK_PERIOD_S = 0.025  # how often unpaired images are checked, s


def input_qos(depth: int, reliability: str) -> QoSProfile:
    """Keep last `depth`; `reliability` "reliable" or "best_effort"."""
    policy = ReliabilityPolicy.RELIABLE if reliability == "reliable" else ReliabilityPolicy.BEST_EFFORT
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=depth, reliability=policy)


def matching_reliability(publisher_policies: list[ReliabilityPolicy]) -> str:
    """The reliability that serves these publishers best: reliable only when all of them are reliable.

    No publisher yet: best effort, which matches whatever comes (re-checked when one appears).
    """
    if publisher_policies and all(policy == ReliabilityPolicy.RELIABLE for policy in publisher_policies):
        return "reliable"
    return "best_effort"


def make_input_synchronizer(settings: NodeSettings) -> tuple[str, Any, list[Callable[[Any], None]]]:
    """(backend name, synchronizer, one feed function per input)."""
    message_filters = _message_filters(settings.sync_backend)
    if message_filters is None:
        sync = make_synchronizer(settings.sync_mode, settings.sync_queue_size, settings.sync_slop_s)
        return BUILTIN_BACKEND, sync, [sync.connect_input(0), sync.connect_input(1)]
    filters = [message_filters.SimpleFilter(), message_filters.SimpleFilter()]
    if settings.sync_mode == "exact":
        sync = message_filters.TimeSynchronizer(filters, settings.sync_queue_size)
    else:
        sync = message_filters.ApproximateTimeSynchronizer(filters, settings.sync_queue_size, settings.sync_slop_s)
    return "message_filters", sync, [f.signalMessage for f in filters]


def _message_filters(backend: str) -> ModuleType | None:
    """The message_filters module for sync_backend `backend`, or None for the built-in synchronizer.

    Raises:
        ValueError: backend is message_filters and the package does not import.
    """
    if backend == "builtin":
        return None
    try:
        import message_filters
    except ImportError:
        if backend == "message_filters":
            raise ValueError(
                "sync_backend is message_filters but the package does not import; install ros-<distro>-"
                "message-filters or set sync_backend to auto or builtin"
            ) from None
        return None
    module: ModuleType = message_filters
    return module


def _unseen(msg: Any) -> None:
    """Detections are not shown to the CameraInfo fallback."""


class InputSubscriptions:
    """The image and camera_info subscriptions of one activation, paired by one synchronizer.

    Args:
        node: the node that owns the subscriptions.
        settings: image_transport, sync_*, input_reliability and input_depth.
        on_pair: called with each synchronized (image, camera_info) pair (under the synchronizer's lock), and
            with each image answered with a cached CameraInfo (from a timer); at most once per image; the image
            is a sensor_msgs/Image or, with image_transport compressed, a CompressedImage. With `detections`,
            called with (image, camera_info, detections) once the pair met its Detection2DArray.
        on_message: called with "images_received" or "camera_infos_received" for every message, and with
            "camera_info_reused" or "images_without_camera_info" for every image that went unpaired; with
            `detections` also "detections_received", "images_without_detections" and "detections_unmatched".
        detections: subscribe `detections` too (detector topic).

    Raises:
        ValueError: sync_backend message_filters without the package, or `detections` without vision_msgs.
    """

    def __init__(
        self,
        node: Node,
        settings: NodeSettings,
        on_pair: Callable[..., None],
        on_message: Callable[[str], None],
        detections: bool = False,
    ) -> None:
        self._node, self._settings, self._on_message = node, settings, on_message
        self.backend, self.synchronizer, self._feeds = make_input_synchronizer(settings)
        self.pairing: DetectionPairing | None = None
        self.detections_topic = ""
        if detections:
            try:
                self._detections_type = detections_type()
            except ImportError as error:
                raise ValueError(str(error)) from None
            self.detections_topic = node.resolve_topic_name("detections")
            self.pairing = DetectionPairing(
                on_pair, settings.detections_sync_mode, settings.sync_slop_s, settings.detections_timeout_s,
                self._on_unpaired,
            )  # fmt: skip
        self.fallback = CameraInfoFallback(
            on_pair if self.pairing is None else self.pairing.pair,
            wait_s=max(settings.sync_slop_s, FALLBACK_MARGIN_S),
            max_pending=settings.sync_queue_size,
            enabled=settings.camera_info_fallback,
            on_event=self._on_unpaired,
        )
        self._explained: set[str] = set()
        self.synchronizer.registerCallback(self.fallback.paired)
        image = node.resolve_topic_name("image")
        compressed = settings.image_transport == "compressed"
        self.image_type = CompressedImage if compressed else Image
        self.image_topic = f"{image.rstrip('/')}/compressed" if compressed else image
        self.camera_info_topic = node.resolve_topic_name("camera_info")
        self._subscriptions: list[Any] = []
        self.reliability = ""
        self._subscribe(self._wanted_reliability())
        self._timer = node.create_timer(FALLBACK_PERIOD_S, self._expire)

    def _expire(self) -> None:
        """The timer: resolve images whose CameraInfo, and drop pairs or detections whose partner, did not come."""
        self.fallback.expire()
        if self.pairing is not None:
            self.pairing.expire()

    def _wanted_reliability(self) -> str:
        if self._settings.input_reliability != "auto":
            return self._settings.input_reliability
        policies = [
            info.qos_profile.reliability
            for topic in (self.image_topic, self.camera_info_topic, self.detections_topic)
            if topic
            for info in self._node.get_publishers_info_by_topic(topic)
        ]
        return matching_reliability(policies)

    def _subscribe(self, reliability: str) -> None:
        self._unsubscribe()
        qos = input_qos(self._settings.input_depth, reliability)
        fallback, feed_image, feed_info = self.fallback, *self._feeds
        streams: list[tuple[Any, str, str, Callable[[Any], None], Callable[[Any], None]]] = [
            (self.image_type, self.image_topic, "images_received", fallback.image, feed_image),
            (CameraInfo, self.camera_info_topic, "camera_infos_received", fallback.camera_info, feed_info),
        ]
        if self.pairing is not None:
            streams.append(
                (self._detections_type, self.detections_topic, "detections_received", _unseen, self.pairing.detections)
            )
        self._subscriptions = [
            self._node.create_subscription(kind, topic, functools.partial(self._received, counter, see, feed), qos)
            for kind, topic, counter, see, feed in streams
        ]
        self.reliability = reliability

    def _received(self, counter: str, see: Callable[[Any], None], feed: Callable[[Any], None], msg: Any) -> None:
        """One input message: counted, seen by the CameraInfo fallback, fed to the synchronizer."""
        self._on_message(counter)
        see(msg)
        feed(msg)

    def _on_unpaired(self, counter: str) -> None:
        """Count an image that went unpaired; the first of each kind is explained in the log."""
        self._on_message(counter)
        if counter in self._explained:
            return
        self._explained.add(counter)
        if self.pairing is not None and counter in ("images_without_detections", "detections_unmatched"):
            settings = self._settings
            self._node.get_logger().warning(
                explanation(counter, self.image_topic, self.detections_topic, settings.detections_timeout_s,
                            settings.detections_sync_mode)
            )  # fmt: skip
            return
        if counter == REUSED:
            what = "answered with the latest CameraInfo of the same frame_id and size (counted: CameraInfo reused)"
        elif self.fallback.enabled:
            what = "dropped: no CameraInfo of the same frame_id and size was received before (counted)"
        else:
            what = "dropped, camera_info_fallback being false (counted: images without camera_info)"
        self._node.get_logger().warning(
            f"an image on {self.image_topic} had no CameraInfo with its stamp on {self.camera_info_topic} within "
            f"{self.fallback.wait_s:g} s: {what}. The camera driver's CameraInfo is lost, typically next to large "
            "images between processes with Fast DDS's defaults. Remedies: publish the Image before the CameraInfo "
            "(as image_transport's CameraPublisher does); FASTDDS_DEFAULT_PROFILES_FILE=config/fastdds_large_data.xml "
            "in the camera driver's process; a deeper input_depth; camera_info_fallback false for strict pairs"
        )

    def recheck(self) -> str | None:
        """With input_reliability auto: re-subscribe if the publishers now call for the other reliability.

        Returns: the new reliability when it changed, else None.
        """
        if self._settings.input_reliability != "auto" or not self._subscriptions:
            return None
        wanted = self._wanted_reliability()
        if wanted == self.reliability:
            return None
        self._subscribe(wanted)
        return wanted

    def describe(self) -> str:
        """One phrase for the log: reliability (and why), depth, sync mode and backend, CameraInfo fallback."""
        mode = "auto: " if self._settings.input_reliability == "auto" else ""
        detections = ""
        if self.pairing is not None:
            detections = f", boxes from {self.detections_topic} ({self.pairing.mode} stamps)"
        return (
            f"{mode}{self.reliability}, depth {self._settings.input_depth}, {self._settings.sync_mode} sync via "
            f"{self.backend}, CameraInfo fallback {'on' if self.fallback.enabled else 'off'}{detections}"
        )

    def close(self) -> None:
        """Destroy the subscriptions and the fallback's timer (nothing more is received or emitted)."""
        self._unsubscribe()
        self._node.destroy_timer(self._timer)

    def _unsubscribe(self) -> None:
        for subscription in self._subscriptions:
            self._node.destroy_subscription(subscription)
        self._subscriptions = []
