"""dualdiff: exact derivatives of ordinary Python and NumPy code by forward-mode AD.

    import dualdiff as dd
    dd.derivative(f)(1.5)           # f'(1.5), exact
    dd.grad(f)(x), dd.hessian(f)(x), dd.jacobian(f)(x), dd.jvp(f, (x,), (v,)), dd.hvp(f)(x, v)

Dual and HyperDual are the compiled number types; the elementary functions (dd.sin, ...)
work on floats, arrays, dual numbers and the dual arrays the transforms pass to f. The
public contract is the README's API section.
"""
import os as _os
import sys as _sys


def _installed_copy():
    """Another dualdiff on sys.path that has its compiled extension (an installed wheel)."""
    here = _os.path.dirname(_os.path.abspath(__file__))
    for entry in _sys.path:
        candidate = _os.path.join(_os.path.abspath(entry or _os.getcwd()), "dualdiff")
        if candidate == here or not _os.path.isdir(candidate):
            continue
        if any(name.startswith("_core.") and name.endswith((".so", ".pyd"))
               for name in _os.listdir(candidate)):
            return candidate
    return None


def _sources_differ(a, b):
    """The Python sources of two copies of the package that are not the same, by content."""
    differ = []
    for root, _, files in _os.walk(a):
        for name in files:
            if name.endswith((".py", ".pyx", ".pxi", ".pxd", ".tp")):
                pa = _os.path.join(root, name)
                pb = _os.path.join(b, _os.path.relpath(pa, a))
                try:
                    with open(pa, "rb") as fa, open(pb, "rb") as fb:
                        if fa.read() != fb.read():
                            differ.append(_os.path.relpath(pa, a))
                except OSError:
                    differ.append(_os.path.relpath(pa, a))
    return differ


try:
    from dualdiff import _core
except ImportError as exc:
    # Run from a source checkout that was never built (`python -m dualdiff` in the repo root
    # puts the checkout first on sys.path): serve the installed copy -- loudly if the two differ,
    # since edits in the checkout are then not what runs.
    _installed = _installed_copy()
    if _installed is None:
        raise ImportError(
            "dualdiff's compiled extension (dualdiff._core) is missing: install the package "
            "with `pip install .` (which compiles it), or, to develop in this checkout, build it "
            "in place with `pip install -e .` (see the README's Development section).") from exc
    _changed = _sources_differ(_os.path.dirname(_os.path.abspath(__file__)), _installed)
    if _changed:
        print(f"dualdiff: WARNING: this source checkout is not built, so the installed copy at "
              f"{_installed} runs instead, and it differs from the checkout in "
              f"{', '.join(sorted(_changed)[:5])}{' ...' if len(_changed) > 5 else ''}. "
              "Build the checkout in place (`pip install -e .`) to run your edits.",
              file=_sys.stderr)
    __path__[:] = [_installed]
    from dualdiff import _core

from dualdiff import _arrays, _numpy                      # noqa: E402,F401  (registers handlers)
from dualdiff._core import Dual, DualVec, HyperDual, HyperDualVec, clip  # noqa: E402
from dualdiff.transforms import (clear_caches, derivative, grad, hessian, hvp,  # noqa: E402
                                 jacfwd, jacobian, jvp, value_and_grad)
from dualdiff.custom import check_rule, custom_jvp, register_elementwise  # noqa: E402
from dualdiff._numpy.scipy_special import log_softmax, logsumexp, polygamma, softmax  # noqa: E402
from dualdiff.sparse import sparse_hessian, sparse_jacobian  # noqa: E402

# dd.NAME for every row of the rule table (csrc/rules.h), from the table itself
globals().update(_core.elementary)

__version__ = "0.1.0"

_BUILTINS = {"abs"}      # dd.abs exists, but `from dualdiff import *` must not shadow abs()
__all__ = ["Dual", "HyperDual", "DualVec", "HyperDualVec", "derivative", "grad", "value_and_grad", "jacobian", "jacfwd", "hessian",
           "jvp", "hvp", "clip", "clear_caches", "register_elementwise", "custom_jvp",
           "check_rule", "logsumexp", "softmax", "log_softmax", "polygamma"] + \
    [name for name in _core.elementary if name not in _BUILTINS]
__all__ += ["sparse_jacobian", "sparse_hessian"]
