"""JAX-style transforms built on forward-mode sweeps: derivative, grad, value_and_grad,
jacobian, hessian, jvp, hvp.

Every transform is the same three steps, written once below:
  * seed (_Inputs.seed): the differentiated arguments, flattened into one vector of n input
    coordinates, become dual values whose tangents are directions -- a chunk of basis vectors
    (grad, jacobian, hessian), or given vectors (jvp, hvp). Second order seeds e1 and e2.
  * sweep (_sweeps): f runs once per plan entry on the seeded values, under a fresh tag.
  * read (_read): the value and the derivative part (e1 for order 1; e1e2 for order 2) of
    what f returned, whatever its shape (arrays, scalars, sequences of scalars).
n inputs take ceil(n/k) sweeps of k directions; a Hessian takes b(b+1)/2 sweeps for b blocks
of directions (symmetry). The default chunk (_default_chunk) takes every direction in one
sweep for small inputs and about 2 sqrt(n) beyond, under a memory bound. Each direction is
computed by the same arithmetic whatever the chunk, so results agree bit for bit, except
through BLAS matrix products, whose summation order depends on the block shape.
"""
import numbers

import numpy as np

from dualdiff import _arrays, _core, _executor
from dualdiff._arrays import DualArray
from dualdiff._core import Dual, DualVec, HyperDual, HyperDualVec

__all__ = ["derivative", "grad", "value_and_grad", "jacobian", "hessian", "jvp", "hvp"]

_ONE_SWEEP = 128                # up to this many inputs: all directions in one sweep
_MAX_CHUNK = 128                # more directions per sweep stop paying off
_BLOCK_BYTES = 16 << 20         # a dense tangent block of the input never exceeds 16 MiB
_HESS_MAX_CHUNK = 32            # k1*k2 entries per element for hessian blocks
_POOL_MIN = 1 << 14             # seeded tangent entries from which the block pool pays off

_DUALS = (Dual, HyperDual, DualVec, HyperDualVec, DualArray)


# ---------------------------------------------------------------------------------------
# input checks
# ---------------------------------------------------------------------------------------

def _check_argnums(argnums, nargs, name):
    if type(argnums) is int and 0 <= argnums < nargs:         # the common case, quickly
        return True, (argnums,)
    single = isinstance(argnums, (int, np.integer)) and not isinstance(argnums, bool)
    nums = (int(argnums),) if single else argnums
    if not isinstance(nums, tuple) or not nums or not all(
            isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in nums):
        raise TypeError(f"{name}: argnums must be an int or a non-empty tuple of ints, "
                        f"got {argnums!r}")
    for i in nums:
        if not -nargs <= i < nargs:
            valid = f"0..{nargs - 1}" if nargs else "none (f was called with no arguments)"
            raise ValueError(f"{name}: argnums {i} is out of range: f was called with "
                             f"{nargs} positional argument(s), valid argnums are {valid}")
    nums = tuple(int(i) % nargs for i in nums)
    if len(set(nums)) != len(nums):
        raise ValueError(f"{name}: argnums {argnums!r} names an argument twice")
    return single, nums


def _as_input(x, i, name):
    """The differentiated argument i as a fresh float64 array, and whether it was a scalar.

    Accepted: real numbers, (nested) lists or tuples of them, int or float arrays; ints
    become float64. Everything else is a TypeError naming the argument."""
    if type(x) is np.ndarray and x.dtype == np.float64:          # the common case, quickly
        return x.copy(), False
    if type(x) is float:
        return np.array(x), True
    if isinstance(x, _DUALS):
        raise TypeError(
            f"{name}: argument {i} is already a dual value from an enclosing dualdiff transform. "
            "Nested transforms (a derivative of a derivative) are not supported; use "
            "dd.hessian, dd.hvp or dd.derivative(f, order=2) for second derivatives.")
    if _core.is_real(x) and not isinstance(x, (bool, np.bool_)):
        return np.array(float(x)), True
    kind = None
    if isinstance(x, np.ndarray):
        kind = x.dtype.kind
    elif isinstance(x, (list, tuple)):
        try:
            kind = np.asarray(x).dtype.kind
        except (TypeError, ValueError):           # ragged
            kind = None
    if kind is None or kind not in "fiu":
        what = (f"an array of dtype {x.dtype}" if isinstance(x, np.ndarray)
                else f"{type(x).__name__} ({x!r:.60})")
        raise TypeError(f"{name}: argument {i} must be a real number, a list of numbers or an "
                        f"int/float array to differentiate with respect to it, got {what}")
    return np.array(x, dtype=np.float64, copy=True), False


def _default_chunk(n, size_per_direction, cap=_MAX_CHUNK):
    """Directions per sweep when the caller gives no chunk.

    Up to _ONE_SWEEP inputs: one sweep. Beyond, about 2 sqrt(n): a sweep of a vector input
    stores only the k seeded tangent rows (row windows, dualdiff/_windows.pxi), so its cost
    is about n values plus k^2 tangent entries per operation, and n/k sweeps balance at
    k ~ sqrt(n). Code that densifies (matrix products) pays n k per sweep whatever k is, so
    the same k serves it, bounded so that a dense tangent block stays under _BLOCK_BYTES (the
    memory bound, whatever n is)."""
    if n <= 0:
        return 1
    k = n if n <= _ONE_SWEEP else min(cap, max(64, int(2 * n ** 0.5)))
    k = min(k, cap if n > _ONE_SWEEP else n,
            max(1, _BLOCK_BYTES // (8 * max(1, size_per_direction))))
    return max(1, k)


def _check_chunk(chunk, name):
    if chunk is None:
        return None
    if isinstance(chunk, bool) or not isinstance(chunk, (int, np.integer)) or chunk < 1:
        raise ValueError(f"{name}: chunk must be a positive int or None, got {chunk!r}")
    return int(chunk)


# ---------------------------------------------------------------------------------------
# seeding
# ---------------------------------------------------------------------------------------

class _Cache:
    """Read-only arrays reused across sweeps (identity seeds, triangle masks), under a byte
    budget: beyond it new arrays are made but not kept. dd.clear_caches() empties it."""

    def __init__(self, budget):
        self.budget, self.bytes, self.items = budget, 0, {}

    def get(self, key, make):
        a = self.items.get(key)
        if a is None:
            a = make()
            a.setflags(write=False)
            if self.bytes + a.nbytes <= self.budget:
                self.items[key] = a
                self.bytes += a.nbytes
        return a

    def clear(self):
        self.items.clear()
        self.bytes = 0


_CACHE = _Cache(16 << 20)


def clear_caches():
    """Release every cache dualdiff keeps: seeds, masks, zero blocks, the block pool."""
    _CACHE.clear()
    _arrays.clear_caches()


class _Basis:
    """Directions start..start+k-1 of the flattened inputs (basis vectors)."""
    __slots__ = ("start", "k")

    def __init__(self, start, k):
        self.start, self.k = start, k


class _Given:
    """Given directions: one tangent array per input, each of shape input.shape + (k,)."""
    __slots__ = ("tangents", "k")

    def __init__(self, tangents):
        self.tangents = tangents
        self.k = tangents[0].shape[-1]


class _Inputs:
    """The differentiated arguments, flattened into one vector of n input coordinates."""

    def __init__(self, args, nums, name):
        self.args = list(args)
        self.nums = nums
        self.arrays, self.scalars = [], []
        for i in nums:
            a, scalar = _as_input(args[i], i, name)
            self.arrays.append(a)
            self.scalars.append(scalar)
        self.sizes = [a.size for a in self.arrays]
        self.offsets = [0]
        for size in self.sizes:
            self.offsets.append(self.offsets[-1] + size)
        self.n = self.offsets[-1]

    def _window(self, j, d):
        """(tangent, lo, hi) of argument j along directions d; lo = -1 when the tangent is
        dense, else the tangent holds only rows lo..hi-1 of a vector argument."""
        a = self.arrays[j]
        if isinstance(d, _Given):
            return d.tangents[j], -1, -1
        off, k = self.offsets[j], d.k
        lo = min(max(d.start - off, 0), a.size)
        hi = min(max(d.start + k - off, lo), a.size)
        if lo == 0 and hi == a.size and hi - lo == k:      # the whole argument, one chunk
            eye = _CACHE.get(("eye", k), lambda: np.eye(k))
            return (eye if a.ndim == 1 else eye.reshape(a.shape + (k,))), -1, -1
        if a.ndim == 1:
            # a vector with some of its elements seeded: store just those rows (windows)
            rows = np.zeros((hi - lo, k))
            r = np.arange(hi - lo)
            rows[r, off + lo + r - d.start] = 1.0
            return rows, lo, hi
        t = np.zeros((a.size, k))
        r = np.arange(lo, hi)
        t[r, off + r - d.start] = 1.0
        return t.reshape(a.shape + (k,)), -1, -1

    def seed(self, tag, d1, d2=None):
        """The arguments of one sweep: e1 along directions d1 (and e2 along d2)."""
        seeded = []
        for j, a in enumerate(self.arrays):
            t1, lo1, hi1 = self._window(j, d1)
            if a.ndim == 0 and d1.k == 1 and (d2 is None or d2.k == 1):
                # a scalar argument on a one-direction sweep: the compiled scalar
                if d2 is None:
                    seeded.append(_core.seed_scalar(float(a), tag, float(t1[0])))
                else:
                    t2, _, _ = self._window(j, d2)
                    seeded.append(_core.seed_scalar(float(a), tag, float(t1[0]), float(t2[0])))
            elif d2 is None:
                seeded.append(_arrays.seed(a, tag, t1, None, lo1, hi1))
            else:
                t2, lo2, hi2 = self._window(j, d2)
                seeded.append(_arrays.seed(a, tag, t1, t2, lo1, hi1, lo2, hi2))
        return seeded

    def call(self, f, kwargs, seeded):
        args = list(self.args)
        for i, x in zip(self.nums, seeded):
            args[i] = x
        return f(*args, **kwargs)

    def split(self, flat_lead, trailing_shape=()):
        """Cut an array whose last axis runs over the n inputs into one piece per argument."""
        if len(self.arrays) == 1:
            a = self.arrays[0]
            return [flat_lead if a.ndim == 1 else flat_lead.reshape(trailing_shape + a.shape)]
        out = []
        for j, a in enumerate(self.arrays):
            piece = flat_lead[..., self.offsets[j]:self.offsets[j + 1]]
            out.append(piece.reshape(trailing_shape + a.shape))
        return out


# ---------------------------------------------------------------------------------------
# reading results off the output
# ---------------------------------------------------------------------------------------

class _NotNumeric(Exception):
    pass


def _read(out, dirs, tag, name):
    """(value, derivative part) of what f returned: the tangents (order 1, dirs = (k,)) or
    the e1e2 part (order 2, dirs = (k1, k2)), with an error that shows what f returned."""
    try:
        return _read_output(out, dirs, tag, name)
    except _NotNumeric as e:
        shown = f"{type(out).__name__} ({out!r:.60})"
        inner = "" if e.args[0] is out else f", holding {type(e.args[0]).__name__}"
        raise TypeError(f"{name}: the function must return a number or a numeric array, but it "
                        f"returned {shown}{inner}") from None


def _read_output(out, dirs, tag, name):
    """Plain numbers and arrays are constants; sequences (loop-style outputs) are read
    element by element."""
    order = len(dirs)
    own, other = (Dual, HyperDual) if order == 1 else (HyperDual, Dual)
    if type(out) is DualVec or type(out) is HyperDualVec:
        out = _arrays.lift(out)                # as a 0-d dual array, read alike
    if type(out) is DualArray:
        if out.order != order:
            raise TypeError(f"{name}: the function returned "
                            f"{'second' if order == 1 else 'first'}-order dual values")
        _check_tag(out.tag, tag, name)
        part = out.eps1 if order == 1 else out.eps12
        if part.shape[out.ndim:] != dirs:
            raise TypeError(f"{name}: the function returned dual values carrying "
                            f"{part.shape[out.ndim:]} directions, not this sweep's {dirs}: "
                            "values of another transform or made by hand")
        return out.value, part
    if type(out) is own:
        _check_tag(_core.tag_of(out), tag, name)
        if any(d != 1 for d in dirs):
            raise TypeError(f"{name}: the function returned a {own.__name__} scalar made "
                            "outside the transform")
        return np.array(out.real), np.array([out.eps] if order == 1 else [[out.eps12]])
    if type(out) is other:
        raise TypeError(f"{name}: the function returned a {other.__name__}; "
                        + ("use hessian for second derivatives" if order == 1 else
                           "second derivatives need HyperDual throughout"))
    if isinstance(out, (numbers.Real, np.number)) and not isinstance(out, (bool, np.bool_)):
        return np.array(float(out)), np.zeros(dirs)
    if isinstance(out, np.ndarray) and out.dtype.kind in "fiu":
        v = out.astype(np.float64)
        return v, np.zeros(v.shape + dirs)
    if isinstance(out, (list, tuple, np.ndarray)):
        if isinstance(out, np.ndarray) and out.dtype != object:
            raise _NotNumeric(out)
        if isinstance(out, np.ndarray) and out.ndim == 0:
            return _read_output(out[()], dirs, tag, name)
        parts = [_read_output(e, dirs, tag, name) for e in out]
        if not parts:
            return np.zeros((0,)), np.zeros((0,) + dirs)
        if len({p[0].shape for p in parts}) != 1:
            raise TypeError(f"{name}: the function returned a ragged sequence")
        return np.stack([p[0] for p in parts]), np.stack([p[1] for p in parts])
    raise _NotNumeric(out)


def _check_tag(got, tag, name):
    if got != tag:
        if got == 0:
            raise TypeError(f"{name}: the function returned a Dual/HyperDual made by hand "
                            "(dd.Dual(...)); return plain numbers for constants")
        raise TypeError(f"{name}: the function returned a dual value of another (enclosing) "
                        "transform; nested transforms are not supported")


def _scalar_output(value, name):
    if value.shape != ():
        raise TypeError(f"{name} requires a function with a scalar output, but it returned "
                        f"an array of shape {value.shape}; use jacobian for vector outputs")


def _out(a, scalar):
    return float(a) if scalar else a


# ---------------------------------------------------------------------------------------
# the sweep loop
# ---------------------------------------------------------------------------------------

def _sweeps(f, inputs, kwargs, plan, name, scalar_out):
    """Run f once per (d1, d2) of the plan (d2 None: first order) under one fresh tag;
    returns a list of (value, derivative part) in plan order."""
    if _executor.bound.get() is not None:      # a transform given executor=: the sweeps run there
        return _executor.run(f, inputs, kwargs, plan, name, scalar_out)
    tag = _core.new_tag()
    results = []
    big = inputs.n * max(d1.k * (d2.k if d2 is not None else 1) for d1, d2 in plan) >= _POOL_MIN
    pool = _arrays.pooled() if big else None
    if pool is not None:
        pool.__enter__()
    try:
        for d1, d2 in plan:
            out = inputs.call(f, kwargs, inputs.seed(tag, d1, d2))
            dirs = (d1.k,) if d2 is None else (d1.k, d2.k)
            value, part = _read(out, dirs, tag, name)
            if scalar_out:
                _scalar_output(value, name)
            results.append((value, part))
    finally:
        if pool is not None:
            pool.__exit__(None, None, None)
    return results


def _constant_call(f, inputs, kwargs, name, scalar_out):
    """f at inputs with no direction to sweep (zero-size arguments): its value only."""
    out = inputs.call(f, kwargs, inputs.arrays)
    value, _ = _read(out, (1,), _core.new_tag(), name)
    if scalar_out:
        _scalar_output(value, name)
    return value


def _chunks(n, k):
    return [(_Basis(s, min(k, n - s)), None) for s in range(0, n, k)]


# ---------------------------------------------------------------------------------------
# the transforms
# ---------------------------------------------------------------------------------------

def derivative(f, argnum=0, order=1):
    """f' (order=1, one Dual sweep) or f'' (order=2, one HyperDual sweep) of a function of
    one scalar argument. Cost: one evaluation of f on dual numbers.

    The output may be a scalar or an array (the derivative of each element).
    """
    if order not in (1, 2) or isinstance(order, bool):
        raise ValueError(f"derivative: order must be 1 or 2 (the allowed orders), got {order!r}")
    if isinstance(argnum, bool) or not isinstance(argnum, (int, np.integer)):
        raise TypeError(f"derivative: argnum must be an int, got {argnum!r}")

    def finish(out, tag):
        """f' or f'' from the output of the sweep, whatever its shape."""
        value, t = _read(out, (1,) * order, tag, "derivative")
        return _out(t[(Ellipsis,) + (0,) * order], value.ndim == 0)

    def df(*args, **kwargs):
        _, (i,) = _check_argnums(int(argnum), len(args), "derivative")
        inputs = _Inputs(args, (i,), "derivative")
        if inputs.arrays[0].ndim != 0:
            raise TypeError(f"derivative: argument {i} must be a scalar, got an array of shape "
                            f"{inputs.arrays[0].shape}; use jacobian (or grad) for array "
                            "arguments")
        d = _Basis(0, 1)
        value, part = _sweeps(f, inputs, kwargs, [(d, d if order == 2 else None)],
                              "derivative", False)[0]
        return _out(part[(Ellipsis,) + (0,) * order], value.ndim == 0)

    _wrap_doc(df, f, "derivative")
    if int(argnum) != 0:
        return df
    fast = _core.ScalarDerivative(f, order, df, finish)    # one float argument: compiled
    _wrap_doc(fast, f, "derivative")
    return fast


# the kinds of transform the compiled path serves (dualdiff/_fastpath.pxi's FAST_*)
_GRAD, _VALUE_AND_GRAD, _JACOBIAN, _HESSIAN = range(4)


def value_and_grad(f, argnums=0, chunk=None, executor=None):
    """(f(x), gradient) of a scalar-valued f. Cost: ceil(n/chunk) sweeps over the n inputs,
    each carrying chunk directions; chunk=1 is one sweep per input, None picks a
    cache-sized chunk. The gradient has the argument's shape (a float for a Python scalar);
    a tuple of argnums gives a tuple of gradients. executor: a concurrent.futures.Executor
    to run the sweeps on (dualdiff/_executor.py)."""
    chunk = _check_chunk(chunk, "value_and_grad")
    return _executor.wrap(_arrays.Transform(f, _VALUE_AND_GRAD, argnums, chunk),
                          executor, "value_and_grad", _VALUE_AND_GRAD, chunk)


def grad(f, argnums=0, chunk=None, executor=None):
    """Gradient of a scalar-valued f, same shape as the argument (see value_and_grad for
    cost and chunking). Raises TypeError for non-scalar outputs: use jacobian."""
    return _executor.wrap(_arrays.Transform(f, _GRAD, argnums, _check_chunk(chunk, "grad")),
                          executor, "grad", _GRAD, chunk)


def jacobian(f, argnums=0, chunk=None, executor=None):
    """Jacobian of f, shape out.shape + in.shape (a tuple for tuple argnums). Cost:
    ceil(n/chunk) forward sweeps over the n inputs, whatever the output size; executor= as
    for value_and_grad."""
    chunk = _check_chunk(chunk, "jacobian")
    return _executor.wrap(_arrays.Transform(f, _JACOBIAN, argnums, chunk),
                          executor, "jacobian", _JACOBIAN, chunk)


def hessian(f, argnums=0, chunk=None, executor=None):
    """Exact Hessian of a scalar-valued f by hyper-dual sweeps (no finite differences):
    symmetric, shape in.shape + in.shape. Cost: b(b+1)/2 sweeps for b = ceil(n/chunk) blocks
    of directions (n(n+1)/2 with chunk=1). Tuple argnums give nested tuples of blocks;
    executor= as for value_and_grad."""
    return _executor.wrap(_arrays.Transform(f, _HESSIAN, argnums, _check_chunk(chunk, "hessian")),
                          executor, "hessian", _HESSIAN, chunk)


def _general(kind, f, argnums, chunk, args, kwargs):
    """Every call of grad, value_and_grad, jacobian and hessian the compiled path does not
    serve (_fastpath.pxi)."""
    if kind == _HESSIAN:
        return _hessian(f, args, kwargs, argnums, chunk)
    value, result = _forward(f, args, kwargs, argnums, chunk,
                             "jacobian" if kind == _JACOBIAN else "grad", kind != _JACOBIAN)
    return (value, result) if kind == _VALUE_AND_GRAD else result


def _finish_sweep(kind, out, tag, x, scalar):
    """The result of the compiled path's one sweep (all directions of one argument x, a
    vector or a float) from what f returned, when that is not a scalar of the sweep: the
    general reader, with its errors, giving the same result as the general path."""
    n = 1 if scalar else x.size
    if kind == _HESSIAN:
        v, t12 = _read(out, (n, n), tag, "hessian")
        _scalar_output(v, "hessian")
        return np.where(_CACHE.get(("upper", n), lambda: np.triu(np.ones((n, n), bool))),
                        t12, t12.T)
    name = "jacobian" if kind == _JACOBIAN else "grad"
    v, t = _read(out, (n,), tag, name)
    if kind != _JACOBIAN:
        _scalar_output(v, name)
    result = _out(np.array(t[..., 0] if scalar else t), scalar and v.ndim == 0)
    return (_out(v, True), result) if kind == _VALUE_AND_GRAD else result


_arrays.general_path = _general
_arrays.finish_sweep = _finish_sweep


def _forward(f, args, kwargs, argnums, chunk, name, scalar_out):
    single, nums = _check_argnums(argnums, len(args), name)
    inputs = _Inputs(args, nums, name)
    n = inputs.n
    if n == 0:
        value = _constant_call(f, inputs, kwargs, name, scalar_out)
        jac = np.zeros(value.shape + (0,))
    else:
        k = max(1, min(chunk or _default_chunk(n, max(inputs.sizes)), n))
        results = _sweeps(f, inputs, kwargs, _chunks(n, k), name, scalar_out)
        value = results[-1][0]
        # a fresh array: the result must not share memory with anything f returned
        jac = np.concatenate([t for v, t in results], axis=-1) if len(results) != 1 \
            else np.array(results[0][1])
    pieces = inputs.split(jac, value.shape)
    results = [_out(p, s and value.ndim == 0) for p, s in zip(pieces, inputs.scalars)]
    result = results[0] if single else tuple(results)
    return (_out(value, value.ndim == 0) if scalar_out else value), result


def _hessian(f, args, kwargs, argnums, chunk):
    single, nums = _check_argnums(argnums, len(args), "hessian")
    inputs = _Inputs(args, nums, "hessian")
    n = inputs.n
    H = np.zeros((n, n))
    if n == 0:
        _constant_call(f, inputs, kwargs, "hessian", True)
    else:
        k = chunk or min(_default_chunk(n, max(1, max(inputs.sizes)) * 4), _HESS_MAX_CHUNK)
        k = max(1, min(k, n))
        blocks = [_Basis(s, min(k, n - s)) for s in range(0, n, k)]
        plan = [(b1, b2) for i, b1 in enumerate(blocks) for b2 in blocks[i:]]
        for (b1, b2), (v, t12) in zip(plan, _sweeps(f, inputs, kwargs, plan, "hessian", True)):
            s1, k1, s2, k2 = b1.start, b1.k, b2.start, b2.k
            if s1 == s2:
                # symmetric in exact arithmetic; the upper triangle is the one kept, so
                # the result is symmetric bit for bit whatever the rounding
                upper = _CACHE.get(("upper", k1), lambda: np.triu(np.ones((k1, k1), bool)))
                t12 = np.where(upper, t12, t12.T)
            H[s1:s1 + k1, s2:s2 + k2] = t12
            H[s2:s2 + k2, s1:s1 + k1] = t12.T
    if single:
        a = inputs.arrays[0]
        return float(H[0, 0]) if a.ndim == 0 and inputs.scalars[0] else \
            H.reshape(a.shape + a.shape)
    rows = []
    for r, a in enumerate(inputs.arrays):
        row = []
        for c, b in enumerate(inputs.arrays):
            blk = H[inputs.offsets[r]:inputs.offsets[r + 1],
                    inputs.offsets[c]:inputs.offsets[c + 1]].reshape(a.shape + b.shape)
            row.append(float(blk) if a.ndim == 0 and b.ndim == 0 and inputs.scalars[r]
                       and inputs.scalars[c] else blk)
        rows.append(tuple(row))
    return tuple(rows)



def jvp(f, primals, tangents):
    """(f(*primals), J(primals) . tangents) from one forward sweep (one direction).

    primals and tangents are tuples (or lists) of matching arguments, as in jax.jvp."""
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp: primals and tangents must be tuples (or lists) of arguments, "
                        "e.g. dd.jvp(f, (x,), (v,))")
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents; give one "
                         "tangent per primal")
    inputs = _Inputs(primals, tuple(range(len(primals))), "jvp")
    given = []
    for j, (a, tv) in enumerate(zip(inputs.arrays, tangents)):
        t, _ = _as_input(tv, j, "jvp (tangents)")
        if t.shape != a.shape:
            raise ValueError(f"jvp: tangent {j} has shape {t.shape} but its primal has shape "
                             f"{a.shape}")
        given.append(t[..., None])
    value, t = _sweeps(f, inputs, {}, [(_Given(given), None)], "jvp", False)[0] if inputs.n \
        else (_constant_call(f, inputs, {}, "jvp", False), None)
    if t is None:
        t = np.zeros(value.shape + (1,))
    scalar = value.ndim == 0
    return _out(value, scalar), _out(t[..., 0], scalar)


def hvp(f, argnums=0, chunk=None, executor=None):
    """A function (*args, v) -> H v for a scalar-valued f, H the Hessian with respect to
    argument `argnums` (an int) at args: the last positional argument is v, of that
    argument's shape. Hyper-dual sweeps with e1 = v and e2 running over the n inputs in
    chunks (ceil(n/chunk) sweeps). Returns the argument's shape; executor= as for
    value_and_grad."""
    chunk = _check_chunk(chunk, "hvp")
    if isinstance(argnums, tuple):
        raise TypeError("hvp: argnums must be a single int")

    def hv(*args, **kwargs):
        if len(args) < 2:
            raise TypeError("hvp: call the returned function as hvp(f)(x, v) (or with f's other "
                            "arguments before v: hvp(f, argnums=1)(a, x, v))")
        args, v = args[:-1], args[-1]
        _, nums = _check_argnums(argnums, len(args), "hvp")
        inputs = _Inputs(args, nums, "hvp")
        vv, _ = _as_input(v, len(args), "hvp (v)")
        a = inputs.arrays[0]
        if vv.shape != a.shape:
            raise ValueError(f"hvp: v has shape {vv.shape} but argument {nums[0]} has shape "
                             f"{a.shape}")
        n = inputs.n
        if n == 0:
            _constant_call(f, inputs, kwargs, "hvp", True)
            return _out(np.zeros(a.shape), inputs.scalars[0])
        k = max(1, min(chunk or _default_chunk(n, max(1, a.size) * 2), n))
        e1 = _Given([vv[..., None]])
        plan = [(e1, _Basis(s, min(k, n - s))) for s in range(0, n, k)]
        res = np.concatenate([t12[0] for v_, t12 in _sweeps(f, inputs, kwargs, plan, "hvp",
                                                             True)])
        return _out(res.reshape(a.shape), inputs.scalars[0])

    _wrap_doc(hv, f, "hvp")
    return _executor.wrap(hv, executor, "hvp", chunk=chunk)


def directional(f, args, kwargs, argnum, V, W=None, name="directional"):
    """f's derivatives at args along the columns of V (shape arg.shape + (k,)), with respect
    to argument argnum: (value, D) with D of shape out.shape + (k,) -- one sweep of k given
    directions. With W (arg.shape + (k2,)) too, one hyper-dual sweep with e1 = V, e2 = W:
    D[..., p, q] = D^2 f [V_p, W_q]. The sweep the sparse transforms run with a compressed
    seed matrix (and that others may chunk themselves)."""
    inputs = _Inputs(args, (argnum,), name)
    a = inputs.arrays[0]
    V = np.asarray(V, dtype=np.float64)
    if V.shape[:-1] != a.shape:
        raise ValueError(f"{name}: directions of shape {V.shape} for an argument of shape {a.shape}")
    d1 = _Given([V])
    d2 = None
    if W is not None:
        W = np.asarray(W, dtype=np.float64)
        if W.shape[:-1] != a.shape:
            raise ValueError(f"{name}: directions of shape {W.shape} for an argument of shape "
                             f"{a.shape}")
        d2 = _Given([W])
    return _sweeps(f, inputs, kwargs, [(d1, d2)], name, False)[0]


def second_directional(f, primals, u, w):
    """D^2 f(primals)[u, w] for any f (array outputs too): one hyper-dual sweep with e1 = u
    and e2 = w. Used by dd.check_rule."""
    inputs = _Inputs(primals, tuple(range(len(primals))), "check_rule")
    given = [[np.asarray(t, dtype=np.float64).reshape(a.shape)[..., None]
              for t, a in zip(ts, inputs.arrays)] for ts in (u, w)]
    value, e12 = _sweeps(f, inputs, {}, [(_Given(given[0]), _Given(given[1]))],
                         "check_rule", False)[0]
    return e12[..., 0, 0]


def _wrap_doc(g, f, name):
    fname = getattr(f, "__name__", type(f).__name__)
    g.__name__ = f"{name}({fname})"
    g.__qualname__ = g.__name__
    g.__doc__ = f"{name} of {fname} (dualdiff forward mode)."
    g.__wrapped__ = f
