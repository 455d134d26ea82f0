# cython: language_level=3, cdivision=True, c_api_binop_methods=True, embedsignature=True
"""DualArray: the array of dual numbers the transforms hand to the user's numpy code.

Design of the Python side (one room per concern)
------------------------------------------------
* dualdiff/_arrays.pyx (this file): the DualArray type -- its storage, construction and
  seeding, the one accessor of its tangent parts, operators, indexing, and the numpy protocol
  entry points -- plus the small API the rules below are written against (lift, const, parts,
  rebuild, linear, join, as_pair, from_pair). It holds no calculus.
    - _windows.pxi      row windows: which tangent rows a part stores (none: an absent
                        part, as a Hessian sweep's e12 is until an e1 meets an e2)
    - _elementwise.pxi  csrc/kernels.h bound to dual arrays (the rule table, elementwise)
    - _sums.pxi         sums in numpy's pairwise order (compiled)
    - _pool.pxi         the block pool behind numpy's allocator while a transform runs
    - _rules_api.pxi    what the rules are written against (linear, join, as_pair, ...)
    - _indexing.pxi     x[i], slices, fancy and boolean indexing
    - _fastpath.pxi     the transforms' compiled path for small inputs (one sweep)
* dualdiff/_jvp/: whole-array rules, the only calculus outside csrc/rules.h (linear maps, the
  bilinear product rule, max/min ties, sorting, linear algebra). A rule is written once, as
  numpy code on (primals, tangents); second order comes from the same rule run on dual arrays.
* dualdiff/_numpy.py: the NumPy surface -- which numpy function or ufunc is served by which
  rule or kernel, with numpy's signatures and keywords; it fills the tables of this file.
* dualdiff/transforms.py: seeding, the sweep loop and the output reader.

Storage. A DualArray holds `value` (any shape S, float64) and tangent parts with the
directions last: e1 of shape S + (k1,); a second-order (hyper-dual) array also has e2 of shape
S + (k2,) and e12 of shape S + (k1, k2). One class serves both orders: structural operations
act alike on every part, only the trailing direction axes differ. Directions last make numpy
broadcasting and indexing work unchanged (value[idx] and e1[idx] select the same elements),
and let one jet per element (one sin and cos, say) serve all k directions from adjacent memory.
Public names: .eps (order 1), .eps1, .eps2, .eps12 (order 2), as on Dual and HyperDual.

Immutable. No operation writes into an existing buffer, so results may share memory (x + 1
reuses x's tangents) and the user's inputs are never modified.

Crash-freedom. Tangent parts are reached through _part() (dense) or, in window-aware code,
_window()/_rows(); nothing else reads the stored buffers. Operands enter every operation
through _lift() (a DualArray, or None for a constant) and _const() (a float64 array, or a
TypeError naming what it was): there is no unchecked cast of a user's object.

Tags. Each transform seeds its values with a fresh tag; operands of two different transforms
raise instead of silently confusing their perturbations (csrc-free: see _core's design block).
"""

cimport cython
cimport numpy as cnp
from libc.stddef cimport ptrdiff_t
from libc.string cimport memcpy, memset
from cpython.float cimport PyFloat_Check, PyFloat_AS_DOUBLE
from cpython.long cimport PyLong_Check
from cpython.mem cimport PyMem_Malloc, PyMem_Realloc, PyMem_Free
from cpython.ref cimport PyObject
from cpython.dict cimport PyDict_GetItemString

cdef extern from "Python.h":
    PyObject* PyEval_GetGlobals()       # borrowed: the running Python frame's globals

from dualdiff._core cimport (Dual, HyperDual, make_dual, make_hyper, make_dualvec,
                            make_hypervec, vec_parts, level_key2, np_unary,
                            np_binary, np_op, replay, is_real, is_scalar_dual, next_tag)

import collections

import numpy as np
from dualdiff import _core

cnp.import_array()

# The parts of a dual array of m levels: one per non-empty subset of the levels, part p
# holding the coefficient of the product of the infinitesimals in subset (bitmask) p + 1, with
# one direction axis per level of the subset, in level order. One level: e1. Two (a
# hyper-dual array): e1, e2, e12. Three or more (transforms nested beyond second order): e1,
# e2, e12, e3, e13, e23, e123, ...
cdef enum:
    E1 = 0
    E2 = 1
    E12 = 2

_F64 = np.float64
_S = slice(None)


@cython.final
cdef class DualArray:
    """An array of dual (order 1) or hyper-dual (order 2) numbers, stored as arrays.

    Made by dualdiff's transforms; user code meets it as the argument of the function being
    differentiated and treats it like a float ndarray: operators, numpy ufuncs, np.sum, np.dot,
    @, np.where, np.concatenate, indexing, reshape, ... (dualdiff/_numpy.py lists them).
    """
    cdef readonly object value
    cdef object e1, e2, e12     # stored tangent parts: read them through _part()/_rows()
    cdef list extra             # the parts after e12 (three or more levels)
    cdef Py_ssize_t lo[3]       # the window of part p when `windowed` (_windows.pxi)
    cdef Py_ssize_t hi[3]
    cdef bint windowed
    cdef readonly int order     # the number of levels (1: dual, 2: hyper-dual, ...)
    cdef readonly tuple tags    # each level's transform tag, in level order (see _core, levels)

    __array_priority__ = 1000.0

    @property
    def tag(self):
        """The tag of the first level."""
        return self.tags[0]

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
        """The values (the primal array), without derivatives."""
        return self.value

    @property
    def eps(self):
        """The tangents of a first-order array, shape value.shape + (k,)."""
        return _part(self, E1)

    @property
    def eps1(self):
        """The e1 part, shape value.shape + (k1,)."""
        return _part(self, E1)

    @property
    def eps2(self):
        """The e2 part (second order), shape value.shape + (k2,)."""
        return _part(self, E2)

    @property
    def eps12(self):
        """The e1e2 part (second order), shape value.shape + (k1, k2)."""
        return _part(self, E12)

    @property
    def T(self):
        return _call(np.transpose, (self,), {})

    def __len__(self):
        if self.value.ndim == 0:
            raise TypeError("len() of a 0-d dual array")
        return len(self.value)

    def __iter__(self):
        if self.value.ndim == 0:
            raise TypeError("iteration over a 0-d dual array")
        for i in range(len(self.value)):
            yield _getitem(self, i)

    def __repr__(self):
        if self.order == 1:
            return f"DualArray(value={self.value!r}, eps={self.eps!r})"
        return (f"DualArray(value={self.value!r}, eps1={self.eps1!r}, eps2={self.eps2!r}, "
                f"eps12={self.eps12!r})")

    def __bool__(self):
        return bool(self.value)

    def __float__(self):
        raise TypeError(_core.LOST_ARRAY)

    def __int__(self):
        raise TypeError(_core.LOST_ARRAY)

    def __index__(self):
        raise TypeError("a dual value cannot be used as an index; index with integers")

    def __complex__(self):
        raise TypeError(_core.LOST_ARRAY)

    def __array__(self, dtype=None, copy=None):
        # A single dual element inside np.array([...]) (loop-style code) becomes an object
        # element: its scalar (Dual, DualVec, ...), what x[i] gives, so numpy's object loops
        # meet the same type whatever the chunk; anything that would drop the tangents
        # raises, naming the function that asked for the conversion.
        if self.value.ndim == 0 and (dtype is None or np.dtype(dtype) == object):
            box = np.empty((), dtype=object)
            box[()] = self[()]
            return box
        if (dtype is None or np.dtype(dtype) == object) and object_elements is not None and \
                object_elements():
            # numpy.polynomial evaluates series of object coefficients (Fractions, mpmath),
            # np.vectorize calls its function per element: the dual scalars' own arithmetic
            # carries the derivatives through their loops. Before the constant case: the
            # types numpy computes with must not depend on the chunk (legint(c, k=[x[5]])
            # adds a seeded k into an array made from c)
            return elements(self)
        if _is_constant(self):
            # no tangent row in this sweep (x outside the chunk's window): nothing to lose,
            # and the values are what a sweep that did not seed x at all would have seen
            # (ndarray.dot(x) of a plain left operand converts x): alike at every chunk
            return np.array(self.value, dtype=dtype, copy=True) if copy else \
                np.asarray(self.value, dtype=dtype)
        raise TypeError(lost_derivative() if lost_derivative is not None else _core.LOST_ARRAY)

    def __setitem__(self, key, value):
        raise TypeError("dual arrays are immutable: build the result with np.where, "
                        "np.concatenate, np.stack or np.array([...]) instead of assigning into it")

    def __getitem__(self, idx):
        return _getitem(self, idx)

    # ---- arithmetic: the kernels of _elementwise.pxi ------------------------------------
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
        return _call(np.matmul, (a, b), {})

    def __floordiv__(a, b):
        return _call(np.floor_divide, (a, b), {})

    def __mod__(a, b):
        return _call(np.remainder, (a, b), {})

    def __neg__(self):
        if _is_constant(self):
            return _still_constant(np.negative(self.value), self)
        return _linear_parts(self, np.negative(self.value), lambda t, p: np.negative(t))

    def __pos__(self):
        return self

    def __abs__(self):
        return apply_unary(U_ABS, self)

    def __richcmp__(self, other, int op):
        return compare(self, other, op)

    # ---- numpy protocols: the tables _numpy.py fills ------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return _call(func, args, kwargs)

    # ---- ndarray methods numpy code calls: each is its numpy function --------------------
    def sum(self, *args, **kwargs):
        return _call(np.sum, (self,) + args, kwargs)

    def mean(self, *args, **kwargs):
        return _call(np.mean, (self,) + args, kwargs)

    def prod(self, *args, **kwargs):
        return _call(np.prod, (self,) + args, kwargs)

    def var(self, *args, **kwargs):
        return _call(np.var, (self,) + args, kwargs)

    def std(self, *args, **kwargs):
        return _call(np.std, (self,) + args, kwargs)

    def max(self, *args, **kwargs):
        return _call(np.max, (self,) + args, kwargs)

    def min(self, *args, **kwargs):
        return _call(np.min, (self,) + args, kwargs)

    def cumsum(self, *args, **kwargs):
        return _call(np.cumsum, (self,) + args, kwargs)

    def cumprod(self, *args, **kwargs):
        return _call(np.cumprod, (self,) + args, kwargs)

    def dot(self, b):
        return _call(np.dot, (self, b), {})

    def trace(self, *args, **kwargs):
        return _call(np.trace, (self,) + args, kwargs)

    def diagonal(self, *args, **kwargs):
        return _call(np.diagonal, (self,) + args, kwargs)

    def clip(self, *args, **kwargs):
        return _call(np.clip, (self,) + args, kwargs)

    def take(self, *args, **kwargs):
        return _call(np.take, (self,) + args, kwargs)

    def repeat(self, *args, **kwargs):
        return _call(np.repeat, (self,) + args, kwargs)

    def reshape(self, *shape, order="C"):
        if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
            shape = tuple(shape[0])
        return _call(np.reshape, (self, shape), {"order": order})

    def transpose(self, *axes):
        if len(axes) == 1 and axes[0] is not None and not isinstance(axes[0], (int, np.integer)):
            axes = tuple(axes[0])
        return _call(np.transpose, (self, axes or None), {})

    def swapaxes(self, a, b):
        return _call(np.swapaxes, (self, a, b), {})

    def ravel(self, order="C"):
        return _call(np.ravel, (self,), {"order": order})

    def flatten(self, order="C"):
        return _call(np.ravel, (self,), {"order": order})

    def squeeze(self, axis=None):
        return _call(np.squeeze, (self,), {"axis": axis})

    def copy(self, order="C"):
        return self

    def __getattr__(self, name):
        # x.sin(), x.exp(), ...: every unary rule of the table as a method, as on Dual; the
        # rest of ndarray's methods and attributes from _numpy/methods.py
        code = _core.UNARY_INDEX.get(name)
        if code is not None:
            return lambda: apply_unary(code, self)
        get = ATTRIBUTES.get(name)
        if get is None:
            e = AttributeError(f"'DualArray' object has no attribute {name!r}")
            e.name = name           # as Python's own (AttributeError(name=) is 3.10+)
            raise e
        return get(self)

    def astype(self, dtype, order="K", casting="unsafe", subok=True, copy=True):
        if np.dtype(dtype).kind != "f" or np.dtype(dtype).itemsize < 8:
            raise TypeError(f"astype({np.dtype(dtype)}) of a dual array would lose its "
                            "derivative (dual arrays are float64); drop the astype call")
        return self


# ======================================== parts =============================================

cdef inline int _nparts(DualArray d):
    return (1 << d.order) - 1


cdef inline int _popcount(int m):
    cdef int c = 0
    while m:
        c += m & 1
        m >>= 1
    return c


cdef inline int _ndir(int p):
    """Trailing direction axes of part p: the levels in its subset."""
    return 1 if p < 2 else 2 if p == 2 else _popcount(p + 1)


cdef inline object _stored(DualArray d, int p):
    """The buffer of part p as stored (only its window's rows when d is windowed)."""
    if p == E1:
        return d.e1
    if p >= _nparts(d):
        raise IndexError(f"a dual array of {d.order} level(s) has no part {p}")
    return d.e2 if p == E2 else d.e12 if p == E12 else d.extra[p - 3]


cdef inline void _set_stored(DualArray d, int p, object t):
    if p == E1:
        d.e1 = t
    elif p == E2:
        d.e2 = t
    elif p == E12:
        d.e12 = t
    else:
        d.extra[p - 3] = t


cdef inline object _part(DualArray d, int p):
    """Part p of d, dense: the one accessor for code that is not window-aware."""
    _densify(d)
    return _stored(d, p)


cdef list _parts(DualArray d):
    _densify(d)
    if d.order == 1:
        return [d.e1]
    if d.order == 2:
        return [d.e1, d.e2, d.e12]
    return [d.e1, d.e2, d.e12] + d.extra


cdef inline int _kl(DualArray d, int level):
    """The number of directions of a level."""
    t = _stored(d, (1 << level) - 1)
    return t.shape[t.ndim - 1]


cdef inline int _k1(DualArray d):
    return d.e1.shape[d.e1.ndim - 1]


cdef inline int _k2(DualArray d):
    return d.e2.shape[d.e2.ndim - 1] if d.order >= 2 else 0


cdef tuple _directions(DualArray d):
    """Each level's number of directions."""
    cdef int j
    if d.order == 1:                    # (loops, not generators: those cost ~0.2 us a call)
        return (_k1(d),)
    cdef list ks = []
    for j in range(d.order):
        ks.append(_kl(d, j))
    return tuple(ks)


cdef tuple _dirs_of(tuple ks, int p):
    """The direction axes of part p of an array whose levels have ks directions."""
    cdef int j, m = p + 1
    if p == 0:
        return (ks[0],)
    cdef list dirs = []
    for j in range(len(ks)):
        if m >> j & 1:
            dirs.append(ks[j])
    return tuple(dirs)


cdef inline object _at(list parts, int p):
    return parts[p] if p < len(parts) else None


# ======================================== construction ======================================

cdef inline DualArray _new(cnp.ndarray value, cnp.ndarray e1, object e2, object e12, tuple tags):
    """A dual array of one level (e2 None) or two."""
    cdef DualArray r = DualArray.__new__(DualArray)
    r.value = value
    r.e1 = e1
    r.e2 = e2
    r.e12 = e12
    r.order = 1 if e2 is None else 2
    r.tags = tags
    return r


cdef inline cnp.ndarray _f64(object a):
    """a as a float64 array: itself when it is one (np.asarray with a dtype costs ~0.15 us
    even then, and linear maps make one per part)."""
    if type(a) is np.ndarray and cnp.PyArray_TYPE(<cnp.ndarray>a) == cnp.NPY_DOUBLE and \
            cnp.PyArray_ISNOTSWAPPED(<cnp.ndarray>a):
        return <cnp.ndarray>a
    return np.asarray(a, dtype=_F64)


cdef DualArray _new_levels(object value, list parts, tuple tags):
    """A dual array of len(tags) levels from its dense parts."""
    cdef DualArray r
    if len(parts) != (1 << len(tags)) - 1:
        raise ValueError(f"{len(tags)} levels take {(1 << len(tags)) - 1} parts, not {len(parts)}")
    if len(tags) <= 2:
        return _new(_f64(value), _f64(parts[0]), _at(parts, E2), _at(parts, E12), tags)
    r = _new(_f64(value), _f64(parts[0]), parts[1], parts[2], tags)
    r.extra = list(parts[3:])
    r.order = len(tags)
    return r


cdef DualArray _rebuild(DualArray like, object value, list parts, object tags):
    """A dual array of like's levels from a value and dense parts (tags None: like's)."""
    cdef list f = []
    for t in parts:
        f.append(_f64(t))
    return _new_levels(value, f, like.tags if tags is None else tags)


cdef list _zero_parts(DualArray like, tuple shape):
    """Zero tangents of the given value shape with like's directions (for constants)."""
    cdef tuple ks = _directions(like)
    return [np.zeros(shape + _dirs_of(ks, p)) for p in range(_nparts(like))]


# ---- levels of different transforms meeting (nested transforms) ----------------------------

class OperandError(TypeError):
    """An operand no function can take, found where the function is not known. args: (what
    went wrong, the numpy function the user called, or None). _call and array_ufunc fill in
    the function as the error passes them, the outermost last, so the message names
    np.vstack, not a helper it called."""

    def __str__(self):
        return self.args[0] if self.args[1] is None else f"{self.args[1]}: {self.args[0]}"


class MixedOrders(OperandError):
    """Values of two orders met in one operation (see _union_levels)."""


cdef tuple _union_levels(tuple ta, tuple tb):
    """The levels of a result whose operands have levels ta and tb (sorted tags): a level of
    one transform is shared when both have it; a tag that one has twice (a second-order
    transform's two levels) and the other once cannot be matched -- the two are values of
    different orders of one transform, or duals of two kinds made by hand."""
    cdef list out = []
    cdef Py_ssize_t i = 0, j = 0, ca, cb
    while i < len(ta) or j < len(tb):
        t = ta[i] if i < len(ta) else tb[j]
        if j < len(tb) and tb[j] < t:
            t = tb[j]
        ca = cb = 0
        while i < len(ta) and ta[i] == t:
            ca += 1
            i += 1
        while j < len(tb) and tb[j] == t:
            cb += 1
            j += 1
        if ca and cb and ca != cb:
            if t == 0:
                raise MixedOrders("cannot mix Dual and HyperDual in one operation: use "
                                  "HyperDual throughout for second derivatives (convert "
                                  "with HyperDual(x.real, x.eps, 0.0, 0.0))", None)
            raise MixedOrders("a first-order value and a second-order value of one transform "
                              "met in one operation", None)
        out.extend([t] * max(ca, cb))
    return tuple(out)


cdef DualArray _promote(DualArray d, tuple tags, tuple ks):
    """d among the levels `tags` (a superset of d's, with ks directions each): d's parts go to
    the subsets of its own levels, every other part is zero."""
    cdef list where = []
    cdef Py_ssize_t i, j = 0
    cdef int p, mask, sub, b
    if d.tags == tags:
        return d
    for i in range(len(tags)):              # d's level j sits at position where[j]
        if j < d.order and d.tags[j] == tags[i]:
            where.append(i)
            j += 1
    if j != d.order:
        raise TypeError("dual values of unrelated transforms met in one operation")
    own = _parts(d)
    shape = d.value.shape
    parts = []
    for p in range(1, 1 << len(tags)):
        sub = 0                             # the same subset in d's levels, if it is one
        mask = p
        for b in range(d.order):
            if mask >> where[b] & 1:
                sub |= 1 << b
                mask &= ~(1 << where[b])
        parts.append(own[sub - 1] if mask == 0 else np.zeros(shape + _dirs_of(ks, p - 1)))
    return _new_levels(d.value, parts, tags)


cdef bint _same_levels(DualArray a, DualArray b) except -1:
    """a and b can meet directly: the same levels with the same directions."""
    if a.tags is not b.tags and a.tags != b.tags:
        return False
    if _k1(a) != _k1(b) or _k2(a) != _k2(b):
        if a.tags[0] == 0 or b.tags[0] == 0:
            raise TypeError(f"dual operands carry different numbers of directions ({_k1(a)} "
                            f"and {_k1(b)}): a Dual made by hand met this transform's values")
        raise TypeError(f"dual operands carry different numbers of directions ({_k1(a)} and "
                        f"{_k1(b)}): a value of another transform met this transform's values")
    return a.order <= 2 or _directions(a) == _directions(b)


cdef list _align(list duals):
    """Dual arrays (None: constants) brought to the union of their levels."""
    cdef DualArray d, first = None
    cdef tuple tags = None
    cdef dict ks = {}
    for o in duals:                     # the usual case, quickly: they already meet
        if o is not None:
            if first is None:
                first = o
            elif not _same_levels(first, <DualArray?>o):
                break
    else:
        return duals
    for o in duals:
        if o is not None:
            d = o
            tags = d.tags if tags is None else _union_levels(tags, d.tags)
    if tags is None:
        return duals
    for o in duals:
        if o is not None:
            d = o
            for j, k in enumerate(_directions(d)):
                key = (d.tags[j], sum(1 for t in d.tags[:j] if t == d.tags[j]))
                if ks.setdefault(key, k) != k:
                    raise TypeError("dual operands carry different numbers of directions on "
                                    "one level: values of different sweeps met")
    kt = tuple(ks[(t, sum(1 for u in tags[:i] if u == t))] for i, t in enumerate(tags))
    return [None if o is None else _promote(<DualArray>o, tags, kt) for o in duals]


def seed(value, tuple tags, e1, e2=None, Py_ssize_t lo1=-1, Py_ssize_t hi1=-1,
         Py_ssize_t lo2=-1, Py_ssize_t hi2=-1):
    """The dual array a transform passes to f: float64 `value` with tangent parts e1 (and e2;
    e12 starts zero) on levels `tags`. A window lo..hi (a 1-D value) says e1 (e2) stores only
    those rows, as the seeded directions are zero elsewhere; -1: every row is stored."""
    v = np.asarray(value, dtype=_F64)
    cdef Py_ssize_t lo[3]
    cdef Py_ssize_t hi[3]
    cdef Py_ssize_t n
    t1 = np.asarray(e1, dtype=_F64)
    _check_tangent(v, t1, lo1, hi1, "e1")
    if len(tags) != (1 if e2 is None else 2):
        raise ValueError("seed: one tag per level")
    if e2 is None:
        if lo1 < 0:
            return _new(v, t1, None, None, tags)
        lo[0], hi[0] = lo1, hi1
        return _new_windowed(v, [t1], lo, hi, tags)
    t2 = np.asarray(e2, dtype=_F64)
    _check_tangent(v, t2, lo2, hi2, "e2")
    k1, k2 = t1.shape[-1], t2.shape[-1]
    if lo1 < 0 and lo2 < 0 and v.ndim == 0:
        return _new(v, t1, t2, _zeros_readonly(v.shape + (k1, k2)), tags)
    # e12 is zero: an absent part (a window of no rows), which linear operations keep absent
    # until an e1 meets an e2
    n = v.shape[0]
    lo[0], hi[0] = lo1, hi1
    lo[1], hi[1] = lo2, hi2
    if lo1 < 0:
        lo[0], hi[0] = 0, n
    if lo2 < 0:
        lo[1], hi[1] = 0, n
    lo[2] = hi[2] = 0
    return _new_windowed(v, [t1, t2, np.zeros((0,) + v.shape[1:] + (k1, k2))], lo, hi, tags)


def from_parts(value, e1, e2=None, e12=None, tag=0):
    """A dual array with the given parts (value.shape + (k1,), + (k2,), + (k1, k2)) on levels
    of one tag: for tests and for rules that assemble results themselves."""
    v = np.asarray(value, dtype=_F64)
    t1 = np.asarray(e1, dtype=_F64)
    _check_tangent(v, t1, -1, -1, "e1")
    if e2 is None:
        if e12 is not None:
            raise ValueError("from_parts: e12 needs e2")
        return _new(v, t1, None, None, (tag,))
    t2 = np.asarray(e2, dtype=_F64)
    _check_tangent(v, t2, -1, -1, "e2")
    t12 = np.zeros(v.shape + (t1.shape[-1], t2.shape[-1])) if e12 is None else \
        np.asarray(e12, dtype=_F64)
    if t12.shape != v.shape + (t1.shape[-1], t2.shape[-1]):
        raise ValueError(f"from_parts: e12 of shape {t12.shape} does not fit value.shape + (k1, k2)")
    return _new(v, t1, t2, t12, (tag, tag))


def from_levels(value, parts, tags):
    """A dual array of len(tags) levels from all its parts (see the parts above)."""
    return _new_levels(np.asarray(value, dtype=_F64), [np.asarray(t, dtype=_F64) for t in parts],
                       tuple(tags))


cdef int _check_tangent(object v, object t, Py_ssize_t lo, Py_ssize_t hi,
                        str name) except -1:
    if lo < 0:
        if t.shape[:-1] != v.shape or t.ndim != v.ndim + 1:
            raise ValueError(f"seed: {name} of shape {t.shape} does not fit value shape "
                             f"{v.shape} (expected value.shape + (k,))")
        return 0
    if v.ndim != 1 or not 0 <= lo <= hi <= v.shape[0] or t.ndim != 2 or t.shape[0] != hi - lo:
        raise ValueError(f"seed: window {lo}..{hi} of {name} (shape {t.shape}) does not fit a "
                         f"vector of length {v.shape[0] if v.ndim else 0}")
    return 0


class ReadonlyCache:
    """Read-only arrays reused across sweeps and calls (identity seeds, triangle masks, zero
    blocks), least recently used first out under a byte budget and an entry count: memory
    stays flat however many sizes a program differentiates (a cache that only filled up would
    hold its budget for ever; one that never evicted would grow). dd.clear_caches() empties
    every one."""

    def __init__(self, budget, entries):
        self.budget, self.entries, self.bytes = budget, entries, 0
        self.items = collections.OrderedDict()

    def get(self, key, make):
        a = self.items.get(key)
        if a is not None:
            self.items.move_to_end(key)
            return a
        a = make()
        a.setflags(write=False)
        if a.nbytes <= self.budget:
            self.items[key] = a
            self.bytes += a.nbytes
            while self.bytes > self.budget or len(self.items) > self.entries:
                self.bytes -= self.items.popitem(last=False)[1].nbytes
        return a

    def clear(self):
        self.items.clear()
        self.bytes = 0


_ZEROS = ReadonlyCache(4 << 20, 8)


cdef object _zeros_readonly(tuple shape):
    """A read-only zero block, cached: the e12 seed of every Hessian sweep of one shape."""
    return _ZEROS.get(shape, lambda: np.zeros(shape))


def clear_caches():
    """Drop the cached zero blocks, the fast path's seeds and the block pool's memory."""
    _ZEROS.clear()
    clear_fast_caches()
    dd_pool_clear()


# ======================================== operands ==========================================

include "_operands.pxi"


# ======================================== numpy protocols ===================================
# Filled by dualdiff/_numpy.py: numpy function -> handler; ufunc -> handler of its call; and
# (ufunc, method) -> handler of reduce/accumulate/outer/at.

FUNCTIONS = {}
UFUNCS = {}
UFUNC_METHODS = {}
unsupported = None               # _numpy.unsupported(func, method=None): the TypeError to raise
qualname = None                  # _numpy.qualname(func): "numpy.linalg.solve", "scipy.special.gammaln"
find_ufunc = None                # _numpy.find_ufunc(ufunc): a handler registered on first use, or None
lost_derivative = None           # _numpy.lost_derivative(): why a conversion to ndarray is refused
object_elements = None           # _numpy.object_elements(): a conversion to dual scalars is asked
ATTRIBUTES = {}                  # ndarray's other methods and attributes (_numpy/methods.py)
# numpy function -> rule(result, args, kwargs): which parts of a plain result computed from a
# rowless argument stay rowless, where that is not "every float result" (_numpy/constants.py)
CONSTANT_RESULTS = {}


cdef object _call(object func, tuple args, dict kwargs):
    handler = FUNCTIONS.get(func)
    if handler is None:
        raise unsupported(func)
    r = _named(handler, args, kwargs, func, None)
    if type(r) is DualArray:
        return r
    return _keep_constant(func, r, args, kwargs)


# keywords every ufunc call accepts and dual arrays honour at these values
_UFUNC_NEUTRAL = {"dtype": (None, float, _F64, "float64", "d", "f8"), "casting": ("same_kind",),
                  "order": ("K",), "subok": (True,), "where": (True,)}


def array_ufunc(ufunc, method, inputs, kwargs):
    """__array_ufunc__ of dual arrays (and of dual scalars that meet arrays or keywords)."""
    if kwargs:
        out = kwargs.pop("out", None)
        if out is not None and any(o is not None for o in
                                   (out if isinstance(out, tuple) else (out,))):
            if method == "__call__" and _object_out(inputs, out):
                # numpy's object loop: Python's operators on the elements, dual scalars
                # included (np.cross, polydiv of object arrays from loop-style code)
                return ufunc(*[_object_operand(a) for a in inputs], out=out, **kwargs)
            raise TypeError(_out_refused(ufunc))
    if method == "__call__":
        handler = UFUNCS.get(ufunc)
        if handler is None:
            handler = find_ufunc(ufunc) if find_ufunc is not None else None
            if handler is None:
                raise unsupported(ufunc)
        if kwargs:
            for key, val in kwargs.items():
                allowed = _UFUNC_NEUTRAL.get(key)
                if allowed is None or not any(val is a or _same_value(val, a) for a in allowed):
                    raise TypeError(f"{_qualname(ufunc)}(..., {key}={val!r:.40}) is not "
                                    "supported on dual values; drop the keyword or use "
                                    "np.where for masks")
        return _keep_constant(ufunc, _named(handler, inputs, None, ufunc, None), inputs, None)
    handler = UFUNC_METHODS.get((ufunc, method))
    if handler is None:
        raise unsupported(ufunc, method)
    if method == "accumulate" and inputs and np.ndim(value_of(inputs[0])) == 0:
        raise TypeError("cannot accumulate on a scalar")     # numpy's own words and type
    return _keep_constant(ufunc, _named(handler, inputs, kwargs, ufunc, method), inputs, kwargs)


def _object_out(inputs, out):
    """Whether a ufunc call with out= may run numpy's object loop: every output an object
    ndarray (it stores dual scalars as they are; dual arrays among the inputs go in as
    object arrays of their elements), and not numpy.polynomial's roots, whose companion
    matrix goes on to numpy.linalg (which has no object loops: _out_refused names
    np.roots)."""
    outs = out if isinstance(out, tuple) else (out,)
    if not all(type(o) is np.ndarray and (<cnp.ndarray>o).dtype == object for o in outs):
        return False
    caller, series = _numpy_caller()
    return not (series and ("roots" in caller or "companion" in caller))


def elements(a):
    """An array of dual values (a dual array or a tracer: anything with .value whose a[idx]
    is an element) as an object array of its elements; a dual scalar as a 0-d one. What
    numpy's object loops (np.vectorize, np.frompyfunc, numpy.polynomial, out= into object
    arrays) compute with."""
    if is_scalar_dual(a):
        box = np.empty((), dtype=object)
        box[()] = a
        return box
    box = np.empty(a.value.shape, dtype=object)
    for idx in np.ndindex(box.shape):
        box[idx] = a[idx]
    return box


def _object_operand(a):
    """A dual scalar or dual array as an object array of its elements (numpy would hand
    them back to __array_ufunc__); anything else as it is."""
    return elements(a) if is_scalar_dual(a) or type(a) is DualArray else a


def _numpy_caller():
    """(name, series) of the outermost numpy function on the stack below the user's code
    (None when numpy's code is not running); series: numpy.polynomial's."""
    import sys
    frame, caller = sys._getframe(0), None         # compiled code has no frame of its own
    series = False
    while frame is not None:
        mod = frame.f_globals.get("__name__", "") or ""
        if mod.startswith("dualdiff."):
            frame = frame.f_back
            continue
        if _core.is_numpy_module(mod):
            caller = frame.f_code.co_name.strip("_")      # numpy's function (the outermost)
            series = series or mod.startswith("numpy.polynomial")
            frame = frame.f_back
            continue
        break
    return caller or "", series


def _out_refused(ufunc):
    """Why ufunc(..., out=...) is refused; when numpy's own Python code passed out= (np.cross
    of an object array from np.array([x[0], ...]), fuzz 3434-42639), which numpy function
    the user called and the np.stack fix."""
    caller, series = _numpy_caller()
    msg = f"{_qualname(ufunc)}(..., out=...) cannot store dual values; "
    if not caller:
        return msg + "use the returned result instead"
    if series:
        # a series class of dual coefficients (Polynomial(c).roots()): numpy.linalg below it
        # has no object arrays
        return (msg + f"numpy.polynomial's {caller} computes with out= (and numpy.linalg) on "
                "the coefficients. For roots use np.roots(c[::-1]) of power-series "
                "coefficients c (a dual array), which differentiates")
    return (msg + f"numpy.{caller} computes with out= into an array it made itself. If f "
            "built its argument with np.array([x[0], ...]) (loop-style code), numpy made an "
            "object array of dual numbers: build it with np.stack([...]) instead, which makes "
            "a dual array")


cdef object _named(object handler, object args, dict kwargs, object func, str method):
    """handler(*args, **kwargs), where an OperandError from inside (found where the function
    is not known) gets the numpy function the user called: each _named on the way out
    renames it, so the outermost -- np.vstack, not a helper it called -- wins."""
    try:
        return handler(*args, **kwargs) if kwargs else handler(*args)
    except OperandError as e:
        name = _qualname(func)
        raise type(e)(e.args[0], name if method is None else f"{name}.{method}") from None


cdef bint _same_value(object a, object b):
    try:
        return bool(a == b)
    except Exception:
        return False


def _qualname(func):
    return qualname(func) if qualname is not None else getattr(func, "__name__", repr(func))


def scalar_function(func, args, kwargs):
    """__array_function__ of the scalar types: the dual arrays' handler, whose 0-d
    one-direction results come back as the compiled scalar."""
    return _scalars(_call(func, args, kwargs))


def scalar_ufunc(ufunc, method, inputs, kwargs):
    """array_ufunc for calls the scalar types hand over: 0-d one-direction results come back
    as the compiled scalar."""
    return _scalars(array_ufunc(ufunc, method, inputs, kwargs))


def scalar_attribute(x, name):
    """An ndarray method or attribute of a scalar dual: that of its 0-d dual array, with 0-d
    one-direction results as the compiled scalar (x.sum(), x.reshape(1), x.T, x[()], ...)."""
    try:
        a = getattr(_lift(x), name)
    except AttributeError:
        e = AttributeError(f"'{type(x).__name__}' object has no attribute {name!r}")
        e.name = name
        raise e from None
    if not callable(a):
        return _scalars(a)

    def method(*args, **kwargs):
        return _scalars(a(*args, **kwargs))
    return method


cdef object _scalars(object r):
    if type(r) is tuple:
        return tuple(to_scalar(e) for e in r)
    return to_scalar(r)


_core.register_arrays(scalar_ufunc, scalar_function, apply_unary, apply_binary,
                      scalar_attribute)
