"""The node's inputs: image (raw or compressed) + camera_info subscriptions feeding one synchronizer.

The synchronizer is message_filters' where that package imports (real ROS 2) and `sync_backend` allows
it, otherwise mppe_ros.ros.sync's (same semantics). The subscriptions' reliability follows
`input_reliability`; with `auto` it matches the publishers found on the input topics (reliable when
every one of them is reliable, else best effort) and `recheck` re-subscribes when they change, as
rosbag2 does when it records. A reliable publisher's large images reach a best-effort subscription in
another process only partly (a lost UDP fragment drops the whole message), so matching matters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rclpy.node import Node
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, CompressedImage, Image

from mppe_ros.ros.parameters import NodeSettings
from mppe_ros.ros.sync import make_synchronizer

BUILTIN_BACKEND = "mppe_ros.ros.sync"


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


def _make_synchronizer(settings: NodeSettings) -> tuple[str, Any, list[Callable[[Any], None]]]:
    """(backend name, synchronizer, one feed function per input)."""
    message_filters = None
    if settings.sync_backend != "builtin":
        try:
            import message_filters
        except ImportError:
            if settings.sync_backend == "message_filters":
                raise ValueError(
                    "sync_backend is message_filters but the package does not import; install ros-<distro>-"
                    "message-filters or set sync_backend to auto or builtin"
                ) from None
    if message_filters is None:
        sync = make_synchronizer(settings.sync_mode, settings.sync_queue_size, settings.sync_slop_s)
        return BUILTIN_BACKEND, sync, [sync.connect_input(0), sync.connect_input(1)]
    filters = [message_filters.SimpleFilter(), message_filters.SimpleFilter()]
    if settings.sync_mode == "exact":
        sync = message_filters.TimeSynchronizer(filters, settings.sync_queue_size)
    else:
        sync = message_filters.ApproximateTimeSynchronizer(filters, settings.sync_queue_size, settings.sync_slop_s)
    return "message_filters", sync, [f.signalMessage for f in filters]


class InputSubscriptions:
    """The image and camera_info subscriptions of one activation, paired by one synchronizer.

    Args:
        node: the node that owns the subscriptions.
        settings: image_transport, sync_*, input_reliability and input_depth.
        on_pair: called with each synchronized (image, camera_info) pair (under the synchronizer's lock);
            the image is a sensor_msgs/Image or, with image_transport compressed, a CompressedImage.
        on_message: called with "images_received" or "camera_infos_received" for every message.

    Raises:
        ValueError: sync_backend message_filters without the package.
    """

    def __init__(
        self,
        node: Node,
        settings: NodeSettings,
        on_pair: Callable[[Any, CameraInfo], None],
        on_message: Callable[[str], None],
    ) -> None:
        self._node, self._settings, self._on_message = node, settings, on_message
        self.backend, self.synchronizer, self._feeds = _make_synchronizer(settings)
        self.synchronizer.registerCallback(on_pair)
        image = node.resolve_topic_name("image")
        compressed = settings.image_transport == "compressed"
        self.image_type = CompressedImage if compressed else Image
        self.image_topic = f"{image.rstrip('/')}/compressed" if compressed else image
        self.camera_info_topic = node.resolve_topic_name("camera_info")
        self._subscriptions: list[Any] = []
        self.reliability = ""
        self._subscribe(self._wanted_reliability())

    def _wanted_reliability(self) -> str:
        if self._settings.input_reliability != "auto":
            return self._settings.input_reliability
        policies = [
            info.qos_profile.reliability
            for topic in (self.image_topic, self.camera_info_topic)
            for info in self._node.get_publishers_info_by_topic(topic)
        ]
        return matching_reliability(policies)

    def _subscribe(self, reliability: str) -> None:
        self.close()
        qos = input_qos(self._settings.input_depth, reliability)
        self._subscriptions = [
            self._node.create_subscription(
                kind, topic, lambda msg, feed=feed, counter=counter: (self._on_message(counter), feed(msg)), qos
            )
            for kind, topic, counter, feed in (
                (self.image_type, self.image_topic, "images_received", self._feeds[0]),
                (CameraInfo, self.camera_info_topic, "camera_infos_received", self._feeds[1]),
            )
        ]
        self.reliability = reliability

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
        """One phrase for the log: reliability (and why), depth, sync mode and backend."""
        mode = "auto: " if self._settings.input_reliability == "auto" else ""
        return (
            f"{mode}{self.reliability}, depth {self._settings.input_depth}, {self._settings.sync_mode} sync via "
            f"{self.backend}"
        )

    def close(self) -> None:
        """Destroy the subscriptions (nothing more is received)."""
        for subscription in self._subscriptions:
            self._node.destroy_subscription(subscription)
        self._subscriptions = []
