"""Sparsity patterns: detection by running f on the tracer (dualdiff/_tracer.py), the sparse
second derivatives of its numeric mode, and user-given patterns made canonical.

Patterns are boolean scipy.sparse.csr_array with sorted, distinct column indices: a
Jacobian pattern has shape (f(x).size, x.size) (C-order flattening of both), a Hessian
pattern (x.size, x.size) and is symmetric. scipy is needed from here on (the sparse
transforms' optional dependency).
"""
import numpy as np

from dualdiff import _tracer as T


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


def run(f, args, kwargs, argnum, x, order, numeric):
    """f with argument argnum replaced by the tracer of x; returns (output Tracer, trace)."""
    trace = T.Trace(x.size, order, numeric)
    call = list(args)
    call[argnum] = T.seed(x, trace)
    out = f(*call, **kwargs)
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


def hessian_pattern(f, args, kwargs, argnum, x):
    """(symmetric pattern, output value) of a scalar f: the input pairs that meet in a
    nonlinear operation, at x."""
    out, trace = run(f, args, kwargs, argnum, x, 2, False)
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
