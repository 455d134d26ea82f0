"""The check every numpy helper on dual values passes (used by tests/test_numpy_*.py).

check(f, x, rng) runs f -- written in plain numpy -- under the transforms and requires:
  * value: the primal output of a forward sweep equals f(x) run by numpy (bit for bit when
    `exact`, the same operations in the same order; else to rounding);
  * first order: the Jacobian is the same for every chunk (1, 2, all directions at once) and
    its products with random directions match central finite differences;
  * second order: for a random weighting w of the outputs, the Hessian of w . f(x) (exact,
    hyper-dual) times random directions matches central finite differences of the gradient,
    and dd.hvp agrees with it.
Inputs are drawn away from the functions' kinks by the callers (see `spread`), so a finite
difference never straddles a jump.
"""
import numpy as np

import dualdiff as dd
from conftest import rel_err

H = 1e-6


def spread(rng, n, lo=0.3, gap=0.137):
    """n well-separated numbers in random order: no two within `gap` / 2 of each other, so
    sorts and searches do not change order under a finite-difference step."""
    return lo + gap * (rng.permutation(n) + rng.uniform(0.25, 0.75, n))


def _fd(f, x, v, h=H):
    return (np.asarray(f(x + h * v), dtype=float) - np.asarray(f(x - h * v), dtype=float)) / (2 * h)


def _close(got, want, tol):
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
    return float(np.max(np.abs(got - want), initial=0.0)) <= tol * scale


def check(f, x, rng, *, exact=True, chunks=(1, 2, None), second=True, tol=1e-6):
    x = np.asarray(x, dtype=float)
    want = np.asarray(f(x))
    v = rng.normal(size=x.shape)
    value, tangent = dd.jvp(f, (x,), (v,))
    value = np.asarray(value)
    assert value.shape == want.shape
    if exact:
        assert np.array_equal(value, want, equal_nan=True), "value differs from numpy's"
    else:
        assert rel_err(value, want) <= 1e-13, "value differs from numpy's"
    assert _close(tangent, _fd(f, x, v), tol), "jvp differs from finite differences"
    jacs = [np.asarray(dd.jacobian(f, chunk=c)(x)) for c in chunks]
    for J in jacs[1:]:
        # to rounding relative to the Jacobian's scale (BLAS sums in a chunk-dependent order;
        # entries that are 0 in exact arithmetic come out as roundoff of either sign)
        assert _close(J, jacs[0], 1e-13), "the Jacobian depends on the chunk"
    J = jacs[0].reshape(want.size, x.size)
    for _ in range(2):
        u = rng.normal(size=x.shape)
        assert _close(J @ u.ravel(), _fd(f, x, u).ravel(), tol), "Jacobian vs differences"
    if second:
        w = rng.normal(size=want.shape)
        g = lambda y: np.sum(w * f(y))                    # noqa: E731
        Hm = np.asarray(dd.hessian(g)(x)).reshape(x.size, x.size)
        assert rel_err(Hm, Hm.T) <= 1e-12, "the Hessian is not symmetric"
        grad = dd.grad(g)
        for _ in range(2):
            u = rng.normal(size=x.shape)
            Hu = Hm @ u.ravel()
            assert _close(Hu, _fd(grad, x, u).ravel(), 10 * tol), "Hessian vs differences"
            assert _close(np.asarray(dd.hvp(g)(x, u)).ravel(), Hu, 1e-12), "hvp vs hessian"


def check_scalar(f, t, *, tol=1e-6):
    """f of one float (numpy functions on dual scalars): first and second derivatives
    against central differences, and the values against numpy's."""
    d1 = dd.derivative(f)(t)
    assert _close(d1, _fd(f, t, 1.0), tol)
    d2 = dd.derivative(f, order=2)(t)
    assert _close(d2, _fd(dd.derivative(f), t, 1.0, 1e-5), 10 * tol)
    return d1, d2
