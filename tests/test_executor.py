"""executor= on the transforms (dualdiff/_executor.py), on a real process pool and a real
Dask LocalCluster (2 worker processes), both started and closed here (and on loky's pool
when loky is installed).

The specification: the sweeps run on the workers and the result equals the serial call with
the same chunk bit for bit (chunk=None: one sweep per worker); an exception raised by f on a
worker comes back as the same type with the worker's traceback; a dead worker is a
SweepLostError naming the lost sweeps; KeyboardInterrupt cancels the tasks not started;
sweeps too cheap to ship run here, as the plain serial call.
"""
import concurrent.futures as cf
import importlib.util
import math
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import dualdiff as dd
from dualdiff import _executor, _shipping, transforms
from dualdiff._executor import RemoteTraceback, SweepLostError, policy
from functions import loop_products, rosenbrock

distributed = pytest.importorskip("distributed")
pytest.importorskip("cloudpickle")

WORKERS = 2


@pytest.fixture(scope="module")
def pool():
    with cf.ProcessPoolExecutor(WORKERS) as ex:
        yield ex


@pytest.fixture(scope="module")
def dask_client():
    import dask
    # a task that kills its worker fails at once instead of being retried on the others
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = distributed.LocalCluster(n_workers=WORKERS, threads_per_worker=1,
                                           processes=True, dashboard_address=None)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def loky_pool():
    loky = pytest.importorskip("loky")            # optional: not among the test extras
    ex = loky.get_reusable_executor(max_workers=WORKERS)
    yield ex
    ex.shutdown(wait=True)


@pytest.fixture(params=["process pool", "dask", "loky"])
def executor(request):
    if request.param == "dask":
        return request.getfixturevalue("dask_client").get_executor()
    if request.param == "loky":
        return request.getfixturevalue("loky_pool")
    return request.getfixturevalue("pool")


# ---------------------------------------------------------------------------------------
# functions shipped to the workers (module level: importable there)
# ---------------------------------------------------------------------------------------

def spread(x, A, *, scale=1.0):
    """Vector output through a BLAS product, a constant matrix and a keyword."""
    return np.tanh(A @ x) * scale + x[::-1] * x


def energy(x, c):
    """Scalar output, elementwise and reductions only (no BLAS)."""
    return np.sum(c * np.cos(x) * x ** 2) + np.prod(np.sin(x[:3]) + 2.0)


def coupled(x, y):
    return np.sum(np.exp(-x) * y[0]) + y[1] ** 3 * np.sum(x)


def split_chunk(kind, n, workers=WORKERS):
    """The executor's chunk for chunk=None (the module docstring of dualdiff/_executor.py):
    one sweep per worker; a Hessian takes m blocks, m(m+1)/2 >= workers sweeps."""
    if kind == "hessian":
        m = 1
        while m * (m + 1) // 2 < workers:
            m += 1
        return math.ceil(n / m)
    return math.ceil(n / workers)


# transform, f, args maker, keyword arguments of the call, argnums, kind of plan
CASES = {
    "grad": (dd.grad, energy, lambda r: (r.uniform(-1, 1, 7), r.uniform(1, 2, 7)), {}, 0, ""),
    "value_and_grad": (dd.value_and_grad, energy,
                       lambda r: (r.uniform(-1, 1, 7), r.uniform(1, 2, 7)), {}, 0, ""),
    "grad two argnums": (dd.grad, coupled, lambda r: (r.uniform(-1, 1, 5), r.uniform(1, 2, 2)),
                         {}, (0, 1), ""),
    "jacobian BLAS + keyword": (dd.jacobian, spread,
                                lambda r: (r.normal(size=6), r.normal(size=(6, 6))),
                                {"scale": 0.5}, 0, ""),
    "jacobian loop style": (dd.jacobian, lambda x: np.array([loop_products(x), x[0] * x[1]]),
                            lambda r: (r.uniform(-1, 1, 5),), {}, 0, ""),
    "hessian": (dd.hessian, energy, lambda r: (r.uniform(-1, 1, 6), r.uniform(1, 2, 6)), {}, 0,
                "hessian"),
    "hvp": (dd.hvp, energy, lambda r: (r.uniform(-1, 1, 7), r.uniform(1, 2, 7),
                                       r.normal(size=7)), {}, 0, ""),
}


def same_bits(a, b):
    if isinstance(a, tuple):
        return isinstance(b, tuple) and len(a) == len(b) and all(map(same_bits, a, b))
    return type(a) is type(b) and np.array_equal(a, b) and np.shape(a) == np.shape(b)


@pytest.mark.parametrize("chunk", [None, 1, 3])
@pytest.mark.parametrize("case", list(CASES))
def test_results_are_the_serial_bits_and_the_workers_ran_the_sweeps(executor, case, chunk, rng):
    T, f, make, kw, argnums, kind = CASES[case]
    args = make(rng)
    n = sum(np.size(args[i]) for i in ((argnums,) if isinstance(argnums, int) else argnums))
    par = T(f, argnums=argnums, chunk=chunk, executor=executor)
    with policy("ship"):
        got = par(*args, **kw)
    want = T(f, argnums=argnums, chunk=chunk or split_chunk(kind, n))(*args, **kw)
    assert same_bits(got, want)
    call = par.last_call
    assert call["mode"] == "parallel" and call["sweeps_shipped"] == call["sweeps"] > 1
    assert call["tasks"] <= min(call["sweeps"], 2 * WORKERS)      # never more than directions


def test_chunk_none_equals_the_default_serial_call_without_blas(pool, rng):
    """A direction's arithmetic does not depend on its sweep's size, BLAS aside: the split
    changes no bit of a function without matrix products."""
    x, c = rng.uniform(-1, 1, 9), rng.uniform(1, 2, 9)
    with policy("ship"):
        for T in (dd.grad, dd.hessian, dd.jacobian):
            assert same_bits(T(energy, executor=pool)(x, c), T(energy)(x, c))
        assert same_bits(dd.hvp(energy, executor=pool)(x, c, x), dd.hvp(energy)(x, c, x))


def test_python_scalar_argument_gives_a_float(pool):
    with policy("ship"):
        g = dd.grad(lambda t, s: np.sin(t) * s, argnums=(0, 1), executor=pool)(0.7, 2.0)
    assert same_bits(g, dd.grad(lambda t, s: np.sin(t) * s, argnums=(0, 1))(0.7, 2.0))
    assert all(type(v) is float for v in g)


def test_an_empty_input_has_no_sweeps_and_the_serial_answer(pool):
    with policy("ship"):
        g = dd.jacobian(lambda x: np.concatenate([x, np.ones(2)]), executor=pool)
        got = g(np.zeros(0))
    assert same_bits(got, dd.jacobian(lambda x: np.concatenate([x, np.ones(2)]))(np.zeros(0)))
    assert got.shape == (2, 0) and g.last_call["mode"] == "serial (no sweeps)"


def test_inputs_are_not_mutated(executor, rng):
    x, A = rng.normal(size=6), rng.normal(size=(6, 6))
    x0, A0 = x.copy(), A.copy()
    with policy("ship"):
        dd.jacobian(spread, executor=executor, chunk=2)(x, A)
    assert np.array_equal(x, x0) and np.array_equal(A, A0)


def test_lambdas_and_closures_travel(executor, rng):
    w = rng.normal(size=300)                      # captured data, pickled with the closure
    x = rng.normal(size=5)
    with policy("ship"):
        got = dd.grad(lambda v: np.sum(np.sin(v) * w[:5]) + np.sum(w), executor=executor)(x)
    assert np.array_equal(got, np.cos(x) * w[:5])


def test_large_constants_are_scattered_once_on_dask(dask_client, rng):
    big = rng.normal(size=20000)                  # 160 KB: above the inline limit

    def f(x):
        return np.sum(x * big[:x.size])
    ex = dask_client.get_executor()
    g = dd.grad(f, executor=ex, chunk=2)
    with policy("ship"):
        for _ in range(2):
            assert np.array_equal(g(np.ones(4)), big[:4])
    kept = list(g.backend._scattered.values())
    assert len(kept) == 1 and kept[0].status == "finished"   # the second call reused it


def test_a_dask_client_is_accepted_as_the_executor(dask_client, rng):
    x = rng.normal(size=5)
    with policy("ship"):
        assert np.array_equal(dd.grad(rosenbrock, executor=dask_client)(x),
                              dd.grad(rosenbrock, chunk=3)(x))


def test_directional_sweeps_are_the_serial_sweeps(executor, rng):
    """The entry point for the sparse transforms: given direction blocks, one sweep each."""
    x, c = rng.uniform(-1, 1, 6), rng.uniform(1, 2, 6)
    blocks = [rng.normal(size=(6, 2)), rng.normal(size=(6, 3)),
              (rng.normal(size=(6, 2)), rng.normal(size=(6, 2)))]
    with policy("ship"):
        got = _executor.directional_sweeps(executor, energy, (x, c), {}, 0, blocks)
    for (v, D), d in zip(got, blocks):
        wv, wD = transforms.directional(energy, (x, c), {}, 0, *(d if isinstance(d, tuple)
                                                                  else (d,)))
        assert np.array_equal(v, wv) and np.array_equal(D, wD)


# ---------------------------------------------------------------------------------------
# the cost model
# ---------------------------------------------------------------------------------------

def nap(x):
    time.sleep(0.03)                              # an expensive model, without the CPU
    return np.sum(np.sin(x) * x)


def _within_tries(check, tries=3):
    """The cost model decides on measured times: a busy machine (CI beside other jobs) can
    stretch one measurement many times over. A decision that is right at least once in a few
    fresh tries is the model working; wrong every time is a bug."""
    for i in range(tries):
        try:
            return check()
        except AssertionError:
            if i == tries - 1:
                raise


def test_cheap_sweeps_stay_here_as_the_plain_serial_call(pool, rng):
    x = rng.normal(size=100)

    def check():
        g = dd.grad(rosenbrock, executor=pool)
        modes = []
        for _ in range(3):
            assert np.array_equal(g(x), dd.grad(rosenbrock)(x))    # the default chunk's bits
            modes.append(g.last_call["mode"])
            assert g.last_call["sweeps_shipped"] == 0
        assert modes == ["serial (measured)", "serial", "serial"]
    _within_tries(check)


def test_slow_sweeps_are_shipped_from_the_first_call_on(pool, rng):
    x = rng.normal(size=4)

    def check():
        g = dd.grad(nap, executor=pool, chunk=1)
        assert np.array_equal(g(x), np.sin(x) + x * np.cos(x))
        assert g.last_call["mode"] == "parallel (first sweep here)"
        assert g.last_call["sweeps_shipped"] == 3
        t0 = time.perf_counter()
        g(x)
        assert g.last_call["mode"] == "parallel" and g.last_call["sweeps_shipped"] == 4
        assert time.perf_counter() - t0 < 4 * 0.03          # not one after the other
    _within_tries(check)


def test_a_call_from_an_enclosing_transform_runs_serially(pool):
    """Dual arguments cannot cross processes: the call is the transform without executor."""
    def outcome(T):
        try:
            return dd.derivative(lambda s: T(np.sum)(s * np.ones(3)).sum())(0.5)
        except TypeError as e:
            return type(e)
    with policy("ship"):
        assert outcome(lambda f: dd.grad(f, executor=pool)) == outcome(dd.grad)


# ---------------------------------------------------------------------------------------
# faults
# ---------------------------------------------------------------------------------------

class ModelDiverged(Exception):
    pass


def diverging(x):
    if x[0] > 0:
        raise ModelDiverged("step size too large")
    return np.sum(x)


def test_an_exception_in_f_on_a_worker_is_raised_with_its_traceback(executor):
    g = dd.grad(diverging, executor=executor, chunk=1)
    with policy("ship"), pytest.raises(ModelDiverged, match="step size too large") as e:
        g(np.array([0.5, 1.0, 2.0]))
    assert isinstance(e.value.__cause__, RemoteTraceback)
    assert "in diverging" in e.value.__cause__.text
    assert "raise ModelDiverged" in e.value.__cause__.text
    if hasattr(e.value, "__notes__"):
        assert any("raised on a worker" in n and "sweep" in n for n in e.value.__notes__)


def test_dualdiffs_own_errors_come_back_unchanged(executor):
    x = np.ones(4)
    with pytest.raises(TypeError) as serial:
        dd.grad(np.sin, chunk=2)(x)
    with policy("ship"), pytest.raises(TypeError) as par:
        dd.grad(np.sin, executor=executor, chunk=2)(x)
    assert str(par.value) == str(serial.value) and "use jacobian" in str(par.value)


_CELL = """\
import numpy as np
def cell(x):
    v = np.array([x[0], x[-1]])
    return np.sum(v.astype(float))
"""


def test_a_message_names_the_line_of_a_function_without_a_file(executor):
    # f exec'd from a string, as in a notebook cell: cloudpickle ships its code as
    # "<dynamic-code>", and the worker has no source to quote unless it travels with it
    import linecache
    name = "<cell 42>"
    linecache.cache[name] = (len(_CELL), None, _CELL.splitlines(True), name)
    ns = {}
    exec(compile(_CELL, name, "exec"), ns)
    x = np.array([0.5, 1.0, 2.0])
    with pytest.raises(TypeError) as serial:
        dd.grad(ns["cell"], chunk=1)(x)
    with policy("ship"), pytest.raises(TypeError) as par:
        dd.grad(ns["cell"], executor=executor, chunk=1)(x)
    assert "(in cell: return np.sum(v.astype(float)))" in str(serial.value)
    assert str(par.value) == str(serial.value)
    assert f'File "{name}", line 4, in cell' in par.value.__cause__.text


class Picky(Exception):
    def __init__(self, *, code):                  # cannot be rebuilt from its args by pickle
        super().__init__(f"code {code}")


def picky(x):
    raise Picky(code=7)


def test_an_exception_that_cannot_travel_becomes_a_runtime_error(pool):
    with policy("ship"), pytest.raises(RuntimeError, match=r"Picky: code 7.*could not be "
                                                           "pickled"):
        dd.grad(picky, executor=pool)(np.ones(3))


def test_unpicklable_arguments_are_named(pool):
    with pytest.raises(TypeError, match="cannot send the function, its keywords or its "
                                        "constant arguments"):
        with policy("ship"):
            dd.grad(lambda x, lock: np.sum(x), executor=pool)(np.ones(3), threading.Lock())


def test_without_cloudpickle_a_lambda_asks_for_it(pool, monkeypatch):
    monkeypatch.setattr(_shipping, "cloudpickle", None)
    with pytest.raises(ImportError, match="pip install cloudpickle"):
        with policy("ship"):
            dd.grad(lambda x: np.sum(x), executor=pool)(np.ones(3))
    with policy("ship"):                          # a module-level f needs no cloudpickle
        assert np.array_equal(dd.grad(energy, executor=pool)(np.ones(3), np.ones(3)),
                              dd.grad(energy, chunk=2)(np.ones(3), np.ones(3)))


@pytest.mark.parametrize("bad", [object(), cf.ProcessPoolExecutor, "dask"])
def test_a_non_executor_is_refused_when_the_transform_is_made(bad):
    for T in (dd.grad, dd.value_and_grad, dd.jacobian, dd.hessian, dd.hvp):
        with pytest.raises(TypeError, match="executor must be a concurrent.futures.Executor"):
            T(np.sum, executor=bad)


def killing(x, parent):
    if os.getpid() != parent:                     # on a worker: die as an OOM kill would
        os._exit(9)
    return np.sum(x)


def test_a_dead_pool_worker_is_reported_with_the_lost_sweeps():
    with cf.ProcessPoolExecutor(WORKERS) as ex:
        g = dd.grad(killing, executor=ex, chunk=1)
        with policy("ship"), pytest.raises(SweepLostError, match=r"sweep \d of 4") as e:
            g(np.ones(4), os.getpid())
    assert e.value.sweeps and set(e.value.sweeps) <= {0, 1, 2, 3}
    assert isinstance(e.value.__cause__, cf.process.BrokenProcessPool)


def sleeper(x, log):
    with open(log, "a") as fh:
        fh.write("sweep\n")
    time.sleep(0.05)
    return np.sum(x)


class Recording(cf.Executor):
    """A one-process pool that says it has two workers (four tasks per call) and keeps its
    futures: the pool runs one task and queues at most two, so the fourth is cancellable."""
    _max_workers = 2

    def __init__(self):
        self.inner, self.futures = cf.ProcessPoolExecutor(1), []

    def submit(self, fn, *args, **kwargs):
        fut = self.inner.submit(fn, *args, **kwargs)
        self.futures.append(fut)
        return fut


def test_keyboard_interrupt_cancels_the_tasks_not_started(tmp_path):
    # The interrupt goes once the first sweep has started: on a busy machine starting the
    # pool can take longer than a fixed delay (CI under load saw the call finish
    # uninterrupted in three tries of a 0.1 s timer). A signal's delivery is not exact
    # either: the behaviour must show in one of a few fresh tries. And SIGINT must raise
    # KeyboardInterrupt here: a Python started as a background job of a non-interactive
    # shell (`.ci/run &`) inherits SIGINT ignored and never installs that handler, and then
    # every try ran to the end (three CI runs this way failed here)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _interrupt_and_check(tmp_path)
    finally:
        signal.signal(signal.SIGINT, previous)


def _interrupt_and_check(tmp_path):
    for attempt in range(3):
        log = tmp_path / f"sweeps{attempt}.log"
        ex = Recording()
        g = dd.grad(sleeper, executor=ex, chunk=1)          # 16 sweeps in 4 tasks of 4
        sent = []

        def interrupt(log=log, sent=sent):
            deadline = time.perf_counter() + 60.0
            while not log.exists() and time.perf_counter() < deadline:
                time.sleep(0.002)
            sent.append(time.perf_counter())
            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
        sender = threading.Thread(target=interrupt, daemon=True)
        sender.start()
        try:
            with policy("ship"):
                g(np.ones(16), str(log))
        except KeyboardInterrupt:
            interrupted = time.perf_counter() - sent[0]
            break
        finally:
            sender.join()
            ex.inner.shutdown(wait=True)
    else:
        pytest.fail("KeyboardInterrupt during the call was not raised in three tries")
    assert interrupted < 0.5                          # the 16 sweeps take 0.8 s
    assert len(ex.futures) == 4 and ex.futures[-1].cancelled()
    started = sum(not fut.cancelled() for fut in ex.futures)
    assert log.read_text().count("sweep") == 4 * started < 16   # cancelled tasks never ran


# ---------------------------------------------------------------------------------------
# the example
# ---------------------------------------------------------------------------------------

def test_the_calibration_example_on_the_cluster(dask_client, capsys):
    path = Path(__file__).parent.parent / "examples" / "calibration_dask.py"
    if not path.is_file():
        pytest.skip("examples/ is not shipped in the wheel")
    pytest.importorskip("scipy")
    spec = importlib.util.spec_from_file_location("calibration_dask", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    with policy("ship"):
        r = example.main(small=True, executor=dask_client.get_executor())
    out = capsys.readouterr().out
    assert "identical bits: True" in out and "ran as: parallel" in out
    assert r["jac_identical"]
    serial, cluster = r["fits"]["serial"], r["fits"]["cluster"]
    assert np.array_equal(serial["x"], cluster["x"])   # the same iterates
    assert serial["nfev"] == cluster["nfev"]
    # the fit reaches the noise: 0.5 * sum(noise^2) ~ 0.5 * m * sigma^2
    m = 80
    assert cluster["cost"] < 2 * 0.5 * m * r["residual_noise"] ** 2


def test_a_dead_dask_worker_is_reported_with_the_lost_sweeps(dask_client):
    """Last in this file: the cluster loses a worker (its nanny restarts it)."""
    g = dd.grad(killing, executor=dask_client.get_executor(), chunk=2)
    with policy("ship"), pytest.raises(SweepLostError, match="sweep") as e:
        g(np.ones(4), os.getpid())
    assert e.value.sweeps
    assert type(e.value.__cause__).__name__ == "KilledWorker"
