# Indexing dual arrays: x[i], slices (row windows kept), fancy and boolean indexing. Included
# by _arrays.pyx. Directions are last, so value[idx] and part[idx] select the same elements.

cdef inline bint _is_int(object idx):
    return PyLong_Check(idx) or isinstance(idx, np.integer)


cdef object _getitem(DualArray x, object idx):
    cdef cnp.ndarray v = x.value
    cdef Py_ssize_t i, n, start, stop, step
    cdef int p
    cdef double dvalue
    if type(idx) is DualArray or is_scalar_dual(idx):
        raise IndexError("a dual value cannot be used as an index; index with integers")
    if v.ndim == 1 and _is_int(idx):
        # x[i] of a vector: loop-style code, where speed matters
        n = v.shape[0]
        i = idx
        if i < 0:
            i += n
        if i < 0 or i >= n:
            raise IndexError(f"index {idx} is out of bounds for axis 0 with size {n}")
        # memcpy, not a double load: the values may sit in the caller's unaligned buffer
        memcpy(&dvalue, cnp.PyArray_BYTES(v) + i * cnp.PyArray_STRIDE(v, 0), sizeof(double))
        value = dvalue
        if x.order == 1 and _k1(x) == 1:                 # the compiled scalar
            return make_dual(value, _row_entry(x, i), x.tags[0])
        if not x.windowed and x.order <= 2 and _rows_contiguous(x):
            # the row's partials straight into the scalar: no array is made
            if x.order == 1:
                return make_dualvec(value, _k1(x), _row(x.e1, i), x.tags[0])
            return make_hypervec(value, _k1(x), _k2(x), _row(x.e1, i), _row(x.e2, i),
                                 _row(x.e12, i), _key(x.tags))
        if x.windowed:
            # the element from its rows alone (zero tangents outside every window): a dual
            # scalar in every sweep, so code that mixes it with others (np.array([x[0],
            # x[900]]) then np.exp) runs alike whichever sweep holds its direction
            if x.order <= 2 and _rows_contiguous(x):
                # straight from the stored rows, no array made: loop-style code indexes
                # every element of x in every sweep (~0.7 us a call through arrays). The zero
                # row is made long enough for every part first: growing it between two
                # _window_row calls would free the row handed out by the first (a garbage e2
                # in e1 e2 products, fuzz seed 808)
                _ensure_zeros(_k1(x) * max(_k2(x), 1) + _k1(x) + _k2(x))
                if x.order == 1:
                    return make_dualvec(value, _k1(x), _window_row(x, E1, i, _k1(x)),
                                        x.tags[0])
                return make_hypervec(value, _k1(x), _k2(x), _window_row(x, E1, i, _k1(x)),
                                     _window_row(x, E2, i, _k2(x)),
                                     _window_row(x, E12, i, _k1(x) * _k2(x)), _key(x.tags))
            out = [_rows(x, p, i, i + 1)[0] for p in range(_nparts(x))]
            return to_scalar(_new(np.array(value), out[0], _at(out, E2), _at(out, E12), x.tags))
    if x.windowed and type(idx) is slice and v.ndim == 1:
        start, stop, step = idx.indices(v.shape[0])
        if step == 1:            # a unit-step slice keeps rows: its windows shift
            return _window_slice(x, start, stop)
    tidx = idx if type(idx) is tuple else (idx,)
    value = v[idx]
    if x.windowed and _is_constant(x):          # rowless, any ndim: no zero rows are stored
        return to_scalar(_as_rowless(value, x))
    if x.windowed:                              # an absent part stays absent
        return to_scalar(_assemble(x, value, [
            None if _absent(x, p) else _dense_part(x, p)[tidx + (_S,) * _ndir(p)]
            for p in range(_nparts(x))]))
    out = [t[tidx + (_S,) * _ndir(p)] for p, t in enumerate(_parts(x))]
    return to_scalar(_rebuild(x, value, out, None))


cdef double _row_entry(DualArray x, Py_ssize_t i):
    """Tangent of element i of a one-direction vector (0 outside its window)."""
    cdef cnp.ndarray c = x.e1
    cdef double t
    if x.windowed:
        if i < x.lo[E1] or i >= x.hi[E1]:
            return 0.0
        i -= x.lo[E1]
    memcpy(&t, cnp.PyArray_BYTES(c) + i * cnp.PyArray_STRIDE(c, 0), sizeof(double))
    return t




cdef double *_zeros = NULL             # m zero doubles: the row of an element outside a window
cdef Py_ssize_t _nzeros = 0


cdef int _ensure_zeros(Py_ssize_t m) except -1:
    """The zero row at least m doubles long. It may move: callers take _window_row pointers
    only after this call, never across one."""
    global _zeros, _nzeros
    cdef double *z
    if m > _nzeros:
        z = <double*>PyMem_Realloc(_zeros, max(m, 1) * sizeof(double))
        if z == NULL:
            raise MemoryError()
        memset(z, 0, max(m, 1) * sizeof(double))
        _zeros, _nzeros = z, m
    return 0


cdef const double *_window_row(DualArray x, int p, Py_ssize_t i, Py_ssize_t m) except NULL:
    """Element i's row of part p (m doubles) of a windowed vector: its stored row, or zeros
    outside the window (the zero row must hold m doubles already: _ensure_zeros)."""
    if x.lo[p] <= i < x.hi[p]:
        return _row(_stored(x, p), i - x.lo[p])
    if m > _nzeros:
        raise SystemError("dualdiff internal error: the zero row is shorter than a part's row")
    return _zeros


cdef inline bint _rows_contiguous(DualArray x):
    """Each part's row of one element is contiguous (the directions are the last axes)."""
    cdef int p
    for p in range(_nparts(x)):
        t = _stored(x, p)
        if not cnp.PyArray_IS_C_CONTIGUOUS(t):
            return False
    return True


cdef inline const double *_row(object t, Py_ssize_t i):
    return <const double*>(cnp.PyArray_BYTES(<cnp.ndarray>t) + i * cnp.PyArray_STRIDE(<cnp.ndarray>t, 0))
