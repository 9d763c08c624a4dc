"""mppe_node: synchronized Image + CameraInfo in, PersonPose3DArray and RViz skeletons out.

In: `image` and `camera_info` (relative, remappable), QoS from `input_reliability` / `input_depth`
(default best effort, depth 1: matches best-effort and reliable publishers). Out: `/humans/poses3d`
(reliable; every processed frame, empty persons when nobody is seen) and `/humans/poses3d/markers`
(only while someone subscribes), both with the image's header (capture stamp, optical frame_id).
The synchronizer's callback only stores the newest pair; an inference thread processes it, so
receiving goes on and replaced pairs are counted as skipped. Bad frames are logged (throttled; an
unsupported encoding once per encoding), counted in `stats` and skipped. Each frame reads one
snapshot of the parameters. The inference thread survives anything a frame raises; should it stop
nevertheless, the node raises WorkerStoppedError in the executor and `main` exits with status 1.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import rclpy
from rcl_interfaces.msg import SetParametersResult
from rclpy.exceptions import ParameterException
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image
from visualization_msgs.msg import MarkerArray

from mppe_ros import host_memory
from mppe_ros.camera import CameraIntrinsicsError, PinholeCamera
from mppe_ros.msg import PersonPose3DArray
from mppe_ros.ros import conversions
from mppe_ros.ros.conversions import ImageFormatError, UnsupportedEncodingError, image_to_bgr, result_to_msg
from mppe_ros.ros.markers import poses_to_markers
from mppe_ros.ros.node_log import ThrottledLog
from mppe_ros.ros.parameters import NODE_NAME, PARAMETERS_BY_NAME, NodeConfig, declare_node_parameters
from mppe_ros.ros.sync import LatestOnly, make_synchronizer

POSES_TOPIC = "/humans/poses3d"
MARKERS_TOPIC = "/humans/poses3d/markers"
_NUMBERS = re.compile(r"[-+]?\d+\.?\d*(?:e[-+]?\d+)?|\b(?:nan|inf)\b", re.IGNORECASE)
SHUTDOWN_WAIT_S = 2.0  # destroy_node waits this long for a frame in flight, then abandons it
# Injected boxes (tests, demo): an [N, 4] array for every frame, or a function of the Image message
# returning boxes or (boxes, scores). None: the pipeline's detector.
BoxesSource = Callable[[Image], Any] | np.ndarray | None


class StartupError(RuntimeError):
    """The node cannot start (weights, device, parameters); the message says what to do."""


class WorkerStoppedError(RuntimeError):
    """The inference thread ended while the node was running (raised in the executor)."""


@dataclass
class NodeStats:
    """Counters since start-up (read them from any thread; the node only increments them)."""

    images_received: int = 0
    camera_infos_received: int = 0
    pairs_received: int = 0
    frames_processed: int = 0
    frames_skipped: int = 0  # a newer pair replaced it before inference was free
    unsupported_encoding: int = 0
    bad_image: int = 0
    bad_camera_info: int = 0  # zero/NaN intrinsics, size mismatch, unsupported distortion model
    pipeline_errors: int = 0  # anything else a frame raised (logged with its type)
    last_processing_s: float = 0.0  # conversion + inference + publishing of the last frame
    last_latency_s: float = 0.0  # pair received -> poses published


def build_pipeline(config: NodeConfig) -> Any:
    """The MppePipeline named by the parameters; StartupError with one actionable message otherwise."""
    import torch

    from mppe_ros.checkpoints import CheckpointError
    from mppe_ros.pipeline import MppePipeline, PipelineConfig
    from mppe_ros.weights import WeightsNotFoundError

    if config.device == "cuda" and not torch.cuda.is_available():
        raise StartupError(
            "device 'cuda' requested but torch sees no CUDA GPU (torch.cuda.is_available() is False); "
            "set the parameter device:=cpu (or auto), or install a CUDA build of torch with a working driver"
        )
    try:
        return MppePipeline.from_config(
            PipelineConfig(
                joint_set=config.joint_set,
                posenet_path=config.posenet_path,
                rootnet_path=config.rootnet_path,
                detector=config.detector,
                detector_weights_path=config.detector_weights_path,
                detection=config.detection_settings(),
                detector_min_size_px=config.detector_min_size_px,
                device=config.device,
                precision=config.precision,
            )
        )
    except (WeightsNotFoundError, CheckpointError, ValueError) as error:
        raise StartupError(str(error)) from None
    except RuntimeError as error:  # torch cannot use the device
        raise StartupError(f"device {config.device!r} is not usable: {error}; try device:=cpu") from None


def problem_kind(counter: str, error: Exception) -> str:
    """Throttle key of a bad frame: its counter, type and message with the numbers taken out.

    "fx must be > 0, got nan" and "... got -3.0" are one kind; "all zeros" is another, so every
    kind of problem in a mixed stream gets its own log line (each at most once per log_period_s).
    """
    return f"{counter}:{type(error).__name__}:{_NUMBERS.sub('#', str(error))}"


class MppeNode(Node):
    """The ROS 2 node. `pipeline` and `boxes` may be injected (tests, demo); main() builds from parameters.

    Args:
        pipeline: an MppePipeline (or any callable with its signature); None: build_pipeline(parameters).
        boxes: person boxes to use instead of the detector (see BoxesSource).
        node_name: ROS node name.
        **node_kwargs: passed to rclpy.node.Node (context, parameter_overrides, cli_args, ...).

    Raises:
        StartupError: bad parameters, missing weights or an unusable device.
    """

    def __init__(
        self, pipeline: Any = None, boxes: BoxesSource = None, *, node_name: str = NODE_NAME, **node_kwargs: Any
    ):
        super().__init__(node_name, **node_kwargs)
        try:
            self.config = declare_node_parameters(self)
            self.pipeline = pipeline if pipeline is not None else build_pipeline(self.config)
        except (ValueError, ParameterException, StartupError) as error:
            self.destroy_node()
            raise (error if isinstance(error, StartupError) else StartupError(f"bad parameter: {error}")) from None
        self.stats = NodeStats()
        self._boxes = boxes
        self._latest = LatestOnly()  # (image, camera_info, received_s): the newest pair only
        self._log = ThrottledLog(self.get_logger(), lambda: self.config.log_period_s)
        self._skipped_reported = 0
        self._started_s = time.monotonic()
        self._publish_lock = threading.Lock()  # destroy_node takes it: no publishing after destruction
        self._closing = False
        self._worker_error: BaseException | None = None
        self.poses_publisher = self.create_publisher(
            PersonPose3DArray, POSES_TOPIC, QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
        )
        self.markers_publisher = self.create_publisher(MarkerArray, MARKERS_TOPIC, 10)
        self.sync_backend = self._subscribe_inputs()
        self.add_on_set_parameters_callback(self._check_parameters)
        self.add_post_set_parameters_callback(self._apply_parameters)
        self.create_timer(1.0, self._warn_if_no_input)
        self._worker_stopped = self.create_guard_condition(self._raise_worker_stopped)
        self._worker = threading.Thread(target=self._work, name="mppe_inference", daemon=True)
        self._worker.start()
        self.get_logger().info(
            f"ready: subscribing {self.image_topic} + {self.camera_info_topic} ({self.config.input_reliability}, "
            f"depth {self.config.input_depth}, {self.config.sync_mode} sync via {self.sync_backend}, "
            f"{conversions.converter_backend()} image converter); publishing {POSES_TOPIC} and {MARKERS_TOPIC}; "
            f"buffer reuse (glibc malloc): {'on' if host_memory.applied else 'off'}"
        )
        if boxes is None and getattr(self.pipeline, "detector", None) is None:
            self.get_logger().warning(
                "detector is none and no boxes are injected: every frame is answered with an empty persons list; "
                "set the parameter detector (e.g. fasterrcnn_resnet50_fpn) to find people"
            )

    # --- input ------------------------------------------------------------------------------------

    def _subscribe_inputs(self) -> str:
        """Subscribe image + camera_info and feed them to message_filters' synchronizer, or to ours."""
        cfg = self.config
        reliability = (
            ReliabilityPolicy.RELIABLE if cfg.input_reliability == "reliable" else ReliabilityPolicy.BEST_EFFORT
        )
        qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=cfg.input_depth, reliability=reliability)
        try:
            import message_filters
        except ImportError:
            sync, backend = make_synchronizer(cfg.sync_mode, cfg.sync_queue_size, cfg.sync_slop_s), "mppe_ros.ros.sync"
            feeds = [sync.connect_input(0), sync.connect_input(1)]
        else:
            inputs, backend = [message_filters.SimpleFilter(), message_filters.SimpleFilter()], "message_filters"
            if cfg.sync_mode == "exact":
                sync = message_filters.TimeSynchronizer(inputs, cfg.sync_queue_size)
            else:
                sync = message_filters.ApproximateTimeSynchronizer(inputs, cfg.sync_queue_size, cfg.sync_slop_s)
            feeds = [f.signalMessage for f in inputs]
        sync.registerCallback(self._on_pair)
        self._sync = sync
        subscriptions = [
            self.create_subscription(
                kind, name, lambda msg, feed=feed, counter=counter: (self._count(counter), feed(msg)), qos
            )
            for kind, name, counter, feed in (
                (Image, "image", "images_received", feeds[0]),
                (CameraInfo, "camera_info", "camera_infos_received", feeds[1]),
            )
        ]
        self.image_topic, self.camera_info_topic = (subscription.topic_name for subscription in subscriptions)
        return backend

    def _count(self, name: str) -> None:
        setattr(self.stats, name, getattr(self.stats, name) + 1)

    def _on_pair(self, image: Image, camera_info: CameraInfo) -> None:
        """Synchronizer callback (under its lock): store the newest pair, count the one it replaces."""
        self.stats.pairs_received += 1
        if self._latest.put((image, camera_info, time.monotonic())):
            self.stats.frames_skipped += 1

    # --- inference thread -------------------------------------------------------------------------

    def _work(self) -> None:
        """Process pairs until closed. Nothing a frame raises ends the loop; if it ends anyway, say so loudly."""
        try:
            while (pair := self._latest.take()) is not None:
                try:
                    self._process(*pair, self.config)  # one parameter snapshot per frame
                except Exception as error:  # noqa: BLE001 - one bad frame must not stop the node
                    if self._stopping():  # the context was shut down under the frame: drop it quietly
                        return
                    self._count("pipeline_errors")
                    self._log.error(problem_kind("error", error), f"frame skipped, {type(error).__name__}: {error}")
                self._report_skipped()
        except BaseException as error:
            self._worker_error = error
            raise
        finally:
            if not self._stopping():
                self._worker_stopped.trigger()

    def _stopping(self) -> bool:
        """destroy_node was called, or a signal (rclpy's handler) shut the context down."""
        return self._closing or not self.context.ok()

    def _raise_worker_stopped(self) -> None:
        error = self._worker_error
        raise WorkerStoppedError(
            f"the inference thread stopped ({type(error).__name__}: {error}); no more frames can be answered"
        )

    def _process(self, image_msg: Image, info_msg: CameraInfo, received_s: float, cfg: NodeConfig) -> None:
        start_s = time.monotonic()
        try:
            image = image_to_bgr(image_msg)
            camera = PinholeCamera.from_camera_info(info_msg, use_projection=cfg.use_rectified)
            camera.check_image_size(image.shape[1], image.shape[0])
        except (UnsupportedEncodingError, ImageFormatError, CameraIntrinsicsError) as error:
            self._skip_frame(error)
            return
        if not image_msg.header.frame_id:
            self._log.warning(
                "frame_id", "the image header has an empty frame_id: outputs copy it, RViz cannot place them", once=True
            )
        boxes, scores = self._boxes_for(image_msg)
        result = self.pipeline(image, camera, boxes_xywh=boxes, scores=scores, detection=cfg.detection_settings())
        poses = result_to_msg(result, image_msg.header)
        markers = None
        if cfg.publish_markers and self.markers_publisher.get_subscription_count() > 0:
            markers = poses_to_markers(result, image_msg.header, cfg.marker_lifetime_s, cfg.marker_scale)
        with self._publish_lock:
            if self._closing:
                return
            self.poses_publisher.publish(poses)
            if markers is not None:
                self.markers_publisher.publish(markers)
        end_s = time.monotonic()
        self.stats.last_processing_s, self.stats.last_latency_s = end_s - start_s, end_s - received_s
        self.stats.frames_processed += 1

    def _skip_frame(self, error: ValueError) -> None:
        """Count and log a frame that cannot be processed (an unsupported encoding once per encoding)."""
        if isinstance(error, UnsupportedEncodingError):
            self._count("unsupported_encoding")
            self._log.error(f"encoding:{error.encoding}", f"{error}; these frames are skipped", once=True)
            return
        counter = "bad_image" if isinstance(error, ImageFormatError) else "bad_camera_info"
        self._count(counter)
        self._log.warning(
            problem_kind(counter, error), f"frame skipped ({counter}): {error} [{getattr(self.stats, counter)} so far]"
        )

    def _boxes_for(self, image_msg: Image) -> tuple[Any, Any]:
        if self._boxes is None:  # no detector and nothing injected: nobody can be seen
            return (None, None) if getattr(self.pipeline, "detector", None) is not None else (np.zeros((0, 4)), None)
        value = self._boxes(image_msg) if callable(self._boxes) else self._boxes
        return value if isinstance(value, tuple) else (value, None)

    # --- reporting --------------------------------------------------------------------------------

    def _report_skipped(self) -> None:
        new = self.stats.frames_skipped - self._skipped_reported
        if new > 0 and self._log.warning(
            "skipped",
            f"skipped {new} frames (total {self.stats.frames_skipped}): inference takes "
            f"{self.stats.last_processing_s:.2f} s per frame, slower than the input; "
            "only the newest pair is processed",
        ):
            self._skipped_reported = self.stats.frames_skipped

    def _warn_if_no_input(self) -> None:
        stats, cfg, waited_s = self.stats, self.config, time.monotonic() - self._started_s
        if stats.pairs_received or not cfg.no_input_warning_s or waited_s < cfg.no_input_warning_s:
            return
        if stats.images_received and stats.camera_infos_received:
            cause = (
                f"{stats.images_received} images and {stats.camera_infos_received} camera_infos arrived but never "
                f"paired: their header stamps must be equal ({cfg.sync_mode} sync, sync_slop_s={cfg.sync_slop_s})"
            )
        else:
            cause = (
                f"received {stats.images_received} images and {stats.camera_infos_received} camera_infos: check "
                "the topic names (remap image:=... camera_info:=...) and QoS (`ros2 topic info -v`; "
                f"input_reliability={cfg.input_reliability})"
            )
        self._log.warning(
            "no_input",
            f"no synchronized pair on {self.image_topic} + {self.camera_info_topic} after "
            f"{cfg.no_input_warning_s:g} s; {cause}",
            once=True,
        )

    # --- parameters -------------------------------------------------------------------------------

    def _check_parameters(self, parameters: list[Any]) -> SetParametersResult:
        known = [p for p in parameters if p.name in PARAMETERS_BY_NAME]
        problems = [problem for p in known if (problem := PARAMETERS_BY_NAME[p.name].check(p.value))]
        return SetParametersResult(successful=not problems, reason="; ".join(problems))

    def _apply_parameters(self, parameters: list[Any]) -> None:
        """Replace the whole configuration at once: the next frame reads the new snapshot."""
        changes = {p.name: p.value for p in parameters if p.name in PARAMETERS_BY_NAME}
        self.config = self.config.replace(**changes)
        self.get_logger().info(f"parameters changed: {changes}")

    def destroy_node(self) -> None:
        """Stop the inference thread (a frame in flight gets SHUTDOWN_WAIT_S, then is dropped unpublished)."""
        if hasattr(self, "_worker"):
            with self._publish_lock:
                self._closing = True
            self._latest.close()
            self._worker.join(timeout=SHUTDOWN_WAIT_S)
        super().destroy_node()

    @property
    def worker_alive(self) -> bool:
        """Whether the inference thread is running."""
        return self._worker.is_alive()


def run(node: MppeNode, executor: Any = None) -> int:
    """Spin `node` until shutdown; the process exit status: 0 for a requested stop, 1 if the worker stopped."""
    try:
        rclpy.spin(node, executor=executor)
    except WorkerStoppedError as error:
        node.get_logger().fatal(f"{error}; exiting with status 1 so that a supervisor (launch respawn) restarts it")
        return 1
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    return 0


def main(args: list[str] | None = None) -> None:
    """`ros2 run mppe_ros mppe_node` / `mppe_node`: exit 1 with one error line when it cannot start.

    SIGINT and SIGTERM stop it (rclpy's signal handlers shut the context down) with status 0, at
    any moment: during start-up, idle or with a frame in flight (abandoned after SHUTDOWN_WAIT_S).
    """
    rclpy.init(args=args)
    node, code = None, 0
    try:
        node = MppeNode()
        code = run(node)
    except StartupError as error:
        rclpy.logging.get_logger(NODE_NAME).fatal(f"cannot start: {error}")
        code = 1
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except Exception:
        if rclpy.ok():  # a real failure; after a stop request, start-up errors are only its echo
            raise
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    if node is not None and node.worker_alive:  # a frame still computing: do not wait for it
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    main()
