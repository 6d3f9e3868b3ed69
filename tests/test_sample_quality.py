"""Sample quality: the Frechet distance and the nearest-neighbour precision / recall / density /
coverage, in the features of a reference network trained on the run's training data; the rows
``aekit.evaluate`` adds beside PCA's generator and the real-vs-real floor."""

import numpy as np
import pytest
from conftest import blob_images
from scipy.ndimage import gaussian_filter

import aekit
from aekit.cli.commands import main
from aekit.data import load_data
from aekit.evaluation.reference_network import ReferenceNetwork
from aekit.evaluation.sample_quality import (
    frechet_distance,
    neighbour_scores,
    pca_generator_samples,
    quality_scores,
)


def test_the_frechet_distance_of_gaussians_is_the_closed_form():
    rng = np.random.default_rng(0)
    a = rng.normal(0.0, 1.0, size=(20000, 1))
    b = rng.normal(3.0, 2.0, size=(20000, 1))
    # (mu_a - mu_b)^2 + (sigma_a - sigma_b)^2 in one dimension
    assert frechet_distance(a, b) == pytest.approx(9.0 + 1.0, rel=0.03)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)
    c = rng.normal(size=(500, 8))
    assert frechet_distance(c, c) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-9)


def test_identical_sets_have_full_precision_and_recall_and_far_sets_none():
    rng = np.random.default_rng(1)
    real = rng.normal(size=(300, 4))
    same = neighbour_scores(real, real.copy())
    assert same["sample_precision"] == 1.0 and same["sample_recall"] == 1.0
    assert same["sample_coverage"] == 1.0 and same["sample_density"] >= 1.0
    far = neighbour_scores(real, real + 100.0)
    assert far["sample_precision"] == 0.0 and far["sample_recall"] == 0.0
    assert far["sample_coverage"] == 0.0 and far["sample_density"] == 0.0
    # samples on one mode of the real data: precise, but they recall little of it
    collapsed = neighbour_scores(real, real[:10].repeat(30, axis=0))
    assert collapsed["sample_precision"] == 1.0 and collapsed["sample_recall"] < 0.2


@pytest.fixture(scope="module")
def digits():
    train, test = load_data("digits:train"), load_data("digits:test")
    reference = ReferenceNetwork.fit(train.x, train.y)
    return train, test, reference


def test_the_reference_network_classifies_the_held_out_digits(digits):
    train, test, reference = digits
    assert reference.features(test.x[:7]).shape == (7, 128)
    assert reference.accuracy(test.x, test.y) > 0.9
    again = ReferenceNetwork.fit(train.x, train.y)  # fixed seed: the same network
    np.testing.assert_array_equal(again.features(test.x[:5]), reference.features(test.x[:5]))


def test_the_distance_grows_with_noise_and_blur(digits):
    """As in the FID paper's disturbance tests: training images made noisier or blurrier lie
    further from the held-out ones; undisturbed, they give the floor."""
    train, test, reference = digits
    held_out = reference.features(test.x)
    assert quality_scores(held_out, held_out)["sample_fd"] == pytest.approx(0.0, abs=1e-6)
    base = train.x[: len(test.x)]
    floor = quality_scores(held_out, reference.features(base))["sample_fd"]
    rng = np.random.default_rng(0)
    noisy = [base + rng.normal(0, s, base.shape).astype(np.float32) for s in (0.1, 0.2, 0.4)]
    blurred = [gaussian_filter(base, sigma=(0, 0, s, s)) for s in (0.5, 1.0, 2.0)]
    for disturbed in (noisy, blurred):
        scores = [quality_scores(held_out, reference.features(x)) for x in disturbed]
        distances = [row["sample_fd"] for row in scores]
        assert floor < distances[0] < distances[1] < distances[2], (floor, distances)
        assert scores[2]["sample_precision"] < scores[0]["sample_precision"]


def test_without_labels_the_reference_network_learns_clusters():
    images = blob_images(64)
    reference = ReferenceNetwork.fit(images[:, None], None)
    assert "k-means" in reference.description()
    assert reference.features(images[:3, None]).shape == (3, 128)
    big = np.pad(images[:16], ((0, 0), (2, 2), (2, 2)))[:, None]  # 16x16: the CNN
    assert "a CNN" in ReferenceNetwork.fit(big, np.arange(16) % 2).description()


def test_the_pca_generator_draws_from_a_gaussian_on_pca_codes():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 2)) @ np.array([[3.0, 0.0, 1.0], [0.0, 0.5, 0.0]]) + 5.0
    samples = pca_generator_samples(x, 2, 4000, seed=0)
    assert samples.shape == (4000, 3)
    np.testing.assert_allclose(samples.mean(0), x.mean(0), atol=0.15)
    np.testing.assert_allclose(np.cov(samples.T), np.cov(x.T), atol=0.3)


def test_evaluate_adds_sample_quality_beside_pca_and_the_floor(tmp_path, capsys):
    model = aekit.train("digits", code_size=8, epochs=20, progress=False, out=tmp_path / "run")
    comparison = aekit.evaluate(model)
    rows = comparison.rows
    for name in ("aekit", "pca", "real"):
        assert {"sample_fd", "sample_precision", "sample_recall"} <= set(rows[name]), name
    assert rows["real"]["sample_fd"] < rows["aekit"]["sample_fd"]
    assert rows["real"]["sample_fd"] < rows["pca"]["sample_fd"]
    notes = " ".join(comparison.notes)
    assert "reference network" in notes and "360 samples" in notes and "floor" in notes
    assert "sample_fd" in comparison.to_table()
    prior_rows = aekit.evaluate(model, sample_quality=False).rows
    assert "sample_fd" not in prior_rows["aekit"] and "real" not in prior_rows
    # aekit evaluate RUN stores them: the report shows them beside the samples
    assert main(["evaluate", str(tmp_path / "run"), "--quiet"]) == 0
    assert main(["report", str(tmp_path / "run"), "--quiet"]) == 0
    page = (tmp_path / "run" / "report.html").read_text()
    assert "sample_fd" in page and "The floor" in page and "new samples" in page
