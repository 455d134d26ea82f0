"""Specification of sparsity detection (dualdiff/_tracer*.py, dualdiff/_sparsity.py):

* the tracer follows every function dual arrays support (the two tables agree);
* a detected pattern never misses an entry: it contains the nonzeros of the dense Jacobian
  (and of the dense Hessian of a weighted sum of the outputs) at random points, for every
  operation of the surface and every function of the shared battery;
* selection maps, stencils and sums give the pattern exactly (no spurious entries);
* the numeric mode (sparse gradients and Hessians) equals dd.hessian;
* the compiled set kernels equal a plain Python reference;
* anything the tracer cannot follow raises a TypeError that names it.
"""
import numpy as np
import pytest

sp = pytest.importorskip("scipy.sparse")

import dualdiff as dd  # noqa: E402
from dualdiff import _arrays, _core, _numpy, _setops, _sparsity, _tracer  # noqa: E402
from dualdiff._jvp.elementwise import ElementwiseRule  # noqa: E402
import functions as battery  # noqa: E402
from conftest import on_this_numpy  # noqa: E402

LA = np.linalg
N = 6                                      # inputs of the table's functions
C6 = np.array([[0.0, 1.5, 0.0, 0.0, 2.0, 0.0],
               [0.3, 0.0, 0.0, 0.0, 0.0, -1.0],
               [0.0, 0.0, 0.7, 0.0, 0.0, 0.0]])     # a constant with structural zeros


def spd(x):
    """A symmetric positive definite 3 x 3 matrix from 6 inputs."""
    L = np.tril(np.ones((3, 3))) * 0.1 + np.diag([1.0, 1.2, 1.4])
    v = x.reshape(2, 3)
    M = v.T @ v * 0.1
    return M + M.T + L @ L.T


def quiet_log(x):
    """np.log with NaN for negative x and no warning (nan_to_num's input)."""
    with np.errstate(invalid="ignore"):
        return np.log(x)


# (name, function of a vector of N inputs, exact): exact says the detected pattern equals the
# dense result's nonzeros at a generic point (no conservative extra entries)
OPERATIONS = [
    # shapes and selections
    ("reshape", lambda x: np.reshape(x, (2, 3)) * 1.0, True),
    ("ravel_F", lambda x: np.ravel(x.reshape(2, 3), order="F"), True),
    ("transpose", lambda x: np.transpose(x.reshape(2, 3)), True),
    ("T", lambda x: x.reshape(3, 2).T, True),
    ("swapaxes", lambda x: np.swapaxes(x.reshape(1, 2, 3), 0, 2), True),
    ("moveaxis", lambda x: np.moveaxis(x.reshape(1, 2, 3), 0, -1), True),
    ("rollaxis", lambda x: np.rollaxis(x.reshape(1, 2, 3), 2), True),
    ("squeeze", lambda x: np.squeeze(x.reshape(1, 6, 1)), True),
    ("expand_dims", lambda x: np.expand_dims(x, 0), True),
    ("broadcast_to", lambda x: np.broadcast_to(x[:3], (2, 3)), True),
    ("flip", lambda x: np.flip(x), True),
    ("fliplr", lambda x: np.fliplr(x.reshape(2, 3)), True),
    ("flipud", lambda x: np.flipud(x.reshape(2, 3)), True),
    ("rot90", lambda x: np.rot90(x.reshape(2, 3)), True),
    ("roll", lambda x: np.roll(x, 2), True),
    ("take", lambda x: np.take(x, [4, 0, 0, 2]), True),
    ("take_along_axis", lambda x: np.take_along_axis(x.reshape(2, 3), np.array([[2], [0]]), 1),
     True),
    ("repeat", lambda x: np.repeat(x[:3], 2), True),
    ("tile", lambda x: np.tile(x[:2], (2, 2)), True),
    ("diagonal", lambda x: np.diagonal(x.reshape(2, 3), 1), True),
    ("diag_build", lambda x: np.diag(x[:3], 1), True),
    ("diag_read", lambda x: np.diag(x[:4].reshape(2, 2)), True),
    ("diagflat", lambda x: np.diagflat(x[:2]), True),
    ("tril", lambda x: np.tril(x[:4].reshape(2, 2)), True),
    ("triu", lambda x: np.triu(x.reshape(2, 3), 1), True),
    ("matrix_transpose", lambda x: np.matrix_transpose(x.reshape(2, 3)), True),
    ("atleast_3d", lambda x: np.atleast_3d(x[0]) + np.atleast_2d(x[1:3]).sum(), True),
    ("getitem_slices", lambda x: x.reshape(2, 3)[:, ::-2], True),
    ("getitem_fancy", lambda x: x[[5, 1, 1]], True),
    ("getitem_mask", lambda x: x[np.array([True, False, True, False, False, True])], True),
    ("getitem_scalar", lambda x: x[3] * x[0], True),
    ("concatenate", lambda x: np.concatenate([x[3:], np.ones(2), x[:1]]), True),
    ("stack", lambda x: np.stack([x[:3], x[3:]], axis=1), True),
    ("hstack", lambda x: np.hstack([x[:2], 5.0, x[4:]]), True),
    ("vstack", lambda x: np.vstack([x[:3], x[3:]]), True),
    ("dstack", lambda x: np.dstack([x[:3], x[3:]]), True),
    ("column_stack", lambda x: np.column_stack([x[:3], x[3:]]), True),
    ("where_const", lambda x: np.where(np.arange(6) % 2 == 0, x, 2.0), False),
    ("copy_real", lambda x: np.real(np.copy(x)) + np.imag(x), True),
    ("full_like", lambda x: np.full_like(x, 2.0) * x + np.zeros_like(x) + np.ones_like(x), True),
    ("loop_array", lambda x: np.array([x[0] * x[1], 2.0, np.sin(x[2])]), True),
    # reductions and scans
    ("sum_axis", lambda x: np.sum(x.reshape(2, 3), axis=0), True),
    ("sum_keepdims", lambda x: x.reshape(2, 3).sum(axis=1, keepdims=True), True),
    ("sum_where", lambda x: np.sum(x.reshape(2, 3), axis=1, where=np.array([True, False, True])),
     False),
    ("sum_all", lambda x: np.sum(x) + x.sum(), True),
    ("mean", lambda x: np.mean(x.reshape(3, 2), axis=1) + x.mean(), True),
    ("var", lambda x: np.var(x.reshape(2, 3), axis=1, ddof=1), True),
    ("std", lambda x: np.std(x), True),
    ("prod", lambda x: np.prod(x.reshape(2, 3), axis=1), True),
    ("max", lambda x: np.max(x.reshape(2, 3), axis=0), False),
    ("min", lambda x: np.min(x) + np.amin(x[:2]), False),
    ("clip", lambda x: np.clip(x, 0.3, 0.7) + x.clip(0.5), False),
    ("cumsum", lambda x: np.cumsum(x.reshape(2, 3), axis=1), True),
    ("cumprod", lambda x: np.cumprod(x[:4]), True),
    ("diff", lambda x: np.diff(x, 2, prepend=1.0), True),
    ("trace", lambda x: np.trace(x[:4].reshape(2, 2)) * x[5], True),
    ("add_reduce", lambda x: np.add.reduce(x.reshape(2, 3)) * np.multiply.reduce(x[:2]), True),
    ("max_reduce", lambda x: np.maximum.reduce(x.reshape(3, 2), axis=1), False),
    ("accumulate", lambda x: np.add.accumulate(x[:3]) + np.multiply.accumulate(x[3:]), True),
    ("cumulative_sum", lambda x: np.cumulative_sum(x[:4], include_initial=True), True),
    ("folds", lambda x: np.logaddexp.reduce(x.reshape(2, 3), axis=1)
     + np.hypot.accumulate(x[:2]) * np.subtract.reduce(x[3:]), True),
    # order statistics: every choice the values could make (a lane, a prefix), as max does
    ("sort", lambda x: np.sort(x.reshape(2, 3)) * x[::-1].reshape(2, 3), False),
    ("sort_axis", lambda x: np.sort(x.reshape(2, 3), axis=0) ** 2, False),
    ("sort_flat", lambda x: np.sort(x.reshape(3, 2), axis=None) + x, False),
    ("max_accumulate", lambda x: np.maximum.accumulate(x.reshape(2, 3), axis=1) ** 2, False),
    ("min_accumulate", lambda x: np.minimum.accumulate(x[::-1]) * x, False),
    ("fmax_fmin_accumulate", lambda x: np.fmax.accumulate(x[:3]) + np.fmin.accumulate(x[3:]),
     False),
    # products
    ("matmul_const", lambda x: C6 @ x, True),
    ("matmul_const_right", lambda x: x[:3] @ C6, True),
    ("matmul_both", lambda x: x.reshape(2, 3) @ x.reshape(3, 2), True),
    ("matmul_batched", lambda x: x.reshape(2, 1, 3) @ np.ones((2, 3, 2)), True),
    ("dot", lambda x: np.dot(x[:3], x[3:]) + np.dot(2.0, x[0]), True),
    ("inner", lambda x: np.inner(x.reshape(2, 3), x[3:]), True),
    ("outer", lambda x: np.outer(x[:2], x[4:]), True),
    ("vdot", lambda x: np.vdot(x[:3], C6[0, :3] + 1), True),
    ("tensordot", lambda x: np.tensordot(x.reshape(2, 3), C6[:, :3], axes=([1], [1])), True),
    ("einsum_two", lambda x: np.einsum("ij,jk->ik", x.reshape(2, 3), x.reshape(3, 2)), True),
    ("einsum_three", lambda x: np.einsum("i,ij,j->", x[:3], C6.T[:3], x[3:]), True),
    ("einsum_trace", lambda x: np.einsum("ii->i", x[:4].reshape(2, 2)), True),
    ("vecdot", lambda x: LA.vecdot(x.reshape(2, 3), x[3:]), True),
    ("vecdot_ufunc", lambda x: np.vecdot(x.reshape(2, 3), x[3:]) * x[0], True),
    ("matvec", lambda x: np.matvec(x[:4].reshape(2, 2), x[4:]), True),
    ("vecmat", lambda x: np.vecmat(x[4:], C6[:2, :3]) + np.vecmat(x[:2], x.reshape(2, 3)), True),
    ("cross", lambda x: np.cross(x[:3], x[3:]), True),
    ("multi_dot", lambda x: LA.multi_dot([x[:2], x[:4].reshape(2, 2), x[4:]]), True),
    ("matrix_power", lambda x: LA.matrix_power(x[:4].reshape(2, 2), 3), True),
    # numpy.linalg (dense within each matrix)
    ("inv", lambda x: LA.inv(spd(x)), False),
    ("det", lambda x: LA.det(spd(x)), False),
    ("slogdet", lambda x: LA.slogdet(spd(x))[1], False),
    ("solve", lambda x: LA.solve(spd(x), x[:3]), False),
    ("cholesky", lambda x: LA.cholesky(spd(x)), False),
    ("eigvalsh", lambda x: LA.eigvalsh(spd(x)), False),
    ("svdvals", lambda x: LA.svd(x.reshape(2, 3), compute_uv=False), False),
    ("pinv", lambda x: LA.pinv(x.reshape(3, 2)), False),
    ("lstsq", lambda x: LA.lstsq(x.reshape(3, 2), np.ones(3), rcond=None)[0], False),
    ("norm", lambda x: LA.norm(x.reshape(2, 3), axis=1), False),
    ("norm_fro", lambda x: LA.norm(x.reshape(2, 3)), False),
    ("vector_norm", lambda x: LA.vector_norm(x, ord=3), False),
    ("cond", lambda x: LA.cond(spd(x)), False),
    ("batched_det", lambda x: LA.det(np.stack([spd(x)[:2, :2], spd(x[::-1])[:2, :2]])), False),
]

# elementwise: every unary and binary rule of csrc/rules.h, through numpy where it has the name
UNARY = [(name, lo, hi) for name, lo, hi in _core.UNARY_RULES
         if isinstance(getattr(np, name, None), np.ufunc)]
BINARY = [(name, lo, hi) for name, lo, hi in _core.BINARY_RULES]


def unary_op(name, lo, hi):
    u = getattr(np, name)
    return lambda x: u(lo + (hi - lo) * x)


def binary_op(name, lo, hi):
    u = getattr(np, name)
    return lambda x: u(lo + (hi - lo) * x[:3], lo + (hi - lo) * x[::-2]) + u(x[0] + lo, 0.7)


ELEMENTWISE = [(f"np.{n}", unary_op(n, lo, hi), n not in _tracer.ZERO_U) for n, lo, hi in UNARY] + \
    [(f"np.{n}", binary_op(n, lo, hi), n not in ("maximum", "minimum", "fmax", "fmin"))
     for n, lo, hi in BINARY] + [
    ("arithmetic", lambda x: (x[:3] + 2) * x[3:] / (1 + x[::2]) - x[1] ** 3 + 2 ** x[2], True),
    ("sinc", lambda x: np.sinc(x[:3] * x[3:]) + np.sinc(2 * x[0]), True),
    ("round_fix", lambda x: np.round(x * 10) + np.around(x, 1) * np.fix(x * 3) + x[0], True),
    ("nan_to_num", lambda x: np.nan_to_num(quiet_log(x - 0.5) * x[0]), True),
    ("floor_divide", lambda x: (x[:3] * 7) // x[3:] * x[0] + np.floor_divide(x[1], 0.1), True),
    ("ldexp", lambda x: np.ldexp(x ** 2, np.array([1, -2, 0, 3, 1, 5])), True),
    ("divmod_remainder", lambda x: np.divmod(x[:3] * 7, x[3:])[1] + np.fmod(x[::2], 0.2), False),
    ("x_op_x", lambda x: x * x + x / x + (x - x) + x ** x, False),
    ("abs_neg", lambda x: -abs(x - 0.5) + (+x), False),
    ("scipy_special", lambda x: __import__("scipy.special").special.gammaln(1 + x), True),
]

ALL = [case for case in OPERATIONS + ELEMENTWISE if on_this_numpy(case[1])]


def point(rng):
    return rng.uniform(0.15, 0.85, N)


def dense_jacobian(g, x):
    value = np.asarray(dd.jacobian(g)(x))
    return value.reshape(-1, x.size)


def nonzero(a):
    return np.abs(a) > 0


# ------------------------------------------------------------------------------------------
# coverage
# ------------------------------------------------------------------------------------------

# the surface dual arrays had when the tracer was written: each has a sparse rule. Functions
# added to dual arrays later go through the dense fallback (next tests) until they get one.
SURFACE = ["amax", "amin", "angle", "atleast_1d", "atleast_2d", "atleast_3d", "broadcast_to",
           "clip", "column_stack", "concatenate", "conjugate", "copy", "cross", "cumprod",
           "cumsum", "diag", "diagflat", "diagonal", "diff", "dot", "dstack", "einsum",
           "empty_like", "expand_dims", "flip", "fliplr", "flipud", "full_like", "hstack",
           "imag", "inner", "matmul", "matrix_transpose", "max", "mean", "min", "moveaxis",
           "ndim", "ones_like", "outer", "prod", "ravel", "real", "real_if_close", "repeat",
           "reshape", "roll", "rollaxis", "rot90", "shape", "size", "squeeze", "stack", "std",
           "sum", "swapaxes", "take", "take_along_axis", "tensordot", "tile", "trace",
           "transpose", "tril", "triu", "var", "vdot", "vstack", "where", "zeros_like",
           "linalg.cholesky", "linalg.cond", "linalg.det", "linalg.eig", "linalg.eigh",
           "linalg.eigvals", "linalg.eigvalsh", "linalg.inv", "linalg.lstsq",
           "linalg.matrix_power", "linalg.matrix_rank", "linalg.multi_dot", "linalg.norm",
           "linalg.pinv", "linalg.qr", "linalg.slogdet", "linalg.solve", "linalg.svd",
           "linalg.tensorinv", "linalg.tensorsolve"]


def _function(name):
    mod = np
    for part in name.split("."):
        mod = getattr(mod, part)
    return mod


def test_the_surface_of_the_dual_arrays_has_sparse_rules():
    missing = [name for name in SURFACE if _function(name) not in _tracer.FUNCTIONS]
    assert missing == []


def test_functions_without_a_sparse_rule_take_a_dense_pattern_and_warn(monkeypatch):
    """A function dual arrays support that the tracer has no rule for: every output element
    depends on every input element (a superset), and a SparsityWarning names it."""
    monkeypatch.delitem(_tracer.FUNCTIONS, np.flip)
    with pytest.warns(_tracer.SparsityWarning, match="numpy.flip"):
        P = detect(lambda y: np.flip(y[:2]) * y[2]).toarray()
    assert P.all()
    x = np.array([0.3, 0.6, 0.9])
    with pytest.raises(_tracer.TracerUnsupported):          # the numeric mode refuses
        _sparsity.hessian_entries(lambda y: np.sum(np.flip(y) ** 2), (x,), {}, 0, x)
    with pytest.warns(_tracer.SparsityWarning):
        J = dd.sparse_jacobian(lambda y: np.flip(y) ** 2)(x)
    np.testing.assert_allclose(J.toarray(), np.diag(2 * x)[::-1], rtol=1e-15)


@pytest.mark.skipif(not _tracer._dual_ufunc(np.modf),
                    reason="the dual arrays of this build do not differentiate modf and frexp")
def test_ufuncs_of_several_outputs_are_elementwise():
    x = np.array([0.3, 1.6, 2.9])
    P = detect(lambda y: np.modf(y * 2)[0] + np.frexp(y)[0], x).toarray()
    np.testing.assert_array_equal(P, np.eye(3, dtype=bool))


def test_numpy_functions_with_registered_rules_are_elementwise(rng, monkeypatch):
    # dual arrays have a rule of their own for np.sinc now: the registered one replaces it
    # for this test only (monkeypatch puts back what was there, or nothing)
    monkeypatch.setitem(_arrays.FUNCTIONS, np.sinc, _arrays.FUNCTIONS.get(np.sinc))
    dd.register_elementwise(np.sinc, lambda x: (np.cos(np.pi * x) - np.sinc(x)) / x,
                            lambda x: -np.pi ** 2 * np.sinc(x) - 2 * (np.cos(np.pi * x)
                                                                     - np.sinc(x)) / x ** 2)
    assert isinstance(_arrays.FUNCTIONS[np.sinc], ElementwiseRule)
    g = lambda x: np.sinc(x[:3] * x[3:])                              # noqa: E731
    x = point(rng)
    pattern, _ = _sparsity.jacobian_pattern(g, (x,), {}, 0, x)
    np.testing.assert_array_equal(pattern.toarray(), nonzero(dense_jacobian(g, x)))
    h = lambda y: np.sum(g(y))                                         # noqa: E731
    _, codes, vals = _sparsity.hessian_entries(h, (x,), {}, 0, x)
    H = np.zeros((N, N))
    i, j = np.divmod(codes, N)
    H[i, j] = H[j, i] = vals
    np.testing.assert_allclose(H, dd.hessian(h)(x), rtol=1e-12, atol=1e-12)


def test_every_ufunc_method_of_the_dual_arrays_has_a_tracer_handler():
    missing = [f"{u.__name__}.{m}" for u, m in _arrays.UFUNC_METHODS
               if (u, m) not in _tracer.UFUNC_METHODS]
    assert missing == []


def _ufunc_arguments(u, x, M):
    """Traced arguments u accepts: vectors for elementwise ufuncs, matrices where a core
    signature asks for them (matvec, vecmat), integer exponents for ldexp."""
    if u is np.ldexp:
        return [x, np.array([1, -3])]
    if u.signature is not None:
        cores = u.signature.split("->")[0].replace("),(", ") (").split()
        return [M if core.count(",") else x for core in cores]
    args = [x, x[::-1], x, x[::-1]][:u.nin]        # scipy.special's, registered by use
    if not any(t.split("->")[0] == "d" * u.nin for t in u.types):
        # integer parameters only (eval_hermite(n, x) has no float n): integers for those
        sig = next(t.split("->")[0] for t in u.types if t.endswith("d"))
        args = [a if c == "d" else np.array([1, 2]) for c, a in zip(sig, args)]
    return args


def test_every_dual_ufunc_runs_on_tracers():
    trace = _tracer.Trace(4, 2, False)
    x = _tracer.seed(np.array([0.4, 0.6]), trace)
    M = _tracer.seed(np.array([[0.4, 0.6], [0.3, 0.9]]), trace)
    with np.errstate(all="ignore"):            # values outside some domains: numpy's nan
        for u in _numpy.UFUNCS:
            args = _ufunc_arguments(u, x, M)
            r = u(*args)
            v = u(*[a.value if type(a) is _tracer.Tracer else a for a in args])
            outs = r if isinstance(r, tuple) else (r,)      # divmod, modf, frexp: several
            want = v if isinstance(v, tuple) else (v,)
            assert len(outs) == len(want), u.__name__
            for o, w in zip(outs, want):
                o = o.value if type(o) is _tracer.Tracer else o
                np.testing.assert_array_equal(o, w, err_msg=u.__name__)


# ------------------------------------------------------------------------------------------
# detection never misses an entry
# ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,g,exact", ALL, ids=[a[0] for a in ALL])
def test_jacobian_pattern_contains_every_nonzero(name, g, exact, rng):
    for _ in range(2):
        x = point(rng)
        pattern, value = _sparsity.jacobian_pattern(g, (x,), {}, 0, x)
        J = dense_jacobian(g, x)
        P = pattern.toarray()
        assert P.shape == J.shape
        assert not np.any(nonzero(J) & ~P), "detected pattern misses entries"
        np.testing.assert_allclose(value, np.asarray(g(x)), rtol=1e-15, atol=1e-300)
        if exact:
            np.testing.assert_array_equal(P, nonzero(J))


@pytest.mark.parametrize("name,g,exact", ALL, ids=[a[0] for a in ALL])
def test_hessian_pattern_contains_every_nonzero(name, g, exact, rng):
    """Of h = w . g(x), random weights w: every operation met inside a scalar function."""
    x = point(rng)
    w = rng.uniform(0.5, 1.5, np.size(g(x)))

    def h(y):
        return np.sum(w * np.ravel(g(y)))
    pattern, _ = _sparsity.hessian_pattern(h, (x,), {}, 0, x)
    H = dd.hessian(h)(x)
    P = pattern.toarray()
    assert not np.any(nonzero(H) & ~P), "detected Hessian pattern misses entries"
    np.testing.assert_array_equal(P, P.T)


@pytest.mark.parametrize("name,g,exact", ALL, ids=[a[0] for a in ALL])
def test_numeric_mode_is_the_hessian(name, g, exact, rng):
    """The tracer's numeric mode (sparse forward over forward) gives dd.hessian's values, or
    says it cannot follow the function."""
    x = point(rng)
    w = rng.uniform(0.5, 1.5, np.size(g(x)))

    def h(y):
        return np.sum(w * np.ravel(g(y)))
    try:
        value, codes, vals = _sparsity.hessian_entries(h, (x,), {}, 0, x)
    except _tracer.TracerUnsupported:
        assert not exact or name in ("cumprod",), f"{name}: numeric mode refused"
        return
    H = np.zeros((N, N))
    i, j = np.divmod(codes, N)
    H[i, j] = vals
    H[j, i] = vals
    want = dd.hessian(h)(x)
    scale = max(1.0, float(np.max(np.abs(want))))
    assert np.max(np.abs(H - want)) <= 1e-13 * scale
    assert value == pytest.approx(h(x), rel=1e-15, abs=1e-15)


BATTERY = list(battery.VECTOR.items()) + list(battery.VECTOR_VALUED.items())


@pytest.mark.parametrize("name", [b[0] for b in BATTERY])
def test_battery_patterns_contain_every_nonzero(name, rng):
    f, make = dict(BATTERY)[name]
    for _ in range(3):
        x = np.asarray(make(rng), dtype=float)
        pattern, _ = _sparsity.jacobian_pattern(f, (x,), {}, 0, x)
        J = dense_jacobian(f, x)
        assert not np.any(nonzero(J) & ~pattern.toarray())
        if name in battery.VECTOR:
            hp, _ = _sparsity.hessian_pattern(f, (x,), {}, 0, x)
            assert not np.any(nonzero(dd.hessian(f)(x)) & ~hp.toarray())


@pytest.mark.parametrize("name", [b[0] for b in BATTERY])
def test_detection_through_the_block_pool_is_detection_without_it(name, rng, monkeypatch):
    """Detection and the numeric mode run f in the block pool (the tracer's stores reuse the
    blocks of the ones dropped before them): the same patterns, values and Hessian entries
    as with numpy's own allocator, bit for bit."""
    import contextlib
    f, make = dict(BATTERY)[name]
    x = np.asarray(make(rng), dtype=float)

    def detect():
        J, v = _sparsity.jacobian_pattern(f, (x,), {}, 0, x)
        out = [J.indptr, J.indices, np.asarray(v)]
        if name in battery.VECTOR:
            H, _ = _sparsity.hessian_pattern(f, (x,), {}, 0, x)
            out += [H.indptr, H.indices]
            try:
                out += list(_sparsity.hessian_entries(f, (x,), {}, 0, x))
            except _tracer.TracerUnsupported:
                pass
        return out
    pooled = detect()
    monkeypatch.setattr(_sparsity._arrays, "pooled", contextlib.nullcontext)
    plain = detect()
    assert len(pooled) == len(plain)
    for a, b in zip(pooled, plain):
        np.testing.assert_array_equal(a, b)
    monkeypatch.undo()
    big = np.linspace(0.1, 0.9, 150 * 150)
    _arrays.clear_pool()
    hits = _arrays.pool_stats()[2]
    _sparsity.jacobian_pattern(laplacian_2d, (big,), {}, 0, big)
    _sparsity.jacobian_pattern(laplacian_2d, (big,), {}, 0, big)
    assert _arrays.pool_stats()[2] > hits             # the tracer's blocks were reused


# ------------------------------------------------------------------------------------------
# exact patterns of structured functions
# ------------------------------------------------------------------------------------------

def laplacian_2d(u):
    s = int(round(u.size ** 0.5))
    U = u.reshape(s, s)
    zr, zc = np.zeros((1, s)), np.zeros((s, 1))
    nb = (np.concatenate([U[1:], zr]) + np.concatenate([zr, U[:-1]])
          + np.concatenate([U[:, 1:], zc], axis=1) + np.concatenate([zc, U[:, :-1]], axis=1))
    return (4 * U - nb + np.exp(U)).ravel()


def five_point(s):
    idx = np.arange(s * s).reshape(s, s)
    P = np.eye(s * s, dtype=bool)
    for (a, b) in ((0, 1), (1, 0)):
        src, dst = idx[:s - a, :s - b].ravel(), idx[a:, b:].ravel()
        P[src, dst] = P[dst, src] = True
    return P


def test_a_stencil_gives_the_stencil():
    u = np.linspace(0.1, 0.9, 49)
    pattern, _ = _sparsity.jacobian_pattern(laplacian_2d, (u,), {}, 0, u)
    np.testing.assert_array_equal(pattern.toarray(), five_point(7))


def test_hessian_of_a_stencil_energy_is_the_stencil():
    def energy(u):
        return 0.5 * np.sum(u * laplacian_2d(u)) + np.sum(np.cos(u))
    u = np.linspace(0.1, 0.9, 49)
    pattern, _ = _sparsity.hessian_pattern(energy, (u,), {}, 0, u)
    np.testing.assert_array_equal(pattern.toarray(), five_point(7))


def test_linear_functions_have_no_hessian_pairs():
    def f(x):
        return np.sum(C6 @ x) + np.sum(np.cumsum(x) * 3) - x[2]
    pattern, _ = _sparsity.hessian_pattern(f, (point(np.random.default_rng(0)),), {}, 0,
                                           point(np.random.default_rng(0)))
    assert pattern.nnz == 0


def test_zero_derivative_functions_drop_the_dependency():
    x = np.array([0.3, 1.7, -2.2])
    pattern, _ = _sparsity.jacobian_pattern(lambda y: np.floor(y) + np.sign(y[::-1]) * 2,
                                            (x,), {}, 0, x)
    assert pattern.nnz == 0


def test_branches_of_where_and_maximum_are_both_kept():
    """Value-dependent choices give the pattern of every point (a superset here)."""
    x = np.array([0.2, 0.8])
    for g in (lambda y: np.where(y > 0.5, y, y[::-1] ** 2), lambda y: np.maximum(y, y[::-1]),
              lambda y: np.max(y) * np.ones(2)):
        pattern, _ = _sparsity.jacobian_pattern(g, (x,), {}, 0, x)
        assert pattern.toarray().all()


def test_python_control_flow_follows_the_point_traced():
    def g(y):
        return y[:1] * 2 if y[0] > 0 else y[1:] * 2
    for x0, col in ((1.0, 0), (-1.0, 1)):
        x = np.array([x0, 0.5])
        pattern, _ = _sparsity.jacobian_pattern(g, (x,), {}, 0, x)
        np.testing.assert_array_equal(pattern.toarray(), [[col == 0, col == 1]])


def test_detection_memory_is_linear_in_the_nonzeros():
    """The stores of a 5-point residual at n = 10^4 hold O(nnz) entries in all: no n^2."""
    u = np.linspace(0.1, 0.9, 100 * 100)
    out, trace = _sparsity.run(laplacian_2d, (u,), {}, 0, u, 2, False)
    stored = sum(s[1].size for s in out.s1)
    assert stored <= 5 * u.size


# ------------------------------------------------------------------------------------------
# classes of elementwise functions agree with the rule table
# ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(_tracer.ZERO_U | _tracer.LINEAR_U | {"absolute", "fabs"}))
def test_elementwise_classes_agree_with_the_rules(name, rng):
    u = getattr(np, name)
    # a binary one (floor_divide) in each of its arguments
    uses = [u] if u.nin == 1 else [lambda t: u(t, 0.7), lambda t: u(1.3, t)]
    for x in rng.uniform(-3, 3, 5):
        for g in uses:
            d1 = dd.derivative(g)(x + 0.01)
            d2 = dd.derivative(g, order=2)(x + 0.01)
            assert d2 == 0.0
            if name in _tracer.ZERO_U:
                assert d1 == 0.0


# ------------------------------------------------------------------------------------------
# the set kernels
# ------------------------------------------------------------------------------------------

def random_store(rng, rows, n, longest):
    lens = rng.integers(0, longest + 1, rows)
    keys = [np.sort(rng.choice(n, size=k, replace=False)) for k in lens]
    vals = [rng.standard_normal(k) for k in lens]
    ptr = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    store = (ptr, np.concatenate(keys + [np.zeros(0, np.int64)]).astype(np.int64),
             np.concatenate(vals + [np.zeros(0)]))
    return store, [dict(zip(k.tolist(), v.tolist())) for k, v in zip(keys, vals)]


@pytest.mark.parametrize("longest", [3, 40])             # insertion sort and radix sort rows
def test_merge_equals_the_reference(longest, rng):
    n = 1000
    s1, d1 = random_store(rng, 30, n, longest)
    s2, d2 = random_store(rng, 20, n, longest)
    rows = d1 + d2
    m, width = 25, 4
    refs = rng.integers(-1, len(rows), m * width)
    coef = rng.standard_normal(m * width)
    ptr, keys, vals = _setops.merge([s1, s2], None, refs, coef, m, width, True)
    sptr, skeys, svals = _setops.merge([s1, s2], None, refs, None, m, width, False)
    np.testing.assert_array_equal(sptr, ptr)
    np.testing.assert_array_equal(skeys, keys)
    assert svals is None
    for i in range(m):
        want = {}
        for t in range(i * width, (i + 1) * width):
            if refs[t] >= 0:
                for k, v in rows[refs[t]].items():
                    want[k] = want.get(k, 0.0) + coef[t] * v
        got = dict(zip(keys[ptr[i]:ptr[i + 1]].tolist(), vals[ptr[i]:ptr[i + 1]].tolist()))
        assert list(keys[ptr[i]:ptr[i + 1]]) == sorted(want)
        for k in want:
            assert got[k] == pytest.approx(want[k], rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("spread", [10**12, 300])      # small buckets; large (radix) buckets
def test_a_long_row_is_sorted_and_summed(spread, rng):
    """One output row from thousands of entries (a sum over a whole array)."""
    rows = 3000
    keys = np.sort(rng.integers(0, spread, (rows, 4)), axis=1)
    keys[:, 1:] += np.cumsum(keys[:, 1:] == keys[:, :-1], axis=1)     # distinct within rows
    keys = np.sort(keys, axis=1)
    store = (np.arange(0, 4 * rows + 1, 4, dtype=np.int64), keys.reshape(-1).astype(np.int64),
             rng.standard_normal(4 * rows))
    coef = rng.standard_normal(rows)
    ptr, got, vals = _setops.merge([store], None, np.arange(rows), coef, 1, rows, True)
    flat = store[1]
    want_keys, inverse = np.unique(flat, return_inverse=True)
    want = np.zeros(want_keys.size)
    np.add.at(want, inverse, np.repeat(coef, 4) * store[2])
    np.testing.assert_array_equal(got, want_keys)
    np.testing.assert_allclose(vals, want, rtol=1e-12, atol=1e-12)


def test_outer_equals_the_reference(rng):
    """Row i: sum_t coef[t] * upper(a b^T + b a^T) on the pairs a x b meets."""
    n = 50
    s, rows = random_store(rng, 12, n, 6)
    m = 10
    ra = rng.integers(-1, 12, m * 2)
    rb = np.where(rng.random(m * 2) < 0.3, ra, rng.integers(-1, 12, m * 2))
    coef = rng.standard_normal(m * 2)
    ptr, keys, vals = _setops.outer([s], None, ra, rb, coef, m, n, 2, True)
    for i in range(m):
        M = np.zeros((n, n))
        pairs = set()
        for t in (2 * i, 2 * i + 1):
            if ra[t] < 0 or rb[t] < 0:
                continue
            a, b = np.zeros(n), np.zeros(n)
            a[list(rows[ra[t]])] = list(rows[ra[t]].values())
            b[list(rows[rb[t]])] = list(rows[rb[t]].values())
            M += coef[t] * (np.outer(a, b) + np.outer(b, a))
            pairs |= {min(p, q) * n + max(p, q) for p in rows[ra[t]] for q in rows[rb[t]]}
        got = keys[ptr[i]:ptr[i + 1]]
        assert list(got) == sorted(pairs)
        want = [M[k // n, k % n] for k in got]
        np.testing.assert_allclose(vals[ptr[i]:ptr[i + 1]], want, rtol=1e-12, atol=1e-12)


def test_a_row_number_out_of_range_raises_instead_of_reading_past_the_store():
    store = (np.array([0, 1], np.int64), np.array([0], np.int64), None)
    with pytest.raises(IndexError):
        _setops.merge([store], None, np.array([3]), None, 1, 1, False)


# ------------------------------------------------------------------------------------------
# what the tracer refuses
# ------------------------------------------------------------------------------------------

def detect(g, x=None):
    x = np.array([0.3, 0.6, 0.9]) if x is None else x
    return _sparsity.jacobian_pattern(g, (x,), {}, 0, x)[0]


@pytest.mark.parametrize("g,words", [
    (lambda y: np.asarray(y) * 2, ["np.asarray", "sparsity="]),
    (lambda y: float(y[0]) * y, ["float()", "sparsity="]),
    (lambda y: np.fft.fft(y), ["numpy.fft.fft"]),         # (np.sort and floor_divide were
    (lambda y: np.nextafter(y, 2.0), ["numpy.nextafter"]),  # here: dual arrays do them now)
    (lambda y: np.sum(y, out=np.zeros(())), ["out="]),
    (lambda y: np.exp(y, where=y > 0), ["where="]),
    (lambda y: np.cumsum(y, dtype=np.float32), ["dtype"]),
    (lambda y: y[y], ["index"]),
    (lambda y: LA.eigvals(np.array([[0.0, 1.0], [-1.0, 0.0]]) * y[0]),   # a complex spectrum
     ["numpy.linalg.eigvals", "complex eigenvalues", "eigvalsh"]),
])
def test_what_the_tracer_cannot_follow_raises_a_type_error_naming_it(g, words):
    with pytest.raises(TypeError) as info:
        detect(g)
    for w in words:
        assert w in str(info.value)


def test_traced_arrays_are_immutable_and_do_not_mix_across_detections():
    kept = []

    def g(y):
        kept.append(y)
        return y * 2
    detect(g)
    with pytest.raises(TypeError, match="two different detections"):
        detect(lambda y: y + kept[0])
    with pytest.raises(TypeError, match="immutable"):
        detect(lambda y: y.__setitem__(0, 1.0))


def test_dual_values_of_another_transform_are_refused():
    def outer_f(s):
        def g(y):
            return y * s
        return detect(g).nnz
    with pytest.raises(TypeError, match="nested"):
        dd.grad(outer_f)(1.0)


def test_loop_style_functions_see_elements_as_scalars():
    def g(y):
        out = []
        for i in range(len(y)):
            out.append(y[i] * y[(i + 1) % len(y)])
        return np.array(out)
    P = detect(g).toarray()
    np.testing.assert_array_equal(P, [[1, 1, 0], [0, 1, 1], [1, 0, 1]])



# ---- dualdiff's own compiled functions (dd.NAME of the rule table) on tracers -------------

def _inside(lo, hi, n, rng):
    return rng.uniform(lo, hi, n)


@pytest.mark.parametrize("name", [n for n, lo, hi in _core.UNARY_RULES])
def test_every_unary_rule_of_the_table_is_traced_as_dense_derivatives_see_it(rng, name):
    """dd.NAME hands a tracer to the tracer (its __dd_rule__), so code written with dd.sin,
    dd.sigmoid, dd.relu, ... has sparse derivatives equal to the dense ones."""
    lo, hi = dict((n, (a, b)) for n, a, b in _core.UNARY_RULES)[name]
    fn = _core.elementary[name]
    x = _inside(lo, hi, N, rng)
    f = lambda x: fn(x) * np.roll(x, 1)                     # noqa: E731
    J = dd.sparse_jacobian(f)(x)
    assert np.array_equal(J.toarray(), dd.jacobian(f)(x))
    g = lambda x: np.sum(fn(x) * x[::-1])                   # noqa: E731
    H = dd.sparse_hessian(g)(x)
    assert np.allclose(H.toarray(), dd.hessian(g)(x), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("name", [n for n, lo, hi in _core.BINARY_RULES])
def test_every_binary_rule_of_the_table_is_traced_as_dense_derivatives_see_it(rng, name):
    lo, hi = dict((n, (a, b)) for n, a, b in _core.BINARY_RULES)[name]
    fn = _core.elementary[name]
    x = _inside(max(lo, 0.1) if name == "power" else lo, hi, N, rng)
    f = lambda x: fn(x, x[::-1]) + fn(x, 0.5)                # noqa: E731
    J = dd.sparse_jacobian(f)(x)
    assert np.allclose(J.toarray(), dd.jacobian(f)(x), rtol=1e-14, atol=0)
    g = lambda x: np.sum(fn(x, np.roll(x, 2)))              # noqa: E731
    H = dd.sparse_hessian(g)(x)
    assert np.allclose(H.toarray(), dd.hessian(g)(x), rtol=1e-13, atol=1e-13)


def test_dd_clip_and_sigmoid_with_a_slope_on_tracers(rng):
    x = rng.uniform(-2, 2, N)
    f = lambda x: np.sum(dd.clip(x, -0.5, 0.5) * dd.sigmoid(x, 2.0) + dd.relu(x) ** 2)  # noqa
    assert np.allclose(dd.sparse_hessian(f)(x).toarray(), dd.hessian(f)(x), rtol=1e-13,
                       atol=1e-13)
    assert np.array_equal(dd.sparse_jacobian(lambda x: dd.clip(x, -0.5, 0.5))(x).toarray(),
                          dd.jacobian(lambda x: dd.clip(x, -0.5, 0.5))(x))


def test_the_numeric_mode_takes_partials_where_the_dense_sweeps_do(rng):
    """Values carried by the numeric mode are the dual arrays' (the rule table's f), not
    numpy's, which may round the last bit otherwise (numpy's SIMD expm1): sin of expm1 at
    ~4e23 turns that bit into Hessian entries far off (fuzz 5353-9904: 1e-4 relative; 64% at
    one of five points here). With the
    same values both modes agree to rounding of the entries themselves."""
    h = lambda y: np.sum(np.sin(np.expm1(6.0 * np.cumsum(y))))        # noqa: E731
    for _ in range(10):             # about one point in five met a differing bit before
        x = 1.1 + 0.05 * rng.random(8)
        _, codes, vals = _sparsity.hessian_entries(h, (x,), {}, 0, x)
        n = x.size
        H = np.zeros((n, n))
        i, j = np.divmod(codes, n)
        H[i, j] = H[j, i] = vals
        want = dd.hessian(h)(x)
        np.testing.assert_allclose(H, want, rtol=1e-9, atol=1e-9 * np.max(np.abs(want)))
