# The API the whole-array rules (dualdiff/_jvp) and the NumPy surface (dualdiff/_numpy) are
# written against: dense parts, rebuilding, linear maps of every part, joins of several
# operands, and the (primal, tangent) view that lets one rule serve every number of levels.
# Included by _arrays.pyx.


def parts(DualArray x):
    """The dense tangent parts of x (see the parts at the top of _arrays.pyx)."""
    return _parts(x)


def rebuild(DualArray like, value, parts, tags=None):
    """A dual array of like's levels and directions from a value and dense parts."""
    return _rebuild(like, value, list(parts), tags)


def ndir(int p):
    """How many trailing direction axes part p has (e1, e2: 1; e12: 2; ...)."""
    return _ndir(p)


def directions(DualArray x):
    """Each level's number of directions."""
    return _directions(x)


def linear(x, fn):
    """A linear map of x: fn(array, ndir) is applied to the value (ndir 0) and to every part
    (ndir trailing direction axes it must leave in place). A constant x gives a constant."""
    cdef DualArray d = _lift(x)
    if d is None:
        return fn(_const(x), 0)
    return _linear_parts(d, fn(d.value, 0), lambda t, p: fn(t, _ndir(p)))


cdef object _linear_parts(DualArray d, object value, object fn):
    """d's value mapped to `value` and each dense part t to fn(t, p) by one linear map: an
    absent part (_windows.pxi) stays absent, a zero that needs no map."""
    cdef int p
    if not d.windowed:
        return _rebuild(d, value, [fn(t, p) for p, t in enumerate(_parts(d))], None)
    return _assemble(d, value, [None if _absent(d, p) else fn(_dense_part(d, p), p)
                                for p in range(_nparts(d))])


def join(arrays, fn):
    """fn(list of arrays, ndir) joining the values and each part alike (concatenate, stack,
    where, ...); constant operands join with zero tangents. All constant: the plain join."""
    cdef DualArray first = None
    ds = _align([_lift(a) for a in arrays])
    for o in ds:
        if o is not None:
            first = o
            break
    if first is None:
        return fn([_const(a) for a in arrays], 0)
    consts = [None if o is not None else _const(a) for a, o in zip(arrays, ds)]
    value = fn([(<DualArray>o).value if o is not None else c for o, c in zip(ds, consts)], 0)
    ks = _directions(first)
    out = []
    for p in range(_nparts(first)):
        if all(o is None or _absent(<DualArray>o, p) for o in ds):
            out.append(None)        # zero in every operand: absent in the result too
            continue
        out.append(fn([_dense_part(<DualArray>o, p) if o is not None else
                       np.zeros(c.shape + _dirs_of(ks, p)) for o, c in zip(ds, consts)],
                      _ndir(p)))
    return _assemble(first, value, out)


# ---- the (primal, tangent) view ----------------------------------------------------------
# A dual array of m levels is a first-order dual number in its first level whose value and
# tangent are dual arrays of the other m - 1 levels: x = P + eps_1 T. A rule written for
# (primals, tangents) on plain arrays therefore runs unchanged one level down, and its own
# arithmetic computes every part of an m-level result (cross terms included).

def as_pair(DualArray x):
    """(P, T): one level gives the plain (value, e1); m levels give two dual arrays of the
    other m - 1 levels, T of value shape value.shape + (k1,)."""
    cdef int m, p
    _densify(x)
    if x.order == 1:
        return x.value, x.e1
    m = x.order
    own = _parts(x)
    # masks of the other levels, shifted down one bit: without level 1 in P, with it in T
    P = _new_levels(x.value, [own[(q << 1) - 1] for q in range(1, 1 << (m - 1))], x.tags[1:])
    T = _new_levels(own[0], [own[(q << 1)] for q in range(1, 1 << (m - 1))], x.tags[1:])
    return P, T


cdef object _checked(object r):
    """r after checking that every part has the value's shape plus its direction axes: a
    rule returning a tangent of another shape (a bug, or a user's custom rule) must raise
    here, or the kernels would read past the end of a part."""
    cdef DualArray d
    cdef int p, j, nd
    if type(r) is not DualArray:
        return r
    d = r
    nd = d.value.ndim
    ks = _directions(d)
    for p in range(_nparts(d)):
        t = _stored(d, p)
        want = d.value.shape + _dirs_of(ks, p)
        if (<cnp.ndarray>t).ndim != nd + _ndir(p) or t.shape != want:
            raise ValueError(f"a derivative rule returned a tangent of shape {t.shape} for a "
                             f"value of shape {d.value.shape} (expected {want}); the rule is "
                             "wrong for these arguments")
    return r


def from_pair(out, tout, DualArray like, tuple tags):
    """The inverse of as_pair for a rule's result: `out` (the value) and `tout` (the tangent,
    shape out.shape + (k1,)) in levels `tags` (like's); tout None means nothing moves."""
    return _checked(_from_pair(out, tout, like, tags))


cdef object _from_pair(out, tout, DualArray like, tuple tags):
    if len(tags) == 1:
        if tout is None:
            return out
        return _new(np.asarray(out, dtype=_F64), np.asarray(tout, dtype=_F64), None, None, tags)
    rest = tags[1:]
    ks = _directions(like)
    po = _to_levels(out, rest, ks[1:])
    if tout is None:
        if po is None:
            return np.asarray(_const(out), dtype=_F64)
        value = (<DualArray>po).value
        pt = _new_levels(np.zeros(value.shape + (ks[0],)),
                         _zero_parts(<DualArray>po, value.shape + (ks[0],)), rest)
    else:
        pt = _to_levels(tout, rest, ks[1:])
        value = (<DualArray>po).value if po is not None else np.asarray(_const(out), dtype=_F64)
        if pt is None:
            c = np.asarray(_const(tout), dtype=_F64)
            pt = _new_levels(c, [np.zeros(c.shape + _dirs_of(ks[1:], q))
                                 for q in range((1 << len(rest)) - 1)], rest)
    if po is None:
        po = _new_levels(value, [np.zeros(value.shape + _dirs_of(ks[1:], q))
                                 for q in range((1 << len(rest)) - 1)], rest)
    po_parts, pt_parts = _parts(<DualArray>po), _parts(<DualArray>pt)
    parts = []
    for mask in range(1, 1 << len(tags)):
        if mask == 1:
            parts.append((<DualArray>pt).value)
        elif mask & 1:
            parts.append(pt_parts[(mask >> 1) - 1])
        else:
            parts.append(po_parts[(mask >> 1) - 1])
    return _new_levels(value, parts, tags)


cdef object _to_levels(object o, tuple tags, tuple ks):
    """o as a dual array of exactly these levels (promoted), or None if it is a constant."""
    cdef DualArray d = _lift(o)
    if d is None:
        return None
    if d.tags != tags:
        d = _promote(d, tags, ks)
    return d


def apply_rule(rule, tuple args, dict params=None, tuple nondiff=()):
    """A whole-array rule (dualdiff/_jvp) applied to arguments of which some are dual.

    Constant arguments (plain arrays, numbers, dual arrays without a tangent) reach the rule
    as float arrays with a None tangent; `nondiff` lists argument positions passed through
    untouched (integer counts, index arrays). Returns the rule's output in dual form: a dual
    array, a plain array when nothing moved, a tuple (or namedtuple) of those for several
    outputs; None when no argument is dual (the caller computes the plain result)."""
    cdef list duals = [], primals = [], tangents = []
    cdef DualArray first = None
    cdef int i
    for i in range(len(args)):
        duals.append(None if i in nondiff else _lift(args[i]))
    duals = _align(duals)
    for o in duals:
        if o is not None:
            first = o
            break
    if first is None:
        return None
    for i in range(len(args)):
        o = duals[i]
        if o is not None:
            p, t = as_pair(<DualArray>o)
            primals.append(p)
            tangents.append(t)
        else:
            primals.append(args[i] if i in nondiff else _const(args[i]))
            tangents.append(None)
    if params:
        out, tout = rule(tuple(primals), tuple(tangents), **params)
    else:
        out, tout = rule(tuple(primals), tuple(tangents))
    if type(out) is tuple or isinstance(out, tuple):
        made = tuple(from_pair(o, t, first, first.tags) for o, t in zip(out, tout))
        return type(out)(*made) if hasattr(out, "_fields") else made
    return from_pair(out, tout, first, first.tags)


# ---- levels added and removed on top (what a nested transform does) ------------------------

def add_level(x, t, tag, Py_ssize_t lo=-1, Py_ssize_t hi=-1):
    """x + eps t: x with one more level on top, of tag `tag` (newer than x's levels), along
    directions t (x.shape + (k,)). t may itself be a dual value of x's levels (the directions
    of a nested jvp or hvp that depend on the outer transform's input). With a window lo..hi
    (t holds only those rows of a vector) on a one-level vector x, the result keeps windows
    (_windows.pxi), as a Hessian block does: a nested gradient's sweep then costs what the
    outer directions cost plus its own rows, not their product over every row."""
    cdef DualArray d = _lift(x), dt = _lift(t)
    cdef int m, mask, sub
    cdef Py_ssize_t wlo[3]
    cdef Py_ssize_t whi[3]
    if lo >= 0 and dt is None and d is not None and d.order == 1 and d.value.ndim == 1:
        t = np.asarray(t, dtype=_F64)
        _window(d, E1, &wlo[0], &whi[0])
        wlo[1], whi[1] = lo, hi
        wlo[2] = whi[2] = 0                 # e12 starts zero: an empty window
        return _new_windowed(d.value, [_stored(d, E1), t,
                                       np.zeros((0, _k1(d), t.shape[-1]))], wlo, whi,
                             d.tags + (tag,))
    if lo >= 0:                             # no windows here: every row stored
        full = np.zeros((np.shape(_arrays_value(x))[0], np.shape(t)[-1]))
        full[lo:hi] = t
        t = full
    if dt is None:
        t = np.asarray(_const(t), dtype=_F64)
        if d is None:
            return _new(np.asarray(_const(x), dtype=_F64), t, None, None, (tag,))
    elif d is None:
        v = np.asarray(_const(x), dtype=_F64)
        d = _new_levels(v, _zero_parts(dt, v.shape), dt.tags)  # x constant on t's levels
    if dt is not None:
        d, dt = _align([d, dt])
        t = dt.value
    m = d.order
    ks = _directions(d) + (t.shape[-1],)
    own = _parts(d)
    tparts = _parts(dt) if dt is not None else None
    nd = d.value.ndim
    parts = []
    for mask in range(1, 1 << (m + 1)):
        if mask < (1 << m):
            parts.append(own[mask - 1])
        elif mask == 1 << m:
            parts.append(t)
        elif tparts is not None:
            # t's part of the lower levels `sub`: its direction axis k goes last (top level)
            sub = mask - (1 << m)
            parts.append(np.moveaxis(tparts[sub - 1], nd, -1))
        else:
            parts.append(np.zeros(d.value.shape + _dirs_of(ks, mask - 1)))
    return _new_levels(d.value, parts, d.tags + (tag,))


cdef object _arrays_value(object x):
    cdef DualArray d = _lift(x)
    return d.value if d is not None else _const(x)


def drop_top(x, int levels=1):
    """x without its top `levels` levels: its value as a value of the levels below."""
    cdef DualArray d = _lift(x)
    cdef int m
    if d is None:
        return x
    m = d.order
    if m == levels:
        return d.value
    own = _parts(d)
    return _new_levels(d.value, [own[q - 1] for q in range(1, 1 << (m - levels))],
                       d.tags[:m - levels])


def peel_top(x, int levels=1):
    """The coefficient of the top `levels` levels' infinitesimals (one: eps_m; two: the
    product eps_{m-1} eps_m), as a value of the levels below, its directions moved in front:
    shape value.shape + (k_{m-1}, k_m). What a nested transform reads off its output."""
    cdef DualArray d = _lift(x)
    cdef int m, top, mask, q, nd
    if d is None:
        raise TypeError("peel_top: not a dual value")
    m = d.order
    own = _parts(d)
    nd = d.value.ndim
    top = ((1 << levels) - 1) << (m - levels)
    coeff = own[top - 1]
    if m == levels:
        return coeff
    parts = []
    for q in range(1, 1 << (m - levels)):
        t = own[(q | top) - 1]
        lower = _popcount(q)
        # the top levels' axes follow the lower levels' in storage: move them to the front
        parts.append(np.moveaxis(t, tuple(range(nd + lower, nd + lower + levels)),
                                 tuple(range(nd, nd + levels))))
    return _new_levels(coeff, parts, d.tags[:m - levels])


def to_scalar(o):
    """A 0-d dual array of one or two levels as the compiled scalar: Dual or HyperDual for
    one direction, DualVec or HyperDualVec for several. Anything else is returned as it is."""
    cdef DualArray d
    cdef cnp.ndarray e1, e2, e12
    if type(o) is not DualArray:
        return o
    d = o
    if d.value.ndim != 0 or d.order > 2:
        return o
    _densify(d)
    e1 = _contig(d.e1)
    if d.order == 1:
        if _k1(d) == 1:
            return make_dual(float(d.value), _ptr(e1)[0], d.tags[0])
        return make_dualvec(float(d.value), _k1(d), _ptr(e1), d.tags[0])
    e2, e12 = _contig(d.e2), _contig(d.e12)
    if _k1(d) == 1 and _k2(d) == 1:
        return make_hyper(float(d.value), _ptr(e1)[0], _ptr(e2)[0], _ptr(e12)[0], _key(d.tags))
    return make_hypervec(float(d.value), _k1(d), _k2(d), _ptr(e1), _ptr(e2), _ptr(e12),
                         _key(d.tags))
