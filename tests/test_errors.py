"""API.md "Errors": each situation raises the documented exception with a message that names
the problem and the fix. Never a crash, never a silently wrong number."""
import math
import re

import numpy as np
import pytest

import dualdiff as dd

X = np.array([1.0, 2.0, 3.0])


@pytest.mark.parametrize("transform", [dd.grad, dd.value_and_grad, dd.hessian])
@pytest.mark.parametrize("f,shape", [(lambda x: x * 2, "(3,)"), (lambda x: x[:2, None] * x, "(2, 3)"),
                                     (lambda x: np.sum(x, keepdims=True), "(1,)")])
def test_non_scalar_output_says_its_shape_and_use_jacobian(transform, f, shape):
    with pytest.raises(TypeError) as e:
        transform(f)(X)
    assert shape in str(e.value) and "use jacobian" in str(e.value)


@pytest.mark.parametrize("out", ["a string", None, {"a": 1}, [None], np.array(["x"]), object()])
@pytest.mark.parametrize("transform", [dd.grad, dd.jacobian, dd.hessian, dd.derivative])
def test_non_numeric_output_says_what_was_returned(transform, out):
    with pytest.raises(TypeError) as e:
        transform(lambda x: out)(1.0 if transform is dd.derivative else X)
    assert "returned" in str(e.value) and type(out).__name__ in str(e.value)


@pytest.mark.parametrize("bad", ["abc", None, object(), [1.0, "a"], np.array(["1"]), {"x": "a"},
                                 1 + 2j, True])
@pytest.mark.parametrize("transform", [dd.grad, dd.jacobian, dd.hessian, dd.derivative])
def test_non_numeric_input_names_the_argument(transform, bad):
    with pytest.raises(TypeError, match="argument 0"):
        transform(lambda x: x)(bad)


def test_non_numeric_input_to_jvp_and_hvp():
    with pytest.raises(TypeError, match="argument 1"):
        dd.jvp(lambda x, y: x * y, (1.0, "a"), (1.0, 1.0))
    with pytest.raises(TypeError, match="argument"):
        dd.hvp(lambda x: np.sum(x))(X, "v")
    with pytest.raises(ValueError, match="shape"):
        dd.jvp(np.sin, (X,), (np.ones(2),))
    with pytest.raises(ValueError, match="tangent"):
        dd.jvp(np.sin, (X,), ())


@pytest.mark.parametrize("argnums", [1, -2, (0, 1), (0, 5)])
def test_argnums_out_of_range_gives_the_valid_range(argnums):
    with pytest.raises(ValueError, match=r"valid argnums are 0\.\.0"):
        dd.grad(lambda x: np.sum(x), argnums=argnums)(X)
    with pytest.raises(ValueError, match="valid argnums"):
        dd.jacobian(lambda x: x, argnums=argnums)(X)
    with pytest.raises(ValueError, match="valid argnums"):
        dd.hessian(lambda x: np.sum(x), argnums=argnums)(X)


def test_derivative_argnum_out_of_range():
    with pytest.raises(ValueError, match=r"valid argnums are 0\.\.1"):
        dd.derivative(lambda x, y: x * y, argnum=2)(1.0, 2.0)


@pytest.mark.parametrize("order", [0, -1, 1.5, "2", True, None])
def test_derivative_order_must_be_an_int_of_at_least_1(order):
    with pytest.raises(ValueError, match=r"int >= 1 \(1, 2, 3, \.\.\.\)"):
        dd.derivative(np.sin, order=order)


@pytest.mark.parametrize("drop", [float, math.exp, lambda x: float(np.sum(x)), lambda x: math.sqrt(x[0]),
                                  lambda x: np.asarray(x, dtype=float), lambda x: x.tobytes()])
def test_dropping_the_derivative_raises_with_the_fix(drop):
    scalar = drop in (float, math.exp)
    arg, transform = (1.0, dd.derivative) if scalar else (X, dd.grad)
    with pytest.raises((TypeError, AttributeError)) as e:
        transform(lambda x: np.sum(drop(x)))(arg)
    if isinstance(e.value, TypeError):
        assert "lose" in str(e.value) and "derivative" in str(e.value)


def test_assigning_duals_into_a_float_array_explains_the_fix():
    def f(x):
        out = np.zeros(2)
        out[0] = x[0] ** 2
        return np.sum(out)
    # the message names the line and says what to build instead (np.stack of the scalars)
    with pytest.raises(TypeError, match=r"out\[0\] = x\[0\] \*\* 2.*np\.stack"):
        dd.grad(f, chunk=1)(X)


def test_an_object_array_of_dual_numbers_names_the_function_f_called_and_the_fix():
    """np.array([...]) of dual elements is an object array; numpy.linalg.norm of it fails in
    the svd it calls (its ufunc is svd_m in numpy 2.5), and the message names norm too (fuzz seed 2424-96267). Under sparsity
    detection the tracer says the same (seed 2424-96960)."""
    def f(x):
        return np.sum(np.linalg.norm(np.array([x[0], x[1] * 2.0, x[2]]).reshape(1, 3), "nuc"))
    with pytest.raises(TypeError, match=r"svd\w* \(which numpy\.norm called\).*np\.stack"):
        dd.grad(f)(X)

    def g(x):
        return np.sum(np.concatenate([np.fmax(np.array([e * 1.5 for e in list(x)]), 9.0), x]))
    with pytest.raises(TypeError, match=r"sparsity detection: an object array.*np\.stack"):
        dd.sparse_hessian(g)(np.linspace(0.1, 1.0, 5))


@pytest.mark.filterwarnings("ignore:Degrees of freedom")
def test_numpys_python_division_of_an_object_array_names_the_function_and_the_fix():
    """np.std of an empty object array (ddof beyond its length) divides Python numbers by 0
    inside numpy, where its float loops give nan: the ZeroDivisionError names np.std and the
    np.stack fix (fuzz seed 2626-16511)."""
    def f(x):
        v = np.array([e * 2.0 for e in x])
        return np.sum(np.std(v[:1:-1], axis=-1, keepdims=True, ddof=5))
    with pytest.raises(ZeroDivisionError, match=r"numpy's std divided.*np\.stack"):
        dd.value_and_grad(f)(np.array([1.141]))


@pytest.mark.parametrize("transform", [dd.jacobian, dd.sparse_jacobian])
def test_numpys_object_loop_rounding_of_inf_explains_the_object_array(transform):
    """np.ceil of an object array rounds each element with Python's, which cannot make an
    integer of inf where float arrays give inf: an OverflowError no plain run of f raises
    (fuzz 3535-37289), explained as the object array it is."""
    pytest.importorskip("scipy.sparse")
    def f(x):
        v = np.array([e if e > 0 else 0.5 * e for e in x])
        return np.ceil(np.where(v > -0.03, v, np.inf))
    with pytest.raises(TypeError, match=r"infinity.*object array's loop.*np\.stack"):
        transform(f)(np.array([0.67, -0.896]))


def test_numpy_object_loops_with_out_store_dual_numbers_and_float_outs_are_refused():
    """np.cross of object arrays of dual numbers (np.array([x[0], ...]), loop-style code)
    subtracts with out= into an object array it made: numpy's object loop stores the dual
    numbers, the result is the np.stack version's (before: refused, fuzz 3434-42639). An
    out= array of floats would drop the derivatives: refused."""
    def f(x, build):
        v, w = build([x[0], x[-1], x[1] * x[0]]), build([x[1], 2.0 + 0 * x[0], x[2]])
        return np.sum(np.cross(v, w) ** 2)
    x = np.array([1.0, 2.0, 3.0])
    for T in (dd.grad, dd.hessian):
        np.testing.assert_allclose(T(lambda x: f(x, np.array))(x),
                                   T(lambda x: f(x, np.stack))(x), rtol=1e-15)
    pytest.importorskip("scipy.sparse")
    np.testing.assert_allclose(dd.sparse_hessian(lambda x: f(x, np.array))(x).toarray(),
                               dd.hessian(lambda x: f(x, np.stack))(x), rtol=1e-15)
    with pytest.raises(TypeError, match=r"out=\.\.\.\) cannot store dual values; use the "
                                        "returned result instead"):
        dd.grad(lambda x: np.sum(np.sin(x, out=np.empty(3))))(np.ones(3))


def test_the_tracer_refuses_accumulate_on_a_scalar_as_numpy_does():
    """np.add/multiply.accumulate of a 0-d array raise in numpy; np.cumsum flattens instead
    (fuzz 3535-67215: the sparsity tracer returned a Hessian)."""
    pytest.importorskip("scipy.sparse")
    for u in (np.add, np.multiply):
        for transform in (dd.hessian, dd.sparse_hessian, dd.sparse_jacobian):
            with pytest.raises(TypeError, match="cannot accumulate on a scalar"):
                transform(lambda x: np.sum(u.accumulate(x)))(np.float64(-1.132))


def test_numpys_object_loop_division_by_a_plain_zero_explains_the_object_array():
    """An object array of dual numbers and plain zeros divides in numpy's C loop with Python's
    /, which raises where float arrays give inf (fuzz seed 3030-63690)."""
    def f(x):
        v = np.array([x[0], 0.0])              # an object array: a Dual and a plain 0.0
        return np.sum(np.array([1.0, 2.0]) / v)
    with pytest.raises(ZeroDivisionError, match=r"object array divided.*np\.stack"):
        dd.grad(f)(np.array([1.5, 2.0]))
    with pytest.raises(ZeroDivisionError, match=r"^float division by zero$"):
        dd.grad(lambda x: x[0] * (1.0 / 0.0))(np.array([1.5]))   # plain Python: as it is


def test_unsupported_numpy_functions_name_themselves():
    with pytest.raises(TypeError, match="no derivative rule for numpy.histogram2d"):
        dd.grad(lambda x: np.sum(np.histogram2d(x, x)[0]))(X)
    with pytest.raises(TypeError, match="no derivative rule for numpy.nextafter"):
        dd.grad(lambda x: np.sum(np.nextafter(x, 2.0)))(X)
    with pytest.raises(TypeError, match="numpy.linalg.eig: this matrix has complex "
                                        "eigenvalues.*eigh"):
        dd.grad(lambda x: np.sum(np.linalg.eig(np.array([[0.0, 1.0], [-1.0, 0.0]]) * x[0])[0]))(X)
    with pytest.raises(TypeError, match="out="):
        dd.grad(lambda x: np.sum(np.sin(x, out=np.empty(3))))(X)


FIRST, SECOND = dd.Dual(1.5, -0.5), dd.HyperDual(1.1, -0.9, 0.5, 0.25)


@pytest.mark.parametrize("name,f", [
    ("numpy.vstack", lambda x: np.sum(np.vstack([x + FIRST, x - SECOND]))),
    ("numpy.add", lambda x: np.sum(np.add(x + FIRST, x - SECOND))),
    ("numpy.stack", lambda x: np.linalg.norm(np.stack([x + FIRST, x - SECOND]))),
    ("numpy.maximum", lambda x: np.sum(np.maximum(x + FIRST, x - SECOND))),
])
def test_a_hand_made_dual_beside_a_hyperdual_names_the_function_where_they_met(name, f):
    # the outermost numpy function the user called, not the helper inside it (np.linalg.norm
    # stacks nothing itself: np.stack is the user's call there)
    with pytest.raises(TypeError, match=rf"^{re.escape(name)}: cannot mix Dual and HyperDual"
                                        r".*convert with HyperDual"):
        dd.hvp(f)(X, X)


WIDE = np.longdouble(1e300)
WIDE_ARRAY = np.array([1e300, 2.0, 3.0], dtype=np.longdouble)


@pytest.mark.skipif(np.dtype(np.longdouble).itemsize <= 8, reason="longdouble is a double here")
@pytest.mark.parametrize("call", [
    lambda: dd.grad(lambda x: np.sum(x))(WIDE_ARRAY),
    lambda: dd.derivative(lambda x: x * x)(WIDE),
    lambda: dd.jvp(np.sin, (X,), (WIDE_ARRAY,)),
    lambda: dd.hvp(lambda x: np.sum(x ** 3))(X, WIDE_ARRAY),
    lambda: dd.grad(lambda x: np.sum(x * WIDE_ARRAY))(X),
    lambda: dd.grad(lambda x: np.sum(np.stack([x, WIDE_ARRAY])))(X),
    lambda: dd.grad(lambda x: WIDE_ARRAY @ x)(X),
    lambda: dd.hessian(lambda x: np.sum(np.maximum(x, WIDE_ARRAY)))(X),
    lambda: dd.grad(lambda x: x[0] * WIDE)(X),                    # a dual scalar's operand
    lambda: dd.hessian(lambda x: np.sum(x * WIDE))(X),
    lambda: dd.Dual(WIDE, 1.0),
    # numpy hands a 0-d array to the scalar types' ufuncs (fuzz 3232-40855), and a
    # longdouble number met on its own (dd.sin) or in a comparison is no constant either
    lambda: dd.hessian(lambda x: np.arctan2(x, np.array(1.727, dtype=np.longdouble)),
                       chunk=1)(0.3),
    lambda: np.arctan2(dd.Dual(0.3, 1.0), np.array(WIDE)),
    lambda: dd.sin(np.longdouble("1e-4000")),
    lambda: dd.Dual(0.0, 1.0) < np.longdouble("1e-4000"),
    lambda: dd.HyperDual(0.0, 1.0, 1.0, 0.0) ** np.array(WIDE),
    lambda: dd.sparse_hessian(lambda x: np.sum(dd.relu(np.hstack([x, WIDE_ARRAY])[4])))(X),
    # numpy's object dot calls the next column's operators before it looks for the first
    # one's error: the message must still come out (not a SystemError)
    lambda: dd.hessian(lambda x: np.sum(np.dot(np.array([e * e for e in x] + [WIDE]),
                                               np.ones((4, 2)))), chunk=1)(X),
], ids=["input", "scalar input", "jvp tangent", "hvp v", "constant array", "np.stack",
        "matmul", "maximum", "scalar dual", "scalar constant", "Dual()", "0-d hessian",
        "0-d ufunc", "dd.sin", "comparison", "0-d power", "sparsity detection", "object dot"])
def test_a_longdouble_is_refused_rather_than_rounded(call):
    # (1e300)**2 is finite in x86's longdouble and inf in float64: rounding the input or the
    # constant without a word would give numbers numpy's own run does not
    with pytest.raises(TypeError, match=r"float128 \(longdouble\): dualdiff computes in float64"
                                        r".*dtype=np.float64"):
        call()


def test_bad_chunk_values():
    for chunk in (0, -1, 1.5, "3", True):
        with pytest.raises(ValueError, match="chunk"):
            dd.grad(np.sum, chunk=chunk)


def test_errors_leave_inputs_untouched():
    x = X.copy()
    with pytest.raises(TypeError):
        dd.grad(lambda x: x)(x)
    assert np.array_equal(x, X)


def test_an_ndarray_method_that_converts_a_dual_array_is_named_with_its_fix():
    """v.dot(x) of a plain or object array v converts x in C (ndarray methods do not
    dispatch); the message names the method and the numpy function to call instead."""
    def f(x):
        v = np.array([e if e > 0 else 0.5 * e for e in x])
        return np.sum(v.dot(x))
    with pytest.raises(TypeError, match=r"ndarray\.dot\(\).*np\.dot\(a, x\) or np\.matmul"):
        dd.hessian(f, chunk=2)(np.array([0.5, -1.0, 2.0]))


@pytest.mark.parametrize("f, name", [
    (lambda c: np.polynomial.chebyshev.chebfit(np.arange(3.0), c, 1),
     r"numpy\.polynomial\.chebyshev\.chebfit"),
    (lambda c: np.polynomial.Polynomial.fit(np.arange(3.0), c, 1).coef,
     r"numpy\.polynomial\.Polynomial\.fit"),
], ids=["chebfit", "Polynomial.fit"])
def test_a_library_function_that_converts_is_named_by_its_public_path(f, name):
    """The function the user called, as they spell it (not the user's own frame, not
    numpy.polynomial's helper _fit), with the fix: np.polyfit and np.roots, which
    differentiate."""
    with pytest.raises(TypeError, match=name + r" converts an argument.*np\.polyfit\(x, y"):
        dd.grad(lambda c: np.sum(f(c)))(np.array([1.0, 2.0, 3.0]))
    # the point itself carries derivatives through numpy.polynomial
    g = dd.grad(lambda x: np.polynomial.chebyshev.chebval(x, [1.0, 2.0, 3.0]))(0.3)
    assert g == pytest.approx(2.0 + 3.0 * 4 * 0.3, rel=1e-15)


@pytest.mark.parametrize("f, fix", [
    (lambda x: np.polynomial.polynomial.polyval(x, np.arange(6.0).reshape(3, 2)),
     lambda x: np.polynomial.polynomial.polyval(x, np.arange(6.0).reshape(3, 2, 1),
                                                tensor=False)),
    (lambda x: np.polynomial.chebyshev.chebval(x, np.arange(6.0).reshape(2, 3) * x[0]),
     lambda x: np.polynomial.chebyshev.chebval(x, (np.arange(6.0).reshape(2, 3) * x[0])[
         ..., None], tensor=False)),
    (lambda x: np.polynomial.polynomial.polyvalfromroots(x, np.array([1.0, 2.0, 4.0])),
     lambda x: np.polynomial.polynomial.polyvalfromroots(x, np.array([[1.0], [2.0], [4.0]]),
                                                         tensor=False)),
    (lambda x: np.polynomial.legendre.leggrid2d(x, x[:2], np.ones((2, 3))),
     lambda x: np.polynomial.legendre.legval2d(*np.meshgrid(x, x[:2], indexing="ij"),
                                               np.ones((2, 3)))),
], ids=["polyval", "chebval dual c", "polyvalfromroots", "leggrid2d"])
def test_series_evaluation_at_dual_points_never_broadcasts_silently(f, fix):
    """numpy.polynomial's *val(x, c) take the outer product of the points with c's trailing
    axes only for an ndarray x (tensor=True): a dual x would be broadcast elementwise, a
    wrong result (before: a (3,) array where numpy gives (2, 3)). Refused, naming the fix
    the message gives, which computes numpy's values."""
    x = np.array([0.3, -0.7, 1.2])
    with pytest.raises(TypeError, match=r"numpy\.polynomial's \w+.*dual (points|x)"):
        dd.jacobian(f)(x)
    value, _ = dd.jvp(fix, (x,), (np.ones(3),))
    np.testing.assert_array_equal(np.asarray(value, dtype=float), f(x))
    check_fd = dd.jacobian(fix)(x)
    h = 1e-6
    fd = np.stack([(fix(x + h * e) - fix(x - h * e)) / (2 * h) for e in np.eye(3)], axis=-1)
    np.testing.assert_allclose(np.asarray(check_fd, dtype=float), fd, atol=1e-6)


def test_roots_of_a_series_class_with_dual_coefficients_names_np_roots():
    """Polynomial(c) takes dual coefficients (evaluation, deriv, arithmetic); its roots()
    runs numpy.linalg on them, which has no object arrays: the message names np.roots."""
    c = np.array([2.0, -3.0, 1.0])
    with pytest.raises(TypeError, match=r"numpy\.polynomial's roots.*np\.roots\(c\[::-1\]\)"):
        dd.jacobian(lambda c: np.polynomial.Polynomial(c).roots())(c)
    np.testing.assert_allclose(dd.jacobian(lambda c: np.sort(np.roots(c[::-1])))(c),
                               [[1.0, 1.0, 1.0], [-1.0, -2.0, -4.0]], rtol=1e-14)


@pytest.mark.parametrize("vectorized", [
    np.vectorize(lambda v: v * v, otypes=[float]),
    np.vectorize(lambda r: r @ r, signature="(n)->()"),
], ids=["otypes float", "signature"])
def test_vectorize_into_a_float_array_names_otypes_object(vectorized):
    """np.vectorize calls its function on dual scalars, then stores the results in an array
    of otypes (with signature=, one like the first result: float): the message says so and
    gives the fix, otypes=[object], which then differentiates."""
    x = np.array([0.5, 1.5, -2.0])
    with pytest.raises(TypeError, match=r"np\.vectorize stores.*otypes=\[object\]"):
        dd.grad(lambda x: np.sum(vectorized(x.reshape(1, 3))))(x)
    fixed = np.vectorize(vectorized.pyfunc, otypes=[object], signature=vectorized.signature)
    np.testing.assert_allclose(dd.grad(lambda x: np.sum(fixed(x.reshape(1, 3))))(x), 2 * x,
                               rtol=1e-15)


def test_a_decorated_scipy_function_is_named_by_what_it_wraps():
    """scipy.special.spherical_jn runs as its decorator's `wrapper` (scipy >= 1.15; before,
    it handed x to the private ufunc _spherical_jn): the message names spherical_jn."""
    sc = pytest.importorskip("scipy.special")
    with pytest.raises(TypeError, match=r"scipy\.special\.spherical_jn( \(it calls np\.asarray|: "
                                        r"it cannot take dual values)"):
        dd.grad(lambda x: np.sum(sc.spherical_jn(1, x)))(np.array([0.5, 1.0]))


@pytest.mark.parametrize("call, fix", [
    (lambda sc, x: sc.factorial(x, exact=False), r"scipy\.special\.gamma\(n \+ 1\)"),
    (lambda sc, x: sc.comb(5.0, x), r"scipy\.special\.binom\(N, k\)"),
    (lambda sc, x: sc.perm(5.0, x), r"scipy\.special\.poch\(N - k \+ 1, k\)"),
], ids=["factorial", "comb", "perm"])
def test_scipy_wrappers_that_convert_name_the_ufunc_to_use(call, fix):
    """scipy.special's Python wrappers that convert with np.asarray name the ufunc that
    computes the same values (and differentiates)."""
    sc = pytest.importorskip("scipy.special")
    with pytest.raises(TypeError, match=r"scipy\.special\.\w+ \(it calls np\.asarray.*use " + fix):
        dd.grad(lambda x: np.sum(call(sc, x)))(np.array([1.5, 2.5]))


def _scatter_into_zeros(x):
    L = np.zeros((3, 3))
    L[np.tril_indices(3)] = x
    return L @ L.T


def _slice_assigned(x):
    out = np.empty_like(x)
    out[:] = x ** 2
    return out


@pytest.mark.parametrize("f", [_scatter_into_zeros, _slice_assigned], ids=["index", "slice"])
def test_assigning_dual_values_into_a_plain_array_is_named_with_the_fix(f):
    """a[idx] = x converts x in C (ndarray.__setitem__): the message says it is the
    assignment and how to build the array instead; the bincount scatter it names works.
    The same for code without a source file (exec'd), read from the instruction."""
    x = np.arange(1.0, 7.0)
    with pytest.raises(TypeError, match=r"assigning dual values into a plain numpy array.*"
                                        r"np\.bincount\(np\.ravel_multi_index"):
        dd.jacobian(f)(x)
    space = {"np": np}
    exec("def g(x):\n    out = np.zeros(6)\n    out[::2] = x[:3]\n    return out", space)
    with pytest.raises(TypeError, match="assigning dual values into a plain numpy array"):
        dd.jacobian(space["g"])(x)
    idx = np.tril_indices(3)
    fixed = lambda x: (lambda L: L @ L.T)(np.bincount(  # noqa: E731
        np.ravel_multi_index(idx, (3, 3)), weights=x, minlength=9).reshape(3, 3))
    np.testing.assert_array_equal(fixed(x), _scatter_into_zeros(x))
    h = 1e-6
    fd = (fixed(x + h * np.eye(6)[2]) - fixed(x - h * np.eye(6)[2])) / (2 * h)
    np.testing.assert_allclose(dd.jacobian(fixed)(x)[..., 2], fd, atol=1e-6)


def test_full_like_and_copyto_of_dual_values_name_the_fix():
    """np.full_like(a, t) of a plain a dispatches on a alone; numpy then copies t with
    np.copyto into a plain array: the message names full_like and np.full."""
    with pytest.raises(TypeError, match=r"numpy\.full_like\(a, value\).*np\.full\(np\.shape"):
        dd.derivative(lambda t: np.sum(np.full_like(np.zeros(3), t)))(1.0)
    with pytest.raises(TypeError, match=r"numpy\.copyto\(dst, src\) cannot store dual"):
        dd.derivative(lambda t: np.copyto(np.zeros(3), t))(1.0)
    assert dd.derivative(lambda t: np.sum(np.full(np.shape(np.zeros(3)), t)))(1.0) == 3.0


def test_arange_with_a_dual_bound_names_linspace():
    with pytest.raises(TypeError, match=r"np\.arange's bounds.*np\.linspace"):
        dd.derivative(lambda t: np.sum(np.arange(0.0, t, 0.5)))(1.7)


def test_a_scipy_function_that_builds_object_arrays_is_named_with_its_formula():
    """scipy.special.multigammaln puts its argument in a list and calls gammaln on it: the
    message names multigammaln and the formula, which differentiates."""
    sp = pytest.importorskip("scipy.special")
    x = np.array([2.5, 1.5])
    for f in (lambda x: sp.multigammaln(x[0], 2), lambda x: np.sum(sp.multigammaln(x, 2))):
        with pytest.raises(TypeError, match=r"scipy\.special\.multigammaln.*gammaln\(a - j / 2"):
            dd.grad(f)(x)
    d = 3
    g = lambda a: d * (d - 1) / 4 * np.log(np.pi) + sum(sp.gammaln(a - j / 2)  # noqa: E731
                                                        for j in range(d))
    assert g(2.5) == pytest.approx(sp.multigammaln(2.5, d), rel=1e-14)
    assert dd.derivative(g)(2.5) == pytest.approx(sum(sp.digamma(2.5 - j / 2) for j in range(d)),
                                                  rel=1e-14)
