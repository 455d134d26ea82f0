"""Builds dualdiff's compiled extensions; all metadata lives in pyproject.toml.

The Tempita templates (*.pyx.tp) are expanded into .pyx first: Dual and HyperDual are one
template instantiated twice, so the two types cannot drift apart.
"""
import os
import re

from Cython import Tempita
from Cython.Build import cythonize
import numpy
from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))
HEADERS = [os.path.join("csrc", h) for h in ("rules.h", "exp.h", "exp_table.h", "dual.h", "hyperdual.h",
                                           "kernels.h", "pool.h", "coloring.h")]


def rule_names():
    """The names of the unary and binary rows of csrc/rules.h, in table order: the templates
    generate one function per rule from them (the table stays the only list)."""
    with open(os.path.join(HERE, "csrc", "rules.h"), encoding="utf-8") as fh:
        text = fh.read()
    unary = text[text.index("#define DD_UNARY_RULES(R)"):text.index("#define DD_BINARY_RULES(B)")]
    binary = text[text.index("#define DD_BINARY_RULES(B)"):text.index("/* Helpers the rows use. */")]
    return re.findall(r"\bR\((\w+),", unary), re.findall(r"\bB\((\w+),", binary)


def expand_templates(names):
    unary, binary = rule_names()
    for name in names:
        src = os.path.join(HERE, name)
        out = src[: -len(".tp")]
        with open(src, encoding="utf-8") as fh:
            text = Tempita.sub(fh.read(), UNARY_NAMES=unary, BINARY_NAMES=binary)
        text = f"# Generated from {os.path.basename(name)} by setup.py; edit the template.\n" + text
        old = open(out, encoding="utf-8").read() if os.path.exists(out) else None
        if text != old:                      # keep mtimes stable: no needless recompiles
            with open(out, "w", encoding="utf-8") as fh:
                fh.write(text)


expand_templates(["dualdiff/_core.pyx.tp"])

# -fno-math-errno: libm calls become pure, so unused derivative terms are dropped.
# -fno-trapping-math: the zero-tangent select (t == 0 ? 0 : t*d) may be if-converted, so the
#   direction loops vectorize; dualdiff's numpy-style warnings look at values, not FP flags.
# -ffp-contract=off: no fused multiply-add anywhere, so a scalar Dual and the array kernels
#   round identically (the plumbing tests compare them for exact equality).
COMPILE_ARGS = (["-O3", "-fno-math-errno", "-fno-trapping-math", "-ffp-contract=off"]
                if os.name != "nt" else [])


def extension(name):
    return Extension(
        f"dualdiff.{name}",
        [f"dualdiff/{name}.pyx"],
        include_dirs=["csrc", numpy.get_include()],
        depends=HEADERS,
        extra_compile_args=COMPILE_ARGS,
        # a direct tp_new: Cython's vectorcall adapter costs a dual multiply ~20% of its time
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION"),
                       ("CYTHON_VECTORCALL_TPNEW", "0")],
    )


setup(
    ext_modules=cythonize(
        [extension("_core"), extension("_arrays"), extension("_coloring")],
        compiler_directives={"language_level": 3},
        quiet=True,
    ),
)
