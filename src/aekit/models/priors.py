"""Where a family's sampled codes come from: N(0, I), or a Gaussian mixture on training codes.

A VAE's (or a WAE's) prior is N(0, I) (``StandardNormal``). Every family whose codes are flat
vectors also gets a full-covariance Gaussian mixture fitted on its training codes
(``CodeDensity``): an ex-post density (Ghosh et al. 2020, "From Variational to Deterministic
Autoencoders"), the only way a deterministic autoencoder has to sample, and for a VAE or WAE a
density of the codes the encoder actually gives, which the prior only approximates. Its
components are an option every such family inherits (``CodeMixtureOptions``). ``to_dict`` gives
its weights, means and covariances as plain numbers, which the run folder keeps as
``code_density.json`` (``aekit.runs.folder``); it is sampled with NumPy, so loading never
unpickles.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError, ModelFileError
from ..options.declaring import MAX_SIZE, option

log = logging.getLogger(__name__)

# The mixture is fitted on at most this many training codes (a seeded subsample): EM's cost grows
# with n. Chosen on: held-out Fashion-MNIST TRAINING images (5,000 not trained on), Frechet
# distance of 5,000 samples (aekit.evaluation.sample_quality) from conv models with code 16
# trained 120 s. Plain autoencoder, 10 components: 2,048 codes 42.4, 8,192 40.1, all 54,000 38.1;
# with 30 components 37.7, 35.4, 33.8; the VAE 70.7, 70.6, 65.3 and 68.0, 63.7, 58.6. The fit
# takes 1.4 s on 8,192 codes (30 components, code 16) and 15-22 s on all 54,000, so 8,192 keeps it
# a small part of a training call. (Before: 2,048, chosen on held-out log-likelihood.)
MAX_FIT_CODES = 8192
# EM stops when an iteration gains less than this in mean log-likelihood. scikit-learn's 1e-3
# took 38-39 iterations on those codes, 1e-2 20-21, with the same FD (35.4 against 35.5, 61.7
# against 61.5) in half the time.
FIT_TOLERANCE = 1e-2
# The samplers a model may have: "mixture" (the Gaussian mixture on its training codes, every
# family with vector codes) and "prior" (the family's own prior: N(0, I), a VQ-VAE's
# autoregressive prior over its index grids)
SAMPLERS = ("mixture", "prior")


@dataclass
class CodeMixtureOptions:
    """The option of every family with vector codes: the mixture fitted on its training codes.
    A family inherits it (one declaration, shared).

    30 components, chosen on the held-out training images above (``MAX_FIT_CODES``): FD 35.4
    against 10's 40.1 for the plain autoencoder, 63.7 against 70.6 for the VAE (20: 36.6, 64.3;
    100: 34.0, 61.7 in three to four times the fit). Checked on scikit-learn's digits (8x8, its
    held-out 20%), not chosen on: 30 beat 10 for the plain autoencoder and the VAE, MLP and conv.
    """

    gmm_components: int = option(
        30,
        kind="int",
        low=1,
        high=MAX_SIZE,
        group="model",
        metavar="N",
        help="mixture components of the code density fitted on the training codes (the "
        "sampler 'mixture')",
    )


@dataclass
class CodeDensity:
    """A Gaussian mixture over codes.

    Attributes:
        weights_: (m,) mixing weights, summing to 1.
        means_: (m, k) component means.
        covariances_: (m, k, k) full covariance matrices.
    """

    weights_: np.ndarray
    means_: np.ndarray
    covariances_: np.ndarray

    @classmethod
    def fit(cls, codes: np.ndarray, n_components: int, *, seed: int = 0) -> CodeDensity:
        """Fit on codes (n, k); with fewer than ``n_components`` codes, one component per code.

        At most ``MAX_FIT_CODES`` of them, drawn with ``seed``, are used.
        """
        # imported here: only training needs them
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.mixture import GaussianMixture
        from threadpoolctl import threadpool_limits

        codes = np.asarray(codes, dtype=np.float64)
        if codes.ndim != 2 or len(codes) < 2:
            raise DataError(f"a code density needs (n >= 2, k) codes, got shape {codes.shape}")
        if len(codes) > MAX_FIT_CODES:
            keep = np.random.default_rng(seed).choice(len(codes), MAX_FIT_CODES, replace=False)
            codes = codes[np.sort(keep)]

        m = min(n_components, len(np.unique(codes, axis=0)))
        if m < n_components:
            log.warning("only %d distinct training codes: the code density has %d components", m, m)
        # regularise relative to the codes' scale; collapsed codes (a degenerate model) need more
        reg_covar = max(1e-6 * float(codes.var(axis=0).mean()), 1e-10)
        for _ in range(5):
            try:
                # One BLAS thread: right after training, PyTorch's OpenMP threads still spin,
                # and NumPy's BLAS threads fighting them for the cores made this fit 20-50x
                # slower (4,096 codes on 2 busy cores: 124 s against 2.6 s).
                with warnings.catch_warnings(), threadpool_limits(1, user_api="blas"):
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    # k-means++ seeding instead of a full k-means run: as good a start
                    # for EM here, at a fraction of the cost
                    gmm = GaussianMixture(
                        m,
                        covariance_type="full",
                        reg_covar=reg_covar,
                        init_params="k-means++",
                        tol=FIT_TOLERANCE,
                        random_state=seed,
                    ).fit(codes)
                return cls(gmm.weights_, gmm.means_, gmm.covariances_)
            except ValueError:  # an ill-defined covariance
                reg_covar *= 100
        raise DataError("the training codes are too degenerate to fit a code density on")

    def sample(self, n: int, seed: int | None = None) -> np.ndarray:
        """n codes (n, k) float32: a component by weight, then mean + cholesky(cov) @ eps."""
        rng = np.random.default_rng(seed)
        component = rng.choice(len(self.weights_), size=n, p=self.weights_ / self.weights_.sum())
        eps = rng.standard_normal((n, self.means_.shape[1]))
        factors = np.linalg.cholesky(self.covariances_)  # (m, k, k)
        draws = self.means_[component] + np.einsum("nij,nj->ni", factors[component], eps)
        return draws.astype(np.float32)

    def to_dict(self) -> dict:
        return {
            "kind": "gaussian_mixture",
            "weights": self.weights_.tolist(),
            "means": self.means_.tolist(),
            "covariances": self.covariances_.tolist(),
        }

    @classmethod
    def from_dict(cls, data: object, code_size: int, path: str | Path) -> CodeDensity:
        """The density ``to_dict`` gave, read back from ``path`` (a run's code_density.json,
        see ``aekit.runs.folder``); ModelFileError naming the file if it is unsound."""
        try:
            weights = np.asarray(data["weights"], dtype=np.float64)
            means = np.asarray(data["means"], dtype=np.float64)
            covariances = np.asarray(data["covariances"], dtype=np.float64)
        except (ValueError, KeyError, TypeError) as exc:
            raise ModelFileError(f"{path}: not a readable code density: {exc}") from None
        m = len(weights)
        sound = (
            weights.ndim == 1
            and m >= 1
            and means.shape == (m, code_size)
            and covariances.shape == (m, code_size, code_size)
            and all(np.isfinite(a).all() for a in (weights, means, covariances))
            and (weights >= 0).all()
            and weights.sum() > 0
        )
        if not sound:
            raise ModelFileError(
                f"{path}: must hold m >= 1 non-negative weights, (m, {code_size}) means and "
                f"(m, {code_size}, {code_size}) covariances, all finite; got shapes "
                f"{weights.shape}, {means.shape}, {covariances.shape}"
            )
        try:
            np.linalg.cholesky(covariances)
        except np.linalg.LinAlgError:
            raise ModelFileError(
                f"{path}: covariances must be positive definite, got a singular one"
            ) from None
        return cls(weights, means, covariances)


class StandardNormal:
    """N(0, I) over codes of ``code_size``: a VAE's or WAE's prior, to sample new codes from."""

    def __init__(self, code_size: int):
        self.code_size = code_size

    def sample(self, n: int, seed: int | None = None) -> np.ndarray:
        """n codes (n, code_size) float64, the same for the same seed."""
        return np.random.default_rng(seed).standard_normal((n, self.code_size))
