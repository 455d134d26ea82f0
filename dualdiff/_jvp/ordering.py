"""Rules that depend on the order of values: max/min reductions and their ties.

Ties share the derivative equally among the tied elements (the symmetric subgradient, as JAX's
reduce_max). This is the reduction's counterpart of csrc/rules.h's DD_TIE_SHARED, which gives
1/2 to each argument of the binary maximum and minimum at a tie.
"""
import numpy as np

from dualdiff._jvp import plain


def _first(hit, axis):
    """The first hit of each reduced group (C order over the reduced axes): one element."""
    moved = np.moveaxis(hit, axis, tuple(range(-len(axis), 0)))
    flat = moved.reshape(moved.shape[:moved.ndim - len(axis)] + (-1,))
    first = flat & (np.cumsum(flat, axis=-1) == 1)
    return np.moveaxis(first.reshape(moved.shape), tuple(range(-len(axis), 0)), axis)


def _tie_mean(v, hit, w, first, axis, keepdims):
    """The w-weighted sum of v over the hits, exact when the tied v are equal (they often
    are: np.min(np.minimum.accumulate(x)) ties copies of one element). As the first hit's v
    plus the weighted differences: a sum of w v itself, w = 1/10, gives 0.9999999999999999 v
    for ten equal v. Where the first hit's v is not finite the differences would be inf - inf:
    there the plain weighted sum."""
    ref = np.sum(np.where(first & np.isfinite(plain(v)), v, 0.0), axis=axis, keepdims=True)
    d = np.sum(np.where(hit, w * (v - ref), 0.0), axis=axis, keepdims=True)
    r = ref + d
    return r if keepdims else np.squeeze(r, axis=axis)


def extreme_jvp(primals, tangents, *, axis, keepdims, pick):
    """max (pick=np.max) or min (np.min) of x over `axis` (a tuple)."""
    (x,), (t,) = primals, tangents
    xv = plain(x)
    m = pick(xv, axis=axis, keepdims=True)
    # the elements that attain the extreme; a NaN wins (numpy propagates it), as in the
    # binary rules, so its tangent is the one that follows
    hit = (xv == m) | (np.isnan(xv) & np.isnan(m))
    w = hit / np.sum(hit, axis=axis, keepdims=True)
    first = _first(hit, axis) if xv.size else hit
    shape = m.shape if keepdims else np.squeeze(m, axis=axis).shape
    mm = np.reshape(m, shape)
    if isinstance(x, np.ndarray):
        out = mm
    else:
        # a dual primal (second order): the value stays exactly m, the lower-order parts are
        # the tie mean, which np.where keeps clear of 0 * inf at the other elements. At an
        # infinite extreme x - m would be inf - inf = NaN in the value: there the sum of w x
        # itself is the (infinite) m, and m + m is still m
        mf = np.where(np.isfinite(m), m, 0.0)
        out = mm + _tie_mean(x - mf, hit, w, first, axis, keepdims)
    dirs = (1,) * (np.ndim(t) - xv.ndim)
    tw = _tie_mean(t, hit.reshape(hit.shape + dirs), w.reshape(w.shape + dirs),
                   first.reshape(first.shape + dirs), axis, keepdims)
    return out, tw
