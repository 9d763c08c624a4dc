"""mppe_ros.acceleration, folding, precision: BN folding, precision names, prepared nets (CPU; CUDA if present)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers_core import BN_LAYERS_PER_NET, CUDA, bn_random_nets, heatmap_logits

from mppe_ros.acceleration import CudaGraphNet, InferenceNet, prepare_for_inference
from mppe_ros.camera import PinholeCamera
from mppe_ros.folding import fold_batchnorm
from mppe_ros.joint_sets import MUCO_21
from mppe_ros.networks import build_rootnet
from mppe_ros.pipeline import MppePipeline, PipelineConfig
from mppe_ros.testing.synthetic import person_boxes, synthetic_frame, trained_like_nets

CAMERA = PinholeCamera(1500.0, 1500.0, 320.0, 240.0, 640, 480)


@pytest.fixture(scope="module")
def nets():
    return bn_random_nets()


def test_preparing_leaves_the_network_and_its_state_dict_contract_alone(nets):
    posenet = nets[0]
    before = {key: value.clone() for key, value in posenet.state_dict().items()}
    prepared = prepare_for_inference(posenet, "cpu", "fp32")
    after = posenet.state_dict()
    assert list(after) == list(before) and all(torch.equal(after[k], before[k]) for k in before)
    assert prepared.joint_num == 21 and isinstance(prepared, InferenceNet)
    assert prepare_for_inference(prepared, "cpu", "fp32") is prepared
    assert fold_batchnorm(build_rootnet()) == BN_LAYERS_PER_NET


def test_prepared_fp32_networks_match_the_originals():
    """Within 0.01 crop px in x, y (0.0025 cells) and 0.25 mm in z (0.008 bins): float rounding."""
    posenet, rootnet = trained_like_nets(seed=8)
    frame = torch.from_numpy(synthetic_frame(256, 256)).permute(2, 0, 1).float() * 4.0 - 500.0
    images = torch.stack([frame, frame.flip(2)])
    k_value = torch.tensor([9000.0, 12000.0])
    with torch.inference_mode():
        coords, confidence = posenet(images)
        fast_coords, fast_confidence = prepare_for_inference(posenet)(images)
        root, fast_root = rootnet(images, k_value), prepare_for_inference(rootnet)(images, k_value)
    assert fast_coords.dtype == fast_root.dtype == torch.float32
    torch.testing.assert_close(fast_coords[..., :2], coords[..., :2], rtol=0, atol=2.5e-3)
    torch.testing.assert_close(fast_coords[..., 2], coords[..., 2], rtol=0, atol=8e-3)  # 0.25 mm
    torch.testing.assert_close(fast_confidence, confidence, rtol=0, atol=1e-3)
    torch.testing.assert_close(fast_root, root, rtol=1e-5, atol=2.5e-3)


@pytest.mark.slow
def test_bf16_on_cpu_runs_and_stays_close_to_fp32():
    """bf16 against fp32 on the same crop, with trained-like random weights (mppe_ros.testing.synthetic).

    The check is on the heatmap logits (relative error) and RootNet's depth, not on joints in mm:
    random heatmaps have several far-apart modes, so a 1% logit change moves their soft-argmax by
    whole cells, which says nothing about trained, unimodal heatmaps (the joint error in mm is a
    benchmark figure, meaningful with the released weights: `mppe-ros bench --posenet ...`).
    A 64 px crop on every CPU: where bf16 is emulated (no AVX512-BF16 / AMX) it is ~50x slower than fp32.
    """
    posenet, rootnet = trained_like_nets(seed=4)
    images = torch.from_numpy(synthetic_frame(64, 64)).permute(2, 0, 1)[None].float() * 4.0 - 500.0
    k_value = torch.tensor([10000.0])
    fast = {precision: prepare_for_inference(posenet, "cpu", precision) for precision in ("fp32", "bf16")}
    with torch.inference_mode():
        logits = {p: heatmap_logits(net.net, images.to(net.dtype, memory_format=torch.channels_last)).float()
                  for p, net in fast.items()}  # fmt: skip
        coords, confidence = fast["bf16"](images)
        root = prepare_for_inference(rootnet, "cpu", "fp32")(images, k_value)
        bf16_root = prepare_for_inference(rootnet, "cpu", "bf16")(images, k_value)
    assert coords.dtype == bf16_root.dtype == torch.float32
    assert torch.isfinite(coords).all() and torch.isfinite(confidence).all()
    relative = (logits["bf16"] - logits["fp32"]).norm() / logits["fp32"].norm()
    assert relative < 0.02  # bf16 keeps 8 bits: 0.4% per rounding, ~0.8% after ~55 layers here
    assert abs(bf16_root[0, 2] - root[0, 2]) < 5.0  # mm; gamma is computed in float32
    depth_layer = prepare_for_inference(rootnet, "cpu", "bf16").net.root.depth_layer
    assert torch.equal(depth_layer.conv.weight, rootnet.root.depth_layer.weight)  # never rounded to bf16


# --- CUDA (run by scripts/gpu_check.sh on a GPU machine) ------------------------------------------


@CUDA
@pytest.mark.parametrize(("precision", "max_relative"), [("fp32", 5e-3), ("fp16", 1e-2), ("bf16", 3e-2)])
def test_cuda_prepared_networks_match_cpu_fp32(precision, max_relative):
    """Logits relative to CPU float32 (fp32 on CUDA may use TF32 convolutions), and root depth."""
    posenet, rootnet = trained_like_nets(seed=5)
    frame = torch.from_numpy(synthetic_frame(256, 256)).permute(2, 0, 1).float() * 4 - 500
    images, k_value = torch.stack([frame, frame.flip(2), frame.flip(1)]), torch.tensor([9000.0, 10000.0, 11000.0])
    fast = prepare_for_inference(posenet, "cuda", precision)
    with torch.inference_mode():
        logits = heatmap_logits(posenet, images)
        fast_logits = heatmap_logits(fast.net, images.cuda().to(fast.dtype, memory_format=torch.channels_last))
        coords, _ = fast(images.cuda())
        root = rootnet(images, k_value)
        fast_root = prepare_for_inference(rootnet, "cuda", precision)(images.cuda(), k_value.cuda()).cpu()
    assert coords.dtype == torch.float32 and torch.isfinite(coords).all()
    assert (fast_logits.float().cpu() - logits).norm() / logits.norm() < max_relative
    torch.testing.assert_close(fast_root[:, 2], root[:, 2], rtol=2e-3, atol=0.0)  # 20 mm at 10 m


@CUDA
def test_cuda_graphs_replay_equals_eager_for_each_batch_size():
    posenet, _ = trained_like_nets(seed=6)
    eager = prepare_for_inference(posenet, "cuda", "fp16")
    graphed = prepare_for_inference(posenet, "cuda", "fp16", cuda_graphs=True)
    assert isinstance(graphed, CudaGraphNet) and graphed.joint_num == 21
    frame = torch.from_numpy(synthetic_frame(256, 256)).permute(2, 0, 1).float().cuda() * 4 - 500
    with torch.inference_mode():
        for batch in (1, 3, 1, 5):
            images = frame.expand(batch, -1, -1, -1) + torch.randn(batch, 3, 256, 256, device="cuda") * 20
            torch.testing.assert_close(graphed(images)[0], eager(images)[0], rtol=0, atol=0.05)
    assert len(graphed._graphs) == 3


@CUDA
def test_cuda_pipeline_with_gpu_crops_matches_the_cpu_pipeline():
    """fp32 on CUDA (IEEE, no TF32) against the CPU: the GPU crops are exact, so only float rounding remains."""
    posenet, rootnet = trained_like_nets(seed=7)
    image, boxes = synthetic_frame(640, 480), person_boxes(5, 640, 480)
    cpu = MppePipeline(posenet, rootnet, MUCO_21, device="cpu")(image, CAMERA, boxes_xywh=boxes)
    pipeline = MppePipeline(posenet, rootnet, MUCO_21, device="cuda")
    assert pipeline.crop_sampler is not None
    cuda = pipeline(image, CAMERA, boxes_xywh=boxes)
    for a, b in zip(cpu.persons, cuda.persons, strict=True):
        np.testing.assert_allclose(b.joints_px, a.joints_px, atol=0.01)
        np.testing.assert_allclose(b.joints_cam_m * 1000, a.joints_cam_m * 1000, atol=0.25)


@CUDA
@pytest.mark.parametrize("precision", ["fp16", "bf16"])
def test_cuda_pipeline_reduced_precision_runs_and_reports_its_accuracy(precision):
    """Joint error against CPU fp32 is printed, not bounded: see test_bf16_on_cpu_runs_and_stays_close_to_fp32."""
    posenet, rootnet = trained_like_nets(seed=7)
    image, camera, boxes = synthetic_frame(640, 480), CAMERA, person_boxes(10, 640, 480)
    reference = MppePipeline(posenet, rootnet, MUCO_21, device="cpu")(image, camera, boxes_xywh=boxes)
    pipeline = MppePipeline(posenet, rootnet, MUCO_21, device="cuda", precision=precision)
    result = pipeline(image, camera, boxes_xywh=boxes)
    assert len(result.persons) == len(reference.persons) == 10
    error_mm = np.concatenate([np.linalg.norm(a.joints_cam_m - b.joints_cam_m, axis=-1) * 1000
                               for a, b in zip(reference.persons, result.persons, strict=True)])  # fmt: skip
    depth_mm = max(
        abs(a.root_depth_mm - b.root_depth_mm) for a, b in zip(reference.persons, result.persons, strict=True)
    )
    print(
        f"{precision} vs CPU fp32 (random weights): joints mean {error_mm.mean():.2f} mm, "
        f"max {error_mm.max():.2f} mm, root depth max {depth_mm:.2f} mm"
    )
    assert np.isfinite(error_mm).all() and depth_mm < 50.0


def test_cuda_graphs_option_is_ignored_on_the_cpu():
    assert PipelineConfig(device="cpu", cuda_graphs=True).cuda_graphs is True
    posenet, rootnet = trained_like_nets(seed=8)
    pipeline = MppePipeline(posenet, rootnet, MUCO_21, device="cpu", cuda_graphs=True)
    assert isinstance(pipeline.posenet, InferenceNet) and isinstance(pipeline.rootnet, InferenceNet)


@CUDA
def test_cuda_pipeline_with_cuda_graphs_equals_the_eager_pipeline():
    posenet, rootnet = trained_like_nets(seed=7)
    image = synthetic_frame(640, 480)
    eager = MppePipeline(posenet, rootnet, MUCO_21, device="cuda", precision="fp16")
    graphed = MppePipeline(posenet, rootnet, MUCO_21, device="cuda", precision="fp16", cuda_graphs=True)
    assert isinstance(graphed.posenet, CudaGraphNet) and isinstance(graphed.rootnet, CudaGraphNet)
    for count in (3, 5, 3):  # a new person count captures, a known one replays
        boxes = person_boxes(count, 640, 480)
        expected, result = eager(image, CAMERA, boxes_xywh=boxes), graphed(image, CAMERA, boxes_xywh=boxes)
        for a, b in zip(expected.persons, result.persons, strict=True):
            np.testing.assert_allclose(b.joints_px, a.joints_px, atol=1e-3)
            assert abs(b.root_depth_mm - a.root_depth_mm) < 1e-2
    assert len(graphed.posenet._graphs) == 2
