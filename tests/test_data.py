"""Tests for aekit.data: every format round-trips, every bad input gets a clear DataError."""

from __future__ import annotations

import gzip
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from aekit.data import Dataset, builtin_datasets, load_data, save_array
from aekit.data import builtin as builtin_module
from aekit.data.chunks import read_chunks
from aekit.errors import AekitWarning, DataError

IDX_CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D}


def write_idx(path: Path, array: np.ndarray) -> Path:
    """Write ``array`` as an IDX file (gzip-compressed if the name ends in .gz)."""
    header = bytes([0, 0, IDX_CODES[array.dtype.type], array.ndim])
    header += np.array(array.shape, dtype=">u4").tobytes()
    data = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


def write_fake_mnist(folder: Path, n_train: int = 12, n_test: int = 5) -> None:
    """Four tiny MNIST-style IDX files (.gz for train, plain for test)."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n, suffix in (("train", n_train, ".gz"), ("t10k", n_test, "")):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", images)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", np.arange(n, dtype=np.uint8))


@pytest.fixture
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every built-in search folder into tmp_path, so the system copy is never used."""
    monkeypatch.setenv("AEKIT_DATA", str(tmp_path / "aekit-data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(builtin_module, "SYSTEM_DATA_DIR", tmp_path / "system")
    return tmp_path / "aekit-data"


def save_png(path: Path, pixels: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)


# --- arrays, DataFrames and Dataset ------------------------------------------------------------


def test_array_becomes_float32_vectors() -> None:
    x = np.arange(12, dtype=np.int64).reshape(4, 3)
    data = load_data(x)
    assert data.x.dtype == np.float32 and data.x.flags.c_contiguous
    np.testing.assert_array_equal(data.x, x)
    assert data.y is None and data.name == "array" and data.feature_names is None
    assert not data.is_image and data.sample_shape == (3,) and len(data) == 4


def test_3d_array_becomes_grey_images() -> None:
    data = load_data(np.zeros((5, 6, 7)))
    assert data.x.shape == (5, 1, 6, 7) and data.is_image and data.sample_shape == (1, 6, 7)


def test_4d_array_kept_and_dataset_returned_as_is() -> None:
    data = load_data(np.ones((2, 3, 4, 4), dtype=np.float64))
    assert data.x.shape == (2, 3, 4, 4) and data.x.dtype == np.float32
    assert load_data(data) is data


def test_dataframe_with_label() -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [3, 4], "kind": ["cat", "dog"]})
    data = load_data(frame, label="kind")
    np.testing.assert_array_equal(data.x, [[1, 3], [2, 4]])
    assert data.feature_names == ["a", "b"]
    assert list(data.y) == ["cat", "dog"]


@pytest.mark.parametrize("shape", [(6,), (2, 3, 4, 5, 6)])
def test_wrong_ndim_names_shape(shape: tuple[int, ...]) -> None:
    with pytest.raises(DataError, match=rf"shape \({shape[0]},") as info:
        load_data(np.zeros(shape))
    if len(shape) == 1:
        assert "reshape(-1, 1)" in str(info.value)


@pytest.mark.parametrize("shape", [(0, 3), (4, 0)])
def test_empty_rejected(shape: tuple[int, int]) -> None:
    with pytest.raises(DataError, match="empty"):
        load_data(np.zeros(shape))


@pytest.mark.parametrize(
    ("array", "pattern"),
    [
        (np.ones((3, 2), dtype=bool), r"dtype bool.*astype\(float\)"),
        (np.array([["a", "b"]]), "dtype <U1.*not numeric"),
        (np.ones((3, 2), dtype=complex), "dtype complex128"),
        (np.array([[1, None]], dtype=object), "dtype object"),
    ],
)
def test_non_numeric_dtype_rejected(array: np.ndarray, pattern: str) -> None:
    with pytest.raises(DataError, match=pattern):
        load_data(array)


def test_nan_names_count_and_positions() -> None:
    x = np.zeros((4, 3))
    x[1, 2] = np.nan
    x[3, 0] = np.nan
    with pytest.raises(DataError, match=r"2 NaN.*\(row 1, column 2\), \(row 3, column 0\)"):
        load_data(x)


def test_inf_in_table_names_column() -> None:
    frame = pd.DataFrame({"height": [1.0, 2.0], "weight": [np.inf, 1.0]})
    with pytest.raises(DataError, match=r"1 infinite.*\(row 0, column 'weight'\)"):
        load_data(frame)


def test_non_numeric_column_named() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0], "city": ["Oslo", "Rome"]})
    with pytest.raises(DataError, match=r"'city' \((object|str)\).*label="):
        load_data(frame)


def test_bool_column_rejected() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0], "flag": [True, False]})
    with pytest.raises(DataError, match=r"'flag' \(bool\).*astype\(float\)"):
        load_data(frame)


def test_missing_labels_named() -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "kind": ["x", None, "y"]})
    with pytest.raises(
        DataError, match=r"label column 'kind' has 1 missing value\(s\), first in row\(s\) 1"
    ):
        load_data(frame, label="kind")
    with pytest.raises(DataError, match=r"1 label\(s\) are NaN"):
        Dataset(x=np.zeros((2, 1)), y=np.array([1.0, np.nan]), name="test")


def test_wrong_label_column_lists_columns() -> None:
    frame = pd.DataFrame({"a": [1.0], "b": [2.0]})
    with pytest.raises(DataError, match=r"no column 'target'.*'a', 'b'"):
        load_data(frame, label="target")


def test_label_on_plain_array_rejected() -> None:
    with pytest.raises(DataError, match="label only applies to CSV, Parquet, DataFrame"):
        load_data(np.zeros((2, 2)), label="y")


def test_labels_must_match_samples() -> None:
    with pytest.raises(DataError, match=r"labels have shape \(3,\) but there are 2 samples"):
        Dataset(x=np.zeros((2, 2)), y=np.arange(3), name="test")


def test_ragged_list_rejected() -> None:
    with pytest.raises(DataError, match="cannot turn the samples into a NumPy array"):
        load_data([[1.0, 2.0], [3.0]])


def test_unsupported_source_type() -> None:
    with pytest.raises(DataError, match="cannot load data from an object of type dict"):
        load_data({"x": 1})


# --- files ----------------------------------------------------------------------------------------


def test_npy_round_trip(tmp_path: Path) -> None:
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    data = load_data(tmp_path / "x.npy")
    np.testing.assert_array_equal(data.x, x)
    assert data.name == str(tmp_path / "x.npy") and data.y is None


def test_object_npy_refused_without_unpickling(tmp_path: Path) -> None:
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match=r"obj\.npy holds Python objects.*never unpickles"):
        load_data(tmp_path / "obj.npy")


def test_npz_with_default_keys(tmp_path: Path) -> None:
    np.savez(tmp_path / "d.npz", x=np.ones((3, 2)), y=np.array([0, 1, 1]))
    data = load_data(str(tmp_path / "d.npz"))
    assert data.x.shape == (3, 2) and list(data.y) == [0, 1, 1]


def test_npz_label_key_and_first_array(tmp_path: Path) -> None:
    np.savez(tmp_path / "d.npz", codes=np.ones((3, 2)), target=np.array([2, 1, 0]))
    data = load_data(tmp_path / "d.npz", label="target")
    assert data.x.shape == (3, 2) and list(data.y) == [2, 1, 0]
    unlabeled = load_data(tmp_path / "d.npz")
    assert unlabeled.x.shape == (3, 2) and unlabeled.y is None
    with pytest.raises(DataError, match=r"no array 'kind'.*\['codes', 'target'\]"):
        load_data(tmp_path / "d.npz", label="kind")


def test_csv_with_label_column(tmp_path: Path) -> None:
    path = tmp_path / "t.CSV"  # the suffix is case-insensitive
    path.write_text("a,b,species\n1,2.5,x\n3,4,y\n")
    data = load_data(path, label="species")
    np.testing.assert_array_equal(data.x, np.array([[1, 2.5], [3, 4]], dtype=np.float32))
    assert data.feature_names == ["a", "b"] and list(data.y) == ["x", "y"]


def test_csv_nan_names_column(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("a,b\n1,2\n3,\n")
    with pytest.raises(DataError, match=r"t\.csv.*1 NaN.*\(row 1, column 'b'\)"):
        load_data(tmp_path / "t.csv")


def test_parquet_round_trip(tmp_path: Path) -> None:
    frame = pd.DataFrame({"f0": [0.5, 1.5, 2.5], "f1": [1, 2, 3], "y": [0, 1, 0]})
    frame.to_parquet(tmp_path / "t.pq")
    data = load_data(tmp_path / "t.pq", label="y")
    np.testing.assert_array_equal(data.x, frame[["f0", "f1"]].to_numpy(np.float32))
    assert list(data.y) == [0, 1, 0] and data.feature_names == ["f0", "f1"]


@pytest.mark.parametrize("name", ["bad.parquet", "bad.csv", "bad.npy", "bad.npz"])
def test_unparseable_file_named(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(b"\x00\xff\x13garbage" if name != "bad.csv" else b"")
    with pytest.raises(DataError, match=rf"cannot read .*{name}"):
        load_data(tmp_path / name)


def test_missing_file_lists_builtins(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"nope\.csv' does not exist.*digits, fashion-mnist"):
        load_data(tmp_path / "nope.csv")


def test_unknown_suffix_lists_formats(tmp_path: Path) -> None:
    (tmp_path / "data.txt").write_text("1 2 3")
    with pytest.raises(DataError, match=r"unknown format '\.txt'.*\.npy, \.npz, \.csv"):
        load_data(tmp_path / "data.txt")


# --- IDX ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_images_with_sibling_labels(tmp_path: Path, suffix: str) -> None:
    images = np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5)
    path = write_idx(tmp_path / f"train-images-idx3-ubyte{suffix}", images)
    write_idx(tmp_path / f"train-labels-idx1-ubyte{suffix}", np.array([7, 8, 9], dtype=np.uint8))
    data = load_data(path)
    assert data.x.shape == (3, 1, 4, 5)
    np.testing.assert_allclose(data.x[:, 0], images / 255.0, rtol=1e-6)
    assert list(data.y) == [7, 8, 9]


def test_idx_other_dtypes_keep_values(tmp_path: Path) -> None:
    values = np.array([[-300, 2], [5, 1000]], dtype=np.int16)
    np.testing.assert_array_equal(load_data(write_idx(tmp_path / "v.idx", values)).x, values)
    floats = np.array([[0.25, -1.5]], dtype=np.float32)
    np.testing.assert_array_equal(load_data(write_idx(tmp_path / "f.idx.gz", floats)).x, floats)


def test_idx_label_count_mismatch(tmp_path: Path) -> None:
    path = write_idx(tmp_path / "a-images.idx3-ubyte", np.zeros((3, 2, 2), dtype=np.uint8))
    write_idx(tmp_path / "a-labels.idx1-ubyte", np.zeros(2, dtype=np.uint8))
    with pytest.raises(DataError, match="3 images but its labels file .* has 2 labels"):
        load_data(path)


def test_truncated_idx_named(tmp_path: Path) -> None:
    path = write_idx(tmp_path / "x-ubyte", np.zeros((4, 3, 3), dtype=np.uint8))
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(DataError, match=r"x-ubyte is truncated.*shape \(4, 3, 3\)"):
        load_data(path)


def test_bad_magic_idx_named(tmp_path: Path) -> None:
    (tmp_path / "x.idx").write_bytes(b"PK\x03\x04rest")
    with pytest.raises(DataError, match=r"x\.idx is not an IDX file"):
        load_data(tmp_path / "x.idx")


def test_label_on_idx_rejected(tmp_path: Path) -> None:
    path = write_idx(tmp_path / "x.idx", np.zeros((2, 3), dtype=np.uint8))
    with pytest.raises(DataError, match="an IDX file; label only applies"):
        load_data(path, label="y")


# --- image folders --------------------------------------------------------------------------------


def test_grey_png_folder(tmp_path: Path) -> None:
    first = np.full((4, 6), 255, dtype=np.uint8)
    save_png(tmp_path / "b.png", np.zeros((4, 6), dtype=np.uint8))
    save_png(tmp_path / "a.png", first)
    data = load_data(tmp_path)
    assert data.x.shape == (2, 1, 4, 6) and data.y is None
    assert data.x[0].max() == 1.0 and data.x[1].max() == 0.0  # sorted: a.png first


def test_mixed_grey_and_rgb_become_rgb(tmp_path: Path) -> None:
    save_png(tmp_path / "grey.png", np.full((3, 3), 51, dtype=np.uint8))
    colour = np.zeros((3, 3, 3), dtype=np.uint8)
    colour[..., 0] = 255
    save_png(tmp_path / "red.png", colour)
    data = load_data(tmp_path)
    assert data.x.shape == (2, 3, 3, 3)
    np.testing.assert_allclose(data.x[0], 0.2)  # grey repeated into all three channels
    np.testing.assert_array_equal(data.x[1, :, 0, 0], [1.0, 0.0, 0.0])


def test_subfolders_are_labels(tmp_path: Path) -> None:
    for label, count in (("dog", 2), ("cat", 1)):
        for i in range(count):
            save_png(tmp_path / label / f"{i}.png", np.zeros((2, 2), dtype=np.uint8))
    Image.new("RGB", (2, 2)).save(tmp_path / "cat" / "extra.jpg")
    data = load_data(tmp_path)
    assert list(data.y) == ["cat", "cat", "dog", "dog"] and data.x.shape == (4, 3, 2, 2)


def test_images_of_differing_sizes_named(tmp_path: Path) -> None:
    save_png(tmp_path / "a.png", np.zeros((4, 4), dtype=np.uint8))
    save_png(tmp_path / "b.png", np.zeros((4, 5), dtype=np.uint8))
    with pytest.raises(DataError, match=r"a\.png is 4x4 but .*b\.png is 5x4"):
        load_data(tmp_path)


def test_corrupt_image_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no PNG or JPEG images"):
        load_data(tmp_path)
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match=r"cannot read image .*broken\.png"):
        load_data(tmp_path)


# --- built-ins ------------------------------------------------------------------------------------


def test_digits_split_is_deterministic_and_stratified() -> None:
    train = load_data("digits")
    test = load_data("digits:test")
    assert train.name == "digits:train" and test.name == "digits:test"
    assert train.x.shape == (1437, 1, 8, 8) and test.x.shape == (360, 1, 8, 8)
    assert train.x.min() == 0.0 and train.x.max() == 1.0
    assert set(np.unique(test.y)) == set(range(10))
    assert np.bincount(test.y).min() >= 35  # about 36 per class, stratified
    np.testing.assert_array_equal(load_data("digits", split="test").x, test.x)


def test_fashion_mnist_from_aekit_data(data_home: Path) -> None:
    write_fake_mnist(data_home / "fashion-mnist")
    train = load_data("fashion-mnist")
    assert train.x.shape == (12, 1, 28, 28) and train.name == "fashion-mnist:train"
    assert 0.0 <= train.x.min() and train.x.max() <= 1.0 and list(train.y) == list(range(12))
    assert len(load_data("fashion-mnist", split="test")) == 5
    assert len(load_data("fashion-mnist", default_split="test")) == 5
    assert len(load_data("fashion-mnist:train", split="test")) == 12  # the suffix wins


def test_builtin_cache_hands_out_independent_arrays(data_home: Path) -> None:
    write_fake_mnist(data_home / "mnist")
    first = load_data("mnist:test")
    first.x[:] = -1.0
    first.y[:] = -1
    second = load_data("mnist:test")
    assert second.x.min() >= 0.0 and list(second.y) == list(range(5))


def test_builtin_datasets_reports_availability(data_home: Path) -> None:
    write_fake_mnist(data_home / "mnist")
    rows = {row["name"]: row for row in builtin_datasets()}
    assert set(rows) == {"digits", "fashion-mnist", "mnist"}
    assert rows["mnist"]["available"] and rows["mnist"]["location"] == str(data_home / "mnist")
    assert not rows["fashion-mnist"]["available"] and rows["fashion-mnist"]["location"] is None
    assert "apt-get install dataset-fashion-mnist" in rows["fashion-mnist"]["how_to_get"]
    assert rows["digits"]["n_test"] == 360 and rows["mnist"]["sample_shape"] == (1, 28, 28)


def test_builtin_not_found_says_where_and_how(data_home: Path) -> None:
    with pytest.raises(DataError, match=r"not found; looked in .*aekit-data.*") as info:
        load_data("fashion-mnist:test")
    message = str(info.value)
    assert "apt-get install dataset-fashion-mnist" in message
    assert "$AEKIT_DATA/fashion-mnist/" in message and "never downloads" in message


def test_unknown_split_lists_valid(data_home: Path) -> None:
    with pytest.raises(DataError, match="no split 'valid'; the splits are train, test"):
        load_data("digits:valid")


def test_existing_path_wins_over_builtin_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    save_png(tmp_path / "digits" / "a.png", np.zeros((2, 2), dtype=np.uint8))
    assert load_data("digits").x.shape == (1, 1, 2, 2)


def test_label_on_builtin_rejected() -> None:
    with pytest.raises(DataError, match="built-in dataset; label only applies"):
        load_data("digits", label="y")


# --- save_array -----------------------------------------------------------------------------------


def test_save_npy_keeps_shape(tmp_path: Path) -> None:
    x = np.random.default_rng(0).normal(size=(3, 2, 4, 4)).astype(np.float32)
    save_array(tmp_path / "out" / "recon.npy", x)
    np.testing.assert_array_equal(np.load(tmp_path / "out" / "recon.npy"), x)
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["recon.npy"]  # no temp left


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_save_table_round_trips(tmp_path: Path, suffix: str) -> None:
    codes = np.random.default_rng(1).normal(size=(4, 3)).astype(np.float32)
    save_array(tmp_path / f"codes{suffix}", codes, column_prefix="code_")
    data = load_data(tmp_path / f"codes{suffix}")
    assert data.feature_names == ["code_0", "code_1", "code_2"]
    np.testing.assert_array_equal(data.x, codes)


def test_save_table_with_column_names(tmp_path: Path) -> None:
    save_array(tmp_path / "r.csv", np.zeros((2, 3)), column_names=["b", "a", "c"])
    assert pd.read_csv(tmp_path / "r.csv").columns.tolist() == ["b", "a", "c"]
    with pytest.raises(DataError, match=r"wrong.csv: 2 column names for rows of 3 values"):
        save_array(tmp_path / "wrong.csv", np.zeros((2, 3)), column_names=["a", "b"])
    assert not (tmp_path / "wrong.csv").exists()


def test_save_table_flattens_images(tmp_path: Path) -> None:
    save_array(tmp_path / "r.csv", np.zeros((2, 1, 2, 3)))
    assert pd.read_csv(tmp_path / "r.csv").columns.tolist() == [f"z{i}" for i in range(6)]


def test_save_unknown_suffix_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"unknown format '\.txt'; supported: \.npy, \.csv"):
        save_array(tmp_path / "codes.txt", np.zeros((2, 2)))
    assert list(tmp_path.iterdir()) == []


# -- tables: one rule for CSV, Parquet and DataFrame, whole or in chunks ------------------------
def write_table(frame: pd.DataFrame, path: Path) -> None:
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path)


def test_repeated_column_names_are_refused_in_every_table(tmp_path: Path) -> None:
    csv = tmp_path / "t.csv"
    csv.write_text("a,a,b,c\n1,2,3,4\n5,6,7,8\n")  # pandas alone would read a and a.1
    parquet = tmp_path / "t.parquet"
    table = pa.table([pa.array([1.0, 2.0])] * 3, names=["a", "a", "b"])
    pq.write_table(table, parquet)
    for path in (csv, parquet):
        for read in (load_data, lambda p: list(read_chunks(p, rows=2))):
            with pytest.raises(DataError, match=r"t\.\w+: more than one column is named 'a'"):
                read(path)
    with pytest.raises(DataError, match=r"DataFrame: more than one column is named 'a'"):
        load_data(pd.DataFrame([[1.0, 2.0, 3.0]], columns=["a", "a", "b"]))


def test_a_saved_index_column_warns_once_and_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [4.0, 5.0, 6.0]}).to_csv(path)  # index saved
    for read in (load_data, lambda p: list(read_chunks(p, rows=1))):
        with pytest.warns(AekitWarning, match=r"'Unnamed: 0'.*index") as caught:
            read(path)
        assert len(caught) == 1
    with pytest.warns(AekitWarning):
        assert load_data(path).feature_names == ["Unnamed: 0", "a", "b"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_data(pd.read_csv(path, index_col=0)).feature_names == ["a", "b"]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_table_without_rows_is_called_empty(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"t{suffix}"
    write_table(pd.DataFrame({"a": [], "b": []}, dtype=object), path)
    for read in (load_data, lambda p: list(read_chunks(p, rows=2))):
        with pytest.raises(DataError, match=r"t\.\w+: the table has no rows"):
            read(path)
    with pytest.raises(DataError, match=r"DataFrame: the table has no rows"):
        load_data(pd.DataFrame(columns=["a", "b"]))


def test_a_value_beyond_float32_is_named_apart_from_infinity(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [4.0, -1e300, 6.0]}).to_csv(path, index=False)
    message = r"t\.csv: 1 value\(s\) beyond float32's range .*first -1e\+300 in row 1 of column 'b'"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from numpy or pandas on the way
        for read in (load_data, lambda p: list(read_chunks(p, rows=2))):
            with pytest.raises(DataError, match=message):
                read(path)
        with pytest.raises(DataError, match=r"array: .*1e\+300 at \(row 0, column 0\)"):
            load_data(np.array([[1e300, 1.0]]))
    with pytest.raises(DataError, match=r"1 infinite"):  # a real infinity keeps its message
        load_data(np.array([[np.inf, 1.0]]))


def test_pandas_warnings_of_a_mixed_column_do_not_reach_the_user(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    rows = [f"{i},{i}" for i in range(300_000)]  # pandas reads this in several blocks
    path.write_text("a,b\nx,1\n" + "\n".join(rows) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(DataError, match=r"non-numeric column\(s\) 'a'.*row 0 of 'a': 'x'"):
            load_data(path)
