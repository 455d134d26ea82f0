# cython: language_level=3, boundscheck=False, wraparound=False, embedsignature=True
"""Colouring of sparse Jacobian/Hessian patterns and recovery of the matrix from its
compressed product: the Python face of csrc/coloring.h (numpy int arrays in, numpy out).

A pattern is given as CSR arrays (indptr, indices) and its shape (m, n), as scipy stores it
(`A.indptr, A.indices, A.shape`); entries are never read, only positions. Colours are
0-based, one per column (or row, or vertex), and ncolors = colors.max() + 1.

Workflow of a sparse Jacobian: colors = column_coloring(...); run ncolors forward sweeps
with the seed S = seed_matrix(colors) to get B = J @ S (m x ncolors); then the CSR data of J
is recover_columns(..., colors, B), or, when the same pattern is evaluated many times,
B.reshape(-1)[index] with index = column_recovery_index(...) computed once. Hessians:
star_coloring, B = H @ S, recover_star. row_coloring colours rows (B = S.T @ J, ncolors x n),
which tells whether reverse-style compression would need fewer passes.
"""

cimport numpy as cnp
from libc.math cimport fabs
from libc.stdint cimport int32_t, int64_t

import operator

import numpy as np

cnp.import_array()

cdef extern from "coloring.h" nogil:
    enum:
        DD_COLOR_NOMEM
        DD_ORDER_BEST
        DD_ORDER_AUTO
        DD_CSR_OK
        DD_CSR_START
        DD_CSR_DECREASING
        DD_CSR_END
        DD_CSR_RANGE
        DD_CSR_DUPLICATE
        DD_RECOVER_OK
        DD_RECOVER_SHARED
        DD_RECOVER_ADJACENT
        DD_RECOVER_NOT_STAR
    int dd_csr_check(int32_t nrows, int32_t ncols, const int64_t *ptr, int64_t nnz,
                     const int32_t *ind, int64_t *bad)
    int32_t dd_partial_d2_coloring(int32_t nrows, int32_t ncols, const int64_t *ptr,
                                   const int32_t *ind, int by_rows, int kind, int32_t *color,
                                   int *used)
    int32_t dd_star_coloring(int32_t n, const int64_t *ptr, const int32_t *ind, int kind,
                             int32_t *color, int *used)
    int dd_pattern_order(int32_t nrows, int32_t ncols, const int64_t *ptr, const int32_t *ind,
                         int mode, int kind, int32_t *order)
    int dd_column_recovery_index(int32_t nrows, const int64_t *ptr, const int32_t *ind,
                                 const int32_t *color, int32_t ncolors, int64_t width,
                                 int64_t *index, int64_t *bad)
    int dd_row_recovery_index(int32_t nrows, int32_t ncols, const int64_t *ptr,
                              const int32_t *ind, const int32_t *color, int32_t ncolors,
                              int64_t *index, int64_t *bad)
    int dd_star_recovery_index(int32_t n, const int64_t *ptr, const int32_t *ind,
                               const int32_t *color, int32_t ncolors, int64_t *index,
                               int64_t *bad)

# The names of SparseMatrixColorings.jl (NaturalOrder, LargestFirst, ...), in the order of
# the DD_ORDER_* constants. natural: index order; largest_first: by degree, largest first;
# smallest_last: the vertex of least degree among those left goes last, repeatedly;
# incidence_degree: next, the vertex with the most neighbours already ordered;
# dynamic_largest_first: next, the vertex with the most neighbours not yet ordered.
ORDERS = ("natural", "largest_first", "smallest_last", "incidence_degree",
          "dynamic_largest_first")

# vertex numbers are int32 in the C code
_MAXDIM = 2**31 - 2


def _order_code(order):
    if isinstance(order, str):
        if order == "best":
            return DD_ORDER_BEST
        if order == "auto":
            return DD_ORDER_AUTO
        if order in ORDERS:
            return ORDERS.index(order)
    raise ValueError(f"order must be 'best', 'auto' or one of {', '.join(map(repr, ORDERS))}; "
                     f"got {order!r}")


def _shape(shape, square):
    try:
        m, n = (operator.index(s) for s in shape)
    except (TypeError, ValueError):
        raise ValueError(f"shape must be a pair of ints (rows, columns), got {shape!r}") from None
    if m < 0 or n < 0 or m > _MAXDIM or n > _MAXDIM:
        raise ValueError(f"shape {(m, n)} must have sizes between 0 and {_MAXDIM}")
    if square and m != n:
        raise ValueError(f"a Hessian pattern must be square, got shape {(m, n)}")
    return m, n


def _int_array(a, name):
    """`a` as a 1-D integer numpy array (not copied); empty lists are accepted."""
    arr = np.asarray(a)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D integer array, got {arr.ndim} dimensions")
    if arr.dtype.kind not in "iu" and not (arr.size == 0 and arr.dtype.kind in "f"):
        raise ValueError(f"{name} must be an integer array, got dtype {arr.dtype}")
    return arr


def _pattern(indptr, indices, shape, square=False):
    """Validated (m, n, indptr as int64, indices as int32), contiguous; inputs never change."""
    m, n = _shape(shape, square)
    ptr = _int_array(indptr, "indptr")
    ind = _int_array(indices, "indices")
    if ptr.size != m + 1:
        raise ValueError(f"indptr has length {ptr.size}; a pattern with {m} rows needs "
                         f"{m + 1}")
    if ptr.dtype.kind == "u" and ptr.dtype.itemsize == 8 and ptr.size and ptr.max() > 2**62:
        raise ValueError(f"indptr holds {ptr.max()}, beyond any possible number of entries")
    if ind.size and ind.dtype != np.int32:
        # checked before the cast to int32, which would wrap large values into range
        out = (ind < 0) | (ind >= n)
        if out.any():
            p = int(np.argmax(out))
            raise ValueError(f"indices[{p}] = {ind[p]} is outside [0, {n}) (the pattern has "
                             f"{n} columns)")
    ptr = np.ascontiguousarray(ptr, dtype=np.int64)
    ind = np.ascontiguousarray(ind, dtype=np.int32)
    cdef const int64_t[::1] p_ = ptr
    cdef const int32_t[::1] i_ = ind
    cdef int64_t bad = 0
    cdef int code
    cdef int64_t nnz = ind.size
    cdef int32_t cm = m, cn = n
    cdef const int32_t *ip = &i_[0] if nnz else NULL
    with nogil:
        code = dd_csr_check(cm, cn, &p_[0], nnz, ip, &bad)
    if code == DD_COLOR_NOMEM:
        raise MemoryError("out of memory checking the sparsity pattern")
    if code == DD_CSR_START:
        raise ValueError(f"indptr[0] must be 0, got {ptr[0]}")
    if code == DD_CSR_DECREASING:
        raise ValueError(f"indptr must be non-decreasing, but indptr[{bad}] = {ptr[bad]} > "
                         f"indptr[{bad + 1}] = {ptr[bad + 1]}")
    if code == DD_CSR_END:
        raise ValueError(f"indptr[-1] = {ptr[m]} must equal len(indices) = {nnz}")
    if code == DD_CSR_RANGE:
        raise ValueError(f"indices[{bad}] = {ind[bad]} is outside [0, {n}) (the pattern has "
                         f"{n} columns)")
    if code == DD_CSR_DUPLICATE:
        row = int(np.searchsorted(ptr, bad, side="right")) - 1
        raise ValueError(f"row {row} lists column {ind[bad]} twice; merge repeated entries "
                         f"first (scipy: A.sum_duplicates())")
    return m, n, ptr, ind


def _colors(colors, size, what):
    """Validated colours as contiguous int32, and their number (max + 1)."""
    c = _int_array(colors, "colors")
    if c.size != size:
        raise ValueError(f"colors has {c.size} entries; this pattern has {size} {what}")
    if c.size == 0:
        return np.zeros(0, np.int32), 0
    lo, hi = int(c.min()), int(c.max())
    if lo < 0:
        raise ValueError(f"colors must be >= 0, got colors[{int(np.argmin(c))}] = {lo}")
    if hi > _MAXDIM:
        raise ValueError(f"colors[{int(np.argmax(c))}] = {hi} is beyond {_MAXDIM}")
    return np.ascontiguousarray(c, dtype=np.int32), hi + 1


def _width(width, k):
    """The compressed matrix's number of columns: k colours, or more (other directions)."""
    if width is None:
        return k
    if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < k:
        raise ValueError(f"width must be an int >= the {k} colours, got {width!r}")
    return int(width)


def _compressed(B, shape, what):
    """B as a float64 C-order array of the given shape (a copy only when needed)."""
    arr = np.asarray(B)
    if arr.dtype.kind not in "fiu":
        raise ValueError(f"B must be a real numeric array, got dtype {arr.dtype}")
    if arr.shape != shape:
        raise ValueError(f"B has shape {arr.shape}; {what} needs {shape}")
    return np.ascontiguousarray(arr, dtype=np.float64)


def _coloring(indptr, indices, shape, order, int mode):
    """(colours, what found them: an order's name or "search"); mode 0: columns, 1: rows,
    2: star."""
    cdef int kind = _order_code(order)
    m, n, ptr, ind = _pattern(indptr, indices, shape, square=(mode == 2))
    size = m if mode == 1 else n
    color = np.empty(size + 1, np.int32)                 # + 1: never a zero-size buffer
    cdef const int64_t[::1] p_ = ptr
    cdef const int32_t[::1] i_ = ind
    cdef int32_t[::1] c_ = color
    cdef int used = 0
    cdef int32_t k, cm = m, cn = n
    cdef const int32_t *ip = &i_[0] if ind.size else NULL
    with nogil:
        if mode == 2:
            k = dd_star_coloring(cn, &p_[0], ip, kind, &c_[0], &used)
        else:
            k = dd_partial_d2_coloring(cm, cn, &p_[0], ip, mode, kind, &c_[0], &used)
    if k == DD_COLOR_NOMEM:
        raise MemoryError(f"out of memory colouring a {m} x {n} pattern with {ind.size} "
                          f"entries")
    return color[:size].astype(np.intp), (ORDERS + ("search",))[used]


def _vertex_order(indptr, indices, shape, order, int mode):
    """The vertex order `order` (not "best") of the graph that mode colours (as _coloring):
    for tests, which check each order against its definition."""
    cdef int kind = _order_code(order)
    if kind == DD_ORDER_BEST or kind == DD_ORDER_AUTO:
        raise ValueError(f"{order!r} is not one order")
    m, n, ptr, ind = _pattern(indptr, indices, shape, square=(mode == 2))
    size = m if mode == 1 else n
    out = np.empty(size + 1, np.int32)
    cdef const int64_t[::1] p_ = ptr
    cdef const int32_t[::1] i_ = ind
    cdef int32_t[::1] o_ = out
    cdef int32_t cm = m, cn = n
    cdef const int32_t *ip = &i_[0] if ind.size else NULL
    cdef int code
    with nogil:
        code = dd_pattern_order(cm, cn, &p_[0], ip, mode, kind, &o_[0])
    if code == DD_COLOR_NOMEM:
        raise MemoryError(f"out of memory ordering a {m} x {n} pattern")
    return out[:size].astype(np.intp)


def column_coloring(indptr, indices, shape, *, order="best"):
    """Partial distance-2 colouring of the columns of an m x n Jacobian pattern: columns that
    share a row get different colours, so B = J @ seed_matrix(colors) holds each entry of J
    on its own. Returns an int array of n colours.

    order: "natural", "largest_first", "smallest_last", "incidence_degree" or
    "dynamic_largest_first" give the greedy colouring in that order (degrees count the
    columns sharing a row with a column; see ORDERS). "best" (default) tries every order and
    a bounded backtracking search (DSATUR with revisions), keeps the fewest colours (ties:
    the first tried) and stops early at the largest row's length, which no colouring can
    beat; on stencil patterns the search reaches that optimum where every greedy order
    misses it. "auto" is "best" except where the search fails and natural order needs more
    than twice the longest row (an irregular pattern, where the searches cost many greedy
    passes for a few percent): there it keeps the best of natural, largest_first,
    smallest_last and incidence_degree.
    """
    return _coloring(indptr, indices, shape, order, 0)[0]


def row_coloring(indptr, indices, shape, *, order="best"):
    """Partial distance-2 colouring of the rows: rows that share a column get different
    colours, so B = seed_matrix(colors).T @ J holds each entry. Returns m colours."""
    return _coloring(indptr, indices, shape, order, 1)[0]


def star_coloring(indptr, indices, shape, *, order="best"):
    """Star colouring of the adjacency graph of an n x n symmetric Hessian pattern (the
    pattern is symmetrized, its diagonal ignored): a proper colouring in which every path
    on four vertices has three colours, so each entry of H is read directly from
    B = H @ seed_matrix(colors). Returns n colours. `order` as in column_coloring, except
    that "best" tries the greedy orders only (stopping early at 1 colour without edges, 2
    with)."""
    return _coloring(indptr, indices, shape, order, 2)[0]


def seed_matrix(colors, *, width=None):
    """The compressed seed matrix S (len(colors) x width, float64): S[j, colors[j]] = 1.
    width: its number of columns, ncolors (the default) or more: zero columns after the
    colours' for other directions (a probe)."""
    c, k = _colors(colors, np.asarray(colors).size, "entries")
    width = _width(width, k)
    if 0 < width <= 64:
        # rows of a small identity, gathered: half the time of a scattered assignment
        return np.take(np.eye(width), c, axis=0)
    seed = np.zeros((c.size, width))
    seed.reshape(-1)[np.arange(c.size) * width + c] = 1.0
    return seed


def _recovery_index(indptr, indices, shape, colors, int mode, width=None):
    """(index, shape of B); width (B's columns, columns' mode only) as in column_recovery_index"""
    if width is not None and mode != 0:
        raise ValueError("width applies to column colourings only")
    m, n, ptr, ind = _pattern(indptr, indices, shape, square=(mode == 2))
    c, k = _colors(colors, m if mode == 1 else n, "rows" if mode == 1 else "columns")
    cdef int64_t cwidth = _width(width, k)
    index = np.empty(ind.size + 1, np.int64)
    cdef const int64_t[::1] p_ = ptr
    cdef const int32_t[::1] i_ = ind
    cdef const int32_t[::1] c_ = c if c.size else np.zeros(1, np.int32)
    cdef int64_t[::1] x_ = index
    cdef int64_t bad[3]
    cdef int code
    cdef int32_t ncolors = k, cm = m, cn = n
    cdef const int32_t *ip = &i_[0] if ind.size else NULL
    bad[0] = bad[1] = bad[2] = 0
    with nogil:
        if mode == 0:
            code = dd_column_recovery_index(cm, &p_[0], ip, &c_[0], ncolors, cwidth, &x_[0],
                                            bad)
        elif mode == 1:
            code = dd_row_recovery_index(cm, cn, &p_[0], ip, &c_[0], ncolors, &x_[0], bad)
        else:
            code = dd_star_recovery_index(cn, &p_[0], ip, &c_[0], ncolors, &x_[0], bad)
    if code == DD_COLOR_NOMEM:
        raise MemoryError(f"out of memory building the recovery index of a {m} x {n} pattern")
    if code == DD_RECOVER_SHARED and mode == 0:
        raise ValueError(f"not a valid column colouring: columns {bad[1]} and {bad[2]} share "
                         f"row {bad[0]} and colour {c[bad[1]]}; use column_coloring")
    if code == DD_RECOVER_SHARED:
        raise ValueError(f"not a valid row colouring: rows {bad[1]} and {bad[2]} share "
                         f"column {bad[0]} and colour {c[bad[1]]}; use row_coloring")
    if code == DD_RECOVER_ADJACENT:
        raise ValueError(f"not a star colouring: {bad[0]} and {bad[1]} are adjacent and both "
                         f"have colour {c[bad[0]]}; use star_coloring")
    if code == DD_RECOVER_NOT_STAR:
        raise ValueError(f"not a star colouring: entry ({bad[0]}, {bad[1]}) cannot be read "
                         f"directly (each of the two has another neighbour of the other's "
                         f"colour); use star_coloring")
    return index[:ind.size], (m, cwidth) if mode != 1 else (k, n)


def column_recovery_index(indptr, indices, shape, colors, *, width=None):
    """Flat positions in B = J @ seed_matrix(colors) (m x ncolors) of the pattern's entries:
    the CSR data of J is B.reshape(-1)[index]. Raises ValueError unless colors is a valid
    column colouring of the pattern. width: B's number of columns where it holds more
    directions after the colours' (default ncolors)."""
    return _recovery_index(indptr, indices, shape, colors, 0, width)[0]


def row_recovery_index(indptr, indices, shape, colors):
    """As column_recovery_index, for B = seed_matrix(colors).T @ J (ncolors x n)."""
    return _recovery_index(indptr, indices, shape, colors, 1)[0]


def star_recovery_index(indptr, indices, shape, colors):
    """As column_recovery_index, for B = H @ seed_matrix(colors) (n x ncolors) of a
    symmetric H with this pattern and a star colouring; raises ValueError if some entry
    could not be read directly."""
    return _recovery_index(indptr, indices, shape, colors, 2)[0]


def _recover(indptr, indices, shape, colors, B, int mode, what):
    index, bshape = _recovery_index(indptr, indices, shape, colors, mode)
    return _compressed(B, bshape, what).reshape(-1)[index]


def recover_columns(indptr, indices, shape, colors, B):
    """The CSR data (aligned with indices) of J from B = J @ seed_matrix(colors)."""
    return _recover(indptr, indices, shape, colors, B, 0, "column recovery (m x ncolors)")


def recover_rows(indptr, indices, shape, colors, B):
    """The CSR data of J from B = seed_matrix(colors).T @ J."""
    return _recover(indptr, indices, shape, colors, B, 1, "row recovery (ncolors x n)")


def recover_star(indptr, indices, shape, colors, B):
    """The CSR data of the symmetric H from B = H @ seed_matrix(colors), colors a star
    colouring. Exact: every entry is copied from B, never computed."""
    return _recover(indptr, indices, shape, colors, B, 2, "star recovery (n x ncolors)")


ctypedef fused index_t:
    int32_t
    int64_t


cdef bint _agrees(const int64_t *indptr, const index_t *indices, Py_ssize_t m,
                  const double *src, const int64_t *index, double *out, const double *v,
                  const double *want, Py_ssize_t wstride, double tol) noexcept nogil:
    """probe_agrees' test over the m rows (want[i * wstride] is row i's product). With index,
    each entry is first gathered, out[e] = src[index[e]] (all of them, past a disagreement
    too); without, the entries are src[e]."""
    cdef Py_ssize_t i
    cdef int64_t e
    cdef double d, got, scale, w, vj
    cdef bint agree = True
    for i in range(m):
        got = 0.0
        scale = 0.0
        for e in range(indptr[i], indptr[i + 1]):
            if index != NULL:
                d = src[index[e]]
                out[e] = d
            else:
                d = src[e]
            vj = v[indices[e]]
            got += d * vj
            scale += fabs(d) * fabs(vj)
        if not agree:
            continue
        w = want[i * wstride]
        if got - got == 0.0 and w - w == 0.0:           # both finite
            if scale - scale == 0.0 and fabs(got - w) > tol * (scale + fabs(w)) + 1e-300:
                agree = False
        elif not (got == w or (got != got and w != w)):
            agree = False
        if not agree and index == NULL:
            break
    return agree


def probe_agrees(const int64_t[::1] indptr, const index_t[::1] indices,
                 const double[::1] data, const double[::1] v, const double[::1] want,
                 double tol):
    """Whether the recovered matrix A (CSR) agrees with a plain sweep's A v (want) along
    the probe v, in one pass over the entries: every row's (A v)_i within
    tol * (sum_j |A_ij v_j| + |want_i|) of want_i, and a non-finite value on one side only
    a disagreement (NaN with NaN and inf with the same inf agree). The caller explains a
    False with sparse._check_probe, which applies the same test with numpy."""
    cdef bint agree
    with nogil:
        agree = _agrees(&indptr[0], &indices[0] if indices.shape[0] else NULL,
                        indptr.shape[0] - 1, &data[0] if data.shape[0] else NULL, NULL, NULL,
                        &v[0] if v.shape[0] else NULL, &want[0] if want.shape[0] else NULL,
                        1, tol)
    return agree


def gather_probe(const int64_t[::1] indptr, const index_t[::1] indices,
                 const double[:, ::1] B, const int64_t[::1] index, const double[::1] v,
                 Py_ssize_t column, double tol, double[::1] out):
    """The CSR data of A gathered from a compressed product, out[e] = B.flat[index[e]], and
    in the same pass probe_agrees' test of it against B[:, column] (the sweep's A v, the
    probe riding as one more column of B). Returns the verdict; out is filled either way.
    One pass instead of np.take and probe_agrees' second reading of the data (issue 14: the
    gather and the check cost 2.8x f of the Bratu residual, n = 10^5)."""
    cdef Py_ssize_t m = indptr.shape[0] - 1
    if B.shape[0] != m or not 0 <= column < B.shape[1] or out.shape[0] != index.shape[0] \
            or index.shape[0] != indices.shape[0] or indptr[m] != index.shape[0]:
        raise ValueError("gather_probe: inconsistent shapes")
    cdef bint agree
    with nogil:
        agree = _agrees(&indptr[0], &indices[0] if indices.shape[0] else NULL, m,
                        &B[0, 0] if B.shape[0] else NULL, &index[0] if index.shape[0] else NULL,
                        &out[0] if out.shape[0] else NULL, &v[0] if v.shape[0] else NULL,
                        &B[0, column] if B.shape[0] else NULL, B.shape[1], tol)
    return agree


def segment_sum(const int64_t[::1] ptr, const int64_t[::1] idx, const double[::1] src,
                double c, double[::1] out):
    """out[i] += c * (sum of src[idx[p]] for p in ptr[i] .. ptr[i + 1] - 1): a sparse Hessian's
    CSR data summed from the entries of a summand's e12 part that land on it, in one pass
    (the summands' method: np.bincount into the upper triangle and a gather from it read the
    data twice). ptr and every index are checked before anything is added (ValueError,
    nothing read outside, out untouched)."""
    cdef Py_ssize_t m = out.shape[0], n = src.shape[0], i, nidx = idx.shape[0]
    cdef int64_t p, j, bad = -1, lo = 0, hi = 0, q
    cdef double s
    if ptr.shape[0] != m + 1 or ptr[0] != 0 or ptr[m] != nidx:
        raise ValueError("segment_sum: ptr must run from 0 to len(idx), one entry per output "
                         "plus one")
    with nogil:
        # every check before any addition: a bad index leaves out as it was (inside the
        # summing loop, it stopped there with out half summed)
        for i in range(m):
            if ptr[i + 1] < ptr[i]:
                bad = ptr[i]
        if nidx:
            lo = hi = idx[0]
            for q in range(nidx):
                j = idx[q]
                lo = j if j < lo else lo
                hi = j if j > hi else hi
        if bad < 0 and (lo < 0 or hi >= n):
            bad = 0
        if bad < 0:
            for i in range(m):
                s = 0.0
                for p in range(ptr[i], ptr[i + 1]):
                    s += src[idx[p]]
                out[i] += c * s
    if bad >= 0:
        raise ValueError(f"segment_sum: ptr decreases or an index of idx is outside the source "
                         f"(of {n} entries)")


def group_products(const int64_t[::1] indptr, const index_t[::1] indices,
                   const double[::1] data, const double[::1] w, const int64_t[::1] group,
                   Py_ssize_t k):
    """(got, scale), each of length k: got[g] = sum of data[p] w[indices[p]] over the entries
    p of the rows i with group[i] = g, scale[g] the same sum of absolute values -- S^T A w for
    the CSR matrix A and the 0/1 seed S of a colouring `group` of its rows, with the scale a
    check of it needs (the summands' probe, sparse.py), in one pass over the entries.
    Indices are checked as they are read (ValueError, nothing read outside)."""
    cdef Py_ssize_t m = indptr.shape[0] - 1, n = w.shape[0], i
    cdef int64_t p, g, j, bad = -1
    cdef double t
    if m < 0 or group.shape[0] != m or indptr[0] != 0 or indptr[m] != data.shape[0] or \
            indices.shape[0] != data.shape[0]:
        raise ValueError("group_products: inconsistent CSR arrays")
    got, scale = np.zeros(k), np.zeros(k)
    cdef double[::1] gv = got, sv = scale
    with nogil:
        for i in range(m):
            g = group[i]
            if g < 0 or g >= k or indptr[i + 1] < indptr[i] or indptr[i + 1] > indptr[m]:
                bad = i
                break
            for p in range(indptr[i], indptr[i + 1]):
                j = indices[p]
                if j < 0 or j >= n:
                    bad = i
                    break
                t = data[p] * w[j]
                gv[g] += t
                sv[g] += fabs(t)
            if bad >= 0:
                break
    if bad >= 0:
        raise ValueError(f"group_products: row {bad} has a group or a column out of range")
    return got, scale
