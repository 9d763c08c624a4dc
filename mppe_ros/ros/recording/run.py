"""One recording, start to end: read it (a bag, a video or an image folder), process every frame
(mppe_ros.ros.recording.processor), write the output bag, the JSON lines and the overlay video, count, stop cleanly.

A stop request (`should_stop()` True, e.g. after SIGINT) ends the run after the frame in progress: the outputs are
closed complete up to the last processed frame and the summary says where it stopped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sensor_msgs.msg import CameraInfo
from std_msgs.msg import Header

from mppe_ros.recordings.camera_yaml import CameraInfoFields, read_camera_yaml
from mppe_ros.recordings.inputs import BAG, classify
from mppe_ros.recordings.jsonl import JsonlWriter
from mppe_ros.recordings.overlay_video import OverlayVideo
from mppe_ros.recordings.progress import Progress
from mppe_ros.recordings.summary import RunSummary
from mppe_ros.recordings.video import FrameSource
from mppe_ros.ros.compressed import compressed_image_to_bgr
from mppe_ros.ros.conversions import bgr_to_image_msg, image_to_bgr
from mppe_ros.ros.frames import BoxesSource
from mppe_ros.ros.parameters import NodeConfig
from mppe_ros.ros.recording.bag_reader import BagReader, to_message
from mppe_ros.ros.recording.bag_tf import recording_tf_frames
from mppe_ros.ros.recording.bag_writer import OutputBag
from mppe_ros.ros.recording.frame_records import overlay_arrays, poses_record
from mppe_ros.ros.recording.processor import RecordingProcessor

VIDEO_IMAGE_TOPIC, VIDEO_INFO_TOPIC = "/camera/image_raw", "/camera/camera_info"  # a video's frames in the output
IMAGE_TYPE, INFO_TYPE = "sensor_msgs/msg/Image", "sensor_msgs/msg/CameraInfo"


@dataclass
class RunOptions:
    """What to read and write for one recording (see `mppe-ros process --help`)."""

    out: Path | None = None
    storage: str = "mcap"
    jsonl: Path | None = None
    video: Path | None = None
    copy_input: bool = True
    image_topic: str = ""
    camera_info_topic: str = ""
    camera_info: Path | None = None
    fps: float | None = None
    progress_bar: bool = False
    report_every: int = 0
    provenance: dict[str, Any] = field(default_factory=dict)


# (kind, topic, msgtype, the message or the error that decoding raised, log time ns, the bag's CDR bytes or None)
Message = tuple[str, str, str, Any, int, bytes | None]


def _bag_messages(reader: BagReader, with_tf: bool) -> Iterator[Message]:
    for message in reader.messages(with_tf):
        decoded: Any = None  # the transforms are copied, never decoded here (mppe_ros.ros.recording.bag_tf)
        if message.kind in ("image", "camera_info"):
            try:
                decoded = to_message(message)
            except Exception as error:  # noqa: BLE001 - corrupt bytes: counted, never fatal
                decoded = error
        yield message.kind, message.topic, message.msgtype, decoded, message.log_time_ns, message.cdr


def _camera_info(fields: CameraInfoFields, header: Header) -> CameraInfo:
    info = CameraInfo(header=header, width=fields.width, height=fields.height, distortion_model=fields.distortion_model)
    info.k, info.d, info.r, info.p = list(fields.k), list(fields.d), list(fields.r), list(fields.p)
    return info


def _frame_messages(source: FrameSource, fields: CameraInfoFields) -> Iterator[Message]:
    for stamp, frame in source:
        header = Header(frame_id=fields.frame_id)
        header.stamp.sec, header.stamp.nanosec = divmod(stamp, 1_000_000_000)
        if frame is None:
            yield "image", VIDEO_IMAGE_TOPIC, IMAGE_TYPE, ValueError("the frame does not decode"), stamp, None
            continue
        yield "image", VIDEO_IMAGE_TOPIC, IMAGE_TYPE, bgr_to_image_msg(frame, header), stamp, None
        yield "camera_info", VIDEO_INFO_TOPIC, INFO_TYPE, _camera_info(fields, header), stamp, None


def _decoded_bgr(image: Any) -> Any:
    return compressed_image_to_bgr(image) if hasattr(image, "format") else image_to_bgr(image)


def process_recording(
    path: str | Path, config: NodeConfig, pipeline: Any, boxes: BoxesSource, options: RunOptions,
    should_stop: Callable[[], bool] = lambda: False,
) -> RunSummary:  # fmt: skip
    """Process one recording into options' outputs; returns its summary (interrupted when should_stop() ended it).

    Raises:
        RecordingInputError: not a bag, video or image folder; ValueError: topics not found, --camera-info missing,
            tracking_frame/output_frame without the recording's transforms (nothing is written then).
    """
    path = Path(path)
    kind = classify(path)
    summary = RunSummary(name=path.name)
    if kind != BAG and options.camera_info is None:
        raise ValueError(f"{path}: a video or an image folder needs --camera-info FILE (its intrinsics)")
    source = _messages(path, kind, options)
    with source as (messages, total, fps):
        tf_frames = recording_tf_frames(
            source.reader, path, config, lambda log_time_ns, error: summary.count("undecodable_tf", log_time_ns)
        )
        outputs = _Outputs(options, fps)
        try:
            processor = RecordingProcessor(config, pipeline, boxes, outputs.bag, summary, outputs.answered,
                                           tf_frames=tf_frames)  # fmt: skip
            _feed(messages, processor, outputs, Progress(path.name, total, options.progress_bar, options.report_every),
                  should_stop)  # fmt: skip
        finally:
            outputs.close(options.provenance)
    return summary


def _feed(
    messages: Iterator[Message], processor: RecordingProcessor, outputs: _Outputs, progress: Progress,
    should_stop: Callable[[], bool],
) -> None:  # fmt: skip
    """Every message copied (unless --no-copy-input) and fed to the processor, until the end or should_stop()."""
    summary = processor.summary
    try:
        for kind_of, topic, msgtype, msg, log_time_ns, cdr in messages:
            outputs.copy(topic, msgtype, msg, log_time_ns, cdr)
            if kind_of not in ("image", "camera_info"):
                continue
            if isinstance(msg, Exception):
                if kind_of == "image":
                    processor.undecodable(log_time_ns, msg)
            elif kind_of == "image":
                processor.image(msg, log_time_ns)
            else:
                processor.camera_info(msg, log_time_ns)
            if kind_of == "image":
                progress.update()
            if should_stop():
                summary.interrupted = True
                break
        if not summary.interrupted:
            processor.finish()
    finally:
        progress.close()


class _Outputs:
    """The output bag, the JSON lines and the overlay video of one run (each None when not asked for)."""

    def __init__(self, options: RunOptions, fps: float) -> None:
        self.copy_input = options.copy_input
        self.bag = OutputBag(options.out, options.storage) if options.out is not None else None
        self.jsonl = JsonlWriter(options.jsonl) if options.jsonl is not None else None
        self.video = OverlayVideo(options.video, fps) if options.video is not None else None

    def copy(self, topic: str, msgtype: str, msg: Any, log_time_ns: int, cdr: bytes | None) -> None:
        """An input message into the bag: the bag's bytes as they are (corrupt ones too), or a video's frame."""
        if self.bag is None or not self.copy_input:
            return
        if cdr is not None:
            self.bag.write_cdr(topic, msgtype, cdr, log_time_ns)
        elif not isinstance(msg, Exception):
            self.bag.write(topic, msg, log_time_ns)

    def answered(self, image: Any, poses: Any) -> None:
        """One answered frame: its JSON line and its overlay frame."""
        if self.jsonl is not None:
            self.jsonl.write(poses_record(poses))
        if self.video is not None:
            stamp = image.header.stamp
            self.video.write(_decoded_bgr(image), stamp.sec * 1_000_000_000 + stamp.nanosec, overlay_arrays(poses))

    def close(self, provenance: dict[str, Any]) -> None:
        """Close everything; the bag gets the provenance as custom data."""
        if self.bag is not None:
            self.bag.close({"mppe_ros." + key: json.dumps(value, sort_keys=True) for key, value in provenance.items()})
        if self.jsonl is not None:
            self.jsonl.close()
        if self.video is not None:
            self.video.close()


class _messages:  # noqa: N801 - a context manager used like a function
    """(messages, image count or None, fps for the overlay video) of a bag, video or image folder."""

    def __init__(self, path: Path, kind: str, options: RunOptions) -> None:
        self.path, self.kind, self.options = path, kind, options
        self.reader: BagReader | None = None

    def __enter__(self) -> tuple[Iterator[Message], int | None, float]:
        if self.kind == BAG:
            self.reader = BagReader(self.path, self.options.image_topic, self.options.camera_info_topic).__enter__()
            reader = self.reader
            duration_s = max(reader.duration_ns * 1e-9, 1e-9)
            fps = self.options.fps or (reader.image_count / duration_s if reader.image_count > 1 else 30.0)
            return _bag_messages(reader, self.options.copy_input), reader.image_count, fps
        assert self.options.camera_info is not None
        source = FrameSource(self.path, self.kind, self.options.fps)
        fields = read_camera_yaml(self.options.camera_info)
        return _frame_messages(source, fields), source.total, source.fps

    def __exit__(self, *exc: object) -> None:
        if self.reader is not None:
            self.reader.__exit__(*exc)
