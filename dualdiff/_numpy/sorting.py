"""Order statistics on dual arrays: sort, partition, median, percentile, quantile, their
nan-ignoring forms, the running extremes maximum/minimum/fmax/fmin.accumulate, and unique.

Each result picks elements, or interpolates linearly between two of them, by the ORDER of the
values. The order is a decision taken on the plain values (a stable argsort) and is a constant
for the derivative; what remains is a gather (take_along_axis: a linear map, exact at every
order) followed by numpy's own interpolation arithmetic run on dual values. So the derivative
is the one of the piece of the piecewise-linear function the values are on, and the values
are numpy's bit for bit (the same operations in the same order).

Ties. sort and partition are stable for the derivative: among equal values the j-th output
of the run takes the tangent of the j-th equal element in index order. Every `kind` gives the
same sorted values, so kind only validates (numpy's errors); the tangents always follow the
stable order. A quantile between tied elements interpolates their tangents with numpy's
weights. The running extremes share the derivative equally among the tied elements that
attain the extreme so far, as np.max does (dualdiff/_jvp/ordering.py).

NaN. A lane holding a NaN has numpy's NaN result and the tangent of the NaN element that numpy
returns (NaN sorts last), as np.max propagates a NaN's tangent; the nan-functions ignore NaN
elements (their tangents never reach the result) and give a constant NaN (derivative 0) on a
lane with no valid element, with numpy's warning.
"""
import numpy as np

from dualdiff import _arrays
from dualdiff._jvp import apply
from dualdiff._jvp.running import running_extreme_jvp
from dualdiff._numpy import (NOVALUE, axes, axis1, implements, ndim, no_out, qualname, refuse,
                             shape, ufunc_method)
from dualdiff._numpy.manipulation import ravel, reshape, take, take_along_axis, transpose, where


def _values(a):
    """The plain float values of a (dual or not) as an array."""
    v = _arrays.value_of(a)
    if v is NotImplemented:
        v = _arrays.const(a)
    return np.asarray(v, dtype=np.float64)


def _check_kind(func, kind, stable):
    # numpy's own validation of kind/stable (its errors, word for word)
    func(np.zeros(1), kind=kind, **({} if stable is None else {"stable": stable}))


# ---- sort and partition ---------------------------------------------------------------------

@implements(np.sort)
def sort(a, axis=-1, kind=None, order=None, *, stable=None):
    refuse(np.sort, order=order)
    _check_kind(np.sort, kind, stable)
    if axis is None:
        a, axis = ravel(a), 0
    ax = axis1(axis, ndim(a))
    return take_along_axis(a, np.argsort(_values(a), axis=ax, kind="stable"), ax)


def _matching(v, p, ax):
    """Indices idx with take_along_axis(v, idx, ax) == p, for p a rearrangement of v along ax.
    Equal values are matched in order (the j-th of a run of equal values in p takes the j-th
    equal element of v in index order), so the k-th entry of a partition gets the tangent the
    stable sort gives its k-th entry."""
    ov = np.argsort(v, axis=ax, kind="stable")
    op = np.argsort(p, axis=ax, kind="stable")
    idx = np.empty_like(ov)
    np.put_along_axis(idx, op, ov, axis=ax)
    return idx


@implements(np.partition)
def partition(a, kth, axis=-1, kind="introselect", order=None):
    """numpy's arrangement exactly (its introselect output), each element with the tangent of
    the element it came from."""
    refuse(np.partition, order=order)
    if axis is None:
        a, axis = ravel(a), 0
    ax = axis1(axis, ndim(a))
    v = _values(a)
    if _arrays.lift(kth) is not None:
        raise TypeError("numpy.partition: kth must be integers, not dual values")
    p = np.partition(v, kth, axis=ax, kind=kind)
    return take_along_axis(a, _matching(v, p, ax), ax)


# ---- lanes: the reduced axes of a reduction gathered into one leading axis -----------------

def _lanes(a, axis, func):
    """(x, reduced): x holds a's elements with the reduced axes merged into a leading one,
    shape (n,) + the kept axes (numpy's layout for quantiles); `reduced` the reduced axes."""
    nd = ndim(a)
    red = axes(axis, nd, func)
    keep = tuple(i for i in range(nd) if i not in red)
    shp = shape(a)
    x = transpose(a, red + keep) if nd > 1 else a
    return reshape(x, (-1,) + tuple(shp[i] for i in keep)), red


def _sorted(x):
    """x (lanes along axis 0) sorted along axis 0, NaN last, and its plain values."""
    v = _values(x)
    order = np.argsort(v, axis=0, kind="stable")
    return take_along_axis(x, order, 0), np.take_along_axis(v, order, 0)


def _out_shape(a, red, qshape, keepdims):
    shp = shape(a)
    kept = tuple(1 if i in red else shp[i] for i in range(len(shp))) if keepdims else \
        tuple(shp[i] for i in range(len(shp)) if i not in red)
    return tuple(qshape) + kept


def _nan_lanes(result, s, sv, mask):
    """Lanes flagged in `mask` take the last sorted element (a NaN) and its tangent."""
    if not np.any(mask):
        return result
    return where(mask, s[-1], result)


# ---- median -------------------------------------------------------------------------------

@implements(np.median)
def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """numpy's median: the middle element, or the mean (a + b) / 2 of the middle two."""
    no_out(np.median, out)
    want = np.median(_values(a), axis=axis, keepdims=keepdims)     # numpy's errors, warnings
    x, red = _lanes(a, axis, np.median)
    n = shape(x)[0]
    if n == 0:
        return want
    s, sv = _sorted(x)
    h = n // 2
    m = s[h] if n % 2 else (s[h - 1] + s[h]) / 2.0
    m = _nan_lanes(m, s, sv, np.isnan(sv[-1]))
    return reshape(m, np.shape(want))


@implements(np.nanmedian)
def nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=NOVALUE):
    """The median of the non-NaN elements of each lane (NaN, derivative 0, if there are none)."""
    no_out(np.nanmedian, out)
    keep = False if keepdims is NOVALUE else keepdims
    want = np.nanmedian(_values(a), axis=axis, keepdims=keep)
    x, red = _lanes(a, axis, np.nanmedian)
    if shape(x)[0] == 0:
        return want
    s, sv = _sorted(x)
    cnt = np.sum(~np.isnan(sv), axis=0)
    # each lane's middle pair among its cnt valid (sorted-first) elements; odd counts pick
    # the same element twice
    lo = np.maximum((cnt - 1) // 2, 0)
    hi = np.maximum(cnt // 2, 0)
    a_lo = take_along_axis(s, lo[None], 0)[0]
    a_hi = take_along_axis(s, hi[None], 0)[0]
    m = where(cnt % 2 == 1, a_lo, (a_lo + a_hi) / 2.0)
    if np.any(cnt == 0):
        m = where(cnt == 0, np.nan, m)                     # a constant NaN (no valid element)
    return reshape(m, np.shape(want))


# ---- quantiles ----------------------------------------------------------------------------
# The methods of numpy's quantile (Hyndman & Fan 1996 and numpy's own), each as numpy writes
# them: a virtual index into the sorted lane and, for the continuous ones, the interpolation
# weight gamma. `n` is the lane length (an array for the nan-functions), `q` in [0, 1]
# (possibly dual: the continuous methods are differentiable in q too).

def _hf_index(n, q, alpha, beta):
    return n * q + (alpha + q * (1 - alpha - beta)) - 1


def _gamma_mask(shape_, default, conditioned, where_):
    g = np.full(shape_, default, dtype=np.float64)
    g[where_] = conditioned
    return g


def _discrete(index, condition):
    """numpy's _discrete_interpolation_to_boundaries: previous or next integer index."""
    previous = np.floor(index)
    gamma = index - previous
    res = np.where(condition(gamma, index), previous, previous + 1).astype(np.intp)
    res[res < 0] = 0
    return res


_CONTINUOUS = {          # method -> (virtual index(n, q), fix of gamma(gamma, plain index))
    "linear": (lambda n, q: (n - 1) * q, None),
    "interpolated_inverted_cdf": (lambda n, q: _hf_index(n, q, 0, 1), None),
    "hazen": (lambda n, q: _hf_index(n, q, 0.5, 0.5), None),
    "weibull": (lambda n, q: _hf_index(n, q, 0, 0), None),
    "median_unbiased": (lambda n, q: _hf_index(n, q, 1 / 3.0, 1 / 3.0), None),
    "normal_unbiased": (lambda n, q: _hf_index(n, q, 3 / 8.0, 3 / 8.0), None),
    "averaged_inverted_cdf": (lambda n, q: (n * q) - 1,
                              lambda g, i: _gamma_mask(np.shape(g), 1.0, 0.5, g == 0)),
    "midpoint": (lambda n, q: 0.5 * (np.floor((n - 1) * q) + np.ceil((n - 1) * q)),
                 lambda g, i: _gamma_mask(np.shape(g), 0.5, 0.0, i % 1 == 0)),
}

_DISCRETE = {            # method -> integer index(n, q) on plain values
    "inverted_cdf": lambda n, q: _discrete((n * q) - 1, lambda g, i: g == 0),
    "closest_observation": lambda n, q: _discrete(
        (n * q) - 1 - 0.5, lambda g, i: (g == 0) & (np.floor(i) % 2 == 1)),
    "lower": lambda n, q: np.floor((n - 1) * q).astype(np.intp),
    "higher": lambda n, q: np.ceil((n - 1) * q).astype(np.intp),
    "nearest": lambda n, q: np.around((n - 1) * q).astype(np.intp),
}


def _lerp(a, b, t, tv):
    """numpy's _lerp: a + (b - a) t, computed from b's end where t >= 1/2 (its rounding)."""
    diff = b - a
    return where(tv >= 0.5, b - diff * (1 - t), a + diff * t)


def _gather(s, idx, n):
    """s[idx] along axis 0 for an index array of shape (m,) + lane shape; -1 means the lane's
    last valid element (index n - 1)."""
    idx = np.where(idx < 0, np.asarray(n) - 1, idx)
    return take_along_axis(s, np.maximum(idx, 0), 0)


def _quantiles(s, n, q, qv, method):
    """Quantiles of the sorted lanes s (shape (len,) + L) with n valid elements each, at
    quantile levels q (flat, shape (m,) + (1,) * len(L)); qv are q's plain values."""
    lane = shape(s)[1:]
    full = (qv.shape[0],) + tuple(lane)
    if method in _DISCRETE:
        idx = np.broadcast_to(_DISCRETE[method](n, qv), full)
        return _gather(s, np.minimum(idx, np.asarray(n) - 1), n)
    if method not in _CONTINUOUS:
        raise ValueError(f"{method!r} is not a valid method. Use one of: "
                         f"{sorted(_CONTINUOUS) + sorted(_DISCRETE)}")
    index, fix = _CONTINUOUS[method]
    if method == "linear" and qv.dtype.kind in "iub":
        # integer q (0 or 1): numpy takes the element without interpolating
        return _gather(s, np.broadcast_to((n - 1) * qv, full).astype(np.intp), n)
    vi = index(n, q)                                       # dual when q is
    vv = np.broadcast_to(index(n, qv).astype(np.float64), full)
    # numpy's _get_indexes: the neighbours of the virtual index, clamped to the lane
    prev = np.floor(vv)
    nxt = prev + 1
    above = vv >= np.asarray(n) - 1
    prev[above] = nxt[above] = -1
    below = vv < 0
    prev[below] = nxt[below] = 0
    bad = np.isnan(vv)
    prev[bad] = nxt[bad] = -1
    prev, nxt = prev.astype(np.intp), nxt.astype(np.intp)
    gamma = vi - prev                                       # numpy's, -1 included
    gv = vv - prev
    if fix is not None:
        gamma = gv = fix(gv, vv)
    return _lerp(_gather(s, prev, n), _gather(s, nxt, n), gamma, gv)


def _weighted(s, sv, n, w, qv):
    """inverted_cdf with weights (numpy's only weighted method): per lane, the first sorted
    element whose cumulative weight reaches q of the total. An index, so the derivative in
    the weights is 0 and in the data a gather."""
    lane = sv.shape[1:]
    idx = np.zeros((qv.shape[0],) + lane, dtype=np.intp)
    nn = np.broadcast_to(n, lane)
    for kk in np.ndindex(lane):
        cnt = int(nn[kk])
        if cnt == 0:
            continue
        cdf = np.cumsum(w[(slice(0, cnt),) + kk], dtype=np.float64)
        cdf /= cdf[-1]
        if cdf[0] == 0:
            cdf[cdf == 0] = -1
        i = np.searchsorted(cdf, qv[(slice(None),) + (0,) * len(lane)], side="left")
        idx[(slice(None),) + kk] = np.minimum(i, cnt - 1)
    return _gather(s, idx, n)


def _plain_levels(q):
    """The plain values of the levels q, keeping numpy's dtype (integer levels matter)."""
    if isinstance(q, (list, tuple)):
        qv = np.asarray(q)
        if qv.dtype == object:
            raise TypeError("quantile levels given as a list holding dual values: pass them "
                            "as one array (np.stack([...]))")
        return qv
    v = _arrays.value_of(q)
    if v is NotImplemented:
        raise TypeError(f"quantile levels must be numbers, not {type(q).__name__}")
    return np.asarray(v)


def _quantile(func, a, q, axis, method, keepdims, weights, ignore_nan, scale):
    qv = _plain_levels(q)
    kw = {"axis": axis, "method": method, "keepdims": keepdims}
    if weights is not None:
        kw["weights"] = _values(weights)
    want = func(_values(a), qv, **kw)                      # numpy's errors and warnings
    if scale != 1:
        q, qv = np.true_divide(q, scale), np.true_divide(qv, scale)
    x, red = _lanes(a, axis, func)
    if shape(x)[0] == 0 or np.size(want) == 0:
        return want
    s, sv = _sorted(x)
    lane = sv.shape[1:]
    m = int(np.size(qv))
    qflat = reshape(q, (m,) + (1,) * len(lane))
    qvf = qv.reshape((m,) + (1,) * len(lane))
    if ignore_nan:
        n = np.sum(~np.isnan(sv), axis=0)
        empty = n == 0
    else:
        n = sv.shape[0]
        empty = np.isnan(sv[-1])
    if weights is not None:
        wv = _values(weights)
        if wv.shape == _values(a).shape:
            wl, _ = _lanes(wv, axis, func)
        else:                       # 1-d weights along the one reduced axis
            wl = wv.reshape((-1,) + (1,) * len(lane))
        order = np.argsort(_values(x), axis=0, kind="stable")
        r = _weighted(s, sv, n, np.take_along_axis(np.broadcast_to(wl, sv.shape), order, 0), qvf)
    else:
        r = _quantiles(s, n, qflat, qvf, method)
    empty = np.broadcast_to(empty, np.shape(_values(r)))
    if ignore_nan:
        if np.any(empty):
            r = where(empty, np.nan, r)                    # a constant NaN (no valid element)
    else:
        r = _nan_lanes(r, s, sv, empty)
    return reshape(r, _out_shape(a, red, qv.shape, keepdims))


def _quantile_handler(func, ignore_nan, scale):
    def handler(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                keepdims=False, *, weights=None, **kw):
        refuse(func, **kw)
        no_out(func, out)
        keep = False if keepdims is NOVALUE else keepdims
        return _quantile(func, a, q, axis, method, keep, weights, ignore_nan, scale)
    handler.__name__ = func.__name__
    handler.__doc__ = (f"{qualname(func)} on dual values (data, and levels q for the "
                       "interpolating methods); overwrite_input has no effect (nothing is "
                       "modified).")
    return implements(func)(handler)


quantile = _quantile_handler(np.quantile, False, 1)
percentile = _quantile_handler(np.percentile, False, 100)
nanquantile = _quantile_handler(np.nanquantile, True, 1)
nanpercentile = _quantile_handler(np.nanpercentile, True, 100)


# ---- running extremes: ufunc.accumulate of maximum, minimum, fmax, fmin ------------------------

def _running(ufunc):
    def handler(array, axis=0, dtype=None, out=None):
        no_out(ufunc, out)
        if dtype is not None and np.dtype(dtype) != np.float64:
            raise TypeError(f"{qualname(ufunc)}.accumulate(..., dtype={dtype!r}) is not "
                            "supported on dual values (they are float64); drop the keyword")
        if ndim(array) == 0:
            raise TypeError(f"{qualname(ufunc)}.accumulate: cannot accumulate on a scalar")
        ax = axis1(0 if axis is None else axis, ndim(array))
        r = apply(running_extreme_jvp, (array,), {"axis": ax, "ufunc": ufunc})
        return ufunc.accumulate(_values(array), axis=ax) if r is None else r
    return ufunc_method(ufunc, "accumulate")(handler)


for _u in (np.maximum, np.minimum, np.fmax, np.fmin):
    _running(_u)


# ---- unique values ----------------------------------------------------------------------------
# Each distinct value takes the tangent of its first occurrence (numpy's return_index), the
# stable choice among equal elements, as in sort.

def _first_occurrences(flat, found):
    """The index in `flat` of the first element equal to each value of `found` (NaN: the
    first NaN)."""
    order = np.argsort(flat, kind="stable")
    pos = np.searchsorted(flat[order], found, side="left")
    return order[np.minimum(pos, max(flat.size - 1, 0))]


@implements(np.unique)
def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None, *,
           equal_nan=True, sorted=True):
    v = _values(ar)
    kw = {} if sorted is True else {"sorted": sorted}         # numpy >= 2.3 has `sorted`
    res = np.unique(v, True, return_inverse, return_counts, axis=axis, equal_nan=equal_nan,
                    **kw)
    idx = res[1]
    vals = take(ravel(ar), idx) if axis is None else take(ar, idx, axis=axis)
    out = [vals] + ([idx] if return_index else []) + list(res[2:])
    return out[0] if len(out) == 1 else tuple(out)


def _unique_result(func, x):
    v = _values(x)
    res = func(v)
    values = res if isinstance(res, np.ndarray) else res.values
    picked = take(ravel(x), _first_occurrences(v.ravel(), values))
    return picked if isinstance(res, np.ndarray) else res._replace(values=picked)


for _f in (getattr(np, n, None) for n in ("unique_values", "unique_counts", "unique_inverse",
                                          "unique_all")):
    if _f is not None:
        implements(_f)(lambda x, _f=_f: _unique_result(_f, x))
