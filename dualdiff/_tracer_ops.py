"""The operations of the sparsity tracer that make new rows: elementwise functions (which
set and which pairs each result element gets, and in numeric mode the chain rule's numbers,
from dualdiff's own rules evaluated on hyper-dual arrays), reductions and scans over groups
of elements, and the dense mixing of linear algebra. dualdiff/_tracer.py holds the array type
and its structural maps; dualdiff/_setops.pyx the kernels these call.
"""
import numpy as np

from dualdiff import _arrays, _setops
from dualdiff._tracer import (UFUNC_METHODS, UFUNCS, TracerUnsupported, _empty_store, _flat, bcast,
                              common_trace, const, constant_like, join, lift, make, merge,
                              no_pairs, outer, unite, value_of)

_I64 = np.int64
_F64 = np.float64


# ---- elementwise functions ---------------------------------------------------------------

# classes of elementwise functions by what their derivatives can be: identically zero,
# constant (linear), zero second derivative (piecewise linear), bilinear (a product),
# a quotient (nonlinear in the divisor only), or anything
ZERO_U = {"sign", "floor", "ceil", "trunc", "rint", "floor_divide"}
LINEAR_U = {"negative", "positive", "conjugate", "deg2rad", "rad2deg"}
PIECEWISE_LINEAR = {"absolute", "fabs", "abs", "relu", "maximum", "minimum", "fmax", "fmin"}
LINEAR_B = {"add", "subtract"}


class _RegisteredRule:
    """A dd.register_elementwise rule in the role of a ufunc: its function on plain values,
    its rule on dual arrays (which is how _partials asks for derivatives)."""

    def __init__(self, rule):
        self.rule = rule
        self.__name__ = rule.name
        self.nin = rule.nin

    def __call__(self, *args):
        if any(type(a) is _arrays.DualArray for a in args):
            return self.rule(*args)
        return self.rule.func(*args)


class TableRule:
    """A row of the rule table (dd.NAME: dd.sin, dd.sigmoid, dd.maximum, ...) in the role of a
    ufunc: the same compiled function on plain values and on dual arrays; classified by its
    name as numpy's ufuncs are (dd.floor is constant, dd.deg2rad linear, dd.relu piecewise
    linear, ...)."""

    def __init__(self, name):
        from dualdiff import _core
        self.fn = _core.elementary[name]
        self.__name__ = name
        self.nin = 2 if name in _core.BINARY_INDEX else 1

    def __call__(self, *args):
        return self.fn(*args)


def _dual_ufunc(u):
    """Whether dualdiff differentiates ufunc u (its tables or a rule registered on use)."""
    from dualdiff import _numpy
    return u in _numpy.UFUNCS or _numpy.find_ufunc(u) is not None


def unsupported(func):
    from dualdiff import _numpy
    name = _numpy.qualname(func)
    if func in _arrays.FUNCTIONS or (isinstance(func, np.ufunc) and _dual_ufunc(func)):
        return TracerUnsupported(
            f"sparsity detection cannot follow {name} yet (dual arrays can): give the pattern "
            "with sparsity=... (a scipy sparse matrix or boolean array)")
    return _numpy.unsupported(func)


def _compare(u, a, b):
    va, vb = value_of(a), value_of(b)
    return u(va, vb)


def _partials(u, vals, which, shape):
    """First and second partial derivatives of ufunc u at the values, with respect to the
    arguments `which` (one or two positions), from dualdiff's own rules: the ufunc runs on
    hyper-dual arrays seeded with unit directions. Returns (d1[k], d2[k][l], value) as
    arrays; value is u's value as the dual arrays compute it (the rule table's f: glibc's
    expm1, where numpy's may round the last bit otherwise), which the numeric mode carries
    on, so that its later partials are taken where the dense sweeps take them."""
    k = len(which)
    args = [bcast(np.asarray(v, dtype=_F64), shape) for v in vals]
    eye = np.eye(k)
    for j, i in enumerate(which):
        seed_dirs = bcast(eye[j], shape + (k,))
        args[i] = _arrays.from_parts(args[i], seed_dirs, seed_dirs)
    with np.errstate(all="ignore"):           # f itself warned already, at its own call
        r = u(*args)
    e1 = bcast(r.eps1, shape + (k,))
    e12 = bcast(r.eps12, shape + (k, k))
    return ([e1[..., j] for j in range(k)], [[e12[..., p, q] for q in range(k)] for p in range(k)],
            np.array(bcast(r.value, shape), dtype=_F64))


def apply_ufunc(u, inputs):
    """ufunc u (one or two inputs, dualdiff can differentiate it) on tracers and constants."""
    ts = [lift(x) for x in inputs]
    trace = common_trace(ts)
    vals = [t.value if t is not None else const(x) for t, x in zip(ts, inputs)]
    # an integer constant stays an integer for u itself (scipy's eval_hermite(n, x) has no
    # float n), as in the dual arrays' registered rules (_jvp/elementwise.py)
    value = np.asarray(u(*[v if t is not None or np.asarray(x).dtype.kind not in "iu"
                           else np.asarray(x) for t, x, v in zip(ts, inputs, vals)]),
                       dtype=_F64)
    if trace is None:
        return value
    name = u.__name__
    which = [i for i, t in enumerate(ts) if t is not None]
    if name in ZERO_U:
        return constant_like(value, trace)
    if len(inputs) > 2:
        if trace.numeric:
            raise TracerUnsupported(f"{name}: sparse second derivatives of a function of "
                                    f"{len(inputs)} arguments")
        return _union_all([ts[i] for i in which], value, trace)
    if len(which) == 2 and ts[0] is ts[1]:
        # f(x, x): a function of one traced argument
        return _unary(u, vals, [0, 1], ts[0], value, _class2(name, True), trace)
    if len(which) == 1:
        i = which[0]
        return _unary(u, vals, [i], ts[i], value, _class1(name, i), trace)
    return _binary(u, vals, ts[0], ts[1], value, _class2(name, False), trace)


def _union_all(ts, value, trace):
    """Elementwise, of any number of traced operands, any derivatives: each element unites
    its operands' sets and, at second order, gets all pairs of the union (structure only)."""
    value = np.asarray(value, dtype=_F64)
    shape = value.shape
    m = value.size
    segs, refs = unite([(_flat(t.r1, shape), t.s1) for t in ts])
    s1 = (merge(segs, np.stack(refs, axis=1).reshape(-1), None, m, len(ts), False),)
    new = np.arange(m, dtype=_I64).reshape(shape)
    if trace.order == 1:
        return make(value, new, s1, None, None, None, None, trace)
    segs2, refs2 = unite([(_flat(t.r2, shape), t.s2) for t in ts])
    flat = np.arange(m, dtype=_I64)
    pairs = outer(s1, flat, flat, None, m, 1, trace.n, False)
    if segs2:
        both, parts = unite([(np.stack(refs2, axis=1).reshape(-1), segs2), (flat, (pairs,))])
        refs = np.concatenate([parts[0].reshape(m, len(ts)), parts[1][:, None]], axis=1)
        pairs = merge(both, refs.reshape(-1), None, m, len(ts) + 1, False)
    return make(value, new, s1, None, new.copy(), (pairs,), None, trace)


def apply_multi(u, inputs):
    """A ufunc with several outputs (modf, frexp, divmod): each float output elementwise in
    every traced operand, with all pairs; integer outputs are plain values."""
    ts = [lift(x) for x in inputs]
    trace = common_trace(ts)
    outs = u(*[t.value if t is not None else const(x) for t, x in zip(ts, inputs)])
    if trace is None:
        return outs
    if trace.numeric:
        raise TracerUnsupported(f"sparse second derivatives of numpy.{u.__name__}")
    ts = [t for t in ts if t is not None]
    return tuple(_union_all(ts, o, trace) if np.asarray(o).dtype.kind == "f" else o
                 for o in outs)


def dense_fallback(func, args, kwargs):
    """A function dual arrays support and the tracer has no rule for: numpy's own function
    on the values, every float output element depending on every traced input element (a
    superset of any pattern), with a SparsityWarning naming the function."""
    import warnings

    from dualdiff import _numpy
    from dualdiff._tracer import SparsityWarning, Tracer, _holds_tracers, assemble
    found = []

    def plain(x):
        if type(x) is Tracer:
            found.append(x)
            return x.value
        if isinstance(x, np.ndarray) and x.dtype == object and _holds_tracers(x):
            t = assemble(x)
            found.append(t)
            return t.value
        if isinstance(x, (list, tuple)):
            items = [plain(e) for e in x]
            return type(x)(*items) if hasattr(x, "_fields") else type(x)(items)
        if isinstance(x, dict):
            return {k: plain(v) for k, v in x.items()}
        return x
    result = func(*plain(list(args)), **plain(dict(kwargs)))
    trace = common_trace(found)
    if trace is None:
        return result
    if trace.numeric:
        raise TracerUnsupported(f"sparse second derivatives of {_numpy.qualname(func)}")
    warnings.warn(f"sparsity detection has no sparse rule for {_numpy.qualname(func)}: it "
                  "assumes every output element depends on every input element (a dense "
                  "block in the pattern, correct but possibly many colours); give the pattern "
                  "with sparsity=... for a sparser one", SparsityWarning, stacklevel=3)

    def wrap(r):
        if isinstance(r, (list, tuple)):
            items = [wrap(e) for e in r]
            return type(r)(*items) if hasattr(r, "_fields") else type(r)(items)
        a = np.asarray(r)
        if a.dtype.kind != "f":
            return r
        return dense(found, a, trace)
    return wrap(result)


def _class1(name, i):
    """The class of u as a function of its argument i alone (the other one constant)."""
    if name in LINEAR_U or name in LINEAR_B or (name == "multiply") or \
            (name in ("divide", "true_divide") and i == 0):
        return "linear"
    if name in PIECEWISE_LINEAR:
        return "plinear"
    return "nonlinear"


def _class2(name, same):
    if name in LINEAR_B:
        return "linear"
    if name in PIECEWISE_LINEAR:
        return "plinear"
    if name == "multiply":
        return "nonlinear" if same else "bilinear"
    if name in ("divide", "true_divide"):
        return "linear" if same else "quotient"     # x / x is constant where defined
    return "nonlinear"


def _tmul(c, d):
    """c * d with c == 0 giving exactly 0: the dual arrays' strong zero (csrc/dual.h,
    dd_tmul), so an element that does not move along an input gets 0, not inf * 0 = NaN,
    where a partial is infinite (sqrt at 0)."""
    with np.errstate(invalid="ignore", over="ignore"):
        r = np.multiply(c, d)
    return np.where(np.asarray(c) == 0, 0.0, r)


def _unary(u, vals, which, t, value, cls, trace):
    """u as a function of one traced operand t (at positions `which` of u's arguments)."""
    shape = value.shape
    numeric = trace.numeric
    d1 = d2 = None
    if numeric:
        if cls == "linear" and u.__name__ in ("add", "subtract", "negative", "positive",
                                              "conjugate", "multiply", "divide", "true_divide"):
            d1 = _linear_partial(u.__name__, vals, which)
            d2 = 0.0
        else:
            p1, p2, value = _partials(u, vals, [which[0]] if len(which) == 1 else which, shape)
            d1 = p1[0] if len(which) == 1 else p1[0] + p1[1]
            d2 = p2[0][0] if len(which) == 1 else p2[0][0] + 2 * p2[0][1] + p2[1][1]
    r1 = bcast(t.r1, shape)
    c1 = None if not numeric else _tmul(bcast(t.c1, shape), d1)
    if trace.order == 1:
        return make(value, r1, t.s1, c1, None, None, None, trace)
    r2 = bcast(t.r2, shape)
    c2 = None if not numeric else _tmul(bcast(t.c2, shape), d1)
    if cls in ("linear", "plinear"):
        return make(value, r1, t.s1, c1, r2, t.s2, c2, trace)
    # the pairs of t's set, weighted d2/2 (outer gives a a^T + a a^T), join t's own pairs
    m = value.size
    fr1 = _flat(r1, shape)
    # g g^T = (c row)(c row)^T, and outer makes row row^T + row row^T: weight d2 c^2 / 2
    w = None if not numeric else _flat(_tmul(0.5 * bcast(t.c1, shape) ** 2, d2), shape)
    pairs = outer(t.s1, fr1, fr1, w, m, 1, trace.n, numeric)
    return _with_pairs(value, r1, t.s1, c1, r2, t.s2, c2, pairs, trace)


def _with_pairs(value, r1, s1, c1, r2, s2, c2, pairs, trace):
    """A tracer whose second-order part is (its pairs r2/s2, scaled c2) + the new rows
    `pairs` (one per element)."""
    shape = value.shape
    m = value.size
    new = np.arange(m, dtype=_I64).reshape(shape)
    fr2 = _flat(r2, shape)
    if not s2 or not (fr2 >= 0).any():
        ones = np.ones(shape) if trace.numeric else None
        return make(value, r1, s1, c1, new, (pairs,), ones, trace)
    segs, (ra, rb) = unite([(fr2, s2), (np.arange(m, dtype=_I64), (pairs,))])
    refs = np.stack([ra, rb], axis=1).reshape(-1)
    coefs = None
    if trace.numeric:
        coefs = np.stack([_flat(c2, shape), np.ones(m)], axis=1).reshape(-1)
    store = merge(segs, refs, coefs, m, 2, trace.numeric)
    ones = np.ones(shape) if trace.numeric else None
    return make(value, r1, s1, c1, new, (store,), ones, trace)


def _linear_partial(name, vals, which):
    """The constant derivative of a linear use of an arithmetic ufunc (which: the traced
    positions; both for f(x, x))."""
    if name in ("add", "positive", "conjugate"):
        return float(len(which))
    if name == "negative":
        return -1.0
    if name == "subtract":
        return (1.0 if 0 in which else 0.0) - (1.0 if 1 in which else 0.0)
    if name == "multiply":
        return np.asarray(vals[1 - which[0]], dtype=_F64)
    if len(which) == 2:                     # x / x
        return 0.0
    return 1.0 / np.asarray(vals[1], dtype=_F64)      # x / c


def _binary(u, vals, a, b, value, cls, trace):
    """u(a, b) with both operands traced (and distinct)."""
    shape = value.shape
    m = value.size
    numeric = trace.numeric
    if numeric:
        if cls == "linear":
            da, db = 1.0, (1.0 if u.__name__ == "add" else -1.0)
            daa = dab = dbb = 0.0
        elif cls == "bilinear":
            da, db = (np.asarray(vals[1], dtype=_F64), np.asarray(vals[0], dtype=_F64))
            daa, dab, dbb = 0.0, 1.0, 0.0
        else:
            (da, db), ((daa, dab), (_, dbb)), value = _partials(u, vals, [0, 1], shape)
    segs, (ra, rb) = unite([(_flat(a.r1, shape), a.s1), (_flat(b.r1, shape), b.s1)])
    refs = np.stack([ra, rb], axis=1).reshape(-1)
    ca = cb = coefs = None
    if numeric:
        ca, cb = bcast(a.c1, shape), bcast(b.c1, shape)
        coefs = np.stack([_flat(_tmul(ca, da), shape), _flat(_tmul(cb, db), shape)],
                         axis=1).reshape(-1)
    s1 = (merge(segs, refs, coefs, m, 2, numeric),)
    r1 = np.arange(m, dtype=_I64).reshape(shape)
    c1 = np.ones(shape) if numeric else None
    if trace.order == 1:
        return make(value, r1, s1, c1, None, None, None, trace)
    # second order: the operands' pairs, and the pairs their sets form
    terms = {"linear": (), "plinear": (), "bilinear": ("ab",), "quotient": ("ab", "bb"),
             "nonlinear": ("aa", "ab", "bb")}[cls]
    if not terms and not a.s2 and not b.s2:
        return make(value, r1, s1, c1, *no_pairs(shape, numeric), trace)
    segs2, (pa, pb) = unite([(_flat(a.r2, shape), a.s2), (_flat(b.r2, shape), b.s2)])
    c2 = None
    if numeric:
        c2 = np.stack([_flat(_tmul(bcast(a.c2, shape), da), shape),
                       _flat(_tmul(bcast(b.c2, shape), db), shape)], axis=1).reshape(-1)
    own = np.stack([pa, pb], axis=1).reshape(-1)
    if not terms:
        store = merge(segs2, own, c2, m, 2, numeric)
        return make(value, r1, s1, c1, np.arange(m, dtype=_I64).reshape(shape), (store,),
                    np.ones(shape) if numeric else None, trace)
    left = {"aa": ra, "ab": ra, "bb": rb}
    right = {"aa": ra, "ab": rb, "bb": rb}
    ta = np.stack([left[k] for k in terms], axis=1).reshape(-1)
    tb = np.stack([right[k] for k in terms], axis=1).reshape(-1)
    tc = None
    if numeric:
        w = {"aa": _tmul(0.5 * ca * ca, daa), "ab": _tmul(ca * cb, dab),
             "bb": _tmul(0.5 * cb * cb, dbb)}
        tc = np.stack([_flat(w[k], shape) for k in terms], axis=1).reshape(-1)
    pairs = outer(segs, ta, tb, tc, m, len(terms), trace.n, numeric)
    if not segs2:
        return make(value, r1, s1, c1, np.arange(m, dtype=_I64).reshape(shape), (pairs,),
                    np.ones(shape) if numeric else None, trace)
    both, (o1, o2) = unite([(own, segs2), (np.arange(m, dtype=_I64), (pairs,))])
    refs2 = np.concatenate([o1.reshape(m, 2), o2[:, None]], axis=1).reshape(-1)
    coefs2 = None if not numeric else np.concatenate([c2.reshape(m, 2), np.ones((m, 1))],
                                                      axis=1).reshape(-1)
    store = merge(both, refs2, coefs2, m, 3, numeric)
    return make(value, r1, s1, c1, np.arange(m, dtype=_I64).reshape(shape), (store,),
                np.ones(shape) if numeric else None, trace)


def array_ufunc(u, method, inputs, kwargs):
    """__array_ufunc__ of tracers."""
    out = kwargs.pop("out", None)
    if out is not None and any(o is not None for o in (out if isinstance(out, tuple) else (out,))):
        if method == "__call__" and _arrays._object_out(inputs, out) and \
                all(not isinstance(a, Tracer) or a.value.ndim == 0 for a in inputs):
            # numpy's object loop on traced scalars, as on dual ones (_arrays._object_out)
            return u(*[_arrays.elements(a) if isinstance(a, Tracer) else a for a in inputs],
                     out=out, **kwargs)
        raise TypeError(f"{u.__name__}(..., out=...) cannot store traced values; use the "
                        "returned result instead")
    if method == "__call__":
        for key, val in kwargs.items():
            if not (key in ("dtype", "casting", "order", "subok", "where")
                    and any(val is ok or (isinstance(val, (str, type)) and val == ok)
                            for ok in (None, float, _F64, "float64", "d", "f8", "same_kind",
                                       "K", True))):
                raise TypeError(f"numpy.{u.__name__}(..., {key}=...) is not supported on "
                                "traced values; drop the keyword")
        handler = UFUNCS.get(u)
        if handler is not None:
            return handler(*inputs)
        from dualdiff._numpy.elementwise import object_ufunc
        handler = object_ufunc(u)            # np.frompyfunc's: f runs on traced elements
        if handler is not None:
            return handler(*inputs)
        if _dual_ufunc(u):
            return apply_ufunc(u, inputs) if u.nout == 1 else apply_multi(u, inputs)
        raise unsupported(u)
    handler = UFUNC_METHODS.get((u, method))
    if handler is None:
        from dualdiff import _numpy
        raise _numpy.unsupported(u, method)
    return handler(*inputs, **kwargs)


# ---- combinations of many elements -------------------------------------------------------

def reduce_groups(t, axes, keepdims, value, weights=None, nonlinear=False):
    """Each result element united from the elements of t along `axes` (a tuple): sums (and,
    with numeric weights, max/min reductions); nonlinear adds all pairs of each group."""
    trace = t.ctx
    numeric = trace.numeric
    nd = t.ndim
    rest = tuple(i for i in range(nd) if i not in axes)
    perm = rest + tuple(axes)
    L = int(np.prod([t.shape[i] for i in axes])) if axes else 1
    M = int(np.prod([t.shape[i] for i in rest])) if rest else 1
    out_shape = np.shape(value)

    def grouped(a):
        return np.ascontiguousarray(np.transpose(a, perm)).reshape(-1)
    w = drop = None
    if numeric:
        w = grouped(t.c1 if weights is None else t.c1 * weights)
        if weights is not None:
            # a selection: an element of weight 0 is left out (-1: no row), whatever its
            # partials, as dd_wmul (csrc/rules.h) drops it in the sweeps -- an infinite
            # partial times 0 would leave NaN (fuzz seed 2424-122392)
            drop = grouped(np.broadcast_to(weights, t.shape)) == 0
    if L == 0 or M == 0:
        return constant_like(value, trace)
    r1 = grouped(t.r1)
    if drop is not None:
        r1 = np.where(drop, -1, r1)
    s1 = (merge(t.s1, r1, w, M, L, numeric),)
    new = np.arange(M, dtype=_I64).reshape(out_shape)
    c1 = np.ones(out_shape) if numeric else None
    if trace.order == 1:
        return make(value, new, s1, c1, None, None, None, trace)
    if nonlinear:
        if numeric:
            raise TracerUnsupported("sparse second derivatives of a nonlinear reduction")
        return _with_pairs(value, new, s1, c1, np.full(out_shape, -1, _I64), (), None,
                           _merge_pairs_groups(t, perm, M, L, s1), trace)
    if not t.s2:
        return make(value, new, s1, c1, *no_pairs(out_shape, numeric), trace)
    w2 = None
    if numeric:
        w2 = grouped(t.c2 if weights is None else t.c2 * weights)
    r2 = grouped(t.r2)
    if drop is not None:
        r2 = np.where(drop, -1, r2)
    s2 = (merge(t.s2, r2, w2, M, L, numeric),)
    return make(value, new, s1, c1, new.copy(), s2, np.ones(out_shape) if numeric else None,
                trace)


def _merge_pairs_groups(t, perm, M, L, s1):
    """Pair rows of the groups: their own pairs united with all pairs of the group's set."""
    r2 = np.ascontiguousarray(np.transpose(t.r2, perm)).reshape(-1)
    own = merge(t.s2, r2, None, M, L, False)
    idx = np.arange(M, dtype=_I64)
    pairs = outer(s1, idx, idx, None, M, 1, t.ctx.n, False)
    segs, (a, b) = unite([(idx, (own,)), (idx, (pairs,))])
    return merge(segs, np.stack([a, b], axis=1).reshape(-1), None, M, 2, False)


def prefix(t, axis, include_initial, value):
    """Running unions along `axis` (cumsum): element l unites elements 0..l."""
    trace = t.ctx
    numeric = trace.numeric
    L = t.shape[axis]

    def moved(a):
        return np.ascontiguousarray(np.moveaxis(a, axis, -1)).reshape(-1, L)
    rows, cols = np.tril_indices(L)
    r1 = moved(t.r1)
    M = r1.shape[0]
    out_shape = np.moveaxis(np.empty(t.shape, dtype=bool), axis, -1).shape
    rptr = np.concatenate([[0], np.cumsum(np.tile(np.arange(1, L + 1), M))]).astype(_I64)

    def build(r, s, c):
        refs = r[:, cols].reshape(-1)
        coefs = None if c is None else c[:, cols].reshape(-1)
        if not s:
            return _empty_store(numeric, M * L)
        return _setops.merge(list(s), rptr, refs, coefs, M * L, 0, numeric)
    s1 = (build(r1, t.s1, moved(t.c1) if numeric else None),)
    new = np.moveaxis(np.arange(M * L, dtype=_I64).reshape(out_shape), -1, axis)
    ones = np.ones(new.shape) if numeric else None
    r2 = s2 = None
    if trace.order == 2 and t.s2:
        s2 = (build(moved(t.r2), t.s2, moved(t.c2) if numeric else None),)
        r2 = new
    elif trace.order == 2:
        r2, s2, _ = no_pairs(new.shape, numeric)
    res = make(np.asarray(value, dtype=_F64) if not include_initial else None, new, s1, ones,
               r2, s2, ones, trace)
    if include_initial:
        res.value = np.moveaxis(np.moveaxis(np.asarray(value), axis, -1)[..., 1:], -1, axis)
        zero = constant_like(np.zeros_like(np.take(res.value, [0], axis=axis)), trace)
        return join([zero, res], lambda arrs: np.concatenate(arrs, axis=axis))
    return res


def dense(tracers, value, trace):
    """A result each of whose elements depends on every element of the traced operands, as
    the most general nonlinear function would (linear algebra, functions of many
    arguments): conservative, exact only for dense functions."""
    if trace.numeric:
        raise TracerUnsupported("sparse second derivatives of a dense operation")
    value = np.asarray(value, dtype=_F64)
    ts = [t for t in tracers if t is not None]
    segs, refs = unite([(t.r1.reshape(-1), t.s1) for t in ts])
    allrefs = np.concatenate(refs) if refs else np.zeros(0, _I64)
    one = _setops.merge(list(segs), np.array([0, allrefs.size], _I64), allrefs, None, 1, 0,
                        False) if segs else _empty_store(False, 1)
    zeros = np.zeros(value.shape, _I64)
    if trace.order == 1:
        return make(value, zeros, (one,), None, None, None, None, trace)
    segs2, refs2 = unite([(t.r2.reshape(-1), t.s2) for t in ts])
    pr = np.concatenate(refs2) if refs2 else np.zeros(0, _I64)
    own = _setops.merge(list(segs2), np.array([0, pr.size], _I64), pr, None, 1, 0, False) \
        if segs2 else _empty_store(False, 1)
    allpairs = outer((one,), np.zeros(1, _I64), np.zeros(1, _I64), None, 1, 1, trace.n, False)
    store = merge((own, allpairs), np.array([0, 1], _I64), None, 1, 2, False)
    return make(value, zeros, (one,), None, zeros.copy(), (store,), None, trace)
