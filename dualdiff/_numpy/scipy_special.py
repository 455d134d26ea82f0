"""scipy.special's plain-Python functions rebuilt on dual values: logsumexp, softmax and
log_softmax (exported as dd.logsumexp, dd.softmax, dd.log_softmax), and the hook that brings
in the scipy.special derivative table (dualdiff/_jvp/special.py) on first use.

scipy's own logsumexp/softmax convert their input with np.asarray, which cannot carry a
derivative (scipy's array-API dispatch is off unless SCIPY_ARRAY_API=1 is set before scipy is
imported, and even then it needs writable arrays); these are the same algorithms in numpy
operations on dual values, equal to scipy's bit for bit on plain arrays. Each shifts by the
maximum for stability; the maximum's own derivative cancels exactly (the result does not
depend on the shift), so it is taken from the plain values as a constant.
"""
import sys

import numpy as np

from dualdiff._jvp import special as _special_rules
from dualdiff._numpy import UFUNCS


def scipy_ufunc(ufunc):
    """The handler of a scipy.special ufunc, registering the table on first use; None if the
    ufunc is not scipy's or has no rule."""
    mod = sys.modules.get("scipy.special")
    if mod is None or not _special_rules.register():
        return None
    return UFUNCS.get(ufunc)



def _is_dual_array(x):
    return isinstance(getattr(x, "value", None), np.ndarray) and hasattr(x, "order")


def _is_dual_scalar(x):
    return hasattr(x, "real") and (hasattr(x, "eps") or hasattr(x, "eps1")) and \
        not isinstance(x, np.ndarray)


def _plain(x):
    """The float64 values of x: of a dual array, a dual scalar, an object array of dual
    scalars (loop-style code), or x itself as a float array."""
    if _is_dual_array(x):
        return x.value
    if _is_dual_scalar(x):
        return np.asarray(x.real, dtype=float)
    a = np.asarray(x)
    if a.dtype == object:
        return np.vectorize(lambda e: getattr(e, "real", e), otypes=[float])(a)
    if a.dtype.kind == "c":
        raise TypeError("dualdiff's logsumexp/softmax/log_softmax take real input; call "
                        "scipy.special's own function for complex arrays")
    return a.astype(float)


def _operand(x):
    """x ready for numpy operations: dual values as they are (their tangents ride along),
    anything else as a float array."""
    if _is_dual_array(x) or _is_dual_scalar(x):
        return x
    a = np.asarray(x)
    return a if a.dtype == object else _plain(a)


def softmax(x, axis=None):
    """scipy.special.softmax, differentiable: exp(x - max) / sum(exp(x - max))."""
    x = _operand(x)
    e = np.exp(x - np.max(_plain(x), axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(x, axis=None):
    """scipy.special.log_softmax, differentiable: (x - max) - log(sum(exp(x - max)))."""
    x = _operand(x)
    x_max = np.max(_plain(x), axis=axis, keepdims=True)
    x_max = np.where(np.isfinite(x_max), x_max, 0.0)
    tmp = x - x_max
    with np.errstate(divide="ignore"):
        return tmp - np.log(np.sum(np.exp(tmp), axis=axis, keepdims=True))


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    """scipy.special.logsumexp, differentiable in a and b, same signature and values.

    scipy's algorithm (1.15+): s = sum over the non-maximal terms of b exp(a - max), then
    log1p(s/m) + log(m) + max with m the sum of b over the maximal terms, which keeps the
    precision of log1p when one term dominates. Here the maximal terms enter s as
    b expm1(a - max): the value is 0, as in scipy, but the tangent of a at the maximum
    is kept (scipy drops those terms, and a constant m would lose their derivative)."""
    a = _operand(a)
    b = None if b is None else _operand(b)
    if b is not None:
        shape = np.broadcast_shapes(np.shape(_plain(a)), np.shape(_plain(b)))
        a, b = np.broadcast_to(a, shape), np.broadcast_to(b, shape)
    if np.ndim(_plain(a)) == 0:
        a = np.reshape(a, (1,))
        b = None if b is None else np.reshape(b, (1,))
    av = _plain(a)
    axis = tuple(range(av.ndim)) if axis is None else axis
    if av.size == 0:
        shape = np.asarray(av.shape)
        shape[np.asarray(axis)] = 1
        out = np.full(tuple(shape), -np.inf)
        sgn = np.sign(out)
    else:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            out, sgn = _logsumexp(a, b, axis, return_sign)
    if not keepdims:
        out = np.squeeze(out, axis=axis)
        sgn = np.squeeze(sgn, axis=axis)
    if np.ndim(_plain(out)) == 0:
        out, sgn = out[()], sgn[()]
    return (out, sgn) if return_sign else out


def _logsumexp(a, b, axis, return_sign):
    bv = None if b is None else _plain(b)
    # the direct form, for results that are infinite anyway (C99 log/exp edge cases)
    direct = np.sum(np.exp(a) if b is None else b * np.exp(a), axis=axis, keepdims=True)
    sgn_inf = np.sign(_plain(direct))
    out_inf = np.log(np.abs(direct) if return_sign else direct)
    if b is not None:                        # weight 0 masks even an infinite or nan a
        a = np.where(bv == 0, -np.inf, a)
    av = _plain(a)
    a_max = np.max(av, axis=axis, keepdims=True)
    top = av == a_max
    shifted = a - a_max
    terms = np.where(top, np.expm1(shifted), np.exp(shifted))
    if b is not None:
        terms = b * terms
    m = np.sum(top.astype(float) if b is None else np.where(top, b, 0.0), axis=axis,
               keepdims=True)
    s = np.sum(terms, axis=axis, keepdims=True)
    s = np.where(_plain(s) == 0, s, s / m)
    sgn = np.sign(_plain(s) + 1.0) * np.sign(_plain(m))
    s = np.where(_plain(s) < -1.0, -s - 2.0, s)
    out = np.log1p(s) + np.log(np.abs(m)) + a_max
    if not return_sign:
        out = np.where(sgn < 0, np.nan, out)
    finite = np.isfinite(_plain(out))
    return np.where(finite, out, out_inf), np.where(finite, sgn, sgn_inf)


_POLYGAMMA = []


def polygamma(n, x):
    """scipy.special.polygamma(n, x), differentiable in x: scipy's values, and the
    derivatives psi^(n+1)(x), psi^(n+2)(x) of the rule table (dualdiff/_jvp/special.py).
    The order n is a constant (an int or an array of them); a dual n raises.

    scipy's own polygamma is a Python function that converts x with np.asarray, which would
    drop the derivative, so it is wrapped here like a vectorised callable of two arguments."""
    if not _POLYGAMMA:
        try:
            import scipy.special as sc
        except ImportError:
            raise ImportError("dd.polygamma computes its values with scipy.special, which is "
                              "not installed: pip install scipy") from None
        from dualdiff._jvp.elementwise import ElementwiseRule
        _, d1, d2 = _special_rules.named_rules()["polygamma"]
        # a rule of its own, not registered: scipy's polygamma never dispatches to dualdiff
        _POLYGAMMA.append(ElementwiseRule(sc.polygamma, d1, d2, 2, "dd.polygamma"))
    from dualdiff.custom import call_rule
    return call_rule(_POLYGAMMA[0], (n, x))
