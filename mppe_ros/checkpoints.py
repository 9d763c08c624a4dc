"""Loading and saving 3DMPPE checkpoints in the format of the released `snapshot_<epoch>.pth.tar`.

A released file is `torch.save({"epoch": int, "network": state_dict, "optimizer": state_dict})`
of a `DataParallel`-wrapped net, so every network key starts with `module.`. This module is the
only place that knows about that prefix: it strips it on load and adds it on save. Every problem
with a file (missing, empty, corrupt, refused by `weights_only=True`, another network) raises one
`CheckpointError` that names the file and what does not match.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from mppe_ros.joint_sets import JointSet
from mppe_ros.networks import DEPTH_DIM, PoseNet, RootNet, build_posenet, build_rootnet

DATA_PARALLEL_PREFIX = "module."
POSENET_JOINT_KEY = "head.final_layer.bias"  # [joint_num * DEPTH_DIM]
MAX_LISTED_KEYS = 5  # keys listed per category in error messages
# A key that only one kind of file has -> how to describe such a file in an error message.
_FILE_KINDS = (
    ("head.final_layer.bias", "a 3DMPPE PoseNet checkpoint"),
    ("root.xy_layer.bias", "a 3DMPPE RootNet checkpoint"),
    ("fc.weight", "a torchvision ResNet classifier state_dict"),
    ("roi_heads.box_predictor.cls_score.weight", "a torchvision detector state_dict"),
)

PathLike = str | os.PathLike


class CheckpointError(ValueError):
    """A weights file cannot be loaded into the requested network (the message says why)."""


def _shape_str(tensor: torch.Tensor) -> str:
    """Shape as in the key manifests: `2048x256x4x4`, `scalar` for a 0-d tensor."""
    return "x".join(str(size) for size in tensor.shape) or "scalar"


def _listed(keys: list[str]) -> str:
    shown = ", ".join(keys[:MAX_LISTED_KEYS])
    return shown + (f", ... ({len(keys) - MAX_LISTED_KEYS} more)" if len(keys) > MAX_LISTED_KEYS else "")


def _torch_load(path: Path) -> object:
    """`torch.load(weights_only=True)` on CPU; every failure becomes a CheckpointError."""
    if not path.is_file():
        raise CheckpointError(f"checkpoint file {path} does not exist or is not a file")
    if path.stat().st_size == 0:
        raise CheckpointError(f"checkpoint file {path} is empty (0 bytes); download it again")
    try:
        with path.open("rb") as stream:
            head = stream.read(64).lstrip().lower()
    except OSError as error:
        raise CheckpointError(f"checkpoint file {path} cannot be read: {error}") from error
    if head.startswith((b"<!doctype", b"<html")):
        raise CheckpointError(f"checkpoint file {path} is an HTML page, not a PyTorch file (a failed download?)")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises RuntimeError, UnpicklingError, EOFError, ...
        # torch wraps the unpickler's short reason in a long generic message; report the reason.
        reason = str(error.__context__ or error).strip().splitlines()[0][:200]
        refused = re.search(r"GLOBAL (\S+)", reason)
        if refused and not refused.group(1).startswith("torch."):
            what = (
                f"it contains Python code ({refused.group(1)}), which "
                "torch.load(weights_only=True) refuses to run; only tensors are allowed"
            )
        else:
            what = "it is not a readable PyTorch file (truncated or corrupt?)"
        raise CheckpointError(
            f"checkpoint file {path} cannot be loaded: {what} ({type(error).__name__}: {reason})"
        ) from error


def read_state_dict(path: PathLike) -> dict[str, torch.Tensor]:
    """Read the network weights of a checkpoint file, without the `module.` prefix.

    Args:
        path: a released 3DMPPE snapshot (`{"network": ...}`), or a bare state_dict saved with
            `torch.save`.

    Returns:
        key -> tensor on the CPU, with a leading `module.` removed from every key.

    Raises:
        CheckpointError: the file is missing, empty, corrupt, refused by `weights_only=True`, or
            does not hold a dict of tensors.
    """
    path = Path(path)
    content = _torch_load(path)
    if isinstance(content, Mapping) and "network" in content:
        content = content["network"]
    if not isinstance(content, Mapping) or not content:
        what = "an empty dict" if isinstance(content, Mapping) else f"a {type(content).__name__}"
        raise CheckpointError(
            f"checkpoint file {path} holds {what}; expected a dict with a 'network' state_dict "
            "(a released snapshot) or a state_dict of tensors"
        )
    not_tensors = [str(key) for key, value in content.items() if not isinstance(value, torch.Tensor)]
    if not_tensors:
        raise CheckpointError(
            f"checkpoint file {path} is neither a snapshot with a 'network' state_dict nor a "
            f"state_dict: these entries are not tensors: {_listed(not_tensors)}"
        )
    return {str(key).removeprefix(DATA_PARALLEL_PREFIX): value for key, value in content.items()}


def load_state_dict_checked(
    model: nn.Module, state_dict: Mapping[str, torch.Tensor], path: PathLike, network_name: str
) -> nn.Module:
    """Load weights strictly, after checking keys, shapes and values with a readable report.

    Missing `num_batches_tracked` BatchNorm counters are filled with the model's own (they do not
    affect inference; files from old PyTorch versions lack them).

    Args:
        model: the freshly built network.
        state_dict: key -> tensor, as returned by `read_state_dict`.
        path: the file the weights came from (for messages).
        network_name: what the file should be, for messages, e.g. "PoseNet (21 joints)".

    Returns:
        `model` with the weights loaded, in eval mode.

    Raises:
        CheckpointError: keys missing or unexpected, shapes differ, or values are not finite.
    """
    expected = model.state_dict()
    missing = [key for key in expected if key not in state_dict and not key.endswith("num_batches_tracked")]
    unexpected = [key for key in state_dict if key not in expected]
    mismatched = [
        f"{key} (expected {_shape_str(expected[key])}, got {_shape_str(value)})"
        for key, value in state_dict.items()
        if key in expected and value.shape != expected[key].shape
    ]
    if missing or unexpected or mismatched:
        kind = next((kind for key, kind in _FILE_KINDS if key in state_dict), "an unknown file")
        problems = (
            (missing, f"{len(missing)} missing keys of {len(expected)}"),
            (unexpected, f"{len(unexpected)} unexpected keys"),
            (mismatched, f"{len(mismatched)} shape mismatches"),
        )
        raise CheckpointError(
            f"checkpoint file {path} does not match the {network_name} network (it looks like "
            f"{kind}): " + "; ".join(f"{title}: {_listed(keys)}" for keys, title in problems if keys)
        )
    not_finite = [  # amax propagates NaN and is cheaper than isfinite().all()
        key
        for key, value in state_dict.items()
        if value.is_floating_point() and value.numel() and not value.abs().amax().isfinite()
    ]
    if not_finite:
        raise CheckpointError(
            f"checkpoint file {path} has NaN or infinite values in {len(not_finite)} tensors: {_listed(not_finite)}"
        )
    counters = {key: value for key, value in expected.items() if key.endswith("num_batches_tracked")}
    model.load_state_dict({**counters, **state_dict}, strict=True)
    return model.eval()


def load_posenet(path: PathLike, joint_set: JointSet | None = None) -> PoseNet:
    """Load a released (or `save_official_checkpoint`) PoseNet file.

    The joint count is read from the file: `head.final_layer` has joint_num * 64 output channels
    (21 joints for the MuCo-3DHP demo model, 18 for the Human3.6M models).

    Args:
        path: the `snapshot_24.pth.tar` file.
        joint_set: when given, its `joint_num` must equal the file's joint count.

    Returns:
        PoseNet on the CPU in eval mode.

    Raises:
        CheckpointError: the file is not a 3DMPPE PoseNet checkpoint, or its joint count differs
            from `joint_set.joint_num`.
    """
    state_dict = read_state_dict(path)
    joint_num = joint_set.joint_num if joint_set is not None else 21
    if POSENET_JOINT_KEY in state_dict:
        channels = state_dict[POSENET_JOINT_KEY].numel()
        if channels == 0 or channels % DEPTH_DIM:
            raise CheckpointError(
                f"checkpoint file {path}: {POSENET_JOINT_KEY} has {channels} channels; expected joint_num * {DEPTH_DIM}"
            )
        joint_num = channels // DEPTH_DIM
        if joint_set is not None and joint_set.joint_num != joint_num:
            raise CheckpointError(
                f"checkpoint file {path} is a PoseNet with {joint_num} joints, but joint_set "
                f"{joint_set.name!r} has {joint_set.joint_num} joints; choose the joint set the "
                "model was trained with (muco_21: MuCo-3DHP model, h36m_18: Human3.6M models)"
            )
    model = build_posenet(joint_num)
    load_state_dict_checked(model, state_dict, path, f"PoseNet ({joint_num} joints)")
    return model


def load_rootnet(path: PathLike) -> RootNet:
    """Load a released (or `save_official_checkpoint`) RootNet file.

    Args:
        path: the `snapshot_<epoch>.pth.tar` file (epoch 18 for the MuCo-3DHP demo model).

    Returns:
        RootNet on the CPU in eval mode.

    Raises:
        CheckpointError: the file is not a 3DMPPE RootNet checkpoint.
    """
    state_dict = read_state_dict(path)
    model = build_rootnet()
    load_state_dict_checked(model, state_dict, path, "RootNet")
    return model


def save_official_checkpoint(model: nn.Module, path: PathLike, epoch: int = 0) -> None:
    """Write `model` in the layout of the released 3DMPPE snapshots, atomically.

    The file holds `{"epoch": epoch, "network": {"module." + key: tensor},
    "optimizer": Adam state_dict}` (empty optimizer state, one parameter group), like a
    `DataParallel` model saved by the official training code. The parent directory is created;
    the file is written to a temporary name in the same directory and then renamed.

    Args:
        model: a PoseNet or RootNet (any device; tensors are saved from the CPU).
        path: destination, e.g. `.../snapshot_24.pth.tar`.
        epoch: stored epoch index.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    network = OrderedDict(
        (DATA_PARALLEL_PREFIX + key, value.detach().cpu()) for key, value in model.state_dict().items()
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3).state_dict()
    descriptor, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(descriptor)
    try:
        torch.save({"epoch": epoch, "network": network, "optimizer": optimizer}, temp_name)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
