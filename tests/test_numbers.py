"""The number types Dual and HyperDual: the contract of API.md "Number types", the algebra,
special values and the conventions at kinks."""
import math
import pickle
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dualdiff as dd
from dualdiff import Dual, HyperDual

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
nonzero = finite.filter(lambda v: abs(v) > 1e-3)
REALS = [2, 2.5, np.float64(2.5), np.float32(2.5), np.int64(2), True]


# ---- construction, immutability, representation ---------------------------------------

def test_construction_and_read_only_attributes():
    d = Dual(1.5, 2.0)
    h = HyperDual(1.5, 1.0, 2.0, 3.0)
    assert (d.real, d.eps) == (1.5, 2.0)
    assert (h.real, h.eps1, h.eps2, h.eps12) == (1.5, 1.0, 2.0, 3.0)
    assert Dual(3).eps == 0.0 and HyperDual(3).eps12 == 0.0
    for obj, attr in [(d, "real"), (d, "eps"), (h, "eps12")]:
        with pytest.raises(AttributeError):
            setattr(obj, attr, 0.0)
    with pytest.raises(TypeError, match="immutable"):
        d.__init__(5.0)
    assert d.real == 1.5


@pytest.mark.parametrize("x", [Dual(1.5, 1.0), Dual(-0.0, 1e-300), HyperDual(1.5, 1.0, 0.0, -2.5),
                               Dual(float("inf"), 2.0)])
def test_repr_round_trips_and_pickles(x):
    assert repr(x) in ("Dual(1.5, 1.0)", "Dual(-0.0, 1e-300)", "HyperDual(1.5, 1.0, 0.0, -2.5)",
                       "Dual(inf, 2.0)")
    env = {"Dual": Dual, "HyperDual": HyperDual, "inf": float("inf")}
    y = eval(repr(x), env)
    z = pickle.loads(pickle.dumps(x))
    for v in (y, z):
        assert type(v) is type(x) and repr(v) == repr(x)


@pytest.mark.parametrize("bad", ["1.0", None, 1j, [1.0], Dual(1.0, 1.0), object()])
def test_construction_rejects_non_numbers(bad):
    with pytest.raises(TypeError, match="real number"):
        Dual(bad)
    with pytest.raises(TypeError, match="real number"):
        HyperDual(1.0, bad)


# ---- arithmetic with every kind of operand ---------------------------------------------

@pytest.mark.parametrize("c", REALS)
def test_arithmetic_with_numbers_both_sides(c):
    x = Dual(1.5, 1.0)
    cf = float(c)
    cases = {
        "x+c": (x + c, 1.5 + cf, 1.0), "c+x": (c + x, cf + 1.5, 1.0),
        "x-c": (x - c, 1.5 - cf, 1.0), "c-x": (c - x, cf - 1.5, -1.0),
        "x*c": (x * c, 1.5 * cf, cf), "c*x": (c * x, cf * 1.5, cf),
        "x/c": (x / c, 1.5 / cf, 1 / cf), "c/x": (c / x, cf / 1.5, -cf / 1.5 ** 2),
        "x**c": (x ** c, 1.5 ** cf, cf * 1.5 ** (cf - 1)),
        "c**x": (c ** x, cf ** 1.5, cf ** 1.5 * math.log(cf)),
    }
    for name, (got, val, der) in cases.items():
        assert type(got) is Dual, name
        assert got.real == pytest.approx(val, rel=1e-15), name
        assert got.eps == pytest.approx(der, rel=1e-14), name


def test_unary_operators():
    x = Dual(-1.5, 2.0)
    assert (-x).real == 1.5 and (-x).eps == -2.0
    assert +x is x
    assert abs(x).real == 1.5 and abs(x).eps == -2.0
    h = HyperDual(-1.5, 1.0, 1.0, 0.0)
    assert abs(h).eps1 == -1.0 and abs(h).eps12 == 0.0


def test_numpy_scalars_on_the_left_give_duals():
    x = Dual(1.5, 1.0)
    for c in (np.float64(2.0), np.float32(2.0), np.int64(2)):
        for r in (c * x, c + x, c - x, c / x, c ** x):
            assert type(r) is Dual


def test_mixing_dual_and_hyperdual_raises():
    d, h = Dual(1.0, 1.0), HyperDual(1.0, 1.0, 0.0, 0.0)
    for op in (lambda: d + h, lambda: h * d, lambda: d ** h, lambda: dd.arctan2(d, h),
               lambda: np.maximum(h, d), lambda: d < h):
        with pytest.raises(TypeError, match="cannot mix Dual and HyperDual"):
            op()


@pytest.mark.parametrize("bad", ["a", None, [1, 2], {"a": 1}, 1j])
def test_arithmetic_with_non_numbers_raises_type_error(bad):
    for x in (Dual(1.0, 1.0), HyperDual(1.0)):
        for op in (lambda: x + bad, lambda: bad * x, lambda: x / bad, lambda: x ** bad):
            with pytest.raises(TypeError):
                op()


# ---- comparisons, truth, conversions ---------------------------------------------------

def test_comparisons_use_the_real_part_on_either_side():
    x = Dual(2.0, 100.0)
    assert x < 3 and x <= 2.0 and x > 1 and x >= 2 and x == 2.0 and x != 1.0
    assert 3 > x and 1.0 < x and np.float64(3.0) > x and np.float64(1.0) < x
    assert x == Dual(2.0, -5.0) and x < Dual(2.5, 0.0)
    assert bool(Dual(0.0, 1.0)) is False and bool(HyperDual(1e-300)) is True
    assert hash(x) == hash(2.0)
    assert max(Dual(1.0, 1.0), Dual(2.0, 2.0)).eps == 2.0       # control flow just works


# (math.floor/ceil/trunc are the table's step rules, derivative 0: nothing is lost, see
# test_layouts_and_methods.py's object-array test)
@pytest.mark.parametrize("conv", [float, int, complex, math.sin, math.exp])
def test_conversions_that_drop_the_derivative_raise_with_the_fix(conv):
    for x in (Dual(1.5, 1.0), HyperDual(1.5, 1.0, 1.0, 0.0)):
        with pytest.raises(TypeError) as e:
            conv(x)
        msg = str(e.value)
        assert "lose its derivative" in msg and "numpy.sin" in msg and ".real" in msg


def test_numpy_ufuncs_on_scalars_return_the_same_type():
    for x in (Dual(0.7, 1.0), HyperDual(0.7, 1.0, 1.0, 0.0)):
        for f in (np.sin, np.exp, np.sqrt, np.tanh, np.abs, np.negative, np.square, np.cbrt):
            assert type(f(x)) is type(x), f
        for f in (np.arctan2, np.hypot, np.maximum, np.minimum, np.logaddexp, np.power):
            assert type(f(x, 0.3)) is type(x) and type(f(0.3, x)) is type(x), f
        assert np.isfinite(x) and not np.isnan(x) and np.greater(x, 0.5)


def test_object_arrays_of_duals_work_through_numpy():
    a = np.array([Dual(0.5, 1.0), Dual(1.5, 2.0)])
    s = np.sum(np.sin(a) * 2)
    assert type(s) is Dual
    assert s.eps == pytest.approx(2 * (math.cos(0.5) + 2 * math.cos(1.5)))


# ---- the algebra -----------------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(finite, finite, finite, finite)
def test_product_rule(a, da, b, db):
    r = Dual(a, da) * Dual(b, db)
    assert r.real == a * b
    assert r.eps == pytest.approx(a * db + da * b, rel=1e-12, abs=1e-300)


@settings(max_examples=200, deadline=None)
@given(finite, finite, nonzero, finite)
def test_quotient_rule(a, da, b, db):
    r = Dual(a, da) / Dual(b, db)
    assert r.real == a / b
    # both forms cancel when da*b ~ a*db: the tolerance scales with the terms, not the result
    scale = (abs(da * b) + abs(a * db)) / (b * b) + 1e-290
    assert r.eps == pytest.approx((da * b - a * db) / (b * b), rel=1e-12, abs=1e-14 * scale)


@settings(max_examples=200, deadline=None)
@given(st.floats(-3, 3), st.floats(-3, 3))
def test_chain_rule_through_a_composition(x, t):
    # d/dx sin(exp(x)) = cos(exp(x)) exp(x), along tangent t
    # near a zero of cos(e^x) one ulp of e^x is a large relative error: scale by the terms
    e = math.exp(x)
    r = dd.sin(dd.exp(Dual(x, t)))
    assert r.eps == pytest.approx(math.cos(e) * e * t, rel=1e-13, abs=1e-14 * e * e * abs(t) + 1e-300)
    h = np.sin(np.exp(HyperDual(x, 1.0, 1.0, 0.0)))
    assert h.eps12 == pytest.approx(-math.sin(e) * e * e + math.cos(e) * e, rel=1e-12,
                                    abs=1e-14 * (e * e + e) * e)


@settings(max_examples=100, deadline=None)
@given(finite, finite)
def test_eps_squared_is_zero(a, b):
    e = Dual(0.0, 1.0)
    assert (e * e).real == 0.0 and (e * e).eps == 0.0
    assert (Dual(a, b) * Dual(a, b)).eps == pytest.approx(2 * a * b, rel=1e-15, abs=1e-300)
    h1, h2 = HyperDual(0.0, 1.0, 0.0, 0.0), HyperDual(0.0, 0.0, 1.0, 0.0)
    assert (h1 * h1).eps12 == 0.0 and (h2 * h2).eps12 == 0.0 and (h1 * h2).eps12 == 1.0


@settings(max_examples=100, deadline=None)
@given(st.floats(0.1, 10), st.floats(-3, 3))
def test_hyperdual_second_derivative_of_power_and_log(x, p):
    h = HyperDual(x, 1.0, 1.0, 0.0)
    assert (h ** p).eps12 == pytest.approx(p * (p - 1) * x ** (p - 2), rel=1e-12, abs=1e-300)
    assert np.log(h).eps12 == pytest.approx(-1 / x ** 2, rel=1e-14)


# ---- special values and conventions ----------------------------------------------------

KINKS = [  # (function, point, value, derivative): the conventions API.md documents
    (dd.abs, 0.0, 0.0, 0.0), (dd.abs, -0.0, 0.0, 0.0), (dd.relu, 0.0, 0.0, 0.0),
    (dd.sign, 0.0, 0.0, 0.0), (dd.sign, -2.0, -1.0, 0.0), (dd.floor, 2.0, 2.0, 0.0),
    (dd.ceil, 2.5, 3.0, 0.0), (dd.sqrt, 0.0, 0.0, math.inf), (dd.relu, 1.0, 1.0, 1.0),
]


@pytest.mark.parametrize("f,x,value,deriv", KINKS)
def test_kink_conventions(f, x, value, deriv):
    r = f(Dual(x, 1.0))
    assert r.real == value and r.eps == deriv


def test_maximum_and_minimum_split_ties_equally():
    for f in (dd.maximum, dd.minimum, np.maximum, np.minimum):
        r = f(Dual(2.0, 1.0), Dual(2.0, 3.0))
        assert r.real == 2.0 and r.eps == 2.0                # 1/2 * 1 + 1/2 * 3
        assert f(Dual(2.0, 1.0), 2.0).eps == 0.5
    assert dd.maximum(Dual(3.0, 1.0), 2.0).eps == 1.0 and dd.maximum(Dual(1.0, 1.0), 2.0).eps == 0.0
    assert dd.clip(Dual(0.5, 1.0), 0.0, 1.0).eps == 1.0 and dd.clip(Dual(2.0, 1.0), 0.0, 1.0).eps == 0.0


def test_power_at_zero_and_negative_bases():
    for p in (1.5, 2.0, 3.0, 2.5):
        r = Dual(0.0, 1.0) ** p
        assert r.real == 0.0 and r.eps == 0.0, p             # no NaN from 0 * inf or log(0)
    assert (Dual(0.0, 1.0) ** 1.0).eps == 1.0 and (Dual(0.0, 1.0) ** 0).eps == 0.0
    assert (HyperDual(0.0, 1.0, 1.0, 0.0) ** 2).eps12 == 2.0
    assert (HyperDual(0.0, 1.0, 1.0, 0.0) ** 1).eps12 == 0.0
    for x, n in ((-2.0, 3), (-2.0, 2), (-1.5, -1), (-3.0, 4.0)):
        r = HyperDual(x, 1.0, 1.0, 0.0) ** n
        assert r.real == pytest.approx(x ** n) and r.eps1 == pytest.approx(n * x ** (n - 1))
        assert r.eps12 == pytest.approx(n * (n - 1) * x ** (n - 2))
        r2 = Dual(x, 1.0) ** Dual(float(n), 0.0)             # constant-valued dual exponent
        assert r2.eps == pytest.approx(n * x ** (n - 1))
    assert (0.0 ** Dual(2.0, 1.0)).eps == 0.0 and (2.0 ** Dual(3.0, 1.0)).eps == pytest.approx(8 * math.log(2))


@pytest.mark.filterwarnings("ignore:divide by zero")
def test_zero_tangent_never_turns_infinite_derivatives_into_nan():
    assert dd.sqrt(Dual(0.0, 0.0)).eps == 0.0
    assert dd.log(Dual(0.0, 0.0)).eps == 0.0
    assert (Dual(math.inf, 1.0) * 2.0).eps == 2.0
    assert dd.arcsin(HyperDual(1.0, 0.0, 0.0, 0.0)).eps12 == 0.0


@pytest.mark.parametrize("expr,message", [
    (lambda: dd.log(Dual(0.0, 1.0)), "divide by zero encountered in log"),
    (lambda: np.log(Dual(-1.0, 1.0)), "invalid value encountered in log"),
    (lambda: Dual(1.0, 1.0) / 0.0, "divide by zero encountered in divide"),
    (lambda: np.sqrt(HyperDual(-1.0, 1.0, 1.0, 0.0)), "invalid value encountered in sqrt"),
    (lambda: np.exp(Dual(1000.0, 1.0)), "overflow encountered in exp"),
    (lambda: dd.arccosh(Dual(0.5, 1.0)), "invalid value encountered in arccosh"),
    (lambda: Dual(-8.0, 1.0) ** (1 / 3), "invalid value encountered in power"),
])
def test_outside_the_domain_values_follow_numpy_with_its_warning(expr, message):
    with pytest.warns(RuntimeWarning, match=message):
        r = expr()
    assert not np.isfinite(r.real)


def test_numpy_errstate_is_honoured():
    with np.errstate(divide="raise"):
        with pytest.raises(FloatingPointError):
            dd.log(Dual(0.0, 1.0))
    with np.errstate(all="ignore"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert np.isnan(dd.sqrt(Dual(-1.0, 1.0)).real)


def test_infinities_nan_and_signed_zero():
    assert dd.exp(Dual(-math.inf, 1.0)).real == 0.0 and dd.exp(Dual(-math.inf, 1.0)).eps == 0.0
    assert dd.tanh(Dual(math.inf, 1.0)).real == 1.0 and dd.tanh(Dual(math.inf, 1.0)).eps == 0.0
    assert dd.sigmoid(Dual(-math.inf, 1.0)).real == 0.0 and dd.sigmoid(Dual(math.inf, 1.0)).eps == 0.0
    assert math.isnan(dd.sin(Dual(math.nan, 1.0)).real)
    assert math.copysign(1.0, (-Dual(0.0, 1.0)).real) == -1.0
    assert dd.arctan(Dual(1e300, 1.0)).eps == 0.0 and dd.arcsinh(Dual(1e200, 1.0)).eps == 1e-200
    assert dd.logaddexp(Dual(math.inf, 1.0), Dual(math.inf, 1.0)).eps == 1.0
    assert dd.logaddexp(Dual(-math.inf, 1.0), 0.0).real == 0.0


def test_elementary_functions_keep_the_kind_of_a_plain_number():
    """dd.NAME of a numpy scalar is a numpy scalar (it keeps .max(), .sum(), ... as numpy's
    ufuncs' results do, so code reads the same in sweeps where the value is constant); of a
    Python number, a Python float."""
    for x in (np.float64(-1.5), np.float32(-1.5), np.int64(-1)):
        for r in (dd.relu(x), dd.sin(x), dd.maximum(x, 0.5), dd.arctan2(x, np.float64(2.0))):
            assert type(r) is np.float64
    assert type(dd.relu(-1.5)) is float and type(dd.maximum(-1.5, 2)) is float
    assert type(dd.power(2.0, 3)) is float and type(dd.power(np.float64(2.0), 3)) is np.float64

    def f(a, x):                 # x is a constant in the sweeps of a: np.sum gives float64
        return np.sum(dd.relu(np.sum(x, axis=-1, initial=0.0)).max() + a)
    a, x = np.array([0.9, 0.75]), [-1.985, 1.048, -1.448, -0.036]
    for chunk in (None, 1):
        H = dd.hessian(f, argnums=(0, 1), chunk=chunk)(a, x)
        assert all(np.all(h == 0) for row in H for h in row)
