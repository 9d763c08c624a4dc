"""The process entry points: each tunes glibc malloc before importing anything heavy.

mppe_ros.host_memory.keep_freed_memory_for_reuse only helps when it runs before any thread
allocates (importing torch, numpy or rclpy starts threads), so `mppe-ros`, `mppe_node`,
`mppe-ros-demo`, `ros2 run mppe_ros mppe_node` and `python -m mppe_ros` all start here.

The node's entry point also makes SIGTERM a stop request like SIGINT from its first line, so a
supervisor's stop during the imports or the model loading ends the process at once with status 0
and no traceback (rclpy's own handlers, installed later by rclpy.init, chain to this one). Once the
node has stopped, further SIGINT/SIGTERM are ignored while the interpreter finalises (seconds with
torch loaded): Ctrl-C under `ros2 launch` delivers SIGINT twice, from the terminal and from launch.
"""

from __future__ import annotations

import os
import signal
import sys

from mppe_ros.host_memory import keep_freed_memory_for_reuse


def mppe_ros(argv: list[str] | None = None) -> None:
    """`mppe-ros` / `python -m mppe_ros`: infer, weights, bench (mppe_ros.apps.cli), demo, node."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["demo"]:
        mppe_ros_demo(argv[1:])
    elif argv[:1] == ["node"]:
        mppe_node(argv[1:])
    else:
        keep_freed_memory_for_reuse()
        from mppe_ros.apps import cli

        sys.exit(cli.main(argv))


def mppe_node(argv: list[str] | None = None) -> None:
    """`mppe_node` / `ros2 run mppe_ros mppe_node` (mppe_ros.ros.node_main.main); SIGINT/SIGTERM: exit 0."""
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        keep_freed_memory_for_reuse()
        from mppe_ros.ros import node_main

        node_main.main(
            None if argv is None else [sys.argv[0], *argv]
        )  # rclpy parses ROS arguments after a program name
    except SystemExit:  # the node has stopped: a second Ctrl-C (a terminal and launch both send one) must not
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # turn the exit into "killed by SIGINT" during finalisation
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise
    except KeyboardInterrupt:  # a stop requested during the imports: nothing to clean up, do not wait for
        sys.stdout.flush()  # threads that half-imported libraries started
        sys.stderr.flush()
        os._exit(0)


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def mppe_ros_demo(argv: list[str] | None = None) -> None:
    """`mppe-ros-demo` / `make demo` (mppe_ros.apps.demo.main)."""
    keep_freed_memory_for_reuse()
    from mppe_ros.apps import demo

    demo.main(argv)
