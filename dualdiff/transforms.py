"""JAX-style transforms built on forward-mode sweeps: derivative, grad, value_and_grad,
jacobian, hessian, jvp, hvp.

Every transform is the same three steps, written once below:
  * seed (_inputs.py): the differentiated arguments, flattened into one vector of n input
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

from dualdiff import _arrays, _core, _executor, _inputs, _pytree
from dualdiff._jvp import linalg as _jvp_linalg
from dualdiff._inputs import CACHE as _CACHE, DUALS as _DUALS
from dualdiff._inputs import _Basis, _Given, _Inputs, _OneArray, _check_argnums
from dualdiff._arrays import DualArray
from dualdiff._core import Dual

__all__ = ["derivative", "grad", "value_and_grad", "jacobian", "jacfwd", "hessian", "jvp", "hvp"]

_ONE_SWEEP = 128                # up to this many inputs: all directions in one sweep
_MAX_CHUNK = 128                # more directions per sweep stop paying off
_BLOCK_BYTES = 16 << 20         # a dense tangent block of the input never exceeds 16 MiB
_HESS_MAX_CHUNK = 32            # k1*k2 entries per element for hessian blocks
_POOL_MIN = 1 << 14             # seeded tangent entries from which the block pool pays off



def _default_chunk(n, size_per_direction, cap=_MAX_CHUNK, nested=False):
    """Directions per sweep when the caller gives no chunk.

    Up to _ONE_SWEEP inputs: one sweep. Beyond, about 2 sqrt(n): a sweep of a vector input
    stores only the k seeded tangent rows (row windows, dualdiff/_windows.pxi), so its cost
    is about n values plus k^2 tangent entries per operation, and n/k sweeps balance at
    k ~ sqrt(n). Code that densifies (matrix products) pays n k per sweep whatever k is, so
    the same k serves it, bounded so that a dense tangent block stays under _BLOCK_BYTES (the
    memory bound, whatever n is)."""
    if n <= 0:
        return 1
    if nested and n > 16:
        # inside another transform every element also carries the outer directions, so a
        # sweep of k costs about n (outer) + k^2 (rows windowed): k ~ 2 sqrt(n) again
        return max(8, min(cap, int(2 * n ** 0.5)))
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


def clear_caches():
    """Release every cache dualdiff keeps: seeds, masks, zero blocks, the block pool."""
    _inputs.CACHE.clear()
    _arrays.clear_caches()
    _jvp_linalg.clear_inverse()


# ---------------------------------------------------------------------------------------
# reading results off the output
# ---------------------------------------------------------------------------------------

def _dual(a):
    return isinstance(a, _DUALS)


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
        # both faults at once (a boolean array from hvp): name the second's fix too
        also = "; and it must be a scalar: use jacobian for vector outputs" if \
            name in _SCALAR_OUTPUT and np.ndim(out) > 0 else ""
        raise TypeError(f"{name}: the function must return a number or a numeric array, but it "
                        f"returned {shown}{inner}{also}") from None


_SCALAR_OUTPUT = ("grad", "value_and_grad", "hessian", "hvp")


def _read_output(out, dirs, tag, name):
    """Plain numbers and arrays are constants; sequences (loop-style outputs) are read
    element by element. A value of more levels than this transform's own (f called inside
    another transform, or capturing its values) gives the value and the derivative part as
    dual values of the levels below."""
    order = len(dirs)
    if type(out) is Dual and order == 1 and _core.tag_of(out) == (tag,):   # common, quickly
        if dirs != (1,):
            raise TypeError(f"{name}: the function returned a Dual scalar made outside the "
                            "transform")
        return np.array(out.real), np.array([out.eps])
    if type(out) is DualArray or _core.is_scalar_dual(out):
        d = _arrays.lift(out)
        if d is None:                           # a dual array none of whose rows moved
            v = np.array(out.value)
            return v, np.zeros(v.shape + dirs)
        return _read_levels(d, dirs, tag, name)
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
        if len({np.shape(p[0]) for p in parts}) != 1:
            raise TypeError(f"{name}: the function returned a ragged sequence")
        return np.stack([p[0] for p in parts]), np.stack([p[1] for p in parts])
    raise _NotNumeric(out)


def _read_levels(d, dirs, tag, name):
    """(value, derivative part) of a dual array f returned: this transform's levels must be
    its top ones; the levels below, if any, are running outer transforms'."""
    order = len(dirs)
    own = (tag,) * order
    tags = d.tags
    if tags[-order:] == own and (len(tags) == order or tags[-order - 1] != tag):
        below = tags[:-order]
        _check_below(below, name)
        part = _arrays.peel_top(d, order)
        value = _arrays.drop_top(d, order)
    elif tag not in tags:
        # f's value does not depend on this transform's input, only on outer ones'
        below = tags
        _check_below(below, name)
        value = d
        part = np.zeros(d.shape + dirs)
    else:
        raise TypeError(f"{name}: the function returned "
                        f"{'second' if order == 1 else 'first'}-order dual values of this "
                        "transform")
    got = np.shape(part)[np.ndim(value):]
    if got != dirs:
        raise TypeError(f"{name}: the function returned dual values carrying {got} "
                        f"directions, not this sweep's {dirs}: values of another transform")
    return value, part


def _check_below(tags, name):
    """The levels under this transform's must be running transforms': a value made by hand
    (tag 0) or kept from a transform that has finished is refused, never read as a number."""
    for t in tags:
        if t == 0:
            raise TypeError(f"{name}: the function's result depends on a Dual/HyperDual made "
                            "by hand (dd.Dual(...)); use plain numbers for constants")
        if not _core.active(t):
            raise TypeError(f"{name}: the function's result depends on a dual value of a "
                            "transform that has finished (kept in a closure or a global and "
                            "used later); take its .real, or compute it inside this transform")


def _scalar_output(value, name):
    if np.shape(value) != ():
        raise TypeError(f"{name} requires a function with a scalar output, but it returned "
                        f"an array of shape {np.shape(value)}; use jacobian for vector outputs")


def _out(a, scalar):
    """A result as the caller gets it: a float for a scalar, else the array; dual values
    (this transform ran inside another) stay dual, scalars as the compiled scalar."""
    if isinstance(a, np.ndarray):
        return float(a) if scalar else a
    if isinstance(a, DualArray):
        return _arrays.to_scalar(a) if scalar else a
    return float(a) if scalar and _core.is_real(a) else a


def _fresh(a):
    """A copy of a plain result (it must not share memory with what f returned); dual
    values are immutable and are returned as they are."""
    return np.array(a) if isinstance(a, np.ndarray) else a


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
    # the pool pays off from a few large temporaries on: many directions, or any nested sweep
    # (every element then also carries the outer transform's directions)
    big = inputs.nested or \
        inputs.n * max(d1.k * (d2.k if d2 is not None else 1) for d1, d2 in plan) >= _POOL_MIN
    pool = _arrays.pooled() if big else None
    if pool is not None:
        pool.__enter__()
    _core.enter(tag)
    try:
        for d1, d2 in plan:
            out = inputs.call(f, kwargs, inputs.seed(tag, d1, d2))
            dirs = (d1.k,) if d2 is None else (d1.k, d2.k)
            value, part = _read(out, dirs, tag, name)
            if scalar_out:
                _scalar_output(value, name)
            results.append((value, part))
    finally:
        _core.leave(tag)
        if pool is not None:
            pool.__exit__(None, None, None)
    return results


def _constant_call(f, inputs, kwargs, name, scalar_out):
    """f at inputs with no direction to sweep (zero-size arguments): its value only."""
    out = inputs.call(f, kwargs, inputs.arrays)
    tag = _core.new_tag()
    _core.enter(tag)
    try:
        value, _ = _read(out, (1,), tag, name)
    finally:
        _core.leave(tag)
    if scalar_out:
        _scalar_output(value, name)
    return value


def _chunks(n, k):
    return [(_Basis(s, min(k, n - s)), None) for s in range(0, n, k)]


# ---------------------------------------------------------------------------------------
# the transforms
# ---------------------------------------------------------------------------------------

def derivative(f, argnum=0, order=1):
    """The order-th derivative of a function of one scalar argument: f' (order=1, one Dual
    sweep), f'' (order=2, one HyperDual sweep), and beyond by nesting: order k > 2 is the
    derivative of the (k-1)-th, one evaluation of f on dual values of k levels (2^k - 1
    parts each, the levels beyond two computed in Python: fine for k up to ~8).

    The output may be a scalar or an array (the derivative of each element).
    """
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 1:
        raise ValueError(f"derivative: order must be an int >= 1 (1, 2, 3, ...), got {order!r}")
    if isinstance(argnum, bool) or not isinstance(argnum, (int, np.integer)):
        raise TypeError(f"derivative: argnum must be an int, got {argnum!r}")
    if order > 2:
        return derivative(derivative(f, argnum, order - 1), argnum)

    def finish(out, tag):
        """f' or f'' from the output of the sweep, whatever its shape."""
        value, t = _read(out, (1,) * order, tag, "derivative")
        return _out(t[(Ellipsis,) + (0,) * order], np.ndim(value) == 0)

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
        return _out(part[(Ellipsis,) + (0,) * order], np.ndim(value) == 0)

    _wrap_doc(df, f, "derivative")
    if int(argnum) != 0:
        return df
    fast = _core.ScalarDerivative(f, order, df, finish)    # one float argument: compiled
    _wrap_doc(fast, f, "derivative")
    return fast


# the kinds of transform the compiled path serves (dualdiff/_fastpath.pxi's FAST_*)
_GRAD, _VALUE_AND_GRAD, _JACOBIAN, _HESSIAN = range(4)


def value_and_grad(f, argnums=0, chunk=None, has_aux=False, executor=None):
    """(f(x), gradient) of a scalar-valued f. Cost: ceil(n/chunk) sweeps over the n inputs,
    each carrying chunk directions; chunk=1 is one sweep per input, None picks a
    cache-sized chunk. The gradient has the argument's shape (a float for a Python scalar; the
    argument's structure for a pytree); a tuple of argnums gives a tuple of gradients. With
    has_aux=True f returns (value, aux) and the result is ((value, aux), gradient).
    executor: a concurrent.futures.Executor (a process pool, Dask's client.get_executor())
    to run the sweeps on, bit-identical to the serial call (dualdiff/_executor.py)."""
    return _transform(f, _VALUE_AND_GRAD, argnums, _check_chunk(chunk, "value_and_grad"),
                      has_aux, executor)


def grad(f, argnums=0, chunk=None, has_aux=False, executor=None):
    """Gradient of a scalar-valued f, same shape as the argument (see value_and_grad for
    cost and chunking). Raises TypeError for non-scalar outputs: use jacobian. With
    has_aux=True f returns (value, aux) and the result is (gradient, aux); executor= as for
    value_and_grad."""
    return _transform(f, _GRAD, argnums, _check_chunk(chunk, "grad"), has_aux, executor)


def jacobian(f, argnums=0, chunk=None, has_aux=False, executor=None):
    """Jacobian of f, shape out.shape + in.shape (a tuple for tuple argnums). Cost:
    ceil(n/chunk) forward sweeps over the n inputs, whatever the output size. With
    has_aux=True f returns (output, aux) and the result is (Jacobian, aux); executor= as for
    value_and_grad."""
    return _transform(f, _JACOBIAN, argnums, _check_chunk(chunk, "jacobian"), has_aux,
                      executor)


jacfwd = jacobian      # JAX's name; dualdiff is forward mode only: no jacrev, no vjp


def _transform(f, kind, argnums, chunk, has_aux, executor=None):
    name = _KIND_NAMES[kind]
    if not callable(f):
        raise TypeError(f"{name}: f must be callable, got {type(f).__name__}")
    if has_aux:
        if executor is not None:
            # aux is the first sweep's, and that sweep runs on a worker: it would have to
            # travel back beside every block
            raise TypeError(f"{name}: has_aux=True with executor= is not supported; compute "
                            f"aux with a separate call of f, or drop executor=")
        return _WithAux(f, kind, argnums, chunk)
    return _executor.wrap(_arrays.Transform(f, kind, argnums, chunk), executor, name, kind,
                          chunk)


class _WithAux:
    """grad, value_and_grad and jacobian with has_aux=True, as in JAX: f returns (output,
    aux); the output is differentiated and aux comes back beside the result as plain values
    (the first sweep's; aux is not differentiated, so its dual parts are dropped)."""

    def __init__(self, f, kind, argnums, chunk):
        self.f, self.kind, self.argnums, self.chunk = f, kind, argnums, chunk
        self.__name__ = f"{_KIND_NAMES[kind]}({getattr(f, '__name__', type(f).__name__)})"
        self.__wrapped__ = f

    def __call__(self, *args, **kwargs):
        box = []
        name = _KIND_NAMES[self.kind]

        def main(*a, **k):
            r = self.f(*a, **k)
            if not (isinstance(r, tuple) and len(r) == 2):
                raise TypeError(f"{name} with has_aux=True: the function must return a pair "
                                f"(output, aux), but it returned {type(r).__name__}")
            if not box:
                box.append(r[1])
            return r[0]

        r = _general(self.kind, main, self.argnums, self.chunk, args, kwargs)
        aux = _pytree.tree_map(_values, box[0])
        if self.kind == _VALUE_AND_GRAD:
            return (r[0], aux), r[1]
        return r, aux


def _values(x):
    """The plain values of a dual value (aux of a has_aux transform)."""
    if isinstance(x, DualArray):
        return np.array(x.value)
    if _core.is_scalar_dual(x):
        return x.real
    return x


_KIND_NAMES = ("grad", "value_and_grad", "jacobian", "hessian")


def hessian(f, argnums=0, chunk=None, executor=None):
    """Exact Hessian of a scalar-valued f by hyper-dual sweeps (no finite differences):
    symmetric, shape in.shape + in.shape. Cost: b(b+1)/2 sweeps for b = ceil(n/chunk) blocks
    of directions (n(n+1)/2 with chunk=1). Tuple argnums give nested tuples of blocks;
    executor= as for value_and_grad."""
    return _transform(f, _HESSIAN, argnums, _check_chunk(chunk, "hessian"), False, executor)


def _general(kind, f, argnums, chunk, args, kwargs):
    """Every call of grad, value_and_grad, jacobian and hessian the compiled path does not
    serve (_fastpath.pxi)."""
    if kind == _HESSIAN:
        return _hessian(f, args, kwargs, argnums, chunk)
    value, result = _forward(f, args, kwargs, argnums, chunk, _KIND_NAMES[kind],
                             kind != _JACOBIAN)
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
    name = _KIND_NAMES[kind]
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
        k = max(1, min(chunk or _default_chunk(n, max(inputs.sizes), nested=inputs.nested), n))
        results = _sweeps(f, inputs, kwargs, _chunks(n, k), name, scalar_out)
        value = results[-1][0]
        # a fresh array: the result must not share memory with anything f returned
        jac = np.concatenate([t for v, t in results], axis=-1) if len(results) != 1 \
            else _fresh(results[0][1])
    vshape = np.shape(value)
    pieces = inputs.split(jac, vshape)
    results = inputs.regroup([_out(p, s and not vshape) for p, s in zip(pieces, inputs.scalars)])
    result = results[0] if single else tuple(results)
    return (_out(value, not vshape) if scalar_out else value), result


def _hessian(f, args, kwargs, argnums, chunk):
    single, nums = _check_argnums(argnums, len(args), "hessian")
    inputs = _Inputs(args, nums, "hessian")
    n = inputs.n
    if n == 0:
        _constant_call(f, inputs, kwargs, "hessian", True)
        H = np.zeros((0, 0))
    else:
        k = chunk or min(_default_chunk(n, max(1, max(inputs.sizes)) * 4), _HESS_MAX_CHUNK)
        k = max(1, min(k, n))
        blocks = [_Basis(s, min(k, n - s)) for s in range(0, n, k)]
        plan = [(b1, b2) for i, b1 in enumerate(blocks) for b2 in blocks[i:]]
        got = {}
        for (b1, b2), (v, t12) in zip(plan, _sweeps(f, inputs, kwargs, plan, "hessian", True)):
            if b1.start == b2.start:
                # symmetric in exact arithmetic; the upper triangle is the one kept, so
                # the result is symmetric bit for bit whatever the rounding
                k1 = b1.k
                upper = _CACHE.get(("upper", k1), lambda: np.triu(np.ones((k1, k1), bool)))
                t12 = np.where(upper, t12, np.swapaxes(t12, -1, -2))
            got[b1.start, b2.start] = t12
        H = _assemble(blocks, got)
    L = len(inputs.arrays)
    if single and L == 1:
        a = inputs.arrays[0]
        return _out(H[0, 0], True) if a.ndim == 0 and inputs.scalars[0] else \
            H.reshape(np.shape(H)[:-2] + a.shape + a.shape)
    blk = [[None] * L for _ in range(L)]
    for r, a in enumerate(inputs.arrays):
        for c, b in enumerate(inputs.arrays):
            h = H[..., inputs.offsets[r]:inputs.offsets[r + 1],
                  inputs.offsets[c]:inputs.offsets[c + 1]]
            h = h.reshape(np.shape(h)[:-2] + a.shape + b.shape)
            blk[r][c] = _out(h, a.ndim == 0 and b.ndim == 0 and inputs.scalars[r]
                             and inputs.scalars[c])
    # leaves back into their arguments' structures: for each pair of arguments (a, b), a's
    # structure holding, per leaf of a, b's structure of blocks (JAX's hessian of pytrees)
    out = []
    j = 0
    for tree_a, count_a in inputs.trees:
        row_leaves = [inputs.regroup(blk[r]) for r in range(j, j + count_a)]
        # row_leaves[r][b]: leaf r of argument a against the whole argument b
        out.append(tuple(
            row_leaves[0][b] if tree_a is None else
            tree_a.unflatten([row_leaves[r][b] for r in range(count_a)])
            for b in range(len(nums))))
        j += count_a
    return out[0][0] if single else tuple(out)


def _assemble(blocks, got):
    """The Hessian from its upper blocks (the lower ones are their transposes). Nested (the
    blocks are dual values of outer transforms), the directions are the last two axes."""
    if all(isinstance(t, np.ndarray) for t in got.values()):
        n = blocks[-1].start + blocks[-1].k
        H = np.zeros((n, n))
        for (s1, s2), t12 in got.items():
            k1, k2 = t12.shape
            H[s1:s1 + k1, s2:s2 + k2] = t12
            H[s2:s2 + k2, s1:s1 + k1] = t12.T
        return H
    rows = []
    for b1 in blocks:
        row = [got[b1.start, b2.start] if b1.start <= b2.start else
               np.swapaxes(got[b2.start, b1.start], -1, -2) for b2 in blocks]
        rows.append(np.concatenate(row, axis=-1))
    return np.concatenate(rows, axis=-2)


_ONE_GIVEN = [(_Basis(0, 1), None)]        # one direction: all _sweeps reads of a plan


def jvp(f, primals, tangents):
    """(f(*primals), J(primals) . tangents) from one forward sweep (one direction).

    primals and tangents are tuples (or lists) of matching arguments, as in jax.jvp."""
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp: primals and tangents must be tuples (or lists) of arguments, "
                        "e.g. dd.jvp(f, (x,), (v,))")
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents; give one "
                         "tangent per primal")
    if _OneArray.fits(primals, tangents):
        value, t = _sweeps(f, _OneArray(*primals, *tangents), {}, _ONE_GIVEN, "jvp", False)[0]
    else:
        inputs = _Inputs(primals, tuple(range(len(primals))), "jvp")
        given = inputs.directions_like(tangents, "jvp", "tangents")
        value, t = _sweeps(f, inputs, {}, [(_Given(given), None)], "jvp", False)[0] \
            if inputs.n else (_constant_call(f, inputs, {}, "jvp", False), None)
    if t is None:
        t = np.zeros(np.shape(value) + (1,))
    scalar = np.ndim(value) == 0
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
        e1 = _Given(inputs.directions_like([v], "hvp", "v"))
        n = inputs.n
        if n == 0:
            _constant_call(f, inputs, kwargs, "hvp", True)
            return inputs.regroup([_out(np.zeros(a.shape), s)
                                   for a, s in zip(inputs.arrays, inputs.scalars)])[0]
        k = max(1, min(chunk or _default_chunk(n, max(inputs.sizes) * 2,
                                               nested=inputs.nested), n))
        plan = [(e1, _Basis(s, min(k, n - s))) for s in range(0, n, k)]
        res = np.concatenate([t12[0] for v_, t12 in _sweeps(f, inputs, kwargs, plan, "hvp",
                                                             True)])
        pieces = inputs.split(res)
        return inputs.regroup([_out(p, s) for p, s in zip(pieces, inputs.scalars)])[0]

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
