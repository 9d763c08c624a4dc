"""Soak of `mppe-ros bench --soak-frames N`: the memory of the real MppeNode over a long stream.

A client publishes image + camera_info pairs (320x240 bgr8 by default, reliable QoS, stamps 0.1 s
apart) over DDS on loopback into an MppeNode with injected person boxes: 0 persons by default
(image conversion, synchronisation, PersonPose3DArray and MarkerArray publishing, no networks),
--soak-persons 1 adds the crop, RootNet and PoseNet. One frame at a time: the next pair goes out
once the previous frame's poses and markers have arrived, so every counted frame was processed
(the node's own counters are reported with the figures).

After the warm-up, and every `every_frames` frames (after gc.collect()): the process's resident
set (RSS, /proc/self/statm; node and client share this process), the Python heap (tracemalloc,
started before the warm-up: bytes allocated since then and still alive, numpy arrays included)
and the number of gc-tracked objects. The slopes (least squares, MB per 1000 frames) are the
figures; the goal is no growth after the warm-up, below GOAL_MB_PER_1000_FRAMES.
"""

from __future__ import annotations

import argparse
import gc
import os
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np

SCHEMA = "mppe_ros.soak/1"
GOAL_MB_PER_1000_FRAMES = 1.0
STAMP_PERIOD_NS = 100_000_000  # 0.1 s between stamps: more than the node's sync slop, so pairs are unambiguous
STAMP_BASE_S = 2_000_000  # stamps start here, far from other publishers' clock values
FRAME_TIMEOUT_S = 60.0  # a frame whose result has not arrived after this long stops the soak
HEAP_METHOD = "tracemalloc (1 frame), started before the warm-up: bytes allocated since then and still alive"


def rss_mb() -> float:
    """Current resident set size of this process, MB (10^6 bytes)."""
    resident_pages = int(Path("/proc/self/statm").read_text().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def slope_mb_per_1000_frames(frames: list[int], values_mb: list[float]) -> float | None:
    """Least-squares growth of `values_mb` over `frames`, MB per 1000 frames (None below 2 points)."""
    if len(frames) < 2:
        return None
    return float(np.polyfit(np.asarray(frames, float), np.asarray(values_mb, float), 1)[0] * 1000.0)


def checkpoint(frame: int, start_s: float) -> dict[str, Any]:
    """RSS, Python heap and gc-tracked objects now (after a full collection)."""
    gc.collect()
    return {
        "frame": frame,
        "elapsed_s": time.perf_counter() - start_s,
        "rss_mb": rss_mb(),
        "heap_mb": tracemalloc.get_traced_memory()[0] / 1e6,
        "gc_objects": len(gc.get_objects()),
    }


def run(frames: int, persons: int, width: int, height: int, warmup_frames: int, every_frames: int,
        device: str = "cpu", precision: str = "fp32") -> dict[str, Any]:  # fmt: skip
    """Stream warmup_frames + frames frames through a fresh MppeNode; the soak document (see module doc)."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.parameter import Parameter
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from visualization_msgs.msg import MarkerArray

    from mppe_ros.bench.node import close_graph, pair_messages
    from mppe_ros.joint_sets import MUCO_21
    from mppe_ros.msg import PersonPose3DArray
    from mppe_ros.pipeline import MppePipeline
    from mppe_ros.ros.node import MARKERS_TOPIC, POSES_TOPIC, MppeNode
    from mppe_ros.testing.synthetic import person_boxes, synthetic_frame, trained_like_nets

    if frames < 1 or persons < 0 or warmup_frames < 0 or every_frames < 1:
        raise ValueError(f"soak needs frames >= 1, persons >= 0, warm-up >= 0, every >= 1: got {frames}, {persons}, "
                         f"{warmup_frames}, {every_frames}")  # fmt: skip
    pipeline = MppePipeline(*trained_like_nets(), MUCO_21, device=device, precision=precision)
    boxes = person_boxes(persons, width, height) if persons else np.zeros((0, 4))
    message, info = pair_messages(synthetic_frame(width, height), width, height)
    arrived = {"poses": threading.Event(), "markers": threading.Event()}
    expected = {"stamp": None}
    received = {"poses": 0, "markers": 0}

    def on_output(kind: str, stamp) -> None:
        received[kind] += 1
        if (stamp.sec, stamp.nanosec) == expected["stamp"]:
            arrived[kind].set()

    context = rclpy.Context()
    rclpy.init(context=context)
    namespace = f"/mppe_soak_{os.getpid()}"
    node = client = executor = None
    points: list[dict[str, Any]] = []
    try:
        reliable_input = [Parameter("input_reliability", value="reliable")]
        node = MppeNode(pipeline=pipeline, boxes=boxes, context=context,
                        namespace=namespace, parameter_overrides=reliable_input)  # fmt: skip
        client = rclpy.create_node("mppe_soak_client", context=context, namespace=namespace)
        reliable = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
        image_pub = client.create_publisher(type(message), "image", reliable)
        info_pub = client.create_publisher(type(info), "camera_info", reliable)
        client.create_subscription(PersonPose3DArray, POSES_TOPIC, lambda m: on_output("poses", m.header.stamp), 10)
        client.create_subscription(
            MarkerArray, MARKERS_TOPIC, lambda m: on_output("markers", m.markers[0].header.stamp), 10
        )
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(node)
        executor.add_node(client)
        threading.Thread(target=executor.spin, daemon=True).start()
        time.sleep(1.0)  # discovery
        tracemalloc.start(1)
        start_s = time.perf_counter()
        for index in range(warmup_frames + frames):
            measured = index - warmup_frames
            if measured == 0:
                points.append(checkpoint(0, start_s))
            stamp_ns = index * STAMP_PERIOD_NS
            expected["stamp"] = (STAMP_BASE_S + stamp_ns // 10**9, stamp_ns % 10**9)
            for stamped in (message, info):
                stamped.header.stamp.sec, stamped.header.stamp.nanosec = expected["stamp"]
            for event in arrived.values():
                event.clear()
            image_pub.publish(message)
            info_pub.publish(info)
            if not all(event.wait(FRAME_TIMEOUT_S) for event in arrived.values()):
                raise RuntimeError(f"soak frame {index}: no result after {FRAME_TIMEOUT_S:.0f} s (node {node.stats})")
            done = measured + 1  # measured frames answered so far
            if done > 0 and (done % every_frames == 0 or done == frames):
                points.append(checkpoint(done, start_s))
        duration_s = time.perf_counter() - start_s
        stats = node.stats
        top_sites = tracemalloc.take_snapshot().statistics("lineno")[:5]
    finally:
        tracemalloc.stop()
        close_graph(executor, (client, node), context)
    frame_numbers = [point["frame"] for point in points]
    slopes = {f"{key}_per_1000_frames": slope_mb_per_1000_frames(frame_numbers, [p[key] for p in points])
              for key in ("rss_mb", "heap_mb")}  # fmt: skip
    return {
        "schema": SCHEMA, "frames": frames, "warmup_frames": warmup_frames, "every_frames": every_frames,
        "persons": persons, "image_size": [width, height], "device": device, "precision": precision,
        "duration_s": duration_s, "frames_per_s": (warmup_frames + frames) / duration_s,
        "heap_method": HEAP_METHOD, "rss_method": "/proc/self/statm resident pages (node and client together)",
        "checkpoints": points, "slopes": slopes, "goal_mb_per_1000_frames": GOAL_MB_PER_1000_FRAMES,
        "goal_met": all(value is not None and value < GOAL_MB_PER_1000_FRAMES for value in slopes.values()),
        "results_received": received["poses"], "markers_received": received["markers"],
        "node": {name: getattr(stats, name) for name in ("images_received", "camera_infos_received",
                 "pairs_received", "frames_processed", "frames_skipped", "pipeline_errors")},
        "heap_top_sites": [{"site": str(s.traceback), "size_mb": s.size / 1e6, "blocks": s.count} for s in top_sites],
    }  # fmt: skip


def main(args: argparse.Namespace) -> int:
    """The soak of `mppe-ros bench --soak-frames N`: prints the table, writes soak.json and soak.md to --out."""
    from mppe_ros.bench import report as bench_report
    from mppe_ros.bench.machine import machine_info

    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")  # loopback only
    width, height = args.sizes[0] if args.sizes else (320, 240)
    device = args.device[0] if args.device else "cpu"
    precision = args.precision[0] if args.precision else "fp32"
    machine = machine_info()
    document = run(args.soak_frames, args.soak_persons, width, height, args.soak_warmup_frames, args.soak_every,
                   device, precision)  # fmt: skip
    machine["load_average_end"] = list(os.getloadavg())
    document["machine"] = machine
    bench_report.write_outputs(args.out, "soak", document, bench_report.soak_markdown(document))
    return 0
