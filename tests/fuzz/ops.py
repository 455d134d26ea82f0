"""The operation table: every operation a generated program may apply, one entry each.

An entry says which values it applies to (`accepts`, a test on the plain value of its main
operand) and how to draw one use of it (`draw(g, a)`: g is the program generator of
program.py, a the main operand, a Var). A draw returns a Draft: the source that computes the
result (the target is written `{t}`), the names an error message about it should mention,
and, for operations that are not smooth everywhere, a "kink" expression whose value changes
wherever the operation switches branch (finite differences across a switch are meaningless,
so the oracle skips directions along which any kink expression changes).

Adding an operation is one line in OPS; families (U, B, POW, REDUCE, T, ERR) cover the
common shapes.
`promised` marks operations the API contract lists as supported: refusing them on valid
input is reported. `exact=False` marks operations whose dual path legitimately rounds
differently from plain numpy (BLAS products, pairwise products, norms): their values and
chunked results are compared to rounding instead of bit for bit.
"""
import re

import numpy as np

from .values import array_literal, fmt


class Draft:
    """One drawn use of an operation."""

    def __init__(self, expr=None, lines=None, kink=None, names=(), extra=False, exact=True,
                 chunk_exact=True):
        self.lines = lines if lines is not None else ["{t} = " + expr]
        self.kink = kink
        self.names = tuple(names)
        self.extra = extra                 # uses keywords beyond the contract's basic forms
        self.exact = exact
        self.chunk_exact = chunk_exact


class Op:
    def __init__(self, name, draw, accepts=None, weight=1.0, promised=False, exact=True,
                 chunk_exact=True):
        self.name, self.draw_fn, self.weight, self.promised = name, draw, weight, promised
        self.accepts = accepts or (lambda v: True)
        self.exact, self.chunk_exact = exact, chunk_exact

    def draw(self, g, a):
        d = self.draw_fn(g, a)
        d.exact = d.exact and self.exact
        d.chunk_exact = d.chunk_exact and self.chunk_exact
        if not d.names:
            d.names = (self.name.split(".")[-1].strip("()"),)
        return d


# ---- what an operation accepts --------------------------------------------------------

def nd(lo=0, hi=99, nonempty=False):
    return lambda v: lo <= np.ndim(v) <= hi and (not nonempty or np.size(v) > 0)


ANY = nd()
ARR = nd(1)
VEC = nd(1, 1)
MAT = nd(2, 2)
NONEMPTY = nd(0, 99, True)
SMALL_VEC = lambda v: np.ndim(v) == 1 and 0 < np.size(v) <= 40      # loop-style code

# domains: an adapter maps any real into the domain smoothly (no kinks added)
ADAPT = {"pos": "({0} * {0} + 0.25)", "unit": "(0.9 * np.tanh({0}))", "ge1": "({0} * {0} + 1.25)",
         "nz": "({0} * {0} + 0.5)"}


def _arg(g, a, dom):
    """The main operand, moved into the domain most of the time (a program should mostly
    stay where derivatives can be checked, but out-of-domain values must work too)."""
    if dom and g.p(0.7):
        return ADAPT[dom].format(a.name)
    return a.name


# ---- families ---------------------------------------------------------------------------

# An edge: where a function's derivative is infinite at a value its domain includes
# (arcsin at +-1, arccosh at 1). A program reaches one by rounding (arcsin of sigmoid(39),
# which is 1.0 exactly); there dualdiff's derivative is inf or NaN, honestly, while finite
# differences see the plateau rounding made. As a kink that differs from itself every time
# it is read, it makes the oracle skip finite differences through such a value.
EDGE = "(object() if np.any({}) else None)"


def U(fn, dom=None, kink=None, weight=1.0, promised=True, exact=True, edge=None):
    """A one-argument elementwise function, fn(a); edge: the condition on a of an EDGE."""
    def draw(g, a):
        x = _arg(g, a, dom)
        k = [kink.format(x)] if kink else []
        k += [EDGE.format(edge.format(x))] if edge else []
        return Draft(f"{fn}({x})", kink=None if not k else k[0] if len(k) == 1 else
                     "(" + ", ".join(k) + ",)")
    return Op(fn, draw, ANY, weight, promised, exact)


def B(tmpl, name, dom_b=None, kink=None, weight=1.0, promised=True, accepts=ANY):
    """A two-argument elementwise operation written as a template of {a} and {b}; b is
    another variable or a constant broadcasting against a."""
    def draw(g, a):
        b = g.operand(a, dom=dom_b)
        syms = tuple(c for c in ("+", "-", "*", "/", "//", "%", "**") if f" {c} " in tmpl)
        return Draft(tmpl.format(a=a.name, b=b),
                     kink=kink.format(a=a.name, b=b) if kink else None, names=(name,) + syms)
    return Op(name, draw, accepts, weight, promised)


def POW(weight=1.0):
    """a ** p for the exponents users write (ints, halves, negatives, zero, numpy scalars)."""
    def draw(g, a):
        p = g.pick(["2", "3", "0.5", "-1", "0", "1.5", "-2.5", "2.0", "np.float32(2.0)",
                    "np.int64(3)", "1", "-2", "np.float64(0.5)", "0.0"])
        integral = p in ("2", "3", "-1", "0", "2.0", "np.float32(2.0)", "np.int64(3)", "1",
                         "-2", "0.0")
        base = a.name if integral or g.p(0.2) else ADAPT["pos"].format(a.name)
        if p.startswith("-") and g.p(0.7):
            base = ADAPT["nz"].format(a.name)
        return Draft(f"{base} ** {p}", names=("power", "**", "pow"))
    return Op("**", draw, ANY, weight, True)


def REDUCE(fn, kws=("axis", "keepdims"), extra_kws=(), method=False, kink=None, weight=1.0,
           promised=False, exact=True, accepts=ANY):
    """A reduction fn(a, axis=..., keepdims=..., ...) or its method form a.fn(...)."""
    short = fn.split(".")[-1]

    def draw(g, a):
        kw, names, extra, pre, mask_kink = g.reduction_kwargs(a, kws, extra_kws)
        args = ", ".join(f"{k}={v}" for k, v in kw.items())
        call = f"{a.name}.{short}({args})" if method else \
            f"{fn}({a.name}{', ' if args else ''}{args})"
        k = None
        if kink:
            axis = kw.get("axis", "None")
            # the extremes over the elements where= selects, and the tie with initial=
            sel = "".join(f", {n}={kw[n]}" for n in ("where", "initial") if n in kw)
            k = kink.format(a=a.name, axis=axis, sel=sel)
            if "initial" in kw:
                k = f"({k}, np.sign({a.name} - {kw['initial']}))"
        if mask_kink is not None:       # where= compares values: the selection switches there
            k = mask_kink if k is None else f"({k}, {mask_kink})"
        if "out" in kw:               # the result is read from the out buffer, as numpy fills it
            lines = pre + [call]
        else:
            lines = ["{t} = " + call]
        return Draft(lines=lines, kink=k, names=(short,) + names, extra=extra)
    return Op(("." if method else "") + fn, draw, accepts, weight, promised, exact)


def T(tmpl_fn, name, accepts=ANY, weight=1.0, promised=False, exact=True, chunk_exact=True,
      kink=None):
    """A general entry: tmpl_fn(g, a) returns the expression source (or a Draft)."""
    def draw(g, a):
        r = tmpl_fn(g, a)
        if isinstance(r, Draft):
            return r
        return Draft(r, names=(name,), kink=kink.format(a=a.name) if kink else None)
    return Op(name, draw, accepts, weight, promised, exact, chunk_exact)


def ERR(tmpl, name, names, accepts=ANY, weight=0.3):
    """An operation dualdiff is expected to refuse (or support correctly): unsupported numpy
    functions and methods, mutation, dropping the derivative."""
    def draw(g, a):
        src = tmpl(g, a) if callable(tmpl) else tmpl.format(a=a.name)
        if isinstance(src, Draft):
            return src
        if isinstance(src, list):
            return Draft(lines=src, names=names)
        return Draft(src, names=names)
    return Op(name, draw, accepts, weight, False)


# ---- drawers of arguments for the general entries -----------------------------------------

def _slice(g, a):
    n = np.shape(a.value)[0]
    lo = int(g.rng.integers(-n - 1, n + 1)) if n else 0
    hi = int(g.rng.integers(-n - 1, n + 2)) if n else 1
    step = g.pick(["", "", "", ":2", ":-1", ":3", ":-2"])
    form = g.pick(["{lo}:{hi}", ":{hi}", "{lo}:", ":", "{lo}:{hi}"])
    s = form.format(lo=lo, hi=hi) + step
    if np.ndim(a.value) > 1 and g.p(0.4):
        s = g.pick([f"{s}, 1:", f"..., {s}", f":, {s}" if np.shape(a.value)[1:2] else s])
    return f"{a.name}[{s}]"


def _window(g, a):
    """A few elements far from the start: with n > 128 they lie outside most chunk windows."""
    n = np.shape(a.value)[0]
    lo = int(g.rng.integers(0, max(n - 3, 1)))
    return f"{a.name}[{lo}:{lo + int(g.rng.integers(1, 5))}]"


def _int_index(g, a):
    n = np.shape(a.value)[0]
    i = int(g.rng.integers(-n, n)) if n else 0
    if g.p(0.03):
        i = n + 1                               # out of bounds: numpy raises IndexError
    rest = ""
    if np.ndim(a.value) > 1 and g.p(0.5):
        m = np.shape(a.value)[1]
        rest = f", {int(g.rng.integers(-m, m)) if m else 0}"
    idx = g.pick([str(i), f"np.int64({i})", str(i)])
    return f"{a.name}[{idx}{rest}]"


def _fancy(g, a):
    n = np.shape(a.value)[0]
    if n == 0:
        return f"{a.name}[[]]"
    idx = g.rng.integers(-n, n, int(g.rng.integers(1, 5))).tolist()
    src = g.pick([str(idx), f"np.array({idx})", f"np.array({idx}, dtype=np.int32)"])
    if np.ndim(a.value) >= 2 and g.p(0.4):
        m = np.shape(a.value)[1]
        if m:
            idx2 = g.rng.integers(-m, m, len(idx)).tolist()
            return f"{a.name}[{src}, {idx2}]"
    return f"{a.name}[{src}]"


def _mask_index(g, a):
    m, kink = g.mask(np.shape(a.value), a)
    return Draft(f"{a.name}[{m}]", kink=kink, names=("index", "mask", "boolean"))


def _newaxis(g, a):
    return g.pick([f"{a.name}[None]", f"{a.name}[..., None]", f"{a.name}[np.newaxis, ...]",
                   f"{a.name}[()]", f"{a.name}[...]"])


def _reshape(g, a):
    shape = np.shape(a.value)
    size = int(np.prod(shape))
    options = [(-1,), (size,), (1, size), (size, 1), (-1, 1), shape[::-1]]
    if size % 2 == 0 and size:
        options += [(2, -1), (size // 2, 2, 1)]
    new = g.pick(options)
    order = g.pick(["", "", "", ", order='F'", ", order='A'"])
    form = g.pick(["np.reshape({a}, {s}{o})", "{a}.reshape({s}{o})", "{a}.reshape({u}{o})"])
    return Draft(form.format(a=a.name, s=new, u=", ".join(map(str, new)) or "()", o=order),
                 names=("reshape", "order"), extra=bool(order))


def _transpose(g, a):
    n = np.ndim(a.value)
    perm = tuple(int(i) for i in g.rng.permutation(n))
    neg = tuple(i - n for i in perm)
    return g.pick([f"np.transpose({a.name})", f"{a.name}.T", f"np.transpose({a.name}, {perm})",
                   f"{a.name}.transpose({', '.join(map(str, perm))})" if n else f"{a.name}.T",
                   f"np.transpose({a.name}, {neg})"])


def _two_axes(g, a):
    n = max(np.ndim(a.value), 1)
    return int(g.rng.integers(-n, n)), int(g.rng.integers(-n, n))


def _swap(g, a):
    i, j = _two_axes(g, a)
    return g.pick([f"np.swapaxes({a.name}, {i}, {j})", f"{a.name}.swapaxes({i}, {j})",
                   f"np.moveaxis({a.name}, {i}, {j})"])


def _squeeze(g, a):
    ones = [i for i, s in enumerate(np.shape(a.value)) if s == 1]
    ax = f", axis={g.pick(ones)}" if ones and g.p(0.5) else ""
    return g.pick([f"np.squeeze({a.name}{ax})", f"{a.name}.squeeze({ax[2:]})"])


def _expand(g, a):
    n = np.ndim(a.value) + 1
    return f"np.expand_dims({a.name}, {int(g.rng.integers(-n, n))})"


def _ravel(g, a):
    o = g.pick(["", "", "'C'", "'F'", "'K'", "'A'"])
    return Draft(g.pick([f"np.ravel({a.name}{', ' + o if o else ''})",
                         f"{a.name}.ravel({o})", f"{a.name}.flatten({o})"]),
                 names=("ravel", "flatten", "order"), extra=o not in ("", "'C'"))


def _flip(g, a):
    ax = g.axis(np.ndim(a.value), tuple_=True)
    return g.pick([f"np.flip({a.name}{', ' + ax if ax else ''})", f"np.flipud({a.name})",
                   f"np.fliplr({a.name})"] if np.ndim(a.value) >= 2 else
                  [f"np.flip({a.name}{', ' + ax if ax else ''})"])


def _roll(g, a):
    shift = int(g.rng.integers(-5, 6))
    if np.ndim(a.value) >= 2 and g.p(0.2):
        return f"np.roll({a.name}, ({shift}, 1), axis=(0, 1))"
    ax = g.axis(np.ndim(a.value), tuple_=False)
    return f"np.roll({a.name}, {shift}{', axis=' + ax if ax else ''})"


def _take(g, a):
    n = int(np.size(a.value)) if g.p(0.5) else int(np.shape(a.value)[0])
    axis = "" if n == np.size(a.value) and g.p(0.5) else ", axis=0"
    if axis == "":
        n = int(np.size(a.value))
    m = max(n, 1)
    idx = g.rng.integers(-m, m, int(g.rng.integers(1, 5))).tolist()
    mode = g.pick(["", "", ", mode='wrap'", ", mode='clip'"])
    if n == 0 or np.size(a.value) == 0:
        mode = ""      # numpy 2.4 loops forever: np.take(np.zeros((0, 0, 2)), [2], 0, mode='wrap')
    if mode and g.p(0.5):
        idx = [i + 2 * m for i in idx]
    return Draft(f"np.take({a.name}, {idx}{axis}{mode})", names=("take", "mode"),
                 extra=bool(mode))


def _repeat(g, a):
    r = g.pick(["2", "1", "0", "3"])
    if np.ndim(a.value) >= 1 and g.p(0.3):
        r = str(g.rng.integers(0, 3, np.shape(a.value)[0]).tolist())
        return g.pick([f"np.repeat({a.name}, {r}, axis=0)", f"np.repeat({a.name}, {r}, 0)"])
    ax = g.axis(np.ndim(a.value), tuple_=False, none=True)
    return f"np.repeat({a.name}, {r}{', axis=' + ax if ax else ''})"


def _tile(g, a):
    reps = g.pick(["2", "(2, 1)", "(1, 2)", "1", "(2,)", "(1, 1, 2)"])
    return f"np.tile({a.name}, {reps})"


def _diag(g, a):
    k = int(g.rng.integers(-2, 3))
    if np.ndim(a.value) == 2 and g.p(0.5):
        return g.pick([f"np.diagonal({a.name}, {k})", f"np.trace({a.name}, {k})",
                       f"np.diagonal({a.name}, 0, 1, 0)"])
    return f"np.diag({a.name}, {k})"


def _broadcast(g, a):
    shape = tuple(np.shape(a.value))
    return f"np.broadcast_to({a.name}, {(2,) + shape})"


def _atleast(g, a):
    return g.pick([f"np.atleast_1d({a.name})", f"np.atleast_2d({a.name})",
                   f"np.atleast_3d({a.name})"])


def _astype(g, a):
    dt = g.pick(["np.float64", "float", "np.float32", "int", "np.float64"])
    return Draft(f"{a.name}.astype({dt})", names=("astype",), extra=dt in ("np.float32", "int"))


def _copy(g, a):
    return Draft(g.pick([f"np.copy({a.name})", f"{a.name}.copy()", f"np.array({a.name})",
                         f"np.asarray({a.name})", f"np.asarray({a.name}, dtype=float)"]),
                 names=("copy", "array"))


def _join(fn):
    """concatenate/stack/hstack/vstack/column_stack of a with pieces of matching shape:
    other variables, constants, slices of a, and a itself."""
    def draw(g, a):
        shape = tuple(np.shape(a.value))
        parts = [a.name]
        for _ in range(int(g.rng.integers(1, 4))):
            parts.append(g.same_shape_operand(a))
        g.rng.shuffle(parts)
        nd_ = len(shape)
        if fn in ("np.concatenate", "np.stack"):
            lim = nd_ + (1 if fn == "np.stack" else 0)
            ax = int(g.rng.integers(-lim, lim)) if lim else 0
            ax_src = g.pick([f", axis={ax}", f", {ax}", ""]) if not (fn == "np.concatenate"
                                                                     and nd_ == 0) else ""
            if fn == "np.concatenate" and g.p(0.1):
                ax_src = ", axis=None"
            seq = g.pick(["[{}]", "({})", "[{}]"])
            kw = g.pick(["", "", "", "", ", dtype=np.float32", ", casting='unsafe'"])
            return Draft(f"{fn}({seq.format(', '.join(parts))}{ax_src}{kw})",
                         names=(fn[3:], "dtype", "casting"), extra=bool(kw),
                         kink=_period_of(parts))
        return Draft(f"{fn}([{', '.join(parts)}])", names=(fn[3:],), kink=_period_of(parts))
    return draw


def _period_of(parts):
    """The quarter periods of the np.sin(...)/np.cos(...) pieces a join draws (sin of 1e300 x
    cannot be differenced: see PERIOD), or None."""
    inner = [m.group(1) for p in parts for m in [re.match(r"np\.(?:sin|cos)\((.+)\)$", p)] if m]
    return "(" + ", ".join(PERIOD.format(i) for i in inner) + ",)" if inner else None


def _where3(g, a):
    m, kink = g.mask(np.shape(a.value), a)
    b = g.operand(a)
    order = g.pick(["{a}, {b}", "{b}, {a}"]).format(a=a.name, b=b)
    return Draft(f"np.where({m}, {order})", kink=kink, names=("where",))


def _where1(g, a):
    m, kink = g.mask(np.shape(a.value), a)
    return Draft(f"{a.name}[np.where({m})]", kink=kink, names=("where", "index"))


def _clip(g, a):
    lo = g.pick(["-0.5", "None", "0.0", "-1", "np.float32(-0.25)"])
    hi = g.pick(["0.75", "None", "1.5", "2"])
    if lo == "None" and hi == "None":
        hi = "1.0"
    if g.p(0.2):
        lo = g.operand(a)
    k = []
    if lo != "None":
        k.append(f"np.sign({a.name} - {lo})")
    if hi != "None":
        k.append(f"np.sign({a.name} - {hi})")
    kink = "(" + ", ".join(k) + ",)"
    form = g.pick(["np.clip({a}, {lo}, {hi})", "{a}.clip({lo}, {hi})", "dd.clip({a}, {lo}, {hi})",
                   "np.clip({a}, a_min={lo}, a_max={hi})", "OUT"])
    if form == "OUT":
        return Draft(lines=[f"{{t}} = np.zeros({np.shape(a.value)})",
                            f"np.clip({a.name}, {lo}, {hi}, out={{t}})"],
                     kink=kink, names=("clip", "out"), extra=True)
    return Draft(form.format(a=a.name, lo=lo, hi=hi), kink=kink, names=("clip",))


def _matmul_operand(g, a, side):
    """A constant or variable of a shape that multiplies with a (matmul rules)."""
    shape = np.shape(a.value)
    inner = shape[-1] if side == "right" else (shape[-2] if len(shape) >= 2 else shape[0])
    p = int(g.rng.integers(1, 4))
    if side == "right":
        bshape = g.pick([(inner,), (inner, p)])
    else:
        bshape = g.pick([(inner,), (p, inner)])
    other = g.other_var(lambda v: np.shape(v) == bshape)
    return other if other and g.p(0.4) else g.const(bshape)


def _matmul(g, a):
    if g.p(0.2) and np.ndim(a.value) in (1, 2):
        other = f"{a.name}.T" if np.ndim(a.value) == 2 else a.name
        return g.pick([f"{a.name} @ {other}", f"{other} @ {a.name}", f"np.dot({a.name}, {other})"])
    if g.p(0.5):
        b = _matmul_operand(g, a, "right")
        return g.pick([f"{a.name} @ {b}", f"np.matmul({a.name}, {b})", f"np.dot({a.name}, {b})",
                       f"{a.name}.dot({b})"])
    b = _matmul_operand(g, a, "left")
    return g.pick([f"{b} @ {a.name}", f"np.matmul({b}, {a.name})", f"np.dot({b}, {a.name})"])


def _einsum(g, a):
    n = np.ndim(a.value)
    shape = np.shape(a.value)
    letters = "ijkl"[:n]
    if g.p(0.3):
        return Draft(f"np.einsum('{letters}->', {a.name})", names=("einsum",))
    if n == 2 and g.p(0.3):
        return Draft(f"np.einsum('ij,jk->ik', {a.name}, {g.const((shape[1], 2))})",
                     names=("einsum",))
    b = g.same_shape_operand(a)
    out = letters[:max(n - 1, 0)]
    return Draft(f"np.einsum('{letters},{letters}->{out}', {a.name}, {b})", names=("einsum",))


def _tensordot(g, a):
    shape = np.shape(a.value)
    axes = g.pick([1, 0, 2] if len(shape) >= 2 else [1, 0])
    bshape = tuple(shape[len(shape) - axes:]) + (2,)
    return f"np.tensordot({a.name}, {g.const(bshape)}, axes={axes})"


def _inner_outer(g, a):
    b = g.same_shape_operand(a)
    return g.pick([f"np.inner({a.name}, {b})", f"np.outer({a.name}, {b})",
                   f"np.vdot({a.name}, {b})", f"np.inner({a.name}, {a.name})"])


def _sigmoid_slope(g, a):
    """dd.sigmoid(x, a=slope). Its transition is 1/|a| wide: with a = 1e300 no difference
    step resolves it, so the kink is where a x moves by a whole unit (in the plateaus,
    |a x| > 64, the function is flat and nothing changes)."""
    lit = g.lit()
    return Draft(f"dd.sigmoid({a.name}, a={lit})", names=("sigmoid",),
                 kink=f"np.clip(np.floor(({lit}) * {a.name}), -64.0, 64.0)")


def _norm(g, a):
    n = np.ndim(a.value)
    ords = ["None", "1", "2", "np.inf", "-np.inf", "3", "0.5", "'fro'", "0", "'nuc'", "-1"]
    ord_ = g.pick(ords)
    axis = g.pick(["", "", f", axis={int(g.rng.integers(-n, n))}" if n else "",
                   ", axis=(0, 1)" if n >= 2 else ""])
    keep = g.pick(["", "", ", keepdims=True"])
    return Draft(f"np.linalg.norm({a.name}, {ord_}{axis}{keep})",
                 kink=f"(np.sign({a.name}), np.argsort(np.abs({a.name}), axis=None))",
                 names=("norm", "ord"), extra=ord_ not in ("None", "2", "'fro'") or bool(axis))


def _diff(g, a):
    n = g.pick(["", "", ", n=2", ", n=0", ", n=-1", ", 3"])
    ax = g.axis(np.ndim(a.value), tuple_=False, none=False)
    pa = g.pick(["", "", "", ", prepend=0.0", ", append=[1.0]"])
    return Draft(f"np.diff({a.name}{n}{', axis=' + ax if ax else ''}{pa})",
                 names=("diff", "prepend", "append", "n"), extra=bool(pa))


def _cum(fn):
    def draw(g, a):
        ax = g.axis(np.ndim(a.value), tuple_=False)
        form = g.pick(["np.{f}({a}{ax})", "{a}.{f}({ax2})", "np.{f}({a}{ax})"])
        return Draft(form.format(f=fn, a=a.name, ax=f", axis={ax}" if ax else "",
                                 ax2=f"axis={ax}" if ax else ""), names=(fn,))
    return draw


def _ufunc_method(g, a):
    fn = g.pick(["np.add.reduce", "np.multiply.reduce", "np.maximum.reduce",
                 "np.minimum.reduce", "np.add.accumulate", "np.multiply.accumulate",
                 "np.fmax.reduce", "np.fmin.reduce", "np.maximum.accumulate",
                 "np.minimum.accumulate", "np.fmax.accumulate", "np.fmin.accumulate"])
    nd_ = np.ndim(a.value)
    ax = g.pick(["", f", axis={int(g.rng.integers(-nd_, nd_))}" if nd_ else "", ", axis=None",
                 ", 0" if nd_ else ""])
    if "accumulate" in fn and ("None" in ax or nd_ == 0):
        ax = ""
    operand, kink = a.name, None
    if fn.startswith(("np.fmax", "np.fmin")) and np.size(a.value) and g.p(0.6):
        # fmax/fmin skip NaN: some entries NaN (a whole row of them now and then)
        hit = g.rng.random(np.shape(a.value)) < g.pick([0.3, 0.6, 1.0])
        operand = f"np.where({g.add_const(array_literal(hit.astype(float), np.shape(a.value), 'bool'))}, np.nan, {a.name})"
    if not fn.startswith(("np.add", "np.multiply")):
        # which element is the extreme (or the running one): a tie switches it
        kink = f"np.argsort({operand}, axis=None, kind='stable')"
    keep = ", keepdims=True" if "reduce" in fn and g.p(0.2) else ""
    return Draft(f"{fn}({operand}{ax}{keep})", kink=kink,
                 names=tuple(fn.split(".")[1:]) + ("reduce", "accumulate"))


def _ufunc_out(g, a):
    """A ufunc writing into an out= buffer that the program then reads (numpy fills it;
    dualdiff must fill it too or refuse)."""
    fn = g.pick(["np.sin", "np.exp", "np.negative", "np.square", "np.tanh"])
    return Draft(lines=[f"{{t}} = np.zeros({np.shape(a.value)})", f"{fn}({a.name}, out={{t}})"],
                 names=(fn[3:], "out"), extra=True)


def _loop_array(g, a):
    """Loop-style code: a list comprehension over the elements, back into an array."""
    c = fmt(g.rng.uniform(0.5, 2))
    body = g.pick([f"e * {c}", "e * e", f"np.sin(e) + {c}", "e ** 2 - e", f"{c} / (e * e + 1.0)",
                   "np.exp(-e * e)", "abs(e)"])
    kink = f"np.sign({a.name})" if "abs" in body else None
    form = g.pick(["np.array([{b} for e in {a}])", "np.stack([{b} for e in {a}])",
                   "np.array([{b} for e in list({a})])"])
    return Draft(form.format(b=body, a=a.name), kink=kink, names=("array", "stack", "iter"))


def _loop_index(g, a):
    n = np.shape(a.value)[0]
    form = g.pick(["sum({a}[i] * {a}[i] for i in range({n}))",
                   "sum({a}[i] * (i + 1.0) for i in range({n}))",
                   "np.array([{a}[i] - {a}[i - 1] for i in range(1, {n})])",
                   "np.array([{a}[0], {a}[-1]])",
                   "np.array([{a}[i] for i in range({n} - 1, -1, -1)])"])
    return Draft(form.format(a=a.name, n=n), names=("array", "index", "sum"))


def _branch(g, a):
    """Python control flow on values (the contract: `if x > 0:` works)."""
    c = fmt(round(float(g.rng.uniform(-1, 1)), 2))
    cond = g.pick([f"np.sum({a.name}) > {c}", f"np.max({a.name}) < 1.0" if np.size(a.value)
                   else "True", f"{a.name}.sum() >= 0"])
    return Draft(f"{a.name} * 2.0 if {cond} else -{a.name} + 1.0", kink=cond,
                 names=("bool", "truth"))


def _elem_branch(g, a):
    return Draft(f"np.array([e if e > 0 else 0.5 * e for e in {a.name}])",
                 kink=f"{a.name} > 0", names=("array", "bool"))


def _builtin(g, a):
    fn = g.pick(["abs", "sum", "max", "min"])
    kink = {"abs": f"np.sign({a.name})", "max": f"np.argsort({a.name}, axis=0)",
            "min": f"np.argsort({a.name}, axis=0)"}.get(fn)
    return Draft(f"{fn}({a.name})", kink=kink, names=(fn,))


def _like(g, a):
    fn = g.pick(["np.zeros_like({a}) + {a}", "np.ones_like({a}) * {a}",
                 "np.full_like({a}, 2.5) - {a}", "np.full_like({a}, 2.5, dtype=np.float32) * {a}",
                 "{a} + np.zeros({s})", "np.ones({s}) * {a}"])
    return fn.format(a=a.name, s=np.shape(a.value))


def _eye(g, a):
    n = np.shape(a.value)[0]
    return g.pick([f"np.eye({n}) @ {a.name}", f"{a.name} @ np.eye({np.shape(a.value)[-1]})",
                   f"np.dot(np.eye({n}), {a.name})"])


def _real(g, a):
    """Parts of a number: the derivative must survive, or the call must refuse. (x.real is
    not drawn: API.md makes the attribute the value accessor, which drops the derivative by
    contract; np.real(x) keeps it.)"""
    return Draft(g.pick([f"np.real({a.name})", f"np.conj({a.name})",
                         f"np.conjugate({a.name})", f"np.imag({a.name}) + {a.name}",
                         f"np.real_if_close({a.name})"]),
                 names=("real", "conj", "conjugate", "imag", "real_if_close", "derivative"))


def _setitem(g, a):
    return [f"{{t}} = np.zeros({np.shape(a.value)})",
            "{t}[...] = " + a.name]


def _math(g, a):
    return g.pick([f"math.exp({a.name}.ravel()[0])", f"float({a.name}.ravel()[0])",
                   f"math.sin(np.sum({a.name}))", f"float(np.sum({a.name}))",
                   f"int(np.sum({a.name}))", f"complex(np.sum({a.name}))"])


def _handmade(g, a):
    """A Dual or HyperDual made by hand inside f (not by the transform)."""
    c = g.handmade()
    return Draft(g.pick([f"{a.name} * {c}", f"{c} + {a.name}", f"{a.name} - {c}"]),
                 names=("Dual", "HyperDual", "dual", "direction", "outside"))


UNSUPPORTED_FUNCS = ["np.sort", "np.median", "np.cross({a}, {a})", "np.convolve({a}, {a})",
                     "np.nansum", "np.nanmax", "np.average", "np.ptp", "np.sinc", "np.i0",
                     "np.round", "np.around", "np.nan_to_num", "np.linalg.det", "np.linalg.inv",
                     "np.linalg.eigvalsh", "np.kron({a}, {a})",
                     "np.interp({a}, [0.0, 1.0], [1.0, 2.0])",
                     "np.argsort", "np.argmax", "np.count_nonzero", "np.any", "np.all",
                     "np.dstack(({a}, {a}))", "np.append({a}, 1.0)", "np.cumulative_sum",
                     "np.linalg.vector_norm", "np.polyval([1.0, 2.0], {a})", "np.vecdot({a}, {a})",
                     "np.fmod({a}, 0.7)", "np.remainder({a}, 0.7)", "np.copysign({a}, -1.0)",
                     "np.heaviside({a}, 0.5)", "np.spacing", "np.logaddexp2({a}, {a})",
                     "np.radians", "np.degrees", "np.float_power({a}, 2.0)", "np.frexp",
                     "np.modf", "np.isclose({a}, 0.0)", "np.allclose({a}, 0.0)",
                     "np.exp({a}, dtype=np.float32)", "np.sin({a}, where=True)",
                     "np.add({a}, 1.0, casting='unsafe')", "np.subtract.reduce({a})",
                     "np.add.outer({a}, {a})",
                     "np.add.reduceat({a}, [0])", "np.logaddexp.reduce({a}, axis=-1)",
                     "np.hypot.accumulate({a}, axis=-1)", "np.true_divide.reduce({a})", "np.linalg.solve(np.eye(len({a})), {a})",
                     "np.linalg.multi_dot([{a}, {a}])", "np.block([{a}, {a}])",
                     "np.unwrap", "np.fft.fftshift", "np.fft.ifftshift",
                     "np.polyfit(np.arange(np.size({a}), dtype=float), np.ravel({a}), 1)",
                     "scipy.special.eval_legendre(3, np.tanh({a}))",
                     "scipy.special.eval_hermite(2, {a})", "scipy.special.stdtr(3.0, {a})",
                     "scipy.special.chdtr(3.0, {a} * {a})",
                     "scipy.special.ellipk(np.tanh({a}))",
                     "scipy.special.hyp1f1(0.5, 1.5, 3.0 * np.tanh({a}))",
                     "scipy.special.boxcox({a} * {a} + 0.5, 0.5)",
                     "scipy.special.wrightomega", "scipy.special.struve(1.0, {a})",
                     # the rest of the scipy.special families (dualdiff/_jvp/special_families.py)
                     "scipy.special.chdtrc(3.0, {a} * {a})", "scipy.special.gdtr(1.5, 2.0, {a} * {a})",
                     "scipy.special.gdtrc(1.5, 2.0, {a} * {a})", "scipy.special.pdtr(3, {a} * {a})",
                     "scipy.special.pdtrc(2, {a} * {a})",
                     "scipy.special.bdtr(3, 10, 0.5 + 0.4 * np.tanh({a}))",
                     "scipy.special.bdtrc(3, 10, 0.5 + 0.4 * np.tanh({a}))",
                     "scipy.special.nbdtr(3, 5, 0.5 + 0.4 * np.tanh({a}))",
                     "scipy.special.fdtr(3.0, 4.0, {a} * {a})", "scipy.special.fdtrc(3.0, 4.0, {a} * {a})",
                     "scipy.special.eval_gegenbauer(3, 0.7, np.tanh({a}))",
                     "scipy.special.eval_chebyt(4, {a})", "scipy.special.eval_chebyu(3, {a})",
                     "scipy.special.eval_genlaguerre(3, 0.5, {a})", "scipy.special.eval_laguerre(2, {a})",
                     "scipy.special.eval_hermitenorm(3, {a})", "scipy.special.hyp0f1(1.5, 3.0 * np.tanh({a}))",
                     "scipy.special.hyp2f1(0.5, 1.5, 2.0, 0.9 * np.tanh({a}))",
                     "scipy.special.ellipe(np.tanh({a}))", "scipy.special.ellipkm1(0.5 + 0.45 * np.tanh({a}))",
                     "scipy.special.expn(2, {a} * {a} + 0.1)", "scipy.special.sindg", "scipy.special.cosdg",
                     "scipy.special.tandg(30.0 * np.tanh({a}))", "scipy.special.radian({a}, 10.0, 5.0)",
                     "scipy.special.yn(1, {a} * {a} + 0.5)", "scipy.special.kn(2, {a} * {a} + 0.5)",
                     "scipy.special.boxcox1p({a} * {a}, 0.3)",
                     "scipy.special.inv_boxcox(0.5 * np.tanh({a}), 0.5)",
                     "scipy.special.modstruve(0.5, {a} * {a})",
                     "scipy.special.zeta(3.0, {a} * {a} + 0.5)", "dd.polygamma(1, {a} * {a} + 0.5)",
                     "dd.polygamma(0, {a})", "scipy.special.dawsn",
                     "scipy.special.stdtrit(3.0, 0.5 + 0.4 * np.tanh({a}))",
                     "scipy.special.chdtri(3.0, 0.5 + 0.4 * np.tanh({a}))",
                     "scipy.special.ellipkinc({a}, 0.5)", "scipy.special.ellipeinc({a}, 0.5)",
                     # ufuncs of several outputs
                     "scipy.special.sici({a})[0]", "scipy.special.sici({a} * {a} + 0.1)[1]",
                     "scipy.special.shichi(np.tanh({a}))[1]", "scipy.special.fresnel({a})[0]",
                     "scipy.special.airy(np.tanh({a}))[3]", "scipy.special.ellipj({a}, 0.4)[2]",
                     "scipy.special.binom(5.0, {a})", "scipy.special.poch({a}, 2.5)",
                     "np.polynomial.chebyshev.chebval(0.3, np.ravel({a}))",
                     "np.polynomial.Polynomial(np.ravel({a}))(0.7)",
                     "(np.polynomial.Chebyshev(np.ravel({a})) ** 2).deriv().coef",
                     "np.polynomial.polynomial.polyfromroots(np.ravel({a}))",
                     "np.polynomial.legendre.legval(np.ravel({a}), [1.0, 0.5, 0.25], tensor=False)",
                     "np.polynomial.legendre.legval(np.ravel({a}), np.ravel({a}))",
                     "np.histogram({a}, bins=3)[1]",
                     "np.sort(np.roots(np.poly(np.ravel({a})[:3])))",
                     "np.sort(np.linalg.eigvals(np.diag(np.ravel({a})) + np.triu(np.ones((np.size({a}),) * 2), 1)))",
                     "np.histogram({a}, bins=[-1.0, 0.0, 1.0], weights={a})[0]",
                     # Python functions numpy calls per element (dual scalars go in); their
                     # object-array results become a dual array again by np.stack
                     "np.sum(np.vectorize(lambda v: v * v if v > 0.5 else np.sin(v))({a}))",
                     "np.stack(list(np.ravel(np.frompyfunc(lambda v, w: v * w - 2.0 * v, 2, 1)"
                     "({a}, {a}))))",
                     "np.stack(list(np.ravel(np.vectorize(lambda v: np.exp(-v * v), "
                     "otypes=[object])({a}))))",
                     # structure read from the shape only
                     "np.lib.stride_tricks.sliding_window_view({a}, 2, axis=-1)",
                     "{a}[np.tril_indices_from({a})]", "{a}[np.diag_indices_from({a})]",
                     "np.einsum('i,i->', np.ravel({a}), np.ravel({a}), "
                     "optimize=np.einsum_path('i,i->', np.ravel({a}), np.ravel({a}))[0])"]
UNSUPPORTED_METHODS = ["std()", "var()", "argmax()", "tolist()", "item()", "round()", "any()",
                       "all()", "nonzero()", "repeat(2)", "take([0])", "sort()", "fill(0.0)",
                       "conj()", "imag", "flat[0]", "strides", "nbytes", "itemsize", "cumsum(0)",
                       "trace()", "diagonal()", "max(axis=0, initial=-1.0)", "ptp()",
                       "compress([True])", "searchsorted(0.0)", "argsort()", "mean(axis=0)",
                       "prod(axis=0)", "view()", "tobytes()", "__array__()",
                       "__array_interface__", "flags", "data", "min(axis=0)"]
# not x.base: a dual array's is None (it owns its values, as a fresh ndarray does) where
# numpy's may be the array a view looks into, so a program computing with it has two meanings


# Many of these are supported by now. Those that are not smooth everywhere need a kink like
# any other entry, or finite differences across their switch points read as wrong numbers
# (a tie of two integer inputs under np.ptp, say): ORDER for functions that compare the
# elements (it changes wherever two elements cross, so a tie at the point drawn makes every
# direction a switch on one side), the rest their own piecewise-constant part.
ORDER = "np.argsort({a}, axis=None, kind='stable')"
SIGN = "np.sign({a})"
FUNC_KINKS = {
    "np.sum(np.vectorize(lambda v: v * v if v > 0.5 else np.sin(v))({a}))": "({a} > 0.5)",
    "np.sort": ORDER, "np.median": ORDER, "np.nanmax": ORDER, "np.ptp": ORDER,
    "np.argsort": ORDER, "np.argmax": ORDER,
    "np.round": "np.round({a})", "np.around": "np.round({a})",
    "np.count_nonzero": "({a} != 0)", "np.any": "({a} != 0)", "np.all": "({a} != 0)",
    "np.interp({a}, [0.0, 1.0], [1.0, 2.0])": "np.searchsorted([0.0, 1.0], {a})",
    "np.linalg.vector_norm": "np.sign({a})",
    "np.fmod({a}, 0.7)": "np.floor({a} / 0.7)", "np.remainder({a}, 0.7)": "np.floor({a} / 0.7)",
    "np.copysign({a}, -1.0)": SIGN, "np.heaviside({a}, 0.5)": SIGN,
    "np.spacing": "np.spacing({a})", "np.frexp": "np.frexp({a})[1]", "np.modf": "np.trunc({a})",
    "np.isclose({a}, 0.0)": "np.isclose({a}, 0.0)", "np.allclose({a}, 0.0)": "np.isclose({a}, 0.0)",
    "np.nan_to_num": "np.isfinite({a})",
    "np.histogram({a}, bins=3)[1]": ORDER,
    "np.sort(np.roots(np.poly(np.ravel({a})[:3])))": ORDER,
    "np.sort(np.linalg.eigvals(np.diag(np.ravel({a})) + np.triu(np.ones((np.size({a}),) * 2), 1)))": ORDER,
    "np.histogram({a}, bins=[-1.0, 0.0, 1.0], weights={a})[0]":
        "np.searchsorted([-1.0, 0.0, 1.0], {a}, side='right')",
    # the correction unwrap adds is a whole number of periods, constant between its switches
    "np.unwrap": "np.round(np.unwrap({a}) - {a}, 6)",
    # K and E have infinite slope at m = 1, which tanh reaches by rounding (tanh(20) = 1.0)
    "scipy.special.ellipk(np.tanh({a}))": EDGE.format("np.tanh({a}) == 1"),
    "scipy.special.ellipe(np.tanh({a}))": EDGE.format("np.tanh({a}) == 1"),
}
INEXACT_FUNCS = ("np.linalg.", "np.vectorize", "np.frompyfunc", "np.cross", "np.convolve", "np.kron", "np.polyval", "np.vecdot",
                 "np.average", "np.interp", "np.polyfit", "np.i0", "np.einsum(")
METHOD_KINKS = {
    "argmax()": ORDER, "round()": "np.round({a})", "any()": "({a} != 0)", "all()": "({a} != 0)",
    "nonzero()": "({a} != 0)", "sort()": ORDER, "ptp()": ORDER, "argsort()": ORDER,
    "max(axis=0, initial=-1.0)": f"({ORDER}, np.sign({{a}} + 1.0))", "min(axis=0)": ORDER,
    "searchsorted(0.0)": SIGN,
}


def _unsupported_func(g, a):
    s = g.pick(UNSUPPORTED_FUNCS)
    src = s.format(a=a.name) if "{a}" in s else f"{s}({a.name})"
    name = s.split("(")[0].split(".")[-1]
    kink = FUNC_KINKS.get(s)
    # products and norms sum in their own order (BLAS, pairwise): to rounding, as matmul
    inexact = any(k in s for k in INEXACT_FUNCS)
    # every function the expression calls may be the one an error names (np.linalg.eigvals
    # inside np.sort(...))
    called = tuple(re.findall(r"\.(\w+)\(", s))
    return Draft(src, names=(name, s.split("(")[0].split(".")[-2] if s.count(".") > 1 else name)
                 + called,
                 kink=kink.format(a=a.name) if kink else None, exact=not inexact,
                 chunk_exact=not inexact)


def _unsupported_method(g, a):
    m = g.pick(UNSUPPORTED_METHODS)
    kink = METHOD_KINKS.get(m)
    return Draft(f"{a.name}.{m}", names=(m.split("(")[0].split("[")[0],),
                 kink=kink.format(a=a.name) if kink else None)


# ---- the table ----------------------------------------------------------------------------

NZ = "nz"
# Not a kink of sin: the quarter period its argument is in. Finite differences resolve sin
# only where a step moves the argument by less than that (sin of 1e30 oscillates between
# two neighbouring doubles: a step of any size "sees" a bounded function, while the exact
# derivative is cos(v) v', of the size of v'); where every step crosses a quarter period,
# the direction is skipped as at a kink. Ordinary arguments cross one only now and then,
# and the smaller retry step does not.
PERIOD = "np.floor(2 * {} / np.pi)"
OPS = [
    # elementwise, one argument: the contract's functions as np.NAME (and dd.NAME)
    U("np.exp"), U("np.expm1"), U("np.exp2"), U("np.log", "pos"), U("np.log1p", "pos"),
    U("np.log2", "pos"), U("np.log10", "pos"), U("np.sqrt", "pos"), U("np.cbrt", NZ, kink="np.sign({})"),
    U("np.square"), U("np.reciprocal", NZ), U("np.sin", kink=PERIOD), U("np.cos", kink=PERIOD),
    U("np.tan", kink=PERIOD),
    U("np.arcsin", "unit", edge="np.abs({}) == 1"), U("np.arccos", "unit", edge="np.abs({}) == 1"),
    U("np.arctan"), U("np.sinh"), U("np.cosh"),
    U("np.tanh"), U("np.arcsinh"), U("np.arccosh", "ge1", edge="{} == 1"), U("np.arctanh", "unit"),
    U("np.abs", kink="np.sign({})"), U("np.absolute", kink="np.sign({})", promised=False),
    U("np.fabs", kink="np.sign({})", promised=False), U("np.sign", kink="np.sign({})"),
    U("np.floor", kink="np.floor({})"), U("np.ceil", kink="np.ceil({})"),
    U("np.trunc", kink="np.trunc({})", promised=False),
    U("np.rint", kink="np.rint({})", promised=False), U("np.negative"), U("np.positive"),
    U("np.deg2rad", promised=False), U("np.rad2deg", promised=False),
    U("dd.erf"), U("dd.erfc"), U("dd.sigmoid"), U("dd.softplus"), U("dd.relu", kink="np.sign({})"),
    U("dd.sin", kink=PERIOD), U("dd.sqrt", "pos"), U("dd.abs", kink="np.sign({})"),
    U("scipy.special.erf", promised=False), U("scipy.special.expit", promised=False),
    T(_sigmoid_slope, "sigmoid"),
    T(lambda g, a: f"-{a.name}", "negative", weight=0.5),
    T(lambda g, a: f"+{a.name}", "positive", weight=0.3),
    T(lambda g, a: f"abs({a.name})", "abs", kink="np.sign({a})", weight=0.5),
    # elementwise, two arguments: operators (both orders) and the binary functions
    B("{a} + {b}", "add", weight=2), B("{b} + {a}", "add"), B("{a} - {b}", "subtract"),
    B("{b} - {a}", "subtract"), B("{a} * {b}", "multiply", weight=2), B("{b} * {a}", "multiply"),
    B("{a} / {b}", "divide", dom_b=NZ), B("{b} / ({a} * {a} + 0.5)", "divide"),
    B("{b} / {a}", "divide", weight=0.3), POW(2),
    B("({b} * {b} + 0.5) ** {a}", "power"), B("({a} * {a} + 0.5) ** {b}", "power"),
    B("np.power({a} * {a} + 0.5, {b})", "power"), B("np.arctan2({a}, {b})", "arctan2",
      # the branch cut: y crossing 0 where x < 0 jumps by 2 pi
      kink="np.sign({a}) * (np.asarray({b}) < 0)"),
    B("np.hypot({a}, {b})", "hypot",
      # np.sign has no bool loop: a bool b must not make the whole kink unreadable
      kink="(np.sign({a}), np.sign(np.asarray({b}, dtype=float)))"), B("np.logaddexp({a}, {b})", "logaddexp"),
    B("np.maximum({a}, {b})", "maximum", kink="np.sign({a} - {b})"),
    B("np.minimum({b}, {a})", "minimum", kink="np.sign({a} - {b})"),
    B("np.fmax({a}, {b})", "fmax", kink="np.sign({a} - {b})", promised=False),
    B("np.fmin({a}, {b})", "fmin", kink="np.sign({a} - {b})", promised=False),
    B("dd.maximum({a}, {b})", "maximum", kink="np.sign({a} - {b})"),
    B("np.add({a}, {b})", "add"), B("np.multiply({b}, {a})", "multiply"),
    B("np.divide({a}, {b})", "divide", dom_b=NZ),
    B("np.true_divide({b}, {a} * {a} + 1.0)", "divide"),
    B("np.subtract({a}, {b})", "subtract"),
    B("{a} // {b}", "floor_divide", kink="np.floor({a} / {b})", weight=0.2, promised=False),
    # the quotient's floor changes at each jump; where a / b is past 2^52 (b = 1e-310) every
    # step crosses jumps, so the kink is a itself, which any step changes
    B("{a} % {b}", "remainder", kink="np.where(np.abs({a} / {b}) < 2.0 ** 52, "
      "np.floor({a} / {b}), {a})", weight=0.2, promised=False),
    T(lambda g, a: _ufunc_out(g, a), "ufunc out=", weight=0.3),
    # reductions
    REDUCE("np.sum", ("axis", "keepdims", "dtype"), ("where", "initial", "out"), weight=3,
           promised=True),
    REDUCE("sum", ("axis", "keepdims"), method=True, promised=True),
    REDUCE("np.mean", ("axis", "keepdims", "dtype"), ("where", "out"), weight=1.5,
           promised=True),
    REDUCE("mean", ("axis", "keepdims"), method=True, weight=0.5),
    REDUCE("np.prod", ("axis", "keepdims"), ("where", "initial", "out", "dtype"), exact=False,
           promised=True),
    REDUCE("prod", ("axis",), method=True, exact=False, weight=0.3),
    REDUCE("np.var", ("axis", "keepdims", "ddof"), ("where", "out")),
    REDUCE("np.std", ("axis", "keepdims", "ddof"), ("where", "out"),
           # at zero spread std is a cone's tip (sqrt'(0)): the kink there is the elements
           # themselves, which any step moves, tie-keeping retries included
           kink="np.where(np.std({a}, axis={axis}{sel}, keepdims=True) == 0, {a}, 0.0)"),
    REDUCE("np.max", ("axis", "keepdims"), ("where", "initial", "out"),
           kink="({a} == np.max({a}, axis={axis}, keepdims=True{sel}))",
           accepts=NONEMPTY),
    REDUCE("np.min", ("axis", "keepdims"), ("where", "initial", "out"),
           kink="({a} == np.min({a}, axis={axis}, keepdims=True{sel}))",
           accepts=NONEMPTY),
    REDUCE("np.amax", ("axis",), kink="({a} == np.max({a}, axis={axis}, keepdims=True))",
           accepts=NONEMPTY, weight=0.3),
    REDUCE("max", ("axis", "keepdims"), method=True,
           kink="({a} == np.max({a}, axis={axis}, keepdims=True))", accepts=NONEMPTY, weight=0.5),
    REDUCE("min", ("axis",), method=True,
           kink="({a} == np.min({a}, axis={axis}, keepdims=True))", accepts=NONEMPTY, weight=0.5),
    T(_cum("cumsum"), "cumsum", promised=True), T(_cum("cumprod"), "cumprod", promised=True),
    T(_diff, "diff", ARR),
    T(_ufunc_method, "ufunc.reduce", weight=1.5),
    T(_norm, "norm", ARR, exact=False, chunk_exact=False, weight=1.5, promised=True),
    # products
    T(_matmul, "matmul", nd(1, 2, True), weight=2, chunk_exact=False, promised=True),
    T(_einsum, "einsum", nd(1, 3), chunk_exact=False),
    T(_tensordot, "tensordot", nd(1, 3), chunk_exact=False),
    T(_inner_outer, "inner", VEC, chunk_exact=False),
    T(_eye, "eye", MAT, chunk_exact=False, weight=0.3, promised=True),
    # structure
    T(_slice, "slice", ARR, weight=3, promised=True),
    T(_window, "slice", VEC, weight=2, promised=True),
    T(_int_index, "index", ARR, weight=1.5, promised=True),
    T(_fancy, "fancy index", ARR, weight=1.5, promised=True),
    T(_mask_index, "boolean index", ARR), T(_newaxis, "newaxis", ANY, weight=0.5),
    T(_reshape, "reshape", promised=True), T(_transpose, "transpose", promised=True),
    T(_swap, "swapaxes", ARR),
    T(_squeeze, "squeeze"), T(_expand, "expand_dims"), T(_ravel, "ravel"),
    T(_flip, "flip", ARR), T(_roll, "roll"), T(_take, "take", ARR), T(_repeat, "repeat"),
    T(_tile, "tile"), T(_diag, "diag", nd(1, 2)), T(_broadcast, "broadcast_to", weight=0.5),
    T(_atleast, "atleast_1d", weight=0.5), T(_astype, "astype", weight=0.5),
    T(_copy, "copy", weight=0.5),
    # joining
    T(_join("np.concatenate"), "concatenate", ARR, weight=2, promised=True),
    T(_join("np.stack"), "stack", weight=1.5, promised=True),
    T(_join("np.hstack"), "hstack"), T(_join("np.vstack"), "vstack"),
    T(_join("np.column_stack"), "column_stack", nd(1, 2), weight=0.5, promised=False),
    # selection
    T(_where3, "where", weight=2, promised=True), T(_where1, "where", ARR, weight=0.5),
    T(_clip, "clip", weight=1.5, promised=True),
    # loop-style code and Python control flow
    T(_loop_array, "loop", SMALL_VEC, promised=True),
    T(_loop_index, "loop", SMALL_VEC, promised=True),
    T(_branch, "branch", NONEMPTY, promised=True),
    T(_elem_branch, "loop", SMALL_VEC, promised=True),
    T(_builtin, "builtin", SMALL_VEC, weight=0.5),
    # constants built around the dual values
    T(_like, "zeros_like", weight=0.5, promised=True),
    # things that must work or be refused clearly
    T(_real, "real", weight=0.4, promised=False),
    T(_handmade, "handmade Dual", weight=0.3, promised=False),
    ERR(_setitem, "setitem", ("immutable", "assign", "derivative", "lose", "setitem"), weight=0.2),
    ERR(_math, "math", ("derivative", "lose", "lost"), weight=0.2),
    ERR(_unsupported_func, "unsupported function", (), weight=0.8),
    ERR(_unsupported_method, "unsupported method", (), weight=0.6),
]

OPS_BY_NAME = {}
for _op in OPS:
    OPS_BY_NAME.setdefault(_op.name, _op)
