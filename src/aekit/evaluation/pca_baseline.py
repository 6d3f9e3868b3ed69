"""How good is an autoencoder? Reconstruction metrics, a PCA baseline and a linear probe on codes.

Everything here works on NumPy arrays, so it knows nothing about models: the caller encodes and
decodes, this module scores. ``compare_with_pca`` is what ``aekit evaluate`` prints: the model
beside PCA with the same code size, because an autoencoder that does not beat PCA is not worth
its training time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ..data.scaling import Scaler
from ..errors import ConfigError, DataError
from .comparison import Comparison

DATA_UNITS = "data units"
STANDARDISED_UNITS = "standardised units"

# Clipping for BCE: a reconstruction of exactly 0 or 1 against a target on the other side
# would cost log(0) = -inf; 1e-7 bounds one value's loss at about 16 nats.
_BCE_EPS = 1e-7


def reconstruction_metrics(
    x_true: np.ndarray, x_recon: np.ndarray, *, data_range: float, with_bce: bool
) -> dict[str, float]:
    """Score a reconstruction against its target, averaged over every value.

    Args:
        x_true: (n, ...) the data, in the units the metrics should be reported in.
        x_recon: same shape as ``x_true``, the reconstruction.
        data_range: max - min of the data (1.0 for data in [0, 1], 255.0 for bytes), for PSNR.
        with_bce: also compute binary cross-entropy; meaningful only for data in [0, 1].

    Returns:
        ``{"mse", "mae", "psnr"}`` and ``"bce"`` if ``with_bce``. ``psnr`` is
        ``10 * log10(data_range**2 / mse)`` in dB, computed from the overall MSE (not averaged
        over samples), and ``inf`` for an exact reconstruction. ``bce`` is the mean binary
        cross-entropy in nats per value of ``x_recon`` read as probabilities against
        ``x_true``, with ``x_recon`` clipped to [1e-7, 1 - 1e-7] and ``x_true`` to [0, 1].
    """
    x_true = np.asarray(x_true, dtype=np.float64)
    x_recon = np.asarray(x_recon, dtype=np.float64)
    if x_true.shape != x_recon.shape:
        raise DataError(
            f"reconstruction has shape {x_recon.shape} but the data has shape {x_true.shape}"
        )
    if x_true.size == 0:
        raise DataError("cannot compute metrics on empty arrays")
    if not data_range > 0:
        raise ConfigError(f"data_range must be > 0, got {data_range}")
    error = x_recon - x_true
    mse = float(np.mean(error**2))
    metrics = {
        "mse": mse,
        "mae": float(np.mean(np.abs(error))),
        "psnr": math.inf if mse == 0 else float(10 * np.log10(data_range**2 / mse)),
    }
    if with_bce:
        p = np.clip(x_recon, _BCE_EPS, 1 - _BCE_EPS)
        t = np.clip(x_true, 0.0, 1.0)
        metrics["bce"] = float(-np.mean(t * np.log(p) + (1 - t) * np.log1p(-p)))
    return metrics


def baseline_size(code_size: int, x_train: np.ndarray) -> int:
    """PCA's number of components: the model's code size, or min(n, d) when the code is as
    wide as the training data allows or wider (an overcomplete code); such a PCA keeps all of
    the training data's span, the most a linear code can."""
    return int(min(code_size, *np.shape(x_train)))


@dataclass
class PCABaseline:
    """PCA as an autoencoder: a linear encoder and decoder with the same code size as the model.

    Attributes:
        mean_: (d,) the training mean, subtracted before encoding.
        components_: (k, d) orthonormal principal axes, largest variance first.
    """

    mean_: np.ndarray
    components_: np.ndarray

    @classmethod
    def fit(cls, x_train: np.ndarray, n_components: int, *, seed: int = 0) -> PCABaseline:
        """Fit PCA with ``n_components`` axes on ``x_train`` (n, d) float.

        sklearn picks the solver (randomized for large data); ``seed`` makes it deterministic.
        """
        x_train = np.asarray(x_train)
        if x_train.ndim != 2:
            raise DataError(f"PCA needs a 2-d array (n, d), got shape {x_train.shape}")
        n, d = x_train.shape
        if not isinstance(n_components, (int, np.integer)) or n_components < 1:
            raise ConfigError(f"n_components must be a positive integer, got {n_components!r}")
        if n_components > min(n, d):
            raise ConfigError(
                f"PCA with {n_components} components needs at least that many samples and "
                f"features, but the training data has {n} samples and {d} features; "
                f"use a code size of at most {min(n, d)}"
            )
        if not np.all(np.isfinite(x_train)):
            raise DataError("PCA training data contains NaN or infinite values")
        pca = PCA(n_components=int(n_components), random_state=seed).fit(x_train)
        return cls(mean_=pca.mean_, components_=pca.components_)

    @property
    def n_features(self) -> int:
        """Width d of the data this PCA was fitted on."""
        return self.components_.shape[1]

    def encode(self, x: np.ndarray) -> np.ndarray:
        """Project (n, d) data onto the principal axes: (n, k) codes."""
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise DataError(f"PCA expects data of shape (n, {self.n_features}), got {x.shape}")
        return (x - self.mean_) @ self.components_.T

    def decode(self, z: np.ndarray) -> np.ndarray:
        """Map (n, k) codes back to (n, d) data; ``decode(encode(x))`` is the PCA reconstruction."""
        z = np.asarray(z)
        k = self.components_.shape[0]
        if z.ndim != 2 or z.shape[1] != k:
            raise DataError(f"PCA expects codes of shape (n, {k}), got {z.shape}")
        return z @ self.components_ + self.mean_


def probe_accuracy(
    codes_train: np.ndarray,
    y_train: np.ndarray,
    codes_test: np.ndarray,
    y_test: np.ndarray,
    *,
    max_train: int = 10000,
    seed: int = 0,
) -> float:
    """Test accuracy of a logistic regression trained on codes: how linearly readable labels are.

    Args:
        codes_train: (n, k) codes of the training data.
        y_train: (n,) labels, ints or strings.
        codes_test: (m, k) codes of the test data.
        y_test: (m,) labels.
        max_train: train on a seeded random subset of at most this many samples, because
            fitting on all 60k MNIST codes would make ``evaluate`` slow for little gain.
        seed: picks the subset.

    Returns:
        Accuracy in [0, 1]; ``nan`` if the (subset of) training labels has a single class.
    """
    codes_train, codes_test = np.asarray(codes_train), np.asarray(codes_test)
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    if codes_train.ndim != 2 or codes_test.ndim != 2:
        raise DataError(f"codes must be 2-d (n, k), got {codes_train.shape} and {codes_test.shape}")
    if codes_train.shape[1] != codes_test.shape[1]:
        raise DataError(
            f"train codes have {codes_train.shape[1]} columns, test codes {codes_test.shape[1]}"
        )
    if len(y_train) != len(codes_train) or len(y_test) != len(codes_test):
        raise DataError(
            f"labels and codes differ in length: {len(y_train)} vs {len(codes_train)} (train), "
            f"{len(y_test)} vs {len(codes_test)} (test)"
        )
    if max_train < 1:
        raise ConfigError(f"max_train must be >= 1, got {max_train}")
    if len(codes_train) > max_train:
        rng = np.random.default_rng(seed)
        subset = np.sort(rng.choice(len(codes_train), size=max_train, replace=False))
        codes_train, y_train = codes_train[subset], y_train[subset]
    if len(np.unique(y_train)) < 2:
        return math.nan
    # Standardise so that codes of very different scales (VAE means vs raw PCA scores) get the
    # same treatment from the regulariser and lbfgs converges.
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    probe.fit(codes_train, y_train)
    return float(probe.score(codes_test, y_test))


# A code value counts as near zero below this fraction of the codes' root-mean-square: relative,
# because an L1 penalty can shrink a linear code's scale (and grow the decoder's) without making
# it sparse, and an absolute threshold would count that as sparsity.
NEAR_ZERO_RELATIVE = 0.01
NEAR_ZERO_SIGMOID = 0.05  # for sigmoid codes (KL sparsity), in (0, 1): "inactive"


def near_zero_fraction(codes: np.ndarray, *, sigmoid_code: bool = False) -> float:
    """Fraction of the values of codes (n, k) that are near zero: how sparse a code is.

    Sigmoid codes (KL-sparse models): activation < 0.05. Others: |z| < 0.01 x the RMS of all
    the code values (see NEAR_ZERO_RELATIVE).
    """
    codes = np.abs(np.asarray(codes, dtype=np.float64))
    if codes.size == 0:
        raise DataError("cannot measure the sparsity of an empty code array")
    if sigmoid_code:
        return float(np.mean(codes < NEAR_ZERO_SIGMOID))
    rms = float(np.sqrt(np.mean(codes**2)))
    return float(np.mean(codes <= NEAR_ZERO_RELATIVE * rms))


def evaluation_space(
    per_feature: bool, x_train: np.ndarray
) -> tuple[str, Callable[[np.ndarray], np.ndarray] | None]:
    """The units reconstruction errors are measured in, and the map into them (None: as is).

    The rule follows the model's scaler, fitted at training: a model that scaled all values
    together (images; tables of one unit, ``scaling.one_unit``) is measured in the data's own
    units; one that scaled each column apart (a table of mixed units, where an error of 1 in
    one column and in another mean different things) in standardised units: each column
    minus its training mean, divided by its training std (floored as ``scaling.SPREAD_FLOOR``
    says, so a near-constant column cannot dominate). ``x_train`` is (n, d) in original units.
    """
    if not per_feature:
        return DATA_UNITS, None
    return STANDARDISED_UNITS, Scaler.fit(x_train, "standard", per_feature=True).transform


def compare_with_pca(
    *,
    x_train: np.ndarray,
    x_test: np.ndarray,
    recon_test: np.ndarray,
    codes_train: np.ndarray | None,
    codes_test: np.ndarray,
    y_train: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
    code_size: int,
    data_range: float,
    with_bce: bool,
    dataset: str,
    seed: int = 0,
    to_original: Callable[[np.ndarray], np.ndarray] | None = None,
    x_test_original: np.ndarray | None = None,
) -> Comparison:
    """Score a model's reconstructions and codes beside PCA with the same code size.

    PCA is fitted in the space the model sees (``x_train``, (n, d), e.g. standardised), so both
    compress the same numbers; metrics are computed in original units so they read as the
    user's data. ``x_test`` (m, d) is in model space; ``recon_test`` (m, d), the model's
    reconstruction, and ``x_test_original`` (default ``x_test``) in original units, which
    ``to_original`` maps model-space arrays to (identity if None). ``codes_train`` (n, k)
    feed the probe (None without labels: encoding the training data is much of an
    evaluation's time) and ``codes_test`` (m, k); the probe runs only when both labels
    ``y_train`` (n,) and ``y_test`` (m,) are given. ``data_range`` (original units) sets the
    PSNR, ``with_bce`` adds BCE (data in [0, 1]), ``dataset`` names the table, ``seed`` seeds
    PCA's randomized solver and the probe's training subset.
    """
    x_train, x_test = np.asarray(x_train), np.asarray(x_test)
    recon_test = np.asarray(recon_test)
    target = x_test if x_test_original is None else np.asarray(x_test_original)
    _check_shapes(x_train, x_test, target, recon_test, codes_train, codes_test)
    pca_size = baseline_size(code_size, x_train)
    pca = PCABaseline.fit(x_train, pca_size, seed=seed)
    pca_recon = pca.decode(pca.encode(x_test))
    if to_original is not None:
        pca_recon = np.asarray(to_original(pca_recon))
    metrics = dict(data_range=data_range, with_bce=with_bce)
    rows = {
        "aekit": reconstruction_metrics(target, recon_test, **metrics),
        "pca": reconstruction_metrics(target, pca_recon, **metrics),
    }
    notes = [f"PSNR from the overall MSE with data range {data_range:g}"]
    if pca_size < code_size:
        notes.append(
            f"PCA has {pca_size} components, all that {len(x_train)} training samples of "
            f"{x_train.shape[1]} values allow (code size {code_size})"
        )

    _probe_both(rows, notes, pca, x_train, x_test, codes_train, codes_test, y_train, y_test, seed)
    return Comparison(
        rows=rows,
        n_test=len(x_test),
        n_train=len(x_train),
        code_size=code_size,
        dataset=dataset,
        notes=notes,
    )


def _check_shapes(x_train, x_test, target, recon_test, codes_train, codes_test) -> None:
    if x_train.ndim != 2 or x_test.ndim != 2 or x_train.shape[1] != x_test.shape[1]:
        raise DataError(
            f"x_train and x_test must be (n, d) with the same d, got {x_train.shape} and "
            f"{x_test.shape}"
        )
    if target.shape != x_test.shape or recon_test.shape != x_test.shape:
        raise DataError(
            f"x_test {x_test.shape}, x_test_original {target.shape} and recon_test "
            f"{recon_test.shape} must have the same shape"
        )
    n_codes_train = len(x_train) if codes_train is None else len(codes_train)
    if n_codes_train != len(x_train) or len(codes_test) != len(x_test):
        raise DataError(
            f"codes and data differ in length: {n_codes_train} vs {len(x_train)} (train), "
            f"{len(codes_test)} vs {len(x_test)} (test)"
        )


def _probe_both(rows, notes, pca, x_train, x_test, codes_train, codes_test, y_train, y_test, seed):
    """The probe on the model's codes and on PCA's, where both labels are given."""
    if y_train is None or y_test is None:
        if y_train is not None or y_test is not None:
            notes.append("no probe: labels were given for only one of train and test")
        return
    if codes_train is None:
        raise DataError("the probe needs the training codes: codes_train is None")
    codes = {
        "aekit": (codes_train, codes_test),
        "pca": (pca.encode(x_train), pca.encode(x_test)),
    }
    _add_probe(rows, notes, codes, y_train, y_test, seed)


def _add_probe(rows: dict, notes: list, codes: dict, y_train, y_test, seed: int) -> None:
    """The probe's accuracy on each row's (train, test) codes, and its note."""
    probe_max_train = 10000
    for name, (train_codes, test_codes) in codes.items():
        rows[name]["probe_accuracy"] = probe_accuracy(
            train_codes, y_train, test_codes, y_test, max_train=probe_max_train, seed=seed
        )
    n_train = len(codes["aekit"][0])
    notes.append(
        f"probe: logistic regression on standardised codes, trained on "
        f"{min(probe_max_train, n_train)} of {n_train} training samples"
    )
    if math.isnan(rows["aekit"]["probe_accuracy"]):
        notes.append("probe accuracy is nan: the training labels have a single class")
