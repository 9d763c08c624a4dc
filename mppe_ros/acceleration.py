"""Inference-time preparation of PoseNet and RootNet: BatchNorm folding, precision, memory layout.

`prepare_for_inference(net, device, precision)` takes a network with its weights already loaded
(mppe_ros.checkpoints; the state_dict contract of mppe_ros.networks is untouched) and returns a
module with the same call signature and float32 outputs:

- every BatchNorm2d is folded into the Conv2d / ConvTranspose2d before it (computed in float64,
  outputs equal to float rounding) and replaced by nn.Identity;
- the weights are cast to the requested precision; RootNet's `depth_layer` (gamma, which
  multiplies k to give millimetres) stays float32, and the soft-argmax runs in float32 because
  mppe_ros.networks.soft_argmax casts the logits;
- channels-last (NHWC) memory layout, where oneDNN and cuDNN have their fastest convolutions;
- PoseNet's final 1x1 convolution as one GEMM that writes the logits NCHW (PointwiseConvNCHW), so
  the soft-argmax's reshape needs no transposing copy of the 22 MB per person of logits;
- on CUDA: cudnn autotuning, and optionally CUDA graphs (one captured graph per batch size).

What paid on a 2-core AVX2 CPU (float32, 10 persons, RootNet + PoseNet; `mppe-ros bench` ablation):
one batch instead of a forward per person ~1.0x, BatchNorm folding ~1.1x, channels-last ~1.1-1.2x,
the NCHW final layer ~1.1x; together ~1.3-1.4x. What did not: ConvTranspose2d as four sub-pixel
convolutions (slower than oneDNN's own), micro-batches of 3-5 persons (same as one batch), oneDNN
conv + ReLU/add fusion through torch.ops.mkldnn (<5%, internal API), torch.compile with freezing
(~7%, ~50 s compile per batch size).

Precision names and their resolution: mppe_ros.precision; BatchNorm folding: mppe_ros.folding.
"""

from __future__ import annotations

import contextlib
import copy
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, TypeAlias, TypeGuard

import torch
from torch import nn

from mppe_ros.folding import fold_batchnorm
from mppe_ros.precision import ieee_float32, resolve_precision

if TYPE_CHECKING:
    from torch.cuda import _POOL_HANDLE  # the type torch.cuda.graph's pool has (as torch's own graphs.py imports it)

MAX_CUDA_GRAPHS = 32  # captured batch sizes kept per network (a graph holds no extra weights)

NetOutput: TypeAlias = torch.Tensor | tuple[torch.Tensor, ...]  # RootNet: [B, 3]; PoseNet: (coords, confidence)


class Float32Conv(nn.Module):
    """A convolution kept in float32 inside a reduced-precision network (input cast up)."""

    def __init__(self, conv: nn.Conv2d) -> None:
        super().__init__()
        self.conv = conv.float()

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        output: torch.Tensor = self.conv(features.float())
        return output


class PointwiseConvNCHW(nn.Module):
    """A 1x1 convolution as one batched GEMM whose output is NCHW-contiguous whatever the input layout.

    PoseNet's final layer makes [B, J*64, 64, 64] logits that the soft-argmax reshapes to
    [B, J, 64*64*64]: from a channels-last convolution that reshape is a transposing copy of
    ~22 MB per person. W[out, in] @ X[b][in, H*W] reads the NHWC input as a transposed matrix
    and writes NCHW directly.
    """

    def __init__(self, conv: nn.Conv2d) -> None:
        super().__init__()
        self.weight = nn.Parameter(conv.weight.detach().flatten(1).clone(), requires_grad=False)
        weight = conv.weight.detach()
        bias = conv.bias.detach() if conv.bias is not None else weight.new_zeros(conv.out_channels)
        self.bias = nn.Parameter(bias.clone(), requires_grad=False)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        batch, _, height, width = features.shape
        weight = self.weight.expand(batch, -1, -1)
        logits = torch.baddbmm(self.bias.view(1, -1, 1), weight, features.flatten(2))
        return logits.view(batch, -1, height, width)


def _is_pointwise(conv: object) -> TypeGuard[nn.Conv2d]:
    return (
        isinstance(conv, nn.Conv2d)
        and conv.kernel_size == (1, 1)
        and conv.stride == (1, 1)
        and conv.padding == (0, 0)
        and conv.groups == 1
    )


class _Wrapper(nn.Module):
    """Forwards unknown attribute reads (PoseNet's `joint_num`, ...) to the wrapped `net`."""

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            if name.startswith("_") or name == "net":
                raise
            return getattr(self._modules["net"], name)


class InferenceNet(_Wrapper):
    """A prepared network: casts the image batch to its dtype and layout, returns float32.

    A float32 network runs in IEEE float32 on CUDA too (ieee_float32: no TF32).

    Args:
        net: PoseNet or RootNet after fold_batchnorm, on its device, in its dtype.
        dtype: dtype of the convolutions.
        memory_format: torch.channels_last or torch.contiguous_format.
    """

    def __init__(self, net: nn.Module, dtype: torch.dtype, memory_format: torch.memory_format) -> None:
        super().__init__()
        self.net = net
        self.dtype = dtype
        self.memory_format = memory_format

    def forward(self, images: torch.Tensor, *args: torch.Tensor) -> NetOutput:
        """images [B, 3, 256, 256] (any float dtype/layout); extra args (RootNet's k) pass through."""
        images = images.to(dtype=self.dtype, memory_format=self.memory_format)
        with ieee_float32() if self.dtype == torch.float32 else contextlib.nullcontext():
            outputs: NetOutput = self.net(images, *args)
        if isinstance(outputs, tuple):
            return tuple(output.float() for output in outputs)
        return outputs.float()


_Graph: TypeAlias = tuple[torch.cuda.CUDAGraph, tuple[torch.Tensor, ...], NetOutput]  # graph, inputs, outputs


class CudaGraphNet(_Wrapper):
    """Replays one captured CUDA graph per input shape instead of launching ~300 kernels.

    The first call with a new batch size warms up on a side stream (cudnn autotuning) and
    captures; later calls copy the inputs into the captured buffers and replay. Graphs share
    one memory pool. Outputs are copies (the captured buffers are overwritten by the next call).
    """

    def __init__(self, net: nn.Module, max_graphs: int = MAX_CUDA_GRAPHS) -> None:
        super().__init__()
        self.net = net
        self.max_graphs = max_graphs
        self._graphs: OrderedDict[tuple[Any, ...], _Graph] = OrderedDict()
        self._pool: _POOL_HANDLE | None = None  # the memory pool all graphs share

    def forward(self, *inputs: torch.Tensor) -> NetOutput:
        key = tuple((tuple(t.shape), t.dtype, t.stride()) for t in inputs)
        with torch.inference_mode():
            if key not in self._graphs:
                if len(self._graphs) >= self.max_graphs:
                    self._graphs.popitem(last=False)
                self._graphs[key] = self._capture(inputs)
            graph, static_inputs, static_outputs = self._graphs[key]
            self._graphs.move_to_end(key)
            for static, given in zip(static_inputs, inputs, strict=True):
                static.copy_(given, non_blocking=True)
            graph.replay()
            if isinstance(static_outputs, tuple):
                return tuple(output.clone() for output in static_outputs)
            return static_outputs.clone()

    def _capture(self, inputs: tuple[torch.Tensor, ...]) -> _Graph:
        static_inputs = tuple(t.clone() for t in inputs)
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(2):
                self.net(*static_inputs)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, pool=self._pool):
            static_outputs: NetOutput = self.net(*static_inputs)
        self._pool = graph.pool()
        return graph, static_inputs, static_outputs


def prepare_for_inference(
    net: nn.Module,
    device: str | torch.device = "cpu",
    precision: str = "fp32",
    channels_last: bool = True,
    nchw_logits: bool = True,
    cuda_graphs: bool = False,
) -> nn.Module:
    """A copy of `net` folded, cast and laid out for fast inference (`net` itself is not changed).

    Args:
        net: PoseNet or RootNet with its weights loaded (mppe_ros.checkpoints).
        device: where it runs ("cpu", "cuda", "cuda:N").
        precision: "fp32", "bf16", "fp16" or "auto" (see resolve_precision).
        channels_last: NHWC activations and weights.
        nchw_logits: PoseNet's final 1x1 convolution as a GEMM writing NCHW logits
            (PointwiseConvNCHW), which saves the soft-argmax a transposing copy.
        cuda_graphs: on CUDA, capture one graph per batch size (CudaGraphNet); ignored on CPU.

    Returns:
        A module with the call signature of `net` (PoseNet: images -> (coords, confidence);
        RootNet: (images, k_value) -> [B, 3]) returning float32 tensors, with `joint_num` for
        PoseNet.

    Raises:
        ValueError: bad precision for the device (resolve_precision).
    """
    device = torch.device(device)
    dtype = resolve_precision(precision, device)
    if isinstance(net, (InferenceNet, CudaGraphNet)):
        return net  # already prepared (e.g. by the caller, with its own options)
    has_state = any(True for _ in net.parameters()) or any(True for _ in net.buffers())
    prepared = (copy.deepcopy(net) if has_state else net).eval()  # never change the caller's weights
    fold_batchnorm(prepared)
    # RootNet's gamma (x k = depth in mm) stays float32: taken out before the cast, so never rounded.
    depth_layers: dict[nn.Module, nn.Conv2d] = {}
    for parent in prepared.modules():
        layer = getattr(parent, "depth_layer", None)
        if isinstance(layer, nn.Conv2d):
            depth_layers[parent] = layer
    for parent in depth_layers:
        parent.depth_layer = nn.Identity()
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    prepared = prepared.to(device=device, dtype=dtype).to(memory_format=memory_format)
    for parent, layer in depth_layers.items():
        parent.depth_layer = Float32Conv(layer.to(device))
    for parent in list(prepared.modules()):
        final_layer = getattr(parent, "final_layer", None)
        if nchw_logits and _is_pointwise(final_layer):  # PoseNet: NCHW logits
            parent.final_layer = PointwiseConvNCHW(final_layer)
    for parameter in prepared.parameters():
        parameter.requires_grad_(False)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    inference = InferenceNet(prepared, dtype, memory_format)
    if cuda_graphs and device.type == "cuda":
        return CudaGraphNet(inference)
    return inference
