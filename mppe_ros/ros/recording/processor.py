"""One recording through the node's frame path, every frame, in the recording's order, deterministic.

Messages are fed in log-time order to the node's synchronizer (mppe_ros.ros.inputs.make_input_synchronizer: the
node's pairing, with its sync_mode, slop and queue) behind the node's CameraInfoFallback, whose clock is the log time
of the message being fed (the node's receive time), so an image whose CameraInfo never comes is answered with the
newest valid earlier CameraInfo exactly as the node would after `wait_s`. Each emitted pair goes through the node's
FrameHandler (decode, CameraInfo checks, the recording's TF, CameraSession with the NodeConfig's settings,
messages), whose publishers are the output bag's. Nothing is skipped for speed: there is no newest-pair slot. Bad
frames are counted (mppe_ros.recordings.summary), never fatal.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable
from typing import Any

from mppe_ros.recordings.summary import RunSummary
from mppe_ros.ros import node_names
from mppe_ros.ros.bodies import Bodies, make_body_publisher
from mppe_ros.ros.camera_info_fallback import REUSED, CameraInfoFallback
from mppe_ros.ros.frames import BoxesSource, FrameHandler, FramePublisher, NodeStats, problem_kind
from mppe_ros.ros.inputs import FALLBACK_MARGIN_S, make_input_synchronizer
from mppe_ros.ros.node_log import ThrottledLog
from mppe_ros.ros.parameters import NodeConfig
from mppe_ros.ros.recording.bag_writer import BagNode, BagPublisher, OutputBag
from mppe_ros.ros.sync import stamp_ns
from mppe_ros.ros.tf_frames import TfFrames
from mppe_ros.tracking import CameraSession
from mppe_ros.tracking.tracker import TrackIds

POSES_TOPIC = f"/{node_names.POSES_TOPIC}"  # the node's topics as a node in the root namespace resolves them
MARKERS_TOPIC = f"/{node_names.MARKERS_TOPIC}"
COUNTED = ("unsupported_encoding", "bad_image", "bad_camera_info", "no_transform", "stamps_substituted")
Answer = Callable[[Any, Any], None]  # (the image message, its PersonPose3DArray)


class RecordingProcessor:
    """Feeds one recording's messages through the node's pairing and frame path into `bag` (may be None).

    Args:
        config: the node's parameters.
        pipeline: an MppePipeline (or any callable with its signature).
        boxes: injected person boxes (mppe_ros.ros.frames.BoxesSource), None: the pipeline's detector.
        bag: the output bag, or None (JSON lines only).
        summary: counts of this run.
        on_answer: called once per answered frame (the JSON lines, the overlay video).
        logger: where the node's throttled log lines go.
        tf_frames: the recording's transforms for tracking_frame / output_frame (mppe_ros.ros.recording.bag_tf;
            None: both empty, the image's frame).
    """

    def __init__(
        self, config: NodeConfig, pipeline: Any, boxes: BoxesSource, bag: OutputBag | None, summary: RunSummary,
        on_answer: Answer | None = None, logger: logging.Logger | None = None, tf_frames: TfFrames | None = None,
    ) -> None:  # fmt: skip
        self.config, self.bag, self.summary, self.on_answer = config, bag, summary, on_answer
        self.stats = NodeStats()
        self.log = ThrottledLog(logger or logging.getLogger("mppe_ros.process"), lambda: config.node.log_period_s)
        self._poses = BagPublisher(bag, POSES_TOPIC, True)
        markers = BagPublisher(bag, MARKERS_TOPIC, config.node.publish_markers)
        node = BagNode(bag) if bag is not None else None
        prefix = config.node.id_prefix  # as the node's in the root namespace
        body_publisher = (
            make_body_publisher(node, config, self.log, prefix) if node is not None and config.node.tracking else None
        )
        self.session = CameraSession(pipeline, ids=TrackIds(config.node.track_id_base))
        self.frames = FrameHandler(
            self.session, boxes, self.stats, self.log, FramePublisher(self._poses, markers, None, prefix),
            Bodies(body_publisher),
            ros_time_s=lambda: self._clock_s, tf_frames=tf_frames,
        )  # fmt: skip
        _, synchronizer, self._feeds = make_input_synchronizer(config.node)
        settings = config.node
        self.fallback = CameraInfoFallback(
            self._paired, wait_s=max(settings.sync_slop_s, FALLBACK_MARGIN_S), max_pending=settings.sync_queue_size,
            enabled=settings.camera_info_fallback, on_event=self._unpaired, clock=lambda: self._clock_s,
            on_dropped=self._dropped,
        )  # fmt: skip
        synchronizer.registerCallback(self.fallback.paired)
        self._clock_s = 0.0
        self._log_times: dict[int, int] = {}  # id(image) -> its log time, ns, while it waits for its pair
        self._pairs: deque[tuple[Any, Any, int]] = deque()
        self._reused = False  # the next pair the fallback emits has a reused CameraInfo

    def image(self, msg: Any, log_time_ns: int) -> None:
        """An image message received at `log_time_ns`; the frames it completes are processed now."""
        self.summary.images += 1
        self._clock_s = log_time_ns * 1e-9
        self._log_times[id(msg)] = log_time_ns
        self.fallback.image(msg)
        self._feeds[0](msg)
        self._advance()

    def camera_info(self, msg: Any, log_time_ns: int) -> None:
        """A CameraInfo message received at `log_time_ns`."""
        self._clock_s = log_time_ns * 1e-9
        self.fallback.camera_info(msg)
        self._feeds[1](msg)
        self._advance()

    def undecodable(self, stamp: int, error: Exception) -> None:
        """A message whose bytes do not deserialise (counted and logged; `stamp`: its log time, ns)."""
        self.summary.images += 1
        self.summary.count("undecodable", stamp)
        self.log.warning(problem_kind("undecodable", error), f"message skipped (undecodable): {error}")

    def finish(self) -> None:
        """The end of the recording: every image still waiting is answered (fallback) or counted as dropped."""
        self._clock_s = math.inf
        self.fallback.expire()
        self._drain()

    def _advance(self) -> None:
        self.fallback.expire()
        self._drain()

    def _unpaired(self, counter: str) -> None:
        """The fallback resolved an unpaired image: counted like the node; a reused CameraInfo's pair follows."""
        self.stats.count(counter)
        self._reused = counter == REUSED

    def _dropped(self, image: Any) -> None:
        """An image dropped unpaired (no usable earlier CameraInfo, or the fallback off)."""
        self._log_times.pop(id(image), None)
        self.summary.count("images_without_camera_info", stamp_ns(image))

    def _paired(self, image: Any, info: Any) -> None:
        """The fallback's callback (under its lock): queue the pair."""
        if self._reused:
            self.summary.count(REUSED, stamp_ns(image))
            self._reused = False
        self._pairs.append((image, info, self._log_times.pop(id(image), 0)))

    def _drain(self) -> None:
        while self._pairs:
            image, info, log_time_ns = self._pairs.popleft()
            self._process(image, info, log_time_ns)

    def _process(self, image: Any, info: Any, log_time_ns: int) -> None:
        stamp = stamp_ns(image)
        before = {name: getattr(self.stats, name) for name in COUNTED}
        resets = self.session.time_resets
        self._poses.last = None
        if self.bag is not None:
            self.bag.now_ns = log_time_ns
        self._clock_s = log_time_ns * 1e-9
        try:
            self.frames(image, info, log_time_ns * 1e-9, self.config)
        except Exception as error:  # noqa: BLE001 - one bad frame must not stop the run (the node's rule)
            self.summary.count("pipeline_errors", stamp)
            self.log.error(problem_kind("error", error), f"frame skipped, {type(error).__name__}: {error}")
        for name, count in before.items():
            if getattr(self.stats, name) > count:
                self.summary.count(name, stamp, getattr(self.stats, name) - count)
        if self.session.time_resets > resets:
            self.summary.count("stamp_went_back", stamp)
        poses = self._poses.last
        if poses is not None:
            self.summary.answered(stamp, [int(person.id) for person in poses.persons])
            if self.on_answer is not None:
                self.on_answer(image, poses)
