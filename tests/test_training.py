"""The one loop: reproducible, selects the best epoch, stops early and on time."""

import math

import pytest
import torch
from loop_settings import loop_config

from aekit import ConfigError
from aekit.models import AutoencoderNet, NetConfig, VAEConfig, VAENet
from aekit.training.loop import TrainingError, evaluate_loss, fit

PROJECTION = torch.randn(2, 8, generator=torch.Generator().manual_seed(0))


def _data(n=64, seed=0):
    """(n, 8) samples near one 2-d subspace; ``seed`` picks the samples, not the subspace."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 2, generator=g) @ PROJECTION + 0.05 * torch.randn(n, 8, generator=g)


def _net(seed=0, **kw):
    torch.manual_seed(seed)
    return AutoencoderNet(NetConfig((8,), 2, "mlp", [16], **kw))


def test_same_seed_gives_identical_weights():
    x = _data()
    config = loop_config(epochs=5, batch_size=16, lr=1e-3, seed=3)
    nets = [_net(), _net()]
    for net in nets:
        fit(net, x, None, config)
    for a, b in zip(nets[0].state_dict().values(), nets[1].state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_different_seed_gives_different_order():
    x = _data()
    a, b = _net(), _net()
    fit(a, x, None, loop_config(epochs=2, batch_size=16, lr=1e-3, seed=1))
    fit(b, x, None, loop_config(epochs=2, batch_size=16, lr=1e-3, seed=2))
    assert not torch.equal(a.encoder[1][0].weight, b.encoder[1][0].weight)


def test_loss_falls_and_history_is_complete():
    x, val = _data(), _data(seed=1)
    net = _net()
    before = evaluate_loss(net, val)
    result = fit(net, x, val, loop_config(epochs=100, batch_size=16, lr=1e-2, early_stopping=False))
    assert len(result.history) == 100
    row = result.history[-1]
    for key in ("epoch", "train_loss", "val_loss", "seconds", "samples_per_s", "lr"):
        assert key in row
    assert evaluate_loss(net, val) < 0.3 * before
    assert math.isclose(evaluate_loss(net, val), result.best_val_loss, rel_tol=1e-5)
    assert result.history[-1]["lr"] < 1e-4  # cosine decays to ~0


class _PointModel(torch.nn.Module):
    """One weight w, loss mean((w - x)^2): training pulls w to the training data's value."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))

    def loss(self, x, target=None):
        return ((self.w - x) ** 2).mean(), {}


def test_best_epoch_weights_are_restored():
    """w walks from 0 past the validation data's 1 towards 3, so the best validation loss is
    in a middle epoch and the last epoch is worse."""
    result, weights, model = _walk_past_the_validation_point(epochs=12, early_stopping=False)
    val_losses = [row["val_loss"] for row in result.history]
    closest = min(range(len(weights)), key=lambda i: abs(weights[i] - 1.0))
    assert 1 < closest + 1 < len(weights)  # the setup: a middle epoch is best
    assert weights[-1] > 2.0  # and the last is far from it
    assert result.best_epoch == closest + 1
    assert result.best_val_loss == min(val_losses) == val_losses[closest]
    assert model.w.item() == weights[closest]  # that epoch's weight, not the last one


def test_early_stopping_stops():
    x, val = _data(), _data(seed=1)
    config = loop_config(
        epochs=500, batch_size=64, lr=0.3, schedule="constant", patience=3, lr_drops=0
    )
    result = fit(_net(), x, val, config)
    assert result.stop_reason == "early_stopping"
    assert len(result.history) == result.best_epoch + 3
    assert not any("lr_drop" in row for row in result.history)


def _walk_past_the_validation_point(**options):
    """_PointModel with training data at 3 and validation data at 1: validation improves while
    w walks up to 1 and stalls once it walks past. Returns the result, w after each epoch and
    the model."""
    model = _PointModel()
    weights = []
    settings = dict(epochs=200, batch_size=16, lr=0.2, optimizer="adam", schedule="constant")
    config = loop_config(**{**settings, **options})
    result = fit(
        model,
        torch.full((16, 1), 3.0),
        torch.ones(4, 1),
        config,
        on_epoch=lambda history: weights.append(model.w.item()),
    )
    return result, weights, model


def test_a_stall_drops_the_learning_rate_and_goes_on_from_the_best_weights():
    result, weights, model = _walk_past_the_validation_point(patience=3, lr_drops=2)
    history = result.history
    drops = [row for row in history if "lr_drop" in row]
    assert [row["lr_drop"] for row in drops] == [1, 2]
    counted_from = 0
    for row in drops:
        epoch = row["epoch"]
        best = max(r["epoch"] for r in history[:epoch] if r["best"])
        # after patience epochs without a better validation loss, counted afresh after a drop
        assert epoch == max(best, counted_from) + 3
        counted_from = epoch
        assert weights[epoch - 1] == weights[best - 1]  # back to the best weights
        # each step after the drop is a tenth as large
        assert history[epoch]["lr"] == pytest.approx(0.2 * 0.1 ** row["lr_drop"])
    assert history[drops[0]["epoch"] - 1]["lr"] == pytest.approx(0.2)
    assert result.stop_reason == "early_stopping"
    assert len(history) == result.best_epoch + 3 > drops[-1]["epoch"]
    # the smaller steps found a w closer to the validation data's 1 than the first walk did
    no_drops, _, _ = _walk_past_the_validation_point(patience=3, lr_drops=0)
    assert len(no_drops.history) == drops[0]["epoch"]
    assert result.best_val_loss < 0.5 * no_drops.best_val_loss
    assert model.w.item() == weights[result.best_epoch - 1]


def test_time_limit_ends_cleanly():
    x, val = _data(n=4096), _data(seed=1)
    result = fit(_net(), x, val, loop_config(epochs=10_000, batch_size=4, lr=1e-3, time_limit=0.5))
    assert result.stop_reason == "time_limit"
    assert result.history[-1].get("partial") is True
    assert sum(row["seconds"] for row in result.history) < 5


def test_diverging_loss_is_reported():
    x = _data() * 1e30
    with pytest.raises(TrainingError, match="epoch 1"):
        fit(_net(), x, None, loop_config(epochs=3, batch_size=16, lr=1e-3))


def test_logged_terms_are_averaged_per_epoch():
    """A VAE's KL and reconstruction terms reach the history, and add up to the loss."""
    import numpy as np

    import aekit

    x = np.random.default_rng(0).random((64, 8)).astype(np.float32)
    model = aekit.train(
        x,
        model="vae",
        loss="bce",
        code_size=2,
        hidden=[8],
        epochs=3,
        batch_size=16,
        lr=1e-3,
        progress=False,
    )
    row = model.history[-1]
    assert row["train_kl"] >= 0
    assert math.isclose(
        row["train_reconstruction"] + row["train_kl"], row["train_loss"], rel_tol=1e-4
    )


def _batch_sizes_seen(net) -> list[int]:
    """Record the size of every batch ``net.loss`` gets in train mode."""
    sizes, real_loss = [], net.loss

    def recording_loss(x, target=None):
        if net.training:
            sizes.append(len(x))
        return real_loss(x, target=target)

    net.loss = recording_loss
    return sizes


def test_batch_size_one_trains():
    x = _data(n=16)
    net = _net()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    sizes = _batch_sizes_seen(net)
    result = fit(net, x, None, loop_config(epochs=2, batch_size=1, lr=1e-2))
    assert sizes == [1] * 32
    assert all(math.isfinite(row["train_loss"]) for row in result.history)
    assert not torch.equal(before["encoder.1.0.weight"], net.state_dict()["encoder.1.0.weight"])


def test_a_lone_last_sample_joins_the_previous_batch():
    """17 samples in batches of 8: the 17th is trained on, in a batch of 9, never alone."""
    net = _net()
    sizes = _batch_sizes_seen(net)
    fit(net, _data(n=17), None, loop_config(epochs=2, batch_size=8, lr=1e-3))
    assert sizes == [8, 9, 8, 9]


def test_batch_size_one_with_batch_norm_over_vectors_is_a_config_error():
    net = _net(norm="batch")
    before = {k: v.clone() for k, v in net.state_dict().items()}
    with pytest.raises(ConfigError, match="batch norm"):
        fit(net, _data(n=16), None, loop_config(epochs=1, batch_size=1, lr=1e-3))
    for name, tensor in net.state_dict().items():
        assert torch.equal(tensor, before[name]), name  # raised before any training


def _poisoned(n=64, at=5):
    x = _data(n=n)
    x[at] = 1e30  # the batch holding it has an infinite loss
    return x


@pytest.mark.parametrize("family", ["ae_batch_norm", "vae_warmup"])
def test_a_skipped_batch_leaves_every_buffer_as_it_was(family):
    """One epoch of one batch, which is skipped: BatchNorm statistics and the VAE's warm-up
    counter must be the initial ones."""
    torch.manual_seed(0)
    if family == "vae_warmup":
        net = VAENet(VAEConfig((8,), 2, "mlp", [16], norm="batch", kl_warmup=5))
    else:
        net = _net(norm="batch")
    before = {k: v.clone() for k, v in net.named_buffers()}
    assert before  # the test is about buffers
    fit(net, _poisoned(), None, loop_config(epochs=1, batch_size=64, lr=1e-3, skip_nonfinite=1))
    for name, tensor in net.named_buffers():
        assert torch.equal(tensor, before[name]), name


def test_checkpoint_tables_cover_the_loop_state():
    """A field added to the loop state must be added to what a checkpoint is checked against."""
    import dataclasses

    from aekit.training.loop_state import LOOP_FIELDS, RESULT_FIELDS, LoopState, TrainResult

    assert set(LOOP_FIELDS) == {f.name for f in dataclasses.fields(LoopState)}
    assert set(RESULT_FIELDS) == {f.name for f in dataclasses.fields(TrainResult)}


def _rates(schedule: str, warmup: float, steps: int = 100) -> list[float]:
    from aekit.training.steps import set_lr

    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    config = loop_config(epochs=1, batch_size=1, lr=2.0, schedule=schedule, warmup=warmup)
    rates = []
    for step in range(steps + 1):
        set_lr(optimizer, config, step, steps, elapsed=0.0)
        rates.append(optimizer.param_groups[0]["lr"])
    return rates


def test_warmup_rises_linearly_then_the_schedule_decays_to_zero():
    linear = _rates("linear", 0.1)
    # the rise: 0 at the first step, lr * fraction done / warmup, times the decay
    assert linear[0] == 0.0
    assert linear[5] == pytest.approx(2.0 * 0.5 * (1 - 0.05))
    assert linear[10] == pytest.approx(2.0 * 0.9)  # warm-up over: the decay alone
    assert linear[55] == pytest.approx(2.0 * 0.45)
    assert linear[-1] == 0.0
    assert max(linear) == pytest.approx(2.0 * 0.9)
    cosine = _rates("cosine", 0.0)
    assert cosine[0] == 2.0 and cosine[50] == pytest.approx(1.0) and cosine[-1] == 0.0
    assert cosine[25] == pytest.approx(1.0 + math.cos(math.pi / 4))
    constant = _rates("constant", 0.2)
    assert constant[10] == pytest.approx(1.0) and constant[20:] == [2.0] * 81
