"""The sweep folder: every file a sweep keeps beside its run folders, written and read here.

sweep.json (what was swept, on which data: a later sweep into the folder must match it),
sweep.csv (one row per run), sweep.png (error against code size, PCA beside it), sweep.html
(all of it on one self-contained page) and, for an Optuna search, optuna.db. The run folders
inside are ordinary runs, whose files belong to ``aekit.runs.folder``.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from ..atomic_files import atomic_path, atomic_write_text
from ..errors import ConfigError
from ..reports import html as html_page
from ..reports.drawing import error_curves, save_figure
from ..runs.folder import clear_run
from ..runs.saving import writer_lock
from .grid import Grid, value_text

RECORD_FILE = "sweep.json"
TABLE_FILE = "sweep.csv"
FIGURE_FILE = "sweep.png"
PAGE_FILE = "sweep.html"
SEARCH_FILE = "optuna.db"
FORMAT_VERSION = 1
# fixed options that may change between invocations: they say how long runs train, and a run
# resumed with more epochs or a larger time limit goes on training (see aekit.train's resume)
LENGTH_OPTIONS = ("epochs", "time_limit")


def data_identity(data, label: str | None) -> dict:
    """What a sweep's data is, to tell a later sweep of other data into the same folder: a
    path or built-in name as given, or a digest of an in-memory array or table."""
    if isinstance(data, str | Path):
        identity = {"source": str(data)}
    elif isinstance(data, pd.DataFrame):
        digest = hashlib.sha256(pd.util.hash_pandas_object(data, index=False).to_numpy())
        identity = {"table": [str(c) for c in data.columns], "rows": len(data)}
        identity["sha256"] = digest.hexdigest()
    else:
        array = np.ascontiguousarray(np.asarray(data))
        digest = hashlib.sha256(array.tobytes())
        identity = {"array": list(array.shape), "dtype": str(array.dtype)}
        identity["sha256"] = digest.hexdigest()
    return {**identity, "label": label}


def describe_data(identity: dict) -> str:
    if "source" in identity:
        return identity["source"]
    digest = f"sha256 {identity['sha256'][:12]}"  # two arrays of one shape still read apart
    if "table" in identity:
        return f"a table of {identity['rows']} rows and {len(identity['table'])} columns ({digest})"
    return f"an array of shape {tuple(identity['array'])} ({digest})"


def claim(folder: Path, record: dict, overwrite: bool) -> None:
    """Make ``folder`` this sweep's and write its record (sweep.json).

    A folder holding a sweep of other data, or with other fixed options, is refused: its runs
    would be mixed with these. With ``overwrite`` that sweep's runs, search and table are
    removed first. The same sweep, one that sweeps other values, or one whose runs train
    longer (``LENGTH_OPTIONS``) goes on in place.
    """
    earlier = _read_record(folder)
    if earlier is not None:
        problem = _difference(earlier, record)
        if problem is not None and not overwrite:
            raise ConfigError(
                f"{folder} holds {problem}: choose another folder, or pass overwrite=True "
                "(--overwrite) to replace its runs"
            )
        if problem is not None:
            _remove_sweep(folder, earlier)
    elif (folder / RECORD_FILE).exists() and not overwrite:
        raise ConfigError(
            f"{folder / RECORD_FILE} cannot be read as a sweep's record: choose another "
            "folder, or pass overwrite=True (--overwrite)"
        )
    atomic_write_text(
        folder / RECORD_FILE, json.dumps({"format_version": FORMAT_VERSION, **record}, indent=2)
    )


def search_storage(folder: Path) -> str:
    """The Optuna storage URL of the sweep in ``folder``."""
    return f"sqlite:///{(folder / SEARCH_FILE).resolve()}"


def write_table(folder: Path, frame: pd.DataFrame) -> Path:
    path = folder / TABLE_FILE
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)
    return path


def write_figure(folder: Path, frame: pd.DataFrame, legends: list[str]) -> bytes | None:
    """sweep.png: test MSE (validation MSE without test data) against code size, one line per
    setting of the other swept options (``legends``, one per row), PCA's dashed; its bytes."""
    metric = "test_mse" if "test_mse" in frame else "val_mse"
    if metric not in frame:
        return None  # neither test nor validation data: nothing to draw
    runs = frame.assign(legend=legends).drop_duplicates("run").dropna(subset=[metric])
    if runs.empty:
        return None
    curves = []
    for legend, group in runs.groupby("legend", sort=False):
        group = group.sort_values("code_size")
        name = f"aekit {legend}" if legend else "aekit"
        curves.append((name, group["code_size"].to_numpy(), group[metric].to_numpy()))
    # PCA's error depends only on the code size (and the split: a swept seed moves it a little)
    pca = runs.groupby("code_size")[f"pca_{metric}"].mean()
    where = "test" if metric == "test_mse" else "validation"
    path = folder / FIGURE_FILE
    figure = error_curves(
        curves, baseline=("PCA", pca.index.to_numpy(), pca.to_numpy()), y_label=f"{where} MSE"
    )
    save_figure(figure, path)
    return path.read_bytes()


def write_page(
    folder: Path, frame: pd.DataFrame, record: dict, figure: bytes | None, notes: list[str]
) -> Path:
    """sweep.html: the figure, the table of runs, the data and the grid, on one page."""
    data = describe_data(record["data"])
    grid = Grid.from_dict(record["grid"])
    figure_parts = [html_page.image(figure, "error against code size")] if figure else []
    setup = [
        ("data", data),
        ("label column", record["data"]["label"]),
        ("test data", record["test"] or "none"),
        ("search", record["search"]),
    ]
    if record["trials"] is not None:
        setup.append(("trials", record["trials"]))
    for name, values in grid.swept.items():
        setup.append((f"{name} (swept)", " | ".join(value_text(name, v) for v in values)))
    for name, value in grid.fixed.items():
        setup.append((name, value_text(name, value)))
    text = html_page.page(
        f"aekit sweep: {data}",
        html_page.section(
            "Error against code size",
            *figure_parts,
            *(html_page.paragraph(note, note=True) for note in notes),
        ),
        html_page.section(
            "Runs", html_page.table(list(frame.columns), _cells(frame), css_id="runs")
        ),
        html_page.section("Data and grid", html_page.table(["", ""], setup, css_id="grid")),
    )
    path = folder / PAGE_FILE
    atomic_write_text(path, text)
    return path


def _cells(frame: pd.DataFrame) -> list[list]:
    """The table's rows as plain Python values, missing ones as None (an empty cell)."""
    rows = frame.astype(object).to_numpy().tolist()
    return [[None if _missing(value) else value for value in row] for row in rows]


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _read_record(folder: Path) -> dict | None:
    """The sweep record in ``folder``; None when there is none or it cannot be read."""
    try:
        record = json.loads((folder / RECORD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    sound = (
        isinstance(record, dict)
        and isinstance(record.get("data"), dict)
        and "label" in record["data"]
        and isinstance(record.get("grid"), dict)
        and all(isinstance(record["grid"].get(part), dict) for part in ("swept", "fixed"))
    )
    return record if sound else None


def _difference(earlier: dict, record: dict) -> str | None:
    """Why ``record``'s runs cannot share the folder with ``earlier``'s, or None."""
    if earlier["data"] != record["data"]:
        label = earlier["data"]["label"]
        with_label = f" (label {label})" if label is not None else ""
        return (
            f"a sweep of {describe_data(earlier['data'])}{with_label}, not of "
            f"{describe_data(record['data'])}"
        )
    validated = earlier.get("validation"), record.get("validation")  # None: held out
    if validated[0] != validated[1]:
        was, will = (describe_data(v) if v else "a held-out part" for v in validated)
        return f"a sweep validated on {was}, not on {will}"
    before, now = (_fixed_but_length(record["grid"]) for record in (earlier, record))
    if _as_json(before) != _as_json(now):
        grid = Grid.from_dict(record["grid"])
        was, will = (grid.label(fixed) or "no fixed option" for fixed in (before, now))
        return f"a sweep whose runs share {was}; these would share {will}"
    return None


def _fixed_but_length(grid: dict) -> dict:
    return {k: v for k, v in grid["fixed"].items() if k not in LENGTH_OPTIONS}


def _as_json(value):
    return json.loads(json.dumps(value))


def _remove_sweep(folder: Path, earlier: dict) -> None:
    """Remove the earlier sweep's run files (the runs its grid names), search and results."""
    grid = Grid.from_dict(earlier["grid"])
    for setting in grid.settings():
        run = folder / grid.folder_name(setting)
        if run.is_dir():
            with writer_lock(run):
                clear_run(run)
    for name in (SEARCH_FILE, TABLE_FILE, FIGURE_FILE, PAGE_FILE):
        (folder / name).unlink(missing_ok=True)
