#!/usr/bin/env python
"""Sweeps on an executor (issue 16): what `executor=` buys on an expensive model and what it
costs on a cheap function.

  * Expensive: the Jacobian of the 64-zone heat model of examples/calibration_dask.py, sized
    so that one sweep of the chunk used costs about 50 ms here. For P = 1, 2, 4, ... worker
    processes (up to the core count) the same chunk runs serially and on a
    ProcessPoolExecutor(P), then on a Dask LocalCluster of P workers: speedup and parallel
    efficiency (speedup / P); the results are checked bit for bit against the serial call.
  * The default split: dd.jacobian(f, executor=pool) with chunk=None (one sweep per worker)
    against dd.jacobian(f), the serial default.
  * Cheap: Rosenbrock n = 100 (grad, hessian) with and without an executor: the cost model
    must keep such sweeps here (the call may be at most 10% slower than serial).

    PYTHONPATH=. python bench/parallel.py [--quick | --full] [--outdir DIR]

The serial baseline is the faster of the plain serial call and the same call under dualdiff's
block pool (_arrays.pooled): the workers always run their sweeps under the pool, and
transforms._sweeps turns it on only for large inputs, so a model whose temporaries are larger
than its input can page-fault serially; the better of the two keeps that out of the speedups.
Ratios are medians of interleaved rounds (bench/_timing.py); one thread per process.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _peers as P  # noqa: E402  (first: it pins every library to one thread)
import _report as R  # noqa: E402
import _timing as T  # noqa: E402

import concurrent.futures as cf  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import dualdiff as dd  # noqa: E402
from dualdiff import _arrays, _executor  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from calibration_dask import make_model  # noqa: E402
from functions import rosenbrock  # noqa: E402

SWEEP_SECONDS = {"quick": 0.01, "default": 0.05, "full": 0.05}
ZONES = {"quick": 16, "default": 64, "full": 64}
CELLS = 16
TARGET_P = 2                 # the target: 2 local workers
EFFICIENCY_P = 16            # the goal at 16 cores


def worker_counts():
    """1, 2, 4, ... up to the cores (at least 1 and 2)."""
    cores = os.cpu_count() or 1
    counts, p = [], 1
    while p <= max(2, cores):
        counts.append(p)
        p *= 2
    return counts


def sized_model(zones, chunk, seconds):
    """The heat model with the number of time steps that makes one sweep of `chunk`
    directions cost about `seconds` (measured here, under the block pool)."""
    probe_steps = 50
    sim = make_model(zones, CELLS, probe_steps, 10)
    x = np.zeros(zones)
    J = dd.jacobian(sim, chunk=chunk)
    with _arrays.pooled():
        J(x)
        t0 = time.perf_counter()
        J(x)
        per_sweep = (time.perf_counter() - t0) / math.ceil(zones / chunk)
    steps = int(min(20000, max(20, round(probe_steps * seconds / per_sweep))))
    every = max(1, steps // 10)
    return make_model(zones, CELLS, steps - steps % every, every), steps - steps % every


def pooled(fn):
    def run():
        with _arrays.pooled():
            return fn()
    return run


def serial_baseline(bench, J, x):
    """(the faster serial callable, its label, time as is, time pooled)."""
    plain = lambda: J(x)  # noqa: E731
    inpool = pooled(plain)
    t_plain, t_pool = bench.single(plain), bench.single(inpool)
    return (plain, "as is", t_plain, t_pool) if t_plain <= t_pool else \
        (inpool, "block pool", t_plain, t_pool)


def worker_pids(ex):
    """The worker processes of a ProcessPoolExecutor or a Dask executor."""
    procs = getattr(ex, "_processes", None)
    if procs is not None:
        return list(procs)
    client = getattr(ex, "_client", None)
    if client is not None:
        return list(client.run(os.getpid).values())
    return []


def cpu_per_call(fn, pids, calls=3):
    """CPU seconds one call takes, summed over this process and the given ones (None without
    psutil): a figure a busy machine does not change, unlike the wall-clock time."""
    psutil = P.optional_import("psutil", "the CPU-time columns") if pids else None
    if pids and psutil is None:
        return None
    procs = [psutil.Process(pid) for pid in pids] if pids else []

    def total():
        own = time.process_time()
        return own + sum(sum(p.cpu_times()[:2]) for p in procs)
    fn()
    before = total()
    for _ in range(calls):
        fn()
    return (total() - before) / calls


def speedup_cells(r, t_plain):
    """Speedup over the faster serial call (the interleaved ratio) and over the plain serial
    call as a user runs it today (median times)."""
    return 1 / r["ratio"], t_plain / r["t"]


def scaling_rows(rep, bench, make_executor, label, sim, x, chunk, counts, raw):
    """One row per worker count: the same chunk serially and on the executor."""
    rows = []
    J_serial = dd.jacobian(sim, chunk=chunk)
    base, base_label, t_plain, t_pool = serial_baseline(bench, J_serial, x)
    want = J_serial(x)
    for p in counts:
        with make_executor(p) as ex:
            J = dd.jacobian(sim, chunk=chunk, executor=ex)
            J(x)                                  # warm: workers start and import dualdiff
            got = J(x)
            r = bench.pair(base, lambda: J(x))
            same = bool(np.array_equal(got, want))
            mode = J.last_call["mode"]
            cpu_par = cpu_per_call(lambda: J(x), worker_pids(ex))
        cpu_ser = cpu_per_call(base, [])
        work = cpu_ser / cpu_par if cpu_par else None
        speedup, vs_plain = speedup_cells(r, t_plain)
        raw.append(dict(executor=label, workers=p, chunk=chunk, sweeps=math.ceil(x.size / chunk),
                        mode=mode, t_serial=r["t_base"], t_serial_plain=t_plain,
                        t_serial_pooled=t_pool, baseline=base_label, t_parallel=r["t"],
                        speedup=speedup, speedup_vs_plain=vs_plain, efficiency=speedup / p,
                        cpu_serial=cpu_ser, cpu_parallel=cpu_par, work_efficiency=work,
                        identical=same))
        rows.append([label, p, chunk, math.ceil(x.size / chunk), mode, R.fmt_time(t_plain),
                     R.fmt_time(t_pool), R.fmt_time(r["t"]), R.fmt_ratio(speedup),
                     f"{speedup / p:.0%}", R.fmt_ratio(vs_plain), R.fmt_time(cpu_ser),
                     R.fmt_time(cpu_par), "-" if work is None else f"{work:.0%}",
                     "yes" if same else "**NO**"])
        print(f"  {label}, P = {p}: {R.fmt_ratio(speedup)} ({mode})", flush=True)
    return rows


def dask_cluster(p):
    import contextlib
    from distributed import Client, LocalCluster

    @contextlib.contextmanager
    def cm():
        cluster = LocalCluster(n_workers=p, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
        try:
            yield client.get_executor()
        finally:
            client.close()
            cluster.close()
    return cm()


def main():
    args = T.parse_args(__doc__.splitlines()[1])
    mode = args.mode
    rep = R.Report("parallel", "Sweeps on an executor: process pools and Dask", args, dd)
    bench = T.Bench(args.cfg)
    counts = worker_counts()
    zones = ZONES[mode]
    chunk = math.ceil(zones / max(counts))         # one sweep per worker at the largest P
    sim, steps = sized_model(zones, chunk, SWEEP_SECONDS[mode])
    x = np.linspace(-1, 1, zones)
    J_serial = dd.jacobian(sim, chunk=chunk)
    t_sweep = bench.single(pooled(lambda: J_serial(x))) / math.ceil(zones / chunk)
    t_eval = bench.single(lambda: sim(x))
    rep.note(f"model: {zones} zones x {CELLS} cells, {steps} Euler steps; one evaluation "
             f"{R.fmt_time(t_eval)}, one sweep of {chunk} directions {R.fmt_time(t_sweep)}")

    # ---- scaling: the same chunk on 1, 2, 4, ... workers --------------------------------
    raw = []
    rows = scaling_rows(rep, bench, lambda p: cf.ProcessPoolExecutor(p), "process pool", sim,
                        x, chunk, counts, raw)
    dask = None
    if mode != "quick":
        dask = P.optional_import("distributed", "the Dask rows")
    if dask is not None:
        rows += scaling_rows(rep, bench, dask_cluster, "Dask LocalCluster", sim, x, chunk,
                             counts, raw)
    elif mode == "quick":
        rep.note("quick mode: no Dask rows (a LocalCluster takes seconds to start)")
    rep.table(f"Jacobian of the {zones}-parameter model, chunk = {chunk}: serial vs P workers",
              ["executor", "workers P", "chunk", "sweeps", "mode", "serial, as is",
               "serial, block pool", "executor=", "speedup", "efficiency",
               "speedup vs serial as is", "CPU/call serial", "CPU/call executor=",
               "work efficiency", "same bits"], rows, raw,
              intro="speedup: over the faster of the two serial calls (interleaved rounds); "
                    "efficiency = speedup / P; mode: how dualdiff's cost model ran the call. "
                    "In serial mode the executor runs the plain serial call (as is). CPU/call: "
                    "CPU seconds of one call summed over this process and the workers; work "
                    "efficiency = serial CPU / executor CPU: the work parallelism adds, an upper "
                    "bound of the parallel efficiency that other load on the machine does not "
                    "change (the wall-clock columns do).")

    # ---- the default split ------------------------------------------------------------
    raw_d, rows_d = [], []
    J_default = dd.jacobian(sim)
    base, base_label, t_plain, t_pool = serial_baseline(bench, J_default, x)
    for p in counts[1:]:
        with cf.ProcessPoolExecutor(p) as ex:
            J = dd.jacobian(sim, executor=ex)
            J(x)
            J(x)
            r = bench.pair(base, lambda: J(x))
            k = math.ceil(zones / p)
            same = bool(np.array_equal(J(x), dd.jacobian(sim, chunk=k)(x)))
            m = J.last_call["mode"]
        speedup, vs_plain = speedup_cells(r, t_plain)
        raw_d.append(dict(workers=p, chunk=k, mode=m, t_serial_default=r["t_base"],
                          t_serial_plain=t_plain, t_serial_pooled=t_pool, baseline=base_label,
                          t_parallel=r["t"], speedup=speedup, speedup_vs_plain=vs_plain,
                          identical_to_chunk=same))
        rows_d.append([p, k, m, R.fmt_time(t_plain), R.fmt_time(t_pool), R.fmt_time(r["t"]),
                       R.fmt_ratio(speedup), R.fmt_ratio(vs_plain), "yes" if same else "**NO**"])
    rep.table("The default split: dd.jacobian(f, executor=pool) vs dd.jacobian(f)",
              ["workers P", "executor's chunk", "mode", "serial default, as is",
               "serial default, block pool", "executor=", "speedup", "speedup vs serial as is",
               "same bits as serial with the executor's chunk"], rows_d, raw_d,
              intro=f"The serial default sweeps all {zones} directions at once; with an "
                    "executor the directions are cut into one sweep per worker.")

    # ---- cheap: Rosenbrock n = 100 -----------------------------------------------------
    xr = np.linspace(-1.2, 1.2, 100)
    raw_c, rows_c = [], []
    cheap_ratio = {}
    with cf.ProcessPoolExecutor(TARGET_P) as ex:
        for name, Tf in (("grad", dd.grad), ("hessian", dd.hessian)):
            serial = Tf(rosenbrock)
            par = Tf(rosenbrock, executor=ex)
            par(xr)
            par(xr)                               # the cost model has decided
            r = bench.pair(lambda: serial(xr), lambda: par(xr))
            same = bool(np.array_equal(par(xr), serial(xr)))
            cheap_ratio[name] = r["ratio"]
            raw_c.append(dict(transform=name, t_serial=r["t_base"], t_executor=r["t"],
                              ratio=r["ratio"], mode=par.last_call["mode"], identical=same))
            rows_c.append([f"dd.{name}(rosenbrock)", R.fmt_time(r["t_base"]),
                           R.fmt_time(r["t"]), R.fmt_ratio(r["ratio"]),
                           par.last_call["mode"], "yes" if same else "**NO**"])
        # what shipping would cost: the same cheap grad forced onto the pool
        forced = dd.grad(rosenbrock, executor=ex)
        with _executor.policy("ship"):
            forced(xr)
            r = bench.pair(lambda: dd.grad(rosenbrock)(xr), lambda: forced(xr))
        raw_c.append(dict(transform="grad, forced to ship", t_serial=r["t_base"],
                          t_executor=r["t"], ratio=r["ratio"], mode="parallel (forced)"))
        rows_c.append(["dd.grad(rosenbrock), shipped anyway", R.fmt_time(r["t_base"]),
                       R.fmt_time(r["t"]), R.fmt_ratio(r["ratio"]), "parallel (forced)", "-"])
        overhead = forced.backend.overhead
    rep.table(f"Cheap f: Rosenbrock n = 100 with a ProcessPoolExecutor({TARGET_P})",
              ["call", "serial", "executor=", "× serial", "mode", "same bits"], rows_c, raw_c,
              intro="The cost model times the first sweep and keeps cheap sweeps here as the "
                    "plain serial call (the compiled path included). The last row forces "
                    "shipping, to show what the model avoids.")
    rep.note(f"process pool overhead per call, as the cost model estimates it: "
             f"{R.fmt_time(overhead)}")

    # ---- targets -------------------------------------------------------------------------
    pick = [d for d in raw if d["executor"] == "process pool" and d["workers"] == TARGET_P]
    if pick:
        s = pick[0]["speedup"]
        rep.target(f"f ~{R.fmt_time(SWEEP_SECONDS[mode])}/sweep, n = {zones}, {TARGET_P} "
                   "local workers: speedup vs serial (same chunk)", "≥ 1.7×",
                   R.fmt_ratio(s), s >= 1.7 if mode != "quick" else None,
                   f"sweep {R.fmt_time(t_sweep)}")
    for name, ratio in cheap_ratio.items():
        rep.target(f"cheap f: dd.{name}(rosenbrock), n = 100, executor= / serial", "≤ 1.10×",
                   R.fmt_ratio(ratio), ratio <= 1.10)
    at16 = [d for d in raw if d["executor"] == "process pool" and d["workers"] == EFFICIENCY_P]
    rep.target(f"parallel efficiency at P = {EFFICIENCY_P}", "≥ 70%",
               f"{at16[0]['efficiency']:.0%}" if at16 else
               f"n/a ({os.cpu_count()} cores here)",
               at16[0]["efficiency"] >= 0.7 if at16 else None)
    rep.finish()


if __name__ == "__main__":
    main()
