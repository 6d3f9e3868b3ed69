"""pythae's rows of ``benchmarks/generation.py`` (its ``--pythae``): VAE (its Normal and
Gaussian-mixture samplers), WAE_MMD + GMM, RAE_L2 + GMM and VQVAE + PixelCNN, each with
aekit's conv encoder and decoder for that family (the same networks as aekit's rows), trained
by a plain Adam loop (learning rate 1e-3, batches of 100, pythae's own loss) for the same wall
budget; pythae's samplers with their defaults, its PixelCNN fitted for 2 epochs as aekit's
prior is; its VQVAE with 128 vectors as aekit's, its codebook learned by gradient (pythae's
default: its PixelCNN sampler fails on its EMA codebook, pythae 0.1.2). Needs pythae
(``/work/benchvenv``: run the whole benchmark with that Python).
"""

from __future__ import annotations

import tempfile
import time

import numpy as np
import torch
from pythae.models import (
    RAE_L2,
    VAE,
    VQVAE,
    WAE_MMD,
    RAE_L2_Config,
    VAEConfig,
    VQVAEConfig,
    WAE_MMD_Config,
)
from pythae.models.base.base_utils import ModelOutput
from pythae.models.nn import BaseDecoder, BaseEncoder
from pythae.samplers import (
    GaussianMixtureSampler,
    NormalSampler,
    PixelCNNSampler,
    PixelCNNSamplerConfig,
)
from pythae.trainers import BaseTrainerConfig
from torch import nn

from aekit.models import MODELS, BackboneConfig, make_config

BATCH, LR = 100, 1e-3
CODEBOOK = 128  # as aekit's VQ-VAE default


class _Encoder(BaseEncoder):
    """aekit's encoder; a VAE's outputs split into mean and log-variance."""

    def __init__(self, encoder: nn.Module, variational: bool):
        super().__init__()
        self.net, self.variational = encoder, variational

    def forward(self, x):
        out = self.net(x)
        if self.variational:
            mean, log_variance = out.chunk(2, dim=1)
            return ModelOutput(embedding=mean, log_covariance=log_variance)
        return ModelOutput(embedding=out)


class _Decoder(BaseDecoder):
    def __init__(self, decoder: nn.Module):
        super().__init__()
        self.net = decoder

    def forward(self, z):
        return ModelOutput(reconstruction=torch.sigmoid(self.net(z)))


def _networks(family: str, shape: tuple, code: int) -> tuple[_Encoder, _Decoder, int]:
    """aekit's conv encoder and decoder of ``family`` for images ``shape``; the code size."""
    backbone = BackboneConfig(
        shape, code, "conv", [16, 64, 128], activation="silu", norm="batch", loss="bce",
        output="sigmoid",
    )  # fmt: skip
    config = MODELS[family].config_for(backbone, make_config(model=family))
    net = MODELS[family](config)
    return _Encoder(net.encoder, family == "vae"), _Decoder(net.decoder), config.code_size


def _train(model: nn.Module, x: torch.Tensor, budget: float, seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=LR)
    model.train()
    start, epoch = time.perf_counter(), 0
    while time.perf_counter() - start < budget:
        for rows in torch.randperm(len(x), generator=generator).split(BATCH):
            loss = model({"data": x[rows]}, epoch=epoch).loss
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            if time.perf_counter() - start >= budget:
                break
        epoch += 1
    model.eval()


def pythae_rows(
    x_train: np.ndarray, n: int, codes: list[int], vq_depth: int, budget: float, add
) -> None:
    """Train each pythae model on ``x_train`` (n, C, H, W) in [0, 1] at each code size of
    ``codes`` (the VQVAE once, its codebook vectors ``vq_depth`` deep: its code is a grid) and
    call
    ``add(name, sampler, code, samples (n, C, H, W), seconds)`` for each of its rows."""
    shape = tuple(x_train.shape[1:])
    x = torch.from_numpy(np.ascontiguousarray(x_train, dtype=np.float32))
    models = [
        ("VAE", VAE, lambda c: VAEConfig(shape, c, reconstruction_loss="bce"), "vae"),
        ("WAE_MMD", WAE_MMD, lambda c: WAE_MMD_Config(shape, c), "ae"),
        ("RAE_L2", RAE_L2, lambda c: RAE_L2_Config(shape, c), "ae"),
    ]
    runs = [(*model, code) for code in codes for model in models]
    vqvae = ("VQVAE", VQVAE, lambda c: VQVAEConfig(shape, c, num_embeddings=CODEBOOK), "vqvae")
    for name, kind, config, family, code in [*runs, (*vqvae, vq_depth)]:
        torch.manual_seed(0)
        encoder, decoder, size = _networks(family, shape, code)
        model = kind(config(size), encoder=encoder, decoder=decoder)
        start = time.perf_counter()
        _train(model, x, budget, seed=0)
        trained = time.perf_counter() - start
        for sampler_name, sampler in _samplers(name, model, x):
            torch.manual_seed(0)
            fit = time.perf_counter()
            sampler(None)  # fit
            seconds = round(trained + time.perf_counter() - fit, 1)
            with torch.no_grad():
                samples = sampler(n).reshape(n, *shape).numpy()
            # pythae's GMM sampler returns its draws grouped by component (as scikit-learn's
            # GaussianMixture.sample does), so the picture's first ten were all one kind of
            # garment; shuffled, they are a fair look. No figure depends on the order.
            samples = samples[np.random.default_rng(0).permutation(n)]
            label = f"{size}" if family != "vqvae" else f"{CODEBOOK} vectors of {size}"
            add(f"pythae {name}", sampler_name, label, samples, seconds)


def _samplers(name: str, model, x: torch.Tensor):
    """(sampler name, fit-or-sample function: None fits, n samples) of each row of a model."""

    def sampling(make, fit_options):
        made = {}

        def call(n):
            if n is None:
                made["sampler"] = make()
                if fit_options is not None:
                    made["sampler"].fit(x, **fit_options)
                return None
            return made["sampler"].sample(num_samples=n, batch_size=500).cpu()

        return call

    mixture = ("GMM", sampling(lambda: GaussianMixtureSampler(model), {}))
    if name == "VAE":
        return [("Normal", sampling(lambda: NormalSampler(model), None)), mixture]
    if name == "VQVAE":
        config = BaseTrainerConfig(
            output_dir=tempfile.mkdtemp(prefix="pixelcnn-"), num_epochs=2,
            per_device_train_batch_size=BATCH, no_cuda=True,
        )  # fmt: skip
        pixelcnn = lambda: PixelCNNSampler(model, PixelCNNSamplerConfig())  # noqa: E731
        return [("PixelCNN", sampling(pixelcnn, {"training_config": config}))]
    return [mixture]
