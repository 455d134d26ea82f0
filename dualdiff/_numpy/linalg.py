"""numpy.linalg on dual arrays: the surface, with numpy's signatures and keywords.

Where each derivative comes from:
  * solve, inv, det, slogdet, cholesky, eigh, eigvalsh, eig, eigvals (real spectra), svd,
    svdvals, qr, pinv, lstsq,
    matrix_power, multi_dot, norm, vector_norm, matrix_norm, cond: whole-array rules
    (dualdiff/_jvp/linalg.py, linalg_svd.py) applied with dualdiff._jvp.apply, which gives
    second order by running the rule on dual arrays;
  * the array-API names numpy.linalg shares with numpy (matmul, tensordot, outer, trace,
    diagonal, matrix_transpose): numpy's own handlers on the last two axes, linear maps and
    the bilinear product rule; vecdot and cross (numpy.cross too) are products of their
    operands' components; tensorinv and tensorsolve are reshapes around inv and solve;
  * matrix_rank is an integer: computed on the values, no derivative.
eig and eigvals where the spectrum is real (numpy returns real arrays then); a complex one
raises a TypeError naming eigh/eigvalsh.
"""
import warnings

import numpy as np

from dualdiff import _arrays
from dualdiff._jvp import apply
from dualdiff._jvp.linalg_svd import RULES
from dualdiff._numpy import NOVALUE, axis1, implements, ndim, no_out, shape
from dualdiff._numpy import manipulation as _m, products as _p
from dualdiff._numpy.reductions import sum_

LA = np.linalg
_FLOAT = (None, float, np.float64, "float64", "d", "f8")


def _rule(name, arrays, **params):
    """numpy.linalg.`name` on arrays of which some may be dual: its rule through apply, or
    numpy's own function on the values when every array is a constant. numpy's LinAlgError
    ("Singular matrix") gets the function's name: raised from inside a derivative rule it
    would not say which call of the user's function failed."""
    try:
        r = apply(RULES[name], tuple(arrays), params)
        if r is not None:
            return r
        consts = [_arrays.const(a) for a in arrays]
        func = getattr(LA, name)
        out = func(consts, **params) if name == "multi_dot" else func(*consts, **params)
        # as the rule gives it (eig's real parts: a dual array without rows in this sweep
        # gets the seeded one's types)
        return RULES[name].value(out)
    except LA.LinAlgError as e:
        if str(e).startswith("numpy.linalg."):          # named already, by a nested call
            raise
        raise LA.LinAlgError(f"numpy.linalg.{name}: {e}") from None


def _value(x):
    """The plain value of a cutoff (rcond, rtol, tol) or of matrix_rank's matrix, which may be
    dual: a cutoff is a decision, not a variable. None stays None."""
    v = _arrays.value_of(x) if x is not None else None
    return x if v is NotImplemented else v


# ---- inverses, determinants, factorisations ----------------------------------------------------

@implements(LA.solve)
def solve(a, b):
    return _rule("solve", (a, b))


@implements(LA.inv)
def inv(a):
    return _rule("inv", (a,))


@implements(LA.det)
def det(a):
    return _rule("det", (a,))


@implements(LA.slogdet)
def slogdet(a):
    return _rule("slogdet", (a,))


@implements(LA.cholesky)
def cholesky(a, /, *, upper=False):
    return _rule("cholesky", (a,), upper=upper)


@implements(LA.eigh)
def eigh(a, UPLO="L"):
    return _rule("eigh", (a,), UPLO=UPLO)


@implements(LA.eigvalsh)
def eigvalsh(a, UPLO="L"):
    return _rule("eigvalsh", (a,), UPLO=UPLO)


@implements(LA.svd)
def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    return _rule("svd", (a,), full_matrices=full_matrices, compute_uv=compute_uv,
                 hermitian=hermitian)


@implements(getattr(LA, "svdvals", None))
def svdvals(x, /):
    return _rule("svdvals", (x,))


@implements(LA.qr)
def qr(a, mode="reduced"):
    return _rule("qr", (a,), mode=mode)


@implements(LA.pinv)
def pinv(a, rcond=None, hermitian=False, *, rtol=NOVALUE):
    # rtol=None is not the same as no rtol (it switches numpy's default cutoff)
    extra = {} if rtol is NOVALUE else {"rtol": _value(rtol)}
    return _rule("pinv", (a,), rcond=_value(rcond),
                 hermitian=hermitian, **extra)


@implements(LA.lstsq)
def lstsq(a, b, rcond=NOVALUE):
    # no rcond: numpy's own default, which differs between numpy 1 and 2
    return _rule("lstsq", (a, b), **({} if rcond is NOVALUE else {"rcond": _value(rcond)}))


@implements(LA.matrix_power)
def matrix_power(a, n):
    return _rule("matrix_power", (a,), n=n)


@implements(LA.multi_dot)
def multi_dot(arrays, *, out=None):
    no_out(LA.multi_dot, out)
    arrays = list(arrays)
    if len(arrays) < 2:
        raise ValueError("numpy.linalg.multi_dot: expecting at least two arrays.")
    if len(arrays) == 2:
        return _p.dot(arrays[0], arrays[1])          # numpy: two arrays are np.dot's, any ndim
    for i, a in enumerate(arrays):
        if ndim(a) != 2 and not (ndim(a) == 1 and i in (0, len(arrays) - 1)):
            raise LA.LinAlgError(f"numpy.linalg.multi_dot: {ndim(a)}-dimensional array "
                                 "given. Array must be two-dimensional")
    return _rule("multi_dot", arrays)


@implements(getattr(LA, "tensorinv", None))
def tensorinv(a, ind=2):
    """numpy's reshapes around inv."""
    if ind <= 0:
        raise ValueError("numpy.linalg.tensorinv: invalid ind argument (must be positive)")
    old = shape(a)
    ia = inv(_m.reshape(a, (int(np.prod(old[ind:])), -1)))
    return _m.reshape(ia, old[ind:] + old[:ind])


@implements(getattr(LA, "tensorsolve", None))
def tensorsolve(a, b, axes=None):
    """numpy's transpose and reshapes around solve."""
    an = ndim(a)
    if axes is not None:
        order = list(range(an))
        for k in axes:
            order.remove(k)
            order.insert(an, k)
        a = _m.transpose(a, order)
    old = shape(a)[-(an - ndim(b)):]
    prod = int(np.prod(old))
    if int(np.prod(shape(a))) != prod ** 2:
        raise LA.LinAlgError("numpy.linalg.tensorsolve: input arrays must satisfy the "
                             "requirement prod(a.shape[b.ndim:]) == prod(a.shape[:b.ndim])")
    return _m.reshape(solve(_m.reshape(a, (prod, prod)), _m.ravel(b)), old)


@implements(LA.eig)
def eig(a):
    return _rule("eig", (a,))


@implements(LA.eigvals)
def eigvals(a):
    return _rule("eigvals", (a,))


# ---- norms, condition number, rank ------------------------------------------------------------

@implements(LA.norm)
def norm(x, ord=None, axis=None, keepdims=False):
    return _rule("norm", (x,), ord=ord, axis=axis, keepdims=keepdims)


@implements(getattr(LA, "vector_norm", None))
def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    return _rule("vector_norm", (x,), axis=axis, keepdims=keepdims, ord=ord)


@implements(getattr(LA, "matrix_norm", None))
def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    return _rule("matrix_norm", (x,), keepdims=keepdims, ord=ord)


@implements(LA.cond)
def cond(x, p=None):
    return _rule("cond", (x,), p=p)


@implements(LA.matrix_rank)
def matrix_rank(A, tol=None, hermitian=False, *, rtol=None):
    """An integer: numpy's, on the values (a dual tol or rtol is a cutoff, not a variable)."""
    extra = {} if rtol is None else {"rtol": _value(rtol)}
    return LA.matrix_rank(_value(A), tol=_value(tol),
                          hermitian=hermitian, **extra)


# ---- the array-API names: linear maps and products --------------------------------------------

@implements(getattr(LA, "matmul", None))
def matmul(x1, x2, /):
    return _p.matmul(x1, x2)


@implements(getattr(LA, "tensordot", None))
def tensordot(x1, x2, /, *, axes=2):
    return _p.tensordot(x1, x2, axes)


@implements(getattr(LA, "outer", None))
def outer(x1, x2, /):
    if ndim(x1) != 1 or ndim(x2) != 1:
        raise ValueError("numpy.linalg.outer: input arrays must be one-dimensional, but they "
                         f"are x1.ndim={ndim(x1)} and x2.ndim={ndim(x2)}")
    return _p.outer(x1, x2)


@implements(getattr(LA, "trace", None))
def trace(x, /, *, offset=0, dtype=None):
    if not any(dtype is f or dtype == f for f in _FLOAT):
        raise TypeError(f"numpy.linalg.trace(..., dtype={dtype!r}) is not supported on dual "
                        "values (they are float64): drop dtype=")
    return _m.trace(x, offset, -2, -1)


@implements(getattr(LA, "diagonal", None))
def diagonal(x, /, *, offset=0):
    return _m.diagonal(x, offset, -2, -1)


@implements(getattr(LA, "matrix_transpose", None))
def matrix_transpose(x, /):
    return _m.matrix_transpose(x)


@implements(getattr(LA, "vecdot", None))
def vecdot(x1, x2, /, *, axis=-1):
    """sum(x1 * x2) over each operand's own `axis`, the rest broadcast (numpy's gufunc)."""
    a1, a2 = axis1(axis, ndim(x1)), axis1(axis, ndim(x2))
    if shape(x1)[a1] != shape(x2)[a2]:
        raise ValueError(f"numpy.linalg.vecdot: the vectors have {shape(x1)[a1]} and "
                         f"{shape(x2)[a2]} elements along axis {axis}")
    return sum_(_m.moveaxis(x1, a1, -1) * _m.moveaxis(x2, a2, -1), axis=-1)


@implements(getattr(LA, "cross", None))
def linalg_cross(x1, x2, /, *, axis=-1):
    n1, n2 = shape(x1)[axis1(axis, ndim(x1))], shape(x2)[axis1(axis, ndim(x2))]
    if n1 != 3 or n2 != 3:
        raise ValueError("numpy.linalg.cross: both input arrays must be (arrays of) "
                         f"3-dimensional vectors, but they are {n1} and {n2} dimensional")
    return cross(x1, x2, axis=axis)


@implements(np.cross)
def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """numpy.cross component by component (products of the operands' entries), numpy's
    formulas and 2-vector rules included."""
    if axis is not None:
        axisa, axisb, axisc = (axis,) * 3
    if ndim(a) < 1 or ndim(b) < 1:
        raise ValueError("numpy.cross: at least one array has zero dimension")
    a = _m.moveaxis(a, axis1(axisa, ndim(a)), -1)
    b = _m.moveaxis(b, axis1(axisb, ndim(b)), -1)
    na, nb = shape(a)[-1], shape(b)[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError("numpy.cross: incompatible dimensions for cross product (dimension "
                         "must be 2 or 3)")
    if na == 2 or nb == 2:
        warnings.warn("Arrays of 2-dimensional vectors are deprecated. Use arrays of "
                      "3-dimensional vectors instead. (deprecated in NumPy 2.0)",
                      DeprecationWarning, stacklevel=3)
    a0, a1, b0, b1 = a[..., 0], a[..., 1], b[..., 0], b[..., 1]
    c2 = a0 * b1 - a1 * b0
    if na == 2 and nb == 2:
        return c2
    if na == 2:                                      # a2 = 0
        b2 = b[..., 2]
        c0, c1 = a1 * b2, -(a0 * b2)
    elif nb == 2:                                    # b2 = 0
        a2 = a[..., 2]
        c0, c1 = -(a2 * b1), a2 * b0
    else:
        a2, b2 = a[..., 2], b[..., 2]
        c0, c1 = a1 * b2 - a2 * b1, a2 * b0 - a0 * b2
    out = _m.stack([c0, c1, c2], axis=-1)
    return _m.moveaxis(out, -1, axis1(axisc, ndim(out)))
