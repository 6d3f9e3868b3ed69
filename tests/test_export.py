"""ONNX export: onnxruntime gives what PyTorch gives, in the data's units, at any batch size."""

import json

import numpy as np
import pandas as pd
import pytest

import aekit
from aekit.cli.commands import main
from aekit.errors import ConfigError

ort = pytest.importorskip("onnxruntime", reason="ONNX export tests need aekit[onnx]")
from aekit.trained.onnx_export import onnx_metadata  # noqa: E402

TOLERANCE = 1e-5
COLUMNS = ["height", "age", "weight", "b", "a", "c"]  # not in sorted order


def _train(x, **options):
    return aekit.train(x, epochs=1, progress=False, **options)


@pytest.fixture(scope="module")
def models():
    rng = np.random.default_rng(0)
    # odd sizes on purpose: 30x30 RGB and 7x7 grey go through the conv backbone's padding
    rgb = rng.random((48, 3, 30, 30), dtype=np.float32)
    grey = rng.random((48, 7, 7), dtype=np.float32)  # (n, H, W): comes back as (n, 7, 7)
    table = rng.normal(5.0, 3.0, (48, 6)).astype(np.float32)  # far from the scaled space
    return {
        "conv rgb 30x30": (_train(rgb, backbone="conv", hidden=[4, 8], code_size=5), rgb),
        "conv grey 7x7": (_train(grey, backbone="conv", hidden=[4], code_size=3), grey),
        "mlp table": (_train(pd.DataFrame(table, columns=COLUMNS), hidden=[8], code_size=2), table),
    }


@pytest.mark.parametrize("name", ["conv rgb 30x30", "conv grey 7x7", "mlp table"])
def test_exported_model_matches_pytorch(models, name, tmp_path):
    model, x = models[name]
    path = model.export_onnx(tmp_path / "model.onnx")
    session = ort.InferenceSession(str(path))
    for batch in (1, 37):
        codes, recon = session.run(None, {"x": x[:batch]})
        assert codes.shape == (batch, model.code_size)
        assert recon.shape == x[:batch].shape
        np.testing.assert_allclose(codes, model.encode(x[:batch]), atol=TOLERANCE, rtol=0)
        np.testing.assert_allclose(recon, model.reconstruct(x[:batch]), atol=TOLERANCE, rtol=0)
    meta = onnx_metadata(path)
    assert meta["code_size"] == str(model.code_size)
    assert meta["input_shape"] == str(["batch", *x.shape[1:]]).replace("'", '"')
    assert meta["aekit_version"] == aekit.__version__


def test_metadata_names_the_features_and_the_codes(models, tmp_path):
    """A server can check what it feeds in: a table's columns in the graph's order, the code's
    names as encode writes them, the sample shape."""
    model, _ = models["mlp table"]
    for part in ("both", "decoder"):
        meta = onnx_metadata(model.export_onnx(tmp_path / f"{part}.onnx", part=part))
        assert json.loads(meta["feature_names"]) == COLUMNS
        assert json.loads(meta["code_names"]) == ["z0", "z1"]
        assert json.loads(meta["sample_shape"]) == [6]
    image_model, _ = models["conv grey 7x7"]
    meta = onnx_metadata(image_model.export_onnx(tmp_path / "image.onnx"))
    assert json.loads(meta["feature_names"]) is None  # an image's pixels have no names
    assert json.loads(meta["code_names"]) == ["z0", "z1", "z2"]
    assert json.loads(meta["sample_shape"]) == [7, 7]


def test_encoder_and_decoder_parts(models, tmp_path):
    model, x = models["mlp table"]
    encoder = ort.InferenceSession(str(model.export_onnx(tmp_path / "e.onnx", part="encoder")))
    decoder = ort.InferenceSession(str(model.export_onnx(tmp_path / "d.onnx", part="decoder")))
    (codes,) = encoder.run(None, {"x": x[:37]})
    (decoded,) = decoder.run(None, {"code": codes})
    np.testing.assert_allclose(decoded, model.decode(codes), atol=TOLERANCE, rtol=0)
    # the scaler is folded in: outputs are in the data's units (mean ~5), not the scaled space
    assert abs(float(decoded.mean()) - float(x.mean())) < 1.0
    assert onnx_metadata(tmp_path / "d.onnx")["part"] == "decoder"


def test_export_cli_and_bad_part(models, tmp_path, capsys):
    model, x = models["mlp table"]
    model.save(tmp_path / "run")
    out = tmp_path / "served.onnx"
    assert main(["export", str(tmp_path / "run"), "-o", str(out), "--part", "encoder"]) == 0
    (codes,) = ort.InferenceSession(str(out)).run(None, {"x": x[:3]})
    np.testing.assert_allclose(codes, model.encode(x[:3]), atol=TOLERANCE, rtol=0)
    with pytest.raises(ConfigError, match="part must be one of"):
        model.export_onnx(tmp_path / "x.onnx", part="middle")
    assert not (tmp_path / "x.onnx").exists()


def test_missing_onnx_is_a_clear_error(models, tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_onnxscript(name, *args, **kwargs):
        if name == "onnxscript":
            raise ImportError("No module named 'onnxscript'", name="onnxscript")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnxscript)
    model, _ = models["mlp table"]
    with pytest.raises(ConfigError, match=r"onnxscript is missing\): pip install 'aekit\[onnx\]'"):
        model.export_onnx(tmp_path / "m.onnx")
