"""CSV and Parquet files through pandas and pyarrow: the one place they are read, so a file read
whole and a file read in chunks follow the same rules.

- Column names are the names as the file writes them: pandas renames a CSV's repeated ``a`` to
  ``a.1``, so the header row is read apart and a repeated name is refused, as a DataFrame's is
  (``tables.check_unique_names``).
- pandas' warnings about a file (a DtypeWarning for a column of mixed types) are not shown: the
  checks that follow (``tables.frame_arrays``) name the column and the row in aekit's words.
- Every failure of the libraries is a DataError naming the file.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from ..errors import DataError
from .tables import check_unique_names


def table_names(path: Path) -> list[str]:
    """A table's column names as the file writes them (pandas' stored index columns left out);
    DataError when two share a name."""
    with _reading(path):
        if _is_csv(path):
            # the header row as values: read as a header, pandas renames repeats (a, a.1)
            header = pd.read_csv(path, header=None, nrows=1, dtype=str, keep_default_na=False)
            names = [str(name) for name in header.iloc[0]] if len(header) else []
        else:
            import pyarrow.parquet as pq

            schema = pq.ParquetFile(path).schema_arrow
            names = [str(name) for name in schema.empty_table().to_pandas().columns]
    # pandas names an empty header cell "Unnamed: i" (as table_frame's columns show): no repeat
    check_unique_names([name for name in names if name], str(path))
    return names


def read_table(path: Path) -> pd.DataFrame:
    """The whole table as a DataFrame, its column names checked first."""
    table_names(path)
    with _reading(path):
        return pd.read_csv(path) if _is_csv(path) else pd.read_parquet(path)


def table_frames(path: Path, rows: int) -> Iterator[pd.DataFrame]:
    """The table's rows as DataFrames of ``rows`` rows (the last may hold fewer), its column
    names checked first."""
    table_names(path)
    frames = _csv_frames(path, rows) if _is_csv(path) else _parquet_frames(path, rows)
    while True:
        with _reading(path):  # around each read, not around the caller's work with its rows
            frame = next(frames, None)
        if frame is None:
            return
        yield frame


def _csv_frames(path: Path, rows: int) -> Iterator[pd.DataFrame]:
    with pd.read_csv(path, chunksize=rows) as reader:
        yield from reader


def _parquet_frames(path: Path, rows: int) -> Iterator[pd.DataFrame]:
    import pyarrow as pa  # here: only Parquet files need it
    import pyarrow.parquet as pq

    table_file = pq.ParquetFile(path)
    schema = table_file.schema_arrow
    for batch in table_file.iter_batches(batch_size=rows):
        # through the schema, so the pandas index columns a writer stored stay the index
        yield pa.Table.from_batches([batch], schema=schema).to_pandas()


@contextlib.contextmanager
def _reading(path: Path) -> Iterator[None]:
    """The libraries' errors as a DataError naming ``path``; their DtypeWarning unshown."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pd.errors.DtypeWarning)
            yield
    except (OSError, ValueError, ImportError) as exc:  # pandas' and pyarrow's errors included
        raise DataError(f"cannot read {path}: {exc}") from exc


def _is_csv(path: Path) -> bool:
    return path.suffix.lower() == ".csv"
