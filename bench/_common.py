"""Shared machinery of the bench scripts: modes, interleaved ratio timing, peak memory,
optional peers, machine info and the .md/.json reports.

Every script imports this module before numpy, torch or jax: importing it pins them all to
one thread, so a ratio compares algorithms, not core counts.
"""
import os

for _k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_k] = "1"
os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import argparse
import ctypes
import datetime
import gc
import importlib
import importlib.metadata
import json
import math
import os
import platform
import shlex
import statistics
import sys
import time
import timeit
import tracemalloc
import types
from pathlib import Path

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent

# ---------------------------------------------------------------------------------------
# modes
# ---------------------------------------------------------------------------------------

MODES = {
    # min_time: seconds per sample (autoranged loops); repeats: samples per method;
    # budget: a cell whose estimated cost exceeds it is skipped ("too slow")
    "quick": dict(min_time=0.002, repeats=3, budget=1.0),
    "default": dict(min_time=0.02, repeats=5, budget=10.0),
    "full": dict(min_time=0.05, repeats=7, budget=30.0),
}


def parse_args(description, argv=None):
    p = argparse.ArgumentParser(description=description)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true",
                   help="small sizes, short samples (< 20 s; used by the smoke test)")
    g.add_argument("--full", action="store_true", help="adds the large sizes (slow)")
    p.add_argument("--outdir", default=str(BENCH_DIR / "results"),
                   help="where to write <name>.md/.json (default: bench/results)")
    args = p.parse_args(argv)
    args.mode = "quick" if args.quick else "full" if args.full else "default"
    args.cfg = dict(MODES[args.mode])
    return args


def command_line():
    """The exact command that produced a results file."""
    try:
        script = os.path.relpath(sys.argv[0], REPO_DIR)
    except ValueError:
        script = sys.argv[0]
    return " ".join(["python", shlex.quote(script)] + [shlex.quote(a) for a in sys.argv[1:]])


# ---------------------------------------------------------------------------------------
# imports
# ---------------------------------------------------------------------------------------

def import_dualdiff(tries=20, wait=3.0):
    """dualdiff, retrying for a while: the in-place build may be being rebuilt."""
    for attempt in range(tries):
        try:
            import dualdiff
            import dualdiff.transforms  # noqa: F401
            return dualdiff
        except ImportError as exc:
            if attempt == tries - 1:
                raise
            print(f"dualdiff import failed ({exc}); retrying in {wait:.0f} s", flush=True)
            for name in [m for m in sys.modules if m == "dualdiff" or m.startswith("dualdiff.")]:
                del sys.modules[name]
            time.sleep(wait)


PEER_PIP = {
    "torch": "torch", "jax": "jax jaxlib", "autograd": "autograd", "fastdual": "fastdual",
    "num_dual": "num-dual", "matplotlib": "matplotlib",
}


def optional_import(name, why="its rows"):
    """Import an optional peer, or print ONE line saying it is skipped and return None."""
    try:
        mod = importlib.import_module(name)
    except Exception as exc:  # ImportError, or a broken install
        kind = ("not installed" if isinstance(exc, ImportError)
                else f"failed to import ({exc!r:.80})")
        print(f"{name}: {kind}; skipping {why} (pip install {PEER_PIP.get(name, name)})")
        return None
    if name == "torch":
        mod.set_num_threads(1)
        try:
            mod.set_num_interop_threads(1)
        except RuntimeError:
            pass
    if name == "jax":
        mod.config.update("jax_enable_x64", True)
    return mod


def rebind(fn, **names):
    """fn with some of its global names replaced, e.g. rebind(rosenbrock, np=jax.numpy):
    the battery's own source, run by a peer's numpy."""
    g = dict(fn.__globals__)
    g.update(names)
    new = types.FunctionType(fn.__code__, g, fn.__name__, fn.__defaults__, fn.__closure__)
    new.__kwdefaults__ = fn.__kwdefaults__
    return new


# ---------------------------------------------------------------------------------------
# timing
# ---------------------------------------------------------------------------------------

def _as_timer(fn):
    if isinstance(fn, timeit.Timer):
        return fn
    if isinstance(fn, tuple):            # (stmt, setup, globals)
        stmt, setup, g = fn
        return timeit.Timer(stmt, setup, globals=g)
    return timeit.Timer(fn)


class Bench:
    """Interleaved ratio timing.

    pair(base, fn): autorange each side so that one sample takes >= min_time, then take
    `repeats` rounds, each timing base then fn. Reports the median time per call of each
    and the median over rounds of the per-round ratio fn/base, so a slow spell of the
    machine hits both sides of a ratio alike.
    """

    def __init__(self, cfg):
        self.min_time = cfg["min_time"]
        self.repeats = cfg["repeats"]
        self.budget = cfg["budget"]
        self._loops = {}

    def _autorange(self, key, timer):
        if key in self._loops:
            return self._loops[key]
        n = 1
        while True:
            t = timer.timeit(n)
            if t >= self.min_time or n >= 1 << 30:
                break
            n = max(n * 2, int(n * self.min_time / max(t, 1e-9) * 1.2))
        per = t / n
        self._loops[key] = (n, per)
        return n, per

    def single(self, fn, key=None):
        """Median seconds per call of fn alone (for the baselines)."""
        timer = _as_timer(fn)
        n, _ = self._autorange(key if key is not None else object(), timer)
        return statistics.median(timer.timeit(n) / n for _ in range(self.repeats))

    def pair(self, base, fn, est=None, base_key=None):
        """dict(t, t_base, ratio, samples) or dict(skipped=reason).

        est: estimated seconds per call of fn (from a smaller size); a cell whose single call
        is estimated (or measured) to exceed the budget is skipped; a slow one gets fewer
        samples so that the cell stays within the budget."""
        if est is not None and est > self.budget:
            return dict(skipped=f"too slow (est. {fmt_time(est)}/call)")
        bt, ft = _as_timer(base), _as_timer(fn)
        nb, _ = self._autorange(base_key, bt) if base_key is not None else self._autorange(
            object(), bt)
        t0 = time.perf_counter()
        ft.timeit(1)                                   # warm-up (jit compile, caches)
        first = time.perf_counter() - t0
        repeats, nf = self.repeats, None
        if first * repeats > self.budget:
            if first > 5 * self.budget:
                return dict(skipped=f"too slow ({fmt_time(first)}/call)", t=first)
            t0 = time.perf_counter()
            ft.timeit(1)                               # the first call may have compiled
            first = min(first, time.perf_counter() - t0)
            if first > self.budget:
                return dict(skipped=f"too slow ({fmt_time(first)}/call)", t=first)
            if first * repeats > self.budget:
                nf, repeats = 1, max(1, min(repeats, int(self.budget / first)))
        if nf is None:
            nf, _ = self._autorange(object(), ft)
        tb, tf, ratios = [], [], []
        for _ in range(repeats):
            b = bt.timeit(nb) / nb
            f = ft.timeit(nf) / nf
            tb.append(b)
            tf.append(f)
            ratios.append(f / b)
        return dict(t=statistics.median(tf), t_base=statistics.median(tb),
                    ratio=statistics.median(ratios), samples=repeats, loops=nf)


def scaled_estimate(prev, n_prev, n, power):
    """Per-call time at size n predicted from size n_prev with cost ~ n**power."""
    if prev is None or n_prev is None:
        return None
    return prev * (n / n_prev) ** power


# ---------------------------------------------------------------------------------------
# memory
# ---------------------------------------------------------------------------------------

try:
    _libc = ctypes.CDLL("libc.so.6")
except OSError:                                    # pragma: no cover - non-glibc
    _libc = None


def _status_kib(key):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def _reset_hwm():
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def peak_memory(fn, numpy_based):
    """Extra memory one call of fn needs, in bytes: (rss, traced).

    rss: the rise of the process's resident high-water mark (VmHWM, reset just before the
    call, after returning freed heap to the OS with malloc_trim) over the resident size
    before it; sees every allocator (torch, XLA, Rust). None where the kernel cannot reset it.
    traced: tracemalloc's peak, numpy-based methods only (numpy reports its buffers to it);
    None otherwise."""
    fn()                                           # warm: compile caches, lazy imports
    gc.collect()
    if _libc is not None:
        _libc.malloc_trim(0)
    rss = None
    if _reset_hwm():
        before = _status_kib("VmRSS")
        fn()
        hwm = _status_kib("VmHWM")
        if before is not None and hwm is not None:
            rss = max(0, hwm - before) * 1024
    traced = None
    if numpy_based:
        gc.collect()
        tracemalloc.start()
        try:
            fn()
            traced = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    return rss, traced


# ---------------------------------------------------------------------------------------
# formatting
# ---------------------------------------------------------------------------------------

def fmt_time(t):
    if t is None:
        return "-"
    if t < 1e-6:
        return f"{t * 1e9:.0f} ns"
    if t < 1e-3:
        return f"{t * 1e6:.3g} µs"
    if t < 1:
        return f"{t * 1e3:.3g} ms"
    return f"{t:.3g} s"


def fmt_ratio(r):
    if r is None:
        return "-"
    if r >= 100:
        return f"{r:,.0f}×"
    return f"{r:.3g}×"


def fmt_bytes(b):
    if b is None:
        return "-"
    if b < 1 << 20:
        return f"{b / 1024:.0f} KiB"
    return f"{b / (1 << 20):.1f} MiB"


def fmt_err(e):
    if e is None:
        return "-"
    if e != e:
        return "nan"
    if e == 0:
        return "0"
    return f"{e:.1e}"


# ---------------------------------------------------------------------------------------
# machine info and reports
# ---------------------------------------------------------------------------------------

def _version(dist):
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _blas():
    try:
        cfg = np.__config__.CONFIG["Build Dependencies"]["blas"]
        return f"{cfg.get('name')} {cfg.get('version')}"
    except Exception:
        return None


def machine_info(dd):
    peers = {}
    for dist in ("torch", "jax", "jaxlib", "autograd", "fastdual", "num-dual", "matplotlib"):
        v = _version(dist)
        if v is not None:
            peers[dist] = v
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numpy_blas": _blas(),
        "dualdiff": getattr(dd, "__version__", None),
        "dualdiff_path": str(Path(dd.__file__).resolve().parent),
        "peers": peers,
        "threads": {k: os.environ.get(k) for k in
                    ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "XLA_FLAGS",
                     "OPENBLAS_CORETYPE")},
    }


def _md_table(headers, rows):
    out = ["| " + " | ".join(headers) + " |",
           "|" + "|".join("---" if i == 0 else "--:" for i in range(len(headers))) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def _text_table(headers, rows):
    cols = list(zip(*([headers] + [[str(c) for c in r] for r in rows])))
    widths = [max(len(c) for c in col) for col in cols]
    lines = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w)
                       for i, (h, w) in enumerate(zip(headers, widths)))]
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        lines.append("  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                               for i, (c, w) in enumerate(zip(r, widths))))
    return "\n".join(lines)


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.floating, np.integer)):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    return x


class Report:
    def __init__(self, name, title, args, dd):
        self.name, self.title, self.args = name, title, args
        self.meta = machine_info(dd)
        self.meta["command"] = command_line()
        self.meta["mode"] = args.mode
        self.meta["timing"] = dict(args.cfg)
        self.started = time.perf_counter()
        self.sections = []          # (title, intro, headers, rows(formatted), raw records)
        self.notes = []
        self.targets = []
        self.files = []
        print(f"# {title}  [{args.mode} mode]")
        print(f"# {self.meta['cpu']}, {self.meta['cores']} cores, Python {self.meta['python']}, "
              f"numpy {self.meta['numpy']}, dualdiff {self.meta['dualdiff']}; peers: "
              + (", ".join(f"{k} {v}" for k, v in self.meta["peers"].items()) or "none"),
              flush=True)

    def note(self, text):
        print(text, flush=True)
        self.notes.append(text)

    def table(self, title, headers, rows, raw, intro=None):
        self.sections.append((title, intro, headers, rows, raw))
        print(f"\n## {title}")
        if intro:
            print(intro)
        print(_text_table(headers, rows), flush=True)

    def target(self, what, limit, measured, met, detail=""):
        """measured: formatted value; met: True/False/None (None = could not measure)."""
        self.targets.append(dict(target=what, measured=measured, limit=limit,
                                 met=met, detail=detail))

    def add_file(self, path):
        self.files.append(str(path))

    def finish(self):
        outdir = Path(self.args.outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        self.meta["wall_time_s"] = round(time.perf_counter() - self.started, 1)
        if self.targets:
            headers = ["target", "limit", "measured", "status"]
            rows = [[t["target"], t["limit"], t["measured"],
                     "n/a" if t["met"] is None else "met" if t["met"] else "MISSED"]
                    for t in self.targets]
            print("\n## targets")
            print(_text_table(headers, rows))
        md = [f"# {self.title}", "",
              f"`{self.meta['command']}` — {self.meta['mode']} mode, {self.meta['date']}, "
              f"{self.meta['wall_time_s']} s wall", "",
              f"Machine: {self.meta['cpu']}, {self.meta['cores']} cores, load average at start "
              f"{self.meta['load_avg_at_start'][0]}; {self.meta['platform']}; Python "
              f"{self.meta['python']}, numpy {self.meta['numpy']} ({self.meta['numpy_blas']}), "
              f"dualdiff {self.meta['dualdiff']}; peers: "
              + (", ".join(f"{k} {v}" for k, v in self.meta["peers"].items()) or "none")
              + ". One thread everywhere.", "",
              f"Timing: each cell is the median of {self.meta['timing']['repeats']} samples of "
              f">= {self.meta['timing']['min_time'] * 1e3:g} ms, interleaved with its baseline; "
              "ratios are medians of per-round ratios.", ""]
        if self.targets:
            md += ["## Targets", "", _md_table(
                ["target", "limit", "measured", "status"],
                [[t["target"], t["limit"], t["measured"],
                  "n/a" if t["met"] is None else "met" if t["met"] else "**MISSED**"]
                 for t in self.targets]), ""]
        for title, intro, headers, rows, _ in self.sections:
            md += [f"## {title}", ""]
            if intro:
                md += [intro, ""]
            md += [_md_table(headers, rows), ""]
        if self.notes:
            md += ["## Notes", ""] + [f"- {n}" for n in self.notes] + [""]
        for f in self.files:
            md += [f"![{Path(f).stem}]({Path(f).name})", ""]
        (outdir / f"{self.name}.md").write_text("\n".join(md))
        data = dict(meta=self.meta, targets=self.targets, notes=self.notes, files=self.files,
                    sections=[dict(title=t, intro=i, headers=h, rows=r, raw=raw)
                              for t, i, h, r, raw in self.sections])
        (outdir / f"{self.name}.json").write_text(json.dumps(_jsonable(data), indent=1))
        print(f"\nwrote {outdir / (self.name + '.md')} and .json "
              f"({self.meta['wall_time_s']} s)")


# ---------------------------------------------------------------------------------------
# method rows shared by forward_vs_reverse.py and arrays.py
# ---------------------------------------------------------------------------------------

class Method:
    """One row: fn() -> derivative (numpy-convertible); own: the peer's own f (or None);
    power: cost ~ size**power, to predict the next size and skip what would be too slow."""

    def __init__(self, label, fn, own=None, power=1, numpy_based=False, kind="reverse"):
        self.label, self.fn, self.own = label, fn, own
        self.power, self.numpy_based, self.kind = power, numpy_based, kind


def to_numpy(v):
    if hasattr(v, "detach"):
        return v.detach().numpy()
    return np.asarray(v, dtype=np.float64)


WRONG = 1e-8        # a relative error above this is flagged as a wrong number


def run_case(bench, size, base, methods, ref, history, measure_mem, own_cache):
    """Time each method against plain-numpy f `base` at one size; returns raw records."""
    recs = []
    for m in methods:
        prev = history.get(m.label)
        est = scaled_estimate(prev[1], prev[0], size, m.power) if prev else None
        if prev and prev[1] is None:
            est = float("inf")                 # skipped at a smaller size: skip again
        try:
            r = bench.pair(base, m.fn, est=est, base_key=("base", size))
        except Exception as exc:
            rec = dict(method=m.label, size=size, error=f"{type(exc).__name__}: {exc}")
            print(f"  {m.label} @ {size}: ERROR {rec['error'][:200]}", flush=True)
            recs.append(rec)
            continue
        rec = dict(method=m.label, kind=m.kind, size=size, **r)
        if "skipped" in r:
            history[m.label] = (size, None)    # and at every larger size
            recs.append(rec)
            print(f"  {m.label} @ {size}: skipped, {r['skipped']}", flush=True)
            continue
        history[m.label] = (size, r["t"])
        if ref is not None:
            try:
                got = to_numpy(m.fn())
                scale = max(np.max(np.abs(ref)), 1e-300)
                rec["rel_err"] = float(np.max(np.abs(got.reshape(ref.shape) - ref)) / scale)
            except Exception as exc:
                rec["rel_err"] = float("nan")
                rec["check_error"] = f"{type(exc).__name__}: {exc}"
            if not rec["rel_err"] <= WRONG:
                print(f"  WARNING: {m.label} @ {size}: relative error {rec['rel_err']:.3g} "
                      f"{rec.get('check_error', '')}", flush=True)
        if m.own is not None:
            key = (m.own[0], size)
            if key not in own_cache:
                own_cache[key] = bench.pair(base, m.own[1], base_key=("base", size))
            rec["own_label"] = m.own[0]
            rec["ratio_own"] = r["ratio"] / own_cache[key]["ratio"]
        if measure_mem and r["t"] * 3 < bench.budget:
            rss, traced = peak_memory(m.fn, m.numpy_based)
            rec["mem_rss"], rec["mem_traced"] = rss, traced
        recs.append(rec)
        print(f"  {m.label} @ {size}: {fmt_time(r['t'])} = {fmt_ratio(r['ratio'])} f"
              + (f", {fmt_ratio(rec['ratio_own'])} own f" if "ratio_own" in rec else ""),
              flush=True)
    return recs


def detail_rows(recs, size_label, with_mem):
    rows = []
    for r in recs:
        size = r["size"] if not isinstance(r["size"], tuple) else "×".join(map(str, r["size"]))
        if "error" in r:
            row = [r["method"], size, "ERROR", r["error"][:60], "", ""]
        elif "skipped" in r:
            row = [r["method"], size, f"skipped: {r['skipped']}", "", "", ""]
        else:
            row = [r["method"], size, fmt_time(r["t"]), fmt_ratio(r["ratio"]),
                   fmt_ratio(r.get("ratio_own")) if "ratio_own" in r else "",
                   fmt_err(r.get("rel_err")) + ("" if r.get("rel_err", 0) <= WRONG
                                                else " **WRONG**")]
        if with_mem:
            row += [fmt_bytes(r.get("mem_rss")), fmt_bytes(r.get("mem_traced"))]
        rows.append(row)
    headers = ["method", size_label, "time", "× numpy f", "× own f", "rel. error"]
    if with_mem:
        headers += ["peak RSS Δ", "tracemalloc peak"]
    return headers, rows


def pivot(recs, sizes, base_times):
    """methods × sizes matrix of the ratio to numpy f."""
    labels = list(dict.fromkeys(r["method"] for r in recs))
    cells = {(r["method"], r["size"]): r for r in recs}
    rows = [["numpy f (time)"] + [fmt_time(base_times.get(s)) for s in sizes]]
    for lab in labels:
        row = [lab]
        for s in sizes:
            r = cells.get((lab, s))
            row.append("" if r is None else "ERROR" if "error" in r else
                       "skipped" if "skipped" in r else fmt_ratio(r["ratio"]))
        rows.append(row)
    return rows
