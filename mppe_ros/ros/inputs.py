"""The node's inputs: image + camera_info subscriptions (QoS from the parameters) feeding a synchronizer.

message_filters' synchronizers where that package is installed (real ROS 2), otherwise
mppe_ros.ros.sync's (same semantics; the .venv path).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rclpy.node import Node
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image

from mppe_ros.ros.parameters import NodeSettings
from mppe_ros.ros.sync import make_synchronizer


@dataclass(frozen=True)
class Inputs:
    """What subscribe_inputs set up.

    Attributes:
        backend: "message_filters" or "mppe_ros.ros.sync".
        synchronizer: the synchronizer (kept alive with the node).
        image_topic, camera_info_topic: the resolved topic names.
    """

    backend: str
    synchronizer: Any
    image_topic: str
    camera_info_topic: str


def input_qos(settings: NodeSettings) -> QoSProfile:
    """Keep last `input_depth`, reliability from `input_reliability`."""
    reliable = settings.input_reliability == "reliable"
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=settings.input_depth,
        reliability=ReliabilityPolicy.RELIABLE if reliable else ReliabilityPolicy.BEST_EFFORT,
    )


def subscribe_inputs(
    node: Node,
    settings: NodeSettings,
    on_pair: Callable[[Image, CameraInfo], None],
    on_message: Callable[[str], None],
) -> Inputs:
    """Subscribe `image` and `camera_info` (relative names) and pair them.

    Args:
        node: the node that owns the subscriptions.
        settings: sync_mode, sync_queue_size, sync_slop_s and the QoS settings.
        on_pair: called with each synchronized (image, camera_info) pair (under the synchronizer's lock).
        on_message: called with "images_received" or "camera_infos_received" for every message.
    """
    try:
        import message_filters
    except ImportError:
        sync = make_synchronizer(settings.sync_mode, settings.sync_queue_size, settings.sync_slop_s)
        backend, feeds = "mppe_ros.ros.sync", [sync.connect_input(0), sync.connect_input(1)]
    else:
        inputs = [message_filters.SimpleFilter(), message_filters.SimpleFilter()]
        if settings.sync_mode == "exact":
            sync = message_filters.TimeSynchronizer(inputs, settings.sync_queue_size)
        else:
            sync = message_filters.ApproximateTimeSynchronizer(inputs, settings.sync_queue_size, settings.sync_slop_s)
        backend, feeds = "message_filters", [f.signalMessage for f in inputs]
    sync.registerCallback(on_pair)
    qos = input_qos(settings)
    subscriptions = [
        node.create_subscription(
            kind, name, lambda msg, feed=feed, counter=counter: (on_message(counter), feed(msg)), qos
        )
        for kind, name, counter, feed in (
            (Image, "image", "images_received", feeds[0]),
            (CameraInfo, "camera_info", "camera_infos_received", feeds[1]),
        )
    ]
    return Inputs(backend, sync, subscriptions[0].topic_name, subscriptions[1].topic_name)
