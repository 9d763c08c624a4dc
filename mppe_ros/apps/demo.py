"""`make demo`: the whole mppe_ros graph through real ROS 2 topics, in one process, on a sample image.

    python -m mppe_ros demo [--untrained] [--output demo_output] [--frames 3]

Three nodes in one rclpy context, talking over DDS like separate processes would:
- `mppe_demo_player` publishes a 640x480 scene (two copies of matplotlib's sample photo
  `grace_hopper.jpg` at different sizes, so at different distances; drawn figures if matplotlib's
  sample data is missing) on /camera/image_raw with a CameraInfo (fx = fy = 600 px) on
  /camera/camera_info, same stamp, frame `camera_optical_frame`, at --rate-hz;
- `mppe_node`, remapped image:=/camera/image_raw camera_info:=/camera/camera_info;
- `mppe_demo_recorder` receives /humans/poses3d and /humans/poses3d/markers and writes to
  --output: poses3d.json (the received messages, the last MarkerArray, the node's counters),
  input.png, overlay.png (2D skeletons drawn from the messages' joints_px) and skeletons_3d.png (3D
  skeletons in metres, camera optical frame).

Weights: the official PoseNet/RootNet files and the detector's COCO weights must be found (see
`mppe-ros weights`); when they are missing the demo stops with the message that says where to get
them and where to put them, and names the one command that fetches them all (`mppe-ros weights
--download`). `--untrained` instead writes random weights in the official format to a temporary
folder and runs the same graph as an installation check. An untrained detector finds
nothing, so in that mode (only) the node runs with `detector: none` and is handed the player's
known person boxes through MppeNode's `boxes` argument. Its poses are meaningless, and the output
(stdout, poses3d.json, the images) says so.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header
from visualization_msgs.msg import MarkerArray

from mppe_ros.msg import PersonPose3DArray
from mppe_ros.overlay import PERSON_COLORS, draw_poses
from mppe_ros.ros.conversions import bgr_to_image_msg
from mppe_ros.ros.node import MppeNode, StartupError
from mppe_ros.ros.pose_messages import message_to_dict
from mppe_ros.testing.messages import camera_info as synthetic_camera_info
from mppe_ros.testing.synthetic import draw_stick_figure

WIDTH, HEIGHT, FX, FY = 640, 480, 600.0, 600.0
FRAME_ID = "camera_optical_frame"
IMAGE_TOPIC, INFO_TOPIC = "/camera/image_raw", "/camera/camera_info"
UNTRAINED_NOTE = "UNTRAINED: random weights, the poses are meaningless (installation check only)"


def sample_scene() -> tuple[np.ndarray, np.ndarray, str]:
    """(BGR [480, 640, 3] scene, [2, 4] person boxes x, y, w, h in px, description of the source)."""
    scene = np.full((HEIGHT, WIDTH, 3), 200, np.uint8)
    try:
        from matplotlib import cbook

        photo = cv2.imread(str(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)))
    except (ImportError, OSError, ValueError):
        photo = None
    boxes = []
    for x, y, height in ((40, 50, 420), (430, 250, 210)):  # a near and a far person
        if photo is not None:
            width = round(height * photo.shape[1] / photo.shape[0])
            scene[y : y + height, x : x + width] = cv2.resize(photo, (width, height), interpolation=cv2.INTER_AREA)
        else:
            width = height // 2
            draw_stick_figure(scene, (x, y, width, height))
        boxes.append((x, y, width, height))
    source = "matplotlib sample image grace_hopper.jpg" if photo is not None else "drawn figures"
    return scene, np.array(boxes, dtype=np.float64), source


def camera_info(header: Header) -> CameraInfo:
    """The player's CameraInfo: fx = fy = 600 px, principal point at the image centre."""
    return synthetic_camera_info(header, FX, FY, (WIDTH - 1) / 2, (HEIGHT - 1) / 2, WIDTH, HEIGHT)


class Player(Node):
    """Publishes the scene and its CameraInfo with one stamp per frame, like a camera driver."""

    def __init__(self, scene: np.ndarray, rate_hz: float, **kwargs: Any) -> None:
        super().__init__("mppe_demo_player", **kwargs)
        self.scene = scene
        self.image_pub = self.create_publisher(Image, IMAGE_TOPIC, 1)
        self.info_pub = self.create_publisher(CameraInfo, INFO_TOPIC, 1)
        self.create_timer(1.0 / rate_hz, self.publish_frame)

    def publish_frame(self) -> None:
        header = Header(stamp=self.get_clock().now().to_msg(), frame_id=FRAME_ID)
        self.image_pub.publish(bgr_to_image_msg(self.scene, header))
        self.info_pub.publish(camera_info(header))


class Recorder(Node):
    """Keeps what mppe_node publishes."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("mppe_demo_recorder", **kwargs)
        self.poses: list[PersonPose3DArray] = []
        self.markers: list[MarkerArray] = []
        self.create_subscription(PersonPose3DArray, "/humans/poses3d", self.poses.append, 10)
        self.create_subscription(MarkerArray, "/humans/poses3d/markers", self.markers.append, 10)


def draw_message(image: np.ndarray, msg: PersonPose3DArray, note: str = "") -> np.ndarray:
    """The 2D skeletons of a PersonPose3DArray (joints_px, bones) with id and distance labels."""
    persons = msg.persons
    return draw_poses(
        image,
        np.array([person.box_xywh_px for person in persons], dtype=np.float64).reshape(-1, 4),
        np.array([[(p.x, p.y) for p in person.joints_px] for person in persons]).reshape(len(persons), -1, 2),
        np.array([(person.root.x, person.root.y, person.root.z) for person in persons]).reshape(-1, 3),
        list(zip(msg.bone_a, msg.bone_b, strict=True)),
        person_ids=[person.id for person in persons],
        note=note.split(",")[0],
    )


def plot_3d(msg: PersonPose3DArray, path: Path, note: str = "") -> None:
    """3D skeletons in metres: x right, z forward (depth), -y up (the optical frame's y is down)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure = plt.figure(figsize=(8, 7))
    axes = figure.add_subplot(projection="3d")
    axes.scatter([0], [0], [0], marker="^", s=80, color="k", label="camera")
    for person in msg.persons:
        joints = np.array([[p.x, p.z, -p.y] for p in person.joints])
        colour = PERSON_COLORS[person.id % len(PERSON_COLORS)]
        for a, b in zip(msg.bone_a, msg.bone_b, strict=True):
            axes.plot(*joints[[a, b]].T, color=colour, linewidth=2)
        axes.scatter(*joints.T, color=colour, s=12, label=f"person {person.id}")
    axes.set_xlabel("x right [m]")
    axes.set_ylabel("z forward [m]")
    axes.set_zlabel("-y up [m]")
    points = np.array([[0.0, 0.0, 0.0]] + [[p.x, p.z, -p.y] for person in msg.persons for p in person.joints])
    centre, half_m = points.mean(axis=0), max(float(np.ptp(points, axis=0).max()) / 2, 0.5)
    axes.set(
        xlim=(centre[0] - half_m, centre[0] + half_m),
        ylim=(centre[1] - half_m, centre[1] + half_m),
        zlim=(centre[2] - half_m, centre[2] + half_m),
    )  # equal scale on the three axes
    axes.set_title(
        f"{len(msg.persons)} persons, {msg.header.frame_id}" + (f"\n{note}" if note else ""),
        color="red" if note else "k",
    )
    axes.legend(loc="upper left")
    figure.savefig(path, dpi=90)
    plt.close(figure)


def _untrained_weights(folder: Path) -> dict[str, str]:
    from mppe_ros.testing.synthetic import trained_like_weights  # the tests' and benchmarks' recipe

    posenet_path, rootnet_path = trained_like_weights(folder, joint_num=21)
    return {"posenet_path": str(posenet_path), "rootnet_path": str(rootnet_path)}


def missing_weights_summary() -> str:
    """Each file the demo needs, present or missing with where it goes, and the one command that fetches them."""
    from mppe_ros.apps.cli import demo_weights_files
    from mppe_ros.weights import CHECKOUT_DOWNLOAD_COMMAND, DOWNLOAD_COMMAND

    files = demo_weights_files()
    missing = [item for item in files if not item.path.is_file()]
    lines = [f"mppe demo: the demo needs {len(files)} weight files, {len(missing)} missing:"]
    width = max(len(item.name) for item in files)
    lines += [
        f"  {item.name:<{width}}  {'present' if item.path.is_file() else 'MISSING':<8} {item.path}" for item in files
    ]
    lines.append(
        f"mppe demo: fetch them all with one command: {CHECKOUT_DOWNLOAD_COMMAND} "
        f"(installed: {DOWNLOAD_COMMAND}), then run make demo again"
    )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    scene, boxes, source = sample_scene()
    output = Path(args.output)
    note = UNTRAINED_NOTE if args.untrained else ""
    parameters: dict = {"device": args.device, "detector_min_size_px": HEIGHT, "publish_markers": True}
    with tempfile.TemporaryDirectory(prefix="mppe_demo_") as folder:
        if args.untrained:
            print(f"mppe demo: {UNTRAINED_NOTE}", flush=True)
            parameters.update(_untrained_weights(Path(folder)), detector="none")
        context = rclpy.Context()
        rclpy.init(context=context)
        nodes: list[Node] = []
        try:
            remap = ["--ros-args", "-r", f"image:={IMAGE_TOPIC}", "-r", f"camera_info:={INFO_TOPIC}"]
            overrides = [Parameter(name, value=value) for name, value in parameters.items()]
            try:
                mppe = MppeNode(
                    boxes=boxes if args.untrained else None,
                    context=context,
                    cli_args=remap,
                    parameter_overrides=overrides,
                )
            except StartupError as error:
                print(f"mppe demo: cannot start mppe_node:\n{error}", file=sys.stderr)
                if "not found" in str(error):  # weights missing (not a device or parameter problem)
                    print(missing_weights_summary(), file=sys.stderr)
                print(
                    "mppe demo: for an installation check without the weights run: make demo ARGS=--untrained",
                    file=sys.stderr,
                )
                return 2
            recorder, player = Recorder(context=context), Player(scene, args.rate_hz, context=context)
            nodes = [mppe, recorder, player]
            executor = SingleThreadedExecutor(context=context)
            for node in nodes:
                executor.add_node(node)
            print(
                f"mppe demo: playing {source} at {args.rate_hz:g} Hz on {IMAGE_TOPIC}; "
                f"waiting for {args.frames} results",
                flush=True,
            )
            deadline = time.monotonic() + args.timeout_s
            # discovery first (slower on a loaded machine): the node builds markers only for a subscriber it sees
            while not mppe.markers_publisher.get_subscription_count() and time.monotonic() < deadline:
                executor.spin_once(timeout_sec=0.05)
            while (len(recorder.poses) < args.frames or not recorder.markers) and time.monotonic() < deadline:
                executor.spin_once(timeout_sec=0.05)
            last_s = min(deadline, time.monotonic() + 2.0)  # the markers of the last frame, published after its poses
            while not _same_stamp(recorder.markers[-1:], recorder.poses[-1:]) and time.monotonic() < last_s:
                executor.spin_once(timeout_sec=0.05)
            if not recorder.poses:
                print(
                    f"mppe demo: no PersonPose3DArray within {args.timeout_s:g} s (node stats: {mppe.stats})",
                    file=sys.stderr,
                )
                return 1
            write_outputs(output, scene, recorder, mppe, note, source, parameters)
        finally:
            for node in nodes:
                node.destroy_node()
            rclpy.try_shutdown(context=context)
    return 0


def _same_stamp(markers: list[MarkerArray], poses: list[PersonPose3DArray]) -> bool:
    """Whether the last MarkerArray (its markers' header) is of the frame of the last PersonPose3DArray."""
    if not markers or not poses or not markers[0].markers:
        return False
    return bool(markers[0].markers[-1].header.stamp == poses[0].header.stamp)


def write_outputs(
    output: Path, scene: np.ndarray, recorder: Recorder, mppe: MppeNode, note: str, source: str, parameters: dict
) -> None:
    output.mkdir(parents=True, exist_ok=True)
    last = recorder.poses[-1]
    report = {
        "untrained": bool(note),
        "note": note or "official weights",
        "input": {"source": source, "width": WIDTH, "height": HEIGHT, "fx": FX, "fy": FY, "frame_id": FRAME_ID},
        "node_parameters": {k: v for k, v in parameters.items() if not k.endswith("_path")},
        "sync_backend": mppe.sync_backend,
        "node_stats": dataclasses.asdict(mppe.stats),
        "messages": [message_to_dict(msg) for msg in recorder.poses],
        "last_markers": message_to_dict(recorder.markers[-1]) if recorder.markers else None,
    }
    (output / "poses3d.json").write_text(json.dumps(report, indent=1))
    cv2.imwrite(str(output / "input.png"), scene)
    cv2.imwrite(str(output / "overlay.png"), draw_message(scene, last, note))
    plot_3d(last, output / "skeletons_3d.png", note)
    print(f"mppe demo: {len(recorder.poses)} PersonPose3DArray messages, {len(last.persons)} persons in the last:")
    for person in last.persons:
        print(
            f"  person {person.id}: root at ({person.root.x:.2f}, {person.root.y:.2f}, {person.root.z:.2f}) m, "
            f"score {person.score:.2f}"
        )
    print(
        f"mppe demo: wrote {output}/poses3d.json, input.png, overlay.png, skeletons_3d.png"
        + (f"\nmppe demo: {note}" if note else "")
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="mppe-ros-demo", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--untrained", action="store_true", help="random official-format weights; poses are meaningless"
    )
    parser.add_argument("--output", default="demo_output", help="output folder (default: demo_output)")
    parser.add_argument("--frames", type=int, default=3, help="stop after this many PersonPose3DArray messages")
    parser.add_argument("--rate-hz", type=float, default=2.0, help="player frame rate, Hz")
    parser.add_argument("--timeout-s", type=float, default=300.0, help="give up after this long, s")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="mppe_node device parameter")
    args = parser.parse_args(argv)
    try:
        sys.exit(run(args))
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
