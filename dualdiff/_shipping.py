"""What travels to an executor's workers, and what runs there: the backends (how a payload
is sent to a concurrent.futures executor or a Dask cluster, and what a round trip costs),
the payloads (f, its keywords and constants pickled once per call; the inputs and the plan
apart), and the worker's task (_work), which runs transforms._sweeps. The client's side --
when to ship, how to split, how to gather -- is dualdiff/_executor.py."""
import collections
import collections.abc
import hashlib
import io
import linecache
import os
import pickle
import threading
import time
import traceback
import types
import uuid
import weakref

import numpy as np

try:
    import cloudpickle
except ImportError:                 # optional: only lambdas and closures need it
    cloudpickle = None

_SCATTER_BYTES = 64 << 10   # Dask: payloads from this size are scattered, not inlined
_WORKERS_TTL = 2.0          # seconds a cluster's worker count is trusted

# one sweep at a time per process: the block pool and caches are per process, not per
# thread (executors that run tasks in threads, Dask's workers with several threads)
_SWEEP_LOCK = threading.RLock()


def _after_fork():
    # a pool may fork its workers from the thread that ships the sweeps while this process
    # holds the lock for its own sweep: the child must not inherit it held
    global _SWEEP_LOCK
    _SWEEP_LOCK = threading.RLock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def sweep_lock():
    """The lock a process's sweeps take turns on (re-created in a forked child)."""
    return _SWEEP_LOCK

# ---------------------------------------------------------------------------------------
# executors
# ---------------------------------------------------------------------------------------

class _Backend:
    """An executor as the sweeps see it: how many workers, how to send a payload, what a
    round trip costs (an average of what calls observed)."""
    prior_overhead = 1e-3

    def __init__(self, executor):
        self.executor = executor
        # the median of recent calls, seeded with the prior twice: one slow call (a worker's
        # first task imports dualdiff) does not move it
        self._seen = collections.deque([self.prior_overhead] * 2, maxlen=7)
        self.overhead = self.prior_overhead

    def workers(self):
        for attr in ("_max_workers", "num_workers", "max_workers"):
            w = getattr(self.executor, attr, None)
            if isinstance(w, int) and w > 0:
                return w
        return os.cpu_count() or 1

    def ship(self, data, key, keep):
        """What a task receives in place of the payload bytes (keep: the same bytes may be
        sent again by later calls)."""
        return data

    def submit(self, *args):
        return self.executor.submit(_work, *args)

    def observe(self, wall, computes, workers):
        """Fold one call's overhead -- the time beyond what its tasks computed, spread over
        the workers -- into the estimate."""
        ideal = max(max(computes), sum(computes) / max(1, workers)) if computes else 0.0
        self._seen.append(max(0.0, wall - ideal))
        self.overhead = float(np.median(self._seen))


class _DaskBackend(_Backend):
    """Dask's Client.get_executor(): large payloads are scattered once and reach each worker
    once (Dask keeps them while a future refers to them); f's payload is reused across calls
    while its bytes are unchanged. Workers are counted as processes: tasks sharing a
    process take turns (_SWEEP_LOCK)."""
    prior_overhead = 3e-3

    def __init__(self, executor):
        super().__init__(executor)
        self.client = executor._client
        self._workers = (0, 0.0)
        self._scattered = collections.OrderedDict()

    def workers(self):
        n, when = self._workers
        now = time.monotonic()
        if now - when > _WORKERS_TTL:
            n = max(1, len(self.client.nthreads()))
            self._workers = (n, now)
        return n

    def ship(self, data, key, keep):
        if len(data) < _SCATTER_BYTES:
            return data
        fut = self._scattered.get(key) if keep else None
        if fut is None:
            fut = self.client.scatter(data, hash=False)
            if keep:
                self._scattered[key] = fut
                while len(self._scattered) > 4:
                    self._scattered.popitem(last=False)
        return fut


_BACKENDS = weakref.WeakKeyDictionary()


def backend(executor, name):
    if type(executor).__module__.startswith("distributed") and \
            hasattr(executor, "get_executor") and not hasattr(executor, "_client"):
        executor = executor.get_executor()            # a Dask Client given directly
    if not callable(getattr(executor, "submit", None)) or isinstance(executor, type):
        raise TypeError(
            f"{name}: executor must be a concurrent.futures.Executor (an object with a submit "
            "method), e.g. concurrent.futures.ProcessPoolExecutor(), loky's "
            "get_reusable_executor() or a Dask Client's get_executor(); got "
            f"{type(executor).__name__} ({executor!r:.60})")
    try:
        b = _BACKENDS.get(executor)
    except TypeError:                                 # not weakly referenceable
        b = None
    if b is None:
        dask = type(executor).__module__.startswith("distributed") and \
            hasattr(executor, "_client")
        b = (_DaskBackend if dask else _Backend)(executor)
        try:
            _BACKENDS[executor] = b
        except TypeError:
            pass
    return b


# ---------------------------------------------------------------------------------------
# payloads
# ---------------------------------------------------------------------------------------

_ATOMIC = (int, float, complex, bool, str, bytes, type(None))


def _pickler_class():
    base = cloudpickle.Pickler if cloudpickle is not None else pickle.Pickler

    class _Pickler(base):
        """Objects of the static payload (the constant arguments) are written as references
        to it: they travel once, with f."""

        def __init__(self, file, refs):
            super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
            self._refs = refs

        def persistent_id(self, obj):
            return self._refs.get(id(obj)) if self._refs else None

    table = getattr(base, "dispatch_table", None) if cloudpickle is not None else None
    code_reduce = table.get(types.CodeType) if isinstance(table, collections.abc.Mapping) \
        else None
    if code_reduce is not None:
        _Pickler.dispatch_table = collections.ChainMap(
            {types.CodeType: lambda code: _code_reduce(code_reduce, code)},
            base.dispatch_table)
    return _Pickler


def _code_reduce(reduce, code):
    """cloudpickle's reduction of a function's code, with two things put back that a worker
    needs to say where an error came from: the file name (cloudpickle writes
    "<dynamic-code>"), and for code without a file on disk (exec'd, a notebook cell, a
    REPL) the source lines themselves. Then "float() of a Dual would lose its derivative
    (in f: v5 = v3.astype(float))" reads the same on a worker as here."""
    ctor, args = reduce(code)[:2]
    args = tuple(code.co_filename if a == "<dynamic-code>" and type(a) is str else a
                 for a in args)
    name = code.co_filename
    entry = linecache.cache.get(name) if name.startswith("<") else None
    if entry is None or len(entry) < 3:
        return ctor, args
    return _rebuild_code, (ctor, args, name, "".join(entry[2]))


def _rebuild_code(ctor, args, name, source):
    """The worker's side of _code_reduce: the code object, its source lines registered in
    linecache (mtime None: checkcache leaves such entries alone) unless this process
    already has them."""
    if name not in linecache.cache:
        linecache.cache[name] = (len(source), None, source.splitlines(True), name)
    return ctor(*args)


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, consts):
        super().__init__(file)
        self._consts = consts

    def persistent_load(self, pid):
        return self._consts[pid]


def _dumps(obj, refs, name, what):
    buf = io.BytesIO()
    try:
        _pickler_class()(buf, refs).dump(obj)
    except Exception as exc:
        if cloudpickle is None:
            raise ImportError(
                f"{name}: cannot send {what} to the executor's worker processes with the "
                f"standard pickle ({type(exc).__name__}: {exc}); lambdas, closures and "
                "functions defined interactively need cloudpickle: pip install cloudpickle "
                "(or the checkout's extra: pip install '.[distributed]')") from exc
        raise TypeError(
            f"{name}: cannot send {what} to the executor's worker processes "
            f"({type(exc).__name__}: {exc}); make it picklable, or call the transform "
            "without executor=") from exc
    return buf.getvalue()


def payloads(f, inputs, kwargs, plan, name):
    """(static bytes, its digest, dynamic bytes, a token): f, keywords and the constant
    arguments; the inputs and the plan, whose references to the constants point into the
    static part."""
    diff = set(getattr(inputs, "nums", ()))
    consts = [a for i, a in enumerate(getattr(inputs, "args", ())) if i not in diff]
    static = _dumps((f, kwargs, consts), None, name, "the function, its keywords or its "
                    "constant arguments")
    refs = {id(c): j for j, c in enumerate(consts) if not isinstance(c, _ATOMIC)}
    dynamic = _dumps((inputs, plan), refs, name, "the inputs")
    digest = hashlib.blake2b(static, digest_size=16).hexdigest()
    return static, digest, dynamic, uuid.uuid4().hex


# ---------------------------------------------------------------------------------------
# the worker's side
# ---------------------------------------------------------------------------------------

# payload key -> unpickled object, on each worker: f's payload is reused across calls, the
# inputs across the tasks of one call
_LOADED = {"s": (collections.OrderedDict(), 4), "d": (collections.OrderedDict(), 2)}


def _load(data, kind, key, consts):
    cache, size = _LOADED[kind]
    obj = cache.get(key)
    if obj is None:
        obj = _Unpickler(io.BytesIO(data), consts).load()
        cache[key] = obj
        while len(cache) > size:
            cache.popitem(last=False)
    else:
        cache.move_to_end(key)
    return obj


def _pack_exception(exc):
    """The exception as bytes the client can load: itself if it survives pickling, else a
    RuntimeError carrying its type and message."""
    try:
        data = pickle.dumps(exc)
        pickle.loads(data)
        return data
    except Exception:
        return pickle.dumps(RuntimeError(
            f"{type(exc).__module__}.{type(exc).__qualname__}: {exc} (the worker's exception "
            "could not be pickled, so it comes back as this RuntimeError)"))


_warm = False        # this process has run a task: dualdiff was imported for an earlier one


def _work(static, digest, dynamic, token, lo, hi, name, scalar_out):
    """A task: sweeps lo..hi-1 of the plan, run by transforms._sweeps on this worker.
    Returns ("ok", results, seconds, cold) or ("error", exception bytes, traceback, sweep);
    cold: the worker's first task, which paid for importing dualdiff."""
    global _warm
    cold, _warm = not _warm, True
    t0 = time.perf_counter()
    i = lo
    try:
        from dualdiff import _arrays, transforms
        # the block pool whatever the input's size: a worker's temporaries are a sweep's,
        # and fresh memory page-faults on every touch (Dask's workers run with
        # MALLOC_TRIM_THRESHOLD_=65536, which makes glibc return freed blocks at once)
        with sweep_lock(), _arrays.pooled():
            f, kwargs, consts = _load(static, "s", digest, None)
            inputs, plan = _load(dynamic, "d", token, consts)
            results = []
            for i in range(lo, hi):       # one at a time: an error names its sweep
                results += transforms._sweeps(f, inputs, kwargs, plan[i:i + 1], name,
                                              scalar_out)
        return ("ok", results, time.perf_counter() - t0, cold)
    except Exception as exc:
        return ("error", _pack_exception(exc), traceback.format_exc(), i)
