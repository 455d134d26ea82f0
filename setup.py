"""Builds dualdiff's compiled extensions; all metadata lives in pyproject.toml.

The Tempita templates (*.pyx.tp) are expanded into .pyx first: Dual and HyperDual are one
template instantiated twice, so the two types cannot drift apart.

Build time is dominated by the array kernels (csrc/kernels.c: one translation unit with one
clone per instruction set), so they are compiled in a thread of their own while the Cython
modules compile beside them, and the extensions link once both are done.
DUALDIFF_DEBUG=1 keeps debug information and symbols (for gdb or perf); the default build is
stripped, as a wheel should be.
"""
import glob
import os
import re
import sys
import threading

from Cython import Tempita
from Cython.Build import cythonize
import numpy
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.modified import newer_group

HERE = os.path.dirname(os.path.abspath(__file__))
# every header on disk: a change to any of them rebuilds the extensions
HEADERS = sorted(glob.glob(os.path.join("csrc", "*.h")))
KERNELS = os.path.join("csrc", "kernels.c")
KERNEL_USERS = ("dualdiff._core", "dualdiff._arrays")    # the modules that call the kernels
DEBUG = os.environ.get("DUALDIFF_DEBUG", "") not in ("", "0")
# DUALDIFF_SANITIZE=1: AddressSanitizer and UndefinedBehaviorSanitizer in every module (a debug
# build; run Python with libasan preloaded: README, Development)
SANITIZE = os.environ.get("DUALDIFF_SANITIZE", "") not in ("", "0")
DEBUG = DEBUG or SANITIZE


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
    return names["METHODS"], names["PROPERTIES"], names["UFUNC_METHODS"]


def expand_templates(names):
    unary, binary = rule_names()
    methods, properties, ufunc_methods = ndarray_names()
    for name in names:
        src = os.path.join(HERE, name)
        out = src[: -len(".tp")]
        with open(src, encoding="utf-8") as fh:
            text = Tempita.sub(fh.read(), UNARY_NAMES=unary, BINARY_NAMES=binary,
                                ARRAY_METHODS=methods, ARRAY_PROPERTIES=properties,
                                UFUNC_METHODS=ufunc_methods)
        text = f"# Generated from {os.path.basename(name)} by setup.py; edit the template.\n" + text
        old = open(out, encoding="utf-8").read() if os.path.exists(out) else None
        if text != old:                      # keep mtimes stable: no needless recompiles
            with open(out, "w", encoding="utf-8") as fh:
                fh.write(text)


GCC_LIKE = os.name != "nt"
# -fno-math-errno: libm calls become pure, so unused derivative terms are dropped.
# -fno-trapping-math: the zero-tangent select (t == 0 ? 0 : t*d) may be if-converted, so the
#   direction loops vectorize; dualdiff's numpy-style warnings look at values, not FP flags.
# -ffp-contract=off: no fused multiply-add anywhere, so a scalar Dual and the array kernels
#   round identically (the plumbing tests compare them for exact equality).
# -g0 (after Python's own -g): debug information is 85% of an unstripped module and the
#   assembler's largest input; DUALDIFF_DEBUG=1 keeps it.
FP_ARGS = ["-fno-math-errno", "-fno-trapping-math", "-ffp-contract=off"] if GCC_LIKE else []
DEBUG_ARGS = ([] if DEBUG else ["-g0"]) if GCC_LIKE else []
# -O3 for the modules too, not only for the kernels' loops (which need its vectorizer): at -O2
# HyperDual arithmetic in a Python loop measured 20-40% slower (bench/scalar_ops.py), while
# -O3 costs the modules ~25% more compile time that overlaps the longer kernel compile.
# (UBSan reports and goes on, so one run lists every finding: grep its "runtime error" lines)
SANITIZE_ARGS = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer"] \
    if SANITIZE and GCC_LIKE else []
COMPILE_ARGS = (["-O3"] if GCC_LIKE else []) + FP_ARGS + DEBUG_ARGS + SANITIZE_ARGS
# -s: no symbol table in the shared objects (a wheel has no use for it; the dynamic symbols
# Python looks up, PyInit_*, stay). GNU and LLVM linkers on ELF platforms only.
LINK_ARGS = (["-s"] if sys.platform.startswith("linux") and not DEBUG else []) + SANITIZE_ARGS

MACROS = [
    ("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION"),
    # The oldest numpy the package declares (pyproject: numpy>=2.0). Headers of numpy 2.x
    # default to an older C-API target that predates the allocator API (PyDataMem_SetHandler,
    # numpy 1.22), which then stays undeclared and fails at import; the explicit target also
    # makes a module built against newer numpy 2.x headers import on every numpy from 2.0 on.
    ("NPY_TARGET_VERSION", "NPY_2_0_API_VERSION"),
    # a direct tp_new: Cython's vectorcall adapter costs a dual multiply ~20% of its time
    ("CYTHON_VECTORCALL_TPNEW", "0"),
    # no C line numbers in tracebacks: less code in every error path, and they point into
    # generated C that a wheel does not ship anyway
    ("CYTHON_CLINE_IN_TRACEBACK", "0"),
]


def extension(name):
    return Extension(
        f"dualdiff.{name}",
        [f"dualdiff/{name}.pyx"],
        include_dirs=["csrc", numpy.get_include()],
        depends=HEADERS + [KERNELS],
        extra_compile_args=COMPILE_ARGS,
        extra_link_args=LINK_ARGS,
        define_macros=MACROS,
    )


class BuildExt(build_ext):
    """build_ext that generates and cythonizes the modules when they are built (not when an
    sdist is made), compiles the array kernels (csrc/kernels.c, linked into both modules) in a
    thread of its own concurrently with the modules, and uses every core by default."""

    def finalize_options(self):
        super().finalize_options()
        if self.parallel is None:           # pip and `setup.py build_ext` alike: all cores
            self.parallel = os.cpu_count() or 1

    def run(self):
        expand_templates(["dualdiff/_core.pyx.tp", "dualdiff/_vec.pxi.tp"])
        for ext, c_ext in zip(self.extensions, cythonize(self.extensions, force=self.force,
                                                         compiler_directives=DIRECTIVES,
                                                         quiet=True)):
            ext.sources = c_ext.sources
            # what the .pyx includes; numpy's headers (absolute paths) do not change under a
            # build, and setuptools warns about absolute paths in an sdist's manifest
            ext.depends = sorted(set(ext.depends) | {
                d for d in c_ext.depends if not os.path.isabs(d)})
        super().run()

    def build_extensions(self):
        obj = os.path.join(self.build_temp, "csrc",
                           "kernels" + self.compiler.obj_extension)
        for ext in self.extensions:
            if ext.name in KERNEL_USERS and obj not in ext.extra_objects:
                ext.extra_objects.append(obj)
        done, error = threading.Event(), []

        def compile_kernels():
            try:
                if self.force or newer_group([KERNELS] + HEADERS, obj, "newer"):
                    self.compiler.compile([KERNELS], output_dir=self.build_temp,
                                          include_dirs=["csrc"], debug=self.debug,
                                          extra_postargs=COMPILE_ARGS, depends=HEADERS)
            except BaseException as exc:          # re-raised in the linking thread
                error.append(exc)
            finally:
                done.set()

        link = self.compiler.link_shared_object

        def link_after_kernels(*args, **kwargs):
            done.wait()
            if error:
                raise error[0]
            return link(*args, **kwargs)

        self.compiler.link_shared_object = link_after_kernels
        worker = threading.Thread(target=compile_kernels, name="dualdiff-kernels")
        worker.start()
        try:
            super().build_extensions()
        finally:
            worker.join()
            self.compiler.link_shared_object = link
        if error:                                # every extension was up to date
            raise error[0]


DIRECTIVES = {
    "language_level": 3,
    # signatures in Argument Clinic's format: CPython then gives every builtin function a
    # __text_signature__, so inspect.signature and help() show the arguments
    "embedsignature": True,
    "embedsignature.format": "clinic",
}

setup(
    cmdclass={"build_ext": BuildExt},
    ext_modules=[extension("_core"), extension("_arrays"), extension("_coloring"),
                 extension("_setops")],
)
