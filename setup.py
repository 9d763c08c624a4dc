"""pip install of mppe_ros: the ROS-free 3DMPPE inference library and its command line.

`pip install .` gives `import mppe_ros` (no rclpy needed) and the `mppe-ros` command. The ROS 2 parts
(`mppe_ros.msg`, the node) need the messages built by rosidl: `make setup` (a venv from PyPI) or
`colcon build` in a ROS 2 workspace (package.xml, CMakeLists.txt).
"""

import re
from pathlib import Path

from setuptools import find_packages, setup

# The one version number: package.xml's <version> (mppe_ros.__version__ reads the same file).
VERSION = re.search(r"<version>\s*([^<\s]+)\s*</version>", (Path(__file__).parent / "package.xml").read_text())[1]

if __name__ == "__main__":  # as pip and setuptools run it; test/core/test_version.py reads VERSION only
    setup(
        name="mppe_ros",
        version=VERSION,
        description="Absolute multi-person 3D poses from one RGB camera (3DMPPE) for ROS 2",
        license="MIT",
        python_requires=">=3.10",
        packages=find_packages(include=["mppe_ros", "mppe_ros.*"]),
        install_requires=[
            "numpy>=1.24",
            "opencv-python-headless>=4.8",
            "torch>=2.1",
            "torchvision>=0.16",
            "rosbags==0.11.9",
            "tqdm>=4.60",
        ],
        extras_require={
            "plots": ["matplotlib>=3.7"],
            "ray": ["ray==2.60.0"],
            "test": ["pytest>=7", "pytest-timeout"],
        },
        entry_points={
            "console_scripts": [
                "mppe-ros = mppe_ros.apps.entry_points:mppe_ros",
                "mppe_node = mppe_ros.apps.entry_points:mppe_node",
                "mppe-ros-demo = mppe_ros.apps.entry_points:mppe_ros_demo",
            ],
        },
    )
