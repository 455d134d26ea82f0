"""Arrays cut apart, extended and selected from, on dual values: split, array_split, hsplit,
vsplit, dsplit, unstack, pad, append, insert, delete, resize, compress, extract, choose,
trim_zeros.

Each is a linear map of its array arguments (a rearrangement, with constants or copies added),
so the derivative is the same map applied to every tangent part: exact at every order. Where
numpy's own rules for an argument are intricate (the index forms of insert and delete, the
broadcasting of resize), numpy itself decides: the function is run on an array of element
labels, and the result gathers the dual elements those labels name.
"""
import numpy as np

from dualdiff import _arrays
from dualdiff._numpy import axis1, implements, ndim, qualname, shape
from dualdiff._numpy.manipulation import concatenate, moveaxis, ravel, reshape, take, where


def _integers(x, func, what):
    if _arrays.lift(x) is not None or isinstance(x, _arrays.DualArray):
        raise TypeError(f"{qualname(func)}: {what} must be integers, not dual values")
    return x


# ---- split -------------------------------------------------------------------------------

def _split(ary, indices_or_sections, axis, func, equal):
    _integers(indices_or_sections, func, "indices_or_sections")
    ax = axis1(axis, ndim(ary))
    cut = np.split if equal else np.array_split
    # numpy splits the positions 0..n-1 (its errors for unequal divisions included); every
    # piece is a contiguous run of them, i.e. a slice
    pieces = cut(np.arange(shape(ary)[ax]), indices_or_sections)
    lead = (slice(None),) * ax
    return [ary[lead + (slice(int(p[0]), int(p[-1]) + 1) if p.size else slice(0, 0),)]
            for p in pieces]


@implements(np.split)
def split(ary, indices_or_sections, axis=0):
    return _split(ary, indices_or_sections, axis, np.split, True)


@implements(np.array_split)
def array_split(ary, indices_or_sections, axis=0):
    return _split(ary, indices_or_sections, axis, np.array_split, False)


@implements(np.hsplit)
def hsplit(ary, indices_or_sections):
    if ndim(ary) == 0:
        raise ValueError("hsplit only works on arrays of 1 or more dimensions")
    return split(ary, indices_or_sections, 1 if ndim(ary) > 1 else 0)


@implements(np.vsplit)
def vsplit(ary, indices_or_sections):
    if ndim(ary) < 2:
        raise ValueError("vsplit only works on arrays of 2 or more dimensions")
    return split(ary, indices_or_sections, 0)


@implements(np.dsplit)
def dsplit(ary, indices_or_sections):
    if ndim(ary) < 3:
        raise ValueError("dsplit only works on arrays of 3 or more dimensions")
    return split(ary, indices_or_sections, 2)


@implements(getattr(np, "unstack", None))
def unstack(x, /, *, axis=0):
    if ndim(x) == 0:
        raise ValueError("Input array must be at least 1-d.")
    y = moveaxis(x, axis1(axis, ndim(x)), 0)
    return tuple(y[i] for i in range(shape(y)[0]))


# ---- pad ---------------------------------------------------------------------------------

# modes whose padding is a linear function of the array (the tangents are padded the same way,
# with the constants' derivative for the constants); maximum/minimum/median select elements by
# their values and callables are arbitrary: those are refused
_PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap", "linear_ramp", "mean", "empty")


def _pad_linear(x, pad_width, mode, value_kw, tangent_kw, tangent_mode=None):
    """x padded with `mode` (keywords value_kw) and each tangent direction padded with
    tangent_mode (default: mode; keywords tangent_kw), one direction at a time."""
    tmode = mode if tangent_mode is None else tangent_mode

    def fn(arr, nd):
        if nd == 0:
            return np.pad(arr, pad_width, mode, **value_kw)
        lead = arr.shape[:arr.ndim - nd]
        flat = arr.reshape(lead + (-1,))
        out = np.stack([np.pad(flat[..., j], pad_width, tmode, **tangent_kw)
                        for j in range(flat.shape[-1])], axis=-1)
        return out.reshape(out.shape[:-1] + arr.shape[arr.ndim - nd:])
    return _arrays.linear(x, fn)


def _pairs_of_slots(values, nd):
    """numpy's _as_pairs for a constant_values that holds dual numbers: the (axis, side) slots
    as flat indices into `values`."""
    ids = np.arange(int(np.prod(shape(values)))).reshape(shape(values))
    if ids.ndim < 3:
        if ids.size == 1:
            return [[0, 0]] * nd
        if ids.size == 2 and ids.shape != (2, 1):
            return [[0, 1]] * nd
    return np.broadcast_to(ids, (nd, 2)).tolist()


def _flat_items(values):
    """values (a dual array, dual scalar or a nested list holding dual numbers) as a flat
    list of scalars."""
    if isinstance(values, (list, tuple)):
        box = np.empty(np.shape(np.array(values, dtype=object)), dtype=object)
        box[...] = values
        return list(box.ravel())
    d = ravel(values)
    return [d[i] for i in range(shape(d)[0])]


@implements(np.pad)
def pad(array, pad_width, mode="constant", **kwargs):
    """np.pad of a dual array, with constant or dual constant_values. The modes that are
    linear in the array are served: constant, edge, reflect, symmetric, wrap, linear_ramp,
    mean, empty (its undefined padding has derivative 0). numpy hands np.pad to dual arrays
    only when its first argument is one: a plain array with a dual constant_values stays in
    numpy, which refuses to store the dual (TypeError: float() of a dual)."""
    _integers(pad_width, np.pad, "pad_width")
    if callable(mode) or mode not in _PAD_MODES:
        raise TypeError(f"numpy.pad(mode={mode!r}) is not supported on dual values (it is not "
                        f"linear in the array); use one of {', '.join(_PAD_MODES)}")
    nd = ndim(array)
    value_kw = dict(kwargs)
    tangent_kw = dict(kwargs)
    dual_constants = None
    if mode == "constant":
        cv = kwargs.get("constant_values", 0)
        holds = isinstance(cv, (list, tuple)) and np.array(cv, dtype=object).dtype == object \
            and any(_arrays.lift(e) is not None for e in _flat_items(cv))
        if _arrays.lift(cv) is not None or holds:
            items = _flat_items(cv)
            value_kw["constant_values"] = np.array(
                [np.asarray(_arrays.value_of(e), dtype=np.float64) for e in items]
            ).reshape(shape(cv) if not isinstance(cv, (list, tuple)) else
                      np.shape(np.array(cv, dtype=object)))
            dual_constants = (items, _pairs_of_slots(value_kw["constant_values"], nd))
        tangent_kw["constant_values"] = 0
    elif mode == "linear_ramp":
        ev = kwargs.get("end_values", 0)
        if _arrays.lift(ev) is not None or isinstance(ev, _arrays.DualArray):
            raise TypeError("numpy.pad(mode='linear_ramp'): end_values must be constants on "
                            "dual arrays; pad with mode='constant' and a dual constant_values "
                            "instead")
        tangent_kw["end_values"] = 0
    elif mode == "empty":
        # numpy leaves the padding undefined; its derivative is 0
        return _pad_linear(array, pad_width, mode, value_kw, {}, "constant")
    out = _pad_linear(array, pad_width, mode, value_kw, tangent_kw)
    if dual_constants is not None:
        items, slots = dual_constants
        base = np.zeros(shape(array))
        for i in range(nd):
            for side in range(2):
                c = items[slots[i][side]]
                if _arrays.lift(c) is None:
                    continue
                onehot = np.zeros((nd, 2))
                onehot[i, side] = 1.0
                mask = np.pad(base, pad_width, "constant", constant_values=onehot) != 0
                if mask.any():
                    out = where(mask, c, out)
    return out


# ---- append, insert, delete, resize --------------------------------------------------------

@implements(np.append)
def append(arr, values, axis=None):
    if axis is None:
        if ndim(arr) != 1:
            arr = ravel(arr)
        return concatenate((arr, ravel(values)), axis=0)
    return concatenate((arr, values), axis=axis)


def _labelled(func, arr, *rest, values=None, **kw):
    """func run by numpy on the labels 0..size-1 of arr's elements (and size.. of values'),
    then the dual elements gathered by label: numpy decides every index rule."""
    n = int(np.prod(shape(arr)))
    labels = np.arange(n, dtype=np.intp).reshape(shape(arr))
    if values is None:
        picked = func(labels, *rest, **kw)
        return take(ravel(arr), picked) if n else reshape(arr, np.shape(picked))
    m = int(np.prod(shape(values)))
    vlabels = n + np.arange(m, dtype=np.intp).reshape(shape(values))
    picked = func(labels, rest[0], vlabels, **kw)
    return take(concatenate([ravel(arr), ravel(values)], 0), picked)


@implements(np.insert)
def insert(arr, obj, values, axis=None):
    _integers(obj, np.insert, "obj (the insertion indices)")
    return _labelled(np.insert, arr, obj, values=values, axis=axis)


@implements(np.delete)
def delete(arr, obj, axis=None):
    _integers(obj, np.delete, "obj (the indices to delete)")
    return _labelled(np.delete, arr, obj, axis=axis)


@implements(np.resize)
def resize(a, new_shape):
    _integers(new_shape, np.resize, "new_shape")
    return _labelled(np.resize, a, new_shape)


# ---- selections by conditions and indices ----------------------------------------------------

def _condition(condition, func):
    if _arrays.lift(condition) is not None or isinstance(condition, _arrays.DualArray):
        raise TypeError(f"{qualname(func)}: the condition must be booleans (such as x > 0), "
                        "not dual values")
    return np.asarray(condition)


@implements(np.compress)
def compress(condition, a, axis=None, out=None):
    if out is not None:
        raise TypeError("numpy.compress(..., out=...) cannot store dual values: use the "
                        "returned result instead")
    return _labelled(lambda labels: np.compress(_condition(condition, np.compress), labels,
                                                axis=axis), a)


@implements(np.extract)
def extract(condition, arr):
    return _labelled(lambda labels: np.extract(_condition(condition, np.extract), labels), arr)


@implements(np.choose)
def choose(a, choices, out=None, mode="raise"):
    """choices[a[i]][i] element by element: a gather from the stacked choices (a must be
    integers)."""
    if out is not None:
        raise TypeError("numpy.choose(..., out=...) cannot store dual values: use the returned "
                        "result instead")
    idx = np.asarray(_integers(a, np.choose, "a (the choice indices)"))
    choices = list(choices)
    shp = np.broadcast_shapes(idx.shape, *[shape(c) for c in choices])
    offsets = np.cumsum([0] + [int(np.prod(shape(c))) for c in choices])
    labels = [o + np.arange(int(np.prod(shape(c)))).reshape(shape(c))
              for o, c in zip(offsets, choices)]
    picked = np.choose(idx, [np.broadcast_to(lab, shp) for lab in labels], mode=mode)
    return take(concatenate([ravel(c) for c in choices], 0), picked)


# ---- trim_zeros --------------------------------------------------------------------------

@implements(np.trim_zeros)
def trim_zeros(filt, trim="fb", axis=None):
    """numpy's trim_zeros: numpy decides, on the values, which leading and trailing zeros go
    (its checks of trim and axis included), and returns a view of them; the dual result is
    the same slice of filt (np.poly1d(c) calls this on its coefficients)."""
    v = np.ascontiguousarray(_arrays.value_of(filt), dtype=np.float64)
    r = np.trim_zeros(v, trim) if axis is None else np.trim_zeros(v, trim, axis=axis)
    if not np.shares_memory(r, v) and r.size:
        raise TypeError("numpy.trim_zeros returned a copy, not a view, in this numpy: "
                        "slice the array yourself")
    start = [0] * v.ndim
    if r.size:
        offset = (r.__array_interface__["data"][0] - v.__array_interface__["data"][0])
        start = np.unravel_index(offset // v.itemsize, v.shape)
    return filt[tuple(slice(int(b), int(b) + n) for b, n in zip(start, r.shape))]
