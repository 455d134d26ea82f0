"""The bilinear product rule: matmul, dot, einsum, tensordot, inner, outer, ... .

A bilinear map B(a, b) -- any einsum contraction of two operands -- has the derivative
dB = B(da, b) + B(a, db). Tangents carry their directions on a trailing axis, so each term is
the same contraction with one more index on one operand and on the output. Run on first-order
dual arrays (a second-order sweep, see dualdiff/_jvp/__init__.py) the same two terms give the
e1e2 part's cross terms da1 db2 + da2 db1 by the product rule one level down.

Zero factors. In a tangent term a factor that is exactly zero contributes exactly zero, even
against an infinite or NaN factor: the convention of the elementwise rules (dd_tmul in
csrc/rules.h), without which C @ dx for a constant C holding an inf gives NaN along every
direction in the sweep's chunk that does not move x (the product inf * 0), but 0 where the
sweep stores no tangent for x at all -- a number that depended on chunk (fuzz seed 2424).
BLAS cannot skip zeros, so a term is computed as usual and redone with masks (`_masked`) only
when it holds a NaN. At second order the term's factors are dual arrays and the term is a
rule of its own (`term`), so the same holds for every part.
"""
import math

import numpy as np

from dualdiff import _arrays
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


def _masked(fn, a, b):
    """fn(a, b), bilinear and a sum of products a_i b_j, with a product that has a zero
    factor counted as 0: the finite factors' contraction, then each entry that meets an
    infinite or NaN factor against a nonzero one set to the inf, -inf or NaN that such
    products sum to (counted by contracting indicator arrays, exact small integers)."""
    with np.errstate(all="ignore"):
        t = fn(np.where(np.isfinite(a), a, 0.0), np.where(np.isfinite(b), b, 0.0))

        def count(x, y):
            return fn(x.astype(np.float64), y.astype(np.float64))
        inf, pos_a, neg_a, pos_b, neg_b = np.inf, a > 0, a < 0, b > 0, b < 0
        nan = count(np.isnan(a), b != 0) + count(a != 0, np.isnan(b))
        up = (count(a == inf, pos_b) + count(a == -inf, neg_b) + count(pos_a, b == inf)
              + count(neg_a, b == -inf))
        down = (count(a == inf, neg_b) + count(a == -inf, pos_b) + count(pos_a, b == -inf)
                + count(neg_a, b == inf))
        return np.where((nan > 0) | ((up > 0) & (down > 0)), np.nan,
                        np.where(up > 0, inf, np.where(down > 0, -inf, t)))


_DualArray = _arrays.DualArray
# numpy's C vdot without the __array_function__ dispatch around it (the NaN test of every
# product term: a third of its cost for small products)
_vdot = getattr(np.vdot, "_implementation", np.vdot)


def _plain(a, b):
    return type(a) is not _DualArray and type(b) is not _DualArray


def term(fn, a, b, rule, params):
    """fn(a, b), bilinear, as a term of a tangent (zero factors, above): of plain factors
    redone by _masked if a NaN came out; of dual factors `rule` with `params`, a rule whose
    value is this term one level down."""
    if not _plain(a, b):
        return _arrays.apply_rule(rule, (a, b), params)
    return _term(fn, a, b)


def _term(fn, a, b):
    """fn(a, b) of plain factors as a term of a tangent (zero factors, above): redone by
    _masked if a NaN came out."""
    t = fn(a, b)
    # a NaN anywhere makes t.t NaN, and nothing else does (one BLAS pass, no temporary)
    return _masked(fn, a, b) if math.isnan(_vdot(t, t)) else t


def bilinear_jvp(primals, tangents, *, spec, as_term=False):
    """The rule of the contraction einsum(spec) with spec = (sa, sb, so); as_term: the
    contraction is itself a term of a tangent (zero factors, above)."""
    (a, b), (da, db) = primals, tangents
    sa, sb, so = spec
    z = spare_letter(sa, sb, so)
    t = None
    if da is not None:
        t = contraction_term((sa + z, sb, so + z), da, b)
    if db is not None:
        t = add(t, contraction_term((sa, sb + z, so + z), a, db))
    return contraction_term(spec, a, b) if as_term else contract(sa, sb, so, a, b), t


def contraction_term(spec, a, b):
    """einsum(spec) as a term of a tangent; of dual factors (a second-order sweep) a rule of
    its own, every part computed the same way one level down."""
    return term(lambda x, y: contract(*spec, x, y), a, b, _bilinear_term, {"spec": spec})


def _bilinear_term(primals, tangents, *, spec):
    return bilinear_jvp(primals, tangents, spec=spec, as_term=True)


def matmul_jvp(primals, tangents, *, as_term=False):
    """a @ b for 1-D and 2-D operands, each term one BLAS call (directions trailing)."""
    (a, b), (da, db) = primals, tangents
    t = None
    if da is not None:
        # da: S_a + (K,). (m, n, K) contracted with b (n, p) is, row by row, b^T (p, n) @ (n, K);
        # a 1-D b (n,) contracts (..., n, K) as b @ da
        t = matmul_term(b, da) if b.ndim == 1 else matmul_term(np.swapaxes(b, 0, 1), da)
    if db is not None:
        # db: S_b + (K,). a (..., n) @ db (n, K) for a 1-D b; a (..., n) @ (n, p*K) otherwise
        if db.ndim == 2:
            term_b = matmul_term(a, db)
        else:
            k = db.shape[-1]
            r = matmul_term(a, np.reshape(db, (db.shape[0], db.shape[1] * k)))
            term_b = np.reshape(r, r.shape[:-1] + (db.shape[1], k))
        t = add(t, term_b)
    return matmul_term(a, b) if as_term else np.matmul(a, b), t


def matmul_term(a, b):
    """np.matmul(a, b) as a term of a tangent; of dual factors a rule of its own: matmul_jvp
    for 1-D and 2-D factors, else (a batch axis) the einsum contraction term."""
    if _plain(a, b):
        return _term(np.matmul, a, b)
    na, nb = np.ndim(a), np.ndim(b)
    if na <= 2 and nb <= 2:
        return _arrays.apply_rule(_matmul_term, (a, b))
    so = "..." + ("m" if na > 1 else "") + ("p" if nb > 1 else "")
    return contraction_term(("...mn" if na > 1 else "n", "...np" if nb > 1 else "n", so), a, b)


def _matmul_term(primals, tangents):
    return matmul_jvp(primals, tangents, as_term=True)


def matmul_by_constant(a, b):
    """a @ b (1-D and 2-D operands) where exactly one operand is dual and the other a plain
    real array: a linear map of the dual one, applied to its value and to each of its parts
    (_arrays.linear) -- so a part the dual operand does not store (e12 until an e1 meets an
    e2: a Hessian sweep's x) stays absent, where the product rule would multiply the
    constant by a block of zeros (x @ A @ x: a GEMM of n x n by n x k1 k2 for nothing). Each
    part is the term matmul_jvp forms, by the same BLAS call on the same shapes (the same
    bits), zero factors included (_term). None where the rule does not apply."""
    da, db = type(a) is _DualArray, type(b) is _DualArray
    if da == db:
        return None
    x, c = (a, np.asarray(b)) if da else (b, np.asarray(a))
    # (a longdouble constant goes on to the product rule, which refuses it by name)
    if c.dtype.kind not in "biuf" or c.dtype.itemsize > 8 or c.ndim not in (1, 2) or x.ndim > 2:
        return None
    c = c.astype(np.float64, copy=False)
    lead = x.shape
    # x (n,) or (m, n) @ c (n,) or (n, p); c (n,) or (m, n) @ x (n,) or (n, p)
    out = lead[:-1] + c.shape[1:] if da else c.shape[:-1] + lead[1:]

    def fn(t, nd):
        if nd == 0:
            return np.matmul(t, c) if da else np.matmul(c, t)
        dirs = t.shape[t.ndim - nd:]
        k = math.prod(dirs)
        if da:
            # as matmul_jvp's term for da: c^T (p, n) @ da (..., n, K); a 1-D c: c @ da
            r = _term(np.matmul, c if c.ndim == 1 else c.T, t.reshape(lead + (k,)))
        else:
            # as its term for db: c @ db (n, K), or c @ db (n, p K)
            r = _term(np.matmul, c, t.reshape(lead[0], -1))
        return r.reshape(out + dirs)
    return _arrays.linear(x, fn)
