"""Type stub of aekit.sklearn, written by scripts/write_sklearn_stub.py from the option
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


class AutoencoderTransformer(TransformerMixin, _AutoencoderEstimator):
    def __init__(
        self,
        *,
        model: Literal['ae', 'vae', 'wae', 'vqvae'] = 'ae',
        backbone: Literal['auto', 'mlp', 'conv'] = 'auto',
        code_size: int | None = None,
        hidden: list[int] | None = None,
        activation: Literal['relu', 'gelu', 'silu', 'tanh', 'leaky_relu', 'elu', 'none'] | None = None,
        dropout: float = 0.0,
        norm: Literal['none', 'batch', 'layer'] | None = None,
        loss: Literal['mse', 'bce', 'mae'] | None = None,
        scale: Literal['none', 'minmax', 'standard'] | None = None,
        epochs: int | None = None,
        batch_size: int | None = None,
        lr: float | None = None,
        optimizer: Literal['adam', 'adamw'] = 'adamw',
        weight_decay: float = 0.0,
        schedule: Literal['linear', 'cosine', 'constant'] | None = None,
        warmup: float | None = None,
        val_fraction: float = 0.1,
        early_stopping: bool = True,
        patience: int = 10,
        lr_drops: int = 2,
        time_limit: float | None = None,
        stream: Literal['auto', 'on', 'off'] = 'auto',
        random_state: int = 0,
        device: Literal['auto', 'cpu', 'cuda'] = 'auto',
        precision: Literal['auto', 'fp32', 'bf16'] = 'auto',
        compile: Literal['auto', 'on', 'off'] = 'auto',
        checkpoint_every: int | None = None,
        clip_grad: float | None = None,
        skip_nonfinite: int = 0,
        report: bool = True,
        noise: str | list[str] | None = None,
        gmm_components: int = 30,
        linear_path: Literal['auto', 'off'] = 'auto',
        sparsity: str | None = None,
        contractive: float = 0.0,
        beta: float = 1.0,
        kl_warmup: int = 0,
        mmd_weight: float = 10.0,
        codebook_size: int = 128,
        commitment: float = 0.25,
        positions: int = 8,
    ) -> None: ...
    def fit(self, X, y=None) -> AutoencoderTransformer: ...
    def transform(self, X) -> np.ndarray: ...
    def inverse_transform(self, X) -> np.ndarray: ...
    def score(self, X, y=None) -> float: ...
    @classmethod
    def from_run(cls, run: str | Autoencoder) -> AutoencoderTransformer: ...
    def get_feature_names_out(self, input_features=None) -> np.ndarray: ...

class AutoencoderAnomalyDetector(OutlierMixin, _AutoencoderEstimator):
    def __init__(
        self,
        *,
        model: Literal['ae', 'vae', 'wae', 'vqvae'] = 'ae',
        backbone: Literal['auto', 'mlp', 'conv'] = 'auto',
        code_size: int | None = None,
        hidden: list[int] | None = None,
        activation: Literal['relu', 'gelu', 'silu', 'tanh', 'leaky_relu', 'elu', 'none'] | None = None,
        dropout: float | None = None,
        norm: Literal['none', 'batch', 'layer'] | None = None,
        loss: Literal['mse', 'bce', 'mae'] | None = None,
        scale: Literal['none', 'minmax', 'standard'] | None = None,
        epochs: int | None = None,
        batch_size: int | None = None,
        lr: float | None = None,
        optimizer: Literal['adam', 'adamw'] = 'adamw',
        weight_decay: float = 0.0,
        schedule: Literal['linear', 'cosine', 'constant'] | None = None,
        warmup: float | None = None,
        val_fraction: float = 0.1,
        early_stopping: bool = True,
        patience: int = 10,
        lr_drops: int = 2,
        time_limit: float | None = None,
        stream: Literal['auto', 'on', 'off'] = 'auto',
        random_state: int = 0,
        device: Literal['auto', 'cpu', 'cuda'] = 'auto',
        precision: Literal['auto', 'fp32', 'bf16'] = 'auto',
        compile: Literal['auto', 'on', 'off'] = 'auto',
        checkpoint_every: int | None = None,
        clip_grad: float | None = None,
        skip_nonfinite: int = 0,
        report: bool = True,
        noise: str | list[str] | None = None,
        gmm_components: int = 30,
        linear_path: Literal['auto', 'off'] = 'auto',
        sparsity: str | None = None,
        contractive: float = 0.0,
        beta: float = 1.0,
        kl_warmup: int = 0,
        mmd_weight: float = 10.0,
        codebook_size: int = 128,
        commitment: float = 0.25,
        positions: int = 8,
        contamination: float | Literal["auto"] = 'auto',
        anomaly_score: Literal['both', 'reconstruction', 'neighbours'] = 'both',
        n_neighbors: int = 20,
    ) -> None: ...
    AUTO_ROBUST_Z: float
    offset_: float
    reference_: ScoreReference | None
    def fit(self, X, y=None) -> AutoencoderAnomalyDetector: ...
    def score_samples(self, X) -> np.ndarray: ...
    def decision_function(self, X) -> np.ndarray: ...
    def predict(self, X) -> np.ndarray: ...
    def pyod_scores(self, X) -> np.ndarray: ...
    def explain(self, X) -> AnomalyExplanation: ...
