"""Training on several processes: torchrun, DistributedDataParallel, resume, failures.

The torchrun tests start real processes (`torchrun --standalone --nproc-per-node 2`) on tiny
data, with one thread each; the others check the pieces in this process, in a process group
of one.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist
from safetensors.numpy import load_file

import aekit
from aekit.cli.commands import main
from aekit.errors import ConfigError, DataError, DistributedError
from aekit.training import distributed
from aekit.training.distributed import SINGLE, Ranks
from aekit.training.steps import batch_starts

pytestmark = pytest.mark.skipif(
    not (dist.is_available() and dist.is_gloo_available()),
    reason="this PyTorch has no torch.distributed with the gloo backend",
)

HOOKS = Path(__file__).with_name("aekit_with_test_hooks.py")
# 301 rows: 30 for validation, 271 for training, so with batch 32 the last batch (15 rows)
# splits unevenly (8 and 7) and exercises the loss weighting
OPTIONS = ["--epochs", "3", "--batch-size", "32", "--hidden", "32", "--code", "4"]
OPTIONS += ["--scale", "minmax", "--seed", "0", "--quiet"]
TIMEOUT = 120  # seconds for one launch; a hang fails the test instead of stalling the suite


@pytest.fixture
def data_file(tmp_path):
    x = np.random.default_rng(0).uniform(size=(301, 16)).astype(np.float32)
    path = tmp_path / "data.npy"
    np.save(path, x)
    return path


def _run(command: list[str], **environment) -> subprocess.CompletedProcess:
    # one thread per process: two processes on two cores, and the single process alike
    env = {**os.environ, "OMP_NUM_THREADS": "1", **environment}
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, env=env)


def _torchrun(*args, **environment) -> subprocess.CompletedProcess:
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    return _run([*launcher, "--nproc-per-node", "2", str(HOOKS), *map(str, args)], **environment)


def _one_process(*args, **environment) -> subprocess.CompletedProcess:
    return _run([sys.executable, str(HOOKS), *map(str, args)], **environment)


def _metrics(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def _succeeded(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, result.stderr[-3000:]


def test_two_processes_train_the_model_one_process_trains(tmp_path, data_file):
    """Each process gets rows r, r + 2, ... of every batch one process takes, and the weights
    end as one process's do, to float tolerance: the processes' mean losses are averaged in
    another order than one process sums the batch (measured: 3e-8 after 3 epochs; 1e-5
    leaves a wide margin). Noise is drawn for the whole batch, as one process draws it."""
    options = [*OPTIONS, "--noise", "gaussian:0.1"]
    single, double = tmp_path / "single", tmp_path / "double"
    (tmp_path / "rows1").mkdir(), (tmp_path / "rows2").mkdir()
    _succeeded(
        _one_process(
            "train", data_file, "--out", single, *options, AEKIT_TEST_RECORD=tmp_path / "rows1"
        )
    )
    result = _torchrun(
        "train", data_file, "--out", double, *options, AEKIT_TEST_RECORD=tmp_path / "rows2"
    )
    _succeeded(result)

    batches = json.loads((tmp_path / "rows1" / "rank0.json").read_text())
    first = json.loads((tmp_path / "rows2" / "rank0.json").read_text())
    second = json.loads((tmp_path / "rows2" / "rank1.json").read_text())
    assert len(batches) == 27  # 3 epochs of 8 batches of 32 and one of 15
    assert first == [rows[0::2] for rows in batches]
    assert second == [rows[1::2] for rows in batches]

    one, two = load_file(single / "model.safetensors"), load_file(double / "model.safetensors")
    assert one.keys() == two.keys()
    for name in one:
        np.testing.assert_allclose(two[name], one[name], rtol=0, atol=1e-5, err_msg=name)
    for a, b in zip(_metrics(single), _metrics(double), strict=True):
        assert (a["world_size"], b["world_size"]) == (1, 2)
        assert b["train_loss"] == pytest.approx(a["train_loss"], rel=1e-5)
        assert b["val_loss"] == pytest.approx(a["val_loss"], rel=1e-5)
    assert aekit.load(double).result["world_size"] == 2
    assert aekit.load(single).result["world_size"] == 1
    assert result.stdout.count("run saved to") == 1  # process 0 speaks for both


def test_a_killed_run_resumes_exactly_on_as_many_processes(tmp_path, data_file):
    """Process 0 is killed (SIGKILL) after its third checkpoint, mid-epoch 2; resumed on two
    processes, the run ends with the uninterrupted run's weights bit for bit, with dropout
    (each process's own random stream) and batch norm (statistics following process 0)."""
    options = [*OPTIONS, "--dropout", "0.1", "--norm", "batch", "--checkpoint-every", "5"]
    whole, run = tmp_path / "whole", tmp_path / "run"
    _succeeded(_torchrun("train", data_file, "--out", whole, *options))

    killed = _torchrun("train", data_file, "--out", run, *options, AEKIT_TEST_KILL="0:3")
    assert killed.returncode != 0
    assert "lost contact with the others" in killed.stderr  # process 1, not a hang
    assert not (run / "config.json").exists()

    assert main(["train", "--resume", str(run), "--quiet"]) == 2  # one process may not resume it

    _succeeded(_torchrun("train", "--resume", run, "--quiet"))
    assert (run / "model.safetensors").read_bytes() == (whole / "model.safetensors").read_bytes()
    assert _metrics(run) == [
        {**row, "seconds": resumed["seconds"], "samples_per_s": resumed["samples_per_s"]}
        for row, resumed in zip(_metrics(whole), _metrics(run), strict=True)
    ]


def test_one_process_cannot_resume_a_run_of_two(capsys, tmp_path, data_file):
    """What the CLI says above, from a checkpoint written as a 2-process run writes it."""
    run = tmp_path / "run"
    aekit.train(data_file, out=run, epochs=1, batch_size=32, progress=False)
    checkpoint = aekit.runs.folder.read_checkpoint(run)
    checkpoint.meta["run"]["world_size"] = 2
    aekit.runs.folder.write_checkpoint(run, checkpoint)
    (run / "config.json").unlink()  # an unfinished run
    with pytest.raises(ConfigError, match=r"trained on 2.*resumes exactly only on as many"):
        aekit.train(out=run, resume=True, progress=False)


def test_a_failing_process_stops_the_others_with_a_clear_error(tmp_path, data_file):
    run = tmp_path / "run"
    start = time.monotonic()
    result = _torchrun("train", data_file, "--out", run, *OPTIONS, AEKIT_TEST_FAIL="1:1")
    assert time.monotonic() - start < TIMEOUT  # no hang (subprocess.run would have raised)
    assert result.returncode != 0
    assert "aekit (process 1 of 2): error: process 1 failed on purpose" in result.stderr
    assert "aekit (process 0 of 2): error: process 0 of 2 lost contact" in result.stderr
    assert not (run / "config.json").exists()


def test_world_size_without_a_process_group_is_an_error(tmp_path, data_file, monkeypatch):
    """Launched as one of two processes, but without torchrun's rendezvous: an error, never
    two processes each training its own copy."""
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    monkeypatch.delenv("MASTER_ADDR", raising=False)
    with pytest.raises(DistributedError, match=r"WORLD_SIZE=2.*never trains 2 copies"):
        aekit.train(data_file, out=tmp_path / "run", epochs=1, progress=False)
    assert not (tmp_path / "run").exists()
    assert not dist.is_initialized()


FAMILIES = {
    "mlp": dict(model="ae", backbone="mlp", hidden=[16]),
    "mlp, dropout, batch norm": dict(backbone="mlp", hidden=[16], dropout=0.2, norm="batch"),
    "conv": dict(backbone="conv", hidden=[4, 8]),
    "vae": dict(model="vae", backbone="mlp", hidden=[16]),
    "contractive conv": dict(backbone="conv", hidden=[4], contractive=0.01),
    "kl sparsity, noise": dict(hidden=[16], sparsity="kl:0.1:0.1", noise="mask:0.2"),
    "linear path": dict(hidden=[16], scale="standard"),
}


@pytest.mark.parametrize("options", FAMILIES.values(), ids=FAMILIES.keys())
def test_a_process_group_of_one_trains_as_one_process(options, small_images, tmp_path):
    """Through DDP and the collectives, every family and option trains exactly as alone
    (which also shows that DDP finds a gradient for every parameter)."""
    common = dict(code_size=4, epochs=2, batch_size=16, seed=1, progress=False, **options)
    alone = aekit.train(small_images, **common)
    store = dist.FileStore(str(tmp_path / "store"), 1)
    dist.init_process_group("gloo", store=store, rank=0, world_size=1)
    try:
        grouped = aekit.train(small_images, out=tmp_path / "run", **common)
    finally:
        dist.destroy_process_group()
    assert grouped.result["world_size"] == 1
    for name, value in alone.net.state_dict().items():
        assert torch.equal(grouped.net.state_dict()[name], value), name
    assert [row["val_loss"] for row in grouped.history] == [
        row["val_loss"] for row in alone.history
    ]


def test_batches_split_into_the_whole_batch():
    """Processes' parts of a batch are disjoint and make the whole batch; their weights make
    the average of their mean losses the batch's mean loss."""
    index = torch.arange(15)
    losses = torch.rand(15)
    for size in (1, 2, 3, 4):
        parts = [index[Ranks(rank, size).part] for rank in range(size)]
        assert sorted(torch.cat(parts).tolist()) == index.tolist()
        weighted = [
            losses[part].mean() * Ranks(rank, size).weight(len(part), 15)
            for rank, part in enumerate(parts)
        ]
        assert torch.stack(weighted).mean() == pytest.approx(losses.mean().item(), rel=1e-6)


def test_batch_size_is_the_global_batch_split_evenly():
    settings = aekit.models.make_config(batch_size=30)
    with pytest.raises(ConfigError, match="batch_size=30 cannot be split evenly across 4"):
        Ranks(0, 4).batch_size_for(settings, given=True)
    assert Ranks(0, 4).batch_size_for(settings, given=False).batch_size == 28  # a default
    assert Ranks(0, 3).batch_size_for(settings, given=True).batch_size == 30
    assert SINGLE.batch_size_for(settings, given=True) is settings


def test_a_last_batch_gives_every_process_a_share():
    net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2))
    assert Ranks(0, 3).smallest_batch(torch.nn.Linear(2, 2)) == 3
    assert Ranks(0, 3).smallest_batch(net) == 6  # two each for batch norm over vectors
    assert SINGLE.smallest_batch(net) == 2  # a lone last sample joins, as always
    assert batch_starts(34, 16, smallest=3) == [0, 16]  # the last 2 rows join the batch before
    assert batch_starts(35, 16, smallest=3) == [0, 16, 32]
    with pytest.raises(DataError, match="5 training samples are too few .* 3 processes"):
        Ranks(0, 3).check_enough_samples(5, net)


def test_processes_with_other_data_are_refused(monkeypatch):
    """On several machines each process reads its own copy of the data; one that differs
    stops the run on every process."""
    ranks = Ranks(0, 2, group=True)
    x = np.zeros((4, 3), np.float32)
    monkeypatch.setattr(Ranks, "gather", lambda self, mine: [mine, mine])
    ranks.check_same_data("data.npy", x, None)
    monkeypatch.setattr(Ranks, "gather", lambda self, mine: [mine, 255 - mine])
    with pytest.raises(DistributedError, match="process 1 of 2 read other data.*data.npy"):
        ranks.check_same_data("data.npy", x, None)


def test_processes_share_the_cores_unless_told(monkeypatch):
    """A process group aekit makes divides the machine's cores among its processes; an
    OMP_NUM_THREADS (torchrun sets 1 unless it is set) is left to rule."""
    threads = []
    monkeypatch.setattr(torch, "set_num_threads", threads.append)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(16)), raising=False)
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "4")
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    distributed._set_threads()
    assert threads == []
    monkeypatch.delenv("OMP_NUM_THREADS")
    distributed._set_threads()
    assert threads == [4]
