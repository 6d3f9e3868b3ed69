"""Every backbone and loss: shapes, finite loss, gradients everywhere, and it can learn."""

import pytest
import torch

from aekit.models import MODELS, AutoencoderNet, NetConfig
from aekit.training.loop import evaluate_loss

CASES = {
    "mlp-vector": NetConfig((8,), 3, "mlp", [16, 8]),
    "mlp-image": NetConfig((1, 6, 6), 4, "mlp", [12]),
    "mlp-linear": NetConfig((8,), 3, "mlp", [6], activation="none"),
    "mlp-batchnorm-dropout": NetConfig((8,), 3, "mlp", [16], norm="batch", dropout=0.1),
    "conv-grey": NetConfig((1, 8, 8), 4, "conv", [4, 8], norm="batch", output="sigmoid"),
    "conv-rgb-odd": NetConfig((3, 7, 9), 5, "conv", [4, 8], norm="layer", output="sigmoid"),
    "conv-grey-shuffle": NetConfig(
        (1, 8, 8), 4, "conv", [4, 8], norm="batch", output="sigmoid", decoder_head="shuffle"
    ),
    "conv-rgb-odd-shuffle": NetConfig(
        (3, 7, 9), 5, "conv", [4, 8], norm="layer", output="sigmoid", decoder_head="shuffle"
    ),
}
LOSS_CASES = [("mse", "identity"), ("mse", "sigmoid"), ("bce", "sigmoid"), ("mae", "sigmoid")]


def test_registry_is_literal():
    assert MODELS["ae"] is AutoencoderNet


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("loss,output", LOSS_CASES)
def test_shapes_loss_and_gradients(name, loss, output):
    config = NetConfig(**{**CASES[name].to_dict(), "loss": loss, "output": output})
    config.input_shape = tuple(config.input_shape)
    torch.manual_seed(0)
    net = AutoencoderNet(config)
    x = torch.rand(5, *config.input_shape)
    z = net.encode(x)
    assert z.shape == (5, config.code_size)
    torch.manual_seed(1)  # the same dropout mask for both decodes
    out = net.decode(z)
    assert out.shape == x.shape
    torch.manual_seed(1)
    raw = net.decode_raw(z)
    expected = torch.sigmoid(raw) if output == "sigmoid" else raw  # the output layer applied
    assert torch.allclose(out, expected, atol=1e-6)
    value, logs = net.loss(x)
    assert value.ndim == 0 and torch.isfinite(value)
    assert "reconstruction" in logs
    value.backward()
    for pname, param in net.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, f"no gradient reaches {pname}"


def test_bce_on_logits_stays_finite_for_extreme_logits():
    config = NetConfig((4,), 2, "mlp", [4], loss="bce", output="sigmoid")
    net = AutoencoderNet(config)
    with torch.no_grad():
        net.decoder[0][-1].bias.fill_(1e4)  # sigmoid would give exactly 1.0 and log(0) = -inf
    value, _ = net.loss(torch.zeros(3, 4))
    assert torch.isfinite(value) and value > 100


@pytest.mark.parametrize(
    "config",
    [
        NetConfig((8,), 8, "mlp", [32]),
        NetConfig((1, 8, 8), 16, "conv", [8, 16], norm="batch", output="sigmoid"),
        NetConfig(
            (1, 8, 8), 16, "conv", [8, 16], norm="batch", output="sigmoid", decoder_head="shuffle"
        ),
    ],
    ids=["mlp", "conv", "conv-shuffle"],
)
def test_overfits_sixteen_samples(config):
    torch.manual_seed(0)
    net = AutoencoderNet(config)
    x = torch.rand(16, *config.input_shape)
    before = evaluate_loss(net, x)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    for _ in range(400):
        loss, _ = net.loss(x)
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = evaluate_loss(net, x)
    assert after < 0.1 * before, (before, after)
