"""Mixed precision: bf16 autocast where native, fp32 weights, clear errors elsewhere."""

import numpy as np
import pytest
import torch

import aekit
from aekit.errors import ConfigError
from aekit.training import precision

NATIVE = precision.native_bf16(torch.device("cpu"))


def _images(n=24, size=16):
    return np.random.default_rng(0).random((n, 1, size, size), dtype=np.float32)


@pytest.mark.skipif(not NATIVE, reason="this CPU has no native bf16 (AVX512-BF16/AMX)")
def test_bf16_runs_the_forward_pass_in_bf16_and_keeps_fp32_weights(monkeypatch):
    seen = []
    real_loss = aekit.models.ae.AutoencoderNet.loss

    def spy(self, x, target=None):
        out = real_loss(self, x, target)
        seen.append(self.encoder(x).dtype)  # inside the step's autocast region
        return out

    monkeypatch.setattr(aekit.models.ae.AutoencoderNet, "loss", spy)
    model = aekit.train(_images(), backbone="conv", hidden=[4], code_size=3, epochs=1,
                        precision="bf16", progress=False)  # fmt: skip
    assert torch.bfloat16 in seen
    assert all(p.dtype == torch.float32 for p in model.net.parameters())
    assert model.train_config.precision == "bf16"
    codes = model.encode(_images(4))  # inference is fp32 whatever the training precision
    assert codes.dtype == np.float32


def test_auto_is_bf16_only_for_conv_nets_on_native_hardware():
    conv = aekit.train(
        _images(), backbone="conv", hidden=[4], code_size=3, epochs=1, progress=False
    )
    mlp = aekit.train(_images(), backbone="mlp", hidden=[8], code_size=3, epochs=1, progress=False)
    assert conv.train_config.precision == ("bf16" if NATIVE else "fp32")
    assert mlp.train_config.precision == "fp32"


def test_bf16_without_native_support_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(precision, "native_bf16", lambda device: False)
    with pytest.raises(ConfigError, match="no native bf16 support"):
        aekit.train(_images(), backbone="conv", hidden=[4], epochs=1, precision="bf16",
                    progress=False)  # fmt: skip
    model = aekit.train(_images(), backbone="conv", hidden=[4], epochs=1, progress=False)
    assert model.train_config.precision == "fp32"


def test_precision_is_validated():
    with pytest.raises(ConfigError, match="precision must be one of auto, fp32, bf16"):
        aekit.train(_images(), precision="fp16", progress=False)
