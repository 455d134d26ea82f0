"""The numpy.linalg rules (dualdiff/_jvp/linalg.py, linalg_svd.py) on their own, called
directly as rule(primals, tangents): against finite differences, closed forms, mpmath and
their stated conventions, at first and second order.

Second order applies each rule to itself, as the dual arrays do: tests/_nested_dual.py is a
deliberately minimal dual array that supports only the operations the rules are allowed to
use and dispatches np.linalg.* back to the rules, so a rule that used anything else would
fail here. Its output is checked against central differences of the rule's own first-order
tangent and those against second differences of numpy's function. Each second-order case
runs once more through dd.hvp, on dualdiff's own dual arrays. tests/test_linalg.py checks
the functions end to end inside user code.
"""
import numpy as np
import pytest

import dualdiff as dd
from _linalg_inputs import (away, batch_last, cond_input, general, orth, qr_input, separated, spd,
                            svd_matrix, vec)
from _nested_dual import JVPS, Nested, split_args
from dualdiff._jvp.linalg import NonDifferentiableError
from dualdiff._jvp.linalg_svd import RULES

try:
    import mpmath as mp
except ImportError:          # a test extra: without it the mpmath oracle is skipped
    mp = None

LA = np.linalg
NUMPY2 = hasattr(LA, "vector_norm")      # numpy 2's array-API names and keywords (upper=, rtol=)


def _e(v):
    return np.expand_dims(v, -1)


# ---- the table ---------------------------------------------------------------------------------

def _sign_cols(base, other, p):
    """+-1 per column making other's first p columns agree in sign with base's."""
    return np.sign(np.sum(base[..., :, :p] * other[..., :, :p], axis=-2))[..., None, :]


def align_eigh(base, out):
    return [None, _sign_cols(base[1], out[1], base[1].shape[-1])]


def align_svd(base, out):
    p = out[1].shape[-1]
    sg = _sign_cols(base[0], out[0], p)
    return [sg, None, np.swapaxes(sg, -1, -2)]


def align_qr(base, out):
    sg = _sign_cols(base[0], out[0], out[0].shape[-1])
    return [sg, np.swapaxes(sg, -1, -2)]


def align_r(base, out):
    """LAPACK flips a row of R (with Q's column) when a Householder pivot crosses 0."""
    diag = lambda r: np.diagonal(r, axis1=-2, axis2=-1)
    return [np.sign(diag(base[0]) * diag(out[0]))[..., :, None]]


def case(cid, func, make, params=None, pick=None, align=None, diff=None, numpy2=None):
    """func: a numpy.linalg function, or the name of one numpy < 2 lacks (skipped there);
    numpy2: True for numpy >= 2 only, False for numpy 1 only, None: from func and params."""
    if isinstance(func, str):
        func = getattr(LA, func, None)
    if numpy2 is None:
        numpy2 = True if func is None or {"upper", "rtol"} & set(params or {}) else None
    marks = pytest.mark.skipif(numpy2 is not None and numpy2 != NUMPY2,
                               reason=f"numpy {'>= 2' if numpy2 else '1'} semantics")
    return pytest.param(dict(func=func, make=make, params=params or {}, pick=pick,
                             align=align, diff=diff), id=cid, marks=marks)


SQ = [(3, 3), (2, 3, 4, 4)]
RECT = [(5, 3), (3, 5), (2, 5, 3)]
G, S, M, V = general, spd, svd_matrix, vec


def one(gen, shape, **kw):
    return lambda rng: [gen(rng, shape, **kw)]


CASES = [
    case("solve-vec", LA.solve, lambda r: [G(r, (3, 3)), V(r, (3,))]),
    case("solve-mat", LA.solve, lambda r: [G(r, (3, 3)), V(r, (3, 2))]),
    case("solve-batched", LA.solve, lambda r: [G(r, (2, 3, 4, 4)), V(r, (2, 3, 4, 2))]),
    case("solve-const-a", LA.solve, lambda r: [G(r, (2, 4, 4)), V(r, (1, 4, 3))], diff=(1,)),
    case("solve-const-b", LA.solve, lambda r: [G(r, (2, 4, 4)), V(r, (4, 3))], diff=(0,),
         numpy2=True),
    # numpy >= 2 reads a 1-D b as a vector, numpy 1 a b with one dimension less than a
    case("solve-batched-vec", LA.solve, lambda r: [G(r, (2, 3, 4, 4)), V(r, (4,))], numpy2=True),
    case("solve-vec-const-b", LA.solve, lambda r: [G(r, (2, 4, 4)), V(r, (4,))], diff=(0,),
         numpy2=True),
    case("solve-batched-vec-numpy1", LA.solve, lambda r: [G(r, (3, 4, 4)), V(r, (3, 4))],
         numpy2=False),
    case("lstsq-vec", LA.lstsq, lambda r: [M(r, (6, 3)), V(r, (6,))], pick=(0, 1, 3)),
    case("lstsq-mat", LA.lstsq, lambda r: [M(r, (6, 3)), V(r, (6, 2))], pick=(0, 1, 3)),
    case("lstsq-const-a", LA.lstsq, lambda r: [M(r, (6, 3)), V(r, (6,))], pick=(0, 1, 3),
         diff=(1,)),
    case("lstsq-rank-deficient", LA.lstsq, lambda r: [M(r, (6, 4), np.array([3., 2, 0, 0])),
                                                      V(r, (6,))], {"rcond": 1e-3}, pick=(0,)),
    case("multi_dot", LA.multi_dot, lambda r: [V(r, (3, 4)), V(r, (4, 4)), V(r, (4, 2))]),
    case("multi_dot-1d-ends", LA.multi_dot, lambda r: [V(r, (4,)), V(r, (4, 5)), V(r, (5, 3)),
                                                       V(r, (3,))]),
    case("multi_dot-partial", LA.multi_dot, lambda r: [V(r, (4,)), V(r, (4, 5)), V(r, (5, 3))],
         diff=(1,)),
    case("qr-complete-square", LA.qr, one(M, (4, 4)), {"mode": "complete"}, align=align_qr),
    case("qr-complete-wide", LA.qr, one(qr_input, (3, 5)), {"mode": "complete"},
         align=align_qr),
    case("svd-hermitian", LA.svd, one(S, (4, 4)), {"hermitian": True}, align=align_svd),
    case("svd-values", LA.svd, one(M, (2, 5, 3)), {"compute_uv": False}),
    case("svd-values-hermitian", LA.svd, one(S, (4, 4)), {"compute_uv": False,
                                                          "hermitian": True}),
    case("pinv-hermitian", LA.pinv, one(S, (4, 4)), {"hermitian": True}),
    case("pinv-rtol", LA.pinv, one(M, (5, 3)), {"rtol": None}),
    case("pinv-rank-deficient", LA.pinv, one(M, (5, 4), values=np.array([3., 1.5, 0, 0])),
         {"rcond": 1e-3}),
    case("norm-flat", LA.norm, one(V, (2, 3, 4))),
    case("cond-rect", LA.cond, one(M, (5, 3))),
    case("cond-rect-wide", LA.cond, one(M, (2, 3, 5)), {"p": -2}),
]
for shp in SQ:
    t = "x".join(map(str, shp))
    CASES += [
        case(f"inv-{t}", LA.inv, one(G, shp)),
        case(f"det-{t}", LA.det, one(G, shp)),
        case(f"slogdet-{t}", LA.slogdet, one(G, shp), pick=(1,)),
        case(f"cholesky-{t}", LA.cholesky, one(S, shp)),
        case(f"cholesky-upper-{t}", LA.cholesky, one(S, shp, garbage="lower"), {"upper": True}),
        case(f"eigh-{t}", LA.eigh, one(S, shp), align=align_eigh),
        case(f"eigh-U-{t}", LA.eigh, one(S, shp, garbage="lower"), {"UPLO": "U"},
             align=align_eigh),
        case(f"eigvalsh-{t}", LA.eigvalsh, one(S, shp)),
        case(f"svd-square-{t}", LA.svd, one(M, shp), align=align_svd),
        case(f"matrix_power-5-{t}", LA.matrix_power, one(G, shp), {"n": 5}),
        case(f"matrix_power-neg-{t}", LA.matrix_power, one(G, shp), {"n": -3}),
    ]
    CASES += [case(f"cond-{p}-{t}", LA.cond, one(M, shp), {"p": p})
              for p in (None, 2, -2, "fro", "nuc")]
    CASES += [case(f"cond-{p}-{t}", LA.cond, one(cond_input, shp), {"p": p})
              for p in (1, -1, np.inf, -np.inf)]
CASES += [case(f"matrix_power-{n}", LA.matrix_power, one(G, (3, 3)), {"n": n})
          for n in (0, 1, 2, 3, -1)]
for shp in RECT:
    t = "x".join(map(str, shp))
    CASES += [
        case(f"svd-thin-{t}", LA.svd, one(M, shp), {"full_matrices": False}, align=align_svd),
        case(f"svdvals-{t}", "svdvals", one(M, shp)),
        case(f"qr-{t}", LA.qr, one(qr_input, shp), align=align_qr),
        case(f"qr-r-{t}", LA.qr, one(qr_input, shp), {"mode": "r"}, align=align_r),
        case(f"pinv-{t}", LA.pinv, one(M, shp)),
    ]
for o in (None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf):
    gen = V if o in (None, "fro") else M if o in ("nuc", 2, -2) else separated
    CASES += [case(f"norm-matrix-{o}", LA.norm, one(gen, (3, 4)), {"ord": o}),
              case(f"norm-matrix-axes-{o}", LA.norm, batch_last(gen, (3, 4, 2)),
                   {"ord": o, "axis": (2, 0), "keepdims": True}),
              case(f"matrix_norm-{o}", "matrix_norm", one(gen, (2, 3, 4)),
                   {} if o is None else {"ord": o})]
for o in (None, 1, 2, 3, 0.5, -1.5, np.inf, -np.inf, 0):
    CASES += [case(f"norm-vector-{o}", LA.norm, one(away, (5,)), {"ord": o}),
              case(f"norm-vector-axis-{o}", LA.norm, one(away, (3, 4)),
                   {"ord": o, "axis": -1, "keepdims": True})]
    if o is not None:
        CASES += [case(f"vector_norm-{o}", "vector_norm", one(away, (2, 3, 4)),
                       {"ord": o, "axis": (0, 2)}),
                  case(f"vector_norm-all-{o}", "vector_norm", one(away, (3, 4)),
                       {"ord": o, "keepdims": True})]


# ---- the checks ------------------------------------------------------------------------------

def call(func, prims, params):
    return func(list(prims), **params) if func is LA.multi_dot else func(*prims, **params)


def as_list(x):
    return list(x) if isinstance(x, tuple) else [x]


def picked(c, out, tangent, base=None):
    """The (output, tangent) pairs a case compares, signs aligned to `base`'s outputs."""
    outs, tans = as_list(out), as_list(tangent)
    pick = range(len(outs)) if c["pick"] is None else c["pick"]
    mult = c["align"](as_list(base), outs) if base is not None and c["align"] else None
    res = []
    for i in pick:
        o, t = outs[i], tans[i]
        o = o if isinstance(o, Nested) else np.asarray(o, float)
        if mult is not None and mult[i] is not None:
            o = o * mult[i]
            t = None if t is None else t * _e(mult[i])
        res.append((o, t))
    return res


def directions(c, rng, prims, k):
    diff = range(len(prims)) if c["diff"] is None else c["diff"]
    return [rng.standard_normal(np.shape(p) + (k,)) if i in diff else None
            for i, p in enumerate(prims)]


def shifted(prims, dirs, h):
    return [p if d is None else p + h * d for p, d in zip(prims, dirs)]


def assert_close(got, want, tol, what):
    got, want = np.asarray(got, float), np.asarray(want, float)
    assert got.shape == want.shape, (what, got.shape, want.shape)
    err = np.max(np.abs(got - want), initial=0.0) / max(1.0, np.max(np.abs(want), initial=0.0))
    assert err <= tol, f"{what}: scaled error {err:.2e} > {tol:.0e}"


def rule(c, prims, dirs):
    return JVPS[c["func"]](tuple(prims), tuple(dirs), **c["params"])


@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("c", CASES)
def test_first_order_matches_central_differences(c, k, rng):
    """out is numpy's own result, bit for bit; each direction's tangent is the central
    difference of numpy's function; the inputs are not modified."""
    prims = c["make"](rng)
    dirs = directions(c, rng, prims, k)
    keep = [np.copy(p) for p in prims] + [np.copy(d) for d in dirs if d is not None]
    out, tangent = rule(c, prims, dirs)
    want = call(c["func"], prims, c["params"])
    for o, w in zip(as_list(out), as_list(want)):
        np.testing.assert_array_equal(o, w)
    assert type(out) is type(want)
    h = 1e-6
    for j in range(k):
        dj = [None if d is None else d[..., j] for d in dirs]
        plus = picked(c, call(c["func"], shifted(prims, dj, h), c["params"]), tangent, out)
        minus = picked(c, call(c["func"], shifted(prims, dj, -h), c["params"]), tangent, out)
        for (o, t), (op, _), (om, _) in zip(picked(c, out, tangent), plus, minus):
            if t is None:
                assert not np.any(op - om), "a None tangent must mean a locally constant output"
                continue
            assert_close(t[..., j], (op - om) / (2 * h), 2e-6, f"direction {j}")
    for p, q in zip(prims + [d for d in dirs if d is not None], keep):
        np.testing.assert_array_equal(p, q)


def _second(c, prims, v, w, h):
    """Central difference along w of the rule's own tangent in direction v."""
    tp = rule(c, shifted(prims, w, h), v)
    tm = rule(c, shifted(prims, w, -h), v)
    base = call(c["func"], prims, c["params"])
    return [None if a is None else (a - b) / (2 * h) for (_, a), (_, b) in
            zip(picked(c, tp[0], tp[1], base), picked(c, tm[0], tm[1], base))]


SECOND = [p for p in CASES if p.id not in ("pinv-rank-deficient",
                                           "lstsq-rank-deficient")    # raise: see below
          and str(p.values[0]["params"].get("ord")) != "0"]              # no tangent


@pytest.mark.parametrize("c", SECOND)
def test_second_order_rule_applied_to_itself(c, rng):
    """With primals x + e2 w and tangents v + e2 u (Nested duals) the rule gives, in its
    tangent's e2 part, D2F[v, w] + J u. D2F[v, w] is checked against central differences of
    the rule's first-order tangent, and those against second differences of numpy's F."""
    prims = c["make"](rng)
    v = directions(c, rng, prims, 1)
    w = [None if d is None else d[..., 0] for d in directions(c, rng, prims, 1)]
    u = directions(c, rng, prims, 1)
    nested_p = [p if d is None else Nested(p, d[..., None]) for p, d in zip(prims, w)]
    nested_v = [None if d is None else Nested(d, e[..., None]) for d, e in zip(v, u)]
    out, tangent = JVPS[c["func"]](tuple(nested_p), tuple(nested_v), **c["params"])
    first = rule(c, prims, v)
    second = _second(c, prims, v, w, 1e-5)
    jw = rule(c, prims, [None if d is None else d[..., None] for d in w])[1]
    ju = rule(c, prims, u)[1]
    h = 2e-4
    f = lambda a, b: picked(c, call(c["func"], shifted(prims, [
        None if x is None else a * x[..., 0] + b * y for x, y in zip(v, w)], h),
        c["params"]), first[1], first[0])
    d2f = [(pp - pm - mp + mm) / (4 * h * h) for (pp, _), (pm, _), (mp, _), (mm, _)
           in zip(f(1, 1), f(1, -1), f(-1, 1), f(-1, -1))]
    rows = zip(picked(c, out, tangent), picked(c, *first), picked(c, first[0], jw),
               picked(c, first[0], ju), second, d2f)
    for i, ((o, t), (o1, t1), (_, tw), (_, tu), s2, fd2) in enumerate(rows):
        if t1 is None:
            continue
        assert isinstance(o, Nested), f"output {i} lost its dual part"
        np.testing.assert_array_equal(o.value, o1)
        assert_close(o.tangent[..., 0], tw[..., 0], 1e-9, f"output {i}: e2 part of the value")
        # a plain tangent is a constant (e.g. matrix_power(a, 0)): its e2 part is zero
        t12 = t.tangent[..., 0, 0] if isinstance(t, Nested) else np.zeros(np.shape(t)[:-1])
        assert_close(t.value if isinstance(t, Nested) else t, t1, 1e-9, f"output {i}: e1 part")
        assert_close(t12, s2[..., 0] + tu[..., 0], 1e-6,
                     f"output {i}: e1e2 part vs differences of the rule")
        assert_close(s2[..., 0], fd2, 1e-4, f"output {i}: rule differences vs D2F")


@pytest.mark.parametrize("c", SECOND)
def test_second_order_on_dualdiffs_own_dual_arrays(c, rng):
    """Every case through the public transforms, where the rules' second order runs on
    dualdiff's dual arrays instead of Nested: hvp of a random projection of the outputs
    (signs aligned to the outputs at x) against central differences of the exact gradient."""
    prims = c["make"](rng)
    diff = [i for i in range(len(prims)) if c["diff"] is None or i in c["diff"]]
    base = call(c["func"], prims, c["params"])
    pick = range(len(as_list(base))) if c["pick"] is None else c["pick"]
    weights = {i: rng.standard_normal(np.shape(as_list(base)[i])) for i in pick}

    def g(z):
        args, start = list(prims), 0
        for i in diff:
            n = np.size(prims[i])
            args[i], start = np.reshape(z[start:start + n], np.shape(prims[i])), start + n
        outs = as_list(call(c["func"], args, c["params"]))
        plain = [getattr(o, "value", o) for o in outs]       # signs: decided on the values
        mult = c["align"](as_list(base), plain) if c["align"] else [None] * len(outs)
        return sum(np.sum(weights[i] * (outs[i] if mult[i] is None else outs[i] * mult[i]))
                   for i in pick)
    z = np.concatenate([np.ravel(prims[i]) for i in diff])
    w = rng.standard_normal(z.shape)
    h = 1e-5
    fd = (dd.grad(g)(z + h * w) - dd.grad(g)(z - h * w)) / (2 * h)
    assert_close(dd.hvp(g)(z, w), fd, 1e-6, "hvp")


# ---- closed forms ------------------------------------------------------------------------------

def mT(x):
    return np.swapaxes(x, -1, -2)


def per_dir(f):
    """A closed form f(primals..., tangents...) of one direction, applied to each of k."""
    return lambda *args: [f(*args[:len(args) // 2], *(d[..., j] for d in args[len(args) // 2:]))
                          for j in range(args[-1].shape[-1])]


CLOSED = [   # (id, func, primals, params, output, closed form per direction)
    ("det", LA.det, lambda r: [G(r, (2, 4, 4))], {}, None,
     per_dir(lambda a, d: LA.det(a) * np.trace(LA.inv(a) @ d, axis1=-2, axis2=-1))),
    ("slogdet", LA.slogdet, lambda r: [G(r, (2, 4, 4))], {}, 1,
     per_dir(lambda a, d: np.trace(LA.inv(a) @ d, axis1=-2, axis2=-1))),
    ("inv", LA.inv, lambda r: [G(r, (2, 4, 4))], {}, None,
     per_dir(lambda a, d: -LA.inv(a) @ d @ LA.inv(a))),
    ("pinv-full-column-rank", LA.pinv, lambda r: [M(r, (6, 3))], {}, None,   # (A^T A)^-1 A^T
     per_dir(lambda a, d: LA.inv(a.T @ a) @ d.T - LA.inv(a.T @ a) @ (d.T @ a + a.T @ d)
             @ LA.inv(a.T @ a) @ a.T)),
    ("lstsq-normal-equations", LA.lstsq, lambda r: [M(r, (7, 3)), V(r, (7, 2))], {}, 0,
     per_dir(lambda a, b, da, db: LA.solve(a.T @ a, da.T @ (b - a @ LA.lstsq(a, b)[0])
                                           + a.T @ (db - da @ LA.lstsq(a, b)[0])))),
    ("matrix_power-4", LA.matrix_power, lambda r: [G(r, (4, 4))], {"n": 4}, None,
     per_dir(lambda a, d: sum(LA.matrix_power(a, i) @ d @ LA.matrix_power(a, 3 - i)
                              for i in range(4)))),
    ("norm-2", LA.norm, lambda r: [M(r, (5, 3))], {"ord": 2}, None,          # u1^T dA v1
     per_dir(lambda a, d: LA.svd(a)[0][:, 0] @ d @ LA.svd(a)[2][0])),
    ("norm-nuc", LA.norm, lambda r: [M(r, (5, 3))], {"ord": "nuc"}, None,    # tr(U^T dA V)
     per_dir(lambda a, d: np.trace(LA.svd(a, False)[0].T @ d @ LA.svd(a, False)[2].T))),
    ("eigvalsh", LA.eigvalsh, lambda r: [S(r, (4, 4))], {}, None,            # v_i^T dS v_i
     per_dir(lambda a, d: np.diagonal(LA.eigh(a)[1].T @ (np.tril(d) + np.tril(d, -1).T)
                                      @ LA.eigh(a)[1]))),
]


@pytest.mark.parametrize("cid,func,make,params,output,closed", CLOSED, ids=[c[0] for c in CLOSED])
def test_closed_forms(cid, func, make, params, output, closed, rng):
    """Tangents equal a textbook formula computed another way (inv instead of solve, normal
    equations, explicit sums, singular vectors)."""
    prims = make(rng)
    dirs = [rng.standard_normal(p.shape + (3,)) for p in prims]
    t = JVPS[func](prims, dirs, **params)[1]
    t = t if output is None else t[output]
    for j, want in enumerate(closed(*prims, *dirs)):
        assert_close(t[..., j], want, 1e-10, f"direction {j}")


DEFINING = [   # factorisations: the tangents satisfy the differentiated defining identities
    ("cholesky", LA.cholesky, lambda r: S(r, (2, 4, 4)), {}),
    ("eigh", LA.eigh, lambda r: S(r, (2, 4, 4)), {}),
    ("svd-tall-thin", LA.svd, lambda r: M(r, (2, 5, 3)), {"full_matrices": False}),
    ("svd-wide-full", LA.svd, lambda r: M(r, (3, 5)), {}),
    ("qr-tall-complete", LA.qr, lambda r: M(r, (5, 3)), {"mode": "complete"}),
    ("qr-wide", LA.qr, lambda r: qr_input(r, (3, 5)), {}),
]


@pytest.mark.parametrize("cid,func,make,params", DEFINING, ids=[c[0] for c in DEFINING])
def test_factorisation_tangents_satisfy_the_defining_identities(cid, func, make, params, rng):
    """cholesky: dL L^T + L dL^T = dS, dL lower; eigh: dS V + S dV = dV W + V dW, V^T dV skew;
    svd: dA = dU S Vh + U dS Vh + U S dVh, U^T dU and Vh dVh^T skew; qr: dA = dQ R + Q dR,
    Q^T dQ skew, dR upper. Orthogonal factors include the complement columns' gauge."""
    a = make(rng)
    da = rng.standard_normal(a.shape + (2,))
    out, t = JVPS[func]((a,), (da,), **params)
    kf = lambda x: np.moveaxis(x, -1, -3) if x.ndim == a.ndim + 1 else np.moveaxis(x, -1, -2)
    b = lambda x: np.expand_dims(x, -3) if x.ndim == a.ndim else np.expand_dims(x, -2)
    out, t, d = [b(o) for o in as_list(out)], [kf(x) for x in as_list(t)], kf(da)
    sym, skew = (lambda x: np.tril(x) + mT(np.tril(x, -1))), (lambda x: x + mT(x))
    zero = lambda x, what: assert_close(x, np.zeros_like(x), 1e-12, what)
    if func is LA.cholesky:
        zero(t[0] @ mT(out[0]) + out[0] @ mT(t[0]) - sym(d), "dL L^T + L dL^T - dS")
        zero(np.triu(t[0], 1), "upper part of dL")
    elif func is LA.eigh:
        (w, v), (dw, dv) = out, t
        zero(sym(d) @ v + b(sym(a)) @ dv - dv * w[..., None, :] - v * dw[..., None, :],
             "dS V + S dV - dV W - V dW")
        zero(skew(mT(v) @ dv), "V^T dV + dV^T V")
    elif func is LA.svd:
        (u, s, vh), (du, ds, dvh) = out, t
        p, sm = s.shape[-1], s[..., None, :]
        zero((du[..., :p] * sm + u[..., :p] * ds[..., None, :]) @ vh[..., :p, :]
             + (u[..., :p] * sm) @ dvh[..., :p, :] - d, "dU S Vh + U dS Vh + U S dVh - dA")
        zero(skew(mT(u) @ du), "U^T dU skew")
        zero(skew(vh @ mT(dvh)), "Vh dVh^T skew")
    else:
        (q, r), (dq, dr) = out, t
        zero(dq @ r + q @ dr - d, "dQ R + Q dR - dA")
        zero(skew(mT(q) @ dq), "Q^T dQ skew")
        zero(np.tril(dr, -1), "lower part of dR")


def test_complement_columns_are_transported_without_rotation(rng):
    """svd(full_matrices=True) and qr('complete') of a tall matrix: U2^T dU2 = 0, and the basis-
    independent quantities (U1, the projector U2 U2^T) match differences of numpy's."""
    a = M(rng, (6, 3))
    da = rng.standard_normal(a.shape + (1,))
    h = 1e-6
    for func, params, first in ((LA.svd, {}, 0), (LA.qr, {"mode": "complete"}, 0)):
        (u, *_), t = JVPS[func]((a,), (da,), **params)
        du = t[first][..., 0]
        up = func(a + h * da[..., 0], **params)[0]
        um = func(a - h * da[..., 0], **params)[0]
        sg = np.sign(np.sum(up[:, :3] * u[:, :3], 0))
        assert_close(du[:, :3], (up[:, :3] - um[:, :3] * sg) / (2 * h) * sg, 1e-6, "U1")
        proj = lambda x: x[:, 3:] @ x[:, 3:].T
        assert_close(du[:, 3:] @ u[:, 3:].T + u[:, 3:] @ du[:, 3:].T,
                     (proj(up) - proj(um)) / (2 * h), 1e-6, "d(U2 U2^T)")
        assert_close(u[:, 3:].T @ du[:, 3:], np.zeros((3, 3)), 1e-12, "U2^T dU2")


# ---- an independent oracle: mpmath at 60 digits ------------------------------------------------

def _mp_sym(a):                        # the symmetric matrix of a's lower triangle
    return mp.matrix([[a[max(i, j), min(i, j)] for j in range(a.cols)] for i in range(a.rows)])


def _mp_r(a):                          # R with a positive diagonal (LAPACK's signs may differ)
    r = mp.qr(a)[1]
    return [r[i, j] * mp.sign(r[i, i]) for i in range(a.cols) for j in range(a.cols)]


MP = [   # (id, numpy function, params, primal, the same function in mpmath, numpy -> same form)
    ("det", LA.det, {}, lambda r: G(r, (3, 3)), lambda a: [mp.det(a)], None),
    ("inv", LA.inv, {}, lambda r: G(r, (3, 3)), lambda a: list(mp.inverse(a)), None),
    ("eigvalsh", LA.eigvalsh, {}, lambda r: S(r, (3, 3)),
     lambda a: sorted(mp.eigsy(_mp_sym(a))[0]), None),
    ("svdvals", LA.svd, {"compute_uv": False}, lambda r: M(r, (4, 3)),
     lambda a: sorted(mp.svd_r(a, compute_uv=False), reverse=True), None),
    ("cholesky", LA.cholesky, {}, lambda r: S(r, (3, 3)), lambda a: list(mp.cholesky(_mp_sym(a))),
     None),
    ("qr-r", LA.qr, {"mode": "r"}, lambda r: qr_input(r, (4, 3)), _mp_r,
     lambda r, t: t * np.sign(np.diagonal(r))[:, None, None]),
]


@pytest.mark.parametrize("cid,func,params,make,mpf,post", MP, ids=[c[0] for c in MP])
def test_against_mpmath_at_both_orders(cid, func, params, make, mpf, post, rng):
    """Differences of the same function evaluated by mpmath at 60 digits (error ~1e-20) give
    the first and the second directional derivatives; the rule and the rule applied to itself
    must match them to double precision."""
    if mp is None:
        pytest.skip("mpmath (a test extra) is not installed")
    a = make(rng)
    v, w = rng.standard_normal(a.shape), rng.standard_normal(a.shape)
    post = post or (lambda r, t: t)
    with mp.workdps(60):
        h = mp.mpf(10) ** -20
        f = lambda x, y, s, t: mpf(mp.matrix(a.tolist()) + s * h * mp.matrix(x.tolist())
                                   + t * h * mp.matrix(y.tolist()))
        d1 = [(p - q) / (2 * h) for p, q in zip(f(v, w, 1, 0), f(v, w, -1, 0))]
        d2 = [(pp - pm - mp_ + mm) / (4 * h * h) for pp, pm, mp_, mm in zip(
            f(v, w, 1, 1), f(v, w, 1, -1), f(v, w, -1, 1), f(v, w, -1, -1))]
        d1, d2 = (np.array([float(x) for x in d]) for d in (d1, d2))
    out, t = JVPS[func]((a,), (v[..., None],), **params)
    assert_close(post(out, t)[..., 0].ravel(), d1, 1e-11, "first order")
    _, tn = JVPS[func]((Nested(a, w[..., None]),), (v[..., None],), **params)
    assert_close(post(out, tn.tangent[..., 0])[..., 0].ravel(), d2, 1e-9, "second order")


# ---- conventions at ties, clusters and zeros ---------------------------------------------------

def central(f, x, d, h=1e-6):
    return (np.asarray(f(x + h * d)) - np.asarray(f(x - h * d))) / (2 * h)


def with_values(rng, n, values):
    q = orth(rng, (), n, n)
    return (q * values) @ q.T


def test_eigvalsh_cluster_gets_the_derivative_of_the_cluster_mean(rng):
    """At eigenvalues (1, 1, 3) both copies of 1 get d(mean of the pair), which is smooth: it
    matches differences of (w0 + w1) / 2; the simple eigenvalue keeps its own derivative."""
    a = with_values(rng, 3, np.array([1.0, 1.0, 3.0]))
    da = rng.standard_normal((3, 3, 2))
    dw = JVPS[LA.eigvalsh]((a,), (da,))[1]
    for j in range(2):
        fd = central(LA.eigvalsh, a, da[..., j])
        assert_close(dw[:2, j], np.full(2, fd[:2].mean()), 1e-7, "cluster mean")
        assert_close(dw[2, j], fd[2], 1e-7, "simple eigenvalue")


def test_singular_value_conventions(rng):
    """svdvals: a cluster (2, 2, 1) shares the derivative of its mean; an exactly zero singular
    value has derivative 0 (abs'(0) = 0); norm(ord=2) at a tie takes the mean (half-half)."""
    u, v = orth(rng, (), 4, 3), orth(rng, (), 3, 3)
    da = rng.standard_normal((4, 3, 1))
    a = (u * [2.0, 2.0, 1.0]) @ v.T
    values = {"compute_uv": False}                       # the rule of svdvals too
    ds = JVPS[LA.svd]((a,), (da,), **values)[1][..., 0]
    fd = central(lambda x: LA.svd(x, **values), a, da[..., 0])
    assert_close(ds, [fd[:2].mean(), fd[:2].mean(), fd[2]], 1e-7, "cluster")
    n2 = JVPS[LA.norm]((a,), (da,), ord=2)[1][..., 0]
    assert_close(n2, fd[:2].mean(), 1e-7, "norm 2 at a tie")
    z = np.diag([2.0, 1.0, 0.0])
    assert JVPS[LA.svd]((z,), (da[:3],), **values)[1][2, 0] == 0.0


def test_norm_conventions_at_kinks():
    """Vector: 2-norm of 0 has tangent 0, abs'(0) = 0 in the 1-norm and for zero entries of a
    p-norm (also where a p < 0 norm is 0), inf-norm ties share half-half; matrix 1-norm: tied
    columns share half-half."""
    d = np.array([[1.0], [2.0], [4.0]])
    rule = JVPS[LA.norm]
    assert rule((np.zeros(3),), (d,))[1][0] == 0.0
    assert rule((np.array([0.0, 1.0, -2.0]),), (d,), ord=1)[1][0] == 2.0 - 4.0
    assert rule((np.array([3.0, -3.0, 1.0]),), (d,), ord=np.inf)[1][0] == (1.0 - 2.0) / 2
    assert rule((np.array([0.0, 1.0, -2.0]),), (d,), ord=0.5)[1][0] == pytest.approx(
        (1.0 ** -0.5 * 2.0 - 2.0 ** -0.5 * 4.0) * (1.0 + 2.0 ** 0.5) ** 1.0)
    with np.errstate(divide="ignore"):                     # p < 0 with a zero entry: norm 0
        out, t = rule((np.array([0.0, 1.0, -2.0]),), (d,), ord=-1)
    assert out == 0.0 and t[0] == 0.0
    a = np.array([[1.0, -2.0], [3.0, 2.0]])                # column sums 4 and 4
    da = np.array([[1.0, 0.0], [0.0, 1.0]])[..., None]
    assert rule((a,), (da,), ord=1)[1][0] == (1.0 + 1.0) / 2


def test_det_at_singular_matrices_uses_the_adjugate(rng):
    """det is a polynomial: at a singular matrix (LAPACK finds a zero pivot) the rule uses
    tr(adj(A) dA), at first order and, applied to itself, at second order."""
    for a in (np.array([[1.0, 2, 3], [1, 2, 3], [4, 5, 7]]), np.array([[1.0, 2], [2, 4]])):
        with pytest.raises(LA.LinAlgError):
            LA.inv(a)
        n = a.shape[0]
        da, dw = rng.standard_normal((n, n, 2)), rng.standard_normal((n, n))
        t = JVPS[LA.det]((a,), (da,))[1]
        adj = np.array([[(-1) ** (i + j) * LA.det(np.delete(np.delete(a, i, 0), j, 1))
                         for i in range(n)] for j in range(n)])      # cofactors, transposed
        for j in range(2):
            assert_close(t[j], np.sum(adj.T * da[..., j]), 1e-12, "tr(adj(A) dA)")
            assert_close(t[j], central(LA.det, a, da[..., j]), 1e-7, "differences")
        out, tn = JVPS[LA.det]((Nested(a, dw[..., None]),), (da,))
        fd = central(lambda x: JVPS[LA.det]((x,), (da,))[1], a, dw, 1e-5)
        assert_close(tn.tangent[..., 0], fd, 1e-6, "second order")


# ---- points without a derivative ---------------------------------------------------------------

def _repeated(rng):
    return with_values(rng, 3, np.array([1.0, 1.0, 3.0]))


def _rank2(rng, shape=(5, 4), tail=0.0):
    return svd_matrix(rng, shape, np.array([3.0, 1.5, tail, tail / 2]))


def _nested(a, rng):
    return Nested(a, rng.standard_normal(a.shape + (1,)))


def _pair(r):                          # singular values (2, 2, 1): a repeated pair
    return svd_matrix(r, (4, 3), np.array([2.0, 2.0, 1.0]))


def _zero(r):                          # singular values (3, 1, 0) of a tall matrix
    return svd_matrix(r, (5, 3), np.array([3.0, 1.0, 0.0]))


DEGENERATE = [   # (id, func, primal maker, params, words the message must contain)
    ("eigh-repeated", LA.eigh, _repeated, {}, ["eigh", "repeated eigenvalues", "eigvalsh"]),
    ("svd-repeated", LA.svd, _pair, {}, ["svd", "repeated singular values", "svdvals"]),
    ("svd-tall-rank-deficient", LA.svd, _zero, {"full_matrices": False},
     ["svd", "zero singular value"]),
    ("svd-square-zero", LA.svd, lambda r: np.diag([2.0, 1.0, 0.0]), {}, ["zero singular value"]),
    ("qr-dependent-columns", LA.qr, _zero, {}, ["qr", "linearly dependent"]),
    ("slogdet-singular", LA.slogdet, lambda r: np.array([[1.0, 2], [2, 4]]), {},
     ["slogdet", "singular", "det"]),
    ("cond-singular", LA.cond, lambda r: np.diag([1.0, 0.0]), {}, ["cond", "singular"]),
    ("cond-1-singular", LA.cond, lambda r: np.array([[1.0, 2], [2, 4]]), {"p": 1},
     ["cond", "singular"]),
    ("pinv-tail", LA.pinv, lambda r: _rank2(r, tail=1e-5), {"rcond": 1e-3},
     ["pinv", "not negligible", "rcond"]),
    ("lstsq-tail", LA.lstsq, lambda r: [_rank2(r, tail=1e-5), V(r, (5,))], {"rcond": 1e-3},
     ["lstsq", "not negligible"]),
    ("pinv-second-order", LA.pinv, lambda r: _nested(_rank2(r), r), {"rcond": 1e-3},
     ["pinv", "second derivative", "rank-deficient"]),
    ("lstsq-second-order", LA.lstsq, lambda r: [_nested(_rank2(r), r), V(r, (5,))],
     {"rcond": 1e-3}, ["lstsq", "second derivative"]),
    ("eigvalsh-second-order", LA.eigvalsh, lambda r: _nested(_repeated(r), r), {},
     ["eigvalsh", "second derivative", "repeated"]),
    ("svd-values-second-order", LA.svd, lambda r: _nested(_pair(r), r), {"compute_uv": False},
     ["svd", "second derivative"]),
    ("norm-2-second-order", LA.norm, lambda r: _nested(_pair(r), r), {"ord": 2},
     ["norm", "second derivative"]),
]


@pytest.mark.parametrize("cid,func,make,params,words", DEGENERATE, ids=[c[0] for c in DEGENERATE])
def test_no_derivative_raises_a_clear_value_error(cid, func, make, params, words, rng):
    """Never a NaN, an inf or a silently wrong number: a ValueError naming the function and
    the reason."""
    prims = make(rng)
    prims = prims if isinstance(prims, list) else [prims]
    dirs = [rng.standard_normal(p.shape + (2,)) for p in prims]
    with pytest.raises(NonDifferentiableError) as err:
        JVPS[func](prims, dirs, **params)
    assert isinstance(err.value, ValueError)
    for w in words:
        assert w in str(err.value), (w, str(err.value))


# ---- bad input --------------------------------------------------------------------------------

def test_bad_input_raises_clear_errors(rng):
    a, d = G(rng, (3, 3)), rng.standard_normal((3, 3, 2))
    cases = [
        (TypeError, "keyword 'overwrite'", lambda: JVPS[LA.solve]((a, a), (d, d), overwrite=1)),
        (TypeError, "mode='raw'", lambda: JVPS[LA.qr]((a,), (d,), mode="raw")),
        (TypeError, "keyword 'out'", lambda: JVPS[LA.multi_dot]((a, a), (d, d), out=a)),
        (ValueError, "shape (3, 2)", lambda: JVPS[LA.inv]((a,), (d[0],))),
        (ValueError, "number of directions", lambda: JVPS[LA.solve]((a, a), (d, d[..., :1]))),
        (ValueError, "2 primals but 1 tangents", lambda: JVPS[LA.solve]((a, a), (d,))),
        (TypeError, "integer", lambda: JVPS[LA.matrix_power]((a,), (d,), n=1.5)),
        (LA.LinAlgError, "square", lambda: JVPS[LA.solve]((a[:2], a[:2]), (d[:2], d[:2]))),
        (LA.LinAlgError, "positive definite", lambda: JVPS[LA.cholesky]((-np.eye(3),), (d,))),
    ]
    for exc, words, call_ in cases:
        with pytest.raises(exc, match=words.replace("(", r"\(").replace(")", r"\)")):
            call_()


def test_constant_arguments_give_none_tangents(rng):
    a = G(rng, (3, 3))
    assert JVPS[LA.inv]((a,), (None,))[1] is None
    out, t = JVPS[LA.eigh]((a,), (None,))
    assert t == (None, None) and isinstance(out, type(LA.eigh(a)))
    assert JVPS[LA.multi_dot]((a, a, a), (None, None, None))[1] is None


def test_one_factorisation_for_all_directions(rng, monkeypatch):
    """k = 6 directions cost the same LAPACK calls as one: the directions ride as columns or
    as a batch axis, never a Python loop over k."""
    a, s, b = G(rng, (2, 4, 4)), S(rng, (2, 4, 4)), V(rng, (2, 4, 3))
    expected = [   # (function, primals, numpy.linalg calls for any k)
        ("solve", (a, b), {"solve": 1, "inv": 1}),     # the value; all k from one inverse
        ("slogdet", (a,), {"slogdet": 1, "inv": 1}),   # tr(A^-1 dA) for all k from one inverse
        ("det", (a,), {"det": 1, "inv": 1}),
        ("inv", (a,), {"inv": 1}),
        ("eigvalsh", (s,), {"eigvalsh": 1, "eigh": 1}),  # numpy's values, then the vectors
        ("cholesky", (s,), {"cholesky": 1, "inv": 1}),
        ("eigh", (s,), {"eigh": 1}),
        ("svd", (a,), {"svd": 1}),
        ("qr", (a,), {"qr": 1, "inv": 1, "svd": 1}),    # svd: the rank check, on R1's values
    ]
    rules = {name: JVPS[getattr(LA, name)] for name, _, _ in expected}
    calls = {}
    for name in ("solve", "inv", "eigh", "eigvalsh", "svd", "qr", "cholesky", "slogdet", "det"):
        def counted(*args, _orig=getattr(LA, name), _name=name, **kwargs):
            calls[_name] = calls.get(_name, 0) + 1
            return _orig(*args, **kwargs)
        monkeypatch.setattr(LA, name, counted)
    for name, prims, want in expected:
        for k in (1, 6):
            calls.clear()
            rules[name](prims, [rng.standard_normal(p.shape + (k,)) for p in prims])
            assert calls == want, (name, k, calls)


def test_split_args_follows_numpy_signatures(rng):
    a, b = G(rng, (3, 3)), V(rng, (3,))
    assert split_args(LA.solve, (a, b), {}) == ((a, b), {})
    assert split_args(LA.norm, (a, 2), {"axis": 1}) == ((a,), {"ord": 2, "axis": 1})
    assert split_args(LA.pinv, (a, 1e-3), {}) == ((a,), {"rcond": 1e-3})
    assert split_args(LA.matrix_power, (a, 3), {}) == ((a,), {"n": 3})
    assert split_args(LA.multi_dot, ([a, a, b],), {}) == ((a, a, b), {})
    assert split_args(LA.svd, (a, False), {"compute_uv": False}) == \
        ((a,), {"full_matrices": False, "compute_uv": False})


def test_the_table_holds_the_nonlinear_functions_of_numpy_linalg():
    """A rule for every numpy.linalg function that is neither linear or bilinear (served by
    linear maps and the product rule), nor integer-valued (matrix_rank), nor a reshape around
    inv/solve (tensorinv, tensorsolve); test_linalg.py checks the surface serves them all."""
    served_elsewhere = {"matmul", "tensordot", "outer", "trace", "diagonal", "matrix_transpose",
                        "vecdot", "cross", "matrix_rank", "tensorinv", "tensorsolve"}
    public = {n for n in dir(LA) if not n.startswith("_") and callable(getattr(LA, n))
              and n not in ("LinAlgError", "test")}
    assert {n for n in RULES if hasattr(LA, n)} == public - served_elsewhere
    assert all(rule.numpy_name == name for name, rule in RULES.items())
