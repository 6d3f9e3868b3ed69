"""How good a model's new samples are: the rows ``aekit.evaluate`` adds for a run that can
generate, beside a PCA generator and the real-vs-real floor.

All figures are computed in the features of a reference network trained on the run's training
data (``reference_network``), on N samples of each set, N = min(``SAMPLE_COUNT``, held-out
samples, training samples), so N is fixed per dataset:

- ``sample_fd``: the Frechet distance between Gaussians fitted to the features of N generated
  samples and of N held-out samples (FID's formula, Heusel et al. 2017); lower is better.
- ``sample_precision``, ``sample_recall``: the share of generated samples inside the real
  samples' k-nearest-neighbour balls, and of real samples inside the generated samples'
  (Kynkaanniemi et al. 2019, k = 5): fidelity and diversity apart. ``sample_density`` and
  ``sample_coverage`` (Naeem et al. 2020) are their versions that one outlier cannot inflate.

The same figures are given for a PCA generator (a Gaussian fitted to the PCA codes of the
training data at the model's code size, decoded: every evaluation is beside PCA) and for N
training samples against the held-out ones: the floor, what real data scores at this N, since
the Frechet distance of two finite samples of one distribution is above 0.
"""

from __future__ import annotations

import numpy as np

from ..trained.autoencoder import Autoencoder
from ..trained.sampling import sampler_description
from .comparison import Comparison
from .pca_baseline import PCABaseline, baseline_size
from .reference_network import REFERENCE_SEED, ReferenceNetwork

SAMPLE_COUNT = 5000
NEIGHBOURS = 5
_ROWS = 1024  # rows of a distance matrix computed at once


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """|mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)) of features a (n, f) and b (m, f).

    The trace of the matrix square root is the sum of the square roots of the eigenvalues of
    S_a^(1/2) S_b S_a^(1/2), a symmetric matrix, so no general matrix square root is needed.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    mean_gap = a.mean(0) - b.mean(0)
    cov_a, cov_b = np.atleast_2d(np.cov(a.T)), np.atleast_2d(np.cov(b.T))
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(values.clip(min=0.0))) @ vectors.T
    middle = root_a @ cov_b @ root_a
    cross = np.sqrt(np.linalg.eigvalsh((middle + middle.T) / 2).clip(min=0.0)).sum()
    distance = mean_gap @ mean_gap + np.trace(cov_a) + np.trace(cov_b) - 2.0 * cross
    return float(max(distance, 0.0))


def neighbour_scores(real: np.ndarray, fake: np.ndarray, k: int = NEIGHBOURS) -> dict:
    """Precision, recall, density and coverage of features ``fake`` (m, f) against ``real``
    (n, f), with balls reaching each point's k-th nearest neighbour in its own set."""
    real, fake = np.asarray(real, dtype=np.float64), np.asarray(fake, dtype=np.float64)
    real_radii = _kth_neighbour(real, k)  # squared
    fake_radii = _kth_neighbour(fake, k)
    in_real_balls = np.zeros(len(fake))  # how many real balls each fake sample lies in
    covered = np.zeros(len(real), dtype=bool)  # real samples with a fake one in their ball
    recalled = np.zeros(len(real), dtype=bool)  # real samples inside some fake ball
    for start in range(0, len(real), _ROWS):
        block = _squared_distances(real[start : start + _ROWS], fake)  # (rows, m)
        inside_real = block <= real_radii[start : start + _ROWS, None]
        in_real_balls += inside_real.sum(0)
        covered[start : start + _ROWS] = inside_real.any(1)
        recalled[start : start + _ROWS] = (block <= fake_radii[None, :]).any(1)
    return {
        "sample_precision": float(np.mean(in_real_balls > 0)),
        "sample_recall": float(np.mean(recalled)),
        "sample_density": float(in_real_balls.sum() / (k * len(fake))),
        "sample_coverage": float(np.mean(covered)),
    }


def quality_scores(real: np.ndarray, fake: np.ndarray) -> dict[str, float]:
    """Every figure of ``fake`` features against ``real`` ones: the Frechet distance, and the
    neighbour scores where each set has more than ``NEIGHBOURS`` samples."""
    scores = {"sample_fd": frechet_distance(real, fake)}
    if min(len(real), len(fake)) > NEIGHBOURS:
        scores.update(neighbour_scores(real, fake))
    return scores


def pca_generator_samples(x_train: np.ndarray, k: int, n: int, *, seed: int) -> np.ndarray:
    """n samples (n, d) of the PCA generator: a full-covariance Gaussian fitted to the codes of
    PCA with ``k`` components on ``x_train`` (n_train, d), its draws decoded."""
    pca = PCABaseline.fit(x_train, k, seed=seed)
    codes = pca.encode(x_train)
    mean = codes.mean(0)
    covariance = np.atleast_2d(np.cov(codes.T)) + 1e-9 * np.eye(k)
    draws = np.random.default_rng(seed).multivariate_normal(mean, covariance, size=n)
    return pca.decode(draws)


def add_sample_quality_rows(
    comparison: Comparison,
    model: Autoencoder,
    train: tuple[np.ndarray, np.ndarray | None],
    test: tuple[np.ndarray, np.ndarray | None],
    *,
    sampler: str | None = None,
) -> None:
    """Add the sample-quality figures of ``model``'s samples (drawn by ``sampler``), of the PCA
    generator and of the training data (row "real") against the held-out data to
    ``comparison``, with notes; ``train`` and ``test`` are (samples, labels or None) in the
    data's units, (n, *sample_shape)."""
    (x_train, y_train), (x_test, y_test) = train, test
    n = min(SAMPLE_COUNT, len(x_train), len(x_test))
    if n < 2:
        comparison.notes.append("no sample quality: it needs at least 2 held-out samples")
        return
    reference = ReferenceNetwork.fit(x_train, y_train)
    rng = np.random.default_rng(REFERENCE_SEED)
    held_out = reference.features(x_test[np.sort(rng.permutation(len(x_test))[:n])])
    training = x_train[np.sort(rng.permutation(len(x_train))[:n])]
    samples = model.sample(n, seed=model.train_config.seed, sampler=sampler)
    pca_samples = _pca_samples(model, x_train, n)
    for name, x in (("aekit", samples), ("pca", pca_samples), ("real", training)):
        shaped = np.asarray(x, dtype=np.float32).reshape(n, *model.sample_shape)
        scores = quality_scores(held_out, reference.features(shaped))
        comparison.rows.setdefault(name, {}).update(scores)
    comparison.notes.append(_note(comparison, model, reference, n, sampler, (x_test, y_test)))


def _pca_samples(model: Autoencoder, x_train: np.ndarray, n: int) -> np.ndarray:
    """The PCA generator's n samples in the data's units, fitted in the model's scaled space
    at its code size and clipped to the training data's range."""
    scaled = model.scale(x_train)
    k = baseline_size(model.code_size, scaled)
    drawn = model.scaler.inverse_transform(pca_generator_samples(scaled, k, n, seed=REFERENCE_SEED))
    info = model.data_info
    return np.clip(drawn, info.data_min, info.data_max)


def _note(comparison, model, reference, n, sampler, test) -> str:
    floor = comparison.rows["real"]
    accuracy = ""
    x_test, y_test = test
    if reference.classes is not None and y_test is not None:
        accuracy = f", {reference.accuracy(x_test, y_test):.3f} accurate on the held-out data"
    recall = (
        f", precision {floor['sample_precision']:.3f}, recall {floor['sample_recall']:.3f}"
        if "sample_precision" in floor
        else ""
    )
    return (
        f"sample_*: {n} samples of {sampler_description(model, sampler)} against {n} held-out "
        f"samples, in the 128 features of a reference network trained on the training data "
        f"({reference.description()}{accuracy}); PCA's: a Gaussian on PCA-"
        f"{comparison.code_size} codes, decoded. The floor, {n} training samples against the "
        f"held-out ones: FD {floor['sample_fd']:.4g}{recall}"
    )


def _squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) squared Euclidean distances, from the norms (one matrix product)."""
    squared = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return squared.clip(min=0.0)


def _kth_neighbour(x: np.ndarray, k: int) -> np.ndarray:
    """(n,) squared distance from each row of x to its k-th nearest other row."""
    k = min(k, len(x) - 1)
    radii = np.empty(len(x))
    for start in range(0, len(x), _ROWS):
        block = _squared_distances(x[start : start + _ROWS], x)
        radii[start : start + _ROWS] = np.partition(block, k, axis=1)[:, k]  # [:, 0] is itself
    return radii
