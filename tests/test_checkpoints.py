"""Training that survives: checkpoints, exact resume after SIGKILL, interrupts, NaN guard."""

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from torch.optim.optimizer import register_optimizer_step_pre_hook

import aekit
from aekit import ConfigError
from aekit.cli.commands import main
from aekit.runs.folder import CHECKPOINT_FILE, read_checkpoint
from aekit.training.loop import TrainingError

# Small, but slow enough per epoch (about 0.3 s) that a kill lands mid-run.
TRAIN_ARGS = [
    "--code",
    "4",
    "--hidden",
    "256,64",
    "--batch-size",
    "8",
    "--epochs",
    "6",
    "--dropout",
    "0.1",
    "--checkpoint-every",
    "7",
    "--seed",
    "3",
    "--quiet",
]


@pytest.fixture
def data_file(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(1003, 32)).astype(np.float32)  # 1003: the last batch is partial
    path = tmp_path / "data.npy"
    np.save(path, x)
    return path


def _checkpoint_position(run):
    try:
        with safe_open(str(run / CHECKPOINT_FILE), framework="pt") as handle:
            loop = json.loads(handle.metadata()["aekit"])["loop"]
        return loop["epoch"], loop["position"]
    except Exception:
        return None


def _aekit(*args):
    return subprocess.Popen(
        [sys.executable, "-m", "aekit", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigkill_then_resume_is_bit_identical(tmp_path, data_file):
    whole = tmp_path / "whole"
    assert main(["train", str(data_file), "--out", str(whole), *TRAIN_ARGS]) == 0

    run = tmp_path / "killed"
    process = _aekit("train", str(data_file), "--out", str(run), *TRAIN_ARGS)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        where = _checkpoint_position(run)
        if where is not None and where[0] >= 2 and where[1] > 0:  # mid-epoch, past epoch 1
            break
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    assert not (run / "config.json").exists()
    assert (run / ".aekit.lock").exists()  # its lock, never released: the resume takes it over

    assert main(["train", "--resume", str(run), "--quiet"]) == 0
    assert (run / "model.safetensors").read_bytes() == (whole / "model.safetensors").read_bytes()
    whole_history = [json.loads(x) for x in (whole / "metrics.jsonl").read_text().splitlines()]
    resumed_history = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    key = [(r["epoch"], r["train_loss"], r["val_loss"]) for r in whole_history]
    assert [(r["epoch"], r["train_loss"], r["val_loss"]) for r in resumed_history] == key


def test_sigterm_checkpoints_and_says_how_to_resume(tmp_path, data_file):
    run = tmp_path / "run"
    process = _aekit("train", str(data_file), "--out", str(run), *TRAIN_ARGS)
    deadline = time.monotonic() + 120
    while _checkpoint_position(run) is None and time.monotonic() < deadline:
        time.sleep(0.005)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert f"aekit train --resume {run}" in err and "Traceback" not in err
    assert read_checkpoint(run).meta["loop"]["step"] > 0
    assert main(["train", "--resume", str(run), "--quiet"]) == 0
    assert aekit.load(run).result["epochs_run"] == 6


KILL_DURING_WRITE = """
import os, signal, sys
import numpy as np
import aekit.runs.folder as runs

real_save = runs.save_file
calls = []

def save_then_die(tensors, filename, metadata=None):
    calls.append(1)
    if len(calls) == 3:  # the third checkpoint: half a file, then a kill
        real_save(tensors, filename, metadata=metadata)
        with open(filename, "r+b") as handle:
            handle.truncate(os.path.getsize(filename) // 2)
        os.kill(os.getpid(), signal.SIGKILL)
    real_save(tensors, filename, metadata=metadata)

runs.save_file = save_then_die
from aekit.cli.commands import main
sys.exit(main(sys.argv[1:]))
"""


def test_kill_during_checkpoint_write_keeps_the_previous_one(tmp_path, data_file):
    run = tmp_path / "run"
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            KILL_DURING_WRITE,
            "train",
            str(data_file),
            "--out",
            str(run),
            *TRAIN_ARGS,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == -signal.SIGKILL
    checkpoint = read_checkpoint(run)  # loads: the torn file is only a temporary one
    assert checkpoint.meta["loop"]["step"] == 14  # the second checkpoint, every 7 steps
    leftovers = [p.name for p in run.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) <= 1  # a kill leaves at most the one torn temporary file
    assert main(["train", "--resume", str(run), "--quiet"]) == 0


@pytest.mark.parametrize("below", ["run", "sub/run"])
def test_unwritable_folder_fails_before_training(tmp_path, data_file, monkeypatch, below):
    """A run folder below a regular file cannot be made, not even by root (CI runs as root)."""
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file, not a folder")

    def no_training(*args, **kwargs):
        raise AssertionError("training started before the output folder was checked")

    monkeypatch.setattr(aekit.api, "fit", no_training)
    with pytest.raises(ConfigError, match=r"notes\.txt is a file, not a folder"):
        aekit.train(data_file, out=blocker / below, epochs=1, progress=False)
    assert blocker.read_text() == "a file, not a folder"


DISK_FULL = {
    "os_error": OSError(errno.ENOSPC, "No space left on device"),
    # what safetensors itself raises when its write fails
    "safetensors_error": SafetensorError(
        "Error while serializing: I/O error: No space left on device (os error 28)"
    ),
}


@pytest.mark.parametrize("error", DISK_FULL.values(), ids=DISK_FULL.keys())
def test_disk_full_keeps_the_last_good_checkpoint(tmp_path, data_file, monkeypatch, error):
    """The third checkpoint's write fills the disk halfway through the file."""
    import aekit.runs.folder

    run = tmp_path / "run"
    real_save = aekit.runs.folder.save_file
    count = {"n": 0}

    def save_until_full(tensors, filename, metadata=None):
        count["n"] += 1
        real_save(tensors, filename, metadata=metadata)
        if count["n"] == 3:
            with open(filename, "r+b") as handle:
                handle.truncate(os.path.getsize(filename) // 2)
            raise error

    monkeypatch.setattr(aekit.runs.folder, "save_file", save_until_full)
    with pytest.raises(aekit.AekitError, match="No space left on device") as info:
        aekit.train(
            data_file, out=run, code_size=4, hidden=[16], epochs=5, batch_size=64, progress=False
        )
    assert str(run / CHECKPOINT_FILE) in str(info.value)
    assert read_checkpoint(run).meta["loop"]["epoch"] == 3  # two epochs done, saved
    assert not [p for p in run.iterdir() if p.name.endswith(".tmp")]


def test_nonfinite_loss_stops_with_epoch_and_step(tmp_path):
    x = np.ones((64, 4), np.float32)
    x[40:] = 1e30  # overflows to inf once squared
    run = tmp_path / "run"
    with pytest.raises(TrainingError, match=r"epoch 1, step \d+") as info:
        aekit.train(
            x,
            out=run,
            scale="none",
            code_size=2,
            hidden=[4],
            epochs=3,
            batch_size=8,
            val_fraction=0,
            progress=False,
        )
    assert "--skip-nonfinite" in str(info.value)
    checkpoint = read_checkpoint(run)  # the last good state, before the bad batch
    weights = [v for k, v in checkpoint.tensors.items() if k.startswith("model.")]
    assert all(torch.isfinite(w).all() for w in weights)


def test_skip_nonfinite_skips_bad_batches():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 4)).astype(np.float32)
    x[5] = 1e30  # one poisoned sample: the batch that holds it is skipped each epoch
    model = aekit.train(
        x,
        scale="none",
        code_size=2,
        hidden=[8],
        epochs=3,
        batch_size=32,
        val_fraction=0,
        skip_nonfinite=3,
        progress=False,
    )
    assert all(torch.isfinite(p).all() for p in model.net.parameters())
    with pytest.raises(TrainingError, match="4 non-finite batch"):
        aekit.train(
            x,
            scale="none",
            code_size=2,
            hidden=[8],
            epochs=5,
            batch_size=32,
            val_fraction=0,
            skip_nonfinite=3,
            progress=False,
        )


def _gradient_norms_at_each_step(x, **options) -> list[float]:
    """Train on ``x`` and return the total gradient norm the optimiser saw at every step."""
    norms = []

    def record(optimizer, args, kwargs):
        grads = [p.grad for group in optimizer.param_groups for p in group["params"]]
        norms.append(float(torch.nn.utils.get_total_norm([g for g in grads if g is not None])))

    hook = register_optimizer_step_pre_hook(record)
    try:
        aekit.train(
            x,
            scale="none",
            code_size=2,
            hidden=[8],
            epochs=2,
            batch_size=16,
            progress=False,
            **options,
        )
    finally:
        hook.remove()
    return norms


def test_clip_grad_bounds_the_update():
    rng = np.random.default_rng(0)
    x = 10 * rng.normal(size=(64, 4)).astype(np.float32)  # unscaled: large gradients
    unclipped = _gradient_norms_at_each_step(x)
    clipped = _gradient_norms_at_each_step(x, clip_grad=0.5)
    assert len(clipped) == len(unclipped) > 0
    assert min(unclipped) > 2 * 0.5  # without clipping every step would exceed the bound
    assert max(clipped) <= 0.5 * (1 + 1e-5)
    assert min(clipped) >= 0.5 * (1 - 1e-5)  # scaled down to the bound, not zeroed


def test_unfinished_run_is_not_overwritten_silently(tmp_path, data_file):
    run = tmp_path / "run"
    run.mkdir()
    (run / CHECKPOINT_FILE).write_bytes(b"x")
    with pytest.raises(ConfigError, match="unfinished run"):
        aekit.train(data_file, out=run, epochs=1, progress=False)


def test_nonfinite_gradient_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    """A finite loss with an infinite gradient poisons the weights; the next loss shows it, and
    the checkpoint written before stays the last good one."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 4)).astype(np.float32)
    run = tmp_path / "run"
    real_backward = torch.Tensor.backward
    calls = {"n": 0}

    def backward_then_poison(self, *args, **kwargs):
        real_backward(self, *args, **kwargs)
        calls["n"] += 1
        if calls["n"] == 12:  # in epoch 2 (8 steps an epoch): one gradient becomes inf
            for module in model_holder:
                next(module.parameters()).grad.fill_(float("inf"))

    model_holder = []
    import aekit.training.loop as training

    real_fit = training.fit

    def fit_spy(model, *args, **kwargs):
        model_holder.append(model)
        return real_fit(model, *args, **kwargs)

    monkeypatch.setattr(torch.Tensor, "backward", backward_then_poison)
    monkeypatch.setattr("aekit.api.fit", fit_spy)
    with pytest.raises(TrainingError, match="epoch 2"):
        aekit.train(
            x,
            out=run,
            code_size=2,
            hidden=[8],
            epochs=3,
            batch_size=32,
            val_fraction=0,
            progress=False,
        )
    checkpoint = read_checkpoint(run)
    assert checkpoint.meta["loop"]["epoch"] == 2  # written at the end of epoch 1
    assert all(
        torch.isfinite(v).all() for k, v in checkpoint.tensors.items() if k.startswith("model.")
    )


@pytest.mark.parametrize(
    "poisoned_step, checkpoint_every, last_good_step",
    [(16, None, 8), (14, 7, 8)],
    ids=["last_step_of_epoch_2", "every_7_steps"],
)
def test_nonfinite_gradient_is_never_checkpointed(
    tmp_path, monkeypatch, poisoned_step, checkpoint_every, last_good_step
):
    """The poisoned step is the last before a checkpoint (the end of epoch 2; step 14 of
    --checkpoint-every 7): no later loss shows it, so only a check of the state before writing
    keeps its NaN weights out of the checkpoint."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 4)).astype(np.float32)  # 8 steps an epoch
    run = tmp_path / "run"
    nets = []
    real_backward = torch.Tensor.backward
    calls = {"n": 0}

    def backward_then_poison(self, *args, **kwargs):
        real_backward(self, *args, **kwargs)
        calls["n"] += 1
        if calls["n"] == poisoned_step:
            next(nets[0].parameters()).grad.fill_(float("inf"))

    import aekit.training.loop as training

    real_fit = training.fit

    def fit_spy(model, *args, **kwargs):
        nets.append(model)
        return real_fit(model, *args, **kwargs)

    monkeypatch.setattr(torch.Tensor, "backward", backward_then_poison)
    monkeypatch.setattr("aekit.api.fit", fit_spy)
    with pytest.raises(TrainingError, match=rf"epoch 2, at or before step {poisoned_step}"):
        aekit.train(
            x,
            out=run,
            code_size=2,
            hidden=[8],
            epochs=3,
            batch_size=32,
            val_fraction=0,
            checkpoint_every=checkpoint_every,
            progress=False,
        )
    checkpoint = read_checkpoint(run)
    assert checkpoint.meta["loop"]["step"] == last_good_step
    for name, tensor in checkpoint.tensors.items():
        if tensor.is_floating_point():
            assert torch.isfinite(tensor).all(), name


# -- a folder holds one run: saving or overwriting removes what an earlier run left ------------
def test_vae_over_an_autoencoder_run_loads(tmp_path, small_images):
    run = tmp_path / "run"
    options = dict(hidden=[8], epochs=1, progress=False)
    aekit.train(small_images, out=run, backbone="mlp", code_size=2, **options)
    assert (run / "code_density.json").exists()
    aekit.train(small_images, out=run, overwrite=True, model="vae", code_size=3, **options)
    loaded = aekit.load(run)
    assert loaded.model_type == "vae"
    # the autoencoder's mixture over 2-d codes is gone: the VAE's own over 3-d codes replaced it
    assert loaded.code_density.means_.shape[1] == 3


def test_model_save_over_a_run_removes_its_run_files_only(tmp_path, small_images):
    run = tmp_path / "run"
    options = dict(hidden=[8], epochs=1, progress=False)
    aekit.train(small_images, out=run, backbone="mlp", code_size=2, **options)
    (run / "notes.txt").write_text("mine")
    vae = aekit.train(small_images, model="vae", code_size=3, **options)
    vae.save(run)
    loaded = aekit.load(run)
    assert loaded.model_type == "vae" and loaded.code_density.means_.shape[1] == 3
    left = sorted(p.name for p in run.iterdir())
    run_files = ["code_density.json", "config.json", "manifest.json", "metrics.jsonl"]
    assert left == [*run_files, "model.safetensors", "notes.txt"]
    with pytest.raises(aekit.ModelFileError, match="no checkpoint"):
        aekit.train(out=run, resume=True, epochs=3, progress=False)


def test_overwrite_then_resume_does_not_resume_the_old_run(tmp_path, data_file, monkeypatch):
    """The new run dies before its first checkpoint; --resume must not continue the old one."""
    run = tmp_path / "run"
    options = dict(code_size=2, hidden=[8], batch_size=256, progress=False)
    aekit.train(data_file, out=run, epochs=1, **options)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # as a kill before the first checkpoint

    monkeypatch.setattr("aekit.api.fit", killed)
    with pytest.raises(KeyboardInterrupt):
        aekit.train(data_file, out=run, overwrite=True, epochs=4, **options)
    monkeypatch.undo()
    with pytest.raises(aekit.ModelFileError, match="no checkpoint"):
        aekit.train(out=run, resume=True, epochs=3, progress=False)


# -- resuming a finished run -------------------------------------------------------------------
# no early stopping: these runs must end by their time limit or epochs (on noise, the PCA
# start is the best epoch and early stopping would end them first)
RESUMABLE = dict(
    code_size=2, hidden=[16], batch_size=64, val_fraction=0.1, early_stopping=False, progress=False
)


@pytest.fixture
def small_file(tmp_path):
    path = tmp_path / "small.npy"
    np.save(path, np.random.default_rng(1).normal(size=(96, 8)).astype(np.float32))
    return path


def test_a_run_stopped_by_its_time_limit_can_be_extended(tmp_path, small_file):
    run = tmp_path / "run"
    first = aekit.train(small_file, out=run, epochs=100_000, time_limit=1.0, **RESUMABLE)
    assert first.result["stop_reason"] == "time_limit"
    done = first.result["epochs_run"]
    longer = aekit.train(out=run, resume=True, time_limit=2.0, progress=False)
    assert longer.result["stop_reason"] == "time_limit"
    assert longer.result["epochs_run"] > done
    assert [row["epoch"] for row in longer.history] == list(range(1, len(longer.history) + 1))
    # the limit is the run's whole training time: the first second counts against it
    assert read_checkpoint(run).meta["loop"]["elapsed"] < 2.0 + 0.9
    # the cosine schedule is stretched over the longer run: the rate, near 0 at the end of
    # the first second, rises again (to where a 2 s run is after 1 s) and decays from there
    lr = [row["lr"] for row in longer.history]
    assert lr[done - 1] < lr[done] < longer.train_config.lr
    assert lr[-1] <= lr[done]
    assert aekit.load(run).train_config.time_limit == 2.0


def test_a_run_resumed_after_a_learning_rate_drop_ends_as_if_never_stopped(tmp_path, small_file):
    """The drops done are loop state: resumed after the first, the run goes on at the lower
    rate, drops again at the same epoch and ends with the same weights."""
    options = dict(
        code_size=2, hidden=[16], lr=0.03, schedule="constant", patience=2, progress=False
    )
    whole = aekit.train(small_file, out=tmp_path / "whole", epochs=16, **options)
    drops = {row["epoch"]: row["lr_drop"] for row in whole.history if "lr_drop" in row}
    assert drops == {2: 1, 5: 2}  # the setup: the second drop comes after the stop below
    run = tmp_path / "run"
    first = aekit.train(small_file, out=run, epochs=4, **options)
    assert first.result["stop_reason"] == "epochs"
    assert read_checkpoint(run).meta["loop"]["lr_drops_done"] == 1
    resumed = aekit.train(out=run, resume=True, epochs=16, progress=False)
    assert [row.get("lr_drop") for row in resumed.history] == [
        row.get("lr_drop") for row in whole.history
    ]
    assert [row["lr"] for row in resumed.history] == [row["lr"] for row in whole.history]
    assert (run / "model.safetensors").read_bytes() == (
        tmp_path / "whole" / "model.safetensors"
    ).read_bytes()


def test_an_early_stopped_run_goes_on_with_more_learning_rate_drops(tmp_path, small_file, caplog):
    """Resumed with a larger lr_drops, the stall that stopped the run drops the rate instead,
    and the run ends as one started with that lr_drops."""
    options = dict(
        code_size=2, hidden=[16], lr=0.03, schedule="constant", patience=2, progress=False
    )
    whole = aekit.train(small_file, out=tmp_path / "whole", lr_drops=2, **options)
    run = tmp_path / "run"
    first = aekit.train(small_file, out=run, lr_drops=1, **options)
    assert first.result["stop_reason"] == "early_stopping" and first.result["lr_drops"] == 1
    saved = (run / "model.safetensors").stat().st_mtime_ns
    aekit.train(out=run, resume=True, progress=False)  # the same lr_drops: nothing to do
    assert "larger --lr-drops" in caplog.text
    assert (run / "model.safetensors").stat().st_mtime_ns == saved
    resumed = aekit.train(out=run, resume=True, lr_drops=2, progress=False)
    assert resumed.result["lr_drops"] == 2 and len(resumed.history) > len(first.history)
    assert resumed.history == [
        {**row, "seconds": r["seconds"], "samples_per_s": r["samples_per_s"]}
        for row, r in zip(whole.history, resumed.history, strict=True)
    ]
    assert (run / "model.safetensors").read_bytes() == (
        tmp_path / "whole" / "model.safetensors"
    ).read_bytes()


def test_resuming_a_run_out_of_time_needs_a_larger_limit(tmp_path, small_file, caplog):
    run = tmp_path / "run"
    aekit.train(small_file, out=run, epochs=100_000, time_limit=0.3, **RESUMABLE)
    saved = (run / "model.safetensors").stat().st_mtime_ns
    model = aekit.train(out=run, resume=True, time_limit=0.3, progress=False)
    assert "larger --time-limit" in caplog.text
    assert (run / "model.safetensors").stat().st_mtime_ns == saved
    assert model.result["stop_reason"] == "time_limit"


def test_resuming_a_run_that_trained_all_its_epochs(tmp_path, small_file, caplog):
    """Nothing to do, and nothing rewritten, unless more epochs are asked for."""
    run = tmp_path / "run"
    aekit.train(small_file, out=run, epochs=2, **RESUMABLE)
    saved = (run / "model.safetensors").stat().st_mtime_ns
    model = aekit.train(out=run, resume=True, progress=False)
    assert "all its 2 epochs" in caplog.text and "--epochs" in caplog.text
    assert (run / "model.safetensors").stat().st_mtime_ns == saved
    assert model.result["epochs_run"] == 2
    assert aekit.train(out=run, resume=True, epochs=3, progress=False).result["epochs_run"] == 3


def test_what_a_resumed_run_keeps_cannot_change(tmp_path, small_file, capsys):
    """The options of what was built and of the data split are named before anything is read
    or printed (they used to fail on a tensor's shape after "training ... (code size 16)")."""
    run = tmp_path / "run"
    aekit.train(small_file, out=run, epochs=2, seed=3, **RESUMABLE)
    checkpoint = (run / CHECKPOINT_FILE).read_bytes()
    with pytest.raises(ConfigError) as info:
        aekit.train(out=run, resume=True, epochs=3, code_size=4, hidden=[16], seed=5)
    message = str(info.value)
    assert "code_size=4 (the run's: 2)" in message and "seed=5 (the run's: 3)" in message
    assert "hidden=" not in message  # the run's own value is no change
    config = tmp_path / "more.toml"
    config.write_text('noise = "gaussian:0.1"\nepochs = 3\n')
    with pytest.raises(ConfigError, match=r"noise=\['gaussian:0\.1'\] \(the run's: None\)"):
        aekit.train(out=run, resume=True, config=config)
    assert main(["train", "--resume", str(run), "--code", "16", "--epochs", "3"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("aekit: error: cannot resume") and "code_size=16" in err
    assert (run / CHECKPOINT_FILE).read_bytes() == checkpoint
    # what may change still does, beside the kept options given as they are
    longer = aekit.train(
        out=run, resume=True, epochs=3, batch_size=32, code_size=2, seed=3, progress=False
    )
    assert longer.result["epochs_run"] == 3 and longer.train_config.batch_size == 32


# -- checkpoints from elsewhere: every problem is a ModelFileError naming the file ---------------
@pytest.fixture(scope="module")
def checkpointed_run(tmp_path_factory):
    """A run folder (with its checkpoint) of a (40, 6) -> 2 autoencoder trained on a file."""
    folder = tmp_path_factory.mktemp("checkpointed")
    data = folder / "data.npy"
    np.save(data, np.random.default_rng(0).random((40, 6)).astype(np.float32))
    aekit.train(data, out=folder / "run", code_size=2, hidden=[4], epochs=1, progress=False)
    return folder / "run"


def edit_checkpoint(folder, edit_tensors=None, edit_meta=None) -> None:
    checkpoint = read_checkpoint(folder)
    if edit_tensors:
        edit_tensors(checkpoint.tensors)
    if edit_meta:
        edit_meta(checkpoint.meta)
    save_file(
        checkpoint.tensors,
        str(folder / CHECKPOINT_FILE),
        metadata={"aekit": json.dumps(checkpoint.meta)},
    )


def _set(mapping_path, value):
    def edit(meta):
        *parents, name = mapping_path.split(".")
        for parent in parents:
            meta = meta[parent]
        meta[name] = value

    return edit


def _drop(name):
    return lambda tensors: tensors.pop(name)


def _replace(name, value):
    return lambda tensors: tensors.__setitem__(name, value)


TAMPERED = {
    # metadata
    "no_loop": (None, lambda meta: meta.pop("loop"), "loop must be a JSON object"),
    "no_run": (None, lambda meta: meta.pop("run"), "run must be a JSON object"),
    "epoch_string": (None, _set("loop.epoch", "2"), "loop.epoch must be an integer >= 1"),
    "step_negative": (None, _set("loop.step", -1), "loop.step must be an integer >= 0"),
    "finished_int": (None, _set("loop.finished", 1), "loop.finished must be true or false"),
    "lr_drops_done": (None, _set("loop.lr_drops_done", -1), "loop.lr_drops_done must be"),
    "unknown_loop_field": (None, _set("loop.rewind", 3), "loop.rewind is not a field"),
    "stop_reason": (None, _set("loop.result.stop_reason", "x"), "loop.result.stop_reason"),
    "position_past_n": (None, _set("loop.position", 10**6), "loop.position must be at most"),
    "unknown_option": (None, _set("run.train.momentum", 0.9), "run.train.momentum is not"),
    "bad_option": (None, _set("run.train.lr", -1), "run.train.lr"),
    "data_section": (None, _set("run.data", []), "run.data must be a JSON object"),
    "param_groups": (None, _set("param_groups", [{"lr": "fast"}]), "param_groups must match"),
    # tensors
    "weight_missing": (_drop("model.encoder.1.0.weight"), None, "'model.encoder.1.0.weight'"),
    "weight_shape": (
        _replace("model.encoder.1.0.weight", torch.zeros(5, 6)),
        None,
        "'model.encoder.1.0.weight' must have shape (4, 6)",
    ),
    "weight_dtype": (
        _replace("model.encoder.1.0.weight", torch.zeros(4, 6, dtype=torch.float64)),
        None,
        "dtype float32",
    ),
    "foreign_tensor": (_replace("model.extra", torch.zeros(1)), None, "'model.extra'"),
    "moment_shape": (_replace("optim.0.exp_avg", torch.zeros(3)), None, "'optim.0.exp_avg'"),
    "moment_missing": (_drop("optim.0.exp_avg_sq"), None, "'optim.0.exp_avg_sq'"),
    "rng_missing": (_drop("rng.torch"), None, "'rng.torch'"),
    "rng_shape": (_replace("rng.shuffle", torch.zeros(3, dtype=torch.uint8)), None, "rng.shuffle"),
    "order_dtype": (_replace("loop.order", torch.zeros(36)), None, "'loop.order'"),
}


@pytest.mark.parametrize("edit_tensors, edit_meta, problem", TAMPERED.values(), ids=TAMPERED.keys())
def test_tampered_checkpoint_is_a_model_file_error(
    checkpointed_run, tmp_path, edit_tensors, edit_meta, problem
):
    run = shutil.copytree(checkpointed_run, tmp_path / "run")
    edit_checkpoint(run, edit_tensors, edit_meta)
    with pytest.raises(aekit.ModelFileError) as info:
        aekit.train(out=run, resume=True, epochs=2, progress=False)
    assert str(run / CHECKPOINT_FILE) in str(info.value) and problem in str(info.value)


def test_an_order_that_is_not_a_permutation_is_refused(checkpointed_run, tmp_path):
    run = shutil.copytree(checkpointed_run, tmp_path / "run")
    edit_checkpoint(
        run,
        _replace("loop.order", torch.zeros(36, dtype=torch.int64)),
        _set("loop.position", 8),
    )
    with pytest.raises(aekit.ModelFileError, match="order of the 36 samples"):
        aekit.train(out=run, resume=True, epochs=2, progress=False)


def test_an_untouched_checkpoint_resumes(checkpointed_run, tmp_path):
    run = shutil.copytree(checkpointed_run, tmp_path / "run")
    edit_checkpoint(run)  # read and written back as the tampering tests do
    assert aekit.train(out=run, resume=True, epochs=2, progress=False).result["epochs_run"] == 2


def test_a_checkpoint_from_before_learning_rate_drops_resumes(checkpointed_run, tmp_path):
    run = shutil.copytree(checkpointed_run, tmp_path / "run")
    edit_checkpoint(run, edit_meta=lambda meta: meta["loop"].pop("lr_drops_done"))
    assert aekit.train(out=run, resume=True, epochs=2, progress=False).result["epochs_run"] == 2


def test_resumed_moments_are_laid_out_like_their_weights(tmp_path, small_images, monkeypatch):
    # CUDA's fused AdamW refuses moments whose strides differ from their parameter's (resuming
    # a conv run on a GPU failed so); the conv weights are channels-last, the file contiguous
    import aekit.training.trainer

    run = tmp_path / "run"
    options = dict(backbone="conv", hidden=[4, 8], code_size=3, batch_size=16, progress=False)
    aekit.train(small_images, out=run, epochs=1, **options)
    made = []

    def recording(model, config, _make=aekit.training.trainer.make_optimizer):
        made.append(_make(model, config))
        return made[-1]

    monkeypatch.setattr(aekit.training.trainer, "make_optimizer", recording)
    aekit.train(small_images, out=run, resume=True, epochs=2, progress=False)
    channels_last = 0
    for parameter, state in made[0].state.items():
        for key in ("exp_avg", "exp_avg_sq"):
            assert state[key].stride() == parameter.stride(), key
        channels_last += parameter.dim() == 4 and not parameter.is_contiguous()
    assert channels_last > 0  # the case that failed is present
