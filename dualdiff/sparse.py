"""Sparse Jacobians and Hessians: dd.sparse_jacobian and dd.sparse_hessian, and the prepared
objects that reuse a pattern and its colouring across calls.

    J = dd.sparse_jacobian(F)(x)            # scipy.sparse.csr_array, shape (F(x).size, x.size)
    H = dd.sparse_hessian(f)(x)             # symmetric csr_array, shape (x.size, x.size)
    jac = dd.sparse_jacobian(F).prepare(x)  # detection + colouring once ...
    jac(x1), jac(x2)                        # ... then one compressed sweep per call

How. The pattern is detected by running f once on a tracer (dualdiff/_tracer.py: per element
the set of inputs it depends on; for Hessians also the input pairs that meet in a nonlinear
operation), or given by the user (sparsity=). A Jacobian's columns are coloured so that no two
columns of one colour share a row (dualdiff/_coloring.pyx); ONE forward sweep along the
colours' seed vectors gives B = J S (m x ncolors), and each entry of J is read directly from
B: J[i, j] = B[i, color[j]]. Exact: forward-mode arithmetic, nothing is differenced or
solved. A Hessian is prepared with one of three methods (PreparedHessian.method):
"summands" where f is a fixed combination of full sums of arrays whose elements depend on
few inputs each (sum_k c_k np.sum(s_k): extended Rosenbrock, energies of stencils): ONE
hyper-dual sweep along two small colourings reads every element's Hessian entries directly
(_sparsity.SummandPlan) and adds them up; "sparse forward" for any other f the tracer's
numeric mode follows -- a forward mode whose gradient and Hessian parts are stored sparse,
over each element's own inputs and pairs -- whose cost follows the nonzeros, not n;
"compressed" for functions the numeric mode cannot follow (numpy.linalg, say), and up to
128 inputs: hyper-dual sweeps with e1 = the star colouring's seed S and e2 = windows of the
identity, which give H S, read by the star colouring's recovery (also exact, but about
n^1.5 work). .prepare computes the Hessian by the general method and keeps "summands" only
where its result agrees to rounding.

When is a detected pattern valid elsewhere? The tracer keeps every branch of np.where,
maximum, minimum, clip, abs, max/min reductions, np.sort and maximum.accumulate (and
minimum's, fmax's, fmin's), so such code gives a pattern that holds at every point. Python
control flow on values (`if x[0] > 0:`, a loop whose length depends on x) follows the point
traced: the pattern may differ at another x. prepared.check(x) detects again at x and says
whether the prepared pattern still covers it, and calls verify themselves (below). Constant
arrays' zeros in products (a constant matrix @ x) are structural: the pattern leaves them out.

Safety net. Every call (verify=True, the default) also evaluates the result along one random
direction -- one more column of the colours' sweep, or a sweep of its own where that width
has no compiled loops -- and compares: a pattern that misses an
entry (control flow changed it since .prepare, a wrong user pattern, a dd.custom_jvp rule
whose structure differs from its primal code) raises ValueError instead of returning a wrong
matrix. The numeric-mode Hessian checks itself (an entry outside the pattern raises), and its
preparation compares it with one hyper-dual sweep along random directions. The summands'
sweep reads the weights of f's sums afresh at every call (they may depend on f's other
arguments) and takes the numeric mode for a call whose sums are not those prepared; its
check (verify=True) is one more e2 direction, and with verify=False it trusts, like
sparse_jacobian's, that control flow has not moved an element's inputs since .prepare.

scipy is needed for the output (scipy.sparse.csr_array): an optional dependency of this
module only.
"""
import contextlib
import copy
import numbers
import threading

import numpy as np

from dualdiff import _arrays, _coloring, _executor, _inputs, _sparsity, _tracer, transforms

__all__ = ["sparse_jacobian", "sparse_hessian"]

# relative agreement of the random-direction check: far above the rounding of two orders of
# summation (even through cancelling intermediates), far below what a missing entry makes
_PROBE_TOL = 1e-6
_PROBE_FLOOR = 256 * np.finfo(np.float64).eps   # of the largest row's size (_check_probe)
_GREEDY_NNZ = 200_000            # beyond this many entries "auto" colours greedily first
_ONE_WINDOW = 128                # Hessians of up to this many inputs: one compressed sweep


def _probe(n, seed):
    """The checks' random direction: entries uniform on [-1.5, -1) and [0.5, 1), never near
    zero, where a missing entry's share of the product would fall below the check's
    tolerance (and cheaper to draw than normal deviates)."""
    u = np.random.default_rng(seed).random(n)
    return np.where(u < 0.5, u - 1.5, u)


def _as_input(x, argnum, name):
    """The differentiated argument as a fresh float64 array (the transforms' rules)."""
    if isinstance(x, _tracer.Tracer) or _arrays.lift(x) is not None:
        raise TypeError(f"{name}: argument {argnum} is a dual or traced value of an enclosing "
                        "transform; sparse transforms cannot be nested inside other transforms")
    if isinstance(x, (bool, np.bool_)):
        raise TypeError(f"{name}: argument {argnum} must be a real number or a numeric array, "
                        "got a bool")
    if isinstance(x, numbers.Real) and not isinstance(x, (int, float, np.generic)):
        x = float(x)                    # fractions.Fraction, ...: a real number (API.md)
    try:
        a = np.array(x, copy=True)
    except (TypeError, ValueError):
        a = None
    if a is None or a.dtype.kind not in "fiu":
        what = f"an array of dtype {a.dtype}" if a is not None else type(x).__name__
        raise TypeError(f"{name}: argument {argnum} must be a real number, a list of numbers or "
                        f"an int/float array to differentiate with respect to it, got {what}")
    return a.astype(np.float64, copy=False)


def _argnum(argnums, nargs, name):
    if isinstance(argnums, bool) or not isinstance(argnums, (int, np.integer)):
        raise TypeError(f"{name}: argnums must be one int (the sparse transforms differentiate "
                        f"with respect to one array argument), got {argnums!r}")
    if not -nargs <= argnums < nargs:
        valid = f"0..{nargs - 1}" if nargs else "none (f was called with no arguments)"
        raise ValueError(f"{name}: argnums {argnums} is out of range: f was called with {nargs} "
                         f"positional argument(s), valid argnums are {valid}")
    return int(argnums) % nargs


def _check_coloring(coloring, name):
    if coloring not in ("auto", "best") + tuple(_coloring.ORDERS):
        raise ValueError(f"{name}: coloring must be 'auto', 'best' or one of "
                         f"{', '.join(_coloring.ORDERS)}; got {coloring!r}")
    return coloring


def _colors(pattern, coloring, star):
    """Colours of a pattern. "auto": "best" (every greedy order and ColPack-style search)
    where it pays: patterns of up to _GREEDY_NNZ entries, and larger ones that natural order,
    largest-first, smallest-last or incidence-degree colours within twice the lower bound (the
    longest row): stencil-like patterns, where the search reaches the optimum in about one
    greedy pass. Large irregular patterns take the best of those four greedy orders (there the
    searches cost seconds for a few percent)."""
    p = pattern
    color = _coloring.star_coloring if star else _coloring.column_coloring
    if coloring != "auto":
        return color(p.indptr, p.indices, p.shape, order=coloring)
    # the compiled "auto" tries the search first (stencils: the optimum in about one greedy
    # pass), then natural order, and gives up the searches where that is over twice the bound
    return color(p.indptr, p.indices, p.shape,
                 order="best" if star or p.nnz <= _GREEDY_NNZ else "auto")


class _Prepared:
    """What .prepare returns: the pattern, its colouring and the gather index, reused by
    every call (one compressed sweep and one gather)."""

    def __init__(self, f, argnum, x, pattern, colors, name, verify, executor):
        self.f, self.argnum, self.name, self.verify = f, argnum, name, verify
        # the executor's cost model remembers what a sweep of this object costs
        self.executor = executor
        self._tuner = _executor.Tuner() if executor is not None else None
        self.in_shape = x.shape
        self.pattern = pattern
        self.colors = np.asarray(colors)
        self.ncolors = int(self.colors.max()) + 1 if self.colors.size and pattern.nnz else 0
        self.shape = pattern.shape
        self._template = None             # the csr_array _csr copies
        self._indptr = None               # the pattern's indptr as int64, for _check

    def _inputs(self, args, kwargs):
        if len(args) <= self.argnum:
            raise TypeError(f"{self.name}: the prepared function was prepared with argument "
                            f"{self.argnum} differentiated, but got {len(args)} positional "
                            "argument(s)")
        x = _as_input(args[self.argnum], self.argnum, self.name)
        if x.shape != self.in_shape:
            raise ValueError(f"{self.name}: prepared for an argument of shape {self.in_shape}, "
                             f"called with shape {x.shape}; prepare again for this shape")
        return x

    def _csr(self, data):
        """A csr_array of these data on fresh copies of the pattern's index arrays. It is a
        shallow copy of one checked once: scipy's constructor checks the format at every
        call (~15 us, three times f of a Rosenbrock of n = 1000)."""
        H = self._template
        if H is None:
            sp = _sparsity.scipy_sparse()
            p = self.pattern
            H = self._template = sp.csr_array((data, p.indices, p.indptr), shape=p.shape)
        H = copy.copy(H)
        H.data, H.indices, H.indptr = data, H.indices.copy(), H.indptr.copy()
        return H

    def _shared(self, data):
        """A csr_array on the prepared pattern's own index arrays (internal use only)."""
        sp = _sparsity.scipy_sparse()
        p = self.pattern
        return sp.csr_array((data, p.indices, p.indptr), shape=p.shape, copy=False)

    def _indptr64(self):
        if self._indptr is None:
            self._indptr = self.pattern.indptr.astype(np.int64)
        return self._indptr

    def _check(self, data, want, v):
        """The recovered entries (CSR data on the pattern) times the probe v against the plain
        sweep's product: one compiled pass, and numpy's explanation only when it fails."""
        p = self.pattern
        if not _coloring.probe_agrees(self._indptr64(), p.indices, data, v, want, _PROBE_TOL):
            A = self._shared(data)
            _check_probe(A @ v, want, self._shared(np.abs(data)) @ np.abs(v), self.name,
                         "Hessian" if isinstance(self, PreparedHessian) else "Jacobian")

    def __repr__(self):
        return (f"<{type(self).__name__} of {getattr(self.f, '__name__', self.f)}: shape "
                f"{self.shape}, {self.pattern.nnz} entries, {self.ncolors} colours>")


class PreparedJacobian(_Prepared):
    """A sparse Jacobian with its pattern and column colouring fixed: call it at any x (of
    the prepared shape; f's other arguments as you like) for the csr_array.

    Attributes: pattern (boolean csr_array), colors (one per column), ncolors, shape."""

    def __init__(self, f, argnum, x, pattern, colors, name, chunk, verify, executor=None,
                 probe=None):
        super().__init__(f, argnum, x, pattern, colors, name, verify, executor)
        self.chunk = chunk
        p = pattern
        self._made = {}                   # (kind, width) -> seed matrix or recovery index
        self._gathers = None              # (step, blocks): _block_gathers
        self._v = _probe(x.size, 0)
        # the probe as one more column of the one sweep (entry (r, c) of J S moves to
        # r (k + 1) + c): f's values are computed once, not twice. Only where k + 1 still has
        # compiled loops of its own width (the arithmetic's and the cheap rules'); past them
        # a wider sweep costs more than a separate one
        k = self.ncolors
        self._fold = bool(p.nnz) and k + 1 in _arrays.SMALL_DIRECTIONS and \
            (chunk is None or chunk > k)
        if p.nnz:
            # what this object's calls use is made here (probe: whether they check, verify
            # unless told; the transform's own one call always does), another width at its
            # first use
            probe = verify if probe is None else probe
            width = k + 1 if probe and self._fold and executor is None else k
            self._seed(width)
            self._index(width)

    def _seed(self, width):
        """The seed matrix of `width` columns: the colours', then the probe's."""
        S = self._made.get(("seed", width))
        if S is None:
            S = _coloring.seed_matrix(self.colors, width=width)
            if width > self.ncolors:
                S[:, self.ncolors] = self._v
            self._made["seed", width] = S
        return S

    def _index(self, width):
        """The recovery index into a sweep's result of `width` columns (intp, not int32:
        np.take casts any other index to intp first, a copy of nnz integers at every call)."""
        index = self._made.get(("index", width))
        if index is None:
            p = self.pattern
            index = _coloring.column_recovery_index(p.indptr, p.indices, p.shape, self.colors,
                                                    width=width).astype(np.intp, copy=False)
            self._made["index", width] = index
        return index

    def __call__(self, *args, **kwargs):
        x = self._inputs(args, kwargs)
        return self._evaluate(x, args, kwargs, probe=self.verify)

    def _evaluate(self, x, args, kwargs, probe):
        p = self.pattern
        if not p.nnz:
            return self._csr(np.zeros(0))
        k = self.ncolors
        if probe and self._fold and self.executor is None:
            S, index = self._seed(k + 1), self._index(k + 1)
            call = _with(args, self.argnum, x)
            with _arrays.pooled():
                D = np.ascontiguousarray(self._sweeps(x, call, kwargs, [S])[0])
                # the gather and the probe's check in one pass over the entries
                data = np.empty(index.size)
                agree = _coloring.gather_probe(self._indptr64(), p.indices, D, index,
                                               self._v, k, _PROBE_TOL, data)
                want = None if agree else D[:, k].copy()
            J = self._csr(data)
            if want is not None:
                self._check(data, want, self._v)          # explains the disagreement
            return J
        step = k if self.chunk is None else self.chunk
        if self.executor is not None and self.chunk is None:
            # one sweep per worker, as the dense transforms split with chunk=None
            step = -(-k // max(1, _executor.workers(self.executor, self.name)))
        S = self._seed(k)
        blocks = [S[:, s:s + step] for s in range(0, k, step)]
        if probe:
            # the check is a sweep of its own: one more column in the sweeps above can cost
            # far more than a sweep of one direction
            blocks.append(self._v[:, None])
        call = _with(args, self.argnum, x)
        # all sweeps in one pool context: the later ones reuse the first one's blocks (a
        # sweep of one direction alone is below the size at which transforms pool memory)
        with _arrays.pooled():
            if self.executor is None and len(blocks) > 1 + probe:
                # several sweeps here: each block's entries go into the CSR data as soon as
                # its sweep ends, so that memory holds one block's sweep at a time (chunk is
                # the way to bound memory), not every block and their concatenation
                data = np.empty(p.nnz)
                for V, (pos, src) in zip(blocks, self._block_gathers(step)):
                    D = self._sweeps(x, call, kwargs, [V])[0]
                    data[pos] = np.take(D.reshape(-1), src)
                    del D
                want = self._sweeps(x, call, kwargs, blocks[-1:])[0][:, 0].copy() \
                    if probe else None
            else:
                D = self._sweeps(x, call, kwargs, blocks)
                want = D.pop()[:, 0].copy() if probe else None
                B = D[0] if len(D) == 1 else np.concatenate(D, axis=1)
                # the CSR data too comes from the pool's warm blocks (fresh pages cost more
                # than the gather)
                data = np.take(B.reshape(-1), self._index(k))
        J = self._csr(data)
        if probe:
            self._check(data, want, self._v)
        return J

    def _block_gathers(self, step):
        """For sweeps of `step` colours at a time: per block, (positions in the CSR data,
        positions in that block's m x step result) of the entries whose colour it holds.
        Made at the first call and kept (2 nnz integers; step is fixed per object)."""
        made = self._gathers
        if made is None or made[0] != step:
            k = self.ncolors
            row, color = np.divmod(self._index(k), k)
            # the entries by colour (stable: each block's in CSR order), split at the blocks'
            # first colours -- one sort, not a pass over every entry per block
            order = np.argsort(color, kind="stable")
            cuts = np.searchsorted(color[order], np.arange(0, k, step))
            cuts = np.append(cuts, order.size)
            blocks = []
            for b, lo in enumerate(range(0, k, step)):
                w = min(step, k - lo)
                pos = order[cuts[b]:cuts[b + 1]]
                blocks.append((pos, row[pos] * w + (color[pos] - lo)))
            made = self._gathers = (step, blocks)     # one assignment: safe across threads
        return made[1]

    def _sweeps(self, x, call, kwargs, blocks):
        """[J V for V in blocks] (each m x V.shape[1]): one forward sweep along the columns
        of each block, here or on the executor (the same sweeps, bit for bit)."""
        m = self.pattern.shape[0]
        shaped = [V.reshape(x.shape + (V.shape[1],)) for V in blocks]
        if self.executor is None:
            outs = [transforms.directional(self.f, call, kwargs, self.argnum, V,
                                           name=self.name) for V in shaped]
        else:
            outs = _executor.directional_sweeps(self.executor, self.f, call, kwargs,
                                                self.argnum, shaped, name=self.name,
                                                tuner=self._tuner)
        res = []
        for (value, D), V in zip(outs, blocks):
            if np.size(value) != m:
                raise ValueError(f"{self.name}: f returned {np.size(value)} values here but "
                                 f"{m} where the pattern was made; prepare again")
            res.append(np.asarray(D).reshape(m, V.shape[1]))
        return res

    def check(self, *args, **kwargs):
        """Whether the prepared pattern covers the pattern detected afresh at these
        arguments (control flow on values can change it)."""
        x = self._inputs(args, kwargs)
        fresh, _ = _sparsity.jacobian_pattern(self.f, _with(args, self.argnum, x), kwargs,
                                              self.argnum, x)
        return _covers(self.pattern, fresh)


def _with(args, i, x):
    a = list(args)
    a[i] = x
    return tuple(a)


def _covers(pattern, fresh):
    if fresh.shape != pattern.shape:
        return False
    missing = fresh.astype(np.int8) - fresh.multiply(pattern).astype(np.int8)
    return missing.count_nonzero() == 0


def _check_probe(got, want, scale, name, what):
    """A sparse result times a random vector against the same product from a plain forward
    sweep: a missing entry shows as a difference far beyond rounding."""
    got, want, scale = (np.asarray(a, dtype=np.float64).reshape(-1) for a in (got, want, scale))
    # an inf or NaN on one side only is a disagreement too (never a silent NaN entry)
    both_nan = np.isnan(got) & np.isnan(want)
    odd = ~(np.isfinite(got) & np.isfinite(want)) & ~((got == want) | both_nan)
    ok = np.isfinite(got) & np.isfinite(want) & np.isfinite(scale)
    err = np.abs(got - want)[ok]
    size = scale[ok] + np.abs(want[ok])
    # plus a floor of rounding at the matrix's own scale: a row whose true entries are 0 holds
    # rounding noise of the intermediate quantities (eigvals of a triangular matrix: 1e-16 on
    # both sides, different noise), which no row-relative bound can tell from a missing entry.
    # The compiled check (_coloring) applies the row-relative bound alone: stricter, so its
    # "agrees" stands and only its "disagrees" comes here
    floor = _PROBE_FLOOR * (np.max(size) if size.size else 0.0)
    bound = _PROBE_TOL * size + floor + 1e-300
    if np.any(odd) or np.any(err > bound):
        i = int(np.flatnonzero(odd)[0]) if np.any(odd) else \
            int(np.flatnonzero(ok)[np.argmax(err / bound)])
        raise ValueError(
            f"{name}: the {what} on its sparsity pattern disagrees with a forward sweep along a "
            f"random direction (row {i}: {got[i]!r} vs {want[i]!r}): the pattern misses entries. "
            "Either control flow on values changed the pattern since .prepare (prepare again "
            "at this point), or a given sparsity= pattern is wrong, or a dd.custom_jvp rule's "
            "derivative depends on inputs its primal code does not (give the full pattern with "
            "sparsity=)")


class PreparedHessian(_Prepared):
    """A sparse Hessian with its pattern and star colouring fixed: call it at any x for the
    symmetric csr_array. method is "summands" (one hyper-dual sweep reading the elements of
    the arrays f sums: see the module docstring), "sparse forward" (the tracer's numeric
    mode) or "compressed" (hyper-dual sweeps along the star colouring: for up to 128 inputs,
    where one sweep does it, and for functions the numeric mode cannot follow).

    Attributes: pattern (symmetric boolean csr_array), colors, ncolors, shape, method."""

    def __init__(self, f, argnum, x, pattern, colors, name, verify, method, executor=None):
        super().__init__(f, argnum, x, pattern, colors, name, verify, executor)
        self.method = method
        p = pattern
        n = p.shape[0]
        rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(p.indptr))
        cols = p.indices.astype(np.int64)
        code = np.minimum(rows, cols) * n + np.maximum(rows, cols)
        self._codes, self._where = np.unique(code, return_inverse=True)
        self._star_index = None
        self._plan = None                 # the "summands" method's SummandPlan
        self._seeds = {}                  # its seeds, with and without the probe
        self._general = method            # the method a summands call falls back to

    def __call__(self, *args, **kwargs):
        x = self._inputs(args, kwargs)
        if self.method == "summands":
            H = self._summands(x, args, kwargs, probe=self.verify)
            if H is not None:
                return H
            # f's sums are not what they were at .prepare (control flow, a coefficient
            # that now multiplies x): this call takes the method that follows any f
            if self._general == "compressed":
                return self._compressed(x, args, kwargs, probe=self.verify)
            return self._numeric(x, args, kwargs)
        if self.method == "sparse forward":
            return self._numeric(x, args, kwargs)
        return self._compressed(x, args, kwargs, probe=self.verify)

    def _summands(self, x, args, kwargs, probe):
        """H from one hyper-dual sweep that reads every summand element's Hessian entries
        (_sparsity.SummandPlan), or None when f's full sums differ from the prepared ones or
        f is not a fixed combination of them here.

        The weights of the sums in f (0.5 and -lambda in the Bratu energy; they may depend
        on f's other arguments) are read exactly: each recorded sum's result leaves the hook
        with its e1e2 part replaced by a marker, a one at its own position of the seeds'
        block, so f's e1e2 part is sum_k c_k marker_k wherever f combines its sums linearly
        with weights that do not depend on x. Anything else -- a sum used nonlinearly or in
        a later summand, another term of f with second derivatives -- leaves numbers off the
        markers, and the call takes the general method."""
        plan = self._plan
        seeds = self._seeds.get(probe)
        if seeds is None:
            seeds = self._seeds[probe] = self._summand_seeds(probe)
        S1, S2, places, M, maps = seeds
        k1, width = S1.shape[-1], S2.shape[-1]
        call = _with(args, self.argnum, x)
        # the summands' parts are read inside one pool context: their blocks stay theirs
        with _arrays.pooled(), _capturing_sums(k1, width, places) as sink:
            value, D = transforms.directional(self.f, call, kwargs, self.argnum, S1, S2,
                                              name=self.name)
            _sparsity.scalar_output(value, self.name)
            if [a.shape for a, _ in sink] != plan.shapes:
                return None
            K = len(sink)
            b = np.asarray(D, dtype=np.float64).reshape(-1).copy()
            coef = b[places[:K]]
            b[places[:K]] = 0.0
            if np.any(b != 0.0):
                return None
            data = np.zeros(self._where.size)
            want = np.zeros(k1)
            for c, (ptr, idx), (a, _) in zip(coef, maps, sink):
                if c == 0.0:
                    continue
                e12 = np.ascontiguousarray(a.eps12, dtype=np.float64).reshape(-1)
                _coloring.segment_sum(ptr, idx, e12, c, data)
                if probe:
                    want += c * e12.reshape(-1, k1, width)[:, :, -1].sum(axis=0)
        H = self._csr(data)
        if probe:
            # the probe column: S1^T H w from the summands' own sums against the assembled H
            # (an entry read off the wrong input, a pair the pattern lacks: far beyond
            # rounding)
            colour, w = M
            got, scale = _coloring.group_products(self._indptr64(), self.pattern.indices,
                                                  data, w, colour, k1)
            if not np.all(np.abs(got - want) <= _PROBE_TOL * (scale + np.abs(want))):
                _check_probe(got, want, scale, self.name, "Hessian")
        return H

    def _summand_seeds(self, probe):
        """(S1, S2, marker places, probe map, data maps) of the summands' sweep: the seeds
        shaped as x + (k,); per summand a csr_array from its flattened eps12 straight to the
        CSR data of H (the plan's map to the upper triangle, its rows repeated where both
        triangles hold the entry). The probe rides along e2 (one more e2 direction costs k1
        entries per element, one more e1 direction k2: the e2 colours are the wider ones)."""
        plan = self._plan
        S2, M = plan.seed2, None
        if probe:
            w = _probe(self.shape[0], 4)
            S2 = np.concatenate([S2, w[:, None]], axis=1)
            M = self._probe_map(w)
        k1, k2, width = plan.k1, plan.k2, S2.shape[1]
        # marker k sits at (k // k2, k % k2) of the seeds' block (never in the probe column)
        places = np.array([(k // k2) * width + k % k2 for k in range(k1 * k2)])
        maps = plan.gathers(width, self._where)
        return (plan.seed1.reshape(self.in_shape + (k1,)),
                S2.reshape(self.in_shape + (width,)), places, M, maps)

    def _probe_map(self, w):
        """(colour of each row, w) with S1^T H w = group_products(H's CSR, w, colour): entry p
        adds data[p] w[its column] to the e1 colour of its row, in one compiled pass (not a
        product with a dense (nnz x k1) matrix: 14 ms at n = 10^5; two np.bincount: 3.5 ms)."""
        return self._plan.colors1.astype(np.int64), w

    def _numeric(self, x, args, kwargs):
        _, codes, vals = _sparsity.hessian_entries(self.f, _with(args, self.argnum, x), kwargs,
                                                   self.argnum, x)
        return self._csr(self._place(codes, vals))

    def _place(self, codes, vals):
        """CSR data from upper-triangle entries (code, value): each symmetric pair of
        positions reads the same number, so the result is symmetric bit for bit."""
        if codes.shape == self._codes.shape and np.array_equal(codes, self._codes):
            upper = vals
        else:
            at = np.searchsorted(self._codes, codes)
            inside = at < self._codes.size
            inside[inside] = self._codes[at[inside]] == codes[inside]
            if not inside.all():
                n = self.shape[0]
                i, j = divmod(int(codes[~inside][0]), n)
                raise ValueError(f"{self.name}: the Hessian here has an entry ({i}, {j}) outside "
                                 "the prepared pattern: control flow on values changed the "
                                 "pattern (or a given sparsity= misses it); prepare again at "
                                 "this point")
            upper = np.zeros(self._codes.size)
            upper[at] = vals
        return upper[self._where]

    def _compressed(self, x, args, kwargs, probe):
        """H S by hyper-dual sweeps: e1 = the star seed (and the probe), e2 = windows of the
        identity; the star recovery reads H from H S."""
        p = self.pattern
        n = x.size
        if not p.nnz:
            return self._csr(np.zeros(0))
        if self._star_index is None:
            self._star_index = _coloring.star_recovery_index(p.indptr, p.indices, p.shape,
                                                             self.colors)
        S = _coloring.seed_matrix(self.colors)
        if probe:
            S = np.concatenate([S, _probe(n, 1)[:, None]], axis=1)
        HS = _hessian_times(self.f, _with(args, self.argnum, x), kwargs, self.argnum, x, S,
                            self.name, self.executor, self._tuner)
        data = np.ascontiguousarray(HS[:, :self.ncolors]).reshape(-1)[self._star_index]
        if probe:
            self._check(data, np.ascontiguousarray(HS[:, -1]), _probe(n, 1))
        return self._csr(data)

    def check(self, *args, **kwargs):
        """Whether the prepared pattern covers the Hessian pattern detected afresh at these
        arguments."""
        x = self._inputs(args, kwargs)
        fresh, _ = _sparsity.hessian_pattern(self.f, _with(args, self.argnum, x), kwargs,
                                             self.argnum, x)
        return _covers(self.pattern, fresh)


# The dual-array side of the "summands" method: while a sink is open in this thread, every
# full np.sum of a dual array (the same calls the tracer records: _tracer.is_full_sum) is
# recorded with its operand. The hook wraps the dual arrays' own np.sum handler only
# while some thread has a sink open; other threads' sums pass straight through it.
_sinks = threading.local()
_hook_lock = threading.Lock()
_hook = {"users": 0, "handler": None}


class _Sink(list):
    """The operands of one sweep's full sums, as (operand, None) pairs; the sums' results
    carry markers instead of their e12 parts."""

    def __init__(self, k1, k2, places):
        super().__init__()
        self.k1, self.k2, self.places = k1, k2, places     # places: flat marker positions


def _hooked_sum(*args, **kwargs):
    sink = getattr(_sinks, "sink", None)
    x = args[0] if args else None
    if sink is None or type(x) is not _arrays.DualArray or not _tracer.is_full_sum(args, kwargs):
        return _hook["handler"](*args, **kwargs)
    k = len(sink)
    sink.append((x, None))
    if k < len(sink.places) and x.order == 2 and \
            _arrays.directions(x) == (sink.k1, sink.k2):
        # the sum's e12 part becomes the marker: it is not summed at all (the summand's
        # entries are read from x itself)
        out = _arrays.sum_all(x, False)
        marker = np.zeros((sink.k1, sink.k2))
        marker.reshape(-1)[sink.places[k]] = 1.0
        return _arrays.from_levels(out.value, [out.eps1, out.eps2, marker], out.tags)
    return _hook["handler"](*args, **kwargs)


@contextlib.contextmanager
def _capturing_sums(k1, k2, places):
    with _hook_lock:
        if _hook["users"] == 0:
            _hook["handler"] = _arrays.FUNCTIONS[np.sum]
            _arrays.FUNCTIONS[np.sum] = _hooked_sum
        _hook["users"] += 1
    outer = getattr(_sinks, "sink", None)
    _sinks.sink = sink = _Sink(k1, k2, places)
    try:
        yield sink
    finally:
        _sinks.sink = outer
        with _hook_lock:
            _hook["users"] -= 1
            if _hook["users"] == 0:
                _arrays.FUNCTIONS[np.sum] = _hook["handler"]
                _hook["handler"] = None


def _hessian_times(f, args, kwargs, argnum, x, S, name, executor=None, tuner=None):
    """H S (n x k) of a scalar f: hyper-dual sweeps with e1 = S and e2 running over the
    identity in windows (a sweep stores only the rows its window reaches), here or on the
    executor (with fewer windows than workers: one window per worker)."""
    n, k = S.shape
    chunk = n if n <= _ONE_WINDOW else int(min(256, max(64, 2 * n ** 0.5)))
    if executor is not None and -(-n // chunk) < _executor.workers(executor, name):
        chunk = -(-n // _executor.workers(executor, name))
    inputs = _inputs._Inputs(args, (argnum,), name)
    e1 = _inputs._Given([S.reshape(x.shape + (k,))])
    plan = [(e1, _inputs._Basis(s, min(chunk, n - s))) for s in range(0, n, chunk)]
    out = np.empty((n, k))
    for (d1, d2), (v, t12) in zip(plan, _executor.planned_sweeps(executor, f, inputs, kwargs,
                                                                 plan, name, True, tuner)):
        out[d2.start:d2.start + d2.k] = np.asarray(t12).reshape(k, d2.k).T
    return out


# ---- the transforms ---------------------------------------------------------------------

class _SparseTransform:
    def __init__(self, f, argnums, sparsity, coloring, verify, name, executor):
        if not callable(f):
            raise TypeError(f"{name}: f must be callable, got {type(f).__name__}")
        if executor is not None:
            _executor.workers(executor, name)      # not an executor: refused here, named
        self.executor = executor
        if isinstance(argnums, bool) or not isinstance(argnums, (int, np.integer)):
            raise TypeError(f"{name}: argnums must be one int (the sparse transforms "
                            f"differentiate with respect to one array argument), got "
                            f"{argnums!r}")
        if not (isinstance(sparsity, str) and sparsity == "auto"):
            _sparsity.scipy_sparse()
            if isinstance(sparsity, str):
                raise ValueError(f"{name}: sparsity must be 'auto' or a pattern (a scipy "
                                 f"sparse matrix or boolean array), got {sparsity!r}")
        self.f, self.argnums, self.sparsity, self.name = f, argnums, sparsity, name
        self.coloring = _check_coloring(coloring, name)
        self.verify = bool(verify)
        self.__name__ = f"{name}({getattr(f, '__name__', type(f).__name__)})"
        self.__doc__ = f"{name} of {getattr(f, '__name__', f)} (dualdiff, sparse forward mode)."
        self.__wrapped__ = f

    def _start(self, args):
        _sparsity.scipy_sparse()
        argnum = _argnum(self.argnums, len(args), self.name)
        x = _as_input(args[argnum], argnum, self.name)
        return argnum, x


class SparseJacobian(_SparseTransform):
    """dd.sparse_jacobian(f): call it for the Jacobian as a scipy.sparse.csr_array of shape
    (f(x).size, x.size); .prepare(*args) for a PreparedJacobian that reuses the pattern."""

    def __init__(self, f, argnums, sparsity, coloring, chunk, verify, executor):
        super().__init__(f, argnums, sparsity, coloring, verify, "sparse_jacobian", executor)
        if chunk is not None and (isinstance(chunk, bool) or not isinstance(chunk, int)
                                  or chunk < 1):
            raise ValueError(f"sparse_jacobian: chunk must be a positive int or None, got "
                             f"{chunk!r}")
        self.chunk = chunk

    def _prepared(self, args, kwargs, probe=None):
        argnum, x = self._start(args)
        call = _with(args, argnum, x)
        if isinstance(self.sparsity, str) and x.size == 0:
            # no input to trace: an empty pattern, as many rows as f has outputs (the dense
            # transform reads them, with its errors for what is not a numeric output)
            J = transforms.jacobian(self.f, argnums=argnum)(*call, **kwargs)
            m = int(np.prod(np.shape(J)[:np.ndim(J) - x.ndim]))
            pattern = _sparsity.canonical(np.zeros((m, 0), bool), (m, 0), self.name)
        elif isinstance(self.sparsity, str):
            pattern, _ = _sparsity.jacobian_pattern(self.f, call, kwargs, argnum, x)
        else:
            rows = self.sparsity.shape[0] if hasattr(self.sparsity, "shape") else \
                np.shape(self.sparsity)[0]
            pattern = _sparsity.canonical(self.sparsity, (rows, x.size), self.name)
        colors = _colors(pattern, self.coloring, False) if pattern.nnz else \
            np.zeros(x.size, dtype=np.intp)
        return PreparedJacobian(self.f, argnum, x, pattern, colors, self.name, self.chunk,
                                self.verify, self.executor, probe), x, call

    def prepare(self, *args, **kwargs):
        """Detect (or take) the pattern at args and colour it; the returned PreparedJacobian
        evaluates J at any x (each call checked along a random direction, unless
        verify=False)."""
        return self._prepared(args, kwargs)[0]

    def __call__(self, *args, **kwargs):
        prepared, x, call = self._prepared(args, kwargs, probe=True)
        return prepared._evaluate(x, call, kwargs, probe=True)


class SparseHessian(_SparseTransform):
    """dd.sparse_hessian(f): call it for the Hessian of a scalar f as a symmetric
    scipy.sparse.csr_array of shape (x.size, x.size); .prepare(*args) for a
    PreparedHessian that reuses the pattern."""

    def __init__(self, f, argnums, sparsity, coloring, verify, executor):
        super().__init__(f, argnums, sparsity, coloring, verify, "sparse_hessian", executor)

    def prepare(self, *args, **kwargs):
        """Detect (or take) the pattern at args and star-colour it; choose the method (the
        tracer's numeric mode if it can follow f, checked against a hyper-dual sweep along
        random directions; else compressed sweeps)."""
        return self._prepare(args, kwargs)[0]

    def _prepare(self, args, kwargs):
        argnum, x = self._start(args)
        call = _with(args, argnum, x)
        n = x.size
        sums = []
        if isinstance(self.sparsity, str) and n == 0:
            # no input to trace: the dense transform still runs f once and refuses what is
            # not a scalar output, as it does for any input
            transforms.hessian(self.f, argnums=argnum)(*call, **kwargs)
            pattern = _sparsity.canonical(np.zeros((0, 0), bool), (0, 0), self.name,
                                          symmetric=True)
        elif isinstance(self.sparsity, str):
            pattern, _ = _sparsity.hessian_pattern(self.f, call, kwargs, argnum, x, sums)
        else:
            pattern = _sparsity.canonical(self.sparsity, (n, n), self.name, symmetric=True)
        colors = _colors(pattern, self.coloring, True) if pattern.nnz else \
            np.zeros(n, dtype=np.intp)
        prepared = PreparedHessian(self.f, argnum, x, pattern, colors, self.name, self.verify,
                                   "sparse forward", self.executor)
        prepared, H = self._reference(prepared, call, kwargs, argnum, x)
        if pattern.nnz and sums:
            plan = _sparsity.summand_plan(sums, n, prepared._codes,
                                          lambda p: _colors(p, self.coloring, False))
            if plan is not None:
                method, prepared.method, prepared._plan = prepared.method, "summands", plan
                prepared._general = method
                try:
                    H2 = prepared._summands(x, call, kwargs, probe=True)
                except ValueError:        # its probe disagrees: not this f
                    H2 = None
                if H2 is not None and _agree(H2, H):
                    return prepared, H2
                prepared.method, prepared._plan, prepared._seeds = method, None, {}
        return prepared, H

    def _reference(self, prepared, call, kwargs, argnum, x):
        """(prepared, H) by the method that follows any f: the numeric mode, checked against
        a hyper-dual sweep, or compressed sweeps."""
        n = x.size
        if n <= _ONE_WINDOW:
            # a few inputs: one hyper-dual sweep (e2 = the whole identity) costs less than
            # the tracer's bookkeeping
            prepared.method = "compressed"
            return prepared, prepared._compressed(x, call, kwargs, probe=True)
        try:
            H = prepared._numeric(x, call, kwargs)
        except _tracer.TracerUnsupported:
            prepared.method = "compressed"
            return prepared, prepared._compressed(x, call, kwargs, probe=True)
        # the numeric mode against one hyper-dual sweep: v^T H w along random directions
        v, w = _probe(n, 2), _probe(n, 3)
        val, d2 = transforms.directional(self.f, call, kwargs, argnum,
                                         v.reshape(x.shape + (1,)), w.reshape(x.shape + (1,)),
                                         name=self.name)
        _sparsity.scalar_output(val, self.name)
        Hw = H @ w
        try:
            _check_probe(v @ Hw, np.asarray(d2).reshape(-1)[0],
                         np.abs(v) @ (abs(H) @ np.abs(w)), self.name, "Hessian")
        except ValueError:
            if np.all(np.isfinite(H.data)):
                raise
            # the numeric mode multiplies partials by coefficients that cancelled to 0, and an
            # infinite partial (sqrt at 0) makes inf * 0 = NaN; the sweeps keep strong zeros
            prepared.method = "compressed"
            return prepared, prepared._compressed(x, call, kwargs, probe=True)
        return prepared, H

    def __call__(self, *args, **kwargs):
        return self._prepare(args, kwargs)[1]


def _agree(H, ref):
    """Whether two Hessians on one pattern are equal to rounding, entry by entry against the
    largest entry of the entry's row (sums of several terms round differently)."""
    if H.shape != ref.shape or H.nnz != ref.nnz:
        return False
    if not ref.nnz:
        return True
    counts = np.diff(ref.indptr)
    full = np.flatnonzero(counts)
    scale = np.repeat(np.maximum.reduceat(np.abs(ref.data), ref.indptr[full]), counts[full])
    return bool(np.all(np.abs(H.data - ref.data) <= 1e-12 * scale + 1e-300))


def sparse_jacobian(f, argnums=0, *, sparsity="auto", coloring="auto", chunk=None, verify=True,
                    executor=None):
    """The Jacobian of f with respect to argument `argnums` as a scipy.sparse.csr_array of
    shape (f(x).size, x.size) (both flattened in C order), exact, from one forward sweep of
    ncolors directions.

    sparsity: "auto" (detect at each call, or once with .prepare) or a pattern: any scipy
    sparse matrix or 2-D boolean array (stored entries are structure; a superset is fine).
    coloring: "auto", "best" or a vertex order of dualdiff._coloring.ORDERS.
    chunk: colours per sweep (None: all in one sweep, the fastest). A call holds one
    sweep's arrays at a time, each block's entries gathered into the CSR data as its sweep
    ends: chunk=1 bounds a call's memory by about the CSR arrays plus f's own temporaries
    twice over (value and one tangent), where chunk=None holds them ncolors + 1 times.
    verify: every call of the prepared object also sweeps one random direction and raises
    ValueError if the Jacobian on its pattern disagrees with it (an entry outside the
    pattern: control flow changed it since .prepare); costs one sweep of one direction.
    False: one sweep only. (A call of the transform itself, which detects or takes the
    pattern and uses it once, always checks.)
    executor: a concurrent.futures.Executor (a process pool, Dask's client.get_executor())
    to run the compressed sweeps on (dualdiff/_executor.py). The result is the serial call's
    with the same chunk bit for bit; with chunk=None the colours are split into one sweep
    per worker, which equals the serial call bit for bit except through BLAS matrix
    products (their summation order depends on the block shape: pass chunk= to pin it).

    dd.sparse_jacobian(f).prepare(x) returns a PreparedJacobian (.pattern, .colors,
    .ncolors, .check(x)) callable at any x. See the module docstring for when a pattern
    detected at one point holds at another."""
    return SparseJacobian(f, argnums, sparsity, coloring, chunk, verify, executor)


def sparse_hessian(f, argnums=0, *, sparsity="auto", coloring="auto", verify=True,
                   executor=None):
    """The Hessian of a scalar-valued f with respect to argument `argnums` as a symmetric
    scipy.sparse.csr_array of shape (x.size, x.size), exact.

    sparsity, coloring and verify as in sparse_jacobian (the numeric mode checks itself: an
    entry outside the pattern raises ValueError; the summands' sweep checks along one more
    e2 direction, and with verify=False trusts the prepared pattern as sparse_jacobian does).
    dd.sparse_hessian(f).prepare(x) returns a PreparedHessian (.pattern, .colors, .ncolors,
    .method, .check(x)) callable at any x.

    executor: as in sparse_jacobian, for the hyper-dual sweeps of the "compressed" method
    (windows of the identity; with fewer windows than workers, one per worker). The
    "sparse forward" method is one pass of the tracer's numeric mode and "summands" one
    sweep: they run here."""
    return SparseHessian(f, argnums, sparsity, coloring, verify, executor)
