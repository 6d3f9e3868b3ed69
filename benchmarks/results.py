"""One results file per benchmark run: its figures and where they came from.

Every script in benchmarks/ ends by calling ``write_results``, which writes
``benchmarks/results/NAME.json`` (or ``--results PATH``) atomically: the tables the script
printed (cells as printed, so the pages show the very strings), the raw figures, the pictures
the script drew beside the file (by name, with their captions), the exact command, the
commit (with a flag when the code differed from it), the date, the machine, and which data
the figures' settings were chosen on and which they were checked on.
``benchmarks/pages.py`` turns these files into docs/benchmarks/ and the README's results
table; nothing else writes a figure there.

Imports nothing heavy (no torch, no aekit): pages.py and its test import it too.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import math
import os
import platform
import shlex
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO / "benchmarks" / "results"
# The code a figure depends on: a change here (tracked or not) marks the results file dirty.
# The results files, the pages and the README are left out: writing them changes no figure.
CODE_PATHS = ["src", "benchmarks", "pyproject.toml", ":(exclude)benchmarks/results"]
# What a page can show (pages.py copies them beside the page): never a name ending in .md
PICTURE_SUFFIXES = (".png", ".jpg", ".svg")


@dataclass
class Table:
    """A table as printed: ``rows`` hold the cells as strings, so page and terminal agree."""

    caption: str
    columns: list[str]
    rows: list[list[str]]

    def markdown(self) -> str:
        lines = ["| " + " | ".join(self.columns) + " |", "|---" * len(self.columns) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join(lines)

    def print(self) -> None:
        print(f"\n{self.caption}\n{self.markdown()}", flush=True)


def add_results_option(parser: argparse.ArgumentParser, name: str) -> None:
    """``--results PATH``, by default benchmarks/results/NAME.json."""
    parser.add_argument(
        "--results",
        type=Path,
        default=RESULTS_DIR / f"{name}.json",
        help=f"write the results file here [benchmarks/results/{name}.json]",
    )


def command_line(argv: list[str] | None = None) -> str:
    """The command as typed, with the script's path relative to the repository."""
    argv = list(sys.argv if argv is None else argv)
    script = Path(argv[0]).resolve()
    if script.is_relative_to(REPO):
        argv[0] = str(script.relative_to(REPO))
    return shlex.join(["python", *argv])


def commit_facts() -> dict:
    """``git rev-parse HEAD`` and whether the code (CODE_PATHS) differed from it."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True)
        if done.returncode != 0:
            raise OSError(done.stderr.strip())
        return done.stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        changes = git("status", "--porcelain", "--", *CODE_PATHS)
    except OSError:  # not a git checkout (an unpacked release): say so, never guess
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": bool(changes)}


# CPU flags that decide how fast a CPU runs bf16 (precision="auto" trains the conv backbone in
# bf16 where one is there): the model name alone ("AMD EPYC") has named 2-core machines with
# and without them, and their figures differ by a fifth.
MATRIX_FEATURES = ("avx512f", "avx512_bf16", "amx_bf16", "amx_tile")


def machine_facts(threads: int | None = None, device: str = "cpu") -> dict:
    """The CPU, its bf16-relevant features, its cores, the torch threads a job used, torch's
    version and the device."""
    torch = sys.modules.get("torch")
    if threads is None and torch is not None:
        threads = torch.get_num_threads()
    if device.startswith("cuda") and torch is not None and torch.cuda.is_available():
        device = f"{device} ({torch.cuda.get_device_name(torch.device(device))})"
    return {
        "cpu": _cpu_model(),
        "cpu_features": _cpu_features(),
        "cores": os.cpu_count(),
        "threads": threads,
        "torch": _version("torch"),
        "device": device,
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cpu_features() -> list[str] | None:
    """Which of MATRIX_FEATURES /proc/cpuinfo lists; None where it cannot be read (not Linux),
    so a page says nothing rather than claiming the CPU has none."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return [name for name in MATRIX_FEATURES if name in flags]
    except OSError:
        pass
    return None


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def write_results(
    path: Path,
    *,
    benchmark: str,
    title: str,
    about: str,
    headline: str,
    tables: list[Table],
    figures: dict,
    options: argparse.Namespace | dict,
    chosen_on: str,
    checked_on: str,
    notes: list[str] | None = None,
    threads: int | None = None,
    device: str = "cpu",
    baselines: tuple[str, ...] = (),
    pictures: dict[Path, str] | None = None,
) -> Path:
    """Write one run's results file atomically and return its path.

    benchmark: the script's name (the page the file goes on); title, about: the page's heading
    and what the script measures (its docstring); headline: one sentence for the README's
    results table; tables: as printed; figures: the raw numbers; options: the parsed arguments
    (the settings in effect, defaults included); chosen_on / checked_on: the data the settings
    behind the figures were chosen on, and the data the figures are measured on (every script
    says both, "nothing" included, so a reader never has to guess); notes: more
    sentences for the page; threads: torch threads per job where workers set their own;
    baselines: the other packages the figures compare with (their versions are recorded);
    pictures: the figures the script drew, each a file beside the results file (its page
    shows a copy), with its caption.
    """
    path = Path(path)
    pictures = {
        _picture_name(picture, path): caption for picture, caption in (pictures or {}).items()
    }
    options = vars(options) if isinstance(options, argparse.Namespace) else options
    record = {
        "benchmark": benchmark,
        "title": title,
        "about": about,
        "headline": headline,
        "command": command_line(),
        "options": _plain(options),
        **commit_facts(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine_facts(threads, device),
        "baselines": {package: _version(package) for package in baselines},
        "chosen_on": chosen_on,
        "checked_on": checked_on,
        "notes": notes or [],
        "tables": [asdict(table) for table in tables],
        "figures": _plain(figures),
        "pictures": [{"file": name, "caption": caption} for name, caption in pictures.items()],
    }
    atomic_write(path, json.dumps(record, indent=1, allow_nan=False) + "\n")
    print(f"results: {path}")
    return path


def _picture_name(picture: Path, results_file: Path) -> str:
    """The name a picture has beside its results file; the picture must be there already."""
    picture = Path(picture)
    if picture.resolve().parent != results_file.resolve().parent:
        raise ValueError(f"{picture}: a picture must be beside its results file {results_file}")
    if picture.suffix not in PICTURE_SUFFIXES:
        raise ValueError(f"{picture}: a picture's name ends in {', '.join(PICTURE_SUFFIXES)}")
    if not picture.is_file():
        raise ValueError(f"{picture}: no such picture (draw it before writing the results)")
    return picture.name


def atomic_write(path: Path, content: str | bytes) -> None:
    """The whole content or the old file, never half of it: a temporary file, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb" if isinstance(content, bytes) else "w") as out:
            out.write(content)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _plain(value):
    """``value`` in JSON's types: paths as strings, NumPy scalars as numbers, NaN as null."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item") and not isinstance(value, str):  # a NumPy scalar
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def docstring_summary(doc: str) -> str:
    """A script's docstring up to its first indented command line: what the script measures."""
    paragraphs = []
    for paragraph in doc.strip().split("\n\n"):
        if paragraph.startswith("    "):
            break
        paragraphs.append(paragraph)
    return "\n\n".join(paragraphs)
