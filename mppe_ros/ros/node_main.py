"""`mppe_node`'s process: spin the node until it is stopped, and the exit status.

`main` is what `ros2 run mppe_ros mppe_node` runs (through mppe_ros.apps.entry_points): exit 1 with one error line
when the node cannot start or its inference thread stops, 0 for a requested stop (SIGINT, SIGTERM, the lifecycle's
shutdown transition).
"""

from __future__ import annotations

import os
import sys
from typing import Any

import rclpy
from rclpy.executors import ExternalShutdownException

from mppe_ros.ros.node import MppeNode
from mppe_ros.ros.parameters import NODE_NAME
from mppe_ros.ros.startup import NodeFinalized, StartupError, WorkerStoppedError


def run(node: MppeNode, executor: Any = None) -> int:
    """Spin `node` until shutdown; the process exit status: 0 for a requested stop, 1 if the worker stopped."""
    try:
        rclpy.spin(node, executor=executor)
    except WorkerStoppedError as error:
        node.get_logger().fatal(f"{error}; exiting with status 1 so that a supervisor (launch respawn) restarts it")
        return 1
    except NodeFinalized:
        node.get_logger().info("finalized by the lifecycle shutdown transition; exiting")
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
