"""Calibrating an expensive simulation with scipy.optimize.least_squares, with the Jacobian
sweeps running on a Dask cluster.

Not from an article: the workflow issue 16 asks for. The model is a Python simulation: heat
conducting along a rod cut into Z zones of unknown conductivity (an ODE system from the
method of lines, integrated by explicit Euler steps in plain numpy). Sensors in every zone
record the temperature at regular times. Calibration fits the Z parameters
theta (conductivity = 0.05 + 0.4 * sigmoid(theta)) to noisy synthetic records with
least_squares(jac=...), where jac is dd.jacobian(residuals, executor=...) -- the forward
sweeps of every Jacobian run on the cluster's workers, bit for bit the numbers of the serial
call with the same chunk (the executor cuts the Z directions into one sweep per worker).

    python examples/calibration_dask.py            # Z = 64, a local cluster of 2 workers
    python examples/calibration_dask.py --small    # Z = 8, a few seconds (CI)
    python examples/calibration_dask.py --scheduler tcp://host:8786   # an existing cluster

Needs scipy and Dask's distributed (pip install scipy distributed); without them it
prints one line and stops.
"""
import argparse
import math
import time

import numpy as np

import dualdiff as dd

FULL = dict(zones=64, cells=16, steps=500, every=50)
SMALL = dict(zones=8, cells=8, steps=200, every=20)


def make_model(zones, cells, steps, every):
    """simulate(theta) -> sensor records (steps // every times x zones sensors)."""
    m = zones * cells
    x = (np.arange(m) + 0.5) / m
    u0 = np.exp(-((x - 0.3) / 0.1) ** 2)             # the initial temperature
    source = 0.002 * np.sin(6 * np.pi * x)
    sensors = np.arange(cells // 2, m, cells)         # one in the middle of each zone

    def simulate(theta):
        k = np.repeat(0.05 + 0.4 / (1 + np.exp(-theta)), cells)
        # conductivity at the faces between cells: the harmonic mean (series resistances);
        # a cell conductivity of at most 0.45 keeps the unit-step explicit scheme stable
        kf = 2 * k[1:] * k[:-1] / (k[1:] + k[:-1])
        u = u0
        records = []
        for step in range(1, steps + 1):
            flux = kf * (u[1:] - u[:-1])
            # insulated ends: what leaves one cell enters the next
            u = u + np.concatenate([flux[:1], flux[1:] - flux[:-1], -flux[-1:]]) + source
            if step % every == 0:
                records.append(u[sensors])
        return np.concatenate(records)
    return simulate


def _best_of(fn, repeats=3):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main(outdir=None, small=False, executor=None, scheduler=None):
    """Print the timings and the fit; return them as a dict. `executor`: a Dask executor to
    use (else a LocalCluster of 2 worker processes is started, or `scheduler` is joined).
    `outdir` is unused (this example draws nothing)."""
    try:
        from scipy import optimize
    except ImportError:
        print("skipped: scipy is not installed (pip install scipy)")
        return None
    own = None
    if executor is None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            print("skipped: Dask's distributed is not installed "
                  "(pip install distributed)")
            return None
        if scheduler is not None:
            client = Client(scheduler)
            own = (client,)
        else:
            cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                   dashboard_address=None)
            client = Client(cluster)
            own = (client, cluster)
        executor = client.get_executor()
    try:
        return _calibrate(optimize, executor, SMALL if small else FULL)
    finally:
        for thing in own or ():
            thing.close()


def _calibrate(optimize, executor, size):
    simulate = make_model(**size)
    Z = size["zones"]
    rng = np.random.default_rng(16)
    theta_true = np.cumsum(rng.normal(0, 0.6, Z))        # a rough conductivity profile
    theta_true -= theta_true.mean()
    clean = simulate(theta_true)
    data = clean + rng.normal(0, 1e-4, clean.size)
    theta0 = np.zeros(Z)

    def residuals(theta):
        return simulate(theta) - data

    jac_cluster = dd.jacobian(residuals, executor=executor)
    workers = jac_cluster.backend.workers()
    chunk = math.ceil(Z / workers)                      # the executor's split: one sweep each
    jac_serial = dd.jacobian(residuals, chunk=chunk)

    print(f"model: {Z} zones x {size['cells']} cells, {size['steps']} Euler steps, "
          f"{clean.size} sensor records; {workers} Dask workers")
    t_eval, _ = _best_of(lambda: residuals(theta0))
    jac_cluster(theta0)                                 # first call: workers import dualdiff
    t_serial, J_serial = _best_of(lambda: jac_serial(theta0))
    t_cluster, J_cluster = _best_of(lambda: jac_cluster(theta0))
    same = bool(np.array_equal(J_serial, J_cluster))
    how = jac_cluster.last_call["mode"]
    print(f"one evaluation of the model: {t_eval * 1e3:.1f} ms")
    print(f"Jacobian ({J_serial.shape[0]} x {Z}), serial, chunk={chunk}: {t_serial * 1e3:.0f} ms "
          f"({math.ceil(Z / chunk)} sweeps of {chunk} directions)")
    print(f"Jacobian, executor=Dask: {t_cluster * 1e3:.0f} ms -> "
          f"{t_serial / t_cluster:.2f}x the serial chunk={chunk} call; identical bits: {same}")
    print(f"  (ran as: {how}" + ("; these sweeps are too cheap to ship, so dualdiff's cost "
                                 "model keeps them here" if how.startswith("serial") else "")
          + ")")

    runs = {}
    for label, jac in (("serial", jac_serial), ("cluster", jac_cluster)):
        t0 = time.perf_counter()
        fit = optimize.least_squares(residuals, theta0, jac=jac, method="trf", xtol=1e-10)
        seconds = time.perf_counter() - t0
        runs[label] = dict(seconds=seconds, nfev=int(fit.nfev), njev=int(fit.njev),
                           cost=float(fit.cost), x=fit.x,
                           err=float(np.max(np.abs(fit.x - theta_true))))
        print(f"least_squares, Jacobians {label:>7}: {seconds:6.2f} s, {fit.nfev} evaluations, "
              f"{fit.njev} Jacobians, cost {fit.cost:.3e}, max|theta - truth| = "
              f"{runs[label]['err']:.2e}")
    speedup = runs["serial"]["seconds"] / runs["cluster"]["seconds"]
    print(f"calibration with the Jacobian sweeps on the cluster: {speedup:.2f}x faster "
          "(same iterates: the Jacobians are the same numbers)")
    return dict(zones=Z, workers=workers, chunk=chunk, jac_identical=same, jac_mode=how,
                t_eval=t_eval, t_jac_serial=t_serial,
                t_jac_cluster=t_cluster, fits=runs, speedup=speedup,
                theta_true=theta_true, residual_noise=1e-4)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--small", action="store_true", help="8 zones, a few seconds (CI)")
    p.add_argument("--scheduler", help="address of a running Dask scheduler")
    a = p.parse_args()
    main(small=a.small, scheduler=a.scheduler)
