"""Specification of dd.sparse_jacobian and dd.sparse_hessian (dualdiff/sparse.py):

* they return scipy.sparse.csr_array equal to dd.jacobian / dd.hessian (flattened in C order),
  on the shared battery and on stencil, banded, block-diagonal, arrow and dense patterns;
* the colourings reach the known optima on stencils (3, 5, 9, 7 colours);
* .prepare(x) gives an object with .pattern, .colors, .ncolors that is reused at other
  points, says with .check(x) whether its pattern still holds, and refuses what it was not
  prepared for;
* a user pattern works when it covers the entries and raises when it misses one;
* executor= runs the compressed sweeps on an executor's workers (a process pool here) and
  gives the serial result bit for bit;
* bad input raises a clear exception, scipy's absence an ImportError naming it.
"""
import concurrent.futures as cf
import os
import sys

import numpy as np
import pytest

sp = pytest.importorskip("scipy.sparse")

import dualdiff as dd  # noqa: E402
import functions as battery  # noqa: E402
from dualdiff import _arrays, _sparsity  # noqa: E402
from conftest import rel_err  # noqa: E402


def dense_jacobian(f, x, *args):
    return np.asarray(dd.jacobian(f)(x, *args)).reshape(-1, np.size(x))


def assert_jacobian(f, x, *args, **kw):
    J = dd.sparse_jacobian(f, **kw)(x, *args)
    assert isinstance(J, sp.csr_array)
    want = dense_jacobian(f, x, *args)
    assert J.shape == want.shape
    assert rel_err(J.toarray(), want) <= 1e-14
    return J


def assert_hessian(f, x, **kw):
    prepared = dd.sparse_hessian(f, **kw).prepare(x)
    H = prepared(x)
    assert isinstance(H, sp.csr_array)
    want = dd.hessian(f)(x).reshape(x.size, x.size)
    scale = max(1.0, float(np.max(np.abs(want))))
    assert np.max(np.abs(H.toarray() - want)) <= 1e-13 * scale
    assert (H != H.T).nnz == 0                      # symmetric bit for bit
    return prepared, H


# ------------------------------------------------------------------------------------------
# structured functions
# ------------------------------------------------------------------------------------------

def tridiagonal(x):
    z = np.zeros(1)
    return np.concatenate([z, x[:-1]]) - 2 * x + np.concatenate([x[1:], z]) + x ** 3


def shifted(U, a, b):
    """U shifted by (a, b) with zeros coming in (slicing and concatenation only)."""
    s0, s1 = U.shape
    if a:
        z = np.zeros((abs(a), s1))
        U = np.concatenate([U[a:], z]) if a > 0 else np.concatenate([z, U[:a]])
    if b:
        z = np.zeros((s0, abs(b)))
        U = np.concatenate([U[:, b:], z], axis=1) if b > 0 else np.concatenate([z, U[:, :b]],
                                                                               axis=1)
    return U


def five_point(u):
    s = int(round(u.size ** 0.5))
    U = u.reshape(s, s)
    nb = shifted(U, 1, 0) + shifted(U, -1, 0) + shifted(U, 0, 1) + shifted(U, 0, -1)
    return (4 * U - nb + np.exp(U)).ravel()


def nine_point(u):
    s = int(round(u.size ** 0.5))
    U = u.reshape(s, s)
    acc = np.sin(U)
    for a in (-1, 0, 1):
        for b in (-1, 0, 1):
            if a or b:
                acc = acc + (0.5 + a + 2 * b) * shifted(U, a, b) * U
    return acc.ravel()


def seven_point_3d(u):
    s = int(round(u.size ** (1 / 3)))
    U = u.reshape(s, s, s)
    acc = 6 * U + U ** 2
    for ax in range(3):
        z = np.zeros(tuple(1 if i == ax else s for i in range(3)))
        acc = acc - np.concatenate([np.take(U, np.arange(1, s), axis=ax), z], axis=ax)
        acc = acc - np.concatenate([z, np.take(U, np.arange(s - 1), axis=ax)], axis=ax)
    return acc.ravel()


def banded(x, width=3):
    out = x * np.cos(x)
    for k in range(1, width + 1):
        out = out + np.concatenate([x[k:] * x[:-k], np.zeros(k)]) / k
    return out


def block_diagonal(x):
    B = x.reshape(4, 3)
    W = np.arange(9.0).reshape(3, 3) / 10 + np.eye(3)
    return np.tanh(np.einsum("kb,bc->kc", B, W) * B[:, :1]).ravel()


def arrow(x):
    return np.concatenate([np.reshape(np.sum(x ** 2), (1,)), x[1:] ** 2 + x[0] * x[1:]])


def dense_fn(x):
    return x * np.sum(np.sin(x))


STRUCTURED = [("tridiagonal", tridiagonal, 20, 3), ("five_point", five_point, 49, 5),
              ("nine_point", nine_point, 49, 9), ("seven_point_3d", seven_point_3d, 64, 7),
              ("banded", banded, 20, None), ("block_diagonal", block_diagonal, 12, 3),
              ("arrow", arrow, 10, None), ("dense", dense_fn, 8, 8)]


@pytest.mark.parametrize("name,f,n,colors", STRUCTURED, ids=[s[0] for s in STRUCTURED])
def test_structured_jacobians_are_the_dense_ones(name, f, n, colors, rng):
    x = rng.uniform(0.1, 0.9, n)
    J = assert_jacobian(f, x)
    prepared = dd.sparse_jacobian(f).prepare(x)
    if colors is not None:
        assert prepared.ncolors == colors
    np.testing.assert_array_equal(prepared.pattern.toarray(), J.toarray() != 0)


def energy_of(F):
    return lambda x: 0.5 * np.sum(x * F(x)) + np.sum(np.cos(x))


@pytest.mark.parametrize("name,f,n,colors", STRUCTURED, ids=[s[0] for s in STRUCTURED])
def test_structured_hessians_are_the_dense_ones(name, f, n, colors, rng, monkeypatch):
    """By every method: the summands' sweep (these energies are sums of elementwise terms),
    one compressed sweep and the tracer's numeric mode."""
    x = rng.uniform(0.1, 0.9, n)
    prepared, H = assert_hessian(energy_of(f), x)
    # the arrow's and the dense pattern's elements depend on every input: no sweep of a
    # few colours reads them; the nine-point energy's would carry 4 x 9 second-order
    # numbers per element (_sparsity.SUMMAND_WIDTH)
    general = ("arrow", "dense", "nine_point")
    assert prepared.method == ("compressed" if name in general else "summands")
    want = dd.hessian(energy_of(f))(x)
    if prepared._plan is None and name not in ("arrow", "dense"):
        # the sweep all the same (the plan exists, only wider than worth it)
        monkeypatch.setattr(_sparsity, "SUMMAND_WIDTH", 10**6)
        prepared = dd.sparse_hessian(energy_of(f)).prepare(x)
        assert prepared.method == "summands"
    for method in ("summands", "compressed", "sparse forward")[prepared._plan is None:]:
        prepared.method = method
        assert np.max(np.abs(prepared(x).toarray() - want)) <= 1e-13 * np.max(np.abs(want))


def test_large_hessians_of_other_functions_take_the_numeric_mode(rng):
    """0.5 x.(F x) written with @ is no sum of elementwise terms the sweep can read."""
    x = rng.uniform(0.1, 0.9, 144)
    prepared, H = assert_hessian(lambda x: 0.5 * x @ five_point(x), x)
    assert prepared.method == "sparse forward"


@pytest.mark.parametrize("name,f,n,star", [("tridiagonal", tridiagonal, 30, 3),
                                           ("five_point", five_point, 64, 5)])
def test_star_colourings_of_stencil_hessians_are_optimal(name, f, n, star, rng):
    prepared = dd.sparse_hessian(energy_of(f)).prepare(rng.uniform(0.1, 0.9, n))
    assert prepared.ncolors == star


# ------------------------------------------------------------------------------------------
# the battery
# ------------------------------------------------------------------------------------------

BATTERY = list(battery.VECTOR.items()) + list(battery.VECTOR_VALUED.items())


@pytest.mark.parametrize("name", [b[0] for b in BATTERY])
def test_battery_jacobians(name, rng):
    f, make = dict(BATTERY)[name]
    x = np.asarray(make(rng), dtype=float)
    assert_jacobian(f, x)


@pytest.mark.parametrize("name", list(battery.VECTOR))
def test_battery_hessians(name, rng):
    f, make = battery.VECTOR[name]
    assert_hessian(f, np.asarray(make(rng), dtype=float))


@pytest.mark.parametrize("name", list(battery.SCALAR))
def test_scalar_functions_of_a_scalar(name, rng):
    f, make = battery.SCALAR[name]
    x = float(make(rng))
    J = dd.sparse_jacobian(f)(x)
    assert J.shape == (1, 1)
    assert rel_err(J.toarray()[0, 0], dd.derivative(f)(x)) <= 1e-14
    H = dd.sparse_hessian(f)(x)
    assert rel_err(H.toarray()[0, 0], dd.derivative(f, order=2)(x)) <= 1e-13


def test_hessians_through_linear_algebra_fall_back_to_compressed_sweeps(rng):
    def f(x):
        A = np.diag(2.0 + x[:3]) + 0.1 * np.outer(x[3:], x[3:])
        return np.linalg.slogdet(A)[1] + np.sum(x[3:] ** 3)
    prepared, H = assert_hessian(f, rng.uniform(0.1, 0.9, 6))
    assert prepared.method == "compressed"
    assert prepared(rng.uniform(0.1, 0.9, 6)).shape == (6, 6)


# ------------------------------------------------------------------------------------------
# the summands' sweep: f = sum_k c_k np.sum(s_k), each element read off one hyper-dual sweep
# ------------------------------------------------------------------------------------------

def rosenbrock_ext(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def bratu_energy(u, lam=6.0):
    U = u.reshape(12, 12)
    AU = 4 * U - shifted(U, 1, 0) - shifted(U, -1, 0) - shifted(U, 0, 1) - shifted(U, 0, -1)
    return 0.5 * np.sum(u * AU.reshape(-1)) - lam * np.sum(np.exp(u))


def chained_pairs(x):
    return (x[:-2] * x[1:-1] * x[2:]).sum() - 2.0 * np.sum(np.sin(x) * np.cos(x[::-1])) + 3.0


def matrix_terms(X):
    return np.sum(X[:, :-1] * np.exp(X[:, 1:])) / 4 + np.sum(X ** 4, axis=None)


# (name, f, x, (k1, k2)): e2 colours tell an element's inputs apart, e1 colours the entries
# of the row read (the Bratu energy's u * (A u): 2 of them, not 5)
SUMMANDS = [
    ("rosenbrock", rosenbrock_ext, lambda rng: rng.uniform(-1.5, 1.5, 300), (2, 2)),
    ("rosenbrock, few inputs", rosenbrock_ext, lambda rng: rng.uniform(-1.5, 1.5, 9), (2, 2)),
    ("bratu energy", bratu_energy, lambda rng: rng.uniform(0.0, 0.5, 144), (2, 5)),
    ("chained pairs, x.sum()", chained_pairs, lambda rng: rng.uniform(-1, 1, 200), None),
    ("matrix input", matrix_terms, lambda rng: rng.uniform(-1, 1, (15, 12)), None),
    # the summand is itself a sum over an axis: its elements depend on 20 inputs each,
    # their Hessians are diagonal (one e1 colour)
    ("sum of axis sums", lambda x: np.sum(np.sum(x.reshape(20, 10) ** 3, axis=0)),
     lambda rng: rng.uniform(-1, 1, 200), (1, 20)),
]


@pytest.mark.parametrize("name,f,make,widths", SUMMANDS, ids=[s[0] for s in SUMMANDS])
def test_sums_of_elementwise_terms_take_the_summands_sweep(name, f, make, widths, rng):
    """The fast path against the dense Hessian and against the general methods (the
    numeric mode, compressed sweeps) at the prepared point and at others."""
    x = make(rng)
    prepared, H = assert_hessian(f, x)
    assert prepared.method == "summands"
    if widths is not None:
        assert (prepared._plan.k1, prepared._plan.k2) == widths
    for y in (x, make(rng), make(rng)):
        want = dd.hessian(f)(y).reshape(y.size, y.size)
        got = prepared(y)
        assert np.max(np.abs(got.toarray() - want)) <= 1e-13 * np.max(np.abs(want))
        assert (got != got.T).nnz == 0
        for method in ("sparse forward", "compressed"):
            prepared.method = method
            plain = prepared(y)
            prepared.method = "summands"
            assert np.max(np.abs(got.toarray() - plain.toarray())) <= \
                1e-13 * np.max(np.abs(want))


def scaled_sum(x):
    return np.sum(x ** 2) * np.sum(np.sin(x[:10]))


# functions that are no fixed combination of full sums of elementwise terms: the sweep's
# markers (or its plan) say so and the general method is prepared
NOT_SUMMANDS = [
    ("x @ F(x)", lambda x: 0.5 * x @ np.roll(x, 1) + np.sum(x ** 4), "sparse forward"),
    ("product of sums", scaled_sum, "sparse forward"),
    ("a sum inside a summand", lambda x: np.sum(x * np.sum(x[:3] ** 2)), "sparse forward"),
    ("a sum squared", lambda x: np.sum(x[1:] * x[:-1]) ** 2, "sparse forward"),
    ("mean, not sum", lambda x: np.mean(x[1:] * x[:-1] ** 2), "sparse forward"),
    ("x-dependent weight", lambda x: x[0] * np.sum(x[1:] ** 2), "sparse forward"),
    # a sum of elementwise terms, but each element couples 8 inputs: 8 x 8 colours per
    # element cost more than the numeric mode (_sparsity.SUMMAND_WIDTH)
    ("dense blocks of 8", lambda x: np.sum(np.sin(x.reshape(-1, 8)[:, :, None]
                                                  * x.reshape(-1, 8)[:, None, :])),
     "sparse forward"),
]


@pytest.mark.parametrize("name,f,method", NOT_SUMMANDS, ids=[s[0] for s in NOT_SUMMANDS])
def test_other_functions_take_the_general_method(name, f, method, rng):
    x = rng.uniform(0.1, 0.9, 200)
    prepared, H = assert_hessian(f, x)
    assert prepared.method == method
    y = rng.uniform(0.1, 0.9, 200)
    want = dd.hessian(f)(y)
    assert np.max(np.abs(prepared(y).toarray() - want)) <= 1e-13 * np.max(np.abs(want))


def test_the_weights_of_the_sums_are_read_at_every_call(rng):
    """lambda is another argument: prepared at one value, called at others."""
    x = rng.uniform(0.0, 0.5, 144)
    prepared = dd.sparse_hessian(bratu_energy).prepare(x, 6.0)
    assert prepared.method == "summands"
    for lam in (1.0, -3.5, 0.0):
        want = dd.hessian(bratu_energy)(x, lam)
        got = prepared(x, lam)
        assert np.max(np.abs(got.toarray() - want)) <= 1e-13 * np.max(np.abs(want))


def switching(x):
    if x[0] > 0:
        return np.sum(x[1:] * x[:-1] ** 2)
    return 0.5 * x[1:] @ (x[:-1] ** 2) + 0.5 * np.sum(x[1:] * x[:-1] ** 2)


def test_a_call_whose_sums_changed_takes_the_general_method(rng):
    """Control flow took another combination (same pattern): the markers say so and the
    call is the numeric mode's, still the Hessian."""
    x = rng.uniform(0.1, 0.9, 200)
    prepared = dd.sparse_hessian(switching).prepare(x)
    assert prepared.method == "summands"
    y = x.copy()
    y[0] = -0.5
    want = dd.hessian(switching)(y)
    assert np.max(np.abs(prepared(y).toarray() - want)) <= 1e-13 * np.max(np.abs(want))


def switching_remainder(x):
    if x[0] > 0:
        return np.sum(np.divmod(x, 0.7)[1] ** 3)
    r = np.divmod(x, 0.7)[1]
    return np.dot(r, r * r)              # the same terms, summed by np.dot


def test_a_call_that_falls_back_takes_the_prepared_general_method(rng):
    """divmod: the numeric mode cannot follow it, so a call whose sums changed takes the
    compressed sweeps."""
    x = rng.uniform(0.1, 2.0, 150)
    prepared = dd.sparse_hessian(switching_remainder).prepare(x)
    assert prepared.method == "summands"
    y = x.copy()
    y[0] = -0.5
    want = dd.hessian(switching_remainder)(y)
    assert np.max(np.abs(prepared(y).toarray() - want)) <= 1e-13 * np.max(np.abs(want))


def rolled(x):
    return np.sum(np.sin(x * (np.roll(x, 1) if x[0] > 0 else np.roll(x, 2))))


def test_a_summand_whose_inputs_changed_is_caught_by_the_probe(rng):
    """The same sums, but control flow moved an element's inputs: its entries would be read
    off the wrong inputs; the probe direction (verify=True) raises."""
    x = rng.uniform(0.1, 0.9, 200)
    prepared = dd.sparse_hessian(rolled).prepare(x)
    assert prepared.method == "summands"
    y = x.copy()
    y[0] = -0.5
    with pytest.raises(ValueError, match="prepare again"):
        prepared(y)


@pytest.mark.parametrize("verify", [True, False])
@pytest.mark.parametrize("coloring", ["auto", "natural", "largest_first", "smallest_last",
                                      "incidence_degree"])
def test_colourings_and_verify_give_the_same_summands_hessian(verify, coloring, rng):
    x = rng.uniform(0.0, 0.5, 144)
    prepared = dd.sparse_hessian(bratu_energy, coloring=coloring, verify=verify).prepare(x)
    assert prepared.method == "summands"
    y = rng.uniform(0.0, 0.5, 144)
    want = dd.hessian(bratu_energy)(y)
    assert np.max(np.abs(prepared(y).toarray() - want)) <= 1e-13 * np.max(np.abs(want))


def test_the_sum_hook_is_only_there_during_a_sweep_and_per_thread(rng):
    """The dual arrays' np.sum handler is wrapped only while a summands sweep runs (and put
    back when f raises); sweeps in two threads read their own sums."""
    from dualdiff import _arrays
    original = _arrays.FUNCTIONS[np.sum]
    x = rng.uniform(-1.5, 1.5, 400)
    prepared = dd.sparse_hessian(rosenbrock_ext).prepare(x)
    energy = dd.sparse_hessian(bratu_energy).prepare(rng.uniform(0.0, 0.5, 144))
    assert _arrays.FUNCTIONS[np.sum] is original

    def boom(y):
        if y[0] > 10:
            raise RuntimeError("boom")
        return np.sum(y[1:] * y[:-1] ** 2)
    failing = dd.sparse_hessian(boom).prepare(x)
    with pytest.raises(RuntimeError, match="boom"):
        failing(x + 20)
    assert _arrays.FUNCTIONS[np.sum] is original
    points = [rng.uniform(-1.5, 1.5, 400) for _ in range(6)]
    u = rng.uniform(0.0, 0.5, 144)
    with cf.ThreadPoolExecutor(2) as ex:
        got = list(ex.map(prepared, points))
        got_e = list(ex.map(lambda _: energy(u), range(4)))
    for y, H in zip(points, got):
        assert same_bits(H, prepared(y))
    assert all(same_bits(H, energy(u)) for H in got_e)
    assert _arrays.FUNCTIONS[np.sum] is original


# ------------------------------------------------------------------------------------------
# prepared objects
# ------------------------------------------------------------------------------------------

def test_a_prepared_jacobian_is_reused_at_other_points(rng):
    x = rng.uniform(0.1, 0.9, 36)
    prepared = dd.sparse_jacobian(five_point).prepare(x)
    assert isinstance(prepared.pattern, sp.csr_array) and prepared.pattern.dtype == bool
    assert prepared.colors.shape == (36,) and prepared.colors.dtype.kind == "i"
    assert prepared.ncolors == 5 and prepared.shape == (36, 36)
    for _ in range(3):
        y = rng.uniform(-1, 1, 36)
        assert rel_err(prepared(y).toarray(), dense_jacobian(five_point, y)) <= 1e-14
        assert prepared.check(y)
    assert "5 colours" in repr(prepared)


def test_a_prepared_hessian_is_reused_at_other_points(rng):
    f = energy_of(five_point)
    prepared = dd.sparse_hessian(f).prepare(rng.uniform(0.1, 0.9, 25))
    for _ in range(3):
        y = rng.uniform(-1, 1, 25)
        want = dd.hessian(f)(y)
        assert np.max(np.abs(prepared(y).toarray() - want)) <= 1e-13 * np.max(np.abs(want))
        assert prepared.check(y)


def branchy(x):
    return x[:2] * x[2] if x[0] > 0 else x[:2] * x[3]


def test_check_says_when_control_flow_changed_the_pattern():
    prepared = dd.sparse_jacobian(branchy).prepare(np.array([1.0, 2.0, 3.0, 4.0]))
    assert prepared.check(np.array([0.5, 2.0, 3.0, 4.0]))
    assert not prepared.check(np.array([-1.0, 2.0, 3.0, 4.0]))


def test_prepared_calls_refuse_an_entry_outside_their_pattern():
    """Control flow moved an entry since .prepare: every method raises, none returns a
    wrong matrix (verify=False skips the Jacobian's and the compressed Hessian's check)."""
    def f(x):
        return np.sum(x[:2] ** 2) if x[0] > 0 else x[0] * x[1] + x[1] ** 2
    x = np.ones(200)
    bad = np.concatenate([[-1.0], np.ones(199)])
    summands = dd.sparse_hessian(f).prepare(x)
    assert summands.method == "summands" and not summands.check(bad)
    with pytest.raises(ValueError, match="outside the prepared pattern"):
        summands(bad)                    # no sums here: the call takes the numeric mode
    numeric = dd.sparse_hessian(f).prepare(x)
    numeric.method = "sparse forward"
    with pytest.raises(ValueError, match="outside the prepared pattern"):
        numeric(bad)
    small = dd.sparse_hessian(f).prepare(x[:2])
    small.method = "compressed"
    with pytest.raises(ValueError, match="prepare again"):
        small(bad[:2])
    unchecked = dd.sparse_hessian(f, verify=False).prepare(x[:2])
    unchecked.method = "compressed"
    assert unchecked(bad[:2]).shape == (2, 2)
    jac = dd.sparse_jacobian(branchy).prepare(np.array([1.0, 2.0, 3.0, 4.0]))
    with pytest.raises(ValueError, match="prepare again"):
        jac(np.array([-1.0, 2.0, 3.0, 4.0]))
    assert dd.sparse_jacobian(branchy, verify=False).prepare(
        np.array([1.0, 2.0, 3.0, 4.0]))(np.array([-1.0, 2.0, 3.0, 4.0])).nnz == 4


def test_prepared_objects_refuse_other_shapes_and_missing_arguments():
    prepared = dd.sparse_jacobian(tridiagonal).prepare(np.ones(5))
    with pytest.raises(ValueError, match="prepared for an argument of shape"):
        prepared(np.ones(6))
    with pytest.raises(TypeError, match="positional"):
        prepared()


def test_other_arguments_and_keywords_pass_through(rng):
    def f(a, x, scale=1.0):
        return a * tridiagonal(x) * scale
    x = rng.uniform(0.1, 0.9, 8)
    J = dd.sparse_jacobian(f, argnums=1)(2.0, x, scale=3.0)
    assert rel_err(J.toarray(), dense_jacobian(lambda y: f(2.0, y, scale=3.0), x)) <= 1e-14
    prepared = dd.sparse_jacobian(f, argnums=1).prepare(2.0, x, scale=3.0)
    assert rel_err(prepared(1.0, x, scale=3.0).toarray(),
                   dense_jacobian(lambda y: f(1.0, y, scale=3.0), x)) <= 1e-14


@pytest.mark.parametrize("make", ["jacobian", "hessian"])
def test_a_returned_matrix_owns_its_arrays(make, rng):
    """Each call's csr_array is the caller's to change in place (eliminate_zeros, sort,
    scaling data): the prepared pattern and later calls do not see it."""
    x = rng.uniform(-1, 1, 30)
    if make == "jacobian":
        prepared = dd.sparse_jacobian(tridiagonal).prepare(x)
        want = dd.jacobian(tridiagonal)(x)
    else:
        prepared = dd.sparse_hessian(rosenbrock_ext).prepare(x)
        want = dd.hessian(rosenbrock_ext)(x)
    pattern = prepared.pattern.toarray()
    first = prepared(x)
    first.data[:] = 0.0
    first.indices[:] = 0
    first.indptr[:] = 0
    second = prepared(x)
    np.testing.assert_allclose(second.toarray(), want, rtol=1e-13, atol=1e-13)
    np.testing.assert_array_equal(prepared.pattern.toarray(), pattern)
    assert not np.shares_memory(second.indices, prepared.pattern.indices)


CHUNKED = [(name, f, lambda rng, n=n: rng.uniform(0.1, 0.9, n), True)
           for name, f, n, _ in STRUCTURED] + \
          [(name, f, make, False) for name, (f, make) in BATTERY]


@pytest.mark.parametrize("chunk", [1, 2, 3])
@pytest.mark.parametrize("name,f,make,elementwise", CHUNKED, ids=[c[0] for c in CHUNKED])
def test_sweeps_of_some_colours_at_a_time_give_the_one_sweep_jacobian(name, f, make,
                                                                       elementwise, chunk, rng):
    """chunk=c sweeps c colours at a time and gathers each block into the CSR data as its
    sweep ends (memory holds one block's sweep): the entries of the one sweep of every
    colour, bit for bit where f is elementwise and slicing (a product's BLAS may add in
    another order at another width), on the same pattern, with and without the probe."""
    x = np.asarray(make(rng), dtype=float)
    one = dd.sparse_jacobian(f).prepare(x)
    for verify in (False, True):
        chunked = dd.sparse_jacobian(f, chunk=chunk, verify=verify).prepare(x)
        for at in (x, x * (1 + 0.01 * rng.standard_normal(x.shape))):
            J, want = chunked(at), one(at)
            np.testing.assert_array_equal(J.indptr, want.indptr)
            np.testing.assert_array_equal(J.indices, want.indices)
            if elementwise:
                np.testing.assert_array_equal(J.data, want.data)
            else:
                np.testing.assert_allclose(J.data, want.data, rtol=1e-13,
                                           atol=1e-13 * np.abs(want.data).max(initial=0))


@pytest.mark.parametrize("verify", [False, True])
def test_a_prepared_jacobian_makes_only_the_seed_its_calls_use(verify, rng):
    """.prepare builds the seed and recovery index of the width its calls sweep (the colours,
    plus the probe's column where it rides along); the transform's own call checks, so its
    one prepared object builds the probed width only."""
    x = rng.uniform(0.1, 0.9, 20)
    prepared = dd.sparse_jacobian(tridiagonal, verify=verify).prepare(x)
    k = prepared.ncolors
    width = k + 1 if verify else k
    assert sorted(prepared._made) == [("index", width), ("seed", width)]
    made = []
    evaluate = dd.sparse.PreparedJacobian._evaluate

    def spy(self, *args, **kwargs):
        made.append(sorted(self._made))
        return evaluate(self, *args, **kwargs)
    try:
        dd.sparse.PreparedJacobian._evaluate = spy
        J = dd.sparse_jacobian(tridiagonal, verify=verify)(x)
    finally:
        dd.sparse.PreparedJacobian._evaluate = evaluate
    assert made == [[("index", k + 1), ("seed", k + 1)]]
    np.testing.assert_array_equal(J.toarray(), prepared(x).toarray())


def without_input_5(x):
    return tridiagonal(x * (np.arange(x.size) != 5))


def test_chunks_gather_columns_without_entries_and_structural_zeros(rng):
    """A user pattern with an empty column (an input f does not read) and entries f never
    fills: every chunk size gives the one-sweep matrix, structural zeros kept."""
    x = rng.uniform(0.1, 0.9, 12)
    dense = dense_jacobian(without_input_5, x)
    pattern = dense != 0
    assert not pattern[:, 5].any()
    pattern[0, 11] = pattern[11, 0] = True        # structural zeros
    want = dd.sparse_jacobian(without_input_5, sparsity=pattern)(x)
    np.testing.assert_array_equal(want.toarray(), dense)
    for chunk in (1, 2, 4):
        J = dd.sparse_jacobian(without_input_5, sparsity=pattern, chunk=chunk)(x)
        np.testing.assert_array_equal(J.toarray(), dense)
        assert J.nnz == want.nnz == pattern.sum()


@pytest.mark.parametrize("name,f,n,colors", STRUCTURED, ids=[s[0] for s in STRUCTURED])
def test_the_probe_inside_the_sweep_gives_the_unchecked_bits(name, f, n, colors, rng):
    """verify=True sweeps the probe as one more column of the colours' sweep where that
    width has compiled loops (ncolors + 1 <= 8), else as a sweep of its own: the Jacobian is
    the bits of verify=False and of chunk=1 (one colour per sweep) either way, and a pattern
    that misses an entry raises on both routes."""
    x = rng.uniform(0.1, 0.9, n)
    checked = dd.sparse_jacobian(f).prepare(x)
    folded = checked.ncolors + 1 in _arrays.SMALL_DIRECTIONS
    assert checked._fold == folded
    for at in (x, rng.uniform(0.1, 0.9, n)):
        J = checked(at).toarray()
        unchecked = dd.sparse_jacobian(f, verify=False).prepare(x)(at)
        np.testing.assert_array_equal(J, unchecked.toarray())
        np.testing.assert_array_equal(J, dd.sparse_jacobian(f, chunk=1).prepare(x)(at).toarray())
    dense = checked.pattern.toarray()
    r, c = np.argwhere(dense)[len(np.argwhere(dense)) // 2]
    if dense.sum() > 1:
        dense[r, c] = False
        with pytest.raises(ValueError, match="misses entries"):
            dd.sparse_jacobian(f, sparsity=dense)(x)


@pytest.mark.parametrize("coloring", ["best", "natural", "largest_first", "smallest_last",
                                      "incidence_degree", "dynamic_largest_first"])
def test_every_colouring_order_gives_the_same_jacobian(coloring, rng):
    x = rng.uniform(0.1, 0.9, 49)
    assert_jacobian(nine_point, x, coloring=coloring)


def test_auto_colouring_of_large_patterns(monkeypatch, rng):
    """Above _GREEDY_NNZ entries, "auto" searches only stencil-like patterns (natural order
    within twice the lower bound) and takes greedy orders on irregular ones: valid either
    way, optimal on the stencil."""
    from dualdiff import _coloring, sparse
    monkeypatch.setattr(sparse, "_GREEDY_NNZ", 10)
    x = rng.uniform(0.1, 0.9, 900)
    assert dd.sparse_jacobian(five_point).prepare(x).ncolors == 5
    cols = rng.integers(0, 300, (300, 6))

    def scattered(y):
        return np.sum(y[cols] ** 2, axis=1)
    p = dd.sparse_jacobian(scattered).prepare(rng.uniform(0.1, 0.9, 300))
    _coloring.column_recovery_index(p.pattern.indptr, p.pattern.indices, p.shape, p.colors)
    assert rel_err(p(np.linspace(0, 1, 300)).toarray(),
                   dense_jacobian(scattered, np.linspace(0, 1, 300))) <= 1e-14


def test_inputs_are_not_modified(rng):
    x = rng.uniform(0.1, 0.9, 9)
    keep = x.copy()
    dd.sparse_jacobian(five_point)(x)
    dd.sparse_hessian(energy_of(five_point)).prepare(x)(x)
    np.testing.assert_array_equal(x, keep)


def test_matrix_shaped_inputs_and_outputs_flatten_in_c_order(rng):
    X = rng.uniform(0.1, 0.9, (3, 4))

    def f(M):
        return np.sin(M.T) * M.T[:, :1]
    J = dd.sparse_jacobian(f)(X)
    assert J.shape == (12, 12)
    assert rel_err(J.toarray(), np.asarray(dd.jacobian(f)(X)).reshape(12, 12)) <= 1e-14


def test_constant_and_empty_functions():
    J = dd.sparse_jacobian(lambda x: np.ones(3) + np.floor(x[:3]))(np.linspace(0, 1, 4))
    assert J.shape == (3, 4) and J.nnz == 0
    prepared = dd.sparse_jacobian(lambda x: 2.0 * np.ones(2)).prepare(np.ones(3))
    assert prepared.ncolors == 0 and prepared(np.zeros(3)).nnz == 0
    J0 = dd.sparse_jacobian(lambda x: np.sum(x) + 1.0)(np.zeros(0))
    assert J0.shape == (1, 0)
    H = dd.sparse_hessian(lambda x: np.sum(3 * x))(np.ones(4))
    assert H.shape == (4, 4) and H.nnz == 0


@pytest.mark.parametrize("product", [
    lambda x: np.inner(x[:0], x[:0]), lambda x: np.dot(x[:0], x[:0]),
    lambda x: x[:0] @ x[:0], lambda x: np.einsum("i,i", x[:0], x[:0]),
    lambda x: np.tensordot(x[:0], x[:0], 1), lambda x: np.sum(np.outer(x[:0], x)),
    lambda x: np.sum(np.outer(x, x[:0]) @ x[:0])],
    ids=["inner", "dot", "matmul", "einsum", "tensordot", "outer", "outer_matmul"])
def test_products_over_an_empty_axis_are_zero_constants(product):
    """Contracting over a 0-length axis sums nothing: the sparse transforms agree with the
    dense ones (a 0-length letter once counted as length 1 and broke the tracer)."""
    x = np.linspace(0.1, 1.0, 4)

    def f(y):
        return product(y) + np.sum(y ** 2)
    assert rel_err(dd.sparse_jacobian(lambda y: np.atleast_1d(f(y)))(x).toarray(),
                   np.asarray(dd.jacobian(lambda y: np.atleast_1d(f(y)))(x))) == 0
    assert rel_err(dd.sparse_hessian(f)(x).toarray(), np.asarray(dd.hessian(f)(x))) == 0


@pytest.mark.parametrize("use", [
    lambda x: np.sum(np.mean(x * x, axis=0).cumsum(0)),
    lambda x: np.sum(np.cumprod(np.mean(x * x), -1)),
    lambda x: np.sum(np.cumulative_sum(np.mean(x * x), include_initial=True))
    if hasattr(np, "cumulative_sum") else np.sum(x * x),
    lambda x: np.sum(x[[]]) + np.sum(x[2:][[]]) + np.sum(x ** 3)],
    ids=["cumsum_0d", "cumprod_0d", "cumulative_sum_0d", "empty_list_index"])
def test_scans_of_0d_values_and_empty_list_indices(use):
    """numpy scans a 0-d array as one element (axis 0 or -1) and reads x[[]] as an empty
    integer index: the tracer does the same."""
    x = np.array([0.3, 0.5, 0.7])
    assert rel_err(dd.sparse_hessian(use)(x).toarray(), np.asarray(dd.hessian(use)(x))) <= 1e-14


# ------------------------------------------------------------------------------------------
# user patterns
# ------------------------------------------------------------------------------------------

def test_a_user_pattern_that_covers_the_entries_gives_the_jacobian(rng):
    x = rng.uniform(0.1, 0.9, 12)
    band = sp.csr_array(sum(np.eye(12, k=k) for k in range(-2, 3)))
    for pattern in (band, band.toarray() != 0, sp.csr_matrix(band)):
        J = assert_jacobian(tridiagonal, x, sparsity=pattern)
        assert J.nnz == band.nnz                     # the given structure, zeros included


def test_explicit_zeros_of_a_user_pattern_count_as_structure(rng):
    x = rng.uniform(0.1, 0.9, 6)
    P = sp.csr_array(np.eye(6) + np.eye(6, k=1) + np.eye(6, k=-1))
    P.data[:] = 0.0
    assert_jacobian(tridiagonal, x, sparsity=P)


def test_a_user_pattern_that_misses_an_entry_raises(rng):
    x = rng.uniform(0.1, 0.9, 10)
    with pytest.raises(ValueError, match="misses entries"):
        dd.sparse_jacobian(tridiagonal, sparsity=sp.csr_array(np.eye(10)))(x)
    with pytest.raises(ValueError, match="misses entries|outside the prepared pattern"):
        dd.sparse_hessian(energy_of(tridiagonal), sparsity=sp.csr_array(np.eye(10)))(x)


@pytest.mark.parametrize("case", range(20))
def test_the_fused_gather_and_check_is_take_then_check(case, rng):
    """The prepared Jacobian's fast path (_coloring.gather_probe: the CSR data gathered from
    the sweep's block and checked against its probe column in one pass) against the plain
    path, np.take then probe_agrees: the same data, bit for bit, and the same verdict."""
    from dualdiff import _coloring
    from dualdiff.sparse import _PROBE_TOL
    m, n, k = *rng.integers(1, 30, 2), int(rng.integers(1, 6))
    A = sp.csr_array(np.where(rng.random((m, n)) < 0.3, rng.normal(size=(m, n)), 0.0))
    v = rng.normal(size=n)
    B = rng.normal(size=(m, k + 1))
    # any entries of the block outside the probe column
    index = (rng.integers(0, m, A.nnz) * (k + 1) + rng.integers(0, k, A.nnz)).astype(np.int64)
    data = np.take(B.reshape(-1), index)
    B[:, k] = sp.csr_array((data, A.indices, A.indptr), shape=A.shape) @ v
    rows = rng.integers(0, m, rng.integers(0, 3))
    if case % 3 == 1:                  # a missing entry's worth off
        B[rows, k] += 1.0
    elif case % 3 == 2:                # a non-finite product
        B[rows, k] = np.nan
    indptr = A.indptr.astype(np.int64)
    out = np.full(A.nnz, -1.0)
    fused = _coloring.gather_probe(indptr, A.indices, B, index, v, k, _PROBE_TOL, out)
    np.testing.assert_array_equal(out, data)
    assert fused == _coloring.probe_agrees(indptr, A.indices, data, v, B[:, k].copy(),
                                           _PROBE_TOL)


@pytest.mark.parametrize("case", range(20))
def test_the_summands_probe_sums_are_a_seed_product(case, rng):
    """The summands' check (_coloring.group_products: S1^T H w and its scale in one pass
    over H's entries) against the plain path it replaced, two np.bincount over the entries
    by their row's colour: the same sums (to rounding), empty rows and groups included; a
    group or column out of range raises instead of reading outside."""
    sp = pytest.importorskip("scipy.sparse")
    from dualdiff import _coloring
    m, n, k = int(rng.integers(1, 30)), int(rng.integers(1, 30)), int(rng.integers(1, 6))
    A = sp.random_array((m, n), density=float(rng.uniform(0, 0.5)), format="csr",
                        random_state=int(rng.integers(2**31))) if hasattr(sp, "random_array") \
        else sp.csr_array(sp.random(m, n, density=float(rng.uniform(0, 0.5)), format="csr",
                                    random_state=int(rng.integers(2**31))))
    A = sp.csr_array(A)
    group = rng.integers(0, k, m).astype(np.int64)
    w = rng.normal(size=n)
    rows = np.repeat(np.arange(m), np.diff(A.indptr))
    dw = A.data * w[A.indices]
    got, scale = _coloring.group_products(A.indptr.astype(np.int64), A.indices, A.data, w,
                                          group, k)
    np.testing.assert_allclose(got, np.bincount(group[rows], dw, minlength=k), rtol=1e-13,
                               atol=1e-14)
    np.testing.assert_allclose(scale, np.bincount(group[rows], np.abs(dw), minlength=k),
                               rtol=1e-13, atol=1e-14)
    with pytest.raises(ValueError, match="out of range"):
        _coloring.group_products(A.indptr.astype(np.int64), A.indices, A.data, w, group + k, k)
    if A.nnz:
        with pytest.raises(ValueError, match="out of range"):
            _coloring.group_products(A.indptr.astype(np.int64), A.indices + n, A.data, w,
                                     group, k)


@pytest.mark.parametrize("case", range(20))
def test_the_summands_segment_sums_are_bincount_then_gather(case, rng):
    """The summands' fast path (_sparsity._segments + _coloring.segment_sum: each CSR data
    entry summed from the e12 entries that land on it, in one pass) against the plain path
    it replaced, np.bincount into the upper triangle then a gather by `where`: the same
    sums (to rounding: the order of addition differs), for repeated targets, entries in
    both triangles and untouched ones."""
    from dualdiff import _coloring, _sparsity
    ncodes, nread, size = (int(v) for v in rng.integers(1, 40, 3))
    target = rng.integers(0, ncodes, nread)
    cols = rng.integers(0, size, nread)
    where = rng.integers(0, ncodes, int(rng.integers(0, 60)))   # data entry -> upper entry
    e12 = rng.normal(size=size)
    c = float(rng.normal())
    plain = np.bincount(target, e12[cols] * c, minlength=ncodes)[where]
    ptr, idx = _sparsity._segments(target, cols, where, ncodes)
    data = np.zeros(where.size)
    _coloring.segment_sum(ptr, idx, e12, c, data)
    np.testing.assert_allclose(data, plain, rtol=1e-14, atol=1e-14)
    with pytest.raises(ValueError, match="outside the source"):
        if idx.size:
            _coloring.segment_sum(ptr, idx + size, e12, c, data)
        else:
            raise ValueError("outside the source")
    with pytest.raises(ValueError, match="ptr must run"):
        _coloring.segment_sum(ptr[:-1], idx, e12, c, data)
    # every index is checked before anything is added: a bad one anywhere leaves out as it was
    if idx.size:
        before = data.copy()
        for bad in (-1, size):
            wrong = idx.copy()
            wrong[rng.integers(idx.size)] = bad
            with pytest.raises(ValueError, match="outside the source"):
                _coloring.segment_sum(ptr, wrong, e12, c, data)
            np.testing.assert_array_equal(data, before)
        if ptr.size > 3 and ptr[1] > 0:
            backwards = ptr.copy()
            backwards[1], backwards[2] = ptr[2] + 1, ptr[1]
            if backwards[1] > backwards[2]:
                with pytest.raises(ValueError, match="ptr decreases"):
                    _coloring.segment_sum(backwards, idx, e12, c, data)
                np.testing.assert_array_equal(data, before)


@pytest.mark.parametrize("case", range(40))
def test_the_compiled_probe_check_agrees_with_numpys(case, rng):
    """sparse._Prepared._check's fast path (_coloring.probe_agrees, one pass over the CSR
    entries) against the plain numpy test it replaces (sparse._check_probe): the same verdict
    on products within and far beyond the tolerance, and on inf/NaN on either side."""
    from dualdiff import _coloring
    from dualdiff.sparse import _PROBE_TOL, _check_probe
    m, n = rng.integers(1, 30, 2)
    values = rng.normal(size=(m, n)) * 10.0 ** rng.integers(-5, 5, (m, n))
    A = sp.csr_array(np.where(rng.random((m, n)) < 0.3, values, 0.0))
    v = rng.normal(size=n)
    want = A @ v
    scale = abs(A) @ np.abs(v)
    rows = rng.integers(0, m, rng.integers(0, 3))
    kind = case % 5
    if kind == 1:                      # well inside the tolerance: rounding
        want[rows] += 1e-3 * _PROBE_TOL * (scale[rows] + np.abs(want[rows]))
    elif kind == 2:                    # far outside it: a missing entry
        want[rows] += 1e3 * _PROBE_TOL * (scale[rows] + np.abs(want[rows])) + 1.0
    elif kind == 3:                    # a non-finite value on the sweep's side
        want[rows] = rng.choice([np.nan, np.inf, -np.inf], rows.size)
    elif kind == 4 and A.nnz:          # ... and on the matrix's (both sides alike, or not)
        A.data[rng.integers(0, A.nnz)] = rng.choice([np.nan, np.inf])
        want = A @ v if case % 2 else want
    indptr = A.indptr.astype(np.int64)
    for indices in (A.indices.astype(np.int32), A.indices.astype(np.int64)):
        fast = _coloring.probe_agrees(indptr, indices, A.data, v, want, _PROBE_TOL)
        try:
            with np.errstate(all="ignore"):
                _check_probe(A @ v, want, abs(A) @ np.abs(v), "f", "Jacobian")
            plain = True
        except ValueError:
            plain = False
        assert fast == plain, (kind, rows)


def test_user_patterns_of_the_wrong_shape_or_kind_raise():
    x = np.ones(4)
    with pytest.raises(ValueError, match="shape"):
        dd.sparse_jacobian(tridiagonal, sparsity=np.ones((4, 5), bool))(x)
    with pytest.raises(ValueError, match="shape"):
        dd.sparse_hessian(lambda y: np.sum(y ** 3), sparsity=np.ones((3, 3), bool))(x)
    with pytest.raises(TypeError, match="sparsity"):
        dd.sparse_jacobian(tridiagonal, sparsity=["a", "b"])(x)
    with pytest.raises(ValueError, match="sparsity"):
        dd.sparse_jacobian(tridiagonal, sparsity="dense")


def test_a_custom_rule_with_another_structure_is_caught():
    @dd.custom_jvp
    def g(x):
        return x * 1.0

    @g.defjvp
    def g_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return g(x), t + t[::-1]                 # couples elements the primal keeps apart
    with pytest.raises(ValueError, match="misses entries"):
        dd.sparse_jacobian(lambda x: g(x) * 2)(np.array([1.0, 2.0, 3.0]))


# ------------------------------------------------------------------------------------------
# executor=
# ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pool():
    pytest.importorskip("cloudpickle")            # the recording closures travel with it
    with cf.ProcessPoolExecutor(2) as ex:
        yield ex


def recording(f, path):
    """f, noting the process id of every call in a file (which processes ran the sweeps)."""
    def g(x):
        with open(path, "a") as fh:
            fh.write(f"{os.getpid()}\n")
        return f(x)
    return g


def ran_elsewhere(path):
    return {int(p) for p in open(path).read().split()} - {os.getpid()}


def same_bits(A, B):
    return (A.shape == B.shape and np.array_equal(A.indptr, B.indptr)
            and np.array_equal(A.indices, B.indices) and np.array_equal(A.data, B.data))


def remainder_energy(x):
    """A Hessian the numeric mode refuses (divmod), so the compressed sweeps compute it."""
    return np.sum(np.divmod(x, 0.7)[1] ** 3) + np.sum(x[:-1] * x[1:] ** 2)


@pytest.mark.parametrize("chunk", [2, None])
def test_sparse_jacobians_on_an_executor_are_the_serial_bits(pool, chunk, rng, tmp_path):
    """chunk=2: the serial call's sweeps; None: one sweep per worker, which equals the
    default serial call bit for bit as five_point has no BLAS product."""
    from dualdiff._executor import policy
    x = rng.uniform(0.1, 0.9, 400)
    log = tmp_path / "pids"
    prepared = dd.sparse_jacobian(recording(five_point, log), chunk=chunk,
                                  executor=pool).prepare(x)
    serial = dd.sparse_jacobian(five_point, chunk=chunk).prepare(x)
    for y in (x, rng.uniform(-1, 1, 400)):
        with policy("ship"):
            J = prepared(y)
        assert same_bits(J, serial(y))
    assert ran_elsewhere(log)
    with policy("ship"):
        assert same_bits(dd.sparse_jacobian(five_point, chunk=chunk, executor=pool)(x),
                         dd.sparse_jacobian(five_point, chunk=chunk)(x))


@pytest.mark.parametrize("n", [300, 40])
def test_sparse_hessians_on_an_executor_are_the_serial_bits(pool, n, rng, tmp_path):
    """n = 300: five windows of the identity, the serial plan; n = 40: one window serially,
    split in one per worker (no BLAS product in f: the same bits)."""
    from dualdiff._executor import policy
    x = rng.uniform(0.1, 2.0, n)
    log = tmp_path / "pids"
    with policy("ship"):
        prepared = dd.sparse_hessian(recording(remainder_energy, log), executor=pool).prepare(x)
    serial = dd.sparse_hessian(remainder_energy).prepare(x)
    # (a sum of elementwise terms: both prepared the summands' sweep, which runs here)
    assert prepared.method == serial.method == "summands"
    prepared.method = serial.method = "compressed"
    for y in (x, rng.uniform(0.1, 2.0, n)):
        with policy("ship"):
            H = prepared(y)
        assert same_bits(H, serial(y))
    assert ran_elsewhere(log)
    want = dd.hessian(remainder_energy)(x)
    assert np.max(np.abs(prepared(x).toarray() - want)) <= 1e-13 * np.max(np.abs(want))


# ------------------------------------------------------------------------------------------
# errors
# ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("make,exc,words", [
    (lambda: dd.sparse_jacobian(tridiagonal, argnums=(0,)), TypeError, "one int"),
    (lambda: dd.sparse_hessian(5), TypeError, "callable"),
    (lambda: dd.sparse_jacobian(tridiagonal, coloring="random"), ValueError, "coloring"),
    (lambda: dd.sparse_jacobian(tridiagonal, chunk=0), ValueError, "chunk"),
    (lambda: dd.sparse_jacobian(tridiagonal, executor=object()), TypeError, "executor must be"),
    (lambda: dd.sparse_hessian(tridiagonal, executor=cf.ProcessPoolExecutor), TypeError,
     "executor must be"),
])
def test_bad_transform_arguments(make, exc, words):
    with pytest.raises(exc, match=words):
        make()


def test_bad_call_arguments():
    with pytest.raises(ValueError, match="valid argnums are 0..0"):
        dd.sparse_jacobian(tridiagonal, argnums=1)(np.ones(3))
    with pytest.raises(TypeError, match="argument 0"):
        dd.sparse_jacobian(tridiagonal)("abc")
    with pytest.raises(TypeError, match="use sparse_jacobian"):
        dd.sparse_hessian(tridiagonal)(np.ones(3))
    with pytest.raises(TypeError, match="nested"):
        dd.grad(lambda s: dd.sparse_jacobian(tridiagonal)(s * np.ones(3)).sum())(1.0)


def test_without_scipy_the_error_names_it(monkeypatch):
    for name in [m for m in sys.modules if m == "scipy" or m.startswith("scipy.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "scipy", None)
    monkeypatch.setitem(sys.modules, "scipy.sparse", None)
    with pytest.raises(ImportError, match="scipy"):
        dd.sparse_jacobian(tridiagonal)(np.ones(3))
    with pytest.raises(ImportError, match="pip install scipy"):
        dd.sparse_hessian(energy_of(tridiagonal)).prepare(np.ones(3))


@pytest.mark.parametrize("f", [lambda x: np.sqrt(np.sum(x - x)) + np.sum(x ** 3),
                               lambda x: np.std(x[0]) + np.sum(np.sin(x)),
                               lambda x: np.std(np.min(x * x))],
                         ids=["sqrt_of_a_cancelled_sum", "std_of_a_scalar", "std_of_a_min"])
def test_an_infinite_partial_times_a_cancelled_coefficient_is_zero_as_in_dense(f):
    """sqrt at 0 has an infinite partial; where the argument's dependence cancelled (x - x,
    the deviation of one element) the dual arrays' strong zero gives 0. The sparse Hessian
    equals the dense one: its probe catches the tracer's numeric mode there (inf * 0 = NaN)
    and the compressed sweeps take over."""
    x = np.linspace(-1, 1, 140)
    H = dd.sparse_hessian(f)(x)
    assert np.array_equal(H.toarray(), dd.hessian(f)(x))


def test_an_extreme_leaves_out_the_elements_it_does_not_pick_whatever_their_partials():
    """np.min over b**p with p = +-inf at elements that are not the minimum: their partials
    are inf or NaN, and the selection drops them (weight 0) in the tracer's numeric mode as
    in the sweeps; the merge of the tracer used to multiply them by 0 into NaN Hessian
    entries (fuzz seed 2424-122392)."""
    x = np.linspace(1.5, 0.01, 151)
    p = np.full(151, 2.0)
    p[[20, 60, 100]] = [1e300, np.inf, -np.inf]       # b**p = inf there: never the minimum

    def f(x):
        return np.sum(np.min((x * x + 0.5) ** p, axis=0, keepdims=True)) + np.sum(x ** 3)
    with np.errstate(all="ignore"):
        prepared = dd.sparse_hessian(f).prepare(x)
        H = prepared(x).toarray()
        dense = dd.hessian(f)(x)
    assert prepared.method == "sparse forward"
    assert not np.isnan(dense).any()
    np.testing.assert_array_equal(H, dense)


def test_fraction_inputs_and_bad_outputs_at_empty_inputs():
    from fractions import Fraction
    H = dd.sparse_hessian(lambda x: x ** 3)(Fraction(3, 2))
    assert H.toarray()[0, 0] == pytest.approx(9.0)
    with pytest.raises(TypeError):
        dd.sparse_hessian(lambda x: {"out": np.sum(x)})(np.zeros(0))
    with pytest.raises(TypeError):
        dd.sparse_jacobian(lambda x: {"out": x})(np.zeros(0))


def test_products_over_an_axis_of_an_array_with_an_empty_axis():
    """np.prod(v, axis=1) of a (3, 3, 0) slice is a (3, 0) array (a -1 in the tracer's
    reshape could not be resolved for it); a scan over it follows."""
    def f(x):
        return np.cumprod(np.prod(x[..., -2:2:-2], axis=1), axis=-2).ravel()
    x = np.ones((3, 3, 2))
    J = dd.sparse_jacobian(f)(x)
    assert J.shape == (0, 18) and J.nnz == 0
    assert dd.sparse_hessian(lambda x: np.sum(np.prod(x[:, :0], axis=0)) + np.sum(x ** 3))(
        np.ones((2, 2))).nnz == 4


def test_numpy_polynomial_evaluation_in_the_coefficients(rng):
    """chebval(x, c) and the other evaluation functions take dual (and traced) coefficients
    as object arrays of scalars: the sparse results are the dense ones."""
    x = rng.uniform(-1, 1, 5)
    P = np.polynomial
    f = lambda c: P.legendre.legval(np.array([0.1, 0.2]), c) * c[:2]  # noqa: E731
    np.testing.assert_array_equal(dd.sparse_jacobian(f)(x).toarray(), dd.jacobian(f)(x))
    g = lambda c: P.chebyshev.chebval(0.3, c) ** 2 + P.hermite.hermval(c[0], c[1:])  # noqa: E731
    np.testing.assert_allclose(dd.sparse_hessian(g)(x).toarray(), dd.hessian(g)(x),
                               rtol=1e-14, atol=1e-15)


def test_eig_in_the_sparse_transforms_and_a_row_of_rounding_noise():
    """eigvals/eig of a real spectrum: the whole matrix a dense block of the pattern, the
    results the dense ones. The eigenvalues of a triangular matrix are its diagonal, so the
    Hessian row of the smallest (weight 0) is exactly 0 while both sides compute it as
    rounding noise of the eigen-decomposition (1e-16, different noise): the verify probe
    accepts noise at the matrix's own scale, not only at the row's."""
    x = np.array([-1.066, 1.818, -1.262, 0.584])
    tri = lambda v: np.diag(v) + np.triu(np.ones((4, 4)), 1)  # noqa: E731
    f = lambda v: np.sum(np.sort(np.linalg.eigvals(tri(v))) ** 2 * np.arange(4))  # noqa: E731
    H = dd.sparse_hessian(f)(x).toarray()
    np.testing.assert_allclose(H, dd.hessian(f)(x), rtol=0, atol=1e-14)
    np.testing.assert_allclose(H, np.diag([2.0, 6.0, 0.0, 4.0]), rtol=0, atol=1e-14)
    g = lambda v: np.ravel(np.linalg.eig(tri(v))[1])  # noqa: E731
    np.testing.assert_array_equal(dd.sparse_jacobian(g)(x).toarray(), dd.jacobian(g)(x))


def test_vectorize_and_frompyfunc_in_the_sparse_transforms(rng):
    """np.vectorize and np.frompyfunc call their function on traced elements (object
    arrays of them), branches included: the sparse results are the dense ones, and an
    elementwise function gives a diagonal pattern."""
    x = rng.uniform(-1, 1, 6)
    step = np.vectorize(lambda v: v * v if v > 0 else np.sin(v))
    J = dd.sparse_jacobian(step)(x)
    np.testing.assert_array_equal(J.toarray(), dd.jacobian(step)(x))
    assert J.nnz == x.size
    pair = np.frompyfunc(lambda v, w: v * w + np.exp(v), 2, 1)
    g = lambda t: np.sum(pair(t, t[::-1]))  # noqa: E731
    np.testing.assert_allclose(dd.sparse_hessian(g)(x).toarray(), dd.hessian(g)(x),
                               rtol=1e-14, atol=1e-15)
