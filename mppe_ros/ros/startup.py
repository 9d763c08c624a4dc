"""The node's start-up: building the pipeline its parameters name, and the errors that end the node."""

from __future__ import annotations

from typing import Any

from mppe_ros.ros.parameters import NodeConfig


class StartupError(RuntimeError):
    """The node cannot start (weights, device, parameters); the message says what to do."""


class WorkerStoppedError(RuntimeError):
    """The inference thread ended while the node was running (raised in the executor)."""


class NodeFinalized(Exception):  # noqa: N818 - not an error: the lifecycle's shutdown transition ends the spin
    """The node reached the lifecycle's finalized state (raised in the executor; the process exits 0)."""


def free_device_memory() -> None:
    """Return the GPU memory that freed models leave in torch's cache to the driver (no-op without CUDA)."""
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


def build_pipeline(config: NodeConfig) -> Any:
    """The MppePipeline named by the parameters; StartupError with one actionable message otherwise."""
    import torch

    from mppe_ros.checkpoints import CheckpointError
    from mppe_ros.pipeline import MppePipeline, PipelineConfig
    from mppe_ros.weights import WeightsNotFoundError

    device = config.model.device
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise StartupError(
            f"device {device!r} requested but torch sees no CUDA GPU (torch.cuda.is_available() is False); "
            "set the parameter device:=cpu (or auto), or install a CUDA build of torch with a working driver"
        )
    try:
        return MppePipeline.from_config(PipelineConfig.from_settings(config.model, config.detection))
    except (WeightsNotFoundError, CheckpointError, ValueError) as error:
        raise StartupError(str(error)) from None
    except RuntimeError as error:  # torch cannot use the device
        raise StartupError(f"device {device!r} is not usable: {error}; try device:=cpu") from None


def pipeline_device_and_precision(pipeline: Any, config: NodeConfig) -> tuple[str, str]:
    """The pipeline's device ("cpu", "cuda:0") and resolved precision ("fp32", "bf16", "fp16"); the configured ones
    for an injected pipeline without a device (tests)."""
    device = getattr(pipeline, "device", None)
    if device is None:
        return config.model.device, config.model.precision
    from mppe_ros.precision import resolve_precision

    dtype = resolve_precision(getattr(pipeline, "precision", "fp32"), device)
    return str(device), {"float32": "fp32", "bfloat16": "bf16", "float16": "fp16"}[str(dtype).split(".")[-1]]
