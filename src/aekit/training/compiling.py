"""``torch.compile`` of the training step, where it pays.

Compiling fuses the step's elementwise work into fewer kernels, which saves a GPU the launches
and memory round trips that dominate a small network's step. On the CPU it does not pay: the
seed MLP's step is a few large matrix products that run in oneDNN either way, and the compile
itself took 7-66 s on a 2-core machine (warm and cold inductor cache) against a few seconds of
training. So "auto" compiles on CUDA only; "on" compiles anywhere it can.

Compiling does not change what is trained (the same operations, fused), so a run may be
resumed with another setting.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable

import torch

from ..errors import ConfigError

# the C++ compilers torch's inductor backend builds its CPU kernels with
CPP_COMPILERS = ("g++", "c++", "clang++")


def resolve_compile(name: str, device: torch.device) -> str:
    """Whether a run compiles its training step: "on" or "off".

    "auto" is "on" for CUDA and "off" elsewhere. "on" for the CPU needs a C++ compiler, which
    inductor builds the kernels with: without one, a ConfigError now rather than a compiler
    failure deep inside the first training step.
    """
    if name == "auto":
        return "on" if device.type == "cuda" else "off"
    if name == "on" and device.type == "cpu" and not any(map(shutil.which, CPP_COMPILERS)):
        raise ConfigError(
            "compile='on' on the CPU needs a C++ compiler (g++ or clang++), which "
            "torch.compile builds its CPU kernels with, and none was found on the PATH; "
            "install one, or use compile='off' (on the CPU it does not speed training up)"
        )
    return name


def compiled(step_loss: Callable[..., tuple], setting: str) -> Callable[..., tuple]:
    """The training step's loss, compiled where ``setting`` (resolved) is "on".

    The network itself is left as it is: its state dict, checkpoints and inference do not see
    the compile.
    """
    return torch.compile(step_loss) if setting == "on" else step_loss
