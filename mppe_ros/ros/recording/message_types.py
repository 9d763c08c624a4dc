"""Message types between rosbags and rclpy: rosidl classes by name, and a rosbags typestore that knows every type
the outputs use (Kilted's standard types plus mppe_ros and hri_msgs, registered from their installed .msg files) so
the message definitions can be embedded in the output bag."""

from __future__ import annotations

import functools
import importlib
import os
import sys
from pathlib import Path
from typing import Any

from rosbags.typesys import Stores, get_types_from_msg, get_typestore

EXTRA_PACKAGES = ("mppe_ros", "hri_msgs")  # not in rosbags' Kilted typestore
REPO_MSG_DIR = Path(__file__).resolve().parents[3] / "msg"  # a checkout's mppe_ros/msg sources


def message_class(msgtype: str) -> Any:
    """The rosidl Python class of `pkg/msg/Name` (or `pkg/Name`); ImportError/AttributeError when absent."""
    parts = msgtype.split("/")
    return getattr(importlib.import_module(f"{parts[0]}.msg"), parts[-1])


def msgtype_of(cls: Any) -> str:
    """`pkg/msg/Name` of a rosidl Python class."""
    return f"{cls.__module__.split('.')[0]}/msg/{cls.__name__}"


def share_msg_dirs(package: str) -> list[Path]:
    """Where the package's .msg files may be: <prefix>/share/<package>/msg for the venv and AMENT_PREFIX_PATH."""
    prefixes = [sys.prefix, *filter(None, os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep))]
    dirs = [Path(prefix) / "share" / package / "msg" for prefix in prefixes]
    if package == "mppe_ros":
        dirs.append(REPO_MSG_DIR)
    return [folder for folder in dirs if folder.is_dir()]


@functools.lru_cache(maxsize=1)
def output_typestore() -> Any:
    """rosbags' Kilted typestore with EXTRA_PACKAGES' messages registered (those installed)."""
    store = get_typestore(Stores.ROS2_KILTED)
    types: dict[str, Any] = {}
    for package in EXTRA_PACKAGES:
        folders = share_msg_dirs(package)
        if not folders:
            continue
        for path in sorted(folders[0].glob("*.msg")):
            types.update(get_types_from_msg(path.read_text(), f"{package}/msg/{path.stem}"))
    store.register(types)
    return store
