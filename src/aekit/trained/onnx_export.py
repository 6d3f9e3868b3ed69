"""ONNX export for serving: the scaler folded into the graph, so it speaks the data's units.

The exported encoder takes raw samples shaped as the training data was, (batch, *output_shape),
and gives codes (batch, code_size); the decoder takes codes and gives samples in the data's own
units; ``part="both"`` gives one graph from samples to (codes, reconstructions), the anomaly
scorer's input. The batch dimension is dynamic. The file's metadata carries the code size, the
input shape, the part, the aekit version and the names of the values (a table's feature names
in the order the graph takes them, the code's z0, z1, ...), so a server can check what it
loaded and feed columns in the right order.

torch's exporter needs the optional packages ``onnx`` and ``onnxscript``:
``pip install 'aekit[onnx]'``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import warnings
from pathlib import Path

import torch
from torch import nn

from .._version import __version__
from ..atomic_files import atomic_path
from ..data.columns import code_names
from ..errors import ConfigError

PARTS = ("encoder", "decoder", "both")
OPSET = 18


class _Scaling(nn.Module):
    """The fitted affine scaler as tensors: scaled = (x - offset) / spread, per value."""

    def __init__(self, offset, spread):
        super().__init__()
        self.register_buffer("offset", torch.as_tensor(offset, dtype=torch.float32))
        self.register_buffer("spread", torch.as_tensor(spread, dtype=torch.float32))

    def scale(self, flat: torch.Tensor) -> torch.Tensor:
        return (flat - self.offset) / self.spread

    def unscale(self, flat: torch.Tensor) -> torch.Tensor:
        return flat * self.spread + self.offset


class _Served(nn.Module):
    """The trained net between the scaler's two directions; ``part`` picks the graph."""

    def __init__(self, model, part: str):
        super().__init__()
        self.net = model.net
        self.part = part
        self.sample_shape = tuple(model.sample_shape)
        self.output_shape = tuple(model.output_shape)
        self.scaling = _Scaling(model.scaler.offset, model.scaler.spread)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        flat = self.scaling.scale(x.reshape(x.shape[0], -1))  # (B, d)
        return self.net.encode(flat.reshape(x.shape[0], *self.sample_shape))  # (B, k)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        flat = self.net.decode(z).reshape(z.shape[0], -1)  # (B, d), scaled space
        return self.scaling.unscale(flat).reshape(z.shape[0], *self.output_shape)

    def forward(self, x: torch.Tensor):
        if self.part == "encoder":
            return self.encode(x)
        if self.part == "decoder":
            return self.decode(x)
        codes = self.encode(x)
        return codes, self.decode(codes)


def export_onnx(model, path: str | Path, *, part: str = "both") -> Path:
    """Write ``model`` (an ``aekit.Autoencoder``) to ``path`` as ONNX; returns the path.

    part: "encoder" (samples -> codes), "decoder" (codes -> samples) or "both" (samples ->
    codes and reconstructions). Inputs and outputs are float32 in the data's own units.
    """
    if part not in PARTS:
        raise ConfigError(f"part must be one of {', '.join(PARTS)}; got {part!r}")
    model.require_vector_codes("ONNX export")
    onnx = _require_onnx()
    served = _Served(model, part).eval()
    if part == "decoder":
        example = torch.zeros(2, model.code_size)
        names_in, names_out = ["code"], ["reconstruction"]
    else:
        example = torch.zeros(2, *model.output_shape)
        names_in = ["x"]
        names_out = ["code"] if part == "encoder" else ["code", "reconstruction"]
    batch = torch.export.Dim("batch", min=1)
    path = Path(path)
    with atomic_path(path) as tmp, _quiet_exporter():
        program = torch.onnx.export(
            served,
            (example,),
            dynamo=True,
            input_names=names_in,
            output_names=names_out,
            dynamic_shapes=({0: batch},),
            opset_version=OPSET,
            verbose=False,
        )
        program.optimize()
        proto = program.model_proto
        _set_metadata(onnx, proto, model, part)
        onnx.save_model(proto, str(tmp))
    return path


@contextlib.contextmanager
def _quiet_exporter():
    """The exporter logs its own progress and internal deprecations; users need neither."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def onnx_metadata(path: str | Path) -> dict[str, str]:
    """The aekit metadata of an exported file, each value a string: aekit_version, part,
    code_size, and as JSON input_shape, sample_shape, feature_names (a table model's columns
    in the order of a sample's values; null for arrays and images) and code_names."""
    onnx = _require_onnx()
    proto = onnx.load(str(path), load_external_data=False)
    return {entry.key: entry.value for entry in proto.metadata_props}


def _set_metadata(onnx, proto, model, part: str) -> None:
    shape_in = [model.code_size] if part == "decoder" else list(model.output_shape)
    values = {
        "aekit_version": __version__,
        "part": part,
        "code_size": str(model.code_size),
        "input_shape": json.dumps(["batch", *shape_in]),
        "sample_shape": json.dumps(list(model.output_shape)),
        "values_per_sample": str(math.prod(model.output_shape)),
        # the order a table's columns take in the samples in and out of the graph
        "feature_names": json.dumps(model.data_info.feature_names),
        "code_names": json.dumps(code_names(model.code_size)),
    }
    onnx.helper.set_model_props(proto, values)
    proto.producer_name = "aekit"
    proto.producer_version = __version__


def _require_onnx():
    try:
        import onnx
        import onnxscript  # noqa: F401  (torch's exporter needs it)
    except ImportError as exc:
        raise ConfigError(
            f"ONNX export needs the optional packages onnx and onnxscript ({exc.name} is "
            "missing): pip install 'aekit[onnx]'"
        ) from None
    return onnx
