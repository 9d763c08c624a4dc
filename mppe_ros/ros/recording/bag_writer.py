"""The output bag: rosidl messages serialised by rclpy, written by rosbags with their message definitions embedded
(so `ros2 bag play`, Foxglove, rosbags and the `mcap` readers decode them), and provenance as the bag's custom data.

Topics are added when first written (a REP-155 body's topics appear with the body). `BagPublisher` stands in for an
rclpy publisher (`publish`, `get_subscription_count`) so the node's FramePublisher and BodyPublisher write here
unchanged; every message is stamped with `OutputBag.now_ns`, the log time of the frame being processed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rclpy.serialization import serialize_message
from rosbags.rosbag2 import StoragePlugin, Writer

from mppe_ros.ros.recording.message_types import msgtype_of, output_typestore

STORAGES = {"mcap": StoragePlugin.MCAP, "sqlite3": StoragePlugin.SQLITE3}


class OutputBag:
    """A new rosbag2 folder at `path` (`storage` "mcap" or "sqlite3"); close it to write its metadata."""

    def __init__(self, path: str | Path, storage: str = "mcap") -> None:
        self.path = Path(path)
        self._writer = Writer(self.path, version=Writer.VERSION_LATEST, storage_plugin=STORAGES[storage])
        self._writer.open()
        self._connections: dict[str, Any] = {}
        self.now_ns = 0
        self.counts: dict[str, int] = {}

    def write_cdr(self, topic: str, msgtype: str, cdr: bytes, log_time_ns: int) -> None:
        """Write serialised bytes of type `msgtype` (pkg/msg/Name) on `topic`."""
        connection = self._connections.get(topic)
        if connection is None:
            connection = self._writer.add_connection(topic, msgtype, typestore=output_typestore())
            self._connections[topic] = connection
        self._writer.write(connection, log_time_ns, cdr)
        self.counts[topic] = self.counts.get(topic, 0) + 1

    def write(self, topic: str, msg: Any, log_time_ns: int | None = None) -> None:
        """Write a rosidl message on `topic` at `log_time_ns` (default: now_ns)."""
        self.write_cdr(
            topic, msgtype_of(type(msg)), serialize_message(msg), self.now_ns if log_time_ns is None else log_time_ns
        )

    def publisher(self, topic: str, subscribed: bool = True) -> BagPublisher:
        """An rclpy-publisher stand-in writing to `topic`."""
        return BagPublisher(self, topic, subscribed)

    def close(self, custom_data: dict[str, str] | None = None) -> None:
        """Write the custom data (provenance) and the metadata; the bag is complete and readable after this."""
        for key, value in (custom_data or {}).items():
            self._writer.set_custom_data(key, value)
        self._writer.close()


class BagPublisher:
    """`publish(msg)` writes to the bag (None: only keeps it) and keeps it as `last`; `get_subscription_count()` is 1
    when `subscribed` (messages the node builds only while someone listens: the markers), else 0 (the REP-155 cropped
    images are not written)."""

    def __init__(self, bag: OutputBag | None, topic: str, subscribed: bool) -> None:
        self.bag, self.topic, self.subscribed = bag, topic, subscribed
        self.last: Any = None

    def publish(self, msg: Any) -> None:
        """Write `msg` at the frame's log time."""
        if self.bag is not None:
            self.bag.write(self.topic, msg)
        self.last = msg

    def get_subscription_count(self) -> int:
        """1 when subscribed, else 0."""
        return int(self.subscribed)


class BagNode:
    """What mppe_ros.ros.rep155.BodyPublisher needs of a node: its publishers go into the bag."""

    def __init__(self, bag: OutputBag) -> None:
        self.bag = bag

    def create_publisher(self, msg_type: Any, topic: str, qos: Any) -> BagPublisher:
        """A BagPublisher on `topic` (a relative name resolves as in the root namespace; not subscribed: images for
        subscribers only are left out)."""
        return self.bag.publisher(topic if topic.startswith("/") else f"/{topic}", subscribed=False)

    def destroy_publisher(self, publisher: Any) -> None:
        """Nothing to free."""
