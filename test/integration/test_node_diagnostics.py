"""/diagnostics from a running node over DDS: OK while pairs are answered, WARN when they stop, inactive after
deactivate (one node lifetime; the levels and keys themselves are unit-tested in test/ros/test_diagnostics.py)."""

from __future__ import annotations

import time

import ros_harness
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from ros_harness import camera_info, image_msg, stamp_header, start

context, pipeline = ros_harness.context, ros_harness.pipeline  # fixtures


def test_status_follows_the_stream(context, pipeline):
    mppe, harness = start(
        context,
        pipeline,
        reliable=True,
        rosout=True,
        device="cpu",  # profile auto: fast, said once at start and on every status
        diagnostics_no_input_s=1.0,
        diagnostics_warn_latency_s=60.0,
        diagnostics_error_latency_s=120.0,
    )  # latency on a loaded CPU is not what this test is about
    reports: list[DiagnosticArray] = []
    harness.node.create_subscription(DiagnosticArray, "/diagnostics", reports.append, 10)
    sent = {"count": 0}

    def send():
        sent["count"] += 1
        header = stamp_header(*divmod(time.time_ns(), 10**9))  # now: the latency is stamp to publication
        harness.publish(image_msg(header), camera_info(header))

    def latest() -> tuple[bytes, dict[str, str]]:
        status = reports[-1].status[0]
        return status.level, {kv.key: kv.value for kv in status.values}

    try:
        reports.clear()
        assert harness.spin_until(
            lambda: bool(reports) and float(latest()[1]["Actual frequency (Hz)"]) > 0, 30, every_s=0.2, action=send
        ), reports[-1:] or "no /diagnostics"
        level, values = latest()
        status = reports[-1].status[0]
        assert status.name == f"{mppe.get_fully_qualified_name()}: pose estimation", status
        assert status.hardware_id == "cpu", status
        assert level == DiagnosticStatus.OK, status
        assert values["Inference thread alive"] == "True" and values["Active"] == "True"
        assert values["Profile"] == "fast (auto: device cpu)", values
        profile_lines = [log.msg for log in harness.logs if log.msg.startswith("profile ")]
        assert len(profile_lines) == 1 and "detector fasterrcnn_mobilenet_v3_large_320_fpn" in profile_lines[0]
        assert float(values["Median latency (s)"]) >= 0 and int(values["Events since startup"]) >= 1
        assert harness.spin_until(lambda: latest()[0] == DiagnosticStatus.WARN, 30), reports[-1]
        assert "diagnostics_no_input_s" in reports[-1].status[0].message
        mppe.trigger_deactivate()
        assert harness.spin_until(lambda: latest()[1]["Active"] == "False", 30), reports[-1]
    finally:
        harness.close()
        mppe.destroy_node()
