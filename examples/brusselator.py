"""A stiff reaction-diffusion system integrated with scipy's BDF and dualdiff's sparse Jacobian.

The 2-D Brusselator (the benchmark of DifferentialEquations.jl's sparse-Jacobian tutorial):
on the periodic unit square, N x N points,

    du/dt = 1 + u^2 v - 4.4 u + alpha * Laplacian(u) + f(x, y, t)
    dv/dt = 3.4 u - u^2 v     + alpha * Laplacian(v)

with alpha = 10 and a forcing f = 5 inside a disc of radius 0.1 at (0.3, 0.6) from t = 1.1.
The right-hand side is plain numpy (np.roll for the periodic five-point Laplacian). Its
Jacobian (2 N^2 x 2 N^2) has 6 entries per row; dd.sparse_jacobian detects that pattern,
colours it, and evaluates it in one forward sweep of a handful of directions, exactly. The
prepared Jacobian goes to solve_ivp(method="BDF", jac=...), against BDF with scipy's own
finite differences on the same pattern (jac_sparsity=) and, with --dense, BDF with dense
finite differences (2 N^2 evaluations per Jacobian: slow).

    python examples/brusselator.py [--n N] [--dense]
"""
import argparse
import time

import numpy as np

import dualdiff as dd

ALPHA = 10.0


def laplacian(U, h):
    return (np.roll(U, 1, 0) + np.roll(U, -1, 0) + np.roll(U, 1, 1) + np.roll(U, -1, 1)
            - 4 * U) / h ** 2


def make_rhs(n):
    xs = np.linspace(0, 1, n, endpoint=False)
    X, Y = np.meshgrid(xs, xs, indexing="ij")
    disc = ((X - 0.3) ** 2 + (Y - 0.6) ** 2 <= 0.1 ** 2) * 5.0
    h = 1.0 / n

    def rhs(t, y):
        u, v = y[:n * n].reshape(n, n), y[n * n:].reshape(n, n)
        forcing = disc if t >= 1.1 else 0.0
        du = 1 + u * u * v - 4.4 * u + ALPHA * laplacian(u, h) + forcing
        dv = 3.4 * u - u * u * v + ALPHA * laplacian(v, h)
        return np.concatenate([du.ravel(), dv.ravel()])
    return rhs, X, Y


def initial(X, Y):
    u0 = 22 * (Y * (1 - Y)) ** 1.5
    v0 = 27 * (X * (1 - X)) ** 1.5
    return np.concatenate([u0.ravel(), v0.ravel()])


def main(outdir=None, n=16, t_end=1.5, dense=False):
    """Integrate to t_end two (or three) ways; returns the key numbers. `outdir` is unused."""
    try:
        from scipy.integrate import solve_ivp
    except ImportError:
        print("skipped: scipy is not installed (pip install scipy)")
        return None
    rhs, X, Y = make_rhs(n)
    y0 = initial(X, Y)

    t = time.perf_counter()
    jac = dd.sparse_jacobian(rhs, argnums=1).prepare(0.0, y0)
    t_prepare = time.perf_counter() - t
    J0 = jac(0.0, y0)
    full = np.asarray(dd.jacobian(rhs, argnums=1)(0.0, y0))
    jac_err = float(np.max(np.abs(J0.toarray() - full)) / np.max(np.abs(full)))
    print(f"Brusselator on a {n} x {n} grid: {y0.size} unknowns, Jacobian with "
          f"{jac.pattern.nnz} entries ({jac.pattern.nnz / y0.size:.0f} per row), "
          f"{jac.ncolors} colours; prepared in {t_prepare * 1e3:.0f} ms")
    print(f"sparse Jacobian vs dd.jacobian (dense): max relative difference {jac_err:.1e}")

    runs = {}
    methods = [("BDF + dd.sparse_jacobian", {"jac": jac}),
               ("BDF + finite differences on the pattern", {"jac_sparsity": jac.pattern})]
    if dense:
        methods.append(("BDF + dense finite differences", {}))
    for label, kw in methods:
        t = time.perf_counter()
        sol = solve_ivp(rhs, (0.0, t_end), y0, method="BDF", rtol=1e-6, atol=1e-8, **kw)
        elapsed = time.perf_counter() - t
        runs[label] = {"success": bool(sol.success), "nfev": int(sol.nfev),
                       "njev": int(sol.njev), "nlu": int(sol.nlu), "time": elapsed,
                       "y": sol.y[:, -1]}
        print(f"  {label:<40s} {elapsed:6.2f} s  nfev {sol.nfev:5d}  njev {sol.njev:3d}  "
              f"nlu {sol.nlu:4d}  {'ok' if sol.success else sol.message}")
    ref = runs["BDF + dd.sparse_jacobian"]["y"]
    others = {k: float(np.max(np.abs(r["y"] - ref)) / np.max(np.abs(ref)))
              for k, r in runs.items()}
    print(f"solutions at t = {t_end} agree to {max(others.values()):.1e} (relative, max over "
          "the runs)")
    return {"n": y0.size, "ncolors": jac.ncolors, "nnz": jac.pattern.nnz, "jac_err": jac_err,
            "runs": runs, "agreement": others}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=16, help="grid points per side (default 16)")
    ap.add_argument("--t-end", type=float, default=1.5)
    ap.add_argument("--dense", action="store_true", help="also BDF with dense finite differences")
    opt = ap.parse_args()
    main(n=opt.n, t_end=opt.t_end, dense=opt.dense)
