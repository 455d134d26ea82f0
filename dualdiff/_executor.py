"""Sweeps on a concurrent.futures executor: what `executor=` on the transforms does.

A transform's sweeps (transforms._sweeps: f run once per plan entry on seeded dual values)
are independent, so they can run anywhere dualdiff is installed. Given an executor -- a
ProcessPoolExecutor, loky's, Dask's Client.get_executor(), mpi4py's MPIPoolExecutor -- a
call is served like this:

* Ship once. The function, its keywords and the constant arguments are pickled once per
  call (cloudpickle when installed, so lambdas and closures travel), the differentiated
  inputs and the plan separately; a worker unpickles each once (a cache keyed by content)
  and Dask scatters large payloads once instead of repeating them in every task.
* Split. The plan is the serial call's plan when the caller gave `chunk`; with chunk=None
  and fewer sweeps than workers, the directions are cut into one sweep per worker (never
  more sweeps than directions). The result is then bit for bit the serial call with the
  same chunk; with chunk=None it is the serial call with the smaller chunk, equal to the
  default call bit for bit except through BLAS matrix products, whose summation order
  depends on the block shape (transforms.py's docstring). Pass chunk= to pin the bits.
* Run. Each task runs several consecutive sweeps by transforms._sweeps on its worker (at
  most two tasks per worker; never more tasks than sweeps, nor sweeps than directions);
  the blocks come back in plan order. While the executor works, the calling thread only
  waits, leaving the interpreter to the threads that send tasks and receive results.
* Decide. Shipping costs a per-call overhead (about a millisecond on a local process pool,
  5-20 ms on a Dask LocalCluster of this machine). The first call of a transform runs its
  first sweep here and times it: the other sweeps ship as soon as it has outlasted two
  overheads (while it still runs), else a cost model decides whether they ship or run
  here. A cheap f then runs as the plain serial call (the compiled path included). Later
  calls go where the median of the last five measured sweep times says; the estimates
  live on the transform, per input shape.
* Fail loudly. An exception raised by f on a worker comes back as the same type with the
  worker's traceback as its cause and a note naming the sweep; a worker that dies makes a
  SweepLostError naming the sweeps that were lost. Either way the other tasks are cancelled
  and no partial result is returned. KeyboardInterrupt cancels the tasks not yet started
  (tasks already running finish on their workers: an executor cannot stop them).
"""
import collections
import concurrent.futures as cf
import contextlib
import contextvars
import math
import pickle
import sys
import threading
import time

import numpy as np

from dualdiff import _inputs, _shipping
from dualdiff._arrays import DualArray
from dualdiff._core import Dual, DualVec, HyperDual, HyperDualVec

__all__ = ["SweepLostError", "RemoteTraceback", "wrap", "run", "directional_sweeps",
           "planned_sweeps", "workers", "policy", "Tuner"]

# the executor of the transform being called; transforms._sweeps hands its plan to run()
# while it is set. Reset while sweeps run here, so that transforms called by f stay serial.
bound = contextvars.ContextVar("dualdiff_executor", default=None)

_TASKS_PER_WORKER = 2       # more tasks than workers: a slow worker delays less
_SHIP_MARGIN = 0.8          # shipping must promise to save a fifth of the time


class SweepLostError(RuntimeError):
    """The executor did not return some sweeps (a worker died, the pool broke, a task was
    cancelled). `.sweeps` lists their positions in the call's plan; the executor's own
    exception is the __cause__. No partial result is returned."""

    def __init__(self, message, sweeps=()):
        super().__init__(message)
        self.sweeps = list(sweeps)


class RemoteTraceback(Exception):
    """The traceback of an exception raised on a worker (set as that exception's __cause__)."""

    def __init__(self, text):
        super().__init__(text)
        self.text = text

    def __str__(self):
        return f'\n"""\n{self.text}"""'


class _UseSerial(BaseException):
    """Raised through the general path when the cost model picks the plain serial call."""


# ---------------------------------------------------------------------------------------
# policy (tests and the bench)
# ---------------------------------------------------------------------------------------

_POLICY = "auto"


@contextlib.contextmanager
def policy(mode):
    """`with policy("ship"):` every call with an executor ships its sweeps, however cheap
    (tests of the worker path, the bench); "auto" (the default) lets the cost model decide."""
    global _POLICY
    if mode not in ("auto", "ship"):
        raise ValueError(f"policy: mode must be 'auto' or 'ship', got {mode!r}")
    old, _POLICY = _POLICY, mode
    try:
        yield
    finally:
        _POLICY = old


# ---------------------------------------------------------------------------------------
# the transforms' side: wrap() and the cost model's state
# ---------------------------------------------------------------------------------------

_DUALS = frozenset((Dual, HyperDual, DualVec, HyperDualVec, DualArray))


def _has_duals(args, kwargs):
    """An argument from an enclosing transform: its perturbation cannot cross processes
    (tags are per process), so such calls run serially."""
    for a in args:
        if type(a) in _DUALS:
            return True
    return bool(kwargs) and any(type(a) in _DUALS for a in kwargs.values())


def _shape_key(a):
    if isinstance(a, np.ndarray):
        return a.shape
    if isinstance(a, (list, tuple)):
        return ("seq", len(a))
    return type(a)


class Tuner:
    """What the cost model knows about one transform at one input shape: how many sweeps its
    parallel plan has, the seconds of one sweep in the last calls (measured here or by the
    workers), and which way the next call goes. Decisions take the median of the last five
    calls, so one call slowed by a busy machine does not flip them."""
    __slots__ = ("mode", "sweeps", "times")

    def __init__(self):
        self.mode = None            # None: not measured yet; "serial"; "parallel"
        self.sweeps = None          # entries of the parallel plan
        self.times = collections.deque(maxlen=5)

    def observe(self, sweep_seconds, backend, workers=None):
        """A call's seconds per sweep: the mode of the next call."""
        self.times.append(sweep_seconds)
        t = sorted(self.times)[len(self.times) // 2]
        worth = _worth(t, self.sweeps, workers or backend.workers(), backend.overhead,
                       margin=1.0 if self.mode == "parallel" else _SHIP_MARGIN)
        self.mode = "parallel" if worth else "serial"

    def observe_serial(self, seconds, backend):
        """After a serial call (its plan has at most as many sweeps as the parallel one)."""
        if not self.sweeps or self.sweeps < 2:
            return
        if seconds < 2 * backend.overhead:          # the cheap case, quickly: stays here
            self.times.append(seconds / self.sweeps)
            return
        self.observe(seconds / self.sweeps, backend)


def _worth(t, sweeps, workers, overhead, after_first=False, margin=_SHIP_MARGIN):
    """Whether shipping `sweeps` sweeps of t seconds each beats running them here;
    after_first: the first one is done here, the question is the rest. Shipping must save
    a share of the time (margin) and more than two overheads: near break-even a busy
    machine's noise would otherwise decide."""
    rest = sweeps - 1 if after_first else sweeps
    if rest <= 0 or workers <= 0:
        return False
    here = rest * t
    there = overhead + math.ceil(rest / workers) * t
    return there < margin * here and here - there > 2 * overhead


class Parallel:
    """What a transform given executor= returns: calls go to the executor through the
    general path (transforms._sweeps -> run) or, when the sweeps are too cheap to ship, to
    the plain transform (the compiled path included)."""

    def __init__(self, serial, general, backend, name, chunk):
        self.serial, self.general, self.backend = serial, general, backend
        self.name, self.chunk = name, chunk
        self._last = None
        self._tuners = {}

    f = property(lambda self: getattr(self.serial, "f", None) or self.serial.__wrapped__)
    argnums = property(lambda self: getattr(self.serial, "argnums", None))
    executor = property(lambda self: self.backend.executor)
    __wrapped__ = property(lambda self: self.f)

    @property
    def __name__(self):
        return getattr(self.serial, "__name__", self.name)

    def __repr__(self):
        return f"<dualdiff {self.__name__} on {type(self.backend.executor).__name__}>"

    @property
    def last_call(self):
        """How the last call ran: mode ("serial", "serial (measured)", "serial (one sweep)",
        "parallel (first sweep here)", "parallel"), seconds, sweeps and where they ran."""
        if self._last is None:
            return None
        if type(self._last) is tuple:             # a serial call (kept cheap)
            return dict(mode=self._last[0], seconds=self._last[1], sweeps_shipped=0, tasks=0)
        return dict(self._last)

    def _tuner(self, key):
        t = self._tuners.get(key)
        if t is None:
            if len(self._tuners) >= 16:           # shapes come and go: keep a few
                self._tuners.clear()
            t = self._tuners[key] = Tuner()
        return t

    def __call__(self, *args, **kwargs):
        # the tuner of these input shapes; an argument from an enclosing transform makes the
        # call serial (its perturbation cannot cross processes: tags are per process)
        if len(args) == 1 and not kwargs and type(args[0]) is np.ndarray:
            key = args[0].shape                   # the common case, quickly
        elif _has_duals(args, kwargs):
            return self.serial(*args, **kwargs)
        else:
            key = tuple(map(_shape_key, args)) + ((tuple(sorted(kwargs)),) if kwargs else ())
        tuner = self._tuners.get(key) or self._tuner(key)
        mode = "serial"
        if tuner.mode != "serial" or _POLICY != "auto":
            t0 = time.perf_counter()
            token = bound.set(_Binding(self, tuner))
            self._last = None
            try:
                out = self.general(args, kwargs)
            except _UseSerial:
                out = _UseSerial
            finally:
                bound.reset(token)
            if out is not _UseSerial:
                seconds = time.perf_counter() - t0
                if self._last is None:            # no sweep to run (empty inputs)
                    self._last = ("serial (no sweeps)", seconds)
                else:
                    self._last["seconds"] = seconds
                return out
            mode = "serial (measured)"
        t0 = time.perf_counter()
        out = self.serial(*args, **kwargs)
        seconds = time.perf_counter() - t0
        tuner.observe_serial(seconds, self.backend)
        self._last = (mode, seconds)
        return out


class _Binding:
    __slots__ = ("owner", "tuner", "backend", "replan", "name")

    def __init__(self, owner, tuner, backend=None, replan=None, name=None):
        self.owner, self.tuner = owner, tuner
        self.backend = backend if owner is None else owner.backend
        self.replan = (owner.chunk is None) if owner is not None else replan
        self.name = name if owner is None else owner.name


def wrap(serial, executor, name, kind=None, chunk=None):
    """serial itself without an executor; else a Parallel transform. serial is the transform
    without executor (a compiled Transform when kind is given, else a Python function whose
    sweeps go through transforms._sweeps)."""
    if executor is None:
        return serial
    backend = _shipping.backend(executor, name)
    if kind is None:
        def general(args, kwargs):
            return serial(*args, **kwargs)
    else:
        from dualdiff import _arrays

        def general(args, kwargs):
            # the general path: the compiled small-input path does not call _sweeps
            return _arrays.general_path(kind, serial.f, serial.argnums, serial.chunk, args,
                                        kwargs)
    return Parallel(serial, general, backend, name, chunk)


# ---------------------------------------------------------------------------------------
# the client's side: one call's sweeps
# ---------------------------------------------------------------------------------------

def run(f, inputs, kwargs, plan, name, scalar_out):
    """transforms._sweeps for a call bound to an executor: the same list of (value, part)
    in plan order, computed there and here."""
    b = bound.get()
    token = bound.set(None)
    try:
        return _Call(b, f, inputs, kwargs, plan, name, scalar_out).run()
    finally:
        bound.reset(token)


_switch = [0, None, threading.Lock()]     # probes running, the interval they replaced


@contextlib.contextmanager
def _responsive():
    """The timer's and the executor's threads need the interpreter while this thread runs
    f: let them have it every 0.2 ms instead of every 5 ms, while a probe runs."""
    with _switch[2]:
        if _switch[0] == 0:
            _switch[1] = sys.getswitchinterval()
            sys.setswitchinterval(min(_switch[1], 2e-4))
        _switch[0] += 1
    try:
        yield
    finally:
        with _switch[2]:
            _switch[0] -= 1
            if _switch[0] == 0:
                sys.setswitchinterval(_switch[1])


def _local(f, inputs, kwargs, plan, name, scalar_out):
    from dualdiff import transforms
    with _shipping.sweep_lock():
        return transforms._sweeps(f, inputs, kwargs, plan, name, scalar_out)


def _directions(d):
    start = getattr(d, "start", None)
    return f"{start}..{start + d.k - 1}" if start is not None else f"{d.k} given"


class _Call:
    def __init__(self, binding, f, inputs, kwargs, plan, name, scalar_out):
        self.binding, self.backend, self.tuner = binding, binding.backend, binding.tuner
        self.f, self.inputs, self.kwargs, self.name = f, inputs, kwargs, name
        self.scalar_out = scalar_out
        self.workers = self.backend.workers()
        self.plan, self.assemble = plan, None
        if binding.replan:
            self.plan, self.assemble = _replan(plan, inputs.n, self.workers)
        self.futures = []
        self.submitted = False
        self.error = None
        self.t_ship = None

    def describe(self, i):
        d1, d2 = self.plan[i]
        where = _directions(d1) + ("" if d2 is None else " x " + _directions(d2))
        return f"sweep {i} of {len(self.plan)} (directions {where})"

    def run(self):
        plan, tuner = self.plan, self.tuner
        E = len(plan)
        if E == 1:
            # one sweep: nothing to split; later calls take the serial path directly
            tuner.mode, tuner.sweeps = "serial", 1
            if self.assemble is not None:
                raise _UseSerial
            return self.finish(self.local(0, E), "serial (one sweep)", 1)
        self.payload = _shipping.payloads(self.f, self.inputs, self.kwargs, plan, self.name)
        if _POLICY == "ship" or tuner.mode == "parallel":
            return self.shipped(E)
        return self.probe(E)

    def shipped(self, E):
        """Every sweep to the executor; this thread waits (and so leaves the interpreter to
        the threads that send tasks and receive results)."""
        tasks = self.tasks(0, E)
        try:
            self.submit(tasks)
            if self.error is not None:
                raise self.error
            results = self.gather(tasks)
        except BaseException:
            self.cancel()
            raise
        self.tuner.sweeps = E
        self.tuner.observe(self.computed / E, self.backend, self.workers)
        return self.finish(results, "parallel", 0, shipped=E, ntasks=len(tasks))

    def probe(self, E):
        """A first call: sweep 0 here, timed; the others ship as soon as it has run for a
        few overheads, or after it if the cost model says so, or run here."""
        tuner, backend = self.tuner, self.backend
        tasks = self.tasks(1, E)
        timer = threading.Timer(max(1e-3, 2 * backend.overhead), self.submit, (tasks,))
        timer.daemon = True
        try:
            timer.start()
            t0 = time.perf_counter()
            with _responsive():
                first = self.local(0, 1)
            t_first = time.perf_counter() - t0
            timer.cancel()
            timer.join()                  # it has shipped everything, or never will
            if self.error is not None:
                raise self.error
            tuner.sweeps = E
            tuner.times.append(t_first)
            if not self.submitted:
                if not _worth(t_first, E, self.workers, backend.overhead, after_first=True):
                    tuner.mode = "serial"
                    if self.assemble is not None:
                        raise _UseSerial      # the plain serial call: its plan and bits
                    return self.finish(first + self.local(1, E), "serial (measured)", E)
                self.submit(tasks)
                if self.error is not None:
                    raise self.error
            results = first + self.gather(tasks)
        except BaseException:
            timer.cancel()
            if timer.is_alive():
                timer.join()
            self.cancel()
            raise
        tuner.mode = "parallel"
        tuner.observe(self.computed / (E - 1), backend, self.workers)
        return self.finish(results, "parallel (first sweep here)", 1, shipped=E - 1,
                           ntasks=len(tasks))

    def local(self, lo, hi):
        return _local(self.f, self.inputs, self.kwargs, self.plan[lo:hi], self.name,
                      self.scalar_out)

    def tasks(self, lo, hi):
        """Sweeps lo..hi-1 in contiguous runs, at most _TASKS_PER_WORKER per worker."""
        rest = hi - lo
        T = max(1, min(rest, _TASKS_PER_WORKER * self.workers))
        edges = [lo + (rest * j) // T for j in range(T + 1)]
        return [(edges[j], edges[j + 1]) for j in range(T) if edges[j + 1] > edges[j]]

    def submit(self, tasks):
        """Send sweeps 1.. to the executor (from the timer's thread on a first call: an
        error is kept for the caller's thread)."""
        if self.submitted:
            return
        self.submitted = True
        try:
            static, digest, dynamic, token = self.payload
            s = self.backend.ship(static, digest, keep=True)
            d = self.backend.ship(dynamic, token, keep=False)
            self.t_ship = time.perf_counter()
            for lo, hi in tasks:
                self.futures.append(self.backend.submit(s, digest, d, token, lo, hi, self.name,
                                                        self.scalar_out))
        except BaseException as exc:
            self.error = exc

    def cancel(self):
        self.submitted = True
        for fut in self.futures:
            fut.cancel()

    def gather(self, tasks):
        index = {id(fut): j for j, fut in enumerate(self.futures)}
        out = [None] * len(tasks)
        computes, cold = [], False
        for fut in cf.as_completed(self.futures):
            j = index[id(fut)]
            lo, hi = tasks[j]
            try:
                r = fut.result()
            except BaseException as exc:
                if isinstance(exc, KeyboardInterrupt):
                    raise
                lost = list(range(lo, hi))
                raise SweepLostError(
                    f"{self.name}: the executor did not return {self.describe(lo)}"
                    + (f" (nor sweeps {lo + 1}..{hi - 1} of the same task)" if hi - lo > 1
                       else "")
                    + f": {type(exc).__name__}: {exc}. A worker process may have died (out "
                    "of memory, killed, a crash in native code); no result is returned.",
                    lost) from exc
            if r[0] == "error":
                _, data, tb, i = r
                exc = pickle.loads(data)
                exc.__cause__ = RemoteTraceback(tb)
                if hasattr(exc, "add_note"):
                    exc.add_note(f"{self.name}: raised on a worker of the executor, in "
                                 f"{self.describe(i)}; the worker's traceback is above")
                raise exc
            out[j] = r[1]
            computes.append(r[2])
            cold = cold or r[3]
        if not cold:
            self.backend.observe(time.perf_counter() - self.t_ship, computes, self.workers)
        self.computed = sum(computes)
        return [x for part in out for x in part]

    def finish(self, results, mode, local, shipped=0, ntasks=0):
        owner = self.binding.owner
        if owner is not None:
            owner._last = dict(mode=mode, sweeps=len(self.plan), sweeps_local=local,
                               sweeps_shipped=shipped, tasks=ntasks, workers=self.workers)
        return results if self.assemble is None else self.assemble(results)


# ---------------------------------------------------------------------------------------
# the split when chunk is None
# ---------------------------------------------------------------------------------------

def _replan(plan, n, workers):
    """(plan, assemble): the serial default plan, or, when it has fewer sweeps than
    workers, the plan of the serial call with a smaller chunk and a function giving the
    default plan's results from the new plan's -- the same directions, so the same numbers
    except through BLAS (see the module docstring)."""
    from dualdiff import transforms as T
    if len(plan) >= workers or n <= 1:
        return plan, None
    basis = _inputs._Basis
    if all(type(d1) is basis and d2 is None for d1, d2 in plan):
        kind = "first"
    elif all(d1 is plan[0][0] and type(d1) is not basis and type(d2) is basis
             for d1, d2 in plan):
        kind = "second"                          # hvp: e1 given, e2 over the inputs
    elif all(type(d1) is basis and type(d2) is basis for d1, d2 in plan):
        kind = "blocks"
    else:
        return plan, None
    if kind != "blocks":
        cover = sorted((d.start, d.k) for d in (d1 if kind == "first" else d2
                                                for d1, d2 in plan))
        if [s for s, _ in cover] != list(np.cumsum([0] + [k for _, k in cover[:-1]])) or \
                sum(k for _, k in cover) != n:
            return plan, None
        k = -(-n // min(workers, n))
        new = [(b, None) if kind == "first" else (plan[0][0], b)
               for b, _ in T._chunks(n, k)]

        def assemble(results):
            value = results[-1][0]
            full = np.concatenate([p for _, p in results], axis=-1)
            return [(value, full[..., (d1 if kind == "first" else d2).start:
                                 (d1 if kind == "first" else d2).start
                                 + (d1 if kind == "first" else d2).k])
                    for d1, d2 in plan]
        return new, assemble
    # Hessian blocks: m blocks give m(m+1)/2 sweeps of the upper triangle
    m = 1
    while m * (m + 1) // 2 < workers and m < n:
        m += 1
    k = -(-n // m)
    blocks = [b for b, _ in T._chunks(n, k)]
    new = [(b1, b2) for i, b1 in enumerate(blocks) for b2 in blocks[i:]]
    if len(new) <= len(plan):
        return plan, None

    def assemble(results):
        value = results[-1][0]
        if value.shape != ():
            raise AssertionError("hessian blocks of a non-scalar output")
        H = np.zeros((n, n))
        for (b1, b2), (_, t12) in zip(new, results):
            s1, k1, s2, k2 = b1.start, b1.k, b2.start, b2.k
            if s1 == s2:
                # as transforms._hessian keeps a diagonal block: its upper triangle
                t12 = np.where(np.triu(np.ones((k1, k1), bool)), t12, t12.T)
            H[s1:s1 + k1, s2:s2 + k2] = t12
            H[s2:s2 + k2, s1:s1 + k1] = t12.T
        return [(value, H[d1.start:d1.start + d1.k, d2.start:d2.start + d2.k])
                for d1, d2 in plan]
    return new, assemble


# ---------------------------------------------------------------------------------------
# for callers with their own seeds (the sparse transforms)
# ---------------------------------------------------------------------------------------

def directional_sweeps(executor, f, args, kwargs, argnum, directions, name="directional",
                       tuner=None):
    """[transforms.directional(f, args, kwargs, argnum, *d) for d in directions], bit for
    bit, with the sweeps spread over `executor` (None: here). Each item of `directions` is V
    (shape arg.shape + (k,)) or a pair (V, W) for a hyper-dual sweep. Keep a Tuner per
    prepared object and pass it on every call so the cost model remembers what a sweep
    costs (None: each call measures its first sweep)."""
    inputs = _inputs._Inputs(args, (argnum,), name)
    a = inputs.arrays[0]
    plan = []
    for d in directions:
        V, W = (d if isinstance(d, tuple) else (d, None))
        pair = []
        for M in (V, W):
            if M is None:
                pair.append(None)
                continue
            M = np.asarray(M, dtype=np.float64)
            if M.shape[:-1] != a.shape:
                raise ValueError(f"{name}: directions of shape {M.shape} for an argument of "
                                 f"shape {a.shape}")
            pair.append(_inputs._Given([M]))
        plan.append(tuple(pair))
    return planned_sweeps(executor, f, inputs, kwargs, plan, name, False, tuner)


def planned_sweeps(executor, f, inputs, kwargs, plan, name, scalar_out=False, tuner=None):
    """transforms._sweeps(f, inputs, kwargs, plan, name, scalar_out), bit for bit, with the
    sweeps spread over `executor` (None: here): for callers that build their own plan (the
    sparse Hessian's seed times windows of the identity). The plan is run as given."""
    from dualdiff import transforms as T
    if not plan:
        return []
    if executor is None:
        return T._sweeps(f, inputs, kwargs, plan, name, scalar_out)
    binding = _Binding(None, tuner if tuner is not None else Tuner(),
                       backend=_shipping.backend(executor, name), replan=False, name=name)
    token = bound.set(binding)
    try:
        return T._sweeps(f, inputs, kwargs, plan, name, scalar_out)
    finally:
        bound.reset(token)


def workers(executor, name):
    """How many workers `executor` has (what the split with chunk=None is made for)."""
    return _shipping.backend(executor, name).workers()
