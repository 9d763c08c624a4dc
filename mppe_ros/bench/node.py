"""Node-level benchmark of `mppe-ros bench --node-seconds S`: the real MppeNode over DDS on loopback.

A publisher sends image + camera_info pairs (640x480 bgr8 by default, each with a unique stamp) at
30 Hz for S seconds into an MppeNode running our pipeline with injected person boxes; a subscriber
on the node's output records when each stamp's PersonPose3DArray arrives. Reported: the
publish-to-result latency (median, p99) of the frames that got a result, results per second, and the share of
published frames that got none, with the node's own counts of where they went: images received
(the rest were lost by best-effort DDS before reaching it), pairs, frames skipped (replaced by a
newer pair while inference was busy) and frames processed. Needs rclpy and the built mppe_ros messages.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from typing import Any

import numpy as np

RATE_HZ = 30.0
NODE_PERSONS = 5
GRACE_S = 5.0  # after the last publication, wait this long (plus one frame time) for results
STAMP_BASE_S = 1_000_000  # stamps start here, far from other publishers' clock values


def run_or_skip(args: argparse.Namespace) -> dict[str, Any]:
    """run() with the benchmark's settings, or {"skipped": reason} when ROS 2 is not importable."""
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")  # loopback only
    try:
        import rclpy  # noqa: F401

        from mppe_ros.ros import conversions  # noqa: F401  (needs the built messages)
        from mppe_ros.ros.node import MppeNode  # noqa: F401
    except ImportError as error:
        return {"skipped": f"node-level benchmark needs rclpy and the built mppe_ros messages ({error})"}
    device = args.device[-1]  # cuda when it was benchmarked, else cpu
    precision = next((p for p in (args.precision or []) if p != "fp32"), "fp32") if device != "cpu" else "fp32"
    width, height = args.sizes[0]
    return run(args.node_seconds, device, precision, width, height, NODE_PERSONS)


def pair_messages(image_bgr: np.ndarray, width: int, height: int, focal_px: float = 1500.0) -> tuple[Any, Any]:
    """(Image, CameraInfo) of one frame, built once: senders change only their stamps."""
    from std_msgs.msg import Header

    from mppe_ros.ros.conversions import bgr_to_image_msg
    from mppe_ros.testing.messages import camera_info

    header = Header(frame_id="bench_camera_optical_frame")
    info = camera_info(header, focal_px, focal_px, width / 2, height / 2, width, height)
    return bgr_to_image_msg(image_bgr, Header(frame_id=header.frame_id)), info


def run(seconds: float, device: str, precision: str, width: int, height: int, persons: int,
        detector: Any = None, parameters: dict[str, Any] | None = None,
        frames: tuple[list[Any], Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """Publish at RATE_HZ for `seconds` into a fresh MppeNode; latency, results/s and skipped-frame figures.

    detector: a PersonDetector for the pipeline (the node then runs its detector schedule); None: the
        scene's `persons` boxes are injected into every frame (no detector).
    parameters: node parameters (name -> value), e.g. {"detection_interval_s": 0.5}.
    frames: (Image messages published in turn, their CameraInfo), e.g. a recording's; None: one synthetic frame.
    """
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.parameter import Parameter
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import CameraInfo, Image

    from mppe_ros.joint_sets import MUCO_21
    from mppe_ros.msg import PersonPose3DArray
    from mppe_ros.pipeline import MppePipeline
    from mppe_ros.ros.node import POSES_TOPIC, MppeNode
    from mppe_ros.testing.synthetic import person_boxes, synthetic_frame, trained_like_nets

    boxes = None if detector is not None else person_boxes(persons, width, height)
    pipeline = MppePipeline(*trained_like_nets(), MUCO_21, detector=detector, device=device, precision=precision)
    overrides = [Parameter(name, value=value) for name, value in (parameters or {}).items()]
    published_s: dict[tuple[int, int], float] = {}
    received_s: dict[tuple[int, int], float] = {}
    context = rclpy.Context()
    rclpy.init(context=context)
    namespace = f"/mppe_bench_{os.getpid()}"
    node = client = executor = None
    try:
        node = MppeNode(pipeline=pipeline, boxes=boxes, context=context, namespace=namespace,
                        parameter_overrides=overrides)  # fmt: skip
        client = rclpy.create_node("mppe_bench_client", context=context, namespace=namespace)
        reliable = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)  # matches either input QoS
        image_pub = client.create_publisher(Image, "image", reliable)
        info_pub = client.create_publisher(CameraInfo, "camera_info", reliable)

        def on_poses(msg: PersonPose3DArray) -> None:
            key = (msg.header.stamp.sec, msg.header.stamp.nanosec)
            if key in published_s:
                received_s.setdefault(key, time.perf_counter())

        client.create_subscription(PersonPose3DArray, POSES_TOPIC, on_poses, QoSProfile(depth=100))
        executor = SingleThreadedExecutor(context=context)  # as `ros2 run` spins it (inference has its own thread)
        executor.add_node(node)
        executor.add_node(client)
        spinner = threading.Thread(target=executor.spin, daemon=True)
        spinner.start()
        time.sleep(1.0)  # discovery
        images, info = frames or pair_messages(synthetic_frame(width, height), width, height)
        images = images if isinstance(images, list) else [images]
        start_s, period_s, index = time.perf_counter(), 1.0 / RATE_HZ, 0
        while time.perf_counter() < start_s + seconds:
            message = images[index % len(images)]
            for stamped in (message, info):
                stamped.header.stamp.sec = STAMP_BASE_S + index // 30
                stamped.header.stamp.nanosec = (index % 30) * 33_333_333
            published_s[(message.header.stamp.sec, message.header.stamp.nanosec)] = time.perf_counter()
            image_pub.publish(message)
            info_pub.publish(info)
            index += 1
            time.sleep(max(0.0, start_s + index * period_s - time.perf_counter()))
        time.sleep(GRACE_S + node.stats.last_processing_s)
        stats, session = node.stats, node.session
    finally:
        close_graph(executor, (client, node), context)
    latencies = np.array([received_s[key] - published_s[key] for key in received_s])
    result = {
        "seconds": seconds, "rate_hz": RATE_HZ, "published": len(published_s), "results": len(received_s),
        "persons": persons, "device": device, "precision": precision, "image_size": [width, height],
        "results_per_s": len(received_s) / seconds,
        "skipped_share": 1.0 - len(received_s) / max(len(published_s), 1),
        "node_images_received": stats.images_received,  # the rest were lost in DDS (best effort) before the node
        "node_pairs_received": stats.pairs_received,
        "node_frames_skipped": stats.frames_skipped,  # replaced by a newer pair while inference was busy
        "node_frames_processed": stats.frames_processed,
        "latency_median_s": float(np.median(latencies)) if len(latencies) else None,
        "latency_p99_s": float(np.percentile(latencies, 99)) if len(latencies) else None,
        "parameters": dict(parameters or {}),
        "detector_runs": session.detector_runs if session is not None and detector is not None else None,
        "track_crops": session.track_crops if session is not None and detector is not None else None,
    }  # fmt: skip
    return result


def close_graph(executor: Any, nodes: tuple[Any, ...], context: Any) -> None:
    """Shut the executor down, destroy the nodes that were created (None: not yet) and the context."""
    import rclpy

    if executor is not None:
        executor.shutdown()
    for created in nodes:
        if created is not None:
            created.destroy_node()
    rclpy.try_shutdown(context=context)
