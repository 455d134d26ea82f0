"""Scalar-style code (loops over x[i], np.array([...]) outputs, if on values) under every
transform: x[i] of a sweep is a compiled multi-direction scalar (DualVec / HyperDualVec), and
the derivatives equal those of the vectorised spelling -- bit for bit where the two spellings do
the same float operations in the same order -- for every transform and every chunk. Also:
mixing those scalars with arrays, kinks, pickling and the errors."""
import pickle

import numpy as np
import pytest

import dualdiff as dd

CHUNKS = [None, 1, 2, 3, 5]


def loop_map(x):
    """Element i from elements i and i + 1, one scalar at a time."""
    return np.array([np.sin(x[i]) * x[i + 1] + x[i] ** 2 / (1.0 + x[i + 1] ** 2)
                     for i in range(len(x) - 1)])


def vector_map(x):
    return np.sin(x[:-1]) * x[1:] + x[:-1] ** 2 / (1.0 + x[1:] ** 2)


def loop_kinks(x):
    """abs, maximum and a branch on a value, element by element."""
    out = []
    for i in range(len(x)):
        v = abs(x[i]) + np.maximum(x[i], 0.0) * x[0]
        out.append(v * 2.0 if x[i] > 0 else v - x[i])
    return np.array(out)


def vector_kinks(x):
    v = np.abs(x) + np.maximum(x, 0.0) * x[0]
    return np.where(x > 0, v * 2.0, v - x)


PAIRS = [(loop_map, vector_map), (loop_kinks, vector_kinks)]


def weighted(f, c):
    """sum_i c_i f(x)_i added left to right in both spellings (np.dot of an object array is
    numpy's object loop, of a dual array BLAS: their orders differ in the last bit)."""
    def g(x):
        y, s = f(x), 0.0
        for i in range(len(c)):
            s = s + y[i] * c[i]
        return s
    return g


def points(rng, n=6):
    x = rng.uniform(-1.5, 1.5, n)
    x[2] = 0.0                                   # a kink of abs and maximum
    return x


@pytest.mark.parametrize("loop,vector", PAIRS, ids=["map", "kinks"])
@pytest.mark.parametrize("chunk", CHUNKS)
def test_jacobian_of_the_loop_spelling_is_the_vectorised_one_bit_for_bit(rng, loop, vector,
                                                                           chunk):
    x = points(rng)
    assert np.array_equal(dd.jacobian(loop, chunk=chunk)(x), dd.jacobian(vector, chunk=chunk)(x))


@pytest.mark.parametrize("loop,vector", PAIRS, ids=["map", "kinks"])
@pytest.mark.parametrize("chunk", CHUNKS)
def test_hessian_of_a_component_of_the_loop_spelling_is_the_vectorised_one(rng, loop, vector,
                                                                           chunk):
    x = points(rng)
    c = rng.standard_normal(len(loop(x)))
    g = lambda f: weighted(f, c)                               # noqa: E731
    assert np.array_equal(dd.hessian(g(loop), chunk=chunk)(x),
                          dd.hessian(g(vector), chunk=chunk)(x))
    assert np.array_equal(dd.grad(g(loop), chunk=chunk)(x), dd.grad(g(vector), chunk=chunk)(x))


@pytest.mark.parametrize("loop,vector", PAIRS, ids=["map", "kinks"])
def test_jvp_and_hvp_of_the_loop_spelling_are_the_vectorised_ones(rng, loop, vector):
    x, v = points(rng), rng.standard_normal(6)
    a, b = dd.jvp(loop, (x,), (v,)), dd.jvp(vector, (x,), (v,))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    c = rng.standard_normal(len(loop(x)))
    g = lambda f: weighted(f, c)                               # noqa: E731
    for chunk in CHUNKS:
        assert np.array_equal(dd.hvp(g(loop), chunk=chunk)(x, v),
                              dd.hvp(g(vector), chunk=chunk)(x, v))


def test_elements_of_a_sweep_are_multi_direction_scalars():
    seen = []

    def f(x):
        seen.append((type(x[0]).__name__, type(x[0] * x[1]).__name__))
        return x[0] * x[1]
    dd.grad(f)(np.ones(3))                            # all three directions in one sweep
    dd.hessian(f)(np.ones(3))
    dd.grad(f, chunk=1)(np.ones(3))                   # one direction: the plain Dual
    assert seen == [("DualVec", "DualVec"), ("HyperDualVec", "HyperDualVec"), ("Dual", "Dual"),
                    ("Dual", "Dual"), ("Dual", "Dual")]


@pytest.mark.parametrize("chunk", CHUNKS)
def test_scalars_mixed_with_arrays_give_the_array_spelling(rng, chunk):
    """x[0] * x, np.stack of scalars, sums of scalars and slices in one function."""
    x = rng.uniform(0.5, 1.5, 5)
    mixed = lambda x: x[0] * x + np.stack([x[1], x[2] ** 2, x[3], x[4], x[0]])     # noqa: E731
    whole = lambda x: x[0] * x + np.array([1.0, 0, 1, 1, 1]) * x[[1, 2, 3, 4, 0]] + \
        np.array([0, 1.0, 0, 0, 0]) * x[[1, 2, 3, 4, 0]] ** 2              # noqa: E731
    np.testing.assert_allclose(dd.jacobian(mixed, chunk=chunk)(x), dd.jacobian(whole)(x),
                               rtol=1e-15, atol=1e-15)


def test_multi_direction_scalars_pickle_and_keep_their_tags():
    seen = []

    def f(x):
        seen.append(pickle.loads(pickle.dumps(x[1])))
        seen.append(x[1])
        return x[0] * x[1]
    dd.hessian(f)(np.array([2.0, 3.0]))
    copy, original = seen
    assert type(copy) is type(original) and repr(copy) == repr(original)
    # the copy is the same number of the same transform: it meets x[0] of that sweep
    assert copy.real == 3.0 and list(copy.eps1) == list(original.eps1)


def test_errors_of_multi_direction_scalars():
    held = []

    def f(x):
        held.append(x[0])
        with pytest.raises(TypeError, match="would lose its derivative"):
            float(x[0])
        return x[0] * x[1]
    dd.grad(f)(np.ones(2))
    # a scalar of a finished sweep used later: refused, never read as a number
    with pytest.raises(TypeError, match="finished|another transform|directions"):
        dd.grad(lambda x: x[0] * held[0])(np.ones(2))
    # two sweeps with different numbers of directions meeting
    with pytest.raises(TypeError):
        dd.grad(lambda x: x[0] * dd.DualVec(1.0, [1.0, 2.0, 3.0]))(np.ones(2))


@pytest.mark.parametrize("transform", ["grad", "hessian", "sparse_hessian"])
@pytest.mark.parametrize("use", [
    lambda a: x0_times(a, np.sum(np.isfinite(a))), lambda a: np.sum(np.logaddexp(a, 1.0)),
    lambda a: np.linalg.det(a.reshape(2, 2)), lambda a: np.linalg.norm(a, 3)],
    ids=["isfinite", "logaddexp", "det", "norm_ord3"])
def test_an_object_array_of_dual_scalars_where_numpy_has_no_loop(transform, use):
    """np.array([x[0], ...]) in loop-style code makes an object array (np.array cannot be
    overridden); where numpy has no object loop (or its Python code asks an element for its
    dtype) the error says to build it with np.stack, and np.stack gives the vectorised
    answer."""
    if transform.startswith("sparse"):
        pytest.importorskip("scipy")
    x = np.array([0.3, 0.5, 0.7, 1.1])
    t = getattr(dd, transform)
    with pytest.raises(TypeError, match=r"object array .*np\.stack\(\[\.\.\.\]\)"):
        t(lambda x: use(np.array([x[0], x[1], x[2], x[3]])))(x)
    got = t(lambda x: use(np.stack([x[0], x[1], x[2], x[3]])))(x)
    want = t(use)(x)
    np.testing.assert_array_equal(*(m.toarray() if hasattr(m, "toarray") else np.asarray(m)
                                    for m in (got, want)))


def x0_times(a, c):
    return a[0] * c


@pytest.mark.parametrize("reduce", [np.mean, np.std, np.var, np.sum, np.prod])
def test_numpy_reductions_of_an_object_array_of_scalars_under_every_transform(reduce):
    """numpy reduces an object array of dual scalars with its own loops, which meet the
    scalars' arithmetic: every transform gives the vectorised answer (the sparse tracer's
    traced scalars once carried a dtype, so np.mean converted its sum to a float)."""
    pytest.importorskip("scipy")
    x = np.array([0.3, 0.5, 0.7])

    def loop(x):
        return reduce(np.array([x[0], x[1] * x[2], x[2]]))

    def vector(x):
        return reduce(np.stack([x[0], x[1] * x[2], x[2]]))
    np.testing.assert_allclose(dd.grad(loop)(x), dd.grad(vector)(x), rtol=1e-14)
    np.testing.assert_allclose(dd.hessian(loop)(x), dd.hessian(vector)(x), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(dd.sparse_hessian(loop)(x).toarray(), dd.hessian(vector)(x),
                               rtol=1e-14, atol=1e-15)


_FRESH_WINDOWS = r"""
import numpy as np, dualdiff as dd
def f(a, x):
    v3 = a[0:1]
    np.tile(v3, (1, 2))
    v5 = np.var(v3, axis=0, keepdims=True)
    return np.sum(dd.sin(v5) ** 2) + np.mean(np.stack([np.exp(-e * e) for e in a]))
a, x = np.array([1.0, 1.0, 1.0]), np.array([-1.2, -0.7])
# the windowed sweep first: the zero row's first growth is what went wrong
runs = {chunk: dd.hessian(f, argnums=(0, 1), chunk=chunk)(a, x) for chunk in (3, 2, 1)}
want = dd.hessian(f, argnums=(0, 1))(a, x)
for chunk, got in runs.items():
    for i in range(2):
        for j in range(2):
            assert np.array_equal(got[i][j], want[i][j]), (chunk, i, j, got[i][j], want[i][j])
print("ok")
"""


def test_elements_of_windowed_hessian_sweeps_in_a_fresh_process():
    """x[i] of a windowed second-order sweep (e1 on a's rows, e2 on x's) builds its e1, e2
    and e12 rows from stored rows or one shared zero row. That row once grew between the
    parts of one element, freeing the e2 row already handed out: e12 read garbage
    (1e-310 in the Hessian, a different number each run). It grows first now. A fresh
    interpreter, because the zero row grows only once per process."""
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-c", _FRESH_WINDOWS], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-2000:]


# loop-style code under every transform: the same function written with np.array([...]) of
# elements (an object array) and with np.stack (a dual array) gives the same derivatives; the
# sparse transforms' tracer assembles object arrays of traced scalars as the dense sweep does
LOOP_STYLE = {
    "dd.erf": lambda o: np.sum(dd.erf(o)),
    "dd.maximum": lambda o: np.sum(dd.maximum(o, 0.4)),
    "dd.clip": lambda o: np.sum(dd.clip(o, np.float32(0.35), 0.6) * o),
    "arctan2": lambda o: np.sum(np.arctan2(o, 2.0)),
    "hypot": lambda o: np.sum(np.hypot(o, o[::-1])),
    "floor": lambda o: np.sum(np.floor(o * 3.0) * o),
    "matmul": lambda o: o @ np.sin(o),
    "vstack": lambda o: np.sum(np.arctan2(np.vstack([o * 2.0, o]), 2.0)),
    "fabs": lambda o: np.sum(np.fabs(o - 0.5) * o),
    "degrees": lambda o: np.sum(np.degrees(o) ** 2 + np.radians(o) ** 2),
    "fmod": lambda o: np.sum(np.fmod(o * 5.0, 1.5) * o),
    "mean_std": lambda o: np.mean(o) * np.std(o),
}


@pytest.mark.parametrize("name", sorted(LOOP_STYLE))
def test_object_arrays_of_elements_under_every_transform(name):
    pytest.importorskip("scipy")
    use = LOOP_STYLE[name]
    x = np.array([0.3, 0.5, 0.7, 0.45])

    def loop(x):
        return use(np.array([x[i] * (1.0 + 0.1 * i) for i in range(4)]))

    def vector(x):
        return use(np.stack([x[i] * (1.0 + 0.1 * i) for i in range(4)]))
    want = dd.hessian(vector)(x)
    np.testing.assert_allclose(dd.hessian(loop)(x), want, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(dd.hessian(loop, chunk=1)(x), want, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(dd.sparse_hessian(loop)(x).toarray(), want, rtol=1e-13,
                               atol=1e-14)
    jac = dd.jacobian(lambda y: np.atleast_1d(vector(y)))(x)
    np.testing.assert_allclose(
        dd.sparse_jacobian(lambda y: np.atleast_1d(loop(y)))(x).toarray(), jac, rtol=1e-13,
        atol=1e-14)


def test_a_scalar_argument_boxed_by_np_array_reads_alike_at_every_chunk():
    """np.array(a) of a scalar argument is a 0-d object array of its dual scalar, whether the
    sweep seeds it as a Dual (chunk=1) or as an element of a 0-d dual array (one sweep of
    several directions): numpy's reductions over it then agree."""
    def f(a, x):
        return np.std(np.array(a).reshape(-1), axis=0) + a * x ** 2
    want = dd.hessian(f, argnums=(0, 1), chunk=1)(-1.7, -1.1)
    for chunk in (None, 2):
        assert dd.grad(f, argnums=(0, 1), chunk=chunk)(-1.7, -1.1) == \
            dd.grad(f, argnums=(0, 1), chunk=1)(-1.7, -1.1)
        assert dd.hessian(f, argnums=(0, 1), chunk=chunk)(-1.7, -1.1) == want


def test_an_argument_outside_the_chunk_converts_where_the_sweep_has_nothing_to_lose():
    """In a sweep that seeds only a, x is a dual array without tangent rows and np.rad2deg(x)
    a plain array, whose ndarray.dot(x) converts x (numpy methods do not dispatch): nothing
    is lost there, so it converts, and every chunk gives the one-sweep answer."""
    def f(x, a):
        return np.sum(np.rad2deg(x).dot(x) ** 2) * a
    x, a = np.array([1.3, -0.4]), -1.5
    want = dd.value_and_grad(f, argnums=(0, 1))(x, a)
    for chunk in (1, 2):
        got = dd.value_and_grad(f, argnums=(0, 1), chunk=chunk)(x, a)
        np.testing.assert_array_equal(got[1][0], want[1][0])
        assert got[1][1] == want[1][1]
    # where x does carry directions, converting it still raises
    with pytest.raises(TypeError, match="lose the derivative"):
        dd.grad(lambda x: np.sum(np.asarray(x)))(x)


def test_elementwise_results_of_an_argument_outside_the_chunk_stay_dual_arrays():
    """np.sin(x) and 3 * x in a sweep that does not seed x are dual arrays without tangent
    rows (not plain arrays), so their ndarray methods still take the other argument's dual
    array: np.sin(x).dot(w) once raised at chunk=2 and worked at chunk=None."""
    def f(x, w):
        return np.sum(np.sin(x).dot(w)) + np.sum((3 * x).dot(w)) + np.hypot(x, 1.0).dot(w)
    x, w = np.arange(4.0), np.linspace(0.5, 1.0, 4)
    want = dd.grad(f, argnums=(0, 1))(x, w)
    for chunk in (1, 2, 3):
        got = dd.grad(f, argnums=(0, 1), chunk=chunk)(x, w)
        for g, h in zip(got, want):
            np.testing.assert_array_equal(g, h)


# structural and whole-array functions of x; their results meet w through an ndarray method,
# which numpy does not dispatch: a plain result there would refuse w's dual array
OUTSIDE_THE_CHUNK = {
    "reshape": lambda x: np.reshape(np.sin(x), (2, 2)).ravel(),
    "method reshape, T": lambda x: x.reshape(2, 2).T.ravel(),
    "stack": lambda x: np.stack([x, x ** 2])[1],
    "concatenate 2-D": lambda x: np.concatenate([x[None], x[None]], axis=1)[0, ::2],
    "matmul": lambda x: np.outer(x, x) @ np.ones(4),
    "inv": lambda x: np.linalg.inv(np.outer(x, x) + 4 * np.eye(4))[0],
    "sort, cumsum": lambda x: np.cumsum(np.sort(x)),
    "pad": lambda x: np.pad(x, 1)[1:-1],
    "neg, abs, method sin of 2-D": lambda x: (-abs(x.reshape(2, 2))).sin().ravel(),
    "split": lambda x: np.concatenate(np.split(x.reshape(2, 2), 2, axis=1), axis=1).ravel(),
    "indexing 2-D": lambda x: x.reshape(2, 2)[:, ::-1].ravel(),
    "element of 2-D": lambda x: x.reshape(2, 2)[1, 0] * np.ones(4),
}


@pytest.mark.parametrize("name", list(OUTSIDE_THE_CHUNK))
def test_whole_array_results_of_an_argument_outside_the_chunk_stay_dual_arrays(name):
    """The same for every numpy function, method and ufunc method: a float result computed
    from a dual array without tangent rows (any shape) is such a dual array, so every chunk
    runs the code the one-sweep call runs (to rounding: BLAS sums in its own order)."""
    g = OUTSIDE_THE_CHUNK[name]

    def f(x, w):
        return g(x).dot(w) + np.sum(w * x)
    x, w = np.array([0.3, -0.7, 1.1, 0.5]), np.linspace(0.5, 1.0, 4)
    want = dd.grad(f, argnums=(0, 1))(x, w)
    want2 = dd.hessian(f, argnums=(0, 1))(x, w)
    for chunk in (1, 2, 3):
        for got, ref in zip(dd.grad(f, argnums=(0, 1), chunk=chunk)(x, w), want):
            np.testing.assert_allclose(got, ref, rtol=1e-14, atol=1e-15)
        got2 = dd.hessian(f, argnums=(0, 1), chunk=chunk)(x, w)
        for i in range(2):
            for j in range(2):
                np.testing.assert_allclose(got2[i][j], want2[i][j], rtol=1e-14, atol=1e-15)


def test_plain_results_of_an_argument_outside_the_chunk_stay_plain():
    """np.zeros_like(x) is a plain array in a sweep that seeds x; in one that does not it
    is plain too, so code that assigns into it runs at every chunk."""
    def f(x, w):
        out = np.zeros_like(x)
        out[0] = 5.0
        s, logdet = np.linalg.slogdet(np.diag(x))
        lo, = np.atleast_1d(np.where(x > 0, 1.0, -1.0))[:1]
        return np.sum(out * x * w) + s * logdet + lo
    x, w = np.array([0.3, 0.7, 1.1]), np.array([1.5, -0.5, 2.0])
    want = dd.grad(f, argnums=(0, 1))(x, w)
    for chunk in (1, 2, 4):
        for got, ref in zip(dd.grad(f, argnums=(0, 1), chunk=chunk)(x, w), want):
            np.testing.assert_allclose(got, ref, rtol=1e-15)


def test_a_nan_in_an_object_array_meeting_np_sign_is_explained():
    """numpy's object loop of np.sign compares each element with 0; a NaN compares neither
    way and numpy says only "unorderable types". The error says what happened and the fix."""
    def f(x):
        o = np.array([x[0], x[1]])
        return np.sum(np.sign(np.log(o)))
    with pytest.raises(TypeError, match=r"unorderable.*np\.sign.*NaN.*np\.stack"):
        with np.errstate(invalid="ignore"):
            dd.grad(f)(np.array([-1.0, 2.0]))
