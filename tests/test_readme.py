"""The README's Python examples run as written, so the front door never goes stale, and it
stays a front door: the reference is the documentation site's, generated from the code
(tests/test_docs.py)."""

import re
from pathlib import Path

# what a newcomer reads in one go; longer explanations belong in docs/
MAX_README_LINES = 250
README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README has no Python example"
    monkeypatch.chdir(tmp_path)
    namespaces = [{} for _ in blocks]
    for block, namespace in zip(blocks, namespaces, strict=True):
        exec(compile(block, str(README), "exec"), namespace)
    assert (tmp_path / "runs" / "digits" / "model.safetensors").exists()
    # the first example shows what the network buys: a test MSE clearly below PCA-16's
    # (0.75-0.76x on seeds 0-2), and codes a linear probe reads about as well as PCA's
    rows = namespaces[0]["report"].rows
    assert rows["aekit"]["mse"] < 0.9 * rows["pca"]["mse"]
    assert rows["aekit"]["probe_accuracy"] > rows["pca"]["probe_accuracy"] - 0.03


def test_readme_stays_short():
    lines = README.read_text().count("\n")
    assert lines <= MAX_README_LINES, f"README.md has {lines} lines; move the detail to docs/"
