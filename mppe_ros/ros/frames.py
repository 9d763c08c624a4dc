"""One frame through the node: decode, check, the camera session with the frame's settings snapshot, messages, publish.

Bad input (an unsupported encoding, a malformed image, unusable intrinsics) is counted in NodeStats
and logged per kind of problem (throttled; an unsupported encoding once per encoding); the frame is
skipped. Anything else a frame raises is left to the caller (the node's worker counts it).
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import Header
from visualization_msgs.msg import MarkerArray

from mppe_ros.camera import CameraIntrinsicsError, PinholeCamera
from mppe_ros.msg import PersonPose3DArray
from mppe_ros.ros.bodies import Bodies
from mppe_ros.ros.compressed import compressed_image_to_bgr
from mppe_ros.ros.conversions import ImageFormatError, UnsupportedEncodingError, image_to_bgr
from mppe_ros.ros.detection_messages import person_boxes
from mppe_ros.ros.markers import poses_to_markers
from mppe_ros.ros.node_log import ThrottledLog
from mppe_ros.ros.parameters import NodeConfig
from mppe_ros.ros.pose_messages import result_to_msg
from mppe_ros.ros.tf_frames import USUAL_CAUSES, FramePoses, TfFrames, TransformUnavailableError
from mppe_ros.tracking import IDENTITY, CameraSession, TrackedResult, express
from mppe_ros.tracking.frame_clock import ZERO

_NUMBERS = re.compile(r"[-+]?\d+\.?\d*(?:e[-+]?\d+)?|\b(?:nan|inf)\b", re.IGNORECASE)
# Injected boxes (tests, demo): an [N, 4] array for every frame, or a function of the Image message
# returning boxes or (boxes, scores). None: the pipeline's detector.
BoxesSource = Callable[[Image], Any] | np.ndarray | None
TIMINGS_KEPT = 1024  # published frames whose timings FrameTimings keeps (the diagnostics' medians)


@dataclass
class NodeStats:
    """Counters since start-up (read them from any thread; the node only increments them)."""

    images_received: int = 0
    camera_infos_received: int = 0
    pairs_received: int = 0  # image + camera_info (+ its detections with detector topic) synchronized
    frames_processed: int = 0
    frames_skipped: int = 0  # a newer pair replaced it before inference was free
    camera_info_reused: int = 0  # an image answered with a cached CameraInfo (its own was not received)
    images_without_camera_info: int = 0  # an image dropped unpaired (no usable cached CameraInfo, or fallback off)
    unsupported_encoding: int = 0
    bad_image: int = 0
    bad_camera_info: int = 0  # zero/NaN intrinsics, size mismatch, unsupported distortion model
    pipeline_errors: int = 0  # anything else a frame raised (logged with its type)
    no_transform: int = 0  # tracking_frame/output_frame: no transform at the image's stamp (mppe_ros.ros.tf_frames)
    detections_received: int = 0  # detector topic: Detection2DArray messages
    images_without_detections: int = 0  # detector topic: a pair whose detections did not come (dropped)
    detections_unmatched: int = 0  # detector topic: detections that no image took (dropped)
    stamps_substituted: int = 0  # zero or repeated stamps: tracking used arrival times (mppe_ros.tracking.frame_clock)
    last_processing_s: float = 0.0  # conversion + inference + publishing of the last frame
    last_latency_s: float = 0.0  # pair received -> poses published

    def count(self, name: str) -> None:
        """Add one to the counter `name`."""
        setattr(self, name, getattr(self, name) + 1)


@dataclass(frozen=True)
class FrameTiming:
    """One published frame: processing_s (conversion + inference + publishing, s) and latency_s
    (capture stamp of the image header -> publication, on the node clock, s; nan when the stamp is 0)."""

    processing_s: float
    latency_s: float


class FrameTimings:
    """The timings of the last `kept` published frames (recorded by the worker, read by /diagnostics)."""

    def __init__(self, kept: int = TIMINGS_KEPT) -> None:
        self._timings: deque[FrameTiming] = deque(maxlen=kept)
        self._lock = threading.Lock()
        self.recorded = 0  # frames recorded since start-up

    def record(self, timing: FrameTiming) -> None:
        """Add the timing of one published frame."""
        with self._lock:
            self._timings.append(timing)
            self.recorded += 1

    def since(self, recorded: int) -> tuple[int, list[FrameTiming]]:
        """(recorded now, the timings recorded after the count `recorded`, oldest first; at most `kept`)."""
        with self._lock:
            new = min(self.recorded - recorded, len(self._timings))
            return self.recorded, list(self._timings)[len(self._timings) - new :] if new > 0 else []


def stamp_seconds(header: Any) -> float:
    """The header stamp (std_msgs/Header) in seconds."""
    return float(header.stamp.sec) + float(header.stamp.nanosec) * 1e-9


def problem_kind(counter: str, error: Exception) -> str:
    """Throttle key of a bad frame: its counter, type and message with the numbers taken out.

    "fx must be > 0, got nan" and "... got -3.0" are one kind; "all zeros" is another, so every
    kind of problem in a mixed stream gets its own log line (each at most once per log_period_s).
    """
    return f"{counter}:{type(error).__name__}:{_NUMBERS.sub('#', str(error))}"


class FramePublisher:
    """The node's poses and markers publishers, and the REP-155 bodies handed to the executor thread (`defer`:
    ExecutorCalls.call_soon; None: run them at once); nothing is published once `close` was called (deactivate,
    destroy_node). `id_prefix` names the activation's marker namespaces (mppe_ros.ros.node_names)."""

    def __init__(
        self, poses: Any, markers: Any, defer: Callable[[Callable[[], None]], None] | None = None, id_prefix: str = ""
    ) -> None:
        self.poses, self.markers, self._defer, self.id_prefix = poses, markers, defer, id_prefix
        self._lock = threading.Lock()
        self.closed = False

    def markers_wanted(self) -> bool:
        """Whether someone subscribes to the markers (they are only built then)."""
        return bool(self.markers.get_subscription_count() > 0)

    def publish(
        self, poses: PersonPose3DArray, markers: MarkerArray | None, also: Callable[[], None] | None = None
    ) -> bool:
        """Publish both (markers when given), then `also` (the REP-155 bodies: handed to `defer`, run there unless
        closed by then); False when closed."""
        with self._lock:
            if self.closed:
                return False
            self.poses.publish(poses)
            if markers is not None:
                self.markers.publish(markers)
        if also is not None:
            if self._defer is None:
                self._unless_closed(also)
            else:
                self._defer(lambda: self._unless_closed(also))
        return True

    def _unless_closed(self, call: Callable[[], None]) -> None:
        with self._lock:
            if not self.closed:
                call()

    def close(self) -> None:
        """Publish nothing from now on (waits for a publication in progress)."""
        with self._lock:
            self.closed = True


class FrameHandler:
    """Processes one synchronized pair with one NodeConfig snapshot (called by the node's worker):
    decode -> camera -> session -> messages -> publish.

    Args:
        session: the activation's CameraSession (its pipeline, schedule, tracker, clock and trails).
        boxes: injected person boxes (BoxesSource); None: the session's (the detector, the tracks, or none).
        stats: the node's counters.
        log: the node's throttled log.
        publisher: the node's outputs.
        bodies: the activation's REP-155 bodies (mppe_ros.ros.bodies.Bodies), published on the executor thread.
        ros_time_s: the node clock's time, s (the clock of the header stamps; default: the system
            clock, which is the ROS clock unless use_sim_time).
        tf_frames: the TF lookups of tracking_frame / output_frame (None: both empty, the image's frame).

    Attributes:
        timings: FrameTimings of the published frames (processing and stamp-to-publication latency).
    """

    def __init__(
        self,
        session: CameraSession,
        boxes: BoxesSource,
        stats: NodeStats,
        log: ThrottledLog,
        publisher: FramePublisher,
        bodies: Bodies,
        ros_time_s: Callable[[], float] = time.time,
        tf_frames: TfFrames | None = None,
    ) -> None:
        self.session, self.boxes, self.stats, self.log, self.publisher = session, boxes, stats, log, publisher
        self.bodies, self.ros_time_s, self.tf_frames = bodies, ros_time_s, tf_frames
        self.timings = FrameTimings()

    def __call__(
        self, image_msg: Image, info_msg: CameraInfo, received_s: float, cfg: NodeConfig, detections: Any = None
    ) -> None:
        """One frame; `detections`: its vision_msgs/Detection2DArray (detector topic), else None."""
        start_s = time.monotonic()
        try:
            image = (
                compressed_image_to_bgr(image_msg)
                if isinstance(image_msg, CompressedImage)
                else image_to_bgr(image_msg)
            )
            camera = PinholeCamera.from_camera_info(info_msg, use_projection=cfg.node.use_rectified)
            camera.check_image_size(image.shape[1], image.shape[0])
        except (UnsupportedEncodingError, ImageFormatError, CameraIntrinsicsError) as error:
            self.skip(error)
            return
        header = image_msg.header
        if not header.frame_id:
            self.log.warning(
                "frame_id", "the image header has an empty frame_id: outputs copy it, RViz cannot place them", once=True
            )
        frames = self.frame_poses(header, cfg)
        if frames is None:
            return
        stamp_s = stamp_seconds(header)
        boxes, scores = (
            self.injected_boxes(image_msg) if detections is None else self.detected_boxes(detections, header, cfg)
        )
        tracked = self.session(image, camera, stamp_s, received_s, cfg.session, boxes, scores, frames.camera_pose)
        self.report_time(tracked, stamp_s)
        tracked = express(tracked, frames.output_from_tracking, frames.output_from_camera)
        header = Header(stamp=header.stamp, frame_id=frames.output_frame)
        poses = result_to_msg(tracked.result, header, tracked.tracks)
        markers = None
        if cfg.node.publish_markers and self.publisher.markers_wanted():
            markers = poses_to_markers(
                tracked.result, header, cfg.node.marker_lifetime_s, cfg.node.marker_scale, tracks=tracked.tracks,
                trails=tracked.trails, id_prefix=self.publisher.id_prefix,
            )  # fmt: skip
        bodies = self.bodies.call_for(header, tracked, image, cfg.tracking.max_age_s)
        if not self.publisher.publish(poses, markers, bodies):
            return
        end_s = time.monotonic()
        self.stats.last_processing_s, self.stats.last_latency_s = end_s - start_s, end_s - received_s
        self.timings.record(FrameTiming(end_s - start_s, self.stamp_latency_s(image_msg.header.stamp)))
        self.stats.frames_processed += 1

    def frame_poses(self, header: Any, cfg: NodeConfig) -> FramePoses | None:
        """The image's frames (TF at its stamp when tracking_frame/output_frame are set); None: skipped, counted."""
        if self.tf_frames is None:
            return FramePoses(IDENTITY, IDENTITY, IDENTITY, header.frame_id)
        try:
            return self.tf_frames.poses(header, cfg.node.tf_timeout_s)
        except TransformUnavailableError as error:
            self.stats.count("no_transform")
            self.log.warning(
                f"tf:{error.kind}",
                f"frame skipped (no transform, {self.stats.no_transform} so far): {error}; {USUAL_CAUSES}; the node "
                "answers again as soon as the transforms arrive",
            )
            return None

    def report_time(self, tracked: TrackedResult, stamp_s: float) -> None:
        """Say why when the stamp went back (the tracks were dropped) or could not be used (counted)."""
        if tracked.went_back_from_s is not None:
            self.log.warning(
                "time_back",
                f"the image stamp went back from {tracked.went_back_from_s:.3f} s to {stamp_s:.3f} s (a bag played "
                "again, a camera or clock restarted): the tracks were dropped and start again, with new ids "
                f"({self.session.time_resets} times since start-up)",
            )
        problem = tracked.frame.problem
        if problem:
            self.stats.count("stamps_substituted")
            cause = (
                "every image header stamp is 0: the camera driver does not stamp its images"
                if problem == ZERO
                else f"the image stamp {stamp_s:.3f} s does not increase: the driver re-sends frames with one stamp, "
                "or a bag is played without its clock (ros2 bag play --clock, use_sim_time)"
            )
            self.log.warning(
                f"stamps:{problem}",
                f"{cause}; tracks age by the time between the frames' arrivals instead (fix the stamps for "
                f"exact times); {self.stats.stamps_substituted} such frames so far",
                once=True,
            )

    def stamp_latency_s(self, stamp: Any) -> float:
        """Node clock now - `stamp` (builtin_interfaces/Time), s; nan for an unset (zero) stamp."""
        stamp_s = stamp.sec + stamp.nanosec * 1e-9
        return self.ros_time_s() - stamp_s if stamp_s > 0 else math.nan

    def skip(self, error: ValueError) -> None:
        """Count and log a frame that cannot be processed (an unsupported encoding once per encoding)."""
        if isinstance(error, UnsupportedEncodingError):
            self.stats.count("unsupported_encoding")
            self.log.error(f"encoding:{error.encoding}", f"{error}; these frames are skipped", once=True)
            return
        counter = "bad_image" if isinstance(error, ImageFormatError) else "bad_camera_info"
        self.stats.count(counter)
        self.log.warning(
            problem_kind(counter, error), f"frame skipped ({counter}): {error} [{getattr(self.stats, counter)} so far]"
        )

    def detected_boxes(self, detections: Any, header: Any, cfg: NodeConfig) -> tuple[np.ndarray, np.ndarray]:
        """(boxes, scores) of the robot's detector for this frame (mppe_ros.ros.detection_messages)."""
        frame_id = detections.header.frame_id
        if frame_id and frame_id != header.frame_id:
            self.log.warning(
                "detections_frame",
                f"the detections are in frame {frame_id!r}, the image in {header.frame_id!r}: their boxes are used "
                "as pixels of this image; a detector on another (resized, rectified) image gives wrong boxes",
                once=True,
            )
        boxes, scores, malformed = person_boxes(detections, cfg.node.person_class_id, cfg.detection)
        if malformed:
            self.log.warning(
                "detections_malformed",
                f"{malformed} person detection(s) dropped from the Detection2DArray of {header.stamp.sec}."
                f"{header.stamp.nanosec:09d} s: a non-finite centre, angle, size or score, or a negative size; check "
                "the detector's output",
            )
        return boxes, scores

    def injected_boxes(self, image_msg: Image) -> tuple[Any, Any]:
        """(boxes, scores) injected for this frame, or (None, None): the session finds them."""
        value = self.boxes(image_msg) if callable(self.boxes) else self.boxes
        return value if isinstance(value, tuple) else (value, None)
