"""numpy.linalg inside user functions, end to end through the public transforms.

Each case is a function of an array x written with plain numpy (np.linalg.* among it), at a
random point well away from its non-differentiable set. Checked against central differences
in random directions: dd.jacobian (chunks 1, 2, all), dd.jvp, dd.grad, and at second order
dd.hessian, dd.hvp and dd.derivative(order=2), whose second derivatives come from the rules
run on dual arrays. tests/test_jvp_linalg.py checks the rules themselves in more depth.
"""
import numpy as np
import pytest

import dualdiff as dd
from _linalg_inputs import (cond_input, general, qr_input, real_spectrum, separated, spd,
                            svd_matrix)

LA = np.linalg
NUMPY2 = hasattr(LA, "vector_norm")      # numpy 2's array-API names and keywords (upper=)


# ---- functions of x ----------------------------------------------------------------------------

def _kernel_matrix(theta, t):
    """Exponential covariance exp(t0) exp(-|t_i - t_j| / exp(t1)) + exp(t2) I."""
    d = np.abs(t[:, None] - t[None, :])
    return np.exp(theta[0]) * np.exp(-d / np.exp(theta[1])) + np.exp(theta[2]) * np.eye(len(t))


def gaussian_loglik(t, y):
    """-0.5 (log det K + r^T K^-1 r), r = y - theta_3: the kernel's parameters and a mean."""
    def f(theta):
        k = _kernel_matrix(theta, t)
        r = y - theta[3]
        return -0.5 * (LA.slogdet(k)[1] + r @ LA.solve(k, r))
    return f


def cholesky_loglik(y):
    """The same likelihood with K = L L^T, L lower triangular with a positive diagonal exp(x_ii)
    (x: n x n, the strict upper triangle unused), through cholesky and a solve with the factor."""
    n = len(y)

    def f(x):
        low = np.tril(x, -1) + np.diag(np.exp(np.diagonal(x)))
        k = low @ low.T
        c = LA.cholesky(k)
        z = LA.solve(c, y)
        return -np.sum(np.log(np.diagonal(c))) - 0.5 * z @ z - 0.5 * n * np.log(2 * np.pi)
    return f


def _qr_signs(q, r):
    """Q and R with R's diagonal made positive (LAPACK's signs are a convention)."""
    s = np.sign(np.diagonal(r))
    return np.concatenate([np.ravel(q * s), np.ravel(r * s[:, None])])


def _sym_basis(rng, n, m):
    """m random symmetric n x n matrices: S(x) = S0 + sum x_i B_i keeps its eigenvalues apart."""
    b = rng.standard_normal((m, n, n))
    return 0.1 * (b + np.swapaxes(b, 1, 2))


def case(cid, f, make, numpy2=False):
    marks = pytest.mark.skipif(numpy2 and not NUMPY2, reason="numpy >= 2 API")
    return pytest.param(f, make, id=cid, marks=marks)


def _m(gen, *shape, **kw):
    return lambda rng: gen(rng, shape, **kw)


def _rand(*shape):
    return lambda rng: rng.standard_normal(shape)


_T = np.linspace(0.0, 4.0, 8)
_Y = np.cos(_T) + 0.3
_B = np.random.default_rng(12345).standard_normal((4, 2))   # constants baked into the cases
_SYM = _sym_basis(np.random.default_rng(2024), 4, 3)
_S0 = np.diag([1.0, 2.0, 3.5, 5.0])

def _sorted_eig(x):
    """eig with the eigenvalues in ascending order and the vectors' columns alike."""
    w, v = LA.eig(x)
    order = np.argsort(np.asarray(getattr(w, "value", w)).real, axis=-1)
    return (np.take_along_axis(w, order, axis=-1),
            np.take_along_axis(v, order[..., None, :], axis=-1))


CASES = [
    case("loglik-exp-kernel", gaussian_loglik(_T, _Y), lambda r: r.normal(0, 0.3, 4)),
    case("loglik-cholesky-factor", cholesky_loglik(_Y[:4]),
         lambda r: 0.3 * np.tril(r.standard_normal((4, 4)))),
    case("solve-vector", lambda x: LA.solve(x[:9].reshape(3, 3) + 2 * np.eye(3), x[9:]),
         _rand(12)),
    case("solve-matrix-const-a", lambda x: LA.solve(general(np.random.default_rng(7), (4, 4)), x),
         _rand(4, 2)),
    case("solve-batched", lambda x: LA.solve(x, np.ones((2, 3, 1)))[..., 0] ** 2,
         _m(general, 2, 3, 3)),
    case("inv", LA.inv, _m(general, 3, 3)),
    case("inv-batched", lambda x: LA.inv(x) @ x[..., ::-1], _m(general, 2, 3, 3)),
    case("det", LA.det, _m(general, 3, 3)),
    case("det-batched", LA.det, _m(general, 2, 2, 3, 3)),
    case("slogdet", lambda x: LA.slogdet(x)[1], _m(general, 4, 4)),
    case("slogdet-batched", lambda x: LA.slogdet(x).logabsdet, _m(general, 2, 3, 3)),
    case("cholesky", LA.cholesky, _m(spd, 3, 3)),
    case("cholesky-upper", lambda x: LA.cholesky(x, upper=True), _m(spd, 3, 3, garbage="lower"),
         numpy2=True),
    case("cholesky-batched", LA.cholesky, _m(spd, 2, 3, 3)),
    case("eigvalsh-of-S(x)", lambda x: LA.eigvalsh(_S0 + np.tensordot(x, _SYM, 1)), _rand(3)),
    case("eigvalsh-batched", lambda x: LA.eigvalsh(x, UPLO="U"), _m(spd, 2, 3, 3,
                                                                     garbage="lower")),
    case("eigh", lambda x: np.concatenate([LA.eigh(x)[0], np.ravel(LA.eigh(x)[1] ** 2)]),
         _m(spd, 3, 3)),
    # eig: unit-length columns, each with LAPACK's sign; the sign is fixed per column by the
    # squares and by products of a column with itself. LAPACK's order of the eigenvalues is
    # not continuous in the matrix (two swapped between x and x + 2e-4 w, seed 314829819:
    # the differences crossed it), so each case sorts them, the vectors alike
    case("eig", lambda x: np.concatenate([_sorted_eig(x)[0], np.ravel(_sorted_eig(x)[1] ** 2)]),
         _m(real_spectrum, 3, 3)),
    case("eig-batched", lambda x: np.ravel(_sorted_eig(x)[1] ** 2) + np.repeat(
        np.ravel(_sorted_eig(x)[0]), 3), _m(real_spectrum, 2, 3, 3)),
    case("eigvals", lambda x: np.sort(LA.eigvals(x), axis=-1), _m(real_spectrum, 4, 4)),
    case("eigvals-batched", lambda x: np.sort(LA.eigvals(x), axis=-1),
         _m(real_spectrum, 2, 3, 3)),
    case("svd-nuclear-norm", lambda x: np.sum(LA.svd(x, compute_uv=False)), _m(svd_matrix, 4, 3)),
    case("svd-rank-one-terms", lambda x: np.einsum("ip,pj->pij", *LA.svd(x, False)[::2]),
         _m(svd_matrix, 3, 4)),
    case("svd-singular-values", lambda x: LA.svd(x)[1], _m(svd_matrix, 2, 4, 3)),
    case("svdvals", lambda x: LA.svdvals(x), _m(svd_matrix, 3, 5), numpy2=True),
    case("qr-tall", lambda x: _qr_signs(*LA.qr(x)), _m(qr_input, 4, 3)),
    case("qr-wide", lambda x: _qr_signs(*LA.qr(x)), _m(qr_input, 3, 4)),
    case("qr-r", lambda x: np.abs(LA.qr(x, mode="r")), _m(qr_input, 4, 3)),
    # the complement columns Q2 (V2) are any basis: only Q2 Q2^T is a function of x
    case("qr-complete", lambda x: (lambda q, r: np.concatenate([
        _qr_signs(q[:, :3], r[:3]), np.ravel(q[:, 3:] @ q[:, 3:].T)]))(*LA.qr(x, "complete")),
        _m(qr_input, 5, 3)),
    case("svd-full-wide", lambda x: (lambda u, s, vh: np.concatenate([
        np.ravel(np.einsum("ip,pj->pij", u, vh[:2])), s, np.ravel(vh[2:].T @ vh[2:])]))(
        *LA.svd(x)), _m(svd_matrix, 2, 4)),
    case("svd-hermitian", lambda x: (lambda u, s, vh: np.einsum("ip,pj->pij", u, vh))(
        *LA.svd(x, hermitian=True)), _m(spd, 3, 3)),
    case("pinv", LA.pinv, _m(svd_matrix, 4, 3)),
    case("pinv-hermitian", lambda x: LA.pinv(x, hermitian=True), _m(spd, 3, 3)),
    case("lstsq", lambda x: np.concatenate([np.ravel(z) for z in (
        lambda s: (s[0], s[1], s[3]))(LA.lstsq(x[:12].reshape(4, 3), x[12:], rcond=None))]),
        _rand(16)),
    case("lstsq-const-a", lambda x: LA.lstsq(svd_matrix(np.random.default_rng(3), (5, 3)), x)[0],
         _rand(5, 2)),
    case("matrix_power-3", lambda x: LA.matrix_power(x, 3), _m(general, 3, 3)),
    case("matrix_power-neg", lambda x: LA.matrix_power(x, -2), _m(general, 2, 3, 3)),
    case("multi_dot", lambda x: LA.multi_dot([x[0], _B, x[1:], x[1:].T]), _rand(3, 4)),
    case("norm-default", LA.norm, _rand(3, 4)),
    case("norm-vector-p", lambda x: LA.norm(x, 3, axis=1), _m(separated, 3, 4)),
    case("norm-1-inf", lambda x: LA.norm(x, 1) + LA.norm(x, np.inf), _m(separated, 3, 4)),
    case("norm-nuc-2", lambda x: np.stack([LA.norm(x, "nuc"), LA.norm(x, 2), LA.norm(x, -2)]),
         _m(svd_matrix, 4, 3)),
    case("vector_norm", lambda x: LA.vector_norm(x, ord=4, axis=(0, 2)), _m(separated, 2, 3, 4),
         numpy2=True),
    case("matrix_norm", lambda x: LA.matrix_norm(x, ord="fro", keepdims=True), _rand(2, 3, 3),
         numpy2=True),
    case("cond", lambda x: np.stack([LA.cond(x), LA.cond(x, "fro")]), _m(svd_matrix, 3, 3)),
    case("cond-1-inf", lambda x: np.stack([LA.cond(x, 1), LA.cond(x, -np.inf)]),
         _m(cond_input, 3, 3)),
    case("norm-negative-orders", lambda x: np.stack([LA.norm(x, -1), LA.norm(x, -np.inf),
                                                     LA.norm(x[0], -np.inf)]),
         _m(separated, 3, 4)),
    case("constant-outputs", lambda x: LA.matrix_power(x, 0) * LA.norm(x[0], 0) + x,
         _m(general, 3, 3)),
    case("matmul", lambda x: LA.matmul(x, x[..., ::-1, :]), _rand(2, 3, 3), numpy2=True),
    case("tensordot", lambda x: LA.tensordot(x, x, axes=([1, 2], [2, 1])), _rand(2, 3, 3),
         numpy2=True),
    case("outer", lambda x: LA.outer(x, x[::-1] ** 2), _rand(4), numpy2=True),
    case("trace-diagonal-transpose", lambda x: np.concatenate([
        np.ravel(LA.trace(x * x, offset=1)), np.ravel(LA.diagonal(x) ** 3),
        np.ravel(LA.matrix_transpose(x) * x)]), _rand(2, 3, 3), numpy2=True),
    case("vecdot", lambda x: LA.vecdot(x, x[::-1] ** 2, axis=0), _rand(3, 4), numpy2=True),
    case("cross", lambda x: LA.cross(x, x ** 2, axis=0), _rand(3, 2), numpy2=True),
    case("np.cross-axes", lambda x: np.cross(x[:, :3], x[:, 3:] ** 2, axisc=0), _rand(2, 6)),
    case("tensorinv", lambda x: LA.tensorinv(x, ind=2), lambda r: general(
        r, (6, 6)).reshape(2, 3, 6)),
    case("tensorsolve", lambda x: LA.tensorsolve(x, np.arange(6.0).reshape(2, 3)),
         lambda r: general(r, (6, 6)).reshape(2, 3, 2, 3)),
    # with chunk=1 each matrix is a constant (no tangent rows) in the other's sweeps
    case("two-matrices", lambda x: np.concatenate([np.ravel(LA.inv(x[0])), LA.eigvalsh(x[1])]),
         lambda r: np.stack([general(r, (3, 3)), spd(r, (3, 3))])),
    # cutoffs that depend on x (dual scalars) are decisions, constant for the derivative
    case("dual-cutoffs", lambda x: LA.pinv(x[:, :3], rcond=1e-9 * np.abs(x[0, 3]))
         * LA.matrix_rank(x[:, :3], tol=1e-9 * np.abs(x[1, 3]))
         + LA.lstsq(x[:, :3], x[:, 3], rcond=1e-9 * np.abs(x[2, 3]))[0],
         lambda r: np.concatenate([general(r, (3, 3)), r.standard_normal((3, 1))], axis=1)),
    # an exactly singular matrix (LAPACK finds a zero pivot): det's adjugate branch
    case("det-singular", LA.det, lambda r: np.array([[1.0, 2, 3], [1, 2, 3], [4, 5, 7]])),
]


# ---- the checks --------------------------------------------------------------------------------

H = 1e-6


def central(f, x, v, h=H):
    return (np.asarray(f(x + h * v)) - np.asarray(f(x - h * v))) / (2 * h)


def assert_close(got, want, tol, what):
    got, want = np.asarray(got, float), np.asarray(want, float)
    assert got.shape == want.shape, (what, got.shape, want.shape)
    err = np.max(np.abs(got - want), initial=0.0) / max(1.0, np.max(np.abs(want), initial=0.0))
    assert err <= tol, f"{what}: scaled error {err:.2e} > {tol:.0e}"


def projected(f, c):
    """A scalar function of x: the output of f weighted by c (every output entry counts)."""
    return lambda x: np.sum(f(x) * c)


@pytest.mark.parametrize("f,make", CASES)
def test_first_order_matches_central_differences(f, make, rng):
    """jacobian at chunks 1, 2 and all, and jvp, along random directions; values are numpy's."""
    x = make(rng)
    keep = x.copy()
    want = np.asarray(f(x))
    dirs = [rng.standard_normal(x.shape) for _ in range(2)]
    fd = [central(f, x, v) for v in dirs]
    for chunk in (1, 2, None):
        jac = dd.jacobian(f, chunk=chunk)(x)
        assert jac.shape == want.shape + x.shape
        for v, d in zip(dirs, fd):
            assert_close(np.tensordot(jac, v, x.ndim), d, 1e-6, f"jacobian chunk={chunk}")
    value, t = dd.jvp(f, (x,), (dirs[0],))
    assert_close(value, want, 1e-13, "jvp value")
    assert_close(t, fd[0], 1e-6, "jvp")
    np.testing.assert_array_equal(x, keep)


@pytest.mark.parametrize("f,make", CASES)
def test_second_order_matches_differences_of_the_gradient(f, make, rng):
    """Hessian and hvp of a random projection c . f(x): H w against central differences of
    the (exact, first-order) gradient along w; derivative(order=2) along a line against second
    differences of f."""
    x = make(rng)
    c = rng.standard_normal(np.shape(f(x)))
    g = projected(f, c)
    w = rng.standard_normal(x.shape)
    # central differences of the exact gradient, Richardson-extrapolated (h and 2h): an
    # ill-conditioned random solve/lstsq left an O(h^2) truncation of 1e-6 at one step
    dg = dd.grad(g)
    fd = (4 * central(dg, x, w, 1e-5) - central(dg, x, w, 2e-5)) / 3
    hess = dd.hessian(g)(x)
    assert hess.shape == x.shape + x.shape
    assert_close(np.tensordot(hess, w, x.ndim), fd, 1e-6, "hessian")
    flat = hess.reshape(x.size, x.size)
    assert_close(flat, flat.T, 1e-12, "symmetric")
    assert_close(dd.hvp(g)(x, w), fd, 1e-6, "hvp")
    line = lambda s: g(x + s * w)
    # second differences at h and 2h, Richardson-extrapolated: truncation O(h^4), rounding
    # ~5 eps |f| / h^2 ~ 1e-7 |f| (one step of 1e-4 alone left an O(h^2) truncation of
    # 1e-5 for some random lstsq problems, whose curvature varies fast)
    d2h = lambda h: (line(h) - 2 * line(0.0) + line(-h)) / h ** 2      # noqa: E731
    d2 = (4 * d2h(1e-4) - d2h(2e-4)) / 3
    assert_close(dd.derivative(line, order=2)(0.0), d2, 1e-5, "derivative(order=2)")
    assert_close(dd.derivative(line)(0.0), central(line, 0.0, 1.0), 1e-6, "derivative")


SMALL = [p for p in CASES if p.id in ("loglik-exp-kernel", "eigvalsh-of-S(x)", "svd-nuclear-norm",
                                      "qr-wide", "lstsq")]


@pytest.mark.parametrize("f,make", SMALL)
def test_results_do_not_depend_on_the_chunk(f, make, rng):
    """grad and hessian with one direction per sweep, two, or all agree (to BLAS rounding)."""
    x = make(rng)
    g = projected(f, rng.standard_normal(np.shape(f(x))))
    grads = [dd.grad(g, chunk=k)(x) for k in (1, 2, None)]
    hessians = [dd.hessian(g, chunk=k)(x) for k in (1, 2, None)]
    for a in grads[1:]:
        assert_close(a, grads[0], 1e-12, "grad")
    for a in hessians[1:]:
        assert_close(a, hessians[0], 1e-10, "hessian")


# ---- values, discrete outputs, coverage --------------------------------------------------------

VALUES = [   # (function, input): the value of a rule-based function is numpy's, bit for bit
    (LA.inv, _m(general, 3, 3)), (LA.det, _m(general, 2, 3, 3)), (LA.cholesky, _m(spd, 4, 4)),
    (lambda a: LA.slogdet(a)[1], _m(general, 3, 3)), (LA.eigvalsh, _m(spd, 3, 3)),
    (lambda a: LA.eigh(a)[1], _m(spd, 3, 3)), (lambda a: LA.svd(a)[0], _m(svd_matrix, 4, 3)),
    (lambda a: LA.qr(a)[1], _m(qr_input, 4, 3)), (LA.pinv, _m(svd_matrix, 3, 4)),
    (lambda a: LA.lstsq(a, np.ones(4))[0], _m(svd_matrix, 4, 3)), (LA.norm, _rand(3, 4)),
    (lambda a: LA.norm(a, "nuc"), _m(svd_matrix, 3, 3)), (LA.cond, _m(general, 3, 3)),
    (lambda a: LA.solve(a, np.arange(3.0)), _m(general, 3, 3)),
    (lambda a: LA.svd(a, compute_uv=False), _rand(3, 5)),
    (lambda a: LA.matrix_power(a, 5), _m(general, 3, 3)),
]


@pytest.mark.parametrize("func,make", VALUES)
def test_values_are_numpys_bit_for_bit(func, make, rng):
    x = make(rng)
    value, _ = dd.jvp(func, (x,), (rng.standard_normal(x.shape),))
    np.testing.assert_array_equal(value, func(x))


def test_discrete_outputs_are_constants(rng):
    """matrix_rank, slogdet's sign and lstsq's rank are plain numbers inside f: no derivative,
    at first and second order."""
    a = general(rng, (3, 3))
    a[0] *= -1.0 if LA.det(a) > 0 else 1.0                     # a negative determinant
    f = lambda x: (LA.matrix_rank(x) + LA.lstsq(x, np.ones(3))[2]) * np.sum(x) \
        + LA.slogdet(x)[0] * np.sum(x * x)
    assert_close(dd.grad(f)(a), 6.0 - 2.0 * a, 1e-14, "grad")
    assert_close(dd.hessian(f)(a), -2.0 * np.eye(9).reshape(3, 3, 3, 3), 1e-14, "hessian")


@pytest.mark.parametrize("ord", [None, 1, 2, 3, 0.5, np.inf])
def test_norms_at_the_zero_vector_are_a_kink_like_abs_at_zero(ord):
    """|t| ||v|| along every line: gradient 0 and Hessian 0 (abs'(0) = abs'' = 0), not NaN."""
    f = lambda x: LA.norm(x, ord)
    assert np.array_equal(dd.grad(f)(np.zeros(3)), np.zeros(3))
    assert np.array_equal(dd.hessian(f)(np.zeros(3)), np.zeros((3, 3)))
    assert np.array_equal(dd.hessian(LA.norm)(np.zeros((2, 2))), np.zeros((2, 2, 2, 2)))


@pytest.mark.parametrize("ord", [-1, -2])
def test_a_norm_that_underflows_to_zero_is_a_constant_for_every_chunk(ord):
    """||[..., 5e-324, ...]||_-1 underflows to 0: its tangent is 0 (the zero-norm convention
    above), not the NaN of an overflowed weight times 0, which spread along every direction
    of the sweep -- into other inputs' entries too (fuzz seed 2424-88878)."""
    a = np.array([-1.4, 1.3, 0.19])
    x = np.array([-1.05, 1.35, 5e-324, -0.003])
    f = lambda a, x: np.sum(np.sin(LA.norm(np.abs(x), ord))) + np.sum(np.sin(a))
    assert LA.norm(np.abs(x), ord) == 0.0
    with np.errstate(all="ignore"):
        hs = [dd.hessian(f, argnums=(0, 1), chunk=c)(a, x) for c in (1, 2, None)]
    for h in hs:
        assert np.array_equal(h[0][0], np.diag(-np.sin(a)))
        for block in (h[0][1], h[1][0], h[1][1]):
            assert np.array_equal(block, np.zeros_like(block))


def test_every_numpy_linalg_function_is_served():
    """Each public function of numpy.linalg has a handler; eig and eigvals (complex) raise a
    TypeError naming their symmetric counterparts (below)."""
    from dualdiff._numpy import FUNCTIONS
    public = [n for n in dir(LA) if not n.startswith("_") and callable(getattr(LA, n))
              and n not in ("LinAlgError", "test")]
    assert [n for n in public if getattr(LA, n) not in FUNCTIONS] == []
    assert np.cross in FUNCTIONS


# ---- points without a derivative, bad calls ----------------------------------------------------

def _with_values(rng, values):
    q = np.linalg.qr(rng.standard_normal((len(values), len(values))))[0]
    return (q * values) @ q.T


def _sum(f):
    return lambda x: np.sum(f(x))


ERRORS = [   # (transform, function, input, exception, words the message must contain)
    (dd.jacobian, lambda x: LA.eigh(x)[1], lambda r: _with_values(r, [1.0, 1.0, 3.0]),
     ValueError, ["numpy.linalg.eigh", "repeated eigenvalues", "eigvalsh"]),
    (dd.hessian, _sum(LA.eigvalsh), lambda r: _with_values(r, [1.0, 1.0, 3.0]),
     ValueError, ["numpy.linalg.eigvalsh", "second derivative", "repeated"]),
    (dd.jacobian, lambda x: LA.svd(x)[0], lambda r: svd_matrix(r, (4, 3), np.array([2., 2, 1])),
     ValueError, ["numpy.linalg.svd", "repeated singular values", "svdvals"]),
    (dd.hessian, lambda x: LA.norm(x, 2), lambda r: svd_matrix(r, (4, 3), np.array([2., 2, 1])),
     ValueError, ["numpy.linalg.norm", "second derivative"]),
    (dd.jacobian, lambda x: LA.qr(x)[1], lambda r: svd_matrix(r, (5, 3), np.array([3., 1, 0])),
     ValueError, ["numpy.linalg.qr", "linearly dependent"]),
    (dd.grad, lambda x: LA.slogdet(x)[1], lambda r: np.array([[1.0, 2], [2, 4]]),
     ValueError, ["numpy.linalg.slogdet", "singular", "det"]),
    (dd.grad, LA.cond, lambda r: np.diag([1.0, 0.0]), ValueError,
     ["numpy.linalg.cond", "singular"]),
    (dd.hessian, _sum(lambda x: LA.pinv(x, rcond=1e-3)),
     lambda r: svd_matrix(r, (5, 4), np.array([3.0, 1.5, 0.0, 0.0])),
     ValueError, ["numpy.linalg.pinv", "second derivative", "rank-deficient"]),
    (dd.jacobian, lambda x: LA.solve(x, np.ones(2)), lambda r: np.ones((2, 2)),
     LA.LinAlgError, ["numpy.linalg.solve", "Singular matrix"]),
    (dd.hessian, _sum(LA.cholesky), lambda r: -np.eye(2),
     LA.LinAlgError, ["numpy.linalg.cholesky", "positive definite"]),
    (dd.jacobian, lambda x: LA.qr(x, mode="raw")[0], _rand(3, 3),
     TypeError, ["numpy.linalg.qr", "mode='raw'"]),
    (dd.jacobian, lambda x: LA.multi_dot([x, x], out=np.empty((3, 3))), _rand(3, 3),
     TypeError, ["numpy.linalg.multi_dot", "out="]),
    (dd.jacobian, lambda x: LA.trace(x, dtype=int), _rand(3, 3),
     TypeError, ["numpy.linalg.trace", "dtype="]),
    (dd.jacobian, lambda x: LA.eig(x)[0], lambda r: np.array([[0.0, 1.0], [-1.0, 0.0]]),
     TypeError, ["numpy.linalg.eig", "complex eigenvalues", "eigh"]),
    (dd.jacobian, LA.eigvals, lambda r: np.array([[1.0, 2.0], [-3.0, 1.0]]),
     TypeError, ["numpy.linalg.eigvals", "complex eigenvalues", "eigvalsh"]),
    (dd.jacobian, LA.eigvals, lambda r: np.array([[1.0, 1.0], [0.0, 1.0]]),
     ValueError, ["numpy.linalg.eigvals", "repeated eigenvalues"]),
    (dd.jacobian, lambda x: LA.outer(x, x), _rand(3, 3), ValueError,
     ["numpy.linalg.outer", "one-dimensional"]),
    (dd.jacobian, lambda x: LA.cross(x, x), _rand(3, 2), ValueError,
     ["numpy.linalg.cross", "3-dimensional"]),
    (dd.jacobian, lambda x: LA.tensorinv(x, ind=0), _rand(3, 3), ValueError,
     ["numpy.linalg.tensorinv", "ind"]),
]


@pytest.mark.parametrize("transform,f,make,exc,words", ERRORS,
                         ids=[f"{i}-{e[3].__name__}-{e[4][0]}" for i, e in enumerate(ERRORS)])
def test_no_derivative_or_bad_call_raises_naming_the_function(transform, f, make, exc, words, rng):
    """Never a NaN, an inf or a silently wrong number: an exception naming numpy's function
    (numpy.linalg.solve, not solve), the reason and, where there is one, the way out."""
    if not hasattr(LA, words[0].split(".")[-1]):
        pytest.skip(f"{words[0]} is numpy >= 2")
    with pytest.raises(exc) as err:
        transform(f)(make(rng))
    for w in words:
        assert w in str(err.value), (w, str(err.value))


# ---- cost --------------------------------------------------------------------------------------

def test_lapack_calls_per_sweep_do_not_grow_with_the_directions(rng, monkeypatch):
    """The Gaussian log-likelihood's gradient (4 parameters) and Hessian in one sweep make the
    same numpy.linalg calls as with one direction: every direction shares each factorisation."""
    f = gaussian_loglik(_T, _Y)
    theta = rng.normal(0, 0.3, 4)
    from dualdiff._jvp import linalg as L
    calls = []
    numpy_inv = LA.inv
    for owner, name in [(LA, n) for n in ("solve", "slogdet", "det", "cholesky", "eigh", "svd",
                                          "qr", "inv")]:
        def counted(*args, _orig=getattr(owner, name), _name=name, **kwargs):
            if isinstance(args[0], np.ndarray):     # LAPACK's work (dual arrays dispatch on)
                calls.append(_name)
            return _orig(*args, **kwargs)
        monkeypatch.setattr(owner, name, counted)
    # the rules' inverse of a plain matrix (numpy's LAPACK through ctypes, _lapack.py) is one
    # "inv" too, whichever route it takes
    from dualdiff import _lapack
    monkeypatch.setattr(_lapack, "inverse", lambda a: (calls.append("inv"), numpy_inv(a))[1])

    def count(transform, x):
        calls.clear()
        transform(x)
        return sorted(calls)
    first = lambda t: f(np.concatenate([t, theta[1:]]))        # one parameter: one direction
    one = count(dd.grad(first), theta[:1])
    # f itself: slogdet, solve; their tangents share one inverse (_jvp/linalg.py's _inverse)
    assert one == ["inv", "slogdet", "solve"]
    assert count(dd.grad(f, chunk=4), theta) == one
    # the sweeps of one call share it too; the value's calls are made once per sweep
    assert count(dd.grad(f, chunk=1), theta) == sorted(["inv"] + ["slogdet", "solve"] * 4)
    # second order: the rules run on dual arrays, whose plain level shares the same inverse
    one = count(dd.hessian(first), theta[:1])
    assert one == ["inv", "slogdet", "solve"]
    assert count(dd.hessian(f, chunk=4), theta) == one


def _inverse_users(base):
    """Functions whose rules share one inverse of the same matrix (solve, slogdet, det, inv),
    with that matrix built from x or held constant, batched or not."""
    return [
        lambda x: LA.slogdet(base * x[0])[1] + np.sum(LA.solve(base * x[0], x)),
        lambda x: np.sum(LA.inv(base + x[:, None])) + LA.det(base + x[:, None]),
        lambda x: np.sum(LA.solve(base, x ** 2)) + np.sum(LA.inv(base) @ x),
        lambda x: np.sum(LA.solve(np.stack([base, base.T]) + x[:, None], x)) +
        np.sum(LA.slogdet(np.stack([base, base.T]) + x[:, None])[1]),
    ]


@pytest.mark.parametrize("which", range(4))
def test_the_shared_inverse_gives_the_bits_of_a_fresh_one(rng, monkeypatch, which):
    """_inverse's memo (a fast path) against the plain path, with no memo at all: equal to
    the bit, at first and second order and for every chunk."""
    from dualdiff._jvp import linalg as L
    base = general(rng, (5, 5))
    f = _inverse_users(base)[which]
    x = rng.uniform(0.5, 1.5, 5)
    calls = [lambda: dd.grad(f)(x), lambda: dd.grad(f, chunk=2)(x), lambda: dd.hessian(f)(x),
             lambda: dd.hessian(f, chunk=3)(x)]
    shared = [c() for c in calls]
    monkeypatch.setattr(L, "_INVERSE_BYTES", 0)                # nothing is kept
    fresh = [c() for c in calls]
    for a, b in zip(shared, fresh):
        assert np.array_equal(a, b)


def test_the_rules_use_numpys_lapack_alone():
    """Not scipy.linalg's: scipy loads an OpenBLAS of its own, and with threads on the two
    pools' idle threads spin against each other (the n = 200 Gaussian likelihood's gradient
    took 4x longer with scipy's getri beside numpy's solve). Checked in a fresh process."""
    import subprocess
    import sys
    code = ("import sys, numpy as np, dualdiff as dd\n"
            "a = np.eye(6) * 3 + np.ones((6, 6)) / 7\n"
            "f = lambda x: np.linalg.slogdet(a * x[0])[1] + np.sum(np.linalg.solve(a + x, x))"
            " + np.sum(np.linalg.inv(a * x[1])) + np.linalg.det(a + x[2])\n"
            "dd.grad(f)(np.ones(6)); dd.hessian(f)(np.ones(6))\n"
            "assert 'scipy.linalg' not in sys.modules, 'scipy.linalg was imported'\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_a_matrix_changed_in_place_is_not_served_its_old_inverse(rng):
    base = general(rng, (4, 4))

    def f(x):
        c = base.copy()
        first = np.sum(LA.solve(c, x))
        c[0, 0] += 1.0                      # the same array object, other numbers
        return first + np.sum(LA.solve(c, x))
    changed = base.copy()
    changed[0, 0] += 1.0
    want = np.ones(4) @ LA.inv(base) + np.ones(4) @ LA.inv(changed)
    assert np.allclose(dd.grad(f)(np.ones(4)), want, rtol=1e-13, atol=0)


def test_multi_dot_follows_numpy_for_any_ndim(rng):
    """numpy's multi_dot of two arrays is np.dot (any ndim); of more, 2-D inside only. (A 3-D
    pair once reached the 2-D rule, whose tangent of the wrong shape corrupted memory.)"""
    x = rng.standard_normal((2, 3, 3))
    f = lambda x: np.sum(np.linalg.multi_dot([x, x]) ** 2)       # noqa: E731
    g = lambda x: np.sum(np.dot(x, x) ** 2)                       # noqa: E731
    for chunk in (1, 2, None):
        assert np.array_equal(dd.grad(f, chunk=chunk)(x), dd.grad(g, chunk=chunk)(x))
    assert dd.derivative(lambda t: np.linalg.multi_dot([t, t]))(-0.5) == -1.0
    with pytest.raises(np.linalg.LinAlgError, match="3-dimensional array given"):
        dd.grad(lambda x: np.sum(np.linalg.multi_dot([x, x, x])))(x)


def test_a_whole_array_rule_returning_a_tangent_of_the_wrong_shape_raises_not_corrupts():
    """The rules room's results are checked before a dual array is made of them (dd.custom_jvp
    checks its users' rules itself, with its own message)."""
    from dualdiff import _arrays
    short = lambda primals, tangents: (np.sin(primals[0]), tangents[0][:1])     # noqa: E731
    with pytest.raises(ValueError, match="derivative rule returned a tangent of shape"):
        dd.jvp(lambda x: _arrays.apply_rule(short, (x,)), (np.ones(4),), (np.ones(4),))
    with pytest.raises(ValueError, match="derivative rule returned a tangent of shape"):
        dd.hessian(lambda x: np.sum(_arrays.apply_rule(short, (x,))))(np.ones(4))


@pytest.mark.parametrize("use", [
    lambda m: np.linalg.norm(m, "nuc", keepdims=True), lambda m: np.linalg.norm(m, "fro"),
    lambda m: np.linalg.svd(m, compute_uv=False)],
    ids=["nuc", "fro", "svdvals"])
@pytest.mark.parametrize("shape", [(2, 0), (0, 3)])
def test_singular_value_rules_of_an_empty_matrix_beside_other_inputs(use, shape):
    """An empty matrix has no singular values; a sweep whose directions belong to another
    argument still passes through the rule (its cluster matrix was once 1x1 for none)."""
    def f(m, a):
        return np.sum(use(m)) + np.sum(np.sin(m)) + a[0] ** 3
    m, a = np.zeros(shape), np.array([0.7])
    g = dd.grad(f, argnums=(0, 1))(m, a)
    assert g[0].shape == shape and g[1][0] == pytest.approx(3 * 0.49)
    H = dd.hessian(f, argnums=(1, 0), chunk=1)(m, a)
    assert H[0][0][0, 0] == pytest.approx(6 * 0.7)


@pytest.mark.parametrize("use", [lambda m: np.linalg.norm(m, 2), lambda m: np.linalg.cond(m),
                                 lambda m: np.linalg.norm(m, "nuc")], ids=["2", "cond", "nuc"])
def test_singular_value_rules_at_an_infinite_entry_give_nan_without_hanging(use):
    """LAPACK's SVD with vectors can loop forever on an inf (this matrix did); numpy's own
    norm asks for the values alone, which are NaN there. The rules do not ask for vectors of
    a matrix that is not finite: the derivative is NaN, as IEEE arithmetic gives."""
    m = np.array([[2.06, 2.66, 0.0, 2.16], [-2.25, 0.95, 3.94, 1.05], [np.inf, 1.09, -3.77, 5.64]])
    try:
        use(m)
    except np.linalg.LinAlgError:
        # numpy >= 2.5's SVD says "did not converge" here: so does the rule, promptly
        with pytest.raises(np.linalg.LinAlgError):
            dd.grad(lambda m: use(m))(m)
        return
    g = dd.grad(lambda m: use(m))(m)
    assert g.shape == m.shape and np.isnan(g).all()


@pytest.mark.parametrize("ord", [None, "fro", "nuc", np.inf, 1, 2, -1])
@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (0, 0)])
def test_norms_of_empty_matrices_are_constants(ord, shape):
    """numpy's norm of an empty matrix is 0 (where it does not raise): a constant."""
    def f(m, a):
        return np.linalg.norm(m, ord) + np.sum(a * a)
    m, a = np.zeros(shape), np.array([0.5, 0.3])
    try:
        f(m, a)
    except ValueError:
        pytest.skip("numpy raises for this norm of an empty matrix")
    g = dd.grad(f, argnums=(0, 1))(m, a)
    assert g[0].shape == shape and np.array_equal(g[1], 2 * a)
    H = dd.hessian(f, argnums=(1, 0))(m, a)
    assert np.array_equal(H[0][0], 2 * np.eye(2))


# ---- the rules' inverse through numpy's own LAPACK (dualdiff/_lapack.py) ---------------------

def _inverse_cases(rng):
    a = general(rng, (6, 6))
    s = a @ a.T + 6 * np.eye(6)
    ind = a + a.T                                           # symmetric, indefinite: LU
    i = np.arange(6)
    near = 1.0 / (i[:, None] + i[None, :] + 1.0) + np.tril(np.full((6, 6), 1e-9), -1)  # cond 1e7
    return {"spd": s, "symmetric indefinite": ind, "general": a, "nearly singular": near,
            "fortran order": np.asfortranarray(a), "transposed view": s.T,
            "strided": np.eye(12)[::2, ::2] * 3 + s * 0.1, "2x2": s[:2, :2],
            "1x1": s[:1, :1], "batched": np.stack([s, a]), "large spd": _spd150(rng)}


def _spd150(rng):
    a = rng.standard_normal((150, 150))
    return a @ a.T / 150 + 0.1 * np.eye(150)


@pytest.mark.parametrize("case", ["spd", "symmetric indefinite", "general", "nearly singular",
                                  "fortran order", "transposed view", "strided", "2x2", "1x1",
                                  "batched", "large spd"])
def test_the_rules_inverse_is_numpys_to_rounding(rng, monkeypatch, case):
    """Each route (potrf/potri, getrf/getri, numpy's inv for the rest) against numpy.linalg.inv,
    within n eps cond(A); the input is never written. Small orders take LAPACK's route too."""
    from dualdiff import _lapack
    monkeypatch.setattr(_lapack, "_SMALLEST", 2)
    a = _inverse_cases(rng)[case]
    before = a.copy()
    got, want = _lapack.inverse(a), LA.inv(a)
    assert np.array_equal(a, before)
    assert got.shape == want.shape and got.dtype == np.float64
    bound = 16 * a.shape[-1] * np.finfo(float).eps * np.max(LA.cond(a))
    assert np.max(np.abs(got - want)) <= bound * np.max(np.abs(want))
    if case in ("spd", "large spd", "transposed view"):
        assert np.array_equal(got, got.T)                   # Cholesky's inverse is symmetric


@pytest.mark.parametrize("a", [np.ones((3, 3)), np.zeros((4, 4)),
                               np.array([[1.0, 2.0], [2.0, 4.0]])], ids=["ones", "zeros", "rank1"])
def test_the_rules_inverse_of_a_singular_matrix_is_numpys_error(monkeypatch, a):
    from dualdiff import _lapack
    monkeypatch.setattr(_lapack, "_SMALLEST", 2)
    with pytest.raises(LA.LinAlgError, match="Singular matrix"):
        _lapack.inverse(a)


def test_the_rules_inverse_of_non_finite_entries_is_numpys(monkeypatch):
    from dualdiff import _lapack
    monkeypatch.setattr(_lapack, "_SMALLEST", 2)
    a = np.array([[2.0, np.nan], [np.nan, 2.0]])
    np.testing.assert_array_equal(_lapack.inverse(a), LA.inv(a))


@pytest.mark.parametrize("name", ["gaussian_loglik", "gaussian_loglik_pointnoise"])
def test_the_lapack_route_gives_numpys_route_to_rounding(rng, monkeypatch, name):
    """The fast path (numpy's LAPACK through ctypes) against the plain one (numpy's inv), at
    first and second order, on the likelihoods the benchmark times; values bit for bit."""
    import functions as F
    from dualdiff import _lapack
    from dualdiff._jvp import linalg as L
    monkeypatch.setattr(_lapack, "_SMALLEST", 2)           # the likelihoods' 8 x 8 too
    f, draw = F.LINALG_LIKELIHOODS[name]
    x = draw(rng)
    calls = [lambda: dd.value_and_grad(f)(x), lambda: dd.hessian(f)(x),
             lambda: dd.grad(f, chunk=1)(x)]
    fast = [c() for c in calls]
    monkeypatch.setattr(_lapack, "_LIB", False)
    L.clear_inverse()
    plain_ = [c() for c in calls]
    assert fast[0][0] == plain_[0][0]
    for a, b in zip([fast[0][1]] + fast[1:], [plain_[0][1]] + plain_[1:]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12 * np.max(np.abs(b)))


def test_numpys_lapack_is_found_where_numpy_bundles_it():
    """numpy's wheels (Linux, macOS, Windows) bundle scipy-openblas: there the fast route must
    be on, or the benchmark silently measures numpy's inv. Other builds (conda's MKL) skip."""
    import glob
    import os
    from dualdiff import _lapack
    here = os.path.dirname(np.__file__)
    bundled = glob.glob(os.path.join(here, os.pardir, "numpy.libs", "*scipy_openblas64_*")) + \
        glob.glob(os.path.join(here, ".dylibs", "*scipy_openblas64_*"))
    if not bundled or os.environ.get("DUALDIFF_NUMPY_LAPACK") == "0":
        pytest.skip("this numpy does not bundle scipy-openblas")
    assert _lapack.available()


@pytest.mark.parametrize("which", range(4))
@pytest.mark.parametrize("symmetric", [False, True], ids=["general", "spd"])
def test_the_lapack_route_of_every_inverse_user_is_numpys_route_to_rounding(
        rng, monkeypatch, which, symmetric):
    """solve, slogdet, det and inv (batched or not, matrix constant or moving), first and
    second order, with the rules' inverse from numpy's LAPACK and from numpy's inv."""
    from dualdiff import _lapack
    from dualdiff._jvp import linalg as L
    monkeypatch.setattr(_lapack, "_SMALLEST", 2)
    base = general(rng, (5, 5))
    if symmetric:
        base = base @ base.T + 5 * np.eye(5)
    f = _inverse_users(base)[which]
    x = rng.uniform(0.5, 1.5, 5)
    calls = [lambda: dd.grad(f)(x), lambda: dd.grad(f, chunk=2)(x), lambda: dd.hessian(f)(x)]
    fast = [c() for c in calls]
    monkeypatch.setattr(_lapack, "_LIB", False)
    L.clear_inverse()
    # det's terms are of the size of det itself, whatever their sum: rounding scales with it
    scale = max(np.max(np.abs(fast[-1])), abs(LA.det(base)))
    for a, b in zip(fast, [c() for c in calls]):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-13 * scale)


def test_eig_where_numpy_returns_complex_arrays_for_a_real_spectrum(monkeypatch, rng):
    """numpy >= 2.5 returns eig's and eigvals' results as complex arrays always (zero imaginary
    parts for a real spectrum); the rules take their real parts: the same derivatives as with
    numpy's real arrays. Simulated here on any numpy."""
    x = real_spectrum(rng, (3, 3))
    f = lambda a: np.concatenate([LA.eigvals(a), np.ravel(LA.eig(a)[1] ** 2)])  # noqa: E731
    want, want_h = dd.jacobian(f)(x), dd.hessian(lambda a: np.sum(f(a) ** 2))(x)
    for name in ("eig", "eigvals"):
        orig = getattr(LA, name)

        def cast(a, orig=orig):
            r = orig(a)
            if not isinstance(a, np.ndarray):
                return r                                   # dual values: dualdiff's rule
            return type(r)(*(o.astype(complex) for o in r)) if isinstance(r, tuple) else \
                r.astype(complex)
        monkeypatch.setattr(LA, name, cast)
    np.testing.assert_allclose(dd.jacobian(f)(x), want, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(dd.hessian(lambda a: np.sum(f(a) ** 2))(x), want_h, rtol=1e-12)
    with pytest.raises(TypeError, match="complex eigenvalues"):
        dd.jacobian(lambda a: LA.eigvals(a))(np.array([[0.0, 1.0], [-1.0, 0.0]]))
