"""The run report: one self-contained HTML file, written by training and rebuilt by `aekit
report` for any run (old formats, other data), its evaluation table exactly evaluation.json."""

import base64
import io
import json
import math
import re
import shutil
from html.parser import HTMLParser

import pandas as pd
import pytest
from run_edits import reseal
from test_run_format import as_format_1

import aekit
from aekit.cli.commands import main
from aekit.reports.run_report import write_report
from aekit.runs.folder import PICTURE_FILES
from aekit.training.progress import Progress

TINY = dict(code_size=3, hidden=[16], epochs=2, progress=False)
REPORT_FILES = {"report.html", "evaluation.json", "loss.png", "codes.png"}


class _Page(HTMLParser):
    """The parts of a report a test checks: image sources, script tags, the evaluation table."""

    def __init__(self, text: str):
        super().__init__()
        self.images, self.scripts, self.evaluation = [], 0, {}
        self._table, self._row = None, None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs["src"])
        elif tag == "script":
            self.scripts += 1
        elif tag == "table":
            self._table = attrs.get("id")
        elif tag == "tr" and self._table == "evaluation":
            self._row = []
        elif tag == "td" and self._row is not None:
            self._row.append(attrs.get("data-value"))

    def handle_data(self, data):
        if self._row is not None and len(self._row) == 1 and self._row[0] is None:
            self._row[0] = data  # the metric's name

    def handle_endtag(self, tag):
        if tag == "tr" and self._row:
            name, ours, pca = self._row[:3]
            self.evaluation[name] = (ours, pca)
            self._row = None
        elif tag == "table":
            self._table = None


def _number(value) -> float:
    return float(value)  # evaluation.json writes inf and nan as strings


def assert_table_is_the_json(page: _Page, evaluation: dict) -> None:
    rows = evaluation["rows"]
    assert set(page.evaluation) == set(rows["aekit"]) | set(rows["pca"])
    for metric, (ours, pca) in page.evaluation.items():
        for shown, saved in ((ours, rows["aekit"].get(metric)), (pca, rows["pca"].get(metric))):
            if saved is None:
                assert shown is None, metric
            elif math.isnan(_number(saved)):
                assert math.isnan(float(shown)), metric
            else:
                assert float(shown) == _number(saved), metric


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("digits") / "run"
    aekit.train("digits", out=out, **TINY)
    return out


@pytest.fixture
def run(digits_run, tmp_path):
    return shutil.copytree(digits_run, tmp_path / "run")


def test_the_report_is_one_self_contained_file(digits_run):
    text = (digits_run / "report.html").read_text()
    page = _Page(text)
    assert "http://" not in text and "https://" not in text
    assert page.scripts == 0 and "<script" not in text
    assert len(page.images) == 5  # loss, code map, reconstructions, samples, interpolation
    assert all(src.startswith("data:image/png;base64,") for src in page.images)
    assert_table_is_the_json(page, json.loads((digits_run / "evaluation.json").read_text()))
    for part in ("digits:test", "Options", "code_size", "Evaluation against PCA"):
        assert part in text


def test_the_stored_evaluation_is_evaluate_on_the_test_split(digits_run):
    stored = json.loads((digits_run / "evaluation.json").read_text())
    # training leaves out the sample quality (a reference network to train): evaluate RUN adds it
    fresh = aekit.evaluate(aekit.load(digits_run), sample_quality=False).to_dict()
    assert stored == json.loads(json.dumps(fresh))


def test_a_file_run_is_shown_on_its_validation_part(tmp_path, table):
    out = tmp_path / "run"
    model = aekit.train(str(table), label="kind", out=out, **TINY)
    text = (out / "report.html").read_text()
    assert "validation data: the 20 samples of" in text
    assert json.loads((out / "evaluation.json").read_text())["n_test"] == model.data_info.n_val
    assert (out / "feature_errors.png").exists() and not (out / "samples.png").exists()


def test_a_run_records_where_its_data_is_so_any_folder_can_use_it(
    digits_run, tmp_path, table, monkeypatch, capsys
):
    """Relative paths are recorded resolved: the run is evaluated and reported from another
    folder; a built-in's name stays a name."""
    monkeypatch.chdir(tmp_path)
    pd.read_csv(table).iloc[:60].to_csv("val.csv", index=False)
    aekit.train(table.name, label="kind", val_data="val.csv", out="run", **TINY)
    data = json.loads((tmp_path / "run" / "config.json").read_text())["data"]
    where = (str(table.resolve()), str((tmp_path / "val.csv").resolve()))
    assert (data["source"], data["val_source"]) == where
    assert json.loads((digits_run / "config.json").read_text())["data"]["source"] == "digits"
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert main(["evaluate", "../run", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_test"] == 60
    assert main(["report", "../run", "--data", "../val.csv", "-o", "page.html", "--quiet"]) == 0


def test_the_report_of_a_run_whose_data_is_not_found_uses_what_the_folder_holds(
    tmp_path, table, monkeypatch, capsys
):
    """A run saved with a relative path (as aekit recorded them before), read from another
    folder: the report shows the stored evaluation and pictures and says why; evaluate names
    the file it cannot find."""
    out = tmp_path / "run"
    aekit.train(str(table), label="kind", out=out, **TINY)
    config = json.loads((out / "config.json").read_text())
    config["data"]["source"] = table.name
    (out / "config.json").write_text(json.dumps(config))
    reseal(out)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    stored = {name: (out / name).read_bytes() for name in ("codes.png", "feature_errors.png")}
    assert main(["report", str(out), "--quiet"]) == 0
    text = (out / "report.html").read_text()
    assert_table_is_the_json(_Page(text), json.loads((out / "evaluation.json").read_text()))
    for png in stored.values():
        assert base64.b64encode(png).decode() in text  # the folder's pictures of the data
    assert "table.csv is not found from here" in text
    assert main(["evaluate", str(out)]) == 2
    error = capsys.readouterr().err
    assert "'table.csv': the run's data file is not found from" in error
    (out / "evaluation.json").unlink()
    assert main(["report", str(out), "--quiet"]) == 0
    text = (out / "report.html").read_text()
    assert "table.csv is not found from here, and the run folder holds no evaluation" in text


def test_aekit_report_with_other_data(tmp_path, table, capsys):
    out = tmp_path / "run"
    aekit.train(str(table), label="kind", out=out, **TINY)
    other = tmp_path / "other.csv"
    pd.read_csv(table).iloc[:50].to_csv(other, index=False)
    html = tmp_path / "elsewhere" / "other.html"
    assert main(["report", str(out), "--data", str(other), "-o", str(html), "--quiet"]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {html}"
    text = html.read_text()
    assert f"{other}, as given" in text and "Computed for this report" in text
    evaluation = _Page(text).evaluation
    assert len(evaluation) >= 4 and "probe_accuracy" in evaluation  # "kind" is the run's label
    assert re.search(r"On [^:]*other\.csv: 50 samples", text)


def test_a_format_1_run_saved_before_reports_gets_one(run, capsys):
    as_format_1(run)
    for name in [*PICTURE_FILES.values(), "evaluation.json", "report.html"]:
        (run / name).unlink(missing_ok=True)
    assert main(["report", str(run)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {run / 'report.html'}"
    page = _Page((run / "report.html").read_text())
    assert len(page.images) == 5 and "mse" in page.evaluation
    assert not (run / "evaluation.json").exists()  # report writes its page, nothing else


def test_aekit_evaluate_stores_its_evaluation_for_the_report(tmp_path, capsys):
    out = tmp_path / "vae"
    aekit.train("digits", model="vae", out=out, **TINY)
    before = json.loads((out / "evaluation.json").read_text())
    assert "elbo" in before["rows"]["aekit"] and "iwae_nll" not in before["rows"]["aekit"]
    assert "aekit evaluate" in (out / "report.html").read_text()  # says how to add it
    assert main(["evaluate", str(out), "--iw-samples", "3", "--iw-images", "20", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    stored = json.loads((out / "evaluation.json").read_text())
    assert stored == printed and "iwae_nll" in stored["rows"]["aekit"]
    write_report(out)
    assert "iwae_nll" in _Page((out / "report.html").read_text()).evaluation
    # evaluating on other data leaves the run's evaluation alone
    assert main(["evaluate", str(out), "digits:train", "--iw-images", "0", "--quiet"]) == 0
    assert json.loads((out / "evaluation.json").read_text()) == stored


def test_overwriting_a_run_removes_its_report_files(run):
    assert REPORT_FILES <= {path.name for path in run.iterdir()}
    aekit.train("digits", out=run, overwrite=True, report=False, **TINY)
    assert not REPORT_FILES & {path.name for path in run.iterdir()}
    assert {"config.json", "model.safetensors"} <= {path.name for path in run.iterdir()}


def test_no_report_from_the_command_line(tmp_path):
    out = tmp_path / "run"
    assert (
        main(["train", "digits", "--out", str(out), "--epochs", "1", "--no-report", "--quiet"]) == 0
    )
    assert not REPORT_FILES & {path.name for path in out.iterdir()}
    assert json.loads((out / "config.json").read_text())["train"]["report"] is False


def test_the_report_counts_on_a_terminal_and_says_nothing_elsewhere(digits_run, tmp_path, capsys):
    stream = io.StringIO()
    write_report(digits_run, tmp_path / "a.html", progress=Progress(stream, live=True))
    assert "report: drawing the pictures: 0/5" in stream.getvalue()
    quiet = io.StringIO()
    write_report(digits_run, tmp_path / "b.html", progress=Progress(quiet, live=False))
    aekit.report(digits_run, tmp_path / "c.html")
    assert quiet.getvalue() == "" and capsys.readouterr().err == ""


def test_a_report_that_fails_does_not_fail_the_finished_training(tmp_path, monkeypatch, caplog):
    def moved_away(*args, **kwargs):
        raise aekit.DataError("table.csv does not exist")

    monkeypatch.setattr("aekit.reports.run_report.RunPictures", moved_away)
    model = aekit.train("digits", out=tmp_path / "run", **TINY)
    assert (tmp_path / "run" / "model.safetensors").exists() and model.code_size == 3
    assert not (tmp_path / "run" / "report.html").exists()
    assert "its report could not be written: table.csv does not exist" in caplog.text
