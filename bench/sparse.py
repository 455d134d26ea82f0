#!/usr/bin/env python
"""Sparse Jacobians and Hessians (issue 14): dd.sparse_jacobian / dd.sparse_hessian against
dense forward mode, scipy's finite differences given the pattern, and jitted JAX.

    PYTHONPATH=. python bench/sparse.py [--quick | --full] [--outdir DIR]

Problems: the 2-D Bratu residual (five-point Laplacian + lambda exp(u), numpy slicing and
concatenation) for Jacobians; the Bratu energy 1/2 u.(A u) - lambda sum exp(u) and the
extended Rosenbrock function for Hessians; stencil patterns (tridiagonal, 2-D five- and
nine-point, 3-D seven-point) for colour counts. Every time is a ratio to plain-numpy f timed
in alternation with it (bench/_timing.py). Writes bench/results/sparse.md, .json and .png.
"""
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _peers as P  # noqa: E402  (first: it pins every library to one thread)
import _report as R  # noqa: E402
import _timing as T  # noqa: E402

import numpy as np  # noqa: E402

import dualdiff as dd  # noqa: E402
from dualdiff import _sparsity, transforms  # noqa: E402

LAM = 6.0
JAC_SIZES = {"quick": [2500], "default": [2500, 10**4, 10**5],
             "full": [2500, 10**4, 10**5, 10**6]}
ENERGY_SIZES = {"quick": [2500], "default": [2500, 10**4, 10**5],
                "full": [2500, 10**4, 10**5, 10**6]}
ROSEN_SIZES = {"quick": [100, 1000], "default": [100, 1000, 10**4],
               "full": [100, 1000, 10**4, 10**5]}
STENCIL_N = {"quick": 10**4, "default": 10**5, "full": 10**5}
DENSE_BYTES = 400 << 20          # dense Jacobians / Hessians beyond this are not formed
MEMORY_N = {"quick": 10**4, "default": 10**5, "full": 10**6}


# ---- the problems: plain numpy, shared by every method ------------------------------------

def shift(U, a, b, xp=np):
    s0, s1 = U.shape
    if a:
        z = xp.zeros((abs(a), s1))
        U = xp.concatenate([U[a:], z]) if a > 0 else xp.concatenate([z, U[:a]])
    if b:
        z = xp.zeros((s0, abs(b)))
        U = xp.concatenate([U[:, b:], z], axis=1) if b > 0 else \
            xp.concatenate([z, U[:, :b]], axis=1)
    return U


def make_bratu(xp=np):
    def laplace(u):
        s = int(round(u.size ** 0.5))
        U = u.reshape(s, s)
        AU = 4 * U - shift(U, 1, 0, xp) - shift(U, -1, 0, xp) - shift(U, 0, 1, xp) \
            - shift(U, 0, -1, xp)
        return (AU * (s + 1) ** 2).reshape(-1)

    def residual(u):
        return laplace(u) - LAM * xp.exp(u)

    def energy(u):
        return 0.5 * xp.sum(u * laplace(u)) - LAM * xp.sum(xp.exp(u))
    return residual, energy


def rosenbrock(x, xp=np):
    return xp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def stencils(n):
    """Functions whose Jacobians have the four stencil patterns, at about n points."""
    s2, s3 = int(round(n ** 0.5)), int(round(n ** (1 / 3)))

    def tri(x):
        z = np.zeros(1)
        return np.concatenate([z, x[:-1]]) - 2 * x + np.concatenate([x[1:], z]) + x ** 3

    def five(u):
        U = u.reshape(s2, s2)
        return (4 * U - shift(U, 1, 0) - shift(U, -1, 0) - shift(U, 0, 1) - shift(U, 0, -1)
                + np.exp(U)).reshape(-1)

    def nine(u):
        U = u.reshape(s2, s2)
        acc = np.sin(U)
        for a in (-1, 0, 1):
            for b in (-1, 0, 1):
                if a or b:
                    acc = acc + shift(U, a, b) * (1.0 + a + 2 * b)
        return acc.reshape(-1)

    def seven(u):
        U = u.reshape(s3, s3, s3)
        acc = 6 * U + U ** 2
        for ax in range(3):
            z = np.zeros(tuple(1 if i == ax else s3 for i in range(3)))
            acc = acc - np.concatenate([np.take(U, np.arange(1, s3), axis=ax), z], axis=ax)
            acc = acc - np.concatenate([z, np.take(U, np.arange(s3 - 1), axis=ax)], axis=ax)
        return acc.reshape(-1)
    return [("tridiagonal", tri, n, 3), ("2-D five-point", five, s2 * s2, 5),
            ("2-D nine-point", nine, s2 * s2, 9), ("3-D seven-point", seven, s3 ** 3, 7)]


def grid(n):
    s = int(round(n ** 0.5))
    return np.random.default_rng(s).uniform(0.0, 0.5, s * s)


def once(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


# ---- sections --------------------------------------------------------------------------------

def jacobian_section(rep, bench, mode, jax, approx_derivative, curves):
    residual, _ = make_bratu()
    rows, raw = [], []
    for n0 in JAC_SIZES[mode]:
        u = grid(n0)
        n = u.size
        base = (lambda u=u: residual(u))
        t_f = bench.single(base, key=("bratu", n))
        transform = dd.sparse_jacobian(residual)
        prepared, t_prep = once(lambda: transform.prepare(u))
        t_prep = min(t_prep, min(once(lambda: transform.prepare(u))[1] for _ in range(2)))
        t_detect = min(once(lambda: _sparsity.jacobian_pattern(residual, (u,), {}, 0, u))[1]
                       for _ in range(3))
        J = prepared(u)
        rec = dict(n=n, ncolors=prepared.ncolors, nnz=J.nnz, t_f=t_f, t_prepare=t_prep,
                   prepare_ratio=t_prep / t_f, t_detect=t_detect, detect_ratio=t_detect / t_f)
        r = bench.pair(base, lambda: prepared(u), base_key=("bratu", n))
        rec.update(t_call=r["t"], call_ratio=r["ratio"])
        unverified = dd.sparse_jacobian(residual, verify=False).prepare(u)
        r = bench.pair(base, lambda: unverified(u), base_key=("bratu", n))
        rec.update(t_call_unverified=r["t"], call_unverified_ratio=r["ratio"])
        # the sweep alone (dualdiff's dual arrays) and the gather that follows it
        S = prepared._seed(prepared.ncolors).reshape(u.shape + (prepared.ncolors,))
        r_sweep = bench.pair(base, lambda: transforms.directional(residual, (u,), {}, 0, S),
                             base_key=("bratu", n))
        rec.update(sweep_ratio=r_sweep["ratio"])
        r_unprep = bench.pair(base, lambda: transform(u), base_key=("bratu", n))
        rec.update(t_unprepared=r_unprep.get("t"), unprepared_ratio=r_unprep.get("ratio"))
        # scipy's finite differences given the pattern
        if approx_derivative is not None:
            r_fd = bench.pair(base, lambda: approx_derivative(residual, u,
                                                              sparsity=prepared.pattern),
                              base_key=("bratu", n))
            Jfd = approx_derivative(residual, u, sparsity=prepared.pattern)
            rec.update(t_scipy=r_fd.get("t"), scipy_ratio=r_fd.get("ratio"),
                       scipy_err=float(abs(Jfd - J).max() / abs(J).max()),
                       scipy_ncolors=None)
        # dense: dd.jacobian where n^2 doubles fit; else the exactness check by column blocks
        if 8 * n * n <= DENSE_BYTES:
            r_dense = bench.pair(base, lambda: dd.jacobian(residual)(u), base_key=("bratu", n))
            Jd = np.asarray(dd.jacobian(residual)(u))
            rec.update(t_dense=r_dense.get("t"), dense_ratio=r_dense.get("ratio"),
                       dense_err=float(np.abs(J.toarray() - Jd).max() / np.abs(Jd).max()))
        elif n <= 10**4:
            worst, block = 0.0, 500
            for s in range(0, n, block):
                k = min(block, n - s)
                V = np.zeros((n, k))
                V[np.arange(s, s + k), np.arange(k)] = 1.0
                _, D = transforms.directional(residual, (u,), {}, 0, V)
                worst = max(worst, float(np.abs(J[:, s:s + k].toarray() - D).max()))
            rec.update(dense_err=worst / float(abs(J).max()), dense_note="by column blocks")
        if jax is not None and 8 * n * n <= DENSE_BYTES:
            jres, _ = make_bratu(jax.numpy)
            jf = jax.jit(jax.jacfwd(jres))
            uj = jax.numpy.asarray(u)
            r_jax = bench.pair(base, lambda: jf(uj).block_until_ready(), base_key=("bratu", n))
            rec.update(t_jax=r_jax.get("t"), jax_ratio=r_jax.get("ratio"))
        raw.append(rec)
        rows.append([n, rec["ncolors"], R.fmt_time(t_f), R.fmt_ratio(rec["call_ratio"]),
                     R.fmt_ratio(rec["call_unverified_ratio"]), R.fmt_ratio(rec["sweep_ratio"]), R.fmt_ratio(rec["prepare_ratio"]),
                     R.fmt_ratio(rec["detect_ratio"]), R.fmt_ratio(rec.get("unprepared_ratio")),
                     R.fmt_ratio(rec.get("scipy_ratio")), R.fmt_err(rec.get("scipy_err")),
                     R.fmt_ratio(rec.get("dense_ratio")), R.fmt_err(rec.get("dense_err")),
                     R.fmt_ratio(rec.get("jax_ratio"))])
        print(f"  Bratu Jacobian n = {n}: {rows[-1]}", flush=True)
        for key, lab in (("t_call", "dd.sparse_jacobian, prepared"),
                         ("t_unprepared", "dd.sparse_jacobian, detect + colour each call"),
                         ("t_scipy", "scipy approx_derivative(sparsity=)"),
                         ("t_dense", "dd.jacobian (dense)"), ("t_jax", "jax.jacfwd (jit, dense)")):
            if rec.get(key):
                curves.setdefault(("jac", lab), []).append((n, rec[key]))
        curves.setdefault(("jac", "f (numpy)"), []).append((n, t_f))
    rep.table("Bratu residual Jacobian: ratios to numpy f",
              ["n", "colours", "f", "prepared call", "verify=False", "the sweep alone", "prepare",
               "of which detection", "unprepared call", "scipy FD (pattern given)",
               "scipy FD error", "dense dd.jacobian", "error vs dense", "jax.jacfwd jit"],
              rows, raw,
              intro="prepared call = one compressed forward sweep (ncolors directions) + the "
                    "gather into CSR + (unless verify=False) a sweep along one random direction "
                    "that checks the result; the sweep alone = transforms.directional along the ncolors "
                    "seed vectors; prepare = detection + colouring + recovery index; "
                    "scipy FD = scipy.optimize._numdiff.approx_derivative with the pattern "
                    "(2-point differences, its own colouring).")
    return raw


def hessian_section(rep, bench, mode, jax, name, f, sizes, make_x, curves, dense_max):
    rows, raw = [], []
    for n0 in sizes:
        x = make_x(n0)
        n = x.size
        base = (lambda x=x: f(x))
        t_f = bench.single(base, key=(name, n))
        prepared, t_prep = once(lambda: dd.sparse_hessian(f).prepare(x))
        t_prep = min(t_prep, once(lambda: dd.sparse_hessian(f).prepare(x))[1])
        H = prepared(x)
        r = bench.pair(base, lambda: prepared(x), base_key=(name, n))
        rec = dict(n=n, ncolors=prepared.ncolors, nnz=H.nnz, method=prepared.method, t_f=t_f,
                   t_prepare=t_prep, prepare_ratio=t_prep / t_f, t_call=r.get("t"),
                   call_ratio=r.get("ratio"))
        unchecked = dd.sparse_hessian(f, verify=False).prepare(x)
        ru = bench.pair(base, lambda: unchecked(x), base_key=(name, n))
        rec.update(t_call_unverified=ru.get("t"), call_unverified_ratio=ru.get("ratio"))
        if prepared.method == "summands":
            k1, k2 = prepared._plan.k1, prepared._plan.k2
            rec.update(widths=[k1, k2])
            # the general method on the same pattern, as the summands' sweep's baseline
            numeric = dd.sparse_hessian(f).prepare(x)
            numeric.method = "sparse forward"
            rn = bench.pair(base, lambda: numeric(x), base_key=(name, n))
            rec.update(t_numeric=rn.get("t"), numeric_ratio=rn.get("ratio"),
                       numeric_err=float(abs(numeric(x) - H).max() / abs(H).max()))
        # the compressed sweeps (the fallback: e1 = star seed, e2 = identity windows)
        if n <= 10**4:
            comp = dd.sparse_hessian(f).prepare(x)
            comp.method = "compressed"
            rc = bench.pair(base, lambda: comp(x), base_key=(name, n))
            rec.update(t_compressed=rc.get("t"), compressed_ratio=rc.get("ratio"),
                       compressed_err=float(abs(comp(x) - H).max() / abs(H).max()))
        if n <= dense_max:
            r_dense = bench.pair(base, lambda: dd.hessian(f)(x), base_key=(name, n))
            Hd = dd.hessian(f)(x)
            rec.update(t_dense=r_dense.get("t"), dense_ratio=r_dense.get("ratio"),
                       dense_err=float(np.abs(H.toarray() - Hd).max() / np.abs(Hd).max()))
        if jax is not None and 8 * n * n <= DENSE_BYTES:
            fj = P.rebind(f, np=jax.numpy) if f is rosenbrock else make_bratu(jax.numpy)[1]
            hj = jax.jit(jax.hessian(fj))
            xj = jax.numpy.asarray(x)
            r_jax = bench.pair(base, lambda: hj(xj).block_until_ready(), base_key=(name, n))
            rec.update(t_jax=r_jax.get("t"), jax_ratio=r_jax.get("ratio"))
        raw.append(rec)
        method = rec["method"] + (" ({} x {})".format(*rec["widths"]) if "widths" in rec
                                   else "")
        rows.append([n, rec["ncolors"], method, R.fmt_time(t_f),
                     R.fmt_ratio(rec["call_ratio"]), R.fmt_ratio(rec["call_unverified_ratio"]),
                     R.fmt_ratio(rec["prepare_ratio"]), R.fmt_ratio(rec.get("numeric_ratio")),
                     R.fmt_ratio(rec.get("compressed_ratio")),
                     R.fmt_ratio(rec.get("dense_ratio")), R.fmt_err(rec.get("dense_err")),
                     R.fmt_err(rec.get("numeric_err")), R.fmt_ratio(rec.get("jax_ratio"))])
        print(f"  {name} Hessian n = {n}: {rows[-1]}", flush=True)
        for key, lab in (("t_call", "dd.sparse_hessian, prepared"),
                         ("t_numeric", "numeric mode (sparse forward)"),
                         ("t_compressed", "compressed hyper-dual sweeps"),
                         ("t_dense", "dd.hessian (dense)"), ("t_jax", "jax.hessian (jit, dense)")):
            if rec.get(key):
                curves.setdefault((name, lab), []).append((n, rec[key]))
        curves.setdefault((name, "f (numpy)"), []).append((n, t_f))
    rep.table(f"{name} Hessian: ratios to numpy f",
              ["n", "star colours", "method (k1 x k2)", "f", "prepared call", "verify=False",
               "prepare", "numeric mode", "compressed sweeps", "dense dd.hessian",
               "error vs dense", "vs numeric mode", "jax.hessian jit"],
              rows, raw,
              intro="prepared call = the method .prepare chose (summands: one hyper-dual "
                    "sweep of k1 x k2 second-order directions, reading each summand "
                    "element's entries, + with verify=True one more e2 direction that checks "
                    "them); numeric mode = the tracer's sparse forward mode on the same "
                    "pattern (the method before the summands' sweep); compressed = e1 = star "
                    "seed, e2 = windows of the identity.")
    return raw


def stencil_section(rep, mode):
    rows, raw = [], []
    for name, f, n, optimum in stencils(STENCIL_N[mode]):
        x = np.random.default_rng(0).uniform(0.1, 0.9, n)
        prepared, t = once(lambda: dd.sparse_jacobian(f).prepare(x))
        raw.append(dict(stencil=name, n=n, ncolors=prepared.ncolors, optimum=optimum,
                        nnz=prepared.pattern.nnz, t_prepare=t))
        rows.append([name, n, prepared.pattern.nnz, prepared.ncolors, optimum, R.fmt_time(t)])
    rep.table("Colours of stencil Jacobians (detected, then coloured with 'auto')",
              ["pattern", "n", "nnz", "colours", "optimum", "prepare time"], rows, raw)
    return raw


def memory_section(rep, mode):
    residual, _ = make_bratu()
    u = grid(MEMORY_N[mode])
    n = u.size
    prepared = dd.sparse_jacobian(residual, verify=False).prepare(u)
    rss, traced = T.peak_memory(lambda: prepared(u), True)
    checked = dd.sparse_jacobian(residual).prepare(u)
    rss_v, traced_v = T.peak_memory(lambda: checked(u), True)
    J = prepared(u)
    csr = J.data.nbytes + J.indices.nbytes + J.indptr.nbytes
    bound = (prepared.ncolors + 2) * n * 8 + csr
    f_rss, f_traced = T.peak_memory(lambda: residual(u), True)
    one = dd.sparse_jacobian(residual, chunk=1, verify=False).prepare(u)
    rss1, traced1 = T.peak_memory(lambda: one(u), True)
    rec = dict(n=n, ncolors=prepared.ncolors, traced=traced, rss=rss, csr=csr, bound=bound,
               f_traced=f_traced, traced_chunk1=traced1, rss_chunk1=rss1,
               traced_verify=traced_v, rss_verify=rss_v)
    rep.table("Memory of one prepared Bratu Jacobian call",
              ["n", "colours", "tracemalloc peak", "peak RSS rise", "chunk=1", "verify=True",
               "CSR arrays", "(ncolors + 2) n doubles + CSR", "f's own peak"],
              [[n, prepared.ncolors, R.fmt_bytes(traced), R.fmt_bytes(rss),
                R.fmt_bytes(traced1), R.fmt_bytes(traced_v), R.fmt_bytes(csr),
                R.fmt_bytes(bound), R.fmt_bytes(f_traced)]], [rec],
              intro="tracemalloc peaks (numpy's buffers, and dualdiff's block pool, which "
                    "allocates through numpy) of a call with verify=False; chunk=1 sweeps one "
                    "colour at a time and gathers its entries into the CSR data as its sweep "
                    "ends (the memory-bounded setting); verify=True adds the checking "
                    "direction.")
    return rec


def plot(path, curves):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib: not installed; skipping the plot (pip install matplotlib)")
        return False
    panels = [("jac", "Bratu residual: Jacobian"), ("Bratu energy", "Bratu energy: Hessian"),
              ("extended Rosenbrock", "extended Rosenbrock: Hessian")]
    fig, axes = plt.subplots(1, 3, figsize=(16, 5))
    for ax, (key, title) in zip(axes, panels):
        for (k, lab), pts in curves.items():
            if k != key or not pts:
                continue
            style = "k--" if lab.startswith("f ") else "-o" if "dd." in lab else ":s"
            ax.loglog(*zip(*pts), style, lw=2.2 if "sparse" in lab else 1.2, ms=4, label=lab)
        ax.set_title(title)
        ax.set_xlabel("n")
        ax.set_ylabel("seconds per call")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def main():
    args = T.parse_args(__doc__.splitlines()[0])
    mode = args.mode
    (jax,) = P.import_peers("jax")
    try:
        from scipy.optimize._numdiff import approx_derivative
    except ImportError:
        print("scipy: not installed; skipping the finite-difference rows (pip install scipy)")
        approx_derivative = None
    rep = R.Report("sparse", "Sparse Jacobians and Hessians (dd.sparse_jacobian, "
                   "dd.sparse_hessian)", args, dd)
    bench = T.Bench(args.cfg)
    curves = {}
    print("\nBratu residual Jacobians:", flush=True)
    jac = jacobian_section(rep, bench, mode, jax, approx_derivative, curves)
    print("\nStencil colours:", flush=True)
    sten = stencil_section(rep, mode)
    print("\nHessians:", flush=True)
    _, energy = make_bratu()
    en = hessian_section(rep, bench, mode, jax, "Bratu energy", energy, ENERGY_SIZES[mode],
                         grid, curves, dense_max=400)
    ro = hessian_section(rep, bench, mode, jax, "extended Rosenbrock", rosenbrock,
                         ROSEN_SIZES[mode],
                         lambda n: np.random.default_rng(n).uniform(-1.5, 1.5, n), curves,
                         dense_max=1000)
    print("\nMemory:", flush=True)
    mem = memory_section(rep, mode)

    # ---- the targets --------------------------------------------------------------
    by_n = {r["n"]: r for r in jac}
    for n in sorted(by_n):
        r = by_n[n]
        if n >= 9000:
            rep.target(f"Bratu colours, n = {n}", "5 (optimum)", str(r["ncolors"]),
                       r["ncolors"] == 5)
    big = max(by_n)
    r = by_n[big]
    if big >= 90_000:                            # the grid nearest 10^5: 316^2
        rep.target(f"prepared Jacobian call, n = {big}", "<= 10x f",
                   f"{R.fmt_ratio(r['call_ratio'])} (verify=False: "
                   f"{R.fmt_ratio(r['call_unverified_ratio'])})",
                   r["call_unverified_ratio"] <= 10,
                   f"the sweep alone {R.fmt_ratio(r['sweep_ratio'])}")
        rep.target(f"preparation (detection + colouring + index), n = {big}", "<= 60x f",
                   R.fmt_ratio(r["prepare_ratio"]), r["prepare_ratio"] <= 60)
    for n in sorted(by_n):
        r = by_n[n]
        if r.get("t_scipy") and n >= 9000:
            speed = r["t_scipy"] / r["t_call_unverified"]
            rep.target(f"faster than approx_derivative(sparsity=), n = {n}", ">= 15x",
                       f"{speed:.1f}x (verify=True: {r['t_scipy'] / r['t_call']:.1f}x)",
                       speed >= 15)
        if r.get("dense_err") is not None and n >= 10**4:
            rep.target(f"equal to the dense Jacobian, n = {n}", "<= 1e-14 relative",
                       R.fmt_err(r["dense_err"]), r["dense_err"] <= 1e-14)
    for s in sten:
        rep.target(f"colours of the {s['stencil']} stencil, n = {s['n']}", str(s["optimum"]),
                   str(s["ncolors"]), s["ncolors"] == s["optimum"])
    # judged, as the Jacobian's call, on verify=False (the checking direction shown beside)
    for r in en:
        if 90_000 <= r["n"] <= 110_000:
            rep.target(f"Bratu energy sparse Hessian, prepared call, n = {r['n']}", "<= 25x f",
                       f"{R.fmt_ratio(r['call_unverified_ratio'])} (verify=True: "
                       f"{R.fmt_ratio(r['call_ratio'])})", r["call_unverified_ratio"] <= 25,
                       f"numeric mode {R.fmt_ratio(r.get('numeric_ratio'))}")
    for r in ro:
        if r["n"] in (1000, 10**4):
            rep.target(f"extended Rosenbrock sparse Hessian, n = {r['n']}", "<= 20x f",
                       f"{R.fmt_ratio(r['call_unverified_ratio'])} (verify=True: "
                       f"{R.fmt_ratio(r['call_ratio'])})", r["call_unverified_ratio"] <= 20,
                       f"numeric mode {R.fmt_ratio(r.get('numeric_ratio'))}")
    rep.target(f"memory of the prepared call with chunk=1, n = {mem['n']}",
               "(ncolors + 2) n doubles + CSR",
               f"{R.fmt_bytes(mem['traced_chunk1'])} vs {R.fmt_bytes(mem['bound'])}",
               mem["traced_chunk1"] is not None and mem["traced_chunk1"] <= mem["bound"],
               f"chunk=None (all colours in one sweep): {R.fmt_bytes(mem['traced'])}")
    if mode != "full":
        rep.note("Sizes 10^6 (Jacobians, memory) and 10^5 (Rosenbrock) run with --full.")
    path = Path(args.outdir) / "sparse.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    if plot(path, curves):
        rep.add_file(path)
    rep.finish()


if __name__ == "__main__":
    main()
