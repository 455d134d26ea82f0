"""The sparsity tracer: an array type that runs the user's numpy code and records, for every
element, which inputs it depends on -- and, for Hessians, which pairs of inputs meet in a
nonlinear operation -- instead of derivative numbers. In numeric mode the same sets carry the
gradient and Hessian entries on them: a forward mode whose derivative parts are sparse.

Representation (memory linear in what is stored, never in n^2). A Tracer holds
  value        the float64 values (the user's control flow sees them);
  r1, s1, c1   per element a row number r1 (-1: depends on nothing) into the rows of its
               stores s1 (a tuple of segments, dualdiff/_setops.pyx), and in numeric mode a
               scale c1: the element's gradient is c1 * row(r1);
  r2, s2, c2   the same for the pairs (codes i*n + j, i <= j) of the second-order part.
Structural operations (reshape, slicing, transpose, broadcasting, concatenation) act on the
row numbers alone, with numpy itself; scalings (x * 3, negation, a unary function's first
derivative) act on the scales alone; only operations that combine elements (a + b, sums,
products) or create pairs (nonlinear functions) make new rows, in compiled kernels.

What is tracked. First order: union of the operands' sets, except through functions whose
derivative is identically zero (floor, sign, comparisons). Second order: a nonlinear unary
function adds all pairs of its operand's set; a product a*b adds the pairs of set(a) x
set(b); a / b the pairs of a x b and b x b; other nonlinear binary functions all pairs of
both. Operations decided by values are conservative where they can be: np.where, maximum,
minimum, clip, abs, max/min reductions, sort and the running extremes (maximum.accumulate)
keep every branch in the structure (a superset of the pattern at any point). Python control
flow (`if x[0] > 0:`) sees the values of the point traced: the pattern is the pattern there
(dualdiff.sparse documents it and offers a check).

An operation the tracer cannot follow raises TracerUnsupported (a TypeError) naming it;
never a silently missing entry. This file holds the array type, its stores and structural
maps; dualdiff/_tracer_ops.py the operations that make new rows (elementwise functions,
reductions); dualdiff/_tracer_numpy.py and dualdiff/_tracer_products.py the numpy surface.
"""
import sys

import numpy as np

from dualdiff import _arrays, _core, _setops
from dualdiff._jvp.elementwise import ElementwiseRule

_I64 = np.int64
_F64 = np.float64
MAX_SEGMENTS = 32           # beyond this many stores per part, the referenced rows are copied


class TracerUnsupported(TypeError):
    """An operation the sparsity tracer cannot follow (its pattern would be unknown)."""


class SparsityWarning(UserWarning):
    """Detection took a conservative dense pattern for a function it has no sparse rule for."""


class Trace:
    """One detection or sparse evaluation: n inputs; order 1 (index sets) or 2 (also pairs);
    numeric (the sets carry gradient and Hessian entries). sums: None, or a list that
    collects the operand of every full np.sum the user's code calls, in call order (the
    summands of a Hessian's "summands" method, dualdiff/sparse.py)."""
    __slots__ = ("n", "order", "numeric", "sums")

    def __init__(self, n, order, numeric, sums=None):
        self.n, self.order, self.numeric, self.sums = n, order, numeric, sums


def is_full_sum(args, kwargs):
    """Whether np.sum(*args, **kwargs) sums every element of an array of one or more
    dimensions into a scalar with no other option. The tracer and the dual-array sweep of
    the "summands" method (dualdiff/sparse.py) record exactly these calls, so that the two
    lists match call for call."""
    if not args or getattr(args[0], "ndim", 0) < 1 or len(args) > 2:
        return False
    if len(args) == 2 and args[1] is not None:
        return False
    for key, val in kwargs.items():
        if not ((key in ("axis", "dtype", "out") and val is None)
                or (key == "keepdims" and val is False)):
            return False
    return True


# ---- stores ------------------------------------------------------------------------------

def _empty_store(numeric, rows=0):
    """A store of `rows` empty rows."""
    return (np.zeros(rows + 1, _I64), np.zeros(0, _I64), np.zeros(0) if numeric else None)


def _rows(segs):
    return sum(s[0].shape[0] - 1 for s in segs)


def unite(pairs):
    """[(refs, segs), ...] -> (segs, [refs, ...]) addressing one segment list: each operand's
    segments are appended once (operands that share their segments share them here too) and
    its row numbers shifted accordingly."""
    segs, out, seen, total = [], [], {}, 0
    for r, s in pairs:
        if not s:
            out.append(r)
            continue
        shift = seen.get(id(s))
        if shift is None:
            shift = seen[id(s)] = total
            segs.extend(s)
            total += _rows(s)
        out.append(r if shift == 0 else np.where(r >= 0, r + shift, -1))
    return tuple(segs), out


def merge(segs, refs, coefs, nrows, width, numeric):
    """A new store of nrows rows, row i = sum of coefs * rows(refs) over its width entries
    (none: a contraction over an empty axis)."""
    if not segs or width == 0:
        return _empty_store(numeric, nrows)
    return _setops.merge(list(segs), None, refs, coefs, nrows, width, numeric)


def outer(segs, refs_a, refs_b, coefs, nrows, width, n, numeric):
    if not segs or width == 0:
        return _empty_store(numeric, nrows)
    return _setops.outer(list(segs), None, refs_a, refs_b, coefs, nrows, n, width, numeric)


def no_pairs(shape, numeric):
    """(r2, s2, c2) of elements without second-order pairs: skipped by every kernel."""
    return np.full(shape, -1, _I64), (), (np.zeros(shape) if numeric else None)


def bcast(a, shape):
    """np.broadcast_to(a, shape); a itself when it has the shape already (most operands of
    an elementwise operation do), without broadcast_to's few microseconds of Python. Callers
    never write into the result (a broadcast view is read-only)."""
    if type(a) is np.ndarray and a.shape == shape:
        return a
    return np.broadcast_to(a, shape)


def _flat(a, shape):
    return np.ascontiguousarray(bcast(a, shape)).reshape(-1)


# ---- the array type ----------------------------------------------------------------------

FUNCTIONS = {}          # numpy function -> handler (dualdiff/_tracer_numpy.py)
UFUNCS = {}             # ufunc -> handler of ufunc(*inputs)
UFUNC_METHODS = {}      # (ufunc, method) -> handler


def _real(t):
    # numpy >= 2.5 reads each element's .real in ndarray.real of an object array (np.var of
    # np.array([x[0], x[1]]) does): to numpy's own code a traced real value is its own real
    # part, dependency sets and all, as for the dual scalars (_core's _numpy_reads_real);
    # the values alone would make the pattern silently empty
    try:
        name = sys._getframe(2).f_globals.get("__name__", "")
    except ValueError:                  # no Python frame that deep: not numpy's code
        name = ""
    if _core.is_numpy_module(name):
        return t
    return t.value


def _dtype(t):
    # A 0-d tracer stands where the dense sweep has a dual scalar, which has no dtype either:
    # numpy's own reductions over object arrays (np.mean of np.array([x[0], x[1]])) call
    # ret.dtype.type(ret / n) -- a float conversion -- when the result has a dtype.
    if t.value.ndim == 0:
        raise AttributeError("a traced scalar has no dtype, as a dual scalar has none")
    return t.value.dtype


class Tracer:
    """An array whose elements carry dependency sets (see the module docstring). Made by
    dualdiff.sparse during detection; user code treats it as a float array."""
    __slots__ = ("value", "r1", "s1", "c1", "r2", "s2", "c2", "ctx")
    __array_priority__ = 1001.0

    def __init__(self, *args, **kwargs):
        raise TypeError("Tracer is made by dualdiff's sparsity detection; it is not "
                        "constructed directly")

    # ---- numpy-like attributes
    shape = property(lambda self: self.value.shape)
    ndim = property(lambda self: self.value.ndim)
    size = property(lambda self: self.value.size)
    dtype = property(lambda self: _dtype(self))
    real = property(lambda self: _real(self), doc="The values, without the dependency sets.")
    T = property(lambda self: FUNCTIONS[np.transpose](self))

    def __len__(self):
        if self.value.ndim == 0:
            raise TypeError("len() of a 0-d array")
        return len(self.value)

    def __iter__(self):
        if self.value.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        for i in range(len(self.value)):
            yield self[i]

    def __repr__(self):
        return f"Tracer(value={self.value!r})"

    def __bool__(self):
        return bool(self.value)

    def __float__(self):
        raise TypeError(_LOST)

    __int__ = __complex__ = __float__

    def __index__(self):
        raise TypeError("a traced value cannot be used as an index; index with integers")

    def __array__(self, dtype=None, copy=None):
        # one element inside np.array([...]) (loop-style code) becomes an object element, as
        # a dual scalar would; anything else would drop the dependency sets
        if self.value.ndim == 0 and (dtype is None or np.dtype(dtype) == object):
            box = np.empty((), dtype=object)
            box[()] = self
            return box
        if (dtype is None or np.dtype(dtype) == object) and \
                _arrays.object_elements is not None and _arrays.object_elements():
            # numpy.polynomial's evaluation of object coefficients, as for dual arrays
            return _arrays.elements(self)
        raise TracerUnsupported(_LOST)

    def __setitem__(self, key, value):
        raise TypeError("traced arrays are immutable, as dual arrays are: build the result "
                        "with np.where, np.concatenate or np.stack instead of assigning")

    def __getitem__(self, key):
        return getitem(self, key)

    # ---- operators: the ufunc table
    def __add__(self, o):
        return UFUNCS[np.add](self, o)

    def __radd__(self, o):
        return UFUNCS[np.add](o, self)

    def __sub__(self, o):
        return UFUNCS[np.subtract](self, o)

    def __rsub__(self, o):
        return UFUNCS[np.subtract](o, self)

    def __mul__(self, o):
        return UFUNCS[np.multiply](self, o)

    def __rmul__(self, o):
        return UFUNCS[np.multiply](o, self)

    def __truediv__(self, o):
        return UFUNCS[np.true_divide](self, o)

    def __rtruediv__(self, o):
        return UFUNCS[np.true_divide](o, self)

    def __pow__(self, o, mod=None):
        if mod is not None:
            return NotImplemented
        return UFUNCS[np.power](self, o)

    def __rpow__(self, o):
        return UFUNCS[np.power](o, self)

    def __matmul__(self, o):
        return FUNCTIONS[np.matmul](self, o)

    def __rmatmul__(self, o):
        return FUNCTIONS[np.matmul](o, self)

    def __floordiv__(self, o):
        return array_ufunc(np.floor_divide, "__call__", (self, o), {})

    def __mod__(self, o):
        return array_ufunc(np.remainder, "__call__", (self, o), {})

    def __neg__(self):
        return UFUNCS[np.negative](self)

    def __pos__(self):
        return self

    def __abs__(self):
        return UFUNCS[np.absolute](self)

    def __lt__(self, o):
        return _compare(np.less, self, o)

    def __le__(self, o):
        return _compare(np.less_equal, self, o)

    def __gt__(self, o):
        return _compare(np.greater, self, o)

    def __ge__(self, o):
        return _compare(np.greater_equal, self, o)

    def __eq__(self, o):
        return _compare(np.equal, self, o)

    def __ne__(self, o):
        return _compare(np.not_equal, self, o)

    __hash__ = None

    # ---- numpy protocols
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return array_ufunc(ufunc, method, unbox(inputs), kwargs)

    def __dd_rule__(self, name, args):
        """dd.NAME(*args), a rule of dualdiff's table, on tracers (see _core's dispatch)."""
        return apply_ufunc(TableRule(name), args)

    def __array_function__(self, func, types, args, kwargs):
        if func is np.sum and self.ctx.sums is not None:
            return _recorded_sum(args, kwargs)
        handler = FUNCTIONS.get(func)
        args = unbox(args)
        if handler is None:
            rule = _arrays.FUNCTIONS.get(func)
            if isinstance(rule, ElementwiseRule) and not kwargs:
                # a numpy function given a rule with dd.register_elementwise (np.sinc, ...)
                return apply_ufunc(_RegisteredRule(rule), args)
            if rule is not None:
                return dense_fallback(func, args, kwargs)
            raise unsupported(func)
        return handler(*args, **kwargs)

    # ---- ndarray methods: each is its numpy function
    def sum(self, *a, **k):
        if self.ctx.sums is not None:
            return _recorded_sum((self,) + a, k)
        return FUNCTIONS[np.sum](self, *a, **k)

    def mean(self, *a, **k):
        return FUNCTIONS[np.mean](self, *a, **k)

    def prod(self, *a, **k):
        return FUNCTIONS[np.prod](self, *a, **k)

    def var(self, *a, **k):
        return FUNCTIONS[np.var](self, *a, **k)

    def std(self, *a, **k):
        return FUNCTIONS[np.std](self, *a, **k)

    def max(self, *a, **k):
        return FUNCTIONS[np.max](self, *a, **k)

    def min(self, *a, **k):
        return FUNCTIONS[np.min](self, *a, **k)

    def cumsum(self, *a, **k):
        return FUNCTIONS[np.cumsum](self, *a, **k)

    def cumprod(self, *a, **k):
        return FUNCTIONS[np.cumprod](self, *a, **k)

    def dot(self, b):
        return FUNCTIONS[np.dot](self, b)

    def trace(self, *a, **k):
        return FUNCTIONS[np.trace](self, *a, **k)

    def diagonal(self, *a, **k):
        return FUNCTIONS[np.diagonal](self, *a, **k)

    def clip(self, *a, **k):
        return FUNCTIONS[np.clip](self, *a, **k)

    def take(self, *a, **k):
        return FUNCTIONS[np.take](self, *a, **k)

    def repeat(self, *a, **k):
        return FUNCTIONS[np.repeat](self, *a, **k)

    def reshape(self, *shape, order="C"):
        if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
            shape = tuple(shape[0])
        return FUNCTIONS[np.reshape](self, shape, order=order)

    def transpose(self, *axes):
        if len(axes) == 1 and axes[0] is not None and not isinstance(axes[0], (int, np.integer)):
            axes = tuple(axes[0])
        return FUNCTIONS[np.transpose](self, axes or None)

    def swapaxes(self, a, b):
        return FUNCTIONS[np.swapaxes](self, a, b)

    def ravel(self, order="C"):
        return FUNCTIONS[np.ravel](self, order=order)

    flatten = ravel

    def squeeze(self, axis=None):
        return FUNCTIONS[np.squeeze](self, axis=axis)

    def copy(self, order="C"):
        return self

    def astype(self, dtype, order="K", casting="unsafe", subok=True, copy=True):
        if np.dtype(dtype).kind != "f" or np.dtype(dtype).itemsize < 8:
            raise TypeError(f"astype({np.dtype(dtype)}) of a traced array would lose its "
                            "derivative (the values are float64); drop the astype call")
        return self

    def __getattr__(self, name):
        # x.sin(), x.arctan2(y), ...: how numpy's object arrays (loop-style code) call ufuncs
        # that have no Python operator, as they call a dual scalar's methods
        u = getattr(np, name, None)
        if isinstance(u, np.ufunc) and u.nin in (1, 2) and u.nout == 1 and (
                u in UFUNCS or _dual_ufunc(u)):
            if u.nin == 1:
                return lambda: array_ufunc(u, "__call__", (self,), {})
            return lambda other: array_ufunc(u, "__call__", (self, other), {})
        raise AttributeError(f"'Tracer' object has no attribute {name!r}")

    # math.floor(x) and numpy's object loops of floor/ceil/trunc: piecewise constant, as a
    # dual scalar's (a float() here would stop the trace)
    def __floor__(self):
        return array_ufunc(np.floor, "__call__", (self,), {})

    def __ceil__(self):
        return array_ufunc(np.ceil, "__call__", (self,), {})

    def __trunc__(self):
        return array_ufunc(np.trunc, "__call__", (self,), {})


def _recorded_sum(args, kwargs):
    out = FUNCTIONS[np.sum](*args, **kwargs)
    t = args[0]
    if type(t) is Tracer and is_full_sum(args, kwargs):
        t.ctx.sums.append(t)
    return out


_LOST = ("sparsity detection: converting a traced array to a plain numpy array (np.asarray, "
         "float(), math.*) would lose which inputs it depends on. Keep it an array and use "
         "numpy functions on it (np.sin, np.sum, np.where, ...), or give the pattern yourself "
         "with sparsity=... (a scipy sparse matrix or boolean array).")


def make(value, r1, s1, c1, r2, s2, c2, trace):
    t = object.__new__(Tracer)
    t.value, t.r1, t.s1, t.c1, t.r2, t.s2, t.c2, t.ctx = value, r1, s1, c1, r2, s2, c2, trace
    return t


def seed(x, trace):
    """The tracer of an input array x: element i depends on input i (gradient e_i)."""
    n = x.size
    numeric = trace.numeric
    ident = (np.arange(n + 1, dtype=_I64), np.arange(n, dtype=_I64),
             np.ones(n) if numeric else None)
    r = np.arange(n, dtype=_I64).reshape(x.shape)
    c = np.ones(x.shape) if numeric else None
    if trace.order == 1:
        return make(x, r, (ident,), c, None, None, None, trace)
    none = np.full(x.shape, -1, _I64)
    return make(x, r, (ident,), c, none, (), np.zeros(x.shape) if numeric else None, trace)


# ---- operands ----------------------------------------------------------------------------

def value_of(x):
    if type(x) is Tracer:
        return x.value
    if isinstance(x, (np.ndarray, float, int, np.number, bool, np.bool_)):
        return x
    t = lift(x)
    if t is not None:
        return t.value
    return np.asarray(x)


def const(x):
    """A constant operand as a float64 array, or TypeError naming what it was."""
    # a longdouble is refused here too, as the dual arrays refuse it (fuzz 3737-4673: the
    # dense transforms refused what sparsity detection took)
    what = "a constant beside a traced array (sparsity detection)"
    if isinstance(x, np.ndarray):
        if x.dtype.kind in "fiub":
            _arrays.refuse_wide(x, what)
            return x.astype(_F64, copy=False)
    elif isinstance(x, (float, int, np.floating, np.integer, np.bool_)):
        _arrays.refuse_wide(x, what)
        return np.asarray(x, dtype=_F64)
    elif isinstance(x, (list, tuple)):
        try:
            a = np.asarray(x)
        except (TypeError, ValueError):
            a = None
        if a is not None and a.dtype.kind in "fiub":
            _arrays.refuse_wide(a, what)
            return a.astype(_F64)
    if type(x) is _arrays.DualArray or _arrays.lift(x) is not None:
        raise TypeError("a dual value of another dualdiff transform met sparsity detection: "
                        "sparse transforms cannot be nested inside other transforms")
    if isinstance(x, np.ndarray) and x.dtype == object:
        # np.array([x[0], x[1], ...]) of traced elements (loop-style code): numpy cannot be
        # told to build anything but an object array there
        raise TypeError(f"sparsity detection: an object array ({x!r:.60}) met a traced array; "
                        "if f built it with np.array([x[0], ...]) (loop-style code), build it "
                        "with np.stack([...]) or np.hstack([...]) instead, which makes a traced "
                        "array")
    raise TypeError(f"sparsity detection: cannot combine a traced array with "
                    f"{type(x).__name__} ({x!r:.60}): expected numbers or numeric arrays")


def lift(x):
    """x as a Tracer, or None for a constant; sequences and object arrays holding traced
    elements (loop-style code) are assembled into one Tracer."""
    if type(x) is Tracer:
        return x
    if isinstance(x, np.ndarray):
        if x.dtype != object:
            return None
        if x.ndim == 0:
            return lift(x[()])
    elif not isinstance(x, (list, tuple)):
        return None
    if not _holds_tracers(x):
        return None
    return assemble(x)


def unbox(args):
    """args with each object array of traced elements (np.array([x[0], x[1]]) in loop-style
    code), at the top or inside a list or tuple, assembled into one Tracer: what the dense
    sweep does with object arrays of dual scalars."""
    if not any(_boxed(a) or (isinstance(a, (list, tuple)) and any(_boxed(e) for e in a))
               for a in args):
        return args
    return tuple(lift(a) if _boxed(a) else
                 (list if isinstance(a, list) else tuple)(lift(e) if _boxed(e) else e for e in a)
                 if isinstance(a, (list, tuple)) and any(_boxed(e) for e in a) else a
                 for a in args)


def _boxed(a):
    return type(a) is np.ndarray and a.dtype == object and _holds_tracers(a)


def _holds_tracers(x):
    for e in (x.flat if isinstance(x, np.ndarray) else x):
        if type(e) is Tracer:
            return True
        if isinstance(e, (list, tuple, np.ndarray)) and not (
                isinstance(e, np.ndarray) and e.dtype != object) and _holds_tracers(e):
            return True
    return False


def assemble(x):
    """A (nested) sequence or object array of traced and plain numbers as one Tracer."""
    if isinstance(x, np.ndarray) and x.dtype == object:
        leaves, shape = list(x.flat), x.shape
    else:
        leaves, shape = _leaves(x)
    parts = [lift(e) if type(e) is not Tracer else e for e in leaves]
    trace = common_trace(parts)
    if any(p is not None and p.ndim for p in parts):
        # sequences of arrays (a function returning a list of arrays): stack them
        return FUNCTIONS[np.stack](list(x))
    values = np.array([p.value if p is not None else const(e)
                       for p, e in zip(parts, leaves)], dtype=_F64).reshape(shape)
    return join_elements(values, parts, trace)


def _leaves(x):
    if isinstance(x, (list, tuple)):
        if not x:
            return [], (0,)
        subs = [_leaves(e) for e in x]
        shapes = {s for _, s in subs}
        if len(shapes) != 1:
            raise ValueError("setting an array element with a sequence: the nested sequence "
                             "is ragged")
        return [leaf for ls, _ in subs for leaf in ls], (len(x),) + subs[0][1]
    if isinstance(x, np.ndarray) and x.dtype == object:
        return list(x.flat), x.shape
    if type(x) is Tracer:
        return [x], ()
    if isinstance(x, np.ndarray):
        return [const(v) for v in x.flat], x.shape
    return [x], ()


def join_elements(values, parts, trace):
    """A Tracer of the given values whose element k is parts[k] (a 0-d Tracer or None)."""
    shape = values.shape
    pairs1 = [(p.r1.reshape(1), p.s1) for p in parts if p is not None]
    segs1, refs1 = unite(pairs1)
    r1 = np.full(len(parts), -1, _I64)
    at = np.array([k for k, p in enumerate(parts) if p is not None], dtype=np.intp)
    if at.size:
        r1[at] = np.concatenate(refs1)
    c1 = c2 = r2 = None
    segs2 = None
    if trace.numeric:
        c1 = np.zeros(len(parts))
        if at.size:
            c1[at] = [float(p.c1) for p in parts if p is not None]
    if trace.order == 2:
        segs2, refs2 = unite([(p.r2.reshape(1), p.s2) for p in parts if p is not None])
        r2 = np.full(len(parts), -1, _I64)
        if at.size:
            r2[at] = np.concatenate(refs2)
        if trace.numeric:
            c2 = np.zeros(len(parts))
            if at.size:
                c2[at] = [float(p.c2) for p in parts if p is not None]
    t = make(values, r1.reshape(shape), segs1, None if c1 is None else c1.reshape(shape),
             None if r2 is None else r2.reshape(shape), segs2,
             None if c2 is None else c2.reshape(shape), trace)
    return compact(t)


def common_trace(tracers):
    trace = None
    for t in tracers:
        if t is None:
            continue
        if trace is None:
            trace = t.ctx
        elif t.ctx is not trace:
            raise TypeError("traced arrays of two different detections met in one operation "
                            "(a traced value kept from an earlier call of f?)")
    return trace


def constant_like(value, trace):
    """A Tracer of constant values (depending on nothing) in this trace."""
    value = np.asarray(value, dtype=_F64)
    none = np.full(value.shape, -1, _I64)
    zeros = np.zeros(value.shape) if trace.numeric else None
    if trace.order == 1:
        return make(value, none, (), zeros, None, None, None, trace)
    return make(value, none, (), zeros, none, (), zeros, trace)


def compact(t):
    """t with its referenced rows copied into one store when it addresses too many."""
    if len(t.s1) <= MAX_SEGMENTS and (t.s2 is None or len(t.s2) <= MAX_SEGMENTS):
        return t
    numeric = t.ctx.numeric
    r1, s1 = _gather(t.r1, t.s1, numeric)
    r2, s2 = (t.r2, t.s2) if t.s2 is None else _gather(t.r2, t.s2, numeric)
    return make(t.value, r1, s1, t.c1, r2, s2, t.c2, t.ctx)


def _gather(r, segs, numeric):
    flat = r.reshape(-1)
    used = np.unique(flat[flat >= 0])
    if not used.size:
        return np.full(r.shape, -1, _I64), ()
    store = merge(segs, used, None, used.size, 1, numeric)
    new = np.where(flat >= 0, np.searchsorted(used, flat), -1).reshape(r.shape)
    return new, (store,)


# ---- structural maps ---------------------------------------------------------------------

def structural(x, fn, fills=False):
    """fn, a selection map of one array (each result element is one element of its argument
    or, with fills, a zero), applied to the values and the element rows of x."""
    t = lift(x)
    if t is None:
        return fn(const(x))
    value = np.asarray(fn(t.value), dtype=_F64)
    r1 = _map_refs(fn, t.r1, fills)
    c1 = None if t.c1 is None else np.asarray(fn(t.c1), dtype=_F64)
    r2 = c2 = None
    if t.r2 is not None:
        r2 = _map_refs(fn, t.r2, fills)
        c2 = None if t.c2 is None else np.asarray(fn(t.c2), dtype=_F64)
    return make(value, r1, t.s1, c1, r2, t.s2, c2, t.ctx)


def _map_refs(fn, r, fills):
    if not fills:
        return np.asarray(fn(r))
    # zeros a map puts in (padding, triangles) must read "no row": shift rows to 1.. first
    return np.asarray(fn(r + 1)).astype(_I64) - 1


def join(xs, fn):
    """fn(list of arrays), a selection map of several arrays (concatenate, stack), applied to
    values and rows; constants take part with empty rows."""
    ts = [lift(x) for x in xs]
    trace = common_trace(ts)
    if trace is None:
        return fn([const(x) for x in xs])
    vals = [t.value if t is not None else const(x) for t, x in zip(ts, xs)]
    none = [np.full(np.shape(v), -1, _I64) for v in vals]
    segs1, refs1 = unite([(t.r1, t.s1) if t is not None else (nn, ())
                          for t, nn in zip(ts, none)])
    value = np.asarray(fn(vals), dtype=_F64)
    r1 = np.asarray(fn(refs1))
    c1 = r2 = segs2 = c2 = None
    if trace.numeric:
        c1 = np.asarray(fn([t.c1 if t is not None else np.zeros(np.shape(v))
                            for t, v in zip(ts, vals)]), dtype=_F64)
    if trace.order == 2:
        segs2, refs2 = unite([(t.r2, t.s2) if t is not None else (nn, ())
                              for t, nn in zip(ts, none)])
        r2 = np.asarray(fn(refs2))
        if trace.numeric:
            c2 = np.asarray(fn([t.c2 if t is not None else np.zeros(np.shape(v))
                                for t, v in zip(ts, vals)]), dtype=_F64)
    return compact(make(value, r1, segs1, c1, r2, segs2, c2, trace))


def getitem(t, key):
    if isinstance(key, tuple):
        parts = key
    else:
        parts = (key,)
    for k in parts:
        if type(k) is Tracer or _arrays.lift(k) is not None:
            raise TypeError("a traced value cannot be used as an index; index with integers")
    if isinstance(key, list):
        key = np.asarray(key)
        if key.size == 0:
            key = key.astype(np.intp)       # numpy reads x[[]] as an empty integer index
    return structural(t, lambda a: a[key])


# ---- reading results ---------------------------------------------------------------------

def rows_of(t, part=1):
    """(indptr, keys, vals or None) with one row per element of t (C order): its set (part
    1) or its pairs (part 2), numbers scaled by the element's scale."""
    r = (t.r1 if part == 1 else t.r2).reshape(-1)
    segs = t.s1 if part == 1 else t.s2
    c = None
    if t.ctx.numeric:
        c = np.ascontiguousarray((t.c1 if part == 1 else t.c2).reshape(-1), dtype=_F64)
    if not segs:
        return np.zeros(r.size + 1, _I64), np.zeros(0, _I64), \
            (np.zeros(0) if t.ctx.numeric else None)
    return merge(segs, np.ascontiguousarray(r), c, r.size, 1, t.ctx.numeric)


def read_output(out, trace):
    """The Tracer (or constant array) f returned: arrays, scalars, sequences of them."""
    t = lift(out) if not isinstance(out, Tracer) else out
    if t is not None:
        return t
    if isinstance(out, (list, tuple)) and not out:
        return constant_like(np.zeros(0), trace)
    try:
        return constant_like(const(out), trace)
    except TypeError:
        raise TypeError(f"the function must return a number or a numeric array, but it "
                        f"returned {type(out).__name__} ({out!r:.60})") from None


from dualdiff._tracer_ops import (LINEAR_B, LINEAR_U, PIECEWISE_LINEAR, ZERO_U,  # noqa: E402,F401
                                  TableRule, _binary, _compare, _dual_ufunc, _partials,
                                  _RegisteredRule, _unary, apply_ufunc, array_ufunc, dense,
                                  dense_fallback, prefix, reduce_groups, unsupported)
from dualdiff import _tracer_numpy  # noqa: E402,F401  (fills the tables)
