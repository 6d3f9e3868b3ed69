"""Editing a saved run the way a hand or another tool would, for the tests of what loading
checks in each file.

A run saved in format 4 lists its files' sizes and hashes in manifest.json, so any edit makes
it a folder of mixed files, refused before its files are read (tests/test_run_integrity.py).
``reseal`` lists the files as they now are, so that a test reaches the checks of the file it
edited.
"""

from pathlib import Path

from aekit.runs.files import MANIFEST_FILE, RUN_FILES
from aekit.runs.manifest import entry, write_manifest


def reseal(folder: Path) -> None:
    """Rewrite ``folder``'s manifest for the run files it holds now (if it has one)."""
    if not (folder / MANIFEST_FILE).exists():
        return
    present = [name for name in RUN_FILES if name != MANIFEST_FILE and (folder / name).is_file()]
    write_manifest(folder, {name: entry(folder / name) for name in present})
