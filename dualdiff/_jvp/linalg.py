"""The derivatives of numpy.linalg: inverses, determinants, symmetric factorisations, powers
and chains of products here; the SVD, QR, pseudo-inverse, least squares, norms and condition
numbers in linalg_svd.py. Linear and bilinear helpers (trace, diagonal, matmul, vecdot, outer,
cross, tensordot) need no rule of their own: dualdiff/_numpy/linalg.py writes them as linear
maps and products.

A rule is ``rule(primals, tangents, **params) -> (out, tangent_out)`` (see _jvp/__init__.py).
`primals` are the array arguments of the numpy function (for multi_dot: the arrays of its
sequence), `tangents` holds, per primal, None (a constant) or an array of shape
``primal.shape + (k,)``. ``out`` is exactly what numpy returns (same namedtuple type),
``tangent_out`` has shape ``out.shape + (k,)``. Multiple outputs get a tuple of tangents, None
for a discrete output: slogdet -> (None, d logabsdet); lstsq -> (dx, dresiduals, None, ds);
norm(ord=0) -> None. `RULES` (linalg_svd.py) maps each numpy.linalg name to its rule.

The same rule serves every order: applied to primals and tangents that are themselves dual
arrays it gives the next order, because it uses only operations dual arrays support (@ with
batch dims, + - * / **, unary -, np.abs, read-only indexing, np.moveaxis/swapaxes/transpose/
reshape/expand_dims, np.sum, np.trace, np.diagonal, np.tril/triu, np.where with a plain
condition, np.concatenate, np.stack and np.linalg.* recursively). Decisions (masks, clusters,
ties, degeneracy) are taken on the plain float values (`plain`) and enter as constants.
The k directions share every LAPACK call (the value's, and at most one more for all of them,
e.g. one solve with the k right-hand sides as columns, or one inverse): they ride as extra
columns or as a batch axis, never a Python loop over k.

Conventions
-----------
* cholesky, eigh, eigvalsh and hermitian=True read one triangle, as numpy does: the tangent
  is symmetrised from that same triangle.
* "Repeated" eigen/singular values: |x_i - x_j| <= 8 n eps max|x| (_rtol). eigh and svd are
  backward stable, so by Weyl's bound the computed values are exact for a matrix within about
  n eps ||A|| of A: values closer than a few times that cannot be told from equal ones. Above
  it 1/(x_j - x_i) is large but accurate to about n eps ||A|| / gap.
  - eigvalsh, svdvals, svd(compute_uv=False), lstsq's s, norm(ord=+-2), cond: each value of a
    cluster gets the derivative of the cluster mean (np.maximum shares a tie half-half too).
    It is linear in dA and exact for any symmetric function of the cluster (its sum, the
    trace, the nuclear norm); the directional derivative of sorted values is not linear, so
    no Jacobian could be built from it. An exactly zero singular value gets 0 (abs'(0) = 0).
  - eigh and svd raise NonDifferentiableError (a ValueError) at repeated values: the vectors
    are not unique there. svd also raises at a zero singular value of a non-square matrix
    (within _rtol; its vector is any unit vector of a subspace) or an exactly zero one of a
    square matrix (its vector flips sign there); qr when the leading min(m, n) columns are
    dependent (sigma_min <= _rtol ||A||_F).
    Second derivatives of eigen/singular values at a cluster need those vectors: they raise.
* svd(full_matrices=True) of an m x n matrix, m != n, and qr(mode='complete'), m > n: the
  extra columns U2 (Q2) are an arbitrary basis of the orthogonal complement. Their tangent is
  the one that does not rotate them among themselves, U2^T dU2 = 0, dU2 = -U1 (dU1^T U2).
  Everything independent of that basis (U2 U2^T, U1, s, V) is exact; finite differences of
  numpy's own choice of U2 differ by a rotation inside the complement.
* pinv, lstsq: the derivative of the pseudo-inverse at constant rank (Golub & Pereyra 1973,
  as JAX), the rank being numpy's (singular values above the cutoff); exact at full rank.
  Rank-deficient: exact at first order when the discarded singular values are zero to
  working precision (<= _rtol, relative); it raises NonDifferentiableError when they are not
  (the formula would be off by s_discarded/s_kept) and at second order (its derivative is not
  that of numpy's truncated pseudo-inverse). Where a value crosses the cutoff pinv jumps.
* det at an exactly singular matrix (LAPACK finds a zero pivot, A^-1 does not exist) uses the
  adjugate from the SVD: d det = tr(adj(A) dA). slogdet and cond raise there (-inf / inf).
* norm: vector 1/inf/-inf norms and matrix 1/-1/inf/-inf norms use abs'(0) = 0 and share a
  tie equally; p-norms give 0 for zero entries. At the zero vector (or matrix, Frobenius) a
  norm is a kink, |t| ||v|| along every line, and gets abs's convention: first and second
  derivative 0.
"""
import inspect
import operator

import numpy as np

from dualdiff import _core, _lapack
from dualdiff._jvp import add, apply, plain

_EPS = np.finfo(np.float64).eps
_LA = np.linalg
# which right-hand sides numpy.linalg.solve reads as vectors: numpy >= 2 a 1-D b, numpy 1 a b
# with one dimension less than a
_NUMPY2 = np.lib.NumpyVersion(np.__version__) >= "2.0.0"


class NonDifferentiableError(ValueError):
    """The function has no derivative at this point (repeated eigenvalues, singular matrix...)."""


# ---- helpers ------------------------------------------------------------------------------

def _shape(x):
    s = getattr(x, "shape", None)
    return tuple(s) if s is not None else np.shape(x)


# Matrix tangents are worked on with the k directions as a batch axis: _kf (..., m, n, k) ->
# (..., k, m, n), _kl back to the interface's layout, _b a primal (..., m, n) -> (..., 1, m, n).
def _kf(t):
    return np.moveaxis(t, -1, -3)


def _kl(t):
    return np.moveaxis(t, -3, -1)


def _b(x):
    return np.expand_dims(x, -3)


def _mT(x):
    return np.swapaxes(x, -1, -2)


def _sym(x, lower):
    """The symmetric matrix numpy sees when it reads only one triangle of x."""
    if lower:
        return np.tril(x) + _mT(np.tril(x, -1))
    return np.triu(x) + _mT(np.triu(x, 1))


def _rtol(n):
    return 8.0 * max(n, 1) * _EPS


def _clusters(vals, n):
    """Plain sorted values (..., p) -> (averaging matrix M (..., p, p), any value repeated).

    M[i, j] = 1/|c| if i and j are in the same cluster c (chained gaps <= _rtol(n) relative to
    the largest magnitude), else 0; M @ d replaces each derivative by its cluster's mean."""
    if vals.shape[-1] == 0:                      # an empty matrix has no values to cluster
        return np.zeros(vals.shape + (0,)), False
    tol = _rtol(n) * np.abs(vals).max(axis=-1, initial=0.0)
    new = np.abs(np.diff(vals, axis=-1)) > tol[..., None]
    ids = np.concatenate([np.zeros(vals.shape[:-1] + (1,), int), np.cumsum(new, -1)], -1)
    same = (ids[..., :, None] == ids[..., None, :]).astype(float)
    return same / same.sum(axis=-1, keepdims=True), not bool(new.all())


# The last inverse of a plain matrix, kept so that the rules of one transform call share it:
# a Gaussian log-likelihood's solve(K, y) and slogdet(K) take one O(n^3) inverse between them
# for their tangents, not a factorisation each, and the sweeps of a call one between them.
# Keyed by the innermost transform's tag (never reused: an inverse does not outlive its call,
# so a program that repeats one point costs what it costs at a new point) and by content (a
# copy of A, compared in O(n^2)), never by identity: a constant the user changes in place
# must miss. A hit returns the very bits inv(A) would, so it never changes a result. One
# entry, at most _INVERSE_BYTES for A and A^-1 together; dd.clear_caches() drops it.
_INVERSE = None                     # (tag, copy of A, read-only A^-1), swapped as one reference
_INVERSE_BYTES = 32 << 20


def _inverse(a, numpys=False):
    """A^-1 (batched as numpy's inv); shared with the previous caller for the same plain A and
    the same route. numpys: numpy.linalg.inv's own bits, the value np.linalg.inv returns;
    otherwise (the inverse inside a rule: solve, det, slogdet, cholesky) _lapack.inverse, a
    Cholesky inverse for a symmetric positive definite A (3/8 of numpy's flops), else LU and
    getri (3/4). A dual A (second order) gets the inverse of its own route at every level."""
    global _INVERSE
    if type(a) is not np.ndarray or a.dtype != np.float64:     # dual (second order) or other
        r = None if numpys else apply(_inverse_rule, (a,))
        return _LA.inv(a) if r is None else r
    tag, memo = _core.innermost(), _INVERSE
    # the route of a fresh call: the memo changes no bit
    if memo is not None and memo[0] == tag and memo[3] == numpys and \
            memo[1].shape == a.shape and np.array_equal(memo[1], a):
        return memo[2]
    ai = _LA.inv(a) if numpys else _lapack.inverse(a)
    if tag and 2 * a.nbytes <= _INVERSE_BYTES:
        ai.flags.writeable = False
        _INVERSE = (tag, a.copy(), ai, numpys)
    return ai


def _inverse_tangent(ai, da):
    """d(A^-1) = -A^-1 dA A^-1 for every direction."""
    return _kl(-(_b(ai) @ _kf(da) @ _b(ai)))


def _inverse_rule(primals, tangents):
    """The rules' own inverse as a rule of its own (_inverse of a dual A)."""
    (a,), (da,) = primals, tangents
    ai = _inverse(a)
    return ai, _inverse_tangent(ai, da)


def clear_inverse():
    global _INVERSE
    _INVERSE = None


def _trace_inv(a, da):
    """tr(A^-1 dA) per direction, (..., k): sum_ij (A^-1)_ji dA_ij, one inverse serving every
    direction with O(n^2) work each, contracted as one (1, n^2) @ (n^2, k) product. (Solving
    A Y = dA for the n k columns instead costs O(n^3) per direction; at second order the
    inverse's own rule is matrix products, where a solve would refactorise.)"""
    ai = _inverse(a)
    *batch, n, _, k = _shape(da)
    batch = tuple(batch)
    t = np.reshape(_mT(ai), batch + (1, n * n)) @ np.reshape(da, batch + (n * n, k))
    return t[..., 0, :]


def _reword(err, name, what):
    return NonDifferentiableError(f"numpy.linalg.{name}: {what} ({err})")


def _check_distinct(sp, n, name, what, vectors, alone):
    """Raise where plain sorted values sp repeat (within _rtol(n))."""
    if sp.shape[-1] > 1 and _clusters(sp, n)[1]:
        raise NonDifferentiableError(
            f"numpy.linalg.{name}: repeated {what} (equal within {_rtol(n):.1e} relative); the "
            f"{vectors} are not unique there, so they have no derivative. Differentiate the "
            f"{what} alone ({alone}) or a quantity that does not depend on the basis.")


# ---- the rule decorator ---------------------------------------------------------------------

def _same(out):
    return out


def _rule(name, nargs=1, value=None):
    """Wrap the rule of numpy.linalg.`name` (whose first `nargs` arguments are the primals;
    -1: the arrays of its one sequence argument): check the keywords and the tangent shapes,
    and answer a call with only constant arguments. The function is looked up by name at call
    time: numpy < 2 lacks some (vector_norm, svdvals, ...), and tests may wrap them.
    value(out): numpy's result as the rule returns it (eig's real parts), applied to calls
    without tangents too -- here, in dualdiff/_numpy/linalg.py's constant path and in the
    tracer -- so a dual array without rows in a sweep gets the seeded one's types; the
    wrapper's .value (the identity when not given)."""
    def deco(rule):
        accepted = tuple(inspect.signature(rule).parameters)[2:]

        def wrapper(primals, tangents, **params):
            for p in params:
                if p not in accepted:
                    raise TypeError(f"numpy.linalg.{name}: keyword {p!r} is not supported by its "
                                    f"derivative rule (supported: {', '.join(accepted) or 'none'})")
            primals, tangents = tuple(primals), tuple(tangents)
            if len(tangents) != len(primals):
                raise ValueError(f"numpy.linalg.{name}: {len(primals)} primals but "
                                 f"{len(tangents)} tangents")
            ks = set()
            for ps, ts in ((_shape(p), _shape(t)) for p, t in zip(primals, tangents)
                           if t is not None):
                if ts[:-1] != ps or len(ts) != len(ps) + 1 or ts[-1] < 1:
                    raise ValueError(
                        f"numpy.linalg.{name}: a tangent has shape {ts}; it must be its "
                        f"argument's shape {ps} plus a trailing direction axis (k,)")
                ks.add(ts[-1])
            if len(ks) > 1:
                raise ValueError(f"numpy.linalg.{name}: the tangents disagree on the number of "
                                 f"directions k: {sorted(ks)}")
            if not ks:
                func = getattr(_LA, name)
                out = func(list(primals), **params) if nargs < 0 else func(*primals, **params)
                out = wrapper.value(out)
                return out, (tuple(None for _ in out) if isinstance(out, tuple) else None)
            return rule(primals, tangents, **params)

        wrapper.__name__, wrapper.__qualname__ = rule.__name__, rule.__qualname__
        wrapper.__doc__, wrapper.__wrapped__ = rule.__doc__, rule
        wrapper.numpy_name, wrapper.nargs, wrapper.keywords = name, nargs, accepted
        wrapper.value = value if value is not None else _same
        return wrapper
    return deco


# ---- inverses and determinants -----------------------------------------------------------

@_rule("solve", nargs=2)
def solve_jvp(primals, tangents):
    """dX = A^-1 (dB - dA X) for all k directions at once (their right-hand sides side by
    side as columns), by the inverse _inverse shares: X itself is numpy's solve (the bits f
    computes), and the tangents cost one O(n^3) inverse that a slogdet, det or inv of the
    same A in f then reuses. (A second LU solve would cost about a third of the inverse, but
    nothing could share it.)"""
    (a, b), (da, db) = primals, tangents
    x = _LA.solve(a, b)
    nb = len(_shape(b))
    vector = nb == 1 if _NUMPY2 else nb == len(_shape(a)) - 1
    xm = np.expand_dims(x, -1) if vector else x
    r = None if db is None else (np.expand_dims(db, -2) if vector else db)   # (..., n, m, k)
    if da is not None:
        # (dA X)[..., i, c, k] = X[:, c]^T dA[..., i, :, k]: one product batched over A's rows
        # lands in the tangent layout (..., n, m, k) directly, without moving the k axis
        # there and back (3x faster at n = 50, k = 3)
        dax = _b(_mT(xm)) @ da
        r = -dax if r is None else r - dax
    *batch, n, m, k = _shape(r)
    rhs = np.reshape(r, tuple(batch) + (n, m * k))
    if len(batch) < len(_shape(a)) - 2:
        # a batched a with an unbatched b: the k columns are matrices of a's batch (numpy 1
        # would read a right-hand side with one dimension less than a as vectors)
        rhs = np.broadcast_to(rhs, _shape(a)[:-2] + (n, m * k))
    y = _inverse(a) @ rhs
    dx = np.reshape(y, _shape(y)[:-1] + (m, k))
    return x, (dx[..., 0, :] if vector else dx)


@_rule("inv")
def inv_jvp(primals, tangents):
    """d(A^-1) = -A^-1 dA A^-1."""
    (a,), (da,) = primals, tangents
    ai = _inverse(a, numpys=True)
    # the value is the caller's to keep: a copy when the inverse is the shared one
    shared = type(ai) is np.ndarray and not ai.flags.writeable
    return (ai.copy() if shared else ai), _inverse_tangent(ai, da)


def _adjugate(a):
    """adj(A) = det(U) det(Vh) V diag(prod_{j != i} s_j) U^T, defined at singular A too."""
    try:
        u, s, vh = _LA.svd(a)
    except NonDifferentiableError as e:
        raise _reword(e, "det", "the second derivative at a singular matrix is computed from "
                      "its SVD, which has no derivative here") from None
    sign = np.sign(_LA.det(plain(u)) * _LA.det(plain(vh)))
    n = _shape(s)[-1]
    cols = [s[..., j] for j in range(n)]
    pre, suf = [np.ones(_shape(s)[:-1])], [np.ones(_shape(s)[:-1])]
    for j in range(n - 1):                 # prefix and suffix products: no division by s_i = 0
        pre.append(pre[-1] * cols[j])
        suf.append(suf[-1] * cols[n - 1 - j])
    p = np.stack([pre[i] * suf[n - 1 - i] for i in range(n)], axis=-1)
    return (sign[..., None, None] * _mT(vh) * np.expand_dims(p, -2)) @ _mT(u)


@_rule("det")
def det_jvp(primals, tangents):
    """d det A = det A tr(A^-1 dA), tr by one inverse; at an exactly singular matrix (no A^-1)
    tr(adj(A) dA) with the adjugate from the SVD."""
    (a,), (da,) = primals, tangents
    d = _LA.det(a)
    # numpy's LU found an exactly zero pivot: A^-1 does not exist (asked of d, not of the
    # inverse's own LAPACK route, which may factorise otherwise)
    if np.all(plain(d) != 0.0):
        try:
            return d, np.expand_dims(d, -1) * _trace_inv(a, da)
        except _LA.LinAlgError:
            pass
    adj = np.expand_dims(_mT(_adjugate(a)), -1)
    return d, np.sum(adj * da, axis=(-3, -2))


@_rule("slogdet")
def slogdet_jvp(primals, tangents):
    """d log|det A| = tr(A^-1 dA) (one inverse); the sign is discrete (None)."""
    (a,), (da,) = primals, tangents
    out = _LA.slogdet(a)
    try:
        # numpy's LU found A singular (sign 0), or the inverse's own route did
        if np.all(plain(out[0]) != 0.0):
            return out, (None, _trace_inv(a, da))
    except _LA.LinAlgError:
        pass
    raise NonDifferentiableError(
        "numpy.linalg.slogdet: the matrix is singular, log|det A| = -inf has no derivative "
        "there; np.linalg.det is differentiable at singular matrices")


# ---- symmetric factorisations ------------------------------------------------------------

@_rule("cholesky")
def cholesky_jvp(primals, tangents, upper=False):
    """dL = L Phi(L^-1 dS L^-T), Phi = lower triangle with halved diagonal; dS is the tangent
    symmetrised from the triangle numpy reads. L^-1 is one inverse of the factor (condition
    sqrt(cond A)), reused for all k directions."""
    (a,), (da,) = primals, tangents
    # numpy < 2 has no upper=; the default call keeps that working
    c = _LA.cholesky(a, upper=True) if upper else _LA.cholesky(a)
    low = _mT(c) if upper else c
    li = _b(_LA.inv(low))
    x = li @ _sym(_kf(da), lower=not upper) @ _mT(li)
    phi = np.tril(x, -1) + 0.5 * (x * np.eye(_shape(a)[-1]))
    dl = _b(low) @ phi
    return c, _kl(_mT(dl) if upper else dl)


@_rule("eigh")
def eigh_jvp(primals, tangents, UPLO="L"):
    """dw_i = v_i^T dS v_i, dV = V (F o V^T dS V), F_ij = 1/(w_j - w_i) off the diagonal.
    Raises at repeated eigenvalues (see the module docstring)."""
    (a,), (da,) = primals, tangents
    out = _LA.eigh(a, UPLO=UPLO)
    w, v = out
    _check_distinct(plain(w), _shape(a)[-1], "eigh", "eigenvalues", "eigenvectors", "eigvalsh")
    p = _b(_mT(v)) @ _sym(_kf(da), lower=UPLO in ("L", "l")) @ _b(v)
    dw = np.moveaxis(np.diagonal(p, axis1=-2, axis2=-1), -2, -1)
    eye = np.eye(_shape(a)[-1])
    # + eye keeps the diagonal's denominator 1 (its numerator is 0): no inf to mask afterwards
    f = (1.0 - eye) / (np.expand_dims(w, -2) - np.expand_dims(w, -1) + eye)
    return out, (dw, _kl(_b(v) @ (_b(f) * p)))


@_rule("eigvalsh")
def eigvalsh_jvp(primals, tangents, UPLO="L"):
    """dw_i = v_i^T dS v_i, averaged over clusters of repeated eigenvalues. The value is
    numpy's eigvalsh (no vectors computed), the vectors come from one eigh."""
    (a,), (da,) = primals, tangents
    w = _LA.eigvalsh(a, UPLO=UPLO)
    try:
        w2, v = _LA.eigh(a, UPLO=UPLO)
    except NonDifferentiableError as e:
        raise _reword(e, "eigvalsh", "no second derivative at repeated eigenvalues") from None
    ds = _sym(_kf(da), lower=UPLO in ("L", "l"))
    dw = np.sum((ds @ _b(v)) * _b(v), axis=-2)                      # (..., k, n)
    return w, np.moveaxis(dw @ _clusters(plain(w2), _shape(a)[-1])[0], -2, -1)   # M = M^T


def _real_spectrum(name, *arrays):
    """The arrays (eigenvalues, then vectors) as real ones where every eigenvalue is real, the
    spectra dual values can carry: numpy < 2.5 returns real arrays then, numpy >= 2.5 complex
    ones with zero imaginary parts (LAPACK's real dgeev, cast), whose real parts are exact."""
    if not np.iscomplexobj(plain(arrays[0])):
        return arrays
    if any(np.any(a.imag != 0.0) for a in arrays):
        raise TypeError(f"numpy.linalg.{name}: this matrix has complex eigenvalues, which dual "
                        "values (real) cannot carry; for a symmetric matrix use "
                        f"numpy.linalg.{'eigh' if name == 'eig' else 'eigvalsh'}")
    return tuple(a.real for a in arrays)


def _eig_parts(v, da):
    """P = V^-1 dA V for the k directions (k first): dw = diag(P)."""
    return _b(_LA.inv(v)) @ _kf(da) @ _b(v)


def _real_eig(out):
    return type(out)(*_real_spectrum("eig", *out))


def _real_eigvals(w):
    return _real_spectrum("eigvals", w)[0]


@_rule("eig", value=_real_eig)
def eig_jvp(primals, tangents):
    """Real spectra only (real w and V, where numpy >= 2.5 gives them a zero imaginary part;
    complex spectra raise a TypeError).
    With P = V^-1 dA V: dw_i = P_ii, dV = V (F o P), F_ij = 1/(w_j - w_i) off the diagonal,
    less each column's component along itself (numpy's vectors have unit length, so
    v_i . dv_i = 0). Raises at repeated eigenvalues, as eigh."""
    (a,), (da,) = primals, tangents
    out = _real_eig(_LA.eig(a))
    w, v = out
    n = _shape(a)[-1]
    _check_distinct(np.sort(plain(w), axis=-1), n, "eig", "eigenvalues", "eigenvectors",
                    "eigvals")
    p = _eig_parts(v, da)
    dw = np.moveaxis(np.diagonal(p, axis1=-2, axis2=-1), -2, -1)
    eye = np.eye(n)
    f = (1.0 - eye) / (np.expand_dims(w, -2) - np.expand_dims(w, -1) + eye)
    dv = _b(v) @ (_b(f) * p)
    dv = dv - _b(v) * np.sum(_b(v) * dv, axis=-2, keepdims=True)
    return out, (dw, _kl(dv))


@_rule("eigvals", value=_real_eigvals)
def eigvals_jvp(primals, tangents):
    """dw_i = (V^-1 dA V)_ii for a real spectrum, the vectors from one eig, matched to
    numpy's eigvals by value (LAPACK may order them differently with and without vectors).
    Raises at repeated eigenvalues: a defective matrix's eigenvalues have no derivative."""
    (a,), (da,) = primals, tangents
    w = _real_eigvals(_LA.eigvals(a))
    n = _shape(a)[-1]
    if n > 1 and _clusters(np.sort(plain(w), axis=-1), n)[1]:
        raise NonDifferentiableError(
            f"numpy.linalg.eigvals: repeated eigenvalues (equal within {_rtol(n):.1e} "
            "relative) of a general matrix have no derivative: where it is defective they "
            "split as the square root of a perturbation. For a symmetric matrix use eigvalsh, "
            "whose repeated eigenvalues share one derivative")
    w2, v = _real_spectrum("eig", *_LA.eig(a))
    pw, pw2 = plain(w), plain(w2)
    at = np.argmin(np.abs(pw[..., :, None] - pw2[..., None, :]), axis=-1)
    v = np.take_along_axis(v, np.expand_dims(at, -2) + np.zeros(_shape(a), dtype=int), axis=-1)
    p = _eig_parts(v, da)
    return w, np.moveaxis(np.diagonal(p, axis1=-2, axis2=-1), -2, -1)


# ---- powers and chains of products ----------------------------------------------------------

@_rule("matrix_power")
def matrix_power_jvp(primals, tangents, n):
    """Product rule along the same binary powering numpy uses; n < 0 through inv."""
    (a,), (da,) = primals, tangents
    out = _LA.matrix_power(a, n)
    n = operator.index(n)
    if n == 0:
        return out, np.zeros(_shape(out) + (_shape(da)[-1],))
    x, dx = a, _kf(da)
    if n < 0:
        x, n = _LA.inv(a), -n
        dx = -(_b(x) @ dx @ _b(x))
    res = dres = None
    while True:
        if n & 1:
            res, dres = (x, dx) if res is None else (res @ x, dres @ _b(x) + _b(res) @ dx)
        n >>= 1
        if not n:
            return out, _kl(dres)
        x, dx = x @ x, dx @ _b(x) + _b(x) @ dx


@_rule("multi_dot", nargs=-1)
def multi_dot_jvp(primals, tangents):
    """Sum over i of A_1..dA_i..A_n (prefix and suffix products, left to right)."""
    value = _LA.multi_dot(list(primals))
    last = len(primals) - 1
    mats, dmats = list(primals), list(tangents)
    first_1d, last_1d = len(_shape(mats[0])) == 1, len(_shape(mats[-1])) == 1
    for i, ax, dax, flat in ((0, 0, 0, first_1d), (-1, -1, -2, last_1d)):  # row, column vector
        if flat:
            mats[i] = np.expand_dims(mats[i], ax)
            dmats[i] = None if dmats[i] is None else np.expand_dims(dmats[i], dax)
    pre, suf = [None], [None]
    for i in range(last):
        pre.append(mats[i] if pre[-1] is None else pre[-1] @ mats[i])
        suf.append(mats[last - i] if suf[-1] is None else mats[last - i] @ suf[-1])
    total = None
    for i, dm in ((i, _kf(dm)) for i, dm in enumerate(dmats) if dm is not None):
        term = dm if pre[i] is None else _b(pre[i]) @ dm
        total = add(total, term if suf[last - i] is None else term @ _b(suf[last - i]))
    t = _kl(total)
    t = t[0] if first_1d else t
    return value, (t[..., 0, :] if last_1d else t)
