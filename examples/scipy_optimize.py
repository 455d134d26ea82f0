"""Exact gradients and Hessians for scipy.optimize.minimize.

Not from an article: the workflow a user reaches for once dualdiff gives exact derivatives of a
plain numpy function (article 001 motivates it: "since we know that our gradient gives us the
direction of fastest increase, we can follow it in the exact opposite direction").

The extended Rosenbrock function in n = 5 dimensions, minimum at x = (1, ..., 1), is
minimized from scipy's tutorial start point by
  trust-exact  with jac = dd.grad(rosen), hess = dd.hessian(rosen)   (Newton-type),
  BFGS         with jac = dd.grad(rosen),
  BFGS         with no jac: scipy estimates the gradient by finite differences (n + 1
               evaluations of rosen per gradient, counted in nfev),
  Nelder-Mead  with no derivatives at all.
All four use scipy's default tolerances. scipy is in dualdiff's test extra; without it the
example prints one line and stops.

    python examples/scipy_optimize.py
"""
import numpy as np

import dualdiff as dd


def rosen(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


X0 = np.array([1.3, 0.7, 0.8, 1.9, 1.2])


def main(outdir=None):
    """Print one row per method; `outdir` is unused (this example draws nothing)."""
    try:
        from scipy import optimize
    except ImportError:
        print("skipped: scipy is not installed (pip install scipy)")
        return None

    # dualdiff differentiates our numpy rosen; scipy's hand-written derivatives check it
    g, H = optimize.rosen_der(X0), optimize.rosen_hess(X0)
    g_err = np.max(np.abs(dd.grad(rosen)(X0) - g)) / np.max(np.abs(g))
    h_err = np.max(np.abs(dd.hessian(rosen)(X0) - H)) / np.max(np.abs(H))
    print(f"rosen, n = {X0.size}, x0 = {X0}")
    print(f"relative difference from scipy's rosen_der: dd.grad {g_err:.1e}, "
          f"and from rosen_hess: dd.hessian {h_err:.1e}")

    runs = [
        ("trust-exact", "dd.grad + dd.hessian",
         {"method": "trust-exact", "jac": dd.grad(rosen), "hess": dd.hessian(rosen)}),
        ("BFGS", "dd.grad", {"method": "BFGS", "jac": dd.grad(rosen)}),
        ("BFGS", "finite differences", {"method": "BFGS"}),
        ("Nelder-Mead", "none", {"method": "Nelder-Mead"}),
    ]
    print(f"{'method':<12} {'derivatives':<21} {'nit':>4} {'nfev':>5} {'njev':>5} {'nhev':>5}"
          f" {'max|x − 1|':>10}  success")
    results = {}
    for method, derivs, kw in runs:
        r = optimize.minimize(rosen, X0, **kw)
        err = float(np.max(np.abs(r.x - 1.0)))
        results[f"{method} ({derivs})"] = {"nit": r.nit, "nfev": r.nfev, "x_err": err,
                                           "success": bool(r.success)}
        print(f"{method:<12} {derivs:<21} {r.nit:4d} {r.nfev:5d} {getattr(r, 'njev', 0):5d} "
              f"{getattr(r, 'nhev', 0):5d} {err:10.1e}  {r.success}")
    return {"grad_err": float(g_err), "hess_err": float(h_err), "runs": results}


if __name__ == "__main__":
    main()
