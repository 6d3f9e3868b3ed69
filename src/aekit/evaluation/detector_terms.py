"""The two terms behind the detector's default score: a sample's code and its reconstruction
error, and the reference they are measured against (``outlier_scores``).

On a table the error is the mean squared residual in the scaled space the network sees
(``Autoencoder.anomaly_scores``). On images it is the *local* error: each channel's signed
residual is first averaged over the ``NEIGHBOURHOOD`` x ``NEIGHBOURHOOD`` square around each
pixel (zeros beyond the edge), then squared and averaged over the image. An autoencoder
rebuilds an image of its own kind a little blurred, so its residual there is fine texture of
both signs that the averaging cancels; an image of another kind leaves whole regions rebuilt
wrong (a sleeve where none should be, a heel missing), residuals of one sign that the
averaging keeps. Chosen on one-class Fashion-MNIST with selection data only (the conv
detector fitted on 5,000 training images of one class; 1,000 held-out training images of the
class against 1,000 of each other class; test images never looked at;
``benchmarks/anomaly_score_images.py``, whose page has the figures): with the code distance,
the local error is ahead of the plain one on all ten classes. Squares of 3, 7 and 9 pixels
came within a few thousandths of 5 in a trial run; 5 is kept, with nothing fitted.
The plain error stays what ``anomaly_score="reconstruction"`` and
``Autoencoder.anomaly_scores`` give.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..trained.autoencoder import Autoencoder
from .outlier_scores import ScoreReference, joining_for

# Pixels on a side of the square a residual is averaged over, on images
NEIGHBOURHOOD = 5


def uses_local_errors(sample_shape: tuple[int, ...]) -> bool:
    """Whether the detector's error term of samples of this shape is the local one: images
    (C, H, W) yes, rows of a table no."""
    return len(sample_shape) == 3


def local_contributions(residuals: np.ndarray, sample_shape: tuple[int, ...]) -> np.ndarray:
    """(n, d) float64: each value's part in its image's local error, from the residuals (n, d)
    in the scaled space of images shaped ``sample_shape`` (C, H, W): the residual averaged over
    the square around it, squared, over d. A row sums to its image's local error."""
    images = torch.as_tensor(residuals, dtype=torch.float64).reshape(-1, *sample_shape)
    averaged = F.avg_pool2d(
        images, NEIGHBOURHOOD, stride=1, padding=NEIGHBOURHOOD // 2, count_include_pad=True
    )
    width = residuals.shape[1]
    return averaged.square_().div_(width).reshape(len(residuals), width).numpy()


def codes_and_errors(model: Autoencoder, x) -> tuple[np.ndarray, np.ndarray]:
    """(codes (n, code), the detector's error term (n,) float64) of x, anything the model
    takes, from one pass through the encoder: on images the local error, on a table the mean
    squared residual (``Autoencoder.codes_and_anomaly_scores``)."""
    if not uses_local_errors(model.sample_shape):
        return model.codes_and_anomaly_scores(x)

    def local_errors(scaled: torch.Tensor, rebuilt: torch.Tensor) -> np.ndarray:
        flat = len(scaled), -1
        # not in place: scaled may be the caller's own float64 data
        residuals = scaled.double().reshape(flat) - rebuilt.double().reshape(flat)
        return local_contributions(residuals.numpy(), model.sample_shape).sum(axis=1)

    return model.codes_and_anomaly_scores(x, row_errors=local_errors)


def fitted_reference(model: Autoencoder, x, k: int) -> tuple[ScoreReference, np.ndarray]:
    """(the reference the scores of ``model`` are measured against, fitted on its training
    samples x with k code neighbours; the training samples' error terms (n,))."""
    codes, errors = codes_and_errors(model, x)
    return ScoreReference(codes, errors, k, joining=joining_for(model.sample_shape)), errors
