"""A run folder's manifest.json (aekit.runs.manifest): loading refuses a folder whose files
are not one save's, saying which file and how; an old run without one loads as before."""

import json
import shutil

import numpy as np
import pytest

import aekit
from aekit.runs.files import COMMIT_FILE, SAVING_FOLDER

X = np.random.default_rng(0).normal(size=(40, 6)).astype(np.float32)
TINY = dict(code_size=2, hidden=[8], epochs=1, progress=False)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """Two runs of the same shape, trained with different seeds."""
    folder = tmp_path_factory.mktemp("runs")
    for seed in (1, 2):
        aekit.train(X, out=folder / f"seed{seed}", seed=seed, **TINY)
    return folder / "seed1", folder / "seed2"


@pytest.fixture
def run(two_runs, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(two_runs[0], copy)
    return copy


def load_error(folder) -> str:
    with pytest.raises(aekit.ModelFileError) as info:
        aekit.load(folder)
    return str(info.value)


def test_weights_of_another_run_are_refused(run, two_runs):
    # the same shapes: without the manifest, this mix would load as a model no run trained
    shutil.copy(two_runs[1] / "model.safetensors", run / "model.safetensors")
    message = load_error(run)
    assert f"{run}/model.safetensors is not the file saved with this run" in message
    assert "another SHA-256" in message and "mixes files of different saves" in message


def test_a_file_cut_short_is_refused(run):
    metrics = run / "metrics.jsonl"
    metrics.write_text(metrics.read_text().splitlines()[0] + "\n" + "{}\n")
    assert "bytes, manifest.json lists" in load_error(run)


def test_a_missing_file_the_model_needs_is_refused(run):
    (run / "code_density.json").unlink()
    assert f"{run}/code_density.json is missing (manifest.json lists it)" in load_error(run)


def test_a_run_file_the_manifest_does_not_list_is_refused(run):
    # an image run's picture, in a table's run folder: another run's file
    (run / "samples.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    message = load_error(run)
    assert "samples.png is not one of this run's files (manifest.json does not list it)" in (
        message
    )


def test_a_missing_manifest_is_refused_in_the_format_that_writes_one(run):
    (run / "manifest.json").unlink()
    assert "manifest.json is missing: a run of this format lists its files there" in (
        load_error(run)
    )


def test_the_report_and_the_checkpoint_may_be_removed_by_hand(run):
    for name in ("checkpoint.safetensors", "loss.png"):
        (run / name).unlink(missing_ok=True)
    assert aekit.load(run).code_size == 2


def test_a_manifest_naming_other_paths_is_refused(run):
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["files"]["../elsewhere"] = {"bytes": 1}
    (run / "manifest.json").write_text(json.dumps(manifest))
    assert "is not an aekit manifest" in load_error(run)


def test_a_commit_record_naming_other_files_is_refused_and_nothing_moves(run, tmp_path):
    # loading a run finishes a save its writer left half done: only ever with run files
    outside = tmp_path / "outside.txt"
    outside.write_text("keep")
    (run / SAVING_FOLDER).mkdir()
    record = {"moves": [["../outside.txt", "config.json"]], "remove": [], "drop": []}
    (run / SAVING_FOLDER / COMMIT_FILE).write_text(json.dumps(record))
    assert "is not an aekit commit record" in load_error(run)
    assert outside.read_text() == "keep"
