# Dispatch shared by dd.NAME functions and numpy's ufuncs on the scalar types: which rule,
# which type, what a mixed or foreign operand becomes. Included by _core.pyx (plain Cython,
# no template: the per-type code stays in _core.pyx.tp).


# An operand of another array library that takes dualdiff's rules itself (the sparsity
# tracer, dualdiff/_tracer.py) defines __dd_rule__(self, name, args): dd.NAME(*args) of the
# rule table is handed to it by name, as numpy hands a ufunc to __array_ufunc__.

cdef object _foreign(object o):
    """The operand that takes dualdiff's rules itself (__dd_rule__) in o, or None: o itself, or
    an element of an object array (np.array([x[0], x[1]]) in loop-style code under the
    sparsity tracer, which the tracer assembles into one traced array)."""
    if type(o) is not np.ndarray:
        return o if hasattr(type(o), "__dd_rule__") else None
    if o.dtype.kind != "O":
        return None
    for e in o.flat:
        if hasattr(type(e), "__dd_rule__"):
            return e
        if is_scalar_dual(e):
            return None
    return None


cdef object _apply_unary(int code, object x):
    cdef double v
    if type(x) is Dual:
        return _unary_Dual(code, (<Dual>x).v, (<Dual>x).tag)
    if type(x) is HyperDual:
        return _unary_HyperDual(code, (<HyperDual>x).v, (<HyperDual>x).tag)
    if type(x) is DualVec:
        return _unary_DualVec(code, <DualVec>x)
    if type(x) is HyperDualVec:
        return _unary_HyperDualVec(code, <HyperDualVec>x)
    if is_real(x):
        v = float(x)
        r = dd_unary_jets[code](v).f
        if not isfinite(r) and isfinite(v):
            _replay(_NP_UNARY[code], v, 0.0, 1)
        # a numpy scalar in, a numpy scalar out (np.sum's result meeting dd.relu keeps .max()
        # and the rest of numpy's scalar methods, as np.maximum's would); Python numbers stay
        return r if type(x) is float or PyLong_Check(x) else np.float64(r)
    h = _foreign(x)
    if h is not None:
        return type(h).__dd_rule__(h, _UNARY_NAMES[code], (x,))
    return _array_unary(code, x)


cdef object _apply_binary(int code, object a, object b):
    cdef double x, y
    if type(a) is Dual or type(b) is Dual:
        r = _binary_Dual(code, a, b)
    elif type(a) is HyperDual or type(b) is HyperDual:
        r = _binary_HyperDual(code, a, b)
    elif type(a) is DualVec or type(b) is DualVec:
        r = _binary_DualVec(code, a, b)
    elif type(a) is HyperDualVec or type(b) is HyperDualVec:
        r = _binary_HyperDualVec(code, a, b)
    elif is_real(a) and is_real(b):
        x = float(a)
        y = float(b)
        if code == DD_B_power:
            r = _real_power(x, y)
        else:
            r = dd_binary_jets[code](x, y).f
            if not isfinite(r) and isfinite(x) and isfinite(y):
                _replay(_NP_BINARY[code], x, y, 2)
        python = (type(a) is float or PyLong_Check(a)) and (type(b) is float or PyLong_Check(b))
        return r if python else np.float64(r)
    else:
        for o in (a, b):
            h = _foreign(o)
            if h is not None:
                return type(h).__dd_rule__(h, _BINARY_NAMES[code], (a, b))
        return _array_binary(code, a, b)
    if r is NotImplemented:     # a dual with an array (or something that is not a number)
        return _array_binary(code, a, b)
    return r


cdef object _real_power(double x, double y):
    r = dd_jet_powc(x, y).f
    if not isfinite(r) and isfinite(x) and isfinite(y):
        _replay(np.power, x, y, 2)
    return r


# ufunc -> (kind, index) for __array_ufunc__ on scalars
cdef enum:
    K_UNARY, K_BINARY, K_OP, K_NEG, K_POS, K_CMP, K_PRED

cdef dict _UFUNCS = {}
for _i, (_n, _lo, _hi) in enumerate(UNARY_RULES):
    if isinstance(getattr(np, _n, None), np.ufunc):
        _UFUNCS[getattr(np, _n)] = (K_UNARY, _i)
for _i, (_n, _lo, _hi) in enumerate(BINARY_RULES):
    if isinstance(getattr(np, _n, None), np.ufunc):
        _UFUNCS[getattr(np, _n)] = (K_BINARY, _i)
_UFUNCS.update({
    np.add: (K_OP, OP_ADD), np.subtract: (K_OP, OP_SUB), np.multiply: (K_OP, OP_MUL),
    np.true_divide: (K_OP, OP_DIV), np.power: (K_OP, OP_POW), np.float_power: (K_OP, OP_POW),
    np.negative: (K_NEG, 0), np.positive: (K_POS, 0), np.fabs: (K_UNARY, UNARY_INDEX["abs"]),
    np.less: (K_CMP, 0), np.less_equal: (K_CMP, 1), np.equal: (K_CMP, 2),
    np.not_equal: (K_CMP, 3), np.greater: (K_CMP, 4), np.greater_equal: (K_CMP, 5),
    np.isnan: (K_PRED, 0), np.isinf: (K_PRED, 1), np.isfinite: (K_PRED, 2),
    np.signbit: (K_PRED, 3),
})
cdef dict _UNARY_UFUNCS = {u: e[1] for u, e in _UFUNCS.items() if e[0] == K_UNARY}

# The same map as an open-addressing table keyed by the ufunc's address (the ufuncs are
# numpy's module-level singletons, kept alive by the dict above).
cdef enum:
    _UT_SLOTS = 256
cdef void *_ut_keys[256]
cdef int _ut_vals[256]


cdef inline size_t _ut_slot(void *key):
    return (<size_t>key >> 5) & (_UT_SLOTS - 1)


cdef inline int _unary_code(object ufunc):
    cdef void *key = <void*>ufunc
    cdef size_t h = _ut_slot(key)
    while _ut_keys[h] != NULL:
        if _ut_keys[h] == key:
            return _ut_vals[h]
        h = (h + 1) & (_UT_SLOTS - 1)
    return -1


cdef void _ut_fill():
    cdef size_t h
    for u, code in _UNARY_UFUNCS.items():
        h = _ut_slot(<void*>u)
        while _ut_keys[h] != NULL:
            h = (h + 1) & (_UT_SLOTS - 1)
        _ut_keys[h] = <void*>u
        _ut_vals[h] = code


_ut_fill()


cdef object _scalar_ufunc(object ufunc, object method, tuple inputs, dict kwargs):
    """numpy ufuncs on scalars: the rule table's ufuncs, arithmetic, comparisons and
    predicates here; everything else (arrays, keywords, methods, other ufuncs) in _arrays."""
    entry = _UFUNCS.get(ufunc)
    if entry is None or method != "__call__" or kwargs:
        return _array_ufunc(ufunc, method, inputs, kwargs)
    for x in inputs:
        if not (is_scalar_dual(x) or is_real(x)):
            if _is_real_0d(x):      # numpy passes a float64 as a 0-d array to comparisons
                inputs = tuple(float(y) if _is_real_0d(y) else y for y in inputs)
                break
            return _array_ufunc(ufunc, method, inputs, kwargs)
    kind, index = entry
    if kind == K_UNARY:
        return _apply_unary(index, inputs[0])
    if kind == K_BINARY:
        return _apply_binary(index, inputs[0], inputs[1])
    a = inputs[0]
    if kind == K_OP:
        b = inputs[1]
        if type(a) is HyperDual or type(b) is HyperDual:
            r = _binop_HyperDual(index, a, b)
        elif type(a) is DualVec or type(b) is DualVec:
            r = _binop_DualVec(index, a, b)
        elif type(a) is HyperDualVec or type(b) is HyperDualVec:
            r = _binop_HyperDualVec(index, a, b)
        else:
            r = _binop_Dual(index, a, b)
        if r is NotImplemented:         # duals of two kinds: the array path says why
            return _array_ufunc(ufunc, method, inputs, kwargs)
        return r
    if kind == K_NEG:
        return -a
    if kind == K_POS:
        return a
    if kind == K_CMP:
        return _verdict(_compare(_real_part(a), _real_part(inputs[1]), index))
    x = _real_part(a)
    return (np.isnan, np.isinf, np.isfinite, np.signbit)[index](x)


cdef inline bint _is_real_0d(object o):
    """A 0-d real array numpy passes for a scalar; a longdouble one is left to the array path,
    which refuses it by name (real_value)."""
    return isinstance(o, np.ndarray) and o.ndim == 0 and o.dtype.kind in "fiu" \
        and o.dtype.itemsize <= 8


cdef double _real_part(object o) except? -1.0:
    if type(o) is Dual:
        return (<Dual>o).v.re
    if type(o) is HyperDual:
        return (<HyperDual>o).v.re
    if type(o) is DualVec:
        return (<DualVec>o).re
    if type(o) is HyperDualVec:
        return (<HyperDualVec>o).re
    return float(o)


cpdef bint is_scalar_dual(object o):
    """A Dual, HyperDual, DualVec or HyperDualVec."""
    return type(o) is Dual or type(o) is HyperDual or type(o) is DualVec or \
        type(o) is HyperDualVec
