# Operands: how anything a user passes meets the dual arrays -- lifting dual scalars,
# object arrays and lists of dual numbers to dual arrays, constants to float64 arrays in
# this machine's layout, values for comparisons. Included by _arrays.pyx.

cdef inline cnp.ndarray _empty(tuple shape):
    return np.empty(shape, dtype=_F64)


cdef cnp.ndarray _alloc(cnp.ndarray like, int extra1, int extra2):
    """An uninitialised float64 array of like's shape plus up to two trailing axes."""
    cdef cnp.npy_intp dims[72]
    cdef int nd = cnp.PyArray_NDIM(like)
    if nd:                           # a 0-d array's dims pointer may be NULL
        memcpy(dims, cnp.PyArray_DIMS(like), nd * sizeof(cnp.npy_intp))
    if extra1 >= 0:
        dims[nd] = extra1
        nd += 1
    if extra2 >= 0:
        dims[nd] = extra2
        nd += 1
    return cnp.PyArray_EMPTY(nd, dims, cnp.NPY_DOUBLE, 0)


cdef inline bint _same_shape(cnp.ndarray a, cnp.ndarray b):
    cdef int nd = cnp.PyArray_NDIM(a), i
    if nd != cnp.PyArray_NDIM(b):
        return False
    for i in range(nd):
        if cnp.PyArray_DIMS(a)[i] != cnp.PyArray_DIMS(b)[i]:
            return False
    return True


cdef inline bint _is_f64(cnp.ndarray a):
    """Doubles the kernels may read in place: float64 in this machine's byte order, aligned
    (numpy's type number alone says nothing of byte order or alignment)."""
    return cnp.PyArray_TYPE(a) == cnp.NPY_DOUBLE and cnp.PyArray_ISNOTSWAPPED(a) and \
        cnp.PyArray_ISALIGNED(a)


cdef inline cnp.ndarray _contig(cnp.ndarray a):
    if cnp.PyArray_IS_C_CONTIGUOUS(a) and _is_f64(a):
        return a
    return np.array(a, dtype=_F64, order="C")      # a copy: native, aligned, contiguous


cdef inline double* _ptr(cnp.ndarray a):
    return <double*>cnp.PyArray_DATA(a)


cdef inline double* _ptr_or_null(cnp.ndarray a):
    return NULL if a is None else <double*>cnp.PyArray_DATA(a)


def lift(o):
    """o as a dual array, or None when it is a constant (see _lift)."""
    return _lift(o)


def const(o):
    """A constant operand as a float64 array, or TypeError naming what it was."""
    return _const(o)


cdef object _lift(object o):
    """o as a dual array, or None when it is a constant: not dual at all, or a dual array
    without any stored tangent row (it then costs what a plain array costs)."""
    cdef double re
    cdef int k1, k2, order
    cdef long long key
    cdef double *e
    cdef HyperDual h
    if type(o) is DualArray:
        return None if _is_constant(<DualArray>o) else o
    if PyFloat_Check(o) or PyLong_Check(o):     # the usual constants, at once
        return None
    if type(o) is Dual:
        # the C fields, not the .real property: that one refuses numpy's frames (_core)
        return _new(np.array((<Dual>o).v.re, dtype=_F64),
                    np.array([(<Dual>o).v.eps], dtype=_F64), None, None, ((<Dual>o).tag,))
    if type(o) is HyperDual:
        h = <HyperDual>o
        return _new(np.array(h.v.re, dtype=_F64), np.array([h.v.e1], dtype=_F64),
                    np.array([h.v.e2], dtype=_F64), np.array([[h.v.e12]], dtype=_F64),
                    _levels2(h.tag))
    if type(o) is np.ndarray:
        return _lift_objects(o) if cnp.PyArray_TYPE(<cnp.ndarray>o) == cnp.NPY_OBJECT else None
    order = vec_parts(o, &re, &k1, &k2, &e, &key)
    if order == 0:
        if type(o) is list or type(o) is tuple:
            return _lift_objects(o)
        return None
    e1 = _from_ptr(e, (k1,))
    if order == 1:
        return _new(np.array(re), e1, None, None, (key,))
    return _new(np.array(re), e1, _from_ptr(e + k1, (k2,)), _from_ptr(e + k1 + k2, (k1, k2)),
                _levels2(key))


cdef inline tuple _levels2(long long key):
    """The two levels' tags of a second-order scalar's key."""
    return (key & 0xffffffff, key >> 32)


cdef inline long long _key(tuple tags):
    """The key of a scalar with these levels' tags (one or two)."""
    return tags[0] if len(tags) == 1 else level_key2(tags[0], tags[1])


cdef cnp.ndarray _from_ptr(const double *p, tuple shape):
    """A fresh float64 array of the given shape holding the doubles at p."""
    cdef cnp.ndarray a = np.empty(shape, dtype=_F64)
    memcpy(_ptr(a), p, cnp.PyArray_SIZE(a) * sizeof(double))
    return a


class WideFloatError(OperandError):
    """A float wider than float64 met dualdiff (see refuse_wide). Its own type so that the
    operators, which turn a constant they cannot use into NotImplemented, pass it on."""


def refuse_wide(object o, str what):
    """A TypeError when o is a float wider than float64 (longdouble). dualdiff computes in
    float64; rounding o quietly would lose the range and the digits numpy keeps for it
    ((1e300)**2 is finite in longdouble, inf here), a wrong number without a word."""
    if isinstance(o, (np.ndarray, np.generic)) and o.dtype.kind == "f" and o.dtype.itemsize > 8:
        raise WideFloatError(_core.wide_message(what, o.dtype.name), None)


cdef object _operand(object o):
    """_const for the operators: NotImplemented for an operand that is not numeric (Python
    then tries the other side), while a refusal (a longdouble) is raised as it is."""
    try:
        return _const(o)
    except (WideFloatError, SeriesPointsError):
        raise
    except TypeError:
        return NotImplemented


cdef object _const(object o):
    if type(o) is DualArray:                       # one without tangents (see lift)
        return (<DualArray>o).value
    if isinstance(o, np.ndarray):
        if cnp.PyArray_NDIM(<cnp.ndarray>o) and _called_by_series():
            series_points()
        if (<cnp.ndarray>o).dtype.kind in "fiub":
            if not _is_f64(o):
                refuse_wide(o, "a constant beside a dual array")
            return o if _is_f64(o) else np.array(o, dtype=_F64)
        if (<cnp.ndarray>o).dtype.kind == "O":         # plain numbers in an object array
            try:
                return np.array(o, dtype=_F64)
            except (TypeError, ValueError):
                pass
    elif PyFloat_Check(o) or PyLong_Check(o) or isinstance(o, (np.floating, np.integer, np.bool_)):
        refuse_wide(o, "a constant beside a dual array")
        return np.array(o, dtype=_F64)
    elif isinstance(o, (list, tuple)):
        if not _holds_duals(o):
            try:
                a = np.asarray(o)
            except (TypeError, ValueError):
                a = None
            if a is not None and a.dtype.kind in "fiub":
                refuse_wide(a, "a constant beside a dual array")
                return a.astype(_F64)
    raise TypeError(f"cannot combine a dual array with {type(o).__name__} ({o!r:.60}): "
                    "expected numbers or numeric arrays")


cdef inline bint _called_by_series():
    """Whether the Python code running this operation is numpy.polynomial's (one dict
    lookup: the check that follows walks frames)."""
    cdef PyObject *g = PyEval_GetGlobals()
    cdef PyObject *name
    if g == NULL:
        return False
    name = PyDict_GetItemString(<object>g, "__name__")
    return name != NULL and isinstance(<object>name, str) and \
        (<str>name).startswith("numpy.polynomial")


class SeriesPointsError(TypeError):
    """series_points' refusal: its own type so that the operators, which turn a constant they
    cannot use into NotImplemented, pass it on."""


def series_points():
    """numpy.polynomial's evaluation functions (polyval(x, c), chebval, ..., polyvalfromroots)
    take the outer product of x with c's trailing axes (tensor=True) only when
    isinstance(x, np.ndarray), which a dual array is not: numpy would then broadcast x
    against c elementwise, a wrong result without a word. Raised here, at the first
    operation of x with c, where that is what is about to happen."""
    import sys
    frame, wrong = sys._getframe(0), None   # the innermost Python frame: numpy's function
    while frame is not None and frame.f_globals.get("__name__", "").startswith("numpy.polynomial"):
        loc = frame.f_locals
        x, name = loc.get("x"), frame.f_code.co_name
        if wrong is None and type(x) is DualArray and (<DualArray>x).value.ndim and \
                loc.get("tensor") is True:
            coef = loc.get("r") if name.endswith("fromroots") else loc.get("c")
            if np.ndim(coef) >= (1 if name.endswith("fromroots") else 2):
                wrong = name
        if wrong is not None and name.endswith(("grid2d", "grid3d")):
            # the user called the grid function, which calls the evaluation with tensor=True
            val = name.replace("grid", "val")
            raise SeriesPointsError(
                f"numpy.polynomial's {name} of dual points: numpy evaluates the grid with "
                f"{wrong}, whose outer product (tensor=True) takes only ndarray points and "
                "would broadcast dual ones elementwise, a wrong result. Use "
                f"{val}(*np.meshgrid(x, y, ..., indexing='ij'), c), the same values")
        frame = frame.f_back
    if wrong is not None:
        raise SeriesPointsError(
            f"numpy.polynomial's {wrong}(x, {'r' if 'roots' in wrong else 'c'}) with an "
            "array of dual points x: numpy takes the outer product with the trailing axes of "
            "its second argument (tensor=True) only for an ndarray x and would broadcast a "
            "dual x elementwise instead, a wrong result. Pass tensor=False with that "
            "argument reshaped to arg.shape + (1,) * x.ndim, which is the same product")


cdef object _lift_objects(object o):
    """An object array or a list holding dual numbers (np.array([x[0], 1.0]) in loop-style
    code) as one dual array; None when it holds none."""
    if type(o) is np.ndarray:
        if not _holds_duals((<cnp.ndarray>o).ravel()):
            return None
        if (<cnp.ndarray>o).ndim == 0:
            return _lift(o[()])
        if _called_by_series():             # dual coefficients of polygrid2d(x, y, c), ...
            series_points()
        flat = _call(np.stack, (list((<cnp.ndarray>o).ravel()),), {})
        return _lift(_call(np.reshape, (flat, o.shape), {}))
    if not _holds_duals(o):
        return None
    items = []
    for e in o:
        d = _lift_objects(e) if isinstance(e, (list, tuple)) else None
        items.append(e if d is None else d)
    return _lift(_call(np.stack, (items,), {}))


cdef bint _holds_duals(object o):
    for e in o:
        if type(e) is DualArray or is_scalar_dual(e):
            return True
        if isinstance(e, (list, tuple)) and _holds_duals(e):
            return True
    return False


cdef tuple _like2(DualArray da, DualArray db):
    """(the operand whose layout the result takes, the result's levels) of a binary
    operation whose dual operands have the same levels (see _align)."""
    if da is not None:
        return da, da.tags
    return db, db.tags


def align(*duals):
    """Dual arrays (None: constants) brought to the union of their levels: what a nested
    transform's values and an outer one's must be before they meet."""
    return _align(list(duals))


def like(*duals):
    """(first dual array, levels) of aligned operands (see align); (None, ()) if all are
    constants."""
    for d in duals:
        if d is not None:
            return d, (<DualArray?>d).tags
    return None, ()


def value_of(o):
    """The plain values of anything numeric, dual or not (for comparisons and conditions)."""
    cdef double re
    cdef int k1, k2
    cdef long long key
    cdef double *e
    if type(o) is DualArray:
        return (<DualArray>o).value
    if type(o) is Dual:
        return (<Dual>o).v.re
    if type(o) is HyperDual:
        return (<HyperDual>o).v.re
    if vec_parts(o, &re, &k1, &k2, &e, &key):
        return re
    if isinstance(o, np.ndarray):
        return o
    if is_real(o) or isinstance(o, np.bool_):
        return o
    if isinstance(o, (list, tuple)):
        try:
            return _const(o)
        except WideFloatError:
            raise
        except TypeError:
            pass
        d = _lift_objects(o)              # a list holding dual numbers: [x[0]], [x[0], 1.0]
        if d is not None:
            return (<DualArray>d).value
    return NotImplemented


def compare(a, b, int op):
    """a < b, <=, ==, !=, >, >= (op: Python's rich comparison code) on the values."""
    va, vb = value_of(a), value_of(b)
    if va is NotImplemented or vb is NotImplemented:
        return NotImplemented
    return _core.CMP_UFUNCS[op](va, vb)


include "_windows.pxi"
include "_elementwise.pxi"
include "_sums.pxi"
include "_pool.pxi"
include "_rules_api.pxi"
include "_indexing.pxi"
include "_fastpath.pxi"
