"""Why a row is flagged: each feature's part in its score (``AutoencoderAnomalyDetector.explain``,
``aekit score --explain``, the run report's most unusual rows)."""

from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from conftest import blob_images

import aekit
from aekit.cli.commands import main
from aekit.sklearn import AutoencoderAnomalyDetector

COLUMNS = [f"c{i}" for i in range(8)]
CORRUPTED = "c5"


def corrupted_table(n_normal: int = 400, n_anomalies: int = 20) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows near a 2-d plane in 8 columns of different units; in the last ``n_anomalies`` rows
    column c5 alone is pushed 6 of its standard deviations off (seeded)."""
    rng = np.random.default_rng(0)
    basis = rng.normal(size=(2, 8))
    rows = rng.normal(size=(n_normal + n_anomalies, 2)) @ basis
    rows += 0.05 * rng.normal(size=rows.shape)
    rows *= np.array([1, 10, 100, 0.1, 1, 1000, 5, 1])  # units differ from column to column
    column = COLUMNS.index(CORRUPTED)
    rows[n_normal:, column] += 6 * rows[:n_normal, column].std()
    is_anomaly = np.r_[np.zeros(n_normal, bool), np.ones(n_anomalies, bool)]
    index = pd.Index([f"r{i}" for i in range(len(rows))], name="id")
    return pd.DataFrame(rows, columns=COLUMNS, index=index), is_anomaly


@pytest.fixture(scope="module")
def fitted():
    table, is_anomaly = corrupted_table()
    # a real bottleneck (the rows span 2 dimensions): measured, c5 first for all 20 anomalies
    detector = AutoencoderAnomalyDetector(code_size=2, gmm_components=1, random_state=0)
    return detector.fit(table), table, is_anomaly


def test_explain_names_the_corrupted_column_first_for_the_anomalies(fitted):
    detector, table, is_anomaly = fitted
    top = detector.explain(table).top_features(2)
    first = top[top["rank"] == 1].set_index("row")
    assert (first.loc[table.index[is_anomaly], "feature"] == CORRUPTED).all()
    # among normal rows the corrupted column is first no more often than its fair share
    assert (first.loc[table.index[~is_anomaly], "feature"] == CORRUPTED).mean() < 0.3
    # the residual, in the column's own units, is most of the 6 standard deviations added (the
    # model was fitted on the anomalies too; measured: 2.3 to 4.9)
    spread = table.loc[~is_anomaly, CORRUPTED].std()
    residual = first.loc[table.index[is_anomaly], "residual"] / spread
    assert residual.between(1.5, 9).all(), residual.describe()


def test_the_contributions_add_up_to_the_score(fitted):
    detector, table, _ = fitted
    explained = detector.explain(table)
    np.testing.assert_allclose(explained.scores, detector.pyod_scores(table), rtol=1e-10)
    np.testing.assert_allclose(explained.contributions.sum(axis=1), explained.reconstruction_error)
    # "both": the larger of the two terms' standings against the training rows
    most = np.maximum(explained.error_standing, explained.distance_standing)
    scale = detector.reference_.error_scale  # given in the reconstruction error's units
    np.testing.assert_allclose(explained.scores, np.exp(scale.median + scale.spread * most))
    leads = explained.leading_term == "reconstruction"
    np.testing.assert_allclose(explained.scores[leads], explained.reconstruction_error[leads])
    np.testing.assert_allclose(explained.shares.sum(axis=1), 1.0)
    np.testing.assert_allclose(explained.values, table.to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(
        explained.reconstructions, detector.model_.reconstruct(table.to_numpy()), rtol=1e-5
    )


def test_explanations_are_pandas_frames_named_as_the_training_table(fitted):
    detector, table, _ = fitted
    explained = detector.explain(table.iloc[::-1])  # any order: the index travels along
    shares = explained.to_frame()
    assert list(shares.columns) == COLUMNS and shares.index.equals(table.index[::-1])
    assert explained.to_frame("residual").loc["r7", "c1"] == pytest.approx(
        explained.residuals[len(table) - 8, 1]
    )
    top = explained.top_features(3)
    assert list(top.columns) == ["row", "rank", "feature", "share", "value", "reconstruction",
                                 "residual"]  # fmt: skip
    assert len(top) == 3 * len(table) and top["row"].iloc[0] == table.index[-1]
    # plain arrays: positions for rows, the training columns' names for features
    with pytest.warns(UserWarning, match="does not have valid feature names"):  # scikit-learn's
        by_position = detector.explain(table.to_numpy()[:4]).top_features(1)
    assert list(by_position["row"]) == [0, 1, 2, 3]
    assert set(by_position["feature"]) <= set(COLUMNS)
    with pytest.raises(ValueError, match="values must be one of share"):
        explained.to_frame("percent")
    with pytest.raises(ValueError, match="k must be a whole number"):
        explained.top_features(0)


def test_an_image_explanation_is_a_heat_map_where_the_image_differs():
    blobs = blob_images(96)  # (n, 12, 12)
    options = {"backbone": "conv", "hidden": [4, 8], "code_size": 4, "epochs": 40}
    by_pixel = AutoencoderAnomalyDetector(
        anomaly_score="reconstruction", gmm_components=1, random_state=0, **options
    ).fit(blobs)
    marked = blob_images(4).copy()
    marked[:, 1, 2:10] = 1.0  # a bright bar across row 1, where no blob reaches
    heat = by_pixel.explain(marked).heatmaps
    assert heat.shape == (4, 12, 12)
    bar, elsewhere = heat[:, 1, 2:10].mean(), np.delete(heat, 1, axis=1).mean()
    assert bar > 5 * elsewhere, (bar, elsewhere)  # measured: 22 and 13 times (seeds 0, 1)
    # the default score's heat map is of the local error: it shows regions
    default = AutoencoderAnomalyDetector(gmm_components=1, random_state=0, **options).fit(blobs)
    marked = blob_images(4).copy()
    marked[:, :4, :4] = 1.0  # a bright square in a corner
    heat = default.explain(marked).heatmaps
    far = np.ones((12, 12), bool)
    far[:6, :6] = False  # beyond the 5x5 averaging's reach of the square
    square, beyond = heat[:, :4, :4].mean(), heat[:, far].mean()
    assert square > 3 * beyond, (square, beyond)  # measured: 22, 4.6 and 7.8 (seeds 0-2)


@pytest.fixture(scope="module")
def table_run(tmp_path_factory):
    """The corrupted table as a CSV, and a run of aekit train on it (code 2)."""
    table, is_anomaly = corrupted_table()
    folder = tmp_path_factory.mktemp("explain")
    table.to_csv(folder / "table.csv", index=False)
    main(["train", str(folder / "table.csv"), "--out", str(folder / "run"), "--code", "2",
          "--epochs", "30", "--quiet"])  # fmt: skip
    return folder, table, is_anomaly


def test_score_explain_writes_each_rows_top_features(table_run):
    folder, table, is_anomaly = table_run
    out = folder / "scores.csv"
    args = ["score", str(folder / "run"), str(folder / "table.csv"), "-o", str(out), "--quiet"]
    assert main([*args, "--explain", "2"]) == 0
    scores = pd.read_csv(out)
    assert list(scores.columns) == ["score", "outlier", "threshold", "feature_1", "share_1",
                                    "residual_1", "feature_2", "share_2", "residual_2"]  # fmt: skip
    assert (scores.loc[is_anomaly, "feature_1"] == CORRUPTED).all()
    assert (scores["share_1"] >= scores["share_2"]).all()
    # the scores are those written without --explain: the reconstruction error
    np.testing.assert_allclose(scores["score"], aekit.load(folder / "run").anomaly_scores(table))
    spread = table.loc[~is_anomaly, CORRUPTED].std()
    assert (scores.loc[is_anomaly, "residual_1"] > 1.5 * spread).all()


def test_score_explain_by_both_names_the_leading_term(table_run):
    folder, table, is_anomaly = table_run
    out = folder / "both.csv"
    args = ["score", str(folder / "run"), str(folder / "table.csv"), "-o", str(out), "--quiet"]
    given = ["--anomaly-score", "both", "--train-data", str(folder / "table.csv")]
    assert main([*args, *given, "--explain", "1"]) == 0
    scores = pd.read_csv(out)
    assert list(scores.columns[:4]) == ["score", "outlier", "threshold", "leading_term"]
    assert set(scores["leading_term"]) <= {"reconstruction", "code distance"}
    # the corrupted column is rebuilt badly: the error is what stands out on those rows
    assert (scores.loc[is_anomaly, "leading_term"] == "reconstruction").mean() > 0.8


def test_score_explain_refuses_what_it_cannot_do(table_run, capsys):
    folder, _, _ = table_run
    out = folder / "refused.csv"
    args = ["score", str(folder / "run"), str(folder / "table.csv"), "-o", str(out)]
    assert main([*args, "--explain", "0"]) == 2
    assert "--explain must be at least 1" in capsys.readouterr().err
    assert main([*args, "--explain", "2", "--stream", "on"]) == 2
    assert "--explain needs the data in memory" in capsys.readouterr().err
    assert not out.exists()


class _UnusualRows(HTMLParser):
    """The report's table of the rows rebuilt worst: a list of its rows' cells."""

    def __init__(self, text: str):
        super().__init__()
        self.rows, self._inside, self._row = [], False, None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._inside = dict(attrs).get("id") == "unusual-rows"
        elif tag == "tr" and self._inside:
            self._row = []

    def handle_data(self, data):
        if self._row is not None:
            self._row.append(data)

    def handle_endtag(self, tag):
        if tag == "tr" and self._row:
            self.rows.append(self._row)
        if tag in ("tr", "table"):
            self._row = None


def test_the_report_shows_the_rows_rebuilt_worst_and_their_features(table_run):
    folder, table, is_anomaly = table_run
    shown = _UnusualRows((folder / "run" / "report.html").read_text()).rows[1:]  # no header
    assert len(shown) == 10 and all(len(cells) == 5 for cells in shown)
    # rows are the file's: the validation part training held out, as the report says
    model = aekit.load(folder / "run")
    held_out = np.sort(np.random.default_rng(model.train_config.seed).permutation(420)[:42])
    rows = [int(cells[0]) for cells in shown]
    assert set(rows) <= set(held_out)
    anomalies = sorted(set(held_out) & set(np.flatnonzero(is_anomaly)))
    assert anomalies and sorted(rows[: len(anomalies)]) == anomalies  # they come first
    for cells in shown[: len(anomalies)]:
        row, first = int(cells[0]), cells[2]
        assert (
            first.startswith(f"{CORRUPTED}: ")
            and f"value {table.iloc[row][CORRUPTED]:.4g}," in first
        )
