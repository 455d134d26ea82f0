"""Generated programs: one case = a function f written as numpy source, its inputs, and the
transform call that differentiates it.

generate(seed, index) is deterministic: it builds the case by running each drawn statement
on plain float64 numpy as it goes (so every statement is valid numpy with known shapes, and
operations are drawn to fit the values they meet). A case is a plain dict of source strings
(JSON-serializable: the scheduler ships cases to worker processes and writes reproducers
from them).
"""
import contextlib
import re
import warnings

import numpy as np

from . import ops as OPS
from .values import (CONST_DTYPES, HELPERS, INPUT_DTYPES, LAYOUT_WEIGHTS, array_literal,
                     big_vector_source, fmt, helpers_used, nice_floats, pick,
                     values_for_dtype, wrap_layout)

TRANSFORMS = {"grad": 4, "value_and_grad": 2, "jacobian": 3, "hessian": 2, "jvp": 2, "hvp": 2,
              "derivative": 3, "sparse_jacobian": 1.5, "sparse_hessian": 1.5}
SCALAR_OUT = {"grad", "value_and_grad", "hessian", "hvp", "sparse_hessian"}
SPARSE = ("sparse_jacobian", "sparse_hessian")
EXECUTOR = ("grad", "jacobian")      # transforms drawn with executor= now and then
CHUNKS = [None, 1, 2, 3, 7]
MAX_SIZE = 2000             # largest intermediate a program may build (elements)
PREAMBLE = "\n".join(["import concurrent.futures", "import math", "import fractions",
                      "import numpy as np", "import scipy.special", "import dualdiff as dd"])
_POOL = []                  # this process's one thread pool for executor= (made on first use)


def shared_executor():
    """One ThreadPoolExecutor(2) for every case this process runs (a pool per case would
    leave idle threads behind until the garbage collector finds the namespace)."""
    if not _POOL:
        import concurrent.futures
        _POOL.append(concurrent.futures.ThreadPoolExecutor(2))
    return _POOL[0]


class _Float64Results:
    """dualdiff's module as the plain program sees it: its functions answer np.float64 where
    they answer a Python float.

    Why: the oracle runs f on numpy's float64 (scalar inputs included), because the dual
    scalars stand in for np.float64 -- they carry its ndarray methods (.sum(), .reshape(),
    .copy(), .max(), ...), as numpy's own functions return np.float64 for float64 input.
    dd.sigmoid, dd.erf, ... return a Python float for a float input, which has none of those
    methods: `dd.sigmoid(x).sum()` would raise on the plain side and make the dual answer
    look "accepted where numpy raises". Plain numpy on np.float64 is the reference."""

    def __init__(self, module):
        self._module = module

    def __getattr__(self, name):
        obj = getattr(self._module, name)
        if not callable(obj) or isinstance(obj, type):
            return obj

        def call(*args, **kwargs):
            r = obj(*args, **kwargs)
            return np.float64(r) if type(r) is float else r
        return call


def namespace(plain=False):
    """Globals for evaluating a case's sources: the modules and every helper (for the plain
    program, dualdiff's functions answering np.float64)."""
    ns = {}
    exec(PREAMBLE, ns)
    for name, src in HELPERS.items():
        if name == "EX":
            ns["EX"] = shared_executor()
        else:
            exec(src, ns)
    if plain:
        ns["dd"] = _Float64Results(ns["dd"])
    return ns


@contextlib.contextmanager
def quiet():
    """numpy's floating point warnings off (out-of-domain values are part of the game)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


def kind_of(a):
    """What a statement produced: "num" (floats, which operations take), "bool" (masks),
    "int", or "other" (tuples, None, complex, ...)."""
    dt = getattr(a, "dtype", None)
    if isinstance(a, (bool, np.bool_)) or dt == bool:
        return "bool"
    if isinstance(a, float) or (dt is not None and dt.kind == "f"):
        return "num"
    if isinstance(a, int) or (dt is not None and dt.kind in "iu"):
        return "int"
    return "other"


class Var:
    def __init__(self, name, value, dual):
        self.name, self.value, self.dual, self.kind = name, value, dual, kind_of(value)


class Gen:
    """State while drawing one program; the operation table calls these drawing helpers."""

    def __init__(self, rng, plain_ns, dual_ns):
        self.rng, self.plain, self.dual_ns = rng, plain_ns, dual_ns
        self.vars, self.consts, self.body = [], [], []
        self.handmade_used = False
        self.draw_errors = []

    # -- basics
    def p(self, prob):
        return self.rng.random() < prob

    def pick(self, seq):
        return seq[int(self.rng.integers(len(seq)))]

    def lit(self):
        """A scalar constant as users write them."""
        r = self.rng.random()
        v = float(np.round(self.rng.uniform(-2, 2), 2)) or 0.5
        if r < 0.55:
            return fmt(v)
        if r < 0.7:
            return str(int(self.rng.integers(-3, 4)) or 2)
        if r < 0.8:
            return f"np.float32({fmt(v)})"
        if r < 0.85:
            return f"np.float64({fmt(v)})"
        if r < 0.88:
            return f"np.int64({int(self.rng.integers(1, 4))})"
        if r < 0.9:
            return "True"
        return self.pick(["np.nan", "np.inf", "-np.inf", "0.0", "-0.0", "1e+300", "5e-324",
                          "1e-310"])

    def num_vars(self, dual=None):
        return [v for v in self.vars if v.kind == "num" and (dual is None or v.dual == dual)]

    def other_var(self, pred):
        cands = [v for v in self.vars if v.kind == "num" and pred(v.value)]
        return self.pick(cands).name if cands else None

    # -- constants
    def const(self, shape, dtype=None, layout=None, special_p=None, plain_src=None):
        """Register a constant array (or scalar for shape ()) and return its name."""
        shape = tuple(int(s) for s in shape)
        dtype = dtype or pick(self.rng, CONST_DTYPES)
        layout = layout or (pick(self.rng, LAYOUT_WEIGHTS) if shape else "C")
        if special_p is None:
            special_p = 0.1 if self.p(0.15) else 0.0
        vals = values_for_dtype(self.rng, shape, dtype, special_p)
        src = array_literal(vals, shape, dtype)
        if layout in ("F", "transposed_view") and len(shape) < 2:
            layout = "C"
        src = wrap_layout(src, layout)
        return self.add_const(src, plain_src)

    def add_const(self, src, plain_src=None):
        name = f"C{len(self.consts)}"
        self.consts.append((name, src, plain_src))
        with quiet():
            self.plain[name] = eval(plain_src or src, self.plain)
            self.dual_ns[name] = eval(src, self.dual_ns)
        return name

    def handmade(self):
        self.handmade_used = True
        re_ = fmt(round(float(self.rng.uniform(0.5, 2)), 2))
        eps = fmt(round(float(self.rng.uniform(-1, 1)), 2))
        if self.p(0.3):
            return self.add_const(f"dd.HyperDual({re_}, {eps}, 0.5, 0.25)", re_)
        return self.add_const(f"dd.Dual({re_}, {eps})", re_)

    # -- operands
    def broadcast_shape(self, shape):
        """A shape that broadcasts against `shape` (occasionally one that does not)."""
        shape = tuple(shape)
        opts = [shape, shape, (), shape[-1:], (1,) + shape]
        if len(shape) >= 2:
            opts.append(tuple(1 if self.p(0.5) else s for s in shape))
            opts.append(shape[1:])
        if self.p(0.02) and shape:
            opts = [shape[:-1] + (shape[-1] + 1,)]
        return self.pick(opts)

    def operand(self, a, dom=None):
        """The second operand of an elementwise operation with a."""
        shape = np.shape(a.value)
        r = self.rng.random()
        if r < 0.25:
            cands = [v for v in self.num_vars() if np.shape(v.value) == shape]
            if cands:
                name = self.pick(cands).name
                return f"({name} * {name} + 0.5)" if dom else name
        if r < 0.3:
            return f"({a.name} * {a.name} + 0.5)" if dom else a.name
        if r < 0.6:
            s = self.lit()
            return s if not dom or s.lstrip("-").replace(".", "").isdigit() and float(s) != 0 \
                else self.pick(["0.5", "2.0", "-1.5", "3"])
        b = self.const(self.broadcast_shape(shape))
        return f"({b} * {b} + 0.5)" if dom else b

    def same_shape_operand(self, a):
        """Something of a's exact shape: a variable, a constant, or an expression of a."""
        shape = tuple(np.shape(a.value))
        r = self.rng.random()
        cands = [v for v in self.num_vars() if np.shape(v.value) == shape and v is not a]
        if r < 0.35 and cands:
            return self.pick(cands).name
        if r < 0.5:
            return self.pick([f"{a.name} * 2.0", f"np.sin({a.name})", f"-{a.name}"])
        if r < 0.6:
            return a.name
        return self.const(shape)

    def axis(self, ndim, tuple_=True, none=True, bad=0.02):
        """Source of an axis argument (None means: leave the keyword out)."""
        if ndim == 0:
            return None if none or not self.p(0.5) else "0"
        r = self.rng.random()
        if none and r < 0.3:
            return None
        if self.p(bad):
            return str(ndim)                        # out of range: numpy raises AxisError
        if tuple_ and r > 0.85 and ndim >= 2:
            k = int(self.rng.integers(1, ndim + 1))
            axes = sorted(self.rng.choice(ndim, k, replace=False).tolist())
            return str(tuple(axes))
        ax = int(self.rng.integers(-ndim, ndim))
        return str(ax)

    def mask(self, shape, a):
        """A boolean array of `shape`: a comparison of a's values (data-dependent, so a kink),
        or a constant mask. Returns (source, kink source or None)."""
        if self.p(0.6):
            c = fmt(round(float(self.rng.uniform(-1, 1)), 2))
            src = self.pick([f"({a.name} > {c})", f"({a.name} <= {c})", f"(np.abs({a.name}) < 1.0)",
                             f"np.isfinite({a.name})", f"~({a.name} > {c})",
                             f"(np.float64({c}) < {a.name})", f"np.greater_equal({a.name}, {c})"])
            return src, src
        vals = (self.rng.random(int(np.prod(shape))) < 0.6).astype(float)
        return self.add_const(array_literal(vals, shape, "bool")), None

    def reduction_kwargs(self, a, kws, extra_kws):
        """Keyword arguments of a reduction: the basic ones of `kws`, and with some probability
        one of `extra_kws` (where=, initial=, out=, dtype=...). Returns (dict, names, extra,
        lines to run first, kink source of a where= mask that compares values or None)."""
        ndim = np.ndim(a.value)
        kw, names, pre, mask_kink = {}, [], [], None
        for k in kws:
            if k == "axis":
                ax = self.axis(ndim)
                if ax is not None:
                    kw["axis"] = ax
            elif k == "keepdims" and self.p(0.3):
                kw["keepdims"] = "True"
            elif k == "ddof" and self.p(0.4):
                kw["ddof"] = self.pick(["1", "0", "5", "np.int64(1)"])
            elif k == "dtype" and self.p(0.15):
                kw["dtype"] = self.pick(["np.float64", "float", "np.float32", "int"])
                if kw["dtype"] in ("np.float32", "int"):
                    names.append("dtype")
        extra = any(v in ("np.float32", "int") for k, v in kw.items() if k == "dtype")
        if extra_kws and self.p(0.2):
            k = self.pick(list(extra_kws))
            extra = True
            names.append(k)
            if k == "where":
                m, mask_kink = self.mask(np.shape(a.value), a) if self.p(0.3) else (self.add_const(
                    array_literal((self.rng.random(max(np.size(a.value), 0)) < 0.7).astype(float),
                                  np.shape(a.value), "bool")), None)
                kw["where"] = m
                if "initial" in extra_kws:
                    kw["initial"] = self.pick(["-10.0", "10.0", "0.0"])
            elif k == "initial":
                kw["initial"] = self.pick(["1.5", "-10.0", "10.0", "0.0"])
            elif k == "dtype":
                kw["dtype"] = self.pick(["np.float32", "int"])
            elif k == "out":
                pre = ["{t} = np.zeros(%s)" % (self._result_shape(a, kw),)]
                kw["out"] = "{t}"
        return kw, tuple(names), extra, pre, mask_kink

    def _result_shape(self, a, kw):
        try:
            ax = eval(kw.get("axis", "None"))
            keep = kw.get("keepdims") == "True"
            return np.sum(np.zeros(np.shape(a.value)), axis=ax, keepdims=keep).shape
        except Exception:
            return ()

    # -- statements
    def primary(self):
        duals = self.num_vars(dual=True)
        if duals and self.p(0.85):
            return self.pick(duals[-3:] if self.p(0.6) else duals)
        nums = self.num_vars()
        return self.pick(nums) if nums else None

    def run(self, lines, target):
        """Run lines in the plain namespace; the value of the target, or the exception."""
        src = "\n".join(line.replace("{t}", target) for line in lines)
        try:
            with quiet():
                exec(src, self.plain)
            return self.plain[target], None
        except Exception as e:               # the statement is not valid numpy here
            return None, e

    def step(self, allow_invalid):
        """Draw one statement; returns False when the program should stop."""
        target = f"v{len(self.body) + 1}"
        for _ in range(25):
            a = self.primary()
            if a is None:
                return False
            cands = [op for op in OPS.OPS if op.accepts(a.value)]
            w = np.array([op.weight for op in cands])
            op = cands[self.rng.choice(len(cands), p=w / w.sum())]
            n_consts = len(self.consts)
            try:
                d = op.draw(self, a)
            except Exception as e:          # a drawer that cannot fit this operand: retry
                self.draw_errors.append(f"{op.name}: {type(e).__name__}: {e}")
                del self.consts[n_consts:]
                continue
            value, err = self.run(d.lines, target)
            if err is None and np.size(value) > MAX_SIZE:
                err = "too big"
            if err is not None and not (allow_invalid and isinstance(err, Exception)
                                        and self.p(0.04)):
                del self.consts[n_consts:]
                continue
            used = set(re.findall(r"\b(?:v\d+|x|a)\b", "\n".join(d.lines)))
            dual = any(v.dual for v in self.vars if v.name in used)
            self.body.append({"target": target, "lines": d.lines, "kink": d.kink, "op": op.name,
                              "names": list(d.names), "extra": d.extra, "promised": op.promised,
                              "exact": d.exact, "chunk_exact": d.chunk_exact,
                              "numpy_error": None if err is None else type(err).__name__})
            if err is not None:
                return False
            self.vars.append(Var(target, value, dual))
            return True
        return False

    def scalarize(self, v, nonlinear):
        if np.ndim(v.value) == 0 and self.p(0.5):
            return v.name if not nonlinear else f"{v.name} * {v.name}"
        forms = ["np.sum({v})", "{v}.sum()", "np.sum({v} * {v})", "np.sum(np.sin({v}))",
                 "np.mean({v})" if np.size(v.value) else "np.sum({v})"]
        if nonlinear:
            forms = ["np.sum({v} * {v})", "np.sum(np.sin({v}))", "np.sum(np.exp(-{v} * {v}))",
                     "np.sum({v}) ** 2", "np.sum({v} * {v} * {v})"]
        return self.pick(forms).format(v=v.name)


# ---------------------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------------------

def _scalar_input(rng, special):
    v = float(np.round(rng.uniform(-2, 2), 3)) or 0.75
    n = int(round(v)) or 1
    if special:
        v = float(rng.choice([np.nan, np.inf, 0.0, -0.0, 1e300, 5e-324, 1e-310]))
    forms = {"float": (fmt(v), True), "int": (str(n), True),
             "np.float32": (f"np.float32({fmt(v)})", True),
             "np.float64": (f"np.float64({fmt(v)})", True),
             "np.int64": (f"np.int64({n})", True),
             "0-d array": (f"np.array({fmt(v)})", True),
             # a Python number (API.md: inputs are Python numbers), differentiated at its
             # float value as an int is
             "Fraction": ("fractions.Fraction(3, 2)", True),
             "bool": ("True", False), "complex": (f"complex({fmt(v)}, 1.0)", False),
             "str": (f"'{v}'", False), "None": ("None", False)}
    w = {"float": 20, "int": 2, "np.float32": 2, "np.float64": 2, "np.int64": 1, "0-d array": 3,
         "Fraction": 0.5, "bool": 0.3, "complex": 0.3, "str": 0.2, "None": 0.2}
    kind = pick(rng, w)
    return forms[kind][0], forms[kind][1], kind


def _shape(rng, transform):
    if transform == "derivative":
        return ()
    if transform in ("hessian", "sparse_hessian"):
        kind = pick(rng, {"0d": 1, "vec": 6, "mat": 2, "multi": 0.5, "empty": 0.3,
                          "big": 0.5 if transform == "sparse_hessian" else 0})
        if kind == "multi":
            return (int(rng.integers(33, 41)),)
        if kind == "big":           # beyond one compressed window: the tracer's numeric mode
            return (int(rng.integers(129, 161)),)
    else:
        kind = pick(rng, {"0d": 1, "vec": 5, "mat": 2, "3d": 1, "high": 0.5, "empty": 0.5,
                          "big": 1.5 if transform != "hvp" else 1.0})
    if kind == "0d":
        return ()
    if kind == "vec":
        return (int(rng.integers(1, 13)),)
    if kind == "mat":
        return (int(rng.integers(1, 5)), int(rng.integers(1, 5)))
    if kind == "3d":
        return tuple(int(s) for s in rng.integers(1, 4, 3))
    if kind == "high":
        return tuple(int(s) for s in rng.integers(1, 3, int(rng.integers(4, 7))))
    if kind == "empty":
        return [(0,), (2, 0), (0, 3)][int(rng.integers(3))]
    return (int(rng.integers(129, 301 if transform != "hvp" else 160)),)


def _array_input(rng, shape, special):
    """Source of a differentiated array argument; (src, valid, description)."""
    dtype = pick(rng, INPUT_DTYPES)
    valid = INPUT_DTYPES[dtype][1]
    if len(shape) == 1 and shape[0] > 128:
        src = big_vector_source(rng, shape[0])
        if special:
            pos = sorted(rng.choice(shape[0], 2, replace=False).tolist())
            src = f"np.where(np.isin(np.arange({shape[0]}), {pos}), np.nan, {src})"
        dtype = "float64"
        valid = True
    else:
        vals = values_for_dtype(rng, shape, dtype, 0.2 if special else 0.0)
        src = array_literal(vals, shape, dtype)
        if rng.random() < 0.1 and dtype == "float64" and len(shape) <= 2 and valid:
            src = _list_literal(vals.reshape(shape).tolist(), rng.random() < 0.7)
            return src, True, "list"
    layout = pick(rng, LAYOUT_WEIGHTS)
    if layout in ("F", "transposed_view") and len(shape) < 2:
        layout = "C"
    if dtype == "object" and layout != "C":
        layout = "C"          # the helpers' copies may turn an object array into a float one
    return wrap_layout(src, layout), valid, f"{dtype}/{layout}"


def _list_literal(lst, as_list):
    """A nested list (or tuple) of floats as source (nan and inf spelled np.nan, np.inf)."""
    if isinstance(lst, list):
        inner = ", ".join(_list_literal(e, as_list) for e in lst)
        return f"[{inner}]" if as_list else f"({inner}{',' if len(lst) == 1 else ''})"
    return fmt(lst)


def _plain_arg(obj):
    """What f sees on the plain path: the differentiated argument as the transform would
    convert it (ints become float64); a scalar as numpy's float64, which the dual scalars
    stand in for (its ndarray methods, numpy booleans from comparisons)."""
    if isinstance(obj, np.ndarray) or isinstance(obj, (list, tuple)):
        return np.array(obj, dtype=np.float64)
    return np.float64(obj)


# ---------------------------------------------------------------------------------------
# the case
# ---------------------------------------------------------------------------------------

def _expect(old, types, phrases):
    """Bad input of several kinds: any of the documented errors will do."""
    if old is None:
        return {"types": list(types), "phrases": list(phrases)}
    return {"types": sorted(set(old["types"]) | set(types)),
            "phrases": sorted(set(old["phrases"]) | set(phrases))}


class _Case:
    """Drawing one case, in order: the transform, its arguments, its parameters, the
    program's body, the output. `expect` collects the documented errors that deliberately
    bad input calls for."""

    def __init__(self, seed, index, only):
        self.seed, self.index = seed, index
        self.rng = rng = np.random.default_rng([seed, index])
        self.transform = pick(rng, {t: w for t, w in TRANSFORMS.items() if not only or t in only})
        self.g = Gen(rng, namespace(plain=True), namespace())
        self.call = {"name": self.transform}
        self.expect = None
        self.special = rng.random() < 0.12

    def arguments(self):
        """x (differentiated) and sometimes a second argument a (differentiated too, or a
        constant the function also takes)."""
        rng, t = self.rng, self.transform
        two = rng.random() < 0.25
        both = two and t in ("grad", "value_and_grad", "jacobian", "hessian", "jvp") \
            and rng.random() < 0.5
        self.params = (["x", "a"] if rng.random() < 0.5 else ["a", "x"]) if two else ["x"]
        self.shape = _shape(rng, t)
        self.args, self.arg_src, self.descr = {}, {}, {}
        for p in self.params:
            differentiated = p == "x" or both or t == "jvp"
            if differentiated:
                s = self.shape if p == "x" or rng.random() < 0.5 else \
                    tuple(int(v) for v in rng.integers(1, 4, rng.integers(0, 3)))
                if t == "derivative" or s == () and rng.random() < 0.6:
                    src, valid, kind = _scalar_input(rng, self.special)
                else:
                    src, valid, kind = _array_input(rng, s, self.special)
                if not valid:
                    self.expect = _expect(self.expect, ["TypeError"], ["argument"])
            else:
                s = tuple(int(v) for v in rng.integers(1, 4, rng.integers(0, 2)))
                src = array_literal(nice_floats(rng, int(np.prod(s))), s) if s else \
                    fmt(round(float(rng.uniform(-2, 2)), 2))
                kind = "const"
            self.arg_src[p], self.descr[p] = src, kind
            try:
                with quiet():
                    obj = eval(src, self.g.dual_ns)
                value = _plain_arg(obj) if differentiated and self.expect is None else obj
            except Exception:                     # bad input is the transform's to refuse
                value = 1.0
            self.g.plain[p] = self.args[p] = value
            self.g.vars.append(Var(p, value, differentiated))
        self.diff = [i for i, p in enumerate(self.params)
                     if p == "x" or both or t == "jvp"]

    def parameters(self):
        """chunk, argnums/argnum, order, tangents (now and then an invalid one)."""
        rng, call, n = self.rng, self.call, len(self.params)
        if self.transform in SPARSE:
            i = self.diff[0]
            call["argnums"] = i if rng.random() < 0.8 else i - n
            if self.transform == "sparse_jacobian" and rng.random() < 0.3:
                call["chunk"] = [1, 2, 3][int(rng.integers(3))]
            if rng.random() < 0.25:
                call["executor"] = "auto" if rng.random() < 0.5 else "ship"
            if rng.random() < 0.02:
                call["argnums"] = (i,)
                self.expect = _expect(self.expect, ["TypeError"], ["argnums"])
        if self.transform in ("grad", "value_and_grad", "jacobian", "hessian", "hvp"):
            call["chunk"] = CHUNKS[int(rng.integers(len(CHUNKS)))]
            if len(self.diff) == 1:
                i = self.diff[0]
                call["argnums"] = i if rng.random() < 0.8 else i - n
            else:
                d = tuple(self.diff)
                call["argnums"] = d if rng.random() < 0.7 else d[::-1]
            if rng.random() < 0.02:
                call["chunk"] = [0, -1, 2.5, True][int(rng.integers(4))]
                self.expect = _expect(self.expect, ["ValueError", "TypeError"], ["chunk"])
            if rng.random() < 0.02:
                call["argnums"] = n + 1
                self.expect = _expect(self.expect, ["ValueError"], ["argnums", "range"])
            if self.transform in EXECUTOR and rng.random() < 0.15:
                # the serial call's result, bit for bit, whether the cost model runs the
                # sweeps here ("auto") or they are all shipped to the pool ("ship")
                call["executor"] = "auto" if rng.random() < 0.5 else "ship"
        if self.transform == "derivative":
            call["order"] = 1 if rng.random() < 0.55 else 2
            call["argnum"] = self.diff[0] if rng.random() < 0.85 else self.diff[0] - n
            if rng.random() < 0.02:
                call["order"] = [0, -1, 1.5, True, "'2'"][int(rng.integers(5))]
                self.expect = _expect(self.expect, ["ValueError", "TypeError"], ["order"])
        if self.transform in ("jvp", "hvp"):
            call["tangents"] = {}
            for p in (self.params if self.transform == "jvp" else ["x"]):
                s = () if isinstance(self.args[p], float) else np.shape(self.args[p])
                if rng.random() < 0.03 and s:
                    s = s[:-1] + (s[-1] + 1,)
                    self.expect = _expect(self.expect, ["ValueError"], ["shape"])
                vals = nice_floats(rng, int(np.prod(s)), special_p=0.1 if self.special else 0.0)
                call["tangents"][p] = array_literal(vals, s) if s else fmt(vals[0])

    def body(self):
        for _ in range(int(min(1 + self.rng.geometric(0.35), 8))):
            if not self.g.step(allow_invalid=self.expect is None):
                break
        self.invalid = bool(self.g.body) and self.g.body[-1]["numpy_error"] is not None

    def output(self):
        """What f returns: a scalar for grad-like transforms (a reduction of the last dual
        value, plus others now and then), the last value otherwise; rarely something a
        transform must refuse."""
        g, rng = self.g, self.rng
        scalar = self.transform in SCALAR_OUT
        duals = g.num_vars(dual=True) or g.num_vars()
        last = duals[-1] if duals else None
        fallback = "0.0" if last is None else last.name
        if self.invalid or last is None:
            self.ret = fallback
            return
        if scalar:
            nonlinear = self.transform in ("hessian", "hvp")
            ret = g.scalarize(last, nonlinear and rng.random() < 0.7)
            for other in duals[:-1]:
                if rng.random() < 0.3:
                    ret += " + " + g.scalarize(other, False)
            if rng.random() < 0.03 and np.size(last.value) > 1:
                ret = last.name
                self.expect = _expect(self.expect, ["TypeError"], ["jacobian"])
        else:
            ret = last.name
            if rng.random() < 0.1 and np.ndim(last.value) == 1 and 0 < np.size(last.value) < 6:
                ret = f"[{last.name}[0], {last.name}[-1]]"
        if rng.random() < 0.015:
            ret = g.pick(["None", "'done'", "{'out': %s}" % ret])
            self.expect = _expect(self.expect, ["TypeError"], ["returned"])
        if self.expect is None and g.run(["{t} = " + ret], "_out")[1] is not None:
            # an output expression numpy cannot evaluate (say .sum() of a Python float)
            ret = f"np.sum({last.name})" if scalar else last.name
        self.ret = ret

    def case(self):
        body = [dict(s) for s in self.g.body]
        # float32/float16 constants make plain numpy compute in that precision (NEP 50),
        # while dualdiff computes in float64: the oracles then allow for that precision
        text = " ".join([src for _, src, _ in self.g.consts] + [self.ret]
                        + [line for s in body for line in s["lines"]] + list(self.arg_src.values()))
        lowprec = "float16" if "float16" in text else "float32" if "float32" in text else None
        flags = {"lowprec": lowprec, "exact": all(s["exact"] for s in body),
                 "chunk_exact": all(s["chunk_exact"] for s in body),
                 "handmade": self.g.handmade_used, "special": self.special,
                 "invalid": self.invalid}
        return {"id": f"{self.seed}-{self.index}", "seed": self.seed, "index": self.index,
                "transform": self.transform, "call": self.call, "params": self.params,
                "diff": self.diff, "args": self.arg_src, "inputs": self.descr,
                "consts": self.g.consts, "body": body, "ret": self.ret, "flags": flags,
                "expect": self.expect, "shape": list(self.shape)}


def generate(seed, index, only=None):
    """Case `index` of the run with this seed (the same case every time)."""
    c = _Case(seed, index, only)
    c.arguments()
    c.parameters()
    c.body()
    c.output()
    return c.case()


# ---------------------------------------------------------------------------------------
# rendering
# ---------------------------------------------------------------------------------------

def f_source(case, kinks=False, upto=None):
    """def f(...): the case's program. With kinks=True (the plain oracle's instrumented
    copy) every non-smooth statement also records its kink expression in the global list _K,
    and every statement the magnitude of its value in _M (rounding noise scales with it)."""
    lines = [f"def f({', '.join(case['params'])}):"]
    body = case["body"] if upto is None else case["body"][:upto]
    for s in body:
        for line in s["lines"]:
            lines.append("    " + line.replace("{t}", s["target"]))
        if kinks and s["kink"]:
            lines.append(f"    _K.append(_kink(lambda: {s['kink']}))")
        if kinks and s["numpy_error"] is None:
            lines.append(f"    _M.append(_mag({s['target']}))")
            lines.append(f"    _N.append(_nonfinite({s['target']}))")
    if kinks:                       # the output's sines too (ops.PERIOD says why)
        for v in re.findall(r"np\.sin\((\w+)\)", case["ret"]):
            lines.append(f"    _K.append(_kink(lambda: {OPS.PERIOD.format(v)}))")
    lines.append(f"    return {case['ret']}")
    return "\n".join(lines)


def call_source(case, **override):
    """The transform call as source, e.g. dd.grad(f, chunk=3)(x); override changes
    parameters (chunk=1 for the dense reference)."""
    c = dict(case["call"], **override)
    name = c["name"]
    args = ", ".join(case["params"])
    if name == "derivative":
        opts = f", argnum={c['argnum']}" if c["argnum"] != 0 else ""
        opts += f", order={c['order']}" if c["order"] != 1 or c["order"] is True else ""
        return f"dd.derivative(f{opts})({args})"
    if name == "jvp":
        tans = ", ".join(f"t_{p}" for p in case["params"])
        return f"dd.jvp(f, ({args},), ({tans},))"
    argnums = c.get("argnums", 0)
    argnums = tuple(argnums) if isinstance(argnums, list) else argnums   # JSON has no tuples
    opts = f", argnums={argnums!r}" if argnums != 0 else ""
    opts += f", chunk={c['chunk']!r}" if c.get("chunk") is not None else ""
    opts += ", executor=EX" if c.get("executor") else ""
    if name == "hvp":
        return f"dd.hvp(f{opts})({args}, v)"
    if c.get("executor") == "ship":
        return f"shipping(dd.{name}(f{opts}), {args})"
    return f"dd.{name}(f{opts})({args})"


def inputs_source(case):
    lines = [f"{p} = {case['args'][p]}" for p in case["params"]]
    for p, src in case["call"].get("tangents", {}).items():
        lines.append(f"{'v' if case['call']['name'] == 'hvp' else 't_' + p} = {src}")
    return lines


def reproducer(case, detail="", upto=None, call=None):
    """A standalone script that replays the case (paste into a shell: python -c / a file)."""
    consts = [f"{name} = {src}" for name, src, _ in case["consts"]]
    f_src = f_source(case, upto=upto)
    inputs = inputs_source(case)
    used = helpers_used(*consts, *inputs, f_src, call or call_source(case))
    out = [f"# dualdiff fuzz case {case['id']} ({case['transform']}): "
           f"replay with python -m tests.fuzz --case {case['id']}"]
    for line in detail.strip().splitlines():
        out.append("# " + line)
    out += [PREAMBLE, ""]
    out += [HELPERS[h] for h in used]
    out += consts + ["", f_src, ""] + inputs
    if call and not call.startswith("dd."):
        out.append(f"# the process died in: {call}")
        call = None
    out.append(f"print({call or call_source(case)})")
    return "\n".join(out) + "\n"


def hand_case(cid, body, ret, call, args, params=("x",)):
    """A hand-written case in the generator's format (memory probes, the fuzzer's own
    tests): body is a list of expressions v1, v2, ... and args the sources of the inputs."""
    if call["name"] in ("hvp", "jvp") and "tangents" not in call:
        call = dict(call, tangents={p: a for p, a in zip(params, args)})
    return {"id": cid, "seed": 0, "index": 0, "transform": call["name"], "call": call,
            "params": list(params), "diff": [0], "args": dict(zip(params, args)), "inputs": {},
            "consts": [], "ret": ret, "expect": None, "shape": [],
            "body": [{"target": f"v{i + 1}", "lines": ["{t} = " + e], "kink": None, "op": "",
                      "names": [], "extra": False, "promised": True, "exact": True,
                      "chunk_exact": True, "numpy_error": None} for i, e in enumerate(body)],
            "flags": {"exact": True, "chunk_exact": True, "handmade": False, "special": False,
                      "invalid": False, "lowprec": None}}


def _deps(body, i):
    """Indices of the statements statement i needs (itself included)."""
    targets = {s["target"]: j for j, s in enumerate(body)}
    need, todo = set(), [i]
    while todo:
        j = todo.pop()
        if j in need:
            continue
        need.add(j)
        for name in re.findall(r"\bv\d+\b", "\n".join(body[j]["lines"])):
            if name in targets and targets[name] < j:
                todo.append(targets[name])
    return sorted(need)


def truncations(case):
    """Smaller versions of a case, smallest first, for minimizing a failure: the slice of
    the program each statement depends on, returned through a simple output."""
    body = case["body"]
    scalar = case["transform"] in SCALAR_OUT
    diff_param = case["params"][case["diff"][0]] if case["diff"] else case["params"][0]
    out = []
    for m in range(len(body) + 1):
        keep = _deps(body, m - 1) if m else []
        v = body[m - 1]["target"] if m else diff_param
        rets = [f"np.sum({v})", f"np.sum({v} * {v})"] if scalar else [v]
        if m == len(body):
            rets.append(case["ret"])
        for k, ret in enumerate(rets):
            c = dict(case, body=[body[j] for j in keep], ret=ret,
                     id=f"{case['id']}~{m}{'abcd'[k]}")
            c["flags"] = dict(case["flags"], exact=all(s["exact"] for s in c["body"]),
                              chunk_exact=all(s["chunk_exact"] for s in c["body"]))
            out.append(c)
    return out
