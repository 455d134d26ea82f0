"""The NumPy surface of the sparsity tracer: shapes, joins, where, reductions and scans, and
the ufunc table (products and numpy.linalg are in dualdiff/_tracer_products.py).

Every function dual arrays support has a handler here or there (tests/test_sparsity.py
checks the two tables against each other). Selection maps (reshape, transpose, take, flip,
repeat, ...) run numpy's own function on the values and on the element rows, so they accept
exactly numpy's arguments; the rest are written as unions of groups of elements
(dualdiff/_tracer.py) or as compositions of functions that already have handlers.
"""
import functools

import numpy as np

from dualdiff import _tracer as T
from dualdiff._numpy import reductions as _reductions
from dualdiff._numpy import register_cumulative, registrar
from dualdiff._tracer import Tracer, lift, structural, join, value_of

FUNCTIONS = T.FUNCTIONS
UFUNCS = T.UFUNCS
UFUNC_METHODS = T.UFUNC_METHODS
_NOVALUE = np._NoValue


implements = registrar(FUNCTIONS)


def _no_out(func, out):
    if out is not None:
        raise TypeError(f"numpy.{func.__name__}(..., out=...) cannot store traced values: use "
                        "the returned result instead")


def _float_dtype(func, dtype):
    if dtype is not None and np.dtype(dtype) != np.float64:
        raise TypeError(f"numpy.{func.__name__}(..., dtype={dtype!r}) is not supported on "
                        "traced values (they are float64); drop the keyword")


def _axes(axis, nd):
    if axis is None:
        return tuple(range(nd))
    if isinstance(axis, (list, np.ndarray)):
        axis = tuple(axis)
    if not isinstance(axis, tuple):
        axis = (axis,)
    out = []
    for a in axis:
        a = int(a)
        if not -max(nd, 1) <= a < max(nd, 1):
            raise np.exceptions.AxisError(a, nd)
        if nd:
            out.append(a % nd)
    if len(set(out)) != len(out):
        raise ValueError("repeated axis")
    return tuple(out)


# ---- selection maps: numpy's own function on values and rows ------------------------------

def _selection(func, fills=False):
    def handler(a, *args, **kwargs):
        _no_out(func, kwargs.pop("out", None))
        return structural(a, lambda arr: func(arr, *args, **kwargs), fills)
    return handler


for _f in (np.reshape, np.ravel, np.transpose, np.swapaxes, np.moveaxis, np.rollaxis,
           np.squeeze, np.expand_dims, np.broadcast_to, np.flip, np.fliplr, np.flipud, np.rot90,
           np.roll, np.take, np.repeat, np.tile, np.diagonal,
           getattr(np, "matrix_transpose", None), getattr(np, "permute_dims", None),
           getattr(np.linalg, "matrix_transpose", None), getattr(np.linalg, "diagonal", None)):
    if _f is not None:
        implements(_f)(_selection(_f))

for _f in (np.diag, np.diagflat, np.tril, np.triu):
    implements(_f)(_selection(_f, fills=True))


@implements(np.take_along_axis)
def take_along_axis(arr, indices, axis=-1, **kw):
    if lift(indices) is not None:
        raise TypeError("numpy.take_along_axis: indices must be integers, not traced values")
    return structural(arr, lambda a: np.take_along_axis(a, indices, axis, **kw))


def _atleast(func):
    def handler(*arys):
        res = [structural(a, func) if lift(a) is not None else func(np.asarray(a))
               for a in arys]
        return res[0] if len(res) == 1 else tuple(res)
    return handler


for _f in (np.atleast_1d, np.atleast_2d, np.atleast_3d):
    implements(_f)(_atleast(_f))


@implements(np.copy)
def copy(a, order="K", subok=False):
    return a


@implements(np.real, np.conj, np.conjugate, np.real_if_close)
def real(val, *args, **kwargs):
    """Traced values are real: the identity."""
    return val


@implements(np.imag)
def imag(val):
    return np.zeros(np.shape(value_of(val)))


@implements(np.angle)
def angle(z, deg=False):
    return np.angle(value_of(z), deg)


@implements(np.shape)
def shape(a):
    return np.shape(value_of(a))


@implements(np.ndim)
def ndim(a):
    return np.ndim(value_of(a))


@implements(np.size)
def size(a, axis=None):
    return np.size(value_of(a), axis)


def _like(fill, func):
    def handler(a, dtype=None, order="K", subok=True, shape=None, **kw):
        kw.pop("device", None)
        if kw:
            raise TypeError(f"numpy.{func.__name__}(..., {', '.join(kw)}=) is not supported "
                            "on traced values")
        return np.full(np.shape(value_of(a)) if shape is None else shape, fill,
                       dtype=dtype or np.float64)
    return handler


implements(np.zeros_like)(_like(0.0, np.zeros_like))
implements(np.ones_like)(_like(1.0, np.ones_like))
implements(np.empty_like)(_like(0.0, np.empty_like))


@implements(np.full_like)
def full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, **kw):
    shp = np.shape(value_of(a)) if shape is None else shape
    if lift(fill_value) is not None:
        return FUNCTIONS[np.broadcast_to](fill_value, shp)
    return np.full(shp, fill_value, dtype=dtype or np.float64)


# ---- joins ------------------------------------------------------------------------------

def _joining(func):
    def handler(arrays, *args, **kwargs):
        _no_out(func, kwargs.pop("out", None))
        _float_dtype(func, kwargs.pop("dtype", None))
        return join(list(arrays), lambda arrs: func(arrs, *args, **kwargs))
    return handler


for _f in (np.concatenate, np.stack, np.hstack, np.vstack, np.dstack, np.column_stack,
           getattr(np, "row_stack", None)):
    if _f is not None:
        implements(_f)(_joining(_f))


@implements(np.where)
def where(condition, x=_NOVALUE, y=_NOVALUE):
    """np.where with a plain condition. The structure keeps both branches (the pattern of
    any point: the condition usually comes from the values); numeric mode selects."""
    if x is _NOVALUE and y is _NOVALUE:
        return np.where(value_of(condition))
    if x is _NOVALUE or y is _NOVALUE:
        raise ValueError("either both or neither of x and y should be given")
    # a traced condition counts by its values, as a dual one does (the structure keeps both
    # branches anyway)
    cond = np.asarray(value_of(condition), dtype=bool)
    tx, ty = lift(x), lift(y)
    trace = T.common_trace([tx, ty])
    vx = tx.value if tx is not None else T.const(x)
    vy = ty.value if ty is not None else T.const(y)
    value = np.where(cond, vx, vy).astype(np.float64)
    if trace is None:
        return value
    shp = value.shape
    if trace.numeric:
        c = np.broadcast_to(cond, shp)
        return join([_broadcast(x, shp), _broadcast(y, shp)],
                    lambda arrs: np.where(c, arrs[0], arrs[1]))
    if tx is not None and ty is not None and tx is not ty:
        return T._binary(None, [vx, vy], tx, ty, value, "linear", trace)
    t = tx if tx is not None else ty
    return T._unary(None, [], [0], t, value, "linear", trace)


def _broadcast(a, shp):
    t = lift(a)
    if t is None:
        return np.broadcast_to(T.const(a), shp)
    return t if t.shape == shp else structural(t, lambda arr: np.broadcast_to(arr, shp))


# ---- reductions ---------------------------------------------------------------------------

def _masked(a, where_, fill):
    if where_ is _NOVALUE or where_ is True:
        return a
    return where(np.asarray(value_of(where_), dtype=bool), a, fill)


def _plain_kw(initial, where_):
    kw = {}
    if initial is not _NOVALUE:
        kw["initial"] = initial
    if where_ is not _NOVALUE:
        kw["where"] = np.asarray(value_of(where_), dtype=bool)
    return kw


@implements(np.sum)
def sum_(a, axis=None, dtype=None, out=None, keepdims=False, initial=_NOVALUE, where=_NOVALUE):
    _no_out(np.sum, out)
    _float_dtype(np.sum, dtype)
    t = lift(a)
    if t is None:
        return np.sum(T.const(a), axis=axis, keepdims=keepdims, **_plain_kw(initial, where))
    value = np.sum(t.value, axis=axis, keepdims=keepdims, **_plain_kw(initial, where))
    t = _masked(t, where, 0.0)
    return T.reduce_groups(t, _axes(axis, t.ndim), keepdims, value)


@implements(np.mean)
def mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=_NOVALUE):
    _no_out(np.mean, out)
    _float_dtype(np.mean, dtype)
    t = lift(a)
    kw = _plain_kw(_NOVALUE, where)
    if t is None:
        return np.mean(T.const(a), axis=axis, keepdims=keepdims, **kw)
    ax = _axes(axis, t.ndim)
    if where is _NOVALUE or where is True:
        count = float(np.prod([t.shape[i] for i in ax])) if ax else 1.0
    else:
        mask = np.broadcast_to(np.asarray(value_of(where), dtype=bool), t.shape)
        count = np.sum(mask, axis=ax, keepdims=keepdims).astype(np.float64)
    s = sum_(t, ax, keepdims=keepdims, where=where)
    r = s / count
    return _revalue(r, np.mean(t.value, axis=axis, keepdims=keepdims, **kw))


def _revalue(t, value):
    """t with numpy's own value (a composition may round differently)."""
    if type(t) is not Tracer:
        return value
    return T.make(np.asarray(value, dtype=np.float64), t.r1, t.s1, t.c1, t.r2, t.s2, t.c2,
                  t.ctx)


@implements(np.var)
def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=_NOVALUE,
        mean=_NOVALUE, correction=_NOVALUE):
    _no_out(np.var, out)
    _float_dtype(np.var, dtype)
    if mean is not _NOVALUE:
        raise TypeError("numpy.var(..., mean=) is not supported on traced values")
    if correction is not _NOVALUE:
        if ddof != 0:
            raise ValueError("var: ddof and correction can't be provided simultaneously")
        ddof = correction
    t = lift(a)
    kw = _plain_kw(_NOVALUE, where)
    if t is None:
        return np.var(T.const(a), axis=axis, ddof=ddof, keepdims=keepdims, **kw)
    ax = _axes(axis, t.ndim)
    # sum (x - m)^2 - N (mean(x) - m)^2 with m the mean's value (a constant): the same
    # derivatives as var's own formula, without the cancellation of sum x^2 - N mean^2
    m = np.mean(t.value, axis=ax, keepdims=True, **kw)
    d = t - m
    s = sum_(d * d, ax, keepdims=keepdims, where=where)
    e = FUNCTIONS[np.mean](d, ax, keepdims=keepdims, where=where)
    count = _count(t, ax, where, keepdims)
    r = (s - count * (e * e)) / np.maximum(count - ddof, 0.0)
    return _revalue(r, np.var(t.value, axis=axis, ddof=ddof, keepdims=keepdims, **kw))


def _count(t, ax, where_, keepdims):
    if where_ is _NOVALUE or where_ is True:
        return float(np.prod([t.shape[i] for i in ax])) if ax else 1.0
    mask = np.broadcast_to(np.asarray(value_of(where_), dtype=bool), t.shape)
    return np.sum(mask, axis=ax, keepdims=keepdims).astype(np.float64)


@implements(np.std)
def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=_NOVALUE,
        mean=_NOVALUE, correction=_NOVALUE):
    v = var(a, axis, dtype, out, ddof, keepdims, where=where, mean=mean, correction=correction)
    return np.sqrt(v)


@implements(np.prod)
def prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=_NOVALUE, where=_NOVALUE):
    """Pairwise multiplication, as dual arrays do: the product rule's structure."""
    _no_out(np.prod, out)
    _float_dtype(np.prod, dtype)
    t = lift(a)
    kw = _plain_kw(initial, where)
    if t is None:
        return np.prod(T.const(a), axis=axis, keepdims=keepdims, **kw)
    value = np.prod(t.value, axis=axis, keepdims=keepdims, **kw)
    t = _masked(t, where, 1.0)
    ax = _axes(axis, t.ndim)
    rest = tuple(i for i in range(t.ndim) if i not in ax)
    n = int(np.prod([t.shape[i] for i in ax]))
    if n == 0 or np.size(value) == 0:        # an empty product is 1, a constant; or nothing
        return value
    y = FUNCTIONS[np.reshape](FUNCTIONS[np.transpose](t, ax + rest),
                              (n,) + tuple(t.shape[i] for i in rest))
    while y.shape[0] > 1:
        h = y.shape[0] // 2
        z = y[:h] * y[h:2 * h]
        y = FUNCTIONS[np.concatenate]([z, y[2 * h:]], 0) if y.shape[0] % 2 else z
    return _revalue(FUNCTIONS[np.reshape](y, np.shape(value)), value)


def _extreme(pick, a, axis, out, keepdims, initial, where_):
    _no_out(pick, out)
    t = lift(a)
    kw = _plain_kw(initial, where_)
    if t is None:
        return pick(T.const(a), axis=axis, keepdims=keepdims, **kw)
    value = pick(t.value, axis=axis, keepdims=keepdims, **kw)
    ax = _axes(axis, t.ndim)
    weights = None
    if t.ctx.numeric:
        xv = t.value
        if where_ is not _NOVALUE and where_ is not True:
            mask = np.broadcast_to(np.asarray(value_of(where_), dtype=bool), xv.shape)
            xv = np.where(mask, xv, -np.inf if pick is np.max else np.inf)
        if initial is not _NOVALUE:
            raise T.TracerUnsupported(f"sparse second derivatives of numpy.{pick.__name__} "
                                      "with initial=")
        # dualdiff/_jvp/ordering.py's rule: the elements attaining the extreme (a NaN wins)
        # share the derivative equally
        m = pick(xv, axis=ax, keepdims=True)
        hit = (xv == m) | (np.isnan(xv) & np.isnan(m))
        weights = hit / np.sum(hit, axis=ax, keepdims=True)
    r = T.reduce_groups(t, ax, keepdims, np.asarray(value), weights)
    if initial is not _NOVALUE and not t.ctx.numeric:
        r = _revalue(r, value)
    return r


@implements(np.max, np.amax)
def amax(a, axis=None, out=None, keepdims=False, initial=_NOVALUE, where=_NOVALUE):
    return _extreme(np.max, a, axis, out, keepdims, initial, where)


@implements(np.min, np.amin)
def amin(a, axis=None, out=None, keepdims=False, initial=_NOVALUE, where=_NOVALUE):
    return _extreme(np.min, a, axis, out, keepdims, initial, where)


@implements(np.clip)
def clip(a, a_min=_NOVALUE, a_max=_NOVALUE, out=None, *, min=_NOVALUE, max=_NOVALUE, **kw):
    _no_out(np.clip, out)
    if kw:
        raise TypeError(f"numpy.clip(..., {', '.join(kw)}=) is not supported on traced values")
    lo = a_min if a_min is not _NOVALUE else min
    hi = a_max if a_max is not _NOVALUE else max
    if lo is _NOVALUE and hi is _NOVALUE:
        raise ValueError("clip: at least one of a_min and a_max must be given")
    if lo is not _NOVALUE and lo is not None:
        a = T.apply_ufunc(np.maximum, (a, lo))
    if hi is not _NOVALUE and hi is not None:
        a = T.apply_ufunc(np.minimum, (a, hi))
    return a


# ---- scans ----------------------------------------------------------------------------------

@implements(np.cumsum)
def cumsum(a, axis=None, dtype=None, out=None, *, include_initial=False):
    _no_out(np.cumsum, out)
    _float_dtype(np.cumsum, dtype)
    t = lift(a)
    if t is None:
        return np.cumsum(T.const(a), axis=axis)
    if axis is None or t.ndim == 0:
        if t.ndim > 1 and include_initial:
            raise ValueError("cumulative_sum: axis must be given for arrays of more than 1 "
                             "dimension")
        if axis is not None:
            _axes(axis, 0)                  # a 0-d array scans as one element: axis 0 or -1
        t, axis = FUNCTIONS[np.ravel](t), 0
    ax = _axes(axis, t.ndim)[0]
    value = np.cumsum(t.value, axis=ax)
    if include_initial:
        zero = np.zeros_like(np.take(value, [0], axis=ax))
        value = np.concatenate([zero, value], axis=ax)
    if t.shape[ax] == 0:
        return T.constant_like(value, t.ctx)
    return T.prefix(t, ax, include_initial, value)


@implements(np.cumprod)
def cumprod(a, axis=None, dtype=None, out=None, *, include_initial=False):
    _no_out(np.cumprod, out)
    _float_dtype(np.cumprod, dtype)
    t = lift(a)
    if t is None:
        return np.cumprod(T.const(a), axis=axis)
    if axis is None or t.ndim == 0:
        if axis is not None:
            _axes(axis, 0)
        t, axis = FUNCTIONS[np.ravel](t), 0
    ax = _axes(axis, t.ndim)[0]
    y = FUNCTIONS[np.moveaxis](t, ax, 0)
    ones = np.ones((1,) + y.shape[1:])
    if y.shape[0] == 0:
        r = FUNCTIONS[np.concatenate]([ones, y], 0) if include_initial else y
        return FUNCTIONS[np.moveaxis](r, 0, ax)
    acc = y[0:1]
    pieces = [ones, acc] if include_initial else [acc]
    for i in range(1, y.shape[0]):
        acc = acc * y[i:i + 1]
        pieces.append(acc)
    r = FUNCTIONS[np.moveaxis](FUNCTIONS[np.concatenate](pieces, 0), 0, ax)
    value = np.cumprod(t.value, axis=ax)
    if include_initial:
        value = np.concatenate([np.ones_like(np.take(value, [0], axis=ax)), value], axis=ax)
    return _revalue(r, value)


register_cumulative(implements, cumsum, cumprod)


@implements(np.diff)
def diff(a, n=1, axis=-1, prepend=_NOVALUE, append=_NOVALUE):
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise ValueError(f"diff: order must be a non-negative integer, got {n!r}")
    if n == 0:
        return a
    ax = _axes(axis, np.ndim(value_of(a)))[0]
    parts = []
    for edge in (prepend,):
        if edge is not _NOVALUE:
            parts.append(_edge(edge, a, ax))
    parts.append(a)
    if append is not _NOVALUE:
        parts.append(_edge(append, a, ax))
    x = FUNCTIONS[np.concatenate](parts, ax) if len(parts) > 1 else a
    for _ in range(n):
        m = np.shape(value_of(x))[ax]
        x = FUNCTIONS[np.take](x, np.arange(1, m), ax) - FUNCTIONS[np.take](x, np.arange(m - 1), ax)
    return x


def _edge(v, a, ax):
    if np.ndim(value_of(v)) == 0:
        s = list(np.shape(value_of(a)))
        s[ax] = 1
        return _broadcast(v, tuple(s))
    return v


@implements(np.trace)
def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    _no_out(np.trace, out)
    _float_dtype(np.trace, dtype)
    return sum_(FUNCTIONS[np.diagonal](a, offset, axis1, axis2), axis=-1)


if getattr(np.linalg, "trace", None) is not None:
    @implements(np.linalg.trace)
    def linalg_trace(x, /, *, offset=0, dtype=None):
        return trace(x, offset, -2, -1, dtype)


# ---- the ufunc table ----------------------------------------------------------------------

def _register_ufuncs():
    from dualdiff import _numpy
    for u in list(_numpy.UFUNCS):
        if u in (np.matmul,) or u.nout != 1:
            continue
        UFUNCS[u] = functools.partial(lambda u, *xs: T.apply_ufunc(u, xs), u)
    UFUNCS[np.positive] = UFUNCS[np.conjugate] = lambda a: a
    for u in (np.less, np.less_equal, np.equal, np.not_equal, np.greater, np.greater_equal):
        UFUNCS[u] = functools.partial(T._compare, u)
    for u in (np.isnan, np.isinf, np.isfinite, np.signbit):
        UFUNCS[u] = functools.partial(lambda u, a: u(value_of(a)), u)


_register_ufuncs()


def _ldexp(a, n):
    """a * 2**n for integer n: a scaling of a (the exponent is no variable, as for dual
    arrays); the value is numpy's ldexp itself (no overflow of 2**n on the way)."""
    if lift(n) is not None:
        raise TypeError("numpy.ldexp(a, n): the exponent n must be integers, not traced values "
                        "(use a * 2.0 ** n to differentiate with respect to n)")
    nv = np.asarray(n)
    if nv.dtype.kind not in "iu":
        raise TypeError(f"numpy.ldexp(a, n): the exponent n must be integers, not {nv.dtype}")
    t = lift(a)
    if t is None:
        return np.ldexp(T.const(a), nv)
    value = np.ldexp(t.value, nv)
    shape = value.shape
    scale = np.ldexp(1.0, nv) if t.ctx.numeric else None

    def part(r, c):
        return (np.broadcast_to(r, shape),
                None if c is None else np.broadcast_to(c, shape) * scale)
    r1, c1 = part(t.r1, t.c1)
    if t.ctx.order == 1:
        return T.make(value, r1, t.s1, c1, None, None, None, t.ctx)
    r2, c2 = part(t.r2, t.c2)
    return T.make(value, r1, t.s1, c1, r2, t.s2, c2, t.ctx)


UFUNCS[np.ldexp] = _ldexp


# numpy functions that are elementwise (dual arrays' rules for them came after the tracer)
@implements(np.sinc)
def sinc(x):
    # np.sinc on plain values and, for the numeric mode's partials, on hyper-dual arrays
    return T.apply_ufunc(np.sinc, (x,))


@implements(np.round, np.around)
def round_(a, decimals=0, out=None):
    _no_out(np.round, out)
    t = lift(a)
    if t is None:
        return np.round(T.const(a), decimals)
    return T.constant_like(np.round(t.value, decimals), t.ctx)     # derivative 0


@implements(np.fix)
def fix(x, out=None):
    _no_out(np.fix, out)
    t = lift(x)
    if t is None:
        return np.fix(T.const(x))
    return T.constant_like(np.fix(t.value), t.ctx)


@implements(np.nan_to_num)
def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """x where finite (its sets, scale 1), a constant elsewhere (scale 0)."""
    t = lift(x)
    if t is None:
        return np.nan_to_num(T.const(x), nan=nan, posinf=posinf, neginf=neginf)
    value = np.nan_to_num(t.value, nan=nan, posinf=posinf, neginf=neginf)
    keep = np.isfinite(t.value)
    c1 = c2 = None
    if t.ctx.numeric:
        c1 = np.where(keep, t.c1, 0.0)
        c2 = None if t.c2 is None else np.where(keep, t.c2, 0.0)
    r1 = np.where(keep, t.r1, -1)
    if t.ctx.order == 1:
        return T.make(value, r1, t.s1, c1, None, None, None, t.ctx)
    return T.make(value, r1, t.s1, c1, np.where(keep, t.r2, -1), t.s2, c2, t.ctx)


# numpy 2's vector/matrix product ufuncs: contractions over their core axes (einsum, as the
# dual arrays do them), with numpy's own values
for _name, _spec in (("vecdot", "...i,...i->..."), ("matvec", "...ij,...j->...i"),
                     ("vecmat", "...i,...ij->...j")):
    _u = getattr(np, _name, None)
    if _u is None:
        continue

    def _contraction(a, b, _u=_u, _spec=_spec):
        if lift(a) is None and lift(b) is None:
            return _u(a, b)
        r = FUNCTIONS[np.einsum](_spec, a, b)
        value = np.asarray(_u(value_of(a) if lift(a) is None else lift(a).value,
                              value_of(b) if lift(b) is None else lift(b).value), dtype=np.float64)
        if type(r) is not Tracer or r.value.shape != value.shape:
            raise AssertionError(f"numpy.{_u.__name__} as einsum: shape {np.shape(r)}, numpy "
                                 f"gives {value.shape}")
        return T.make(value, r.r1, r.s1, r.c1, r.r2, r.s2, r.c2, r.ctx)
    UFUNCS[_u] = _contraction


def _reduce_axis(axis):
    return 0 if axis is _NOVALUE else axis


for _u, _f in ((np.add, sum_), (np.multiply, prod)):
    def _handler(a, axis=_NOVALUE, dtype=None, out=None, keepdims=False, initial=_NOVALUE,
                 where=_NOVALUE, _f=_f):
        return _f(a, axis=_reduce_axis(axis), dtype=dtype, out=out, keepdims=keepdims,
                  initial=initial, where=where)
    UFUNC_METHODS[(_u, "reduce")] = _handler

for _u, _f in ((np.maximum, amax), (np.minimum, amin), (np.fmax, amax), (np.fmin, amin)):
    def _handler(a, axis=_NOVALUE, dtype=None, out=None, keepdims=False, initial=_NOVALUE,
                 where=_NOVALUE, _f=_f, _u=_u):
        _float_dtype(_u, dtype)
        return _f(a, axis=_reduce_axis(axis), out=out, keepdims=keepdims, initial=initial,
                  where=where)
    UFUNC_METHODS[(_u, "reduce")] = _handler



# ---- order statistics: sort and the running extremes ---------------------------------------
# Which element lands where is decided by the values. Detection keeps every choice, as the
# max/min reductions do: a sorted element depends on its whole lane, a running extreme on the
# lane's prefix -- a superset of the pattern at any point. Both are piecewise linear: they
# carry their operand's pairs and make none.

@implements(np.sort)
def sort(a, axis=-1, kind=None, order=None, *, stable=None):
    if order is not None:
        raise TypeError("numpy.sort(..., order=...) is for structured arrays; traced values "
                        "are float64: drop order")
    kw = {} if stable is None else {"stable": stable}
    np.sort(np.zeros(1), kind=kind, **kw)              # numpy's own checks of kind/stable
    t = lift(a)
    if t is None:
        return np.sort(T.const(a), axis=axis, kind=kind, **kw)
    if axis is None:
        t, axis = FUNCTIONS[np.ravel](t), 0
    ax = _axes(axis, t.ndim)[0] if t.ndim else None
    if ax is None:
        raise np.exceptions.AxisError(axis, 0)
    if t.ctx.numeric:
        # the numbers at this point: the gather of the stable order (the dual arrays' rule
        # for ties, dualdiff/_numpy/sorting.py)
        return FUNCTIONS[np.take_along_axis](t, np.argsort(t.value, axis=ax, kind="stable"),
                                             ax)
    value = np.sort(t.value, axis=ax)
    if t.shape[ax] == 0:
        return T.constant_like(value, t.ctx)
    lane = T.reduce_groups(t, (ax,), True, np.max(t.value, axis=ax, keepdims=True))
    w = FUNCTIONS[np.broadcast_to](lane, t.shape)
    return T.make(value, w.r1, w.s1, w.c1, w.r2, w.s2, w.c2, t.ctx)


def _running_extreme(u):
    def handler(array, axis=0, dtype=None, out=None):
        _no_out(u, out)
        _float_dtype(u, dtype)
        t = lift(array)
        if t is None:
            return u.accumulate(T.const(array), axis=axis)
        if t.ndim == 0:
            raise TypeError(f"numpy.{u.__name__}.accumulate: cannot accumulate on a scalar")
        ax = _axes(0 if axis is None else axis, t.ndim)[0]
        if t.ctx.numeric:
            # ties share the derivative (the dual arrays' rule): not a gather of one element
            raise T.TracerUnsupported(f"sparse second derivatives of numpy.{u.__name__}"
                                      ".accumulate")
        value = u.accumulate(t.value, axis=ax)
        if t.shape[ax] == 0:
            return T.constant_like(value, t.ctx)
        return T.prefix(t, ax, False, value)
    return handler


for _u in (np.maximum, np.minimum, np.fmax, np.fmin):
    UFUNC_METHODS[(_u, "accumulate")] = _running_extreme(_u)

def _scan(u, scan):
    """add.accumulate / multiply.accumulate as cumsum / cumprod, but for a 0-d array, which
    numpy's accumulate refuses (np.cumsum flattens it instead; fuzz 3535-67215)."""
    def handler(a, axis=0, dtype=None, out=None):
        t = lift(a)
        if t is not None and t.ndim == 0:
            raise TypeError(f"numpy.{u.__name__}.accumulate: cannot accumulate on a scalar")
        return scan(a, axis=axis, dtype=dtype, out=out)
    return handler


UFUNC_METHODS[(np.add, "accumulate")] = _scan(np.add, cumsum)
UFUNC_METHODS[(np.multiply, "accumulate")] = _scan(np.multiply, cumprod)

# the other binary ufuncs' reduce and accumulate: the dual arrays' left fold, whose steps
# are numpy calls the tracer follows
for _u in _reductions.FOLDED:
    UFUNC_METHODS[(_u, "reduce")] = functools.partial(_reductions.fold_reduce, _u)
    UFUNC_METHODS[(_u, "accumulate")] = functools.partial(_reductions.fold_accumulate, _u)

from dualdiff import _tracer_products  # noqa: E402,F401
