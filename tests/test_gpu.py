"""--device cuda end to end: train, resume, evaluate, sample, export. Skipped without a GPU.

CI has no GPU; these run where one is lent (see docs/architecture.md, on the tests).
"""

import numpy as np
import pytest
import torch
from conftest import blob_images

import aekit

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA GPU (CI has none)"
)

FAMILIES = {
    "mlp": dict(backbone="mlp", hidden=[32]),
    "conv": dict(backbone="conv", hidden=[8, 16]),
    "vae": dict(model="vae", backbone="mlp", hidden=[32]),
}


@pytest.mark.parametrize("family", FAMILIES)
def test_train_resume_evaluate_sample_on_cuda(family, tmp_path):
    x = blob_images(96)
    run = tmp_path / "run"
    options = dict(FAMILIES[family], code_size=4, batch_size=16, precision="fp32", progress=False)
    first = aekit.train(x, out=run, epochs=2, device="cuda", **options)
    assert first.train_config.device == "cuda"
    resumed = aekit.train(x, out=run, resume=True, epochs=4, progress=False)
    losses = [row["val_loss"] for row in resumed.history]
    assert [row["epoch"] for row in resumed.history] == [1, 2, 3, 4]
    # not the CPU's run to float tolerance: Adam divides tiny gradients by their own size, so
    # last-bit differences of GPU kernels grow (measured after 4 epochs on an H100: MLP 1.6%,
    # conv 17%); the GPU run must learn as much
    on_cpu = aekit.train(x, epochs=4, device="cpu", **options)
    assert losses[-1] < losses[0]
    assert losses[-1] < 1.25 * on_cpu.history[-1]["val_loss"]
    loaded = aekit.load(run)  # weights come back on the CPU
    np.testing.assert_allclose(loaded.encode(x), resumed.encode(x), atol=1e-5)
    comparison = aekit.evaluate(loaded, x, train_data=x, iw_samples=4, iw_images=16)
    assert np.isfinite([comparison.rows["aekit"][key] for key in ("mse", "mae")]).all()
    assert loaded.sample(3, seed=0).shape == (3, 12, 12)


def test_cuda_precision_bf16_trains(tmp_path):
    if not torch.cuda.is_bf16_supported():
        pytest.skip("this GPU has no bf16")
    model = aekit.train(
        blob_images(64), backbone="conv", hidden=[8], code_size=4, epochs=2, device="cuda",
        precision="bf16", progress=False,
    )  # fmt: skip
    assert model.train_config.precision == "bf16"
    assert np.isfinite(model.history[-1]["val_loss"])


def test_export_of_a_cuda_run_matches_pytorch(tmp_path):
    pytest.importorskip("onnxruntime")
    import onnxruntime

    x = blob_images(64)
    model = aekit.train(x, backbone="mlp", hidden=[16], code_size=3, epochs=2, device="cuda",
                        progress=False)  # fmt: skip
    path = model.export_onnx(tmp_path / "m.onnx")
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    codes, recon = session.run(None, {"x": x[:8]})
    np.testing.assert_allclose(codes, model.encode(x[:8]), atol=1e-4)
    np.testing.assert_allclose(recon, model.reconstruct(x[:8]), atol=1e-4)


def test_table_that_keeps_its_pca_start_after_training_on_cuda():
    # noise: training cannot beat PCA, so the PCA start is restored after a run on the GPU
    x = np.random.default_rng(0).normal(size=(300, 6)).astype(np.float32)
    model = aekit.train(x, code_size=2, epochs=3, device="cuda", progress=False)
    assert model.result["best_epoch"] == 0
    assert np.isfinite(model.reconstruct(x)).all()


def test_auto_compiles_the_training_step_on_cuda():
    options = dict(backbone="mlp", hidden=[16], code_size=4, epochs=2, progress=False)
    model = aekit.train(blob_images(96), device="cuda", **options)
    assert model.train_config.compile == "on"
    assert np.isfinite(model.history[-1]["val_loss"])
    on_cpu = aekit.train(blob_images(96), device="cpu", **options)
    assert on_cpu.train_config.compile == "off"
