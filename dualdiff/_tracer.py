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
minimum, clip, abs and max/min reductions keep every branch in the structure (a superset of
the pattern at any point). Python control flow (`if x[0] > 0:`) sees the values of the point
traced: the pattern is the pattern there (dualdiff.sparse documents it and offers a check).

An operation the tracer cannot follow raises TracerUnsupported (a TypeError) naming it;
never a silently missing entry. The numpy surface is filled by dualdiff/_tracer_numpy.py and
dualdiff/_tracer_products.py.
"""
import numpy as np

from dualdiff import _arrays, _setops
from dualdiff._jvp.elementwise import ElementwiseRule

_I64 = np.int64
_F64 = np.float64
MAX_SEGMENTS = 32           # beyond this many stores per part, the referenced rows are copied


class TracerUnsupported(TypeError):
    """An operation the sparsity tracer cannot follow (its pattern would be unknown)."""


class Trace:
    """One detection or sparse evaluation: n inputs; order 1 (index sets) or 2 (also pairs);
    numeric (the sets carry gradient and Hessian entries)."""
    __slots__ = ("n", "order", "numeric")

    def __init__(self, n, order, numeric):
        self.n, self.order, self.numeric = n, order, numeric


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
    """A new store of nrows rows, row i = sum of coefs * rows(refs) over its width entries."""
    if not segs:
        return _empty_store(numeric, nrows)
    return _setops.merge(list(segs), None, refs, coefs, nrows, width, numeric)


def outer(segs, refs_a, refs_b, coefs, nrows, width, n, numeric):
    if not segs:
        return _empty_store(numeric, nrows)
    return _setops.outer(list(segs), None, refs_a, refs_b, coefs, nrows, n, width, numeric)


def no_pairs(shape, numeric):
    """(r2, s2, c2) of elements without second-order pairs: skipped by every kernel."""
    return np.full(shape, -1, _I64), (), (np.zeros(shape) if numeric else None)


def _flat(a, shape):
    return np.ascontiguousarray(np.broadcast_to(a, shape)).reshape(-1)


# ---- the array type ----------------------------------------------------------------------

FUNCTIONS = {}          # numpy function -> handler (dualdiff/_tracer_numpy.py)
UFUNCS = {}             # ufunc -> handler of ufunc(*inputs)
UFUNC_METHODS = {}      # (ufunc, method) -> handler


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
    dtype = property(lambda self: self.value.dtype)
    real = property(lambda self: self.value, doc="The values, without the dependency sets.")
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
        return array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        handler = FUNCTIONS.get(func)
        if handler is None:
            rule = _arrays.FUNCTIONS.get(func)
            if isinstance(rule, ElementwiseRule) and not kwargs:
                # a numpy function given a rule with dd.register_elementwise (np.sinc, ...)
                return apply_ufunc(_RegisteredRule(rule), args)
            raise unsupported(func)
        return handler(*args, **kwargs)

    # ---- ndarray methods: each is its numpy function
    def sum(self, *a, **k):
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
        # x.sin(), x.exp(), ...: how numpy's object arrays (loop-style code) call ufuncs
        u = getattr(np, name, None)
        if isinstance(u, np.ufunc) and u.nin == 1 and (u in UFUNCS or _dual_ufunc(u)):
            return lambda: array_ufunc(u, "__call__", (self,), {})
        raise AttributeError(f"'Tracer' object has no attribute {name!r}")


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
    if isinstance(x, np.ndarray):
        if x.dtype.kind in "fiub":
            return x.astype(_F64, copy=False)
    elif isinstance(x, (float, int, np.floating, np.integer, np.bool_)):
        return np.asarray(x, dtype=_F64)
    elif isinstance(x, (list, tuple)):
        try:
            a = np.asarray(x)
        except (TypeError, ValueError):
            a = None
        if a is not None and a.dtype.kind in "fiub":
            return a.astype(_F64)
    if type(x) is _arrays.DualArray or _arrays.lift(x) is not None:
        raise TypeError("a dual value of another dualdiff transform met sparsity detection: "
                        "sparse transforms cannot be nested inside other transforms")
    raise TypeError(f"cannot combine a traced array with {type(x).__name__} ({x!r:.60}): "
                    "expected numbers or numeric arrays")


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
    return structural(t, lambda a: a[key])


# ---- elementwise functions ---------------------------------------------------------------

# classes of elementwise functions by what their derivatives can be: identically zero,
# constant (linear), zero second derivative (piecewise linear), bilinear (a product),
# a quotient (nonlinear in the divisor only), or anything
ZERO_U = {"sign", "floor", "ceil", "trunc", "rint"}
LINEAR_U = {"negative", "positive", "conjugate", "deg2rad", "rad2deg"}
PIECEWISE_LINEAR = {"absolute", "fabs", "maximum", "minimum", "fmax", "fmin"}
LINEAR_B = {"add", "subtract"}


class _RegisteredRule:
    """A dd.register_elementwise rule in the role of a ufunc: its function on plain values,
    its rule on dual arrays (which is how _partials asks for derivatives)."""

    def __init__(self, rule):
        self.rule = rule
        self.__name__ = rule.name
        self.nin = rule.nin

    def __call__(self, *args):
        if any(type(a) is _arrays.DualArray for a in args):
            return self.rule(*args)
        return self.rule.func(*args)


def _dual_ufunc(u):
    """Whether dualdiff differentiates ufunc u (its tables or a rule registered on use)."""
    from dualdiff import _numpy
    return u in _numpy.UFUNCS or _numpy.find_ufunc(u) is not None


def unsupported(func):
    from dualdiff import _numpy
    name = _numpy.qualname(func)
    if func in _arrays.FUNCTIONS or (isinstance(func, np.ufunc) and _dual_ufunc(func)):
        return TracerUnsupported(
            f"sparsity detection cannot follow {name} yet (dual arrays can): give the pattern "
            "with sparsity=... (a scipy sparse matrix or boolean array)")
    return _numpy.unsupported(func)


def _compare(u, a, b):
    va, vb = value_of(a), value_of(b)
    return u(va, vb)


def _partials(u, vals, which, shape):
    """First and second partial derivatives of ufunc u at the values, with respect to the
    arguments `which` (one or two positions), from dualdiff's own rules: the ufunc runs on
    hyper-dual arrays seeded with unit directions. Returns (d1[k], d2[k][l]) as arrays."""
    k = len(which)
    args = [np.broadcast_to(np.asarray(v, dtype=_F64), shape) for v in vals]
    eye = np.eye(k)
    for j, i in enumerate(which):
        seed_dirs = np.broadcast_to(eye[j], shape + (k,))
        args[i] = _arrays.from_parts(args[i], seed_dirs, seed_dirs)
    with np.errstate(all="ignore"):           # f itself warned already, at its own call
        r = u(*args)
    e1 = np.broadcast_to(r.eps1, shape + (k,))
    e12 = np.broadcast_to(r.eps12, shape + (k, k))
    return [e1[..., j] for j in range(k)], [[e12[..., p, q] for q in range(k)] for p in range(k)]


def apply_ufunc(u, inputs):
    """ufunc u (one or two inputs, dualdiff can differentiate it) on tracers and constants."""
    ts = [lift(x) for x in inputs]
    trace = common_trace(ts)
    vals = [t.value if t is not None else const(x) for t, x in zip(ts, inputs)]
    value = np.asarray(u(*vals), dtype=_F64)
    if trace is None:
        return value
    shape = value.shape
    name = u.__name__
    which = [i for i, t in enumerate(ts) if t is not None]
    if name in ZERO_U:
        return constant_like(value, trace)
    if len(inputs) > 2:
        if trace.numeric:
            raise TracerUnsupported(f"{name}: sparse second derivatives of a function of "
                                    f"{len(inputs)} arguments")
        return dense([ts[i] for i in which], value, trace)
    if len(which) == 2 and ts[0] is ts[1]:
        # f(x, x): a function of one traced argument
        return _unary(u, vals, [0, 1], ts[0], value, _class2(name, True), trace)
    if len(which) == 1:
        i = which[0]
        return _unary(u, vals, [i], ts[i], value, _class1(name, i), trace)
    return _binary(u, vals, ts[0], ts[1], value, _class2(name, False), trace)


def _class1(name, i):
    """The class of u as a function of its argument i alone (the other one constant)."""
    if name in LINEAR_U or name in LINEAR_B or (name == "multiply") or \
            (name in ("divide", "true_divide") and i == 0):
        return "linear"
    if name in PIECEWISE_LINEAR:
        return "plinear"
    return "nonlinear"


def _class2(name, same):
    if name in LINEAR_B:
        return "linear"
    if name in PIECEWISE_LINEAR:
        return "plinear"
    if name == "multiply":
        return "nonlinear" if same else "bilinear"
    if name in ("divide", "true_divide"):
        return "linear" if same else "quotient"     # x / x is constant where defined
    return "nonlinear"


def _unary(u, vals, which, t, value, cls, trace):
    """u as a function of one traced operand t (at positions `which` of u's arguments)."""
    shape = value.shape
    numeric = trace.numeric
    d1 = d2 = None
    if numeric:
        if cls == "linear" and u.__name__ in ("add", "subtract", "negative", "positive",
                                              "conjugate", "multiply", "divide", "true_divide"):
            d1 = _linear_partial(u.__name__, vals, which)
            d2 = 0.0
        else:
            p1, p2 = _partials(u, vals, [which[0]] if len(which) == 1 else which, shape)
            d1 = p1[0] if len(which) == 1 else p1[0] + p1[1]
            d2 = p2[0][0] if len(which) == 1 else p2[0][0] + 2 * p2[0][1] + p2[1][1]
    r1 = np.broadcast_to(t.r1, shape)
    c1 = None if not numeric else np.broadcast_to(t.c1, shape) * d1
    if trace.order == 1:
        return make(value, r1, t.s1, c1, None, None, None, trace)
    r2 = np.broadcast_to(t.r2, shape)
    c2 = None if not numeric else np.broadcast_to(t.c2, shape) * d1
    if cls in ("linear", "plinear"):
        return make(value, r1, t.s1, c1, r2, t.s2, c2, trace)
    # the pairs of t's set, weighted d2/2 (outer gives a a^T + a a^T), join t's own pairs
    m = value.size
    fr1 = _flat(r1, shape)
    # g g^T = (c row)(c row)^T, and outer makes row row^T + row row^T: weight d2 c^2 / 2
    w = None if not numeric else _flat(0.5 * d2 * np.broadcast_to(t.c1, shape) ** 2, shape)
    pairs = outer(t.s1, fr1, fr1, w, m, 1, trace.n, numeric)
    return _with_pairs(value, r1, t.s1, c1, r2, t.s2, c2, pairs, trace)


def _with_pairs(value, r1, s1, c1, r2, s2, c2, pairs, trace):
    """A tracer whose second-order part is (its pairs r2/s2, scaled c2) + the new rows
    `pairs` (one per element)."""
    shape = value.shape
    m = value.size
    new = np.arange(m, dtype=_I64).reshape(shape)
    fr2 = _flat(r2, shape)
    if not s2 or not (fr2 >= 0).any():
        ones = np.ones(shape) if trace.numeric else None
        return make(value, r1, s1, c1, new, (pairs,), ones, trace)
    segs, (ra, rb) = unite([(fr2, s2), (np.arange(m, dtype=_I64), (pairs,))])
    refs = np.stack([ra, rb], axis=1).reshape(-1)
    coefs = None
    if trace.numeric:
        coefs = np.stack([_flat(c2, shape), np.ones(m)], axis=1).reshape(-1)
    store = merge(segs, refs, coefs, m, 2, trace.numeric)
    ones = np.ones(shape) if trace.numeric else None
    return make(value, r1, s1, c1, new, (store,), ones, trace)


def _linear_partial(name, vals, which):
    """The constant derivative of a linear use of an arithmetic ufunc (which: the traced
    positions; both for f(x, x))."""
    if name in ("add", "positive", "conjugate"):
        return float(len(which))
    if name == "negative":
        return -1.0
    if name == "subtract":
        return (1.0 if 0 in which else 0.0) - (1.0 if 1 in which else 0.0)
    if name == "multiply":
        return np.asarray(vals[1 - which[0]], dtype=_F64)
    if len(which) == 2:                     # x / x
        return 0.0
    return 1.0 / np.asarray(vals[1], dtype=_F64)      # x / c


def _binary(u, vals, a, b, value, cls, trace):
    """u(a, b) with both operands traced (and distinct)."""
    shape = value.shape
    m = value.size
    numeric = trace.numeric
    if numeric:
        if cls == "linear":
            da, db = 1.0, (1.0 if u.__name__ == "add" else -1.0)
            daa = dab = dbb = 0.0
        elif cls == "bilinear":
            da, db = (np.asarray(vals[1], dtype=_F64), np.asarray(vals[0], dtype=_F64))
            daa, dab, dbb = 0.0, 1.0, 0.0
        else:
            (da, db), ((daa, dab), (_, dbb)) = _partials(u, vals, [0, 1], shape)
    segs, (ra, rb) = unite([(_flat(a.r1, shape), a.s1), (_flat(b.r1, shape), b.s1)])
    refs = np.stack([ra, rb], axis=1).reshape(-1)
    ca = cb = coefs = None
    if numeric:
        ca, cb = np.broadcast_to(a.c1, shape), np.broadcast_to(b.c1, shape)
        coefs = np.stack([_flat(ca * da, shape), _flat(cb * db, shape)], axis=1).reshape(-1)
    s1 = (merge(segs, refs, coefs, m, 2, numeric),)
    r1 = np.arange(m, dtype=_I64).reshape(shape)
    c1 = np.ones(shape) if numeric else None
    if trace.order == 1:
        return make(value, r1, s1, c1, None, None, None, trace)
    # second order: the operands' pairs, and the pairs their sets form
    terms = {"linear": (), "plinear": (), "bilinear": ("ab",), "quotient": ("ab", "bb"),
             "nonlinear": ("aa", "ab", "bb")}[cls]
    if not terms and not a.s2 and not b.s2:
        return make(value, r1, s1, c1, *no_pairs(shape, numeric), trace)
    segs2, (pa, pb) = unite([(_flat(a.r2, shape), a.s2), (_flat(b.r2, shape), b.s2)])
    c2 = None
    if numeric:
        c2 = np.stack([_flat(np.broadcast_to(a.c2, shape) * da, shape),
                       _flat(np.broadcast_to(b.c2, shape) * db, shape)], axis=1).reshape(-1)
    own = np.stack([pa, pb], axis=1).reshape(-1)
    if not terms:
        store = merge(segs2, own, c2, m, 2, numeric)
        return make(value, r1, s1, c1, np.arange(m, dtype=_I64).reshape(shape), (store,),
                    np.ones(shape) if numeric else None, trace)
    left = {"aa": ra, "ab": ra, "bb": rb}
    right = {"aa": ra, "ab": rb, "bb": rb}
    ta = np.stack([left[k] for k in terms], axis=1).reshape(-1)
    tb = np.stack([right[k] for k in terms], axis=1).reshape(-1)
    tc = None
    if numeric:
        w = {"aa": 0.5 * daa * ca * ca, "ab": dab * ca * cb, "bb": 0.5 * dbb * cb * cb}
        tc = np.stack([_flat(w[k], shape) for k in terms], axis=1).reshape(-1)
    pairs = outer(segs, ta, tb, tc, m, len(terms), trace.n, numeric)
    if not segs2:
        return make(value, r1, s1, c1, np.arange(m, dtype=_I64).reshape(shape), (pairs,),
                    np.ones(shape) if numeric else None, trace)
    both, (o1, o2) = unite([(own, segs2), (np.arange(m, dtype=_I64), (pairs,))])
    refs2 = np.concatenate([o1.reshape(m, 2), o2[:, None]], axis=1).reshape(-1)
    coefs2 = None if not numeric else np.concatenate([c2.reshape(m, 2), np.ones((m, 1))],
                                                      axis=1).reshape(-1)
    store = merge(both, refs2, coefs2, m, 3, numeric)
    return make(value, r1, s1, c1, np.arange(m, dtype=_I64).reshape(shape), (store,),
                np.ones(shape) if numeric else None, trace)


def array_ufunc(u, method, inputs, kwargs):
    """__array_ufunc__ of tracers."""
    out = kwargs.pop("out", None)
    if out is not None and any(o is not None for o in (out if isinstance(out, tuple) else (out,))):
        raise TypeError(f"{u.__name__}(..., out=...) cannot store traced values; use the "
                        "returned result instead")
    if method == "__call__":
        for key, val in kwargs.items():
            if not (key in ("dtype", "casting", "order", "subok", "where")
                    and any(val is ok or (isinstance(val, (str, type)) and val == ok)
                            for ok in (None, float, _F64, "float64", "d", "f8", "same_kind",
                                       "K", True))):
                raise TypeError(f"numpy.{u.__name__}(..., {key}=...) is not supported on "
                                "traced values; drop the keyword")
        handler = UFUNCS.get(u)
        if handler is not None:
            return handler(*inputs)
        if _dual_ufunc(u) and u.nout == 1:
            return apply_ufunc(u, inputs)
        raise unsupported(u)
    handler = UFUNC_METHODS.get((u, method))
    if handler is None:
        from dualdiff import _numpy
        raise _numpy.unsupported(u, method)
    return handler(*inputs, **kwargs)


# ---- combinations of many elements -------------------------------------------------------

def reduce_groups(t, axes, keepdims, value, weights=None, nonlinear=False):
    """Each result element united from the elements of t along `axes` (a tuple): sums (and,
    with numeric weights, max/min reductions); nonlinear adds all pairs of each group."""
    trace = t.ctx
    numeric = trace.numeric
    nd = t.ndim
    rest = tuple(i for i in range(nd) if i not in axes)
    perm = rest + tuple(axes)
    L = int(np.prod([t.shape[i] for i in axes])) if axes else 1
    M = int(np.prod([t.shape[i] for i in rest])) if rest else 1
    out_shape = np.shape(value)

    def grouped(a):
        return np.ascontiguousarray(np.transpose(a, perm)).reshape(-1)
    w = None
    if numeric:
        w = grouped(t.c1 if weights is None else t.c1 * weights)
    if L == 0 or M == 0:
        return constant_like(value, trace)
    r1 = grouped(t.r1)
    s1 = (merge(t.s1, r1, w, M, L, numeric),)
    new = np.arange(M, dtype=_I64).reshape(out_shape)
    c1 = np.ones(out_shape) if numeric else None
    if trace.order == 1:
        return make(value, new, s1, c1, None, None, None, trace)
    if nonlinear:
        if numeric:
            raise TracerUnsupported("sparse second derivatives of a nonlinear reduction")
        return _with_pairs(value, new, s1, c1, np.full(out_shape, -1, _I64), (), None,
                           _merge_pairs_groups(t, perm, M, L, s1), trace)
    if not t.s2:
        return make(value, new, s1, c1, *no_pairs(out_shape, numeric), trace)
    w2 = None
    if numeric:
        w2 = grouped(t.c2 if weights is None else t.c2 * weights)
    s2 = (merge(t.s2, grouped(t.r2), w2, M, L, numeric),)
    return make(value, new, s1, c1, new.copy(), s2, np.ones(out_shape) if numeric else None,
                trace)


def _merge_pairs_groups(t, perm, M, L, s1):
    """Pair rows of the groups: their own pairs united with all pairs of the group's set."""
    r2 = np.ascontiguousarray(np.transpose(t.r2, perm)).reshape(-1)
    own = merge(t.s2, r2, None, M, L, False)
    idx = np.arange(M, dtype=_I64)
    pairs = outer(s1, idx, idx, None, M, 1, t.ctx.n, False)
    segs, (a, b) = unite([(idx, (own,)), (idx, (pairs,))])
    return merge(segs, np.stack([a, b], axis=1).reshape(-1), None, M, 2, False)


def prefix(t, axis, include_initial, value):
    """Running unions along `axis` (cumsum): element l unites elements 0..l."""
    trace = t.ctx
    numeric = trace.numeric
    L = t.shape[axis]

    def moved(a):
        return np.ascontiguousarray(np.moveaxis(a, axis, -1)).reshape(-1, L)
    rows, cols = np.tril_indices(L)
    r1 = moved(t.r1)
    M = r1.shape[0]
    out_shape = np.moveaxis(np.empty(t.shape, dtype=bool), axis, -1).shape
    rptr = np.concatenate([[0], np.cumsum(np.tile(np.arange(1, L + 1), M))]).astype(_I64)

    def build(r, s, c):
        refs = r[:, cols].reshape(-1)
        coefs = None if c is None else c[:, cols].reshape(-1)
        if not s:
            return _empty_store(numeric, M * L)
        return _setops.merge(list(s), rptr, refs, coefs, M * L, 0, numeric)
    s1 = (build(r1, t.s1, moved(t.c1) if numeric else None),)
    new = np.moveaxis(np.arange(M * L, dtype=_I64).reshape(out_shape), -1, axis)
    ones = np.ones(new.shape) if numeric else None
    r2 = s2 = None
    if trace.order == 2 and t.s2:
        s2 = (build(moved(t.r2), t.s2, moved(t.c2) if numeric else None),)
        r2 = new
    elif trace.order == 2:
        r2, s2, _ = no_pairs(new.shape, numeric)
    res = make(np.asarray(value, dtype=_F64) if not include_initial else None, new, s1, ones,
               r2, s2, ones, trace)
    if include_initial:
        res.value = np.moveaxis(np.moveaxis(np.asarray(value), axis, -1)[..., 1:], -1, axis)
        zero = constant_like(np.zeros_like(np.take(res.value, [0], axis=axis)), trace)
        return join([zero, res], lambda arrs: np.concatenate(arrs, axis=axis))
    return res


def dense(tracers, value, trace):
    """A result each of whose elements depends on every element of the traced operands, as
    the most general nonlinear function would (linear algebra, functions of many
    arguments): conservative, exact only for dense functions."""
    if trace.numeric:
        raise TracerUnsupported("sparse second derivatives of a dense operation")
    value = np.asarray(value, dtype=_F64)
    ts = [t for t in tracers if t is not None]
    segs, refs = unite([(t.r1.reshape(-1), t.s1) for t in ts])
    allrefs = np.concatenate(refs) if refs else np.zeros(0, _I64)
    one = _setops.merge(list(segs), np.array([0, allrefs.size], _I64), allrefs, None, 1, 0,
                        False) if segs else _empty_store(False, 1)
    zeros = np.zeros(value.shape, _I64)
    if trace.order == 1:
        return make(value, zeros, (one,), None, None, None, None, trace)
    segs2, refs2 = unite([(t.r2.reshape(-1), t.s2) for t in ts])
    pr = np.concatenate(refs2) if refs2 else np.zeros(0, _I64)
    own = _setops.merge(list(segs2), np.array([0, pr.size], _I64), pr, None, 1, 0, False) \
        if segs2 else _empty_store(False, 1)
    allpairs = outer((one,), np.zeros(1, _I64), np.zeros(1, _I64), None, 1, 1, trace.n, False)
    store = merge((own, allpairs), np.array([0, 1], _I64), None, 1, 2, False)
    return make(value, zeros, (one,), None, zeros.copy(), (store,), None, trace)


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


from dualdiff import _tracer_numpy  # noqa: E402,F401  (fills the tables)
