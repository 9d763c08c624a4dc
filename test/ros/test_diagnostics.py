"""/diagnostics: rates over a known period, every level and threshold, the values, FrameHandler's timings, DDS."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import rclpy
import ros_harness
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from rclpy.executors import SingleThreadedExecutor
from sensor_msgs.msg import Image
from std_msgs.msg import Header
from visualization_msgs.msg import MarkerArray

from mppe_ros.joint_sets import MUCO_21
from mppe_ros.msg import PersonPose3DArray
from mppe_ros.results import PoseResult
from mppe_ros.ros.bodies import Bodies
from mppe_ros.ros.diagnostics import DiagnosticsReporter
from mppe_ros.ros.frames import FrameHandler, FramePublisher, FrameTiming, FrameTimings, NodeStats
from mppe_ros.ros.node_log import ThrottledLog
from mppe_ros.ros.node_settings import NodeSettings
from mppe_ros.ros.parameters import NodeConfig
from mppe_ros.testing import messages
from mppe_ros.tracking import CameraSession

context = ros_harness.context  # fixture: a fresh rclpy context per test

T0_S = 1_700_000_000.25  # ROS time of the reset, s
SETTINGS = NodeSettings(
    diagnostics_min_output_hz=2.0,
    diagnostics_warn_latency_s=0.5,
    diagnostics_error_latency_s=3.0,
    diagnostics_no_input_s=5.0,
)
BAD_FRAME_LABELS = [
    ("unsupported_encoding", "Unsupported encoding"),
    ("bad_image", "Bad image"),
    ("bad_camera_info", "Bad camera_info"),
    ("pipeline_errors", "Pipeline errors"),
    ("images_without_camera_info", "Images without camera_info"),
]
NUMERIC_KEYS = (
    "Events in window",
    "Events since startup",
    "Duration of window (s)",
    "Actual frequency (Hz)",
    "Minimum acceptable frequency (Hz)",
    "Image frequency (Hz)",
    "CameraInfo frequency (Hz)",
    "Synchronized pair frequency (Hz)",
    "Median processing time (s)",
    "Median latency (s)",
    "Timed frames in window",
    "Time since last synchronized pair (s)",
    "Skipped frames in window",
    "Skipped frames since startup",
    "CameraInfo reused in window",
    "CameraInfo reused since startup",
    *(f"{label} {when}" for _, label in BAD_FRAME_LABELS for when in ("in window", "since startup")),
    "Confirmed tracks",
)


class Counters:
    """The reporter's inputs: counters and timings of a node, advanced by hand."""

    def __init__(self) -> None:
        self.stats, self.timings = NodeStats(), FrameTimings()
        self.reporter = DiagnosticsReporter("mppe_node", "cuda:0")
        self.reporter.reset(self.stats, self.timings, T0_S)

    def stream(self, pairs: int, published: int, latency_s: float = 0.1, processing_s: float = 0.05) -> None:
        """`pairs` images, camera_infos and pairs arrive; `published` of them are answered with these timings."""
        self.stats.images_received += pairs
        self.stats.camera_infos_received += pairs
        self.stats.pairs_received += pairs
        for _ in range(published):
            self.timings.record(FrameTiming(processing_s, latency_s))
        self.stats.frames_processed += published

    def report(self, after_s: float, settings: NodeSettings = SETTINGS, **kwargs) -> DiagnosticStatus:
        kwargs = {"worker_alive": True, "tracks": 0, "precision": "fp16", **kwargs}
        array = self.reporter.report(self.stats, self.timings, settings, T0_S + after_s, **kwargs)
        assert isinstance(array, DiagnosticArray) and len(array.status) == 1
        return array.status[0]


def values(status: DiagnosticStatus) -> dict[str, str]:
    return {pair.key: pair.value for pair in status.values}


def numbers(status: DiagnosticStatus) -> dict[str, float]:
    """Every numeric value parsed back (KeyValue strings)."""
    return {key: float(values(status)[key]) for key in NUMERIC_KEYS}


def test_rates_from_counters_over_a_known_period():
    node = Counters()
    node.stream(pairs=30, published=20)
    node.stats.images_received += 4  # 4 images without a partner
    node.stats.frames_skipped += 10
    status = node.report(after_s=2.0)
    got = numbers(status)
    assert got["Duration of window (s)"] == pytest.approx(2.0)
    assert got["Image frequency (Hz)"] == pytest.approx(17.0)
    assert got["CameraInfo frequency (Hz)"] == pytest.approx(15.0)
    assert got["Synchronized pair frequency (Hz)"] == pytest.approx(15.0)
    assert got["Actual frequency (Hz)"] == pytest.approx(10.0)
    assert got["Events in window"] == 20 and got["Timed frames in window"] == 20
    assert got["Skipped frames in window"] == 10
    assert got["Minimum acceptable frequency (Hz)"] == pytest.approx(2.0)
    node.stream(pairs=5, published=5)  # the next period only counts what came after
    got = numbers(node.report(after_s=3.0))
    assert got["Duration of window (s)"] == pytest.approx(1.0)
    assert got["Actual frequency (Hz)"] == pytest.approx(5.0) and got["Events since startup"] == 25
    assert got["Skipped frames in window"] == 0 and got["Skipped frames since startup"] == 10


def test_ok_status_layout_as_diagnostic_updater_names_it():
    node = Counters()
    node.stream(pairs=20, published=20)
    status = node.report(after_s=2.0, tracks=3, extra={"Image transport": "compressed"})
    assert status.level == DiagnosticStatus.OK and isinstance(status.level, bytes)
    assert status.name == "mppe_node: pose estimation" and status.hardware_id == "cuda:0"
    assert status.message == "10 Hz published from 10 Hz synchronized pairs, median latency 0.1 s"
    got = values(status)
    assert got["Device"] == "cuda:0" and got["Precision"] == "fp16" and got["Confirmed tracks"] == "3"
    assert got["Inference thread alive"] == "True" and got["Active"] == "True"
    assert got["Image transport"] == "compressed" and list(got)[-1] == "Image transport"
    assert all(math.isfinite(value) for value in numbers(status).values())


def test_medians_of_the_period():
    node = Counters()
    for processing_s, latency_s in ((0.01, 0.2), (0.03, 0.1), (0.02, math.nan), (0.09, 0.4)):
        node.timings.record(FrameTiming(processing_s, latency_s))
        node.stats.frames_processed += 1
    got = numbers(node.report(after_s=1.0))
    assert got["Median processing time (s)"] == pytest.approx(0.025)
    assert got["Median latency (s)"] == pytest.approx(0.2)  # the frame without stamp (nan) is left out


def test_an_empty_period_has_nan_medians_and_is_ok():
    node = Counters()
    status = node.report(after_s=1.0)
    assert status.level == DiagnosticStatus.OK
    assert math.isnan(numbers(status)["Median latency (s)"]) and numbers(status)["Actual frequency (Hz)"] == 0.0


@pytest.mark.parametrize(
    ("latency_s", "level", "parameter"),
    [
        (0.5, DiagnosticStatus.OK, None),  # at the threshold: not above it
        (0.6, DiagnosticStatus.WARN, "diagnostics_warn_latency_s"),
        (3.0, DiagnosticStatus.WARN, "diagnostics_warn_latency_s"),
        (3.1, DiagnosticStatus.ERROR, "diagnostics_error_latency_s"),
    ],
)
def test_latency_thresholds(latency_s, level, parameter):
    node = Counters()
    node.stream(pairs=10, published=10, latency_s=latency_s)
    status = node.report(after_s=1.0)
    assert status.level == level, status.message
    if parameter:
        assert status.message == f"median latency {latency_s:.3g} s (capture stamp to publication) > " + (
            f"{getattr(SETTINGS, parameter):g} s ({parameter})"
        )


def test_worker_not_alive_is_an_error():
    node = Counters()
    node.stream(pairs=10, published=10)
    status = node.report(after_s=1.0, worker_alive=False)
    assert status.level == DiagnosticStatus.ERROR and status.message.startswith("inference thread stopped")
    assert values(status)["Inference thread alive"] == "False"


@pytest.mark.parametrize(("published", "level"), [(1, DiagnosticStatus.WARN), (2, DiagnosticStatus.OK)])
def test_output_rate_below_the_minimum_while_pairs_arrive_warns(published, level):
    node = Counters()
    node.stream(pairs=10, published=published)
    status = node.report(after_s=1.0)
    assert status.level == level, status.message
    if level == DiagnosticStatus.WARN:
        assert status.message == (
            "publishing 1 Hz < 2 Hz (diagnostics_min_output_hz) while synchronized pairs arrive at 10 Hz"
        )


def test_no_output_without_input_is_not_a_rate_warning():
    node = Counters()
    assert node.report(after_s=1.0).level == DiagnosticStatus.OK


def test_no_synchronized_pair_for_the_timeout_while_active_warns():
    node = Counters()
    node.stats.images_received += 40  # images arrive, camera_infos do not
    assert node.report(after_s=4.0).level == DiagnosticStatus.OK
    status = node.report(after_s=5.0)
    assert status.level == DiagnosticStatus.WARN
    assert status.message == "no synchronized pair for 5 s (diagnostics_no_input_s 5 s): images 0 Hz, camera_infos 0 Hz"
    node.stream(pairs=3, published=3)
    assert node.report(after_s=6.0).level == DiagnosticStatus.OK  # pairs again
    assert node.report(after_s=10.0).level == DiagnosticStatus.OK  # 4 s since the report that saw them
    status = node.report(after_s=11.5)
    assert status.level == DiagnosticStatus.WARN and "no synchronized pair for 5.5 s" in status.message
    assert numbers(status)["Time since last synchronized pair (s)"] == pytest.approx(5.5)


def test_no_input_while_inactive_is_ok():
    node = Counters()
    status = node.report(after_s=60.0, active=False)
    assert status.level == DiagnosticStatus.OK and status.message == "inactive: not processing input"
    assert values(status)["Active"] == "False"


@pytest.mark.parametrize(("counter", "label"), BAD_FRAME_LABELS)
def test_bad_frames_in_the_period_warn(counter, label):
    node = Counters()
    node.stream(pairs=10, published=8)
    node.stats.count(counter)
    node.stats.count(counter)
    status = node.report(after_s=2.0)
    assert status.level == DiagnosticStatus.WARN
    assert status.message == f"frames skipped in the last 2 s: 2 {label.lower()}"
    assert numbers(status)[f"{label} in window"] == 2 and numbers(status)[f"{label} since startup"] == 2
    node.stream(pairs=10, published=10)
    assert node.report(after_s=3.0).level == DiagnosticStatus.OK  # none in the next period


def test_camera_info_reused_is_counted_in_window_and_since_startup_and_is_ok():
    node = Counters()
    node.stream(pairs=10, published=10)
    for _ in range(3):
        node.stats.count("camera_info_reused")
    status = node.report(after_s=2.0)
    assert status.level == DiagnosticStatus.OK
    got = numbers(status)
    assert got["CameraInfo reused in window"] == 3 and got["CameraInfo reused since startup"] == 3
    node.stats.count("camera_info_reused")
    got = numbers(node.report(after_s=3.0))
    assert got["CameraInfo reused in window"] == 1 and got["CameraInfo reused since startup"] == 4


def test_every_problem_in_the_message_errors_first():
    node = Counters()
    node.stream(pairs=10, published=1, latency_s=1.0)
    node.stats.count("bad_image")
    status = node.report(after_s=1.0, worker_alive=False)
    assert status.level == DiagnosticStatus.ERROR
    parts = status.message.split("; ")
    assert parts[0].startswith("inference thread stopped") and parts[1].startswith("median latency 1 s")
    assert parts[2].startswith("publishing 1 Hz") and parts[3] == "frames skipped in the last 1 s: 1 bad image"


def test_stamp_is_now_and_a_clock_going_back_starts_an_empty_period():
    node = Counters()
    node.stream(pairs=10, published=10)
    array = node.reporter.report(
        node.stats, node.timings, SETTINGS, T0_S + 1.5, worker_alive=True, tracks=0, precision="fp32"
    )
    stamp = array.header.stamp  # float seconds near 1.7e9 hold ~0.24 us
    assert stamp.sec == 1_700_000_001 and abs(stamp.nanosec - 750_000_000) < 1_000
    node.stream(pairs=10, published=10)
    status = node.report(after_s=-100.0)  # e.g. a bag replayed from its start with use_sim_time
    assert numbers(status)["Duration of window (s)"] == 0.0 and numbers(status)["Actual frequency (Hz)"] == 0.0
    assert status.level == DiagnosticStatus.OK


def test_first_report_without_reset_is_an_empty_period():
    stats, timings = NodeStats(pairs_received=100, frames_processed=100), FrameTimings()
    reporter = DiagnosticsReporter("ns_node", "cpu", task="people")
    status = reporter.report(stats, timings, SETTINGS, 50.0, worker_alive=True, tracks=0, precision="fp32").status[0]
    assert status.name == "ns_node: people" and numbers(status)["Events in window"] == 0
    assert numbers(status)["Events since startup"] == 100


def test_frame_timings_keep_the_newest_and_count_all():
    timings = FrameTimings(kept=3)
    for index in range(5):
        timings.record(FrameTiming(float(index), 0.0))
    recorded, recent = timings.since(1)
    assert recorded == 5 and [t.processing_s for t in recent] == [2.0, 3.0, 4.0]  # 4 new, 3 kept
    assert timings.since(4) == (5, [FrameTiming(4.0, 0.0)]) and timings.since(5) == (5, [])


def test_frame_handler_records_stamp_to_publication_latency_on_the_node_clock(context):
    """FrameHandler with real publishers: one published frame -> one FrameTiming; a zero stamp -> nan."""
    node = rclpy.create_node("test_frame_timings", context=context)
    try:
        publisher = FramePublisher(
            node.create_publisher(PersonPose3DArray, "poses", 10), node.create_publisher(MarkerArray, "markers", 10)
        )
        stats = NodeStats()
        handler = FrameHandler(
            CameraSession(lambda image, camera, **_: PoseResult(MUCO_21, camera)),
            np.zeros((0, 4)),
            stats,
            ThrottledLog(node.get_logger(), lambda: 5.0),
            publisher,
            Bodies(),
            ros_time_s=lambda: 1000.75,
        )
        for sec in (1000, 0):
            header = Header(frame_id="camera")
            header.stamp.sec, header.stamp.nanosec = sec, 250_000_000 if sec else 0
            image = Image(header=header, height=4, width=6, encoding="mono8", step=6, data=bytes(24))
            info = messages.camera_info(header, 5.0, 5.0, 3.0, 2.0, 6, 4)
            handler(image, info, time.monotonic(), NodeConfig())
        recorded, (stamped, unstamped) = handler.timings.since(0)
        assert recorded == 2 and stats.frames_processed == 2
        assert stamped.latency_s == pytest.approx(0.5) and math.isnan(unstamped.latency_s)
        assert 0.0 < stamped.processing_s < 5.0
    finally:
        node.destroy_node()


def test_a_subscriber_receives_the_report_on_diagnostics(context):
    """The message type end to end: a real rclpy publisher on /diagnostics and a subscriber, in process."""
    node = rclpy.create_node("test_diagnostics_dds", context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    try:
        received: list[DiagnosticArray] = []
        node.create_subscription(DiagnosticArray, "/diagnostics", received.append, 10)
        publisher = node.create_publisher(DiagnosticArray, "/diagnostics", 10)
        source = Counters()
        source.stream(pairs=10, published=10, latency_s=4.0)
        array = source.reporter.report(
            source.stats, source.timings, SETTINGS, T0_S + 1.0, worker_alive=True, tracks=2, precision="fp32"
        )
        deadline = time.monotonic() + 20.0
        while not received and time.monotonic() < deadline:
            publisher.publish(array)
            executor.spin_once(timeout_sec=0.1)
        assert received, "no DiagnosticArray arrived within 20 s"
        status = received[0].status[0]
        assert status.name == "mppe_node: pose estimation" and status.level == DiagnosticStatus.ERROR
        assert status.message.startswith("median latency 4 s") and status.hardware_id == "cuda:0"
        assert {pair.key: pair.value for pair in status.values} == values(array.status[0])
        assert received[0].header.stamp == array.header.stamp
    finally:
        executor.shutdown()
        node.destroy_node()
