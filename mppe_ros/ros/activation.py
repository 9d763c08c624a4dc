"""One activation of the node: its subscriptions, the newest-pair slot, its outputs and its inference thread.

Created by on_activate, stopped by deactivate (or destroy_node); a frame still computing then gets SHUTDOWN_WAIT_S and
is abandoned: its FramePublisher is closed, so it publishes nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from mppe_ros.ros.frames import FrameHandler, FramePublisher, NodeStats
from mppe_ros.ros.inputs import InputSubscriptions
from mppe_ros.ros.reporting import ImageShareMonitor
from mppe_ros.ros.sync import LatestOnly

SHUTDOWN_WAIT_S = 2.0  # deactivation waits this long for a frame in flight, then abandons it


class Activation:
    """What one activation runs; `work(activation)` is the inference thread's loop (started here).

    Args:
        inputs, frames, publisher: the activation's subscriptions, frame handler and outputs.
        stats: the node's counters (the image-share monitor starts from them).
        no_input_warning_s: the window of the image-share monitor, s.
        work: the inference loop, run on a daemon thread named mppe_inference.
    """

    def __init__(
        self,
        inputs: InputSubscriptions,
        frames: FrameHandler,
        publisher: FramePublisher,
        stats: NodeStats,
        no_input_warning_s: float,
        work: Callable[[Activation], None],
    ) -> None:
        self.latest = LatestOnly()  # (image, camera_info, received_s, detections or None): the newest pair only
        self.inputs, self.publisher, self.frames = inputs, publisher, frames
        self.session, self.bodies = frames.session, frames.bodies
        self.started_s = time.monotonic()
        self.image_share = ImageShareMonitor(
            no_input_warning_s, self.started_s, stats.images_received, stats.camera_infos_received
        )
        self.worker = threading.Thread(target=work, args=(self,), name="mppe_inference", daemon=True)
        self.worker.start()

    def stop(self) -> None:
        """Unsubscribe, publish nothing more, let the thread end (a frame in flight gets SHUTDOWN_WAIT_S)."""
        self.inputs.close()
        self.publisher.close()  # waits for a publication in progress, the bodies' included
        self.latest.close()
        self.worker.join(timeout=SHUTDOWN_WAIT_S)
        self.bodies.close()  # an abandoned frame publishes nothing: its FramePublisher is closed
