"""Progress off a terminal: a line every tenth of the run or every few seconds, never one per
epoch, and the last epoch always shown."""

import io

import aekit
from aekit.training.progress import Progress


def _row(epoch: int) -> dict:
    return {
        "epoch": epoch,
        "train_loss": 0.5,
        "val_loss": 0.4,
        "seconds": 0.01,
        "samples_per_s": 1e4,
    }


def _epochs_written(text: str) -> list[int]:
    return [
        int(line.split()[1].split("/")[0]) for line in text.splitlines() if line.startswith("epoch")
    ]


def test_a_log_gets_a_line_per_tenth_of_the_run_and_the_last_epoch():
    stream = io.StringIO()
    progress = Progress(stream, live=False)
    for epoch in range(1, 96):  # early stopping at 95 of 100 planned epochs
        progress.start_epoch(epoch, 100, n_steps=3)
        progress.end_epoch(_row(epoch))
    progress.end_run()
    assert _epochs_written(stream.getvalue()) == [1, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95]


def test_a_log_shows_every_learning_rate_drop():
    stream = io.StringIO()
    progress = Progress(stream, live=False)
    for epoch in range(1, 30):
        progress.start_epoch(epoch, 100, n_steps=3)
        progress.end_epoch({**_row(epoch), "lr_drop": 1} if epoch == 13 else _row(epoch))
    lines = stream.getvalue().splitlines()
    assert _epochs_written(stream.getvalue()) == [1, 10, 13, 20]
    assert "stalled: lr x0.1 from the best weights" in lines[2]


def test_a_slow_run_gets_a_line_every_few_seconds(monkeypatch):
    now = [0.0]
    monkeypatch.setattr("aekit.training.progress.time.perf_counter", lambda: now[0])
    stream = io.StringIO()
    progress = Progress(stream, live=False)
    for epoch in range(1, 8):
        progress.start_epoch(epoch, 1000, n_steps=3)
        now[0] += 3.0  # each epoch takes 3 s
        progress.end_epoch(_row(epoch))
    # lines at least 5 s apart: epochs 1, 3, 5, 7 (6 s apart on this clock)
    assert _epochs_written(stream.getvalue()) == [1, 3, 5, 7]


def test_a_terminal_keeps_a_line_per_epoch():
    stream = io.StringIO()
    progress = Progress(stream, live=True)
    for epoch in range(1, 6):
        progress.start_epoch(epoch, 100, n_steps=3)
        progress.end_epoch(_row(epoch))
    assert _epochs_written(stream.getvalue().replace("\r\033[K", "")) == [1, 2, 3, 4, 5]


def test_training_with_progress_to_a_log_writes_few_lines(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(Progress, "log_every", 1e9)  # the tenths alone, however slow the machine
    aekit.train("digits", epochs=40, code_size=4, progress=True, out=tmp_path / "run")
    written = _epochs_written(capsys.readouterr().err)
    assert written[0] == 1 and written[-1] == 40
    assert written == [1, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40], written
