"""The bilinear product rule: matmul, dot, einsum, tensordot, inner, outer, ... .

A bilinear map B(a, b) -- any einsum contraction of two operands -- has the derivative
dB = B(da, b) + B(a, db). Tangents carry their directions on a trailing axis, so each term is
the same contraction with one more index on one operand and on the output. Run on first-order
dual arrays (a second-order sweep, see dualdiff/_jvp/__init__.py) the same two terms give the
e1e2 part's cross terms da1 db2 + da2 db1 by the product rule one level down.
"""
import numpy as np

from dualdiff._jvp import add

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def spare_letter(*specs):
    """A subscript letter used by none of the specs (the direction index)."""
    used = set("".join(specs))
    for c in reversed(_LETTERS):
        if c not in used:
            return c
    raise ValueError("einsum on dual arrays: no subscript letter left for the directions")


def contract(sa, sb, so, a, b):
    """einsum(f"{sa},{sb}->{so}", a, b): BLAS-backed (tensordot) for large plain operands,
    numpy's einsum loops otherwise (their setup is cheaper for small ones)."""
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.size * b.size > 1 << 16:
        return np.einsum(f"{sa},{sb}->{so}", a, b, optimize=True)
    return np.einsum(f"{sa},{sb}->{so}", a, b)


def bilinear_jvp(primals, tangents, *, spec):
    """The rule of the contraction einsum(spec) with spec = (sa, sb, so)."""
    (a, b), (da, db) = primals, tangents
    sa, sb, so = spec
    z = spare_letter(sa, sb, so)
    t = None
    if da is not None:
        t = contract(sa + z, sb, so + z, da, b)
    if db is not None:
        t = add(t, contract(sa, sb + z, so + z, a, db))
    return contract(sa, sb, so, a, b), t


def matmul_jvp(primals, tangents):
    """a @ b for 1-D and 2-D operands, each term one BLAS call (directions trailing)."""
    (a, b), (da, db) = primals, tangents
    t = None
    if da is not None:
        # da: S_a + (K,). (m, n, K) contracted with b (n, p) is, row by row, b^T (p, n) @ (n, K);
        # a 1-D b (n,) contracts (..., n, K) as b @ da
        t = np.matmul(b, da) if b.ndim == 1 else np.matmul(np.swapaxes(b, 0, 1), da)
    if db is not None:
        # db: S_b + (K,). a (..., n) @ db (n, K) for a 1-D b; a (..., n) @ (n, p*K) otherwise
        if db.ndim == 2:
            term = np.matmul(a, db)
        else:
            k = db.shape[-1]
            r = np.matmul(a, np.reshape(db, (db.shape[0], db.shape[1] * k)))
            term = np.reshape(r, r.shape[:-1] + (db.shape[1], k))
        t = add(t, term)
    return np.matmul(a, b), t
