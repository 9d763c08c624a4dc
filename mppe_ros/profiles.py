"""The node's profiles: parameter defaults that fit the hardware (the node's parameter `profile`).

accurate: the settings types' defaults (fp32, exact to the official models; ResNet-50 FPN detector at 800 px).
fast: bf16 where the CPU has it natively (precision auto), the 320 px MobileNet detector; for CPUs.
auto (the default): accurate when the networks run on CUDA, fast on a CPU.

A profile only changes defaults: a parameter given in a parameter file, on the command line or by the launch file
keeps its value (config/mppe.yaml leaves the profile's parameters commented out for that reason). `mppe-ros infer`
has no profile: it keeps the exact fp32 defaults (it is the parity tool). Importing this module does not import torch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Value = bool | int | float | str  # a parameter value
PROFILE_CHOICES = ("auto", "accurate", "fast")
PROFILES: dict[str, dict[str, Value]] = {
    "accurate": {},  # the settings types' defaults
    "fast": {
        "precision": "auto",
        "detector": "fasterrcnn_mobilenet_v3_large_320_fpn",
        "detector_min_size_px": 320,
    },
}
PROFILE_PARAMETERS: tuple[str, ...] = tuple(sorted({name for values in PROFILES.values() for name in values}))
# The accurate values of PROFILE_PARAMETERS: the settings types' defaults (a test checks that they are).
ACCURATE: dict[str, Value] = {"detector": "fasterrcnn_resnet50_fpn", "detector_min_size_px": 800, "precision": "fp32"}
# The detectors of the profiles (the node loads one of them by default; `mppe-ros weights --download` fetches both).
PROFILE_DETECTORS: tuple[str, ...] = tuple(
    dict.fromkeys(str(values.get("detector", ACCURATE["detector"])) for values in PROFILES.values())
)


@dataclass(frozen=True)
class ProfileChoice:
    """The profile a node runs with: `name` (accurate or fast), `requested` (the parameter's value) and why."""

    requested: str
    name: str
    reason: str

    @property
    def defaults(self) -> dict[str, Value]:
        """{parameter name: default} that this profile sets (accurate: none)."""
        return PROFILES[self.name]

    def describe(self) -> str:
        """For /diagnostics, e.g. "fast (auto: device cpu)"."""
        return f"{self.name} ({self.reason})"

    def summary(self, value: Callable[[str], Value]) -> str:
        """The start-up log line: the profile, why, and each of its parameters' value (`value(name)`: the
        parameter's value now), naming those set explicitly to something else."""
        names = PROFILE_PARAMETERS
        profile_value = {name: self.defaults.get(name, default) for name, default in ACCURATE.items()}
        kept = [f"{name} {value(name)}" for name in names if value(name) != profile_value[name]]
        applied = ", ".join(f"{name} {profile_value[name]}" for name in names if value(name) == profile_value[name])
        line = f"profile {self.describe()}: {applied or 'nothing'}"
        if kept:
            line += f"; set explicitly, kept over the profile: {', '.join(kept)}"
        others = [name for name in PROFILE_CHOICES if name not in ("auto", self.name)]
        return f"{line} (profile:={others[0]} for the other; any of these parameters can be set)"


def cuda_available() -> bool:
    """Whether torch sees a CUDA device (imports torch)."""
    import torch

    return bool(torch.cuda.is_available())


def choose_profile(requested: str, device: str, has_cuda: Callable[[], bool] = cuda_available) -> ProfileChoice:
    """The profile for parameter values `profile` = requested and `device` (auto, cpu, cuda, cuda:N).

    has_cuda: asked only for profile auto with device auto.

    Raises:
        ValueError: requested is not one of PROFILE_CHOICES.
    """
    if requested not in PROFILE_CHOICES:
        raise ValueError(f"profile must be one of {', '.join(PROFILE_CHOICES)}, got {requested!r}")
    if requested != "auto":
        return ProfileChoice(requested, requested, "set by the parameter profile")
    if device.startswith("cuda"):
        return ProfileChoice(requested, "accurate", f"auto: device {device}")
    if device == "cpu":
        return ProfileChoice(requested, "fast", "auto: device cpu")
    if has_cuda():
        return ProfileChoice(requested, "accurate", "auto: a CUDA device is available")
    return ProfileChoice(requested, "fast", "auto: no CUDA device, the networks run on the CPU")
