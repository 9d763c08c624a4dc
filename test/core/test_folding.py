"""mppe_ros.folding: BatchNorm folded into the convolutions equals the unfolded network."""

from __future__ import annotations

import pytest
import torch
from helpers_core import bn_random_nets, heatmap_logits, randomise_batchnorm
from torch import nn

from mppe_ros.acceleration import prepare_for_inference
from mppe_ros.camera import PinholeCamera
from mppe_ros.folding import fold_batchnorm
from mppe_ros.networks import build_rootnet

CAMERA = PinholeCamera(1500.0, 1500.0, 320.0, 240.0, 640, 480)


@pytest.fixture(scope="module")
def nets():
    return bn_random_nets()


@pytest.mark.parametrize("which", ["posenet", "rootnet"])
def test_folding_equals_the_unfolded_network_to_float_rounding(nets, which):
    net = nets[0] if which == "posenet" else nets[1]
    folded = prepare_for_inference(net, "cpu", "fp32", channels_last=False, nchw_logits=False).net
    assert not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    images = torch.randn(2, 3, 64, 64) * 60.0
    with torch.inference_mode():
        expected, actual = heatmap_logits(net, images), heatmap_logits(folded, images)
        torch.testing.assert_close(actual, expected, rtol=0, atol=2e-5 * expected.abs().max().item())
        if which == "rootnet":
            k_value = torch.tensor([9000.0, 12000.0])
            torch.testing.assert_close(folded(images, k_value), net(images, k_value), rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("groups", [1, 2])
def test_transposed_convolution_is_scaled_on_its_output_channels(groups):
    torch.manual_seed(3)
    block = nn.Sequential(nn.ConvTranspose2d(8, 6, 4, stride=2, padding=1, groups=groups), nn.BatchNorm2d(6))
    randomise_batchnorm(block)
    x = torch.randn(3, 8, 5, 5)
    expected = block(x)
    assert fold_batchnorm(block) == 1 and isinstance(block[1], nn.Identity)
    torch.testing.assert_close(block(x), expected, rtol=1e-5, atol=1e-5)


def test_folding_needs_eval_mode():
    with pytest.raises(ValueError, match="eval mode"):
        fold_batchnorm(build_rootnet().train())
