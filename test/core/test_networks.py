"""mppe_ros.networks: output shapes of PoseNet and RootNet, the soft-argmax, RootNet's use of k."""

from __future__ import annotations

import pytest
import torch

from mppe_ros.networks import DEPTH_DIM, HEATMAP_SIZE, INPUT_SIZE_PX, build_posenet, build_rootnet, soft_argmax
from mppe_ros.testing.synthetic import trained_like_nets


def test_soft_argmax_of_uniform_logits_is_the_centre_with_low_confidence():
    coords, confidence = soft_argmax(torch.zeros(2, 3 * 4, 8, 8), joint_num=3, depth_dim=4)
    assert coords.shape == (2, 3, 3) and confidence.shape == (2, 3)
    torch.testing.assert_close(coords, torch.tensor([3.5, 3.5, 1.5]).expand(2, 3, 3))
    assert (confidence < 0.5).all()


def test_soft_argmax_of_a_sharp_peak_is_its_cell():
    logits = torch.zeros(1, 2 * 4, 8, 8)
    logits[0, 0 * 4 + 2, 5, 1] = logits[0, 1 * 4 + 3, 0, 7] = 60.0  # joint 0 at (x 1, y 5, z 2), joint 1 at (7, 0, 3)
    coords, confidence = soft_argmax(logits, joint_num=2, depth_dim=4)
    torch.testing.assert_close(coords[0], torch.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]]), atol=1e-4, rtol=0)
    assert (confidence > 0.99).all()


@pytest.mark.parametrize("joint_num", [21, 18])
def test_posenet_gives_joints_in_heatmap_cells(joint_num):
    net = build_posenet(joint_num).eval()
    with torch.inference_mode():
        coords, confidence = net(torch.zeros(2, 3, INPUT_SIZE_PX, INPUT_SIZE_PX))
    assert coords.shape == (2, joint_num, 3) and confidence.shape == (2, joint_num)
    assert (coords[..., :2] >= 0).all() and (coords[..., :2] <= HEATMAP_SIZE - 1).all()
    assert (coords[..., 2] >= 0).all() and (coords[..., 2] <= DEPTH_DIM - 1).all()


def test_rootnet_depth_scales_with_k():
    _, rootnet = trained_like_nets(seed=2)
    images = torch.randn(1, 3, INPUT_SIZE_PX, INPUT_SIZE_PX).expand(2, -1, -1, -1)
    with torch.inference_mode():
        output = rootnet(images, torch.tensor([4000.0, 8000.0]))
    assert output.shape == (2, 3)
    torch.testing.assert_close(output[1, :2], output[0, :2])  # the 2D root does not depend on k
    assert output[1, 2] / output[0, 2] == pytest.approx(2.0, rel=1e-5)  # depth = gamma * k
    assert isinstance(build_rootnet(), torch.nn.Module)
