"""BatchNorm folding: each eval-mode BatchNorm2d merged into the convolution that feeds it (float64).

Used by mppe_ros.acceleration.prepare_for_inference on a copy of the loaded networks; the released
modules and their state_dict stay as they are.
"""

from __future__ import annotations

import torch
from torch import nn


def _fold_into(conv: nn.Conv2d | nn.ConvTranspose2d, bn: nn.BatchNorm2d) -> None:
    """conv <- bn(conv(.)) for eval-mode BN: scale = gamma / sqrt(var + eps) on the OUT channels.

    Conv2d weights are [out, in/groups, kh, kw]; ConvTranspose2d weights are [in, out/groups, kh, kw],
    so the scale runs along dim 1 there (per group).

    Raises:
        ValueError: the BatchNorm keeps no running statistics (track_running_stats=False).
    """
    mean, var = bn.running_mean, bn.running_var
    if mean is None or var is None:
        raise ValueError("fold_batchnorm needs BatchNorm layers with running statistics (track_running_stats=True)")
    scale = bn.weight.detach().double() / torch.sqrt(var.double() + bn.eps)
    weight = conv.weight.detach().double()
    if isinstance(conv, nn.ConvTranspose2d):
        in_channels, out_per_group = weight.shape[:2]
        grouped = weight.reshape(conv.groups, in_channels // conv.groups, out_per_group, *weight.shape[2:])
        weight = (grouped * scale.reshape(conv.groups, 1, out_per_group, 1, 1)).reshape(weight.shape)
    else:
        weight = weight * scale.reshape(-1, 1, 1, 1)
    bias = conv.bias.detach().double() if conv.bias is not None else torch.zeros_like(scale)
    bias = (bias - mean.double()) * scale + bn.bias.detach().double()
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
            bn = parent._modules[bn_name]
            if isinstance(bn, nn.BatchNorm2d):
                _fold_into(conv, bn)
                parent._modules[bn_name] = nn.Identity()
                folded += 1
    left = [name for name, module in model.named_modules() if isinstance(module, nn.BatchNorm2d)]
    if left:
        raise ValueError(f"fold_batchnorm found no convolution before BatchNorm layers {left[:5]}")
    return folded
