"""A recording's transforms for tracking_frame / output_frame: every /tf and /tf_static message of the bag loaded
into one tf2_ros Buffer before the first frame, its cache as long as the recording, so each image's lookup at its
stamp interpolates between the recorded transforms exactly as the node's would once they had all arrived, and never
waits: the result does not depend on timing. A frame outside the transforms' time span (extrapolation) or without a
chain of frames is skipped and counted (`no_transform`), as in the node.

A video or an image folder has no transforms: tracking_frame / output_frame are refused there (ValueError).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mppe_ros.ros.parameters import NodeConfig
from mppe_ros.ros.recording.bag_reader import TF_TOPICS, TF_TYPE, BagReader, to_message, topic_listing
from mppe_ros.ros.tf_frames import TfFrames, import_tf2, wanted_frames

CACHE_MARGIN_S = 10.0  # the Buffer's cache: the recording's duration plus this
AUTHORITY = "recording"


def recording_tf_frames(
    reader: BagReader | None, path: Path, config: NodeConfig, undecodable: Callable[[int, Exception], None]
) -> TfFrames | None:
    """The TfFrames of `config`'s tracking_frame / output_frame over the bag's transforms (None: both empty).

    Args:
        reader: the open bag (None: a video or an image folder).
        path: the input (for the error messages).
        config: the node's parameters.
        undecodable: called with (log time ns, error) for a TF message whose bytes do not deserialise (skipped).

    Raises:
        ValueError: frames are set but the input has no /tf or /tf_static (a video, an image folder, a bag
            without them); ImportError's INSTALL_TF2 message when tf2_ros is missing.
    """
    tracking_frame, output_frame = wanted_frames(config.node)
    if not tracking_frame and not output_frame:
        return None
    setting = "tracking_frame/output_frame"
    if reader is None:
        raise ValueError(f"{path}: {setting} need the recording's transforms; a video or an image folder has none: "
                         "leave both parameters empty")  # fmt: skip
    if not reader.tf_topics:
        raise ValueError(f"{path}: {setting} need the recording's transforms, {' or '.join(TF_TOPICS)} ({TF_TYPE}); "
                         f"the bag has {topic_listing(reader.topics)}")  # fmt: skip
    tf2_ros = import_tf2()
    from rclpy.duration import Duration

    buffer = tf2_ros.Buffer(cache_time=Duration(seconds=reader.duration_ns * 1e-9 + CACHE_MARGIN_S))
    for message in reader.tf_messages():
        try:
            transforms = to_message(message).transforms
        except Exception as error:  # noqa: BLE001 - corrupt bytes: counted, never fatal
            undecodable(message.log_time_ns, error)
            continue
        for transform in transforms:
            if message.kind == "tf_static":
                buffer.set_transform_static(transform, AUTHORITY)
            else:
                buffer.set_transform(transform, AUTHORITY)
    return TfFrames(buffer, tracking_frame, output_frame, waits=False)
