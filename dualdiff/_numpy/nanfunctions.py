"""numpy's NaN-ignoring reductions and scans on dual arrays: nansum, nanprod, nanmean, nanvar,
nanstd, nanmax, nanmin, nancumsum, nancumprod (nanmedian, nanpercentile and nanquantile are
order statistics: dualdiff/_numpy/sorting.py).

Each is numpy's own recipe: the NaN elements are replaced by the operation's neutral value (a
constant, so their tangents never reach the result), then the ordinary reduction runs on the
dual array. A lane with no valid element gives numpy's result (0, 1, NaN, with numpy's
warning) with derivative 0. Values are numpy's bit for bit.
"""
import warnings

import numpy as np

from dualdiff import _arrays, _core
from dualdiff._numpy import NOVALUE, axes, implements, ndim, no_out, refuse, ufunc_method
from dualdiff._numpy.manipulation import where as select_where
from dualdiff._numpy.reductions import (_dtype_ok, _reduce_axis, amax, amin, cumprod, cumsum,
                                       mean, prod, sum_, var)

_SQRT = _core.UNARY_INDEX["sqrt"]


def _nan_mask(a):
    """The NaN elements of a (None when there are none, numpy's _replace_nan)."""
    v = _arrays.value_of(a)
    if v is NotImplemented:
        v = _arrays.const(a)
    mask = np.isnan(np.asarray(v, dtype=np.float64))
    return mask if mask.any() else None


def _replaced(a, fill):
    mask = _nan_mask(a)
    return (a if mask is None else select_where(mask, fill, a)), mask


def _keep(keepdims):
    return False if keepdims is NOVALUE else keepdims


@implements(np.nansum)
def nansum(a, axis=None, dtype=None, out=None, keepdims=NOVALUE, initial=NOVALUE,
           where=NOVALUE):
    arr, _ = _replaced(a, 0.0)
    return sum_(arr, axis=axis, dtype=dtype, out=out, keepdims=_keep(keepdims),
                initial=initial, where=where)


@implements(np.nanprod)
def nanprod(a, axis=None, dtype=None, out=None, keepdims=NOVALUE, initial=NOVALUE,
            where=NOVALUE):
    arr, _ = _replaced(a, 1.0)
    return prod(arr, axis=axis, dtype=dtype, out=out, keepdims=_keep(keepdims),
                initial=initial, where=where)


@implements(np.nancumsum)
def nancumsum(a, axis=None, dtype=None, out=None):
    arr, _ = _replaced(a, 0.0)
    return cumsum(arr, axis=axis, dtype=dtype, out=out)


@implements(np.nancumprod)
def nancumprod(a, axis=None, dtype=None, out=None):
    arr, _ = _replaced(a, 1.0)
    return cumprod(arr, axis=axis, dtype=dtype, out=out)


def _valid_count(mask, axis, keepdims, where_):
    kw = {} if where_ is NOVALUE else {"where": _arrays.value_of(where_)}
    return np.sum(~mask, axis=axis, dtype=np.intp, keepdims=keepdims, **kw)


@implements(np.nanmean)
def nanmean(a, axis=None, dtype=None, out=None, keepdims=NOVALUE, *, where=NOVALUE):
    no_out(np.nanmean, out)
    arr, mask = _replaced(a, 0.0)
    if mask is None:
        return mean(arr, axis=axis, dtype=dtype, keepdims=_keep(keepdims), where=where)
    ax = axes(axis, ndim(a), np.nanmean)
    cnt = _valid_count(mask, ax, _keep(keepdims), where)
    tot = sum_(arr, axis=ax, dtype=dtype, keepdims=_keep(keepdims), where=where)
    with np.errstate(invalid="ignore", divide="ignore"):
        avg = tot / cnt
    if np.any(cnt == 0):
        warnings.warn("Mean of empty slice", RuntimeWarning, stacklevel=3)
        avg = select_where(cnt == 0, np.nan, avg)          # a constant NaN (no valid element)
    return avg


@implements(np.nanvar)
def nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=NOVALUE, *, where=NOVALUE,
           mean=NOVALUE, correction=NOVALUE):
    no_out(np.nanvar, out)
    refuse(np.nanvar, mean=mean)
    arr, mask = _replaced(a, 0.0)
    if mask is None:
        return var(arr, axis=axis, dtype=dtype, ddof=ddof, keepdims=_keep(keepdims),
                   where=where, correction=correction)
    if correction is not NOVALUE:
        if ddof != 0:
            raise ValueError("ddof and correction can't be provided simultaneously.")
        ddof = correction
    ax = axes(axis, ndim(a), np.nanvar)
    cnt = _valid_count(mask, ax, True, where)
    with np.errstate(invalid="ignore", divide="ignore"):
        avg = sum_(arr, axis=ax, dtype=dtype, keepdims=True, where=where) / cnt
        # deviations of the valid elements; the NaN ones contribute an exact 0
        dev = select_where(mask, 0.0, arr - avg)
        v = sum_(dev * dev, axis=ax, dtype=dtype, keepdims=_keep(keepdims), where=where)
        dof = cnt if _keep(keepdims) else np.squeeze(cnt, axis=ax)
        dof = dof - ddof
        v = v / dof
    bad = dof <= 0
    if np.any(bad):
        warnings.warn("Degrees of freedom <= 0 for slice.", RuntimeWarning, stacklevel=3)
        v = select_where(bad, np.nan, v)
    return v


@implements(np.nanstd)
def nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=NOVALUE, *, where=NOVALUE,
           mean=NOVALUE, correction=NOVALUE):
    no_out(np.nanstd, out)
    v = nanvar(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims, where=where,
               mean=mean, correction=correction)
    return _arrays.apply_unary(_SQRT, v)


def _nan_extreme(func, reduce_, fill, a, axis, out, keepdims, initial, where_, warn=True):
    """numpy's nanmax/nanmin (and fmax/fmin.reduce, which do not warn): NaN -> -inf (+inf),
    the reduction, all-NaN lanes -> NaN. The derivative is the chosen element's, never a NaN
    element's."""
    no_out(func, out)
    arr, mask = _replaced(a, fill)
    r = reduce_(arr, axis=axis, keepdims=_keep(keepdims), initial=initial, where=where_)
    if mask is None:
        return r
    kw = {} if where_ is NOVALUE else {"where": _arrays.value_of(where_)}
    empty = np.all(mask, axis=axis, keepdims=_keep(keepdims), **kw)
    if np.any(empty):
        if warn:
            warnings.warn("All-NaN slice encountered", RuntimeWarning, stacklevel=3)
        r = select_where(empty, np.nan, r)
    return r


for _u, _reduce, _fill in ((np.fmax, amax, -np.inf), (np.fmin, amin, np.inf)):
    def _handler(a, axis=NOVALUE, dtype=None, out=None, keepdims=False, initial=NOVALUE,
                 where=NOVALUE, _u=_u, _reduce=_reduce, _fill=_fill):
        _dtype_ok(_u, dtype)
        return _nan_extreme(_u, _reduce, _fill, a, _reduce_axis(axis), out, keepdims, initial,
                            where, warn=False)
    ufunc_method(_u, "reduce")(_handler)


@implements(np.nanmax)
def nanmax(a, axis=None, out=None, keepdims=NOVALUE, initial=NOVALUE, where=NOVALUE):
    return _nan_extreme(np.nanmax, amax, -np.inf, a, axis, out, keepdims, initial, where)


@implements(np.nanmin)
def nanmin(a, axis=None, out=None, keepdims=NOVALUE, initial=NOVALUE, where=NOVALUE):
    return _nan_extreme(np.nanmin, amin, np.inf, a, axis, out, keepdims, initial, where)
