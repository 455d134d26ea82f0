"""JAX-style transforms built on forward-mode sweeps: derivative, grad, value_and_grad,
jacobian, hessian, jvp, hvp.

Every transform runs the user's function on dual values. A sweep seeds a chunk of k input
directions (basis vectors of the flattened differentiated arguments) as the tangents of a
DualArray and reads the k directional derivatives off the output; n inputs take ceil(n/k)
sweeps. Second derivatives seed hyper-dual arrays: directions I in e1 and J in e2 give the
block H[I, J] in the e1e2 part, and symmetry halves the number of blocks.

The default chunk (_default_chunk) takes every direction in one sweep for small inputs and
about 2 sqrt(n) beyond, under a memory bound. Each direction is computed by the same
arithmetic whatever the chunk, so results agree bit for bit, except through BLAS matrix
products, whose summation order depends on the block shape (then: to rounding).

While sweeps run, numpy allocates through dualdiff's block pool (_arrays.pool_on): every
sweep allocates and drops the same large temporaries, and reusing them avoids the page
faults of fresh memory.
"""
import numbers

import numpy as np

from dualdiff import _arrays, _core
from dualdiff._arrays import DualArray
from dualdiff._core import Dual, HyperDual

__all__ = ["derivative", "grad", "value_and_grad", "jacobian", "hessian", "jvp", "hvp"]

_ONE_SWEEP = 128                # up to this many inputs: all directions in one sweep
_MAX_CHUNK = 128                # more directions per sweep stop paying off
_BLOCK_BYTES = 16 << 20         # a dense tangent block of the input never exceeds 16 MiB
_HESS_MAX_CHUNK = 32            # k1*k2 entries per element for hessian blocks

_DUALS = (Dual, HyperDual, DualArray)


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
    if isinstance(x, (numbers.Real, np.integer, np.floating)) and \
            not isinstance(x, (bool, np.bool_)):
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
    stores only the k seeded tangent rows (see "Support" in _arrays.pyx), so its cost is
    about n values plus k^2 tangent entries per operation, and n/k sweeps balance at k ~
    sqrt(n). Code that densifies (matrix products) pays n k per sweep whatever k is, so the
    same k serves it, bounded so that a dense tangent block stays under _BLOCK_BYTES (the
    memory bound, whatever n is)."""
    if n <= 0:
        return 1
    k = n if n <= _ONE_SWEEP else min(cap, max(64, int(2 * n ** 0.5)))
    k = min(k, cap if n > _ONE_SWEEP else n, max(1, _BLOCK_BYTES // (8 * max(1, size_per_direction))))
    return max(1, k)


def _check_chunk(chunk, name):
    if chunk is None:
        return None
    if isinstance(chunk, bool) or not isinstance(chunk, (int, np.integer)) or chunk < 1:
        raise ValueError(f"{name}: chunk must be a positive int or None, got {chunk!r}")
    return int(chunk)


# ---------------------------------------------------------------------------------------
# reading results off the output
# ---------------------------------------------------------------------------------------

def _not_numeric(out, name):
    return _NotNumeric(out)


def _read(reader, out, *args):
    """reader(out, ...) with an error that shows what the function returned as a whole."""
    try:
        return reader(out, *args)
    except _NotNumeric as e:
        name = args[-1]
        shown = f"{type(out).__name__} ({out!r:.60})"
        inner = "" if e.args[0] is out else f", holding {type(e.args[0]).__name__}"
        raise TypeError(f"{name}: the function must return a number or a numeric array, but it "
                        f"returned {shown}{inner}") from None


class _NotNumeric(Exception):
    pass


def _tangents(out, k, tag, name):
    """(value, tangents) of a first-order output: arrays of shape S and S + (k,)."""
    return _read_output(out, (k,), tag, name)


def _tangents2(out, k1, k2, tag, name):
    """(value, e1e2 part) of a second-order output: shapes S and S + (k1, k2)."""
    return _read_output(out, (k1, k2), tag, name)


def _read_output(out, dirs, tag, name):
    """(value, derivative part) of what f returned: the tangents (order 1, dirs = (k,)) or
    the e1e2 part (order 2, dirs = (k1, k2)); plain numbers and arrays are constants, and
    sequences (loop-style outputs) are read element by element."""
    order = len(dirs)
    own, other = (Dual, HyperDual) if order == 1 else (HyperDual, Dual)
    if type(out) is DualArray:
        if out.order != order:
            raise TypeError(f"{name}: the function returned "
                            f"{'second' if order == 1 else 'first'}-order dual values")
        _check_tag(out.tag, tag, name)
        return out.value, (out.t1 if order == 1 else out.t12)
    if type(out) is own:
        _check_tag(_core.tag_of(out), tag, name)
        if order == 1 and dirs[0] != 1:
            raise TypeError(f"{name}: the function returned a Dual scalar made outside the "
                            "transform")
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
            raise _not_numeric(out, name)
        if isinstance(out, np.ndarray) and out.ndim == 0:
            return _read_output(out[()], dirs, tag, name)
        parts = [_read_output(e, dirs, tag, name) for e in out]
        if not parts:
            return np.zeros((0,)), np.zeros((0,) + dirs)
        if len({p[0].shape for p in parts}) != 1:
            raise TypeError(f"{name}: the function returned a ragged sequence")
        return np.stack([p[0] for p in parts]), np.stack([p[1] for p in parts])
    raise _not_numeric(out, name)


def _check_tag(got, tag, name):
    if got != 0 and got != tag:
        raise TypeError(f"{name}: the function returned a dual value of another (enclosing) "
                        "transform; nested transforms are not supported")


def _scalar_output(value, name):
    if value.shape != ():
        raise TypeError(f"{name} requires a function with a scalar output, but it returned "
                        f"an array of shape {value.shape}; use jacobian for vector outputs")


def _out(a, scalar):
    return float(a) if scalar else a


# ---------------------------------------------------------------------------------------
# seeding
# ---------------------------------------------------------------------------------------

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

    def basis(self, j, start, k):
        """Tangents of argument j for directions start..start+k-1: shape arg.shape + (k,)."""
        a = self.arrays[j]
        lo = max(start, self.offsets[j])
        hi = min(start + k, self.offsets[j + 1])
        if lo == self.offsets[j] and hi == self.offsets[j + 1] and hi - lo == k:
            eye = _identity(k)                                # the whole argument, one chunk
            return eye if a.ndim == 1 else eye.reshape(a.shape + (k,))
        t = np.zeros((a.size, k))
        if lo < hi:
            r = np.arange(lo, hi)
            t[r - self.offsets[j], r - start] = 1.0
        return t.reshape(a.shape + (k,))

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


_IDENTITY = {}


def _identity(k):
    """A read-only k x k identity, cached: dual arrays never write into their tangents."""
    eye = _IDENTITY.get(k)
    if eye is None:
        eye = np.eye(k)
        eye.setflags(write=False)
        if k <= 512:
            _IDENTITY[k] = eye
    return eye


_ZEROS = {}
_UPPER = {}


def _upper(k):
    """Cached boolean mask of the upper triangle (diagonal included) of a k x k block."""
    m = _UPPER.get(k)
    if m is None:
        m = np.triu(np.ones((k, k), dtype=bool))
        if k <= 512:
            _UPPER[k] = m
    return m


def _zeros(shape):
    """A read-only zero block, cached (the e1e2 seed of a Hessian sweep)."""
    z = _ZEROS.get(shape)
    if z is None:
        z = np.zeros(shape)
        z.setflags(write=False)
        if z.size <= 1 << 16:
            _ZEROS[shape] = z
    return z


def _seed1(inputs, start, k, tag):
    seeded = []
    for j, a in enumerate(inputs.arrays):
        if k == 1 and a.ndim == 0:
            # a scalar argument on a one-direction sweep: the compiled scalar, fastest path
            seeded.append(_core.seed_dual(float(a), float(inputs.basis(j, start, 1)[0]), tag))
        elif a.ndim == 1 and k < a.size:
            # a vector with only some of its elements seeded: store just those tangent rows
            # (see "Support" in dualdiff/_arrays.pyx); a sweep then costs O(n k), not O(n^2)
            o = inputs.offsets[j]
            lo = min(max(start - o, 0), a.size)
            hi = min(max(start + k - o, lo), a.size)
            rows = np.zeros((hi - lo, k))
            r = np.arange(hi - lo)
            rows[r, o + lo + r - start] = 1.0
            seeded.append(_arrays.seed_rows(a, rows, lo, hi, tag))
        else:
            seeded.append(_arrays.seed_trusted(a, inputs.basis(j, start, k), tag))
    return seeded


def _seed2(inputs, s1, k1, s2, k2, tag, fixed_e1=None):
    seeded = []
    for j, a in enumerate(inputs.arrays):
        t1 = inputs.basis(j, s1, k1) if fixed_e1 is None else fixed_e1[j]
        t2 = inputs.basis(j, s2, k2)
        whole = fixed_e1 is None and s1 == s2 == inputs.offsets[j] and k1 == k2 == a.size
        if k1 == 1 and k2 == 1 and a.ndim == 0:
            seeded.append(_core.seed_hyper(float(a), float(t1[0]), float(t2[0]), 0.0, tag))
        elif whole:             # the one sweep of a small input: e1 = e2 = identity, dense
            seeded.append(_arrays.seed2(a, t1, t2, _zeros(a.shape + (k1, k2)), tag))
        elif a.ndim == 1:
            seeded.append(_arrays.seed2_rows(a, t1, t2, np.zeros(a.shape + (k1, k2)), tag))
        else:
            seeded.append(_arrays.seed2(a, t1, t2, np.zeros(a.shape + (k1, k2)), tag))
    return seeded


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
        if order == 1:
            value, t = _read(_tangents, out, 1, tag, "derivative")
            return _out(t[..., 0], value.ndim == 0)
        value, t = _read(_tangents2, out, 1, 1, tag, "derivative")
        return _out(t[..., 0, 0], value.ndim == 0)

    def df(*args, **kwargs):
        _, (i,) = _check_argnums(int(argnum), len(args), "derivative")
        x = args[i]
        a, scalar = _as_input(x, i, "derivative")
        if a.ndim != 0:
            raise TypeError(f"derivative: argument {i} must be a scalar, got an array of shape "
                            f"{a.shape}; use jacobian (or grad) for array arguments")
        tag = _core.new_tag()
        call = list(args)
        if order == 1:
            call[i] = _core.seed_dual(float(a), 1.0, tag)
        else:
            call[i] = _core.seed_hyper(float(a), 1.0, 1.0, 0.0, tag)
        return finish(f(*call, **kwargs), tag)

    _wrap_doc(df, f, "derivative")
    if int(argnum) != 0:
        return df
    fast = _core.ScalarDerivative(f, order, df, finish)    # one float argument: compiled
    _wrap_doc(fast, f, "derivative")
    return fast


def value_and_grad(f, argnums=0, chunk=None):
    """(f(x), gradient) of a scalar-valued f. Cost: ceil(n/chunk) sweeps over the n inputs,
    each carrying chunk directions; chunk=1 is one sweep per input, None picks a
    cache-sized chunk. The gradient has the argument's shape (a float for a Python scalar);
    a tuple of argnums gives a tuple of gradients."""
    chunk = _check_chunk(chunk, "value_and_grad")

    def vg(*args, **kwargs):
        value, grads = _forward(f, args, kwargs, argnums, chunk, "grad", scalar_out=True)
        return value, grads

    _wrap_doc(vg, f, "value_and_grad")
    return vg


def grad(f, argnums=0, chunk=None):
    """Gradient of a scalar-valued f, same shape as the argument (see value_and_grad for
    cost and chunking). Raises TypeError for non-scalar outputs: use jacobian."""
    chunk = _check_chunk(chunk, "grad")

    def g(*args, **kwargs):
        return _forward(f, args, kwargs, argnums, chunk, "grad", scalar_out=True)[1]

    _wrap_doc(g, f, "grad")
    return g


def jacobian(f, argnums=0, chunk=None):
    """Jacobian of f, shape out.shape + in.shape (a tuple for tuple argnums). Cost:
    ceil(n/chunk) forward sweeps over the n inputs, whatever the output size."""
    chunk = _check_chunk(chunk, "jacobian")

    def jac(*args, **kwargs):
        return _forward(f, args, kwargs, argnums, chunk, "jacobian", scalar_out=False)[1]

    _wrap_doc(jac, f, "jacobian")
    return jac


def _forward(f, args, kwargs, argnums, chunk, name, scalar_out):
    single, nums = _check_argnums(argnums, len(args), name)
    inputs = _Inputs(args, nums, name)
    n = inputs.n
    k = chunk or _default_chunk(n, max(inputs.sizes))
    k = max(1, min(k, n)) if n else 1
    tag = _core.new_tag()
    value, blocks = None, []
    pool = _arrays.pool_on()           # sweeps reuse their large temporaries (no page faults)
    try:
        for start in range(0, max(n, 1), k):
            kk = min(k, n - start) if n else 1
            out = inputs.call(f, kwargs, _seed1(inputs, start, kk, tag) if n else inputs.arrays)
            v, t = _read(_tangents, out, kk, tag, name)
            if scalar_out:
                _scalar_output(v, name)
            value = v
            blocks.append(t[..., :kk] if n else t[..., :0])
    finally:
        _arrays.pool_off(pool)
    # a fresh array: the result must not share memory with anything the function returned
    jac = np.concatenate(blocks, axis=-1) if len(blocks) != 1 else np.array(blocks[0])
    pieces = inputs.split(jac, value.shape)
    results = [_out(p, s and value.ndim == 0) for p, s in zip(pieces, inputs.scalars)]
    result = results[0] if single else tuple(results)
    return (_out(value, value.ndim == 0) if scalar_out else value), result


def hessian(f, argnums=0, chunk=None):
    """Exact Hessian of a scalar-valued f by hyper-dual sweeps (no finite differences):
    symmetric, shape in.shape + in.shape. Cost: b(b+1)/2 sweeps for b = ceil(n/chunk) blocks
    of directions (n(n+1)/2 with chunk=1). Tuple argnums give nested tuples of blocks."""
    chunk = _check_chunk(chunk, "hessian")

    def hess(*args, **kwargs):
        single, nums = _check_argnums(argnums, len(args), "hessian")
        inputs = _Inputs(args, nums, "hessian")
        n = inputs.n
        k = chunk or min(_default_chunk(n, max(1, max(inputs.sizes)) * 4), _HESS_MAX_CHUNK)
        k = max(1, min(k, n)) if n else 1
        tag = _core.new_tag()
        H = np.zeros((n, n))
        starts = list(range(0, n, k))
        pool = _arrays.pool_on()
        try:
            for bi, s1 in enumerate(starts):
                k1 = min(k, n - s1)
                for s2 in starts[bi:]:
                    k2 = min(k, n - s2)
                    out = inputs.call(f, kwargs, _seed2(inputs, s1, k1, s2, k2, tag))
                    v, t12 = _read(_tangents2, out, k1, k2, tag, "hessian")
                    _scalar_output(v, "hessian")
                    if s1 == s2:
                        # symmetric in exact arithmetic; the upper triangle is the one kept,
                        # so the result is symmetric bit for bit whatever the rounding
                        t12 = np.where(_upper(k1), t12, t12.T)
                    H[s1:s1 + k1, s2:s2 + k2] = t12
                    H[s2:s2 + k2, s1:s1 + k1] = t12.T
        finally:
            _arrays.pool_off(pool)
        if n == 0:
            out = inputs.call(f, kwargs, inputs.arrays)
            v, _ = _read(_tangents, out, 1, tag, "hessian")
            _scalar_output(v, "hessian")
        if single:
            a = inputs.arrays[0]
            return float(H[0, 0]) if a.ndim == 0 and inputs.scalars[0] else \
                H.reshape(a.shape + a.shape)
        blocks = []
        for r, a in enumerate(inputs.arrays):
            row = []
            for c, b in enumerate(inputs.arrays):
                blk = H[inputs.offsets[r]:inputs.offsets[r + 1],
                        inputs.offsets[c]:inputs.offsets[c + 1]].reshape(a.shape + b.shape)
                row.append(float(blk) if a.ndim == 0 and b.ndim == 0 and inputs.scalars[r]
                           and inputs.scalars[c] else blk)
            blocks.append(tuple(row))
        return blocks[0][0] if single else tuple(blocks)

    _wrap_doc(hess, f, "hessian")
    return hess


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
    tag = _core.new_tag()
    seeded = []
    for j, (a, tv) in enumerate(zip(inputs.arrays, tangents)):
        t, _ = _as_input(tv, j, "jvp (tangents)")
        if t.shape != a.shape:
            raise ValueError(f"jvp: tangent {j} has shape {t.shape} but its primal has shape "
                             f"{a.shape}")
        if a.ndim == 0:
            seeded.append(_core.seed_dual(float(a), float(t), tag))
        else:
            seeded.append(_arrays.seed(a, t[..., None], tag))
    pool = _arrays.pool_on()
    try:
        out = f(*seeded)
    finally:
        _arrays.pool_off(pool)
    if type(out) is Dual and _core.tag_of(out) == tag:
        return out.real, out.eps
    value, t = _read(_tangents, out, 1, tag, "jvp")
    scalar = value.ndim == 0
    return _out(value, scalar), _out(t[..., 0], scalar)


def hvp(f, argnums=0, chunk=None):
    """A function (x, v) -> H(x) v for a scalar-valued f: hyper-dual sweeps with e1 = v and
    e2 running over the n inputs in chunks (ceil(n/chunk) sweeps). Returns x's shape."""
    chunk = _check_chunk(chunk, "hvp")
    if isinstance(argnums, tuple):
        raise TypeError("hvp: argnums must be a single int")

    def hv(x, v, *rest, **kwargs):
        args = (x,) + rest
        single, nums = _check_argnums(argnums, len(args), "hvp")
        inputs = _Inputs(args, nums, "hvp")
        vv, _ = _as_input(v, 1, "hvp (v)")
        a = inputs.arrays[0]
        if vv.shape != a.shape:
            raise ValueError(f"hvp: v has shape {vv.shape} but x has shape {a.shape}")
        n = inputs.n
        k = chunk or _default_chunk(n, max(1, a.size) * 2)
        k = max(1, min(k, n))
        tag = _core.new_tag()
        res = np.zeros(n)
        pool = _arrays.pool_on()
        try:
            for s2 in range(0, n, k):
                k2 = min(k, n - s2)
                out = inputs.call(f, kwargs, _seed2(inputs, 0, 1, s2, k2, tag,
                                                    fixed_e1=[vv[..., None]]))
                val, t12 = _read(_tangents2, out, 1, k2, tag, "hvp")
                _scalar_output(val, "hvp")
                res[s2:s2 + k2] = t12[0]
        finally:
            _arrays.pool_off(pool)
        return _out(res.reshape(a.shape), inputs.scalars[0])

    _wrap_doc(hv, f, "hvp")
    return hv


def _wrap_doc(g, f, name):
    fname = getattr(f, "__name__", type(f).__name__)
    g.__name__ = f"{name}({fname})"
    g.__qualname__ = g.__name__
    g.__doc__ = f"{name} of {fname} (dualdiff forward mode)."
    g.__wrapped__ = f
