# csrc/kernels.h bound to dual arrays: unary rules, x**p, arithmetic and binary rules, with
# numpy broadcasting and row windows. Included by _arrays.pyx.
#
# The kernels expand csrc/rules.h and call the per-entry helpers of csrc/dual.h and hyperdual.h
# that the scalar types call, so an element of a result equals the Dual or HyperDual computed
# from that element's inputs, bit for bit. Operands reach a kernel whole (stride 1) or as one
# broadcast element (stride 0); other broadcasting is materialised first (tangents of sums are
# broadcast by numpy directly, without copying an operand out).

cdef extern from "kernels.h" nogil:
    enum:
        DD_OP_ADD
        DD_OP_SUB
        DD_OP_MUL
        DD_OP_DIV
        DD_OP_RULE0
    int dd_unary1(int code, ptrdiff_t n, int k, const double *x, const double *xe,
                  double *y, double *ye)
    int dd_powc1(double pw, ptrdiff_t n, int k, const double *x, const double *xe,
                 double *y, double *ye)
    int dd_binary1(int op, ptrdiff_t n, int k, const double *a, ptrdiff_t sa, const double *ae,
                   const double *b, ptrdiff_t sb, const double *be, double *y, double *ye)
    int dd_unary2(int code, ptrdiff_t n, int k1, int k2, const double *x, const double *xe1,
                  const double *xe2, const double *xe12, double *y, double *ye1, double *ye2,
                  double *ye12)
    int dd_powc2(double pw, ptrdiff_t n, int k1, int k2, const double *x, const double *xe1,
                 const double *xe2, const double *xe12, double *y, double *ye1, double *ye2,
                 double *ye12)
    int dd_binary2(int op, ptrdiff_t n, int k1, int k2, const double *a, ptrdiff_t sa,
                   const double *ae1, const double *ae2, const double *ae12,
                   const double *b, ptrdiff_t sb, const double *be1, const double *be2,
                   const double *be12, double *y, double *ye1, double *ye2, double *ye12)

    const int dd_small1_widths[]
    const int dd_small_widths[][2]
    int DD_ZERO12_MAX
    const char *const dd_small_unary[]


cdef list _small_widths():
    cdef list out = []
    cdef int i = 0
    while dd_small_widths[i][0]:
        out.append((dd_small_widths[i][0], dd_small_widths[i][1]))
        i += 1
    return out


cdef list _small_directions():
    cdef list out = []
    cdef int i = 0
    while dd_small1_widths[i]:
        out.append(dd_small1_widths[i])
        i += 1
    return out


cdef list _small_unary():
    cdef list out = []
    cdef int i = 0
    while dd_small_unary[i] != NULL:
        out.append(dd_small_unary[i].decode())
        i += 1
    return out


# the first-order widths k, the second-order widths (k1, k2) and the unary rules with loops
# compiled for those widths (the arithmetic and x**p have them too): tests/test_kernels.py
# compares them with Dual and HyperDual
SMALL_DIRECTIONS = tuple(_small_directions())
SMALL_WIDTHS = tuple(_small_widths())
SMALL_UNARY = tuple(_small_unary())

cdef int B_POWER = _core.BINARY_INDEX["power"]
cdef int U_SQUARE = _core.UNARY_INDEX["square"]
cdef int U_ABS = _core.UNARY_INDEX["abs"]


towers = None          # dualdiff._jvp.towers: three or more levels, registered on its import


cdef inline object _ufunc_of(int op):
    """numpy's ufunc of a binary kernel op, replayed on the values for numpy's warnings."""
    return np_op(op) if op < DD_OP_RULE0 else np_binary(op - DD_OP_RULE0)


# ---- unary --------------------------------------------------------------------------------

def apply_unary(int code, x):
    """Rule `code` of the table on a dual array (or, values only, on a constant array)."""
    cdef DualArray d = _lift(x)
    cdef cnp.ndarray v, y
    cdef double dummy = 0.0, none = 0.0       # k = 0: the kernel reads and writes no tangent
    if d is None:
        v = _contig(_const(x))
        y = _alloc(v, -1, -1)
        if dd_unary1(code, cnp.PyArray_SIZE(v), 0, _ptr(v), &none, _ptr(y), &dummy):
            replay(np_unary(code), (v,))
        return _still_constant(y, x)
    return _unary(d, code, 0.0, False)


cdef object _powc(DualArray d, double pw):
    if pw == 2.0:       # the rule of x**2 is square's (rules.h), and square's loop is flat
        return _unary(d, U_SQUARE, 0.0, False)
    return _unary(d, 0, pw, True)


cdef int _run_unary(int code, double pw, bint is_pow, int order, ptrdiff_t n, int k, int k2,
                    double *x, double *xe1, double *xe2, double *xe12,
                    double *y, double *ye1, double *ye2, double *ye12):
    if order == 1:
        if is_pow:
            return dd_powc1(pw, n, k, x, xe1, y, ye1)
        return dd_unary1(code, n, k, x, xe1, y, ye1)
    if is_pow:
        return dd_powc2(pw, n, k, k2, x, xe1, xe2, xe12, y, ye1, ye2, ye12)
    return dd_unary2(code, n, k, k2, x, xe1, xe2, xe12, y, ye1, ye2, ye12)


cdef object _unary(DualArray d, int code, double pw, bint is_pow):
    """Rule `code` (or x**pw) elementwise: values everywhere, tangents on the stored rows."""
    cdef cnp.ndarray v = _contig(d.value), y = _alloc(v, -1, -1)
    cdef cnp.ndarray e1, e2 = None, e12 = None, ye1, ye2 = None, ye12 = None
    cdef int k = _k1(d), k2 = _k2(d), bad = 0, p
    cdef ptrdiff_t n = cnp.PyArray_SIZE(v), m
    cdef Py_ssize_t lo[3]
    cdef Py_ssize_t hi[3]
    cdef double dummy = 0.0, none = 0.0       # k = 0: the kernel reads and writes no tangent
    cdef double *xp = _ptr(v)
    cdef double *yp = _ptr(y)
    if d.order > 2:
        # beyond two levels (transforms nested past second order): level by level, in Python
        return towers.unary(d, code, pw, is_pow)
    if not d.windowed:
        e1 = _contig(d.e1)
        ye1 = _alloc(e1, -1, -1)
        if d.order == 2:
            e2, e12 = _contig(d.e2), _contig(d.e12)
            ye2, ye12 = _alloc(e2, -1, -1), _alloc(e12, -1, -1)
        bad = _run_unary(code, pw, is_pow, d.order, n, k, k2, xp, _ptr(e1), _ptr_or_null(e2),
                         _ptr_or_null(e12), yp, _ptr(ye1), _ptr_or_null(ye2),
                         _ptr_or_null(ye12))
        if bad:
            replay(np.power if is_pow else np_unary(code), (v, pw) if is_pow else (v,))
        return _new(y, ye1, ye2, ye12, d.tags)
    if cnp.PyArray_NDIM(v) != 1:
        # windows of whole rows along axis 0 (_windows.pxi): runs of elements when flat
        return _unflat(_unary(_flat(d), code, pw, is_pow), d.value.shape)
    if d.order == 2 and _whole_but_e12(d):
        # e1 and e2 on every row, e12 absent: one hyper-dual pass reading no e12
        e1, e2 = _contig(_stored(d, E1)), _contig(_stored(d, E2))
        ye1, ye2, ye12 = _alloc(e1, -1, -1), _alloc(e2, -1, -1), _alloc(v, k, k2)
        bad = _run_unary(code, pw, is_pow, 2, n, k, k2, xp, _ptr(e1), _ptr(e2), NULL, yp,
                         _ptr(ye1), _ptr(ye2), _ptr(ye12))
        if bad:
            replay(np.power if is_pow else np_unary(code), (v, pw) if is_pow else (v,))
        return _new(y, ye1, ye2, ye12, d.tags)
    # windowed: every value, then e1 (and e2) on its own rows by the first-order formulas,
    # which are those the hyper-dual kernel applies to e1 and e2 (so the bits agree)
    bad = _run_unary(code, pw, is_pow, 1, n, 0, 0, xp, &none, NULL, NULL, yp, &dummy,
                     NULL, NULL)
    out = []
    for p in range(E12 if d.order == 2 else E2):
        _window(d, p, &lo[p], &hi[p])
        m = hi[p] - lo[p]
        t = _contig(_stored(d, p))
        u = _empty((m, k if p == E1 else k2))
        _run_unary(code, pw, is_pow, 1, m, k if p == E1 else k2, 0, xp + lo[p], _ptr(t),
                   NULL, NULL, &dummy if m == 0 else yp + lo[p], _ptr(u), NULL, NULL)
        out.append(u)
    if d.order == 2:
        # e12 rows: where it was stored, and where e1 meets e2 (the f'' e1 e2 term)
        _window(d, E12, &lo[E12], &hi[E12])
        _window_cover_meet(&lo[E12], &hi[E12], d, d)
        m = max(hi[E12] - lo[E12], 0)
        r1, r2, r12 = _kernel_rows(d, lo[E12], hi[E12])
        w1, w2, u12 = _empty((m, k)), _empty((m, k2)), _empty((m, k, k2))
        _run_unary(code, pw, is_pow, 2, m, k, k2, xp + lo[E12], _ptr(r1), _ptr(r2),
                   _ptr_or_null(r12),
                   &dummy if m == 0 else yp + lo[E12], _ptr(w1), _ptr(w2), _ptr(u12))
        out.append(u12)
    if bad:
        replay(np.power if is_pow else np_unary(code), (v, pw) if is_pow else (v,))
    return _new_windowed(y, out, lo, hi, d.tags)


# ---- binary ---------------------------------------------------------------------------------

cdef object _power(object a, object b):
    """a ** b: a constant exponent has its own rule (exact at a = 0 and for a < 0)."""
    cdef DualArray da = _lift(a)
    if da is not None and _lift(b) is None:
        if is_real(b):
            return _powc(da, float(b))
        cb = _const(b)
        if cb.ndim == 0:
            return _powc(da, float(cb))
    return _binary(DD_OP_RULE0 + B_POWER, a, b)


def power(a, b):
    return _power(a, b)


def apply_binary(int code, a, b):
    """Binary rule `code` of the table (arctan2, hypot, maximum, ...) on dual arrays."""
    if code == B_POWER:
        if _lift(a) is None and _lift(b) is None and _rowless(a) is None and \
                _rowless(b) is None:
            return np.power(_const(a), _const(b))
        return _power(a, b)
    r = _binary(DD_OP_RULE0 + code, a, b)
    if r is NotImplemented:          # dd.maximum(None, 1.0): no caller left to try another way
        raise TypeError(f"{_core.BINARY_RULES[code][0]}: operands must be numbers, arrays or "
                        f"dual values, got {type(a).__name__} and {type(b).__name__}")
    return r


def arithmetic(int op, a, b):
    """a + b, a - b, a * b, a / b (op: 0..3, csrc/kernels.h's DD_OP_*) with broadcasting;
    NotImplemented when an operand is not numeric."""
    return _binary(op, a, b)


def arithmetic_ufunc(int op, str name, a, b):
    """np.add, np.subtract, np.multiply, np.true_divide (op 0..3) on dual arrays."""
    r = _binary(op, a, b)
    if r is NotImplemented:
        raise TypeError(f"numpy.{name}: unsupported operand types {type(a).__name__} and "
                        f"{type(b).__name__}")
    return r


cdef object _binary(int op, object a, object b):
    """op(a, b) for op a DD_OP_* or DD_OP_RULE0 + rule, with numpy broadcasting."""
    cdef DualArray da = _lift(a), db = _lift(b), like
    cdef cnp.ndarray va = None, vb = None, y, ye1, ye2 = None, ye12 = None, shape_of
    cdef cnp.ndarray a1 = None, a2 = None, a12 = None, b1 = None, b2 = None, b12 = None
    cdef double ca = 0.0, cb = 0.0
    cdef double *pa
    cdef double *pb
    cdef ptrdiff_t sa = 1, sb = 1, n
    cdef int bad, k, k2 = 0
    cdef tuple tag
    if da is None and db is None:
        ca_arr, cb_arr = _operand(a), _operand(b)
        if ca_arr is NotImplemented or cb_arr is NotImplemented:
            return NotImplemented
        if op >= DD_OP_RULE0 and (_rowless(a) is not None or _rowless(b) is not None):
            return _still_constant(_rule_values(op, ca_arr, cb_arr), a, b)
        return _still_constant(_ufunc_of(op)(ca_arr, cb_arr), a, b)
    if da is not None and db is not None and not _same_levels(da, db):
        da, db = _align([da, db])           # a nested transform's value met an outer one
    if (da if da is not None else db).order > 2:
        return towers.binary(op, a if da is None else da, b if db is None else db)
    if (da is not None and da.windowed) or (db is not None and db.windowed):
        r = _binary_windowed(op, a, b, da, db)
        if r is not None:
            return r
    # a Python number on one side is a broadcast element: no array is made for it
    if da is None and (PyFloat_Check(a) or PyLong_Check(a)):
        ca = float(a)
        pa = &ca
        sa = 0
    elif da is None:
        va_obj = _operand(a)
        if va_obj is NotImplemented:
            return NotImplemented
        va = va_obj
    else:
        va = da.value
    if db is None and (PyFloat_Check(b) or PyLong_Check(b)):
        cb = float(b)
        pb = &cb
        sb = 0
    elif db is None:
        vb_obj = _operand(b)
        if vb_obj is NotImplemented:
            return NotImplemented
        vb = vb_obj
    else:
        vb = db.value
    like = da if da is not None else db
    tag = like.tags
    k = _k1(like)
    k2 = _k2(like)
    # shapes: equal, one side a single element, or general broadcasting (materialised)
    if va is None:
        shape_of = vb
    elif vb is None:
        shape_of = va
    elif _same_shape(va, vb):
        shape_of = va
    elif cnp.PyArray_SIZE(va) == 1 and cnp.PyArray_NDIM(va) <= cnp.PyArray_NDIM(vb):
        shape_of = vb
        sa = 0
    elif cnp.PyArray_SIZE(vb) == 1 and cnp.PyArray_NDIM(vb) <= cnp.PyArray_NDIM(va):
        shape_of = va
        sb = 0
    elif op == DD_OP_ADD or op == DD_OP_SUB:
        return _add_broadcast(op, da, db, va, vb, tag)
    else:
        shape = np.broadcast_shapes((<object>va).shape, (<object>vb).shape)
        if da is not None:
            da = _broadcast(da, shape)
            va = da.value
        else:
            va = np.broadcast_to(va, shape)
        if db is not None:
            db = _broadcast(db, shape)
            vb = db.value
        else:
            vb = np.broadcast_to(vb, shape)
        shape_of = va
    if va is not None:
        va = _contig(va)
        pa = _ptr(va)
    if vb is not None:
        vb = _contig(vb)
        pb = _ptr(vb)
    if da is not None:
        _densify(da)
        a1 = _contig(da.e1)
        if like.order == 2:
            a2, a12 = _contig(da.e2), _contig(da.e12)
    if db is not None:
        _densify(db)
        b1 = _contig(db.e1)
        if like.order == 2:
            b2, b12 = _contig(db.e2), _contig(db.e12)
    n = cnp.PyArray_SIZE(shape_of)
    y = _alloc(shape_of, -1, -1)
    ye1 = _alloc(shape_of, k, -1)
    if like.order == 1:
        bad = dd_binary1(op, n, k, pa, sa, _ptr_or_null(a1), pb, sb, _ptr_or_null(b1),
                         _ptr(y), _ptr(ye1))
    else:
        ye2 = _alloc(shape_of, k2, -1)
        ye12 = _alloc(shape_of, k, k2)
        bad = dd_binary2(op, n, k, k2, pa, sa, _ptr_or_null(a1), _ptr_or_null(a2),
                         _ptr_or_null(a12), pb, sb, _ptr_or_null(b1), _ptr_or_null(b2),
                         _ptr_or_null(b12), _ptr(y), _ptr(ye1), _ptr(ye2), _ptr(ye12))
    if bad:
        replay(_ufunc_of(op), (a if va is None else va, b if vb is None else vb))
    return _new(y, ye1, ye2, ye12, tag)


cdef object _rule_values(int op, cnp.ndarray va, cnp.ndarray vb):
    """The values of binary rule op (pow, arctan2, hypot, ...) of constants by the kernels, as
    a sweep that seeds the operand computes them: numpy's own loops may round differently
    (its power: 1 ulp off glibc's pow at 4.5 ** -1.55), and a value computed from x outside
    the chunk's window must be the bits of the one computed from a seeded x, or derivatives
    along other inputs depend on chunk (fuzz seed 2424-21587). The arithmetic operators are
    IEEE in both and stay numpy's."""
    cdef cnp.ndarray y
    cdef double dummy = 0.0, none = 0.0
    cdef double pw
    cdef int bad
    if op == DD_OP_RULE0 + B_POWER and cnp.PyArray_NDIM(vb) == 0:
        # a constant exponent: the x**p rule that _power gives a seeded base
        va = _contig(va)
        y = _alloc(va, -1, -1)
        pw = float(vb)
        if pw == 2.0:
            bad = dd_unary1(U_SQUARE, cnp.PyArray_SIZE(va), 0, _ptr(va), &none, _ptr(y), &dummy)
        else:
            bad = dd_powc1(pw, cnp.PyArray_SIZE(va), 0, _ptr(va), &none, _ptr(y), &dummy)
    else:
        va, vb = [_contig(np.ascontiguousarray(v, dtype=np.float64))
                  for v in np.broadcast_arrays(va, vb)]
        y = _alloc(va, -1, -1)
        bad = dd_binary1(op, cnp.PyArray_SIZE(va), 0, _ptr(va), 1, NULL, _ptr(vb), 1, NULL,
                         _ptr(y), &dummy)
    if bad:
        replay(_ufunc_of(op), (va, vb))
    return y


cdef object _binary_windowed(int op, object a, object b, DualArray da, DualArray db):
    """op(a, b) on 1-D operands of which one is windowed; None when the operands do not fit
    that case (the caller then works on dense parts)."""
    cdef DualArray like = da if da is not None else db
    cdef Py_ssize_t n
    cdef Py_ssize_t lo[3]
    cdef Py_ssize_t hi[3]
    cdef Py_ssize_t wl = 0, wh = 0
    cdef cnp.ndarray va = None, vb = None, y
    cdef double ca = 0.0, cb = 0.0, dummy = 0.0
    cdef double *pa
    cdef double *pb
    cdef ptrdiff_t sa = 1, sb = 1, m
    cdef int bad = 0, k, k2, p, kp
    cdef tuple tag
    cdef cnp.ndarray ye1, ye2, ye12
    if like.value.ndim != 1:
        return _binary_flat(op, a, b, da, db)
    n = like.value.shape[0]
    for d in (da, db):
        if d is not None and ((<DualArray>d).value.ndim != 1 or (<DualArray>d).value.shape[0] != n):
            return None
    # constant operands: a number, a single element, or a vector of the same length
    if da is None:
        c = _flat_const(a, n)
        if c is None or c is NotImplemented:
            return c
        va, ca, sa = c
        pa = &ca
    if db is None:
        c = _flat_const(b, n)
        if c is None or c is NotImplemented:
            return c
        vb, cb, sb = c
        pb = &cb
    like, tag = _like2(da, db)
    if da is not None:
        va = _contig(da.value)
    if db is not None:
        vb = _contig(db.value)
    if va is not None:
        pa = _ptr(va)
    if vb is not None:
        pb = _ptr(vb)
    k, k2 = _k1(like), _k2(like)
    y = _alloc(like.value, -1, -1)
    _binary_windows(op, da, db, like.order, lo, hi)
    if like.order == 2 and lo[E1] == 0 and hi[E1] == n and lo[E2] == 0 and hi[E2] == n and \
            lo[E12] == 0 and hi[E12] == n:
        # every part on every row (an e1 meets an e2 everywhere): one hyper-dual pass, which
        # reads an absent e12 as zeros without a block of them
        ra, rb = _kernel_rows(da, 0, n), _kernel_rows(db, 0, n)
        ye1, ye2, ye12 = _alloc(y, k, -1), _alloc(y, k2, -1), _alloc(y, k, k2)
        bad = dd_binary2(op, n, k, k2, pa, sa, _ptr_or_null(ra[0]), _ptr_or_null(ra[1]),
                         _ptr_or_null(ra[2]), pb, sb, _ptr_or_null(rb[0]), _ptr_or_null(rb[1]),
                         _ptr_or_null(rb[2]), _ptr(y), _ptr(ye1), _ptr(ye2), _ptr(ye12))
        if bad:
            replay(_ufunc_of(op), (a if va is None else va, b if vb is None else vb))
        return _new(y, ye1, ye2, ye12, tag)
    bad = dd_binary1(op, n, 0, pa, sa, NULL, pb, sb, NULL, _ptr(y), &dummy)    # all values
    # e1 (and e2) on their windows by the first-order formulas, which are those the
    # hyper-dual kernel applies to e1 and e2
    out = []
    for p in range(E12 if like.order == 2 else E2):
        m = hi[p] - lo[p]
        kp = k if p == E1 else k2
        ta = _rows(da, p, lo[p], hi[p]) if da is not None else None
        tb = _rows(db, p, lo[p], hi[p]) if db is not None else None
        u = _empty((m, kp))
        dd_binary1(op, m, kp, pa + lo[p]*sa, sa, _ptr_or_null(ta), pb + lo[p]*sb, sb,
                   _ptr_or_null(tb), &dummy if m == 0 else _ptr(y) + lo[p], _ptr(u))
        out.append(u)
    if like.order == 2:
        m = max(hi[E12] - lo[E12], 0)
        ra, rb = _kernel_rows(da, lo[E12], hi[E12]), _kernel_rows(db, lo[E12], hi[E12])
        w1, w2, u12 = _empty((m, k)), _empty((m, k2)), _empty((m, k, k2))
        dd_binary2(op, m, k, k2, pa + lo[E12]*sa, sa, _ptr_or_null(ra[0]), _ptr_or_null(ra[1]),
                   _ptr_or_null(ra[2]), pb + lo[E12]*sb, sb, _ptr_or_null(rb[0]),
                   _ptr_or_null(rb[1]), _ptr_or_null(rb[2]),
                   &dummy if m == 0 else _ptr(y) + lo[E12], _ptr(w1), _ptr(w2), _ptr(u12))
        out.append(u12)
    if bad:
        replay(_ufunc_of(op), (a if va is None else va, b if vb is None else vb))
    return _new_windowed(y, out, lo, hi, tag)


cdef void _binary_windows(int op, DualArray da, DualArray db, int order, Py_ssize_t *lo,
                          Py_ssize_t *hi):
    """The windows of op(a, b)'s parts: e1 and e2 where an operand stores them; e12 where an
    operand stores it and where the rule has an e1 e2 term -- never for + and -, only
    between the two operands for *, and not between the dividend's own for / -- so a linear
    operation of an absent e12 (4 * U, U - V) keeps it absent."""
    cdef Py_ssize_t wl = 0, wh = 0
    cdef int p
    for p in range(E12 + 1 if order == 2 else E2):
        lo[p] = hi[p] = 0
        for d in (da, db):
            if d is not None:
                _window(d, p, &wl, &wh)
                _window_cover(&lo[p], &hi[p], wl, wh)
    if order != 2:
        return
    if op == DD_OP_MUL or op == DD_OP_DIV:
        if da is not None and db is not None:
            _window_cover_meet(&lo[E12], &hi[E12], da, db)
            _window_cover_meet(&lo[E12], &hi[E12], db, da)
        if op == DD_OP_DIV and db is not None:
            _window_cover_meet(&lo[E12], &hi[E12], db, db)
    elif op != DD_OP_ADD and op != DD_OP_SUB:
        for d in (da, db):
            for e in (da, db):
                if d is not None and e is not None:
                    _window_cover_meet(&lo[E12], &hi[E12], d, e)


cdef bint _whole_but_e12(DualArray d):
    """A second-order d whose e1 and e2 are stored on every row and whose e12 is absent,
    with few enough directions for the kernels' zero block."""
    cdef Py_ssize_t n = d.value.shape[0]
    return d.windowed and _absent(d, E12) and _k1(d) * _k2(d) <= DD_ZERO12_MAX and \
        d.lo[E1] == 0 and d.hi[E1] == n and d.lo[E2] == 0 and d.hi[E2] == n


cdef list _kernel_rows(DualArray d, Py_ssize_t lo, Py_ssize_t hi):
    """Rows lo..hi-1 of d's e1, e2 and e12 for a second-order kernel (three None for a
    constant); e12 None -- read as zeros by the kernel, no block made -- where d stores
    none."""
    if d is None:
        return [None, None, None]
    if _absent(d, E12) and _k1(d) * _k2(d) <= DD_ZERO12_MAX:
        r12 = None
    else:
        r12 = _rows(d, E12, lo, hi)
    return [_rows(d, E1, lo, hi), _rows(d, E2, lo, hi), r12]


cdef object _binary_flat(int op, object a, object b, DualArray da, DualArray db):
    """_binary_windowed for operands of several axes: dual operands of one shape, constants
    that are numbers, single elements or of that shape, all flattened; None otherwise."""
    cdef DualArray like = da if da is not None else db
    cdef tuple shape = like.value.shape
    for d in (da, db):
        if d is not None and (<DualArray>d).value.shape != shape:
            return None
    fa = _flat_operand(a, da, shape)
    fb = _flat_operand(b, db, shape)
    if fa is None or fb is None or fa is NotImplemented or fb is NotImplemented:
        return fa if fa is NotImplemented else fb if fb is NotImplemented else None
    r = _binary_windowed(op, fa, fb, _lift(fa), _lift(fb))
    if r is None or r is NotImplemented:
        return r
    return _unflat(<DualArray>r, shape)


cdef object _flat_operand(object o, DualArray d, tuple shape):
    """An operand of _binary_flat, flattened: None when it does not fit."""
    if d is not None:
        return _flat(d)
    if PyFloat_Check(o) or PyLong_Check(o):
        return o
    c = _operand(o)
    if c is NotImplemented:
        return c
    if cnp.PyArray_SIZE(c) == 1 and (<cnp.ndarray>c).ndim <= len(shape):
        return _contig(c).reshape(-1)
    if (<object>c).shape == shape:
        return _contig(c).reshape(-1)
    return None


cdef object _add_broadcast(int op, DualArray da, DualArray db, cnp.ndarray va,
                           cnp.ndarray vb, tuple tag):
    """a + b or a - b with numpy broadcasting: tangents add exactly as values do, and numpy
    broadcasts the direction-last parts without copying either operand out first."""
    like = da if da is not None else db
    y = np.add(va, vb) if op == DD_OP_ADD else np.subtract(va, vb)
    out = []
    for p in range(_nparts(like)):
        ta = _part(da, p) if da is not None else None
        tb = _part(db, p) if db is not None else None
        dirs = (ta if ta is not None else tb).shape[-_ndir(p):]
        if ta is not None and tb is not None:
            u = np.add(ta, tb) if op == DD_OP_ADD else np.subtract(ta, tb)
        else:
            u = np.empty(y.shape + dirs)
            if ta is not None or op == DD_OP_ADD:
                u[...] = ta if ta is not None else tb
            else:
                np.negative(tb, out=u)
        out.append(u)
    return _new_levels(y, out, tag)


cdef object _flat_const(object o, Py_ssize_t n):
    """A constant operand of a 1-D operation as (array or None, number, stride): a Python
    number (no array made), a single element (stride 0) or a vector of length n; None if it
    does not fit, NotImplemented if it is not numeric."""
    if PyFloat_Check(o) or PyLong_Check(o):
        return (None, float(o), 0)
    c = _operand(o)
    if c is NotImplemented:
        return NotImplemented
    v = _contig(c)
    if cnp.PyArray_SIZE(v) == 1 and v.ndim <= 1:
        return (v, 0.0, 0)
    if v.ndim == 1 and v.shape[0] == n:
        return (v, 0.0, 1)
    return None


cdef DualArray _broadcast(DualArray x, tuple shape):
    return _rebuild(x, np.broadcast_to(x.value, shape),
                    [np.broadcast_to(t, shape + t.shape[t.ndim - _ndir(p):])
                     for p, t in enumerate(_parts(x))], None)


# ---- the chain rule with given derivative arrays (dd.register_elementwise) -----------------

cdef extern from "kernels.h" nogil:
    void dd_given1(ptrdiff_t n, int k, const double *d1, const double *xe, double *ye)
    void dd_given2(ptrdiff_t n, int k1, int k2, const double *d1, const double *d2,
                   const double *xe1, const double *xe2, const double *xe12,
                   double *ye1, double *ye2, double *ye12)
    void dd_given_binary2(ptrdiff_t n, int k1, int k2, const double *const partials[5],
                          const double *ae1, const double *ae2, const double *ae12,
                          const double *be1, const double *be2, const double *be12,
                          double *ye1, double *ye2, double *ye12)


def chain_given(d1, parts, d2=None):
    """The parts of f(u) given f'(u) = d1 (and f''(u) = d2) per element and u's dense parts
    (all of one shape S, parts S + directions): [e1] -> [f' e1]; [e1, e2, e12] -> the
    hyper-dual chain rule (csrc/hyperdual.h's dd_chain_e12, entry by entry)."""
    cdef cnp.ndarray g1 = _contig(np.asarray(d1, dtype=_F64)), g2
    cdef ptrdiff_t n = cnp.PyArray_SIZE(g1)
    cdef int k1, k2
    e1 = _contig(np.asarray(parts[0], dtype=_F64))
    k1 = e1.shape[e1.ndim - 1]
    if e1.size != n * k1:
        raise ValueError("chain_given: derivative and tangent shapes do not match")
    y1 = np.empty_like(e1)
    if len(parts) == 1:
        dd_given1(n, k1, _ptr(g1), _ptr(e1), _ptr(y1))
        return [y1]
    g2 = _contig(np.asarray(d2, dtype=_F64))
    e2, e12 = _contig(np.asarray(parts[1], dtype=_F64)), _contig(np.asarray(parts[2], dtype=_F64))
    k2 = e2.shape[e2.ndim - 1]
    y2, y12 = np.empty_like(e2), np.empty_like(e12)
    dd_given2(n, k1, k2, _ptr(g1), _ptr(g2), _ptr(e1), _ptr(e2), _ptr(e12), _ptr(y1),
              _ptr(y2), _ptr(y12))
    return [y1, y2, y12]


def chain_given_binary2(partials, a_parts, b_parts):
    """The second-order parts of f(u, v) given its five partials per element (f_u, f_v,
    f_uu, f_uv, f_vv) and u's and v's dense parts: csrc/hyperdual.h's dd_chain2_e12."""
    cdef const double *ps[5]
    cdef int i, k1, k2
    arrs = [_contig(np.asarray(p, dtype=_F64)) for p in partials]
    for i in range(5):
        ps[i] = _ptr(arrs[i])
    a = [_contig(np.asarray(t, dtype=_F64)) for t in a_parts]
    b = [_contig(np.asarray(t, dtype=_F64)) for t in b_parts]
    k1, k2 = a[0].shape[a[0].ndim - 1], a[1].shape[a[1].ndim - 1]
    n = arrs[0].size
    if any(t.shape != u.shape for t, u in zip(a, b)) or a[0].size != n * k1:
        raise ValueError("chain_given_binary2: partial and tangent shapes do not match")
    y1, y2, y12 = np.empty_like(a[0]), np.empty_like(a[1]), np.empty_like(a[2])
    dd_given_binary2(n, k1, k2, ps, _ptr(a[0]), _ptr(a[1]), _ptr(a[2]), _ptr(b[0]),
                     _ptr(b[1]), _ptr(b[2]), _ptr(y1), _ptr(y2), _ptr(y12))
    return [y1, y2, y12]
