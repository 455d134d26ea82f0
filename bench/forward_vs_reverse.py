#!/usr/bin/env python
"""The headline bench: dualdiff's forward mode against reverse mode (and forward-mode peers)
on gradients and Jacobians.

Forward mode needs one sweep per input direction, reverse mode one per output (article 001):
for f: R^n -> R forward costs grow with n while reverse stays a small multiple of f; for tall
Jacobians (few inputs, many outputs) the order flips. This script measures where they cross.

    PYTHONPATH=. python bench/forward_vs_reverse.py [--quick | --full] [--outdir DIR]

Every figure is a ratio measured inside this run (each method timed in alternation with
plain-numpy f); times are shown for scale only.
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
from dualdiff._mlp_cli import sine_data  # noqa: E402
from dualdiff.mlp import MLP  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import functions  # noqa: E402

SIZES = {"quick": [10, 100], "default": [10, 100, 1000], "full": [10, 100, 1000, 10000]}
HESS_SIZES = {"quick": [10], "default": [10, 100], "full": [10, 100]}
JAC_SHAPES = {  # (n inputs, m outputs)
    "quick": [(1, 100), (100, 1)],
    "default": [(1, 1000), (10, 1000), (100, 100), (1000, 10), (1000, 1)],
    "full": [(1, 1000), (1, 10000), (10, 1000), (100, 100), (1000, 10), (1000, 1),
             (1000, 1000), (10000, 1)],
}
MEM_MIN_N = 1000         # peak memory is measured for cases with max(n, m) >= this
MLP_BATCH = 64


def make_jac_fn(n, m, xp=np):
    """f: R^n -> R^m, f(x) = tanh(W @ sin(x)), W fixed (m, n): an elementwise/matmul map."""
    W = np.sin(np.arange(m * n, dtype=np.float64).reshape(m, n) + 0.5) / np.sqrt(n)
    W_x = xp.asarray(W) if xp is not np else W

    def f(x):
        return xp.tanh(W_x @ xp.sin(x))
    return f, W


def jac_exact(W, x):
    u = np.tanh(W @ np.sin(x))
    return (1 - u ** 2)[:, None] * W * np.cos(x)[None, :]


def crossover(recs, fwd, rev, sizes):
    """Where fwd's time crosses rev's, interpolated in log-log between measured sizes."""
    t = {(r["method"], r["size"]): r.get("t") for r in recs
         if "skipped" not in r and "error" not in r}
    pts = [(n, t[(fwd, n)] / t[(rev, n)]) for n in sizes
           if t.get((fwd, n)) and t.get((rev, n))]
    if not pts:
        return "-"
    if all(q < 1 for _, q in pts):
        return f"faster at every n (≤ {pts[-1][0]})"
    if all(q >= 1 for _, q in pts):
        return f"slower at every n (≥ {pts[0][0]})"
    out = []
    for (n0, q0), (n1, q1) in zip(pts, pts[1:]):
        if (q0 < 1) != (q1 < 1):
            a = np.log(q0) / (np.log(q0) - np.log(q1))
            out.append(f"{'slower' if q1 >= 1 else 'faster'} from n ≈ {n0 * (n1 / n0) ** a:.0f}")
    start = "faster" if pts[0][1] < 1 else "slower"
    return f"{start} at n = {pts[0][0]}, " + ", ".join(out)


def plot(path, recs, sizes, base_times, title):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib: not installed; skipping the plot (pip install matplotlib)")
        return False
    fig, ax = plt.subplots(figsize=(12, 6))
    ax.loglog(sizes, [base_times[s] for s in sizes], "k--", lw=2, label="f itself (numpy)")
    labels = list(dict.fromkeys(r["method"] for r in recs))
    for lab in labels:
        pts = [(r["size"], r["t"]) for r in recs if r["method"] == lab and "t" in r
               and "skipped" not in r and "error" not in r]
        if not pts:
            continue
        kind = next(r.get("kind") for r in recs if r["method"] == lab)
        style = "-o" if kind == "forward" else ":s"
        lw = 2.5 if lab.startswith("dualdiff") else 1.2
        ax.loglog(*zip(*pts), style, lw=lw, ms=4, label=f"{lab} [{kind}]")
    ax.set_xlabel("n (inputs)")
    ax.set_ylabel("seconds per gradient")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def main():
    args = T.parse_args(__doc__.splitlines()[0])
    mode = args.mode
    ag, torch, jax, fd, nd = P.import_peers("autograd", "torch", "jax", "fastdual", "num_dual")
    rep = R.Report("forward_vs_reverse", "dualdiff forward mode vs reverse mode", args, dd)
    bench = T.Bench(args.cfg)
    if jax is not None:
        jnp = jax.numpy
    if ag is not None:
        import autograd.numpy as anp
    if torch is not None:
        torch.set_default_dtype(torch.float64)

    # ---- gradients of Rosenbrock ---------------------------------------------------------
    sizes = SIZES[mode]
    f_np = functions.rosenbrock
    f_loop = functions.rosenbrock_loop
    history, own_cache, recs, base_times = {}, {}, [], {}
    rng = np.random.default_rng(0)
    print("\nRosenbrock gradients:", flush=True)
    for n in sizes:
        x = rng.uniform(-1.5, 1.5, n)
        base = (lambda x=x: f_np(x))
        base_times[n] = bench.single(base, key=("base", n))
        ref = functions.rosenbrock_grad(x)
        ms = [T.Method("dualdiff grad chunk=1", lambda x=x: dd.grad(f_np, chunk=1)(x), power=2,
                     numpy_based=True, kind="forward"),
              T.Method("dualdiff grad default chunk", lambda x=x: dd.grad(f_np)(x), power=2,
                     numpy_based=True, kind="forward"),
              T.Method("dualdiff grad, loop spelling, default chunk",
                     lambda x=x: dd.grad(f_loop)(x), power=2, numpy_based=True,
                     kind="forward")]
        if ag is not None:
            g_ag = ag.grad(P.rebind(f_np, np=anp))
            ms.append(T.Method("autograd grad", lambda x=x, g=g_ag: g(x), numpy_based=True))
        if torch is not None:
            f_t = P.rebind(f_np, np=torch)
            xt = torch.from_numpy(x)
            g_t = torch.func.grad(f_t)

            def backward(x=x, f_t=f_t):
                xt = torch.tensor(x, requires_grad=True)
                f_t(xt).backward()
                return xt.grad
            own = ("torch f", lambda xt=xt, f_t=f_t: f_t(xt))
            ms += [T.Method("torch.func.grad", lambda xt=xt, g=g_t: g(xt), own=own),
                   T.Method("torch .backward()", backward, own=own)]
        if jax is not None:
            f_j = P.rebind(f_np, np=jnp)
            xj = jnp.asarray(x)
            gj, gjj, fjj = jax.grad(f_j), jax.jit(jax.grad(f_j)), jax.jit(f_j)
            ms += [T.Method("jax.grad jit", lambda xj=xj, g=gjj: g(xj).block_until_ready(),
                          own=("jax f jit", lambda xj=xj, f=fjj: f(xj).block_until_ready())),
                   T.Method("jax.grad no jit", lambda xj=xj, g=gj: g(xj).block_until_ready(),
                          own=("jax f no jit", lambda xj=xj, f=f_j: f(xj).block_until_ready()))]
        if fd is not None:
            def fd_grad(x=x):
                s = fd.DualArray(x)
                return fd.jac([f_np(s)], s)[0]
            ms.append(T.Method("fastdual (sparse multi-var Dual, 1 sweep)", fd_grad, power=2,
                             kind="forward"))
        if nd is not None:
            ms.append(T.Method("num_dual.gradient (n-vector duals, 1 sweep)",
                             lambda x=x: nd.gradient(lambda q: f_np(np.array(q)), list(x))[1],
                             power=2, kind="forward"))
        print(f" n = {n}: numpy f = {R.fmt_time(base_times[n])}", flush=True)
        recs += T.run_case(bench, n, base, ms, ref, history, n >= MEM_MIN_N, own_cache)
    # own-f rows, for reference
    own_recs = [dict(method=f"{lab} (own baseline)", kind="f", size=n, **r)
                for (lab, n), r in own_cache.items()]
    rep.table("Gradient of extended Rosenbrock (f: R^n -> R): ratio to numpy f",
              ["method"] + [f"n={n}" for n in sizes], R.pivot(recs + own_recs, sizes, base_times),
              recs + own_recs,
              intro="Each cell: time of one gradient / time of one evaluation of "
                    "`functions.rosenbrock` on a numpy array (interleaved). Forward-mode rows "
                    "grow with n (one sweep per input direction); reverse-mode rows stay near a "
                    "constant multiple of f.")
    chooser = getattr(getattr(dd, "transforms", None), "_default_chunk", None)
    if chooser is not None:
        try:
            rep.note("Rosenbrock: the default chunk dualdiff picked: "
                     + ", ".join(f"n={n}: {chooser(n, n)}" for n in sizes)
                     + " directions per sweep.")
        except Exception:
            pass
    headers, rows = R.detail_rows(recs, "n", with_mem=True)
    rep.table("Rosenbrock gradient, details", headers, rows, [],
              intro="time: median per call. × own f: torch/jax rows divided by their own f "
                    "(torch tensor / jax array in, same framework). rel. error: max |g - exact| "
                    "/ max |exact|. Peak memory (n >= 1000 only): peak RSS Δ = rise of the "
                    "resident high-water mark during one call; tracemalloc peak = numpy and "
                    "Python allocations (numpy-based methods only).")
    fwd = [lab for lab in dict.fromkeys(r["method"] for r in recs) if lab.startswith("dualdiff")]
    rev = [lab for lab in dict.fromkeys(r["method"] for r in recs
                                        if r.get("kind") == "reverse")]
    if fwd and rev:
        cross_rows = [[lab] + [crossover(recs, lab, other, sizes) for other in rev]
                      for lab in fwd]
        rep.table("Where forward and reverse cross (Rosenbrock gradient)",
                  ["dualdiff method \\ reverse method"] + rev, cross_rows,
                  [dict(forward=row[0], **dict(zip(rev, row[1:]))) for row in cross_rows],
                  intro="Is the dualdiff gradient faster or slower than each reverse-mode "
                        "method, and at which n does that change (log-log interpolation "
                        "between the measured sizes)?")
    png = Path(args.outdir) / "forward_vs_reverse.png"
    Path(args.outdir).mkdir(parents=True, exist_ok=True)
    if plot(png, recs, sizes, base_times,
            "Rosenbrock gradient: forward (solid) vs reverse (dotted), 1 thread"):
        rep.add_file(png)

    # ---- Hessian rows -------------------------------------------------------------------
    rows, raw = [], []
    for n in HESS_SIZES[mode]:
        x = rng.uniform(-1.5, 1.5, n)
        base = (lambda x=x: f_np(x))
        for label, fn in (("dualdiff hessian (default chunk)", lambda x=x: dd.hessian(f_np)(x)),
                          ("dualdiff hessian chunk=1",
                           lambda x=x: dd.hessian(f_np, chunk=1)(x))):
            r = bench.pair(base, fn, base_key=("hbase", n))
            raw.append(dict(method=label, size=n, **r))
            rows.append([label, n] + ([f"skipped: {r['skipped']}", "", ""] if "skipped" in r
                                      else [R.fmt_time(r["t"]), R.fmt_ratio(r["ratio"]),
                                            R.fmt_time(r["t_base"])]))
    rep.table("Hessian of Rosenbrock with dualdiff (HyperDual sweeps): ratio to numpy f",
              ["method", "n", "time", "× numpy f", "numpy f"], rows, raw,
              intro="Peers' Hessians are compared in arrays.py.")

    # ---- the MLP ------------------------------------------------------------------------
    mlp = MLP(1, hidden=(16, 16), a=1.0, random_state=0)
    X, y = sine_data(MLP_BATCH, random_state=0)
    p = mlp.params

    def article_spelling(np_like):
        """functions.mlp_loss (MLP.loss in the article's spelling) run by np_like, with this
        net's sizes and slope bound: the one loss every peer differentiates."""
        loss = P.rebind(functions.mlp_loss, np=np_like)
        return lambda params, X, y: loss(params, X, y, mlp.sizes, mlp.a)
    loss_np = article_spelling(np)
    base = (lambda: loss_np(p, X, y))
    ref = mlp.grad_backprop(X, y)
    ms = [T.Method("dualdiff grad_forward chunk=1", lambda: mlp.grad_forward(X, y, chunk=1),
                   numpy_based=True, kind="forward"),
          T.Method("dualdiff grad_forward default chunk", lambda: mlp.grad_forward(X, y),
                   numpy_based=True, kind="forward"),
          T.Method("dualdiff grad of functions.mlp_loss (peers' spelling), default chunk",
                   lambda: dd.grad(loss_np)(p, X, y), numpy_based=True, kind="forward"),
          T.Method("hand-derived backprop (mlp.grad_backprop)", lambda: mlp.grad_backprop(X, y),
                   numpy_based=True)]
    if ag is not None:
        g_ag = ag.grad(article_spelling(anp))
        ms.append(T.Method("autograd grad", lambda: g_ag(p, X, y), numpy_based=True))
    if torch is not None:
        l_t = article_spelling(torch)
        pt, Xt, yt = torch.from_numpy(p), torch.from_numpy(X), torch.from_numpy(y)
        g_t = torch.func.grad(l_t)

        def backward_mlp():
            q = pt.clone().requires_grad_(True)
            l_t(q, Xt, yt).backward()
            return q.grad
        own = ("torch f", lambda: l_t(pt, Xt, yt))
        ms += [T.Method("torch.func.grad", lambda: g_t(pt, Xt, yt), own=own),
               T.Method("torch .backward()", backward_mlp, own=own)]
    if jax is not None:
        l_j = article_spelling(jnp)
        pj, Xj, yj = jnp.asarray(p), jnp.asarray(X), jnp.asarray(y)
        gj, gjj, ljj = jax.grad(l_j), jax.jit(jax.grad(l_j)), jax.jit(l_j)
        ms.append(T.Method("jax.grad jit", lambda: gjj(pj, Xj, yj).block_until_ready(),
                           own=("jax f jit", lambda: ljj(pj, Xj, yj).block_until_ready())))
        if mode != "quick":       # its first call traces every op: seconds
            ms.append(T.Method(
                "jax.grad no jit", lambda: gj(pj, Xj, yj).block_until_ready(),
                own=("jax f no jit", lambda: l_j(pj, Xj, yj).block_until_ready())))
    mlp_hist = {}
    if fd is not None:
        def fd_mlp(Xb=X, yb=y):
            s = fd.DualArray(p)
            return fd.jac([loss_np(s, Xb, yb)], s)[0]
        ms.append(T.Method("fastdual (sparse multi-var Dual, 1 sweep)", fd_mlp,
                           kind="forward"))
        t0 = time.perf_counter()
        fd_mlp(X[:4], y[:4])                  # probe a 4-row batch to predict the cost
        mlp_hist[ms[-1].label] = (4, time.perf_counter() - t0)
    if nd is not None:
        def nd_mlp(Xb=X, yb=y):
            return nd.gradient(lambda q: loss_np(np.array(q), Xb, yb), list(p))[1]
        ms.append(T.Method(f"num_dual.gradient ({mlp.n_params}-vector duals, 1 sweep)", nd_mlp,
                           kind="forward"))
        t0 = time.perf_counter()
        nd_mlp(X[:4], y[:4])
        mlp_hist[ms[-1].label] = (4, time.perf_counter() - t0)
    print(f"\nMLP 1-16-16-1 ({mlp.n_params} params), batch {MLP_BATCH}:", flush=True)
    mrecs = T.run_case(bench, MLP_BATCH, base, ms, ref, mlp_hist, True, own_cache)
    for r in mrecs:
        r["size"] = f"{mlp.n_params} params, batch {MLP_BATCH}"
    headers, rows = R.detail_rows(mrecs, "case", with_mem=True)
    rep.table(f"Gradient of the reference MLP loss (1-16-16-1 sigmoid net, "
              f"{mlp.n_params} params, batch {MLP_BATCH}): ratio to numpy loss", headers,
              rows, mrecs,
              intro=f"numpy loss (functions.mlp_loss, the article's spelling) = "
                    f"{R.fmt_time(bench.single(base))}. The peers and the third dualdiff row "
                    "differentiate that function; mlp.grad_forward differentiates MLP.loss, the "
                    "same loss with dd.sigmoid as the activation. rel. error against the "
                    f"hand-derived backprop gradient. Forward mode needs {mlp.n_params} "
                    f"directions (ceil({mlp.n_params}/chunk) sweeps); reverse needs one.")

    # ---- Jacobians ----------------------------------------------------------------------
    print("\nJacobians f: R^n -> R^m, f(x) = tanh(W @ sin(x)):", flush=True)
    jrecs, jown = [], {}
    for n, m in JAC_SHAPES[mode]:
        x = rng.uniform(-1.5, 1.5, n)
        f, W = make_jac_fn(n, m)
        base = (lambda x=x, f=f: f(x))
        ref = jac_exact(W, x)
        ms = [T.Method("dualdiff jacobian chunk=1", lambda x=x, f=f: dd.jacobian(f, chunk=1)(x),
                     numpy_based=True, kind="forward"),
              T.Method("dualdiff jacobian default chunk", lambda x=x, f=f: dd.jacobian(f)(x),
                     numpy_based=True, kind="forward")]
        if ag is not None:
            fa, _ = make_jac_fn(n, m, anp)
            ja = ag.jacobian(fa)
            ms.append(T.Method("autograd jacobian (reverse)", lambda x=x, j=ja: j(x),
                             numpy_based=True))
        if torch is not None:
            ft, _ = make_jac_fn(n, m, torch)
            xt = torch.from_numpy(x)
            own = ("torch f", lambda xt=xt, ft=ft: ft(xt))
            jf, jr = torch.func.jacfwd(ft), torch.func.jacrev(ft)
            ms += [T.Method("torch.func.jacfwd", lambda xt=xt, j=jf: j(xt), own=own,
                          kind="forward"),
                   T.Method("torch.func.jacrev", lambda xt=xt, j=jr: j(xt), own=own)]
        if jax is not None:
            fj, _ = make_jac_fn(n, m, jnp)
            xj = jnp.asarray(x)
            jf, jr, fjj = jax.jit(jax.jacfwd(fj)), jax.jit(jax.jacrev(fj)), jax.jit(fj)
            own = ("jax f jit", lambda xj=xj, f=fjj: f(xj).block_until_ready())
            ms += [T.Method("jax.jacfwd jit", lambda xj=xj, j=jf: j(xj).block_until_ready(),
                          own=own, kind="forward"),
                   T.Method("jax.jacrev jit", lambda xj=xj, j=jr: j(xj).block_until_ready(),
                          own=own)]
        print(f" n={n}, m={m}: numpy f = {R.fmt_time(bench.single(base, key=('jb', n, m)))}",
              flush=True)
        jr_ = T.run_case(bench, (n, m), base, ms, ref, {}, max(n, m) >= MEM_MIN_N, jown)
        jrecs += jr_
    shapes = JAC_SHAPES[mode]
    labels = list(dict.fromkeys(r["method"] for r in jrecs))
    cells = {(r["method"], r["size"]): r for r in jrecs}
    rows = []
    for lab in labels:
        row = [lab]
        for s in shapes:
            r = cells.get((lab, s))
            row.append("" if r is None else "ERROR" if "error" in r else
                       "skipped" if "skipped" in r else R.fmt_ratio(r["ratio"]))
        rows.append(row)
    own_labels = list(dict.fromkeys(lab for lab, _ in jown))
    for lab in own_labels:
        rows.append([f"{lab} (own baseline)"] + [R.fmt_ratio(jown[(lab, s)]["ratio"])
                                                 if (lab, s) in jown else "" for s in shapes])
    rep.table("Jacobian of f(x) = tanh(W @ sin(x)), f: R^n -> R^m: ratio to numpy f",
              ["method"] + [f"n={n}, m={m}" for n, m in shapes], rows, jrecs,
              intro="Tall (n << m): forward mode needs few sweeps; wide (n >> m): reverse mode "
                    "needs few. Each cell: one full Jacobian / one numpy evaluation of f.")
    headers, rows = R.detail_rows(jrecs, "n×m", with_mem=True)
    rep.table("Jacobians, details", headers, rows, [],
              intro="× own f: torch/jax rows divided by their own f. Peak memory for "
                    f"max(n, m) >= {MEM_MIN_N}.")
    rep.note("Reverse-mode peers: autograd (numpy-based, like dualdiff), torch and jax "
             "(compiled kernels; jax jitted rows fuse the whole function). Forward-mode "
             "peers: fastdual (one sweep, each Dual carries a sparse dict of partials) and "
             "num-dual (one sweep, each dual carries a dense n-vector, Rust).")
    rep.finish()


if __name__ == "__main__":
    main()
