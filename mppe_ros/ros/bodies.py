"""The REP-155 bodies of a camera session's frames, handed to the executor thread (the node's ROS side of tracking).

One Bodies per activation wraps its mppe_ros.ros.rep155.BodyPublisher (None: the layer is off or unavailable);
`call_for` gives the worker the call of a frame, which FramePublisher runs on the executor thread; `publish` does
nothing once closed, with tracking off (TrackedResult.tracks None) or without a publisher.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np
from std_msgs.msg import Header

from mppe_ros.ros.node_log import ThrottledLog
from mppe_ros.ros.parameters import NodeConfig
from mppe_ros.ros.rep155 import BodyPublisher, rep155_available
from mppe_ros.tracking import TrackedResult


class Bodies:
    """The REP-155 topics and TF of each tracked frame.

    Args:
        publisher: a mppe_ros.ros.rep155.BodyPublisher, or None (the layer is off); used on the executor thread only.
    """

    def __init__(self, publisher: Any = None) -> None:
        self.publisher = publisher
        self._lock = threading.Lock()  # publish and close (both on the executor thread, by design)

    def call_for(
        self, header: Header, tracked: TrackedResult, image_bgr: np.ndarray, retain_s: float
    ) -> Callable[[], None] | None:
        """The call that publishes this frame's bodies (FramePublisher runs it on the executor thread), or None when
        there is nothing to publish (tracking off, the layer off or closed): the executor is not woken for nothing."""
        if self.publisher is None or tracked.tracks is None:
            return None
        return lambda: self.publish(header, tracked, image_bgr, retain_s)

    def publish(self, header: Header, tracked: TrackedResult, image_bgr: np.ndarray, retain_s: float) -> None:
        """This frame's bodies (on the executor thread).

        retain_s: a body's publishers live this long after its last frame (the tracker's max_age_s now), s.
        """
        with self._lock:
            if self.publisher is not None and tracked.tracks is not None:
                height, width = image_bgr.shape[:2]
                self.publisher.publish(
                    header, tracked.tracks, tracked.result.joint_set, width, height, image_bgr, tracked.frame.time_s,
                    retain_s,
                )  # fmt: skip

    def close(self) -> None:
        """Destroy the body publishers (on the executor thread)."""
        with self._lock:
            if self.publisher is not None:
                self.publisher.close()
                self.publisher = None


def make_body_publisher(node: Any, config: NodeConfig, log: ThrottledLog, id_prefix: str = "") -> Any:
    """The REP-155 layer (mppe_ros.ros.rep155.BodyPublisher) of `node`, its body ids and frames named with `id_prefix`,
    when `publish_rep155` asks for it and its messages import, else None (said once through `log`)."""
    settings = config.node
    if not settings.publish_rep155:
        return None
    available, why = rep155_available()
    if not available:
        log.info("rep155", why, once=True)
        return None
    return BodyPublisher(
        node,
        publish_tf=settings.publish_tf,
        publish_cropped=settings.publish_cropped,
        publish_joint_frames=settings.publish_joint_frames,
        retain_s=config.tracking.max_age_s,
        min_confidence=settings.body_min_joint_confidence,
        id_prefix=id_prefix,
    )
