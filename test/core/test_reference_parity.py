"""Our batched pipeline == the official demo's per-person loop (reference.OfficialPipeline).

Same image, boxes and seeded trained-like weights (mppe_ros.testing.synthetic), CPU float32. The
demo boxes include one that leaves the image (black padding) and the intrinsics have fx != fy and
an off-centre principal point, so every step of the geometry is exercised.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers_core import DEMO_BOXES, DEMO_SIZE

from mppe_ros.camera import PinholeCamera
from mppe_ros.joint_sets import MUCO_21
from mppe_ros.pipeline import MppePipeline
from mppe_ros.testing.reference import OfficialPipeline
from mppe_ros.testing.synthetic import synthetic_frame, trained_like_nets

CAMERA = PinholeCamera(fx=1480.0, fy=1530.0, cx=331.0, cy=187.5, width=DEMO_SIZE[0], height=DEMO_SIZE[1])
# Demo boxes 0 and 4 (4 leaves the image on the left), a bottom-right corner box, and one outside the image.
BOXES = np.array([DEMO_BOXES[0], DEMO_BOXES[4], (600.0, 360.0, 80.0, 80.0), (700.0, 10.0, 30.0, 30.0)])


DEVICES = [
    "cpu",
    pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")),
]


@pytest.fixture(scope="module", params=DEVICES)
def both_outputs(request):
    """Both pipelines on one device (both in IEEE float32 on CUDA too, so that only batching can differ)."""
    posenet, rootnet = trained_like_nets(seed=1)
    image = synthetic_frame(*DEMO_SIZE, seed=2)
    ours = MppePipeline(posenet, rootnet, MUCO_21, device=request.param)(image, CAMERA, boxes_xywh=BOXES)
    official = OfficialPipeline(posenet, rootnet, (CAMERA.fx, CAMERA.fy), (CAMERA.cx, CAMERA.cy), device=request.param)(
        image, BOXES
    )
    return ours, official


def test_same_persons(both_outputs):
    ours, official = both_outputs
    assert [o["box_index"] for o in official] == [0, 1, 2]  # the outside box is skipped by both
    assert len(ours.persons) == len(official)
    for person, reference in zip(ours.persons, official, strict=True):
        np.testing.assert_array_equal(person.box_xywh_px, BOXES[reference["box_index"]])
        np.testing.assert_allclose(person.processed_box_xywh_px, reference["bbox"], rtol=0, atol=1e-9)
        assert person.k_value == reference["k_value"]


def test_root_depth_and_root_px(both_outputs):
    ours, official = both_outputs
    for person, reference in zip(ours.persons, official, strict=True):
        assert person.root_depth_mm == pytest.approx(reference["root_depth_mm"], abs=0.25)
        np.testing.assert_allclose(person.root_px, reference["root_px"], atol=0.01)
    depths_mm = [p.root_depth_mm for p in ours.persons]
    assert min(depths_mm) > 5000 and len(set(depths_mm)) == len(depths_mm)  # plausible, image-dependent


def test_joints_px_within_a_hundredth_of_a_pixel(both_outputs):
    ours, official = both_outputs
    for person, reference in zip(ours.persons, official, strict=True):
        np.testing.assert_allclose(person.joints_px, reference["pose_2d_px"], atol=0.01)
    spread_px = np.ptp(np.concatenate([p.joints_px for p in ours.persons]), axis=0)
    assert (spread_px > 50).all()  # the random nets do not collapse to one point


def test_joints_3d_within_a_quarter_millimetre(both_outputs):
    ours, official = both_outputs
    for person, reference in zip(ours.persons, official, strict=True):
        np.testing.assert_allclose(person.joints_cam_m * 1000.0, reference["pose_3d_mm"], atol=0.25)
        # root_cam: the demo's root joint moved along its ray to RootNet's depth
        root_mm = reference["pose_3d_mm"][MUCO_21.root_index]
        np.testing.assert_allclose(person.root_cam_m * 1000.0, root_mm * person.root_depth_mm / root_mm[2], atol=0.25)


class _RecordingNet(torch.nn.Module):
    """Runs `net` and records the CUDA float32 convolution setting in force."""

    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__()
        self.net, self.seen = net, []

    def forward(self, *inputs):
        self.seen.append(torch.backends.cudnn.conv.fp32_precision)
        return self.net(*inputs)


def test_the_reference_runs_in_ieee_float32():
    posenet, rootnet = (_RecordingNet(net) for net in trained_like_nets(seed=1))
    before = torch.backends.cudnn.conv.fp32_precision
    OfficialPipeline(posenet, rootnet, (CAMERA.fx, CAMERA.fy), (CAMERA.cx, CAMERA.cy))(
        synthetic_frame(*DEMO_SIZE, seed=2), BOXES[:1]
    )
    assert posenet.seen == rootnet.seen == ["ieee"]
    assert torch.backends.cudnn.conv.fp32_precision == before
