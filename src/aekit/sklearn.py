"""scikit-learn estimators: ``AutoencoderTransformer`` and ``AutoencoderAnomalyDetector``.

Both train through ``aekit.train`` (the one training loop) and keep the trained
``aekit.Autoencoder`` in ``model_``. Their constructor parameters are the training options,
shared and every family's, read from their declarations (``aekit.models.option_fields``), so a
new option becomes a parameter without an edit here; only ``seed`` is renamed
``random_state``, scikit-learn's name for it. ``sklearn.pyi`` writes the signatures out for
IDEs and type checkers (a test keeps it equal to the declarations).

X is rows (n, d), as for every scikit-learn estimator, or a NumPy array of images (n, H, W) or
(n, C, H, W): fitted on images, an estimator trains an image model (the conv backbone, with
``backbone="auto"`` on 16x16 and up or ``backbone="conv"``) and then takes images in that
layout, or the same images flattened to rows.

>>> from sklearn.pipeline import make_pipeline
>>> from sklearn.preprocessing import StandardScaler
>>> pipe = make_pipeline(StandardScaler(), AutoencoderTransformer(code_size=8))
>>> codes = pipe.fit_transform(X)
"""

from __future__ import annotations

import copy
import inspect
import math
from numbers import Integral

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, OutlierMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_array,
    check_is_fitted,
    validate_data,
)

from .api import train
from .evaluation.detector_terms import codes_and_errors, fitted_reference
from .evaluation.explanations import AnomalyExplanation, explain_samples
from .evaluation.outlier_scores import SCORES, outlier_threshold
from .models.options import OWNERS, all_options, option_fields
from .options.defaults import DETECTOR_NEIGHBOURS, DETECTOR_TABLE, detector_code_size
from .trained.autoencoder import Autoencoder
from .trained.run_bytes import model_from_files, run_files

# TrainConfig's option -> the estimator's parameter, where scikit-learn has its own name
RENAMED = {"seed": "random_state"}
FLOAT_DTYPES = (np.float64, np.float32)


def option_parameters() -> list[tuple[str, str, object]]:
    """(option name, parameter name, default) for every option declared (the shared ones,
    then each family's), in their order; the declared defaults are immutable, as scikit-learn
    wants."""
    return [
        (option.name, RENAMED.get(option.name, option.name), option.default)
        for option in option_fields()
    ]


def _init_with_parameters(extra: dict[str, object]):
    """An ``__init__`` taking every training option (and ``extra``) as a keyword.

    scikit-learn reads an estimator's parameters from its ``__init__`` signature, so the
    signature is built from TrainConfig's fields; the body stores each value as given (no
    validation here: ``aekit.train`` checks the options when ``fit`` runs, as scikit-learn asks).
    """
    defaults = {name: default for _, name, default in option_parameters()} | extra

    def __init__(self, **params):
        unknown = sorted(set(params) - set(defaults))
        if unknown:
            raise TypeError(f"{type(self).__name__} got an unexpected parameter {unknown[0]!r}")
        for name, default in defaults.items():
            setattr(self, name, params.get(name, default))

    keyword = inspect.Parameter.KEYWORD_ONLY
    __init__.__signature__ = inspect.Signature(
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        + [inspect.Parameter(name, keyword, default=value) for name, value in defaults.items()]
    )
    return __init__


class _AutoencoderEstimator(BaseEstimator):
    """What both estimators share: training through aekit.train, the checks, pickling."""

    # -- training --------------------------------------------------------------------------
    def _train(self, X) -> np.ndarray:
        """Check X, train ``model_`` on it and return X as checked (rows or images, float)."""
        X = self._validated(X, reset=True)
        options = self._training_options(X)
        # aekit.train seeds torch's global generator; leave the caller's random state as it was
        with torch.random.fork_rng(devices=range(torch.cuda.device_count())):
            self.model_ = train(X.astype(np.float32), progress=False, **options)
        return X

    def _training_options(self, X: np.ndarray) -> dict:
        """The options aekit.train gets for checked X: the parameters, the seed as aekit's."""
        options = {
            option: copy.deepcopy(getattr(self, name)) for option, name, _ in option_parameters()
        }
        options["seed"] = self._seed()
        return options

    def _seed(self) -> int:
        """An integer random_state is aekit's seed; None or a RandomState draws one from it."""
        if isinstance(self.random_state, Integral) and not isinstance(self.random_state, bool):
            return int(self.random_state)
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    def _check_input(self, X) -> np.ndarray:
        check_is_fitted(self)
        return self._validated(X, reset=False)

    def _validated(self, X, *, reset: bool) -> np.ndarray:
        """X checked at the door: rows (n, d), or images (n, H, W) / (n, C, H, W) kept as given.

        Images go to ``aekit.train`` as images, so an image model (the conv backbone) is built;
        ``n_features_in_`` counts the values per sample either way, and the model checks an
        image's layout when it scores it.
        """
        checks = {"dtype": FLOAT_DTYPES, "ensure_min_samples": 2 if reset else 1}
        if getattr(X, "ndim", 2) <= 2:
            return validate_data(self, X, reset=reset, **checks)
        images = check_array(X, allow_nd=True, input_name="X", estimator=self, **checks)
        validate_data(self, images.reshape(len(images), -1), reset=reset, skip_check_array=True)
        return images

    def _model_input(self, X: np.ndarray) -> np.ndarray:
        """Checked X as the model takes it: images as given, rows shaped as its samples."""
        if X.ndim > 2:
            return X.astype(np.float32, copy=False)
        return X.astype(np.float32, copy=False).reshape(len(X), *self.model_.sample_shape)

    def _errors(self, X: np.ndarray) -> np.ndarray:
        """Per-sample mean squared reconstruction error in the model's scaled space, float64."""
        return self.model_.anomaly_scores(self._model_input(X))

    # -- pickling: the trained model travels as its run folder's files ---------------------
    def __getstate__(self):
        state = super().__getstate__()
        if "model_" in state:
            state = dict(state)
            state["model_"] = run_files(state["model_"])
        return state

    def __setstate__(self, state):
        if isinstance(state.get("model_"), dict):
            state = dict(state)
            state["model_"] = model_from_files(state["model_"])
        super().__setstate__(state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # X is float64 or float32 (anything else becomes float64); outputs keep that dtype
        if tags.transformer_tags is not None:
            tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


class AutoencoderTransformer(TransformerMixin, _AutoencoderEstimator):
    """An autoencoder as a scikit-learn transformer, like ``PCA``: ``transform`` gives codes.

    ``fit`` trains through ``aekit.train``, holding out ``val_fraction`` of X for validation
    (early stopping, best epoch) as it does.

    Parameters
    ----------
    **options
        Every training option of ``aekit.train`` (``code_size``, ``hidden``, ``loss``,
        ``epochs``, ..., each family's own), with the same default: see the option reference.
    random_state : int, numpy.random.RandomState or None, default=0
        aekit's ``seed``; None or a RandomState draws one.

    Attributes
    ----------
    model_ : Autoencoder
        The trained model.
    n_features_in_ : int
        Values per sample seen in ``fit``.
    feature_names_in_ : numpy.ndarray
        X's column names, when it had them.
    """

    __init__ = _init_with_parameters({})

    def fit(self, X, y=None):
        """Train on X: rows (n, d) or images (n, H, W) / (n, C, H, W); y is ignored."""
        self._train(X)
        return self

    def transform(self, X) -> np.ndarray:
        """X (rows, or images in the layout fit saw) -> codes (n, code_size), in X's float dtype."""
        X = self._check_input(X)
        self.model_.require_vector_codes("transform (codes as features)")
        return self.model_.encode(self._model_input(X)).astype(X.dtype)

    def inverse_transform(self, X) -> np.ndarray:
        """Codes (n, code_size) -> reconstructions as rows (n, d) in the data's units (images
        flattened; ``model_.decode`` gives them as images)."""
        check_is_fitted(self)
        codes = np.asarray(X)
        out_dtype = codes.dtype if codes.dtype in FLOAT_DTYPES else np.float64
        codes = _as_2d(codes, self.model_.code_size, "codes")
        return self.model_.decode(codes).reshape(len(codes), -1).astype(out_dtype)

    def score(self, X, y=None) -> float:
        """Minus the mean squared reconstruction error in the scaled space: higher is better."""
        return -float(np.mean(self._errors(self._check_input(X))))

    @classmethod
    def from_run(cls, run):
        """A fitted transformer from a run folder (``aekit train ... -o RUN``) or an Autoencoder."""
        model = run if isinstance(run, Autoencoder) else Autoencoder.load(run)
        options = all_options(model.train_config)
        estimator = cls(
            **{name: options.get(option, default) for option, name, default in option_parameters()}
        )
        estimator.model_ = model
        estimator.n_features_in_ = math.prod(model.sample_shape)
        names = model.data_info.feature_names
        if names:
            estimator.feature_names_in_ = np.asarray(names, dtype=object)
        return estimator

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """``ae0, ae1, ...``: one name per code unit."""
        check_is_fitted(self)
        _check_feature_names_in(self, input_features)
        return np.asarray([f"ae{i}" for i in range(self.model_.code_size)], dtype=object)


class AutoencoderAnomalyDetector(OutlierMixin, _AutoencoderEstimator):
    """Outlier detection with an autoencoder, with scikit-learn's conventions.

    Like ``IsolationForest``: ``score_samples(X)`` is minus the anomaly score (higher = more
    normal), ``decision_function(X) = score_samples(X) - offset_`` is negative for outliers,
    and ``predict(X)`` gives -1 for outliers, +1 for inliers. In PyOD's convention (higher =
    more abnormal, 1 = outlier), ``pyod_scores(X)`` is the anomaly score itself and
    ``(predict(X) == -1).astype(int)`` gives the labels.

    Parameters
    ----------
    contamination : "auto" or float, default="auto"
        The expected fraction of outliers, in (0, 0.5]: ``offset_`` is that percentile of
        the training scores. ``"auto"``: a sample is an outlier when its score lies more than
        ``AUTO_ROBUST_Z`` robust standard deviations (1.4826 times the median absolute
        deviation) above the median training score.
    anomaly_score : {"both", "reconstruction", "neighbours"}, default="both"
        "both": how far a sample stands out on two counts, its reconstruction error and its
        code's mean distance to the ``n_neighbors`` nearest training codes, each measured
        against the training rows' (``aekit.evaluation.outlier_scores``): on a table the larger
        of the two, on images their sum, with the error taken locally (``detector_terms``);
        "reconstruction": the mean squared reconstruction error in the model's scaled space
        (every feature alike); "neighbours": the distance.
    n_neighbors : int, default=20
        Training codes the code distance averages over.
    **options
        The training options of ``aekit.train``, as for ``AutoencoderTransformer``. On a
        table, those left open take the detector's own defaults
        (``aekit.options.defaults.DETECTOR_TABLE``: a small network with dropout, trained
        briefly, without the linear path that starts a reconstruction model at PCA), chosen
        on the 21 ADBench tables' splits of seeds 0-2 (``benchmarks/anomaly.py`` reports seeds
        3-5, not chosen on, beside them): a model tuned to reconstruct rebuilds the anomalies
        too.
        ``dropout=None`` and ``linear_path="auto"`` mean the detector's choice (0.2 and "off"
        on tables, 0 and aekit's rule on images). Images keep ``aekit.train``'s defaults.

    Attributes
    ----------
    model_ : Autoencoder
        The trained model.
    offset_ : float
        The threshold of ``decision_function``, from the training scores.
    reference_ : ScoreReference or None
        The training rows' codes and where their two score terms lie, which "both" and
        "neighbours" measure a sample against (None for "reconstruction").
    """

    AUTO_ROBUST_Z = 3.0
    __init__ = _init_with_parameters(
        {
            "dropout": None,
            "contamination": "auto",
            "anomaly_score": "both",
            "n_neighbors": DETECTOR_NEIGHBOURS,
        }
    )

    def fit(self, X, y=None):
        """Train on X, rows (n, d) or images (n, H, W) / (n, C, H, W) (y is ignored), and set
        ``offset_`` from the training scores."""
        self._check_contamination()
        self._check_score()
        X = self._train(X)
        model_input = self._model_input(X)
        self.reference_ = None
        if self.anomaly_score == "reconstruction":
            training = self.model_.anomaly_scores(model_input)
        else:  # one pass through the model and one neighbour search
            self.model_.require_vector_codes(f"anomaly_score={self.anomaly_score!r}")
            self.reference_, errors = fitted_reference(self.model_, model_input, self.n_neighbors)
            distances = self.reference_.training_distances
            training = self.reference_.scores(self.anomaly_score, errors, distances)
        self.offset_ = -outlier_threshold(training, self.contamination, self.AUTO_ROBUST_Z)
        return self

    def _training_options(self, X: np.ndarray) -> dict:
        """The options aekit.train gets: on a table, the open ones take DETECTOR_TABLE's values."""
        options = super()._training_options(X)
        table = X.ndim == 2 and options["backbone"] in ("auto", "mlp")
        if options["dropout"] is None:
            options["dropout"] = DETECTOR_TABLE["dropout"] if table else 0.0
        if table:
            if options["code_size"] is None:
                options["code_size"] = detector_code_size(X.shape[1])
            for name, value in DETECTOR_TABLE.items():
                if options["model"] not in OWNERS.get(name, (options["model"],)):
                    continue  # an option of another family: the detector's model has none
                left_open = "auto" if name == "linear_path" else None
                if options[name] == left_open:
                    options[name] = copy.deepcopy(value)
        return options

    def score_samples(self, X) -> np.ndarray:
        """(n,) float64: minus the anomaly score; higher = more normal."""
        return -self._anomaly_scores(self._check_input(X))

    def decision_function(self, X) -> np.ndarray:
        """(n,) float64: ``score_samples(X) - offset_``; negative for outliers."""
        return self.score_samples(X) - self.offset_

    def predict(self, X) -> np.ndarray:
        """(n,) ints: -1 for outliers, +1 for inliers."""
        labels = np.ones(len(self._check_input(X)), dtype=int)
        labels[self.decision_function(X) < 0] = -1
        return labels

    def pyod_scores(self, X) -> np.ndarray:
        """(n,) float64 in PyOD's convention: the anomaly score, higher = more abnormal."""
        return -self.score_samples(X)

    def explain(self, X) -> AnomalyExplanation:
        """Why each sample of X scored as it did (``aekit.evaluation.explanations``).

        The result holds each sample's ``scores`` (``pyod_scores(X)``), the two terms behind
        them (``reconstruction_error``, ``code_distance``) and each feature's part in the
        reconstruction term: ``contributions`` (n, d) sum to ``reconstruction_error`` row by
        row, ``shares`` to 1; ``residuals`` are value minus reconstruction in X's units.
        ``to_frame()`` gives a DataFrame (X's index, a column per feature of X, named as
        ``feature_names_in_``), ``top_features(k)`` each row's k largest shares; for images,
        ``heatmaps`` lays the contributions out as the images were (an error map).
        """
        index = X.index if isinstance(X, pd.DataFrame) else None
        X = self._check_input(X)
        names = getattr(self, "feature_names_in_", None)
        return explain_samples(
            self.model_,
            self._model_input(X),
            kind=self.anomaly_score,
            reference=self.reference_,
            feature_names=None if names is None else [str(name) for name in names],
            index=index,
        )

    def _anomaly_scores(self, X: np.ndarray) -> np.ndarray:
        """The anomaly scores of checked samples X."""
        model_input = self._model_input(X)
        if self.reference_ is None:
            return self.model_.anomaly_scores(model_input)
        codes, errors = codes_and_errors(self.model_, model_input)
        return self.reference_.scores(self.anomaly_score, errors, self.reference_.distances(codes))

    def _check_score(self) -> None:
        kind = self.anomaly_score
        if not (isinstance(kind, str) and kind in SCORES):
            raise ValueError(f"anomaly_score must be one of {', '.join(SCORES)}; got {kind!r}")
        k = self.n_neighbors
        if not isinstance(k, Integral) or isinstance(k, bool) or k < 1:
            raise ValueError(f"n_neighbors must be an integer >= 1, got {k!r}")

    def _check_contamination(self) -> None:
        value = self.contamination
        if isinstance(value, str) and value == "auto":
            return
        number = isinstance(value, int | float | np.floating) and not isinstance(value, bool)
        if not number or not 0.0 < value <= 0.5:
            raise ValueError(
                f"contamination must be 'auto' or a fraction in (0, 0.5], got {value!r}"
            )


def _as_2d(values: np.ndarray, width: int, what: str) -> np.ndarray:
    if values.ndim != 2 or values.shape[1] != width:
        raise ValueError(f"{what} must have shape (n, {width}), got {values.shape}")
    return values
