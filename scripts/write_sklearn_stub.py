"""Write src/aekit/sklearn.pyi: the estimators' constructor signatures, written out for IDEs and
type checkers. aekit.sklearn builds them at run time from the option declarations (the shared
options and each family's), so a test (tests/test_sklearn_stub.py) keeps this file equal to
what they declare; after adding or changing an option, run

    python scripts/write_sklearn_stub.py
"""

from __future__ import annotations

import inspect
from pathlib import Path

STUB = Path(__file__).resolve().parent.parent / "src" / "aekit" / "sklearn.pyi"
# what a declared option of each kind holds, as a type
KIND_TYPES = {
    "int": "int",
    "number": "float",
    "bool": "bool",
    "text": "str",
    "texts": "str | list[str]",
    "sizes": "list[int]",
}
# the detector's own parameters, beside the training options
DETECTOR_TYPES = {
    "dropout": "float | None",
    "contamination": 'float | Literal["auto"]',
    "anomaly_score": "Literal[{scores}]",
    "n_neighbors": "int",
}
HEADER = '''"""Type stub of aekit.sklearn, written by scripts/write_sklearn_stub.py from the option
declarations: do not edit by hand."""

from typing import Literal

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin, TransformerMixin

from .evaluation.explanations import AnomalyExplanation
from .evaluation.outlier_scores import ScoreReference
from .trained.autoencoder import Autoencoder

def option_parameters() -> list[tuple[str, str, object]]: ...

class _AutoencoderEstimator(BaseEstimator):
    model_: Autoencoder
    n_features_in_: int
    feature_names_in_: np.ndarray

'''
TRANSFORMER = """
    def fit(self, X, y=None) -> AutoencoderTransformer: ...
    def transform(self, X) -> np.ndarray: ...
    def inverse_transform(self, X) -> np.ndarray: ...
    def score(self, X, y=None) -> float: ...
    @classmethod
    def from_run(cls, run: str | Autoencoder) -> AutoencoderTransformer: ...
    def get_feature_names_out(self, input_features=None) -> np.ndarray: ...
"""
DETECTOR = """
    AUTO_ROBUST_Z: float
    offset_: float
    reference_: ScoreReference | None
    def fit(self, X, y=None) -> AutoencoderAnomalyDetector: ...
    def score_samples(self, X) -> np.ndarray: ...
    def decision_function(self, X) -> np.ndarray: ...
    def predict(self, X) -> np.ndarray: ...
    def pyod_scores(self, X) -> np.ndarray: ...
    def explain(self, X) -> AnomalyExplanation: ...
"""


def option_type(option) -> str:
    from aekit.options.declaring import spec_of

    spec = spec_of(option)
    if spec.kind == "choice":
        text = f"Literal[{', '.join(repr(choice) for choice in spec.choices)}]"
    else:
        text = KIND_TYPES[spec.kind]
    return f"{text} | None" if option.default is None or spec.nullable else text


def render() -> str:
    """The stub's text, from the estimators' signatures and the option declarations."""
    from aekit.evaluation.outlier_scores import SCORES
    from aekit.models import option_fields
    from aekit.sklearn import RENAMED, AutoencoderAnomalyDetector, AutoencoderTransformer

    types = {RENAMED.get(f.name, f.name): option_type(f) for f in option_fields()}
    scores = ", ".join(repr(score) for score in SCORES)
    detector = {**types, **{k: v.format(scores=scores) for k, v in DETECTOR_TYPES.items()}}
    parts = [HEADER]
    for cls, types_of, methods in (
        (AutoencoderTransformer, types, TRANSFORMER),
        (AutoencoderAnomalyDetector, detector, DETECTOR),
    ):
        mixin = "TransformerMixin" if cls is AutoencoderTransformer else "OutlierMixin"
        parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
        lines = [f"        {p.name}: {types_of[p.name]} = {p.default!r}," for p in parameters]
        parts.append(
            f"class {cls.__name__}({mixin}, _AutoencoderEstimator):\n"
            "    def __init__(\n        self,\n        *,\n"
            + "\n".join(lines)
            + "\n    ) -> None: ..."
            + methods
        )
    return "\n".join(parts)


if __name__ == "__main__":
    STUB.write_text(render())
    print(f"wrote {STUB}")
