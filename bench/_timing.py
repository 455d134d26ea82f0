"""How the bench measures: the run modes (--quick / default / --full), interleaved ratio
timing against a baseline with a time budget per cell, peak memory of one call, and the
loop that times and checks a list of methods at one problem size."""
import _peers  # noqa: F401  (first: it pins every library to one thread)

import argparse  # noqa: E402
import ctypes  # noqa: E402
import gc  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import timeit  # noqa: E402
import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402

from _report import BENCH_DIR, WRONG, fmt_ratio, fmt_time  # noqa: E402

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
    """The command line every bench script shares: the mode and the output directory."""
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


# ---------------------------------------------------------------------------------------
# timing
# ---------------------------------------------------------------------------------------

def as_timer(fn):
    """A timeit.Timer from a callable, a Timer, or a (stmt, setup, globals) tuple."""
    if isinstance(fn, timeit.Timer):
        return fn
    if isinstance(fn, tuple):
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
        timer = as_timer(fn)
        n, _ = self._autorange(key if key is not None else object(), timer)
        return statistics.median(timer.timeit(n) / n for _ in range(self.repeats))

    def pair(self, base, fn, est=None, base_key=None):
        """dict(t, t_base, ratio, samples) or dict(skipped=reason).

        est: estimated seconds per call of fn (from a smaller size); a cell whose single call
        is estimated (or measured) to exceed the budget is skipped; a slow one gets fewer
        samples so that the cell stays within the budget."""
        if est is not None and est > self.budget:
            return dict(skipped=f"too slow (est. {fmt_time(est)}/call)")
        bt, ft = as_timer(base), as_timer(fn)
        nb, _ = self._autorange(base_key if base_key is not None else object(), bt)
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
# method rows shared by forward_vs_reverse.py and arrays.py
# ---------------------------------------------------------------------------------------

class Method:
    """One row: fn() -> derivative (numpy-convertible); own: the peer's own f (or None);
    power: cost ~ size**power, to predict the next size and skip what would be too slow."""

    def __init__(self, label, fn, own=None, power=1, numpy_based=False, kind="reverse"):
        self.label, self.fn, self.own = label, fn, own
        self.power, self.numpy_based, self.kind = power, numpy_based, kind


def run_case(bench, size, base, methods, ref, history, measure_mem, own_cache):
    """Time each method against plain-numpy f `base` at one size, check its result against
    `ref` (None: no check); returns raw records for _report.detail_rows and pivot."""
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
                got = _peers.to_numpy(m.fn())
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
