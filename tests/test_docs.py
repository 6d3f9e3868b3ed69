"""The documentation stays true: its references are generated from the code and name every
option, flag and command; every Python example of its pages runs; and the site builds with
warnings as errors, the gallery's examples executed (docs/conf.py, ``make docs``)."""

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aekit.cli.parser import build_parser
from aekit.models import option_fields
from aekit.models.options import EVALUATION_OWNERS, OWNERS, evaluation_fields
from aekit.options.declaring import flag_of, shown_default, spec_of

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
# the packages of the docs extra (pyproject.toml), by the name they are imported as
DOCS_PACKAGES = ("sphinx", "pydata_sphinx_theme", "sphinx_gallery", "numpydoc", "myst_parser")
# the whole build on 2 busy cores, examples included, takes about two minutes; far past that
# something hangs
BUILD_TIMEOUT_S = 900


def _reference_module():
    """docs/_ext/aekit_reference.py, imported without Sphinx (its generators need none)."""
    spec = importlib.util.spec_from_file_location(
        "aekit_reference", DOCS / "_ext" / "aekit_reference.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REFERENCE = _reference_module()


def _entry(markdown: str, name: str) -> str:
    """The option reference's entry of option ``name``: from its heading to the next."""
    heading = f"### `{name}`\n"
    assert heading in markdown, f"the option reference has no entry for {name}"
    return markdown.split(heading, 1)[1].split("\n### ", 1)[0]


def test_the_option_reference_shows_every_option_as_declared():
    """Each option's entry names its flag, its default (or what picks it) and its choices,
    and each family's own option names its family; evaluation options too."""
    markdown = REFERENCE.options_markdown()
    for option in option_fields():  # the table at the top links every training option
        assert f"[`{option.name}`](#{REFERENCE.option_anchor(option.name)})" in markdown
    for option in (*option_fields(), *evaluation_fields()):
        entry = _entry(markdown, option.name)
        assert f"**CLI** `{flag_of(option)}`" in entry, option.name
        assert REFERENCE.escaped(shown_default(option)) in entry or (
            f"`{shown_default(option)}`" in entry
        ), option.name
        for choice in spec_of(option).choices:
            assert REFERENCE.escaped(repr(choice)) in entry, (option.name, choice)
        owners = OWNERS.get(option.name) or EVALUATION_OWNERS.get(option.name) or ()
        for family in owners:
            assert f"**family** `{family}`" in entry or f", `{family}`" in entry, option.name
        if not owners:
            assert "**family**" not in entry, option.name
    assert markdown.count("\n### ") == len(option_fields()) + len(evaluation_fields())


def test_the_cli_reference_shows_every_command_and_argument():
    markdown = REFERENCE.cli_markdown()
    parser = build_parser()
    commands = REFERENCE._subcommands(parser)
    assert commands, "the parser has no commands"
    for name, (_, sub) in commands.items():
        assert f"## `aekit {name}`" in markdown, name
        section = markdown.split(f"## `aekit {name}`", 1)[1].split("\n## ", 1)[0]
        for action in sub._actions:
            for flag in action.option_strings:
                if flag not in ("-h", "--help"):
                    assert f"`{flag}" in section or f", {flag}" in section, (name, flag)
            if not action.option_strings:
                assert f"`{action.metavar or action.dest}`" in section, (name, action.dest)


def test_an_unknown_reference_marker_is_an_error():
    class App:
        class env:  # noqa: N801 (a stand-in for Sphinx's environment object)
            pass

    source = ["# Page\n\n<!-- aekit-reference: nothing -->\n"]
    with pytest.raises(ValueError, match="unknown aekit-reference 'nothing'"):
        REFERENCE._fill_in(App, "page", source)


def _pages() -> list[Path]:
    """The Markdown pages of docs/ that hold Python examples (not the gallery's output)."""
    pages = sorted(DOCS.rglob("*.md"))
    skipped = ("_build", "auto_examples")
    return [page for page in pages if not set(page.relative_to(DOCS).parts) & set(skipped)]


PAGES_WITH_PYTHON = [page for page in _pages() if "```python\n" in page.read_text()]


@pytest.mark.parametrize(
    "page", PAGES_WITH_PYTHON, ids=[str(p.relative_to(DOCS)) for p in PAGES_WITH_PYTHON]
)
def test_the_python_examples_of_a_page_run(page, tmp_path, monkeypatch):
    """A page's Python blocks run in order, in one namespace, in an empty folder."""
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S)
    if "import onnxruntime" in "".join(blocks):
        pytest.importorskip("onnxruntime", reason="ONNX export needs aekit[onnx]")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(page), "exec"), namespace)


def _missing_docs_packages() -> list[str]:
    return [name for name in DOCS_PACKAGES if importlib.util.find_spec(name) is None]


@pytest.mark.skipif(
    bool(_missing_docs_packages()),
    reason="the docs extra is not installed (pip install -e '.[docs]'; make setup does): "
    f"missing {', '.join(_missing_docs_packages())}",
)
def test_the_site_builds_with_warnings_as_errors(tmp_path):
    """sphinx-build -W on a copy of docs/ (the gallery writes beside its sources), with the
    package beside it as in the repository, so the build documents this code."""
    source = tmp_path / "docs"
    shutil.copytree(DOCS, source, ignore=shutil.ignore_patterns("_build", "auto_examples"))
    (tmp_path / "src").symlink_to(ROOT / "src", target_is_directory=True)
    out = tmp_path / "html"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html"]
    build = subprocess.run(
        [*command, str(source), str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=BUILD_TIMEOUT_S,
    )
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-8000:]
    for page in ("index", "getting-started", "architecture", "reference/api", "guide/reduce"):
        assert (out / f"{page}.html").exists(), page
    options = (out / "reference" / "options.html").read_text()
    assert all(option.name in options for option in option_fields())
    examples = sorted((DOCS / "examples").glob("plot_*.py"))
    for example in examples:  # every example ran and drew its picture
        assert list((out / "_images").glob(f"sphx_glr_{example.stem}_00*.png")), example.name
