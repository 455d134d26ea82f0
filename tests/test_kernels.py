"""The array path equals the scalar path exactly (plumbing, not calculus).

Dual arrays run the compiled loops of csrc/kernels.h; Dual and HyperDual run the scalar
functions of csrc/dual.h and hyperdual.h. Both expand the same rules and call the same
per-entry helpers, so every element of an array result must equal, bit for bit, the scalar
computed from that element's inputs, for every rule, every operator, one or many
directions, both orders, and operands that are whole, broadcast or constant.
"""
import numpy as np
import pytest

from dualdiff import _arrays, _core
from dualdiff._core import Dual, HyperDual

UNARY = _core.UNARY_RULES
BINARY = _core.BINARY_RULES
FN = _core.elementary
TAG = 0
N = 9


def points(rng, lo, hi, n=N):
    return rng.uniform(lo, hi, n)


def dual_array(x, t):
    """x of shape S, t of shape S + (k,)."""
    return _arrays.from_parts(x, t, tag=TAG)


def hyper_array(x, t1, t2, t12):
    return _arrays.from_parts(x, t1, t2, t12, tag=TAG)


def assert_same(a, b):
    """Exactly equal, NaN equal to NaN."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    assert same.all(), (a[~same], b[~same])


@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("name,lo,hi", UNARY)
def test_unary_kernel_equals_dual(rng, name, lo, hi, k):
    x = points(rng, lo, hi)
    t = rng.normal(size=(N, k))
    t[0] = 0.0                                      # a zero tangent is a case of its own
    y = FN[name](dual_array(x, t))
    for i in range(N):
        for p in range(k):
            s = FN[name](Dual(x[i], t[i, p]))
            assert_same(y.value[i], s.real)
            assert_same(y.eps[i, p], s.eps)


@pytest.mark.parametrize("name,lo,hi", UNARY)
def test_unary_kernel_equals_hyperdual(rng, name, lo, hi):
    k1, k2 = 2, 3
    x = points(rng, lo, hi)
    t1, t2 = rng.normal(size=(N, k1)), rng.normal(size=(N, k2))
    t12 = rng.normal(size=(N, k1, k2))
    y = FN[name](hyper_array(x, t1, t2, t12))
    for i in range(N):
        for p in range(k1):
            for q in range(k2):
                s = FN[name](HyperDual(x[i], t1[i, p], t2[i, q], t12[i, p, q]))
                assert_same(y.value[i], s.real)
                assert_same(y.eps1[i, p], s.eps1)
                assert_same(y.eps2[i, q], s.eps2)
                assert_same(y.eps12[i, p, q], s.eps12)


OPS = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
       "div": lambda a, b: a / b, "pow": lambda a, b: a ** b}
OPS.update({name: (lambda f: (lambda a, b: f(a, b)))(FN[name]) for name, lo, hi in BINARY})
DOMAIN = {name: (lo, hi) for name, lo, hi in BINARY}


def op_points(rng, name, shape):
    lo, hi = DOMAIN.get(name, (0.5, 3.0))
    return rng.uniform(lo, hi, shape)


# operand layouts: both whole, a broadcast single element on either side, a constant array,
# a constant Python float on either side
LAYOUTS = ["whole", "scalar_left", "scalar_right", "const_left", "const_right",
           "float_left", "float_right"]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("op", sorted(OPS))
def test_binary_kernel_equals_dual(rng, op, layout):
    k = 2
    f = OPS[op]
    a, b = op_points(rng, op, N), op_points(rng, op, N)
    ta, tb = rng.normal(size=(N, k)), rng.normal(size=(N, k))
    if layout == "scalar_left":
        a, ta = a[:1].reshape(()), ta[:1].reshape((k,))
    if layout == "scalar_right":
        b, tb = b[:1].reshape(()), tb[:1].reshape((k,))
    A = a if layout in ("const_left",) else float(a[0]) if layout == "float_left" \
        else dual_array(a, ta)
    B = b if layout in ("const_right",) else float(b[0]) if layout == "float_right" \
        else dual_array(b, tb)
    y = f(A, B)
    for i in range(N):
        for p in range(k):
            def scalar(v, t, const, flt):
                if flt:
                    return float(v[0])
                v = v if np.ndim(v) == 0 else v[i]
                if const:
                    return float(v)
                return Dual(float(v), float(t[p] if np.ndim(t) == 1 else t[i, p]))
            sa = scalar(a, ta, layout == "const_left", layout == "float_left")
            sb = scalar(b, tb, layout == "const_right", layout == "float_right")
            s = f(sa, sb)
            assert_same(y.value[i], s.real)
            assert_same(y.eps[i, p], s.eps)


@pytest.mark.parametrize("layout", ["whole", "scalar_right", "const_left", "float_right"])
@pytest.mark.parametrize("op", sorted(OPS))
def test_binary_kernel_equals_hyperdual(rng, op, layout):
    k1, k2 = 2, 2
    f = OPS[op]
    a, b = op_points(rng, op, N), op_points(rng, op, N)
    pa = rng.normal(size=(N, k1)), rng.normal(size=(N, k2)), rng.normal(size=(N, k1, k2))
    pb = rng.normal(size=(N, k1)), rng.normal(size=(N, k2)), rng.normal(size=(N, k1, k2))
    if layout == "scalar_right":
        b, pb = b[:1].reshape(()), tuple(t[0] for t in pb)
    A = a if layout == "const_left" else hyper_array(a, *pa)
    B = float(b[0]) if layout == "float_right" else hyper_array(b, *pb)
    y = f(A, B)
    for i in range(N):
        for p in range(k1):
            for q in range(k2):
                def scalar(v, parts, const):
                    if np.ndim(v) == 1:             # a whole operand: take element i
                        v, parts = v[i], tuple(t[i] for t in parts)
                    if const:
                        return float(v)
                    t1, t2, t12 = parts
                    return HyperDual(float(v), t1[p], t2[q], t12[p, q])
                sa = scalar(a, pa, layout == "const_left")
                sb = float(b[0]) if layout == "float_right" else \
                    scalar(b, pb, False)
                s = f(sa, sb)
                assert_same(y.value[i], s.real)
                assert_same(y.eps1[i, p], s.eps1)
                assert_same(y.eps2[i, q], s.eps2)
                assert_same(y.eps12[i, p, q], s.eps12)


# Loops compiled for small widths (csrc/kernels.c, "small fixed widths"): the fast path of
# sparse Jacobians (a few colours), the sparse Hessian's summands and hvp. Every width they
# cover, and widths beyond the table that run the generic loops, against Dual and HyperDual
# entry by entry.
WIDTHS = list(_arrays.SMALL_WIDTHS) + [(1, 9), (5, 4)]
UNARY_DOMAIN = {name: (lo, hi) for name, lo, hi in UNARY}


def assert_hyper_equal(y, f, x_parts_of):
    """Every entry of the hyper-dual array y equals f of the HyperDual numbers that
    x_parts_of(i, p, q) gives for it."""
    n, k1, k2 = y.eps12.shape
    for i in range(n):
        for p in range(k1):
            for q in range(k2):
                s = f(*x_parts_of(i, p, q))
                assert_same(y.value[i], s.real)
                assert_same(y.eps1[i, p], s.eps1)
                assert_same(y.eps2[i, q], s.eps2)
                assert_same(y.eps12[i, p, q], s.eps12)


def hyper_parts(rng, x, k1, k2):
    n = np.size(x)
    parts = rng.normal(size=(n, k1)), rng.normal(size=(n, k2)), rng.normal(size=(n, k1, k2))
    parts[0][0] = 0.0                               # zero tangents are a case of their own
    return parts


def scalar_of(x, parts, i, p, q):
    t1, t2, t12 = parts
    return HyperDual(float(x[i]), t1[i, p], t2[i, q], t12[i, p, q])


DIRECTIONS = list(_arrays.SMALL_DIRECTIONS) + [9]
SMALL_UNARY = sorted(_arrays.SMALL_UNARY) + ["power 2", "power -1.5"]


def small_unary(name):
    """The function and its domain, for a rule with small-width loops or x**p."""
    if name.startswith("power"):
        pw = float(name.split()[1])
        return (lambda v: v ** pw), (0.1, 3.0)
    return FN[name], UNARY_DOMAIN[name]


@pytest.mark.parametrize("k", DIRECTIONS)
@pytest.mark.parametrize("name", SMALL_UNARY)
def test_small_width_first_order_unary_kernels_equal_dual(rng, name, k):
    f, (lo, hi) = small_unary(name)
    x = points(rng, lo, hi)
    t = rng.normal(size=(N, k))
    t[0] = 0.0
    y = f(dual_array(x, t))
    for i in range(N):
        for p in range(k):
            s = f(Dual(x[i], t[i, p]))
            assert_same(y.value[i], s.real)
            assert_same(y.eps[i, p], s.eps)


@pytest.mark.parametrize("k", DIRECTIONS)
@pytest.mark.parametrize("layout", ["whole", "scalar_left", "const_right", "float_left"])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_small_width_first_order_arithmetic_equals_dual(rng, op, layout, k):
    f = OPS[op]
    a, b = op_points(rng, op, N), op_points(rng, op, N)
    ta, tb = rng.normal(size=(N, k)), rng.normal(size=(N, k))
    ta[0] = 0.0
    if layout == "scalar_left":
        A, sa = dual_array(a[:1].reshape(()), ta[0]), (lambda i, p: Dual(a[0], ta[0, p]))
    elif layout == "float_left":
        A, sa = float(a[0]), (lambda i, p: float(a[0]))
    else:
        A, sa = dual_array(a, ta), (lambda i, p: Dual(a[i], ta[i, p]))
    if layout == "const_right":
        B, sb = b, (lambda i, p: float(b[i]))
    else:
        B, sb = dual_array(b, tb), (lambda i, p: Dual(b[i], tb[i, p]))
    y = f(A, B)
    for i in range(N):
        for p in range(k):
            s = f(sa(i, p), sb(i, p))
            assert_same(y.value[i], s.real)
            assert_same(y.eps[i, p], s.eps)


@pytest.mark.parametrize("k1,k2", WIDTHS)
@pytest.mark.parametrize("name", SMALL_UNARY)
def test_small_width_unary_kernels_equal_hyperdual(rng, name, k1, k2):
    f, (lo, hi) = small_unary(name)
    x = points(rng, lo, hi)
    parts = hyper_parts(rng, x, k1, k2)
    y = f(hyper_array(x, *parts))
    assert_hyper_equal(y, f, lambda i, p, q: (scalar_of(x, parts, i, p, q),))


@pytest.mark.parametrize("k1,k2", WIDTHS)
@pytest.mark.parametrize("layout", ["whole", "scalar_left", "const_right", "float_left"])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_small_width_arithmetic_kernels_equal_hyperdual(rng, op, layout, k1, k2):
    f = OPS[op]
    a, b = op_points(rng, op, N), op_points(rng, op, N)
    pa, pb = hyper_parts(rng, a, k1, k2), hyper_parts(rng, b, k1, k2)
    if layout == "scalar_left":
        A = hyper_array(a[:1].reshape(()), *(t[0] for t in pa))
        sa = lambda i, p, q: scalar_of(a, pa, 0, p, q)
    elif layout == "float_left":
        A, sa = float(a[0]), (lambda i, p, q: float(a[0]))
    else:
        A, sa = hyper_array(a, *pa), (lambda i, p, q: scalar_of(a, pa, i, p, q))
    if layout == "const_right":
        B, sb = b, (lambda i, p, q: float(b[i]))
    else:
        B, sb = hyper_array(b, *pb), (lambda i, p, q: scalar_of(b, pb, i, p, q))
    assert_hyper_equal(f(A, B), f, lambda i, p, q: (sa(i, p, q), sb(i, p, q)))


@pytest.mark.filterwarnings("ignore:divide by zero encountered in power")
@pytest.mark.parametrize("p", [2.0, 3.0, 0.5, -1.5, 0.0, 1.0])
def test_power_with_constant_exponent_kernel(rng, p):
    x = rng.uniform(0.0, 3.0, N)
    x[0] = 0.0                                   # the special case at 0 goes through too
    t = rng.normal(size=(N, 1))
    y = dual_array(x, t) ** p
    for i in range(N):
        s = Dual(x[i], t[i, 0]) ** p
        assert_same(y.value[i], s.real)
        assert_same(y.eps[i, 0], s.eps)


def test_general_broadcasting_is_materialised_correctly(rng):
    a = rng.normal(size=(3, 1))
    b = rng.normal(size=(1, 4))
    ta, tb = rng.normal(size=(3, 1, 2)), rng.normal(size=(1, 4, 2))
    y = dual_array(a, ta) * dual_array(b, tb)
    assert y.shape == (3, 4) and y.eps.shape == (3, 4, 2)
    for i in range(3):
        for j in range(4):
            for p in range(2):
                s = Dual(a[i, 0], ta[i, 0, p]) * Dual(b[0, j], tb[0, j, p])
                assert_same(y.eps[i, j, p], s.eps)
