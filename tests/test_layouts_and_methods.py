"""Inputs in any memory layout, ndarray's methods on dual values, and object arrays.

* Every transform gives the same bits for an input or a constant in any layout numpy allows
  (byte-swapped, unaligned, strided, negative strides, Fortran, read-only) as for the same
  numbers in a plain C-contiguous float64 array, and leaves the input untouched.
* Dual arrays have ndarray's methods and attributes; the scalar types have them too (as
  numpy's float64 does), through a 0-d dual array: the names in dualdiff/_ndarray_names.py.
* Object arrays that loop-style code builds (np.array([x[0], 1.0])) meet dual arrays as dual
  arrays; numpy's own object loop over such an array fails with a message naming the fix.
"""
import numpy as np
import pytest

import dualdiff as dd
from dualdiff import _ndarray_names
from dualdiff._arrays import DualArray

from functions import VECTOR

# ---- layouts ------------------------------------------------------------------------------


def byteswapped(a):
    return a.astype(a.dtype.newbyteorder())


def unaligned(a):
    buf = np.zeros(a.nbytes + 1, np.uint8)[1:].view(np.float64).reshape(a.shape)
    buf[...] = a
    return buf


def strided(a):
    big = np.zeros((a.size, 3))
    big[:, 1] = a.ravel()
    return big[:, 1].reshape(a.shape) if a.ndim == 1 else big[:, 1].reshape(a.shape)


def reversed_strides(a):
    return np.flip(np.ascontiguousarray(np.flip(a)))


def fortran(a):
    return np.asfortranarray(a)


def readonly(a):
    b = a.copy()
    b.flags.writeable = False
    return b


LAYOUTS = {"byteswapped": byteswapped, "unaligned": unaligned, "strided": strided,
           "reversed strides": reversed_strides, "fortran": fortran, "read-only": readonly}

TRANSFORMS = {
    "grad": lambda f, x: dd.grad(f)(x),
    "grad chunk=1": lambda f, x: dd.grad(f, chunk=1)(x),
    "hessian": lambda f, x: dd.hessian(f)(x),
    "hessian chunk=2": lambda f, x: dd.hessian(f, chunk=2)(x),
    "jvp": lambda f, x: dd.jvp(f, (x,), (np.linspace(-1, 1, x.size).reshape(x.shape),)),
    "value_and_grad": lambda f, x: dd.value_and_grad(f)(x),
}


def _same(a, b):
    if isinstance(a, tuple):
        return all(_same(p, q) for p, q in zip(a, b))
    return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)


def _close(a, b):
    """Equal up to rounding: numpy's own np.dot and np.sum of a strided operand may differ
    from the contiguous one in the last bit (another BLAS path); a misread layout is far off."""
    if isinstance(a, tuple):
        return all(_close(p, q) for p, q in zip(a, b))
    return np.allclose(np.asarray(a), np.asarray(b), rtol=1e-13, atol=0)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("transform", TRANSFORMS)
@pytest.mark.parametrize("name", ["rosenbrock", "mixed_numpy", "loop_products"])
def test_an_input_in_any_layout_gives_the_same_bits(rng, layout, transform, name):
    f, make = VECTOR[name]
    x = np.asarray(make(rng), dtype=float)
    odd = LAYOUTS[layout](x)
    before = odd.copy()
    assert _same(TRANSFORMS[transform](f, odd), TRANSFORMS[transform](f, x))
    assert np.array_equal(odd, before) and odd.dtype == before.dtype


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("transform", TRANSFORMS)
def test_a_constant_in_any_layout_gives_the_same_numbers(rng, layout, transform):
    c = rng.uniform(-2, 2, 6)
    odd = LAYOUTS[layout](c)

    def f_with(const):
        return lambda x: np.sum(np.sin(x * const) + const * x ** 2) + np.dot(const, np.exp(x))
    x = rng.uniform(-1, 1, 6)
    assert _close(TRANSFORMS[transform](f_with(odd), x), TRANSFORMS[transform](f_with(c), x))


def test_a_strided_partials_argument_is_read_element_by_element():
    eps = np.arange(6.0)[::2]
    assert np.array_equal(dd.DualVec(1.0, eps).eps, [0.0, 2.0, 4.0])
    assert np.array_equal(dd.DualVec(1.0, byteswapped(eps)).eps, [0.0, 2.0, 4.0])


# ---- ndarray's methods and attributes -----------------------------------------------------

X = np.array([0.3, -1.2, 2.0, 0.7, -0.4, 1.1])

# method call -> the same on a plain array (values) and a reference spelling (derivatives)
METHODS = {
    "sum": (lambda a: a.sum(), lambda a: np.sum(a)),
    "mean axis": (lambda a: a.reshape(2, 3).mean(axis=0), lambda a: np.mean(a.reshape(2, 3), 0)),
    "std": (lambda a: a.std(), lambda a: np.std(a)),
    "var ddof": (lambda a: a.var(ddof=1), lambda a: np.var(a, ddof=1)),
    "max": (lambda a: a.max(), lambda a: np.max(a)),
    "cumsum": (lambda a: a.cumsum(), lambda a: np.cumsum(a)),
    "round": (lambda a: a.round(), lambda a: np.round(a)),
    "conj": (lambda a: a.conj(), lambda a: a),
    "conjugate": (lambda a: a.conjugate(), lambda a: a),
    "T": (lambda a: a.reshape(2, 3).T, lambda a: np.transpose(a.reshape(2, 3))),
    "mT": (lambda a: a.reshape(2, 3).mT, lambda a: np.swapaxes(a.reshape(2, 3), -1, -2)),
    "flat": (lambda a: a.reshape(2, 3).flat[4], lambda a: a[4]),
    "take": (lambda a: a.take([0, 5]), lambda a: np.take(a, [0, 5])),
    "compress": (lambda a: a.compress([True, False] * 3), lambda a: a[::2]),
    "item": (lambda a: a.item(2) * a.reshape(2, 3).item(1, 1), lambda a: a[2] * a[4]),
    "tolist": (lambda a: a.tolist()[1] * 2.0, lambda a: a[1] * 2.0),
    "imag": (lambda a: a.imag + a, lambda a: a),
    "view": (lambda a: a.view(), lambda a: a),
    "squeeze": (lambda a: a.reshape(1, 6).squeeze(), lambda a: a),
}


@pytest.mark.parametrize("name", METHODS)
@pytest.mark.parametrize("chunk", [None, 1])
def test_dual_arrays_have_ndarrays_methods(name, chunk):
    method, reference = METHODS[name]
    np.testing.assert_array_equal(np.asarray(method(X)), np.asarray(reference(X)))

    def total(f):
        return lambda x: np.sum(np.sin(f(x * x)))
    np.testing.assert_allclose(dd.grad(total(method), chunk=chunk)(X),
                               dd.grad(total(reference), chunk=chunk)(X), rtol=1e-14, atol=0)
    np.testing.assert_allclose(dd.hessian(total(method))(X), dd.hessian(total(reference))(X),
                               rtol=1e-13, atol=1e-15)


SCALAR_USES = {
    "x.sum()": lambda s: s.sum(),
    "x.max()": lambda s: s.max(),
    "x.mean()": lambda s: s.mean(),
    "x.prod()": lambda s: s.prod(),
    "x.reshape(1)": lambda s: s.reshape(1)[0],
    "x.ravel()": lambda s: s.ravel()[0],
    "x.flatten()": lambda s: s.flatten()[0],
    "x.T": lambda s: s.T,
    "x.astype(float)": lambda s: s.astype(float),
    "x.copy()": lambda s: s.copy(),
    "x.squeeze()": lambda s: s.squeeze(),
    "x.cumsum()": lambda s: s.cumsum()[0],
    "x.clip(-50, 50)": lambda s: s.clip(-50, 50),
    "x.item()": lambda s: s.item(),
    "x.tolist()": lambda s: s.tolist(),
    "x[()]": lambda s: s[()],
    "x[None]": lambda s: s[None][0],
    "x[...]": lambda s: s[...],
}


@pytest.mark.parametrize("use", SCALAR_USES)
@pytest.mark.parametrize("transform", ["derivative", "derivative2", "grad chunk=1",
                                       "hessian chunk=1", "grad"])
def test_scalar_duals_have_ndarrays_methods_as_float64_has(use, transform):
    # a 0-d result or x[i] is a compiled scalar in one-direction sweeps, a DualVec in
    # several: the same f must work in every sweep, as on numpy's float64
    g = SCALAR_USES[use]
    assert g(np.float64(0.7)) == 0.7
    if transform.startswith("derivative"):
        order = 2 if transform == "derivative2" else 1
        got = dd.derivative(lambda x: np.sin(g(x * x)), order=order)(0.7)
        want = dd.derivative(lambda x: np.sin(x * x), order=order)(0.7)
        assert got == want
        return
    t, _, chunk = transform.partition(" chunk=")
    kw = {"chunk": int(chunk)} if chunk else {}
    f = lambda x: np.sin(g(np.sum(x * x)) * x[0])            # noqa: E731
    ref = lambda x: np.sin(np.sum(x * x) * x[0])              # noqa: E731
    assert np.array_equal(getattr(dd, t)(f, **kw)(X[:3]), getattr(dd, t)(ref, **kw)(X[:3]))


def test_the_forwarded_names_are_dual_array_attributes():
    from dualdiff import _arrays
    for name in _ndarray_names.PROPERTIES + _ndarray_names.METHODS:
        assert name in dir(DualArray) or name in _arrays.ATTRIBUTES, name
        for scalar_type in (dd.Dual, dd.HyperDual, dd.DualVec, dd.HyperDualVec):
            assert name in dir(scalar_type), (scalar_type, name)
    # numpy's mean/var/std of object arrays convert a result that has a dtype to that dtype
    assert not hasattr(dd.Dual(1.0, 1.0), "dtype")


@pytest.mark.parametrize("call, fix", [
    (lambda x: x.sort(), "np.sort"), (lambda x: x.fill(0.0), "np.full_like"),
    (lambda x: x.resize(3), "np.resize"), (lambda x: x.tobytes(), "x.real.tobytes"),
    (lambda x: x.view(np.int64), "x.real.view"), (lambda x: x[0].sort(), "np.sort"),
])
def test_in_place_methods_and_conversions_are_refused_with_the_fix(call, fix):
    with pytest.raises(TypeError, match=fix.replace(".", r"\.")):
        dd.grad(lambda x: np.sum(call(x)))(X)


def test_unknown_attributes_raise_attribute_error():
    with pytest.raises(AttributeError, match="Dual' object has no attribute 'nonsense'"):
        dd.Dual(1.0, 2.0).nonsense
    assert not hasattr(dd.Dual(1.0, 2.0), "__array_interface__")


# ---- object arrays ------------------------------------------------------------------------

def test_object_arrays_of_dual_numbers_meet_dual_arrays_as_dual_arrays(rng):
    x = rng.uniform(0.5, 1.5, 3)

    def loop(x):
        v = np.array([x[0] * x[1], 2.0, x[2]])          # object array in one-direction sweeps
        return np.sum(dd.sin(v) * x) + np.sum(np.stack([v, x]) ** 2)

    def plain(x):
        v = np.stack([x[0] * x[1], 2.0 + 0 * x[0], x[2]])
        return np.sum(np.sin(v) * x) + np.sum(np.stack([v, x]) ** 2)
    for chunk in (None, 1, 2):
        np.testing.assert_allclose(dd.grad(loop, chunk=chunk)(x), dd.grad(plain)(x), rtol=1e-14)
    np.testing.assert_allclose(dd.hessian(loop)(x), dd.hessian(plain)(x), rtol=1e-13)


@pytest.mark.parametrize("reduce", [np.std, np.var, np.mean, np.real],
                         ids=lambda r: r.__name__)
@pytest.mark.parametrize("chunk", [1, None])
def test_numpy_reductions_of_object_arrays_of_duals(rng, reduce, chunk):
    # numpy >= 2.5 reads each element's .real in some of these (np.var of an object array)
    x = rng.uniform(0.5, 1.5, 3)
    f = lambda x: np.sum(reduce(np.array([x[0], x[1] * x[0], 3.0])))          # noqa: E731
    g = lambda x: np.sum(reduce(np.stack([x[0], x[1] * x[0], 3.0])))          # noqa: E731
    np.testing.assert_allclose(dd.grad(f, chunk=chunk)(x), dd.grad(g)(x), rtol=1e-14)
    np.testing.assert_allclose(dd.hessian(f, chunk=chunk)(x), dd.hessian(g)(x), rtol=1e-13)


def test_numpys_object_loop_over_mixed_numbers_names_the_fix():
    with pytest.raises(TypeError, match=r"np\.stack"):
        dd.grad(lambda x: np.sum(np.sin(np.array([x[0], 1.0]))), chunk=1)(X)
    with pytest.raises(TypeError, match=r"np\.stack"):
        dd.derivative(lambda x: np.sum(np.sin(np.array([x, 1.0]))))(0.5)


@pytest.mark.parametrize("step", [np.floor, np.ceil, np.trunc], ids=lambda s: s.__name__)
@pytest.mark.parametrize("chunk", [1, None])
def test_step_functions_of_object_arrays_of_duals_are_the_rules(rng, step, chunk):
    """numpy's object loop calls math.floor/ceil/trunc on each element: the scalars answer
    with the table's rule (value of the step, derivative 0), as np.floor of a dual array."""
    x = rng.uniform(-2.5, 2.5, 3)
    f = lambda x: np.sum(step(np.array([x[0] * 3.0, x[1] ** 2, x[2]])) * x)      # noqa: E731
    g = lambda x: np.sum(step(np.stack([x[0] * 3.0, x[1] ** 2, x[2]])) * x)      # noqa: E731
    assert np.array_equal(dd.grad(f, chunk=chunk)(x), dd.grad(g)(x))
    assert np.array_equal(dd.hessian(f, chunk=chunk)(x), dd.hessian(g)(x))
    import math
    d = dd.Dual(-1.5, 2.0)
    for fn, want in ((math.floor, -2.0), (math.ceil, -1.0), (math.trunc, -1.0)):
        r = fn(d)
        assert type(r) is dd.Dual and (r.real, r.eps) == (want, 0.0)


@pytest.mark.parametrize("ufunc", [np.arctan2, np.hypot], ids=lambda u: u.__name__)
@pytest.mark.parametrize("chunk", [1, None])
def test_binary_ufuncs_of_object_arrays_of_duals_are_the_rules(rng, ufunc, chunk):
    """numpy's object loop of a binary ufunc calls x.arctan2(y) on the elements."""
    x = rng.uniform(0.5, 1.5, 3)
    f = lambda x: np.sum(ufunc(np.array([x[0] * 3.0, x[1] ** 2]), np.array([x[2], 0.5])))  # noqa
    g = lambda x: np.sum(ufunc(np.stack([x[0] * 3.0, x[1] ** 2]), np.stack([x[2], 0.5])))  # noqa
    assert np.array_equal(dd.grad(f, chunk=chunk)(x), dd.grad(g)(x))
    assert np.array_equal(dd.hessian(f, chunk=chunk)(x), dd.hessian(g)(x))
