"""Order statistics on dual values (dualdiff/_numpy/sorting.py): sort, partition, median,
percentile, quantile (every method, weights, dual levels), their nan forms, the running
extremes ufunc.accumulate, unique -- values equal to numpy's, derivatives against finite
differences at both orders, and the conventions at ties and NaN."""
import warnings

import numpy as np
import pytest

import dualdiff as dd
from _numpy_checks import check, check_scalar, spread
from dualdiff import Dual, HyperDual

METHODS = ["inverted_cdf", "averaged_inverted_cdf", "closest_observation",
           "interpolated_inverted_cdf", "hazen", "weibull", "linear", "median_unbiased",
           "normal_unbiased", "lower", "higher", "midpoint", "nearest"]
LEVELS = [0.0, 0.1, 0.25, 0.5, 0.77, 1.0]
NAN_AT = np.zeros((4, 6), dtype=bool)
NAN_AT[[0, 1, 1, 3], [2, 0, 5, 5]] = True        # every lane keeps valid elements


def with_nans(x):
    return np.where(NAN_AT, np.nan, x)


CASES = {
    # name: (f, input shape)
    "sort last axis": (lambda x: np.sort(x) ** 2, (4, 6)),
    "sort axis 0": (lambda x: np.sort(x, axis=0, kind="heapsort") ** 2, (4, 6)),
    "sort flat": (lambda x: np.sort(x, axis=None) * np.arange(24.0), (4, 6)),
    "gather by argsort": (lambda x: np.take_along_axis(x, np.argsort(x, axis=0), axis=0) * x,
                          (4, 6)),
    "gather by argmax": (lambda x: np.take_along_axis(
        x, np.expand_dims(np.argmax(x, axis=1), 1), axis=1) ** 2, (4, 6)),
    "partition": (lambda x: np.partition(x, 2) ** 2, (4, 6)),
    "partition two kth axis 0": (lambda x: np.partition(x, [0, 3], axis=0) ** 2, (4, 6)),
    "median": (lambda x: np.median(x ** 2), (4, 6)),
    "median odd lanes": (lambda x: np.median(x ** 2, axis=0), (5, 3)),
    "median axes keepdims": (lambda x: np.median(x ** 2, axis=(0, 2), keepdims=True), (2, 3, 4)),
    "percentile": (lambda x: np.percentile(x ** 2, [5, 50, 95], axis=1), (4, 6)),
    "quantile scalar level": (lambda x: np.quantile(x ** 2, 0.3), (4, 6)),
    "quantile integer levels": (lambda x: np.quantile(x ** 2, [0, 1], axis=0), (4, 6)),
    "quantile weights": (lambda x: np.quantile(x ** 2, [0.2, 0.9], axis=1,
                                               method="inverted_cdf",
                                               weights=np.arange(1.0, 7.0)), (4, 6)),
    "quantile full weights": (lambda x: np.quantile(x ** 2, 0.5, method="inverted_cdf",
                                                    weights=np.ones((4, 6))), (4, 6)),
    "nanmedian": (lambda x: np.nanmedian(with_nans(x) ** 2, axis=1), (4, 6)),
    "nanmedian flat": (lambda x: np.nanmedian(with_nans(x) ** 2), (4, 6)),
    "nanpercentile": (lambda x: np.nanpercentile(with_nans(x) ** 2, [10, 60], axis=1,
                                                 keepdims=True), (4, 6)),
    "nanquantile weights": (lambda x: np.nanquantile(with_nans(x), 0.4, axis=1,
                                                     method="inverted_cdf",
                                                     weights=np.tile(np.arange(1.0, 7.0), (4, 1))),
                            (4, 6)),
    "maximum.accumulate": (lambda x: np.maximum.accumulate(x * x, axis=1), (4, 6)),
    "minimum.accumulate axis 0": (lambda x: np.minimum.accumulate(x, axis=0) ** 2, (4, 6)),
    "fmax.accumulate with NaN": (lambda x: np.fmax.accumulate(with_nans(x)[:, 1:], axis=1),
                                 (4, 6)),
    "fmin.accumulate": (lambda x: np.fmin.accumulate(x.ravel()) * x.ravel(), (4, 6)),
    "fmax.reduce with NaN": (lambda x: np.fmax.reduce(with_nans(x) ** 2, axis=1), (4, 6)),
    "fmin.reduce with NaN, axis 0": (lambda x: np.fmin.reduce(with_nans(x) * x), (4, 6)),
    "unique": (lambda x: np.unique(x) ** 2, (4, 6)),
    "unique rows": (lambda x: np.unique(np.concatenate([x, x[:1]]), axis=0) ** 2, (4, 6)),
    "unique_counts": (lambda x: np.unique_counts(x).values ** 2, (4, 6)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_derivatives_at_both_orders(rng, name):
    f, shp = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        check(f, spread(rng, int(np.prod(shp))).reshape(shp), rng)


# the left folds of the other binary ufuncs (dualdiff/_numpy/reductions.py): the steps are the
# ufuncs' own handlers, whose values come from the C rule table where the ufunc has a row
# (logaddexp, hypot: an ulp from numpy's loops at most), so values to 1e-13
FOLDS = {
    "logaddexp.reduce": (lambda x: np.logaddexp.reduce(x, axis=1), (4, 6)),
    "logaddexp.reduce all axes, keepdims": (lambda x: np.logaddexp.reduce(
        x, axis=None, keepdims=True), (4, 6)),
    "logaddexp2.reduce initial": (lambda x: np.logaddexp2.reduce(x, axis=0, initial=0.5), (4, 6)),
    "hypot.reduce axis (0, 1)": (lambda x: np.hypot.reduce(x - 1.0, axis=(0, 1)), (4, 6)),
    "subtract.reduce": (lambda x: np.subtract.reduce(x * x, axis=1), (4, 6)),
    "true_divide.reduce": (lambda x: np.true_divide.reduce(x, axis=0), (4, 6)),
    "logaddexp.accumulate": (lambda x: np.logaddexp.accumulate(x, axis=1), (4, 6)),
    "hypot.accumulate axis 0": (lambda x: np.hypot.accumulate(x, axis=0), (4, 6)),
    "subtract.accumulate": (lambda x: np.subtract.accumulate(x.ravel() ** 2), (4, 6)),
    "float_power.reduce": (lambda x: np.float_power.reduce(x[:, :3] + 0.5, axis=1), (4, 6)),
}


@pytest.mark.parametrize("name", sorted(FOLDS))
def test_folds_of_binary_ufuncs(rng, name):
    f, shp = FOLDS[name]
    check(f, spread(rng, int(np.prod(shp))).reshape(shp), rng, exact=False)


@pytest.mark.parametrize("method", METHODS)
def test_every_quantile_method(rng, method):
    x = spread(rng, 24).reshape(4, 6)
    check(lambda x: np.quantile(x ** 2, LEVELS, axis=1, method=method), x, rng)
    check(lambda x: np.nanpercentile(with_nans(x) ** 2, [3, 50, 99], axis=1, method=method),
          x, rng, chunks=(None,))


def test_quantile_is_differentiable_in_its_level(rng):
    """Continuous methods interpolate linearly in q: d/dq at an interior q is the slope of
    the order statistics (n - 1)(s[i+1] - s[i]) for 'linear'."""
    data = np.sort(spread(rng, 9))
    q = 0.3 + 0.01 * rng.uniform()
    g = dd.derivative(lambda q: np.quantile(data, q))(q)
    i = int(np.floor(8 * q))
    assert g == pytest.approx(8 * (data[i + 1] - data[i]), rel=1e-12)
    assert dd.derivative(lambda q: np.quantile(data, q), order=2)(q) == 0.0
    assert dd.derivative(lambda q: np.percentile(data, q))(100 * q) == pytest.approx(g / 100)
    assert dd.derivative(lambda q: np.quantile(data, q, method="lower"))(q) == 0.0
    check(lambda v: np.quantile(v[1:], v[0] / 10, axis=0),
          np.concatenate([[3.0 + rng.uniform(0, 0.5)], spread(rng, 8)]), rng)


def test_weights_have_derivative_zero(rng):
    """Weighted quantiles pick an element: piecewise constant in the weights."""
    data = spread(rng, 7)
    w = rng.uniform(1, 2, 7)
    g = dd.grad(lambda w: np.quantile(data, 0.4, method="inverted_cdf", weights=w))(w)
    assert np.array_equal(g, np.zeros(7))


# ---- conventions ------------------------------------------------------------------------------

def test_sort_ties_are_stable():
    """Equal values: the k-th of a run takes the k-th equal element in index order, for
    every kind (all give the same sorted values)."""
    x = np.array([1.0, 3.0, 1.0, 2.0, 1.0])
    for kind in (None, "quicksort", "mergesort", "heapsort", "stable"):
        J = dd.jacobian(lambda x: np.sort(x, kind=kind))(x)
        assert np.array_equal(J, np.eye(5)[[0, 2, 4, 3, 1]])
    J = dd.jacobian(lambda x: np.partition(x, 1))(x)
    assert np.array_equal(J[1], np.eye(5)[2])                  # the second of the three 1s
    assert np.array_equal(dd.grad(np.median)(np.array([2.0, 2.0, 2.0])), [0.0, 1.0, 0.0])


def test_partition_is_numpys_arrangement(rng):
    for _ in range(20):
        x = rng.integers(0, 4, size=(9, 3)).astype(float)      # many ties
        kth = sorted(rng.choice(9, size=2, replace=False))
        value, _ = dd.jvp(lambda x: np.partition(x, kth, axis=0), (x,), (np.ones_like(x),))
        assert np.array_equal(value, np.partition(x, kth, axis=0))


def test_running_extreme_ties_share_the_derivative_like_max():
    x = np.array([1.0, 3.0, 3.0, 2.0, 5.0])
    J = dd.jacobian(np.maximum.accumulate)(x)
    want = np.array([[1, 0, 0, 0, 0], [0, 1, 0, 0, 0], [0, .5, .5, 0, 0], [0, .5, .5, 0, 0],
                     [0, 0, 0, 0, 1]])
    assert np.array_equal(J, want)
    for i in range(5):                                         # = the derivative of max(x[:i+1])
        assert np.array_equal(J[i, :i + 1], dd.grad(np.max)(x[:i + 1]))


# ways to tie k copies of one element at the extreme
TIED_COPIES = {
    "max of copies": lambda x, k: np.max(np.repeat(x[:1], k) * 1.0 + 0.0 * x[1:2]),
    "min over two axes": lambda x, k: np.min(np.tile(x[:1] * 0.5, (k, 1)), axis=(0, 1)),
    "min of a running min": lambda x, k: np.min(np.minimum.accumulate(
        np.concatenate([x[1:2] + 5.0, x[:1], x[:1].repeat(k) + 1.0])), axis=0),
    "running max of copies": lambda x, k: np.maximum.accumulate(np.repeat(x[:1], k))[-1],
}


@pytest.mark.parametrize("name", list(TIED_COPIES))
@pytest.mark.parametrize("k", [1, 2, 3, 5, 7, 10, 12])
def test_ties_of_copies_of_one_element_carry_its_derivative_exactly(name, k):
    """k tied copies of one element share its derivative equally: their mean is the
    element's own derivative, to the bit where k copies of it sum exactly (seeded directions,
    halves): a sum of w t with w = 1/10 is 0.9999999999999999 t, and
    np.min(np.minimum.accumulate(x)) once gave -17.999999999999996 for -18 (fuzz seed 2020).
    The same at every chunk and at second order."""
    g = TIED_COPIES[name]

    def f(x):
        m = g(x, k)
        return m * m * m + np.sum(x)
    x = np.array([-3.0, 0.25, 0.5])
    ref = dd.grad(lambda x: g(x, 1) ** 3 + np.sum(x))(x)
    for chunk in (None, 1, 2):
        assert np.array_equal(dd.grad(f, chunk=chunk)(x), ref)
        H = dd.hessian(f, chunk=chunk)(x)
        assert np.array_equal(H, dd.hessian(lambda x: g(x, 1) ** 3)(x))


def test_a_tie_shared_by_seeded_elements_does_not_depend_on_the_chunk():
    """Seven tied elements, each seeded in its own direction: each gets 1/7 correctly
    rounded, whichever chunk carries it (the sum over the tie has one nonzero term per
    direction, so its order cannot matter; fuzz seed 2222 found a form where it did)."""
    x = np.array([1, 1, 2, 1, 3, 3, 1, 2, 3, 3, 1, 3, 2, 3, 3, 2], dtype=float).reshape(4, 4)
    want = np.where(x == 3, 1.0 / 7.0, 0.0)
    for chunk in (None, 1, 3, 5):
        assert np.array_equal(dd.grad(lambda x: np.sum(x.max(keepdims=True)), chunk=chunk)(x),
                              want)
        assert np.array_equal(dd.grad(lambda x: np.max(x, axis=(0, 1)), chunk=chunk)(x), want)


def test_a_tie_of_running_extremes_sums_alike_at_every_chunk():
    """The max of a running max ties 24 entries whose tangents are unequal means (1, 1/2,
    1/3, ...): their sum rounds by its order, and numpy's order depended on how many
    directions trail the reduced axis. Gradient and Hessian are now the same bits at every
    chunk (fuzz seed 2222: an ulp in 7 of 1225 Hessian entries)."""
    x = np.array([-1, 2, -3, 2, -1, -3, -3, -1, 2, 1, 1, 3, 1, -3, 3, 3, -1, 1, -2, -1, 1, 2,
                  1, -2, 1, -1, -2, 3, 2, -1, 1, -2, -3, 1, -3], dtype=float)

    def f(x):
        return np.maximum.reduce(np.fmax.accumulate(x), axis=0) ** 2
    g, H = dd.grad(f, chunk=1)(x), dd.hessian(f, chunk=1)(x)
    for chunk in (None, 2, 7):
        assert np.array_equal(dd.grad(f, chunk=chunk)(x), g)
        assert np.array_equal(dd.hessian(f, chunk=chunk)(x), H)


@pytest.mark.parametrize("reduce", [np.fmin.reduce, np.maximum.reduce, np.max, np.min])
def test_an_extreme_over_a_non_empty_axis_of_an_empty_array_is_empty(reduce):
    """(0, 1, 4) reduced over the last axis: an empty (0, 1, 1) result with no derivative,
    as numpy's (its lanes' sum reshaped with -1, which an empty axis cannot resolve: fuzz
    seeds 2424, 2525)."""
    def f(x):
        return np.sum(reduce(np.tile(x, 2)[0:2:-2], axis=2, keepdims=True))
    x = np.array([-0.562, -1.22]).reshape(1, 1, 2)
    for chunk in (None, 1):
        assert np.array_equal(dd.grad(f, chunk=chunk)(x), np.zeros_like(x))
    assert np.array_equal(dd.hessian(f)(x), np.zeros((1, 1, 2, 1, 1, 2)))


def test_nan_propagates_with_its_tangent_and_nan_functions_ignore_it():
    x = np.array([0.5, np.nan, 2.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert np.array_equal(dd.jacobian(np.sort)(x), np.eye(4)[[0, 3, 2, 1]])
        assert np.isnan(np.median(x))
        assert np.array_equal(dd.grad(np.median)(x), [0, 1, 0, 0])   # the NaN's tangent
        assert np.array_equal(dd.grad(np.nanmedian)(x), [0, 0, 0, 1])
        assert np.array_equal(dd.grad(np.nanmax)(x), [0, 0, 1, 0])
        assert np.array_equal(dd.grad(np.fmax.reduce)(x), [0, 0, 1, 0])     # NaN skipped
        assert np.array_equal(dd.grad(np.fmin.reduce)(x), [1, 0, 0, 0])
        assert np.array_equal(dd.grad(np.maximum.reduce)(x), [0, 1, 0, 0])  # NaN wins
        J = dd.jacobian(np.maximum.accumulate)(x)
        assert np.array_equal(J[1:, 1], [1, 1, 1])                  # NaN wins from there on
        J = dd.jacobian(np.fmax.accumulate)(x)
        assert np.array_equal(J[:, 1], [0, 0, 0, 0])                # fmax skips it


def test_all_nan_lanes_give_a_constant_nan_and_numpys_warning():
    x = np.array([[np.nan, np.nan], [1.0, 2.0]])
    for f in (lambda x: np.nanmedian(x, axis=1), lambda x: np.nanquantile(x, 0.3, axis=1),
              lambda x: np.nanmean(x, axis=1), lambda x: np.nanmax(x, axis=1)):
        with pytest.warns(RuntimeWarning):
            value, t = dd.jvp(f, (x,), (np.ones_like(x),))
        assert np.isnan(value[0]) and t[0] == 0.0 and np.isfinite(t[1])


def test_unique_takes_the_first_occurrence():
    x = np.array([2.0, 1.0, 2.0, 1.0, 3.0])
    J = dd.jacobian(np.unique)(x)
    assert np.array_equal(J, np.eye(5)[[1, 0, 4]])
    vals, idx, inv, cnt = np.unique(Dual(2.0, 1.0) * np.ones(1), True, True, True)
    assert vals.eps.tolist() == [[1.0]] and idx.tolist() == [0] and cnt.tolist() == [1]


# ---- dual scalars, errors --------------------------------------------------------------------

@pytest.mark.parametrize("f", [
    lambda t: np.median(t) * t, lambda t: np.percentile(t * t, 40) + t,
    lambda t: np.quantile(np.sin(t), 0.5, method="hazen"), lambda t: np.nanmedian(t ** 3),
    lambda t: np.nanpercentile(t, 10) * t], ids=["median", "percentile", "quantile",
                                                 "nanmedian", "nanpercentile"])
def test_on_dual_scalars(f):
    check_scalar(f, 0.7)
    assert type(np.median(Dual(1.0, 2.0))) is Dual
    assert type(np.quantile(HyperDual(1.0, 2.0, 1.0, 0.0), 0.3)) is HyperDual


@pytest.mark.parametrize("call,error,words", [
    (lambda x: np.sort(x, order="f"), TypeError, "order="),
    (lambda x: np.sort(x, kind="bogus"), ValueError, "kind"),
    (lambda x: np.partition(x, x[0]), TypeError, "kth"),
    (lambda x: np.quantile(x, 1.5), ValueError, "range"),
    (lambda x: np.quantile(x, 0.5, method="bogus"), ValueError, "method"),
    (lambda x: np.quantile(x, 0.5, out=np.empty(())), TypeError, "out="),
    (lambda x: np.median(x, out=np.empty(())), TypeError, "out="),
    (lambda x: np.percentile(x, 50, weights=x), ValueError, "inverted_cdf"),
    (lambda x: np.maximum.accumulate(x, dtype=int), TypeError, "dtype"),
    (lambda x: np.maximum.accumulate(x[0]), TypeError, "scalar"),
    (lambda x: np.argmax(x, out=x), TypeError, "out="),
    (lambda x: np.sort(x[0]), np.exceptions.AxisError, "axis"),
])
def test_bad_calls_raise_clear_errors(call, error, words):
    with pytest.raises(error, match=words):
        dd.grad(lambda x: np.sum(call(x)))(np.array([0.3, 0.1, 0.2]))


def test_power_and_arctan2_reduce_are_refused_as_numpys_are_not_folds():
    """numpy 2.4's own power.reduce([1.5, 2, 3]) is 1.5 ** 3 (a[0] op a[-1]), not the fold:
    dualdiff refuses them rather than differ from f's value."""
    for u in (np.power, np.arctan2):
        with pytest.raises(TypeError, match=r"numpy\.(pow|power|atan2|arctan2)\.reduce\(\.\.\.\) "
                                            "is not supported"):
            dd.grad(lambda v: u.reduce(v))(np.array([1.5, 2.0, 3.0]))


@pytest.mark.parametrize("ufunc", [np.logaddexp, np.hypot, np.subtract, np.float_power])
def test_folds_of_a_scalar_and_of_empty_axes_are_numpys(ufunc):
    """reduce of a 0-d value is the value itself (with its derivative); over an empty axis
    the identity or initial, a constant; a non-reorderable ufunc over two axes, numpy's
    ValueError; where= and dtype= refused by name."""
    d = ufunc.reduce(Dual(0.3, 1.0))
    assert isinstance(d, Dual) and d.real == 0.3 and d.eps == 1.0
    assert dd.derivative(lambda t: ufunc.reduce(t))(0.7) == 1.0
    if ufunc.identity is not None:
        g = dd.grad(lambda v: np.sum(ufunc.reduce(v[:, :0], axis=1)) + v[0, 0])(np.ones((2, 2)))
        assert np.array_equal(g, [[1.0, 0.0], [0.0, 0.0]])
    else:
        with pytest.raises(ValueError):
            dd.grad(lambda v: np.sum(ufunc.reduce(v[:, :0], axis=1)))(np.ones((2, 2)))
    x = np.array([[0.3, 0.7], [1.2, 0.45]])
    if ufunc in (np.subtract, np.float_power):
        with pytest.raises(ValueError, match="not reorderable"):
            dd.grad(lambda v: ufunc.reduce(v, axis=None))(x)
    with pytest.raises(TypeError, match=r"reduce\(\.\.\., where=\.\.\.\) is not supported"):
        dd.grad(lambda v: np.sum(ufunc.reduce(v, axis=0, where=[True, False])))(x)
    with pytest.raises(TypeError, match="dtype"):
        dd.grad(lambda v: np.sum(ufunc.reduce(v, axis=0, dtype=np.float32)))(x)
