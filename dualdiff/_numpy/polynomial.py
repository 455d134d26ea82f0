"""numpy's polynomial helpers on dual coefficients and points: polyval, polyadd, polysub,
polymul, polyder, polyint, poly (from roots), vander, polyfit, and roots (real ones).

Each is numpy's own recipe -- Horner's rule, padded sums, convolution, repeated products --
run on dual values, so values are numpy's bit for bit and every argument that numpy treats
as numbers is differentiable (coefficients, points, roots, integration constants). poly1d
objects are numpy's own class and are not handled here.
"""
import operator
import warnings

import numpy as np

from dualdiff import _arrays
from dualdiff._numpy import implements, ndim, shape
from dualdiff._numpy.manipulation import atleast_1d, concatenate, reshape, stack
from dualdiff._numpy.reductions import cumprod


def _no_poly1d(*args):
    for a in args:
        if isinstance(a, np.poly1d):
            raise TypeError("numpy.poly1d objects with dual values are not supported: pass the "
                            "coefficient array instead")


@implements(np.polyval)
def polyval(p, x):
    """Horner's rule, numpy's: y = y * x + p[i]."""
    _no_poly1d(p, x)
    if ndim(p) == 0:
        raise TypeError("numpy.polyval: p must be a sequence of coefficients (iteration over a "
                        "0-d array)")
    y = np.zeros(shape(x))
    for i in range(shape(p)[0]):
        y = y * x + p[i]
    return y


def _padded(a1, a2, op):
    a1, a2 = atleast_1d(a1), atleast_1d(a2)
    diff = shape(a2)[0] - shape(a1)[0]
    if diff > 0:
        a1 = concatenate([np.zeros(diff), a1], 0)
    elif diff < 0:
        a2 = concatenate([np.zeros(-diff), a2], 0)
    return op(a1, a2)


@implements(np.polyadd)
def polyadd(a1, a2):
    _no_poly1d(a1, a2)
    return _padded(a1, a2, np.add)


@implements(np.polysub)
def polysub(a1, a2):
    _no_poly1d(a1, a2)
    return _padded(a1, a2, np.subtract)


@implements(np.polymul)
def polymul(a1, a2):
    _no_poly1d(a1, a2)
    return np.convolve(atleast_1d(a1), atleast_1d(a2))


@implements(np.polyder)
def polyder(p, m=1):
    _no_poly1d(p)
    m = int(m)
    if m < 0:
        raise ValueError("Order of derivative must be positive (see polyint)")
    if m == 0:
        return p
    n = shape(p)[0] - 1
    return polyder(p[:-1] * np.arange(n, 0, -1), m - 1)


@implements(np.polyint)
def polyint(p, m=1, k=None):
    _no_poly1d(p)
    m = int(m)
    if m < 0:
        raise ValueError("Order of integral must be positive (see polyder)")
    if k is None:
        k = np.zeros(m, float)
    k = atleast_1d(k)
    if shape(k)[0] == 1 and m > 1:
        k = k[0] * np.ones(m, float)
    if shape(k)[0] < m:
        raise ValueError("k must be a scalar or a rank-1 array of length 1 or >m.")
    if m == 0:
        return p
    y = concatenate([p / np.arange(shape(p)[0], 0, -1), reshape(k[0], (1,))], 0)
    return polyint(y, m - 1, k=k[1:])


@implements(np.poly)
def poly(seq_of_zeros):
    """The monic polynomial with the given roots: numpy's repeated convolution with
    [1, -root] (a square matrix's eigenvalues are numpy.linalg's business: refused)."""
    z = atleast_1d(seq_of_zeros)
    if ndim(z) != 1:
        raise TypeError("numpy.poly of a matrix of dual values is not supported (it needs its "
                        "eigenvalues): pass the roots")
    a = np.ones((1,))
    for i in range(shape(z)[0]):
        a = np.convolve(a, stack([1.0, -z[i]]), mode="full")
    return a if shape(z)[0] else 1.0


@implements(np.vander)
def vander(x, N=None, increasing=False):
    """Columns 1, x, x*x, ... by numpy's running product (multiply.accumulate)."""
    if ndim(x) != 1:
        raise ValueError("x must be a one-dimensional array or sequence.")
    n = shape(x)[0]
    N = n if N is None else operator.index(N)
    cols = []
    if N > 0:
        cols.append(np.ones((n, 1)))
    if N > 1:
        rep = np.broadcast_to(reshape(x, (n, 1)), (n, N - 1))
        cols.append(cumprod(rep, axis=1))
    v = concatenate(cols, 1) if cols else np.empty((n, 0))
    return v if increasing else v[:, ::-1]


def _as_float(a):
    """numpy's asarray(a) + 0.0 for an argument that may be dual."""
    d = _arrays.lift(a)
    return d + 0.0 if d is not None else np.asarray(a) + 0.0


@implements(np.polyfit)
def polyfit(x, y, deg, rcond=None, full=False, w=None, cov=False):
    """numpy's least-squares recipe on dual values (its Vandermonde matrix, weights, column
    scaling and lstsq, whose rule differentiates the solution and the residuals), so the
    data x, y and the weights w are all differentiable and values are numpy's."""
    order = int(deg) + 1
    x, y = _as_float(x), _as_float(y)
    if deg < 0:
        raise ValueError("expected deg >= 0")
    if ndim(x) != 1:
        raise TypeError("expected 1D vector for x")
    if shape(x)[0] == 0:
        raise TypeError("expected non-empty vector for x")
    if ndim(y) < 1 or ndim(y) > 2:
        raise TypeError("expected 1D or 2D array for y")
    if shape(x)[0] != shape(y)[0]:
        raise TypeError("expected x and y to have same length")
    if rcond is None:
        rcond = shape(x)[0] * np.finfo(np.float64).eps
    lhs, rhs = vander(x, order), y
    if w is not None:
        w = _as_float(w)
        if ndim(w) != 1:
            raise TypeError("expected a 1-d array for weights")
        if shape(w)[0] != shape(y)[0]:
            raise TypeError("expected w and y to have the same length")
        lhs = lhs * w[:, np.newaxis]
        rhs = rhs * (w[:, np.newaxis] if ndim(rhs) == 2 else w)
    scale = np.sqrt((lhs * lhs).sum(axis=0))
    lhs = lhs / scale
    c, resids, rank, s = np.linalg.lstsq(lhs, rhs, rcond)
    c = (c.T / scale).T
    if rank != order and not full:
        warnings.warn("Polyfit may be poorly conditioned", np.exceptions.RankWarning,
                      stacklevel=2)
    if full:
        return c, resids, rank, s, rcond
    if not cov:
        return c
    vbase = np.linalg.inv(np.dot(lhs.T, lhs)) / np.outer(scale, scale)
    if cov == "unscaled":
        fac = 1
    else:
        if shape(x)[0] <= order:
            raise ValueError("the number of data points must exceed order to scale the "
                             "covariance matrix")
        fac = resids / (shape(x)[0] - order)
    return (c, vbase * fac) if ndim(y) == 1 else (c, vbase[:, :, np.newaxis] * fac)


@implements(np.roots)
def roots(p):
    """numpy's roots (the companion matrix's eigenvalues), differentiable in the coefficients
    where every root is real and simple: each root r of p moves as the implicit function
    p(r) = 0 says, dr = -(dp)(r) / p'(r). Newton steps on dual values give exactly that,
    each step doubling the order it is exact to; the value part of each step's correction is
    dropped, so the values stay numpy's own."""
    d = _arrays.lift(p)
    pv = np.asarray(_arrays.value_of(p), dtype=np.float64)
    r = np.roots(pv)
    if d is None:
        return r
    if np.iscomplexobj(r):
        if np.any(r.imag != 0.0):
            raise TypeError("numpy.roots: this polynomial has complex roots, which dual values "
                            "(real) cannot carry; differentiate a real quantity computed "
                            "otherwise, or roots of a polynomial whose roots are all real")
        r = r.real
    if ndim(p) != 1:
        raise ValueError("Input must be a rank-1 array.")
    dp = polyder(p)
    slope = np.polyval(np.polyder(pv), r)
    size = np.polyval(np.polyder(np.abs(pv)), np.abs(r))
    if np.any(np.abs(slope) <= 1e-8 * size):
        raise ValueError("numpy.roots: a repeated root (p' = 0 there) has no derivative in "
                         "the coefficients")
    out = r
    order, exact = d.order, 0
    while exact < order:                 # exact to order 1, 3, 7, ...
        residual = polyval(p, out)
        out = out - (residual - _arrays.value_of(residual)) / polyval(dp, out)
        exact = 2 * exact + 1
    return out


# numpy.polynomial's only functions that dispatch on their arguments: their own Python code
# then evaluates with polyval, which takes dual points and coefficients (object elements)
def _series_as_numpy(func):
    impl = func._implementation

    def handler(*args, **kwargs):
        return impl(*args, **kwargs)
    return handler


def _polygrid2d(x, y, c):
    """numpy's polygrid2d evaluates with polyval(x, c) (tensor=True), which takes the outer
    product only for ndarray points: dual points go through polyval2d on the grid's points
    instead, the same values."""
    from dualdiff._tracer import Tracer
    if any(isinstance(p, (_arrays.DualArray, Tracer)) and ndim(p) for p in (x, y)):
        return np.polynomial.polynomial.polyval2d(*np.meshgrid(x, y, indexing="ij"), c)
    return np.polynomial.polynomial.polygrid2d._implementation(x, y, c)


_P = np.polynomial.polynomial
if hasattr(getattr(_P, "polyval2d", None), "_implementation"):
    implements(_P.polyval2d)(_series_as_numpy(_P.polyval2d))
if hasattr(getattr(_P, "polygrid2d", None), "_implementation"):
    implements(_P.polygrid2d)(_polygrid2d)
