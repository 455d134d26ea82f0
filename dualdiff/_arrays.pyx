# cython: language_level=3, cdivision=True, c_api_binop_methods=True, embedsignature=True
"""Dual arrays: what the transforms feed to the user's numpy code.

Design
------
* Struct of arrays, not object arrays. A DualArray holds `value` (any shape S, float64) and
  its tangents `t1` of shape S + (k,): k directional derivatives per element, directions
  last. A second-order array (order 2, for hessian/hvp) also holds `t2` (S + (k2,)) and
  `t12` (S + (k1, k2)), the hyper-dual parts e2 and e1e2. One class serves both orders:
  structural operations (indexing, reshape, concatenate, sums, matmul by a constant) act
  the same way on every part, only the trailing direction axes differ.
* Elementwise work runs in the compiled loops of csrc/kernels.h, which expand the rule
  table and call the same per-entry helpers as Dual and HyperDual: an element of a dual
  array equals the scalar computed from the same inputs, bit for bit. Operands are either
  whole or a broadcast single element; other broadcasting is materialised first.
* numpy protocols. Operators are C-API slots; np.sin(x) and friends arrive through
  __array_ufunc__ and np.sum, np.dot, np.where, ... through __array_function__, each mapped
  to a handler. An unsupported function raises TypeError naming it, never a wrong answer.
* Directions last also makes numpy broadcasting and advanced indexing work unchanged:
  value[idx] and t[idx + (:,)] select the same elements, whatever idx is.
* Immutable: no operation writes into an existing buffer, so results may share memory
  (x + 1 reuses x's tangents) and the user's inputs are never modified.
* Indexing one element of a single-direction array gives back the compiled scalar (Dual or
  HyperDual), so loop-style user code runs on the fast scalar path.
* Support. A gradient sweep seeds a chunk of k directions on k elements of x: the other
  rows of the tangent block are zero, and stay zero through elementwise operations, unit
  step slices and sums. A 1-D dual array may therefore store only rows lo..hi-1 of each
  tangent part (`partial`; each part has its own range: a Hessian block seeds e1 on rows I
  and e2 on rows J, and e1e2 becomes nonzero only where both meet). Those operations work
  on the stored rows alone, so a chunked gradient of elementwise-and-shift code costs
  O(n k) per sweep instead of O(n^2). Every other operation first densifies (t1/t2/t12
  always read dense), so support is purely an optimisation: results are bit for bit those
  of the dense computation.
"""

cimport cython
cimport numpy as cnp
from libc.stddef cimport ptrdiff_t
from cpython.float cimport PyFloat_Check, PyFloat_AS_DOUBLE
from cpython.long cimport PyLong_Check
from cpython.mem cimport PyMem_Malloc, PyMem_Free
from libc.string cimport memcpy

from dualdiff._core cimport (Dual, HyperDual, make_dual, make_hyper, join_tags)

import numpy as np
from dualdiff import _core

cnp.import_array()

cdef extern from "kernels.h" nogil:
    enum:
        DD_OP_ADD
        DD_OP_SUB
        DD_OP_MUL
        DD_OP_DIV
        DD_OP_RULE0
    int dd_unary1(int code, ptrdiff_t n, int k, const double *x, const double *t,
                  double *y, double *u)
    int dd_powc1(double pw, ptrdiff_t n, int k, const double *x, const double *t,
                 double *y, double *u)
    int dd_binary1(int op, ptrdiff_t n, int k, const double *a, ptrdiff_t sa, const double *ta,
                   const double *b, ptrdiff_t sb, const double *tb, double *y, double *u)
    int dd_unary2(int code, ptrdiff_t n, int k1, int k2, const double *x, const double *t1,
                  const double *t2, const double *t12, double *y, double *u1, double *u2,
                  double *u12)
    int dd_powc2(double pw, ptrdiff_t n, int k1, int k2, const double *x, const double *t1,
                 const double *t2, const double *t12, double *y, double *u1, double *u2,
                 double *u12)
    int dd_binary2(int op, ptrdiff_t n, int k1, int k2, const double *a, ptrdiff_t sa,
                   const double *a_1, const double *a_2, const double *a_12,
                   const double *b, ptrdiff_t sb, const double *b_1, const double *b_2,
                   const double *b_12, double *y, double *u1, double *u2, double *u12)

    void dd_pairwise_rows(const double *a, ptrdiff_t n, int k, double *out, double *acc)
    void dd_pairwise_rows_range(const double *a, ptrdiff_t n, ptrdiff_t lo, ptrdiff_t hi,
                                int k, double *out, double *acc)
    ptrdiff_t dd_pairwise_scratch(ptrdiff_t n, int k)

cdef extern from "pool.h" nogil:
    struct dd_pool_state:
        int n
        size_t bytes
        size_t hits, misses
    dd_pool_state dd_pool
    void dd_pool_clear()
    void *dd_np_malloc(void *ctx, size_t size)
    void *dd_np_calloc(void *ctx, size_t nelem, size_t elsize)
    void *dd_np_realloc(void *ctx, void *ptr, size_t size)
    void dd_np_free(void *ctx, void *ptr, size_t size)

cdef extern from "numpy/arrayobject.h":
    ctypedef struct PyDataMemAllocator:
        void *ctx
        void *(*malloc)(void *ctx, size_t size) noexcept nogil
        void *(*calloc)(void *ctx, size_t nelem, size_t elsize) noexcept nogil
        void *(*realloc)(void *ctx, void *ptr, size_t new_size) noexcept nogil
        void (*free)(void *ctx, void *ptr, size_t size) noexcept nogil
    ctypedef struct PyDataMem_Handler:
        char name[127]
        unsigned char version
        PyDataMemAllocator allocator
    object PyDataMem_SetHandler(object handler)

from cpython.pycapsule cimport PyCapsule_New

cdef PyDataMem_Handler _HANDLER
memcpy(_HANDLER.name, b"dualdiff_pool\0", 14)
_HANDLER.version = 1
_HANDLER.allocator.ctx = NULL
_HANDLER.allocator.malloc = dd_np_malloc
_HANDLER.allocator.calloc = dd_np_calloc
_HANDLER.allocator.realloc = dd_np_realloc
_HANDLER.allocator.free = dd_np_free
cdef object _HANDLER_CAPSULE = PyCapsule_New(&_HANDLER, "mem_handler", NULL)


def pool_on():
    """Route numpy's array memory in the current context through dualdiff's block pool
    (csrc/pool.h) until pool_off(token): a transform's sweeps allocate and drop the same
    large temporaries over and over, and reusing them avoids fresh pages (page faults cost
    more than the arithmetic). Returns the previous handler as the token."""
    return PyDataMem_SetHandler(_HANDLER_CAPSULE)


def pool_off(token):
    PyDataMem_SetHandler(token)

cdef int B_POWER = _core.BINARY_INDEX["power"]
cdef tuple _NP_OPS = (np.add, np.subtract, np.multiply, np.true_divide)
cdef list _NP_UNARY = [getattr(np, n, None) if isinstance(getattr(np, n, None), np.ufunc) else None
                       for n, lo, hi in _core.UNARY_RULES]
cdef list _NP_BINARY = [getattr(np, n) for n, lo, hi in _core.BINARY_RULES]
_F64 = np.float64
_S = slice(None)


@cython.final
cdef class DualArray:
    """An array of dual (order 1) or hyper-dual (order 2) numbers, stored as arrays.

    Made by dualdiff's transforms; user code meets it as the argument of the function being
    differentiated and can treat it like a float ndarray: operators, numpy ufuncs, np.sum,
    np.dot, @, np.where, np.concatenate, indexing, reshape, ... (see dualdiff.transforms).
    """
    cdef readonly object value
    cdef object c1, c2, c12     # tangent parts; part p holds rows lo[p]..hi[p]-1 if `partial`
    cdef Py_ssize_t lo[3]
    cdef Py_ssize_t hi[3]
    cdef bint partial
    cdef readonly int order
    cdef readonly int tag

    __array_priority__ = 1000.0

    def __init__(self, *args, **kwargs):
        raise TypeError("DualArray is made by dualdiff's transforms (grad, jacobian, jvp, ...); "
                        "it is not constructed directly")

    # ---- numpy-like attributes -------------------------------------------------------
    @property
    def shape(self):
        return self.value.shape

    @property
    def ndim(self):
        return self.value.ndim

    @property
    def size(self):
        return self.value.size

    @property
    def dtype(self):
        return self.value.dtype

    @property
    def real(self):
        """The values (the primal array)."""
        return self.value

    @property
    def eps(self):
        """The tangents, shape value.shape + (k,): one derivative per direction."""
        return _t1(self)

    @property
    def t1(self):
        """First-order tangents (e1 part), shape value.shape + (k1,)."""
        return _t1(self)

    @property
    def t2(self):
        """e2 part (second order only), shape value.shape + (k2,)."""
        return _t2(self)

    @property
    def t12(self):
        """e1e2 part (second order only), shape value.shape + (k1, k2)."""
        return _t12(self)

    @property
    def T(self):
        return self.transpose()

    def __len__(self):
        return len(self.value)

    def __iter__(self):
        for i in range(len(self.value)):
            yield self[i]

    def __repr__(self):
        if self.order == 1:
            return f"DualArray(value={self.value!r}, eps={self.t1!r})"
        return (f"DualArray(value={self.value!r}, eps1={self.t1!r}, eps2={self.t2!r}, "
                f"eps12={self.t12!r})")

    def __bool__(self):
        return bool(self.value)

    def __float__(self):
        raise TypeError(_core.LOST_ARRAY)

    def __int__(self):
        raise TypeError(_core.LOST_ARRAY)

    def __array__(self, dtype=None, copy=None):
        # A single dual element inside np.array([...]) (loop-style code) becomes an object
        # element, as a Dual would; anything that would drop the tangents raises.
        if self.value.ndim == 0 and (dtype is None or np.dtype(dtype) == object):
            box = np.empty((), dtype=object)
            box[()] = self
            return box
        if self.value.ndim == 0:
            raise TypeError(_core.LOST_ARRAY)
        raise TypeError(_core.LOST_ARRAY + " To join dual arrays use np.stack or "
                        "np.concatenate rather than np.array([...]).")

    def __setitem__(self, key, value):
        raise TypeError("dual arrays are immutable: build the result with np.where, "
                        "np.concatenate, np.stack or np.array([...]) instead of assigning into it")

    def __getitem__(self, idx):
        return _getitem(self, idx)

    # ---- arithmetic ------------------------------------------------------------------
    def __add__(a, b):
        return _binary(DD_OP_ADD, a, b)

    def __sub__(a, b):
        return _binary(DD_OP_SUB, a, b)

    def __mul__(a, b):
        return _binary(DD_OP_MUL, a, b)

    def __truediv__(a, b):
        return _binary(DD_OP_DIV, a, b)

    def __pow__(a, b, mod):
        if mod is not None:
            return NotImplemented
        return _power(a, b)

    def __matmul__(a, b):
        return matmul(a, b)

    def __neg__(self):
        return _map_linear(self, np.negative)

    def __pos__(self):
        return self

    def __abs__(self):
        return apply_unary(_ABS, self)

    def __richcmp__(self, other, int op):
        return _compare(self, other, op)

    # ---- numpy protocols -------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        handler = _HANDLERS.get(func)
        if handler is None:
            raise TypeError(
                f"numpy.{func.__name__} is not supported on dualdiff's dual arrays (no derivative "
                f"rule for it). Supported numpy functions: "
                f"{', '.join(sorted(set(f.__name__ for f in _HANDLERS)))}.")
        return handler(*args, **kwargs)

    # ---- methods numpy code calls on arrays -------------------------------------------
    def sum(self, axis=None, dtype=None, out=None, keepdims=False):
        return sum_(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims)

    def mean(self, axis=None, dtype=None, out=None, keepdims=False):
        return mean(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims)

    def prod(self, axis=None, dtype=None, out=None, keepdims=False):
        return prod(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims)

    def max(self, axis=None, out=None, keepdims=False):
        return amax(self, axis=axis, out=out, keepdims=keepdims)

    def min(self, axis=None, out=None, keepdims=False):
        return amin(self, axis=axis, out=out, keepdims=keepdims)

    def cumsum(self, axis=None, dtype=None, out=None):
        return cumsum(self, axis=axis, dtype=dtype, out=out)

    def cumprod(self, axis=None, dtype=None, out=None):
        return cumprod(self, axis=axis, dtype=dtype, out=out)

    def dot(self, b):
        return dot(self, b)

    def reshape(self, *shape, order="C"):
        if len(shape) == 1 and not isinstance(shape[0], int):
            shape = tuple(shape[0])
        return reshape(self, shape, order=order)

    def transpose(self, *axes):
        if len(axes) == 1 and axes[0] is not None and not isinstance(axes[0], int):
            axes = tuple(axes[0])
        return transpose(self, axes or None)

    def swapaxes(self, a, b):
        return swapaxes(self, a, b)

    def ravel(self, order="C"):
        return ravel(self, order=order)

    def flatten(self, order="C"):
        return ravel(self, order=order)

    def squeeze(self, axis=None):
        return squeeze(self, axis=axis)

    def clip(self, min=None, max=None):
        return _core.clip(self, min, max)

    def copy(self, order="C"):
        return self

    def astype(self, dtype, copy=True, **kwargs):
        if np.dtype(dtype).kind != "f":
            raise TypeError(f"astype({np.dtype(dtype)}) of a dual array would lose its derivative")
        return self


# ======================================== construction ====================================

cdef inline DualArray _new(cnp.ndarray value, cnp.ndarray t1, object t2, object t12, int tag):
    cdef DualArray r = DualArray.__new__(DualArray)
    r.value = value
    r.c1 = t1
    r.c2 = t2
    r.c12 = t12
    r.order = 1 if t2 is None else 2
    r.tag = tag
    return r


cdef DualArray _new_rows(cnp.ndarray value, cnp.ndarray c1, object c2, object c12,
                         Py_ssize_t lo, Py_ssize_t hi, int tag):
    """A 1-D dual array whose tangent rows outside lo..hi-1 are zero (c* hold the rest)."""
    cdef Py_ssize_t los[3]
    cdef Py_ssize_t his[3]
    los[0] = los[1] = los[2] = lo
    his[0] = his[1] = his[2] = hi
    return _new_ranges(value, c1, c2, c12, los, his, tag)


cdef DualArray _new_ranges(cnp.ndarray value, cnp.ndarray c1, object c2, object c12,
                           Py_ssize_t *lo, Py_ssize_t *hi, int tag):
    """A 1-D dual array whose part p stores rows lo[p]..hi[p]-1 (the other rows are zero)."""
    cdef DualArray r = _new(value, c1, c2, c12, tag)
    cdef Py_ssize_t n = cnp.PyArray_DIMS(value)[0]
    cdef int p
    for p in range(1 if r.order == 1 else 3):
        r.lo[p] = lo[p]
        r.hi[p] = hi[p]
        if lo[p] > 0 or hi[p] < n:
            r.partial = True
    return r


cdef inline void _range(DualArray d, int part, Py_ssize_t *lo, Py_ssize_t *hi):
    """The rows part `part` of d stores (all rows when d is dense)."""
    if d.partial:
        lo[0] = d.lo[part]
        hi[0] = d.hi[part]
    else:
        lo[0] = 0
        hi[0] = d.value.shape[0] if d.value.ndim else 1


cdef inline void _hull(Py_ssize_t *lo, Py_ssize_t *hi, Py_ssize_t l2, Py_ssize_t h2):
    """Grow [lo, hi) to cover [l2, h2); empty ranges add nothing."""
    if h2 <= l2:
        return
    if hi[0] <= lo[0]:
        lo[0] = l2
        hi[0] = h2
    else:
        lo[0] = min(lo[0], l2)
        hi[0] = max(hi[0], h2)


cdef inline void _hull_meet(Py_ssize_t *lo, Py_ssize_t *hi, Py_ssize_t la, Py_ssize_t ha,
                            Py_ssize_t lb, Py_ssize_t hb):
    """Grow [lo, hi) to cover the intersection of [la, ha) and [lb, hb)."""
    _hull(lo, hi, max(la, lb), min(ha, hb))


cdef object _pad(object c, Py_ssize_t lo, Py_ssize_t hi, Py_ssize_t n):
    full = np.zeros((n,) + c.shape[1:])
    full[lo:hi] = c
    return full


cdef cnp.ndarray _part_rows(DualArray d, int part, Py_ssize_t lo, Py_ssize_t hi):
    """Rows lo..hi-1 of a tangent part of d, contiguous (zeros where d stores nothing)."""
    cdef Py_ssize_t dlo, dhi, a, b
    c = (d.c1, d.c2, d.c12)[part]
    _range(d, part, &dlo, &dhi)
    if dlo == lo and dhi == hi:
        return _contig(c)
    r = np.zeros((max(hi - lo, 0),) + c.shape[1:])
    a, b = max(lo, dlo), min(hi, dhi)
    if a < b:
        r[a - lo:b - lo] = c[a - dlo:b - dlo]
    return r


cdef int _densify(DualArray x) except -1:
    """Store the zero rows too (the logical value does not change, so this is safe on an
    immutable array)."""
    cdef Py_ssize_t n
    if x.partial:
        n = x.value.shape[0]
        x.c1 = _pad(x.c1, x.lo[0], x.hi[0], n)
        if x.order == 2:
            x.c2 = _pad(x.c2, x.lo[1], x.hi[1], n)
            x.c12 = _pad(x.c12, x.lo[2], x.hi[2], n)
        x.partial = False
    return 0


cdef inline object _t1(DualArray x):
    _densify(x)
    return x.c1


cdef inline object _t2(DualArray x):
    _densify(x)
    return x.c2


cdef inline object _t12(DualArray x):
    _densify(x)
    return x.c12


def seed(value, t1, tag):
    """A first-order dual array (used by the transforms)."""
    value = np.asarray(value, dtype=_F64)
    t1 = np.asarray(t1, dtype=_F64)
    if t1.shape[:-1] != value.shape:
        raise ValueError(f"tangent shape {t1.shape} does not fit value shape {value.shape}")
    return _new(value, t1, None, None, tag)


def seed_trusted(cnp.ndarray value, cnp.ndarray t1, int tag):
    """seed() for the transforms' own float64 arrays, without the checks."""
    return _new(value, t1, None, None, tag)


def seed_rows(cnp.ndarray value, cnp.ndarray rows, Py_ssize_t lo, Py_ssize_t hi, int tag):
    """A 1-D seed whose tangent rows outside lo..hi-1 are zero; `rows` holds the others."""
    return _new_rows(value, rows, None, None, lo, hi, tag)


def seed2_rows(cnp.ndarray value, t1, t2, t12, int tag):
    """seed2() of a 1-D value, each part storing only the rows between its first and last
    nonzero row."""
    cdef Py_ssize_t lo[3]
    cdef Py_ssize_t hi[3]
    cdef Py_ssize_t n = value.shape[0]
    if np.all(np.any(t1 != 0, axis=1) & np.any(t2 != 0, axis=1)):
        # e1 and e2 on every row (one sweep over the whole input): e1e2 fills at the first
        # operation, so tracking rows would only cost time
        return _new(value, np.asarray(t1, dtype=_F64), np.asarray(t2, dtype=_F64),
                    np.asarray(t12, dtype=_F64), tag)
    parts = []
    for p, t in enumerate((t1, t2, t12)):
        nz = np.flatnonzero(np.any(t.reshape(t.shape[0], -1) != 0, axis=1))
        lo[p], hi[p] = (int(nz[0]), int(nz[-1]) + 1) if nz.size else (0, 0)
        parts.append(np.ascontiguousarray(t[lo[p]:hi[p]]))
    return _new_ranges(value, parts[0], parts[1], parts[2], lo, hi, tag)


def seed2(value, t1, t2, t12, tag):
    """A second-order (hyper-dual) array (used by the transforms)."""
    value = np.asarray(value, dtype=_F64)
    return _new(value, np.asarray(t1, dtype=_F64), np.asarray(t2, dtype=_F64),
                np.asarray(t12, dtype=_F64), tag)


cdef inline int _k(DualArray x):
    return x.c1.shape[x.c1.ndim - 1]


cdef inline int _k2(DualArray x):
    return x.c2.shape[x.c2.ndim - 1] if x.order == 2 else 0


cdef inline cnp.ndarray _empty(tuple shape):
    return np.empty(shape, dtype=_F64)


def clear_pool():
    """Release the memory dualdiff keeps for reuse between array operations."""
    dd_pool_clear()


def pool_stats():
    """(blocks cached, bytes cached, reuses, fresh allocations) of the block pool."""
    return (dd_pool.n, dd_pool.bytes, dd_pool.hits, dd_pool.misses)


cdef cnp.ndarray _alloc(cnp.ndarray like, int extra1, int extra2):
    """An uninitialised float64 array of like's shape plus up to two trailing axes."""
    cdef cnp.npy_intp dims[72]
    cdef int nd = cnp.PyArray_NDIM(like)
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


cdef inline cnp.ndarray _contig(cnp.ndarray a):
    if cnp.PyArray_IS_C_CONTIGUOUS(a) and cnp.PyArray_TYPE(a) == cnp.NPY_DOUBLE:
        return a
    return np.ascontiguousarray(a, dtype=_F64)


cdef inline double* _ptr(cnp.ndarray a):
    return <double*>cnp.PyArray_DATA(a)


cdef inline bint _no_tangent(DualArray d):
    """No stored tangent row at all: a sweep seeded none of the elements this array depends
    on (say, one layer's weights while the chunk covers another's), so it is a constant."""
    cdef int p
    if not d.partial:
        return False
    for p in range(1 if d.order == 1 else 3):
        if d.hi[p] > d.lo[p]:
            return False
    return True


cdef object _lift(object o):
    """A DualArray for dual operands (arrays or scalars), None for constants (including
    dual arrays without any tangent, which then cost what a plain array costs)."""
    if type(o) is DualArray:
        return None if _no_tangent(<DualArray>o) else o
    if type(o) is Dual:
        return _new(np.array((<Dual>o).real, dtype=_F64),
                    np.array([(<Dual>o).eps], dtype=_F64), None, None, (<Dual>o).tag)
    if type(o) is HyperDual:
        h = <HyperDual>o
        return _new(np.array(h.real, dtype=_F64), np.array([h.eps1], dtype=_F64),
                    np.array([h.eps2], dtype=_F64), np.array([[h.eps12]], dtype=_F64), h.tag)
    return None


cdef object _const(object o):
    """A constant operand as a float64 array, or TypeError naming what it was."""
    if type(o) is DualArray:                       # one without tangents (see _lift)
        return (<DualArray>o).value
    if isinstance(o, np.ndarray):
        if (<cnp.ndarray>o).dtype.kind in "fiub":
            return o if cnp.PyArray_TYPE(o) == cnp.NPY_DOUBLE else o.astype(_F64)
    elif PyFloat_Check(o) or PyLong_Check(o) or isinstance(o, (np.floating, np.integer, np.bool_)):
        return np.array(o, dtype=_F64)
    elif isinstance(o, (list, tuple)):
        try:
            return _const_seq(o)
        except (TypeError, ValueError):
            pass
    raise TypeError(f"cannot combine a dual array with {type(o).__name__} ({o!r:.60}): "
                    "expected numbers or numeric arrays")


cdef object _const_seq(object o):
    if any(type(e) is DualArray or type(e) is Dual or type(e) is HyperDual for e in _flat_items(o)):
        raise TypeError("sequence holds duals")
    a = np.asarray(o)
    if a.dtype.kind not in "fiub":
        raise TypeError("not numeric")
    return a.astype(_F64)


def _flat_items(o):
    for e in o:
        if isinstance(e, (list, tuple)):
            yield from _flat_items(e)
        else:
            yield e


cdef int _check_pair(DualArray a, DualArray b) except -1:
    if a.order != b.order:
        raise TypeError("cannot mix first-order and second-order dual values (Dual and "
                        "HyperDual) in one operation")
    if _k(a) != _k(b) or _k2(a) != _k2(b):
        raise TypeError(f"dual operands carry different numbers of directions "
                        f"({_k(a)} and {_k(b)}): a Dual made by hand cannot meet the values "
                        "of a transform with chunk > 1")
    return join_tags(a.tag, b.tag)


cdef object _parts(DualArray x):
    _densify(x)
    return (x.c1,) if x.order == 1 else (x.c1, x.c2, x.c12)


cdef inline int _ndir(int part):
    """Trailing direction axes of part 0 (t1), 1 (t2), 2 (t12)."""
    return 2 if part == 2 else 1


cdef DualArray _rebuild(DualArray like, object value, list parts, int tag=-1):
    if like.order == 1:
        return _new(np.asarray(value, dtype=_F64), parts[0], None, None,
                    like.tag if tag < 0 else tag)
    return _new(np.asarray(value, dtype=_F64), parts[0], parts[1], parts[2],
                like.tag if tag < 0 else tag)


cdef object _zeros_parts(DualArray like, tuple shape):
    """Zero tangents of the given value shape with `like`'s directions (for constants)."""
    if like.order == 1:
        return [np.zeros(shape + (_k(like),))]
    return [np.zeros(shape + (_k(like),)), np.zeros(shape + (_k2(like),)),
            np.zeros(shape + (_k(like), _k2(like)))]


# ======================================== elementwise ======================================

cdef int _ABS = _core.UNARY_INDEX["abs"]


def apply_unary(int code, x):
    """Rule `code` of the table on a dual array, or on a plain array (values only)."""
    cdef DualArray d = _lift(x)
    cdef cnp.ndarray v, y
    cdef double dummy = 0.0
    if d is None:
        v = _contig(_const(x))
        y = _alloc(v, -1, -1)
        if dd_unary1(code, cnp.PyArray_SIZE(v), 0, _ptr(v), &dummy, _ptr(y), &dummy):
            _replay(_NP_UNARY[code], (v,))
        return y
    return _elementwise(d, code, 0.0, False)


cdef int _SQUARE = _core.UNARY_INDEX["square"]


cdef object _powc(DualArray d, double pw):
    if pw == 2.0:       # the rule for x**2 is square's (rules.h), and square's loop is flat
        return _elementwise(d, _SQUARE, 0.0, False)
    return _elementwise(d, 0, pw, True)


cdef int _run_unary(int code, double pw, bint is_pow, int order, ptrdiff_t n, int k, int k2,
                    double *x, double *t1, double *t2, double *t12,
                    double *y, double *u1, double *u2, double *u12):
    if order == 1:
        if is_pow:
            return dd_powc1(pw, n, k, x, t1, y, u1)
        return dd_unary1(code, n, k, x, t1, y, u1)
    if is_pow:
        return dd_powc2(pw, n, k, k2, x, t1, t2, t12, y, u1, u2, u12)
    return dd_unary2(code, n, k, k2, x, t1, t2, t12, y, u1, u2, u12)


cdef object _elementwise(DualArray d, int code, double pw, bint is_pow):
    """Rule `code` (or x**pw) elementwise: values everywhere, tangents on the stored rows."""
    cdef cnp.ndarray v = _contig(d.value), y = _alloc(v, -1, -1)
    cdef cnp.ndarray t1, u1, t2 = None, t12 = None, u2 = None, u12 = None
    cdef int k = _k(d), k2 = _k2(d), bad = 0, p
    cdef ptrdiff_t n = cnp.PyArray_SIZE(v), m
    cdef Py_ssize_t lo[3]
    cdef Py_ssize_t hi[3]
    cdef double dummy = 0.0
    cdef double *xp = _ptr(v)
    cdef double *yp = _ptr(y)
    if not d.partial:
        t1 = _contig(d.c1)
        u1 = _alloc(t1, -1, -1)
        if d.order == 2:
            t2 = _contig(d.c2)
            t12 = _contig(d.c12)
            u2 = _alloc(t2, -1, -1)
            u12 = _alloc(t12, -1, -1)
        bad = _run_unary(code, pw, is_pow, d.order, n, k, k2, xp, _ptr(t1), _ptr_or_null(t2),
                         _ptr_or_null(t12), yp, _ptr(u1), _ptr_or_null(u2), _ptr_or_null(u12))
        if bad:
            _replay(np.power if is_pow else _NP_UNARY[code], (v, pw) if is_pow else (v,))
        return _new(y, u1, u2, u12, d.tag)
    # stored rows only: every value, then each part on its own rows (the first-order
    # formulas of e1 and e2 are those the hyper-dual kernel uses, so bits agree)
    bad = _run_unary(code, pw, is_pow, 1, n, 0, 0, xp, &dummy, NULL, NULL, yp, &dummy,
                     NULL, NULL)
    outs = []
    for p in range(1 if d.order == 1 else 2):
        _range(d, p, &lo[p], &hi[p])
        m = hi[p] - lo[p]
        t = _contig(d.c1 if p == 0 else d.c2)
        u = _empty((m, k if p == 0 else k2))
        _run_unary(code, pw, is_pow, 1, m, k if p == 0 else k2, 0, xp + lo[p],
                   _ptr(t), NULL, NULL, &dummy if m == 0 else yp + lo[p], _ptr(u), NULL, NULL)
        outs.append(u)
    if d.order == 2:
        # e1e2 rows: where it was stored, and where e1 and e2 meet (the f'' e1 e2 term)
        _range(d, 2, &lo[2], &hi[2])
        _hull_meet(&lo[2], &hi[2], lo[0], hi[0], lo[1], hi[1])
        m = max(hi[2] - lo[2], 0)
        r1, r2, r12 = (_part_rows(d, 0, lo[2], hi[2]), _part_rows(d, 1, lo[2], hi[2]),
                       _part_rows(d, 2, lo[2], hi[2]))
        w1, w2, u12 = _empty((m, k)), _empty((m, k2)), _empty((m, k, k2))
        _run_unary(code, pw, is_pow, 2, m, k, k2, xp + lo[2], _ptr(r1), _ptr(r2), _ptr(r12),
                   &dummy if m == 0 else yp + lo[2], _ptr(w1), _ptr(w2), _ptr(u12))
        outs.append(u12)
    if bad:
        _replay(np.power if is_pow else _NP_UNARY[code], (v, pw) if is_pow else (v,))
    return _new_ranges(y, outs[0], _at(outs, 1), _at(outs, 2), lo, hi, d.tag)


cdef inline bint _is_number(object o):
    return PyFloat_Check(o) or PyLong_Check(o) or isinstance(o, (np.floating, np.integer))


cdef object _power(object a, object b):
    cdef DualArray da = _lift(a)
    if da is not None and _lift(b) is None:
        if _is_number(b):
            return _powc(da, float(b))
        cb = _const(b)
        if cb.ndim == 0:
            return _powc(da, float(cb))
    return _binary(DD_OP_RULE0 + B_POWER, a, b)


def apply_binary(int code, a, b):
    """Binary rule `code` of the table (arctan2, hypot, maximum, ...) on dual arrays."""
    if code == B_POWER:
        if _lift(a) is None and _lift(b) is None:
            return np.power(_const(a), _const(b))
        return _power(a, b)
    return _binary(DD_OP_RULE0 + code, a, b)


cdef object _binary(int op, object a, object b):
    """op(a, b) for op a DD_OP_* or DD_OP_RULE0 + rule, with numpy broadcasting."""
    cdef DualArray da = _lift(a), db = _lift(b), like
    cdef cnp.ndarray va = None, vb = None, y, u1, u2 = None, u12 = None, shape_of
    cdef cnp.ndarray a1 = None, a2 = None, a12 = None, b1 = None, b2 = None, b12 = None
    cdef double ca = 0.0, cb = 0.0
    cdef double *pa
    cdef double *pb
    cdef ptrdiff_t sa = 1, sb = 1, n
    cdef int tag, bad, k, k2 = 0
    if da is None and db is None:
        try:
            ca_arr, cb_arr = _const(a), _const(b)
        except TypeError:
            return NotImplemented
        return _ufunc_of(op)(ca_arr, cb_arr)
    if (da is not None and da.partial) or (db is not None and db.partial):
        r = _binary_rows(op, a, b, da, db)
        if r is not None:
            return r
    # a Python number on one side is a broadcast element: no array is made for it
    if da is None and (PyFloat_Check(a) or PyLong_Check(a)):
        ca = float(a)
        pa = &ca
        sa = 0
    elif da is None:
        try:
            va = _const(a)
        except TypeError:
            return NotImplemented
    else:
        va = da.value
    if db is None and (PyFloat_Check(b) or PyLong_Check(b)):
        cb = float(b)
        pb = &cb
        sb = 0
    elif db is None:
        try:
            vb = _const(b)
        except TypeError:
            return NotImplemented
    else:
        vb = db.value
    if da is not None and db is not None:
        tag = _check_pair(da, db)
        like = da
    else:
        like = da if da is not None else db
        tag = like.tag
    k = _k(like)
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
        a1 = _contig(_t1(da))
        if like.order == 2:
            a2 = _contig(_t2(da))
            a12 = _contig(_t12(da))
    if db is not None:
        b1 = _contig(_t1(db))
        if like.order == 2:
            b2 = _contig(_t2(db))
            b12 = _contig(_t12(db))
    n = cnp.PyArray_SIZE(shape_of)
    y = _alloc(shape_of, -1, -1)
    u1 = _alloc(shape_of, k, -1)
    if like.order == 1:
        bad = dd_binary1(op, n, k, pa, sa, _ptr_or_null(a1), pb, sb, _ptr_or_null(b1),
                         _ptr(y), _ptr(u1))
    else:
        u2 = _alloc(shape_of, k2, -1)
        u12 = _alloc(shape_of, k, k2)
        bad = dd_binary2(op, n, k, k2, pa, sa, _ptr_or_null(a1), _ptr_or_null(a2),
                         _ptr_or_null(a12), pb, sb, _ptr_or_null(b1), _ptr_or_null(b2),
                         _ptr_or_null(b12), _ptr(y), _ptr(u1), _ptr(u2), _ptr(u12))
    if bad:
        _replay(_ufunc_of(op), (a if va is None else va, b if vb is None else vb))
    return _new(y, u1, u2, u12, tag)


cdef object _binary_rows(int op, object a, object b, DualArray da, DualArray db):
    """op(a, b) on 1-D operands of which one is stored by rows (see Support in the design
    block); None when the operands do not fit that case (the caller densifies)."""
    cdef DualArray like = da if da is not None else db
    cdef Py_ssize_t n, la, ha, lb, hb
    cdef Py_ssize_t lo[3]
    cdef Py_ssize_t hi[3]
    cdef cnp.ndarray va = None, vb = None, y
    cdef double ca = 0.0, cb = 0.0, dummy = 0.0
    cdef double *pa
    cdef double *pb
    cdef ptrdiff_t sa = 1, sb = 1, m
    cdef int bad = 0, tag, k, k2, p, kp
    if like.value.ndim != 1:
        return None
    n = like.value.shape[0]
    for d in (da, db):
        if d is not None and (d.value.ndim != 1 or d.value.shape[0] != n):
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
    tag = _check_pair(da, db) if da is not None and db is not None else like.tag
    if da is not None:
        va = _contig(da.value)
    if db is not None:
        vb = _contig(db.value)
    if va is not None:
        pa = _ptr(va)
    if vb is not None:
        pb = _ptr(vb)
    k, k2 = _k(like), _k2(like)
    y = _alloc(like.value, -1, -1)
    bad = dd_binary1(op, n, 0, pa, sa, NULL, pb, sb, NULL, _ptr(y), &dummy)    # all values
    # e1 (and e2): the union of the operands' rows, by the first-order formulas, which are
    # those the hyper-dual kernel applies to e1 and e2
    outs = []
    for p in range(1 if like.order == 1 else 2):
        lo[p] = hi[p] = 0
        for d in (da, db):
            if d is not None:
                _range(d, p, &la, &ha)
                _hull(&lo[p], &hi[p], la, ha)
        m = hi[p] - lo[p]
        kp = k if p == 0 else k2
        ta = _part_rows(da, p, lo[p], hi[p]) if da is not None else None
        tb = _part_rows(db, p, lo[p], hi[p]) if db is not None else None
        u = _empty((m, kp))
        dd_binary1(op, m, kp, pa + lo[p]*sa, sa, _ptr_or_null(ta), pb + lo[p]*sb, sb,
                   _ptr_or_null(tb), &dummy if m == 0 else _ptr(y) + lo[p], _ptr(u))
        outs.append(u)
    if like.order == 2:
        # e1e2: where either operand stores it, and wherever an e1 meets an e2
        lo[2] = hi[2] = 0
        for d in (da, db):
            if d is not None:
                _range(d, 2, &la, &ha)
                _hull(&lo[2], &hi[2], la, ha)
        for d in (da, db):
            for e in (da, db):
                if d is not None and e is not None:
                    _range(d, 0, &la, &ha)
                    _range(e, 1, &lb, &hb)
                    _hull_meet(&lo[2], &hi[2], la, ha, lb, hb)
        m = max(hi[2] - lo[2], 0)
        ra = [_part_rows(da, q, lo[2], hi[2]) if da is not None else None for q in range(3)]
        rb = [_part_rows(db, q, lo[2], hi[2]) if db is not None else None for q in range(3)]
        w1, w2, u12 = _empty((m, k)), _empty((m, k2)), _empty((m, k, k2))
        dd_binary2(op, m, k, k2, pa + lo[2]*sa, sa, _ptr_or_null(ra[0]), _ptr_or_null(ra[1]),
                   _ptr_or_null(ra[2]), pb + lo[2]*sb, sb, _ptr_or_null(rb[0]),
                   _ptr_or_null(rb[1]), _ptr_or_null(rb[2]),
                   &dummy if m == 0 else _ptr(y) + lo[2], _ptr(w1), _ptr(w2), _ptr(u12))
        outs.append(u12)
    if bad:
        _replay(_ufunc_of(op), (a if va is None else va, b if vb is None else vb))
    return _new_ranges(y, outs[0], _at(outs, 1), _at(outs, 2), lo, hi, tag)


cdef object _add_broadcast(int op, DualArray da, DualArray db, cnp.ndarray va,
                           cnp.ndarray vb, int tag):
    """a + b or a - b with numpy broadcasting: tangents add exactly as values do, and numpy
    broadcasts the direction-last parts without copying either operand out first."""
    like = da if da is not None else db
    y = np.add(va, vb) if op == DD_OP_ADD else np.subtract(va, vb)
    parts = []
    for i in range(1 if like.order == 1 else 3):
        ta = _parts(da)[i] if da is not None else None
        tb = _parts(db)[i] if db is not None else None
        dirs = (ta if ta is not None else tb).shape[-_ndir(i):]
        if ta is not None and tb is not None:
            u = np.add(ta, tb) if op == DD_OP_ADD else np.subtract(ta, tb)
        else:
            u = np.empty(y.shape + dirs)
            if ta is not None or op == DD_OP_ADD:
                u[...] = ta if ta is not None else tb
            else:
                np.negative(tb, out=u)
        parts.append(u)
    return _new(y, parts[0], _at(parts, 1), _at(parts, 2), tag)


cdef object _flat_const(object o, Py_ssize_t n):
    """A constant operand of a 1-D operation as (array or None, number, stride): a Python
    number (no array made), a single element (stride 0) or a vector of length n; None if it
    does not fit, NotImplemented if it is not numeric."""
    if PyFloat_Check(o) or PyLong_Check(o):
        return (None, float(o), 0)
    try:
        v = _contig(_const(o))
    except TypeError:
        return NotImplemented
    if cnp.PyArray_SIZE(v) == 1 and v.ndim <= 1:
        return (v, 0.0, 0)
    if v.ndim == 1 and v.shape[0] == n:
        return (v, 0.0, 1)
    return None


cdef object _ufunc_of(int op):
    return _NP_OPS[op] if op < DD_OP_RULE0 else _NP_BINARY[op - DD_OP_RULE0]


cdef inline double* _ptr_or_null(cnp.ndarray a):
    return NULL if a is None else <double*>cnp.PyArray_DATA(a)


cdef DualArray _broadcast(DualArray x, tuple shape):
    parts = []
    for i, t in enumerate(_parts(x)):
        parts.append(np.broadcast_to(t, shape + t.shape[t.ndim - _ndir(i):]))
    return _rebuild(x, np.broadcast_to(x.value, shape), parts)


cdef void _replay(object ufunc, tuple args) except *:
    """numpy's warning for a non-finite value from finite inputs, under np.errstate."""
    if ufunc is not None:
        with np.errstate(under="ignore"):
            ufunc(*args)


cdef object _compare(object a, object b, int op):
    va = a.value if type(a) is DualArray else _value_of(a)
    vb = b.value if type(b) is DualArray else _value_of(b)
    if va is NotImplemented or vb is NotImplemented:
        return NotImplemented
    return (np.less, np.less_equal, np.equal, np.not_equal, np.greater,
            np.greater_equal)[op](va, vb)


cdef object _value_of(object o):
    """The values of anything numeric, dual or not (for comparisons and conditions)."""
    if type(o) is DualArray:
        return (<DualArray>o).value
    if type(o) is Dual or type(o) is HyperDual:
        return o.real
    if isinstance(o, np.ndarray):
        return o
    if _is_number(o) or isinstance(o, (bool, np.bool_)):
        return o
    if isinstance(o, (list, tuple)):
        try:
            return _const(o)
        except TypeError:
            pass
    return NotImplemented


# ======================================== indexing =========================================

cdef object _getitem(DualArray x, object idx):
    cdef cnp.ndarray v = x.value
    cdef Py_ssize_t i, n, start, stop, step, m
    cdef Py_ssize_t los[3]
    cdef Py_ssize_t his[3]
    cdef int k
    if type(idx) is DualArray or type(idx) is Dual or type(idx) is HyperDual:
        raise IndexError("a dual value cannot be used as an index; index with integers")
    if v.ndim == 1 and (PyLong_Check(idx) or isinstance(idx, np.integer)):
        # x[i] on a vector: a compiled scalar for one direction (loop-style code)
        n = v.shape[0]
        i = idx
        if i < 0:
            i += n
        if i < 0 or i >= n:
            raise IndexError(f"index {idx} is out of bounds for axis 0 with size {n}")
        if x.order == 1 and _k(x) == 1:
            return make_dual(
                (<double*>(cnp.PyArray_BYTES(v) + i * cnp.PyArray_STRIDE(v, 0)))[0],
                _row_entry(x, i), x.tag)
    if x.partial and v.ndim == 1 and (PyLong_Check(idx) or isinstance(idx, np.integer)):
        # one element of a vector stored by rows: outside every stored row it is a plain
        # number in this sweep (its tangents are zero), inside it comes from its row alone
        n = v.shape[0]
        i = idx
        if i < 0:
            i += n
        if i < 0 or i >= n:
            raise IndexError(f"index {idx} is out of bounds for axis 0 with size {n}")
        value = (<double*>(cnp.PyArray_BYTES(v) + i * cnp.PyArray_STRIDE(v, 0)))[0]
        inside = False
        for p in range(1 if x.order == 1 else 3):
            inside = inside or x.lo[p] <= i < x.hi[p]
        if not inside:
            return value
        parts = [_part_rows(x, p, i, i + 1)[0] for p in range(1 if x.order == 1 else 3)]
        return _new(np.array(value), parts[0], _at(parts, 1), _at(parts, 2), x.tag)
    if x.partial:
        if type(idx) is slice:
            n = v.shape[0]
            start, stop, step = idx.indices(n)
            if step == 1:      # a unit-step slice keeps rows: shift each stored window
                m = max(0, stop - start)
                parts = []
                for p, c in enumerate(_stored(x)):
                    los[p] = min(max(x.lo[p] - start, 0), m)
                    his[p] = min(max(x.hi[p] - start, los[p]), m)
                    a0 = los[p] + start - x.lo[p]
                    parts.append(c[a0:a0 + his[p] - los[p]])
                return _new_ranges(v[start:stop], parts[0], _at(parts, 1), _at(parts, 2),
                                   los, his, x.tag)
        _densify(x)
    tidx = (idx if type(idx) is tuple else (idx,))
    value = v[idx]
    parts = []
    for j, t in enumerate(_parts(x)):
        parts.append(t[tidx + (_S,) * _ndir(j)])
    if not isinstance(value, np.ndarray):
        value = np.array(value)
        if x.order == 1 and _k(x) == 1:
            return make_dual(value, parts[0][0], x.tag)
        if x.order == 2 and _k(x) == 1 and _k2(x) == 1:
            return make_hyper(value, parts[0][0], parts[1][0], parts[2][0, 0], x.tag)
    return _rebuild(x, value, parts)


cdef double _row_entry(DualArray x, Py_ssize_t i):
    """Tangent of element i of a one-direction vector (0 outside the stored rows)."""
    cdef cnp.ndarray c = x.c1
    if x.partial:
        if i < x.lo[0] or i >= x.hi[0]:
            return 0.0
        i -= x.lo[0]
    return (<double*>(cnp.PyArray_BYTES(c) + i * cnp.PyArray_STRIDE(c, 0)))[0]


cdef inline tuple _stored(DualArray x):
    return (x.c1,) if x.order == 1 else (x.c1, x.c2, x.c12)


cdef inline object _at(list parts, int i):
    return parts[i] if i < len(parts) else None


# ======================================== structure ========================================
# Linear maps act on every part the same way; `fn(arr, ndir)` receives an array with `ndir`
# trailing direction axes that it must leave in place.

cdef object _map(DualArray x, object fn):
    if _no_tangent(x):
        return fn(x.value, 0)
    value = fn(x.value, 0)
    return _rebuild(x, value, [fn(t, _ndir(i)) for i, t in enumerate(_parts(x))])


cdef DualArray _map_linear(DualArray x, object ufunc):
    """A linear elementwise ufunc (negative, ...) applied to every part."""
    return _rebuild(x, ufunc(x.value), [ufunc(t) for t in _parts(x)])


cdef tuple _norm_axes(object axis, int ndim):
    if axis is None:
        return tuple(range(ndim))
    if not isinstance(axis, tuple):
        axis = (axis,)
    out = []
    for a in axis:
        a = int(a)
        if a < -ndim or a >= ndim:
            raise np.exceptions.AxisError(a, ndim)
        out.append(a % ndim if ndim else 0)
    return tuple(out)


cdef int _norm_axis(object axis, int ndim) except? -1:
    a = int(axis)
    if a < -ndim or a >= ndim:
        raise np.exceptions.AxisError(a, ndim)
    return a % ndim


def _no_out(out):
    if out is not None:
        raise TypeError("out= cannot hold dual values: let the function return its result")


def reshape(a, newshape=None, order="C", *, shape=None, copy=None):
    if type(a) is not DualArray:
        return np.reshape(_value_of(a), newshape if shape is None else shape, order=order)
    if shape is not None:
        newshape = shape
    if order != "C":
        raise TypeError("only C-order reshape is supported on dual arrays")
    x = <DualArray>a
    newshape = np.reshape(x.value, newshape).shape        # resolves -1
    return _map(x, lambda arr, nd: arr.reshape(newshape + arr.shape[arr.ndim - nd:]))


def ravel(a, order="C"):
    return reshape(a, (-1,), order=order)


def transpose(a, axes=None):
    if type(a) is not DualArray:
        return np.transpose(a, axes)
    x = <DualArray>a
    nd = x.value.ndim
    ax = tuple(range(nd))[::-1] if axes is None else _norm_axes(tuple(axes), nd)
    return _map(x, lambda arr, k: arr.transpose(ax + tuple(range(nd, nd + k))))


def swapaxes(a, axis1, axis2):
    x = <DualArray>a
    nd = x.value.ndim
    i, j = _norm_axis(axis1, nd), _norm_axis(axis2, nd)
    return _map(x, lambda arr, k: np.swapaxes(arr, i, j))


def moveaxis(a, source, destination):
    x = <DualArray>a
    nd = x.value.ndim
    src = _norm_axes(source, nd)
    dst = _norm_axes(destination, nd)
    return _map(x, lambda arr, k: np.moveaxis(arr, src, dst))


def squeeze(a, axis=None):
    x = <DualArray>a
    nd = x.value.ndim
    ax = tuple(i for i in range(nd) if x.value.shape[i] == 1) if axis is None else \
        _norm_axes(axis, nd)
    return _map(x, lambda arr, k: np.squeeze(arr, axis=ax))


def expand_dims(a, axis):
    x = <DualArray>a
    nd = x.value.ndim + (len(axis) if isinstance(axis, tuple) else 1)
    ax = _norm_axes(axis, nd)
    return _map(x, lambda arr, k: np.expand_dims(arr, ax))


def atleast_1d(*arys):
    res = [reshape(a, (1,)) if _ndim(a) == 0 else a for a in arys]
    return res[0] if len(res) == 1 else res


def atleast_2d(*arys):
    res = []
    for a in arys:
        nd = _ndim(a)
        res.append(reshape(a, (1, 1)) if nd == 0 else reshape(a, (1, _shape(a)[0])) if nd == 1
                   else a)
    return res[0] if len(res) == 1 else res


cdef int _ndim(object a):
    return (<DualArray>a).value.ndim if type(a) is DualArray else np.ndim(a)


cdef tuple _shape(object a):
    return (<DualArray>a).value.shape if type(a) is DualArray else np.shape(a)


def broadcast_to(array, shape, subok=False):
    x = <DualArray>array
    shape = tuple(shape) if not isinstance(shape, int) else (shape,)
    return _broadcast(x, shape)


def flip(m, axis=None):
    x = <DualArray>m
    ax = _norm_axes(axis, x.value.ndim)
    return _map(x, lambda arr, k: np.flip(arr, ax))


def roll(a, shift, axis=None):
    x = <DualArray>a
    if axis is None:
        return reshape(roll(ravel(x), shift, 0), x.value.shape)
    ax = _norm_axes(axis, x.value.ndim)
    return _map(x, lambda arr, k: np.roll(arr, shift, ax if len(ax) > 1 else ax[0]))


def take(a, indices, axis=None, out=None, mode="raise"):
    _no_out(out)
    x = <DualArray>a
    if axis is None:
        return take(ravel(x), indices, 0, mode=mode)
    ax = _norm_axis(axis, x.value.ndim)
    return _map(x, lambda arr, k: np.take(arr, indices, axis=ax, mode=mode))


def repeat(a, repeats, axis=None):
    x = <DualArray>a
    if axis is None:
        return repeat(ravel(x), repeats, 0)
    ax = _norm_axis(axis, x.value.ndim)
    return _map(x, lambda arr, k: np.repeat(arr, repeats, axis=ax))


def tile(A, reps):
    x = <DualArray>A
    reps = (reps,) if isinstance(reps, int) else tuple(reps)
    nd = max(x.value.ndim, len(reps))
    x = reshape(x, (1,) * (nd - x.value.ndim) + x.value.shape)
    reps = (1,) * (nd - len(reps)) + reps
    return _map(x, lambda arr, k: np.tile(arr, reps + (1,) * k))


def diagonal(a, offset=0, axis1=0, axis2=1):
    x = <DualArray>a
    nd = x.value.ndim
    i, j = _norm_axis(axis1, nd), _norm_axis(axis2, nd)
    # np.diagonal puts the diagonal last; move it in front of the direction axes
    return _map(x, lambda arr, k: np.moveaxis(np.diagonal(arr, offset, i, j), -1, arr.ndim - k - 2))


def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    _no_out(out)
    return sum_(diagonal(a, offset, axis1, axis2), axis=-1)


def diag(v, k=0):
    x = <DualArray>v
    if x.value.ndim == 2:
        return diagonal(x, k)
    n = x.value.shape[0] + abs(k)

    def build(arr, nd):
        out = np.zeros((n, n) + arr.shape[1:])
        idx = np.arange(x.value.shape[0])
        out[idx + max(-k, 0), idx + max(k, 0)] = arr
        return out
    return _map(x, build)


cdef list _operands(list arrays):
    """Dual arrays of one kind, constants given zero tangents, for joining functions."""
    like = None
    for a in arrays:
        d = _lift(a)
        if d is not None:
            like = d if like is None else like
            if like is not d:
                _check_pair(like, d)
    out = []
    tag = 0
    for a in arrays:
        d = _lift(a)
        if d is None:
            c = _const(a)
            d = _rebuild(like, c, _zeros_parts(like, c.shape))
        tag = join_tags(tag, (<DualArray>d).tag)
        out.append(d)
    return out


cdef DualArray _join(list arrays, object fn):
    """fn(list of arrays, ndir) joins values and each part alike."""
    cdef list ds = _operands(arrays)
    cdef DualArray first = ds[0]
    cdef int tag = 0
    for d in ds:
        tag = join_tags(tag, (<DualArray>d).tag)
    value = fn([(<DualArray>d).value for d in ds], 0)
    parts = []
    for i in range(len(_parts(first))):
        parts.append(fn([_parts(<DualArray>d)[i] for d in ds], _ndir(i)))
    return _rebuild(first, value, parts, tag)


def concatenate(arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    _no_out(out)
    arrays = list(arrays)
    if axis is None:
        return concatenate([ravel(a) if type(a) is DualArray else np.ravel(a) for a in arrays], 0)
    nd = _ndim(arrays[0])
    ax = _norm_axis(axis, nd)
    return _join(arrays, lambda arrs, k: np.concatenate(arrs, axis=ax))


def stack(arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    _no_out(out)
    arrays = list(arrays)
    nd = _ndim(arrays[0]) + 1
    ax = _norm_axis(axis, nd)
    return _join(arrays, lambda arrs, k: np.stack(arrs, axis=ax))


def hstack(tup, dtype=None, casting="same_kind"):
    arrs = [atleast_1d(a) if type(a) is DualArray else np.atleast_1d(a) for a in tup]
    return concatenate(arrs, 0 if _ndim(arrs[0]) == 1 else 1)


def vstack(tup, dtype=None, casting="same_kind"):
    arrs = [atleast_2d(a) if type(a) is DualArray else np.atleast_2d(a) for a in tup]
    return concatenate(arrs, 0)


def column_stack(tup):
    arrs = []
    for a in tup:
        if _ndim(a) < 2:
            a = reshape(a, (-1, 1)) if type(a) is DualArray else np.reshape(a, (-1, 1))
        arrs.append(a)
    return concatenate(arrs, 1)


def where(condition, x=None, y=None):
    if x is None and y is None:
        return np.where(_value_of(condition))
    cond = np.asarray(_value_of(condition), dtype=bool)
    if _lift(x) is None and _lift(y) is None:
        return np.where(cond, _const(x), _const(y))
    ds = _operands([x, y])
    shape = np.broadcast_shapes(cond.shape, (<DualArray>ds[0]).value.shape,
                                (<DualArray>ds[1]).value.shape)

    def pick(arrs, nd):
        c = cond.reshape(cond.shape + (1,) * nd)
        return np.where(c, arrs[0], arrs[1])
    return _broadcast(_join(ds, pick), shape)


# ======================================== reductions =======================================

cdef cnp.ndarray _sum_rows(cnp.ndarray t, ptrdiff_t n, int k, ptrdiff_t lo, ptrdiff_t hi):
    """Column sums of an (n, k) block of which t holds rows lo..hi-1 (the rest zero), in
    numpy's pairwise order (csrc/kernels.h)."""
    cdef cnp.npy_intp dims[1]
    dims[0] = k
    cdef cnp.ndarray out = cnp.PyArray_EMPTY(1, dims, cnp.NPY_DOUBLE, 0)
    cdef double *scratch = <double*>PyMem_Malloc(dd_pairwise_scratch(n, k) * sizeof(double))
    if scratch == NULL:
        raise MemoryError()
    if lo == 0 and hi == n:
        dd_pairwise_rows(_ptr(t), n, k, _ptr(out), scratch)
    else:
        dd_pairwise_rows_range(_ptr(t), n, lo, hi, k, _ptr(out), scratch)
    PyMem_Free(scratch)
    return out


cdef DualArray _sum_all(DualArray x):
    """Sum of every element: the value exactly as np.sum computes it, each direction alike
    (over the stored rows only, with the same result as over all rows)."""
    cdef cnp.ndarray v = _contig(x.value)
    cdef ptrdiff_t n = cnp.PyArray_SIZE(v)
    value = _sum_rows(v, n, 1, 0, n).reshape(())
    parts = []
    for i, t in enumerate(_stored(x)):
        kk = _k(x) if i == 0 else _k2(x) if i == 1 else _k(x) * _k2(x)
        r = _sum_rows(_contig(t), n, kk, x.lo[i] if x.partial else 0,
                      x.hi[i] if x.partial else n)
        parts.append(r if i < 2 else r.reshape(_k(x), _k2(x)))
    return _new(np.asarray(value), parts[0], _at(parts, 1), _at(parts, 2), x.tag)


def sum_(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    _no_out(out)
    if initial is not None or where is not None:
        raise TypeError("np.sum(initial=, where=) is not supported on dual arrays")
    x = <DualArray>a
    if axis is None and not keepdims:
        return _sum_all(x)
    ax = _norm_axes(axis, x.value.ndim)
    return _rebuild(x, x.value.sum(axis=ax, keepdims=keepdims),
                    [t.sum(axis=ax, keepdims=keepdims) for t in _parts(x)])


def mean(a, axis=None, dtype=None, out=None, keepdims=False, where=None):
    _no_out(out)
    x = <DualArray>a
    ax = _norm_axes(axis, x.value.ndim)
    count = 1
    for i in ax:
        count *= x.value.shape[i]
    return _binary(DD_OP_DIV, sum_(x, ax, keepdims=keepdims), float(count))


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None):
    _no_out(out)
    x = <DualArray>a
    ax = _norm_axes(axis, x.value.ndim)
    count = 1
    for i in ax:
        count *= x.value.shape[i]
    centered = x - mean(x, ax, keepdims=True)
    s = sum_(centered * centered, ax, keepdims=keepdims)
    return s / float(count - ddof)


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None):
    return apply_unary(_core.UNARY_INDEX["sqrt"], var(a, axis, ddof=ddof, keepdims=keepdims))


def prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    """Product along axes by pairwise multiplication: log2(n) kernel calls, exact rules."""
    _no_out(out)
    x = <DualArray>a
    nd = x.value.ndim
    ax = _norm_axes(axis, nd)
    if len(ax) == 0:
        return x
    # bring the reduced axes together at the front, as one axis
    rest = tuple(i for i in range(nd) if i not in ax)
    y = transpose(x, ax + rest)
    y = reshape(y, (-1,) + tuple(x.value.shape[i] for i in rest))
    while y.shape[0] > 1:
        h = y.shape[0] // 2
        z = y[:h] * y[h:2 * h]
        y = concatenate([z, y[2 * h:]], 0) if y.shape[0] % 2 else z
    if y.shape[0] == 0:
        y = reshape(y, (0,) + y.shape[1:])
        y = _rebuild(y, np.ones((1,) + y.shape[1:]), _zeros_parts(y, (1,) + y.shape[1:]))
    y = y[0]
    if type(y) is not DualArray:
        y = _lift(y)
    if keepdims:
        shape = tuple(1 if i in ax else x.value.shape[i] for i in range(nd))
        y = reshape(y, shape)
    return y


def cumsum(a, axis=None, dtype=None, out=None):
    _no_out(out)
    x = <DualArray>a
    if axis is None:
        x = ravel(x)
        axis = 0
    ax = _norm_axis(axis, x.value.ndim)
    return _map(x, lambda arr, k: np.cumsum(arr, axis=ax))


def cumprod(a, axis=None, dtype=None, out=None):
    _no_out(out)
    x = <DualArray>a
    if axis is None:
        x = ravel(x)
        axis = 0
    ax = _norm_axis(axis, x.value.ndim)
    y = moveaxis(x, ax, 0)
    acc = y[0:1]
    pieces = [acc]
    for i in range(1, y.shape[0]):
        acc = acc * y[i:i + 1]
        pieces.append(acc)
    return moveaxis(concatenate(pieces, 0), 0, ax)


cdef object _extreme(object a, object axis, bint keepdims, object pick):
    """max/min along axes; ties share the derivative equally (as JAX's reduce_max)."""
    x = <DualArray>a
    ax = _norm_axes(axis, x.value.ndim)
    m = pick(x.value, axis=ax, keepdims=True)
    hit = (x.value == m).astype(_F64)
    w = hit / hit.sum(axis=ax, keepdims=True)
    value = m if keepdims else np.squeeze(m, axis=ax)
    parts = []
    for i, t in enumerate(_parts(x)):
        ww = w.reshape(w.shape + (1,) * _ndir(i))
        parts.append((t * ww).sum(axis=ax, keepdims=keepdims))
    return _rebuild(x, value, parts)


def amax(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    _no_out(out)
    return _extreme(a, axis, keepdims, np.max)


def amin(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    _no_out(out)
    return _extreme(a, axis, keepdims, np.min)


def diff(a, n=1, axis=-1, prepend=None, append=None):
    x = <DualArray>a
    ax = _norm_axis(axis, x.value.ndim)
    if prepend is not None or append is not None:
        raise TypeError("np.diff(prepend=, append=) is not supported on dual arrays")
    for _ in range(n):
        L = x.value.shape[ax]
        x = take(x, np.arange(1, L), ax) - take(x, np.arange(0, L - 1), ax)
    return x


def norm(x, ord=None, axis=None, keepdims=False):
    d = <DualArray>x
    vector = isinstance(axis, int) or (axis is None and d.value.ndim == 1)
    if ord is None or ord == "fro" or (ord == 2 and vector):
        # sqrt(sum(x*x)): at x = 0 the zero-tangent rule gives gradient 0, not NaN
        s = sum_(d * d, axis=axis, keepdims=keepdims)
        return apply_unary(_core.UNARY_INDEX["sqrt"], s)
    if vector and ord == 1:
        return sum_(apply_unary(_ABS, d), axis=axis, keepdims=keepdims)
    if vector and ord == np.inf:
        return amax(apply_unary(_ABS, d), axis=axis, keepdims=keepdims)
    if vector and isinstance(ord, (int, float)) and ord > 0:
        s = sum_(_power(apply_unary(_ABS, d), float(ord)), axis=axis, keepdims=keepdims)
        return _power(s, 1.0 / ord)
    raise TypeError(f"np.linalg.norm(ord={ord!r}) is not supported on dual arrays; vector "
                    "norms (ord=None, 1, 2, inf, p > 0) and the Frobenius norm are")


def _like_const(fill):
    def f(a, dtype=None, order="K", subok=True, shape=None, **kw):
        return np.full(_shape(a) if shape is None else shape, fill, dtype=dtype or _F64)
    return f


def full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None):
    if type(fill_value) is DualArray or type(fill_value) is Dual:
        raise TypeError("np.full_like with a dual fill value is not supported")
    return np.full(_shape(a) if shape is None else shape, fill_value, dtype=dtype or _F64)


def shape_(a):
    return _shape(a)


def ndim_(a):
    return _ndim(a)


def size_(a, axis=None):
    s = _shape(a)
    return int(np.prod(s)) if axis is None else s[axis]


def copy_(a, order="K", subok=False):
    return a


# ======================================== products =========================================

cdef object _bilinear(object a, object b, object spec_a, object spec_b, object spec_out,
                      object fast):
    """B(a, b) for a bilinear B given as einsum subscripts of the value axes.

    Tangents follow the product rule: B(a', b) + B(a, b'), and for order 2 also the cross
    terms B(a1, b2) + B(a2, b1) of the e1e2 part. `fast(A, B, which)` may compute a term with
    BLAS instead of einsum (which: "a" when A carries directions, "b" when B does).
    (No nested closures here: a closure calling another closes a reference cycle that would
    keep every operand alive until the cyclic garbage collector runs.)"""
    cdef DualArray da = _lift(a), db = _lift(b), like
    va = da.value if da is not None else _const(a)
    vb = db.value if db is not None else _const(b)
    specs = (spec_a, spec_b, spec_out)
    if da is None and db is None:
        return np.einsum(f"{spec_a},{spec_b}->{spec_out}", va, vb)
    if da is not None and db is not None:
        tag = _check_pair(da, db)
        like = da
    else:
        like = da if da is not None else db
        tag = like.tag
    value = np.einsum(f"{spec_a},{spec_b}->{spec_out}", va, vb) if fast is None else \
        fast(va, vb, None)
    pa = _parts(da) if da is not None else (None, None, None)
    pb = _parts(db) if db is not None else (None, None, None)
    t1 = _product_rule(pa[0], pb[0], va, vb, "P", specs, fast)
    if like.order == 1:
        return _new(np.asarray(value, dtype=_F64), t1, None, None, tag)
    t2 = _product_rule(pa[1], pb[1], va, vb, "Q", specs, fast)
    k1, k2 = _k(like), _k2(like)
    a12 = None if pa[2] is None else pa[2].reshape(pa[2].shape[:-2] + (k1 * k2,))
    b12 = None if pb[2] is None else pb[2].reshape(pb[2].shape[:-2] + (k1 * k2,))
    t12 = _product_rule(a12, b12, va, vb, "R", specs, fast)
    t12 = t12.reshape(t12.shape[:-1] + (k1, k2))
    if da is not None and db is not None:     # cross terms a1 b2 + a2 b1 of the e1e2 part
        t12 = (t12 + np.einsum(f"{spec_a}P,{spec_b}Q->{spec_out}PQ", pa[0], pb[1])
               + np.einsum(f"{spec_a}Q,{spec_b}P->{spec_out}PQ", pa[1], pb[0]))
    return _new(np.asarray(value, dtype=_F64), t1, t2, t12, tag)


cdef object _product_rule(object ta, object tb, object va, object vb, str d, tuple specs,
                          object fast):
    """B(ta, vb) + B(va, tb) for tangents carrying directions `d` (either may be None)."""
    r = None
    if ta is not None:
        r = _bilinear_term(ta, vb, d, "", specs, fast)
    if tb is not None:
        t = _bilinear_term(va, tb, "", d, specs, fast)
        r = t if r is None else r + t
    return r


cdef object _bilinear_term(object A, object B, str dirs_a, str dirs_b, tuple specs,
                           object fast):
    spec_a, spec_b, spec_out = specs
    if fast is not None and (dirs_a == "" or dirs_b == ""):
        return fast(A, B, "a" if dirs_a else "b")
    return np.einsum(f"{spec_a}{dirs_a},{spec_b}{dirs_b}->{spec_out}{dirs_a}{dirs_b}", A, B)


def _matmul_fast(A, B, which):
    """2-D/1-D matmul terms with BLAS, directions trailing (see _bilinear)."""
    if which is None:
        return np.matmul(A, B)
    if which == "a":            # A carries directions: A has shape S_a + (K,)
        if B.ndim == 1:
            return np.matmul(B, A)                       # (…, n, K) contracted with b (n,)
        return np.matmul(B.T, A)                         # per row: (p, n) @ (n, K)
    # B carries directions: B has shape S_b + (K,)
    if B.ndim == 2:                                      # b was 1-D (n,): (…, n) @ (n, K)
        return np.matmul(A, B)
    K = B.shape[-1]
    r = np.matmul(A, B.reshape(B.shape[0], -1))          # (…, n) @ (n, p*K)
    return r.reshape(r.shape[:-1] + (B.shape[1], K))


def matmul(a, b, out=None, **kwargs):
    _no_out(out)
    na, nb = _ndim(a), _ndim(b)
    if na == 0 or nb == 0:
        raise ValueError("matmul: Input operand does not have enough dimensions")
    if na <= 2 and nb <= 2:
        sa = "mn"[2 - na:]
        sb = "np"[:nb]
        so = ("m" if na == 2 else "") + ("p" if nb == 2 else "")
        return _bilinear(a, b, sa, sb, so, _matmul_fast)
    sa = "...mn" if na > 1 else "n"
    sb = "...np" if nb > 1 else "n"
    so = "..." + ("m" if na > 1 else "") + ("p" if nb > 1 else "")
    return _bilinear(a, b, sa, sb, so, None)


def dot(a, b, out=None):
    _no_out(out)
    na, nb = _ndim(a), _ndim(b)
    if na == 0 or nb == 0:
        return a * b
    if na <= 2 and nb <= 2:
        return matmul(a, b)
    letters = "abcdefghijkl"
    sa = letters[:na]
    sb = letters[na:na + nb - 2] + sa[-1] + (letters[na + nb - 2] if nb >= 2 else "")
    if nb == 1:
        sb = sa[-1]
    so = sa[:-1] + sb.replace(sa[-1], "")
    return _bilinear(a, b, sa, sb, so, None)


def inner(a, b):
    na, nb = _ndim(a), _ndim(b)
    if na == 0 or nb == 0:
        return a * b
    letters = "abcdefghijkl"
    sa = letters[:na - 1] + "z"
    sb = letters[na - 1:na + nb - 2] + "z"
    return _bilinear(a, b, sa, sb, sa[:-1] + sb[:-1], None)


def outer(a, b, out=None):
    _no_out(out)
    a = ravel(a) if type(a) is DualArray else np.ravel(a)
    b = ravel(b) if type(b) is DualArray else np.ravel(b)
    return _bilinear(a, b, "i", "j", "ij", None)


def vdot(a, b):
    a = ravel(a) if type(a) is DualArray else np.ravel(a)
    b = ravel(b) if type(b) is DualArray else np.ravel(b)
    return _bilinear(a, b, "i", "i", "", None)


def einsum(*operands, out=None, optimize=False, **kwargs):
    _no_out(out)
    if len(operands) != 3 or not isinstance(operands[0], str) or "->" not in operands[0] \
            or "..." in operands[0]:
        raise TypeError("np.einsum on dual arrays supports two operands with explicit output "
                        "subscripts ('ij,jk->ik'), no ellipsis")
    spec, a, b = operands
    ins, so = spec.replace(" ", "").split("->")
    sa, sb = ins.split(",")
    if any(c in "PQR" for c in spec):
        raise TypeError("np.einsum on dual arrays: use lowercase subscripts")
    return _bilinear(a, b, sa, sb, so, None)


def tensordot(a, b, axes=2):
    na, nb = _ndim(a), _ndim(b)
    if isinstance(axes, int):
        ax_a = list(range(na - axes, na))
        ax_b = list(range(axes))
    else:
        ax_a, ax_b = axes
        ax_a = [ax_a] if isinstance(ax_a, int) else list(ax_a)
        ax_b = [ax_b] if isinstance(ax_b, int) else list(ax_b)
        ax_a = [i % na for i in ax_a]
        ax_b = [i % nb for i in ax_b]
    letters = "abcdefghijklmnopqrstuvwxyz"
    sa = list(letters[:na])
    sb = list(letters[na:na + nb])
    for i, j in zip(ax_a, ax_b):
        sb[j] = sa[i]
    so = "".join(c for i, c in enumerate(sa) if i not in ax_a) + \
        "".join(c for j, c in enumerate(sb) if j not in ax_b)
    return _bilinear(a, b, "".join(sa), "".join(sb), so, None)


# ======================================== numpy protocols ==================================

def array_ufunc(ufunc, method, inputs, kwargs):
    """__array_ufunc__ for dual arrays (and for dual scalars meeting arrays)."""
    out = kwargs.pop("out", None) if kwargs else None
    if out is not None and any(o is not None for o in (out if isinstance(out, tuple) else (out,))):
        raise TypeError(f"numpy.{ufunc.__name__}(..., out=...) cannot store dual values; "
                        "use the returned result instead")
    if kwargs:
        extra = {k: v for k, v in kwargs.items()
                 if not (k == "dtype" and v in (None, float, _F64, "float64"))
                 and not (k == "casting" and v == "same_kind")}
        if extra:
            raise TypeError(f"numpy.{ufunc.__name__}(...) with {', '.join(extra)}= is not "
                            "supported on dual values")
    if method == "reduce":
        return _ufunc_reduce(ufunc, inputs[0], *inputs[1:], **kwargs)
    if method == "accumulate":
        return _ufunc_accumulate(ufunc, inputs[0], *inputs[1:], **kwargs)
    if method != "__call__":
        raise _core.unsupported_ufunc(ufunc, method)
    if ufunc is np.matmul:
        return matmul(*inputs)
    entry = _core.ufunc_entry(ufunc)
    if entry is None:
        raise _core.unsupported_ufunc(ufunc)
    kind, index = entry
    if kind == 0:                 # unary rule
        return apply_unary(index, inputs[0])
    if kind == 1:                 # binary rule
        return apply_binary(index, inputs[0], inputs[1])
    if kind == 2:                 # arithmetic operator
        if index == 4:
            return _power(inputs[0], inputs[1])
        r = _binary(index, inputs[0], inputs[1])
        if r is NotImplemented:
            raise TypeError(f"numpy.{ufunc.__name__}: unsupported operand types "
                            f"{type(inputs[0]).__name__} and {type(inputs[1]).__name__}")
        return r
    if kind == 3:
        d = _lift(inputs[0])
        return _map_linear(d, np.negative) if d is not None else np.negative(inputs[0])
    if kind == 4:
        return inputs[0]
    if kind == 5:                 # comparison on values
        return _compare(inputs[0], inputs[1], index)
    # predicate on values (isnan, isinf, isfinite, signbit)
    return ufunc(_value_of(inputs[0]))


def _ufunc_reduce(ufunc, a, axis=0, dtype=None, out=None, keepdims=False, **kw):
    if ufunc is np.add:
        return sum_(a, axis=axis, keepdims=keepdims)
    if ufunc is np.multiply:
        return prod(a, axis=axis, keepdims=keepdims)
    if ufunc is np.maximum:
        return amax(a, axis=axis, keepdims=keepdims)
    if ufunc is np.minimum:
        return amin(a, axis=axis, keepdims=keepdims)
    raise _core.unsupported_ufunc(ufunc, "reduce")


def _ufunc_accumulate(ufunc, a, axis=0, dtype=None, out=None, **kw):
    if ufunc is np.add:
        return cumsum(a, axis=axis)
    if ufunc is np.multiply:
        return cumprod(a, axis=axis)
    raise _core.unsupported_ufunc(ufunc, "accumulate")


cdef dict _HANDLERS = {
    np.sum: sum_, np.mean: mean, np.prod: prod, np.var: var, np.std: std,
    np.cumsum: cumsum, np.cumprod: cumprod, np.max: amax, np.min: amin,
    np.amax: amax, np.amin: amin,
    np.dot: dot, np.matmul: matmul, np.inner: inner, np.outer: outer, np.vdot: vdot,
    np.einsum: einsum, np.tensordot: tensordot,
    np.where: where, np.clip: lambda a, a_min=None, a_max=None, out=None, **kw:
        _core.clip(a, a_min, a_max),
    np.concatenate: concatenate, np.stack: stack, np.hstack: hstack, np.vstack: vstack,
    np.column_stack: column_stack,
    np.reshape: reshape, np.ravel: ravel, np.transpose: transpose, np.swapaxes: swapaxes,
    np.moveaxis: moveaxis, np.squeeze: squeeze, np.expand_dims: expand_dims,
    np.atleast_1d: atleast_1d, np.atleast_2d: atleast_2d, np.broadcast_to: broadcast_to,
    np.flip: flip, np.roll: roll, np.take: take, np.repeat: repeat, np.tile: tile,
    np.diagonal: diagonal, np.trace: trace, np.diag: diag, np.diff: diff,
    np.linalg.norm: norm,
    np.zeros_like: _like_const(0.0), np.ones_like: _like_const(1.0),
    np.empty_like: _like_const(0.0), np.full_like: full_like,
    np.shape: shape_, np.ndim: ndim_, np.size: size_, np.copy: copy_,
}
