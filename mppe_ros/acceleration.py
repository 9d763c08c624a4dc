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

Precision names: "fp32", "bf16", "fp16" (CUDA only) and "auto" (fp16 on CUDA; on a CPU bf16 where
it has native bfloat16 arithmetic, AVX512-BF16 or AMX, else fp32: emulated bf16 is many times
slower than fp32). The environment variable MPPE_ROS_CPU_NATIVE_BF16=1 or 0 overrides that detection
(tests and benchmarks take either branch on any CPU; it changes what is chosen, not what the CPU can do).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import os
from collections import OrderedDict
from pathlib import Path

import torch
from torch import nn

PRECISIONS = ("fp32", "bf16", "fp16", "auto")
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
NATIVE_BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")  # /proc/cpuinfo flags with bf16 dot products
NATIVE_BF16_OVERRIDE_ENV = "MPPE_ROS_CPU_NATIVE_BF16"  # "1" or "0": overrides the flags
MAX_CUDA_GRAPHS = 32  # captured batch sizes kept per network (a graph holds no extra weights)


@functools.lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """Feature flags of the first CPU in /proc/cpuinfo (empty where that file does not exist)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def cpu_has_native_bf16() -> bool:
    """True when the CPU multiplies bfloat16 natively (AVX512-BF16 or AMX-BF16).

    $MPPE_ROS_CPU_NATIVE_BF16 set to "1" or "0" overrides the flags; another non-empty value is a ValueError.
    """
    override = os.environ.get(NATIVE_BF16_OVERRIDE_ENV, "")
    if override:
        if override not in ("0", "1"):
            raise ValueError(f"{NATIVE_BF16_OVERRIDE_ENV} must be 1, 0 or unset, got {override!r}")
        return override == "1"
    return any(flag in cpu_flags() for flag in NATIVE_BF16_CPU_FLAGS)


def resolve_precision(precision: str, device: str | torch.device) -> torch.dtype:
    """The network dtype for a precision name on a device.

    Args:
        precision: "fp32", "bf16", "fp16" or "auto".
        device: where the networks run.

    Returns:
        torch.float32, torch.bfloat16 or torch.float16.

    Raises:
        ValueError: unknown name, or "fp16" on a device other than CUDA (CPU float16
            convolutions are emulated and far slower than float32).
    """
    device = torch.device(device)
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {list(PRECISIONS)}, got {precision!r}")
    if precision == "auto":
        if device.type == "cuda":
            return torch.float16
        return torch.bfloat16 if device.type == "cpu" and cpu_has_native_bf16() else torch.float32
    if precision == "fp16" and device.type != "cuda":
        raise ValueError(
            f"precision must be one of ['fp32', 'bf16', 'auto'] on device {str(device)!r} (fp16 needs "
            "CUDA; bf16 is fast on CPUs with AVX512-BF16 or AMX), got 'fp16'"
        )
    return DTYPES[precision]


@contextlib.contextmanager
def ieee_float32():
    """Within the block, CUDA float32 convolutions and matmuls compute in IEEE float32.

    torch lets cuDNN use TF32 (10-bit mantissa) for float32 convolutions by default; with it, "fp32"
    differed from the official loop by up to 1.6 px / 20 mm on an H200 (0.0004 px without). The
    previous settings are restored on exit; CPU computation is unaffected.
    """
    settings = (torch.backends.cudnn.conv, torch.backends.cuda.matmul)
    previous = [setting.fp32_precision for setting in settings]
    try:
        for setting in settings:
            setting.fp32_precision = "ieee"
        yield
    finally:
        for setting, value in zip(settings, previous, strict=True):
            setting.fp32_precision = value


def _fold_into(conv: nn.Conv2d | nn.ConvTranspose2d, bn: nn.BatchNorm2d) -> None:
    """conv <- bn(conv(.)) for eval-mode BN: scale = gamma / sqrt(var + eps) on the OUT channels.

    Conv2d weights are [out, in/groups, kh, kw]; ConvTranspose2d weights are [in, out/groups, kh, kw],
    so the scale runs along dim 1 there (per group).
    """
    scale = bn.weight.detach().double() / torch.sqrt(bn.running_var.double() + bn.eps)
    weight = conv.weight.detach().double()
    if isinstance(conv, nn.ConvTranspose2d):
        in_channels, out_per_group = weight.shape[:2]
        grouped = weight.reshape(conv.groups, in_channels // conv.groups, out_per_group, *weight.shape[2:])
        weight = (grouped * scale.reshape(conv.groups, 1, out_per_group, 1, 1)).reshape(weight.shape)
    else:
        weight = weight * scale.reshape(-1, 1, 1, 1)
    bias = conv.bias.detach().double() if conv.bias is not None else torch.zeros_like(scale)
    bias = (bias - bn.running_mean.double()) * scale + bn.bias.detach().double()
    dtype = conv.weight.dtype
    conv.weight = nn.Parameter(weight.to(dtype), requires_grad=False)
    conv.bias = nn.Parameter(bias.to(dtype), requires_grad=False)


def fold_batchnorm(model: nn.Module) -> int:
    """Fold every eval-mode BatchNorm2d into the convolution that feeds it, in place.

    Pairs found: `convN` + `bnN` attributes of one module (torchvision ResNet stem and
    Bottleneck), and a Conv2d / ConvTranspose2d directly followed by a BatchNorm2d in an
    nn.Sequential (ResNet `downsample`, the 3DMPPE deconvolution heads). The BN becomes
    nn.Identity. The result is for inference only (no more BN statistics to train).

    Args:
        model: a network in eval mode, weights loaded.

    Returns:
        The number of BatchNorm layers folded.

    Raises:
        ValueError: the model is in training mode, or a BatchNorm2d was left unfolded (a
            layout this function does not know).
    """
    if model.training:
        raise ValueError("fold_batchnorm needs a model in eval mode (call model.eval() first)")
    folded = 0
    for parent in list(model.modules()):
        names = list(parent._modules)
        for index, name in enumerate(names):
            conv = parent._modules[name]
            if not isinstance(conv, (nn.Conv2d, nn.ConvTranspose2d)):
                continue
            if name.startswith("conv") and "bn" + name[4:] in parent._modules:
                bn_name = "bn" + name[4:]
            elif isinstance(parent, nn.Sequential) and index + 1 < len(names):
                bn_name = names[index + 1]
            else:
                continue
            if isinstance(parent._modules[bn_name], nn.BatchNorm2d):
                _fold_into(conv, parent._modules[bn_name])
                parent._modules[bn_name] = nn.Identity()
                folded += 1
    left = [name for name, module in model.named_modules() if isinstance(module, nn.BatchNorm2d)]
    if left:
        raise ValueError(f"fold_batchnorm found no convolution before BatchNorm layers {left[:5]}")
    return folded


class Float32Conv(nn.Module):
    """A convolution kept in float32 inside a reduced-precision network (input cast up)."""

    def __init__(self, conv: nn.Conv2d) -> None:
        super().__init__()
        self.conv = conv.float()

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.conv(features.float())


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


def _is_pointwise(conv: object) -> bool:
    return (
        isinstance(conv, nn.Conv2d)
        and conv.kernel_size == (1, 1)
        and conv.stride == (1, 1)
        and conv.padding == (0, 0)
        and conv.groups == 1
    )


class _Wrapper(nn.Module):
    """Forwards unknown attribute reads (PoseNet's `joint_num`, ...) to the wrapped `net`."""

    def __getattr__(self, name: str):
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

    def forward(self, images: torch.Tensor, *args: torch.Tensor):
        """images [B, 3, 256, 256] (any float dtype/layout); extra args (RootNet's k) pass through."""
        images = images.to(dtype=self.dtype, memory_format=self.memory_format)
        with ieee_float32() if self.dtype == torch.float32 else contextlib.nullcontext():
            outputs = self.net(images, *args)
        if isinstance(outputs, tuple):
            return tuple(output.float() for output in outputs)
        return outputs.float()


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
        self._graphs: OrderedDict = OrderedDict()
        self._pool = None

    def forward(self, *inputs: torch.Tensor):
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

    def _capture(self, inputs: tuple[torch.Tensor, ...]):
        static_inputs = tuple(t.clone() for t in inputs)
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(2):
                self.net(*static_inputs)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, pool=self._pool):
            static_outputs = self.net(*static_inputs)
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
    depth_layers = {parent: parent.depth_layer for parent in prepared.modules()
                    if isinstance(getattr(parent, "depth_layer", None), nn.Conv2d)}  # fmt: skip
    for parent in depth_layers:
        parent.depth_layer = nn.Identity()
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    prepared = prepared.to(device=device, dtype=dtype, memory_format=memory_format)
    for parent, layer in depth_layers.items():
        parent.depth_layer = Float32Conv(layer.to(device))
    for parent in list(prepared.modules()):
        if nchw_logits and _is_pointwise(getattr(parent, "final_layer", None)):  # PoseNet: NCHW logits
            parent.final_layer = PointwiseConvNCHW(parent.final_layer)
    for parameter in prepared.parameters():
        parameter.requires_grad_(False)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    prepared = InferenceNet(prepared, dtype, memory_format)
    if cuda_graphs and device.type == "cuda":
        return CudaGraphNet(prepared)
    return prepared
