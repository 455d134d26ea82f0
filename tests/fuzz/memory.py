"""Memory probes: does the resident set of a process grow without bound as it keeps
differentiating?  Two kinds of growth are looked for:

  * a leak: the same call repeated many times (after a warm-up) keeps growing;
  * an unbounded cache: calls of the same kind on ever new sizes or shapes keep growing
    (caches keyed by size or shape that are never trimmed).

Each probe runs in a fresh worker process with only the transform calls in its loop (the
worker's "bare" mode), and reads the RSS from /proc.
"""
from .program import hand_case as case


def _same(name, call, n, body, ret, repeat):
    x = f"np.linspace(-1.0, 1.5, {n})" if n else "0.7"
    return ("leak", name, [case(name, body, ret, call, [x])], repeat)


def probes(quick=False):
    """(kind, name, cases, repeat) of every probe; quick: fewer calls (the CI test)."""
    q = 4 if quick else 1
    return [
        _same("grad n=50", {"name": "grad", "chunk": None, "argnums": 0}, 50,
              ["np.sin(x) * x", "np.cumsum(v1)"], "np.sum(v2 * v2)", 3000 // q),
        _same("grad n=300 chunked", {"name": "grad", "chunk": None, "argnums": 0}, 300,
              ["np.sin(x) * x", "x[3:9]"], "np.sum(v1) + np.sum(v2 * v2)", 300 // q),
        _same("jacobian n=40", {"name": "jacobian", "chunk": 7, "argnums": 0}, 40,
              ["np.exp(x) @ np.ones((40, 3))"], "v1", 2000 // q),
        _same("hessian n=12", {"name": "hessian", "chunk": None, "argnums": 0}, 12,
              ["np.sin(x) * x"], "np.sum(v1) ** 2", 2000 // q),
        _same("hvp n=60", {"name": "hvp", "chunk": 7, "argnums": 0}, 60,
              ["np.sin(x) * x"], "np.sum(v1 * v1)", 500 // q),
        _same("derivative order 2", {"name": "derivative", "order": 2, "argnum": 0}, 0,
              ["np.sin(x) * x", "np.array([v1, x])"], "np.sum(v2)", 20000 // q),
        ("cache", "jacobian, chunk = n for n = 1..512",
         [case(f"jac{n}", ["x * 2.0"], "v1", {"name": "jacobian", "chunk": n, "argnums": 0},
               [f"np.linspace(0.0, 1.0, {n})"]) for n in range(1, 513, q)], 1),
        # the acceptance figure: under 1 MiB of growth over 10^4 calls at 500 input sizes
        ("cycle", f"grad at {500 // q} sizes, {10000 // q // q} calls",
         [case(f"cyc{r}-{n}", ["np.sin(x) * x"], "np.sum(v1)",
               {"name": "grad", "chunk": None, "argnums": 0}, [f"np.linspace(-1.0, 1.5, {n})"])
          for r in range(20 // q) for n in range(1, 501, q)], 1),
        ("cache", "hessian of distinct input shapes",
         [case(f"hess{d}-{n}", ["x * x"], "np.sum(v1)", {"name": "hessian", "chunk": None,
                                                          "argnums": 0},
               [f"np.ones({(1,) * d + (n,)})"]) for d in range(30 // q) for n in range(1, 33)], 1),
    ]


def probe_all(quick=False):
    """Run every probe; returns (report lines, names of the probes that grew)."""
    from .run import Batch
    lines, bad = [], []
    for kind, name, cases, repeat in probes(quick):
        b = Batch(cases, 600.0, repeat=repeat, bare=True)
        if b.died or b.timed_out:
            lines.append(f"  {name}: the worker {'timed out' if b.timed_out else 'died'}")
            bad.append(name)
            continue
        msgs = [b.results[c["id"]] for c in cases]
        errors = [m["result"]["detail"] for m in msgs if m["result"]["outcome"] != "ok"]
        if errors:
            lines.append(f"  {name}: the call raised {errors[0]}")
            bad.append(name)
            continue
        if kind == "leak":
            first, last = msgs[0]["samples"]
            grew = last - first
            verdict = grew > max(8 << 10, first // 20)
            lines.append(f"  {name}: RSS {first / 1024:.0f} -> {last / 1024:.0f} MiB over the "
                         f"last {repeat - repeat // 4} of {repeat} calls"
                         + ("  <-- grows (leak)" if verdict else ""))
        elif kind == "cycle":
            # from the end of the first pass over the sizes (every cache and pool warm) on
            per = len({c["args"]["x"] for c in cases})
            first, last = msgs[per - 1]["rss_kb"], msgs[-1]["rss_kb"]
            grew = last - first
            verdict = grew > 1 << 10
            lines.append(f"  {name}: RSS {first / 1024:.1f} -> {last / 1024:.1f} MiB from the "
                         f"end of the first pass to the last call" +
                         ("  <-- grows" if verdict else ""))
        else:
            first, last = msgs[len(msgs) // 10]["rss_kb"], msgs[-1]["rss_kb"]
            grew = last - first
            verdict = grew > (16 << 10 if quick else 32 << 10)
            lines.append(f"  {name}: RSS {first / 1024:.0f} -> {last / 1024:.0f} MiB from the "
                         f"10th percentile call to the last" +
                         ("  <-- grows (unbounded cache)" if verdict else ""))
        if verdict:
            bad.append(name)
    return lines, bad
