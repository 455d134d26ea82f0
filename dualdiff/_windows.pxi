# Row windows: which tangent rows a part of a dual array stores. Included by _arrays.pyx.
#
# A gradient sweep seeds k directions on k elements of x: the other rows of the tangent block
# are zero and stay zero through elementwise operations, unit-step slices and sums. So a 1-D
# dual array may store, for each part p (e1; for order 2 also e2 and e12), only the rows
# lo[p]..hi[p]-1: its "window". Outside the window the part is zero. A Hessian block seeds e1 on
# rows I and e2 on rows J; e12 starts empty and grows only where an e1 row meets an e2 row (the
# f'' e1 e2 term of the chain rule, csrc/hyperdual.h, is zero elsewhere).
#
# Window-aware code (elementwise kernels, unit-step slices, sums) works on the stored rows alone,
# so a chunked sweep of elementwise-and-shift code costs O(n k) instead of O(n^2). Everything
# else reads parts through _part(), the one accessor, which stores the zero rows first: windows
# are purely an optimisation and results are bit for bit those of dense storage.
#
# A "rowless" dual array stores no row at all (every window empty): an argument the sweep does
# not seed, and what numpy computes from it. It may have any ndim >= 1 (its windows run along
# axis 0); _lift() treats it as a constant. Arrays of several axes with some rows stored are
# the absent parts of the section at the end: window-aware elementwise code flattens them.

cdef inline void _window(DualArray d, int p, Py_ssize_t *lo, Py_ssize_t *hi):
    """The rows part p of d stores (all rows when d is not windowed)."""
    if d.windowed:
        lo[0] = d.lo[p]
        hi[0] = d.hi[p]
    else:
        lo[0] = 0
        hi[0] = d.value.shape[0] if d.value.ndim else 1


cdef inline void _window_cover(Py_ssize_t *lo, Py_ssize_t *hi, Py_ssize_t l2, Py_ssize_t h2):
    """Grow the window [lo, hi) to cover [l2, h2); an empty window adds nothing."""
    if h2 <= l2:
        return
    if hi[0] <= lo[0]:
        lo[0] = l2
        hi[0] = h2
    else:
        lo[0] = min(lo[0], l2)
        hi[0] = max(hi[0], h2)


cdef inline void _window_cover_meet(Py_ssize_t *lo, Py_ssize_t *hi, DualArray a, DualArray b):
    """Grow [lo, hi) to cover the rows where a's e1 window meets b's e2 window: where the
    e1 e2 product terms of the second-order chain and product rules can be nonzero."""
    cdef Py_ssize_t la = 0, ha = 0, lb = 0, hb = 0
    _window(a, E1, &la, &ha)
    _window(b, E2, &lb, &hb)
    _window_cover(lo, hi, max(la, lb), min(ha, hb))


cdef inline bint _is_constant(DualArray d):
    """No stored tangent row at all: the sweep seeded none of the elements d depends on (say,
    one layer's weights while the chunk covers another's), so d is a constant of the sweep."""
    cdef int p
    if not d.windowed:
        return False
    for p in range(_nparts(d)):
        if d.hi[p] > d.lo[p]:
            return False
    return True


cdef inline DualArray _rowless(object o):
    """o if it is a dual array without any tangent row in this sweep, else None."""
    if type(o) is DualArray and (<DualArray>o).windowed and _is_constant(<DualArray>o):
        return <DualArray>o
    return None


cdef object _still_constant(object result, object a, object b=None):
    """The values an elementwise operation computed from constants, as a dual array without
    tangent rows when an operand was one (say x outside the chunk's window). Without this
    np.sin(x) became a plain array in the sweeps that do not seed x, and its ndarray methods
    then refuse the dual arrays of the others (np.sin(x).dot(w) raised at chunk=2, not at
    chunk=None): types do not depend on the chunk. Costs an object, no tangent arithmetic."""
    return keep_constant(result, (a, b))


cdef object _keep_constant(object func, object result, tuple args, dict kwargs):
    """_still_constant for any numpy function: a float result computed while a rowless dual
    array was among the arguments (or the arrays of a list argument, np.concatenate([x, y]))
    stays a dual array, as it is in a sweep that seeds that argument -- and stays plain where
    a seeded argument gives a plain array too (np.zeros_like(x), np.where's condition: the
    rules of CONSTANT_RESULTS). Only plain results pay for the scan of the arguments."""
    if type(result) is not np.ndarray and not isinstance(result, (tuple, list, np.floating)):
        return result
    rule = CONSTANT_RESULTS.get(func)
    if rule is not None:
        return rule(result, args, kwargs or {})
    return keep_constant(result, args if not kwargs else args + tuple(kwargs.values()))


def stored_windows(DualArray d):
    """Each part's stored rows along axis 0 as (lo, hi), None when d stores every row (for
    the tests of window-aware code)."""
    cdef Py_ssize_t lo = 0, hi = 0
    cdef int p
    if not d.windowed:
        return None
    out = []
    for p in range(_nparts(d)):
        _window(d, p, &lo, &hi)
        out.append((lo, hi))
    return out


def keep_constant(result, objs):
    """result with its float arrays as rowless dual arrays if a rowless dual array is among
    objs (one level of lists and tuples deep), else result unchanged."""
    cdef DualArray like = None
    for o in objs:
        like = _rowless(o)
        if like is None and (type(o) is list or type(o) is tuple):
            for e in <object>o:
                like = _rowless(e)
                if like is not None:
                    break
        if like is not None:
            return _as_rowless(result, like)
    return result


def rowless(value, DualArray like):
    """value (an array of ndim >= 1) as a dual array of like's levels without tangent rows."""
    value = np.array(value, dtype=np.float64)
    if value.ndim == 0:
        raise ValueError("a rowless dual array has at least one axis")
    return _as_rowless(value, like)


cdef object _as_rowless(object result, DualArray like):
    """A float64 result (or a tuple or list of them) as dual arrays with like's levels and no
    tangent row: windowed with empty windows along axis 0 (any ndim >= 1; the only windowed
    arrays that are not 1-D), or, 0-d, with zero tangents (a 0-d array has no rows)."""
    cdef Py_ssize_t lo[3]
    cdef Py_ssize_t hi[3]
    cdef int p
    cdef tuple ks
    cdef DualArray r
    if type(result) is tuple or type(result) is list:
        return type(result)([_as_rowless(e, like) for e in result])
    if isinstance(result, tuple) and hasattr(result, "_make"):     # numpy's named results
        return result._make([_as_rowless(e, like) for e in result])
    if isinstance(result, np.floating) and type(result) is not float:
        result = np.asarray(result)
    if type(result) is not np.ndarray or (<cnp.ndarray>result).dtype != _F64 or \
            _nparts(like) > 3:
        return result
    ks = _directions(like)
    if (<cnp.ndarray>result).ndim == 0:
        return _new_levels(result, [np.zeros(_dirs_of(ks, p)) for p in range(_nparts(like))],
                           like.tags)
    stored = []
    for p in range(_nparts(like)):
        stored.append(np.zeros((0,) + result.shape[1:] + _dirs_of(ks, p)))
        lo[p] = 0
        hi[p] = 0
    r = _new_windowed(result, stored, lo, hi, like.tags)
    r.windowed = True
    return r


cdef DualArray _new_windowed(cnp.ndarray value, list stored, Py_ssize_t *lo, Py_ssize_t *hi,
                             tuple tag):
    """A 1-D dual array whose part p stores rows lo[p]..hi[p]-1 in stored[p]."""
    cdef DualArray r = _new(value, stored[0], _at(stored, E2), _at(stored, E12), tag)
    cdef Py_ssize_t n = cnp.PyArray_DIMS(value)[0]
    cdef int p
    for p in range(_nparts(r)):
        r.lo[p] = lo[p]
        r.hi[p] = hi[p]
        if lo[p] > 0 or hi[p] < n:
            r.windowed = True
    return r


cdef cnp.ndarray _rows(DualArray d, int p, Py_ssize_t lo, Py_ssize_t hi):
    """Rows lo..hi-1 of part p of d, C-contiguous, zeros where d stores nothing."""
    cdef Py_ssize_t dlo = 0, dhi = 0, a, b
    c = _stored(d, p)
    _window(d, p, &dlo, &dhi)
    if dlo == lo and dhi == hi:
        return _contig(c)
    r = np.zeros((max(hi - lo, 0),) + c.shape[1:])
    a, b = max(lo, dlo), min(hi, dhi)
    if a < b:
        r[a - lo:b - lo] = c[a - dlo:b - dlo]
    return r


cdef int _densify(DualArray d) except -1:
    """Store the zero rows too. The logical value does not change, so this is safe on an
    immutable array (and it happens at most once per array)."""
    cdef Py_ssize_t n
    cdef int p
    if not d.windowed:
        return 0
    n = d.value.shape[0]
    for p in range(_nparts(d)):
        _set_stored(d, p, _rows(d, p, 0, n))
    d.windowed = False
    return 0


cdef DualArray _window_slice(DualArray x, Py_ssize_t start, Py_ssize_t stop):
    """x[start:stop] (unit step) of a windowed vector: each stored window shifts and is cut."""
    cdef Py_ssize_t lo[3]
    cdef Py_ssize_t hi[3]
    cdef Py_ssize_t m = max(0, stop - start), a0
    cdef int p
    stored = []
    for p in range(_nparts(x)):
        lo[p] = min(max(x.lo[p] - start, 0), m)
        hi[p] = min(max(x.hi[p] - start, lo[p]), m)
        a0 = lo[p] + start - x.lo[p]
        stored.append(_stored(x, p)[a0:a0 + hi[p] - lo[p]])
    return _new_windowed(x.value[start:stop], stored, lo, hi, x.tags)


# ---- windows of arrays of several axes ------------------------------------------------------
# An array of several axes may be windowed too, its windows running along axis 0 (a window is
# a run of whole rows of value.shape[1:] elements). Such windows come from parts that are
# wholly absent: a Hessian sweep's e12 is zero until an e1 meets an e2, and the linear
# operations before that -- reshape, slices, concatenation, scaling, sums of terms: a stencil
# -- keep it absent instead of computing zeros (the Bratu energy's Laplacian moves 9 doubles
# an element instead of 21). Elementwise code works on the flattened array, where a window of
# whole rows is a run of elements (_flat, _unflat); structural operations (linear, join,
# indexing: _assemble) keep an absent part absent and make any other part dense.

cdef inline Py_ssize_t _row_size(cnp.ndarray v):
    """Elements per row of axis 0 (1 for a vector)."""
    cdef Py_ssize_t r = 1
    cdef int i
    for i in range(1, cnp.PyArray_NDIM(v)):
        r *= cnp.PyArray_DIMS(v)[i]
    return r


cdef inline bint _absent(DualArray d, int p):
    """Part p of d stores no row: it is zero."""
    return d.windowed and d.hi[p] <= d.lo[p]


cdef object _dense_part(DualArray d, int p):
    """Part p of d with every row stored. A part stored in part (a chunk's window) is made
    dense in d itself, once, as _densify does for every part; an absent part stays absent in d
    and zeros are returned (callers that can keep it absent ask _absent first)."""
    cdef Py_ssize_t n
    cdef int q
    if not d.windowed:
        return _stored(d, p)
    n = d.value.shape[0]
    if d.lo[p] == 0 and d.hi[p] == n:
        return _stored(d, p)
    t = _rows(d, p, 0, n)
    if d.hi[p] > d.lo[p]:
        _set_stored(d, p, t)
        d.lo[p], d.hi[p] = 0, n
        d.windowed = False
        for q in range(_nparts(d)):
            if d.lo[q] > 0 or d.hi[q] < n:
                d.windowed = True
    return t


cdef object _assemble(DualArray like, object value, list parts):
    """A dual array of like's levels (two at most when a part is None) from a value and its
    dense parts, None for a part that is zero: kept absent where the value has an axis (a
    window), zeros for a 0-d value."""
    cdef cnp.ndarray v
    cdef Py_ssize_t lo[3]
    cdef Py_ssize_t hi[3]
    cdef int p
    cdef tuple ks
    for t in parts:
        if t is None:
            break
    else:
        return _rebuild(like, value, parts, None)
    v = _f64(value)
    ks = _directions(like)
    if v.ndim == 0:
        return _rebuild(like, v, [np.zeros(_dirs_of(ks, p)) if parts[p] is None else parts[p]
                                  for p in range(len(parts))], None)
    stored = []
    for p in range(len(parts)):
        if parts[p] is None:
            stored.append(np.zeros((0,) + (<object>v).shape[1:] + _dirs_of(ks, p)))
            lo[p] = hi[p] = 0
        else:
            stored.append(_f64(parts[p]))
            lo[p], hi[p] = 0, cnp.PyArray_DIMS(v)[0]
    return _new_windowed(v, stored, lo, hi, like.tags)


cdef DualArray _flat(DualArray d):
    """d (of one axis or more) as a vector, windows counted in elements: views of its buffers
    where they are contiguous."""
    cdef cnp.ndarray v = _contig(d.value)
    cdef Py_ssize_t r = _row_size(v)
    cdef Py_ssize_t lo[3]
    cdef Py_ssize_t hi[3]
    cdef int p
    cdef tuple ks = _directions(d)
    stored = []
    for p in range(_nparts(d)):
        _window(d, p, &lo[p], &hi[p])
        lo[p] *= r
        hi[p] *= r
        stored.append(_contig(_stored(d, p)).reshape((hi[p] - lo[p],) + _dirs_of(ks, p)))
    v = v.reshape(-1)
    if not d.windowed:
        return _new_levels(v, stored, d.tags)
    return _new_windowed(v, stored, lo, hi, d.tags)


cdef DualArray _unflat(DualArray r, tuple shape):
    """A vector result of _flat operands back in their shape. Its windows are unions and
    meets of theirs, so runs of whole rows; a part whose window is not is stored dense."""
    cdef Py_ssize_t rs = 1, n
    cdef Py_ssize_t lo[3]
    cdef Py_ssize_t hi[3]
    cdef int p
    cdef tuple ks = _directions(r)
    if len(shape) == 1:
        return r
    for m in shape[1:]:
        rs *= <Py_ssize_t>m
    value = r.value.reshape(shape)
    if not r.windowed or rs == 0:
        return _new_levels(value, [_part(r, p).reshape(shape + _dirs_of(ks, p))
                                   for p in range(_nparts(r))], r.tags)
    stored = []
    n = shape[0]
    for p in range(_nparts(r)):
        _window(r, p, &lo[p], &hi[p])
        if hi[p] <= lo[p]:
            lo[p] = hi[p] = 0
        elif lo[p] % rs or hi[p] % rs:
            _dense_part(r, p)
            lo[p], hi[p] = 0, n * rs
        stored.append(_stored(r, p).reshape(((hi[p] - lo[p]) // rs,) + shape[1:] +
                                             _dirs_of(ks, p)))
        lo[p] //= rs
        hi[p] //= rs
    return _new_windowed(value, stored, lo, hi, r.tags)
