"""Elementwise numpy functions outside the rule table of csrc/rules.h, on dual values.

The ufuncs remainder (np.mod, %), fmod, floor_divide (//), divmod, modf, frexp, ldexp, copysign,
heaviside, logaddexp2 and spacing are served by the rules of dualdiff/_jvp/ufuncs.py (see
there for the conventions at jumps); degrees and radians are numpy's other names of rad2deg
and deg2rad and use those rows of the table. np.sinc, np.i0, np.nan_to_num, np.round /
np.around, np.fix and np.astype are numpy functions written in Python; they are served here
too, as they act element by element.
"""
import functools
import operator

import numpy as np

from dualdiff import _arrays, _core
from dualdiff._jvp import apply
from dualdiff._jvp import ufuncs as rules
from dualdiff._numpy import UFUNCS, implements, qualname
from dualdiff._numpy.manipulation import where


def _ufunc_rule(ufunc, rule, nondiff=()):
    def handler(*inputs):
        if len(inputs) != ufunc.nin:
            raise TypeError(f"{qualname(ufunc)} takes {ufunc.nin} arguments, got {len(inputs)}")
        r = apply(rule, inputs, None, nondiff)
        if r is None:                                  # a dual array without tangents
            return ufunc(*[_arrays.const(a) if i not in nondiff else a
                           for i, a in enumerate(inputs)])
        return r
    return handler


for _u, _rule in ((np.remainder, rules.remainder_jvp), (np.fmod, rules.fmod_jvp),
                  (np.floor_divide, rules.floor_divide_jvp), (np.divmod, rules.divmod_jvp),
                  (np.modf, rules.modf_jvp), (np.copysign, rules.copysign_jvp),
                  (np.heaviside, rules.heaviside_jvp), (np.logaddexp2, rules.logaddexp2_jvp)):
    UFUNCS[_u] = _ufunc_rule(_u, _rule)

# x % y and x // y on a dual array call these through the function table (DualArray.__mod__
# and __floordiv__ look there), so they are registered in both tables
implements(np.remainder)(UFUNCS[np.remainder])
implements(np.floor_divide)(UFUNCS[np.floor_divide])

UFUNCS[np.spacing] = lambda x: _piecewise_constant(np.spacing, x)
UFUNCS[np.degrees] = functools.partial(_arrays.apply_unary, _core.UNARY_INDEX["rad2deg"])
UFUNCS[np.radians] = functools.partial(_arrays.apply_unary, _core.UNARY_INDEX["deg2rad"])


def _frexp(x):
    r = apply(rules.frexp_jvp, (x,))
    if r is None:
        return np.frexp(_arrays.const(x))
    m, e = r
    # a second-order sweep hands the exponent back as floats (it passes through the dual
    # layer as a constant); numpy's exponent is a C int
    return m, np.asarray(_arrays.value_of(e)).astype(np.intc)


UFUNCS[np.frexp] = _frexp


def _ldexp(a, n):
    if _arrays.lift(n) is not None:
        raise TypeError("numpy.ldexp(a, n): the exponent n must be integers, not dual values "
                        "(a * 2**n is differentiable in a only); use a * 2.0**n for a real "
                        "exponent")
    nv = np.asarray(_arrays.value_of(n) if isinstance(n, _arrays.DualArray) else n)
    if nv.dtype.kind not in "iub":
        raise TypeError(f"numpy.ldexp(a, n): the exponent n must be integers, not {nv.dtype}")
    r = apply(rules.ldexp_jvp, (a, nv), None, (1,))
    return np.ldexp(_arrays.const(a), nv) if r is None else r


UFUNCS[np.ldexp] = _ldexp


@implements(np.sinc)
def sinc(x):
    r = apply(rules.sinc_jvp, (x,))
    return np.sinc(_arrays.const(x)) if r is None else r


@implements(np.i0)
def i0(x):
    """numpy's own recipe -- |x|, then Clenshaw sums of its two Chebyshev series (Cephes, A&S
    9.8) -- run on dual values with numpy's own helpers: values to rounding (the C library's
    exp against numpy's vectorised one), derivatives those of the same approximation (within a few ulps of I1 and I1', tested). |x| is taken as -x
    where x < 0 and x elsewhere, not by abs: abs'(0) = 0 would make I0''(0) 0, not 1/2."""
    impl = getattr(np.i0, "_implementation", None) or np.i0.__wrapped__
    helpers = impl.__globals__
    ax = where(np.asarray(_arrays.value_of(x)) < 0.0, -x, x)
    return np.piecewise(ax, [_arrays.value_of(ax) <= 8.0],
                        [helpers["_i0_1"], helpers["_i0_2"]])


@implements(np.nan_to_num)
def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """NaN and infinities replaced by numbers: the replaced elements take the replacement's
    derivative (0 for constants), the finite ones keep theirs. `copy` has no effect: dual
    arrays are immutable and never modified in place."""
    v = np.asarray(_arrays.value_of(x), dtype=np.float64)
    info = np.finfo(np.float64)
    hi = info.max if posinf is None else posinf
    lo = info.min if neginf is None else neginf
    out = x
    for mask, fill in ((np.isneginf(v), lo), (np.isposinf(v), hi), (np.isnan(v), nan)):
        if np.any(mask):
            out = where(mask, fill, out)
    return out


def _piecewise_constant(func, x, **kwargs):
    r = apply(rules.piecewise_constant_jvp, (x,), {"func": func, "kwargs": kwargs})
    return func(_arrays.const(x), **kwargs) if r is None else r


@implements(np.round, np.around)
def round_(a, decimals=0, out=None):
    """Rounding to `decimals` places: piecewise constant, a dual of derivative 0 (as rint)."""
    if out is not None:
        raise TypeError("numpy.round(..., out=...) cannot store dual values: use the returned "
                        "result instead")
    return _piecewise_constant(np.round, a, decimals=operator.index(decimals))


@implements(np.fix)
def fix(x, out=None):
    """Rounding toward zero: numpy's trunc, the table's row."""
    if out is not None:
        raise TypeError("numpy.fix(..., out=...) cannot store dual values: use the returned "
                        "result instead")
    return _arrays.apply_unary(_core.UNARY_INDEX["trunc"], x)


@implements(getattr(np, "astype", None))
def astype(x, dtype, /, *, copy=True, device=None):
    """Dual values are float64: astype to float64 is the identity, anything else would lose
    the derivative (DualArray.astype raises)."""
    d = _arrays.lift(x)
    if d is None:
        return np.astype(_arrays.const(x), dtype, copy=copy)
    return d.astype(dtype)


# ---- ufuncs of Python objects ------------------------------------------------------------

def object_ufunc(ufunc):
    """The handler of a ufunc of Python objects (np.frompyfunc(f, nin, nout)), or None for
    any other ufunc. numpy calls f on each element, and the elements of a dual array are
    dual scalars, whose own arithmetic carries the derivatives (Python branches included):
    so the dual arrays (and tracers) go in as object arrays of their elements, as they do
    into np.vectorize, and the result is numpy's, an object array of dual numbers."""
    if not isinstance(ufunc, np.ufunc) or not ufunc.types or \
            any(set(t.replace("->", "")) != {"O"} for t in ufunc.types):
        return None

    def handler(*inputs):
        return ufunc(*[_elements(a) for a in inputs])
    return handler


def _elements(a):
    """Dual values (a dual array, a tracer, a dual scalar) as an object array of their
    elements; arrays and numbers as they are."""
    from dualdiff._tracer import Tracer
    if _core.is_scalar_dual(a) or isinstance(a, (_arrays.DualArray, Tracer)):
        return _arrays.elements(a)
    return a
