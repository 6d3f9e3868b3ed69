"""The ``compile`` option: torch.compile of the training step, "auto" = on for CUDA only; it
trains the same network, is saved with the run, and may change on resume."""

import json

import numpy as np
import pytest
import torch

import aekit
import aekit.training.compiling
from aekit import ConfigError
from aekit.cli.commands import main

TINY = dict(hidden=[8], code_size=2, batch_size=50, epochs=2, progress=False)


@pytest.fixture
def no_compiling(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("torch.compile was called")

    monkeypatch.setattr(torch, "compile", refuse)


def test_auto_does_not_compile_on_the_cpu_and_says_so(no_compiling, low_rank, tmp_path):
    model = aekit.train(low_rank, out=tmp_path / "run", **TINY)
    assert model.train_config.compile == "off"
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert "'compile': 'off'" in repr(saved) or '"compile": "off"' in json.dumps(saved)


def test_compile_on_trains_the_same_network_on_the_cpu(low_rank):
    plain = aekit.train(low_rank, compile="off", **TINY)
    fused = aekit.train(low_rank, compile="on", **TINY)
    assert fused.train_config.compile == "on"
    # the same operations, fused: the same losses to float32 rounding
    np.testing.assert_allclose(
        [row["val_loss"] for row in fused.history],
        [row["val_loss"] for row in plain.history],
        rtol=1e-4,
    )


def test_a_run_may_be_resumed_with_another_compile_setting(low_rank, tmp_path, monkeypatch):
    compiled_steps = []
    monkeypatch.setattr(torch, "compile", lambda step: compiled_steps.append(step) or step)
    aekit.train(low_rank, out=tmp_path / "run", compile="off", **TINY)
    resumed = aekit.train(
        low_rank, out=tmp_path / "run", resume=True, epochs=3, compile="on", progress=False
    )
    assert resumed.train_config.compile == "on"
    assert len(compiled_steps) == 1
    assert [row["epoch"] for row in resumed.history] == [1, 2, 3]


def test_compile_on_without_a_cpp_compiler_is_refused(low_rank, monkeypatch):
    monkeypatch.setattr(aekit.training.compiling.shutil, "which", lambda name: None)
    with pytest.raises(ConfigError, match="compile='on' on the CPU needs a C\\+\\+ compiler"):
        aekit.train(low_rank, compile="on", **TINY)


def test_the_cli_takes_compile(no_compiling, low_rank, tmp_path):
    np.save(tmp_path / "x.npy", low_rank)
    main(
        ["train", str(tmp_path / "x.npy"), "--out", str(tmp_path / "run"), "--compile", "off",
         "--hidden", "8", "--code", "2", "--epochs", "1", "--quiet"]
    )  # fmt: skip
    assert aekit.load(tmp_path / "run").train_config.compile == "off"
    with pytest.raises(SystemExit):
        main(["train", str(tmp_path / "x.npy"), "--compile", "sometimes"])
