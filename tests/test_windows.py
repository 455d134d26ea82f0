"""Absent parts (dualdiff/_windows.pxi): a second-order sweep seeds e1 and e2 and leaves e12
absent -- zero, stored as no row -- and the operations that cannot make it nonzero (reshape,
slices, joins with constants, sums and differences, scaling by constants, sums) keep it absent
on arrays of any number of axes; elementwise code flattens them. The fast path must give what
the plain path gives: the same operations on a dual array whose zero e12 is stored, bit for
bit, value and every part, on a table of operations and shapes."""
import numpy as np
import pytest

import dualdiff as dd
from dualdiff import _arrays

SHAPES = [(7,), (5, 4), (3, 4, 2), (1, 6), (4, 1)]
K1, K2 = 2, 3

# each entry: (name, g, keeps e12 absent). g takes a dual array X and a constant C of X's shape
OPERATIONS = [
    ("reshape", lambda X, C: X.reshape(-1), True),
    ("transpose", lambda X, C: X.T, True),
    ("slice rows", lambda X, C: X[1:], True),
    ("slice last axis", lambda X, C: X[..., ::2], True),
    ("integer then slice", lambda X, C: X[0, ...], True),
    ("fancy", lambda X, C: X[np.array([0, 0, 2]) % X.shape[0]], True),
    ("boolean", lambda X, C: X[C > 0.5], True),
    ("one element", lambda X, C: X[(0,) * X.ndim] * X[(-1,) * X.ndim], False),
    ("concatenate zeros", lambda X, C: np.concatenate([X, np.zeros(X.shape)]), True),
    ("concatenate last axis", lambda X, C: np.concatenate([X[..., :1], X], axis=-1), True),
    ("stack", lambda X, C: np.stack([X, C, X]), True),
    ("where", lambda X, C: np.where(C > 0.5, X, 2.0), True),
    ("scale", lambda X, C: 4 * X, True),
    ("scale by array", lambda X, C: X * C, True),
    ("divide by array", lambda X, C: X / (C + 1.0), True),
    ("stencil", lambda X, C: 4 * X - np.roll(X, 1, axis=0) - np.flip(X, 0) + 1.0, True),
    ("negative", lambda X, C: -X - C, True),
    ("sum", lambda X, C: np.sum(X - C), True),
    ("sum axis 0", lambda X, C: np.sum(X, axis=0), True),
    ("sum last axis keepdims", lambda X, C: X.sum(axis=-1, keepdims=True), True),
    ("mean", lambda X, C: np.mean(2 * X, axis=-1), True),
    ("product", lambda X, C: X * X, False),
    ("product of linear maps", lambda X, C: (4 * X - C) * np.flip(X, 0), False),
    ("constant over x", lambda X, C: C / X, False),
    ("quotient", lambda X, C: X / (X * X + 1.0), False),
    ("exp", lambda X, C: np.exp(X), False),
    ("sin of a slice", lambda X, C: np.sin(X[::-1]), False),
    ("square", lambda X, C: X ** 2, False),
    ("power", lambda X, C: np.abs(X) ** 1.5, False),
    ("arctan2", lambda X, C: np.arctan2(X, 2.0), False),
    ("hypot", lambda X, C: np.hypot(X, np.flip(X, 0)), False),
    ("maximum", lambda X, C: np.maximum(X, C), False),
    ("energy", lambda X, C: 0.5 * np.sum(X * (4 * X - np.roll(X, 1, 0))) - np.sum(np.exp(X)),
     False),
    # a product with a constant matrix is a linear map of the dual operand (either side)
    ("matmul", lambda X, C: X.reshape(X.shape[0], -1) @ np.ones((X.size // X.shape[0], 2)),
     True),
    ("constant @ x", lambda X, C: np.full((3, X.shape[0]), 0.5) @ X.reshape(X.shape[0], -1),
     True),
    ("vector @ x", lambda X, C: np.linspace(-1, 1, X.shape[0]) @ X.reshape(X.shape[0], -1),
     True),
    # of two dual operands the bilinear product rule, which stores every part
    ("x @ x", lambda X, C: X.reshape(X.shape[0], -1).T @ X.reshape(X.shape[0], -1), False),
]


def _pair(rng, shape):
    """(the sweep's seed with e12 absent, the same numbers with a stored zero e12, C)."""
    v = rng.uniform(0.2, 1.2, shape)
    t1, t2 = rng.standard_normal(shape + (K1,)), rng.standard_normal(shape + (K2,))
    fast = _arrays.seed(v, (0, 0), t1, t2)
    plain = _arrays.from_parts(v, t1, t2, np.zeros(shape + (K1, K2)), tag=0)
    return fast, plain, rng.uniform(0.0, 1.0, shape)


def _same(a, b):
    return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)


def test_a_second_order_seed_leaves_e12_absent(rng):
    fast, plain, _ = _pair(rng, (5, 4))
    assert _arrays.stored_windows(fast) == [(0, 5), (0, 5), (0, 0)]
    assert _arrays.stored_windows(plain) is None
    assert _same(fast.eps12, plain.eps12)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name,g,linear", OPERATIONS, ids=[o[0] for o in OPERATIONS])
def test_absent_e12_gives_the_plain_paths_bits(rng, name, g, linear, shape):
    fast, plain, C = _pair(rng, shape)
    with np.errstate(all="ignore"):
        a, b = g(fast, C), g(plain, C)
    assert type(a) is type(b)
    if not isinstance(a, _arrays.DualArray):        # a 0-d result: the compiled scalar
        for part in ("real", "eps1", "eps2", "eps12"):
            assert _same(getattr(a, part), getattr(b, part)), part
        return
    windows = _arrays.stored_windows(a)         # before reading a part makes it dense
    assert a.shape == b.shape
    for part in ("value", "eps1", "eps2", "eps12"):
        assert _same(getattr(a, part), getattr(b, part)), part
    if linear and a.size > 1:           # (a full sum is 0-d: its e12 is k1 x k2 zeros)
        # the point of the fast path: nothing was computed for e12
        assert windows is not None and windows[2][0] == windows[2][1], windows


@pytest.mark.parametrize("shape", [(9,), (3, 3), (2, 3, 2)], ids=str)
def test_hessians_of_nd_inputs_equal_their_finite_differences(rng, shape):
    """The transforms seed e12 absent for inputs of any shape: Hessians through reshapes,
    slices and joins against central differences of the gradient."""
    def f(X):
        Y = np.concatenate([X.reshape(-1)[1:], np.zeros(1)])
        return np.sum(np.exp(0.3 * Y) * X.reshape(-1)) + np.sum(np.sin(X[..., :1]) ** 2)

    x = rng.uniform(-1, 1, shape)
    H = dd.hessian(f)(x).reshape(x.size, x.size)
    g = dd.grad(f)
    h = 1e-6
    fd = np.empty_like(H)
    for j in range(x.size):
        e = np.zeros(x.size)
        e[j] = h
        e = e.reshape(shape)
        fd[:, j] = ((g(x + e) - g(x - e)) / (2 * h)).reshape(-1)
    assert np.allclose(H, fd, rtol=1e-6, atol=1e-7)
    assert np.array_equal(H, H.T)


MATMUL_SHAPES = [((4,), (4,)), ((3, 4), (4,)), ((4,), (4, 2)), ((3, 4), (4, 2)), ((1, 1), (1, 1))]


@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("dual_left", [True, False])
@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES, ids=str)
def test_a_product_with_a_constant_is_the_product_rules_bits(rng, sa, sb, dual_left, order):
    """matmul by a constant (_jvp.products.matmul_by_constant, a linear map) against the
    bilinear product rule it bypasses (matmul_jvp), bit for bit in every part, with a
    constant that holds inf and NaN (a zero tangent entry times either gives 0: the zero
    factor convention of both)."""
    from dualdiff._jvp import apply
    from dualdiff._jvp.products import matmul_by_constant, matmul_jvp
    shape = sa if dual_left else sb
    v = rng.standard_normal(shape)
    t1 = rng.standard_normal(shape + (K1,))
    t1[..., 0] = 0.0                                  # a direction that does not move x
    if order == 1:
        X = _arrays.from_parts(v, t1)
    else:
        X = _arrays.from_parts(v, t1, rng.standard_normal(shape + (K2,)),
                               rng.standard_normal(shape + (K1, K2)))
    c = rng.standard_normal(sb if dual_left else sa)
    c.reshape(-1)[0] = np.inf
    c.reshape(-1)[-1] = np.nan if c.size > 1 else np.inf
    a, b = (X, c) if dual_left else (c, X)
    with np.errstate(all="ignore"):
        fast = matmul_by_constant(a, b)
        plain = apply(matmul_jvp, (a, b))
    assert fast is not None
    parts = ("value", "eps1") + (("eps2", "eps12") if order == 2 else ())
    for part in parts:
        assert _same(getattr(fast, part), getattr(plain, part)), part


def test_a_product_with_a_longdouble_constant_is_refused():
    X = _arrays.from_parts(np.ones(3), np.ones((3, 1)))
    with pytest.raises(TypeError, match="longdouble"):
        np.ones((2, 3), dtype=np.longdouble) @ X


def test_products_with_constants_against_closed_forms(rng):
    """The same fast path against exact answers: the Hessian of x^T A x is A + A^T, the
    Jacobian of B x (and of x^T C) is B (C^T), the Hessian of sum(tanh(B x)^2) is
    B^T diag(2 (1 - 3 t^2)(1 - t^2)) B with t = tanh(B x)."""
    n = 6
    A, B, C = rng.standard_normal((n, n)), rng.standard_normal((4, n)), rng.standard_normal((n, 3))
    x = rng.standard_normal(n)
    np.testing.assert_allclose(dd.hessian(lambda y: y @ A @ y)(x), A + A.T, rtol=1e-13,
                               atol=1e-13)
    np.testing.assert_allclose(dd.jacobian(lambda y: B @ y)(x), B, rtol=1e-15, atol=0)
    np.testing.assert_allclose(dd.jacobian(lambda y: y @ C)(x), C.T, rtol=1e-15, atol=0)
    t = np.tanh(B @ x)
    want = B.T @ np.diag(2 * (1 - 3 * t ** 2) * (1 - t ** 2)) @ B
    np.testing.assert_allclose(dd.hessian(lambda y: np.sum(np.tanh(B @ y) ** 2))(x), want,
                               rtol=1e-12, atol=1e-12)
