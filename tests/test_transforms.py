"""The transforms: the articles' worked examples, known values, and every transform against
finite differences over the shared battery (tests/functions.py), for several chunks."""
import math

import numpy as np
import pytest

import dualdiff as dd
import functions as F
from conftest import rel_err

CHUNKS = [None, 1, 2, 5]


def central(f, x, v, h=1e-6):
    """Central difference of f at x along direction v."""
    return (np.asarray(f(x + h * v)) - np.asarray(f(x - h * v))) / (2 * h)


# ---- the articles' worked examples -------------------------------------------------------

def test_article002_quadratic():
    """f(x) = 3x^2 - 4x + 5 has f'(3) = 14 exactly."""
    assert dd.derivative(F.article_quadratic)(3.0) == 14.0
    assert dd.derivative(F.article_quadratic, order=2)(3.0) == 6.0
    assert dd.grad(F.article_quadratic)(3) == 14.0


def test_article002_node_graph():
    """d = a*b + c: dd/da = b, dd/dc = 1."""
    d = lambda a, b, c: a * b + c
    assert dd.grad(d, argnums=(0, 1, 2))(2.0, -3.0, 10.0) == (-3.0, 2.0, 1.0)


def test_article003_max_and_relu():
    mx = lambda x, y: np.maximum(x, y)
    assert dd.grad(mx, argnums=(0, 1))(3.0, 1.0) == (1.0, 0.0)
    assert dd.grad(mx, argnums=(0, 1))(1.0, 3.0) == (0.0, 1.0)
    assert dd.grad(mx, argnums=(0, 1))(2.0, 2.0) == (0.5, 0.5)
    relu = lambda x: np.maximum(x, 0.0)
    assert [dd.derivative(relu)(x) for x in (-1.0, 2.0)] == [0.0, 1.0]
    assert dd.derivative(dd.relu)(0.0) == 0.0
    assert dd.grad(lambda x, y: x + y, argnums=(0, 1))(1.0, 2.0) == (1.0, 1.0)
    assert dd.grad(lambda x, y: x * y, argnums=(0, 1))(3.0, 5.0) == (5.0, 3.0)


def test_article000_partial_versus_total_derivative():
    """f(t,x,y) = 4pi/3 t x y: df/dx = 4pi/3 t y; with t = x the total derivative is 8pi/3 x y."""
    f = lambda t, x, y: 4 * math.pi / 3 * t * x * y
    t, x, y = 1.3, 0.7, 2.1
    assert dd.grad(f, argnums=1)(t, x, y) == pytest.approx(4 * math.pi / 3 * t * y, rel=1e-15)
    total = dd.derivative(lambda x: f(x, x, y))(x)
    assert total == pytest.approx(8 * math.pi / 3 * x * y, rel=1e-15)
    naive = dd.grad(f, argnums=1)(x, x, y)            # substituting after differentiating
    assert total == pytest.approx(2 * naive, rel=1e-15)


def test_article001_linear_regression_gradient(rng):
    """dL/dtheta0 = (2/n) sum(y - (theta0 x + theta1)) (-x), dL/dtheta1 = (2/n) sum(...)(-1)."""
    n = 50
    x = rng.normal(size=n)
    y = 3 * x - 1 + 0.1 * rng.normal(size=n)
    L = lambda th: np.mean((y - (th[0] * x + th[1])) ** 2)
    th = rng.normal(size=2)
    r = y - (th[0] * x + th[1])
    want = np.array([2 / n * np.sum(r * -x), 2 / n * np.sum(-r)])
    for c in CHUNKS:
        assert rel_err(dd.grad(L, chunk=c)(th), want) <= 1e-13


# ---- known values -----------------------------------------------------------------------

def test_rosenbrock_gradient_known_value():
    want = [-2, -200, 1002, 5804, 16606, 35808, 65810, 109012, 167814, 244616, 341818, -17800]
    x = np.arange(12.0)
    for f in (F.rosenbrock, F.rosenbrock_loop):
        for c in CHUNKS + [12, 64]:
            assert dd.grad(f, chunk=c)(x).tolist() == want


def test_hessian_known_value():
    f = lambda x: np.sin(x[0]) + x[1] * x[2] * x[3]
    r = math.sqrt(2) / 2
    want = [[-r, 0, 0, 0], [0, 0, 4, 3], [0, 4, 0, 2], [0, 3, 2, 0]]
    for c in (None, 1, 3):
        H = dd.hessian(f, chunk=c)(np.array([math.pi / 4, 2, 3, 4]))
        assert rel_err(H, want) <= 1e-15


def test_derivative_of_the_issue_test_function():
    assert rel_err(dd.derivative(F.testfn)(1.5), F.TESTFN_D1) <= 1e-14
    assert rel_err(dd.derivative(F.testfn, order=2)(1.5), F.TESTFN_D2) <= 1e-14


# ---- the battery against finite differences ---------------------------------------------

@pytest.mark.parametrize("name", sorted(F.SCALAR))
def test_derivative_matches_central_differences(rng, name):
    f, make = F.SCALAR[name]
    x = make(rng)
    assert dd.derivative(f)(x) == pytest.approx(central(f, x, 1.0), rel=1e-6, abs=1e-8)
    d2 = (dd.derivative(f)(x + 1e-5) - dd.derivative(f)(x - 1e-5)) / 2e-5
    assert dd.derivative(f, order=2)(x) == pytest.approx(d2, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("chunk", CHUNKS)
@pytest.mark.parametrize("name", sorted(F.VECTOR))
def test_grad_matches_central_differences_in_random_directions(rng, name, chunk):
    f, make = F.VECTOR[name]
    x = make(rng)
    value, g = dd.value_and_grad(f, chunk=chunk)(x)
    assert value == pytest.approx(float(f(x)), rel=1e-14)
    for _ in range(3):
        v = rng.normal(size=x.shape)
        assert g @ v == pytest.approx(central(f, x, v), rel=1e-6, abs=1e-7)


@pytest.mark.parametrize("name", sorted(F.VECTOR))
def test_results_do_not_depend_on_chunk(rng, name):
    """Bit for bit for elementwise code and sums; matrix products go through BLAS, whose
    summation order depends on the matrix shapes, so there the last bits may differ."""
    f, make = F.VECTOR[name]
    x = make(rng)
    ref = dd.grad(f, chunk=1)(x)
    blas = name in ("quadratic_form",)
    for c in CHUNKS[2:] + [x.size, 1000]:
        g = dd.grad(f, chunk=c)(x)
        assert rel_err(g, ref) <= 1e-13 if blas else np.array_equal(g, ref)


@pytest.mark.parametrize("chunk", [None, 1, 2])
@pytest.mark.parametrize("name", sorted(F.VECTOR))
def test_hessian_matches_differences_of_grad(rng, name, chunk):
    f, make = F.VECTOR[name]
    x = make(rng)
    H = dd.hessian(f, chunk=chunk)(x)
    assert H.shape == x.shape + x.shape
    assert np.array_equal(H, H.T)
    g = dd.grad(f)
    for _ in range(2):
        v = rng.normal(size=x.shape)
        assert rel_err(H @ v, central(g, x, v)) <= 1e-5 or \
            np.allclose(H @ v, central(g, x, v), atol=1e-6)


@pytest.mark.parametrize("name", sorted(F.VECTOR))
def test_hvp_and_jvp_agree_with_hessian_and_grad(rng, name):
    f, make = F.VECTOR[name]
    x = make(rng)
    v = rng.normal(size=x.shape)
    # norm-wise: an entry of H v that cancels (terms of 1, a sum of 1e-3) keeps only the
    # terms' rounding, whichever order hvp and the product H @ v add them in
    H = dd.hessian(f)(x)
    assert np.max(np.abs(dd.hvp(f)(x, v) - H @ v)) <= 1e-13 * x.size * \
        np.max(np.abs(H)) * np.max(np.abs(v))
    value, tangent = dd.jvp(f, (x,), (v,))
    assert value == pytest.approx(float(f(x)), rel=1e-14)
    assert tangent == pytest.approx(dd.grad(f)(x) @ v, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("chunk", CHUNKS)
@pytest.mark.parametrize("name", sorted(F.VECTOR_VALUED))
def test_jacobian_matches_central_differences(rng, name, chunk):
    f, make = F.VECTOR_VALUED[name]
    x = make(rng)
    J = dd.jacobian(f, chunk=chunk)(x)
    out = np.asarray(f(x))
    assert J.shape == out.shape + x.shape
    for _ in range(3):
        v = rng.normal(size=x.shape)
        assert rel_err(J @ v, central(f, x, v)) <= 1e-6 or \
            np.allclose(J @ v, central(f, x, v), atol=1e-7)
    value, tangent = dd.jvp(f, (x,), (v,))
    # values pass through libm where numpy uses its own SIMD functions: a few ulp apart
    assert np.allclose(value, out, rtol=1e-13, atol=1e-15) and rel_err(tangent, J @ v) <= 1e-12


# ---- shapes and argument conventions (JAX's) --------------------------------------------

def test_shapes_follow_jax():
    x = np.ones((2, 3))
    assert dd.grad(lambda x: np.sum(x ** 2))(x).shape == (2, 3)
    assert dd.jacobian(lambda x: np.sum(x ** 2))(x).shape == (2, 3)
    assert dd.jacobian(lambda x: x.T * 2)(x).shape == (3, 2, 2, 3)
    assert dd.hessian(lambda x: np.sum(x ** 3))(x).shape == (2, 3, 2, 3)
    assert dd.hvp(lambda x: np.sum(x ** 3))(x, x).shape == (2, 3)
    assert isinstance(dd.grad(lambda x: x ** 2)(3.0), float)
    assert isinstance(dd.hessian(lambda x: x ** 3)(2.0), float)
    assert isinstance(dd.derivative(lambda x: x ** 2)(3), float)
    assert dd.derivative(lambda x: np.array([x, x ** 2, np.sin(x)]))(1.0).shape == (3,)
    assert dd.grad(lambda x: np.sum(x))([1.0, 2.0]).tolist() == [1.0, 1.0]
    assert dd.grad(lambda x: np.sum(x ** 2))(np.arange(3)).dtype == np.float64


def test_tuple_argnums_give_tuples():
    f = lambda a, b, c: np.sum(a * b) + c ** 2
    a, b = np.arange(3.0), np.ones(3)
    ga, gc = dd.grad(f, argnums=(0, 2))(a, b, 2.0)
    assert ga.tolist() == [1.0, 1.0, 1.0] and gc == 4.0
    ja, jb = dd.jacobian(lambda a, b: a * b, argnums=(0, 1))(a, b)
    assert np.array_equal(ja, np.diag(b)) and np.array_equal(jb, np.diag(a))
    H = dd.hessian(lambda a, b: np.sum(a ** 2 * b), argnums=(0, 1))(a, b)
    assert np.array_equal(H[0][1], np.diag(2 * a)) and np.array_equal(H[1][1], np.zeros((3, 3)))
    assert dd.grad(f, argnums=-1)(a, b, 3.0) == 6.0


def test_non_differentiated_arguments_may_be_anything():
    f = lambda x, label, cfg: np.sum(x ** cfg["p"]) if label == "ok" else 0.0
    assert dd.grad(f)(np.ones(2), "ok", {"p": 3}).tolist() == [3.0, 3.0]


def test_inputs_are_never_modified():
    x = np.array([1.0, 2.0, 3.0])
    keep = x.copy()
    x.setflags(write=False)
    for t in (dd.grad(F.rosenbrock), dd.hessian(F.rosenbrock), dd.jacobian(np.sin)):
        t(x)
    dd.jvp(np.sin, (x,), (x,))
    dd.hvp(F.rosenbrock)(x, x)
    assert np.array_equal(x, keep)


def test_constant_functions_have_zero_derivatives():
    assert dd.grad(lambda x: 3.0)(np.ones(2)).tolist() == [0.0, 0.0]
    assert dd.derivative(lambda x: 2)(1.0) == 0.0
    assert dd.jacobian(lambda x: np.ones(3))(np.ones(2)).shape == (3, 2)
    assert dd.hessian(lambda x: 1.0)(np.ones(2)).tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_numpy_features_inside_functions(rng):
    x = rng.uniform(0.5, 1.5, 6)
    fs = [
        lambda x: np.dot(x, x) + np.sum(np.outer(x, x)) + np.inner(x, x) + np.vdot(x, x),
        lambda x: np.sum(x.reshape(2, 3) @ np.eye(3) @ x.reshape(3, 2)),
        lambda x: np.sum(np.einsum("ij,jk->ik", x.reshape(2, 3), x.reshape(3, 2))),
        lambda x: np.sum(np.tensordot(x.reshape(2, 3), x.reshape(3, 2), axes=1)),
        lambda x: np.prod(x) + np.sum(np.cumprod(x)) + np.sum(np.cumsum(x[::2])),
        lambda x: np.max(x) - np.min(x) + np.linalg.norm(x, 1) + np.linalg.norm(x, np.inf),
        lambda x: np.std(x) + np.var(x) + np.mean(x[[0, 2, 4]]) + np.sum(x[x > 1.0]),
        lambda x: np.sum(np.clip(x, 0.7, 1.2) ** 2) + np.sum(np.abs(x - 1)),
        lambda x: np.sum(np.where(x > 1, np.exp(x), np.log(x))),
        lambda x: np.sum(np.hstack([x, x])[3:9] * np.vstack([x, x])[1]) + np.sum(np.stack([x, 2 * x], 1)),
        lambda x: np.trace(np.diag(x)) + np.sum(np.diff(x) ** 2) + np.sum(np.flip(x) * x),
        lambda x: np.sum(np.expand_dims(x, 0).squeeze() + np.transpose(x[:, None])[0]),
        lambda x: sum(xi ** 2 for xi in x) + len(x),
        lambda x: np.sum(np.tile(x[:2], 3) * np.repeat(x[:3], 2)) + np.sum(np.roll(x, 2) * x),
        lambda x: np.sum(np.take(x, [1, 3]) + np.concatenate([x[:1], x[-1:]])),
        lambda x: np.sum(np.atleast_2d(x) @ np.ones((6, 1))) + x.sum() + x.mean() + x.T.dot(x),
        lambda x: np.sum(dd.sigmoid(x, a=2.0) + dd.softplus(x) + np.logaddexp(x, 0.5)),
    ]
    for i, f in enumerate(fs):
        g = dd.grad(f)(x)
        v = rng.normal(size=6)
        assert g @ v == pytest.approx(central(f, x, v), rel=1e-6, abs=1e-7), i


# ---- nesting -----------------------------------------------------------------------------

def test_independent_inner_transforms_inside_a_function_are_fine():
    # the inner derivative never meets the outer dual values: a correct plain number
    c = lambda: dd.derivative(np.sin)(0.0)
    assert dd.derivative(lambda x: x * c())(2.0) == 1.0


@pytest.mark.parametrize("name", ["rosenbrock", "elementwise_chain", "logsumexp", "mixed_numpy"])
@pytest.mark.parametrize("n", [9, 130, 300, 1000])
def test_sweeps_storing_only_seeded_rows_equal_the_dense_sweep(rng, name, n):
    """A chunk of a vector input stores only its seeded tangent rows (_arrays.pyx, Support);
    the result must be bit for bit the dense one, across pairwise-sum block boundaries."""
    f, _ = F.VECTOR[name]
    x = rng.uniform(0.4, 1.4, n)
    dense = dd.grad(f, chunk=n)(x)             # one sweep: the identity seed, all rows
    for c in (1, 7, 64, n - 1):
        assert np.array_equal(dd.grad(f, chunk=c)(x), dense), c
    assert np.array_equal(dd.grad(f)(x), dense)


@pytest.mark.parametrize("name", ["rosenbrock", "elementwise_chain", "mixed_numpy"])
def test_hessian_blocks_storing_only_seeded_rows_equal_the_dense_hessian(rng, name):
    f, _ = F.VECTOR[name]
    x = rng.uniform(0.4, 1.4, 40)
    dense = dd.hessian(f, chunk=40)(x)
    for c in (5, 13):
        assert np.array_equal(dd.hessian(f, chunk=c)(x), dense), c


def test_pool_reuses_memory_across_sweeps():
    """The block pool (csrc/pool.h) serves a transform's repeated large temporaries."""
    from dualdiff import _arrays
    x = np.linspace(-1, 1, 20000)
    _arrays.clear_pool()
    assert _arrays.pool_stats()[:2] == (0, 0)
    before = _arrays.pool_stats()[2]
    dd.jacobian(lambda x: np.ones((1, x.size)) @ np.sin(x), chunk=1)(x[:200])
    dd.jvp(lambda x: np.sum(np.exp(np.sin(x))), (x,), (x,))
    dd.jvp(lambda x: np.sum(np.exp(np.sin(x))), (x,), (x,))
    assert _arrays.pool_stats()[2] > before          # blocks were reused


def _loop_mix(x):
    """Loop-style code that reads elements inside and outside any chunk's window."""
    s = 0.0
    for i in range(len(x)):
        s = s + np.sin(x[i]) * x[len(x) - 1 - i] + x[i] ** 3 / (1.0 + x[0] ** 2)
    return s


@pytest.mark.parametrize("f", [F.rosenbrock_loop, _loop_mix], ids=["rosenbrock_loop", "loop_mix"])
def test_elements_of_windowed_sweeps_equal_the_dense_sweep(rng, f):
    """x[i] of a sweep that stores only its seeded rows is read straight off those rows (zeros
    outside them): the grad and the Hessian equal the one-sweep dense ones bit for bit."""
    x = rng.uniform(0.4, 1.4, 40)
    g, H = dd.grad(f, chunk=40)(x), dd.hessian(f, chunk=40)(x)
    for c in (1, 5, 13, 39):
        assert np.array_equal(dd.grad(f, chunk=c)(x), g), c
        assert np.array_equal(dd.hessian(f, chunk=c)(x), H), c


def test_the_benches_hand_derived_rosenbrock_references(rng):
    """bench/ checks its peers against functions.rosenbrock_grad / _hessian: they must be
    the transforms' answers (and central differences')."""
    x = rng.uniform(-1.5, 1.5, 9)
    assert rel_err(F.rosenbrock_grad(x), dd.grad(F.rosenbrock)(x)) <= 1e-14
    # relative to the matrix's scale: a diagonal entry 1200 x_i^2 - 400 x_(i+1) + 202 can cancel
    # to ~2 from terms of ~1000, where the two orders of rounding differ by 1.5e-14 of the entry
    # (random state 1990684389) while both are within 5e-17 of max |H|
    H = F.rosenbrock_hessian(x)
    assert np.max(np.abs(dd.hessian(F.rosenbrock)(x) - H)) <= 1e-15 * np.max(np.abs(H))
