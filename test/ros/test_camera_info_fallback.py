"""CameraInfoFallback without DDS: wired to each synchronizer backend and mode as InputSubscriptions wires it."""

from __future__ import annotations

import threading

import pytest
from ros_tools import requires
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import Header

from mppe_ros.ros.camera_info_fallback import REUSED, WITHOUT, CameraInfoFallback, usable
from mppe_ros.ros.inputs import make_input_synchronizer
from mppe_ros.ros.node_settings import NodeSettings
from mppe_ros.testing import messages

FRAME, WIDTH, HEIGHT = "cam_optical", 64, 48
WAIT_S = 0.1
PERIOD_S = 0.2  # 5 Hz
# message_filters comes with the real ROS 2 tools; without them its cases skip, saying what to install
SYNCS = [
    pytest.param(backend, mode, marks=requires("message_filters") if backend == "message_filters" else ())
    for backend in ("builtin", "message_filters")
    for mode in ("exact", "approximate")
]


def header(index: int, frame_id: str = FRAME) -> Header:
    result = Header(frame_id=frame_id)
    result.stamp.sec, result.stamp.nanosec = divmod(1000 * 10**9 + round(index * PERIOD_S * 1e9), 10**9)
    return result


def image(index: int, frame_id: str = FRAME, width: int = WIDTH, height: int = HEIGHT) -> Image:
    return Image(header=header(index, frame_id), width=width, height=height, encoding="bgr8", step=3 * width)


def compressed(index: int, frame_id: str = FRAME) -> CompressedImage:
    return CompressedImage(header=header(index, frame_id), format="jpeg")


def info(index: int, fx: float = 50.0, frame_id: str = FRAME, width: int = WIDTH, height: int = HEIGHT) -> CameraInfo:
    return messages.camera_info(header(index, frame_id), fx, fx, width / 2, height / 2, width, height)


class Wired:
    """A fallback around a real synchronizer, a hand-driven clock, and what came out."""

    def __init__(self, backend: str = "builtin", mode: str = "approximate", enabled: bool = True) -> None:
        settings = NodeSettings(sync_backend=backend, sync_mode=mode, camera_info_fallback=enabled)
        _, sync, self.feeds = make_input_synchronizer(settings)
        self.now_s = 0.0
        self.pairs: list[tuple[int, float]] = []  # (image stamp index, fx used)
        self.events: list[str] = []
        self.fallback = CameraInfoFallback(
            lambda im, ci: self.pairs.append((self._index(im), ci.k[0])),
            WAIT_S,
            settings.sync_queue_size,
            enabled,
            self.events.append,
            clock=lambda: self.now_s,
        )
        sync.registerCallback(self.fallback.paired)

    @staticmethod
    def _index(msg) -> int:
        stamp = msg.header.stamp
        return round(((stamp.sec - 1000) * 10**9 + stamp.nanosec) / (PERIOD_S * 1e9))

    def image(self, msg) -> None:
        self.fallback.image(msg)
        self.feeds[0](msg)

    def info(self, msg: CameraInfo) -> None:
        self.fallback.camera_info(msg)
        self.feeds[1](msg)

    def advance(self, seconds: float) -> None:
        self.now_s += seconds
        self.fallback.expire()


@pytest.mark.parametrize(("backend", "mode"), SYNCS)
@pytest.mark.parametrize("info_first", [True, False])
def test_pairs_pass_once_and_nothing_is_reused(backend, mode, info_first):
    wired = Wired(backend, mode)
    for index in range(5):
        first, second = (wired.info, info(index)), (wired.image, image(index))
        for feed, msg in (first, second) if info_first else (second, first):
            feed(msg)
        wired.advance(PERIOD_S)
    assert wired.pairs == [(index, 50.0) for index in range(5)]
    assert wired.events == [] and wired.fallback.pending == 0


@pytest.mark.parametrize(("backend", "mode"), SYNCS)
def test_a_lost_camera_info_is_replaced_by_the_cached_one_after_the_wait(backend, mode):
    wired = Wired(backend, mode)
    wired.info(info(0))
    wired.image(image(0))
    wired.image(image(1))  # its CameraInfo is lost
    wired.advance(WAIT_S / 2)
    assert wired.pairs == [(0, 50.0)]  # still waiting
    wired.advance(WAIT_S / 2)
    assert wired.pairs == [(0, 50.0), (1, 50.0)] and wired.events == [REUSED]
    wired.info(info(1))  # arrives late: the synchronizer pairs it, the image was already emitted
    wired.advance(1.0)
    assert wired.pairs == [(0, 50.0), (1, 50.0)] and wired.events == [REUSED]


@pytest.mark.parametrize(("backend", "mode"), SYNCS)
def test_an_older_unpaired_image_leaves_before_a_newer_pair(backend, mode):
    wired = Wired(backend, mode)
    wired.info(info(0))
    wired.image(image(0))
    wired.image(image(1))  # lost CameraInfo, and the timer has not run yet
    wired.info(info(2))
    wired.image(image(2))
    assert wired.pairs == [(0, 50.0), (1, 50.0), (2, 50.0)] and wired.events == [REUSED]
    wired.advance(1.0)
    assert len(wired.pairs) == 3


@pytest.mark.parametrize(
    ("other_image", "why"),
    [
        (image(1, frame_id="other_optical"), "frame_id"),
        (image(1, width=2 * WIDTH, height=2 * HEIGHT), "size"),
    ],
)
def test_another_camera_or_size_is_not_reused(other_image, why):
    wired = Wired()
    wired.info(info(0))
    wired.image(image(0))
    wired.image(other_image)
    wired.advance(WAIT_S)
    assert wired.pairs == [(0, 50.0)], why
    assert wired.events == [WITHOUT]


def test_a_changed_camera_info_is_used_from_its_own_stamp_on():
    wired = Wired()
    wired.info(info(0, fx=50.0))
    wired.image(image(0))
    wired.image(image(1))  # lost: the K of stamp 0 applies
    wired.info(info(2, fx=80.0))  # new K, from stamp 2 on; arrives before image 1 is resolved
    wired.advance(WAIT_S)
    wired.image(image(2))
    wired.image(image(3))  # lost: the K of stamp 2 applies
    wired.advance(WAIT_S)
    assert wired.pairs == [(0, 50.0), (1, 50.0), (2, 80.0), (3, 80.0)]
    assert wired.events == [REUSED, REUSED]


def test_a_new_size_is_a_new_camera():
    wired = Wired()
    wired.info(info(0))
    wired.image(image(0))
    wired.info(info(1, fx=100.0, width=2 * WIDTH, height=2 * HEIGHT))  # binning changed
    wired.image(image(1, width=2 * WIDTH, height=2 * HEIGHT))
    wired.image(image(2, width=2 * WIDTH, height=2 * HEIGHT))  # lost
    wired.image(image(3))  # the old size again, lost: the old size's CameraInfo
    wired.advance(WAIT_S)
    assert wired.pairs == [(0, 50.0), (1, 100.0), (2, 100.0), (3, 50.0)]


def test_unusable_camera_infos_are_not_cached():
    zeros = info(0)
    zeros.k = [0.0] * 9
    nan = info(1, fx=float("nan"))
    no_size = info(2, width=0, height=0)
    assert not any(usable(msg) for msg in (zeros, nan, no_size)) and usable(info(3))
    wired = Wired()
    for msg in (zeros, nan, no_size):
        wired.info(msg)
    wired.image(image(4))
    wired.advance(WAIT_S)
    assert wired.pairs == [] and wired.events == [WITHOUT]


def test_an_image_without_any_camera_info_is_dropped_and_counted_once():
    wired = Wired()
    wired.image(image(0))
    wired.advance(WAIT_S)
    wired.advance(WAIT_S)
    assert wired.pairs == [] and wired.events == [WITHOUT] and wired.fallback.pending == 0


@pytest.mark.parametrize(("backend", "mode"), SYNCS)
def test_disabled_never_reuses_and_counts_the_unpaired(backend, mode):
    wired = Wired(backend, mode, enabled=False)
    wired.info(info(0))
    wired.image(image(0))
    wired.image(image(1))  # lost
    wired.advance(WAIT_S)
    wired.image(image(2))
    wired.info(info(2))
    assert wired.pairs == [(0, 50.0), (2, 50.0)] and wired.events == [WITHOUT]


def test_compressed_images_match_the_frame_id_alone():
    wired = Wired()
    wired.info(info(0, fx=60.0, width=1280, height=720))
    wired.image(compressed(0))
    wired.image(compressed(1))  # lost: the newest CameraInfo of this frame_id, whatever its size
    wired.image(compressed(2, frame_id="other_optical"))
    wired.advance(WAIT_S)
    assert wired.pairs == [(0, 60.0), (1, 60.0)] and wired.events == [REUSED, WITHOUT]


def test_more_unpaired_images_than_the_queue_are_resolved_at_once():
    wired = Wired()
    wired.info(info(0))
    queue_size = NodeSettings().sync_queue_size
    for index in range(1, queue_size + 3):
        wired.image(image(index))
    assert [index for index, _ in wired.pairs] == [1, 2] and wired.fallback.pending == queue_size


def test_each_image_at_most_once_with_the_timer_on_another_thread():
    wired = Wired()
    wired.info(info(0))
    stop = threading.Event()

    def timer() -> None:
        while not stop.is_set():
            wired.fallback.expire()

    thread = threading.Thread(target=timer)
    thread.start()
    try:
        for index in range(1, 400):
            wired.image(image(index))
            wired.now_s += WAIT_S / 3
            if index % 2:
                wired.info(info(index))
    finally:
        stop.set()
        thread.join()
    wired.advance(1.0)
    emitted = [index for index, _ in wired.pairs]
    assert sorted(emitted) == list(range(1, 400)) and len(set(emitted)) == len(emitted)
    reused = wired.events.count(REUSED)
    assert WITHOUT not in wired.events and 199 <= reused <= 399  # the even ones have no CameraInfo of their own
