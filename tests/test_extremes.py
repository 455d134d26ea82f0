"""Every rule of the C table at extreme magnitudes, against the independent oracle.

tests/golden/extremes.json holds f, f', f'' (binary rules: f and the five partials) at a
log-spaced grid over 1e-300..1e300 of both signs and at each rule's edge points, computed
by sympy/mpmath at whatever precision converges (tests/golden/generate.py), and only where
the true value is a finite normal double (null elsewhere: over- or underflow is not a bug).

The bound is relative, in units of DBL_EPSILON = 2^-52 (one ulp of 1.0, so between one and
two ulps of the result): ULPS = 4 for every rule and derivative, the few roundings a careful
row makes on top of the C library's own error (the largest measured is 3.6, cbrt'', where
glibc's cbrt is itself 1.8 off and f' = 1/(3 cbrt^2) doubles that). A true zero must come
out exactly zero.

Run as a script to print the largest error of every rule and derivative:
    python tests/test_extremes.py
"""
import json
import math
import os
import sys

import numpy as np
import pytest

import dualdiff as dd
from dualdiff import _arrays, _core

_HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(_HERE, "golden", "extremes.json")) as _fh:
    GOLDEN = json.load(_fh)
FN = _core.elementary
UNARY = [name for name, lo, hi in _core.UNARY_RULES]
BINARY = [name for name, lo, hi in _core.BINARY_RULES]
EPS = 2.0 ** -52

ULPS = 4


def ulps(got, want):
    """Relative error in units of DBL_EPSILON; a true zero must be reproduced exactly."""
    if want == 0.0:
        return 0.0 if got == 0.0 else math.inf
    if not math.isfinite(got):
        return math.inf
    return abs(got - want) / abs(want) / EPS


def unary_results(name, x):
    """(f, f') from a Dual and (f, f', f', f'') from a HyperDual seeded e1 = e2 = 1."""
    with np.errstate(all="ignore"):
        d = FN[name](dd.Dual(x, 1.0))
        h = FN[name](dd.HyperDual(x, 1.0, 1.0, 0.0))
    return {"f": [d.real, h.real], "d1": [d.eps, h.eps1, h.eps2], "d2": [h.eps12]}


def binary_results(name, a, b):
    """Every partial from the seedings: each argument alone (Dual and HyperDual), both
    (HyperDual, e1 along a and e2 along b, for f_ab), and a float for the other argument."""
    f, H, D = FN[name], dd.HyperDual, dd.Dual
    with np.errstate(all="ignore"):
        da, db = f(D(a, 1.0), D(b, 0.0)), f(D(a, 0.0), D(b, 1.0))
        ca, cb = f(D(a, 1.0), b), f(a, D(b, 1.0))
        aa, bb = f(H(a, 1, 1, 0), H(b, 0, 0, 0)), f(H(a, 0, 0, 0), H(b, 1, 1, 0))
        ab = f(H(a, 1, 0, 0), H(b, 0, 1, 0))
    return {"f": [da.real, aa.real, ab.real, ca.real], "fa": [da.eps, ca.eps, aa.eps1, ab.eps1],
            "fb": [db.eps, cb.eps, bb.eps1, ab.eps2], "faa": [aa.eps12], "fab": [ab.eps12],
            "fbb": [bb.eps12]}


def power_constant_results(a, b):
    """x ** p with a float exponent has its own rule (dd_jet_powc): f, f_a, f_aa."""
    with np.errstate(all="ignore"):
        d, h = dd.Dual(a, 1.0) ** b, dd.HyperDual(a, 1.0, 1.0, 0.0) ** b
    return {"f": [d.real, h.real], "fa": [d.eps, h.eps1], "faa": [h.eps12]}


def worst(name):
    """{part: (largest error in ulps, point, got, want)} over the golden records of a rule."""
    out = {}

    def note(part, point, got_list, want):
        if want is None:
            return
        for got in got_list:
            e = ulps(got, want)
            if part not in out or e > out[part][0]:
                out[part] = (e, point, got, want)

    if name in GOLDEN["unary"]:
        for x, *want in GOLDEN["unary"][name]:
            res = unary_results(name, x)
            for part, w in zip(("f", "d1", "d2"), want):
                note(part, x, res[part], w)
    else:
        for a, b, *want in GOLDEN["binary"][name]:
            parts = dict(zip(("f", "fa", "fb", "faa", "fab", "fbb"), want))
            res = binary_results(name, a, b)
            for part, w in parts.items():
                note(part, (a, b), res[part], w)
            if name == "power":
                for part, got in power_constant_results(a, b).items():
                    note("const " + part, (a, b), got, parts[part])
    return out


@pytest.mark.parametrize("name", UNARY + BINARY)
def test_rule_at_extreme_magnitudes(name):
    for part, (e, point, got, want) in worst(name).items():
        assert e <= ULPS, f"{name} {part} at {point}: {got!r} vs {want!r} ({e:.3g} > {ULPS} eps)"


def test_every_rule_has_extreme_golden_values():
    assert sorted(GOLDEN["unary"]) == sorted(UNARY)
    assert sorted(GOLDEN["binary"]) == sorted(BINARY)
    for table in (GOLDEN["unary"], GOLDEN["binary"]):
        for name, rows in table.items():
            assert len(rows) >= 25, name
            values = [v for r in rows for v in r[1 if table is GOLDEN["unary"] else 2:]]
            assert any(v is not None and v != 0 for v in values), name


def test_power_at_a_negative_base_keeps_the_exponent_partials_out():
    """d/db of a^b is not real for a < 0: NaN, and it must not leak into the a-derivatives."""
    rows = [r for r in GOLDEN["binary"]["power"] if r[0] < 0]
    assert rows
    for a, b, f, fa, fb, faa, fab, fbb in rows:
        assert fb is None and fab is None and fbb is None
        with np.errstate(all="ignore"):
            db = dd.power(dd.Dual(a, 0.0), dd.Dual(b, 1.0))
            da = dd.power(dd.Dual(a, 1.0), b)
        assert math.isnan(db.eps) and (fa is None or math.isfinite(da.eps)), (a, b)


INF, DMAX = math.inf, 1.7976931348623157e308
LIMITS = [  # (what, computed, expected): where the true value is 0, inf or subnormal
    ("arccosh'(DBL_MAX) = 1/x, subnormal (was 0)",
     lambda: dd.arccosh(dd.Dual(DMAX, 1.0)).eps, 1.0 / DMAX),
    ("sigmoid''(x) = -x/8 at DBL_MIN, subnormal (was 0)",
     lambda: dd.sigmoid(dd.HyperDual(2.0 ** -1022, 1, 1, 0)).eps12, -2.0 ** -1025),
    ("hypot_bb(DBL_MAX, 1) = a^2/h^3 ~ 1/h (was inf)",
     lambda: dd.hypot(DMAX, dd.HyperDual(1.0, 1, 1, 0)).eps12, 1.0 / DMAX),
    ("arctan2_a(0, DBL_MIN) = 1/b (was inf)",
     lambda: dd.arctan2(dd.Dual(0.0, 1.0), 2.0 ** -1022).eps, 2.0 ** 1022),
    ("arctan2_ab(a, a) = 0 exactly", lambda: dd.arctan2(dd.HyperDual(1e300, 1, 0, 0),
                                                        dd.HyperDual(1e300, 0, 1, 0)).eps12, 0.0),
    ("d/dx x^p, x < 0, p even > 2^53: x^(p-1) is negative (was +inf)",
     lambda: (dd.Dual(-DMAX, 1.0) ** 1e300).eps, -INF),
    ("d/dx x^p, x < 0, p even < -2^53: p x^(p-1) underflows from above",
     lambda: math.copysign(1.0, (dd.Dual(-DMAX, 1.0) ** -1e300).eps), 1.0),
    ("d/dx x^p at 2^-1e300 underflows from below", lambda: math.copysign(
        1.0, (dd.Dual(2.0, 1.0) ** -1e300).eps), -1.0),
    ("d/dx x^p at DBL_MAX^DBL_MAX is +inf (not inf - inf)",
     lambda: dd.power(dd.Dual(DMAX, 1.0), DMAX).eps, INF),
    ("logaddexp_a(inf, 1) = 1, _b = 0", lambda: dd.logaddexp(dd.Dual(INF, 1.0), 1.0).eps, 1.0),
    ("logaddexp_b(1e308, -1e308) = 0 (a - b overflows)",
     lambda: dd.logaddexp(1e308, dd.Dual(-1e308, 1.0)).eps, 0.0),
    ("erf'(1e200) = 0", lambda: dd.erf(dd.Dual(1e200, 1.0)).eps, 0.0),
    # at an infinite argument, where the derivative has a limit: the limit, not inf*0 = NaN
    ("arctan2_a(1, inf) = 0", lambda: dd.arctan2(dd.Dual(1.0, 1.0), INF).eps, 0.0),
    ("arctan2_b(inf, 1) = 0", lambda: dd.arctan2(INF, dd.Dual(1.0, 1.0)).eps, 0.0),
    ("arctan2_aa(1, -inf) = 0", lambda: dd.arctan2(dd.HyperDual(1.0, 1, 1, 0), -INF).eps12, 0.0),
    ("hypot_b(1, inf) = 1", lambda: dd.hypot(1.0, dd.Dual(INF, 1.0)).eps, 1.0),
    ("hypot_b(1, -inf) = -1", lambda: dd.hypot(1.0, dd.Dual(-INF, 1.0)).eps, -1.0),
    ("hypot_a(inf, 1) = 1, 2nd partial 0",
     lambda: dd.hypot(dd.HyperDual(INF, 1, 1, 0), 1.0).eps12, 0.0),
    ("arctan''(inf) = 0", lambda: dd.arctan(dd.HyperDual(INF, 1, 1, 0)).eps12, 0.0),
    ("arctan''(-inf) = 0", lambda: dd.arctan(dd.HyperDual(-INF, 1, 1, 0)).eps12, 0.0),
    ("erf''(inf) = 0", lambda: dd.erf(dd.HyperDual(INF, 1, 1, 0)).eps12, 0.0),
    ("erfc''(-inf) = 0", lambda: dd.erfc(dd.HyperDual(-INF, 1, 1, 0)).eps12, 0.0),
    ("sigmoid''(inf) = 0", lambda: dd.sigmoid(dd.HyperDual(INF, 1, 1, 0)).eps12, 0.0),
    ("tanh''(-inf) = 0", lambda: dd.tanh(dd.HyperDual(-INF, 1, 1, 0)).eps12, 0.0),
    ("hypot at (0, 0): the kink, partials 0",
     lambda: dd.hypot(dd.HyperDual(0.0, 1, 1, 0), dd.HyperDual(0.0, 1, 1, 0)).eps12, 0.0),
    ("hypot_a(0, 0) = 0", lambda: dd.hypot(dd.Dual(0.0, 1.0), 0.0).eps, 0.0),
    ("hypot_a(3s, 4s) = 3/5 at a subnormal s (1/h overflowed: was inf)",
     lambda: dd.hypot(dd.Dual(3 * 2.0 ** -1060, 1.0), 4 * 2.0 ** -1060).eps, 0.6),
]


@pytest.mark.parametrize("what,computed,expected", LIMITS, ids=[w for w, _, _ in LIMITS])
def test_limits_of_the_careful_rows(what, computed, expected):
    with np.errstate(all="ignore"):
        got = computed()
    assert got == expected or math.isclose(got, expected, rel_tol=4 * EPS), (got, expected)


def _same(pairs):
    return all(u == v or (math.isnan(u) and math.isnan(v)) for u, v in pairs)


@pytest.mark.parametrize("name", UNARY)
def test_arrays_equal_scalars_at_extremes(name):
    """The kernels expand the same rows (plumbing); at the extremes too, bit for bit."""
    xs = np.array([r[0] for r in GOLDEN["unary"][name]])
    k = 2
    t1, t2 = np.ones((xs.size, k)), np.full((xs.size, k), 0.5)
    t12 = np.zeros((xs.size, k, k))
    with np.errstate(all="ignore"):
        y = FN[name](_arrays.from_parts(xs, t1, t2, t12, tag=0))
    for i, x in enumerate(xs):
        with np.errstate(all="ignore"):
            s = FN[name](dd.HyperDual(x, 1.0, 0.5, 0.0))
        assert _same([(y.value[i], s.real), (y.eps1[i, 0], s.eps1), (y.eps2[i, 1], s.eps2),
                      (y.eps12[i, 1, 0], s.eps12)]), (name, x)


@pytest.mark.parametrize("name", BINARY)
def test_binary_arrays_equal_scalars_at_extremes(name):
    """e1 along a, e2 along b: f_a, f_b and f_ab from the kernel and from the scalars."""
    rows = GOLDEN["binary"][name]
    a, b = np.array([r[0] for r in rows]), np.array([r[1] for r in rows])
    one, zero, zz = np.ones((a.size, 1)), np.zeros((a.size, 1)), np.zeros((a.size, 1, 1))
    with np.errstate(all="ignore"):
        y = FN[name](_arrays.from_parts(a, one, zero, zz, tag=0), _arrays.from_parts(b, zero, one, zz, tag=0))
    for i in range(a.size):
        with np.errstate(all="ignore"):
            s = FN[name](dd.HyperDual(a[i], 1.0, 0.0, 0.0), dd.HyperDual(b[i], 0.0, 1.0, 0.0))
        assert _same([(y.value[i], s.real), (y.eps1[i, 0], s.eps1), (y.eps2[i, 0], s.eps2),
                      (y.eps12[i, 0, 0], s.eps12)]), (name, a[i], b[i])


def _where(point):
    return ",".join(f"{v:.3g}" for v in (point if isinstance(point, tuple) else (point,)))


def report(names):
    """The largest error of every rule and derivative, for the record of a change."""
    heads = ("f", "d1/fa", "d2/fb", "faa", "fab", "fbb")
    print(f"{'rule':<11} " + " ".join(f"{p:>22}" for p in heads))
    for name in names:
        w = worst(name)
        parts = (["f", "d1", "d2"] if name in GOLDEN["unary"]
                 else ["f", "fa", "fb", "faa", "fab", "fbb"])
        cells = [f"{w[p][0]:.3g} @ {_where(w[p][1])}" if p in w else "-" for p in parts]
        print(f"{name:<11} " + " ".join(f"{c:>22}" for c in cells))
        if name == "power":
            cells = [f"{w[p][0]:.3g} @ {_where(w[p][1])}" if p in w else "-"
                     for p in ("const f", "const fa", "const faa")]
            print(f"{'power x**c':<11} " + " ".join(f"{c:>22}" for c in cells))


if __name__ == "__main__":
    report(sys.argv[1:] or UNARY + BINARY)


@pytest.mark.parametrize("use", [
    lambda x: np.max(x * 2.0 - np.inf), lambda x: np.min(x * 2.0 + np.inf),
    lambda x: np.max(x * 2.0, where=np.array([False, False]), initial=10.0),
    lambda x: np.max((x * 2.0 - np.inf).reshape(1, 2), axis=1),
    lambda x: np.maximum.accumulate(x * 2.0 - np.inf)],
    ids=["max_-inf", "min_inf", "max_all_masked", "max_axis", "max_accumulate"])
def test_values_of_extremes_at_infinity_are_numpys_at_second_order(use):
    """The second-order max rule adds the tie-weighted x - m to m; at an infinite m that was
    inf - inf = NaN in the value (np.max(..., where=all False, initial=10) came out NaN)."""
    x = np.array([0.12, 0.3])
    seen = []

    def f(y):
        r = use(y)
        seen.append(np.asarray(r.value))
        return np.sum(r)
    with np.errstate(invalid="ignore"):
        dd.hessian(f)(x)
    np.testing.assert_array_equal(seen[-1], use(x))


# (rule, u, tangent): f'' u_1 u_2 is representable though u_1 u_2 is not
SECOND_PARTIAL_FIRST = [
    ("sqrt", 4e194, 1e196),        # u_1 u_2 = inf, f'' u_1 = -3e-97 (fuzz seed 2424-211880)
    ("exp", 600.0, 1e-200),        # u_1 u_2 = 0 (underflow), f'' u_1 = 4e60
]


@pytest.mark.parametrize("name,u,t", SECOND_PARTIAL_FIRST, ids=[c[0] for c in SECOND_PARTIAL_FIRST])
def test_second_partial_meets_one_tangent_before_the_other(name, u, t):
    """The e1e2 part f' u_12 + f'' u_1 u_2 forms u_1 u_2 first (symmetric in the two
    directions) except where that product leaves the normal range; then f'' takes one
    tangent first, as nested duals would (ForwardDiff). Scalars and array kernels alike, and
    the Hessian stays symmetric."""
    d2 = {"sqrt": lambda v: -0.25 / (v * math.sqrt(v)), "exp": math.exp}[name](u)
    want = (d2 * t) * t
    assert np.isfinite(want) and want != 0.0
    s = FN[name](dd.HyperDual(u, t, t, 0.0))
    assert s.eps12 == pytest.approx(want, rel=4 * EPS)
    for k in (1, 2, 3, 9):                       # the small-width kernels and the generic loop
        x = _arrays.from_parts(np.full(3, u), np.full((3, k), t), np.full((3, k), t),
                               np.zeros((3, k, k)))
        e12 = getattr(np, name)(x).eps12
        np.testing.assert_allclose(e12, want, rtol=4 * EPS)
        np.testing.assert_array_equal(e12, np.swapaxes(e12, 1, 2))


# (function, u, tangent): f''(u) itself over- or underflows, f'' u_1 u_2 does not; the row
# gives f'' as f' q (DD_FACTORED in csrc/rules.h)
FACTORED = [
    ("log", 1e-160, 1e-155),       # f'' = -1e320 (fuzz 3636: log2 of erfc(18.4) twice)
    ("log2", 1e-170, 1e-165),
    ("log10", 1e200, 1e195),       # f'' = -2e-401 underflows to 0
    ("log1p", 1e200, 1e190),
    ("sqrt", 1e-300, 1e-290),
    ("cbrt", 1e-300, 1e-280),
    ("cbrt", -1e-300, 1e-280),
    ("x**0.25", 1e-300, 1e-250),
    ("x**-0.5", 1e200, 1e250),
]
_MP = {"log": lambda m, v: m.log(v), "log2": lambda m, v: m.log(v, 2),
       "log10": lambda m, v: m.log10(v), "log1p": lambda m, v: m.log1p(v),
       "sqrt": lambda m, v: m.sqrt(v), "cbrt": lambda m, v: m.sign(v) * m.cbrt(abs(v)),
       "x**0.25": lambda m, v: v ** m.mpf(0.25), "x**-0.5": lambda m, v: v ** m.mpf(-0.5)}


def _apply(name, x):
    return x ** 0.25 if name == "x**0.25" else x ** -0.5 if name == "x**-0.5" else getattr(np, name)(x)


@pytest.mark.parametrize("name,u,t", FACTORED, ids=[f"{c[0]}@{c[1]:g}" for c in FACTORED])
def test_second_derivative_out_of_range_times_tangents_in_range(name, u, t):
    """f''(u) u_1 u_2 against mpmath, where f''(u) alone is not a normal double: scalars and
    array kernels (several widths), Hessian entries symmetric."""
    mpmath = pytest.importorskip("mpmath")
    with mpmath.workdps(60):
        uu = mpmath.mpf(u)
        d2 = mpmath.diff(lambda v: _MP[name](mpmath, v), uu, 2, h=abs(uu) * mpmath.mpf("1e-25"))
        want = float(d2 * mpmath.mpf(t) * mpmath.mpf(t))
        assert math.isfinite(want) and want != 0.0
        assert not (1e-307 < abs(float(d2)) < 1e307)      # f'' itself is out of range
    s = _apply(name, dd.HyperDual(u, t, t, 0.0))
    assert ulps(s.eps12, want) <= ULPS
    for k in (1, 2, 3, 9):
        x = _arrays.from_parts(np.full(3, u), np.full((3, k), t), np.full((3, k), t),
                               np.zeros((3, k, k)))
        e12 = _apply(name, x).eps12
        assert max(ulps(float(v), want) for v in e12.ravel()) <= ULPS
        np.testing.assert_array_equal(e12, np.swapaxes(e12, 1, 2))


def test_the_fuzz_case_of_log2_of_a_tiny_value():
    """3636: hessian of sum(log2(erfc(tan(softplus(x))))) at 1.283 was -inf (-1.54e6)."""
    sc = pytest.importorskip("scipy.special")
    mpmath = pytest.importorskip("mpmath")
    h = dd.hessian(lambda x: np.sum(np.log2(sc.erfc(np.tan(dd.softplus(x))))))(np.array([1.283]))
    with mpmath.workdps(40):
        want = mpmath.diff(lambda v: mpmath.log(mpmath.erfc(mpmath.tan(mpmath.log1p(mpmath.exp(v)))), 2),
                           mpmath.mpf(1.283), 2)
    assert h[0, 0] == pytest.approx(float(want), rel=1e-7)


def test_a_second_derivative_that_is_exactly_zero_stays_zero():
    """x ** 3 at x = 0: f'' = 6 x = 0 is no underflow (fuzz 20240611-237: the factored form
    (p - 1)/x = inf times f' = 0 gave NaN)."""
    h = dd.hessian(lambda x: np.sum((x[1:] - x[:-1]) ** 3))(np.array([3.0, 3.0, -2.0]))
    np.testing.assert_array_equal(h, [[0.0, 0.0, 0.0], [0.0, -30.0, 30.0], [0.0, 30.0, -30.0]])


# (function, u, tangent): f'(u) itself over- or underflows, f' u' and f'' u_1 u_2 do not; the
# row gives f' = r |r| (DD_ROOTED in csrc/rules.h). The logarithms have no r: their f' = 1/u
# overflows only at a subnormal u (log at 1e-320 with tangent 1e-320 gives inf, not 1)
ROOTED = [
    ("reciprocal", 1e-160, 1e-160),    # f' = -1e320, f' u' = -1e160
    ("reciprocal", -3e-170, 2e-171),
    ("reciprocal", 1e200, 1e250),      # f' = -1e-400 underflows, f' u' = -1e-150
    ("x**-2", 1e-110, 1e-112),         # f' = -2e330
    ("x**-3", -1e-110, 1e-150),        # a negative base, odd power of x in f'
    ("x**-0.5", 1e-300, 1e-300),       # f' = -0.5e450
    ("x**3", 1e-200, 1e150),           # f' = 3e-400 underflows, f' u' = 3e-250
]
_MP_POWER = {"x**-2": -2, "x**-3": -3, "x**-0.5": -0.5, "x**3": 3}


def _rooted_apply(name, x):
    return x ** float(_MP_POWER[name]) if name in _MP_POWER else getattr(np, name)(x)


def _rooted_want(name, u, t):
    """(f' t, f'' t t) at 60 digits from the closed forms."""
    mpmath = pytest.importorskip("mpmath")
    with mpmath.workdps(60):
        uu, tt = mpmath.mpf(u), mpmath.mpf(t)
        if name in _MP_POWER:
            p = mpmath.mpf(_MP_POWER[name])
            d1, d2 = p * uu ** (p - 1), p * (p - 1) * uu ** (p - 2)
        else:
            d1, d2 = -1 / uu ** 2, 2 / uu ** 3
        assert not (1e-307 < abs(float(d1)) < 1e307)      # f' itself is out of range
        return float(d1 * tt), float(d2 * tt * tt)


@pytest.mark.parametrize("name,u,t", ROOTED, ids=[f"{c[0]}@{c[1]:g}" for c in ROOTED])
def test_first_derivative_out_of_range_times_tangent_in_range(name, u, t):
    """f'(u) u' and f''(u) u_1 u_2 against mpmath where f'(u) alone is not a normal double:
    Dual, HyperDual, and the array kernels of both orders at several widths."""
    want1, want2 = _rooted_want(name, u, t)
    assert ulps(_rooted_apply(name, dd.Dual(u, t)).eps, want1) <= ULPS
    h = _rooted_apply(name, dd.HyperDual(u, t, t, 0.0))
    assert ulps(h.eps1, want1) <= ULPS and ulps(h.eps2, want1) <= ULPS
    assert ulps(h.eps12, want2) <= ULPS
    for k in (1, 2, 3, 9):
        x1 = _arrays.from_parts(np.full(3, u), np.full((3, k), t))
        assert max(ulps(float(v), want1) for v in _rooted_apply(name, x1).eps.ravel()) <= ULPS
        x2 = _arrays.from_parts(np.full(3, u), np.full((3, k), t), np.full((3, k), t),
                                np.zeros((3, k, k)))
        y = _rooted_apply(name, x2)
        assert max(ulps(float(v), want1) for v in y.eps1.ravel()) <= ULPS
        assert max(ulps(float(v), want2) for v in y.eps12.ravel()) <= ULPS
        np.testing.assert_array_equal(y.eps12, np.swapaxes(y.eps12, 1, 2))


def test_a_gradient_through_a_reciprocal_of_a_tiny_value():
    """The transforms' own route: 1/(x 1e-160) differentiated is -1e160/x^2, not -inf."""
    x = np.array([1.0, 2.0, -4.0])
    np.testing.assert_allclose(dd.grad(lambda v: np.sum(np.reciprocal(v * 1e-160)))(x),
                               -1e160 / x ** 2, rtol=4 * EPS)
    np.testing.assert_allclose(np.diag(dd.hessian(lambda v: np.sum(np.reciprocal(v * 1e-160)))(x)),
                               2e160 / x ** 3, rtol=4 * EPS)


# (function, f(u, u) / u for u > 0): at a tie the second partials cancel exactly in
# f_aa + 2 f_ab + f_bb but each is ~u'^2 large, so the first-order part f_a u'' + f_b u''
# must be added after them, not before (fuzz 4343-7228: a Hessian-vector product through
# logaddexp(v, v) at v ~ 1e36 gave 0 for 4e38)
TIES = [("logaddexp", 1.0), ("logaddexp2", 1.0), ("hypot", math.sqrt(2.0)),
        ("maximum", 1.0), ("minimum", 1.0)]


@pytest.mark.parametrize("name,slope", TIES, ids=[t[0] for t in TIES])
def test_a_tie_with_large_tangents_keeps_the_second_derivative(name, slope):
    """f(c x^3, c x^3) with c = 1e12 is slope * c x^3 plus a constant (hypot: slope * |c x^3|):
    its second derivative 6 c x slope to a few ulps, through the scalar HyperDual and the
    Hessian's array kernels at several widths (before: 6.00006931e12 for logaddexp's 6e12)."""
    fn = getattr(np, name)
    c = 1e12
    for x0 in (1.0, -0.7, 2.5):
        want = slope * 6 * c * (abs(x0) if name == "hypot" else x0)
        u = dd.HyperDual(c * x0 ** 3, 3 * c * x0 ** 2, 3 * c * x0 ** 2, 6 * c * x0)
        assert ulps(fn(u, u).eps12, want) <= ULPS
        for n in (1, 2, 3, 9):
            hess = dd.hessian(lambda v: np.sum(fn(c * v ** 3, c * v ** 3)))(np.full(n, x0))
            np.testing.assert_array_equal(hess, np.diag(np.diag(hess)))
            assert max(ulps(float(v), want) for v in np.diag(hess)) <= ULPS
