#!/usr/bin/env python
"""Composed transforms against the direct ones: a Hessian as jacobian(grad(f)) against
dd.hessian(f), f'' as derivative(derivative(f)) against derivative(f, order=2), H v as
grad of a jvp against dd.hvp, and derivatives of order k by levels.

    PYTHONPATH=. python bench/nested.py [--quick | --full] [--outdir DIR]

Every figure is a ratio measured inside this run, the composed call timed in alternation
with the direct one (or with f itself, for the order-k rows).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _peers  # noqa: E402,F401  (first: it pins every library to one thread)
import _report as R  # noqa: E402
import _timing as T  # noqa: E402

import numpy as np  # noqa: E402

import dualdiff as dd  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import functions  # noqa: E402

X0 = 1.5


def main():
    args = T.parse_args(__doc__.splitlines()[0])
    quick = args.mode == "quick"
    rep = R.Report("nested", "dualdiff composed transforms against the direct ones", args, dd)
    bench = T.Bench(args.cfg)
    f, rosen = functions.testfn, functions.rosenbrock

    rows, raw, found = [], [], {}

    def row(label, direct, composed, check, key):
        r = bench.pair(direct, composed)
        err = check()
        rows.append([label, R.fmt_time(r["t_base"]), R.fmt_time(r["t"]),
                     R.fmt_ratio(r["ratio"]), R.fmt_err(err)])
        raw.append(dict(case=label, error=err, **r))
        found[key] = r

    for n in ((10,) if quick else (10, 100)):
        x = np.linspace(0.1, 1.5, n)
        v = np.cos(np.arange(n))
        H = dd.hessian(rosen)(x)
        row(f"jacobian(grad(rosen)) / hessian(rosen), n = {n}",
            lambda: dd.hessian(rosen)(x), lambda: dd.jacobian(dd.grad(rosen))(x),
            lambda: float(np.max(np.abs(dd.jacobian(dd.grad(rosen))(x) - H)) /
                          np.max(np.abs(H))), ("hess", n))
        row(f"grad(x -> jvp(rosen, x, v)) / hvp(rosen), n = {n}",
            lambda: dd.hvp(rosen)(x, v),
            lambda: dd.grad(lambda y: dd.jvp(rosen, (y,), (v,))[1])(x),
            lambda: float(np.max(np.abs(dd.grad(lambda y: dd.jvp(rosen, (y,), (v,))[1])(x)
                                        - H @ v)) / np.max(np.abs(H @ v))), ("hvp", n))
    d2 = dd.derivative(f, order=2)(X0)
    row("derivative(derivative(fike)) / derivative(fike, order=2), x = 1.5",
        lambda: dd.derivative(f, order=2)(X0), lambda: dd.derivative(dd.derivative(f))(X0),
        lambda: abs(dd.derivative(dd.derivative(f))(X0) - d2) / abs(d2), ("d2",))
    rep.table("Composed / direct", ["case", "direct", "composed", "ratio", "difference"],
              rows, raw, intro="ratio = time of the composed call / time of the direct call; "
                               "difference: largest entry difference relative to the largest "
                               "entry")

    rows, raw = [], []
    for k in ((3,) if quick else (1, 2, 3, 4, 5)):
        r = bench.pair(lambda: f(X0), lambda: dd.derivative(f, order=k)(X0))
        rows.append([str(k), R.fmt_time(r["t"]), R.fmt_ratio(r["ratio"])])
        raw.append(dict(order=k, **r))
    rep.table("dd.derivative(fike, order=k): cost per order, ratio to f",
              ["k", "time", "ratio to f"], rows, raw,
              intro="orders 1 and 2 run in the compiled kernels; from 3 on, levels of "
                    "dual values evaluate the table's derivatives as functions (Python time)")

    for n in ((10,) if quick else (10, 100)):
        r = found[("hess", n)]
        rep.target(f"jacobian(grad(rosen)) within 2x of hessian(rosen), n = {n}", "<= 2x",
                   R.fmt_ratio(r["ratio"]), r["ratio"] <= 2.0)
    r = found[("d2",)]
    rep.target("derivative(derivative(fike)) within 2x of derivative(fike, order=2)", "<= 2x",
               R.fmt_ratio(r["ratio"]), r["ratio"] <= 2.0)
    rep.finish()


if __name__ == "__main__":
    main()
