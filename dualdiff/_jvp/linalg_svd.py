"""The derivatives of numpy.linalg built on orthogonal factorisations: svd, svdvals, qr, pinv,
lstsq, the norms and the condition number; and `RULES`, every numpy.linalg rule by name.

Conventions (clusters of singular values, complement columns, the pseudo-inverse's constant
rank, ties in the norms) and the rule interface: see the docstring of linalg.py.
"""
import operator

import numpy as np

from dualdiff._jvp import add, plain
from dualdiff._jvp.linalg import (
    _EPS, _LA, _NUMPY2, NonDifferentiableError, _b, _check_distinct, _clusters, _kf, _kl, _mT,
    _reword, _rtol, _rule, _shape, _sym, cholesky_jvp, det_jvp, eig_jvp, eigh_jvp, eigvals_jvp,
    eigvalsh_jvp,
    inv_jvp, matrix_power_jvp, multi_dot_jvp, slogdet_jvp, solve_jvp)

_UNSET = object()          # numpy's "not given" (pinv's rtol=None differs from no rtol)


# ---- SVD, QR ---------------------------------------------------------------------------------

def _sv_tangent(a, da, hermitian, name):
    """(s, ds) with ds (..., k, p) = u_i^T dA v_i, cluster-averaged, 0 at exactly zero s.
    A matrix with an inf or NaN entry has no singular vectors, and LAPACK's SVD with vectors
    can loop forever on one (numpy's norm, svdvals and cond ask only for the values, which
    come out NaN): there ds is NaN, as IEEE arithmetic would give, without that call."""
    if not np.all(np.isfinite(plain(a))):
        # not even the values: numpy >= 2.5's SVD raises "did not converge" on them, which
        # np.linalg.cond silences (NaN) and norm does not -- numpy's own call decides
        p = min(_shape(a)[-2:])
        return np.full(tuple(_shape(a)[:-2]) + (p,), np.nan), \
            np.sum(_kf(da), axis=-1)[..., :p] * np.nan
    try:
        u, s, vh = _LA.svd(a, full_matrices=False, hermitian=hermitian)
    except NonDifferentiableError as e:
        raise _reword(e, name, "no second derivative at repeated or zero singular values") \
            from None
    dak = _sym(_kf(da), True) if hermitian else _kf(da)
    ds = np.sum((_b(_mT(u)) @ dak) * _b(vh), axis=-1)
    sp = plain(s)
    return s, (ds @ _clusters(sp, max(_shape(a)[-2:]))[0]) * np.expand_dims(sp != 0, -2)


@_rule("svd")
def svd_jvp(primals, tangents, full_matrices=True, compute_uv=True, hermitian=False):
    """With dP = U^T dA V (thin parts): ds = diag dP, dU = U (F o (dP S + S dP^T))
    + (I - UU^T) dA V S^-1, dV = V (F o (S dP + dP^T S)) + (I - VV^T) dA^T U S^-1,
    F_ij = 1/(s_j^2 - s_i^2) (Townsend 2016). Complement columns: see the module docstring."""
    (a,), (da,) = primals, tangents
    if not compute_uv:
        s = _LA.svd(a, compute_uv=False, hermitian=hermitian)
        return s, np.moveaxis(_sv_tangent(a, da, hermitian, "svd")[1], -2, -1)
    out = _LA.svd(a, full_matrices=full_matrices, hermitian=hermitian)
    u, s, vh = out
    m, n = _shape(a)[-2:]
    p = min(m, n)
    sp = plain(s)
    _check_distinct(sp, max(m, n), "svd", "singular values", "singular vectors", "svdvals")
    smin, smax = sp.min(axis=-1, initial=np.inf), sp.max(axis=-1, initial=0.0)
    if np.any(smin <= (_rtol(max(m, n)) * smax if m != n else 0.0)):
        raise NonDifferentiableError(
            f"numpy.linalg.svd: a zero singular value of a {m}x{n} matrix; its singular vectors "
            "are not unique (or change sign), so they have no derivative. Differentiate the "
            "singular values alone (svdvals) or a function that does not use those vectors.")
    dak = _sym(_kf(da), True) if hermitian else _kf(da)
    u1, v1 = u[..., :, :p], _mT(vh[..., :p, :])
    dp = _b(_mT(u1)) @ dak @ _b(v1)
    dpt = _mT(dp)
    eye = np.eye(p)
    si, sj = np.expand_dims(s, -1), np.expand_dims(s, -2)
    # (s_j - s_i)(s_j + s_i) rather than s_j^2 - s_i^2: no cancellation in the squares
    f = _b((1.0 - eye) / ((sj - si) * (sj + si) + eye))
    sr, sc = _b(si), _b(sj)
    du = _b(u1) @ (f * (dp * sc + sr * dpt))
    dv = _b(v1) @ (f * (sr * dp + dpt * sc))
    if m > n:
        du = du + (dak @ _b(v1) - _b(u1) @ dp) / sc
    elif n > m:
        dv = dv + (_mT(dak) @ _b(u1) - _b(v1) @ dpt) / sc
    if full_matrices and m > n:
        g = (_b(_mT(u[..., :, p:])) @ dak @ _b(v1)) / sc            # U2^T dU1
        du = np.concatenate([du, -(_b(u1) @ _mT(g))], axis=-1)
    elif full_matrices and n > m:
        h = (_b(vh[..., p:, :]) @ _mT(dak) @ _b(u1)) / sc           # V2^T dV1
        dv = np.concatenate([dv, -(_b(v1) @ _mT(h))], axis=-1)
    return out, (_kl(du), np.moveaxis(np.diagonal(dp, axis1=-2, axis2=-1), -2, -1),
                 _kl(_mT(dv)))


@_rule("svdvals")
def svdvals_jvp(primals, tangents):
    """ds_i = u_i^T dA v_i (cluster-averaged)."""
    (a,), (da,) = primals, tangents
    return _LA.svdvals(a), np.moveaxis(_sv_tangent(a, da, False, "svdvals")[1], -2, -1)


@_rule("qr")
def qr_jvp(primals, tangents, mode="reduced"):
    """Square/tall core, C = Q^T dA R^-1: dR = (triu C + tril(C,-1)^T) R, dQ = dA R^-1 - Q (that).
    Wide: the core on the leading m x m block X, and dR2 = dQ^T Y + Q^T dY (Walter & Lehmann
    2018). mode='complete', m > n: the complement columns as in the module docstring."""
    (a,), (da,) = primals, tangents
    if mode not in ("reduced", "complete", "r"):
        raise TypeError(f"numpy.linalg.qr: mode={mode!r} has no derivative rule (mode='raw' is "
                        "LAPACK's packed reflectors); use mode='reduced', 'complete' or 'r'")
    out = _LA.qr(a, mode="complete" if mode == "complete" else "reduced")
    q, r = out                           # mode 'r' gives the same R, bit for bit (same geqrf)
    m, n = _shape(a)[-2:]
    p = min(m, n)
    q1, r1 = q[..., :, :p], r[..., :p, :p]
    # Unpivoted QR does not reveal rank on R's diagonal; sigma_min of R1 (= that of the leading
    # p columns) does. Rounding errors scale with ||R||_F = ||A||_F.
    rp = plain(r)
    smin = np.linalg.svd(rp[..., :p, :p], compute_uv=False)[..., -1]
    if np.any(smin <= _rtol(max(m, n)) * np.linalg.norm(rp, axis=(-2, -1))):
        raise NonDifferentiableError(
            f"numpy.linalg.qr: the leading {p} columns are linearly dependent (to working "
            "precision), where Q and R have no derivative")
    dak = _kf(da)
    bq = (dak[..., :, :p] if n > m else dak) @ _b(_LA.inv(r1))           # dX R^-1
    c = _b(_mT(q1)) @ bq
    g = np.triu(c) + _mT(np.tril(c, -1))                                   # dR R^-1
    dq, dr = bq - _b(q1) @ g, g @ _b(r1)
    if n > m:
        dr = np.concatenate([dr, _mT(dq) @ _b(a[..., :, m:]) + _b(_mT(q1)) @ dak[..., :, m:]],
                            axis=-1)
    elif mode == "complete" and m > n:
        dq = np.concatenate([dq, -(_b(q1) @ _mT(_b(_mT(q[..., :, n:])) @ bq))], axis=-1)
        dr = np.eye(m, n) @ dr                                             # zero rows below
    if mode == "r":
        return r, _kl(dr)
    return out, (_kl(dq), _kl(dr))


# ---- pseudo-inverse, least squares -------------------------------------------------------------

def _pinv_tangent(a, da_k, pa):
    """dA+ = -A+ dA A+ + A+ A+^T dA^T (I - A A+) + (I - A+ A) dA^T A+^T A+ (k-first layout)."""
    m, n = _shape(a)[-2:]
    dat = _mT(da_k)
    return (-(_b(pa) @ da_k @ _b(pa))
            + _b(pa @ _mT(pa)) @ dat @ _b(np.eye(m) - a @ pa)
            + _b(np.eye(n) - pa @ a) @ dat @ _b(_mT(pa) @ pa))


def _check_truncation(a, pa, name):
    """The constant-rank formula is the derivative of numpy's truncated pseudo-inverse only
    if the discarded singular values are zero to working precision (else it is off by about
    s_discarded / s_kept), and only at first order (its own derivative leaves the rank-r
    manifold without the truncation's curvature). Raise in the other cases."""
    ap, pp = plain(a), plain(pa)
    m, n = ap.shape[-2:]
    rank = np.rint(np.trace(ap @ pp, axis1=-2, axis2=-1))
    if np.all(rank >= min(m, n)):
        return
    # ||A - A A+ A||_F >= the largest discarded singular value, without another SVD
    tail, scale = (np.linalg.norm(x, axis=(-2, -1)) for x in (ap - ap @ pp @ ap, ap))
    if not isinstance(a, np.ndarray) and hasattr(a, "value"):
        raise NonDifferentiableError(
            f"numpy.linalg.{name}: no second derivative at a rank-deficient matrix (rank "
            f"{int(rank.min())} < {min(m, n)} by the cutoff); the constant-rank derivative is "
            "exact at first order only")
    if np.any(tail > _rtol(max(m, n)) * scale):
        raise NonDifferentiableError(
            f"numpy.linalg.{name}: singular values below the cutoff are not negligible (up to "
            f"{tail.max():.1e}, relative {np.max(tail / scale):.1e}); the derivative of the "
            "truncated pseudo-inverse is implemented only when they are zero to working "
            "precision. Move the cutoff (rcond/rtol) so that it keeps or drops them cleanly.")


@_rule("pinv")
def pinv_jvp(primals, tangents, rcond=None, hermitian=False, rtol=_UNSET):
    """Golub-Pereyra constant-rank derivative (exact for full rank; rank-deficient: see the
    module docstring)."""
    (a,), (da,) = primals, tangents
    # rtol=None is not its default; numpy < 2 has no rtol and no rcond=None
    cut = ({} if rtol is _UNSET else {"rtol": rtol}) | ({} if rcond is None else {"rcond": rcond})
    pa = _LA.pinv(a, hermitian=hermitian, **cut)
    a, dak = (_sym(a, True), _sym(_kf(da), True)) if hermitian else (a, _kf(da))
    _check_truncation(a, pa, "pinv")
    return pa, _kl(_pinv_tangent(a, dak, pa))


@_rule("lstsq", nargs=2)
def lstsq_jvp(primals, tangents, rcond=_UNSET):
    """x = A+ b: dx = A+ (db - dA x) + A+ A+^T dA^T r + (I - A+ A) dA^T A+^T x with r = b - Ax
    and A+ cut off at lstsq's own rcond; d residuals = 2 r . dr; the rank is discrete (None);
    s as svdvals."""
    (a, b), (da, db) = primals, tangents
    out = _LA.lstsq(a, b) if rcond is _UNSET else _LA.lstsq(a, b, rcond=rcond)
    if rcond is _UNSET:                   # numpy's default: numpy 1's "warn" means -1
        rcond = None if _NUMPY2 else -1.0
    x, res, _, sv = out
    m, n = _shape(a)
    k = _shape(da if da is not None else db)[-1]
    rc = _EPS * max(m, n) if rcond is None else (_EPS if rcond < 0 else rcond)
    pa = _LA.pinv(a, rcond=rc)
    _check_truncation(a, pa, "lstsq")
    vector = len(_shape(b)) == 1
    xm, bm = (np.expand_dims(x, -1), np.expand_dims(b, -1)) if vector else (x, b)
    r = bm - a @ xm
    u = None if db is None else _kf(np.expand_dims(db, -2) if vector else db)   # (k, m, K)
    if da is not None:
        dak = _kf(da)
        u = add(u, -(dak @ xm))
    dx = _b(pa) @ u
    if da is not None:
        dat = _mT(dak)
        dx = dx + _b(pa @ _mT(pa)) @ dat @ r + _b(np.eye(n) - pa @ a) @ dat @ (_mT(pa) @ xm)
    dres = np.moveaxis(2.0 * np.sum(r * (u - a @ dx), axis=-2), -2, -1) if _shape(res)[0] \
        else np.zeros((0, k))                    # numpy gives no residuals when rank < n
    ds = np.zeros(_shape(sv) + (k,)) if da is None else \
        np.moveaxis(_sv_tangent(a, da, False, "lstsq")[1], -2, -1)
    dx = _kl(dx)
    return out, (dx[..., 0, :] if vector else dx, dres, None, ds)


# ---- norms and condition numbers ------------------------------------------------------------

def _tie_weights(vals, axis, pick):
    """Plain weights sharing the derivative equally among the entries that attain pick()."""
    hit = (vals == pick(vals, axis=axis, keepdims=True)).astype(float)
    return hit / hit.sum(axis=axis, keepdims=True)


def _vector_tangent(x, dx, axes, ord, keep):
    """Tangent of the `ord` vector norm of x over `axes` (non-negative); keep = that norm with
    the reduced axes kept (size 1)."""
    if ord == 0:
        return None                                       # a count of nonzeros: discrete
    xp = plain(x)
    sg = np.expand_dims(np.sign(xp), -1)                  # abs'(0) = 0
    if ord == 1:
        return np.sum(dx * sg, axis=axes)
    if ord in (np.inf, -np.inf):
        w = _tie_weights(np.abs(xp), axes, np.max if ord > 0 else np.min)
        return np.sum(dx * (sg * np.expand_dims(w, -1)), axis=axes)
    kp = plain(keep)
    safe = np.where(kp == 0, 1.0, keep)                   # norm 0: the numerators are 0 too
    if ord == 2:
        # 0 at the zero vector, a constant: its second derivative is 0 too (abs'' = 0)
        wgt = np.where(kp == 0, 0.0, x / safe)
    else:                # |x_i|^(p-1) sign(x_i) / ||x||^(p-1), 0 at x_i = 0 and at ||x|| = 0
        # chosen by where, not multiplied by (kp != 0): at a norm that underflows to 0
        # (ord = -1 of [1.0, 5e-324]) the ratio's power overflows, and inf * 0 = NaN spread
        # along every direction of the sweep (fuzz seed 2424-88878)
        ratio = np.where(xp == 0, 1.0, np.abs(x)) / safe
        wgt = np.where(kp == 0, 0.0, ratio ** (ord - 1) * np.sign(xp))
    return np.sum(dx * np.expand_dims(wgt, -1), axis=axes)


def _matrix_tangent(x, dx, ord, keep):
    """Tangent (..., k) of a matrix norm over the last two axes; keep has shape (..., 1, 1)."""
    nd = len(_shape(x))
    if ord in (None, "fro"):
        return _vector_tangent(x, dx, (nd - 2, nd - 1), 2, keep)
    if ord in ("nuc", 2, -2):
        ds = _sv_tangent(x, dx, False, "norm")[1]
        return np.sum(ds, axis=-1) if ord == "nuc" else ds[..., 0 if ord == 2 else -1]
    xp = plain(x)
    ax = -2 if ord in (1, -1) else -1                     # 1: column sums, inf: row sums
    dsum = np.sum(dx * np.expand_dims(np.sign(xp), -1), axis=ax - 1)
    w = _tie_weights(np.abs(xp).sum(axis=ax), -1, np.max if ord > 0 else np.min)
    return np.sum(dsum * np.expand_dims(w, -1), axis=-2)


def _norm(x, dx, out, axes, ord, matrix, keepdims):
    """Tangent of a norm over `axes` of x whose value numpy gave as `out`."""
    shape = _shape(x)
    nd, k = len(shape), _shape(dx)[-1]
    axes = tuple(operator.index(a) % nd for a in axes)
    keep_shape = tuple(1 if i in axes else d for i, d in enumerate(shape))
    keep = np.reshape(out, keep_shape)
    if any(shape[i] == 0 for i in axes):
        # numpy's norm of nothing is 0 (a constant): the sum of no tangents, exactly zero
        t = np.sum(dx, axis=axes)
    elif not matrix:
        t = _vector_tangent(x, dx, axes, ord, keep)
    else:
        perm = [i for i in range(nd) if i not in axes] + list(axes)
        t = _matrix_tangent(np.transpose(x, perm), np.transpose(dx, perm + [nd]), ord,
                            np.reshape(out, tuple(shape[i] for i in perm[:-2]) + (1, 1)))
    return t if t is None or not keepdims else np.reshape(t, keep_shape + (k,))


@_rule("norm")
def norm_jvp(primals, tangents, ord=None, axis=None, keepdims=False):
    """Vector norms of any p, matrix norms None/'fro'/'nuc'/+-1/+-2/+-inf (numpy's cases)."""
    (x,), (dx,) = primals, tangents
    out = _LA.norm(x, ord=ord, axis=axis, keepdims=keepdims)
    nd = len(_shape(x))
    if axis is None:
        axes = tuple(range(nd)) if ord is None or nd == 1 else (0, 1)
    else:
        axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    matrix = len(axes) == 2 and not (axis is None and ord is None)
    return out, _norm(x, dx, out, axes, ord if matrix else (2 if ord is None else ord),
                      matrix, keepdims)


@_rule("vector_norm")
def vector_norm_jvp(primals, tangents, axis=None, keepdims=False, ord=2):
    (x,), (dx,) = primals, tangents
    out = _LA.vector_norm(x, axis=axis, keepdims=keepdims, ord=ord)
    nd = len(_shape(x))
    axes = tuple(range(nd)) if axis is None else \
        (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    return out, _norm(x, dx, out, axes, ord, False, keepdims)


@_rule("matrix_norm")
def matrix_norm_jvp(primals, tangents, keepdims=False, ord="fro"):
    (x,), (dx,) = primals, tangents
    out = _LA.matrix_norm(x, keepdims=keepdims, ord=ord)
    return out, _norm(x, dx, out, (-2, -1), ord, True, keepdims)


@_rule("cond")
def cond_jvp(primals, tangents, p=None):
    """p None/2/-2: s_max/s_min from the singular values' rule; otherwise
    norm(A) norm(A^-1) by the product rule with d(A^-1) = -A^-1 dA A^-1."""
    (x,), (dx,) = primals, tangents
    out = _LA.cond(x, p)
    singular = NonDifferentiableError(f"numpy.linalg.cond(p={p!r}): the matrix is singular, the "
                                      "condition number is infinite and has no derivative")
    if p is None or p in (2, -2):
        s, ds = _sv_tangent(x, dx, False, "cond")
        if np.any(plain(s)[..., -1] == 0):
            raise singular
        big, small = (0, -1) if p != -2 else (-1, 0)         # c = s[big] / s[small]
        return out, ((ds[..., big] - np.expand_dims(out, -1) * ds[..., small])
                     / np.expand_dims(s[..., small], -1))
    try:
        xi = _LA.inv(x)
    except _LA.LinAlgError:
        raise singular from None
    dxi = _kl(-(_b(xi) @ _kf(dx) @ _b(xi)))
    n1, n2 = _LA.norm(x, p, axis=(-2, -1)), _LA.norm(xi, p, axis=(-2, -1))
    shape1 = _shape(n1) + (1, 1)
    t1 = _matrix_tangent(x, dx, p, np.reshape(n1, shape1))
    t2 = _matrix_tangent(xi, dxi, p, np.reshape(n2, shape1))
    return out, t1 * np.expand_dims(n2, -1) + np.expand_dims(n1, -1) * t2


# ---- the table ---------------------------------------------------------------------------------

RULES = {r.numpy_name: r for r in (
    solve_jvp, inv_jvp, det_jvp, slogdet_jvp, cholesky_jvp, eigh_jvp, eigvalsh_jvp, svd_jvp,
    eig_jvp, eigvals_jvp,
    svdvals_jvp, qr_jvp, pinv_jvp, lstsq_jvp, matrix_power_jvp, multi_dot_jvp, norm_jvp,
    vector_norm_jvp, matrix_norm_jvp, cond_jvp)}
