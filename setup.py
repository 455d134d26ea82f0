"""Builds dualdiff's compiled extensions; all metadata lives in pyproject.toml.

The Tempita templates (*.pyx.tp) are expanded into .pyx first: Dual and HyperDual are one
template instantiated twice, so the two types cannot drift apart.
"""
import glob
import os
import re

from Cython import Tempita
from Cython.Build import cythonize
import numpy
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
# every header on disk: a change to any of them rebuilds the extensions
HEADERS = sorted(glob.glob(os.path.join("csrc", "*.h")))


def _macro(text, name):
    """The body of `#define name ...`: its lines up to the first without a continuation."""
    start = text.index(f"#define {name}")
    lines = []
    for line in text[start:].splitlines():
        lines.append(line)
        if not line.rstrip().endswith("\\"):
            break
    return "\n".join(lines)


def rule_names():
    """The names of the unary and binary rows of csrc/rules.h, in table order: the templates
    generate one function per rule from them (the table stays the only list)."""
    with open(os.path.join(HERE, "csrc", "rules.h"), encoding="utf-8") as fh:
        text = fh.read()
    unary = _macro(text, "DD_UNARY_RULES(R)")
    binary = _macro(text, "DD_BINARY_RULES(B)")
    return re.findall(r"\bR\((\w+),", unary), re.findall(r"\bB\((\w+),", binary)


def ndarray_names():
    """The ndarray methods and properties the scalar types forward (dualdiff/_ndarray_names.py)."""
    names = {}
    with open(os.path.join(HERE, "dualdiff", "_ndarray_names.py"), encoding="utf-8") as fh:
        exec(fh.read(), names)          # plain literals, no imports
    return names["METHODS"], names["PROPERTIES"]


def expand_templates(names):
    unary, binary = rule_names()
    methods, properties = ndarray_names()
    for name in names:
        src = os.path.join(HERE, name)
        out = src[: -len(".tp")]
        with open(src, encoding="utf-8") as fh:
            text = Tempita.sub(fh.read(), UNARY_NAMES=unary, BINARY_NAMES=binary,
                                ARRAY_METHODS=methods, ARRAY_PROPERTIES=properties)
        text = f"# Generated from {os.path.basename(name)} by setup.py; edit the template.\n" + text
        old = open(out, encoding="utf-8").read() if os.path.exists(out) else None
        if text != old:                      # keep mtimes stable: no needless recompiles
            with open(out, "w", encoding="utf-8") as fh:
                fh.write(text)


expand_templates(["dualdiff/_core.pyx.tp", "dualdiff/_vec.pxi.tp"])

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


# The array kernels: one translation unit, compiled once (a static library both extension
# modules link), with the flags above.
KERNELS = ("dualdiff_kernels", {"sources": ["csrc/kernels.c"], "include_dirs": ["csrc"],
                                "cflags": COMPILE_ARGS, "obj_deps": {"": HEADERS}})


class BuildExt(build_ext):
    """build_ext that builds the kernels' library first, also when run alone (--inplace)."""

    def run(self):
        self.run_command("build_clib")
        super().run()


setup(
    cmdclass={"build_ext": BuildExt},
    libraries=[KERNELS],
    ext_modules=cythonize(
        [extension("_core"), extension("_arrays"), extension("_coloring"), extension("_setops")],
        compiler_directives={"language_level": 3},
        quiet=True,
    ),
)
