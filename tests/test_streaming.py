"""Data larger than memory: a file read in chunks trains and encodes as the same file in memory
does, in a seeded order that resumes exactly, with bad rows named before training.

The chunk sizes are shrunk (``small_chunks``) so that files of a few hundred rows span many."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from aekit.data.npy_files import NpyRows, NpyWriter
from aekit.data.statistics import RunningStatistics
from aekit.errors import DataError
from aekit.scaling import Scaler

COLUMNS = list("abcdef")


def mixed_table(n: int = 300) -> pd.DataFrame:
    """Six correlated columns in mixed units (standardised per column, PCA start) and a label."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 3)) @ rng.normal(size=(3, 6)) * [1, 10, 100, 1, 5, 50] + 7
    frame = pd.DataFrame(x.astype(np.float32), columns=COLUMNS)
    frame.insert(2, "kind", rng.integers(0, 3, size=n))
    return frame


# --- reading and writing .npy by rows -----------------------------------------------------------


def test_npy_rows_read_what_numpy_reads(tmp_path):
    x = np.arange(7 * 3 * 2, dtype=">f8").reshape(7, 3, 2)  # big-endian float64 images
    np.save(tmp_path / "x.npy", x)
    rows = NpyRows.open(tmp_path / "x.npy")
    assert len(rows) == 7 and rows.row_bytes == 48
    np.testing.assert_array_equal(rows.read(2, 5), x[2:5])
    np.testing.assert_array_equal(rows.take(np.array([0, 1, 4, 6])), x[[0, 1, 4, 6]])

    np.save(tmp_path / "f.npy", np.asfortranarray(x))  # column by column
    rows = NpyRows.open(tmp_path / "f.npy")
    assert rows.fortran
    np.testing.assert_array_equal(rows.read(2, 5), x[2:5])
    np.testing.assert_array_equal(rows.take(np.array([0, 1, 4, 6])), x[[0, 1, 4, 6]])
    cut = tmp_path / "cut.npy"
    cut.write_bytes((tmp_path / "x.npy").read_bytes()[:-8])
    with pytest.raises(DataError, match=r"cut\.npy.*promises 7 rows"):
        NpyRows.open(cut)


def test_npy_writer_grows_a_file_numpy_loads(tmp_path):
    blocks = [np.full((n, 2, 3), n, dtype=np.float32) for n in (4, 1, 0, 5)]
    with open(tmp_path / "w.npy", "wb") as handle:
        writer = NpyWriter(handle, (2, 3), np.float32)
        for block in blocks:
            writer.write(block)
        writer.finish()
    np.testing.assert_array_equal(np.load(tmp_path / "w.npy"), np.concatenate(blocks))


# --- the pass: statistics, checks, validation rows ---------------------------------------------


@pytest.mark.parametrize("per_feature", [True, False])
@pytest.mark.parametrize("kind", ["standard", "minmax", "none"])
def test_statistics_in_chunks_scale_as_the_whole_array(kind, per_feature):
    x = mixed_table(1000)[COLUMNS].to_numpy(np.float32)
    statistics = RunningStatistics.empty(6)
    for start, stop in [(0, 1), (1, 333), (333, 334), (334, 1000)]:
        statistics.add(x[start:stop])
    streamed = Scaler.from_statistics(statistics, kind, per_feature=per_feature)
    whole = Scaler.fit(x, kind, per_feature=per_feature)
    np.testing.assert_allclose(streamed.offset, whole.offset, rtol=1e-6)
    np.testing.assert_allclose(streamed.spread, whole.spread, rtol=1e-6)
    assert not statistics.whole_numbers
    assert RunningStatistics.of(np.round(x)).whole_numbers


def test_float32_overflow_is_named_from_statistics_too():
    x = np.array([[1.0, -3e38], [2.0, 3e38]], dtype=np.float32)
    with pytest.raises(DataError, match="column 'b' spans"):
        Scaler.from_statistics(
            RunningStatistics.of(x), "minmax", per_feature=True, names=["a", "b"]
        )
