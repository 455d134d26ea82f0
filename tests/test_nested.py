"""Transforms that compose (issue: nested transforms): a transform of a function that calls
transforms, at any depth -- the perturbation-confusion identities, nested transforms equal to
the direct ones on the shared battery, third and higher derivatives against closed forms, and
dual values that escape their transform refused, never read as numbers."""
import math

import numpy as np
import pytest

import dualdiff as dd
import functions as F
from conftest import rel_err

D = dd.derivative


# ---- perturbation confusion (ForwardDiff's test/ConfusionTest.jl, JAX's level tests) -------

def test_confusion_identities_scalar():
    # d/dx [x * d/dy (x + y)] = d/dx [x] = 1 (the confused answer is 2)
    assert D(lambda x: x * D(lambda y: x + y)(1.0))(1.0) == 1.0
    # d/dx [x * d/dy (y^2) at y = 1] = 2
    assert D(lambda x: x * D(lambda y: y * y)(1.0))(1.0) == 2.0
    # the inner derivative taken at the outer value: d/dx [x * 2x] = 4x
    assert D(lambda x: x * D(lambda y: y * y)(x))(1.0) == 4.0
    # Siskind & Pearlmutter: d/dx [x * d/dy (x * y)](1) = d/dx x^2 = 2
    assert D(lambda x: x * D(lambda y: x * y)(2.0))(1.0) == 2.0


def test_confusion_identities_vector(rng):
    x = rng.normal(size=4)
    # d/dx grad_y (x . y) = d/dx x = I
    J = dd.jacobian(lambda x: dd.grad(lambda y: np.sum(x * y))(x))(x)
    assert np.array_equal(J, np.eye(4))
    # grad_x sum(x * grad_y sum(x + y)) = grad sum(x) = ones
    g = dd.grad(lambda x: np.sum(x * dd.grad(lambda y: np.sum(x + y))(x)))(x)
    assert np.array_equal(g, np.ones(4))
    # the same through jvp and hvp inside: d/dx [jvp of y -> x*y along ones] = 1 elementwise
    J2 = dd.jacobian(lambda x: dd.jvp(lambda y: x * y, (x,), (np.ones(4),))[1])(x)
    assert np.array_equal(J2, np.eye(4))


def test_independent_inner_transforms_inside_a_function_are_fine():
    c = lambda: D(np.sin)(0.0)
    assert D(lambda x: x * c())(2.0) == 1.0


# ---- nested equals direct ------------------------------------------------------------------

@pytest.mark.parametrize("name", list(F.VECTOR))
@pytest.mark.parametrize("chunk", [None, 1, 3])
def test_jacobian_of_grad_is_the_hessian(rng, name, chunk):
    f, make = F.VECTOR[name]
    x = make(rng)
    H = dd.hessian(f)(x)
    J = dd.jacobian(dd.grad(f), chunk=chunk)(x)
    assert rel_err(J, H) <= 1e-12
    assert rel_err(dd.jacobian(dd.grad(f, chunk=chunk))(x), H) <= 1e-12


@pytest.mark.parametrize("name", list(F.SCALAR))
def test_derivative_of_derivative_is_the_second_derivative(rng, name):
    f, make = F.SCALAR[name]
    x = float(make(rng))
    assert D(D(f))(x) == pytest.approx(D(f, order=2)(x), rel=1e-13, abs=1e-13)


@pytest.mark.parametrize("name", ["rosenbrock", "elementwise_chain", "logsumexp", "quadratic_form"])
def test_hvp_grad_of_jvp_and_jvp_of_grad_agree(rng, name):
    f, make = F.VECTOR[name]
    x, v = make(rng), None
    v = rng.normal(size=x.shape)
    Hv = dd.hessian(f)(x) @ v

    def err(got):
        # H v sums terms of both signs: an entry may cancel far below the others, so its
        # rounding is measured against the largest entry, not itself
        return np.max(np.abs(got - Hv)) / np.max(np.abs(Hv))
    assert err(dd.hvp(f)(x, v)) <= 1e-13
    assert err(dd.grad(lambda x: dd.jvp(f, (x,), (v,))[1])(x)) <= 1e-13
    assert err(dd.jvp(dd.grad(f), (x,), (v,))[1]) <= 1e-13


def test_hessian_of_a_function_with_a_gradient_inside(rng):
    # f(x) = |grad g(x)|^2 for g = rosenbrock: second derivatives through a first derivative
    g = F.rosenbrock
    f = lambda x: np.sum(dd.grad(g)(x) ** 2)
    x = rng.uniform(-1, 1, 4)
    H = dd.hessian(f)(x)
    Hg = dd.hessian(g)(x)
    grad_f = lambda x: dd.grad(f)(x)
    h = 1e-6
    fd = np.stack([(grad_f(x + h * e) - grad_f(x - h * e)) / (2 * h) for e in np.eye(4)])
    assert rel_err(dd.grad(f)(x), 2 * Hg @ dd.grad(g)(x)) <= 1e-12
    assert np.max(np.abs(H - fd)) <= 1e-5 * np.max(np.abs(H))
    assert np.array_equal(H, H.T)


def test_depth_three_gradient_of_a_hessian_vector_product(rng):
    # grad_x [v . H(x) w] for the cubic f = sum(x^3): H = diag(6x) so the result is 6 v*w
    v, w = rng.normal(size=3), rng.normal(size=3)
    f = lambda x: np.sum(x ** 3)
    g = dd.grad(lambda x: np.dot(v, dd.hvp(f)(x, w)))(rng.normal(size=3))
    assert rel_err(g, 6 * v * w) <= 1e-13
    # and through a Hessian: d/dx sum(H(x)) for f = sum(sin(x)) is -cos(x) per element
    x = rng.normal(size=3)
    assert rel_err(dd.grad(lambda x: np.sum(dd.hessian(lambda y: np.sum(np.sin(y)))(x)))(x),
                   -np.cos(x)) <= 1e-13


# ---- third and higher derivatives --------------------------------------------------------

CLOSED = [  # (f, k, x, the k-th derivative at x)
    (np.sin, 3, 0.7, -math.cos(0.7)),
    (np.sin, 4, 0.7, math.sin(0.7)),
    (np.exp, 6, 0.3, math.exp(0.3)),
    (np.log, 3, 1.7, 2 / 1.7 ** 3),
    (np.log1p, 4, 0.4, -6 / 1.4 ** 4),
    (lambda x: x ** 5, 3, 1.3, 60 * 1.3 ** 2),
    (lambda x: x ** 5, 5, 1.3, 120.0),
    (lambda x: x ** 5, 6, 1.3, 0.0),
    (np.sqrt, 3, 2.0, 3 / 8 * 2.0 ** -2.5),
    (np.tanh, 3, 0.5, -2 * (1 - math.tanh(0.5) ** 2) * (1 - 3 * math.tanh(0.5) ** 2)),
    (np.arctan, 3, 0.5, (6 * 0.25 - 2) / (1 + 0.25) ** 3),
    (lambda x: 1 / x, 4, 1.5, 24 / 1.5 ** 5),
    (lambda x: np.exp(-x * x), 3, 0.4, (-8 * 0.4 ** 3 + 12 * 0.4) * math.exp(-0.16)),
    (dd.sigmoid, 3, 0.3, "1 / (1 + exp(-t))"),
    (lambda x: np.hypot(x, 2.0), 3, 0.8, "sqrt(t**2 + 4)"),
    (lambda x: np.arctan2(x, 1.5), 3, 0.8, "atan2(t, 3/2)"),
    (lambda x: np.logaddexp(x, 0.5), 4, 0.2, "log(exp(t) + exp(1/2))"),
    (lambda x: x ** x, 3, 1.4, "t**t"),
    (dd.softplus, 4, -0.6, "log(1 + exp(t))"),
    (np.arcsinh, 3, 0.9, "asinh(t)"),
    (np.erf, 3, 0.45, "erf(t)") if hasattr(np, "erf") else (dd.erf, 3, 0.45, "erf(t)"),
]


@pytest.mark.parametrize("f,k,x,want", CLOSED, ids=[f"{getattr(c[0], '__name__', 'f')}-{c[1]}"
                                                    for c in CLOSED])
def test_kth_derivatives_against_closed_forms(f, k, x, want):
    if isinstance(want, str):                 # a sympy expression in t, differentiated k times
        import sympy as sp
        t = sp.Symbol("t")
        want = float(sp.diff(sp.sympify(want, locals={"t": t}), t, k).subs(t, x).evalf(30))
    got = D(f, order=k)(x)
    assert got == pytest.approx(want, rel=1e-11, abs=1e-12)


def test_third_derivative_by_nesting_equals_order_three():
    f = F.testfn
    assert D(D(D(f)))(1.2) == pytest.approx(D(f, order=3)(1.2), rel=1e-13)
    assert D(D(f, order=2))(1.2) == pytest.approx(D(f, order=3)(1.2), rel=1e-13)


# ---- dual values that escape their transform -------------------------------------------

def test_an_escaped_dual_is_refused_never_read():
    kept = []
    dd.grad(lambda x: kept.append(x * 2.0) or np.sum(x))(np.ones(2))
    with pytest.raises(TypeError, match="has finished"):
        dd.grad(lambda y: np.sum(y * kept[0]))(np.ones(2))
    kept_scalar = []
    D(lambda x: kept_scalar.append(np.sin(x)) or x)(0.3)
    with pytest.raises(TypeError, match="has finished"):
        D(lambda y: y * kept_scalar[0])(1.0)


# ---- transforms in threads ------------------------------------------------------------

def _threaded(work, threads=4):
    """work(seed) in a thread pool, with the interpreter switching threads as often as it can
    (so transforms start and finish interleaved); returns the results."""
    import sys
    from concurrent.futures import ThreadPoolExecutor
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        with ThreadPoolExecutor(threads) as pool:
            return list(pool.map(work, range(2 * threads)))
    finally:
        sys.setswitchinterval(interval)


def test_nested_transforms_in_threads_finish_in_any_order(rng):
    """A transform finishing in one thread must not end another thread's: the running
    transforms are one list from which each removes its own tag (a stack cut at the
    finishing tag refused most of these calls as 'has finished')."""
    seed = int(rng.integers(2 ** 31))

    def work(i):
        r = np.random.default_rng(seed + i)
        worst = 0.0
        for _ in range(15):
            x = r.normal(size=40)
            # d/dt sum(sin(t x)) at t = 1 is sum(cos(x) x); its gradient cos(x) - x sin(x)
            g = dd.grad(lambda x: dd.derivative(lambda t: np.sum(np.sin(t * x)))(1.0))(x)
            worst = max(worst, rel_err(g, np.cos(x) - x * np.sin(x)))
            h = dd.hessian(lambda x: np.sum(np.exp(x[:5]) * x[:5]))(x)
            e = np.exp(x[:5])
            worst = max(worst, rel_err(np.diag(h)[:5], e * x[:5] + 2 * e))
        return worst
    assert max(_threaded(work)) < 1e-13


def test_the_battery_in_threads_gives_the_serial_bits(rng):
    """Every function of the shared battery, gradient and Hessian, computed in four threads
    at once: bit for bit what one thread computes (no state of one call leaks into
    another's: tags, the block pool, the shared inverse, the caches)."""
    cases = [(name, f, sample(rng)) for name, (f, sample) in
             sorted({**F.VECTOR, **F.LINALG_LIKELIHOODS}.items())]
    # and large enough for the block pool (n k >= transforms._POOL_MIN seeded entries)
    cases += [(f"{name} n={n}", F.VECTOR[name][0], F.VECTOR[name][1](rng, n))
              for name, n in (("rosenbrock", 160), ("elementwise_chain", 200))]
    serial = [(dd.grad(f)(x), dd.hessian(f)(x)) for _, f, x in cases]

    def work(i):
        bad = []
        for (name, f, x), (g, h) in zip(cases[i % 2::2], serial[i % 2::2]):
            if not (np.array_equal(dd.grad(f)(x), g) and np.array_equal(dd.hessian(f)(x), h)):
                bad.append(name)
        return bad
    assert [b for bad in _threaded(work) for b in bad] == []


def test_a_value_kept_from_another_threads_transform_is_refused():
    """Escaped values stay refused across threads."""
    from concurrent.futures import ThreadPoolExecutor
    kept = []
    with ThreadPoolExecutor(1) as pool:
        pool.submit(dd.grad(lambda x: kept.append(x * 2.0) or np.sum(x)), np.ones(2)).result()
    with pytest.raises(TypeError, match="has finished"):
        dd.grad(lambda y: np.sum(y * kept[0]))(np.ones(2))


def test_a_dual_made_by_hand_inside_a_transform_is_refused_for_every_chunk():
    for chunk in (None, 1, 2):
        with pytest.raises(TypeError, match="made by hand"):
            dd.grad(lambda x: np.sum(x * dd.Dual(2.0, 1.0)), chunk=chunk)(np.ones(3))
    with pytest.raises(TypeError, match="made by hand"):
        D(lambda x: x * dd.Dual(2.0, 0.0))(1.0)


def test_nested_results_are_dual_only_inside():
    # the inner transform returns dual values to the outer function; the outer returns numbers
    seen = []
    g = dd.grad(lambda x: seen.append(dd.grad(np.sum)(x)) or np.sum(x ** 2))(np.ones(2))
    assert isinstance(seen[0], dd._arrays.DualArray) and isinstance(g, np.ndarray)
