# The API the whole-array rules (dualdiff/_jvp) and the NumPy surface (dualdiff/_numpy) are
# written against: dense parts, rebuilding, linear maps of every part, joins of several
# operands, and the (primal, tangent) view that lets one rule serve both orders. Included by
# _arrays.pyx.


def parts(DualArray x):
    """The dense tangent parts of x: [e1] (order 1) or [e1, e2, e12] (order 2)."""
    return _parts(x)


def rebuild(DualArray like, value, parts, int tag=-1):
    """A dual array of like's order and directions from a value and dense parts."""
    return _rebuild(like, value, list(parts), tag)


def ndir(int p):
    """How many trailing direction axes part p has (e1, e2: 1; e12: 2)."""
    return _ndir(p)


def directions(DualArray x):
    """(k1, k2) of x; k2 is 0 for a first-order array."""
    return _k1(x), _k2(x)


def linear(x, fn):
    """A linear map of x: fn(array, ndir) is applied to the value (ndir 0) and to every part
    (ndir trailing direction axes it must leave in place). A constant x gives a constant."""
    cdef DualArray d = _lift(x)
    if d is None:
        return fn(_const(x), 0)
    return _rebuild(d, fn(d.value, 0), [fn(t, _ndir(p)) for p, t in enumerate(_parts(d))], -1)


def join(arrays, fn):
    """fn(list of arrays, ndir) joining the values and each part alike (concatenate, stack,
    where, ...); constant operands join with zero tangents. All constant: the plain join."""
    cdef DualArray first, d
    cdef int tag
    ds = [_lift(a) for a in arrays]
    first, tag = like(*ds)
    if first is None:
        return fn([_const(a) for a in arrays], 0)
    full = []
    for a, o in zip(arrays, ds):
        if o is None:
            c = _const(a)
            full.append(_rebuild(first, c, _zero_parts(first, c.shape), tag))
        else:
            full.append(o)
    value = fn([(<DualArray>o).value for o in full], 0)
    out = []
    for p in range(_nparts(first)):
        out.append(fn([_part(<DualArray>o, p) for o in full], _ndir(p)))
    return _rebuild(first, value, out, tag)


def as_pair(DualArray x):
    """x as (primal, tangent) for a generic rule: order 1 gives (value, e1), plain arrays;
    order 2 gives two first-order dual arrays over the e2 directions: the primal (value, e2)
    and the tangent (e1, e12), whose value has shape S + (k1,). A rule run on that pair
    computes, by its own first-order arithmetic, every part of the second-order result."""
    _densify(x)
    if x.order == 1:
        return x.value, x.e1
    return _new(x.value, x.e2, None, None, x.tag), _new(x.e1, x.e12, None, None, x.tag)


def from_pair(out, tout, DualArray like, int tag):
    """The inverse of as_pair for a rule's result: `out` (the value) and `tout` (the tangent,
    shape out.shape + (k1,)) in like's layout; tout None means nothing moves (a constant)."""
    if like.order == 1:
        if tout is None:
            return out
        return _new(np.asarray(out, dtype=_F64), np.asarray(tout, dtype=_F64), None, None, tag)
    # order 2: out carries (value, e2) and tout carries (e1, e12), each a first-order dual
    # array over the e2 directions or a constant
    value, e2 = _pair_parts(out)
    if tout is None:
        if e2 is None:
            return value
        e1, e12 = None, None
    else:
        e1, e12 = _pair_parts(tout)
    k1, k2 = _k1(like), _k2(like)
    e2 = np.zeros(value.shape + (k2,)) if e2 is None else e2
    e1 = np.zeros(value.shape + (k1,)) if e1 is None else e1
    e12 = np.zeros(value.shape + (k1, k2)) if e12 is None else e12
    return _new(value, np.asarray(e1, dtype=_F64), np.asarray(e2, dtype=_F64),
                np.asarray(e12, dtype=_F64), tag)


cdef tuple _pair_parts(object o):
    """(value, e1 part or None) of a first-order dual array or a constant."""
    cdef DualArray d = _lift(o)
    if d is None:
        return np.asarray(_const(o), dtype=_F64), None
    _densify(d)
    return d.value, d.e1


def apply_rule(rule, tuple args, dict params=None, tuple nondiff=()):
    """A whole-array rule (dualdiff/_jvp) applied to arguments of which some are dual.

    Constant arguments (plain arrays, numbers, dual arrays without a tangent) reach the rule
    as float arrays with a None tangent; `nondiff` lists argument positions passed through
    untouched (integer counts, index arrays). Returns the rule's output in dual form: a dual
    array, a plain array when nothing moved, a tuple (or namedtuple) of those for several
    outputs; None when no argument is dual (the caller computes the plain result)."""
    cdef list duals = [], primals = [], tangents = []
    cdef DualArray first = None, d
    cdef int tag = 0, i
    for i in range(len(args)):
        o = None if i in nondiff else _lift(args[i])
        duals.append(o)
        if o is not None:
            if first is None:
                first = o
                tag = first.tag
            else:
                tag = join_tags(tag, _check_pair(first, <DualArray>o))
    if first is None:
        return None
    for i in range(len(args)):
        o = duals[i]
        if o is not None:
            d = o
            _densify(d)
            if d.order == 1:
                primals.append(d.value)
                tangents.append(d.e1)
            else:
                primals.append(_new(d.value, d.e2, None, None, d.tag))
                tangents.append(_new(d.e1, d.e12, None, None, d.tag))
        else:
            primals.append(args[i] if i in nondiff else _const(args[i]))
            tangents.append(None)
    if params:
        out, tout = rule(tuple(primals), tuple(tangents), **params)
    else:
        out, tout = rule(tuple(primals), tuple(tangents))
    if type(out) is tuple or isinstance(out, tuple):
        made = tuple(from_pair(o, t, first, tag) for o, t in zip(out, tout))
        return type(out)(*made) if hasattr(out, "_fields") else made
    return from_pair(out, tout, first, tag)


def to_scalar(o):
    """A 0-d dual array as the compiled scalar: Dual or HyperDual for one direction,
    DualVec or HyperDualVec for several. Anything else is returned as it is."""
    cdef DualArray d
    cdef cnp.ndarray e1, e2, e12
    if type(o) is not DualArray:
        return o
    d = o
    if d.value.ndim != 0:
        return o
    _densify(d)
    e1 = _contig(d.e1)
    if d.order == 1:
        if _k1(d) == 1:
            return make_dual(float(d.value), _ptr(e1)[0], d.tag)
        return make_dualvec(float(d.value), _k1(d), _ptr(e1), d.tag)
    e2, e12 = _contig(d.e2), _contig(d.e12)
    if _k1(d) == 1 and _k2(d) == 1:
        return make_hyper(float(d.value), _ptr(e1)[0], _ptr(e2)[0], _ptr(e12)[0], d.tag)
    return make_hypervec(float(d.value), _k1(d), _k2(d), _ptr(e1), _ptr(e2), _ptr(e12), d.tag)
