"""Rules that depend on the order of values: max/min reductions and their ties.

Ties share the derivative equally among the tied elements (the symmetric subgradient, as JAX's
reduce_max). This is the reduction's counterpart of csrc/rules.h's DD_TIE_SHARED, which gives
1/2 to each argument of the binary maximum and minimum at a tie.
"""
import numpy as np

from dualdiff._jvp import plain


def _tie_mean(v, hit, count, axis, keepdims):
    """The mean of v over the hits: their sum, then one division by their number. Exact
    where one hit carries the derivative (a seeded direction: 1 + 0 + ... = 1, then 1/k
    correctly rounded) and where k copies of one tangent sum exactly (k t representable, as
    for seeded directions), whatever the order of the sum -- which depends on the number of
    directions (the chunk). A sum of w v with w = 1/k rounds every term: ten tied copies of
    one element gave 0.9999999999999999 of its derivative (fuzz seed 2020); the first tie
    plus mean differences rounds differently for each direction (seed 2222)."""
    return _sum_lanes(np.where(hit, v, 0.0), axis, keepdims) / count


def _sum_lanes(a, axis, keepdims):
    """np.sum over `axis` in an order that does not depend on the trailing direction axes.
    numpy sums pairwise only along a contiguous run: with k directions last the reduced
    axis is strided for k > 1 and contiguous for k = 1, so the chunk changed the rounding of
    a sum of unequal terms (fuzz seed 2222). A plain array is summed with the reduced axes
    moved last and made contiguous; a dual array's sums already go direction by direction
    in one order (_sums.pxi), but their values are numpy's sums: at second order the value
    of a tangent has the first level's directions last too, so it is moved the same way (the
    product by 1.0, exact, stores it contiguously)."""
    nd = np.ndim(a)
    red = tuple(ax % nd for ax in axis)
    last = tuple(range(nd - len(red), nd))
    moved = np.moveaxis(a, red, last)
    moved = np.ascontiguousarray(moved) if isinstance(a, np.ndarray) else moved * 1.0
    shape = np.shape(moved)
    # the reduced length spelled out: -1 cannot be resolved when another axis is empty
    lanes = int(np.prod(shape[nd - len(red):], dtype=np.int64))
    s = np.sum(np.reshape(moved, shape[:nd - len(red)] + (lanes,)), axis=-1)
    return np.expand_dims(s, red) if keepdims else s


def extreme_jvp(primals, tangents, *, axis, keepdims, pick):
    """max (pick=np.max) or min (np.min) of x over `axis` (a tuple)."""
    (x,), (t,) = primals, tangents
    xv = plain(x)
    m = pick(xv, axis=axis, keepdims=True)
    # the elements that attain the extreme; a NaN wins (numpy propagates it), as in the
    # binary rules, so its tangent is the one that follows
    hit = (xv == m) | (np.isnan(xv) & np.isnan(m))
    count = np.sum(hit, axis=axis, keepdims=True).astype(np.float64)
    shape = m.shape if keepdims else np.squeeze(m, axis=axis).shape
    mm = np.reshape(m, shape)
    cnt = np.reshape(count, shape)
    if isinstance(x, np.ndarray):
        out = mm
    else:
        # a dual primal (second order): the value stays exactly m, the lower-order parts are
        # the tie mean, which np.where keeps clear of 0 * inf at the other elements. At an
        # infinite extreme x - m would be inf - inf = NaN in the value: there the sum of x
        # itself is k m, and m + k m / k is still m
        mf = np.where(np.isfinite(m), m, 0.0)
        out = mm + _tie_mean(x - mf, hit, cnt, axis, keepdims)
    dirs = (1,) * (np.ndim(t) - xv.ndim)
    tw = _tie_mean(t, hit.reshape(hit.shape + dirs), cnt.reshape(cnt.shape + dirs), axis,
                   keepdims)
    return out, tw
