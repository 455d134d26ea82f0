"""Every rule of the C table, for both number types, against the independent oracle.

tests/golden/rules.json holds f, f', f'' (and the five partials of binary rules) computed by
sympy at 50 digits (tests/golden/generate.py). Dual gives f and f'; HyperDual seeded with
e1 = e2 = 1 gives f, f' and f''. Tolerance: 1e-13 relative (the table's numerically careful
forms are what make this hold at sigmoid(40), tanh(15), log1p(1e-10), ...).
"""
import json
import os

import numpy as np
import pytest

import dualdiff as dd
from dualdiff import _core
from conftest import rel_err

with open(os.path.join(os.path.dirname(__file__), "golden", "rules.json")) as _fh:
    GOLDEN = json.load(_fh)
TOL = 1e-13
UNARY = [name for name, lo, hi in _core.UNARY_RULES]
BINARY = [name for name, lo, hi in _core.BINARY_RULES]
FN = _core.elementary


def test_every_rule_of_the_table_has_golden_values():
    assert sorted(GOLDEN["unary"]) == sorted(UNARY)
    assert sorted(GOLDEN["binary"]) == sorted(BINARY)


@pytest.mark.parametrize("name", UNARY)
def test_unary_rule_dual(name):
    for r in GOLDEN["unary"][name]:
        y = FN[name](dd.Dual(r["x"], 1.0))
        assert type(y) is dd.Dual
        assert rel_err(y.real, r["f"]) <= TOL, (name, r["x"], y.real, r["f"])
        assert rel_err(y.eps, r["d1"]) <= TOL, (name, r["x"], y.eps, r["d1"])


@pytest.mark.parametrize("name", UNARY)
def test_unary_rule_hyperdual(name):
    for r in GOLDEN["unary"][name]:
        y = FN[name](dd.HyperDual(r["x"], 1.0, 1.0, 0.0))
        assert type(y) is dd.HyperDual
        assert rel_err(y.real, r["f"]) <= TOL, (name, r["x"])
        assert rel_err([y.eps1, y.eps2], [r["d1"]] * 2) <= TOL, (name, r["x"], y.eps1, r["d1"])
        assert rel_err(y.eps12, r["d2"]) <= TOL, (name, r["x"], y.eps12, r["d2"])


@pytest.mark.parametrize("name", UNARY)
def test_unary_rule_on_floats_and_arrays_gives_the_value(name):
    xs = np.array([r["x"] for r in GOLDEN["unary"][name]])
    fs = np.array([r["f"] for r in GOLDEN["unary"][name]])
    assert rel_err([FN[name](float(x)) for x in xs], fs) <= TOL
    assert rel_err(FN[name](xs), fs) <= TOL


def _binary_partials(name, a, b):
    """(f, fa, fb, faa, fab, fbb) from four hyper-dual evaluations of the rule."""
    f = FN[name]
    H = dd.HyperDual
    aa = f(H(a, 1, 1, 0), H(b, 0, 0, 0))          # e1 = e2 = a-direction
    bb = f(H(a, 0, 0, 0), H(b, 1, 1, 0))
    ab = f(H(a, 1, 0, 0), H(b, 0, 1, 0))          # e1 along a, e2 along b
    d = f(dd.Dual(a, 1.0), dd.Dual(b, 0.0)), f(dd.Dual(a, 0.0), dd.Dual(b, 1.0))
    return aa, bb, ab, d


@pytest.mark.parametrize("name", BINARY)
def test_binary_rule_partials(name):
    for r in GOLDEN["binary"][name]:
        a, b = r["a"], r["b"]
        aa, bb, ab, (da, db) = _binary_partials(name, a, b)
        assert rel_err([aa.real, da.real], [r["f"]] * 2) <= TOL, (name, a, b)
        assert rel_err([aa.eps1, da.eps], [r["fa"]] * 2) <= TOL, (name, a, b, aa.eps1, r["fa"])
        assert rel_err(aa.eps12, r["faa"]) <= TOL, (name, a, b, aa.eps12, r["faa"])
        if r.get("fb_undefined"):
            # a < 0: d/db of a^b is not real; it must not leak into the a-derivatives
            assert np.isnan(db.eps) and np.isfinite(da.eps)
            continue
        assert rel_err([bb.eps1, db.eps], [r["fb"]] * 2) <= TOL, (name, a, b, bb.eps1, r["fb"])
        assert rel_err(bb.eps12, r["fbb"]) <= TOL, (name, a, b, bb.eps12, r["fbb"])
        assert rel_err(ab.eps12, r["fab"]) <= TOL, (name, a, b, ab.eps12, r["fab"])


@pytest.mark.parametrize("name", BINARY)
def test_binary_rule_with_a_constant_operand(name):
    """A float operand is a dual with zero tangent: same numbers as the dual-dual call."""
    for r in GOLDEN["binary"][name][:4]:
        a, b = r["a"], r["b"]
        left = FN[name](dd.Dual(a, 1.0), b)
        right = FN[name](a, dd.Dual(b, 1.0))
        assert rel_err(left.eps, r["fa"]) <= TOL
        if not r.get("fb_undefined"):
            assert rel_err(right.eps, r["fb"]) <= TOL


@pytest.mark.parametrize("p", [2.0, 3.0, 0.5, -1.0, 2.5, -2.0, 1.0, 0.0, 7.0])
@pytest.mark.parametrize("x", [0.3, 1.7, 4.0])
def test_power_with_constant_exponent(x, p):
    """x ** p has its own rule (exact at 0): compare with the closed forms."""
    y = dd.HyperDual(x, 1.0, 1.0, 0.0) ** p
    assert rel_err(y.real, x ** p) <= TOL
    assert rel_err(y.eps1, p * x ** (p - 1) if p != 0 else 0.0) <= 2 * TOL
    assert rel_err(y.eps12, p * (p - 1) * x ** (p - 2) if p not in (0.0, 1.0) else 0.0) <= 4 * TOL


def test_the_issue_test_function():
    """f(x) = exp(x)/sqrt(sin(x)^3 + cos(x)^3) at 1.5: f' and f'' to 1e-14 relative."""
    from functions import TESTFN_D1, TESTFN_D2, testfn
    d = testfn(dd.Dual(1.5, 1.0))
    h = testfn(dd.HyperDual(1.5, 1.0, 1.0, 0.0))
    assert rel_err(d.eps, TESTFN_D1) <= 1e-14
    assert rel_err(h.eps12, TESTFN_D2) <= 1e-14
    g = GOLDEN["composite"]["testfn"]
    for r in g:
        h = testfn(dd.HyperDual(r["x"], 1.0, 1.0, 0.0))
        assert rel_err([h.real, h.eps1, h.eps12], [r["f"], r["d1"], r["d2"]]) <= 1e-13


def test_functions_not_in_numpy_are_dualdiff_functions():
    for name in ("sigmoid", "softplus", "relu", "erf", "erfc"):
        assert callable(getattr(dd, name))
    assert dd.sigmoid(dd.Dual(0.3, 1.0), a=2.0).eps == pytest.approx(
        2 * dd.sigmoid(0.6) * (1 - dd.sigmoid(0.6)), rel=1e-15)


@pytest.mark.filterwarnings("ignore:overflow encountered in exp")
def test_exp_is_within_one_ulp_of_the_c_library(rng):
    """csrc/exp.h computes e^x itself (so the array loops vectorize); check it against the C
    library's exp, an independent implementation, over the whole finite range."""
    import math
    xs = np.concatenate([rng.uniform(-745, 709.78, 20000), rng.uniform(-5, 5, 20000),
                         [0.0, -0.0, 1.0, -1.0, 709.78, 709.79, -708.4, -745.13, -745.14,
                          1e-300, -1e-300, 5e-324]])
    for x in xs:
        got, want = dd.exp(float(x)), math.exp(float(x)) if x < 709.79 else math.inf
        if want == 0.0 or want < 2.3e-308:        # subnormal range: absolute spacing
            assert abs(got - want) <= 5e-324, x
        elif math.isinf(want):
            assert got == want, x
        else:
            assert abs(got - want) <= math.ulp(want), (x, got, want)
    assert dd.exp(1.0) == math.e and dd.exp(0.0) == 1.0
    assert dd.exp(float("inf")) == math.inf and dd.exp(-float("inf")) == 0.0
    assert math.isnan(dd.exp(float("nan"))) and dd.exp(1e300) == math.inf
