"""Rules that depend on the order of values: max/min reductions and their ties.

Ties share the derivative equally among the tied elements (the symmetric subgradient, as JAX's
reduce_max). This is the reduction's counterpart of csrc/rules.h's DD_TIE_SHARED, which gives
1/2 to each argument of the binary maximum and minimum at a tie.
"""
import numpy as np

from dualdiff._jvp import plain


def extreme_jvp(primals, tangents, *, axis, keepdims, pick):
    """max (pick=np.max) or min (np.min) of x over `axis` (a tuple)."""
    (x,), (t,) = primals, tangents
    xv = plain(x)
    m = pick(xv, axis=axis, keepdims=True)
    # the elements that attain the extreme; a NaN wins (numpy propagates it), as in the
    # binary rules, so its tangent is the one that follows
    hit = (xv == m) | (np.isnan(xv) & np.isnan(m))
    w = hit / np.sum(hit, axis=axis, keepdims=True)
    shape = m.shape if keepdims else np.squeeze(m, axis=axis).shape
    mm = np.reshape(m, shape)
    if isinstance(x, np.ndarray):
        out = mm
    else:
        # a dual primal (second order): the value stays exactly m, the lower-order parts are
        # the tie-weighted sum, which np.where keeps clear of 0 * inf at the other elements.
        # At an infinite extreme x - m would be inf - inf = NaN in the value: there the sum
        # of w x itself is the (infinite) m, and m + m is still m
        mf = np.where(np.isfinite(m), m, 0.0)
        out = mm + np.sum(np.where(hit, w * (x - mf), 0.0), axis=axis, keepdims=keepdims)
    dirs = (1,) * (np.ndim(t) - xv.ndim)
    tw = np.sum(np.where(hit.reshape(hit.shape + dirs), w.reshape(w.shape + dirs) * t, 0.0),
                axis=axis, keepdims=keepdims)
    return out, tw
