#!/usr/bin/env python
"""Per-operation cost of dualdiff's compiled scalars (Dual, HyperDual) against Python floats
and the scalar types of fastdual and num-dual, then f' and f'' of the issue's test function
f(x) = exp(x) / sqrt(sin(x)**3 + cos(x)**3) at x = 1.5 in every spelling, with accuracy; then
scalar-style code (issue 12): a Python loop over x[i] (extended Rosenbrock: grad and hessian),
an ODE right-hand side written with y[0], y[1], y[2] (Robertson: jacobian), and the fixed cost
of a transform call on a tiny input, beside num-dual's and fastdual's drivers.

    PYTHONPATH=. python bench/scalar_ops.py [--quick | --full] [--outdir DIR]

Every figure is a ratio measured inside this run: the operation on dual numbers timed in
alternation with the same operation on Python floats.
"""
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _peers as P  # noqa: E402  (first: it pins every library to one thread)
import _report as R  # noqa: E402
import _timing as T  # noqa: E402

import numpy as np  # noqa: E402

import dualdiff as dd  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import functions  # noqa: E402

X0 = 1.5
EXACT_D1 = functions.TESTFN_D1
EXACT_D2 = functions.TESTFN_D2

# elementary functions: (numpy / dualdiff name, math name)
ELEMENTARY = [("exp", "exp"), ("log", "log"), ("sqrt", "sqrt"), ("sin", "sin"), ("cos", "cos"),
              ("tan", "tan"), ("arctan", "atan"), ("sinh", "sinh"), ("tanh", "tanh"),
              ("arcsinh", "asinh"), ("expm1", "expm1"), ("log1p", "log1p"), ("cbrt", "cbrt")]
ELEMENTARY_QUICK = ["exp", "sin", "sqrt"]

OPS = [("a + b", "a + b"), ("a - b", "a - b"), ("a * b", "a * b"), ("a / b", "a / b"),
       ("a ** 3", "a ** 3"), ("a ** 2.5", "a ** 2.5"), ("a ** b", "a ** b"),
       ("2.0 * a", "2.0 * a"), ("-a", "-a")]
OPS_QUICK = ["a + b", "a * b", "a / b"]
LOOP_SIZES = {"quick": [10], "default": [10, 30, 100], "full": [10, 30, 100]}


def stmt(code, **values):
    """A timeit spec running `code` with `values` bound to local names."""
    setup = "; ".join(f"{k} = _{k}" for k in values) or "pass"
    return (code, setup, {f"_{k}": v for k, v in values.items()})


def testfn_methods(x):
    """f in the method spelling of fastdual / num-dual scalars (x.exp(), ...)."""
    return x.exp() / (x.sin() ** 3 + x.cos() ** 3).sqrt()


# ---- scalar-style code (issue 12) --------------------------------------------------------


def robertson_jacobian_exact(y):
    return np.array([[-0.04, 1e4 * y[2], 1e4 * y[1]],
                     [0.04, -1e4 * y[2] - 6e7 * y[1], -1e4 * y[1]],
                     [0.0, 6e7 * y[1], 0.0]])


def _peer_methods(candidates):
    """The peer rows that can run: each is tried once, and a peer that cannot express the
    function is skipped with one line (a row of errors would say nothing about speed)."""
    out = []
    for m in candidates:
        try:
            m.fn()
        except Exception as exc:
            print(f"{m.label}: cannot run this function ({type(exc).__name__}: {exc!s:.80}); "
                  "skipping its row", flush=True)
            continue
        out.append(m)
    return out


def _detail(recs, size_label):
    """_report.detail_rows without its '× own f' column: every row here shares f."""
    headers, rows = R.detail_rows(recs, size_label, with_mem=False)
    keep = [i for i, h in enumerate(headers) if h != "× own f"]
    headers = ["× f" if h == "× numpy f" else h for h in headers]
    return [headers[i] for i in keep], [[row[i] for i in keep] for row in rows]


def loop_style(rep, bench, mode, fd, nd):
    """Loop Rosenbrock grad / hessian, Robertson jacobian, transform fixed cost; returns
    {(row key, n): record} for the targets."""
    f = functions.rosenbrock_loop
    rob = functions.robertson
    mul = lambda x: x[0] * x[1]                      # noqa: E731  (the issue's tiny case)
    rng = np.random.default_rng(0)
    found = {}
    if fd is not None:
        from fastdual._hyperdual import hessian_matrix as fd_hessian

        def fd_grad(x):
            s = fd.DualArray(x)
            return fd.jac([f(s)], s)[0]

        def fd_jac(y):
            s = fd.DualArray(y)
            return fd.jac(list(rob(s)), s)

        def fd_grad2(x):
            s = fd.DualArray(x)
            return fd.jac([mul(s)], s)[0]
    # the transform objects are built once, as a user's optimiser or ODE solver would: a
    # cache on the transform object counts, the construction is not timed
    g_dd, g_dd1, h_dd = dd.grad(f), dd.grad(f, chunk=1), dd.hessian(f)
    for kind in ("grad", "hessian"):
        recs, history, base_times = [], {}, {}
        print(f"\nloop-style Rosenbrock, {kind}:", flush=True)
        for n in LOOP_SIZES[mode]:
            x = rng.uniform(-1.5, 1.5, n)
            base = (lambda x=x: f(x))
            base_times[n] = bench.single(base, key=("base", n))
            if kind == "grad":
                ref = functions.rosenbrock_grad(x)
                ms = [T.Method("dualdiff grad (default chunk)", lambda x=x: g_dd(x),
                               kind="forward", power=2),
                      T.Method("dualdiff grad chunk=1", lambda x=x: g_dd1(x), kind="forward",
                               power=2)]
                peers = []
                if nd is not None:
                    peers.append(T.Method("num_dual.gradient (n-vector duals, 1 sweep)",
                                          lambda x=x: nd.gradient(f, list(x))[1], kind="forward",
                                          power=2))
                if fd is not None:
                    peers.append(T.Method("fastdual jac (sparse multi-var Dual, 1 sweep)",
                                          lambda x=x: fd_grad(x), kind="forward", power=2))
            else:
                ref = functions.rosenbrock_hessian(x)
                ms = [T.Method("dualdiff hessian (default chunk)", lambda x=x: h_dd(x),
                               kind="forward", power=3)]
                peers = []
                if nd is not None:
                    peers.append(T.Method("num_dual.hessian (hyper-dual n-vectors, 1 sweep)",
                                          lambda x=x: nd.hessian(f, list(x))[2], kind="forward",
                                          power=3))
                if fd is not None:
                    peers.append(T.Method("fastdual hessian_matrix (HyperDual, n(n+1)/2 sweeps)",
                                          lambda x=x: fd_hessian(f, x), kind="forward", power=3))
            ms += _peer_methods(peers)
            print(f" n = {n}: f = {R.fmt_time(base_times[n])}", flush=True)
            recs += T.run_case(bench, n, base, ms, ref, history, False, {})
            if kind == "grad":        # for scale: the same loop on Python floats
                xl = list(x)
                r = bench.pair(base, lambda xl=xl: f(xl), base_key=("base", n))
                recs.append(dict(method="f on list(x), Python floats (for scale)", kind="f",
                                 size=n, **r))
        for r in recs:
            found[(kind, r["method"], r["size"])] = r
        sizes = LOOP_SIZES[mode]
        rep.table(f"Loop-style Rosenbrock {kind}: ratio to f",
                  ["method"] + [f"n={n}" for n in sizes],
                  [["f (time)"] + R.pivot(recs, sizes, base_times)[0][1:]]
                  + R.pivot(recs, sizes, base_times)[1:], recs,
                  intro="f = functions.rosenbrock_loop, a Python loop over x[i] (on a float64 "
                        f"array: f's own input). Each cell: one full {kind} / one call of f "
                        "(interleaved). dualdiff's transform is built once, outside the timing; "
                        "num-dual gets list(x), fastdual a DualArray.")
        headers, rows = _detail(recs, "n")
        rep.table(f"Loop-style Rosenbrock {kind}, details", headers, rows, [],
                  intro=f"rel. error against the exact {kind}.")

    # ---- Robertson right-hand side: 3x3 Jacobian ------------------------------------------
    y = np.array([1.0, 2e-5, 3e-3]) * rng.uniform(0.5, 1.5, 3)
    j_dd, j_dd1 = dd.jacobian(rob), dd.jacobian(rob, chunk=1)
    base = (lambda: rob(y))
    ms = [T.Method("dualdiff jacobian (default chunk)", lambda: j_dd(y), kind="forward"),
          T.Method("dualdiff jacobian chunk=1", lambda: j_dd1(y), kind="forward")]
    peers = []
    if nd is not None:
        peers.append(T.Method("num_dual.jacobian", lambda: nd.jacobian(rob, list(y))[1],
                              kind="forward"))
    if fd is not None:
        peers.append(T.Method("fastdual jac (DualArray)", lambda: fd_jac(y), kind="forward"))
    ms += _peer_methods(peers)
    print("\nRobertson jacobian:", flush=True)
    t_rob = bench.single(base, key=("base", 3))
    recs = T.run_case(bench, 3, base, ms, robertson_jacobian_exact(y), {}, False, {})
    for r in recs:
        found[("jacobian", r["method"], 3)] = r
    headers, rows = _detail(recs, "states")
    rep.table("Robertson right-hand side (y[0], y[1], y[2] -> np.array([...])): 3×3 Jacobian",
              headers, rows, recs,
              intro=f"f = functions.robertson on a float64 array ({R.fmt_time(t_rob)}). Each "
                    "cell: one full Jacobian / one call of f (interleaved); rel. error against "
                    "the exact Jacobian.")

    # ---- fixed cost of a transform call on a tiny input -----------------------------------
    x2 = np.array([1.0, 2.0])
    g_mul, d_sin = dd.grad(mul), dd.derivative(np.sin)
    cases = [("grad of x[0]*x[1] at (1, 2)", lambda: mul(x2),
              [("dualdiff dd.grad", lambda: g_mul(x2), "dd_grad2"),
               ("dualdiff dd.grad(f)(x), built in the call", lambda: dd.grad(mul)(x2), None),
               ("num_dual.gradient", lambda: nd.gradient(mul, [1.0, 2.0])[1], None),
               ("fastdual jac", lambda: fd_grad2(x2), None)]),
             ("derivative of sin at 1.0", lambda: np.sin(1.0),
              [("dualdiff dd.derivative(np.sin)", lambda: d_sin(1.0), "dd_dsin"),
               ("dualdiff dd.derivative(np.sin)(x), built in the call",
                lambda: dd.derivative(np.sin)(1.0), None),
               ("num_dual.first_derivative", lambda: nd.first_derivative(np.sin, 1.0)[1], None),
               ("fastdual Dual .der", lambda: (lambda v: np.sin(v).der(v))(fd.Dual(1.0)),
                None)])]
    rows, raw = [], []
    print("\ntransform fixed cost:", flush=True)
    for cname, base, items in cases:
        for label, fn, key in items:
            if (label.startswith("num_dual") and nd is None) or \
                    (label.startswith("fastdual") and fd is None):
                continue
            try:
                fn()
            except Exception as exc:
                print(f"{label}: cannot run ({type(exc).__name__}: {exc!s:.80}); skipping its "
                      "row", flush=True)
                continue
            r = bench.pair(base, fn, base_key=("fixed", cname))
            rec = dict(case=cname, method=label, net=r["t"] - r["t_base"], **r)
            raw.append(rec)
            if key:
                found[key] = rec
            rows.append([cname, label, R.fmt_time(r["t"]), R.fmt_time(r["t_base"]),
                         R.fmt_time(rec["net"]), R.fmt_ratio(r["ratio"])])
            print(f"  {cname}, {label}: {R.fmt_time(r['t'])}", flush=True)
    rep.table("Fixed cost of a transform call on a tiny input",
              ["case", "method", "time per call", "f itself", "net of f", "× f"], rows, raw,
              intro="The whole call (input checks, seeding, f on duals, reading the result) next "
                    "to f itself (interleaved): x[0]*x[1] on the float64 array, np.sin on a "
                    "Python float. The transforms are built once, outside the timing, except in "
                    "the rows 'built in the call'.")
    return found


def loop_targets(rep, found, nd):
    """Issue 12's figures, met or missed, from the records of loop_style."""
    def cell(kind, label, n):
        return found.get((kind, label, n))

    def ratio(rec):
        return rec["ratio"] if rec is not None and "ratio" in rec else None

    limits = [("grad", "dualdiff grad (default chunk)",
               "num_dual.gradient (n-vector duals, 1 sweep)", {10: 3.0, 30: 5.0, 100: 6.0},
               (10, 30, 100)),
              ("hessian", "dualdiff hessian (default chunk)",
               "num_dual.hessian (hyper-dual n-vectors, 1 sweep)", {10: 5.0}, (10, 30))]
    ns = sorted({k[2] for k in found if isinstance(k, tuple) and k[0] in ("grad", "hessian")})
    for kind, dlab, nlab, lims, vs_nd in limits:
        for n in ns:
            d = ratio(cell(kind, dlab, n))
            if n in lims:
                rep.target(f"loop Rosenbrock dd.{kind}, n = {n} / f", f"≤ {lims[n]:g}×",
                           "error" if d is None else R.fmt_ratio(d),
                           None if d is None else d <= lims[n])
            if n in vs_nd:
                p = ratio(cell(kind, nlab, n)) if nd is not None else None
                rep.target(f"loop Rosenbrock dd.{kind} faster than num-dual, n = {n}",
                           "< num-dual",
                           "n/a" if d is None or p is None else
                           f"{R.fmt_ratio(d)} vs {R.fmt_ratio(p)}",
                           None if d is None or p is None else d < p)
    d = ratio(cell("jacobian", "dualdiff jacobian (default chunk)", 3))
    p = ratio(cell("jacobian", "num_dual.jacobian", 3)) if nd is not None else None
    rep.target("Robertson 3×3 dd.jacobian / f", "≤ 3×",
               "error" if d is None else R.fmt_ratio(d), None if d is None else d <= 3.0)
    rep.target("Robertson dd.jacobian faster than num-dual", "< num-dual",
               "n/a" if d is None or p is None else f"{R.fmt_ratio(d)} vs {R.fmt_ratio(p)}",
               None if d is None or p is None else d < p)
    for key, what, limit in (("dd_grad2", "dd.grad of x[0]*x[1], per call", 5e-6),
                             ("dd_dsin", "dd.derivative(np.sin)(1.0), per call", 2e-6)):
        rec = found.get(key)
        rep.target(what, f"≤ {R.fmt_time(limit)}",
                   "error" if rec is None else
                   f"{R.fmt_time(rec['t'])} ({R.fmt_time(rec['net'])} net of f)",
                   None if rec is None else rec["t"] <= limit)


def main():
    args = T.parse_args(__doc__.splitlines()[0])
    quick = args.mode == "quick"
    fd = P.optional_import("fastdual")
    nd = P.optional_import("num_dual")
    rep = R.Report("scalar_ops", "dualdiff scalar benchmark: Dual / HyperDual vs floats",
                   args, dd)
    bench = T.Bench(args.cfg)

    # the scalar types, each as (label, a, b) with a = 1.5, b = 0.7 carrying derivatives
    types_ = [("Dual", dd.Dual(1.5, 1.0), dd.Dual(0.7, 0.3)),
              ("HyperDual", dd.HyperDual(1.5, 1.0, 1.0, 0.0), dd.HyperDual(0.7, 0.3, 0.2, 0.1))]
    if fd is not None:
        a = fd.Dual(1.5)                 # one seeded variable; b depends on the same one
        types_ += [("fastdual.Dual", a, a * (0.7 / 1.5)),
                   ("fastdual.HyperDual", fd.HyperDual(1.5, 1.0, 1.0, 0.0),
                    fd.HyperDual(0.7, 0.3, 0.2, 0.1))]
    if nd is not None:
        types_ += [("num_dual.Dual64", nd.Dual64(1.5, 1.0), nd.Dual64(0.7, 0.3)),
                   ("num_dual.HyperDual64", nd.HyperDual64(1.5, 1.0, 1.0, 0.0),
                    nd.HyperDual64(0.7, 0.3, 0.2, 0.1))]

    # ---- arithmetic -------------------------------------------------------------------
    load = bench.single(stmt("a; b", a=1.5, b=0.7))       # loop + name-load overhead
    ops = [o for o in OPS if not quick or o[0] in OPS_QUICK]
    rows, raw = [], []
    for label, code in ops:
        fspec = stmt(code, a=1.5, b=0.7)
        row = [label]
        rec = dict(op=label, cells={})
        tfloat = None
        for tname, a, b in types_:
            r = bench.pair(fspec, stmt(code, a=a, b=b), base_key=("op", label))
            tfloat = r["t_base"] if tfloat is None else tfloat
            rec["cells"][tname] = r
            row.append(f"{R.fmt_ratio(r['ratio'])} ({R.fmt_time(r['t'])})")
        row.insert(1, R.fmt_time(tfloat))
        rec["t_float"] = tfloat
        rows.append(row)
        raw.append(rec)
    rep.table("Arithmetic: one operation in a Python loop, ratio to the same on floats",
              ["operation", "float"] + [t[0] for t in types_], rows, raw,
              intro=("Each cell: time of `stmt` in timeit's loop on that type / the same "
                     "statement on Python floats (interleaved), with the time per operation. "
                     f"Loop + load overhead alone (`a; b` on floats): {R.fmt_time(load)}."))
    arith = {r["op"]: r["cells"] for r in raw}

    # ---- elementary functions ---------------------------------------------------------
    elem = [e for e in ELEMENTARY if not quick or e[0] in ELEMENTARY_QUICK]
    x = 0.7
    cols = [("dd.f(Dual)", lambda n: stmt("f(a)", f=getattr(dd, n), a=dd.Dual(x, 1.0))),
            ("np.f(Dual)", lambda n: stmt("f(a)", f=getattr(np, n), a=dd.Dual(x, 1.0))),
            ("dd.f(HyperDual)", lambda n: stmt("f(a)", f=getattr(dd, n),
                                               a=dd.HyperDual(x, 1.0, 1.0, 0.0))),
            ("np.f(HyperDual)", lambda n: stmt("f(a)", f=getattr(np, n),
                                               a=dd.HyperDual(x, 1.0, 1.0, 0.0)))]
    if fd is not None:
        cols += [("fastdual Dual a.f()", lambda n: stmt(f"a.{n}()", a=fd.Dual(x))),
                 ("fastdual HyperDual a.f()",
                  lambda n: stmt(f"a.{n}()", a=fd.HyperDual(x, 1.0, 1.0, 0.0)))]
    if nd is not None:
        cols += [("num_dual Dual64 a.f()", lambda n: stmt(f"a.{n}()", a=nd.Dual64(x, 1.0))),
                 ("num_dual HyperDual64 a.f()",
                  lambda n: stmt(f"a.{n}()", a=nd.HyperDual64(x, 1.0, 1.0, 0.0)))]
    rows, raw = [], []
    for name, mname in elem:
        fspec = stmt("f(a)", f=getattr(math, mname), a=x)
        row = [name, None]
        rec = dict(function=name, cells={})
        for cname, make in cols:
            try:
                spec = make(name)
                T.as_timer(spec).timeit(1)
            except (AttributeError, TypeError) as exc:
                rec["cells"][cname] = dict(skipped=f"unsupported: {exc!r:.60}")
                row.append("n/a")
                continue
            r = bench.pair(fspec, spec, base_key=("elem", name))
            rec["cells"][cname] = r
            rec["t_float"] = rec.get("t_float") or r["t_base"]
            row.append(R.fmt_ratio(r["ratio"]))
        row[1] = R.fmt_time(rec.get("t_float"))
        rows.append(row)
        raw.append(rec)
    rep.table("Elementary functions at x = 0.7, ratio to math.f on a Python float",
              ["f", "math.f(float)"] + [c[0] for c in cols], rows, raw,
              intro="Each cell: time of one call in timeit's loop / `math.f(x)` on a float "
                    "(interleaved).")

    # ---- the test function --------------------------------------------------------------
    f_math = functions.testfn_math                   # float baseline (math.*)
    f_np = functions.testfn                          # numpy spelling
    f_dd = P.rebind(functions.testfn_math, math=dd)  # dd.* spelling, same source
    base = lambda: f_math(X0)                        # noqa: E731
    D, HD = dd.Dual, dd.HyperDual
    d1 = dd.derivative(f_np)
    d1_dd = dd.derivative(f_dd)
    d2 = dd.derivative(f_np, order=2)
    d2_dd = dd.derivative(f_dd, order=2)
    eps = np.finfo(float).eps
    h1, h2 = eps ** (1 / 3) * X0, eps ** (1 / 4) * X0

    first = [
        ("f(x), floats, math.* (baseline)", lambda: f_math(X0), None),
        ("f(x), floats, np.*", lambda: f_np(X0), None),
        ("Dual, dd.* spelling", lambda: f_dd(D(X0, 1.0)).eps, "dd1"),
        ("Dual, np.* spelling (functions.testfn)", lambda: f_np(D(X0, 1.0)).eps, "np1"),
        ("Dual, x.exp() methods", lambda: testfn_methods(D(X0, 1.0)).eps, "dd1_m"),
        ("dd.derivative(f), dd.* spelling", lambda: d1_dd(X0), None),
        ("dd.derivative(f), np.* spelling", lambda: d1(X0), None),
    ]
    second = [
        ("HyperDual, dd.* spelling", lambda: f_dd(HD(X0, 1.0, 1.0, 0.0)).eps12, "dd2"),
        ("HyperDual, np.* spelling", lambda: f_np(HD(X0, 1.0, 1.0, 0.0)).eps12, "np2"),
        ("HyperDual, x.exp() methods", lambda: testfn_methods(HD(X0, 1.0, 1.0, 0.0)).eps12,
         "dd2_m"),
        ("dd.derivative(f, order=2), dd.* spelling", lambda: d2_dd(X0), None),
        ("dd.derivative(f, order=2), np.* spelling", lambda: d2(X0), None),
    ]
    if fd is not None:
        def fd1(g):
            def run():
                v = fd.Dual(X0)
                return g(v).der(v)
            return run
        first += [("fastdual Dual, x.exp() methods", fd1(testfn_methods), "fd1_m"),
                  ("fastdual Dual, np.* spelling", fd1(f_np), "fd1_np")]
        second += [("fastdual HyperDual, x.exp() methods",
                    lambda: testfn_methods(fd.HyperDual(X0, 1.0, 1.0, 0.0)).f12, "fd2_m"),
                   ("fastdual HyperDual, np.* spelling",
                    lambda: f_np(fd.HyperDual(X0, 1.0, 1.0, 0.0)).f12, "fd2_np")]
    if nd is not None:
        first += [("num_dual Dual64, x.exp() methods",
                   lambda: testfn_methods(nd.Dual64(X0, 1.0)).first_derivative, "nd1_m"),
                  ("num_dual Dual64, np.* spelling",
                   lambda: f_np(nd.Dual64(X0, 1.0)).first_derivative, "nd1_np"),
                  ("num_dual.first_derivative(f), methods",
                   lambda: nd.first_derivative(testfn_methods, X0)[1], None)]
        second += [("num_dual HyperDual64, x.exp() methods",
                    lambda: testfn_methods(nd.HyperDual64(X0, 1.0, 1.0, 0.0)).second_derivative,
                    "nd2_m"),
                   ("num_dual HyperDual64, np.* spelling",
                    lambda: f_np(nd.HyperDual64(X0, 1.0, 1.0, 0.0)).second_derivative, "nd2_np"),
                   ("num_dual.second_derivative(f), methods",
                    lambda: nd.second_derivative(testfn_methods, X0)[2], None)]
    first.append(("central difference, floats (h = eps^(1/3) x)",
                  lambda: (f_math(X0 + h1) - f_math(X0 - h1)) / (2 * h1), None))
    second.append(("second difference, floats (h = eps^(1/4) x)",
                   lambda: (f_math(X0 + h2) - 2 * f_math(X0) + f_math(X0 - h2)) / h2 ** 2, None))

    results = {}
    rows, raw = [], []
    for order, items, exact in ((1, first, EXACT_D1), (2, second, EXACT_D2)):
        for label, fn, key in items:
            try:
                value = fn()
            except Exception as exc:          # a peer that cannot run this spelling
                rows.append([label, "n/a", "n/a", f"error: {type(exc).__name__}: {exc}"[:70], ""])
                raw.append(dict(method=label, order=order, error=repr(exc)))
                continue
            r = bench.pair(base, fn, base_key="f_math")
            is_value = label.startswith("f(x)")
            err = None if is_value else abs(float(value) - exact)
            rec = dict(method=label, order=order, value=float(value), abs_err=err, **r)
            raw.append(rec)
            if key:
                results[key] = rec
            rows.append([("f' " if order == 1 and not is_value else
                          "f'' " if order == 2 else "") + label,
                         R.fmt_time(r["t"]), R.fmt_ratio(r["ratio"]),
                         f"{float(value):.16g}", R.fmt_err(err)])
    rep.table(f"f(x) = exp(x)/sqrt(sin(x)^3 + cos(x)^3) at x = {X0}: f' and f''",
              ["method", "time", "× f on floats (math)", "value", "abs error"], rows, raw,
              intro=(f"Ratios to f evaluated on Python floats with math.* (interleaved). "
                     f"Exact f'({X0}) = {EXACT_D1!r}, f''({X0}) = {EXACT_D2!r}."))

    # ---- head-to-head f'': dualdiff vs each peer in the same spelling ---------------------
    h2h_rows, h2h_raw = [], []
    pairs = []
    if fd is not None:
        pairs += [("fastdual", "dd.* vs x.exp() methods", "fd2_m", "dd2"),
                  ("fastdual", "x.exp() methods vs methods", "fd2_m", "dd2_m"),
                  ("fastdual", "np.* vs np.*", "fd2_np", "np2")]
    if nd is not None:
        pairs += [("num_dual", "dd.* vs x.exp() methods", "nd2_m", "dd2"),
                  ("num_dual", "x.exp() methods vs methods", "nd2_m", "dd2_m"),
                  ("num_dual", "np.* vs np.*", "nd2_np", "np2")]
    fns = {k: fn for items in (first, second) for _, fn, k in items if k}
    for peer, spelling, pk, dk in pairs:
        if pk not in results or dk not in results:
            continue
        r = bench.pair(fns[pk], fns[dk])
        h2h_raw.append(dict(peer=peer, spelling=spelling, **r))
        h2h_rows.append([f"f'' {peer}, {spelling}", R.fmt_time(r["t_base"]), R.fmt_time(r["t"]),
                         R.fmt_ratio(r["ratio"])])
        rep.target(f"f'' (HyperDual) faster than {peer}, {spelling}", "< 1×",
                   R.fmt_ratio(r["ratio"]), r["ratio"] < 1.0)
    for peer in ("fastdual", "num_dual"):
        if (fd if peer == "fastdual" else nd) is None:
            rep.target(f"f'' (HyperDual) faster than {peer}", "< 1×", "peer not installed", None)
    if h2h_rows:
        rep.table("f'' head to head: dualdiff HyperDual / peer, same spelling",
                  ["pair", "peer time", "dualdiff time", "dualdiff / peer"], h2h_rows, h2h_raw)

    found = loop_style(rep, bench, args.mode, fd, nd)

    # ---- targets ------------------------------------------------------------------------
    def arith_target(tname, op, limit):
        cell = arith.get(op, {}).get(tname)
        if cell is None:
            return
        rep.target(f"{tname} `{op}` / float (in a loop)", f"≤ {limit}×",
                   f"{R.fmt_ratio(cell['ratio'])} ({R.fmt_time(cell['t'])} vs "
                   f"{R.fmt_time(cell['t_base'])})", cell["ratio"] <= limit)

    for op in ("a * b", "a + b"):
        arith_target("Dual", op, 1.8)
    for op in ("a * b", "a + b"):
        arith_target("HyperDual", op, 2.5)
    for key, label, limit in (("dd1", "f' with Dual, dd.* spelling / f", 2.5),
                              ("np1", "f' with Dual, np.* spelling / f", 8.0)):
        r = results[key]
        rep.target(label, f"≤ {limit}×", R.fmt_ratio(r["ratio"]), r["ratio"] <= limit)
    loop_targets(rep, found, nd)
    rep.note("Arithmetic ratios include timeit's loop and the loads of a and b on both sides, "
             "and the targets use them as measured. That overhead is about as large as a float "
             f"operation itself (`a; b` on floats: {R.fmt_time(load)}), so subtracting it gives "
             "no stable 'pure arithmetic' ratio; compare the per-operation times instead.")
    rep.finish()


if __name__ == "__main__":
    main()
