"""Reading a recording's camera topics with rosbags (rosbag2 sqlite3 or MCAP, a bare file, ROS 1) into the rosidl
messages the node's converters take: the raw CDR bytes deserialised by rclpy. ROS 1 bytes are converted to CDR first
with Kilted's definitions (rosbags drops the ROS 1 Header's seq then; the ROS 1 bag's own definitions, which have it,
cannot convert).

The image topic (sensor_msgs/Image or CompressedImage) and the CameraInfo topic are found by type when the bag has
exactly one of each, else named (`--image-topic`, `--camera-info-topic`); ValueError lists what the bag has.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rclpy.serialization import deserialize_message
from rosbags.highlevel import AnyReader
from rosbags.typesys import Stores, get_typestore

from mppe_ros.ros.recording.message_types import message_class

IMAGE_TYPES = ("sensor_msgs/msg/Image", "sensor_msgs/msg/CompressedImage")
CAMERA_INFO_TYPE = "sensor_msgs/msg/CameraInfo"
TF_TYPE = "tf2_msgs/msg/TFMessage"
TF_TOPICS = ("/tf", "/tf_static")


@dataclass(frozen=True)
class BagMessage:
    """One message of the chosen topics: `kind` "image", "camera_info", "tf" or "tf_static", its topic and type,
    the bag's log time (ns) and its CDR bytes."""

    kind: str
    topic: str
    msgtype: str
    log_time_ns: int
    cdr: bytes


def topic_listing(topics: dict[str, tuple[str, int]]) -> str:
    """'topic (type, N messages)' per topic."""
    return "; ".join(f"{name} ({kind}, {count} messages)" for name, (kind, count) in sorted(topics.items())) or "none"


class BagReader:
    """The camera topics of one bag (a context manager).

    Args:
        path: a rosbag2 folder, a .mcap or .db3 file, or a ROS 1 .bag.
        image_topic, camera_info_topic: the topics, or "" to find them by type.
    """

    def __init__(self, path: str | Path, image_topic: str = "", camera_info_topic: str = "") -> None:
        self.path = Path(path)
        self._kilted = get_typestore(Stores.ROS2_KILTED)
        self._reader = AnyReader([self.path], default_typestore=self._kilted)
        self._wanted = (image_topic, camera_info_topic)
        self.image_topic = self.camera_info_topic = ""
        self.topics: dict[str, tuple[str, int]] = {}

    def __enter__(self) -> BagReader:
        self._reader.open()
        counts: dict[str, int] = {}
        for connection in self._reader.connections:
            counts[connection.topic] = counts.get(connection.topic, 0) + connection.msgcount
        self.topics = {c.topic: (c.msgtype, counts[c.topic]) for c in self._reader.connections}
        self.image_topic = self._choose(self._wanted[0], IMAGE_TYPES, "--image-topic")
        self.camera_info_topic = self._choose(self._wanted[1], (CAMERA_INFO_TYPE,), "--camera-info-topic")
        return self

    def __exit__(self, *exc: object) -> None:
        self._reader.close()

    def _choose(self, given: str, types: tuple[str, ...], option: str) -> str:
        if given:
            if given not in self.topics or self.topics[given][0] not in types:
                listing = topic_listing(self.topics)
                raise ValueError(f"{self.path}: no topic {given} of type {' or '.join(types)}; the bag has {listing}")
            return given
        found = [name for name, (kind, _) in self.topics.items() if kind in types]
        if len(found) != 1:
            what = "no topic" if not found else f"{len(found)} topics"
            raise ValueError(
                f"{self.path}: {what} of type {' or '.join(types)}: name one with {option}; the bag has "
                f"{topic_listing(self.topics)}"
            )
        return found[0]

    @property
    def duration_ns(self) -> int:
        """The bag's duration (last - first log time), ns."""
        return int(self._reader.duration)

    @property
    def image_count(self) -> int:
        """Messages on the image topic (the bag's index)."""
        return self.topics[self.image_topic][1]

    @property
    def tf_topics(self) -> list[str]:
        """Which of /tf and /tf_static the bag has (tf2_msgs/msg/TFMessage)."""
        return [topic for topic in TF_TOPICS if self.topics.get(topic, ("", 0))[0] == TF_TYPE]

    def messages(self, with_tf: bool = False) -> Iterator[BagMessage]:
        """The chosen topics' messages in log-time order (`with_tf`: /tf and /tf_static's too)."""
        kinds = {self.image_topic: "image", self.camera_info_topic: "camera_info"}
        return self._read(kinds | self._tf_kinds() if with_tf else kinds)

    def tf_messages(self) -> Iterator[BagMessage]:
        """The /tf and /tf_static messages (kinds "tf", "tf_static") in log-time order."""
        return self._read(self._tf_kinds())

    def _tf_kinds(self) -> dict[str, str]:
        return {topic: topic.lstrip("/") for topic in self.tf_topics}

    def _read(self, kinds: dict[str, str]) -> Iterator[BagMessage]:
        chosen = [c for c in self._reader.connections if c.topic in kinds]
        for connection, log_time_ns, raw in self._reader.messages(connections=chosen):
            cdr = bytes(raw) if self._reader.is2 else bytes(self._kilted.ros1_to_cdr(raw, connection.msgtype))
            yield BagMessage(kinds[connection.topic], connection.topic, connection.msgtype, int(log_time_ns), cdr)


def to_message(message: BagMessage) -> Any:
    """The rosidl message of a BagMessage (rclpy's deserialisation of its CDR bytes); raises on corrupt bytes."""
    return deserialize_message(message.cdr, message_class(message.msgtype))
