"""MppePipeline: geometry against constructed ground truth, batching, bad input, configuration."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from helpers_core import CAMERA, RAW_CAMERA, StubPoseNet, StubRootNet, encode_scene, skeletons_mm

from mppe_ros.camera import CameraIntrinsicsError, PinholeCamera
from mppe_ros.joint_sets import H36M_18, MUCO_21
from mppe_ros.networks import build_posenet, build_rootnet
from mppe_ros.pipeline import STAGES, MppePipeline, PipelineConfig
from mppe_ros.preprocessing import compute_k_value, process_bbox
from mppe_ros.testing.synthetic import synthetic_frame
from mppe_ros.weights import WeightsNotFoundError

IMAGE = synthetic_frame(640, 480)


def stub_pipeline(joints_mm: np.ndarray, camera: PinholeCamera, detector=None):
    """A pipeline whose networks output the ideal encoding of `joints_mm`; returns it and the boxes."""
    boxes, pose_coords, root_output = encode_scene(joints_mm, camera, MUCO_21.root_index)
    pipeline = MppePipeline(StubPoseNet(pose_coords), StubRootNet(root_output), MUCO_21, detector=detector)
    return pipeline, boxes


@pytest.mark.parametrize("camera", [CAMERA, RAW_CAMERA], ids=["rectified", "raw_distorted"])
def test_recovers_constructed_3d_skeletons(camera):
    joints_mm = skeletons_mm(3, seed=11)
    pipeline, boxes = stub_pipeline(joints_mm, camera)
    result = pipeline(IMAGE, camera, boxes_xywh=boxes, scores=[0.9, 0.8, 0.7])
    assert pipeline.posenet.calls == pipeline.rootnet.calls == 1  # one batched forward per network
    assert len(result.persons) == 3 and set(result.timings_s) == set(STAGES)
    for person, truth_mm, box in zip(result.persons, joints_mm, boxes, strict=True):
        np.testing.assert_allclose(person.joints_cam_m * 1000.0, truth_mm, atol=1.0)
        np.testing.assert_allclose(person.root_cam_m * 1000.0, truth_mm[14], atol=1.0)
        np.testing.assert_allclose(person.root_px, camera.camera_to_pixels(truth_mm[14]), atol=0.01)
        np.testing.assert_allclose(person.joints_px, camera.camera_to_pixels(truth_mm), atol=0.01)
        np.testing.assert_array_equal(person.box_xywh_px, box)
        assert person.root_depth_mm == pytest.approx(truth_mm[14, 2], abs=1e-3)
        assert person.k_value == compute_k_value(person.processed_box_xywh_px[None], camera.fx, camera.fy)[0]
    assert [p.score for p in result.persons] == [0.9, 0.8, 0.7]
    json.dumps(result.to_json_dict())


def test_real_networks_with_constant_heads_decode_analytically():
    """Zeroed output convolutions: softmax uniform over x, y -> 31.5 cells; one-hot depth bin per joint."""
    torch.manual_seed(0)
    posenet, rootnet = build_posenet(21), build_rootnet()
    depth_bins = torch.arange(21) * 3  # joint j peaks at depth bin 3j (checks joint-major channels)
    with torch.no_grad():
        posenet.head.final_layer.weight.zero_()
        posenet.head.final_layer.bias.zero_()
        posenet.head.final_layer.bias[torch.arange(21) * 64 + depth_bins] = 40.0
        rootnet.root.xy_layer.weight.zero_()
        rootnet.root.depth_layer.weight.zero_()
        rootnet.root.depth_layer.bias.fill_(1.25)  # gamma
    boxes = np.array([[100.0, 60.0, 120.0, 300.0], [400.0, 100.0, 150.0, 200.0]])
    result = MppePipeline(posenet, rootnet, MUCO_21)(IMAGE, CAMERA, boxes_xywh=boxes)
    for person, box in zip(result.persons, boxes, strict=True):
        x, y, side, _ = process_bbox(box, 640, 480)
        centre_px = np.array([x, y]) + 31.5 / 64 * side
        np.testing.assert_allclose(person.joints_px, np.broadcast_to(centre_px, (21, 2)), atol=1e-3)
        np.testing.assert_allclose(person.root_px, centre_px, atol=1e-3)
        assert person.root_depth_mm == pytest.approx(1.25 * person.k_value, rel=1e-6)
        depth_mm = (depth_bins.numpy() / 64 * 2 - 1) * 1000 + person.root_depth_mm
        expected_mm = CAMERA.pixels_to_camera(np.broadcast_to(centre_px, (21, 2)), depth_mm)
        np.testing.assert_allclose(person.joints_cam_m * 1000.0, expected_mm, atol=0.01)
        np.testing.assert_allclose(person.joint_confidence, 25 / 64**2 * np.ones(21), atol=0.01)


def test_unusable_boxes_are_skipped_and_order_is_kept():
    joints_mm = skeletons_mm(2, seed=2)
    pipeline, boxes = stub_pipeline(joints_mm, CAMERA)
    all_boxes = np.array([[700.0, 10.0, 50.0, 50.0], boxes[0], [10.0, 10.0, 0.0, 40.0], boxes[1], [np.nan] * 4])
    result = pipeline(IMAGE, CAMERA, boxes_xywh=all_boxes, scores=[0.1, 0.2, 0.3, 0.4, 0.5])
    assert [p.score for p in result.persons] == [0.2, 0.4]
    np.testing.assert_array_equal(np.array([p.box_xywh_px for p in result.persons]), boxes)


def test_no_persons_gives_an_empty_result_without_running_the_networks():
    pipeline, _ = stub_pipeline(skeletons_mm(1), CAMERA)
    for boxes in (np.zeros((0, 4)), [], [[700.0, 10.0, 20.0, 20.0]]):
        result = pipeline(IMAGE, CAMERA, boxes_xywh=boxes)
        assert result.persons == () and set(result.timings_s) == set(STAGES)
    assert pipeline.posenet.calls == pipeline.rootnet.calls == 0
    assert result.to_json_dict()["persons"] == []


def test_detector_boxes_and_scores_are_used():
    joints_mm = skeletons_mm(2, seed=4)
    calls = []

    def detector(image_bgr):
        calls.append(image_bgr.shape)
        return boxes, np.array([0.95, 0.6])

    pipeline, boxes = stub_pipeline(joints_mm, CAMERA, detector=detector)
    result = pipeline(IMAGE, CAMERA)
    assert calls == [(480, 640, 3)] and [p.score for p in result.persons] == [0.95, 0.6]
    np.testing.assert_allclose(result.persons[1].joints_cam_m * 1000.0, joints_mm[1], atol=1.0)


def test_without_detector_boxes_are_required():
    pipeline, _ = stub_pipeline(skeletons_mm(1), CAMERA)
    with pytest.raises(ValueError, match="pass boxes_xywh"):
        pipeline(IMAGE, CAMERA)
    with pytest.raises(ValueError, match="scores were given"):
        MppePipeline(pipeline.posenet, pipeline.rootnet, MUCO_21, detector=lambda image: None)(
            IMAGE, CAMERA, scores=[1.0]
        )


class RecordingPoseNet(StubPoseNet):
    """Stub that also keeps the network input it was given."""

    def forward(self, images):
        self.images = images.clone()
        return super().forward(images)


def test_rgb_input_is_converted_to_bgr():
    boxes, pose_coords, root_output = encode_scene(skeletons_mm(1), CAMERA)
    inputs = []
    for image, order in ((IMAGE, "bgr"), (np.ascontiguousarray(IMAGE[:, :, ::-1]), "rgb")):
        posenet = RecordingPoseNet(pose_coords)
        MppePipeline(posenet, StubRootNet(root_output), MUCO_21)(image, CAMERA, boxes_xywh=boxes, color_order=order)
        inputs.append(posenet.images)
    torch.testing.assert_close(inputs[0], inputs[1], rtol=0, atol=0)


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.zeros((0, 0, 3), np.uint8), "image is empty"),
        (np.zeros((480, 640), np.uint8), "grayscale.*COLOR_GRAY2BGR"),
        (np.zeros((480, 640, 1), np.uint8), "grayscale.*COLOR_GRAY2BGR"),
        (np.zeros((480, 640, 4), np.uint8), "4 channels.*COLOR_BGRA2BGR"),
        (np.zeros((480, 640, 2), np.uint8), r"shape \[H, W, 3\]"),
        (np.zeros((480, 640, 3), np.float32), "must be uint8"),
    ],
)
def test_bad_images_are_clear_errors(image, message):
    pipeline, boxes = stub_pipeline(skeletons_mm(1), CAMERA)
    with pytest.raises(ValueError, match=message):
        pipeline(image, PinholeCamera(1000.0, 1000.0, 320.0, 240.0), boxes_xywh=boxes)


def test_other_bad_arguments():
    pipeline, boxes = stub_pipeline(skeletons_mm(1), CAMERA)
    with pytest.raises(TypeError, match="numpy uint8 array"):
        pipeline(IMAGE.tolist(), CAMERA, boxes_xywh=boxes)
    with pytest.raises(ValueError, match="color_order"):
        pipeline(IMAGE, CAMERA, boxes_xywh=boxes, color_order="yuv")
    with pytest.raises(ValueError, match=r"boxes_xywh must have shape \[N, 4\]"):
        pipeline(IMAGE, CAMERA, boxes_xywh=[[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match=r"scores must have shape \[1\]"):
        pipeline(IMAGE, CAMERA, boxes_xywh=boxes, scores=[0.5, 0.5])
    with pytest.raises(CameraIntrinsicsError, match="640x480 image.*got a 320x240"):
        pipeline(IMAGE[:240, :320], CAMERA, boxes_xywh=boxes)
    with pytest.raises(ValueError, match="PoseNet outputs 21 joints"):
        MppePipeline(StubPoseNet(np.zeros((1, 21, 3))), StubRootNet(np.zeros((1, 3))), H36M_18)


def test_tiny_images():
    tiny_camera = PinholeCamera(fx=50.0, fy=50.0, cx=1.0, cy=1.0)
    pipeline = MppePipeline(StubPoseNet(np.full((1, 21, 3), 32.0)), StubRootNet([[32.0, 32.0, 3000.0]]), MUCO_21)
    one_pixel = np.full((1, 1, 3), 90, np.uint8)
    assert pipeline(one_pixel, tiny_camera, boxes_xywh=[[0.0, 0.0, 1.0, 1.0]]).persons == ()
    result = pipeline(np.full((3, 3, 3), 90, np.uint8), tiny_camera, boxes_xywh=[[0.0, 0.0, 3.0, 3.0]])
    assert len(result.persons) == 1 and np.isfinite(result.persons[0].joints_cam_m).all()


def test_result_arrays_are_read_only():
    pipeline, boxes = stub_pipeline(skeletons_mm(1), CAMERA)
    person = pipeline(IMAGE, CAMERA, boxes_xywh=boxes).persons[0]
    with pytest.raises(ValueError, match="read-only"):
        person.joints_cam_m[0, 0] = 1.0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"detector": "yolo"}, "detector must be one of"),
        ({"precision": "fp64"}, "precision must be one of"),
        ({"detection": {"score_threshold": 0.5}}, "detection must be a DetectionSettings"),
        ({"bbox_real_mm": float("nan")}, "bbox_real_mm"),
        ({"device": "tpu:x"}, "device must be"),
        ({"joint_set": "coco"}, "unknown joint set"),
    ],
)
def test_pipeline_config_is_validated(changes, message):
    with pytest.raises(ValueError, match=message):
        PipelineConfig(**changes)


def test_from_config_loads_official_format_files(official_weights):
    cfg = PipelineConfig(
        posenet_path=str(official_weights["posenet"]),
        rootnet_path=str(official_weights["rootnet"]),
        detector="none",
        device="cpu",
    )
    pipeline = MppePipeline.from_config(cfg)
    assert pipeline.detector is None and pipeline.joint_set is MUCO_21 and pipeline.device.type == "cpu"
    assert len(pipeline(IMAGE, CAMERA, boxes_xywh=[[200.0, 80.0, 120.0, 300.0]]).persons) == 1


def test_from_config_without_weights_says_where_to_put_them():
    with pytest.raises(WeightsNotFoundError, match="(?s)posenet_muco.*rootnet_muco"):
        MppePipeline.from_config(PipelineConfig(detector="none", posenet_path="", rootnet_path=None))


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on machines without CUDA")
def test_cuda_without_a_gpu_is_a_clear_error():
    with pytest.raises(ValueError, match="torch sees 0 CUDA GPUs; use device 'cpu'"):
        MppePipeline.from_config(PipelineConfig(detector="none", device="cuda"))
