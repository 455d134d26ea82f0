# Sums of dual arrays in numpy's pairwise order (csrc/kernels.h). Included by _arrays.pyx.
#
# The value of a full sum is bit for bit np.sum's, and each direction is summed alike over the
# stored rows of its window (with the result of summing all rows), so a gradient's bits do not
# depend on the chunk.

cdef extern from "kernels.h" nogil:
    void dd_pairwise_rows(const double *a, ptrdiff_t n, int k, double *out, double *acc)
    void dd_pairwise_rows_range(const double *a, ptrdiff_t n, ptrdiff_t lo, ptrdiff_t hi,
                                int k, double *out, double *acc)
    ptrdiff_t dd_pairwise_scratch(ptrdiff_t n, int k)


cdef cnp.ndarray _sum_rows(cnp.ndarray t, ptrdiff_t n, int k, ptrdiff_t lo, ptrdiff_t hi,
                           tuple shape):
    """Column sums of an (n, k) block of which t holds rows lo..hi-1 (the rest zero), as an
    array of the given shape (k elements)."""
    cdef cnp.npy_intp dims[32]
    cdef int i, nd = len(shape)
    for i in range(nd):
        dims[i] = shape[i]
    cdef cnp.ndarray out = cnp.PyArray_EMPTY(nd, dims, cnp.NPY_DOUBLE, 0)
    cdef double small[256]              # the scratch of a few directions: no allocation
    cdef double *scratch = small
    if dd_pairwise_scratch(n, k) > 256:
        scratch = <double*>PyMem_Malloc(dd_pairwise_scratch(n, k) * sizeof(double))
        if scratch == NULL:
            raise MemoryError()
    if lo == 0 and hi == n:
        dd_pairwise_rows(_ptr(t), n, k, _ptr(out), scratch)
    else:
        dd_pairwise_rows_range(_ptr(t), n, lo, hi, k, _ptr(out), scratch)
    if scratch != small:
        PyMem_Free(scratch)
    return out


def sum_all(DualArray x, bint e12=True):
    """The sum of every element of x, as a 0-d dual array. (The per-call work is kept in C:
    a sweep with one direction sums small blocks, where Python-level reshapes cost more than
    the additions.) e12=False leaves the e12 part zeros instead of summing it (the summands'
    sweep replaces it by a marker: sparse.py)."""
    cdef cnp.ndarray v = _contig(x.value)
    cdef ptrdiff_t n = cnp.PyArray_SIZE(v)
    cdef Py_ssize_t lo = 0, hi = 0
    cdef int p, k
    cdef tuple dirs
    value = _sum_rows(v, n, 1, 0, n, ())
    out = []
    for p in range(_nparts(x)):
        dirs = _dirs_of(_directions(x), p)
        k = 1
        for d in dirs:                  # not np.prod: an array for a tuple costs ~2 us a call
            k *= <int>d
        if p == E12 and not e12:
            out.append(np.zeros(dirs))
            continue
        _window(x, p, &lo, &hi)
        if not x.windowed:
            lo, hi = 0, n
        else:                           # rows of axis 0: runs of whole rows of elements
            lo *= _row_size(v)
            hi *= _row_size(v)
        out.append(_sum_rows(_contig(_stored(x, p)), n, k, lo, hi, dirs))
    if len(x.tags) <= 2:                # float64 arrays already: no conversions
        return _new(value, out[0], _at(out, E2), _at(out, E12), x.tags)
    return _new_levels(value, out, x.tags)


def sum_axes(DualArray x, tuple axes, bint keepdims):
    """The sum over the given (normalised) axes. The value is numpy's own sum; each part is
    summed direction by direction over one contiguous run (_sum_part), so its bits do not
    depend on how many directions ride along (the chunk)."""
    cdef int nd = x.value.ndim
    if len(axes) == nd:
        s = sum_all(x)
        return s.reshape((1,) * nd) if keepdims else s
    return _linear_parts(x, x.value.sum(axis=axes, keepdims=keepdims),
                         lambda t, p: _sum_part(t, axes, keepdims, nd))


cdef object _sum_part(object t, tuple axes, bint keepdims, int nd):
    """t.sum(axis=axes, keepdims=keepdims) for a part t whose axes from nd on are directions,
    in the same order for every direction: numpy sums a strided axis left to right but a
    contiguous one pairwise, so the reduced axes go last and contiguous before summing."""
    kept = [i for i in range(nd) if i not in axes]
    order = kept + list(range(nd, t.ndim)) + list(axes)
    u = np.ascontiguousarray(t.transpose(order))
    shape = tuple(t.shape[i] for i in order[:len(order) - len(axes)])
    cdef Py_ssize_t m = 1
    for i in axes:
        m *= t.shape[i]
    r = u.reshape(shape + (m,)).sum(axis=-1)
    if keepdims:
        r = r.reshape(tuple(1 if i in axes else t.shape[i] for i in range(nd)) + t.shape[nd:])
    return r
