"""The node's warnings about its input: frames skipped because inference is slower, no input, lost images."""

from __future__ import annotations

from dataclasses import dataclass

from mppe_ros.ros.frames import NodeStats
from mppe_ros.ros.node_settings import NodeSettings

MIN_IMAGE_SHARE = 0.5  # fewer images than this share of the camera_infos: the images are being lost
MIN_CAMERA_INFOS = 5  # camera_infos in a window before the share is judged

LARGE_IMAGE_REMEDIES = (
    "camera_info is small and arrives, the image is large: between processes Fast DDS sends a message over its "
    "512 KiB shared-memory segment as UDP fragments, and a best-effort subscription drops the whole image when one "
    "fragment is lost. Remedies: a reliable camera publisher (input_reliability auto, the default, then subscribes "
    "reliable); the Fast DDS profile config/fastdds_large_data.xml in the camera driver's process "
    "(FASTDDS_DEFAULT_PROFILES_FILE; the sender must have it); larger kernel socket buffers "
    "(sysctl net.core.rmem_max=2147483647); image_transport compressed; see README 'Large images over DDS'"
)


def skipped_message(stats: NodeStats, new: int) -> str:
    """The line saying that `new` more frames were replaced before inference was free."""
    return (
        f"skipped {new} frames (total {stats.frames_skipped}): inference takes {stats.last_processing_s:.2f} s "
        "per frame, slower than the input; only the newest pair is processed"
    )


def no_input_cause(
    stats: NodeStats, settings: NodeSettings, image_topic: str, reliability: str, detections_topic: str = ""
) -> str:
    """Why no synchronized pair arrived: images lost in transit, no camera_info, unpaired stamps, no detections,
    names or QoS.

    Args:
        stats: the node's counters.
        settings: the node settings (sync and QoS).
        image_topic: the subscribed image topic.
        reliability: the reliability subscribed now ("reliable" or "best_effort").
        detections_topic: the subscribed detections topic (detector topic), else "".
    """
    images, infos = stats.images_received, stats.camera_infos_received
    if detections_topic and images and infos and stats.images_without_detections:
        if not stats.detections_received:
            return (
                f"images and camera_infos arrive, but no Detection2DArray on {detections_topic} (detector topic): "
                "start the detector, remap detections:=... to its output, check its QoS (`ros2 topic info -v`)"
            )
        return (
            f"{stats.detections_received} Detection2DArrays arrived on {detections_topic} but none with an image's "
            f"stamp ({settings.detections_sync_mode} pairing): the detector must copy the image header, or set "
            "detections_sync_mode approximate"
        )
    if images and infos:
        return (
            f"{images} images and {infos} camera_infos arrived but never paired: their header stamps must be "
            f"equal ({settings.sync_mode} sync, sync_slop_s={settings.sync_slop_s})"
        )
    if infos:
        return (
            f"{infos} camera_infos arrived but no image on {image_topic} (subscribed {reliability}). "
            f"{LARGE_IMAGE_REMEDIES}. Also check the image topic name (remap image:=...) and image_transport"
        )
    if images:
        return f"{images} images arrived but no camera_info: remap camera_info:=... to the camera driver's CameraInfo"
    return (
        "received nothing: check the topic names (remap image:=... camera_info:=...) and QoS (`ros2 topic info -v`; "
        f"input_reliability={settings.input_reliability}, subscribed {reliability})"
    )


@dataclass
class ImageShareMonitor:
    """Notices images lost in transit: far fewer images than camera_infos over a window of seconds.

    `check` is called periodically with the cumulative counters; it compares the counts since the
    window started and starts a new window every `window_s`.
    """

    window_s: float
    start_s: float = 0.0
    images_at_start: int = 0
    infos_at_start: int = 0

    def check(self, stats: NodeStats, now_s: float) -> tuple[int, int] | None:
        """(images, camera_infos) of a finished window with too few images; None otherwise."""
        if now_s - self.start_s < self.window_s:
            return None
        images = stats.images_received - self.images_at_start
        infos = stats.camera_infos_received - self.infos_at_start
        self.start_s, self.images_at_start, self.infos_at_start = (
            now_s,
            stats.images_received,
            stats.camera_infos_received,
        )
        if infos >= MIN_CAMERA_INFOS and images < MIN_IMAGE_SHARE * infos:
            return images, infos
        return None


def low_image_share_message(images: int, infos: int, window_s: float, image_topic: str, reliability: str) -> str:
    """The warning for a window in which most images were lost."""
    return (
        f"only {images} images arrived with {infos} camera_infos in the last {window_s:g} s on {image_topic} "
        f"(subscribed {reliability}): {LARGE_IMAGE_REMEDIES}"
    )
