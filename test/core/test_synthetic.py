"""mppe_ros.testing.synthetic: the one recipe of frames, boxes and weights is seeded and plausible."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mppe_ros.checkpoints import load_posenet, load_rootnet
from mppe_ros.testing.synthetic import network_input, person_boxes, synthetic_frame, trained_like_weights


def test_frames_are_seeded():
    frame = synthetic_frame(64, 48, seed=1)
    assert frame.shape == (48, 64, 3) and frame.dtype == np.uint8
    assert (frame == synthetic_frame(64, 48, seed=1)).all() and (frame != synthetic_frame(64, 48, seed=2)).any()


def test_person_boxes_lie_in_the_frame():
    for count in (1, 5, 10, 20):
        boxes = person_boxes(count, 640, 480)
        assert boxes.shape == (count, 4)
        assert (boxes[:, :2] >= 0).all() and (boxes[:, 0] + boxes[:, 2] <= 640).all()
        assert (boxes[:, 1] + boxes[:, 3] <= 480).all() and np.unique(boxes[:, :2], axis=0).shape[0] == count


@pytest.mark.slow
def test_weights_are_official_format_files_with_trained_like_ranges(tmp_path):
    posenet_path, rootnet_path = trained_like_weights(tmp_path / "a", joint_num=18, seed=3)
    again = trained_like_weights(tmp_path / "b", joint_num=18, seed=3)
    posenet, rootnet = load_posenet(posenet_path), load_rootnet(rootnet_path)
    assert posenet.joint_num == 18 and posenet_path.name == "snapshot_24.pth.tar"
    assert all(
        torch.equal(a, b)
        for a, b in zip(posenet.state_dict().values(), load_posenet(again[0]).state_dict().values(), strict=True)
    )
    images = network_input(synthetic_frame(256, 256, seed=4))[None]
    with torch.inference_mode():
        features = posenet.backbone(images)
        depth_mm = rootnet(images, torch.tensor([9000.0]))[0, 2]
    assert features.abs().max() < 6e4  # float16 does not overflow
    assert 0.3 < float(depth_mm) / 9000.0 < 3.0  # gamma ~ 1: depth ~ k
