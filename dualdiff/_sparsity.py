"""Sparsity patterns: detection by running f on the tracer (dualdiff/_tracer.py), the sparse
second derivatives of its numeric mode, user-given patterns made canonical, and the plan of
the "summands" Hessian sweep (which colours read which element's entries).

Patterns are boolean scipy.sparse.csr_array with sorted, distinct column indices: a
Jacobian pattern has shape (f(x).size, x.size) (C-order flattening of both), a Hessian
pattern (x.size, x.size) and is symmetric. scipy is needed from here on (the sparse
transforms' optional dependency).
"""
import numpy as np

from dualdiff import _arrays, _core, _tracer as T


def scipy_sparse():
    """scipy.sparse, or an ImportError that names the optional dependency."""
    try:
        import scipy.sparse as sp
    except ImportError:
        raise ImportError("dualdiff's sparse transforms (sparse_jacobian, sparse_hessian) return "
                          "scipy.sparse arrays and need scipy (an optional dependency of this "
                          "feature only): pip install scipy") from None
    if not hasattr(sp, "csr_array"):
        raise ImportError("dualdiff's sparse transforms need scipy >= 1.8 (scipy.sparse."
                          "csr_array); upgrade scipy")
    return sp


def run(f, args, kwargs, argnum, x, order, numeric, sums=None):
    """f with argument argnum replaced by the tracer of x; returns (output Tracer, trace).
    sums: a list to collect the operands of f's full np.sum calls in (Trace.sums)."""
    trace = T.Trace(x.size, order, numeric, sums)
    call = list(args)
    call[argnum] = T.seed(x, trace)
    # f runs in the block pool, as the sweeps do: the tracer drops each store as soon as the
    # next operation has merged it into its own, and its blocks serve the next one (fresh
    # pages cost as much as the merges that fill them: Bratu residual at n = 10^5, 5,100 page
    # faults per detection without it, none with it; 16-18 ms instead of 22-40). What
    # outlives the call (read_output's rows: the pattern) is allocated outside it.
    with _arrays.pooled():
        try:
            out = f(*call, **kwargs)
        except _core.EXPLAINED as e:
            _core.raise_explained(e)
        except ValueError as e:
            if "setting an array element with a sequence" not in str(e):
                raise
            # numpy storing a traced element into a float array (out= of a float array, or
            # assigning into np.zeros): what float() of a dual scalar refuses in the dense sweep
            raise T.TracerUnsupported(
                f"{e}: sparsity detection: numpy tried to store a traced value into a float array "
                "(an out= argument, or assigning into np.zeros(...)), which would lose which "
                "inputs it depends on; use the function's returned result instead of out=, and "
                "build arrays with np.stack([...])").with_traceback(e.__traceback__) from e
    return T.read_output(out, trace), trace


def _csr(indptr, indices, shape):
    sp = scipy_sparse()
    index = np.int32 if max(shape) < 2**31 - 1 and indices.size < 2**31 - 1 else np.int64
    return sp.csr_array((np.ones(indices.size, dtype=bool), indices.astype(index, copy=False),
                         indptr.astype(index, copy=False)), shape=shape)


def jacobian_pattern(f, args, kwargs, argnum, x):
    """(pattern, output value): the inputs each output element depends on, at x."""
    out, trace = run(f, args, kwargs, argnum, x, 1, False)
    indptr, keys, _ = T.rows_of(out, 1)
    return _csr(indptr, keys, (out.size, x.size)), out.value


def hessian_pattern(f, args, kwargs, argnum, x, sums=None):
    """(symmetric pattern, output value) of a scalar f: the input pairs that meet in a
    nonlinear operation, at x. sums: as in run (the operands keep their sets and pairs)."""
    out, trace = run(f, args, kwargs, argnum, x, 2, False, sums)
    scalar_output(out.value, "sparse_hessian")
    _, codes, _ = T.rows_of(out, 2)
    return symmetric_from_codes(codes, x.size), out.value


def hessian_entries(f, args, kwargs, argnum, x):
    """(value, codes, numbers): the Hessian of a scalar f at x in the tracer's numeric mode,
    as its upper-triangle entries (code i*n + j, i <= j). Raises TracerUnsupported for an
    operation the numeric mode has no sparse rule for."""
    out, trace = run(f, args, kwargs, argnum, x, 2, True)
    scalar_output(out.value, "sparse_hessian")
    _, codes, vals = T.rows_of(out, 2)
    return out.value, codes, vals


def scalar_output(value, name):
    if np.shape(value) != ():
        raise TypeError(f"{name} requires a function with a scalar output, but it returned an "
                        f"array of shape {np.shape(value)}; use sparse_jacobian for vector "
                        "outputs")


def symmetric_from_codes(codes, n):
    """The symmetric boolean pattern holding the upper-triangle pairs `codes`."""
    sp = scipy_sparse()
    i, j = np.divmod(np.asarray(codes, dtype=np.int64), n)
    off = i != j
    rows = np.concatenate([i, j[off]])
    cols = np.concatenate([j, i[off]])
    p = sp.coo_array((np.ones(rows.size, dtype=bool), (rows, cols)), shape=(n, n)).tocsr()
    p.sum_duplicates()
    p.sort_indices()
    return p


def canonical(sparsity, shape, name, symmetric=False):
    """A user's pattern (any scipy sparse matrix or array, or a boolean / 0-1 array) as a
    boolean csr_array of the given shape, entries sorted, no duplicates; explicit zeros of a
    sparse matrix count as entries (they are structural). A Hessian pattern is symmetrized."""
    sp = scipy_sparse()
    if sp.issparse(sparsity):
        p = sp.csr_array(sparsity, dtype=bool, copy=True)
        p.data[:] = True              # stored entries are the structure, zero or not
    else:
        try:
            a = np.asarray(sparsity)
        except Exception:
            a = None
        if a is None or a.dtype.kind not in "biuf" or a.ndim != 2:
            raise TypeError(f"{name}: sparsity must be 'auto', a scipy sparse matrix or a 2-D "
                            f"boolean array, got {type(sparsity).__name__}")
        p = sp.csr_array(a != 0)
    if p.shape != tuple(shape):
        raise ValueError(f"{name}: the sparsity pattern has shape {p.shape}, but this call needs "
                         f"{tuple(shape)} (f(x).size rows, x.size columns, C order)")
    if symmetric:
        p = (p + p.T).tocsr()
        p.data[:] = True
    p.sum_duplicates()
    p.sort_indices()
    return p


# ---- the "summands" plan of a sparse Hessian ----------------------------------------------

# The summands' sweep carries 1 + k1 + k2 + k1 k2 numbers per element through all of f; the
# numeric mode, sets of each element's inputs and pairs. Measured (prepared calls, ratio to
# f): k1 x k2 = 2 x 2 (Rosenbrock, 9 numbers) 2.7x faster than the numeric mode, 2 x 5 (Bratu
# energy, 18) 1.2-2x, 4 x 4 (blocks of 4, 25) 1.8x, 4 x 9 (nine-point energy, 50) 1.3x; 6 x 6
# and 8 x 8 (dense blocks, 49 and 81) 1.2x and 1.5x slower: the crossover is near 50, and
# up to this many numbers per element the sweep is taken.
SUMMAND_WIDTH = 48


class SummandPlan:
    """How to read a Hessian off the elements of the arrays f sums (dualdiff/sparse.py's
    "summands" method). f = sum_k c_k np.sum(s_k) (+ terms without second derivatives):
    H = sum_k c_k sum_i Hess(s_k[i]), and each element depends on few inputs. One hyper-dual
    sweep with e2 = seed2 (a distance-2 colouring of the summands' stacked Jacobian: an
    element's inputs have distinct colours, so an e2 colour names one input y of the
    element) and e1 = seed1 (a colouring under which, in the row y of an element's Hessian,
    the entry read has a colour of its own) gives every element's entries directly:
    Hess(s_k[i])[x, y] = eps12[i, colour1(x), colour2(y)]. Each entry (x, y) is read from
    the row (x or y) with fewer entries in that element, which keeps colour1 small (the
    Bratu energy's u * (A u): 2 colours, not 5).

    shapes: the summands' shapes, in call order; k1, k2; seed1, seed2 (n x k1, n x k2);
    reads[k]: (element, colour1, colour2, target) of summand k, target indexing the
    prepared upper-triangle codes."""

    def __init__(self, shapes, colors1, colors2, reads, ncodes):
        self.shapes = shapes
        self.colors1, self.colors2 = colors1, colors2
        self.k1 = int(colors1.max()) + 1 if colors1.size else 1
        self.k2 = int(colors2.max()) + 1 if colors2.size else 1
        self.seed1 = _seed(colors1, self.k1)
        self.seed2 = _seed(colors2, self.k2)
        self.reads, self.ncodes = reads, ncodes
        self._maps = {}

    def gathers(self, k2, where):
        """Per summand (ptr, idx): its flattened eps12 (elements x k1 x k2, k2 the e2 width
        of the sweep: seed2 and perhaps a probe) sums entries idx[ptr[i]:ptr[i + 1]] into
        entry i of H's CSR data (_coloring.segment_sum; where[i]: the upper-triangle entry
        of data entry i, each in one or both triangles). One compiled pass, no sparse
        product: a scipy product costs ~10 us of dispatch a call, more than f itself at
        n = 1000."""
        got = self._maps.get(k2)
        if got is None:
            got = self._maps[k2] = [_segments(target, (elem * self.k1 + c1) * k2 + c2, where,
                                              self.ncodes)
                                    for elem, c1, c2, target in self.reads]
        return got


def _segments(target, cols, where, ncodes):
    """(ptr, idx) such that data[i] = sum of e12[idx[ptr[i]:ptr[i + 1]]] equals the upper
    triangle's entry where[i], whose sum collects e12[cols[j]] for every target[j] ==
    where[i]."""
    order = np.argsort(target, kind="stable")
    counts = np.bincount(target, minlength=ncodes)
    starts = np.concatenate([[0], np.cumsum(counts)])[where]
    lengths = counts[where]
    ptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    at = np.repeat(starts - ptr[:-1], lengths) + np.arange(ptr[-1])
    return ptr, np.ascontiguousarray(cols[order[at]], dtype=np.int64)


def _seed(colors, k):
    S = np.zeros((colors.size, k))
    S[np.arange(colors.size), colors] = 1.0
    return S


def summand_plan(operands, n, codes, color):
    """A SummandPlan for the operands of f's full sums (Tracers of an order-2 detection) on
    the prepared upper-triangle codes, or None where it does not apply or would cost more
    than SUMMAND_WIDTH numbers per element. color(csr pattern) -> column colours (distance
    2: columns that share a row differ)."""
    if not operands:
        return None
    rows1, keys1, rows2, codes2, shapes = [], [], [], [], []
    for t in operands:
        if t.r2 is None or t.ctx.numeric:
            return None
        p1, k1, _ = T.rows_of(t, 1)
        p2, c2, _ = T.rows_of(t, 2)
        rows1.append(np.diff(p1))
        keys1.append(k1)
        rows2.append(np.diff(p2))
        codes2.append(c2)
        shapes.append(t.shape)
    count1 = np.concatenate(rows1)
    m = count1.size
    # only elements with second-order pairs need their inputs told apart (a linear summand
    # such as np.sum(A @ x) may depend on every input)
    paired = np.concatenate(rows2) > 0
    if m == 0 or count1[paired].max(initial=0) > SUMMAND_WIDTH:
        return None
    indptr = np.concatenate([[0], np.cumsum(count1)]).astype(np.int64)
    jac = _csr(indptr, np.concatenate(keys1), (m, n))
    jkeys = np.repeat(np.arange(m, dtype=np.int64), count1) * n + jac.indices
    jac = jac[paired]
    colors2 = np.asarray(color(jac), dtype=np.int64) if jac.nnz else np.zeros(n, np.int64)
    # the pairs of every element: (element, a, b), a <= b
    code = np.concatenate(codes2).astype(np.int64)
    elem = np.repeat(np.arange(m, dtype=np.int64), np.concatenate(rows2))
    a, b = np.divmod(code, n)
    # each pair's inputs belong to its element's set (else an e2 colour would not name them)
    for v in (a, b):
        at = np.searchsorted(jkeys, elem * n + v)
        if code.size and (np.any(at >= jkeys.size) or np.any(jkeys[np.minimum(at, jkeys.size - 1)]
                                                          != elem * n + v)):
            return None
    # entries of each element's rows (both triangles): key element * n + row; entry t < P is
    # pair t's (element, a), the others the (element, b) of the off-diagonal pairs
    off = a != b
    npairs = a.size
    ekey = np.concatenate([elem * n + a, elem[off] * n + b[off]])
    ecol = np.concatenate([b, a[off]])
    order = np.argsort(ekey, kind="stable")
    skey, ecol = ekey[order], ecol[order]
    new = np.ones(skey.size, dtype=bool)
    new[1:] = skey[1:] != skey[:-1]
    start = np.flatnonzero(new)
    gid = np.cumsum(new) - 1
    deg_sorted = np.diff(np.append(start, skey.size))[gid]
    deg_at, start_at = np.empty_like(deg_sorted), np.empty_like(start[gid])
    deg_at[order], start_at[order] = deg_sorted, start[gid]
    deg_a, start_a = deg_at[:npairs], start_at[:npairs]
    deg_b, start_b = deg_a.copy(), start_a.copy()
    deg_b[off], start_b[off] = deg_at[npairs:], start_at[npairs:]
    from_a = deg_a <= deg_b
    row = np.where(from_a, a, b)
    col = np.where(from_a, b, a)
    # constraints on colour 1: the entry read must differ from the others of its row
    cnt = np.where(from_a, deg_a, deg_b)
    first = np.repeat(np.where(from_a, start_a, start_b), cnt)
    idx = first + (np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt))
    u, w = np.repeat(col, cnt), ecol[idx]
    keep = u != w
    u, w = u[keep], w[keep]
    if u.size:
        edge = np.sort(np.minimum(u, w) * n + np.maximum(u, w))
        edge = edge[np.append(True, edge[1:] != edge[:-1])]      # distinct, sorted
        eu, ew = np.divmod(edge, n)
        graph = _csr(np.arange(0, 2 * edge.size + 1, 2, dtype=np.int64),
                     np.stack([eu, ew], axis=1).reshape(-1), (edge.size, n))
        colors1 = np.asarray(color(graph), dtype=np.int64)
    else:
        colors1 = np.zeros(n, np.int64)
    plan_k1 = int(colors1.max()) + 1 if colors1.size else 1
    plan_k2 = int(colors2.max()) + 1 if colors2.size else 1
    if 1 + plan_k1 + plan_k2 + plan_k1 * plan_k2 > SUMMAND_WIDTH or \
            len(shapes) > plan_k1 * plan_k2:
        return None                       # (each sum's marker needs a place of its own)
    target_code = np.minimum(a, b) * n + np.maximum(a, b)
    target = np.searchsorted(codes, target_code)
    if np.any(target >= codes.size) or np.any(codes[np.minimum(target, codes.size - 1)]
                                              != target_code):
        return None                       # a pair outside the pattern: not this method
    # per summand: (its element, colour 1 of the column read, colour 2 of the row, entry)
    reads = []
    bounds = np.concatenate([[0], np.cumsum([int(np.prod(s)) for s in shapes])])
    for k in range(len(shapes)):
        sel = (elem >= bounds[k]) & (elem < bounds[k + 1])
        reads.append((elem[sel] - bounds[k], colors1[col[sel]], colors2[row[sel]],
                      target[sel]))
    return SummandPlan(shapes, colors1, colors2, reads, codes.size)
