"""Shape, indexing and joining functions of numpy on dual arrays.

Every function here is a linear map of its array arguments, so its derivative is the same map
applied to each tangent part (_arrays.linear for one operand, _arrays.join for several): exact
at every order by construction. A map receives `(array, nd)` where the array carries `nd`
trailing direction axes (0 for the value) that it must leave in place.
"""
import operator

import numpy as np

from dualdiff import _arrays
from dualdiff._numpy import (NOVALUE, axes, axis1, float64_only, implements, ndim, no_out,
                             qualname, refuse)
from dualdiff._numpy import shape as shape_of

linear = _arrays.linear
join = _arrays.join


def _dual_or_plain(a, plain_fn):
    """Handlers run for constants too (a dual elsewhere among the arguments): plain numpy."""
    return plain_fn(_arrays.const(a))


# ---- one array ---------------------------------------------------------------------------

@implements(np.reshape)
def reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    if newshape is not None:
        if shape is not None:
            raise TypeError("reshape() got both shape and newshape")
        shape = newshape
    if shape is None:
        raise TypeError("reshape() missing the shape argument")
    if order not in ("C", "F", "A"):
        raise ValueError(f"reshape: order must be 'C', 'F' or 'A', got {order!r}")
    _layout_free(np.reshape, a, order)
    # resolves -1 and checks the size (the method: np.reshape's dispatch costs ~1 us)
    new = np.asarray(_arrays.value_of(a)).reshape(shape).shape
    if order == "F":
        # F order on the value axes only: reverse them, reshape in C order, reverse back
        def fn(arr, nd):
            lead = arr.ndim - nd
            rev = tuple(range(lead))[::-1] + tuple(range(lead, arr.ndim))
            r = np.transpose(arr, rev).reshape(new[::-1] + arr.shape[lead:])
            back = tuple(range(len(new)))[::-1] + tuple(range(len(new), r.ndim))
            return np.transpose(r, back)
        return linear(a, fn)
    return linear(a, lambda arr, nd: arr.reshape(new + arr.shape[arr.ndim - nd:]))


@implements(np.ravel)
def ravel(a, order="C"):
    if order not in ("C", "F", "A", "K"):
        raise ValueError(f"ravel: order must be one of 'C', 'F', 'A' or 'K', got {order!r}")
    _layout_free(np.ravel, a, order)
    return reshape(a, (-1,), order="C" if order in ("A", "K") else order)


def _layout_free(func, a, order):
    """order='A' and 'K' follow the memory layout of the array, and a dual array keeps none
    (inputs are copied to C order, x.T is a new array): with two or more axes numpy's answer
    for the caller's array may differ from C order, so refuse rather than guess."""
    if order in ("A", "K") and ndim(a) >= 2 and _arrays.lift(a) is not None:
        raise TypeError(f"{qualname(func)}(..., order={order!r}) follows the memory layout of "
                        "the array, which a dual array does not keep: give order='C' (row "
                        "major) or order='F' (column major)")


@implements(np.transpose, getattr(np, "permute_dims", None))
def transpose(a, axes_=None, **kw):
    ax = kw.pop("axes", axes_)
    refuse(np.transpose, **kw)
    n = ndim(a)
    ax = tuple(range(n))[::-1] if ax is None else tuple(axis1(i, n) for i in ax)
    if sorted(ax) != list(range(n)):
        raise ValueError("transpose: axes don't match array")
    return linear(a, lambda arr, nd: arr.transpose(ax + tuple(range(n, n + nd))))


@implements(getattr(np, "matrix_transpose", None))
def matrix_transpose(x):
    if ndim(x) < 2:
        raise ValueError("matrix_transpose needs an array of at least 2 dimensions")
    return swapaxes(x, -1, -2)


@implements(np.swapaxes)
def swapaxes(a, axis1_, axis2):
    n = ndim(a)
    i, j = axis1(axis1_, n), axis1(axis2, n)
    return linear(a, lambda arr, nd: np.swapaxes(arr, i, j))


@implements(np.moveaxis)
def moveaxis(a, source, destination):
    n = ndim(a)
    src = axes(source, n, np.moveaxis)
    dst = axes(destination, n, np.moveaxis)
    if len(src) != len(dst):
        raise ValueError("moveaxis: source and destination must have the same number of elements")
    return linear(a, lambda arr, nd: np.moveaxis(arr, src, dst))


@implements(np.rollaxis)
def rollaxis(a, axis, start=0):
    n = ndim(a)
    ax = axis1(axis, n)
    if not -n <= start <= n:
        raise np.exceptions.AxisError(start, n + 1)
    start = start % (n + 1) if start < 0 else start
    order = [i for i in range(n) if i != ax]
    order.insert(start - (1 if ax < start else 0), ax)
    return transpose(a, tuple(order))


@implements(np.squeeze)
def squeeze(a, axis=None):
    shp, n = shape_of(a), ndim(a)
    ax = tuple(i for i in range(n) if shp[i] == 1) if axis is None else axes(axis, n, np.squeeze)
    if any(shp[i] != 1 for i in ax):
        raise ValueError("cannot select an axis to squeeze out which has size not equal to one")
    return linear(a, lambda arr, nd: np.squeeze(arr, axis=ax))


@implements(np.expand_dims)
def expand_dims(a, axis):
    n = ndim(a) + (len(axis) if isinstance(axis, tuple) else 1)
    ax = axes(axis, n, np.expand_dims)
    return linear(a, lambda arr, nd: np.expand_dims(arr, ax))


def _atleast(arys, n, plain):
    res = []
    for a in arys:
        d = _arrays.lift(a)
        if d is None and not isinstance(a, _arrays.DualArray):
            res.append(plain(a))
            continue
        a = a if d is None else d           # lists holding dual numbers: one dual array
        shp = shape_of(a)
        if len(shp) >= n:
            res.append(a)
        elif n == 1:
            res.append(reshape(a, (1,)))
        elif n == 2:
            res.append(reshape(a, (1,) * (2 - len(shp)) + shp))
        else:   # numpy: 0-d -> (1,1,1), (N,) -> (1,N,1), (M,N) -> (M,N,1)
            res.append(reshape(a, (1, 1, 1) if not shp else (1, shp[0], 1) if len(shp) == 1
                               else shp + (1,)))
    return res[0] if len(res) == 1 else tuple(res)


@implements(np.atleast_1d)
def atleast_1d(*arys):
    return _atleast(arys, 1, np.atleast_1d)


@implements(np.atleast_2d)
def atleast_2d(*arys):
    return _atleast(arys, 2, np.atleast_2d)


@implements(np.atleast_3d)
def atleast_3d(*arys):
    return _atleast(arys, 3, np.atleast_3d)


@implements(np.broadcast_to)
def broadcast_to(array, shape_, subok=False, **kw):
    shp = kw.pop("shape", shape_)
    refuse(np.broadcast_to, **kw)
    shp = (shp,) if isinstance(shp, (int, np.integer)) else tuple(shp)
    np.broadcast_to(_arrays.value_of(array), shp)                 # numpy's shape errors
    return linear(array, lambda arr, nd: np.broadcast_to(arr, shp + arr.shape[arr.ndim - nd:]))


@implements(np.flip)
def flip(m, axis=None):
    ax = axes(axis, ndim(m), np.flip)
    return linear(m, lambda arr, nd: np.flip(arr, ax))


@implements(np.fliplr)
def fliplr(m):
    if ndim(m) < 2:
        raise ValueError("fliplr: input must be >= 2-d")
    return flip(m, 1)


@implements(np.flipud)
def flipud(m):
    if ndim(m) < 1:
        raise ValueError("flipud: input must be >= 1-d")
    return flip(m, 0)


@implements(np.rot90)
def rot90(m, k=1, axes=(0, 1)):
    n = ndim(m)
    i, j = axis1(axes[0], n), axis1(axes[1], n)
    return linear(m, lambda arr, nd: np.rot90(arr, k, (i, j)))


def _shift(func):
    normalise = axes

    def handler(x, axes=None):
        n = ndim(x)
        # negative axes count from the value's last axis, not the tangents'
        ax = tuple(range(n)) if axes is None else normalise(axes, n, func)
        return linear(x, lambda arr, nd: func(arr, ax))
    handler.__name__ = handler.__qualname__ = func.__name__
    handler.__doc__ = f"numpy.fft.{func.__name__}: a roll of the value axes."
    return handler


fftshift = implements(np.fft.fftshift)(_shift(np.fft.fftshift))
ifftshift = implements(np.fft.ifftshift)(_shift(np.fft.ifftshift))


@implements(np.diag_indices_from)
def diag_indices_from(arr):
    """Indices from the shape alone: numpy's on the values."""
    return np.diag_indices_from(np.asarray(_arrays.value_of(arr)))


@implements(np.tril_indices_from)
def tril_indices_from(arr, k=0):
    return np.tril_indices_from(np.asarray(_arrays.value_of(arr)), k)


@implements(np.triu_indices_from)
def triu_indices_from(arr, k=0):
    return np.triu_indices_from(np.asarray(_arrays.value_of(arr)), k)


@implements(np.roll)
def roll(a, shift, axis=None):
    if axis is None:
        return reshape(roll(ravel(a), shift, 0), shape_of(a))
    ax = axes(axis, ndim(a), np.roll)
    return linear(a, lambda arr, nd: np.roll(arr, shift, ax if len(ax) > 1 else ax[0]))


@implements(np.take)
def take(a, indices, axis=None, out=None, mode="raise"):
    no_out(np.take, out)
    if axis is None:
        return take(ravel(a), indices, 0, mode=mode)
    ax = axis1(axis, ndim(a))
    idx = _index_array(indices, np.take)
    return linear(a, lambda arr, nd: np.take(arr, idx, axis=ax, mode=mode))


@implements(np.take_along_axis)
def take_along_axis(arr, indices, axis=-1):
    idx = _index_array(indices, np.take_along_axis)
    if axis is None:
        return take_along_axis(ravel(arr), idx.ravel(), 0)
    ax = axis1(axis, ndim(arr))

    def fn(a, nd):
        i = idx.reshape(idx.shape + (1,) * nd)
        return np.take_along_axis(a, i, axis=ax)
    return linear(arr, fn)


@implements(np.lib.stride_tricks.sliding_window_view)
def sliding_window_view(x, window_shape, axis=None, *, subok=False, writeable=False):
    """numpy's windows of the values and of the tangents (the window axes, which numpy puts
    last, moved in front of the tangent axes), as a copy: a dual array owns its values."""
    if writeable:
        raise TypeError("numpy.lib.stride_tricks.sliding_window_view: writeable=True on dual "
                        "values: their windows are a copy, so writing to them would not reach "
                        "x; build the array you need with np.stack or np.where instead")
    n = ndim(x)
    window = (tuple(window_shape) if np.iterable(window_shape)
              else (operator.index(window_shape),))
    if axis is None:
        if len(window) != n:
            raise ValueError(f"Since axis is `None`, must provide window_shape for all "
                             f"dimensions of `x`; got {len(window)} window_shape elements and "
                             f"`x.ndim` is {n}.")
        ax = tuple(range(n))
    else:
        ax = tuple(np.lib.array_utils.normalize_axis_index(a, n)
                   for a in (axis if np.iterable(axis) else (axis,)))
        if len(window) != len(ax):
            raise ValueError(f"Must provide matching length window_shape and axis; got "
                             f"{len(window)} window_shape elements and {len(ax)} axes "
                             "elements.")

    def fn(arr, nd):
        v = np.lib.stride_tricks.sliding_window_view(arr, window, ax)
        k = tuple(range(n, n + nd))
        return np.array(np.moveaxis(v, k, tuple(range(v.ndim - nd, v.ndim))))
    return linear(x, fn)


def _index_array(indices, func):
    """Integer indices as an array; a dual value cannot index (it has no integer value)."""
    if isinstance(indices, _arrays.DualArray) or _arrays.lift(indices) is not None:
        raise TypeError(f"{qualname(func)}: indices must be integers, not dual values")
    idx = np.asarray(indices)
    if idx.dtype.kind not in "iub" and idx.size:
        raise TypeError(f"{qualname(func)}: indices must be integers, not {idx.dtype}")
    return idx if idx.size else idx.astype(np.intp)


@implements(np.repeat)
def repeat(a, repeats, axis=None):
    if axis is None:
        return repeat(ravel(a), repeats, 0)
    ax = axis1(axis, ndim(a))
    return linear(a, lambda arr, nd: np.repeat(arr, repeats, axis=ax))


@implements(np.tile)
def tile(A, reps):
    reps = (reps,) if isinstance(reps, (int, np.integer)) else tuple(reps)
    n = max(ndim(A), len(reps))
    A = reshape(A, (1,) * (n - ndim(A)) + shape_of(A))
    reps = (1,) * (n - len(reps)) + reps
    return linear(A, lambda arr, nd: np.tile(arr, reps + (1,) * nd))


@implements(np.diagonal)
def diagonal(a, offset=0, axis1_=0, axis2=1, **kw):
    ax1 = kw.pop("axis1", axis1_)
    refuse(np.diagonal, **kw)
    n = ndim(a)
    if n < 2:
        raise ValueError("diagonal requires an array of at least two dimensions")
    i, j = axis1(ax1, n), axis1(axis2, n)
    if i == j:
        raise ValueError("axis1 and axis2 cannot be the same")
    # numpy puts the diagonal last; it goes in front of the direction axes
    return linear(a, lambda arr, nd: np.moveaxis(np.diagonal(arr, offset, i, j), -1,
                                                 arr.ndim - nd - 2))


@implements(np.trace)
def trace(a, offset=0, axis1_=0, axis2=1, dtype=None, out=None, **kw):
    ax1 = kw.pop("axis1", axis1_)
    refuse(np.trace, **kw)
    no_out(np.trace, out)
    float64_only(np.trace, dtype)
    from dualdiff._numpy.reductions import sum_
    return sum_(diagonal(a, offset, ax1, axis2), axis=-1)


@implements(np.diag)
def diag(v, k=0):
    n = ndim(v)
    if n == 2:
        return diagonal(v, k)
    if n != 1:
        raise ValueError("diag: input must be 1-d or 2-d")
    m = shape_of(v)[0]
    size = m + abs(k)
    idx = np.arange(m)

    def build(arr, nd):
        out = np.zeros((size, size) + arr.shape[1:])
        out[idx + max(-k, 0), idx + max(k, 0)] = arr
        return out
    return linear(v, build)


@implements(np.diagflat)
def diagflat(v, k=0):
    return diag(ravel(v), k)


@implements(np.tril)
def tril(m, k=0):
    return _triangle(m, k, np.tril)


@implements(np.triu)
def triu(m, k=0):
    return _triangle(m, k, np.triu)


def _triangle(m, k, which):
    shp = shape_of(m)
    if len(shp) < 2:
        return which(_arrays.value_of(m), k) if _arrays.lift(m) is None else \
            _triangle(broadcast_to(m, (shp[0] if shp else 1,) * 2), k, which)
    mask = which(np.ones(shp[-2:], dtype=bool), k)

    def fn(arr, nd):
        return np.where(mask.reshape(mask.shape + (1,) * nd), arr, 0.0)
    return linear(m, fn)


# ---- values only: results that carry no derivative, and the dtype-free helpers ----------

@implements(np.shape)
def shape_(a):
    return shape_of(a)


@implements(np.ndim)
def ndim_(a):
    return ndim(a)


@implements(np.size)
def size_(a, axis=None):
    s = shape_of(a)
    return int(np.prod(s)) if axis is None else s[axis]


@implements(np.copy)
def copy_(a, order="K", subok=False):
    return a


@implements(np.real, np.conj, np.conjugate, np.real_if_close)
def real(val, *args, **kwargs):
    """Dual values are real: np.real, np.conj and np.real_if_close are the identity."""
    return val


@implements(np.imag)
def imag(val):
    """The imaginary part of a real dual value: zero, with zero derivative."""
    return np.zeros(shape_of(val))


@implements(np.angle)
def angle(z, deg=False):
    """The angle of a real number: 0 or pi (a constant, derivative 0), as numpy."""
    return np.angle(_arrays.value_of(z), deg)


def _like_const(fill, func):
    def handler(a, dtype=None, order="K", subok=True, shape=None, **kw):
        refuse(func, **{k: v for k, v in kw.items() if k != "device"})
        return np.full(shape_of(a) if shape is None else shape, fill,
                       dtype=dtype or np.float64)
    return handler


implements(np.zeros_like)(_like_const(0.0, np.zeros_like))
implements(np.ones_like)(_like_const(1.0, np.ones_like))
implements(np.empty_like)(_like_const(0.0, np.empty_like))


@implements(np.full_like)
def full_like(a, fill_value, dtype=None, order="K", subok=True, shape_=None, **kw):
    shp = kw.pop("shape", shape_)
    if _arrays.lift(fill_value) is not None:
        return broadcast_to(fill_value, shape_of(a) if shp is None else shp)
    # a fill without tangent rows (outside the chunk) fills with its values; constants.py
    # keeps the result rowless, as a seeded fill's result is dual
    return np.full(shape_of(a) if shp is None else shp, _arrays.value_of(fill_value),
                   dtype=dtype or np.float64)


# ---- several arrays --------------------------------------------------------------------

def _joined(func, arrays, axis, out, extra):
    """concatenate (extra 0) or stack (extra 1) of arrays along axis, each part alike."""
    no_out(func, out)
    arrays = list(arrays)
    if not arrays:
        raise ValueError(f"need at least one array to {func.__name__}")
    ax = axis1(axis, ndim(arrays[0]) + extra)
    return join(arrays, lambda arrs, nd: func(arrs, axis=ax))


@implements(np.concatenate)
def concatenate(arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    float64_only(np.concatenate, dtype)
    if axis is None:
        return concatenate([ravel(a) for a in arrays], 0, out)
    return _joined(np.concatenate, arrays, axis, out, 0)


@implements(np.stack)
def stack(arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    float64_only(np.stack, dtype)
    return _joined(np.stack, arrays, axis, out, 1)


@implements(np.hstack)
def hstack(tup, dtype=None, casting="same_kind"):
    float64_only(np.hstack, dtype)
    arrs = [atleast_1d(a) for a in tup]
    return concatenate(arrs, 0 if ndim(arrs[0]) == 1 else 1)


@implements(np.vstack, getattr(np, "row_stack", None))
def vstack(tup, dtype=None, casting="same_kind"):
    float64_only(np.vstack, dtype)
    return concatenate([atleast_2d(a) for a in tup], 0)


@implements(np.dstack)
def dstack(tup):
    return concatenate([atleast_3d(a) for a in tup], 2)


@implements(np.column_stack)
def column_stack(tup):
    return concatenate([reshape(a, (-1, 1)) if ndim(a) < 2 else a for a in tup], 1)


@implements(np.where)
def where(condition, x=NOVALUE, y=NOVALUE):
    if x is NOVALUE and y is NOVALUE:
        return np.where(_arrays.value_of(condition))
    if x is NOVALUE or y is NOVALUE:
        raise ValueError("either both or neither of x and y should be given")
    cond = np.asarray(_arrays.value_of(condition), dtype=bool)
    sx, sy = shape_of(x), shape_of(y)
    if not cond.shape == sx == sy:
        np.broadcast_shapes(cond.shape, sx, sy)        # numpy's error when they do not
    # no operand is broadcast by hand: the direction axes trail, so np.where's own
    # broadcasting of the value axes (aligned from the right) is the same for every part
    return join([x, y], lambda arrs, nd: np.where(cond.reshape(cond.shape + (1,) * nd)
                                                  if nd else cond, arrs[0], arrs[1]))
