"""ThrottledLog: mixed severities on a real rclpy logger, throttling per key, and a logger that fails."""

from __future__ import annotations

import rclpy.logging

from mppe_ros.ros.node_log import ThrottledLog


def test_alternating_severities_on_a_real_logger_never_raise():
    """rclpy refuses two severities from one call site: each severity has its own (the stream-killing bug)."""
    logger = rclpy.logging.get_logger("test_node_log")
    log = ThrottledLog(logger, lambda: 0.0)
    for index in range(5):
        assert log.warning(f"w{index}", "a warning") and log.error(f"e{index}", "an error")
    assert log.failures == 0


def test_throttled_per_key_and_once():
    lines: list[str] = []
    logger = type("Logger", (), {"warning": lambda self, text: lines.append(text), "error": lambda self, text: None})()
    log = ThrottledLog(logger, lambda: 3600.0)
    assert log.warning("a", "first a") and not log.warning("a", "second a") and log.warning("b", "first b")
    assert log.warning("c", "once", once=True) and not log.warning("c", "twice", once=True)
    assert lines == ["first a", "first b", "once"]


def test_a_failing_logger_goes_to_stderr_and_is_counted(capsys):
    class Broken:
        def error(self, text: str) -> None:
            raise ValueError("Logger severity cannot be changed between calls.")

    log = ThrottledLog(Broken(), lambda: 0.0)
    assert log.error("x", "the frame was bad")
    assert log.failures == 1 and "the frame was bad" in capsys.readouterr().err
