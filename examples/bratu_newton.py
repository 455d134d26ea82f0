"""The 2-D Bratu problem solved three ways with dualdiff's sparse derivatives.

    -Laplacian(u) = lambda * exp(u)   on the unit square,   u = 0 on its boundary,

on an N x N grid of interior points (five-point Laplacian, h = 1 / (N + 1)), lambda = 6 (below
the fold at about 6.81, so the lower solution exists). The residual F(u) is plain numpy:
shifts of the grid by slicing and concatenation. Then

  * Newton's method: J = dd.sparse_jacobian(F).prepare(u0), each step one compressed forward
    sweep (5 colours: the optimum for the five-point stencil) and one
    scipy.sparse.linalg.spsolve;
  * scipy.optimize.least_squares(F, u0, jac=J): its trust-region method on the sparse
    Jacobian;
  * scipy.optimize.minimize(E, u0, method="trust-constr", jac=F, hess=H): F is the gradient of
    the energy E(u) = 1/2 u.(A u) - lambda sum exp(u) (A the scaled five-point matrix), and
    H = dd.sparse_hessian(E).prepare(u0) its exact sparse Hessian.

    python examples/bratu_newton.py [--n N]
"""
import argparse
import time

import numpy as np

import dualdiff as dd

LAM = 6.0


def shift(U, a, b):
    """U moved by (a, b) grid steps, with the boundary's zeros coming in."""
    s0, s1 = U.shape
    if a:
        z = np.zeros((abs(a), s1))
        U = np.concatenate([U[a:], z]) if a > 0 else np.concatenate([z, U[:a]])
    if b:
        z = np.zeros((s0, abs(b)))
        U = np.concatenate([U[:, b:], z], axis=1) if b > 0 else \
            np.concatenate([z, U[:, :b]], axis=1)
    return U


def laplace_apply(u):
    """A u: the negative five-point Laplacian of the grid values u (flattened), / h^2."""
    n = int(round(u.size ** 0.5))
    U = u.reshape(n, n)
    AU = 4 * U - shift(U, 1, 0) - shift(U, -1, 0) - shift(U, 0, 1) - shift(U, 0, -1)
    return (AU * (n + 1) ** 2).ravel()


def residual(u):
    return laplace_apply(u) - LAM * np.exp(u)


def energy(u):
    return 0.5 * np.sum(u * laplace_apply(u)) - LAM * np.sum(np.exp(u))


def main(outdir=None, n=31):
    """Solve with Newton, least_squares and trust-constr; returns the key numbers. `outdir`
    is unused."""
    try:
        from scipy import optimize
        from scipy.sparse.linalg import spsolve
    except ImportError:
        print("skipped: scipy is not installed (pip install scipy)")
        return None
    u0 = np.zeros(n * n)
    t = time.perf_counter()
    jac = dd.sparse_jacobian(residual).prepare(u0)
    t_prepare = time.perf_counter() - t
    print(f"Bratu, lambda = {LAM}, {n} x {n} interior points: Jacobian {jac.shape} with "
          f"{jac.pattern.nnz} entries, {jac.ncolors} colours (prepared in "
          f"{t_prepare * 1e3:.0f} ms)")
    full = np.asarray(dd.jacobian(residual)(u0 + 0.1))
    jac_err = float(np.max(np.abs(jac(u0 + 0.1).toarray() - full)) / np.max(np.abs(full)))
    print(f"sparse Jacobian vs dd.jacobian (dense): max relative difference {jac_err:.1e}")

    # Newton: u <- u - J(u)^-1 F(u)
    u = u0.copy()
    norms = [float(np.linalg.norm(residual(u)))]
    t = time.perf_counter()
    while norms[-1] > 1e-9 * norms[0] and len(norms) < 20:
        u = u - spsolve(jac(u).tocsc(), residual(u))
        norms.append(float(np.linalg.norm(residual(u))))
    t_newton = time.perf_counter() - t
    print(f"Newton + spsolve: {len(norms) - 1} steps in {t_newton * 1e3:.0f} ms, residual "
          + " -> ".join(f"{r:.1e}" for r in norms) + f"; max u = {u.max():.6f}")

    t = time.perf_counter()
    ls = optimize.least_squares(residual, u0, jac=jac, xtol=1e-12, ftol=1e-12, gtol=1e-12)
    t_ls = time.perf_counter() - t
    print(f"least_squares(jac=sparse): {ls.nfev} evaluations, {ls.njev} Jacobians, "
          f"{t_ls * 1e3:.0f} ms, |u - u_newton| = {np.max(np.abs(ls.x - u)):.1e}")

    hess = dd.sparse_hessian(energy).prepare(u0)
    H_err = float(np.max(np.abs(hess(u).toarray() - jac(u).toarray()))
                  / np.max(np.abs(jac(u).toarray())))
    t = time.perf_counter()
    tc = optimize.minimize(energy, u0, method="trust-constr", jac=residual, hess=hess,
                           options={"gtol": 1e-10, "xtol": 1e-14})
    t_tc = time.perf_counter() - t
    print(f"minimize(trust-constr, hess=sparse Hessian of the energy, {hess.ncolors} colours, "
          f"{hess.method}): {tc.nit} iterations, {t_tc * 1e3:.0f} ms, "
          f"|u - u_newton| = {np.max(np.abs(tc.x - u)):.1e}")
    print(f"the energy's Hessian equals the residual's Jacobian to {H_err:.1e}")
    return {"n": n * n, "ncolors": jac.ncolors, "jac_err": jac_err, "newton_steps": len(norms) - 1,
            "residuals": norms, "u_max": float(u.max()), "ls_diff": float(np.max(np.abs(ls.x - u))),
            "ls_success": bool(ls.success), "tc_diff": float(np.max(np.abs(tc.x - u))),
            "hess_err": H_err, "hess_ncolors": hess.ncolors}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=31, help="interior points per side (default 31)")
    main(n=ap.parse_args().n)
