"""The running extremes maximum/minimum/fmax/fmin.accumulate: output i is the extreme of the
elements 0..i along the axis, so its derivative is the tangent of the element that attains it.

Ties follow the max/min reductions (dualdiff/_jvp/ordering.py): the elements of the prefix
that attain the extreme share the derivative equally, so accumulate(x)[i] and max(x[:i+1])
have the same derivative. A NaN wins for maximum/minimum (numpy propagates it; its tangent
follows); fmax/fmin skip NaN elements unless every element so far is NaN.
"""
import numpy as np

from dualdiff._jvp import plain


def _same(a, b):
    """a == b with NaN equal to NaN: whether the running extreme stayed put."""
    return (a == b) | (np.isnan(a) & np.isnan(b))


def running_extreme_jvp(primals, tangents, *, axis, ufunc):
    (x,), (t,) = primals, tangents
    out = ufunc.accumulate(x, axis=axis)
    xv = plain(x)
    m = ufunc.accumulate(xv, axis=axis)
    # the elements equal to the extreme at their own position; the first of each run of equal
    # extremes (a "segment") is one of them: the extreme changed because it arrived
    hit = _same(xv, m)
    n = xv.shape[axis]
    if n == 0 or xv.size == 0:                 # nothing runs: the (empty) tangent as it is
        return out, t
    first = np.take(m, [0], axis=axis)
    prev = np.concatenate([first, np.take(m, np.arange(n - 1), axis=axis)], axis=axis)
    new = ~_same(m, prev)
    pos = np.arange(n).reshape((-1,) + (1,) * (xv.ndim - axis - 1))
    start = np.maximum.accumulate(np.where(new, pos, 0), axis=axis)
    count = np.cumsum(hit, axis=axis)
    count = count - np.take_along_axis(count, start, axis=axis) + 1
    dirs = (1,) * (np.ndim(t) - xv.ndim)
    s = start.reshape(start.shape + dirs)
    picked = np.take_along_axis(t, s, axis=axis)
    if np.all(count == 1):
        return out, picked
    # tied extremes: the mean of the tangents of the hits in the segment so far (a running
    # sum from the segment's start); elsewhere the exact gather above
    h = hit.reshape(hit.shape + dirs)
    run = np.cumsum(np.where(h, t, 0.0), axis=axis)
    seg = run - np.take_along_axis(run, s, axis=axis) + picked
    c = count.reshape(count.shape + dirs)
    return out, np.where(c == 1, picked, seg / c)
