"""Reductions and scans of numpy on dual arrays: sum, mean, var, std, prod, max, min, cumsum,
cumprod, diff, clip, and the ufunc methods reduce/accumulate behind them.

Sums are compiled (numpy's pairwise order, dualdiff/_sums.pxi); max and min follow the tie
rule of dualdiff/_jvp/ordering.py; everything else is a composition of those with elementwise
operations, so it needs no rule of its own.
"""
import functools
import math

import numpy as np

from dualdiff import _arrays, _core
from dualdiff._arrays import DualArray
from dualdiff._jvp import apply
from dualdiff._jvp.ordering import extreme_jvp
from dualdiff._numpy import (NOVALUE, axes, axis1, float64_only, implements, ndim, no_out,
                             refuse, register_cumulative, shape, ufunc_method)
from dualdiff._numpy.manipulation import concatenate, moveaxis, ravel, reshape, take, transpose
from dualdiff._numpy.manipulation import where as where_

_dtype_ok = float64_only


def _masked(func, a, where, fill):
    """a with the elements outside `where` replaced by `fill` (a constant)."""
    if where is NOVALUE or where is True:
        return a
    mask = np.asarray(_arrays.value_of(where), dtype=bool)
    return where_(mask, a, fill)


def _plain(func, a, axis, keepdims, initial, where):
    """The reduction of a constant (a dual array elsewhere brought the call here)."""
    kw = {} if initial is NOVALUE else {"initial": initial}
    if where is not NOVALUE:
        kw["where"] = _arrays.value_of(where)
    return func(_arrays.const(a), axis=axis, keepdims=keepdims, **kw)


def _count(a, ax, where):
    if where is NOVALUE or where is True:
        return float(math.prod([shape(a)[i] for i in ax])) if ax else 1.0
    mask = np.broadcast_to(np.asarray(_arrays.value_of(where), dtype=bool), shape(a))
    return np.sum(mask, axis=ax, keepdims=True).astype(np.float64)


# ---- sum and friends ----------------------------------------------------------------------

@implements(np.sum)
def sum_(a, axis=None, dtype=None, out=None, keepdims=False, initial=NOVALUE, where=NOVALUE):
    if type(a) is DualArray and axis is None and dtype is None and out is None and \
            not keepdims and initial is NOVALUE and where is NOVALUE:
        return _arrays.sum_all(a)                      # np.sum(x): the common case, quickly
    no_out(np.sum, out)
    _dtype_ok(np.sum, dtype)
    d = _arrays.lift(a)
    if d is None:
        return _plain(np.sum, a, axis, keepdims, initial, where)
    d = _masked(np.sum, d, where, 0.0)
    ax = axes(axis, d.ndim, np.sum)
    if len(ax) == d.ndim and not keepdims:
        r = _arrays.sum_all(d)
    else:
        r = _arrays.sum_axes(d, ax, keepdims)
    if initial is not NOVALUE and initial is not None:
        r = r + initial
    return r


@implements(np.mean)
def mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=NOVALUE):
    if type(a) is DualArray and axis is None and dtype is None and out is None and \
            not keepdims and where is NOVALUE:
        return _arrays.sum_all(a) / float(a.size)      # np.mean(x): numpy's sum / count
    no_out(np.mean, out)
    _dtype_ok(np.mean, dtype)
    ax = axes(axis, ndim(a), np.mean, scalar_axis=False)
    count = _count(a, ax, where)
    if isinstance(count, np.ndarray) and not keepdims:
        count = np.squeeze(count, axis=ax)
    s = sum_(a, ax, keepdims=keepdims, where=where)
    return s / count


_mean = mean


@implements(np.var)
def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=NOVALUE,
        mean=NOVALUE, correction=NOVALUE):
    no_out(np.var, out)
    _dtype_ok(np.var, dtype)
    refuse(np.var, mean=mean)
    if correction is not NOVALUE:
        if ddof != 0:
            raise ValueError("var: ddof and correction can't be provided simultaneously")
        ddof = correction
    ax = axes(axis, ndim(a), np.var, scalar_axis=False)
    m = _mean(a, ax, keepdims=True, where=where)
    c = a - m
    s = sum_(c * c, ax, keepdims=keepdims, where=where)
    count = _count(a, ax, where)
    if isinstance(count, np.ndarray) and not keepdims:
        count = np.squeeze(count, axis=ax)
    return s / np.maximum(count - ddof, 0.0)


@implements(np.std)
def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=NOVALUE,
        mean=NOVALUE, correction=NOVALUE):
    no_out(np.std, out)
    v = var(a, axis, dtype, None, ddof, keepdims, where=where, mean=mean, correction=correction)
    return _arrays.apply_unary(_core.UNARY_INDEX["sqrt"], v)


@implements(np.prod)
def prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=NOVALUE, where=NOVALUE):
    """Product along axes by pairwise multiplication: log2(n) kernel calls of the exact
    product rule (no division by the factors, so zeros are fine)."""
    no_out(np.prod, out)
    _dtype_ok(np.prod, dtype)
    d = _arrays.lift(a)
    if d is None:
        return _plain(np.prod, a, axis, keepdims, initial, where)
    d = _masked(np.prod, d, where, 1.0)
    n = d.ndim
    ax = axes(axis, n, np.prod)
    rest = tuple(i for i in range(n) if i not in ax)
    # the reduced length spelled out: -1 is ambiguous when another axis is empty
    y = reshape(transpose(d, ax + rest), (math.prod(d.shape[i] for i in ax),) +
                tuple(d.shape[i] for i in rest))
    if y.shape[0] == 0:
        y = np.ones(y.shape[1:])
    else:
        while y.shape[0] > 1:
            h = y.shape[0] // 2
            z = y[:h] * y[h:2 * h]
            y = concatenate([z, y[2 * h:]], 0) if y.shape[0] % 2 else z
        y = reshape(y, y.shape[1:])
    if keepdims:
        y = reshape(y, tuple(1 if i in ax else d.shape[i] for i in range(n)))
    if type(y) is DualArray:
        # the value as numpy multiplies, in order: the pairwise order rounds differently and
        # can meet 5e-324 * 1e-300 = 0 before inf, where numpy's running product is inf
        # (0 * inf = NaN for inf; fuzz seed 2323)
        y = _arrays.rebuild(y, np.prod(d.value, axis=ax, keepdims=keepdims), _arrays.parts(y))
    if initial is not NOVALUE and initial is not None:
        y = y * initial
    return y


def _extreme(func, pick, a, axis, out, keepdims, initial, where):
    no_out(func, out)
    d = _arrays.lift(a)
    if d is None:
        return _plain(pick, a, axis, keepdims, initial, where)
    ax = axes(axis, d.ndim, func)
    if where is not NOVALUE and where is not True:
        if initial is NOVALUE:
            raise ValueError(f"reduction operation '{pick.__name__}' does not have an identity, "
                             "so to use a where mask one has to specify 'initial'")
        d = _masked(func, d, where, -np.inf if pick is np.max else np.inf)
    elif any(d.shape[i] == 0 for i in ax) and initial is not NOVALUE:
        full = pick(d.value, axis=ax, keepdims=keepdims, initial=initial)
        return full                                    # nothing to differentiate
    r = apply(extreme_jvp, (d,), {"axis": ax, "keepdims": keepdims, "pick": pick})
    if initial is not NOVALUE:
        r = (np.maximum if pick is np.max else np.minimum)(r, initial)
    return r


@implements(np.max, np.amax)
def amax(a, axis=None, out=None, keepdims=False, initial=NOVALUE, where=NOVALUE):
    return _extreme(np.max, np.max, a, axis, out, keepdims, initial, where)


@implements(np.min, np.amin)
def amin(a, axis=None, out=None, keepdims=False, initial=NOVALUE, where=NOVALUE):
    return _extreme(np.min, np.min, a, axis, out, keepdims, initial, where)


@implements(np.clip)
def clip(a, a_min=NOVALUE, a_max=NOVALUE, out=None, *, min=NOVALUE, max=NOVALUE, **kwargs):
    """minimum(maximum(a, a_min), a_max), as numpy: ties at a bound share the derivative."""
    no_out(np.clip, out)
    refuse(np.clip, **kwargs)
    lo = a_min if a_min is not NOVALUE else min
    hi = a_max if a_max is not NOVALUE else max
    if lo is NOVALUE and hi is NOVALUE:
        raise ValueError("clip: at least one of a_min and a_max must be given")
    return _core.clip(a, None if lo is NOVALUE else lo, None if hi is NOVALUE else hi)


# ---- scans -----------------------------------------------------------------------------

@implements(np.cumsum)
def cumsum(a, axis=None, dtype=None, out=None, *, include_initial=False):
    no_out(np.cumsum, out)
    _dtype_ok(np.cumsum, dtype)
    if axis is None:
        if ndim(a) > 1 and include_initial:
            raise ValueError("cumulative_sum: axis must be given for arrays of more than 1 dimension")
        a, axis = ravel(a), 0
    elif ndim(a) == 0:
        a = ravel(a)                 # numpy runs a 0-d array as 1-d (axis 0 or -1)
    ax = axis1(axis, ndim(a))

    def fn(arr, nd):
        c = np.cumsum(arr, axis=ax)
        if include_initial:
            c = np.concatenate([np.zeros_like(np.take(arr, [0], axis=ax)), c], axis=ax)
        return c
    return _arrays.linear(a, fn)


@implements(np.cumprod)
def cumprod(a, axis=None, dtype=None, out=None, *, include_initial=False):
    no_out(np.cumprod, out)
    _dtype_ok(np.cumprod, dtype)
    if axis is None:
        a, axis = ravel(a), 0
    elif ndim(a) == 0:
        a = ravel(a)                 # numpy runs a 0-d array as 1-d (axis 0 or -1)
    ax = axis1(axis, ndim(a))
    y = moveaxis(a, ax, 0)
    ones = np.ones((1,) + shape(y)[1:])
    if shape(y)[0] == 0:
        return moveaxis(concatenate([ones, y], 0) if include_initial else y, 0, ax)
    acc = y[0:1]
    pieces = [ones, acc] if include_initial else [acc]
    for i in range(1, shape(y)[0]):
        acc = acc * y[i:i + 1]
        pieces.append(acc)
    return moveaxis(concatenate(pieces, 0), 0, ax)


register_cumulative(implements, cumsum, cumprod)


@implements(np.diff)
def diff(a, n=1, axis=-1, prepend=NOVALUE, append=NOVALUE):
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise ValueError(f"diff: order must be a non-negative integer, got {n!r}")
    if n == 0:
        return a
    ax = axis1(axis, ndim(a))
    parts = []
    if prepend is not NOVALUE:
        parts.append(_broadcast_edge(prepend, a, ax))
    parts.append(a)
    if append is not NOVALUE:
        parts.append(_broadcast_edge(append, a, ax))
    x = concatenate(parts, ax) if len(parts) > 1 else a
    for _ in range(n):
        m = shape(x)[ax]
        x = take(x, np.arange(1, m), ax) - take(x, np.arange(0, m - 1), ax)
    return x


def _broadcast_edge(v, a, ax):
    from dualdiff._numpy.manipulation import broadcast_to
    if ndim(v) == 0:
        s = list(shape(a))
        s[ax] = 1
        return broadcast_to(v, tuple(s))
    return v


# ---- the ufunc methods behind them --------------------------------------------------------

def _reduce_axis(axis):
    return 0 if axis is NOVALUE else axis


for _u, _f in ((np.add, sum_), (np.multiply, prod)):
    def _handler(a, axis=NOVALUE, dtype=None, out=None, keepdims=False, initial=NOVALUE,
                 where=NOVALUE, _f=_f):
        return _f(a, axis=_reduce_axis(axis), dtype=dtype, out=out, keepdims=keepdims,
                  initial=initial, where=where)
    ufunc_method(_u, "reduce")(_handler)

# (fmax and fmin reduce as nanmax and nanmin without the warning: nanfunctions.py)
for _u, _f in ((np.maximum, amax), (np.minimum, amin)):
    def _handler(a, axis=NOVALUE, dtype=None, out=None, keepdims=False, initial=NOVALUE,
                 where=NOVALUE, _f=_f, _u=_u):
        _dtype_ok(_u, dtype)
        return _f(a, axis=_reduce_axis(axis), out=out, keepdims=keepdims, initial=initial,
                  where=where)
    ufunc_method(_u, "reduce")(_handler)


@ufunc_method(np.add, "accumulate")
def _add_accumulate(a, axis=0, dtype=None, out=None):
    return cumsum(a, axis=axis, dtype=dtype, out=out)


@ufunc_method(np.multiply, "accumulate")
def _multiply_accumulate(a, axis=0, dtype=None, out=None):
    return cumprod(a, axis=axis, dtype=dtype, out=out)


# ---- reduce and accumulate of the other binary ufuncs: a left fold ------------------------
# numpy folds every ufunc but add (pairwise) left to right along the axis, element by element
# of the other axes: acc = op(acc, a[i]). The same fold of the ufunc itself on slices gives
# numpy's order, and each step's derivative by the ufunc's rule. Written in numpy calls that
# dispatch on the operand, so the sparsity tracer (dualdiff/_tracer_numpy.py) folds with it.
# Not power and arctan2: numpy 2.4's own float64 power.reduce and arctan2.reduce return
# op(a[0], a[-1]) ([1.5, 2, 3] -> 3.375), not the fold its documentation defines, so a fold
# here would differ from f's own value; they stay refused.
FOLDED = (np.subtract, np.true_divide, np.float_power, np.hypot, np.logaddexp, np.logaddexp2,
          np.copysign, np.fmod, np.remainder, np.heaviside)


def _values(a):
    v = getattr(a, "value", None)          # a dual array's or a tracer's values
    return v if isinstance(v, np.ndarray) else _arrays.value_of(a)


def _fold_checks(ufunc, method, dtype, where, out):
    _dtype_ok(ufunc, dtype)
    no_out(ufunc, out)
    if where is not NOVALUE and where is not True:
        raise TypeError(f"numpy.{ufunc.__name__}.{method}(..., where=...) is not supported on "
                        "dual values; mask with np.where before reducing")


def fold_reduce(ufunc, a, axis=0, dtype=None, out=None, keepdims=False, initial=NOVALUE,
                where=NOVALUE):
    """ufunc.reduce as a left fold of ufunc itself."""
    _fold_checks(ufunc, "reduce", dtype, where, out)
    kw = {} if initial is NOVALUE else {"initial": _arrays.value_of(initial)}
    # numpy's own checks (an axis, a non-reorderable ufunc over several axes, an empty axis
    # without identity) and the result's shape, from the values
    plain = ufunc.reduce(_values(a), axis=axis, keepdims=keepdims, **kw)
    nd = np.ndim(_values(a))
    if nd == 0:                                       # numpy: the element itself
        return a if initial is NOVALUE else ufunc(initial, a)
    ax = axes(axis, nd, ufunc)
    if any(np.shape(_values(a))[i] == 0 for i in ax):
        return plain                                  # the identity or initial: a constant
    a = np.moveaxis(a, ax, tuple(range(len(ax))))
    a = np.reshape(a, (-1,) + np.shape(_values(a))[len(ax):])
    acc = a[0] if initial is NOVALUE else ufunc(initial, a[0])
    for i in range(1, np.shape(_values(a))[0]):
        acc = ufunc(acc, a[i])
    return np.reshape(acc, np.shape(plain))


def fold_accumulate(ufunc, a, axis=0, dtype=None, out=None):
    """ufunc.accumulate: the fold's running values."""
    _fold_checks(ufunc, "accumulate", dtype, NOVALUE, out)
    if np.ndim(_values(a)) == 0:
        raise TypeError("cannot accumulate on a scalar")     # numpy's own words and type
    plain = ufunc.accumulate(_values(a), axis=axis)          # numpy's checks
    if plain.size == 0:
        return plain
    ax = axis1(axis, plain.ndim)
    a = np.moveaxis(a, ax, 0)
    steps = [a[0:1]]
    for i in range(1, plain.shape[ax]):
        steps.append(ufunc(steps[-1], a[i:i + 1]))
    return np.moveaxis(np.concatenate(steps), 0, ax)


for _u in FOLDED:
    ufunc_method(_u, "reduce")(functools.partial(fold_reduce, _u))
    ufunc_method(_u, "accumulate")(functools.partial(fold_accumulate, _u))
