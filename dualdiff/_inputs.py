"""What a transform differentiates: its arguments checked (argnums, types), flattened into
one vector of n input coordinates (pytrees contribute each leaf), and seeded along the
directions of a sweep -- basis vectors of a chunk (_Basis) or given vectors (_Given) --
with row windows where a chunk covers part of a vector. transforms.py runs the sweeps."""
import numbers

import numpy as np

from dualdiff import _arrays, _core, _pytree
from dualdiff._arrays import DualArray
from dualdiff._core import Dual, DualVec, HyperDual, HyperDualVec

DUALS = (Dual, HyperDual, DualVec, HyperDualVec, DualArray)

# identity seeds and triangle masks: a few sizes in use at a time (see _arrays.ReadonlyCache)
CACHE = _arrays.ReadonlyCache(2 << 20, 16)


def _dual(a):
    return isinstance(a, DUALS)


def _run(f, args, kwargs):
    """f on seeded arguments; a TypeError from inside it gets dualdiff's explanation."""
    try:
        return f(*args, **kwargs)
    except _core.EXPLAINED as e:
        _core.raise_explained(e)


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
    become float64. Everything else is a TypeError naming the argument. (A dual value, the
    argument of a transform nested in another, is taken apart by _Inputs.)"""
    if type(x) is np.ndarray and x.dtype == np.float64:          # the common case, quickly
        return x.copy(), False
    if type(x) is float:
        return np.array(x), True
    if isinstance(x, DUALS):
        return np.array(_arrays.value_of(x), dtype=np.float64), not isinstance(x, DualArray)
    _arrays.refuse_wide(x, f"{name}: argument {i}")
    if (_core.is_real(x) or isinstance(x, numbers.Real)) and not isinstance(x, (bool, np.bool_)):
        return np.array(float(x)), True              # numbers.Real: Fraction too, as a float
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


# ---------------------------------------------------------------------------------------
# seeding
# ---------------------------------------------------------------------------------------

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
    """The differentiated arguments, flattened into one vector of n input coordinates. An
    argument that is a pytree (dualdiff/_pytree.py) contributes each of its leaves; the
    per-leaf lists below (arrays, scalars, duals) run over all leaves of all arguments."""

    def __init__(self, args, nums, name):
        self.args = list(args)
        self.nums = nums
        self.arrays, self.scalars, self.duals = [], [], []
        self.trees = []                     # per argument: (Tree or None, its leaf count)
        for i in nums:
            leaves, tree = _pytree.flatten(args[i])
            self.trees.append((tree if tree is not _pytree.LEAF else None, len(leaves)))
            for leaf in leaves:
                a, scalar = _as_input(leaf, i, name)
                self.arrays.append(a)
                self.scalars.append(scalar)
                # a dual argument: this transform runs inside another (nested), whose values
                # it keeps as the lower levels of its own
                self.duals.append(leaf if isinstance(leaf, DUALS) else None)
        self.nested = any(d is not None for d in self.duals)
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
            eye = CACHE.get(("eye", k), lambda: np.eye(k))
            return (eye if a.ndim == 1 else eye.reshape(a.shape + (k,))), -1, -1
        if a.ndim == 1:
            # a vector with some of its elements seeded: store just those rows (windows)
            if hi - lo == k and off + lo == d.start:
                # the rows are the identity (the usual case): the cached one, no scatter
                return CACHE.get(("eye", k), lambda: np.eye(k)), lo, hi
            rows = np.zeros((hi - lo, k))
            r = np.arange(hi - lo)
            rows[r, off + lo + r - d.start] = 1.0
            return rows, lo, hi
        t = np.zeros((a.size, k))
        r = np.arange(lo, hi)
        t[r, off + r - d.start] = 1.0
        return t.reshape(a.shape + (k,)), -1, -1

    def _dense(self, j, d):
        """The tangent of argument j along directions d, every row stored."""
        t, lo, hi = self._window(j, d)
        if lo < 0:
            return t
        a = self.arrays[j]
        full = np.zeros((a.size, t.shape[-1]))
        full[lo:hi] = t
        return full

    def seed(self, tag, d1, d2=None):
        """The arguments of one sweep: e1 along directions d1 (and e2 along d2); a dual
        argument (nested transforms) gets them as one (two) levels on top of its own."""
        seeded = []
        for j, a in enumerate(self.arrays):
            x = self.duals[j]
            if x is not None or (isinstance(d1, _Given) and _dual(d1.tangents[j])) or \
                    (isinstance(d2, _Given) and _dual(d2.tangents[j])):
                if d2 is None and x is not None:
                    t1, lo1, hi1 = self._window(j, d1)      # windows kept where they can be
                    x = _arrays.add_level(x, t1, tag, lo1, hi1)
                else:
                    x = _arrays.add_level(a if x is None else x, self._dense(j, d1), tag)
                    if d2 is not None:
                        x = _arrays.add_level(x, self._dense(j, d2), tag)
                seeded.append(_arrays.to_scalar(x) if a.ndim == 0 and self.scalars[j] else x)
                continue
            t1, lo1, hi1 = self._window(j, d1)
            if a.ndim == 0 and d1.k == 1 and (d2 is None or d2.k == 1):
                # a scalar argument on a one-direction sweep: the compiled scalar
                if d2 is None:
                    seeded.append(_core.seed_scalar(float(a), tag, float(t1[0])))
                else:
                    t2, _, _ = self._window(j, d2)
                    seeded.append(_core.seed_scalar(float(a), tag, float(t1[0]), float(t2[0])))
            elif d2 is None:
                seeded.append(_arrays.seed(a, (tag,), t1, None, lo1, hi1))
            else:
                t2, lo2, hi2 = self._window(j, d2)
                seeded.append(_arrays.seed(a, (tag, tag), t1, t2, lo1, hi1, lo2, hi2))
        return seeded

    def call(self, f, kwargs, seeded):
        args = list(self.args)
        for i, x in zip(self.nums, self.regroup(seeded)):
            args[i] = x
        return _run(f, args, kwargs)

    def directions_like(self, values, name, what):
        """Per-leaf direction arrays (leaf.shape + (1,)) from values shaped like the
        differentiated arguments (a tree each where the argument is one); a dual value
        (nested: it depends on an outer transform's input) stays dual."""
        if len(values) != len(self.trees):
            raise ValueError(f"{name}: {len(values)} {what} for {len(self.trees)} argument(s)")
        out, j = [], 0
        for (tree, count), v in zip(self.trees, values):
            leaves, vtree = _pytree.flatten(v)
            if len(leaves) != count or (tree is None) != (vtree is _pytree.LEAF):
                raise ValueError(f"{name}: the {what} must have the structure of the argument "
                                 "it goes with")
            for leaf in leaves:
                t, _ = _as_input(leaf, j, f"{name} ({what})")
                a = self.arrays[j]
                if t.shape != a.shape:
                    raise ValueError(f"{name}: {what[:-1] if what.endswith('s') else what} {j} "
                                     f"has shape {t.shape} but its primal has shape {a.shape}")
                out.append(_arrays.lift(leaf)[..., None] if _dual(leaf) else t[..., None])
                j += 1
        return out

    def regroup(self, per_leaf):
        """One entry per argument from one per leaf: a tree's leaves back in its structure."""
        out, j = [], 0
        for tree, count in self.trees:
            out.append(per_leaf[j] if tree is None else tree.unflatten(per_leaf[j:j + count]))
            j += count
        return out

    def split(self, flat_lead, trailing_shape=()):
        """Cut an array whose last axis runs over the n inputs into one piece per leaf."""
        if len(self.arrays) == 1:
            a = self.arrays[0]
            return [flat_lead if a.ndim == 1 else flat_lead.reshape(trailing_shape + a.shape)]
        out = []
        for j, a in enumerate(self.arrays):
            piece = flat_lead[..., self.offsets[j]:self.offsets[j + 1]]
            out.append(piece.reshape(trailing_shape + a.shape))
        return out


class _OneArray:
    """jvp's inputs when they are one float64 array with one tangent array: what _Inputs
    does for the general case (pytrees, several arguments, windows, nesting) costs ~3 us a
    call, most of a small jvp's fixed cost; this seeds the array directly."""
    __slots__ = ("x", "t", "n")
    nested = False

    def __init__(self, x, t):
        self.x, self.t, self.n = x, t[..., None], x.size

    def seed(self, tag, d1, d2=None):
        return _arrays.seed(self.x, (tag,), self.t, None, -1, -1)

    def call(self, f, kwargs, seeded):
        return _run(f, (seeded,), kwargs)

    @staticmethod
    def fits(primals, tangents):
        if len(primals) != 1:
            return False
        x, t = primals[0], tangents[0]
        return type(x) is np.ndarray and type(t) is np.ndarray and x.dtype == np.float64 \
            and t.dtype == np.float64 and x.shape == t.shape and x.ndim and x.size
