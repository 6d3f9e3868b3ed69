"""A benchmark's figures as a JSON results file, with the command, commit, date and machine.

A small local writer for the scripts of issue 24 (inference.py, gpu.py); the shared helper in
benchmarks/results.py (another branch) writes the same keys and is to replace it.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO / "benchmarks" / "results"


def table(title: str, columns: list[str], rows: list[list[str]]) -> dict:
    """A table as printed: its cells are the printed strings."""
    return {"title": title, "columns": columns, "rows": rows}


def print_table(entry: dict) -> None:
    print(f"\n{entry['title']}")
    print(" | ".join(entry["columns"]))
    for row in entry["rows"]:
        print(" | ".join(row))


def write_results(path: Path, name: str, tables: list[dict], notes: str, device: str) -> None:
    """Write the results file atomically (a reader never sees half of one)."""
    facts = {
        "benchmark": name,
        "command": shlex.join(["python", *sys.argv]),
        "commit": _commit(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpu": _cpu_model(),
            "cores": os.cpu_count(),
            "threads": torch.get_num_threads(),
            "torch": torch.__version__,
            "device": device,
        },
        "tables": tables,
        "notes": notes,
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as tmp:
        json.dump(facts, tmp, indent=2)
        tmp.write("\n")
    os.replace(tmp.name, path)
    print(f"\nwrote {path}")


def _commit() -> str | None:
    done = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or None


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
