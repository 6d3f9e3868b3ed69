"""The Wasserstein autoencoder (WAE-MMD): its MMD tells the prior's draws from other codes,
and training pulls its codes to N(0, I), where a plain autoencoder's go wherever they like."""

import numpy as np
import torch

import aekit
from aekit.models.wae import mmd_to_standard_normal


def test_the_mmd_is_near_zero_for_prior_draws_and_large_for_others():
    torch.manual_seed(0)
    prior_draws = torch.randn(256, 4)
    shifted = torch.randn(256, 4) + 2.0
    assert abs(float(mmd_to_standard_normal(prior_draws))) < 0.02
    assert float(mmd_to_standard_normal(shifted)) > 0.2


def test_training_pulls_the_codes_to_the_prior():
    x = np.random.default_rng(0).normal(size=(400, 8)).astype(np.float32) * 3 + 5
    options = dict(code_size=3, hidden=[32], epochs=40, seed=0)
    wae = aekit.train(x, model="wae", **options)
    plain = aekit.train(x, model="ae", linear_path="off", **options)
    torch.manual_seed(1)
    wae_mmd = float(mmd_to_standard_normal(torch.from_numpy(wae.encode(x))))
    torch.manual_seed(1)
    plain_mmd = float(mmd_to_standard_normal(torch.from_numpy(plain.encode(x))))
    assert wae_mmd < 0.5 * plain_mmd, (wae_mmd, plain_mmd)
    samples = wae.sample(200, seed=0)
    # decoded prior draws land where the data lies
    assert abs(samples.mean() - x.mean()) < 1.0
