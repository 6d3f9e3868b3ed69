"""Data larger than memory: peak resident memory and seconds of `aekit train` (one epoch) and
`aekit encode` on a float32 .npy file read in chunks.

For each ``--rows`` count, writes that many 784-value rows (Fashion-MNIST's training images
tiled, else uniform noise; 680,000 rows = 2.1 GB) a block at a time into a temporary folder,
then runs, each in its own process, the peak resident set (``VmHWM`` of /proc/self/status,
read as the process exits: since its exec, so none of this script's memory; ``ru_maxrss`` of
a child would count the parent's pages at the fork):

    python -c "import aekit.cli"                     what the imports alone cost (torch, ...)
    aekit train FILE --epochs 1 --stream on          default options otherwise
    aekit encode RUN FILE -o codes.npy --stream on

With ``--compare`` the same train and encode run with ``--stream off`` too (the whole file in
memory; only for sizes that fit; both encodes use the streamed run's model, and their codes are
compared). The issue's target:
peak resident memory under 1 GB for a 2 GB file. Nothing is asserted; the table says.

    python benchmarks/streaming.py --rows 32000 128000 [--compare] [--train-flags ...]
    python benchmarks/streaming.py                     # 680,000 rows, 2.1 GB
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from results import Table, add_results_option, docstring_summary, write_results

from aekit.data import load_data
from aekit.data.npy_files import NpyWriter
from aekit.errors import DataError

NAME = "streaming"
GB = 1e9
TARGET_MB = 1000
BLOCK = 20_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[680_000])
    parser.add_argument("--compare", action="store_true", help="also run with --stream off")
    parser.add_argument(
        "--train-flags", default="", help='more aekit train flags, e.g. "--hidden 64" (quicker)'
    )
    add_results_option(parser, NAME)
    args = parser.parse_args()
    source = _source_rows()
    print(f"rows from {source[1]}; peak resident memory (MB, VmHWM) and seconds")
    columns = ["rows", "file GB", "stream", "import MB", "train MB", "train s", "encode MB"]
    print("| " + " | ".join(columns) + " | encode s |")
    print("|---" * (len(columns) + 1) + "|")
    cells, figures, checks = [], [], []
    for rows in args.rows:
        with tempfile.TemporaryDirectory(prefix="aekit-bench-") as folder:
            folder = Path(folder)
            data = _write_rows(folder / "data.npy", rows, source[0])
            imports = _measured(["--import-only"])[1]
            codes = {}
            for stream in ("on", "off") if args.compare else ("on",):
                run, out = folder / f"run-{stream}", folder / f"codes-{stream}.npy"
                flags = ["--epochs", "1", "--stream", stream, *args.train_flags.split()]
                train = _aekit("train", data, "--out", run, *flags)
                # both encode with the streamed run's model, to compare their codes
                encode = _aekit("encode", folder / "run-on", data, "-o", out, "--stream", stream)
                codes[stream] = out
                size = data.stat().st_size / GB
                cells.append(
                    [f"{rows:,}", f"{size:.2f}", stream, f"{imports:.0f}", f"{train[1]:.0f}"]
                    + [f"{train[0]:.0f}", f"{encode[1]:.0f}", f"{encode[0]:.0f}"]
                )
                print("| " + " | ".join(cells[-1]) + " |")
                figures.append(
                    dict(rows=rows, file_gb=size, stream=stream, import_mb=imports)
                    | dict(train_mb=train[1], train_s=train[0], encode_mb=encode[1])
                    | dict(encode_s=encode[0])
                )
                peak = max(train[1], encode[1])
                verdict = "under" if peak < TARGET_MB else "NOT under"
                print(f"  stream {stream}: peak {peak:.0f} MB, {verdict} {TARGET_MB} MB")
            if args.compare:
                same = np.array_equal(np.load(codes["on"]), np.load(codes["off"]))
                checks.append(
                    f"{rows:,} rows: the streamed run's codes, encoded streamed and in memory, "
                    f"identical: {same}"
                )
                print(f"  {checks[-1]}")
    peak = max(max(f["train_mb"], f["encode_mb"]) for f in figures if f["stream"] == "on")
    write_results(
        args.results,
        benchmark=NAME,
        title="Data larger than memory",
        about=docstring_summary(__doc__),
        headline=(
            f"peak resident memory streaming {max(args.rows):,} rows: {peak:.0f} MB "
            f"(target under {TARGET_MB} MB)"
        ),
        tables=[Table(f"rows from {source[1]}", columns + ["encode s"], cells)],
        figures={"runs": figures, "target_mb": TARGET_MB},
        options=args,
        chosen_on="nothing: a measurement of fixed settings",
        checked_on=f"rows from {source[1]}, on this machine",
        notes=checks,
    )


def _source_rows() -> tuple[np.ndarray, str]:
    """Rows to tile: Fashion-MNIST's training images as (60000, 784) in [0, 1], or noise."""
    try:
        return load_data("fashion-mnist").x.reshape(-1, 784), "Fashion-MNIST (tiled)"
    except DataError:
        rng = np.random.default_rng(0)
        return rng.uniform(size=(BLOCK, 784)).astype(np.float32), "uniform noise (tiled)"


def _write_rows(path: Path, rows: int, source: np.ndarray) -> Path:
    """``rows`` rows of ``source``, repeated, written a block at a time."""
    with open(path, "wb") as handle:
        writer = NpyWriter(handle, source.shape[1:], np.float32)
        for start in range(0, rows, BLOCK):
            stop = min(start + BLOCK, rows)
            writer.write(source[np.arange(start, stop) % len(source)])
        writer.finish()
    return path


# Runs a module as ``python -m`` would (or, given --import-only, imports aekit's CLI), and
# writes its peak resident memory in kB to the file named first, as the process exits.
MEASURED = """
import atexit, runpy, sys
def peak(path):
    with open("/proc/self/status") as status:
        kb = next(line.split()[1] for line in status if line.startswith("VmHWM"))
    with open(path, "w") as out:
        out.write(kb)
atexit.register(peak, sys.argv[1])
if sys.argv[2] == "--import-only":
    import aekit.cli.commands
else:
    sys.argv = sys.argv[2:]
    runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
"""


def _aekit(*args) -> tuple[float, float]:
    seconds, peak, code = _measured(["aekit", *map(str, args), "--quiet"])
    if code != 0:
        raise SystemExit(f"aekit {' '.join(map(str, args))} exited with {code}")
    return seconds, peak


def _measured(module_and_args: list[str]) -> tuple[float, float, int]:
    """(seconds, peak resident memory in MB, exit status) of ``python -m MODULE ARGS``."""
    with tempfile.NamedTemporaryFile("r", suffix=".kb") as peak:
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", MEASURED, peak.name, *module_and_args])
        seconds = time.perf_counter() - start
        return seconds, int(peak.read() or 0) / 1024, done.returncode


if __name__ == "__main__":
    main()
