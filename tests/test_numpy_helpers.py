"""The numpy helpers people use, on dual values (issue 11, item 4): cutting and extending
arrays, building them, discrete calculus, products, statistics, nan-reductions, polynomials,
and the shape functions that existed before -- each against numpy's values and finite
differences at both orders, for every chunk, on dual scalars where numpy takes scalars, and
with numpy's keywords (unsupported ones raise TypeError naming them)."""
import re
import warnings

import numpy as np
import pytest

import dualdiff as dd
from _numpy_checks import check, check_scalar, spread
from conftest import on_this_numpy
from dualdiff import Dual, HyperDual, _arrays

XP = np.linspace(0.0, 3.0, 8)
NAN_AT = np.array([False, True, False, False, True, False, False, False, False, True, False,
                   False])


def nanify(x):
    return np.where(NAN_AT, np.nan, x)


def joined(parts):
    """A list of arrays as one array, each piece weighted differently (so a mix-up shows)."""
    return np.concatenate([np.ravel(p) * (i + 1) for i, p in enumerate(parts)])


def between_knots(x):
    """Query points strictly inside interp's segments (no finite difference crosses a knot)."""
    return XP[:-1][np.arange(x.size) % 7] + 0.2 + 0.01 * x


CASES = {
    # ---- cut apart, extend (dualdiff/_numpy/editing.py)
    "split": lambda x: joined(np.split(x.reshape(3, 4), 2, axis=1)),
    "array_split": lambda x: joined(np.array_split(x, 5)),
    "array_split at indices": lambda x: joined(np.array_split(x, [3, 5, 30])),
    "hsplit": lambda x: joined(np.hsplit(x.reshape(3, 4), [1])),
    "vsplit": lambda x: joined(np.vsplit(x.reshape(4, 3), 2)),
    "dsplit": lambda x: joined(np.dsplit(x.reshape(1, 3, 4), [2])),
    "unstack": lambda x: joined(np.unstack(x.reshape(3, 4), axis=1)),
    "pad constant": lambda x: np.pad(x.reshape(3, 4), ((1, 2), (0, 3)), constant_values=7.0),
    # np.pad dispatches on its array alone: that array is dual in every sweep here
    "pad dual constant": lambda x: np.pad(x[1:].reshape(1, 11) * x[0], 2,
                                          constant_values=x[0] * 3),
    "pad dual constant pairs": lambda x: np.pad(x[3:].reshape(3, 3) * x[0], ((1, 2), (2, 1)),
                                                constant_values=((x[0], 1.0), (x[1], x[2]))),
    "pad edge": lambda x: np.pad(x.reshape(3, 4), 2, mode="edge"),
    "pad reflect": lambda x: np.pad(x, (7, 13), mode="reflect"),
    "pad reflect odd": lambda x: np.pad(x, (3, 20), mode="reflect", reflect_type="odd"),
    "pad symmetric": lambda x: np.pad(x.reshape(3, 4), ((5, 0), (2, 9)), mode="symmetric"),
    "pad symmetric odd": lambda x: np.pad(x, 4, mode="symmetric", reflect_type="odd"),
    "pad wrap": lambda x: np.pad(x.reshape(3, 4), 5, mode="wrap"),
    "pad linear_ramp": lambda x: np.pad(x.reshape(3, 4), 2, mode="linear_ramp",
                                        end_values=(1.0, -2.0)),
    "pad mean": lambda x: np.pad(x.reshape(3, 4), 2, mode="mean", stat_length=2),
    "append": lambda x: np.append(x[:5], x[5:].reshape(7, 1) ** 2),
    "append axis": lambda x: np.append(x.reshape(3, 4), x[:4].reshape(1, 4) ** 2, axis=0),
    "insert": lambda x: np.insert(x.reshape(3, 4), 1, x[:3] ** 2, axis=1),
    "insert many": lambda x: np.insert(x, [0, 2, 2, 12], [1.0, 2.0, 3.0, 4.0]),
    "insert into a constant": lambda x: np.insert(np.arange(4.0), [1, 3], x[:2] ** 2),
    "delete": lambda x: np.delete(x.reshape(3, 4), [0, 2], axis=1),
    "delete slice": lambda x: np.delete(x, slice(1, None, 3)),
    "resize": lambda x: np.resize(x, (5, 4)),
    "compress": lambda x: np.compress([True, False, True], x.reshape(3, 4), axis=0),
    "extract": lambda x: np.extract(np.arange(12) % 3 == 0, x),
    "choose": lambda x: np.choose([2, 0, 1, 1], [x[:4], x[4:8] ** 2, 0.5]),
    # ---- build (construction.py)
    "linspace": lambda x: np.linspace(x[0], x[1] + 3, 7),
    "linspace no endpoint, retstep": lambda x: np.linspace(x[0], 3.0, 5, endpoint=False,
                                                           retstep=True)[0] * x[1],
    "linspace vector axis": lambda x: np.linspace(x[:3], x[3:6] + 2, 4, axis=-1),
    "logspace base": lambda x: np.logspace(x[0], x[1], 5, base=x[2] + 1),
    "geomspace": lambda x: np.geomspace(x[0], x[1] + 5, 6),
    "geomspace negative": lambda x: np.geomspace(-x[0], -x[1] - 5, 4, endpoint=False),
    "select": lambda x: np.select([x < 0.9, x > 1.4], [x * x, 2.0 * x], default=x[0]),
    "piecewise": lambda x: np.piecewise(x, [x < 0.9, x > 1.4],
                                        [lambda v: v * v, lambda v: 1.0 - v, lambda v: v / 3]),
    "piecewise constant piece": lambda x: np.piecewise(x, [x < 1.0], [lambda v: v * v, 7.0]),
    "meshgrid": lambda x: np.stack(np.meshgrid(x[:3], x[3:7] * x[3:7])),
    "meshgrid ij sparse": lambda x: joined(np.meshgrid(x[:3], x[3:5], indexing="ij",
                                                       sparse=True)),
    "broadcast_arrays": lambda x: np.stack(np.broadcast_arrays(x[:4], x[4:12].reshape(2, 4))),
    "block": lambda x: np.block([[x[:4].reshape(2, 2), x[4:6].reshape(2, 1)],
                                 [x[6:9].reshape(1, 3)]]),
    "apply_along_axis": lambda x: np.apply_along_axis(lambda r: np.sort(r) * r, 1,
                                                      x.reshape(3, 4)),
    "apply_over_axes": lambda x: np.apply_over_axes(np.sum, x.reshape(2, 3, 2) ** 2, [0, 2]),
    # ---- discrete calculus (calculus.py)
    "gradient": lambda x: np.gradient(x * x),
    "gradient spacing": lambda x: np.gradient(x * x, 0.3, edge_order=2),
    "gradient dual spacing": lambda x: np.gradient(x * x, x[0]),
    "gradient coordinates": lambda x: np.gradient(x * x, np.cumsum(np.arange(1.0, 13.0))),
    "gradient dual coordinates": lambda x: np.gradient(x[:6] * x[:6], np.cumsum(x[6:]),
                                                       edge_order=2),
    "gradient 2-d": lambda x: np.stack(np.gradient(x.reshape(3, 4) ** 2, 0.5,
                                                   [1.0, 2.0, 4.0, 8.0], edge_order=2)),
    "gradient axis": lambda x: np.gradient(x.reshape(3, 4) ** 2, axis=1),
    "trapezoid": lambda x: np.trapezoid(x * x),
    "trapezoid dx": lambda x: np.trapezoid(x * x, dx=x[0]),
    "trapezoid x": lambda x: np.trapezoid(x[:6] * x[:6], x=np.cumsum(x[6:])),
    "trapezoid 2-d x": lambda x: np.trapezoid((x * x).reshape(3, 4), x=np.cumsum(x[:3]),
                                              axis=0),
    "ediff1d": lambda x: np.ediff1d(x * x, to_begin=x[0], to_end=[1.0, 2.0]),
    "interp in x": lambda x: np.interp(between_knots(x), XP, np.sin(XP)),
    "interp in fp": lambda x: np.interp(np.linspace(-1, 4, 17), XP, x[:8] ** 2),
    "interp in both, left, right": lambda x: np.interp(
        np.concatenate([between_knots(x[8:]), [-1.0, 9.0]]), XP, x[:8] ** 2, left=x[9],
        right=-x[10]),
    "interp period": lambda x: np.interp(between_knots(x) * 2.0, XP, x[:8] ** 2, period=2.5),
    "diff prepend append": lambda x: np.diff(x * x, n=2, prepend=x[0], append=[1.0, 2.0]),
    "cumulative_sum": lambda x: np.cumulative_sum(x.reshape(3, 4) ** 2, axis=1,
                                                  include_initial=True),
    # ---- products (bilinear.py)
    "kron": lambda x: np.kron(x[:4].reshape(2, 2), x[4:10].reshape(2, 3)),
    "kron vector matrix": lambda x: np.kron(x[:4], x[4:10].reshape(2, 3)),
    "cross": lambda x: np.cross(x[:6].reshape(2, 3), x[6:9]),
    "cross axes": lambda x: np.cross(x[:6].reshape(3, 2), x[6:12].reshape(3, 2), axisa=0,
                                     axisb=0, axisc=0),
    "convolve full": lambda x: np.convolve(x[:7], x[7:] * x[7:]),
    "convolve same": lambda x: np.convolve(x[:3], x[3:], "same"),
    "convolve valid": lambda x: np.convolve(x[:7], [1.0, -2.0, 0.5], "valid"),
    "correlate valid": lambda x: np.correlate(x[:7], x[7:] * x[7:]),
    "correlate same, longer v": lambda x: np.correlate(x[:4], x[4:], "same"),
    "correlate full": lambda x: np.correlate(x[:5], x[5:], "full"),
    "vecdot": lambda x: np.vecdot(x[:6].reshape(2, 3), x[6:9]),
    "einsum of three operands": lambda x: np.einsum("i,ij,jk->k", x[:2], x[2:8].reshape(2, 3),
                                                    x[8:11].reshape(3, 1) * x[:3, None]),
    "einsum of four, with a trace": lambda x: np.einsum("ii,i,ij,j->", x[:4].reshape(2, 2),
                                                        x[4:6], x[6:10].reshape(2, 2), x[10:12]),
    "matvec": lambda x: np.matvec(x[:6].reshape(2, 3), x[6:9]),
    "vecmat": lambda x: np.vecmat(x[:2], x[6:12].reshape(2, 3)),
    # ---- statistics (statistics.py)
    "average": lambda x: np.average(x * x),
    "average weights axis": lambda x: np.average(x.reshape(3, 4) ** 2, axis=1,
                                                 weights=np.arange(1.0, 5.0)),
    "average dual weights": lambda x: np.average(x.reshape(3, 4) ** 2, axis=0, weights=x[:3]),
    "average returned": lambda x: np.stack(np.average(x.reshape(3, 4), axis=1,
                                                      weights=x[:4] ** 2, returned=True)),
    "cov": lambda x: np.cov(x.reshape(3, 4)),
    "cov columns, bias": lambda x: np.cov(x.reshape(4, 3), rowvar=False, bias=True),
    "cov y": lambda x: np.cov(x[:6], x[6:] ** 2),
    "cov fweights aweights": lambda x: np.cov(x.reshape(3, 4), fweights=[1, 2, 1, 3],
                                              aweights=x[:4] ** 2),
    "corrcoef": lambda x: np.corrcoef(x.reshape(3, 4)),
    "ptp": lambda x: np.ptp(x.reshape(3, 4) ** 2, axis=1),
    "bincount weights": lambda x: np.bincount([0, 2, 2, 1, 5, 0, 0, 1, 1, 1, 2, 3],
                                              weights=x ** 2),
    # ---- nan-ignoring reductions (nanfunctions.py)
    "nansum": lambda x: np.nansum(nanify(x).reshape(3, 4) ** 2, axis=1),
    "nanprod": lambda x: np.nanprod(nanify(x) ** 2),
    "nanmean": lambda x: np.nanmean(nanify(x).reshape(3, 4) ** 2, axis=0, keepdims=True),
    "nanvar": lambda x: np.nanvar(nanify(x).reshape(3, 4) ** 2, axis=1, ddof=1),
    "nanstd": lambda x: np.nanstd(nanify(x) ** 2),
    "nanmax": lambda x: np.nanmax(nanify(x).reshape(3, 4), axis=1),
    "nanmin": lambda x: np.nanmin(nanify(x) ** 2),
    "nancumsum": lambda x: np.nancumsum(nanify(x).reshape(3, 4), axis=1),
    "nancumprod": lambda x: np.nancumprod(nanify(x)),
    # ---- polynomials (polynomial.py)
    "polyval": lambda x: np.polyval(x[:4], x[4:]),
    "polyadd": lambda x: np.polyadd(x[:4], x[4:6] ** 2),
    "polysub": lambda x: np.polysub(x[:2], x[4:8] ** 2),
    "polymul": lambda x: np.polymul(x[:4], x[4:6] ** 2),
    "polyder": lambda x: np.polyder(x[:6] ** 2, 2),
    "polyint": lambda x: np.polyint(x[:6] ** 2, 2, k=[x[7], 1.0]),
    "poly": lambda x: np.poly(x[:4]),
    "vander": lambda x: np.vander(x[:4], 5),
    "polyfit": lambda x: np.polyfit(np.arange(12.0), x, 3),
    "polyfit x, weights, cov": lambda x: joined(np.polyfit(np.cumsum(x[:6] ** 2), x[6:], 2,
                                                           w=x[:6], cov=True)),
    "polyfit 2-d, full": lambda x: joined(np.polyfit(np.arange(6.0), x.reshape(6, 2), 1,
                                                     full=True)[:2]),
    # histogram: the bins each element falls in are numpy's (constant); the edges placed
    # from the data move with its extremes, weights are summed per bin
    "histogram": lambda x: joined([
        np.histogram(x, bins=4)[1], np.histogram(x, bins="auto", density=True)[0],
        np.histogram(x, bins=[-5.0, 0.05, 5.0], weights=x ** 2)[0],
        np.histogram(x.reshape(3, 4), bins=3, weights=(1.0 + x * x).reshape(3, 4),
                     density=True)[0]]),
    # trim_zeros: numpy decides on the values which zeros go; poly1d calls it
    "trim_zeros poly1d": lambda x: joined([
        np.trim_zeros(x * (np.arange(12) % 11 > 1)), np.trim_zeros(x[:6] * (np.arange(6) > 2), "b"),
        np.poly1d(x[:4])(x[4:8]), np.poly1d(x[8:] * (np.arange(4) > 0)).coeffs]),
    # roots: real and simple ones, by the implicit function p(r) = 0
    # (roots over 1 apart: near-double roots amplify rounding in the second derivatives to
    # 1e-10, beyond the hvp-vs-hessian tolerance)
    "roots": lambda x: np.sort(np.roots(np.poly(x[:3] + [0.0, 3.0, 6.0]) * (1.0 + x[3] ** 2))),
    # numpy.polynomial's evaluation in the coefficients: object arrays of dual scalars
    "numpy.polynomial *val in c": lambda x: joined([
        np.polynomial.chebyshev.chebval(0.3, x[:5]),
        np.polynomial.legendre.legval(x[5:8], x[:4] ** 2),
        np.polynomial.hermite.hermval2d(0.2, 0.4, x[:6].reshape(2, 3)),
        np.polynomial.polynomial.polyval(x[8:], x[:3])]),
    # np.vectorize and np.frompyfunc call a Python function per element: on dual scalars,
    # which carry the derivatives through its arithmetic and branches (results: object
    # arrays of dual numbers, which the transforms read)
    "vectorize": lambda x: np.vectorize(
        lambda v, w: v * w if v > 0.985 else np.sin(v) - w * w)(x, x[::-1]),
    "vectorize signature, otypes": lambda x: joined([
        np.vectorize(lambda r: np.stack([r @ r, r[0] / r[-1]]), signature="(n)->(m)",
                     otypes=[object])(x.reshape(3, 4)),
        np.vectorize(np.exp, otypes=[object])(x[:3])]),
    "frompyfunc": lambda x: joined(np.frompyfunc(lambda v: (v ** 3, 1.0 / v), 1, 2)(
        x.reshape(3, 4))),
    # the series classes keep dual coefficients as object arrays (as_series): evaluation,
    # deriv, integ, arithmetic, domains
    "numpy.polynomial classes in c": lambda x: joined([
        np.polynomial.Polynomial(x[:4])(x[4:7]),
        np.polynomial.Chebyshev(x[:3], domain=[0.0, 2.0]).deriv()(0.3),
        (np.polynomial.Legendre(x[:3]) * np.polynomial.Legendre(x[3:5]) - x[6]).coef,
        np.polynomial.Hermite(x[:3]).integ(lbnd=0.1)(x[8:10])]),
    # ... and numpy.polynomial's functions of series and points (object elements)
    "numpy.polynomial functions": lambda x: joined([
        np.polynomial.polynomial.polyfromroots(x[:3]),
        np.polynomial.chebyshev.chebder(x[:4] ** 2, 2, scl=x[4]),
        np.polynomial.legendre.legint(x[:3], 1, k=[x[5]], lbnd=0.2),
        np.polynomial.hermite.hermvander(x[6:9], 2),
        np.polynomial.polynomial.polyvander2d(x[:2], x[2:4], [1, 2]),
        np.concatenate(np.polynomial.polynomial.polydiv(x[:4], x[4:6] + 2.0)),
        np.polynomial.polynomial.polygrid2d([0.3, 0.5], [0.1, 0.2, 0.4], x[5:11].reshape(2, 3)),
        np.polynomial.chebyshev.chebval2d(x[:3], x[3:6], x[6:12].reshape(2, 3)),
        np.polynomial.chebyshev.poly2cheb(x[:4])]),
    # ---- windows and phases (manipulation.py, calculus.py)
    "sliding_window_view": lambda x: np.lib.stride_tricks.sliding_window_view(
        x.reshape(3, 4), (2, 3)) * np.arange(6.0).reshape(2, 3),
    "sliding_window_view axis": lambda x: np.lib.stride_tricks.sliding_window_view(
        x.reshape(3, 4) ** 2, 2, axis=-1),
    "unwrap": lambda x: np.unwrap(x * 3.0),
    "i0": lambda x: np.i0(x * 5.0),
    "fftshift ifftshift": lambda x: joined([np.fft.fftshift(x.reshape(3, 4), axes=-1),
                                            np.fft.ifftshift(x.reshape(3, 4))]),
    "indices from the shape": lambda x: joined([
        x[:9].reshape(3, 3)[np.tril_indices_from(x[:9].reshape(3, 3), -1)],
        x[:9].reshape(3, 3)[np.triu_indices_from(x[:9].reshape(3, 3))],
        x[:9].reshape(3, 3)[np.diag_indices_from(x[:9].reshape(3, 3))]]),
    "einsum_path": lambda x: np.einsum("ij,jk->ik", x[:6].reshape(2, 3), x[3:].reshape(3, 3),
                                       optimize=np.einsum_path("ij,jk->ik", x[:6].reshape(2, 3),
                                                               x[3:].reshape(3, 3))[0]),
    "unwrap axis, period": lambda x: np.unwrap(x.reshape(3, 4) * 2.0, axis=0, period=2.5),
    # ---- shape functions that existed before: tested here
    "flipud fliplr": lambda x: np.fliplr(np.flipud(x.reshape(3, 4))) * np.arange(12.0).reshape(
        3, 4),
    "rot90": lambda x: np.rot90(x.reshape(3, 4), 3, axes=(1, 0)),
    "moveaxis swapaxes rollaxis": lambda x: np.rollaxis(np.swapaxes(np.moveaxis(
        x.reshape(2, 3, 2), 0, -1), 0, 1), 2),
    "atleast_1d 2d 3d": lambda x: joined([np.atleast_1d(x[0]), np.atleast_2d(x[1:3]),
                                          np.atleast_3d(x[3:9].reshape(2, 3))]),
    "broadcast_to": lambda x: np.broadcast_to(x[:4], (3, 4)) * np.arange(12.0).reshape(3, 4),
    "tile repeat": lambda x: np.tile(np.repeat(x[:3], [1, 0, 2]), (2, 2)),
    "square cbrt": lambda x: np.square(x) + np.cbrt(x),
}
# values to rounding only: powers, cbrt and i0's exp (numpy's vectorised pow/cbrt/exp against
# the C library's), nanprod (dualdiff multiplies pairwise), the product ufuncs (numpy's gufunc loops
# against einsum)
INEXACT = {"logspace base", "geomspace", "geomspace negative", "square cbrt", "nanprod",
           "vecdot", "matvec", "vecmat", "einsum of three operands",
           "einsum of four, with a trace", "einsum_path", "i0", "vectorize",
           "vectorize signature, otypes", "frompyfunc", "numpy.polynomial classes in c",
           "numpy.polynomial functions"}


# object arrays by numpy's design (frompyfunc, otypes=[object]), of floats for float input
OBJECT_RESULTS = {"vectorize signature, otypes", "frompyfunc"}

CASES = {name: f for name, f in CASES.items() if on_this_numpy(f)}


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_derivatives_at_both_orders(rng, name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)      # np.cross of 2-vectors
        check(CASES[name], spread(rng, 12), rng, exact=name not in INEXACT)


def test_cross_of_two_vectors_follows_this_numpy():
    """2-vectors: deprecated in numpy 2.0, an error from 2.5; dualdiff does what the numpy
    it runs on does (fuzz seed 2424: it computed where numpy 2.5 raises)."""
    a, b = np.array([1.0, 2.0]), np.array([3.0, 5.0])
    f = lambda x: np.cross(x, b)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            want = np.cross(a, b)
        except ValueError as e:
            with pytest.raises(ValueError, match=re.escape(str(e))):
                dd.jacobian(f)(a)
            return
        value, J = dd.jvp(f, (a,), (np.array([1.0, 0.0]),))
    assert value == want and J == 5.0


def test_every_case_is_a_function_of_numpy(rng):
    """The table runs on plain arrays too: each case is numpy code, nothing dualdiff-only."""
    x = spread(rng, 12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        for name, f in CASES.items():
            y = np.asarray(f(x))
            if name in OBJECT_RESULTS:      # numpy's own result: an object array of floats
                assert y.dtype == object and all(isinstance(e, float) for e in y.flat), name
            else:
                assert y.dtype == np.float64, name


# ---- dual scalars ----------------------------------------------------------------------------

@pytest.mark.parametrize("f", [
    lambda t: np.linspace(t, 2 * t + 1, 5), lambda t: np.geomspace(t, 3.0, 4),
    lambda t: np.interp(t, XP, np.cos(XP)), lambda t: np.interp(1.1, XP, XP * t),
    lambda t: np.average(t * t), lambda t: np.polyval([1.0, -2.0, 3.0], t),
    lambda t: np.nansum(t * t), lambda t: np.nanmean(np.sin(t)), lambda t: np.ptp(t) + t,
    lambda t: np.atleast_2d(t * t), lambda t: np.pad(np.ones(3) * t, 1, constant_values=t * t),
    lambda t: np.select([t > 0], [t * t]), lambda t: np.cross([1.0, 0, 0], [0.0, t, t * t]),
    lambda t: np.kron([1.0, 2.0], t * t), lambda t: np.convolve([1.0, 2.0], [t, t * t]),
    lambda t: np.append(t, t * t), lambda t: np.insert([1.0, 2.0], 1, t * t),
], ids=["linspace", "geomspace", "interp x", "interp fp", "average", "polyval", "nansum",
        "nanmean", "ptp", "atleast_2d", "pad", "select", "cross", "kron", "convolve",
        "append", "insert"])
def test_on_dual_scalars(f):
    check_scalar(f, 0.7)


def test_reductions_of_a_dual_scalar_are_dual_scalars():
    for f in (np.nansum, np.nanmean, np.nanmax, np.average, np.ptp, np.nanmedian, np.median):
        r = f(Dual(1.5, 2.0))
        assert type(r) is Dual and (r.real, r.eps) == ((1.5, 2.0) if f is not np.ptp else
                                                       (0.0, 0.0))
        assert type(f(HyperDual(1.5, 2.0, 1.0, 0.0))) is HyperDual


# ---- conventions -------------------------------------------------------------------------

def test_interp_uses_the_segment_to_the_right_of_a_knot():
    """At x == xp[j] the derivative in x is the slope of [xp[j], xp[j+1]); at xp[-1] the
    value is fp[-1] and the derivative that of the flat extension to the right."""
    fp = np.array([0.0, 1.0, 4.0])
    xp = np.array([0.0, 1.0, 2.0])
    assert dd.derivative(lambda t: np.interp(t, xp, fp))(1.0) == 3.0
    assert dd.derivative(lambda t: np.interp(t, xp, fp))(0.0) == 1.0
    assert dd.derivative(lambda t: np.interp(t, xp, fp))(2.0) == 0.0
    assert dd.derivative(lambda t: np.interp(t, xp, fp, right=t))(3.0) == 1.0


def test_gradient_with_dual_coordinates_uses_the_general_formula(rng):
    """Evenly spaced numbers are one point of coordinate space: with dual coordinates the
    derivative is that of numpy's uneven-spacing formula (values to rounding)."""
    f = rng.normal(size=6)
    xs = np.arange(6.0)
    g = dd.jacobian(lambda c: np.gradient(f, c))(xs)
    h = 1e-6
    fd = np.stack([(np.gradient(f, xs + h * e) - np.gradient(f, xs - h * e)) / (2 * h)
                   for e in np.eye(6)], axis=1)
    assert np.max(np.abs(g - fd)) < 1e-6


def test_r_and_c_take_dual_scalars_and_dual_arrays():
    """np.r_ and np.c_ are index tricks, not functions: numpy turns each item into an array
    itself, so no dual reaches __array_function__. Dual scalars and dual arrays become
    object arrays of dual numbers that keep their derivatives (as np.array([...]) does)."""
    J = dd.jacobian(lambda x: np.r_[x[0], 2.0 * x[1], 3.0])(np.array([1.0, 2.0]))
    assert np.array_equal(J, [[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]])
    H = dd.hessian(lambda x: np.sum(np.c_[x[0], x[1]] ** 3))(np.array([1.0, 2.0]))
    assert np.array_equal(H, [[6.0, 0.0], [0.0, 12.0]])
    x = np.array([1.0, 2.0])
    J = dd.jacobian(lambda x: np.r_[x, 1.0, x ** 2])(x)
    assert np.array_equal(J, [[1, 0], [0, 1], [0, 0], [2, 0], [0, 4]])
    J = dd.jacobian(lambda x: np.c_[x, 3.0 * x])(x)
    assert np.array_equal(J, [[[1, 0], [3, 0]], [[0, 1], [0, 3]]])
    J = dd.jacobian(lambda x: np.r_["0,2", x])(x)
    assert np.array_equal(J, [[[1, 0], [0, 1]]])


@pytest.mark.parametrize("f, want", [
    (lambda x: np.concatenate([[x[0]], x[1:] ** 2]), [[1, 0, 0], [0, 4, 0], [0, 0, 6]]),
    (lambda x: np.concatenate([[x[0], 1.0], x]), [[1, 0, 0], [0, 0, 0], [1, 0, 0], [0, 1, 0],
                                                  [0, 0, 1]]),
    (lambda x: np.vstack([[x[2], x[1], 1.0], x]).ravel(),
     [[0, 0, 1], [0, 1, 0], [0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]]),
], ids=["concatenate", "concatenate mixed", "vstack"])
def test_lists_of_dual_numbers_join_dual_arrays(f, want):
    """A list holding dual numbers ([x[0]], loop-style) as the first piece of a join: its
    dimensions are the list's (before: "axis 0 is out of bounds for array of dimension 0")."""
    x = np.array([0.5, 2.0, 3.0])
    for chunk in (1, None):
        np.testing.assert_array_equal(dd.jacobian(f, chunk=chunk)(x), want)


def test_polygrid2d_at_dual_points_where_numpy_dispatches_it():
    """numpy >= 2.1 dispatches polygrid2d (the only grid function it dispatches): dual points
    go through polyval2d on the grid's points, numpy's values; on older numpy it raises the
    error that names that fix, as the other grid functions do."""
    x = np.array([0.3, -0.7, 1.2])
    c = np.arange(6.0).reshape(2, 3)
    f = lambda x: np.polynomial.polynomial.polygrid2d(x, x[:2], c * x[0])  # noqa: E731
    if not hasattr(np.polynomial.polynomial.polygrid2d, "_implementation"):
        with pytest.raises(TypeError, match=r"polygrid2d of dual points.*polyval2d\(\*np\."
                                            r"meshgrid"):
            dd.jacobian(f)(x)
        return
    check(f, x, np.random.default_rng(0), exact=False)


def test_round_of_dual_numbers_is_a_step():
    """Python's round() of a dual number (and numpy's object loop of np.round, which calls
    it): the value rounded as Python rounds, derivative 0, in every transform."""
    assert round(Dual(2.5, 1.0)) == Dual(2.0, 0.0)            # half to even, as Python
    r = round(Dual(2.345, 3.0), 2)
    assert (r.real, r.eps) == (round(2.345, 2), 0.0)
    h = round(HyperDual(-1.26, 1.0, 1.0, 1.0), 1)
    assert (h.real, h.eps1, h.eps2, h.eps12) == (-1.3, 0.0, 0.0, 0.0)
    f = lambda x: round(x[0]) * x[1] + np.sum(np.round(np.array([x[0], x[1]]), 1) * x)  # noqa: E731
    x = np.array([1.26, 2.0])
    np.testing.assert_allclose(dd.grad(f)(x), [1.3, 1 + 2.0])
    np.testing.assert_allclose(dd.hessian(f)(x), [[0.0, 0.0], [0.0, 0.0]])
    assert dd.derivative(lambda t: round(t, 1) * t)(1.26) == pytest.approx(1.3)


def test_pad_empty_has_derivative_zero_in_its_undefined_padding():
    J = dd.jacobian(lambda x: np.pad(x, (1, 2), mode="empty"))(np.array([1.0, 2.0]))
    assert np.array_equal(J, [[0, 0], [1, 0], [0, 1], [0, 0], [0, 0]])


LONG = {
    "sort": lambda x: np.sort(x)[::7] * x[:43],
    "median": lambda x: np.median(x * x),
    "quantile": lambda x: np.quantile(x, [0.1, 0.5]) * x[0],
    "pad reflect": lambda x: np.sum(np.pad(x, 5, mode="reflect") ** 2),
    "interp": lambda x: np.interp(x[:40] / 100.0, XP, x[40:48] ** 2),
    "gradient": lambda x: np.gradient(x * x)[::10],
    "convolve": lambda x: np.convolve(x, [1.0, -2.0, 0.5])[::9],
    "nanmean": lambda x: np.nanmean(nanify(x[:12]) * x[12:24]),
    "insert": lambda x: np.insert(x, [3, 200], x[:2] * x[:2])[::11],
}


@pytest.mark.parametrize("name", sorted(LONG))
def test_long_inputs_whose_default_chunk_windows_the_tangents(rng, name):
    """n = 300 inputs: the default chunk stores only a window of tangent rows per sweep, and
    slices outside it are constants; the result equals one sweep over all directions."""
    x = spread(rng, 300, gap=0.05)
    f = LONG[name]
    assert np.array_equal(dd.jacobian(f)(x), dd.jacobian(f, chunk=300)(x))


def test_inputs_are_never_modified(rng):
    x = _arrays.from_parts(spread(rng, 12), rng.normal(size=(12, 3)))
    value, e1 = x.value.copy(), x.eps.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        for name, f in CASES.items():
            f(x)
    assert np.array_equal(x.value, value) and np.array_equal(x.eps, e1)


# ---- unsupported keywords and bad arguments --------------------------------------------------

@pytest.mark.parametrize("call,error,words", [
    (lambda x: np.pad(x, 1, mode="maximum"), TypeError, "mode='maximum'"),
    (lambda x: np.pad(x, 1, mode=lambda *a: None), TypeError, "mode="),
    (lambda x: np.pad(x, 1, mode="linear_ramp", end_values=x[0]), TypeError, "end_values"),
    (lambda x: np.pad(x, x[0]), TypeError, "pad_width"),
    (lambda x: np.split(x, 2), ValueError, "equal division"),
    (lambda x: np.insert(x, x[0], 1.0), TypeError, "obj"),
    (lambda x: np.linspace(x[0], x[1], 4, dtype=int), TypeError, "dtype="),
    (lambda x: np.geomspace(x[0] * 0, x[1]), ValueError, "zero"),
    (lambda x: np.interp(x, x, x), TypeError, "xp"),
    (lambda x: np.cov(x, fweights=x), TypeError, "fweights"),
    (lambda x: np.cov(x, dtype=np.float32), TypeError, "dtype="),
    (lambda x: np.bincount(x), TypeError, "integers"),
    (lambda x: np.select([x], [x]), TypeError, "condlist"),
    (lambda x: np.compress(x, x), TypeError, "condition"),
    (lambda x: np.choose(x, [x, x]), TypeError, "integers"),
    (lambda x: np.nanmean(x, out=np.empty(())), TypeError, "out="),
    (lambda x: np.nanvar(x, mean=1.0), TypeError, "mean="),
    (lambda x: np.polyval(x[0], x), TypeError, "coefficients"),
    (lambda x: np.gradient(x, edge_order=3), ValueError, "edge_order"),
    (lambda x: np.cross(x, x), ValueError, "dimension must be 2 or 3"),
    (lambda x: np.isneginf(x, x), TypeError, "immutable"),
    (lambda x: np.roots(np.stack([x[0], 0.0, 1.0])), TypeError, "complex roots"),
    (lambda x: np.roots(np.stack([x[0] * 0 + 1.0, -2.0, 1.0])), ValueError, "repeated root"),
    (lambda x: np.histogram(x, bins=[0.0, 1.0], range=(x[0], 2.0)), TypeError, "drop range"),
])
def test_bad_calls_raise_clear_errors(call, error, words):
    with pytest.raises(error, match=words):
        dd.grad(lambda x: np.sum(call(x)))(np.array([0.3, 0.1, 0.2, 0.6, 0.5]))


@pytest.mark.skipif(not hasattr(np, "cumulative_sum"), reason="numpy < 2.1")
@pytest.mark.parametrize("scan", ["cumulative_sum", "cumulative_prod"])
def test_array_api_scans_need_an_axis_past_one_dimension_as_numpy(scan):
    """np.cumsum flattens a matrix; np.cumulative_sum refuses it without axis= (they share
    one rule, which once accepted both)."""
    fn = getattr(np, scan)
    x = np.array([[0.3, -1.5, 1.7]])
    with pytest.raises(ValueError, match="axis"):
        fn(x)
    with pytest.raises(ValueError, match="axis"):
        dd.jacobian(lambda y: fn(np.sin(y)))(x)
    J = dd.jacobian(lambda y: fn(np.sin(y), axis=1))(x)
    assert J.shape == (1, 3, 1, 3)
    pytest.importorskip("scipy")
    with pytest.raises(ValueError, match="axis"):
        dd.sparse_jacobian(lambda y: fn(np.sin(y)).ravel())(x)


def test_storing_a_traced_value_into_a_float_out_names_the_fix():
    pytest.importorskip("scipy")

    def f(x):
        box = np.zeros(())
        np.min(np.array([x[0], x[-1]]), axis=-1, out=box)
        return np.sum(x) + box
    with pytest.raises(TypeError, match="out="):
        dd.sparse_hessian(f)(np.array([0.3, 0.5, 0.9]))
    with pytest.raises(TypeError, match="out="):
        dd.hessian(f)(np.array([0.3, 0.5, 0.9]))


@pytest.mark.parametrize("name", ["mean", "var", "std"])
def test_mean_var_std_of_a_0d_array_refuse_an_axis_as_numpy(name):
    """np.sum and np.max of a 0-d array take axis=0 (a ufunc reduction); np.mean, var and
    std count the elements of that axis first and raise AxisError, as dualdiff now does."""
    fn = getattr(np, name)
    with pytest.raises(np.exceptions.AxisError):
        fn(np.array(0.3), axis=0)
    with pytest.raises(np.exceptions.AxisError):
        dd.grad(lambda x: fn(np.expm1(x), axis=0) + x)(np.array(-0.7))
    assert dd.grad(lambda x: np.sum(np.expm1(x), axis=0))(np.array(-0.7)) == \
        pytest.approx(np.exp(-0.7))


# ---- a product with a constant holding infinities --------------------------------------------

INF_ROW = np.array([[np.inf, 0.5, -0.25, 2.0]])
INF_PRODUCTS = {
    "matmul": lambda c, v: np.matmul(c, v),
    "matmul right": lambda c, v: np.matmul(v, c.T),
    "dot": lambda c, v: np.dot(c, v),
    "tensordot": lambda c, v: np.tensordot(c, v, axes=1),
    "einsum": lambda c, v: np.einsum("ij,j->i", c, v),
    "inner": lambda c, v: np.inner(c, v),
    "convolve": lambda c, v: np.convolve(c.ravel(), v),
    "correlate": lambda c, v: np.correlate(v, c.ravel(), "full"),
}


@pytest.mark.parametrize("name", sorted(INF_PRODUCTS))
def test_a_constant_with_an_infinity_contributes_nothing_along_a_direction_that_does_not_move(name):
    """C @ v[5:9] with C holding an inf: along x_0..x_4 the tangent of v is zero and so is
    the product's, whether the sweep stores those zeros (they share a chunk with x_5) or not
    at all (chunk=1): the zero-factor convention of the elementwise rules (fuzz seed 2424,
    where chunk=3 gave NaN and chunk=1 gave 0). Along x_5 the tangent is inf*1."""
    product = INF_PRODUCTS[name]

    def f(x):
        return np.sum(np.tanh(product(INF_ROW, x[5:9] * x[5:9]) * 1e-300))
    x = np.linspace(0.5, 1.5, 9)
    grads = [dd.grad(f, chunk=c)(x) for c in (1, 3, 6, None)]
    for g in grads:
        np.testing.assert_array_equal(g[:5], 0.0)
        np.testing.assert_array_equal(g, grads[0])
    hessians = [dd.hessian(f, chunk=c)(x) for c in (1, 4, None)]
    for h in hessians:
        np.testing.assert_array_equal(h[:5], 0.0)
        np.testing.assert_array_equal(h, hessians[0])


def test_i0_against_scipys_i1_and_at_zero():
    """np.i0 is numpy's Chebyshev approximation: its derivatives against I1 and I1' (scipy),
    and I0''(0) = 1/2 (|x| is not taken by abs, whose abs'(0) = 0 would give 0)."""
    special = pytest.importorskip("scipy.special")
    x = np.concatenate([np.linspace(-30.0, 30.0, 13), [0.0, 7.99, 8.0, 8.01]])
    d1 = dd.jvp(np.i0, (x,), (np.ones_like(x),))[1]
    assert np.max(np.abs(d1 - special.i1(x)) / np.maximum(1.0, np.abs(special.i1(x)))) < 1e-13
    d2 = np.array([dd.derivative(np.i0, order=2)(t) for t in x])
    want = special.ivp(0, x, 2)
    assert np.max(np.abs(d2 - want) / np.abs(want)) < 1e-12
    assert dd.derivative(np.i0, order=2)(0.0) == pytest.approx(0.5, rel=1e-12)
