"""A trained model as the bytes of its run folder's files, and back: how the scikit-learn
estimators pickle their model (JSON and safetensors inside, never a pickled tensor)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from .autoencoder import Autoencoder


def run_files(model: Autoencoder) -> dict[str, bytes]:
    """The model as the files of its run folder (JSON config, safetensors weights), as bytes."""
    with tempfile.TemporaryDirectory() as folder:
        model.save(folder)
        return {path.name: path.read_bytes() for path in Path(folder).iterdir() if path.is_file()}


def model_from_files(files: dict[str, bytes]) -> Autoencoder:
    """Rebuild a model from ``run_files``' output with ``Autoencoder.load``: no pickled torch."""
    with tempfile.TemporaryDirectory() as folder:
        for name, content in files.items():
            (Path(folder) / Path(name).name).write_bytes(content)
        return Autoencoder.load(folder)
