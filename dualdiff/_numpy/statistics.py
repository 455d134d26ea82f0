"""numpy's statistics on dual arrays: average (weights, returned), cov, corrcoef, ptp,
bincount's weighted counts and histogram.

Each is numpy's recipe run on dual values -- the same operations in the same order, so values
agree with numpy's (bit for bit, except that dot products go through BLAS: to rounding) --
and is differentiable in the data and in the analytic weights (average's weights, cov's
aweights). Frequency weights (cov's fweights) and bincount's bins are counts: constants.
"""
import warnings

import numpy as np

from dualdiff import _arrays
from dualdiff._numpy import NOVALUE, axes, implements, ndim, qualname, shape
from dualdiff._numpy.construction import linspace
from dualdiff._numpy.manipulation import concatenate, diag, reshape, transpose
from dualdiff._numpy.reductions import amax, amin, clip, mean, sum_


def _values(x):
    v = _arrays.value_of(x)
    return np.asarray(_arrays.const(x) if v is NotImplemented else v, dtype=np.float64)


def _constant(x, func, what):
    if _arrays.lift(x) is not None:
        raise TypeError(f"{qualname(func)}: {what} must be constants (counts), not dual "
                        "values")
    return x


# ---- average ----------------------------------------------------------------------------

def _weights_are_valid(weights, a, axis):
    """numpy's checks and broadcasting of average's weights along `axis`."""
    if shape(a) != shape(weights):
        if axis is None:
            raise TypeError("Axis must be specified when shapes of a and weights differ.")
        if shape(weights) != tuple(shape(a)[ax] for ax in axis):
            raise ValueError("Shape of weights must be consistent with shape of a along "
                             "specified axis.")
        weights = transpose(weights, tuple(int(i) for i in np.argsort(axis)))
        weights = reshape(weights, tuple(s if ax in axis else 1
                                         for ax, s in enumerate(shape(a))))
    return weights


@implements(np.average)
def average(a, axis=None, weights=None, returned=False, *, keepdims=NOVALUE):
    if axis is not None:
        axis = axes(axis, ndim(a), np.average)
    kd = {} if keepdims is NOVALUE else {"keepdims": keepdims}
    if weights is None:
        avg = mean(a, axis, **kd)
        scl = np.float64(int(np.prod(shape(a))) / int(np.prod(shape(avg))))
    else:
        wgt = _weights_are_valid(weights, a, axis)
        scl = sum_(wgt, axis=axis, **kd)
        if np.any(_values(scl) == 0.0):
            raise ZeroDivisionError("Weights sum to zero, can't be normalized")
        avg = sum_(np.multiply(a, wgt), axis=axis, **kd) / scl
    if returned:
        if shape(scl) != shape(avg):
            scl = np.broadcast_to(scl, shape(avg))
        return avg, scl
    return avg


# ---- cov, corrcoef ----------------------------------------------------------------------

def _rows(m, rowvar, second):
    """array(m, ndmin=2), transposed when the variables are columns (numpy's two tests: a
    1-d m is one variable; a y with one row is one observation per variable)."""
    nd = ndim(m)
    X = reshape(m, (1,) * (2 - nd) + shape(m)) if nd < 2 else m
    if not rowvar and (shape(X)[0] != 1 if second else nd != 1):
        X = transpose(X)
    return X


@implements(np.cov)
def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *,
        dtype=None):
    if dtype not in (None, float, np.float64, "float64", "f8", "d"):
        raise TypeError(f"numpy.cov(..., dtype={dtype!r}) is not supported on dual values "
                        "(they are float64); drop the keyword")
    if ddof is not None and ddof != int(ddof):
        raise ValueError("ddof must be integer")
    if ndim(m) > 2:
        raise ValueError("m has more than 2 dimensions")
    if y is not None and ndim(y) > 2:
        raise ValueError("y has more than 2 dimensions")
    X = _rows(m, rowvar, False)
    if shape(X)[0] == 0:
        return np.array([]).reshape(0, 0)
    if y is not None:
        X = concatenate((X, _rows(y, rowvar, True)), axis=0)
    if ddof is None:
        ddof = 1 if bias == 0 else 0
    n = shape(X)[1]
    w = None
    if fweights is not None:
        fw = np.asarray(_constant(fweights, np.cov, "fweights"), dtype=float)
        if not np.all(fw == np.around(fw)):
            raise TypeError("fweights must be integer")
        if fw.ndim > 1:
            raise RuntimeError("cannot handle multidimensional fweights")
        if fw.shape[0] != n:
            raise RuntimeError("incompatible numbers of samples and fweights")
        if any(fw < 0):
            raise ValueError("fweights cannot be negative")
        w = fw
    if aweights is not None:
        awv = _values(aweights)
        if awv.ndim > 1:
            raise RuntimeError("cannot handle multidimensional aweights")
        if awv.shape[0] != n:
            raise RuntimeError("incompatible numbers of samples and aweights")
        if any(awv < 0):
            raise ValueError("aweights cannot be negative")
        if not isinstance(aweights, _arrays.DualArray) and _arrays.lift(aweights) is None:
            aweights = awv
        w = aweights if w is None else w * aweights
    avg, w_sum = average(X, axis=1, weights=w, returned=True)
    w_sum = w_sum[0]
    if w is None:
        fact = n - ddof
    elif ddof == 0:
        fact = w_sum
    elif aweights is None:
        fact = w_sum - ddof
    else:
        fact = w_sum - ddof * sum_(w * aweights) / w_sum
    if _values(fact) <= 0:
        warnings.warn("Degrees of freedom <= 0 for slice", RuntimeWarning, stacklevel=3)
        fact = 0.0
    X = X - avg[:, None]
    X_T = transpose(X) if w is None else transpose(X * w)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.dot(X, X_T) * np.true_divide(1, fact)
    return np.squeeze(c)


@implements(np.corrcoef)
def corrcoef(x, y=None, rowvar=True, *, dtype=None):
    c = cov(x, y, rowvar, dtype=dtype)
    if ndim(c) != 2:
        return c / c                      # numpy: a scalar covariance gives 1 (or nan)
    stddev = np.sqrt(diag(c))
    c = c / stddev[:, None]
    c = c / stddev[None, :]
    return clip(c, -1, 1)


# ---- ptp, bincount ----------------------------------------------------------------------

@implements(np.ptp)
def ptp(a, axis=None, out=None, keepdims=NOVALUE):
    kd = False if keepdims is NOVALUE else keepdims
    return amax(a, axis=axis, out=out, keepdims=kd) - amin(a, axis=axis, keepdims=kd)


@implements(np.bincount)
def bincount(x, weights=None, minlength=0):
    """Sums of the weights per bin: linear in the weights (each tangent direction is binned
    the same way); the bins x are integers."""
    if _arrays.lift(x) is not None or isinstance(x, _arrays.DualArray):
        raise TypeError("numpy.bincount: x must be non-negative integers, not dual values")
    xv = np.asarray(x)
    if weights is None:
        return np.bincount(xv, minlength=minlength)

    def fn(arr, nd):
        if nd == 0:
            return np.bincount(xv, weights=arr, minlength=minlength)
        flat = arr.reshape(arr.shape[:1] + (-1,))
        out = np.stack([np.bincount(xv, weights=flat[:, j], minlength=minlength)
                        for j in range(flat.shape[1])], axis=-1)
        return out.reshape(out.shape[:1] + arr.shape[1:])
    return _arrays.linear(weights, fn)


# ---- histogram --------------------------------------------------------------------------

@implements(np.histogram)
def histogram(a, bins=10, range=None, density=None, weights=None):
    """numpy's histogram of dual data or weights. Which bin an element falls in is piecewise
    constant (numpy assigns the bins; no derivative), so: the counts are numpy's integers;
    with dual weights, the sums of the weights per bin (numpy's values, tangents binned the
    same way); the edges numpy places (bins a number or an estimator's name) are
    linspace(min(a), max(a)) or linspace(*range) as numpy computes them, differentiable in
    the data's extremes or in a dual range; edges given as bins are returned as given (dual
    ones too). density divides by the bin widths and the total, as numpy does."""
    av, wv = _values(a).reshape(-1), None if weights is None else _values(weights)
    if wv is not None:
        if wv.shape != np.shape(_values(a)):
            raise ValueError("weights should have the same shape as a.")
        wv = wv.reshape(-1)
    placed = isinstance(bins, str) or np.ndim(bins) == 0   # a number of bins, an estimator
    if range is not None:
        lo, hi = range
        if not placed and (_arrays.lift(lo) is not None or _arrays.lift(hi) is not None):
            raise TypeError("numpy.histogram: range is not used when bins are the edges, so "
                            "its derivative would be lost: drop range")
        range = (_values(lo)[()], _values(hi)[()])
    counts, edges_v = np.histogram(av, bins=_values(bins) if not placed else bins,
                                   range=range, weights=wv)
    edges = edges_v if placed or _arrays.lift(bins) is None else bins
    if placed and range is not None and (_arrays.lift(lo) is not None or
                                         _arrays.lift(hi) is not None):
        edges = linspace(lo, hi, edges_v.size)
    elif placed and range is None and _arrays.lift(a) is not None and av.size:
        first, last = amin(a), amax(a)
        if _arrays.value_of(first) == _arrays.value_of(last):
            first, last = first - 0.5, last + 0.5
        edges = linspace(first, last, edges_v.size)
    if weights is not None and _arrays.lift(weights) is not None:
        # numpy's own bin of each element, the last edge inside the last bin
        nb = edges_v.size - 1
        at = np.searchsorted(edges_v, av, side="right") - 1
        at[av == edges_v[-1]] = nb - 1
        keep = (av >= edges_v[0]) & (av <= edges_v[-1])

        def binned(arr, nd):
            if nd == 0:
                return counts
            flat = arr.reshape((av.size, -1))[keep]
            out = np.stack([np.bincount(at[keep], weights=flat[:, j], minlength=nb)
                            for j in np.arange(flat.shape[1])], axis=-1)
            return out.reshape((nb,) + arr.shape[arr.ndim - nd:])
        counts = _arrays.linear(weights, binned)
    if density:
        db = np.diff(edges)
        return counts / db / sum_(counts), edges
    return counts, edges
