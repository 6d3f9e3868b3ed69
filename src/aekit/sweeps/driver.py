"""``aekit.sweep``: train every setting of a grid of options (or an Optuna search over it) and
compare each run with PCA at its code size.

Each run is an ordinary run folder inside the sweep folder, named from its setting
(``code=8,loss=mse``): a finished run is loaded, not trained again, and an unfinished one is
resumed from its checkpoint, so running an interrupted sweep again finishes it. Runs are
chosen between by validation error only; test data, where there is some, is only reported.

The table's columns: the swept options (list options as text, ``512,128``), ``code_size``,
the run folder, epochs, best epoch, stop reason, training seconds, best validation loss (in the
run's own loss), then aekit's and PCA's MSE at the same code size with their ratio on the
validation part (``val_mse``, ``pca_val_mse``, ``val_ratio``) and on the test data
(``test_...``), the probe accuracy of each where the test data has labels, and ``best``: the
run with the lowest validation MSE. An Optuna search adds its ``trial`` numbers first.
"""

from __future__ import annotations

import contextlib
import math
from pathlib import Path

import pandas as pd

from ..api import evaluate, is_finished, load, train
from ..data import Dataset, load_data
from ..data.builtin import split_builtin_name
from ..data.splitting import split_validation
from ..data.table_files import table_names
from ..errors import ConfigError
from ..models.options import make_config
from ..options.config_file import LABEL_KEY
from ..runs.folder import has_checkpoint
from ..runs.saving import writer_lock
from ..runs.training_place import resume_folder
from ..trained.autoencoder import Autoencoder
from ..training.progress import Progress
from ..training.request import check_one_validation, load_validation
from .folder import claim, data_identity, write_figure, write_page, write_table
from .grid import LIST_KINDS, Grid, grid_from_keywords, option_kind, read_sweep_file, value_text
from .search import OBJECTIVE, check_search, run_search

SEARCHES = ("grid", "optuna")


def sweep(
    data,
    *,
    out: str | Path | None = None,
    config: str | Path | None = None,
    val_data=None,
    test_data=None,
    label: str | None = None,
    search: str = "grid",
    trials: int | None = None,
    storage: str | None = None,
    overwrite: bool = False,
    progress: bool = False,
    verbose: bool = False,
    **options,
) -> pd.DataFrame:
    """Train a run for every setting of ``options`` and compare each with PCA; one row a run.

    options: ``aekit.train``'s options; a list of values is swept (``code_size=[2, 4, 8]``; an
    option whose value is a list takes a list of them, ``hidden=[[128], [512, 128]]``), a single
    value is used by every run. Every value and combination is checked before training.
    out: the sweep folder (default ``sweeps/<data>``): a run folder per setting, ``sweep.json``
    (the data and grid), ``sweep.csv`` (this table), ``sweep.png`` and ``sweep.html``. Finished
    runs there are loaded, unfinished ones resumed (more ``epochs`` or a larger ``time_limit``
    trains them on); a folder holding a sweep of other data or other fixed options is an error
    unless ``overwrite=True``, which removes its runs first.
    config: a TOML file of options in the same form (``code_size = [2, 4, 8]``) and ``label``,
    at the top level or under ``[sweep]`` or ``[train]``; keywords given here override its keys.
    val_data: validation data given apart, as ``aekit.train``'s (every run trains on all of
    ``data`` and is chosen and scored on it); default: each run holds out ``val_fraction``.
    test_data: held-out data for the test columns (default: a built-in's test split); without
    it the table has validation columns only.
    search: ``"grid"`` trains every setting; ``"optuna"`` runs ``trials`` trials of Optuna's TPE
    sampler (seeded by ``seed``) over the same values, minimising validation MSE; the study is
    kept in ``out/optuna.db`` (the same call resumes it) or at ``storage``, a database URL that
    workers on several machines share (docs/guide/scaling-out.md); ``trials`` counts them all.
    progress: a line per run on stderr; verbose: also each run's epochs. Columns: see the module."""
    if config is not None:
        options, label = _with_file(config, options, label)
    grid = grid_from_keywords(options)
    _check_search(search, trials, grid, storage)
    for setting in grid.settings():  # before the folder is claimed, as every other check
        check_one_validation(val_data, grid.options(setting))
    folder = Path(out) if out is not None else default_folder(data)
    dataset = load_data(data, label=label, default_split="train")
    validation = load_validation(val_data, dataset, label) if val_data is not None else None
    test_source, test = _test_part(data, test_data, label)
    # what the sweep folder is of: the same call on other data or options is refused
    validation_identity = data_identity(val_data, None) if val_data is not None else None
    record = dict(data=data_identity(data, label), validation=validation_identity, trials=trials)
    record.update(test=_source_text(test_source, test), grid=grid.to_dict(), search=search)
    # one sweep at a time in a folder, each run locking its own; workers sharing a study in a
    # database (``storage``) share the folder too, and the database keeps them apart
    with writer_lock(folder) if storage is None else contextlib.nullcontext():
        claim(folder, record, overwrite)
        runner = _Runner(data, label, folder, grid, dataset, test, overwrite, progress, verbose,
                         val_data, validation)  # fmt: skip
        for row in _rows(runner, grid, search, folder, trials, storage):
            runner.add(row)
        return runner.finish(record)


def _with_file(config, options: dict, label: str | None) -> tuple[dict, str | None]:
    """(the sweep file's options overridden by the call's, the call's label or else the
    file's)."""
    file_options = read_sweep_file(config)
    file_label = file_options.pop(LABEL_KEY, None)
    return file_options | options, label if label is not None else file_label


def _rows(runner, grid: Grid, search: str, folder: Path, trials: int | None, storage):
    """Each run's row, in the order the search trains them."""
    if search == "grid":
        settings = grid.settings()
        for number, setting in enumerate(settings, start=1):
            yield runner.run(setting, f"{number}/{len(settings)}")
    else:
        seed = int(grid.fixed.get("seed", 0))
        yield from run_search(grid, folder, trials, seed, runner.run, storage)


def _test_part(data, test_data, label):
    """(where the test data comes from, the test data as loaded); (None, None) without any."""
    source = test_data if test_data is not None else default_test_source(data)
    if source is None:
        return None, None
    return source, load_data(source, label=_test_label(source, label), default_split="test")


def _test_label(source, label: str | None) -> str | None:
    """The label to read test data with: the run's, where the test table has that column (its
    classes feed the probe); labels are never asked of test data, and an array has none."""
    if label is None or not isinstance(source, str | Path):
        return None
    path = Path(source).expanduser()
    if path.suffix.lower() in (".csv", ".parquet") and path.is_file():
        return label if str(label) in table_names(path) else None
    return label


def default_folder(data) -> Path:
    """``sweeps/<data>``: the same command finds its sweep again."""
    if isinstance(data, str | Path):
        stem = Path(data).stem if Path(data).suffix else Path(data).name
        name = "".join(c if c.isalnum() or c in "-_" else "-" for c in stem)
        return Path("sweeps") / (name or "data")
    return Path("sweeps") / "data"


def default_test_source(data) -> str | None:
    """A built-in's test split; None for other data (there is no test data to assume)."""
    if not isinstance(data, str) or Path(data).exists():
        return None
    builtin = split_builtin_name(data)
    return f"{builtin[0]}:test" if builtin is not None else None


class _Runner:
    """Trains, loads or resumes each run, scores it and keeps the table."""

    def __init__(
        self, data, label, folder, grid, dataset, test, overwrite, progress, verbose, val_data,
        validation,
    ):  # fmt: skip
        self.data, self.label, self.folder, self.grid = data, label, folder, grid
        self.val_data, self.validation = val_data, validation  # as given, and as loaded
        self.dataset, self.test, self.overwrite, self.verbose = dataset, test, overwrite, verbose
        self.reporter = Progress() if progress else None
        self.rows: list[dict] = []
        self.legends: list[str] = []
        self._scored: dict[str, dict] = {}  # run folder -> its row (a search may repeat one)
        self._legends: dict[str, str] = {}  # run folder -> its other swept options, for the figure
        self._splits: dict[tuple, tuple] = {}
        if self.reporter and test is None:
            self.reporter.message(_NO_TEST_NOTE)

    def run(self, setting: dict, position: str) -> dict:
        """The row of ``setting``'s run, trained, resumed or loaded."""
        run = self.folder / self.grid.folder_name(setting)
        if str(run) not in self._scored:
            status, model = self._train(run, self.grid.options(setting))
            row = {name: _cell(name, value) for name, value in setting.items()}
            row.setdefault("code_size", model.code_size)
            row.update(self._scores(run, model))
            self._scored[str(run)] = row
            others = {name: value for name, value in setting.items() if name != "code_size"}
            self._legends[str(run)] = self.grid.label(others)
            self._report(position, setting, status, row)
        return dict(self._scored[str(run)])

    def add(self, row: dict) -> None:
        """Keep ``row`` and rewrite sweep.csv, so an interrupted sweep leaves its table."""
        self.rows.append(row)
        self.legends.append(self._legends[row["run"]])
        write_table(self.folder, pd.DataFrame(self.rows))

    def finish(self, record: dict) -> pd.DataFrame:
        frame = pd.DataFrame(self.rows)
        if OBJECTIVE in frame and frame[OBJECTIVE].notna().any():
            frame["best"] = False
            frame.loc[frame[OBJECTIVE].idxmin(), "best"] = True
        write_table(self.folder, frame)
        figure = write_figure(self.folder, frame, self.legends)
        notes = [] if self.test is not None else [_NO_TEST_NOTE]
        if "best" in frame:
            best = frame.loc[frame["best"]].iloc[0]
            notes.append(f"best run by validation MSE: {best['run']}")
        write_page(self.folder, frame, record, figure, notes)
        return frame

    def _train(self, run: Path, options: dict) -> tuple[str, Autoencoder]:
        if is_finished(run, self.data, label=self.label, val_data=self.val_data, **options):
            return "done before", load(run)
        resume = has_checkpoint(resume_folder(run))
        model = train(
            self.data,
            label=self.label,
            val_data=self.val_data,
            out=run,
            resume=resume,
            overwrite=self.overwrite,
            progress=self.verbose,
            **options,
        )
        return ("resumed" if resume else "trained"), model

    def _scores(self, run: Path, model: Autoencoder) -> dict:
        """The run's figures: training, then validation and test MSE beside PCA's."""
        result = model.result
        scores = dict(
            run=str(run),
            epochs=result["epochs_run"],
            best_epoch=result["best_epoch"],
            stop_reason=result["stop_reason"],
            seconds=sum(row.get("seconds", 0.0) for row in model.history),
            best_val_loss=result["best_val_loss"],
        )
        train_part, val_part = self._split(model)
        if val_part is not None:
            # unlabelled: the probe is a test figure
            unlabelled = Dataset(val_part.x, None, val_part.name, val_part.feature_names)
            scores.update(
                _versus_pca(
                    "val", evaluate(model, unlabelled, train_data=train_part, sample_quality=False)
                )
            )
        if self.test is not None:
            comparison = evaluate(model, self.test, train_data=train_part, sample_quality=False)
            scores.update(_versus_pca("test", comparison))
            if "probe_accuracy" in comparison.rows["aekit"]:
                scores["probe_accuracy"] = comparison.rows["aekit"]["probe_accuracy"]
                scores["pca_probe_accuracy"] = comparison.rows["pca"]["probe_accuracy"]
        return scores

    def _split(self, model: Autoencoder) -> tuple[Dataset, Dataset | None]:
        """The run's training and validation parts: the seeded split training made, or all
        of the data and the validation data given apart."""
        if self.validation is not None:
            return self.dataset, self.validation
        config = model.train_config
        key = (config.val_fraction, config.seed)
        if key not in self._splits:
            self._splits[key] = split_validation(self.dataset, *key)
        return self._splits[key]

    def _report(self, position: str, setting: dict, status: str, row: dict) -> None:
        if self.reporter is None:
            return
        where = "test" if "test_mse" in row else "val"
        error = ""
        if row.get(f"{where}_mse") is not None:
            error = f"  {where} MSE {row[f'{where}_mse']:.4g} (PCA {row[f'pca_{where}_mse']:.4g})"
        name = self.grid.label(setting) or f"code={row['code_size']}"
        self.reporter.message(
            f"[{position}] {name}  {status}, {row['epochs']} epochs{error}  {row['seconds']:.1f} s"
        )


_NO_TEST_NOTE = (
    "no test data (give test_data=, CLI --test): the table has validation columns only, and "
    "the figure shows validation MSE"
)


def _versus_pca(part: str, comparison) -> dict:
    ours, pca = comparison.rows["aekit"]["mse"], comparison.rows["pca"]["mse"]
    ratio = ours / pca if pca > 0 else math.nan
    return {f"{part}_mse": ours, f"pca_{part}_mse": pca, f"{part}_ratio": ratio}


def _cell(name: str, value):
    """A swept value as the table holds it: list options as their text (``512,128``)."""
    return value_text(name, value) if option_kind(name) in LIST_KINDS else value


def _source_text(source, test: Dataset | None) -> str | None:
    if source is None:
        return None
    return str(source) if isinstance(source, str | Path) else f"{test.name} ({len(test)} samples)"


def _check_search(search: str, trials, grid: Grid, storage) -> None:
    if search not in SEARCHES:
        raise ConfigError(f"search must be one of {', '.join(SEARCHES)}; got {search!r}")
    if storage is not None and search != "optuna":
        raise ConfigError("storage is for search='optuna' (--search optuna): a grid has no study")
    if storage is not None and not isinstance(storage, str):
        raise ConfigError(f"storage must be a database URL (a string); got {storage!r}")
    if search == "grid" and trials is not None:
        raise ConfigError("trials is for search='optuna' (--search optuna); a grid trains all")
    if search == "optuna":
        if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
            raise ConfigError(f"search='optuna' needs trials, a positive integer; got {trials!r}")
        check_search(grid)
        for setting in grid.settings():
            if make_config(**grid.options(setting)).val_fraction == 0:
                raise ConfigError(
                    "search='optuna' chooses by validation error: val_fraction must be above 0"
                )
