"""aekit.sklearn: the estimators pass scikit-learn's own checks, work in its tools, and detect."""

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import blob_images
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import aekit
from aekit.models import option_fields
from aekit.sklearn import AutoencoderAnomalyDetector, AutoencoderTransformer

# Checks of scikit-learn's suite allowed to fail, with the reason why; none so far.
DETECTOR_EXPECTED_FAILURES: dict[str, str] = {
    # The check wants a row's score alike to 1e-7 whether the row is scored alone or with 19
    # others. The float32 network's codes differ by about 6e-8 between the two (PyTorch's kernel
    # for one row rounds unlike its kernel for many), and the default "both" score measures
    # the code distance against the training rows' spread of it, which turns that into about
    # 6e-7 on scores near 1. Scoring the same rows twice gives the same scores; rankings and
    # flags move only for rows tied to 1e-6 (the test of fresh rows below checks 1e-5).
    "check_methods_subset_invariance": "float32 rounding, magnified by the score's scale",
}
# Short training keeps the suite fast; one mixture component keeps aekit's code density cheap.
QUICK = {"epochs": 2, "gmm_components": 1}


@parametrize_with_checks(
    [AutoencoderTransformer(**QUICK), AutoencoderAnomalyDetector(**QUICK)],
    expected_failed_checks=lambda estimator: (
        DETECTOR_EXPECTED_FAILURES if isinstance(estimator, AutoencoderAnomalyDetector) else {}
    ),
)
def test_sklearn_suite(estimator, check):
    check(estimator)


def near_plane(n: int, seed: int = 0, width: int = 10, rank: int = 2) -> np.ndarray:
    """(n, width) points near a rank-``rank`` subspace (seeded)."""
    rng = np.random.default_rng(seed)
    basis = np.random.default_rng(99).normal(size=(rank, width))
    return rng.normal(size=(n, rank)) @ basis + 0.05 * rng.normal(size=(n, width))


@pytest.mark.parametrize("cls", [AutoencoderTransformer, AutoencoderAnomalyDetector])
def test_parameters_are_the_training_options(cls):
    options = {f.name: f.default for f in option_fields()}
    options["random_state"] = options.pop("seed")
    extra = (
        {"dropout": None, "contamination": "auto", "anomaly_score": "both", "n_neighbors": 20}
        if cls is AutoencoderAnomalyDetector
        else {}
    )
    assert cls().get_params() == options | extra
    with pytest.raises(TypeError, match="coed_size"):
        cls(coed_size=3)


def test_pipeline_grid_search_clone_and_set_params():
    x = near_plane(80)
    y = (x[:, 0] > np.median(x[:, 0])).astype(int)
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("ae", AutoencoderTransformer(code_size=8, **QUICK)),
            ("clf", LogisticRegression()),
        ]
    )
    search = GridSearchCV(pipe, {"ae__code_size": [2, 4], "ae__hidden": [[8]]}, cv=2)
    search.fit(x, y)
    assert search.best_estimator_.named_steps["ae"].model_.code_size in (2, 4)
    assert search.predict(x).shape == (80,)
    twin = clone(pipe).set_params(ae__code_size=3, ae__random_state=5)
    assert twin.named_steps["ae"].get_params()["random_state"] == 5
    assert twin.fit(x, y).named_steps["ae"].transform(x).shape == (80, 3)
    assert pipe.named_steps["ae"].code_size == 8  # the clone did not touch the original


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
def test_transform_inverse_score_and_feature_names():
    x = near_plane(60)
    frame = pd.DataFrame(x, columns=[f"c{i}" for i in range(10)])
    ae = AutoencoderTransformer(code_size=3, epochs=30, gmm_components=1).fit(frame)
    assert list(ae.feature_names_in_) == list(frame.columns) and ae.n_features_in_ == 10
    codes = ae.transform(frame)
    assert codes.shape == (60, 3) and codes.dtype == np.float64
    assert ae.transform(x.astype(np.float32)).dtype == np.float32
    assert list(ae.get_feature_names_out()) == ["ae0", "ae1", "ae2"]
    back = ae.inverse_transform(codes)
    assert back.shape == (60, 10)
    np.testing.assert_allclose(back, ae.model_.reconstruct(x.astype(np.float32)), atol=1e-5)
    far = near_plane(60, seed=1) + 3.0 * np.random.default_rng(2).normal(size=(60, 10))
    assert ae.score(frame) > ae.score(far)  # data off the learned plane rebuilds worse
    # the score agrees with the error of inverse_transform(transform(X)) in the scaled space
    scaled = ae.model_.scale(x.astype(np.float32))
    rebuilt = ae.model_.scale(back.astype(np.float32))
    assert ae.score(frame) == pytest.approx(-np.mean((scaled - rebuilt) ** 2), rel=1e-4)
    out = ae.set_output(transform="pandas").transform(frame)
    assert list(out.columns) == ["ae0", "ae1", "ae2"]
    with pytest.raises(ValueError, match="X has 4 features, but AutoencoderTransformer"):
        ae.transform(x[:, :4])
    with pytest.raises(ValueError, match=r"codes must have shape \(n, 3\)"):
        ae.inverse_transform(codes[:, :2])


def test_fit_is_seeded_and_leaves_global_generators_alone():
    x = near_plane(40)
    torch.manual_seed(123)
    np.random.seed(123)
    torch_before, numpy_before = torch.random.get_rng_state(), np.random.get_state()[1].copy()
    estimator = AutoencoderTransformer(random_state=3, **QUICK)
    first = estimator.fit_transform(x)
    assert torch.equal(torch.random.get_rng_state(), torch_before)
    assert np.array_equal(np.random.get_state()[1], numpy_before)
    np.testing.assert_array_equal(
        first, AutoencoderTransformer(random_state=3, **QUICK).fit_transform(x)
    )
    # random_state is aekit's seed (on this plane the model may keep its PCA start, which is
    # the same for every seed, so outputs need not differ between seeds)
    assert estimator.model_.train_config.seed == 3


@pytest.mark.parametrize("cls", [AutoencoderTransformer, AutoencoderAnomalyDetector])
def test_pickle_carries_run_files_not_torch_objects(cls):
    x = near_plane(40)
    fitted = cls(**QUICK).fit(x)
    state = fitted.__getstate__()
    assert {"config.json", "model.safetensors"} <= set(state["model_"])
    assert all(isinstance(content, bytes) for content in state["model_"].values())
    again = pickle.loads(pickle.dumps(fitted))
    method = "transform" if cls is AutoencoderTransformer else "score_samples"
    np.testing.assert_array_equal(getattr(again, method)(x), getattr(fitted, method)(x))


def test_bad_option_is_a_value_error_at_fit():
    with pytest.raises(ValueError, match="activation"):
        AutoencoderTransformer(activation="nope", **QUICK).fit(near_plane(20))


def test_from_run_takes_a_folder_or_a_model(tmp_path):
    x = near_plane(50).astype(np.float32)
    frame = pd.DataFrame(x, columns=[f"c{i}" for i in range(10)])
    model = aekit.train(frame, code_size=3, out=tmp_path / "run", progress=False, **QUICK)
    from_run = AutoencoderTransformer.from_run(tmp_path / "run")
    from_model = AutoencoderTransformer.from_run(model)
    for estimator in (from_run, from_model):
        assert estimator.code_size == 3 and estimator.n_features_in_ == 10
        assert list(estimator.feature_names_in_) == list(frame.columns)
        np.testing.assert_allclose(estimator.transform(frame), model.encode(x), atol=1e-6)
    assert from_model.model_ is model
    assert set(from_run.get_params()) == set(AutoencoderTransformer().get_params())


def test_detector_contamination_and_conventions():
    x = near_plane(100)
    detector = AutoencoderAnomalyDetector(contamination=0.1, code_size=2, **QUICK).fit(x)
    scores = detector.score_samples(x)
    assert scores.shape == (100,) and scores.dtype == np.float64
    assert np.sum(detector.predict(x) == -1) == 10  # the training outliers at 10%
    np.testing.assert_array_equal(detector.pyod_scores(x), -scores)
    np.testing.assert_allclose(detector.decision_function(x), scores - detector.offset_)
    for bad in (0.0, 0.6, "most", True):
        with pytest.raises(ValueError, match="contamination"):
            AutoencoderAnomalyDetector(contamination=bad, **QUICK).fit(x)


def test_detector_finds_points_off_the_subspace():
    inliers = near_plane(300, width=10, rank=3)
    rng = np.random.default_rng(7)
    # planted outliers: as spread as the inliers, but pointing off their 3-d subspace
    outliers = rng.normal(size=(15, 10)) * inliers.std(axis=0)
    x = np.concatenate([inliers, outliers])
    is_outlier = np.r_[np.zeros(300), np.ones(15)]
    # short training at a high learning rate; measured: AUROC 1.0, as PCA's error with 3 components
    fast = {"epochs": 100, "lr": 1e-2, "gmm_components": 1}
    detector = AutoencoderAnomalyDetector(code_size=3, **fast).fit(x)
    assert roc_auc_score(is_outlier, detector.pyod_scores(x)) > 0.9
    flagged = detector.predict(x) == -1  # contamination "auto": the robust z-score rule
    # measured: all 15 outliers and 6.7% of the inliers (the "both" score is a product, whose
    # tail is heavier than the squared error's: 2% of inliers by reconstruction alone)
    assert flagged[300:].mean() > 0.8 and flagged[:300].mean() < 0.1


def test_digits_codes_classify_about_as_well_as_pca():
    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.3, random_state=0, stratify=y
    )

    def accuracy(reducer) -> float:
        steps = [("scale", StandardScaler()), ("reduce", reducer)]
        pipe = Pipeline([*steps, ("clf", LogisticRegression(max_iter=2000))])
        return pipe.fit(x_train, y_train).score(x_test, y_test)

    pca = accuracy(PCA(8, random_state=0))
    ae = accuracy(AutoencoderTransformer(code_size=8, epochs=40, gmm_components=1))
    assert ae > pca - 0.03, (ae, pca)  # measured: PCA 0.857, aekit 0.854 (30 epochs), 0.874 (60)


def stripe_images(n: int) -> np.ndarray:
    """(n, 12, 12) grey images in [0, 1]: a bright horizontal bar at a random row (seeded)."""
    rows = np.random.default_rng(1).integers(2, 10, size=n)
    images = np.zeros((n, 12, 12), dtype=np.float32)
    images[np.arange(n), rows] = 1.0
    return images


def test_detector_takes_images_and_finds_the_odd_ones():
    blobs = blob_images(96)
    detector = AutoencoderAnomalyDetector(backbone="conv", hidden=[4, 8], code_size=4, **QUICK)
    detector.fit(blobs)  # (n, 12, 12): an image model, as aekit.train would build
    assert detector.model_.sample_shape == (1, 12, 12) and detector.n_features_in_ == 144
    test = np.concatenate([blob_images(140)[-40:], stripe_images(20)])
    scores = detector.pyod_scores(test)
    assert scores.shape == (60,) and np.isfinite(scores).all()
    assert detector.model_.train_config.dropout == 0.0  # images keep aekit.train's defaults
    # the same images with their channel axis, or as rows of pixels, score the same
    np.testing.assert_allclose(detector.pyod_scores(test[:, None]), scores, rtol=1e-6)
    np.testing.assert_allclose(detector.pyod_scores(test.reshape(60, 144)), scores, rtol=1e-6)
    # measured: AUROC 1.0 after 2 epochs (bars are far from every blob)
    assert roc_auc_score(np.r_[np.zeros(40), np.ones(20)], scores) > 0.9
    with pytest.raises(
        aekit.errors.DataError, match=r"shape \(1, 2, 72\).*give it \(n, 1, 12, 12\)"
    ):
        detector.score_samples(test.reshape(60, 2, 72))


def test_transformer_takes_images():
    images = blob_images(64)[:, None]  # (n, 1, 12, 12)
    ae = AutoencoderTransformer(backbone="conv", hidden=[4], code_size=3, **QUICK).fit(images)
    codes = ae.transform(images)
    assert codes.shape == (64, 3) and codes.dtype == np.float32
    np.testing.assert_array_equal(codes, ae.model_.encode(images))
    assert ae.inverse_transform(codes).shape == (64, 144)  # rows, as for every transformer
    with pytest.raises(ValueError, match="X has 100 features, but AutoencoderTransformer"):
        ae.transform(blob_images(5)[:, None, :10, :10])


def two_clusters_on_a_plane(n: int, seed: int) -> np.ndarray:
    """(n, 10) rows near a 2-d plane, in two tight clusters on it (seeded)."""
    rng = np.random.default_rng(seed)
    basis = np.random.default_rng(99).normal(size=(2, 10))
    centres = np.array([[-3.0, 0.0], [3.0, 0.0]])[rng.integers(2, size=n)]
    on_plane = centres + 0.3 * rng.normal(size=(n, 2))
    return on_plane @ basis + 0.02 * rng.normal(size=(n, 10))


def test_default_detector_finds_outliers_the_network_rebuilds():
    """Outliers on the training plane but between its clusters: every autoencoder rebuilds
    them, so the reconstruction error alone misses them; their codes lie far from every
    training code, and the default anomaly_score ("both") finds them."""
    inliers = two_clusters_on_a_plane(300, seed=0)
    rng = np.random.default_rng(5)
    basis = np.random.default_rng(99).normal(size=(2, 10))
    between = np.c_[rng.uniform(-1.0, 1.0, 15), rng.uniform(-1.5, 1.5, 15)] @ basis
    x = np.concatenate([inliers, between])
    is_outlier = np.r_[np.zeros(300), np.ones(15)]
    quick = {"epochs": 30, "gmm_components": 1}
    auroc = {
        score: roc_auc_score(
            is_outlier,
            AutoencoderAnomalyDetector(anomaly_score=score, **quick).fit(x).pyod_scores(x),
        )
        for score in ("both", "reconstruction", "neighbours")
    }
    # measured: both 0.995, neighbours 0.997, reconstruction 0.880
    assert auroc["both"] > 0.97 and auroc["neighbours"] > 0.97, auroc
    assert auroc["reconstruction"] < auroc["both"] - 0.05, auroc


def test_detector_scores_new_rows_on_the_training_rows_scale():
    """Training rows and new ones share a scale (the nearest code, a training row's own, is
    skipped for every sample): with contamination 0.1, about a tenth of fresh rows from the
    same distribution are flagged, not none."""
    detector = AutoencoderAnomalyDetector(contamination=0.1, epochs=5, gmm_components=1)
    detector.fit(two_clusters_on_a_plane(400, seed=0))
    fresh = two_clusters_on_a_plane(400, seed=1)
    assert 0.03 < np.mean(detector.predict(fresh) == -1) < 0.25
    # a sample's score is its own, whatever is scored beside it (to float32 rounding: the
    # network's matrix products differ in their order with the batch's size)
    alone, together = detector.score_samples(fresh[:7]), detector.score_samples(fresh)[:7]
    np.testing.assert_allclose(alone, together, rtol=1e-5)


def test_detector_table_defaults_fill_only_the_open_options():
    x = near_plane(120)
    detector = AutoencoderAnomalyDetector(epochs=2, gmm_components=1).fit(x)
    config, net = detector.model_.train_config, detector.model_.net.config
    assert (config.hidden, config.dropout, config.lr) == ([64], 0.2, 3e-3)
    assert config.code_size == x.shape[1] - 1  # a bottleneck: narrower than the table
    assert config.family_options.linear_path == "off" and not net.linear_path
    given = AutoencoderAnomalyDetector(
        hidden=[16], dropout=0.0, linear_path="auto", epochs=2, gmm_components=1
    ).fit(x)  # "auto" is the detector's choice: off on a table
    assert given.model_.train_config.hidden == [16] and given.model_.train_config.dropout == 0.0
    assert not given.model_.net.config.linear_path
    plain = aekit.train(x.astype(np.float32), epochs=2, progress=False)
    assert plain.net.config.linear_path  # aekit.train's own default keeps the linear path
    assert not aekit.train(x.astype(np.float32), epochs=2, linear_path="off").net.config.linear_path


@pytest.mark.parametrize("width, code", [(2, 1), (6, 5), (17, 16), (40, 16)])
def test_detector_code_is_narrower_than_the_table(width, code):
    """A code as wide as the row would let the network pass every column through, anomalies
    included: on a table the open code size is one less than the width, at most 16."""
    x = np.random.default_rng(0).normal(size=(60, width))
    detector = AutoencoderAnomalyDetector(epochs=1, gmm_components=1).fit(x)
    assert detector.model_.code_size == code
    assert AutoencoderAnomalyDetector(code_size=3, epochs=1).fit(x).model_.code_size == 3


@pytest.mark.parametrize(
    "bad",
    [
        {"anomaly_score": "distance"},
        {"n_neighbors": 0},
        {"n_neighbors": 2.5},
        {"n_neighbors": True},
    ],
)
def test_detector_bad_score_options_are_value_errors(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        AutoencoderAnomalyDetector(**bad, **QUICK).fit(near_plane(40))
