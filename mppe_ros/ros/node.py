"""mppe_node: synchronized Image + CameraInfo in, PersonPose3DArray and RViz skeletons out; a lifecycle node.

Lifecycle (rclpy managed node; `autostart` true runs configure and activate at start-up):
- configure: build the pipeline (weights, models, device) and the lifecycle publishers; a failure is
  one clear log line and a failed transition (with autostart: StartupError, `main` exits 1);
- activate: subscribe the inputs (mppe_ros.ros.inputs) and start the inference thread;
- deactivate: unsubscribe, stop the thread, clear the node's markers (DELETEALL per namespace);
- cleanup: free the models (and the GPU memory they held); shutdown: all of it, then the spin ends.

In: `image` (or `<image>/compressed`) and `camera_info`, relative and remappable, reliability from
`input_reliability` (auto: matching the publishers, re-checked every second); with `detector: topic` also
`detections` (vision_msgs/Detection2DArray: the robot's own detector, paired by stamp). Out, in the node's namespace
(mppe_ros.ros.node_names: `/front/humans/poses3d` in `/front`): `humans/poses3d` (reliable; every processed frame,
empty persons when nobody is seen), `humans/poses3d/markers` (only while someone subscribes), both with the image's
header; with tracking and REP-155 on, `humans/bodies/...` and the `body_<id>` frames on `/tf` (mppe_ros.ros.rep155);
and `/diagnostics`. The synchronizer's
callback only stores the newest pair; the inference thread processes it (mppe_ros.ros.frames), so
receiving goes on and replaced pairs are counted as skipped. Each frame reads one snapshot of the
parameters (a NodeConfig, replaced whole by a parameter change). The inference thread survives
anything a frame raises; should it stop nevertheless, the node raises WorkerStoppedError in the
executor and `main` exits with status 1.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray
from rcl_interfaces.msg import SetParametersResult
from rclpy.exceptions import ParameterException
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.qos import QoSProfile, ReliabilityPolicy
from std_msgs.msg import Header
from visualization_msgs.msg import MarkerArray

from mppe_ros import host_memory
from mppe_ros.msg import PersonPose3DArray
from mppe_ros.profiles import choose_profile
from mppe_ros.ros import conversions
from mppe_ros.ros.activation import Activation
from mppe_ros.ros.bodies import Bodies, make_body_publisher
from mppe_ros.ros.detection_messages import detections_type
from mppe_ros.ros.diagnostics import DiagnosticsReporter
from mppe_ros.ros.executor_calls import ExecutorCalls
from mppe_ros.ros.frames import BoxesSource, FrameHandler, FramePublisher, FrameTimings, NodeStats, problem_kind
from mppe_ros.ros.inputs import InputSubscriptions
from mppe_ros.ros.markers import clear_markers
from mppe_ros.ros.node_log import ThrottledLog
from mppe_ros.ros.node_names import MARKERS_TOPIC, POSES_TOPIC, TrackIdBlocks, id_prefix
from mppe_ros.ros.parameter_changes import apply_change, check_change
from mppe_ros.ros.parameters import NODE_NAME, declare_node_parameters
from mppe_ros.ros.reporting import low_image_share_message, no_input_cause, skipped_message
from mppe_ros.ros.startup import (
    NodeFinalized,
    StartupError,
    WorkerStoppedError,
    build_pipeline,
    free_device_memory,
    pipeline_device_and_precision,
)
from mppe_ros.ros.tf_frames import TfFrames, wanted_frames
from mppe_ros.tracking import CameraSession

__all__ = ["MARKERS_TOPIC", "POSES_TOPIC", "MppeNode", "StartupError", "WorkerStoppedError"]

DIAGNOSTICS_TOPIC = "/diagnostics"
ACTIVATE_WAIT_S = 5.0  # activation waits this long more for an abandoned frame to end, then fails
INPUT_CHECK_PERIOD_S = 1.0  # no-input warning and, with input_reliability auto, the publishers' QoS
SUCCESS, FAILURE = TransitionCallbackReturn.SUCCESS, TransitionCallbackReturn.FAILURE


class MppeNode(LifecycleNode):
    """The ROS 2 node. `pipeline` and `boxes` may be injected (tests, demo); configure builds from parameters.

    Args:
        pipeline: an MppePipeline (or any callable with its signature); None: build_pipeline(parameters).
        boxes: person boxes to use instead of the detector (see mppe_ros.ros.frames.BoxesSource).
        node_name: ROS node name.
        **node_kwargs: passed to rclpy's LifecycleNode (context, parameter_overrides, cli_args, ...).

    Raises:
        StartupError: bad parameters; with autostart also missing weights, an unusable device or inputs
            that cannot be subscribed (without autostart those fail the configure/activate transition).
    """

    def __init__(
        self, pipeline: Any = None, boxes: BoxesSource = None, *, node_name: str = NODE_NAME, **node_kwargs: Any
    ):
        super().__init__(node_name, **node_kwargs)
        try:
            self.config = declare_node_parameters(self)
        except (ValueError, ParameterException) as error:
            self.destroy_node()
            raise StartupError(f"bad parameter: {error}") from None
        self.profile = choose_profile(self.config.node.profile, self.config.model.device)
        self.get_logger().info(self.profile.summary(self.config.value))
        self._injected_pipeline, self._boxes = pipeline, boxes
        self.pipeline: Any = None
        self.poses_publisher: Any = None
        self.markers_publisher: Any = None
        self.stats = NodeStats()
        self._log = ThrottledLog(self.get_logger(), lambda: self.config.node.log_period_s)
        self._skipped_reported = 0
        self._active: Activation | None = None
        self._last_worker: threading.Thread | None = None
        self._last_header = Header()
        self._transition_error = ""
        self._autostarting = False  # a failed transition is logged here, except during autostart (main says it)
        self._worker_error: BaseException | None = None
        self.add_on_set_parameters_callback(self._check_parameters)
        self.add_post_set_parameters_callback(self._apply_parameters)
        self.create_timer(INPUT_CHECK_PERIOD_S, self._check_inputs)
        self._worker_stopped = self.create_guard_condition(self._raise_worker_stopped)
        self._executor_calls = ExecutorCalls(self, self._executor_call_failed)  # the REP-155 bodies' publishers
        self._finalized = self.create_guard_condition(self._raise_finalized)
        self._diagnostics: DiagnosticsReporter | None = None  # from configure (it names the device) to cleanup
        self._precision = ""  # the configured pipeline's resolved precision (for /diagnostics)
        self._tf_frames: TfFrames | None = None  # from configure to cleanup, with tracking_frame or output_frame
        self._timings = FrameTimings()  # the latest activation's frame timings
        self._track_ids = TrackIdBlocks()  # ids go on across activations
        self.diagnostics_publisher = self.create_publisher(DiagnosticArray, DIAGNOSTICS_TOPIC, 10)
        if self.config.node.diagnostics_period_s > 0:
            self.create_timer(self.config.node.diagnostics_period_s, self._publish_diagnostics)
        if self.config.node.autostart:
            self._autostart()

    def _autostart(self) -> None:
        self._autostarting = True
        for transition in (self.trigger_configure, self.trigger_activate):
            if transition() != SUCCESS:
                error = self._transition_error or f"the {transition.__name__} transition failed"
                self.destroy_node()
                raise StartupError(error)
        self._autostarting = False

    # --- lifecycle transitions --------------------------------------------------------------------

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Load the weights and models; create the (lifecycle) publishers."""
        try:
            self.pipeline = (
                self._injected_pipeline if self._injected_pipeline is not None else build_pipeline(self.config)
            )
        except StartupError as error:
            return self._fail("configure", str(error))
        self.poses_publisher = self.create_lifecycle_publisher(
            PersonPose3DArray, POSES_TOPIC, QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
        )
        self.markers_publisher = self.create_lifecycle_publisher(MarkerArray, MARKERS_TOPIC, 10)
        node = self.config.node
        if self.config.model.detector == "topic":
            try:
                detections_type()
            except ImportError as error:
                self._release()
                return self._fail("configure", str(error))
        tracking_frame, output_frame = wanted_frames(node)
        if tracking_frame or output_frame:
            try:
                self._tf_frames = TfFrames.listening(self, tracking_frame, output_frame)
            except ImportError as error:
                self._release()
                return self._fail("configure", str(error))
            self.get_logger().info(
                f"frames: tracking in {tracking_frame or 'the image frame'}, output in "
                f"{node.output_frame or 'the image frame'} (TF at each image's stamp, waiting up to tf_timeout_s)"
            )
        device, self._precision = pipeline_device_and_precision(self.pipeline, self.config)
        self._diagnostics = DiagnosticsReporter(self.get_fully_qualified_name(), device)
        self.get_logger().info(f"configured: {type(self.pipeline).__name__} on {device} ({self._precision})")
        return super().on_configure(state)

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Subscribe the inputs and start the inference thread (one at most: an abandoned frame must end first).

        Everything it creates is created here, on the executor thread, after the last step that can fail.
        """
        previous = self._last_worker
        if previous is not None and previous.is_alive():
            previous.join(timeout=ACTIVATE_WAIT_S)
            if previous.is_alive():
                return self._fail(
                    "activate",
                    f"a frame of the previous activation is still being computed ({ACTIVATE_WAIT_S:g} s after "
                    "deactivation; a slow device or a very large image); activate again once it has ended",
                )
        try:
            inputs = InputSubscriptions(
                self, self.config.node, self._on_pair, self.stats.count, detections=self.detections_from_topic
            )
        except ValueError as error:
            return self._fail("activate", str(error))
        prefix = id_prefix(self.config.node.id_prefix, self.get_namespace())  # of bodies, frames, markers
        publisher = FramePublisher(self.poses_publisher, self.markers_publisher, self._executor_calls.call_soon, prefix)
        tracking = self.config.node.tracking
        bodies = Bodies(make_body_publisher(self, self.config, self._log, prefix) if tracking else None)
        frames = FrameHandler(
            CameraSession(self.pipeline, self._track_ids(self.config.node.track_id_base)),
            self._boxes,
            self.stats,
            self._log,
            publisher,
            bodies,
            self._ros_time_s,
            self._tf_frames,
        )
        self._active = Activation(
            inputs, frames, publisher, self.stats, self.config.node.no_input_warning_s, self._work
        )
        self._last_worker, self._timings = self._active.worker, frames.timings
        if self._diagnostics is not None:
            self._diagnostics.reset(self.stats, frames.timings, self._ros_time_s())
        result = super().on_activate(state)
        inputs = self._active.inputs
        self.get_logger().info(
            f"ready: subscribing {inputs.image_topic} + {inputs.camera_info_topic} ({inputs.describe()}, "
            f"{conversions.converter_backend()} image converter); publishing {self.poses_publisher.topic_name} and "
            f"{self.markers_publisher.topic_name} (ids: prefix {prefix or 'none'}, tracks from "
            f"{self.config.node.track_id_base + 1}); "
            f"buffer reuse (glibc malloc): {'on' if host_memory.applied else 'off'}"
        )
        if self._boxes is None and not frames.session.has_detector and not self.detections_from_topic:
            self.get_logger().warning(
                "detector is none and no boxes are injected: every frame is answered with an empty persons list; "
                "set the parameter detector (e.g. fasterrcnn_resnet50_fpn) to find people"
            )
        return result

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Unsubscribe, stop processing and clear the markers in RViz."""
        self._deactivate()
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Free the models and the publishers."""
        self._release()
        return super().on_cleanup(state)

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Stop and free everything, then end the spin (the process exits 0)."""
        self._deactivate()
        self._release()
        self._finalized.trigger()
        return super().on_shutdown(state)

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        """A transition raised: free everything and return to unconfigured."""
        self.get_logger().error(f"a lifecycle transition failed in state {state.label}; back to unconfigured")
        self._deactivate()
        self._release()
        return SUCCESS

    def _fail(self, transition: str, error: str) -> TransitionCallbackReturn:
        self._transition_error = error
        if not self._autostarting:  # during autostart, main says it once: "cannot start: ..."
            self.get_logger().error(f"cannot {transition}: {error}")
        return FAILURE

    def _deactivate(self) -> None:
        if self._active is None:
            return
        self._active.stop()
        prefix, self._active = self._active.publisher.id_prefix, None
        if self.markers_publisher is not None:
            self.markers_publisher.publish(MarkerArray(markers=clear_markers(self._last_header, prefix)))

    def _release(self) -> None:
        for publisher in (self.poses_publisher, self.markers_publisher):
            if publisher is not None:
                self.destroy_lifecycle_publisher(publisher)
        self.poses_publisher = self.markers_publisher = self._diagnostics = None
        if self._tf_frames is not None:
            self._tf_frames.close()
            self._tf_frames = None
        if self.pipeline is not None:
            self.pipeline = None
            free_device_memory()

    # --- input and inference thread ---------------------------------------------------------------

    def _on_pair(self, image: Any, camera_info: Any, detections: Any = None) -> None:
        """Synchronizer callback (under its lock): store the newest pair (with its detections, detector topic),
        count the one it replaces."""
        active = self._active
        if active is None:
            return
        self.stats.pairs_received += 1
        self._last_header = image.header
        if active.latest.put((image, camera_info, time.monotonic(), detections)):
            self.stats.frames_skipped += 1

    def _work(self, active: Activation) -> None:
        """Process pairs until this activation stops; nothing a frame raises ends the loop (if it ends, say so)."""
        try:
            while (pair := active.latest.take()) is not None:
                image, camera_info, received_s, detections = pair
                try:
                    # one parameter snapshot per frame
                    active.frames(image, camera_info, received_s, self.config, detections)
                except Exception as error:  # noqa: BLE001 - one bad frame must not stop the node
                    if self._stopping(active):  # deactivated or shut down under the frame: drop it quietly
                        return
                    self.stats.count("pipeline_errors")
                    self._log.error(problem_kind("error", error), f"frame skipped, {type(error).__name__}: {error}")
                self._report_skipped()
        except BaseException as error:
            self._worker_error = error
            raise
        finally:
            if not self._stopping(active):
                self._worker_stopped.trigger()

    def _stopping(self, active: Activation) -> bool:
        """The activation was stopped (deactivate, destroy_node), or a signal shut the context down."""
        return active.publisher.closed or not self.context.ok()

    def _executor_call_failed(self, error: Exception) -> None:
        """A call handed to the executor (the REP-155 bodies of a frame) raised: count and log it, keep spinning."""
        self.stats.count("pipeline_errors")
        self._log.error(
            problem_kind("bodies", error), f"REP-155 bodies of a frame skipped, {type(error).__name__}: {error}"
        )

    def _raise_worker_stopped(self) -> None:
        error = self._worker_error
        raise WorkerStoppedError(
            f"the inference thread stopped ({type(error).__name__}: {error}); no more frames can be answered"
        )

    def _raise_finalized(self) -> None:
        raise NodeFinalized("the lifecycle shutdown transition finalized the node")

    # --- reporting --------------------------------------------------------------------------------

    def _report_skipped(self) -> None:
        new = self.stats.frames_skipped - self._skipped_reported
        if new > 0 and self._log.warning("skipped", skipped_message(self.stats, new)):
            self._skipped_reported = self.stats.frames_skipped

    def _check_inputs(self) -> None:
        """Every second while active: follow the publishers' reliability (auto), warn when no pair arrives."""
        active = self._active
        if active is None:
            return
        changed = active.inputs.recheck()
        if changed:
            self.get_logger().info(f"input_reliability auto: the publishers changed, subscribing {changed} now")
        settings, now_s = self.config.node, time.monotonic()
        if not settings.no_input_warning_s:
            return
        topic, reliability = active.inputs.image_topic, active.inputs.reliability
        active.image_share.window_s = settings.no_input_warning_s
        if (lost := active.image_share.check(self.stats, now_s)) is not None and self.stats.pairs_received:
            self._log.warning(
                "lost_images", low_image_share_message(*lost, settings.no_input_warning_s, topic, reliability)
            )
        if self.stats.pairs_received or now_s - active.started_s < settings.no_input_warning_s:
            return
        self._log.warning(
            "no_input",
            f"no synchronized pair on {topic} + {active.inputs.camera_info_topic} after "
            f"{settings.no_input_warning_s:g} s; "
            f"{no_input_cause(self.stats, settings, topic, reliability, active.inputs.detections_topic)}",
            once=True,
        )

    def _publish_diagnostics(self) -> None:
        """The /diagnostics status (every diagnostics_period_s once configured; see mppe_ros.ros.diagnostics)."""
        if self._diagnostics is None:
            return
        report = self._diagnostics.report(
            self.stats,
            self._timings,
            self.config.node,
            self._ros_time_s(),
            worker_alive=self._active is None or self.worker_alive,
            tracks=self._active.session.confirmed if self._active is not None else 0,
            precision=self._precision,
            active=self._active is not None,
            extra={"Profile": self.profile.describe()},
        )
        self.diagnostics_publisher.publish(report)

    def _ros_time_s(self) -> float:
        """The node clock (the clock of the header stamps; simulated with use_sim_time), s."""
        return float(self.get_clock().now().nanoseconds) * 1e-9

    # --- parameters -------------------------------------------------------------------------------

    def _check_parameters(self, parameters: list[Any]) -> SetParametersResult:
        """Accept the set only if the whole new configuration is valid (mppe_ros.ros.parameter_changes)."""
        return check_change(self.config, parameters)

    def _apply_parameters(self, parameters: list[Any]) -> None:
        """Replace the whole configuration at once: the next frame reads the new snapshot (checked before)."""
        applied = apply_change(self.config, parameters)
        if applied.error:
            self.get_logger().error(f"parameters not applied, the configuration is unchanged: {applied.error}")
            return
        self.config = applied.config
        self.get_logger().info(f"parameters changed: {applied.changes}")
        for name in applied.unused:
            self._log.info(
                f"unused:{name}", f"{name} has no effect while tracking is false (set at start-up)", once=True
            )

    # --- state ------------------------------------------------------------------------------------

    @property
    def detections_from_topic(self) -> bool:
        """Whether the boxes come from the `detections` topic (detector topic; no injected boxes)."""
        return self.config.model.detector == "topic" and self._boxes is None

    @property
    def sync_backend(self) -> str:
        """The active synchronizer ("message_filters" or "mppe_ros.ros.sync"); "" when not active."""
        return self._active.inputs.backend if self._active else ""

    @property
    def image_topic(self) -> str:
        """The resolved image topic (`<image>/compressed` with image_transport compressed)."""
        return self._active.inputs.image_topic if self._active else self.resolve_topic_name("image")

    @property
    def camera_info_topic(self) -> str:
        """The resolved camera_info topic."""
        return self.resolve_topic_name("camera_info")

    @property
    def session(self) -> CameraSession | None:
        """The active camera session (its counters: detector_runs, track_crops, time_resets, confirmed); None when
        not active."""
        return self._active.session if self._active is not None else None

    @property
    def bodies(self) -> Any:
        """The active REP-155 body publisher (mppe_ros.ros.rep155.BodyPublisher); None when not active, with
        tracking off or the layer off."""
        return self._active.bodies.publisher if self._active is not None else None

    @property
    def worker_alive(self) -> bool:
        """Whether the latest inference thread is running (also one abandoned with a frame in flight)."""
        return self._last_worker is not None and self._last_worker.is_alive()

    def destroy_node(self) -> None:
        """Stop the inference thread (a frame in flight gets SHUTDOWN_WAIT_S, then is dropped unpublished).

        The node leaves the graph now: rclpy's LifecycleNode keeps its state machine, which holds the rcl
        node, until the garbage collector breaks the node's reference cycles, and that late teardown also
        removes rcl's /rosout publisher of any newer node with the same name in this process.
        """
        active = getattr(self, "_active", None)
        if active is not None:
            self._active = None
            active.stop()
        super().destroy_node()
        self._state_machine.destroy_when_not_in_use()
