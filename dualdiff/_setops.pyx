# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""The compiled set algebra behind the sparsity tracer (dualdiff/_tracer.py).

A *store* holds rows of sorted, distinct int64 keys -- input indices (which inputs an element
depends on) or pair codes i*n + j with i <= j (which input pairs meet in its second
derivative) -- CSR-like: (indptr, keys, vals), where vals (one float64 per key: a sparse
gradient or Hessian entry) is None when only the structure is tracked. Tracer elements point
at rows, possibly of several stores at once ("segments", addressed by global row numbers: the
rows of segment s start at the sum of the row counts before it).

Two operations make every new row the tracer needs:
  merge:  row i = sum over its recipe entries t of coef[t] * row(refs[t]) -- unions of keys,
          numbers added where keys meet;
  outer:  row i = sum over t of coef[t] * (a b^T + b a^T), upper triangle, with a = row(refsA[t])
          and b = row(refsB[t]) as sparse vectors: the pairs that meet in a product or in a
          nonlinear function, as pair codes.
A recipe lists the entries of each output row: entries rptr[i]..rptr[i+1]-1, or, with a
fixed width w, entries i*w..i*w+w-1. A negative ref is an empty row.

Memory is linear in what is stored: each call sizes its output from the row lengths it reads
(a first pass), never from the number of inputs n.
"""

cimport numpy as cnp
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

import numpy as np

cnp.import_array()

# rows of at most SMALL candidate keys are sorted by insertion; longer ones by an LSD radix
# sort of RADIX_BITS bits per pass
cdef enum:
    SMALL = 32
    RADIX_BITS = 11
    RADIX = 2048


cdef struct Segs:
    int n                       # segments
    const int64_t **ptr
    const int64_t **key
    const double **val          # NULL entries in structure mode
    int64_t *offs               # n + 1 cumulative row counts


cdef struct Buf:
    int64_t *key
    double *val
    int64_t *key2
    double *val2
    int64_t cap


cdef int _segs_init(Segs *s, list segs, bint numeric) except -1:
    """C views of the stores (Python objects kept alive by the caller's list)."""
    cdef int i, n = len(segs)
    cdef cnp.ndarray p, k, v
    s.n = n
    s.ptr = <const int64_t **>malloc((n + 1) * sizeof(int64_t *))
    s.key = <const int64_t **>malloc((n + 1) * sizeof(int64_t *))
    s.val = <const double **>malloc((n + 1) * sizeof(double *))
    s.offs = <int64_t *>malloc((n + 1) * sizeof(int64_t))
    if s.ptr == NULL or s.key == NULL or s.val == NULL or s.offs == NULL:
        _segs_free(s)
        raise MemoryError("sparsity tracer: out of memory")
    s.offs[0] = 0
    for i in range(n):
        p, k, v = segs[i]
        if p.dtype != np.int64 or k.dtype != np.int64 or not p.flags.c_contiguous \
                or not k.flags.c_contiguous:
            _segs_free(s)
            raise TypeError("sparsity tracer: a store's arrays must be contiguous int64")
        s.ptr[i] = <const int64_t *>cnp.PyArray_DATA(p)
        s.key[i] = <const int64_t *>cnp.PyArray_DATA(k)
        if numeric:
            if v is None or v.dtype != np.float64 or not v.flags.c_contiguous:
                _segs_free(s)
                raise TypeError("sparsity tracer: a numeric store needs contiguous float64 "
                                "values")
            s.val[i] = <const double *>cnp.PyArray_DATA(v)
        else:
            s.val[i] = NULL
        s.offs[i + 1] = s.offs[i] + (p.shape[0] - 1)
    return 0


cdef void _segs_free(Segs *s) noexcept:
    free(s.ptr)
    free(s.key)
    free(s.val)
    free(s.offs)
    s.ptr = NULL
    s.key = NULL
    s.val = NULL
    s.offs = NULL


cdef inline int _seg_of(const Segs *s, int64_t g) noexcept nogil:
    """The segment holding global row g (binary search over the offsets)."""
    cdef int lo = 0, hi = s.n - 1, mid
    while lo < hi:
        mid = (lo + hi + 1) >> 1
        if s.offs[mid] <= g:
            lo = mid
        else:
            hi = mid - 1
    return lo


cdef inline int64_t _row(const Segs *s, int64_t g, const int64_t **key,
                         const double **val) noexcept nogil:
    """Keys (and values) of global row g; returns its length (0 for g < 0)."""
    cdef int seg
    cdef int64_t r, a
    if g < 0:
        return 0
    seg = 0 if s.n == 1 else _seg_of(s, g)
    r = g - s.offs[seg]
    a = s.ptr[seg][r]
    key[0] = s.key[seg] + a
    val[0] = (s.val[seg] + a) if s.val[seg] != NULL else NULL
    return s.ptr[seg][r + 1] - a


cdef int _buf_reserve(Buf *b, int64_t need, bint numeric) noexcept nogil:
    """Room for `need` candidates (key, val) and the radix sort's second buffer; 0 or -1."""
    cdef int64_t cap
    if need <= b.cap:
        return 0
    cap = need if need > 2 * b.cap else 2 * b.cap
    free(b.key)
    free(b.key2)
    free(b.val)
    free(b.val2)
    b.key = <int64_t *>malloc(cap * sizeof(int64_t))
    b.key2 = <int64_t *>malloc(cap * sizeof(int64_t))
    b.val = <double *>malloc(cap * sizeof(double)) if numeric else NULL
    b.val2 = <double *>malloc(cap * sizeof(double)) if numeric else NULL
    b.cap = cap
    if b.key == NULL or b.key2 == NULL or (numeric and (b.val == NULL or b.val2 == NULL)):
        b.cap = 0
        return -1
    return 0


cdef void _buf_free(Buf *b) noexcept nogil:
    free(b.key)
    free(b.key2)
    free(b.val)
    free(b.val2)
    b.key = b.key2 = NULL
    b.val = b.val2 = NULL
    b.cap = 0


cdef inline void _insertion(int64_t *key, double *val, int64_t n, bint numeric) noexcept nogil:
    cdef int64_t i, j, k
    cdef double v = 0.0
    for i in range(1, n):
        k = key[i]
        if numeric:
            v = val[i]
        j = i - 1
        while j >= 0 and key[j] > k:
            key[j + 1] = key[j]
            if numeric:
                val[j + 1] = val[j]
            j -= 1
        key[j + 1] = k
        if numeric:
            val[j + 1] = v


cdef void _radix(int64_t *key, double *val, int64_t *tk, double *tv, int64_t n,
                 int64_t maxkey, bint numeric) noexcept nogil:
    """LSD radix sort of key[0:n] (values alongside), tk/tv as the second buffer; the
    result ends in key/val."""
    cdef int64_t count[RADIX]
    cdef int64_t i, j, k, d, shift = 0
    cdef int64_t *sk = key
    cdef double *sv = val
    cdef int64_t *dk = tk
    cdef double *dv = tv
    cdef int64_t *xk
    cdef double *xv
    while shift == 0 or (maxkey >> shift) > 0:
        for d in range(RADIX):
            count[d] = 0
        for i in range(n):
            count[(sk[i] >> shift) & (RADIX - 1)] += 1
        k = 0
        for d in range(RADIX):
            j = count[d]
            count[d] = k
            k += j
        for i in range(n):
            d = (sk[i] >> shift) & (RADIX - 1)
            dk[count[d]] = sk[i]
            if numeric:
                dv[count[d]] = sv[i]
            count[d] += 1
        xk = sk
        sk = dk
        dk = xk
        xv = sv
        sv = dv
        dv = xv
        shift += RADIX_BITS
        if shift >= 63:
            break
    if sk != key:
        memcpy(key, sk, n * sizeof(int64_t))
        if numeric:
            memcpy(val, sv, n * sizeof(double))


cdef void _sort(Buf *b, int64_t n, bint numeric) noexcept nogil:
    """Sort the first n candidates by key, stably (equal keys keep their order, so the
    numbers of equal keys are added in recipe order whatever the sort). Short rows: insertion
    sort. Long rows (sums over many elements): one counting pass on the keys' top bits into
    up to 2^16 buckets, then each bucket by insertion (or radix, if it is large) -- about two
    passes over the data, where a full LSD radix sort of pair codes takes four."""
    cdef int64_t i, maxkey = 0, nb, shift, lo, hi, s, d
    cdef int64_t *count
    cdef int64_t *tk
    cdef double *tv
    if n <= SMALL:
        _insertion(b.key, b.val, n, numeric)
        return
    for i in range(n):
        if b.key[i] > maxkey:
            maxkey = b.key[i]
    nb = 1
    while nb < 65536 and nb * 4 <= n:
        nb *= 2
    shift = 0
    while (nb << shift) < (maxkey + 1) and shift < 63:
        shift += 1
    count = <int64_t *>malloc((nb + 1) * sizeof(int64_t))
    if count == NULL:                            # no room for buckets: sort in place
        _radix(b.key, b.val, b.key2, b.val2, n, maxkey, numeric)
        return
    for d in range(nb + 1):
        count[d] = 0
    for i in range(n):
        count[(b.key[i] >> shift) + 1] += 1
    for d in range(nb):
        count[d + 1] += count[d]
    for i in range(n):
        d = b.key[i] >> shift
        b.key2[count[d]] = b.key[i]
        if numeric:
            b.val2[count[d]] = b.val[i]
        count[d] += 1
    # count[d] is now the end of bucket d (the start of d + 1)
    lo = 0
    for d in range(nb):
        hi = count[d]
        s = hi - lo
        if s > 64:
            _radix(b.key2 + lo, b.val2 + lo if numeric else NULL, b.key + lo,
                   b.val + lo if numeric else NULL, s, maxkey, numeric)
        elif s > 1:
            _insertion(b.key2 + lo, b.val2 + lo if numeric else NULL, s, numeric)
        lo = hi
    free(count)
    tk = b.key
    b.key = b.key2
    b.key2 = tk
    tv = b.val
    b.val = b.val2
    b.val2 = tv


cdef int64_t _compress(Buf *b, int64_t n, int64_t *okey, double *oval,
                       bint numeric) noexcept nogil:
    """Sorted candidates -> distinct keys (numbers of equal keys summed); returns the count."""
    cdef int64_t i, m = 0
    for i in range(n):
        if m and okey[m - 1] == b.key[i]:
            if numeric:
                oval[m - 1] += b.val[i]
        else:
            okey[m] = b.key[i]
            if numeric:
                oval[m] = b.val[i]
            m += 1
    return m


cdef inline int64_t _entries(const int64_t *rptr, int64_t width, int64_t i,
                             int64_t *t0) noexcept nogil:
    if rptr != NULL:
        t0[0] = rptr[i]
        return rptr[i + 1] - rptr[i]
    t0[0] = i * width
    return width


def _recipe(rptr, refs, width, nrows):
    """(rptr or None, refs, width, rows) checked: refs int64, rptr int64 of nrows + 1."""
    r = np.ascontiguousarray(refs, dtype=np.int64)
    if rptr is None:
        if width <= 0 or r.shape[0] != nrows * width:
            raise ValueError("sparsity tracer: recipe of the wrong size")
        return None, r
    p = np.ascontiguousarray(rptr, dtype=np.int64)
    if p.shape[0] != nrows + 1 or p[0] != 0 or p[nrows] != r.shape[0]:
        raise ValueError("sparsity tracer: malformed recipe")
    return p, r


def merge(list segs, rptr, refs, coef, Py_ssize_t nrows, Py_ssize_t width=0,
          bint numeric=False):
    """Rows i < nrows: sum_t coef[t] * row(refs[t]) over the recipe entries t of row i (keys
    united; numbers summed when numeric). Returns (indptr, keys, vals or None)."""
    p, r = _recipe(rptr, refs, width, nrows)
    cdef const int64_t *rp = NULL
    if p is not None:
        rp = <const int64_t *>cnp.PyArray_DATA(p)
    cdef const int64_t *rf = <const int64_t *>cnp.PyArray_DATA(r)
    cdef cnp.ndarray c = None
    cdef const double *cf = NULL
    if numeric:
        c = np.ascontiguousarray(coef, dtype=np.float64) if coef is not None else \
            np.ones(r.shape[0])
        if c.shape[0] != r.shape[0]:
            raise ValueError("sparsity tracer: one coefficient per recipe entry")
        cf = <const double *>cnp.PyArray_DATA(c)
    cdef Segs s
    _segs_init(&s, segs, numeric)
    cdef int64_t i, t, t0, ne, total = 0, longest = 0, rowlen, bad = -1
    cdef const int64_t *kk = NULL
    cdef const double *vv = NULL
    out_ptr = np.empty(nrows + 1, np.int64)
    cdef int64_t *op = <int64_t *>cnp.PyArray_DATA(out_ptr)
    try:
        with nogil:
            for i in range(nrows):
                ne = _entries(rp, width, i, &t0)
                rowlen = 0
                for t in range(t0, t0 + ne):
                    if rf[t] >= s.offs[s.n]:
                        bad = rf[t]
                        break
                    rowlen += _row(&s, rf[t], &kk, &vv)
                if bad >= 0:
                    break
                op[i + 1] = rowlen               # capacity, for now
                total += rowlen
                if rowlen > longest:
                    longest = rowlen
        if bad >= 0:
            raise IndexError(f"sparsity tracer: row {bad} of {s.offs[s.n]} (a bug)")
        keys = np.empty(total, np.int64)
        vals = np.empty(total, np.float64) if numeric else None
        _merge_fill(&s, rp, rf, cf, width, nrows, longest, op,
                    <int64_t *>cnp.PyArray_DATA(keys),
                    <double *>cnp.PyArray_DATA(vals) if numeric else NULL, numeric)
    finally:
        _segs_free(&s)
    return _trim(out_ptr, keys, vals)


cdef inline int64_t _merge_row(const Segs *s, const int64_t *rf, const double *cf,
                               int64_t t0, int64_t ne, Buf *b, int64_t *okey, double *oval,
                               bint numeric) noexcept nogil:
    """One output row of merge into okey/oval; returns its length. Inlined twice (numeric
    and structure only), so that the compiler drops the numbers' work from the latter."""
    cdef int64_t t, L, n, m = 0, la = 0, lb = 0, ia, ib, ka_, kb_
    cdef int lists = 0
    cdef const int64_t *kk = NULL
    cdef const double *vv = NULL
    cdef const int64_t *ka = NULL
    cdef const double *va = NULL
    cdef const int64_t *kb = NULL
    cdef const double *vb = NULL
    cdef double ca = 1.0, cb = 1.0, c
    # the non-empty rows among the entries: one or two are merged directly
    for t in range(t0, t0 + ne):
        L = _row(s, rf[t], &kk, &vv)
        if L == 0:
            continue
        lists += 1
        if lists == 1:
            ka, va, la = kk, vv, L
            if numeric:
                ca = cf[t]
        elif lists == 2:
            kb, vb, lb = kk, vv, L
            if numeric:
                cb = cf[t]
        else:
            break
    if lists == 1:
        memcpy(okey, ka, la * sizeof(int64_t))
        if numeric:
            for ia in range(la):
                oval[ia] = ca * va[ia]
        return la
    if lists == 2:
        ia = ib = 0
        while ia < la and ib < lb:
            ka_ = ka[ia]
            kb_ = kb[ib]
            if ka_ < kb_:
                okey[m] = ka_
                if numeric:
                    oval[m] = ca * va[ia]
                ia += 1
            elif kb_ < ka_:
                okey[m] = kb_
                if numeric:
                    oval[m] = cb * vb[ib]
                ib += 1
            else:
                okey[m] = ka_
                if numeric:
                    oval[m] = ca * va[ia] + cb * vb[ib]
                ia += 1
                ib += 1
            m += 1
        while ia < la:
            okey[m] = ka[ia]
            if numeric:
                oval[m] = ca * va[ia]
            ia += 1
            m += 1
        while ib < lb:
            okey[m] = kb[ib]
            if numeric:
                oval[m] = cb * vb[ib]
            ib += 1
            m += 1
        return m
    if lists == 0:
        return 0
    n = 0
    for t in range(t0, t0 + ne):
        L = _row(s, rf[t], &kk, &vv)
        if L == 0:
            continue
        memcpy(b.key + n, kk, L * sizeof(int64_t))
        if numeric:
            c = cf[t]
            for ia in range(L):
                b.val[n + ia] = c * vv[ia]
        n += L
    _sort(b, n, numeric)
    return _compress(b, n, okey, oval, numeric)


cdef int _merge_fill(const Segs *s, const int64_t *rp, const int64_t *rf, const double *cf,
                     int64_t width, int64_t nrows, int64_t longest, int64_t *op,
                     int64_t *okey, double *oval, bint numeric) except -1:
    cdef Buf b
    cdef int64_t i, t0, ne, pos = 0
    cdef int err = 0
    b.key = b.key2 = NULL
    b.val = b.val2 = NULL
    b.cap = 0
    with nogil:
        if _buf_reserve(&b, longest if longest > 1 else 1, numeric):
            err = 1
        else:
            op[0] = 0
            if numeric:
                for i in range(nrows):
                    ne = _entries(rp, width, i, &t0)
                    pos += _merge_row(s, rf, cf, t0, ne, &b, okey + pos, oval + pos, True)
                    op[i + 1] = pos
            else:
                for i in range(nrows):
                    ne = _entries(rp, width, i, &t0)
                    pos += _merge_row(s, rf, cf, t0, ne, &b, okey + pos, NULL, False)
                    op[i + 1] = pos
        _buf_free(&b)
    if err:
        raise MemoryError("sparsity tracer: out of memory")
    return 0


def outer(list segs, rptr, refsA, refsB, coef, Py_ssize_t nrows, int64_t n,
          Py_ssize_t width=0, bint numeric=False):
    """Rows i < nrows of pair codes: sum_t coef[t] * upper(a b^T + b a^T) with a =
    row(refsA[t]), b = row(refsB[t]) over the recipe entries of row i; a pair (p, q), p <= q,
    has the code p*n + q. Returns (indptr, keys, vals or None)."""
    p, ra = _recipe(rptr, refsA, width, nrows)
    _, rb = _recipe(rptr, refsB, width, nrows)
    cdef const int64_t *rp = NULL
    if p is not None:
        rp = <const int64_t *>cnp.PyArray_DATA(p)
    cdef const int64_t *fa = <const int64_t *>cnp.PyArray_DATA(ra)
    cdef const int64_t *fb = <const int64_t *>cnp.PyArray_DATA(rb)
    cdef cnp.ndarray c = None
    cdef const double *cf = NULL
    if numeric:
        c = np.ascontiguousarray(coef, dtype=np.float64) if coef is not None else \
            np.ones(ra.shape[0])
        if c.shape[0] != ra.shape[0]:
            raise ValueError("sparsity tracer: one coefficient per recipe entry")
        cf = <const double *>cnp.PyArray_DATA(c)
    if n <= 0 or n > 3037000499:            # n*n must fit in int64
        raise ValueError(f"sparsity tracer: {n} inputs are beyond the pair codes' range")
    cdef Segs s
    _segs_init(&s, segs, numeric)
    cdef int64_t i, t, t0, ne, la, lb, rowlen, total = 0, longest = 0, bad = -1
    cdef const int64_t *ka = NULL
    cdef const int64_t *kb = NULL
    cdef const double *va = NULL
    cdef const double *vb = NULL
    out_ptr = np.empty(nrows + 1, np.int64)
    cdef int64_t *op = <int64_t *>cnp.PyArray_DATA(out_ptr)
    try:
        with nogil:
            for i in range(nrows):
                ne = _entries(rp, width, i, &t0)
                rowlen = 0
                for t in range(t0, t0 + ne):
                    if fa[t] >= s.offs[s.n] or fb[t] >= s.offs[s.n]:
                        bad = fa[t] if fa[t] >= s.offs[s.n] else fb[t]
                        break
                    ka = kb = NULL
                    la = _row(&s, fa[t], &ka, &va)
                    lb = _row(&s, fb[t], &kb, &vb)
                    if ka == kb and la == lb:
                        rowlen += la * (la + 1) // 2
                    else:
                        rowlen += la * lb
                op[i + 1] = rowlen
                total += rowlen
                if rowlen > longest:
                    longest = rowlen
                if bad >= 0:
                    break
        if bad >= 0:
            raise IndexError(f"sparsity tracer: row {bad} of {s.offs[s.n]} (a bug)")
        keys = np.empty(total, np.int64)
        vals = np.empty(total, np.float64) if numeric else None
        _outer_fill(&s, rp, fa, fb, cf, width, nrows, n, longest, op,
                    <int64_t *>cnp.PyArray_DATA(keys),
                    <double *>cnp.PyArray_DATA(vals) if numeric else NULL, numeric)
    finally:
        _segs_free(&s)
    return _trim(out_ptr, keys, vals)


cdef int _outer_fill(const Segs *s, const int64_t *rp, const int64_t *fa, const int64_t *fb,
                     const double *cf, int64_t width, int64_t nrows, int64_t n,
                     int64_t longest, int64_t *op, int64_t *okey, double *oval,
                     bint numeric) except -1:
    cdef Buf b
    cdef int64_t i, t, t0, ne, la, lb, x, y, m, cnt, pos = 0, p, q
    cdef const int64_t *ka = NULL
    cdef const int64_t *kb = NULL
    cdef const double *va = NULL
    cdef const double *vb = NULL
    cdef double c
    cdef int err = 0
    b.key = b.key2 = NULL
    b.val = b.val2 = NULL
    b.cap = 0
    with nogil:
        if _buf_reserve(&b, longest if longest > 1 else 1, numeric):
            err = 1
        else:
            op[0] = 0
            for i in range(nrows):
                ne = _entries(rp, width, i, &t0)
                cnt = 0
                for t in range(t0, t0 + ne):
                    ka = kb = NULL
                    la = _row(s, fa[t], &ka, &va)
                    lb = _row(s, fb[t], &kb, &vb)
                    c = cf[t] if cf != NULL else 1.0
                    if ka == kb and la == lb:
                        # a a^T + a a^T = 2 a a^T: each unordered pair once, doubled
                        for x in range(la):
                            for y in range(x, la):
                                b.key[cnt] = ka[x] * n + ka[y]
                                if numeric:
                                    b.val[cnt] = 2.0 * c * va[x] * va[y]
                                cnt += 1
                    else:
                        # (p, q) and (q, p) of a b^T + b a^T land on the same code; the
                        # diagonal gets a_p b_p twice
                        for x in range(la):
                            for y in range(lb):
                                p = ka[x]
                                q = kb[y]
                                b.key[cnt] = p * n + q if p <= q else q * n + p
                                if numeric:
                                    b.val[cnt] = c * va[x] * vb[y] * (2.0 if p == q else 1.0)
                                cnt += 1
                _sort(&b, cnt, numeric)
                m = _compress(&b, cnt, okey + pos, oval + pos if numeric else NULL, numeric)
                pos += m
                op[i + 1] = pos
        _buf_free(&b)
    if err:
        raise MemoryError("sparsity tracer: out of memory")
    return 0


def _trim(out_ptr, keys, vals):
    """Drop the unused tail of the output buffers (copied when it is large, so that a
    store's memory stays linear in what it holds)."""
    used = int(out_ptr[out_ptr.shape[0] - 1])
    if used < keys.shape[0]:
        keys = keys[:used].copy() if used < 0.75 * keys.shape[0] else keys[:used]
        if vals is not None:
            vals = vals[:used].copy() if used < 0.75 * vals.shape[0] else vals[:used]
    return out_ptr, keys, vals
