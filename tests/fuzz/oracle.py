"""Run one case in this process and classify what dualdiff did with it.

Oracles (independent of the code under test wherever possible):
  * values: the same program on plain float64 numpy, bit for bit (to rounding only where
    the program uses an operation marked inexact, e.g. a BLAS product or a pairwise prod);
  * first derivatives: central finite differences of the plain program along a random
    direction, Richardson-extrapolated over three steps; a direction along which any kink
    expression of the program changes (a branch switches) is skipped, as is any element
    whose extrapolation has not converged -- tolerances are never widened instead;
  * second derivatives: H.w against finite differences of dualdiff's dense gradient along
    w, and u.H.u against the plain second difference of f along u (fully independent);
  * consistency: chunked against chunk=1 (bit for bit unless through BLAS), jvp against
    jacobian . t, hvp against hessian . v, derivative against jacobian/hessian, hessian
    symmetric, results' types and shapes as the API says, inputs unmodified.

Outcome classes: ok, expected_error (a documented error for bad input), clear_error (a clear
refusal of an unsupported operation or keyword), refused (a clear refusal of something the
API promises), unclear_error, wrong, leaked (a dual object, None or NotImplemented came
back); crash and hang are decided by the scheduler.
"""
import linecache
import re
import traceback

import numpy as np

from .program import f_source, call_source, namespace, quiet, _plain_arg

CLEAR = (TypeError, ValueError, IndexError, ZeroDivisionError)
F_FILE = "<fuzz f>"
EPS = np.finfo(float).eps
FAILING = ("unclear_error", "wrong", "leaked", "crash", "hang")

# Library faults found by this fuzzer and reported with reproducers, not yet fixed: a case
# failing in one of these ways is recorded as "known" -- counted, listed with reproducers,
# but not failing the run -- so that CI and campaigns stay readable until the fix lands.
# (transforms or None, outcome, exception type or None, regex on the message/detail, ops
# or None, the fault). Remove an entry with its fix; never add an oracle limit here.
KNOWN = []   # (transforms, outcome, exception, pattern, ops, fault)


def known_fault(case, r):
    """The KNOWN entry a failing outcome matches (its description), or None."""
    text = f"{r.get('msg', '')}\n{r.get('detail', '')}"
    for transforms, outcome, exc, pattern, ops, why in KNOWN:
        outcomes = outcome if isinstance(outcome, tuple) else (outcome,)
        if (transforms is None or case["transform"] in transforms) and r["outcome"] in outcomes \
                and (exc is None or r.get("exc") == exc) and re.search(pattern, text) and \
                (ops is None or r.get("op") in ops):
            return why
    return None
CALL_HOOK = [None]          # the worker announces each dualdiff call (a crash names it)


def announce(src):
    if CALL_HOOK[0] is not None:
        CALL_HOOK[0](src)


class Failure(Exception):
    """A check failed: `check` names which (grouping key), detail says how."""

    def __init__(self, outcome, check, detail):
        super().__init__(detail)
        self.outcome, self.check, self.detail = outcome, check, detail


# ---------------------------------------------------------------------------------------
# setting up
# ---------------------------------------------------------------------------------------

def _line_map(case, kinks=False):
    """Line number in f's source -> index of the statement it belongs to."""
    m, line = {}, 2
    for i, s in enumerate(case["body"]):
        for _ in s["lines"]:
            m[line] = i
            line += 1
        if kinks and s["kink"]:
            m[line] = i
            line += 1
    m[line] = "return"
    return m


def _mag(v):
    """The largest finite magnitude in a statement's value (0 for anything non-numeric)."""
    try:
        a = np.abs(np.asarray(v, dtype=np.float64))
        a = a[np.isfinite(a)]
        return float(a.max()) if a.size else 0.0
    except (TypeError, ValueError):
        return 0.0


def _nonfinite(v):
    """Whether a statement's value holds inf or NaN (an overflow on the way, say)."""
    try:
        return not bool(np.all(np.isfinite(np.asarray(v, dtype=np.float64))))
    except (TypeError, ValueError):
        return False


def _kink(fn):
    try:
        return fn()
    except Exception as e:              # a kink that cannot be evaluated is a marker too
        return ("error", type(e).__name__)


def build(case, plain):
    """A namespace with the constants, f and the inputs of the case."""
    ns = namespace(plain)
    with quiet():
        for name, src, plain_src in case["consts"]:
            ns[name] = eval(plain_src if plain and plain_src else src, ns)
        ns["_K"], ns["_kink"], ns["_M"], ns["_mag"] = [], _kink, [], _mag
        ns["_N"], ns["_nonfinite"] = [], _nonfinite
        src = f_source(case, kinks=plain)
        if not plain:
            # f's source where tracebacks and dualdiff's messages look for it, as for a
            # function in a file: "(in f: v5 = v2.astype(float))", not "(in f, line 4)"
            linecache.cache[F_FILE] = (len(src), None, src.splitlines(True), F_FILE)
        exec(compile(src, F_FILE, "exec"), ns)
        for line in _inputs(case):
            exec(line, ns)
    return ns


def _inputs(case):
    from .program import inputs_source
    return inputs_source(case)


def snapshot(obj):
    """Everything about an object that a transform must not change."""
    if isinstance(obj, np.ndarray):
        data = repr(obj.tolist()) if obj.dtype == object else obj.tobytes()
        return ("nd", obj.dtype.str, obj.shape, obj.strides, obj.flags.writeable, data)
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, tuple(snapshot(o) for o in obj))
    return ("obj", repr(obj))


def _where(tb_exc):
    """The statement an exception came from: the innermost frame in f."""
    for frame in reversed(traceback.extract_tb(tb_exc.__traceback__)):
        if frame.filename == F_FILE:
            return frame.lineno
    # raised on an executor's worker: the exception crossed as a pickle, and the worker's
    # traceback came along as text (dualdiff's RemoteTraceback, its __cause__); cloudpickle
    # names the file of a function it ships "<dynamic-code>" (line numbers are kept)
    cause = getattr(tb_exc, "__cause__", None)
    if cause is not None and type(cause).__name__ == "RemoteTraceback":
        lines = re.findall(r'File "(?:' + re.escape(F_FILE) + r'|<dynamic-code>)", line (\d+), '
                           r'in f\b', str(cause))
        if lines:
            return int(lines[-1])
    return None


# ---------------------------------------------------------------------------------------
# comparisons
# ---------------------------------------------------------------------------------------

def leaves(r):
    if isinstance(r, tuple):
        out = []
        for e in r:
            out += leaves(e)
        return out
    return [r]


def _num(a):
    return np.asarray(a, dtype=np.float64)


def same(a, b):
    """Equal, nan equal to nan, shapes equal."""
    a, b = _num(a), _num(b)
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


def close(a, b, rtol, scale=None):
    """Equal to rounding: |a - b| <= rtol (|b| + scale), non-finite entries equal."""
    a, b = _num(a), _num(b)
    if a.shape != b.shape:
        return False
    fin = np.isfinite(a) & np.isfinite(b)
    if not np.all((a == b) | (np.isnan(a) & np.isnan(b)) | fin):
        return False
    s = np.abs(b) + (np.max(np.abs(b[fin]), initial=0.0) if scale is None else scale)
    return bool(np.all(np.abs(a - b)[fin] <= rtol * (s if np.ndim(s) == 0 else s[fin]) + 1e-300))


def _show(a, n=6):
    a = np.asarray(a, dtype=float).ravel()
    s = np.array2string(a[:n], precision=17, separator=", ")
    return s if a.size <= n else s[:-1] + ", ...]"


def _diff_detail(what, got, want):
    got, want = _num(got), _num(want)
    if got.shape != want.shape:
        return f"{what}: shape {got.shape}, expected {want.shape}"
    bad = ~((got == want) | (np.isnan(got) & np.isnan(want)))
    i = np.flatnonzero(bad.ravel())
    j = int(i[0]) if i.size else 0
    return (f"{what}: {int(bad.sum())} of {got.size} entries differ; first at flat index {j}: "
            f"got {got.ravel()[j]!r}, expected {want.ravel()[j]!r}\n got      {_show(got)}\n "
            f"expected {_show(want)}")


# ---------------------------------------------------------------------------------------
# finite differences
# ---------------------------------------------------------------------------------------

def kinks_equal(a, b):
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(kinks_equal(x, y) for x, y in zip(a, b))
    try:
        x, y = np.asarray(a), np.asarray(b)
        if x.shape != y.shape:
            return False
        if x.dtype.kind in "fc" and y.dtype.kind in "fc":
            return bool(np.all((x == y) | (np.isnan(x) & np.isnan(y))))
        return bool(np.all(x == y))
    except Exception:
        return repr(a) == repr(b)


class FD:
    """Central differences of phi(t) (an array-valued function of a step t), extrapolated.

    estimate(h) returns (estimate, error bound, largest difference quotient) or None when
    some kink changes along the steps (the function is not one smooth piece there)."""

    def __init__(self, phi, eps=EPS):
        self.phi, self.eps = phi, eps
        self.cache = {}
        base = self.at(0.0)
        self.base = None if base is None else base[0]
        self.base_kinks = None if base is None else base[1]
        self.base_mag = None if base is None else base[2]

    def at(self, t):
        if t not in self.cache:
            try:
                self.cache[t] = self.phi(t)
            except Exception:
                self.cache[t] = None
        return self.cache[t]

    def estimate(self, h, second=False):
        steps = [h, h / 2, h / 4]
        pts, mag = {}, self.base_mag
        for s in steps:
            for t in (s, -s):
                r = self.at(t)
                if r is None or r[0].shape != self.base.shape or \
                        not kinks_equal(r[1], self.base_kinks):
                    return None
                pts[t], mag = r[0], max(mag, r[2])
        # rounding noise: relative to the largest value the program handled on the way (a
        # sum of 1e300 and -1e300 loses the small terms, whatever f's value is)
        size = np.maximum(np.max([np.abs(p) for p in pts.values()] + [np.abs(self.base)],
                                 axis=0), mag)
        if second:
            D = [(pts[s] - 2 * self.base + pts[-s]) / (s * s) for s in steps]
            noise = 16 * self.eps * size / steps[-1] ** 2
        else:
            D = [(pts[s] - pts[-s]) / (2 * s) for s in steps]
            noise = 8 * self.eps * size / steps[-1]
        R1 = (4 * D[1] - D[0]) / 3
        R2 = (4 * D[2] - D[1]) / 3
        err = np.abs(R2 - R1) + noise
        return R2, err, np.max(np.abs(D), axis=0)


NONFINITE_INPUTS = [False]     # set per case by Run.check: an inf/NaN input, constant, literal
# set per case by Run.check: a value beyond 1e150 (input, constant, literal, intermediate).
# Second-order parts multiply two first-order tangents, and a tangent of that size squared
# overflows IEEE doubles (1e300 * 1e300 = inf; times a derivative that underflowed to 0,
# NaN) where the Hessian itself is representable -- as in any forward-mode tool; and an
# expression inside one statement may overflow where no statement's value shows it
# ((1e300 * 1e300 + 0.5) ** v is 0, its derivative inf * 0). There a non-finite derivative
# is not counted wrong; a finite wrong one still is.
# Likewise below 1e-300 (a subnormal input, constant, literal or intermediate): a rule's own
# derivative there is past the doubles (log'(1e-310) = 1e310 = inf) where the composite's is
# not (d/dx log(1e-310 x) = 1/x): the chain rule multiplies f'(u) by u's tangent, so every
# forward-mode tool meets inf * 1e-310 = inf, as JAX does.
HUGE_VALUES = [False]
_HUGE = 1e150
_TINY = 1e-300
_HUGE_LITERAL = re.compile(r"\de\+(1[5-9]\d|[2-9]\d\d)|\de-(30\d|3[1-2]\d)")
FD_KINKED = [False]            # set by fd_check: a kink switched along the direction
# set by checks._fd_random while it retries along a direction that keeps the inputs' ties,
# after a kink switched along a random one: at the tie the partials along the single inputs
# need not exist (arctan2(v, v) at v = 0 jumps along e_i, fuzz 3434-5222), so a gradient's
# NaN there is no wrong number -- the tied direction's finite derivative still is checked
# wherever dualdiff gives a finite one
FD_TIED = [False]
# set per case by Run.check: an inf/NaN meets an object array of dual numbers, which
# np.array([e ... for e in x]) makes in loop-style code. numpy runs its object loops there,
# and they compare with Python's operators: fmax/fmin/maximum/minimum (and their reduce) do
# not skip or propagate NaN the way the float loops do (the first operand wins unless it
# is >= the second), logical_and/or return an operand. That is numpy's semantics for object
# arrays of any number type (Python floats too); README, "Loop-style code". The plain
# float program is then another program: its value and derivatives are not compared.
OBJECT_NAN = [False]
_OBJECT_ARRAY = re.compile(r"np\.array\(\[")


def fd_check(phi, ad, scale, h0, what, eps=EPS):
    """Compare ad (the derivative dualdiff gave along the direction phi moves in) with
    finite differences of phi (computed in precision eps). Returns the number of entries
    checked (0: FD unusable)."""
    FD_KINKED[0] = False
    fd = FD(phi, eps)
    if fd.base is None or h0 is None:
        return 0
    ad = _num(ad)
    scale = np.broadcast_to(_num(scale), ad.shape)
    failure = None
    steps = (h0, h0 / 64, h0 / 4096)
    for h in steps:
        r = fd.estimate(h, second=what.startswith("second"))
        if r is None:
            FD_KINKED[0] = True
            continue
        est, err, dmax = r
        if est.shape != ad.shape:
            raise Failure("wrong", "shape", f"{what}: derivative shape {ad.shape}, function "
                          f"output shape {est.shape}")
        # converged: the extrapolations agree to 1e-4 of the size of the difference
        # quotients themselves (never of dualdiff's answer, which is what is on trial)
        usable = np.isfinite(est) & np.isfinite(err) & \
            (err <= 1e-4 * (np.abs(est) + dmax) + 1e-12)
        s = np.abs(est) + np.where(np.isfinite(scale), scale, 0.0)
        if not usable.any():
            continue
        tol = 10 * err + 1e-7 * s + 1e-11
        bad = usable & ~(np.abs(ad - est) <= tol)
        if NONFINITE_INPUTS[0] or HUGE_VALUES[0] or FD_TIED[0]:
            # at an infinite or NaN input the rules run in IEEE arithmetic: inf/inf and
            # inf*0 give NaN where a limit exists (README, Conventions); a finite wrong
            # derivative is still a failure (and so past 1e150: HUGE_VALUES)
            bad &= np.isfinite(ad)
        if bad.any() and h != steps[-1] and failure is None:
            # a disagreement must persist at the next smaller step that can tell: the
            # extrapolations' agreement underestimates the error where higher derivatives
            # are large (exp of tan near its pole: 0.02 off at 2^-7, right at 2^-13; a
            # product of 235 factors, one of them 1e-4 from its root: unreadable at 2^-13,
            # right at 2^-19)
            failure = (h, est, err, bad)
            continue
        if bad.any():
            _fd_failure(what, ad, h, est, err, bad)
        return int(usable.sum())
    if failure is not None:
        # no smaller step could tell (rounding noise swamps them): the first step says, when
        # its disagreement is far beyond its own error bound. Extrapolation underestimates
        # the truncation error of a high-degree function (a product of 235 factors, one 1e-4
        # from its root: 1.4% off at 2^-7, with an error bound 14 times too small)
        h, est, err, bad = failure
        tol = 10 * err + 1e-7 * (np.abs(est) + np.where(np.isfinite(scale), scale, 0.0)) + 1e-11
        bad = bad & ~(np.abs(ad - est) <= 100 * tol)
        if bad.any():
            _fd_failure(what, ad, h, est, err, bad)
    return 0


def _fd_failure(what, ad, h, est, err, bad):
    i = int(np.flatnonzero(bad.ravel())[0])
    # nan/inf where the function is smooth and finite: told apart from a wrong number
    check = what if np.isfinite(ad.ravel()[i]) else what + " (dualdiff non-finite)"
    raise Failure("wrong", check, (
        f"{what}: dualdiff gives {ad.ravel()[i]!r} where finite differences give "
        f"{est.ravel()[i]!r} (error bound {err.ravel()[i]:.3g}, step {h:.3g}) at flat "
        f"index {i} of {ad.size}\n dualdiff {_show(ad)}\n FD       {_show(est)}"))


# ---------------------------------------------------------------------------------------
# running a case
# ---------------------------------------------------------------------------------------

class Run:
    """One case: both namespaces, the plain result, the call, and the checks."""

    def __init__(self, case, rng_seed=0):
        self.case = case
        self.call = case["call"]
        self.rng = np.random.default_rng([case["seed"], case["index"], 7])
        self.info = {"fd_checked": 0}
        low = case["flags"].get("lowprec")
        self.eps = {"float16": 2.0 ** -10, "float32": 2.0 ** -23}.get(low, EPS)
        self.dual = build(case, plain=False)
        self.plainns = build(case, plain=True)
        self.params = case["params"]
        self.diff = [self.params[i] for i in case["diff"]]

    # -- the plain program
    def plain_args(self, shift=None, t=0.0):
        args = []
        for p in self.params:
            obj = self.plainns[p]
            if p in self.diff and self.case["expect"] is None:
                obj = _plain_arg(obj)
                if shift is not None:
                    # a scalar stays numpy's float64 (a Python float would turn ~(x > c) into
                    # ~True == -2, say, and the plain program into another program)
                    obj = obj + t * shift[p] if not isinstance(obj, float) else \
                        np.float64(obj + t * shift[p])
            elif isinstance(obj, np.ndarray):
                obj = obj.copy()            # a program that writes into it must not leak
            args.append(obj)
        return args

    def plain(self, shift=None, t=0.0):
        """(output as float64 array, kink signature, largest intermediate magnitude) of the
        plain program."""
        ns = self.plainns
        ns["_K"], ns["_M"], ns["_N"] = [], [], []
        args = self.plain_args(shift, t)
        before = [snapshot(a) for a in args]
        with quiet():
            out = _num(ns["f"](*args))
        # arguments the program itself writes into (a.fill(0.0) of an argument that is not
        # differentiated): that is the user's code, not the transform, changing them
        self.plain_writes = {p for p, a, b in zip(self.params, args, before) if snapshot(a) != b}
        # the inputs count as values the program handled: np.sum(x) in a return expression
        # (no statement records it) of x holding 1e300 and -1e300 loses every small term
        return out, list(ns["_K"]), max(ns["_M"] + [_mag(out)] + [_mag(a) for a in args])

    def call_dual(self, **override):
        src = call_source(self.case, **override)
        announce(src)
        with quiet():
            return eval(src, self.dual)

    # -- the case
    def run(self):
        case = self.case
        objs = {p: self.dual[p] for p in self.params}
        objs.update({n: self.dual[n] for n, _, _ in case["consts"]})
        for k in ("v",) + tuple(f"t_{p}" for p in self.params):
            if k in self.dual:
                objs[k] = self.dual[k]
        before = {k: snapshot(o) for k, o in objs.items()}
        self.plain_exc = None
        try:
            self.plain_out, _, self.plain_mag = self.plain()
        except Exception as e:
            self.plain_exc = e
        try:
            result = self.call_dual()
        except Exception as e:
            r = self.classify_error(e)
        else:
            try:
                self.check_result(result)
                r = self.outcome("ok", "", "")
            except Failure as f:
                r = self.outcome(f.outcome, f.check, f.detail)
        # (a differentiated argument reaches f as a dual array: a change to the caller's
        # array is then the transform's own, whatever the program does)
        changed = [k for k, o in objs.items() if snapshot(o) != before[k] and
                   (k in self.diff or k not in getattr(self, "plain_writes", ()))]
        if changed and r["outcome"] not in ("wrong", "leaked", "unclear_error"):
            r = self.outcome("wrong", "mutated", f"the call modified {', '.join(changed)}")
        why = known_fault(case, r)
        if why is not None:
            r.update(outcome="known", was=r["outcome"], known=why)
        return r

    def outcome(self, outcome, check, detail, exc=None, stmt=None):
        r = {"outcome": outcome, "check": check, "detail": detail, **self.info}
        if exc is not None:
            r["exc"] = type(exc).__name__
            r["msg"] = str(exc).splitlines()[0][:300] if str(exc) else ""
        if isinstance(stmt, int):
            r["stmt"] = stmt
            r["op"] = self.case["body"][stmt]["op"]
        elif stmt == "return":
            r["op"] = "return"
        return r

    # -- errors
    def classify_error(self, e):
        case = self.case
        line = _where(e)
        stmt = _line_map(case).get(line) if line else None
        msg = str(e).lower()
        exp = case["expect"]
        if isinstance(e, TypeError) and "longdouble" in msg and "longdouble" in " ".join(
                [src for _, src, _ in case["consts"]] + list(_inputs(case))):
            # dualdiff computes in float64 and refuses a longdouble input or constant rather
            # than round it without a word (numpy keeps its range: (1e300)**2 is finite)
            return self.outcome("clear_error", "longdouble", "", e, stmt)
        # bad input or output is found before or after f runs: an error from inside f is
        # judged as any other
        if exp is not None and not isinstance(stmt, int):
            if type(e).__name__ in exp["types"] and any(p.lower() in msg for p in exp["phrases"]):
                return self.outcome("expected_error", "", "", e, stmt)
            if case["flags"]["handmade"] and isinstance(e, TypeError) and "by hand" in msg:
                # two faults (a hand-made Dual, and the bad input drawn): either is the answer
                return self.outcome("expected_error", "", "", e, stmt)
            return self.outcome("unclear_error", "expected", (
                f"expected {'/'.join(exp['types'])} mentioning {' or '.join(exp['phrases'])!r}, "
                f"got {type(e).__name__}: {e}"), e, stmt)
        if isinstance(e, ImportError) and "pip install" in msg:
            # an optional dependency this environment lacks (cloudpickle for an executor):
            # ImportError is Python's word for it, and the message says what to install
            return self.outcome("clear_error", "optional dependency", "", e, stmt)
        if self.plain_number(e, stmt):
            return self.outcome("clear_error", "plain number", "", e, stmt)
        if self.plain_exc is not None:
            if isinstance(e, CLEAR) or type(e) is type(self.plain_exc) or \
                    self.missing_attribute(e, stmt):
                return self.outcome("clear_error", "user error", "", e, stmt)
            return self.outcome("unclear_error", "type", (
                f"numpy raises {type(self.plain_exc).__name__}: {self.plain_exc}; dualdiff raises "
                f"{type(e).__name__}: {e}"), e, stmt)
        if not isinstance(e, CLEAR) and not self.missing_attribute(e, stmt):
            return self.outcome("unclear_error", "type", f"{type(e).__name__}: {e}\n"
                                + _tb_tail(e), e, stmt)
        if isinstance(stmt, int):
            s = case["body"][stmt]
            names = [n.lower() for n in s["names"]]
            # a message naming another function the statement's line calls is as clear:
            # np.where(np.isfinite(v2), ...) refused for isfinite names isfinite
            names += [m.lower() for line in s["lines"]
                      for m in re.findall(r"\b(?:np|dd|scipy\.special)\.(\w+)\(", line)]
        else:
            names = [case["transform"], "returned", "dual", "output"]
        if case["transform"].startswith("sparse"):
            names.append("sparsity")          # "sparsity detection: ..." is the transform's step
        if not any(n in msg for n in names):
            return self.outcome("unclear_error", "message", (
                f"{type(e).__name__}: {e}\n(the message names none of {names}; plain numpy "
                "runs this program)"), e, stmt)
        if isinstance(stmt, int) and s["promised"] and not s["extra"] and \
                not case["flags"]["handmade"]:
            return self.outcome("refused", "promised", f"{type(e).__name__}: {e}", e, stmt)
        return self.outcome("clear_error", "unsupported", "", e, stmt)

    def wider_than_numpy(self):
        """Where plain numpy raises only because the plain program holds another type than
        the dual one, by design: (a) a Python float (x.item(), a float argument) where
        dualdiff has a dual scalar, which has numpy scalars' methods (.cumprod(), ...);
        (b) a longdouble, float16 or float32 constant, which meets a dual value as float64
        (dual arrays are float64; numpy keeps the wider or narrower type and then finds no
        loop for it, scipy.special.erf of a longdouble)."""
        e, msg = self.plain_exc, str(self.plain_exc)
        if isinstance(e, AttributeError) and re.match(r"'(float|int)' object has no attribute",
                                                      msg):
            return True
        consts = " ".join(src for _, src, _ in self.case["consts"])
        return isinstance(e, TypeError) and "not supported for the input types" in msg and \
            re.search(r"longdouble|float16|float32|half|single", consts) is not None

    def missing_attribute(self, e, stmt):
        """Python's own answer to `obj.attr` that obj lacks: an AttributeError naming the
        attribute the statement itself reads (x.flags of a dual scalar). Not for an
        attribute someone else looks up (numpy's object loops calling e.arctan2())."""
        name = getattr(e, "name", None)
        if name is None:
            # an exception that crossed processes (an executor's worker) lost .name: pickling
            # keeps only the message
            m = re.search(r"has no attribute '(\w+)'", str(e))
            name = m.group(1) if m else None
        if not isinstance(e, AttributeError) or not name or not isinstance(stmt, int):
            return False
        src = "\n".join(self.case["body"][stmt]["lines"])
        return re.search(r"\.%s\b" % re.escape(name), src) is not None and name in str(e)

    def plain_number(self, e, stmt):
        """Python's AttributeError for a method of a plain Python number that f's own line
        reads: dd.NAME of a float that is not differentiated is a float, by design (plain
        type in, plain type out), and numpy's object loops hand back an element itself
        (np.fmin.reduce of an object array holding NaN); the plain program, run on
        np.float64, has the method. Python's message names the attribute and the type."""
        m = re.match(r"'(float|int)' object has no attribute '(\w+)'", str(e))
        if not isinstance(e, AttributeError) or m is None:
            return False
        src = "\n".join(self.case["body"][stmt]["lines"]) if isinstance(stmt, int) else \
            f_source(self.case) if stmt == "return" else ""
        return re.search(r"\.%s\(" % re.escape(m.group(2)), src) is not None

    # -- results
    def check_result(self, result):
        case, name = self.case, self.call["name"]
        if case["expect"] is not None:
            raise Failure("wrong", "accepted", (
                f"expected {'/'.join(case['expect']['types'])} (bad input), but the call "
                f"returned {_short(result)}"))
        if self.plain_exc is not None and self.wider_than_numpy():
            return
        if self.plain_exc is not None:
            raise Failure("wrong", "accepted", (
                f"plain numpy raises {type(self.plain_exc).__name__}: {self.plain_exc}, but "
                f"the call returned {_short(result)}"))
        if not name.startswith("sparse"):        # csr_array results: checked in checks.py
            self.check_types(result)
        from . import checks
        # any inf or NaN the program starts from: an input, a constant, a literal
        # ... or an intermediate value that overflowed (x * x of 1e300): the next rule meets
        # an infinite argument all the same
        self.plain()
        NONFINITE_INPUTS[0] = any(self.plainns["_N"]) or "np.inf" in f_source(self.case) or \
            "np.nan" in \
            f_source(self.case) or any(
                not np.all(np.isfinite(np.asarray(v, dtype=float)))
                for k, v in self.plainns.items() if not k.startswith("_") and
                isinstance(v, (float, np.generic, np.ndarray, list, tuple)) and _is_numeric(v))
        src = f_source(self.case)
        OBJECT_NAN[0] = NONFINITE_INPUTS[0] and bool(_OBJECT_ARRAY.search(src))
        HUGE_VALUES[0] = self.plain_mag > _HUGE or bool(_HUGE_LITERAL.search(src)) or any(
            _extreme(np.abs(np.asarray(v, dtype=float)))
            for k, v in self.plainns.items() if not k.startswith("_") and
            isinstance(v, (float, np.generic, np.ndarray, list, tuple)) and _is_numeric(v))
        checks.CHECKS[name](self, result)


def _extreme(a):
    """Finite magnitudes past 1e150 or nonzero below 1e-300 (HUGE_VALUES)."""
    a = a[np.isfinite(a)]
    return bool(np.any(a > _HUGE) or np.any((a > 0) & (a < _TINY)))


def _short(r):
    s = repr(r)
    return s if len(s) < 200 else s[:200] + "..."


def _tb_tail(e):
    tb = traceback.extract_tb(e.__traceback__)[-3:]
    return "".join(traceback.format_list(tb)).rstrip()


def _types_ok(leaf):
    if type(leaf) is float or type(leaf) is np.float64:
        return True
    return type(leaf) is np.ndarray and leaf.dtype == np.float64


def check_types(self, result):
    """Every leaf a float or a float64 array: never a dual object, None or NotImplemented."""
    for leaf in leaves(result):
        if not _types_ok(leaf):
            what = type(leaf).__name__ + (f" of dtype {leaf.dtype}" if isinstance(leaf, np.ndarray)
                                          else "")
            raise Failure("leaked", "type", f"the call returned a {what}: {_short(leaf)}")


Run.check_types = check_types


def run_case(case):
    """The outcome dict of one case (exceptions of the fuzzer itself become 'internal')."""
    call = case["call"]
    if isinstance(call.get("argnums"), list):           # JSON has no tuples
        case = dict(case, call=dict(call, argnums=tuple(call["argnums"])))
    try:
        return Run(case).run()
    except Failure as f:
        return {"outcome": f.outcome, "check": f.check, "detail": f.detail}
    except Exception as e:                            # a bug of the fuzzer: report it
        return {"outcome": "internal", "check": type(e).__name__,
                "detail": "".join(traceback.format_exception(e))[-2000:]}


def _is_numeric(obj):
    try:
        np.asarray(obj, dtype=float)
        return True
    except (TypeError, ValueError):
        return False

