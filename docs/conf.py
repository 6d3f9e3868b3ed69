"""Sphinx configuration of aekit's documentation site (``make docs``; tests/test_docs.py).

The conventions of the scientific-Python projects aekit's users know (scikit-learn, PyOD):
pydata-sphinx-theme, a sphinx-gallery of examples executed at build time, the API reference
from numpydoc docstrings, and the pages in Markdown (myst-parser). The build is offline: no
intersphinx, nothing fetched. docs/architecture.md says why these tools.
"""

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
# the aekit beside these pages, not another one installed elsewhere; docs/_ext: our extension
sys.path[:0] = [str(DOCS.parent / "src"), str(DOCS / "_ext")]

import aekit  # noqa: E402  (after the path is set)

project = "aekit"
author = "the aekit developers"
copyright = "the aekit developers"
version = release = aekit.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "aekit_reference",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
smartquotes = False  # "--resume" stays two hyphens, not an en dash
# examples/ is the gallery's source (sphinx-gallery renders it into auto_examples/)
exclude_patterns = ["_build", "_ext", "examples", "**.ipynb_checkpoints"]

myst_enable_extensions = ["deflist", "colon_fence"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "none"  # numpydoc's Parameters sections say the types
numpydoc_show_class_members = False
numpydoc_xref_param_type = False

sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/plot_",
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,  # an example that fails fails the build
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_signature": False,
    "min_reported_time": 1,
    # its page links scripts from CDNs; the build log says each example's time
    "write_computation_times": False,
}

html_theme = "pydata_sphinx_theme"
html_title = f"aekit {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_static_path = []
