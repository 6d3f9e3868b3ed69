import numpy as np
import pandas as pd
import pytest


@pytest.fixture
def low_rank():
    """(200, 8) vectors near a 2-d subspace, offset and scaled away from [0, 1]."""
    rng = np.random.default_rng(0)
    latent = rng.normal(size=(200, 2))
    x = latent @ rng.normal(size=(2, 8)) + 0.05 * rng.normal(size=(200, 8))
    return (x * 10 + 100).astype(np.float32)


def blob_images(n: int) -> np.ndarray:
    """(n, 12, 12) grey images in [0, 1]: blurred blobs at random places (seeded)."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:12, 0:12]
    centres = rng.uniform(3, 9, size=(n, 2))
    d2 = (yy[None] - centres[:, 0, None, None]) ** 2 + (xx[None] - centres[:, 1, None, None]) ** 2
    return np.exp(-d2 / 6.0).astype(np.float32)


@pytest.fixture
def small_images():
    return blob_images(96)


@pytest.fixture
def table(tmp_path, low_rank):
    """A CSV of the low-rank rows with a text label column, "kind"."""
    path = tmp_path / "table.csv"
    frame = pd.DataFrame(low_rank, columns=[f"f{i}" for i in range(8)])
    frame["kind"] = np.where(low_rank[:, 0] > np.median(low_rank[:, 0]), "a", "b")
    frame.to_csv(path, index=False)
    return path
