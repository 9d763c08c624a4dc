"""mppe_node: synchronized Image + CameraInfo in, PersonPose3DArray and RViz skeletons out.

In: `image` and `camera_info` (relative, remappable), QoS from `input_reliability` / `input_depth`
(default best effort, depth 1: matches best-effort and reliable publishers; mppe_ros.ros.inputs).
Out: `/humans/poses3d` (reliable; every processed frame, empty persons when nobody is seen) and
`/humans/poses3d/markers` (only while someone subscribes), both with the image's header (capture
stamp, optical frame_id). The synchronizer's callback only stores the newest pair; an inference
thread processes it (mppe_ros.ros.frames), so receiving goes on and replaced pairs are counted as
skipped. Each frame reads one snapshot of the parameters (a NodeConfig, replaced whole by a
parameter change). The inference thread survives anything a frame raises; should it stop
nevertheless, the node raises WorkerStoppedError in the executor and `main` exits with status 1.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any

import rclpy
from rcl_interfaces.msg import SetParametersResult
from rclpy.exceptions import ParameterException
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image
from visualization_msgs.msg import MarkerArray

from mppe_ros import host_memory
from mppe_ros.msg import PersonPose3DArray
from mppe_ros.ros import conversions
from mppe_ros.ros.frames import BoxesSource, FrameHandler, FramePublisher, NodeStats, problem_kind
from mppe_ros.ros.inputs import subscribe_inputs
from mppe_ros.ros.node_log import ThrottledLog
from mppe_ros.ros.parameters import NODE_NAME, PARAMETERS_BY_NAME, declare_node_parameters
from mppe_ros.ros.reporting import no_input_cause, skipped_message
from mppe_ros.ros.startup import StartupError, WorkerStoppedError, build_pipeline
from mppe_ros.ros.sync import LatestOnly

__all__ = ["MARKERS_TOPIC", "POSES_TOPIC", "MppeNode", "StartupError", "WorkerStoppedError", "main", "run"]

POSES_TOPIC = "/humans/poses3d"
MARKERS_TOPIC = "/humans/poses3d/markers"
SHUTDOWN_WAIT_S = 2.0  # destroy_node waits this long for a frame in flight, then abandons it


class MppeNode(Node):
    """The ROS 2 node. `pipeline` and `boxes` may be injected (tests, demo); main() builds from parameters.

    Args:
        pipeline: an MppePipeline (or any callable with its signature); None: build_pipeline(parameters).
        boxes: person boxes to use instead of the detector (see mppe_ros.ros.frames.BoxesSource).
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
        self._latest = LatestOnly()  # (image, camera_info, received_s): the newest pair only
        self._log = ThrottledLog(self.get_logger(), lambda: self.config.node.log_period_s)
        self._skipped_reported = 0
        self._started_s = time.monotonic()
        self._worker_error: BaseException | None = None
        self.poses_publisher = self.create_publisher(
            PersonPose3DArray, POSES_TOPIC, QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
        )
        self.markers_publisher = self.create_publisher(MarkerArray, MARKERS_TOPIC, 10)
        self._publisher = FramePublisher(self.poses_publisher, self.markers_publisher)
        self._frames = FrameHandler(self.pipeline, boxes, self.stats, self._log, self._publisher)
        inputs = subscribe_inputs(self, self.config.node, self._on_pair, self.stats.count)
        self.sync_backend, self._sync = inputs.backend, inputs.synchronizer
        self.image_topic, self.camera_info_topic = inputs.image_topic, inputs.camera_info_topic
        self.add_on_set_parameters_callback(self._check_parameters)
        self.add_post_set_parameters_callback(self._apply_parameters)
        self.create_timer(1.0, self._warn_if_no_input)
        self._worker_stopped = self.create_guard_condition(self._raise_worker_stopped)
        self._worker = threading.Thread(target=self._work, name="mppe_inference", daemon=True)
        self._worker.start()
        settings = self.config.node
        self.get_logger().info(
            f"ready: subscribing {self.image_topic} + {self.camera_info_topic} ({settings.input_reliability}, "
            f"depth {settings.input_depth}, {settings.sync_mode} sync via {self.sync_backend}, "
            f"{conversions.converter_backend()} image converter); publishing {POSES_TOPIC} and {MARKERS_TOPIC}; "
            f"buffer reuse (glibc malloc): {'on' if host_memory.applied else 'off'}"
        )
        if boxes is None and not self._frames.has_detector():
            self.get_logger().warning(
                "detector is none and no boxes are injected: every frame is answered with an empty persons list; "
                "set the parameter detector (e.g. fasterrcnn_resnet50_fpn) to find people"
            )

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
                    self._frames(*pair, self.config)  # one parameter snapshot per frame
                except Exception as error:  # noqa: BLE001 - one bad frame must not stop the node
                    if self._stopping():  # the context was shut down under the frame: drop it quietly
                        return
                    self.stats.count("pipeline_errors")
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
        return self._publisher.closed or not self.context.ok()

    def _raise_worker_stopped(self) -> None:
        error = self._worker_error
        raise WorkerStoppedError(
            f"the inference thread stopped ({type(error).__name__}: {error}); no more frames can be answered"
        )

    # --- reporting --------------------------------------------------------------------------------

    def _report_skipped(self) -> None:
        new = self.stats.frames_skipped - self._skipped_reported
        if new > 0 and self._log.warning("skipped", skipped_message(self.stats, new)):
            self._skipped_reported = self.stats.frames_skipped

    def _warn_if_no_input(self) -> None:
        settings, waited_s = self.config.node, time.monotonic() - self._started_s
        if self.stats.pairs_received or not settings.no_input_warning_s or waited_s < settings.no_input_warning_s:
            return
        self._log.warning(
            "no_input",
            f"no synchronized pair on {self.image_topic} + {self.camera_info_topic} after "
            f"{settings.no_input_warning_s:g} s; {no_input_cause(self.stats, settings)}",
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
            self._publisher.close()
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
