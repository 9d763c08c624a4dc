"""The node's warnings about its input: frames skipped because inference is slower, and no input at all."""

from __future__ import annotations

from mppe_ros.ros.frames import NodeStats
from mppe_ros.ros.parameters import NodeSettings


def skipped_message(stats: NodeStats, new: int) -> str:
    """The line saying that `new` more frames were replaced before inference was free."""
    return (
        f"skipped {new} frames (total {stats.frames_skipped}): inference takes {stats.last_processing_s:.2f} s "
        "per frame, slower than the input; only the newest pair is processed"
    )


def no_input_cause(stats: NodeStats, settings: NodeSettings) -> str:
    """Why no synchronized pair arrived: unpaired stamps, or topic names / QoS."""
    if stats.images_received and stats.camera_infos_received:
        return (
            f"{stats.images_received} images and {stats.camera_infos_received} camera_infos arrived but never "
            f"paired: their header stamps must be equal ({settings.sync_mode} sync, sync_slop_s={settings.sync_slop_s})"
        )
    return (
        f"received {stats.images_received} images and {stats.camera_infos_received} camera_infos: check "
        "the topic names (remap image:=... camera_info:=...) and QoS (`ros2 topic info -v`; "
        f"input_reliability={settings.input_reliability})"
    )
