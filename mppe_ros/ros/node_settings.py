"""The node's own settings (NodeSettings): camera input, synchronization, QoS, markers, REP-155, logging, diagnostics.

One field per parameter of `mppe_node` (mppe_ros.ros.parameters derives the parameters from it and from the
library's settings types).
"""

from __future__ import annotations

from dataclasses import dataclass

from mppe_ros.profiles import PROFILE_CHOICES
from mppe_ros.settings import check_settings, setting


@dataclass(frozen=True)
class NodeSettings:
    """The node's own settings: camera input, synchronization, QoS, markers and logging."""

    use_rectified: bool = setting(
        False,
        "false: the image is raw (image_raw), intrinsics from CameraInfo.K and joints undistorted with D; "
        "true: the image is rectified (image_rect), intrinsics from CameraInfo.P",
        run_time=True,
    )
    sync_mode: str = setting(
        "approximate",
        "pairing of image and camera_info: approximate (stamps within sync_slop_s) or exact (equal stamps)",
        choices=("approximate", "exact"),
    )
    sync_slop_s: float = setting(
        0.05, "approximate mode pairs messages whose stamps differ by less than this, s", bounds=(0.001, 10.0)
    )
    sync_queue_size: int = setting(5, "messages kept per input while waiting for a partner", bounds=(1, 100))
    camera_info_fallback: bool = setting(
        True,
        "an image whose CameraInfo does not arrive within max(sync_slop_s, 0.1 s) is answered with the latest valid "
        "CameraInfo of the same frame_id and size (counted as CameraInfo reused); false: strict pairs, such images "
        "are dropped (counted as images without camera_info)",
    )
    input_reliability: str = setting(
        "auto",
        "QoS reliability of the image and camera_info subscriptions: auto (reliable when every publisher found on "
        "the input topics is reliable, else best effort; re-checked when publishers appear or change), best_effort "
        "(matches every publisher) or reliable (only reliable ones)",
        choices=("auto", "best_effort", "reliable"),
    )
    input_depth: int = setting(1, "QoS history depth (keep last) of the input subscriptions", bounds=(1, 100))
    image_transport: str = setting(
        "raw",
        "raw: subscribe `image` (sensor_msgs/Image); compressed: subscribe `<image>/compressed` "
        "(sensor_msgs/CompressedImage, JPEG or PNG, decoded with OpenCV)",
        choices=("raw", "compressed"),
    )
    sync_backend: str = setting(
        "auto",
        "synchronizer: auto (message_filters where it imports, else the built-in one), message_filters or builtin "
        "(mppe_ros.ros.sync, same semantics)",
        choices=("auto", "message_filters", "builtin"),
    )
    person_class_id: str = setting(
        "person",
        "with detector topic: the ObjectHypothesis.class_id of a person in the detections (person, or 0 for a "
        "COCO-indexed YOLO; several separated by commas)",
        pattern=(r"\s*[^,\s][^,]*(,\s*[^,\s][^,]*)*", "one class id, or several separated by commas"),
        run_time=True,
    )
    detections_sync_mode: str = setting(
        "exact",
        "with detector topic: pairing of each image with its vision_msgs/Detection2DArray on `detections`: exact "
        "(equal stamps: detectors copy the image header) or approximate (the nearest stamp within sync_slop_s)",
        choices=("exact", "approximate"),
    )
    detections_timeout_s: float = setting(
        0.5,
        "with detector topic: an image waits this long for its detections (and detections for their image), s; then "
        "it is dropped and counted (images without detections, detections unmatched)",
        bounds=(0.01, 10.0),
    )
    publish_markers: bool = setting(
        True, "publish RViz markers on /humans/poses3d/markers (built only while someone subscribes)", run_time=True
    )
    marker_lifetime_s: float = setting(
        2.0,
        "marker lifetime in RViz, s (0: until replaced; every array starts with DELETEALL anyway)",
        bounds=(0.0, 3600.0),
        run_time=True,
    )
    marker_scale: float = setting(
        1.0,
        "size factor of the markers (bones 2 cm wide, joints 5 cm, labels 12 cm high at 1.0)",
        bounds=(0.01, 100.0),
        run_time=True,
    )
    marker_trail_s: float = setting(
        2.0,
        "with tracking, each track's marker shows its root's path over the last this many seconds (0: no trail)",
        bounds=(0.0, 60.0),
        run_time=True,
    )
    tracking: bool = setting(
        True,
        "track people over time: PersonPose3D.id is the track id, joints smoothed, root velocity (false: each frame "
        "alone, id = index in the frame)",
    )
    tracking_frame: str = setting(
        "",
        "frame the people are tracked in (positions, gates, smoothing, velocities), e.g. odom: a fixed frame in which "
        "the robot's own motion does not move them; the camera's pose is looked up in TF at each image's stamp "
        "(empty: the image's frame, no TF)",
    )
    output_frame: str = setting(
        "",
        "frame of /humans/poses3d, the markers and the REP-155 body frames' parent, e.g. base_link (empty: the "
        "image's frame); root_velocity is relative to tracking_frame, in this frame's axes",
    )
    tf_timeout_s: float = setting(
        0.2,
        "wait this long on the inference thread for a transform at the image's stamp, s (then the frame is "
        "skipped and counted as no transform)",
        bounds=(0.0, 10.0),
        run_time=True,
    )
    id_prefix: str = setting(
        "",
        "names this node's REP-155 body ids (<prefix>_b17), their TF frames (body_<prefix>_b17) and its marker "
        "namespaces (mppe/<prefix>/...), so several nodes never collide; empty: from the node's namespace (/front: "
        "front, /robot/front: robot_front; none in the root namespace)",
        pattern=(r"([A-Za-z][A-Za-z0-9_]*)?", "empty or a letter then letters, digits or _"),
    )
    track_id_base: int = setting(
        0,
        "this node's track ids (PersonPose3D.id) are track_id_base + 1, + 2, ...; give each node of a robot its own "
        "block (the cameras launch file: 100000000 per camera) so ids are unique across nodes (0: shared by the "
        "nodes of one process)",
        bounds=(0, 2_000_000_000),
    )
    publish_rep155: bool = setting(
        True,
        "with tracking, publish REP-155 bodies (/humans/bodies/...) where hri_msgs and tf2_msgs import (one log "
        "line when they do not)",
    )
    publish_tf: bool = setting(True, "with publish_rep155, a TF frame body_<id> per confirmed track on /tf")
    publish_joint_frames: bool = setting(False, "with publish_tf, also one TF frame per joint under body_<id>")
    body_min_joint_confidence: float = setting(
        0.1,
        "joints below this confidence are not used for the body_<id> frame (hips, spine, shoulders; fallbacks "
        "otherwise)",
        bounds=(0.0, 1.0),
    )
    publish_cropped: bool = setting(
        True, "with publish_rep155, /humans/bodies/<id>/cropped: the detection box cut from the image, while subscribed"
    )
    log_period_s: float = setting(
        5.0, "period of the throttled log lines (skipped frames, bad input), s", bounds=(0.1, 3600.0), run_time=True
    )
    no_input_warning_s: float = setting(
        10.0,
        "warn once when no synchronized pair arrived after this long, s (0: never)",
        bounds=(0.0, 3600.0),
        run_time=True,
    )
    profile: str = setting(
        "auto",
        "defaults that fit the hardware: accurate (fp32, the ResNet-50 FPN detector at 800 px), fast (precision auto, "
        "the 320 px MobileNet detector) or auto (accurate on CUDA, fast on a CPU); a parameter set explicitly wins",
        choices=PROFILE_CHOICES,
    )
    autostart: bool = setting(
        True,
        "true: configure and activate the lifecycle node at start-up (ros2 run, the launch file, the demo); "
        "false: wait in the unconfigured state for lifecycle transitions (ros2 lifecycle, launch_ros)",
    )
    diagnostics_period_s: float = setting(
        1.0, "period of the /diagnostics status, s (0: not published)", bounds=(0.0, 3600.0)
    )
    diagnostics_min_output_hz: float = setting(
        0.5,
        "/diagnostics WARN when pairs arrive but results are published at less than this rate, Hz",
        bounds=(0.0, 1000.0),
        run_time=True,
    )
    diagnostics_warn_latency_s: float = setting(
        1.0,
        "/diagnostics WARN when the median latency (capture stamp to publication) exceeds this, s",
        bounds=(0.0, 3600.0),
        run_time=True,
    )
    diagnostics_error_latency_s: float = setting(
        5.0,
        "/diagnostics ERROR when the median latency exceeds this, s",
        bounds=(0.0, 3600.0),
        run_time=True,
    )
    diagnostics_no_input_s: float = setting(
        5.0,
        "/diagnostics WARN when no synchronized pair arrived for this long while active, s",
        bounds=(0.1, 3600.0),
        run_time=True,
    )

    def __post_init__(self) -> None:
        check_settings(self)
