"""Checkpoint loading/saving: key layout of the released files, round trips, and bad files."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
import torch
import torchvision

from mppe_ros.checkpoints import (
    DATA_PARALLEL_PREFIX,
    CheckpointError,
    load_posenet,
    load_rootnet,
    read_state_dict,
    save_official_checkpoint,
)
from mppe_ros.joint_sets import H36M_18, MUCO_21
from mppe_ros.networks import build_posenet, build_rootnet

DATA = Path(__file__).resolve().parent.parent / "data"


def read_manifest(name: str) -> dict[str, tuple[str, str]]:
    """Map key (prefix stripped) -> (shape like `64x3x7x7` or `scalar`, dtype) from a reference TSV."""
    rows = [line.split("\t") for line in (DATA / name).read_text().splitlines()[1:] if line]
    return {key.removeprefix(DATA_PARALLEL_PREFIX): (shape, dtype) for key, shape, dtype in rows}


def describe(state_dict: dict[str, torch.Tensor]) -> dict[str, tuple[str, str]]:
    return {
        key: ("x".join(map(str, value.shape)) or "scalar", str(value.dtype).removeprefix("torch."))
        for key, value in state_dict.items()
    }


# Round trips compare weights, so a small input suffices (the nets are fully convolutional).
SMALL_IMAGES = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(1)) * 50


@pytest.fixture(scope="module")
def h36m_posenet(tmp_path_factory) -> tuple[torch.nn.Module, Path]:
    """A random 18-joint (Human3.6M) PoseNet and its file in the released format."""
    torch.manual_seed(2)
    model = build_posenet(18)
    path = tmp_path_factory.mktemp("h36m") / "snapshot_24.pth.tar"
    save_official_checkpoint(model, path, epoch=24)
    return model, path


@pytest.mark.parametrize(
    ("manifest", "build"),
    [("posenet_keys.tsv", build_posenet), ("rootnet_keys.tsv", build_rootnet)],
)
def test_state_dict_matches_released_key_manifest(manifest, build):
    expected = read_manifest(manifest)
    assert len(expected) in (338, 340)
    assert describe(build().state_dict()) == expected


def test_saved_file_has_the_released_layout(official_weights):
    content = torch.load(official_weights["posenet"], map_location="cpu", weights_only=True)
    assert set(content) == {"epoch", "network", "optimizer"}
    assert content["epoch"] == 24
    lines = (DATA / "posenet_keys.tsv").read_text().splitlines()[1:]
    assert list(content["network"]) == [line.split("\t")[0] for line in lines]
    assert content["optimizer"]["state"] == {}
    bn_running_buffers = 2 * 56
    assert len(content["optimizer"]["param_groups"][0]["params"]) == 282 - bn_running_buffers


def test_posenet_round_trip_gives_identical_outputs(h36m_posenet, tmp_path):
    model, path = h36m_posenet
    loaded = load_posenet(path)
    assert loaded.joint_num == 18 and not loaded.training
    with torch.inference_mode():
        coords, confidence = model(SMALL_IMAGES)
        coords_loaded, confidence_loaded = loaded(SMALL_IMAGES)
    assert coords.shape == (1, 18, 3)
    assert torch.equal(coords, coords_loaded) and torch.equal(confidence, confidence_loaded)
    assert [item.name for item in path.parent.iterdir()] == [path.name], "temporary file left"


def test_rootnet_round_trip_gives_identical_outputs(tmp_path):
    torch.manual_seed(3)
    model = build_rootnet()
    path = tmp_path / "snapshot_18.pth.tar"
    save_official_checkpoint(model, path, epoch=18)
    loaded = load_rootnet(path)
    assert not loaded.training
    k_value = torch.tensor([10000.0])
    with torch.inference_mode():
        assert torch.equal(model(SMALL_IMAGES, k_value), loaded(SMALL_IMAGES, k_value))


def test_muco_posenet_loads_with_muco_joint_set(official_weights):
    assert load_posenet(official_weights["posenet"], MUCO_21).joint_num == 21


def test_h36m_posenet_needs_the_h36m_joint_set(h36m_posenet):
    _, path = h36m_posenet
    assert load_posenet(path, H36M_18).joint_num == 18
    with pytest.raises(CheckpointError) as caught:
        load_posenet(path, MUCO_21)
    message = str(caught.value)
    assert str(path) in message and "muco_21" in message
    assert "18 joints" in message and "21 joints" in message


def test_file_without_num_batches_tracked_loads(official_weights, tmp_path):
    state = read_state_dict(official_weights["rootnet"])
    trimmed = {key: value for key, value in state.items() if not key.endswith("num_batches_tracked")}
    assert len(trimmed) == 284
    path = tmp_path / "old_pytorch.pth.tar"
    torch.save({"network": {DATA_PARALLEL_PREFIX + key: value for key, value in trimmed.items()}}, path)
    loaded = load_rootnet(path).state_dict()
    assert all(torch.equal(loaded[key], value) for key, value in trimmed.items())


def test_rootnet_file_given_as_posenet(official_weights):
    with pytest.raises(CheckpointError) as caught:
        load_posenet(official_weights["rootnet"])
    message = str(caught.value)
    assert str(official_weights["rootnet"]) in message
    assert "looks like a 3DMPPE RootNet checkpoint" in message
    assert "17 missing keys of 338: head.deconv_layers.0.weight" in message
    assert "22 unexpected keys: root.deconv_layers.0.weight" in message


def test_torchvision_resnet50_state_dict(tmp_path):
    path = tmp_path / "resnet50.pth"
    torch.save(torchvision.models.resnet50(weights=None).state_dict(), path)
    with pytest.raises(CheckpointError) as caught:
        load_rootnet(path)
    message = str(caught.value)
    assert "torchvision ResNet classifier" in message and "RootNet" in message
    assert "missing keys of 340: backbone.conv1.weight" in message
    assert "320 unexpected keys: conv1.weight" in message


def test_shape_mismatch_names_key_and_both_shapes(official_weights, tmp_path):
    state = read_state_dict(official_weights["rootnet"])
    state["backbone.conv1.weight"] = torch.zeros(64, 3, 3, 3)
    path = tmp_path / "bare_state_dict.pth"
    torch.save(state, path)
    with pytest.raises(
        CheckpointError,
        match=r"1 shape mismatches: backbone\.conv1\.weight \(expected 64x3x7x7, got 64x3x3x3\)",
    ):
        load_rootnet(path)


def test_non_finite_weights(official_weights, tmp_path):
    state = read_state_dict(official_weights["rootnet"])
    state["root.depth_layer.bias"] = torch.tensor([float("nan")])
    path = tmp_path / "nan.pth"
    torch.save(state, path)
    with pytest.raises(CheckpointError, match=r"NaN or infinite values in 1 tensors: root\.depth_layer\.bias"):
        load_rootnet(path)


class _Code:
    """Pickles as a call of a (harmless) function: what weights_only=True must refuse."""

    def __reduce__(self):
        return (os.getcwd, ())


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "is empty"),
        (os.urandom(4096), "not a readable PyTorch file"),
        (b"<!DOCTYPE html><html>Google Drive - quota exceeded</html>", "is an HTML page"),
        (pickle.dumps({"network": {}}), "not a readable PyTorch file"),
    ],
    ids=["empty", "random-bytes", "html", "plain-pickle"],
)
@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_unreadable_files(tmp_path, content, expected):
    path = tmp_path / "bad.pth.tar"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=expected) as caught:
        load_posenet(path)
    assert str(path) in str(caught.value)


def test_truncated_file(official_weights, tmp_path):
    path = tmp_path / "truncated.pth.tar"
    with official_weights["rootnet"].open("rb") as source:
        path.write_bytes(source.read(official_weights["rootnet"].stat().st_size // 2))
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_rootnet(path)


def test_pickled_code_is_refused_and_not_run(tmp_path):
    path = tmp_path / "code.pth.tar"
    torch.save({"network": _Code()}, path)
    with pytest.raises(CheckpointError, match=r"Python code \(\w+\.getcwd\).*weights_only=True") as caught:
        load_rootnet(path)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (torch.zeros(3), "holds a Tensor"),
        ({"network": {}}, "holds an empty dict"),
        ({"epoch": 3}, "not tensors: epoch"),
        ({"network": {"a": torch.zeros(1), "b": "text"}}, "not tensors: b"),
    ],
    ids=["tensor", "empty-network", "no-network", "not-tensors"],
)
def test_torch_files_that_are_not_state_dicts(tmp_path, content, expected):
    path = tmp_path / "other.pth"
    torch.save(content, path)
    with pytest.raises(CheckpointError, match=expected):
        load_rootnet(path)


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_posenet(tmp_path / "nowhere.pth.tar")
