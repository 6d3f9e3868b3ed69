"""The README's Python example runs as written and its option table matches the declarations,
so the front door never goes stale."""

import re
from pathlib import Path

from aekit.models import option_fields
from aekit.options.declaring import flag_of, shown_default, spec_of

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


def _option_rows() -> dict[str, tuple[int, list[str]]]:
    """README's option table: option name -> (its place in its row, the row's cells)."""
    text = README.read_text()
    table = text.split("### Options", 1)[1].split("\n\n")[1]
    rows = {}
    for line in table.splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip("|").split(" | ")]
        for place, name in enumerate(cells[0].replace("`", "").split(", ")):
            rows[name] = (place, cells)
    return rows


def test_readme_option_table_matches_the_declarations():
    """Each option's row names its flag, its default (or what picks it) and its choices as
    TrainConfig declares them; no row names an option that does not exist."""
    rows = _option_rows()
    options = {option.name: option for option in option_fields()}
    assert set(rows) == set(options)
    for name, option in options.items():
        place, (names, flags, default, meaning) = rows[name]
        if flags == "same":
            flag = "--" + name.replace("_", "-")
        else:
            flag = flags.replace("`", "").split(", ")[place].split()[0]
        assert flag == flag_of(option), name
        shown = shown_default(option)
        if option.default is None or isinstance(option.default, bool):
            assert shown in default.replace("`", ""), (name, shown)
        else:
            assert f"`{shown}`" in default, (name, shown)
        for choice in spec_of(option).choices:
            assert f"`{choice}`" in default + meaning, (name, choice)
