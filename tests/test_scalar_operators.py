"""The scalar types answer Python's operators as numpy's float64 does: comparisons give numpy
booleans (so ~(x > 0) is False, not -2), x % y, x // y and divmod(x, y) are numpy's
remainder, floor_divide and divmod with their derivatives, and an operand that is not a
number is a TypeError, never NotImplemented or a wrong number."""
import operator

import numpy as np
import pytest

import dualdiff as dd

MAKERS = {
    "Dual": lambda v: dd.Dual(v, 1.0),
    "HyperDual": lambda v: dd.HyperDual(v, 1.0, 1.0, 0.0),
    "DualVec": lambda v: dd.DualVec(v, [1.0, -2.0]),
    "HyperDualVec": lambda v: dd.HyperDualVec(v, [1.0, 0.5], [2.0], [[0.0], [1.0]]),
}

COMPARISONS = [operator.lt, operator.le, operator.eq, operator.ne, operator.gt, operator.ge]


@pytest.mark.parametrize("kind", MAKERS)
@pytest.mark.parametrize("op", COMPARISONS, ids=lambda o: o.__name__)
def test_comparisons_give_numpy_booleans_like_float64(kind, op):
    x = MAKERS[kind](0.75)
    for other in (0.5, 0.75, 2, np.float64(1.0), MAKERS[kind](0.75), MAKERS[kind](1.5)):
        got = op(x, other)
        want = op(np.float64(0.75), np.float64(getattr(other, "real", other)))
        assert type(got) is np.bool_ and got == want
        assert ~got == ~want                      # Python's bool would give -2 or -1


def test_a_negated_comparison_inside_a_transform_is_a_boolean():
    f = lambda x: np.where(~(x > 0), -x, x) if np.ndim(x) else (x if ~(x < 0) else -x)
    assert dd.derivative(f)(-2.0) == -1.0
    assert dd.derivative(f)(2.0) == 1.0


MODULAR = {
    "x % c": (lambda x: x % 1.5, lambda v: np.remainder(v, 1.5)),
    "c % x": (lambda x: 7.0 % x, lambda v: np.remainder(7.0, v)),
    "x // c": (lambda x: x // 1.5 + x, lambda v: np.floor_divide(v, 1.5) + v),
    "c // x": (lambda x: 7.0 // x * x, lambda v: np.floor_divide(7.0, v) * v),
    "divmod": (lambda x: divmod(x * x, 2.0)[1] + divmod(x, 0.5)[0],
               lambda v: np.remainder(v * v, 2.0) + np.floor_divide(v, 0.5)),
    "x % x": (lambda x: (x + 5.0) % x, lambda v: np.remainder(v + 5.0, v)),
}


@pytest.mark.parametrize("name", MODULAR)
def test_modular_operators_match_numpy_and_finite_differences(rng, name):
    f, plain = MODULAR[name]
    for v in rng.uniform(0.3, 3.0, 5):
        h = 1e-6
        if abs((plain(v + h) - plain(v)) - (plain(v) - plain(v - h))) > 1e-9:
            continue                      # a jump of the remainder or quotient near v
        assert dd.derivative(lambda x: f(x) * 1.0)(v) == pytest.approx(
            (plain(v + h) - plain(v - h)) / (2 * h), rel=1e-6, abs=1e-6)
        first, second = dd.derivative(f, order=1)(v), dd.derivative(f, order=2)(v)
        assert np.isfinite(first) and np.isfinite(second)
        assert dd.derivative(f, order=1)(v) == dd.grad(lambda a: f(a[0]))(np.array([v]))[0]
        value = f(dd.Dual(v, 0.0)).real
        assert value == plain(v)


@pytest.mark.parametrize("kind", MAKERS)
def test_modular_operators_on_every_scalar_type(kind):
    x = MAKERS[kind](2.5)
    assert (x % 1.0).real == 0.5 and (x // 1.0).real == 2.0
    q, r = divmod(x, 1.0)
    assert (q.real, r.real) == (2.0, 0.5)
    assert type(q) is type(x) and type(r) is type(x)
    # the remainder carries x's derivative parts, the quotient none
    assert repr(r) == repr(x - 2.0) and repr(q) == repr(x * 0.0 + 2.0)


@pytest.mark.parametrize("expr", ["x % 'a'", "'a' // x", "divmod(x, None)",
                                  "dd.maximum(None, None)", "dd.arctan2(None, 1.0)",
                                  "dd.hypot('a', x)", "dd.fmin(x, object())"])
def test_operands_that_are_not_numbers_raise_type_errors(expr):
    x = dd.Dual(2.0, 1.0)
    with pytest.raises(TypeError):
        eval(expr)
