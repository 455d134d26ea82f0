"""Sphinx configuration of dualdiff's API reference, generated from the docstrings of the
installed package (.ci/run builds it with warnings as errors, so it cannot drift from the
code). Build: sphinx-build -W -b html .ci/docs <out> (needs the `docs` extra)."""
import dualdiff
from dualdiff import _core

project = "dualdiff"
author = "The dualdiff authors"
copyright = "2026, The dualdiff authors"
release = version = dualdiff.__version__

extensions = ["sphinx.ext.autodoc"]
autodoc_default_options = {"member-order": "bysource"}
exclude_patterns = ["_build"]
html_theme = "alabaster"


def _verbatim(app, what, name, obj, options, lines):
    """dualdiff's docstrings are plain text (aligned lists, `x * y`, indented examples), not
    reStructuredText: show each as written, in a literal block, rather than let docutils
    reinterpret its asterisks and indentation."""
    if lines:
        lines[:] = ["::", ""] + ["    " + line for line in lines] + [""]


def _elementary(app, docname, source):
    """elementary.rst lists every row of the rule table (csrc/rules.h), from the table itself."""
    if docname != "elementary":
        return
    names = list(_core.UNARY_INDEX) + list(_core.BINARY_INDEX)
    source[0] = source[0].replace(
        ".. elementary-functions::",
        "\n".join(f".. autofunction:: dualdiff.{name}\n" for name in names))


def setup(app):
    app.connect("source-read", _elementary)
    app.connect("autodoc-process-docstring", _verbatim)
