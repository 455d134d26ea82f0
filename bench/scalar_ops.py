#!/usr/bin/env python
"""Per-operation cost of dualdiff's compiled scalars (Dual, HyperDual) against Python floats
and the scalar types of fastdual and num-dual, then f' and f'' of the issue's test function
f(x) = exp(x) / sqrt(sin(x)**3 + cos(x)**3) at x = 1.5 in every spelling, with accuracy.

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


def stmt(code, **values):
    """A timeit spec running `code` with `values` bound to local names."""
    setup = "; ".join(f"{k} = _{k}" for k in values) or "pass"
    return (code, setup, {f"_{k}": v for k, v in values.items()})


def testfn_methods(x):
    """f in the method spelling of fastdual / num-dual scalars (x.exp(), ...)."""
    return x.exp() / (x.sin() ** 3 + x.cos() ** 3).sqrt()


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
    rep.note("Arithmetic ratios include timeit's loop and the loads of a and b on both sides, "
             "and the targets use them as measured. That overhead is about as large as a float "
             f"operation itself (`a; b` on floats: {R.fmt_time(load)}), so subtracting it gives "
             "no stable 'pure arithmetic' ratio; compare the per-operation times instead.")
    rep.finish()


if __name__ == "__main__":
    main()
