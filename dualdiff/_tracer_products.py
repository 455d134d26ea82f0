"""Products and numpy.linalg for the sparsity tracer.

Every product is one einsum contraction of two operands (as dualdiff/_numpy/products.py
writes them); einsum with more operands goes pairwise along numpy's einsum_path. A constant
operand contributes its nonzero entries only (a zero coefficient is exactly zero wherever f
is evaluated, so a constant matrix with a stencil's structure gives the stencil's pattern).
Two traced operands meet at every point of the contraction: each output element unites the
sets of the elements it multiplies, and at second order gains the pairs of set(a) x set(b)
for each product a*b.

numpy.linalg's factorisations, inverses and solves mix everything within one matrix: each
output element of a (stack of) matrices depends on every element of its own matrix (and, for
several operands, on every element of every operand), with all pairs at second order --
conservative, and exact for the dense matrices these functions are meant for.
"""
import numpy as np

from dualdiff import _tracer as T
from dualdiff._numpy.products import _LETTERS, _parse_einsum, contract, tensordot_subscripts
from dualdiff._tracer import TracerUnsupported, lift, value_of
from dualdiff._tracer_numpy import FUNCTIONS, _axes, _no_out, implements, sum_

_I64 = np.int64


def _shape(x):
    return np.shape(value_of(x))


def _ndim(x):
    return len(_shape(x))


def bilinear(a, b, sa, sb, so, value=None):
    """einsum(f"{sa},{sb}->{so}", a, b) with traced operands; value: numpy's own result
    (matmul's, dot's) when the caller has it."""
    ta, tb = lift(a), lift(b)
    trace = T.common_trace([ta, tb])
    va = ta.value if ta is not None else T.const(a)
    vb = tb.value if tb is not None else T.const(b)
    if value is None:
        value = np.einsum(f"{sa},{sb}->{so}", va, vb)
    value = np.asarray(value, dtype=np.float64)
    if trace is None:
        return value
    if ta is None or tb is None:
        t, st, c, sc = (tb, sb, va, sa) if ta is None else (ta, sa, vb, sb)
        return _linear(t, st, c, sc, so, value, trace)
    return _both(ta, tb, sa, sb, so, value, trace)


def _dims(specs, shapes):
    """Each letter's length; numpy already checked the operands meet, so any length but 1
    (0 included: an empty contraction) is the letter's."""
    dims = {}
    for s, shp in zip(specs, shapes):
        for ch, d in zip(s, shp):
            if d != 1 or ch not in dims:
                dims[ch] = d
    return dims


def _linear(t, st, c, sc, so, value, trace):
    """A contraction linear in the traced operand t: out[o] = sum c[..] t[..]. The recipe of
    each output element lists the elements of t met by nonzero entries of c."""
    numeric = trace.numeric
    dims = _dims([st, sc], [t.shape, c.shape])
    # the nonzero entries of c as values of the letters they fix (a repeated letter: the
    # diagonal); an axis of length 1 that broadcasts fixes nothing
    fixed = [k for k, ch in enumerate(sc) if c.shape[k] == dims[ch]]
    cc = c.reshape(tuple(c.shape[k] for k in fixed)) if len(fixed) != c.ndim else c
    coords = {}
    if cc.ndim == 0:
        keep = np.array([cc != 0]).reshape(1)
        coef = cc.reshape(1)[keep]
    else:
        nz = np.nonzero(cc)
        keep = np.ones(nz[0].shape, bool)
        for k, idx in zip(fixed, nz):
            ch = sc[k]
            if ch in coords:
                keep &= coords[ch] == idx
            else:
                coords[ch] = idx
        coords = {ch: v[keep] for ch, v in coords.items()}
        coef = cc[nz][keep]
    K = coef.size
    # the letters c does not fix run over their whole range
    free = [ch for ch in dict.fromkeys(st + so) if ch not in coords]
    grids = np.indices(tuple(dims[ch] for ch in free), dtype=_I64).reshape(len(free), -1) \
        if free else np.zeros((0, 1), _I64)
    F = grids.shape[1]
    letter = {ch: np.broadcast_to(coords[ch][:, None], (K, F)) for ch in coords}
    for ch, g in zip(free, grids):
        letter[ch] = np.broadcast_to(g[None, :], (K, F))

    def flat(spec, shape):
        if not spec:
            return np.zeros((K, F), _I64)
        idx = tuple(np.zeros((K, F), _I64) if d == 1 else letter[ch]
                    for ch, d in zip(spec, shape))
        return np.ravel_multi_index(idx, shape).astype(_I64)
    out_shape = value.shape
    o = flat(so, out_shape).reshape(-1)
    ti = flat(st, t.shape).reshape(-1)
    cf = np.broadcast_to(coef[:, None], (K, F)).reshape(-1)
    order = np.argsort(o, kind="stable")
    o, ti, cf = o[order], ti[order], cf[order]
    m = value.size
    rptr = np.zeros(m + 1, _I64)
    np.cumsum(np.bincount(o, minlength=m), out=rptr[1:])

    def part(r, segs, scale):
        refs = r.reshape(-1)[ti]
        coefs = None if not numeric else cf * scale.reshape(-1)[ti]
        if not segs:
            return T._empty_store(numeric, m)
        return T._setops.merge(list(segs), rptr, refs, coefs, m, 0, numeric)
    new = np.arange(m, dtype=_I64).reshape(out_shape)
    ones = np.ones(out_shape) if numeric else None
    s1 = (part(t.r1, t.s1, t.c1),)
    if trace.order == 1:
        return T.make(value, new, s1, ones, None, None, None, trace)
    if not t.s2:
        return T.make(value, new, s1, ones, *T.no_pairs(out_shape, numeric), trace)
    s2 = (part(t.r2, t.s2, t.c2),)
    return T.make(value, new, s1, ones, new.copy(), s2, ones, trace)


def _both(ta, tb, sa, sb, so, value, trace):
    """Both operands traced: every point of the contraction is one product a*b."""
    numeric = trace.numeric
    letters = list(dict.fromkeys(so)) + [ch for ch in dict.fromkeys(sa + sb) if ch not in so]
    full = "".join(letters)
    dims = _dims([sa, sb], [ta.shape, tb.shape])
    m = value.size
    K = int(np.prod([dims[ch] for ch in letters[len(so):]])) if len(letters) > len(so) else 1

    def spread(x, spec):
        """Element numbers of operand x at each point of the contraction."""
        ids = np.arange(x.size, dtype=_I64).reshape(x.shape)
        missing = [ch for ch in letters if ch not in spec]
        ones = np.ones(tuple(dims[ch] for ch in missing), _I64)
        sub = f"{spec},{''.join(missing)}->{full}" if missing else f"{spec}->{full}"
        r = np.einsum(sub, ids, ones) if missing else np.einsum(sub, ids)
        return np.ascontiguousarray(np.broadcast_to(r, tuple(dims[ch] for ch in letters)))
    ia = spread(ta, sa).reshape(-1)
    ib = spread(tb, sb).reshape(-1)
    segs, (ra, rb) = T.unite([(ta.r1.reshape(-1)[ia], ta.s1), (tb.r1.reshape(-1)[ib], tb.s1)])
    refs = np.concatenate([ra.reshape(m, K), rb.reshape(m, K)], axis=1).reshape(-1)
    va = ta.value.reshape(-1)[ia]
    vb = tb.value.reshape(-1)[ib]
    coefs = None
    if numeric:
        ca = ta.c1.reshape(-1)[ia]
        cb = tb.c1.reshape(-1)[ib]
        coefs = np.concatenate([(ca * vb).reshape(m, K), (cb * va).reshape(m, K)],
                               axis=1).reshape(-1)
    s1 = (T.merge(segs, refs, coefs, m, 2 * K, numeric),)
    shape = value.shape
    new = np.arange(m, dtype=_I64).reshape(shape)
    ones = np.ones(shape) if numeric else None
    if trace.order == 1:
        return T.make(value, new, s1, ones, None, None, None, trace)
    # pairs: the operands' own (scaled by the other factor) and set(a) x set(b) per product
    pairs = T.outer(segs, ra, rb, None if not numeric else ca * cb, m, K, trace.n, numeric)
    if not ta.s2 and not tb.s2:
        return T.make(value, new, s1, ones, new.copy(), (pairs,), ones, trace)
    segs2, (pa, pb, pn) = T.unite([(ta.r2.reshape(-1)[ia], ta.s2),
                                   (tb.r2.reshape(-1)[ib], tb.s2),
                                   (np.arange(m, dtype=_I64), (pairs,))])
    refs2 = np.concatenate([pa.reshape(m, K), pb.reshape(m, K), pn[:, None]],
                           axis=1).reshape(-1)
    coefs2 = None
    if numeric:
        c2a = ta.c2.reshape(-1)[ia]
        c2b = tb.c2.reshape(-1)[ib]
        coefs2 = np.concatenate([(c2a * vb).reshape(m, K), (c2b * va).reshape(m, K),
                                 np.ones((m, 1))], axis=1).reshape(-1)
    s2 = (T.merge(segs2, refs2, coefs2, m, 2 * K + 1, numeric),)
    return T.make(value, new, s1, ones, new.copy(), s2, ones, trace)


# ---- the products of numpy ----------------------------------------------------------------

def _refuse(func, kwargs):
    bad = [k for k, v in kwargs.items()
           if not (k == "dtype" and v in (None, float, np.float64))
           and not (k in ("order", "casting") and v in ("K", "safe", "same_kind"))]
    if bad:
        raise TypeError(f"numpy.{func.__name__}(..., {', '.join(k + '=' for k in bad)}) is not "
                        "supported on traced values; drop the keyword")


@implements(np.matmul, getattr(np.linalg, "matmul", None))
def matmul(a, b, /, out=None, **kwargs):
    _no_out(np.matmul, out)
    _refuse(np.matmul, kwargs)
    na, nb = _ndim(a), _ndim(b)
    if na == 0 or nb == 0:
        raise ValueError("matmul: Input operand does not have enough dimensions")
    value = np.matmul(value_of(a), value_of(b))
    sa = "...mn" if na > 1 else "n"
    sb = "...np" if nb > 1 else "n"
    so = "..." + ("m" if na > 1 else "") + ("p" if nb > 1 else "")
    return _spec_product(a, b, f"{sa},{sb}->{so}", value)


T.UFUNCS[np.matmul] = matmul


def _spec_product(a, b, subscripts, value=None):
    (sa, sb), so = _parse_einsum(subscripts, [np.broadcast_to(0.0, _shape(a)),
                                              np.broadcast_to(0.0, _shape(b))])
    return bilinear(a, b, sa, sb, so, value)


@implements(np.dot)
def dot(a, b, out=None):
    _no_out(np.dot, out)
    na, nb = _ndim(a), _ndim(b)
    value = np.dot(value_of(a), value_of(b))
    if na == 0 or nb == 0:
        return a * b
    sa = _LETTERS[:na]
    sb = (_LETTERS[na:na + nb - 2] + sa[-1] + _LETTERS[na + nb - 2]) if nb >= 2 else sa[-1]
    so = sa[:-1] + sb.replace(sa[-1], "")
    return bilinear(a, b, sa, sb, so, value)


@implements(np.inner)
def inner(a, b):
    na, nb = _ndim(a), _ndim(b)
    if na == 0 or nb == 0:
        return a * b
    sa = _LETTERS[:na - 1] + "z"
    sb = _LETTERS[na - 1:na + nb - 2] + "z"
    return bilinear(a, b, sa, sb, sa[:-1] + sb[:-1], np.inner(value_of(a), value_of(b)))


@implements(np.outer)
def outer(a, b, out=None):
    _no_out(np.outer, out)
    return bilinear(FUNCTIONS[np.ravel](a), FUNCTIONS[np.ravel](b), "i", "j", "ij")


if getattr(np.linalg, "outer", None) is not None:
    @implements(np.linalg.outer)
    def linalg_outer(x1, x2, /):
        if _ndim(x1) != 1 or _ndim(x2) != 1:
            raise ValueError("numpy.linalg.outer: input arrays must be one-dimensional")
        return outer(x1, x2)


@implements(np.vdot)
def vdot(a, b):
    return bilinear(FUNCTIONS[np.ravel](a), FUNCTIONS[np.ravel](b), "i", "i", "")


@implements(np.tensordot, getattr(np.linalg, "tensordot", None))
def tensordot(a, b, axes=2, **kw):
    axes = kw.pop("axes", axes)
    return bilinear(a, b, *tensordot_subscripts(_shape(a), _shape(b), axes))


@implements(np.einsum)
def einsum(*operands, out=None, optimize=False, **kwargs):
    _no_out(np.einsum, out)
    _refuse(np.einsum, kwargs)
    if not operands or not isinstance(operands[0], str):
        raise TypeError("einsum on traced arrays takes the subscripts string form "
                        "('ij,jk->ik', a, b)")
    sub, ops = operands[0], list(operands[1:])
    specs, so = _parse_einsum(sub, [np.broadcast_to(0.0, _shape(o)) for o in ops])
    if len(ops) == 1:
        return _one(ops[0], specs[0], so)
    if len(ops) == 2:
        return bilinear(ops[0], ops[1], specs[0], specs[1], so)
    value = np.einsum(sub, *[value_of(o) for o in ops])
    r = contract(ops, specs, so, [_shape(o) for o in ops], _one, bilinear)
    return _revalue(r, value)


def _revalue(t, value):
    """t with numpy's own value (a pairwise evaluation may round differently)."""
    t = lift(t)
    if t is None:
        return value
    return T.make(np.asarray(value, dtype=np.float64), t.r1, t.s1, t.c1, t.r2, t.s2, t.c2,
                  t.ctx)


def _one(op, spec, so):
    """A one-operand einsum: a linear map (trace, transpose, sums): a contraction with ones."""
    dims = dict(zip(spec, _shape(op)))
    if lift(op) is None:
        return np.einsum(f"{spec}->{so}", T.const(op))
    value = np.einsum(f"{spec}->{so}", lift(op).value)
    ones = np.ones(tuple(dims[ch] for ch in dict.fromkeys(spec)))
    return bilinear(op, ones, spec, "".join(dict.fromkeys(spec)), so, value)


@implements(getattr(np.linalg, "vecdot", None))
def vecdot(x1, x2, /, *, axis=-1):
    a1, a2 = _axes(axis, _ndim(x1))[0], _axes(axis, _ndim(x2))[0]
    if _shape(x1)[a1] != _shape(x2)[a2]:
        raise ValueError("numpy.linalg.vecdot: the vectors differ in length")
    return sum_(FUNCTIONS[np.moveaxis](x1, a1, -1) * FUNCTIONS[np.moveaxis](x2, a2, -1), axis=-1)


@implements(np.cross)
def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """numpy.cross component by component (products of the operands' entries)."""
    if axis is not None:
        axisa, axisb, axisc = (axis,) * 3
    value = np.cross(value_of(a), value_of(b), axisa, axisb, axisc)
    a = FUNCTIONS[np.moveaxis](a, axisa, -1)
    b = FUNCTIONS[np.moveaxis](b, axisb, -1)
    na, nb = _shape(a)[-1], _shape(b)[-1]
    a0, a1, b0, b1 = a[..., 0], a[..., 1], b[..., 0], b[..., 1]
    c2 = a0 * b1 - a1 * b0
    if na == 2 and nb == 2:
        return c2
    zero = 0.0
    a2 = a[..., 2] if na == 3 else zero
    b2 = b[..., 2] if nb == 3 else zero
    c0, c1 = a1 * b2 - a2 * b1, a2 * b0 - a0 * b2
    out = FUNCTIONS[np.stack]([c0, c1, c2], axis=-1)
    return FUNCTIONS[np.moveaxis](out, -1, axisc % np.ndim(value))


if getattr(np.linalg, "cross", None) is not None:
    @implements(np.linalg.cross)
    def linalg_cross(x1, x2, /, *, axis=-1):
        np.linalg.cross(value_of(x1), value_of(x2), axis=axis)       # numpy's checks
        return cross(x1, x2, axis=axis)


@implements(np.linalg.multi_dot)
def multi_dot(arrays, *, out=None):
    _no_out(np.linalg.multi_dot, out)
    arrays = list(arrays)
    if len(arrays) < 2:
        raise ValueError("numpy.linalg.multi_dot: expecting at least two arrays.")
    r = arrays[0]
    for a in arrays[1:]:
        r = FUNCTIONS[np.dot](r, a)
    return _revalue(r, np.linalg.multi_dot([value_of(a) for a in arrays]))


@implements(np.linalg.matrix_power)
def matrix_power(a, n):
    value = np.linalg.matrix_power(value_of(a), n)
    if n < 0:
        return _dense_matrix(np.linalg.inv, a, value)
    if n == 0:
        return value
    r = a
    for _ in range(n - 1):
        r = matmul(r, a)
    return r


# ---- numpy.linalg: mixing within each matrix ----------------------------------------------

def _leaves(res, make):
    """numpy's result (an array or a tuple / namedtuple of arrays) with each float array
    replaced by make(array); integer results (ranks) stay plain."""
    if isinstance(res, tuple):
        items = [_leaves(r, make) for r in res]
        return type(res)(*items) if hasattr(res, "_fields") else tuple(items)
    arr = np.asarray(res)
    if arr.dtype.kind == "c":
        raise TracerUnsupported("complex results (eig, eigvals of a non-symmetric matrix) "
                                "cannot be traced; use eigh or eigvalsh")
    if arr.dtype.kind != "f":
        return res
    return make(arr)


def _dense_matrix(func, a, result, core=2):
    """func's result for one traced (stack of) matrices a: every output element depends on
    all of its own matrix (the batch axes before the last `core` ones are kept apart)."""
    t = lift(a)
    if t is None:
        return result
    nb = t.ndim - core
    per = T.reduce_groups(t, tuple(range(max(nb, 0), t.ndim)), False,
                          np.zeros(t.shape[:max(nb, 0)]), nonlinear=True)

    def make(arr):
        lead = arr.shape[:max(nb, 0)]
        if lead != per.shape:
            return T.dense([t], arr, t.ctx)
        expand = (Ellipsis,) + (None,) * (arr.ndim - len(lead))
        r = T.structural(per, lambda x: np.broadcast_to(x[expand], arr.shape))
        return T.make(np.asarray(arr, dtype=np.float64), r.r1, r.s1, r.c1, r.r2, r.s2, r.c2,
                      r.ctx)
    return _leaves(result, make)


def _dense_all(result, arrays):
    ts = [lift(a) for a in arrays]
    trace = T.common_trace(ts)
    if trace is None:
        return result
    return _leaves(result, lambda arr: T.dense(ts, arr, trace))


def _plain(x):
    t = lift(x) if not isinstance(x, (np.ndarray, float, int)) else None
    return t.value if t is not None else x


def _one_matrix(func):
    def handler(a, *args, **kwargs):
        result = func(value_of(a), *[_plain(x) for x in args],
                      **{k: _plain(v) for k, v in kwargs.items()})
        return _dense_matrix(func, a, result)
    return handler


LA = np.linalg
for _f in (LA.inv, LA.det, LA.slogdet, LA.cholesky, LA.eigh, LA.eigvalsh, LA.svd, LA.qr,
           LA.pinv, LA.cond, getattr(LA, "svdvals", None), getattr(LA, "matrix_norm", None)):
    if _f is not None:
        implements(_f)(_one_matrix(_f))


def _real_spectrum(name):
    """eig, eigvals: every output element depends on the whole matrix, where the spectrum is
    real; a complex one raises as on dual arrays (the value= of its rule in
    dualdiff/_jvp/linalg.py)."""
    func = getattr(LA, name)

    def handler(a):
        from dualdiff._jvp.linalg_svd import RULES
        return _dense_matrix(func, a, RULES[name].value(func(value_of(a))))
    return handler


implements(LA.eig)(_real_spectrum("eig"))
implements(LA.eigvals)(_real_spectrum("eigvals"))


@implements(LA.matrix_rank)
def matrix_rank(A, tol=None, hermitian=False, *, rtol=None):
    extra = {} if rtol is None else {"rtol": _plain(rtol)}
    return LA.matrix_rank(value_of(A), tol=_plain(tol), hermitian=hermitian, **extra)


def _several(func):
    def handler(*arrays, **kwargs):
        result = func(*[value_of(a) for a in arrays], **{k: _plain(v) for k, v in kwargs.items()})
        return _dense_all(result, arrays)
    return handler


for _f in (LA.solve, LA.lstsq, getattr(LA, "tensorsolve", None)):
    if _f is not None:
        implements(_f)(_several(_f))


if getattr(LA, "tensorinv", None) is not None:
    @implements(LA.tensorinv)
    def tensorinv(a, ind=2):
        return _dense_all(LA.tensorinv(value_of(a), ind), [a])


@implements(LA.norm)
def norm(x, ord=None, axis=None, keepdims=False):
    value = LA.norm(value_of(x), ord, axis, keepdims)
    t = lift(x)
    nd = t.ndim
    if axis is None:
        ax = tuple(range(nd)) if (ord is None or nd == 1) else (nd - 2, nd - 1)
    else:
        ax = _axes(axis, nd)
    return _norm(t, ax, keepdims, value, ord in (None, 2, "fro") and (
        ord != 2 or len(ax) == 1))


if getattr(LA, "vector_norm", None) is not None:
    @implements(LA.vector_norm)
    def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
        value = LA.vector_norm(value_of(x), axis=axis, keepdims=keepdims, ord=ord)
        t = lift(x)
        return _norm(t, _axes(axis, t.ndim), keepdims, value, ord == 2)


def _norm(t, ax, keepdims, value, euclidean):
    """A norm over axes ax: a nonlinear reduction (all pairs of each group). Numeric mode
    follows the Euclidean norm's composition sqrt(sum(x*x)) away from zero."""
    if not t.ctx.numeric:
        return T.reduce_groups(t, ax, keepdims, np.asarray(value, dtype=np.float64),
                               nonlinear=True)
    if not euclidean or np.any(np.asarray(value) == 0):
        raise TracerUnsupported("sparse second derivatives of this norm (a non-Euclidean "
                                "order, or a norm at zero)")
    r = np.sqrt(sum_(t * t, ax, keepdims=keepdims))
    return T.make(np.asarray(value, dtype=np.float64), r.r1, r.s1, r.c1, r.r2, r.s2, r.c2,
                  r.ctx)
