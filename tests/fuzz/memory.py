"""Memory probes: does the resident set of a process grow without bound as it keeps
differentiating?  Two kinds of growth are looked for:

  * a leak: the same call repeated many times (after a warm-up) keeps growing;
  * an unbounded cache: calls of the same kind on ever new sizes or shapes keep growing
    (caches keyed by size or shape that are never trimmed).

Each probe runs in a fresh worker process with only the transform calls in its loop (the
worker's "bare" mode), and reads the RSS from /proc.
"""
from .program import SCALAR_OUT


def case(cid, body, ret, call, args, params=("x",)):
    """A hand-written case in the generator's format."""
    if call["name"] == "hvp":
        call = dict(call, tangents={"x": args[0].replace("-1.0", "0.5")})
    return {"id": cid, "seed": 0, "index": 0, "transform": call["name"], "call": call,
            "params": list(params), "diff": [0], "args": dict(zip(params, args)), "inputs": {},
            "consts": [], "ret": ret, "expect": None, "shape": [],
            "body": [{"target": f"v{i + 1}", "lines": ["{t} = " + e], "kink": None, "op": "",
                      "names": [], "extra": False, "promised": True, "exact": True,
                      "chunk_exact": True, "numpy_error": None} for i, e in enumerate(body)],
            "flags": {"exact": True, "chunk_exact": True, "handmade": False, "special": False,
                      "invalid": False, "lowprec": None}}


def _same(name, call, n, body, ret, repeat):
    x = f"np.linspace(-1.0, 1.5, {n})" if n else "0.7"
    return ("leak", name, [case(name, body, ret, call, [x])], repeat)


PROBES = [
    _same("grad n=50", {"name": "grad", "chunk": None, "argnums": 0}, 50,
          ["np.sin(x) * x", "np.cumsum(v1)"], "np.sum(v2 * v2)", 3000),
    _same("grad n=300 chunked", {"name": "grad", "chunk": None, "argnums": 0}, 300,
          ["np.sin(x) * x", "x[3:9]"], "np.sum(v1) + np.sum(v2 * v2)", 300),
    _same("jacobian n=40", {"name": "jacobian", "chunk": 7, "argnums": 0}, 40,
          ["np.exp(x) @ np.ones((40, 3))"], "v1", 2000),
    _same("hessian n=12", {"name": "hessian", "chunk": None, "argnums": 0}, 12,
          ["np.sin(x) * x"], "np.sum(v1) ** 2", 2000),
    _same("hvp n=60", {"name": "hvp", "chunk": 7, "argnums": 0}, 60,
          ["np.sin(x) * x"], "np.sum(v1 * v1)", 500),
    _same("derivative order 2", {"name": "derivative", "order": 2, "argnum": 0}, 0,
          ["np.sin(x) * x", "np.array([v1, x])"], "np.sum(v2)", 20000),
    ("cache", "jacobian, chunk = n for n = 1..512",
     [case(f"jac{n}", ["x * 2.0"], "v1", {"name": "jacobian", "chunk": n, "argnums": 0},
           [f"np.linspace(0.0, 1.0, {n})"]) for n in range(1, 513)], 1),
    ("cache", "hessian of 960 distinct input shapes",
     [case(f"hess{d}-{n}", ["x * x"], "np.sum(v1)", {"name": "hessian", "chunk": None,
                                                      "argnums": 0},
           [f"np.ones({(1,) * d + (n,)})"]) for d in range(30) for n in range(1, 33)], 1),
]


def probe_all(budget=None):
    """Run every probe; returns the report lines (and the verdicts)."""
    from .run import Batch
    lines, bad = [], []
    for kind, name, cases, repeat in PROBES:
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
        else:
            first, last = msgs[len(msgs) // 10]["rss_kb"], msgs[-1]["rss_kb"]
            grew = last - first
            verdict = grew > 32 << 10
            lines.append(f"  {name}: RSS {first / 1024:.0f} -> {last / 1024:.0f} MiB from the "
                         f"10th percentile call to the last" +
                         ("  <-- grows (unbounded cache)" if verdict else ""))
        if verdict:
            bad.append(name)
    return lines, bad
