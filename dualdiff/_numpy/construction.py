"""Arrays built from dual values: linspace, logspace, geomspace with dual endpoints (and base),
select and piecewise with dual choices, meshgrid, broadcast_arrays, block, and the results of
apply_along_axis / apply_over_axes.

np.r_ and np.c_ are index tricks, not functions, and never reach dualdiff: numpy turns each item
into an array itself. Dual scalars become object arrays holding them (their derivatives kept,
as with np.array([...])); a dual array cannot become a plain array and raises the TypeError
that names np.concatenate (tests/test_numpy_helpers.py).

Each runs numpy's own recipe on dual values (numpy's operations in numpy's order, so values
are numpy's bit for bit, except that logspace and geomspace take powers, which agree with
numpy's vectorised pow to an ulp): linspace is start + i * (stop - start) / div with the last
sample replaced by stop, geomspace goes through log10 and back. Conditions are decisions on
values (plain booleans); the chosen values keep their derivatives.
"""
import operator

import numpy as np

from dualdiff import _arrays
from dualdiff._numpy import axis1, implements, ndim, qualname, shape
from dualdiff._numpy.manipulation import (broadcast_to, concatenate, expand_dims, moveaxis,
                                          ravel, reshape, stack, take, transpose, where)
from dualdiff._numpy.values import strip

_F64 = (None, float, np.float64, "float64", "f8", "d")


def _float_dtype(func, dtype):
    if dtype is not None and not any(dtype is d or dtype == d for d in _F64 if d is not None):
        raise TypeError(f"{qualname(func)}(..., dtype={dtype!r}) is not supported on dual "
                        "values (they are float64); drop the keyword")


def _replace_first_last(y, first, last):
    """y (samples along axis 0) with y[0] = first and/or y[-1] = last (None: kept)."""
    n = shape(y)[0]
    rest = shape(y)[1:]
    parts = []
    lo, hi = 0, n
    if first is not None:
        parts.append(reshape(broadcast_to(first, rest), (1,) + rest))
        lo = 1
    if last is not None:
        hi = n - 1
    parts.append(y[lo:hi])
    if last is not None:
        parts.append(reshape(broadcast_to(last, rest), (1,) + rest))
    return concatenate(parts, 0)


@implements(np.linspace)
def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *,
             device=None):
    num = operator.index(num)
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    _float_dtype(np.linspace, dtype)
    if device not in (None, "cpu"):
        raise ValueError(f"Device not understood. Only \"cpu\" is allowed, but received: {device}")
    div = (num - 1) if endpoint else num
    delta = np.subtract(stop, start)
    y = np.arange(0, num, dtype=np.float64).reshape((-1,) + (1,) * ndim(delta))
    if div > 0:
        step = delta / div
        if np.any(_arrays.value_of(step) == 0):
            # numpy's path for steps that underflow (denormal deltas, gh-5437)
            y = (y / div) * delta
        else:
            y = y * step
    else:
        step = np.nan                   # 0 or 1 samples with the endpoint: no step
        y = y * delta
    y = y + start
    if endpoint and num > 1:
        y = _replace_first_last(y, None, stop)
    if axis != 0:
        y = moveaxis(y, 0, axis)
    return (y, step) if retstep else y


@implements(np.logspace)
def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    _float_dtype(np.logspace, dtype)
    if not isinstance(base, (float, int)) and ndim(base):
        nd = len(np.broadcast_shapes(shape(start), shape(stop), shape(base)))
        start, stop, base = (reshape(a, (1,) * (nd - ndim(a)) + shape(a))
                             for a in (start, stop, base))
        base = expand_dims(base, axis)
    y = linspace(start, stop, num=num, endpoint=endpoint, axis=axis)
    # an argument outside the chunk's window (rowless) keeps y rowless, so that the power
    # below is the kernels' as in a sweep that seeds it, not numpy's (which rounds
    # differently): values must not depend on chunk
    return np.power(base, _arrays.keep_constant(y, (start, stop, base)))


@implements(np.geomspace)
def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    _float_dtype(np.geomspace, dtype)
    sv = np.asarray(_arrays.value_of(start), dtype=np.float64)
    ev = np.asarray(_arrays.value_of(stop), dtype=np.float64)
    if np.any(sv == 0) or np.any(ev == 0):
        raise ValueError("Geometric sequence cannot include zero")
    # numpy's rotation of a negative start onto the positive axis (sign is a constant)
    out_sign = np.sign(sv)
    start = start / out_sign
    stop = stop / out_sign
    result = logspace(np.log10(start), np.log10(stop), num=num, endpoint=endpoint, base=10.0)
    # the endpoints are start and stop exactly (10**log10(x) need not be x)
    if num > 0:
        result = _replace_first_last(result, start, stop if num > 1 and endpoint else None)
    result = result * out_sign
    if axis != 0:
        result = moveaxis(result, 0, axis)
    return result


# ---- select, piecewise ---------------------------------------------------------------------

def _conditions(condlist, func):
    conds = []
    for i, c in enumerate(condlist):
        if _arrays.lift(c) is not None or isinstance(c, _arrays.DualArray):
            raise TypeError(f"invalid entry {i} in condlist: should be boolean ndarray "
                            f"({qualname(func)} takes conditions such as x > 0, not dual "
                            "values)")
        conds.append(np.asarray(c))
    return conds


@implements(np.select)
def select(condlist, choicelist, default=0):
    """The first true condition's choice, element by element (numpy's precedence)."""
    conds = _conditions(condlist, np.select)
    want = np.select(conds, [np.zeros(shape(c)) for c in choicelist],
                     np.zeros(shape(default)))      # numpy's checks, errors and shape
    out = broadcast_to(default, want.shape)
    for cond, choice in zip(conds[::-1], list(choicelist)[::-1]):
        out = where(np.broadcast_to(cond, want.shape), choice, out)
    return out


@implements(np.piecewise)
def piecewise(x, condlist, funclist, *args, **kw):
    """numpy's piecewise: each function sees x[cond] (as a dual array) and its results fill
    those places, later conditions overriding earlier ones; elsewhere 0 (a constant)."""
    xshape = shape(x)
    n2 = len(funclist)
    plain = strip(condlist)
    if np.isscalar(plain) or (not isinstance(plain[0], (list, np.ndarray)) and len(xshape)):
        plain = [plain]
    conds = np.asarray(plain, dtype=bool)
    n = len(conds)
    if n == n2 - 1:                       # the "otherwise" function
        conds = np.concatenate([conds, ~np.any(conds, axis=0, keepdims=True)], axis=0)
        n += 1
    elif n != n2:
        raise ValueError(f"with {n} condition(s), either {n} or {n + 1} functions are expected")
    out = np.zeros(xshape)
    for cond, func in zip(conds, funclist):
        cond = np.broadcast_to(cond, xshape)
        count = int(np.count_nonzero(cond))
        if callable(func):
            if count == 0:
                continue
            vals = func(_masked(x, cond), *args, **kw)
        else:
            vals = func
        vals = ravel(broadcast_to(vals, (count,)))
        # scatter: gather from [0, vals...] with position i of cond -> its rank among cond
        idx = np.zeros(xshape, dtype=np.intp)
        idx[cond] = np.arange(1, count + 1)
        placed = take(concatenate([np.zeros(1), vals], 0), idx)
        out = where(cond, placed, out)
    return out


def _masked(x, cond):
    """x[cond] for a boolean mask of x's shape (also for 0-d x, as numpy does)."""
    if shape(x) == ():
        return reshape(x, (1,))[cond.reshape((1,))]
    return x[cond]


# ---- grids, broadcasting, blocks ----------------------------------------------------------

@implements(np.broadcast_arrays)
def broadcast_arrays(*args, subok=False):
    shp = np.broadcast_shapes(*[shape(a) for a in args])
    return tuple(broadcast_to(a, shp) if _arrays.lift(a) is not None else
                 np.broadcast_to(_arrays.const(a), shp) for a in args)


@implements(np.meshgrid)
def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    """numpy's coordinate grids: each input reshaped along its own axis ('xy' swaps the first
    two), then broadcast against the others unless sparse. copy has no effect: dual arrays
    are immutable."""
    if indexing not in ("xy", "ij"):
        raise ValueError("Valid values for `indexing` are 'xy' and 'ij'.")
    nd = len(xi)
    s0 = (1,) * nd
    out = [reshape(x, s0[:i] + (-1,) + s0[i + 1:]) for i, x in enumerate(xi)]
    if indexing == "xy" and nd > 1:
        out[0] = reshape(out[0], (1, -1) + s0[2:])
        out[1] = reshape(out[1], (-1, 1) + s0[2:])
    if not sparse:
        out = broadcast_arrays(*out)
    return tuple(out)


def _block_depth(arrays, path=()):
    """The nesting depth of block's list (numpy checks it is the same everywhere)."""
    if type(arrays) is list:
        if not arrays:
            raise ValueError(f"List at arrays{''.join(f'[{i}]' for i in path)} cannot be empty")
        return 1 + _block_depth(arrays[0], path + (0,))
    return 0


@implements(np.block)
def block(arrays):
    """numpy's block: the innermost lists join along the last axis, each level out one axis
    further in; leaves are padded with leading unit axes to the result's dimension."""
    def skeleton(a):
        if type(a) is list:
            return [skeleton(e) for e in a]
        if type(a) is tuple:
            return a
        return np.zeros(shape(a))
    np.block(skeleton(arrays))                  # numpy's checks of the nesting and shapes
    depth = _block_depth(arrays)

    def leaves(a):
        return [x for e in a for x in leaves(e)] if type(a) is list else [a]
    nd = max([depth] + [ndim(x) for x in leaves(arrays)])

    def join(a, level):
        if level == depth:
            return reshape(a, (1,) * (nd - ndim(a)) + shape(a))
        return concatenate([join(e, level + 1) for e in a], nd - (depth - level))
    return join(arrays, 0)


# ---- functions applied along axes ----------------------------------------------------------

@implements(np.apply_along_axis)
def apply_along_axis(func1d, axis, arr, *args, **kwargs):
    """func1d on every 1-d slice along `axis` (slices of a dual array are dual), the results
    stacked where the axis was, as numpy does."""
    nd = ndim(arr)
    ax = axis1(axis, nd)
    view = moveaxis(arr, ax, -1)
    lead = shape(view)[:-1]
    if 0 in lead:
        raise ValueError("Cannot apply_along_axis when any iteration dimensions are 0")
    results = [func1d(view[ind], *args, **kwargs) for ind in np.ndindex(lead)]
    res_shape = shape(results[0])
    buff = reshape(stack(results, 0), lead + res_shape)
    dims = list(range(len(lead) + len(res_shape)))
    nres = len(res_shape)
    perm = dims[:ax] + dims[len(dims) - nres:] + dims[ax:len(dims) - nres]
    return transpose(buff, tuple(perm))


@implements(np.apply_over_axes)
def apply_over_axes(func, a, axes):
    val = a
    N = ndim(a)
    if np.ndim(axes) == 0:
        axes = (axes,)
    for axis in axes:
        if axis < 0:
            axis = N + axis
        res = func(val, axis)
        if ndim(res) != ndim(val):
            res = expand_dims(res, axis)
            if ndim(res) != ndim(val):
                raise ValueError("function is not returning an array of the correct shape")
        val = res
    return val
