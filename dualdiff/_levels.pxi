# Levels and tags: which transform each infinitesimal of a dual value belongs to (nested
# transforms). Included by _core.pyx (plain Cython, no template).

# ---- levels ----------------------------------------------------------------------------
# A dual value carries one infinitesimal per *level*; each level belongs to a transform and
# carries that transform's tag (HyperDual: two levels, e1 and e2). Transforms take fresh,
# increasing tags, so a transform called inside another (nested) has the larger tag: levels
# are ordered by tag, and a value of an outer transform is a constant of an inner one -- the
# known cure for perturbation confusion (JAX's trace levels, ForwardDiff's ordered tags). A
# scalar keeps its levels' tags in one integer, its `tag` key: Dual t; HyperDual t1 | t2 << 32
# (t1 <= t2; a Hessian's own values have t1 == t2). Operands whose keys differ (a nested
# transform's value meets an outer one) go to the array path, which aligns their levels.

cdef long long level_key2(long long t1, long long t2):
    """The tag key of a two-level scalar (levels t1 <= t2)."""
    return t1 | (t2 << 32)


def tag_of(x):
    """The tags of the levels of a Dual, HyperDual, DualVec or HyperDualVec (0: made by hand)."""
    if type(x) is Dual:
        return ((<Dual>x).tag,)
    if type(x) is HyperDual:
        return ((<HyperDual>x).tag & 0xffffffff, (<HyperDual>x).tag >> 32)
    if type(x) is DualVec:
        return ((<DualVec>x).tag,)
    if type(x) is HyperDualVec:
        return ((<HyperDualVec>x).tag & 0xffffffff, (<HyperDualVec>x).tag >> 32)
    raise TypeError(f"tag_of expects a dual scalar, not {type(x).__name__}")


# the transforms running now, in the order they started: a value whose levels include a tag
# not among them escaped its transform (kept in a closure or a global and used later). One
# list for the process, not a stack per thread: transforms run in threads (a thread pool
# calling dd.grad, an executor's worker threads) start and finish in any order, so each
# leaves by removing its own tag alone (tags are never reused); an inner transform running
# in a worker thread still sees the outer transform that called it (fuzz: nested transforms
# in 4 threads, where a stack cut at the finishing tag refused 161 of 240 calls).
cdef enum:
    _MAX_RUNNING = 4096
cdef long long _active[_MAX_RUNNING]
cdef int _n_active = 0


def enter(long long tag):
    """A transform with this tag starts its sweeps."""
    global _n_active
    if _n_active == _MAX_RUNNING:
        raise RecursionError(f"dualdiff: more than {_MAX_RUNNING} transforms running at once "
                             "(nested, or in threads)")
    _active[_n_active] = tag
    _n_active += 1


def leave(long long tag):
    """The transform with this tag has finished (normally or not)."""
    global _n_active
    cdef int i
    for i in range(_n_active - 1, -1, -1):
        if _active[i] == tag:
            _n_active -= 1
            memmove(&_active[i], &_active[i + 1], (_n_active - i) * sizeof(long long))
            return


def innermost():
    """The tag of the transform started last among those running (the innermost one in one
    thread), 0 outside every transform: what a cache of one sweep keys on (tags are never
    reused, so it cannot outlive its call)."""
    return _active[_n_active - 1] if _n_active else 0


def active(long long tag):
    """Whether a transform with this tag is running."""
    cdef int i
    for i in range(_n_active):
        if _active[i] == tag:
            return True
    return False


cdef inline int _pending() except -1:
    """-1 with the exception numpy left set, before any slow path runs Python code: numpy's
    object loops (np.dot of object arrays) call the next element's operator before they look
    for an error of the previous one, and a call made while an exception is set comes back as
    a SystemError instead of the message."""
    return -1 if PyErr_Occurred() != NULL else 0


cdef object _mixed(object ufunc, object a, object b):
    """Scalars whose levels differ (a nested transform's value meets an outer one), or of two
    kinds: the array path aligns their levels, or says why they cannot meet."""
    _pending()
    return _array_ufunc(ufunc, "__call__", (a, b), {})


LOST_ARRAY = ("converting a dual array to a plain number or numpy array would lose its "
              "derivative. Keep it an array and use numpy functions on it (np.sin, np.sum, "
              "np.where, ...), or take .real if you want the values alone.")

cdef str _LOST = ("{}() of a {} would lose its derivative{}. Use dualdiff's or numpy's function "
                  "instead of the math module (dd.sin or numpy.sin, not math.sin), build arrays "
                  "with np.stack([...]) rather than assigning into a float array (a[i] = ..., "
                  "out=a), or take "
                  ".real if you want the value alone.")


# np.vectorize calls its function on dual scalars (the array arrives as an object array) but
# stores the results in an array of otypes, or with signature= in one shaped like the first
# result: a float array unless told otherwise
cdef str _LOST_VECTORIZE = ("{}() of a {} would lose its derivative: np.vectorize stores its "
                            "function's results in a float array (otypes=[float], or signature= "
                            "without otypes). Give otypes=[object]: the result is then an array "
                            "of dual numbers, which numpy's functions and the transforms take.")


cdef bint _in_vectorize(object frame):
    """Whether frame or one of its numpy callers runs a method of np.vectorize."""
    while frame is not None and is_numpy_module(frame.f_globals.get("__name__")):
        if isinstance(frame.f_locals.get("self"), np.vectorize):
            return True
        frame = frame.f_back
    return False


cdef str _lost(str conv, str cls):
    """_LOST naming who asked: numpy's function (np.var of an object array into a float out=)
    or the line of the caller's code (x.astype(int), math.sin(x)), when it can be found."""
    _pending()
    import sys, linecache
    cdef object frame = sys._getframe(0)       # compiled code has no frame: the caller's
    who = ""
    while frame is not None:
        mod = frame.f_globals.get("__name__") or "__main__"
        if is_numpy_module(mod):
            if _in_vectorize(frame):
                return _LOST_VECTORIZE.format(conv, cls)
            # the outermost numpy frame is the public function the user called (np.sum, not
            # its helper _wrapreduction), then the user's line that called it
            name = frame.f_code.co_name
            caller = frame.f_back
            while caller is not None and is_numpy_module(caller.f_globals.get("__name__")):
                name, caller = caller.f_code.co_name, caller.f_back
            line = "" if caller is None else \
                linecache.getline(caller.f_code.co_filename, caller.f_lineno).strip()
            who = f" (asked by numpy's {name.strip('_')}" + \
                (f", in {caller.f_code.co_name}: {line})" if line else ")")
            break
        if not mod.startswith("dualdiff"):
            line = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
            if "arange(" in line:
                # np.arange is C without dispatch: its bounds arrive here as numbers
                return (f"{conv}() of a {cls} would lose its derivative (in "
                        f"{frame.f_code.co_name}: {line}): np.arange's bounds set how many "
                        "points there are, which has no derivative; use np.linspace(start, "
                        "stop, num) with dual endpoints, or np.arange(n) * step + start")
            who = f" (in {frame.f_code.co_name}: {line})" if line else \
                f" (in {frame.f_code.co_name}, line {frame.f_lineno})"
            break
        frame = frame.f_back
    return _LOST.format(conv, cls, who)


cdef double _real_arg(object o, str cls, str name) except? -1.0:
    if PyFloat_Check(o):
        return PyFloat_AS_DOUBLE(o)
    if (PyLong_Check(o) or isinstance(o, _NP_REAL)) and not isinstance(o, np.timedelta64):
        return real_value(o, f"{cls}() argument '{name}'")
    raise TypeError(f"{cls}() argument '{name}' must be a real number, not "
                    f"{type(o).__name__} ({o!r:.40})")
