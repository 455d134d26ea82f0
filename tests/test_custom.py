"""Rules users add (API.md "Additions"): dd.register_elementwise, dd.custom_jvp, dd.check_rule,
and dualdiff's own scipy.special table, which goes through the same registry -- every one at
first and second order, in every transform, several chunks, on arrays and scalars."""
import numpy as np
import pytest

import dualdiff as dd
from conftest import rel_err

sc = pytest.importorskip("scipy.special")
CHUNKS = [None, 1, 2]


def fd_err(got, want):
    """Norm-wise relative error: finite differences carry an absolute error of about the
    size of the largest entry times 1e-10, so tiny entries cannot be compared one by one."""
    got, want = np.asarray(got), np.asarray(want)
    return float(np.max(np.abs(got - want)) / max(np.max(np.abs(want)), 1e-300))


def fd_grad(f, x, h=1e-6):
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = h
        g.flat[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def fd_hessian(grad, x, h=1e-5):
    H = np.zeros((x.size, x.size))
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = h
        H[:, i] = (grad(x + e) - grad(x - e)).ravel() / (2 * h)
    return H


# ---- register_elementwise ------------------------------------------------------------------

def softsign(x):
    return x / (1 + np.abs(x))


def softsign_d1(x):
    return 1 / (1 + np.abs(x)) ** 2


def softsign_d2(x):
    return -2 * np.sign(x) / (1 + np.abs(x)) ** 3


SOFTSIGN = dd.register_elementwise(softsign, softsign_d1, softsign_d2)


@pytest.mark.parametrize("chunk", CHUNKS)
def test_registered_callable_first_and_second_order(rng, chunk):
    x = rng.uniform(0.2, 2, 5) * rng.choice([-1, 1], 5)     # away from the kink at 0
    f = lambda x: np.sum(SOFTSIGN(x) * x)
    g = dd.grad(f, chunk=chunk)(x)
    assert fd_err(g, fd_grad(f, x)) < 1e-8
    H = dd.hessian(f, chunk=chunk)(x)
    assert fd_err(H, fd_hessian(dd.grad(f), x)) < 1e-6
    # the same numbers as writing the function out in numpy (its derivative by the table)
    assert rel_err(g, dd.grad(lambda x: np.sum(softsign(x) * x))(x)) < 1e-14


def test_registered_callable_on_scalars_and_plain_values():
    assert dd.derivative(SOFTSIGN)(0.5) == pytest.approx(softsign_d1(0.5), rel=1e-15)
    assert dd.derivative(SOFTSIGN, order=2)(0.5) == pytest.approx(softsign_d2(0.5), rel=1e-15)
    assert SOFTSIGN(0.5) == softsign(0.5)                           # plain in, plain out
    assert type(SOFTSIGN(dd.Dual(0.5, 1.0))) is dd.Dual


def test_registered_without_d2_refuses_second_order_by_name():
    g = dd.register_elementwise(lambda x: np.tanh(x) ** 3, lambda x: 3 * np.tanh(x) ** 2 / np.cosh(x) ** 2)
    x = np.array([0.3, 0.4])
    assert rel_err(dd.grad(lambda x: np.sum(g(x)))(x), 3 * np.tanh(x) ** 2 / np.cosh(x) ** 2) < 1e-14
    with pytest.raises(TypeError, match="without d2"):
        dd.hessian(lambda x: np.sum(g(x)))(x)


def test_a_partial_given_as_none_is_not_differentiable_there():
    def powsum(n, x):
        return x ** n

    f = dd.register_elementwise(powsum, lambda n, x: (None, n * x ** (n - 1)),
                                lambda n, x: ((None, None), (None, n * (n - 1) * x ** (n - 2))))
    assert dd.derivative(lambda x: f(3.0, x))(2.0) == pytest.approx(12.0)
    assert dd.derivative(lambda x: f(3.0, x), order=2)(2.0) == pytest.approx(12.0)
    with pytest.raises(TypeError, match="not differentiable in its argument 0"):
        dd.derivative(lambda n: f(n, 2.0))(3.0)


def test_registering_a_builtin_rule_again_is_refused():
    with pytest.raises(ValueError, match="already has a derivative rule"):
        dd.register_elementwise(np.sin, np.cos, lambda x: -np.sin(x))
    with pytest.raises(TypeError, match="callables"):
        dd.register_elementwise(softsign, "not callable")


# ---- scipy.special through the registry ------------------------------------------------------

SPECIAL = [
    ("gammaln", lambda x: np.sum(sc.gammaln(x) * x), (0.5, 4)),
    ("digamma", lambda x: np.sum(sc.digamma(x)), (0.5, 4)),
    ("erfinv", lambda x: np.sum(sc.erfinv(x) ** 2), (-0.8, 0.8)),
    ("expit/logit", lambda x: np.sum(sc.logit(sc.expit(x) * 0.9)), (-2, 2)),
    ("xlogy (both vary)", lambda x: np.sum(sc.xlogy(x, x[::-1] + 1)), (0.5, 2)),
    ("iv in x", lambda x: np.sum(sc.iv(1.5, x)), (0.5, 3)),
    ("betainc in x", lambda x: np.sum(sc.betainc(2.0, 3.0, x)), (0.1, 0.9)),
    ("gammainc in x", lambda x: np.sum(sc.gammainc(2.5, x)), (0.5, 4)),
    ("ndtr/log_ndtr", lambda x: np.sum(sc.log_ndtr(x) + sc.ndtr(x)), (-3, 3)),
    # ufuncs of several outputs: each output its own derivative, from one rule
    ("sici (both outputs)", lambda x: np.sum(sc.sici(x)[0] * sc.sici(x[::-1])[1]), (0.3, 4)),
    ("fresnel/shichi", lambda x: np.sum(sc.fresnel(x)[1] ** 2 + sc.shichi(x)[0]), (-2, 2)),
    ("airy (all four)", lambda x: np.sum(np.stack(sc.airy(x)) ** 2), (-3, 2)),
    ("ellipj in u", lambda x: np.sum(np.stack(sc.ellipj(x, 0.6)) * x), (-2, 2)),
]


@pytest.mark.parametrize("name,f,dom", SPECIAL, ids=[s[0] for s in SPECIAL])
@pytest.mark.parametrize("chunk", CHUNKS)
def test_scipy_special_in_every_transform(rng, name, f, dom, chunk):
    x = rng.uniform(*dom, 4)
    g = dd.grad(f, chunk=chunk)(x)
    assert fd_err(g, fd_grad(f, x)) < 1e-7
    H = dd.hessian(f, chunk=chunk)(x)
    assert fd_err(H, fd_hessian(dd.grad(f), x)) < 1e-5
    v = rng.normal(size=4)
    assert fd_err(dd.hvp(f, chunk=chunk)(x, v), H @ v) < 1e-12
    assert fd_err(dd.jvp(f, (x,), (v,))[1], g @ v) < 1e-12


def _sin_cos(x):
    return np.sin(x), np.cos(x)


@pytest.fixture
def sin_cos():
    """A ufunc of two outputs made for one test: registered rules are global, and other
    tests walk every registered ufunc."""
    from dualdiff import _numpy
    u = np.frompyfunc(_sin_cos, 1, 2)
    yield u
    _numpy.UFUNCS.pop(u, None)


def test_a_ufunc_of_two_outputs_registers_one_rule_for_both(rng, sin_cos):
    """register_elementwise of a ufunc with nout = 2: d1 and d2 give one entry per output;
    each output gets its own derivatives, in every transform, arrays and scalars."""
    u = sin_cos
    calls = []

    def d1(x):
        calls.append(1)
        return np.cos(x), -np.sin(x)
    dd.register_elementwise(u, d1, lambda x: (-np.sin(x), -np.cos(x)))
    x = rng.uniform(-2, 2, 4)
    s, c = u(dd.Dual(0.7, 1.0))
    assert (s.real, s.eps, c.real, c.eps) == pytest.approx(
        (np.sin(0.7), np.cos(0.7), np.cos(0.7), -np.sin(0.7)), rel=1e-15)
    J = dd.jacobian(lambda x: np.concatenate(u(x)))(x)
    assert rel_err(J, np.concatenate([np.diag(np.cos(x)), np.diag(-np.sin(x))])) < 1e-15
    calls.clear()
    dd.grad(lambda x: np.sum(u(x)[0] * u(x)[1]))(x)
    assert len(calls) == 2                  # once per call of u, not once per output
    f = lambda x: np.sum(u(x)[0] * u(x)[1])                           # sin 2x / 2
    assert rel_err(dd.hessian(f)(x), np.diag(-2 * np.sin(2 * x))) < 1e-14
    assert dd.derivative(lambda t: u(t)[1], order=2)(0.3) == pytest.approx(-np.cos(0.3))


def test_a_rule_of_several_outputs_must_give_one_entry_per_output(sin_cos):
    u = sin_cos
    dd.register_elementwise(u, lambda x: np.cos(x))           # one entry, not two
    with pytest.raises(TypeError, match="d1 must return a tuple of 2 entries, one per output"):
        dd.grad(lambda x: np.sum(u(x)[0]))(np.array([0.1, 0.2]))


def test_scipy_special_on_dual_scalars():
    assert dd.derivative(sc.gammaln)(2.5) == pytest.approx(sc.digamma(2.5), rel=1e-15)
    assert dd.derivative(sc.gammaln, order=2)(2.5) == pytest.approx(sc.polygamma(1, 2.5), rel=1e-14)
    assert type(sc.gammaln(dd.Dual(2.5, 1.0))) is dd.Dual


def test_scipy_logsumexp_names_the_function_and_the_replacement():
    with pytest.raises(TypeError, match=r"scipy\.special\.logsumexp.*dd\.logsumexp"):
        dd.grad(lambda x: sc.logsumexp(x))(np.ones(3))
    x = np.array([0.1, 2.0, -1.0])
    assert rel_err(dd.grad(dd.logsumexp)(x), sc.softmax(x)) < 1e-15


# ---- custom_jvp ----------------------------------------------------------------------------

@dd.custom_jvp
def solve(A, b):
    """A linear solve that converts its input (as library code does): no dual can enter."""
    return np.linalg.solve(np.asarray(A, dtype=float), np.asarray(b, dtype=float))


@solve.defjvp
def solve_jvp(primals, tangents):
    A, b = primals
    dA, db = tangents
    x = solve(A, b)
    # d x = A^-1 (db - dA x), all k directions at once (they ride on the trailing axis); the
    # ellipsis lets b itself carry extra axes, as it does when a second-order sweep runs the
    # rule on a tangent
    rhs = db - np.einsum("ijk,j...->i...k", dA, x)
    return x, np.reshape(solve(A, np.reshape(rhs, (len(x), -1))), np.shape(rhs))


def test_custom_jvp_first_and_second_order(rng):
    A = rng.normal(size=(3, 3)) + 3 * np.eye(3)
    f = lambda b: np.sum(solve(A, b) ** 2)
    b = rng.normal(size=3)
    want_g = fd_grad(f, b)
    for chunk in CHUNKS:
        assert fd_err(dd.grad(f, chunk=chunk)(b), want_g) < 1e-8
        assert fd_err(dd.hessian(f, chunk=chunk)(b), 2 * np.linalg.inv(A).T @ np.linalg.inv(A)) < 1e-12
    # differentiating in the matrix too (tangents of both arguments)
    g = lambda a: np.sum(solve(a.reshape(3, 3), b))
    assert fd_err(dd.grad(g)(A.ravel()), fd_grad(g, A.ravel())) < 1e-7


def test_custom_jvp_errors():
    @dd.custom_jvp
    def norule(x):
        return np.sin(x)
    with pytest.raises(TypeError, match="defjvp"):
        dd.grad(norule)(1.0)

    @dd.custom_jvp
    def wrong(x):
        return x * 2.0

    @wrong.defjvp
    def wrong_jvp(primals, tangents):
        return primals[0] * 2.0, np.sum(tangents[0])       # dropped the direction axis
    with pytest.raises(ValueError, match="trailing axis"):
        dd.grad(lambda x: np.sum(wrong(x)), chunk=2)(np.ones(3))


# ---- check_rule ----------------------------------------------------------------------------

def test_check_rule_passes_good_rules_and_catches_bad_ones():
    errs = dd.check_rule(SOFTSIGN, np.array([0.3, -1.2, 2.0]))
    assert errs["first"] < 1 and errs["second"] < 1
    assert dd.check_rule(sc.gammaln, np.array([0.7, 3.0]))["second"] < 1
    bad = dd.register_elementwise(lambda x: np.exp(2 * x), lambda x: np.exp(2 * x),
                                  lambda x: 4 * np.exp(2 * x))
    with pytest.raises(AssertionError, match="first derivative"):
        dd.check_rule(bad, np.array([0.1, 0.2]))
    half = dd.register_elementwise(lambda x: x ** 3, lambda x: 3 * x ** 2, lambda x: 3 * x)
    with pytest.raises(AssertionError, match="second derivative"):
        dd.check_rule(half, np.array([0.5, 1.5]))
    assert dd.check_rule(solve, np.eye(2) * 2, np.array([1.0, 2.0]))["first"] < 1


def test_a_registered_callable_under_the_sparse_transforms():
    """A plain callable given a rule with register_elementwise (no numpy protocol brings it
    to dualdiff) is followed by sparsity detection as an elementwise rule: the sparse
    Jacobian and Hessian equal the dense ones (before: "bad operand type for abs():
    'NotImplementedType'", the tracer inside the callable)."""
    pytest.importorskip("scipy.sparse")
    opaque = np.vectorize(lambda t: t / (1 + abs(t)))        # a tracer cannot see into it
    f = dd.register_elementwise(lambda x: opaque(x), lambda x: 1 / (1 + np.abs(x)) ** 2,
                                lambda x: -2 * np.sign(x) / (1 + np.abs(x)) ** 3, nin=1)
    x = np.array([0.3, -0.5, 1.2, 2.0])
    g = lambda t: 2.0 * f(t[::-1] * t)                  # noqa: E731
    np.testing.assert_array_equal(dd.sparse_jacobian(g)(x).toarray(), dd.jacobian(g)(x))
    h = lambda t: np.sum(f(t * t[0]))                   # noqa: E731
    np.testing.assert_allclose(dd.sparse_hessian(h)(x).toarray(), dd.hessian(h)(x),
                               rtol=1e-14, atol=1e-15)
