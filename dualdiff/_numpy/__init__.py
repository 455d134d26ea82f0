"""The NumPy surface of dual arrays: which numpy function or ufunc is served by what.

Where does a new numpy function go? Into the module of this package for its area, decorated
with @implements(np.the_function), with numpy's own signature. Its derivative is either
  * a linear map of the array (shape.py: reshape, take, concatenate, ...) -- exact by
    construction through _arrays.linear / _arrays.join;
  * a composition of functions that already have derivatives (reductions.py: mean, var, ...);
  * a whole-array rule of dualdiff/_jvp (products, max/min ties, linear algebra), applied
    with dualdiff._jvp.apply; or
  * an elementwise rule of csrc/rules.h (the ufunc table below, built from the rule table).
A keyword that a handler does not implement raises TypeError naming it (refuse()); a function
that has no handler raises TypeError naming it (unsupported()) -- never a plain number.
"""
import dis
import functools
import linecache
import operator
import re

import numpy as np

from dualdiff import _arrays, _core

FUNCTIONS = _arrays.FUNCTIONS            # numpy function -> handler
UFUNCS = _arrays.UFUNCS                  # ufunc -> handler of ufunc(*inputs)
UFUNC_METHODS = _arrays.UFUNC_METHODS    # (ufunc, "reduce" | "accumulate" | ...) -> handler


def registrar(table):
    """The decorator registering handlers in `table` (numpy function -> handler): the dual
    arrays' table here, the sparsity tracer's in _tracer_numpy."""
    def implements(*funcs):
        """Register the decorated handler for numpy functions (those in this numpy)."""
        def register(handler):
            for f in funcs:
                if f is not None:
                    table[f] = handler
            return handler
        return register
    return implements


implements = registrar(FUNCTIONS)


_F64_DTYPES = (None, float, np.float64, "float64", "f8", "d")


def register_cumulative(implements, cumsum, cumprod):
    """numpy's array-API scans (np.cumulative_sum/prod, numpy >= 2.1) as cumsum/cumprod
    handlers of a table, with numpy's one difference: past one dimension the axis is
    required (np.cumsum flattens instead)."""
    def make(scan, name):
        def cumulative(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
            if axis is None and np.ndim(x.value if hasattr(x, "value") else x) > 1:
                raise ValueError(f"{name}: for arrays which have more than one dimension "
                                 "``axis`` argument is required")
            return scan(x, axis=axis, dtype=dtype, out=out, include_initial=include_initial)
        return cumulative
    for f, scan in ((getattr(np, "cumulative_sum", None), cumsum),
                    (getattr(np, "cumulative_prod", None), cumprod)):
        if f is not None:
            implements(f)(make(scan, f.__name__))


def float64_only(func, dtype):
    """dtype= on a function of dual values: float64 (or None) is what they are; anything else
    would change the numbers (np.stack(..., dtype=np.float32) rounds and overflows), so it is
    refused rather than ignored."""
    if dtype is None:                   # the usual call: no keyword
        return
    if not any(dtype is d or (d is not None and dtype == d) for d in _F64_DTYPES):
        raise TypeError(f"{qualname(func)}(..., dtype={dtype!r}) is not supported on dual "
                        "values (they are float64); drop the keyword")


def ufunc_method(ufunc, method):
    def register(handler):
        UFUNC_METHODS[(ufunc, method)] = handler
        return handler
    return register


class _NoValue:
    """Default of keywords whose absence differs from every value (numpy's own _NoValue)."""
    def __repr__(self):
        return "<no value>"


NOVALUE = _NoValue()


# ---- names and errors ------------------------------------------------------------------

_NAMES = {}
_NAMED_MODULES = set()


_SCIPY_BEHIND = {"_zeta": "scipy.special.zeta", "_riemann_zeta": "scipy.special.zeta",
                 "_lambertw": "scipy.special.lambertw", "_ellip_harm": "scipy.special.ellip_harm",
                 "_factorial": "scipy.special.factorial",
                 **{f"_spherical_{k}": f"scipy.special.spherical_{k}"
                    for k in ("jn", "yn", "in", "kn")}}


def _namespace_names():
    """Public numpy (and scipy.special, once imported) callables by identity -> qualified
    name; rebuilt when one of those modules has appeared since."""
    import sys
    mods = [m for m in ("numpy", "numpy.linalg", "numpy.fft", "scipy.special") if m in sys.modules]
    if set(mods) != _NAMED_MODULES:
        _NAMES.clear()
        for modname in mods:
            # the module's own dict, not getattr over dir(): numpy's lazy submodules
            # (f2py, testing, typing, ...) would be imported by the walk (~0.1 s at import);
            # sorted as dir() is, so an alias gets the same name (digamma, not psi)
            names = vars(sys.modules[modname])
            for attr in sorted(names):
                if not attr.startswith("_"):
                    _NAMES.setdefault(id(names[attr]), f"{modname}.{attr}")
        # private ufuncs that public scipy.special functions call with the user's values
        ufuncs = getattr(sys.modules.get("scipy.special"), "_ufuncs", None)
        for attr, public in _SCIPY_BEHIND.items():
            if hasattr(ufuncs, attr):
                _NAMES.setdefault(id(getattr(ufuncs, attr)), public)
        _NAMED_MODULES.clear()
        _NAMED_MODULES.update(mods)
    return _NAMES


def qualname(func):
    """'numpy.linalg.solve', 'scipy.special.gammaln', 'numpy.sin': how users spell it."""
    name = _namespace_names().get(id(func))
    if name is not None:
        return name
    mod = getattr(func, "__module__", None)
    base = getattr(func, "__name__", repr(func))
    if mod and mod.startswith("numpy") and not mod.startswith("numpy.polynomial."):
        mod = "numpy.linalg" if "linalg" in mod else "numpy.fft" if "fft" in mod else "numpy"
    return f"{mod}.{base}" if mod else base


def unsupported(func, method=None):
    """The TypeError for a function or ufunc (method) dual values cannot go through."""
    name = qualname(func)
    if func is np.copyto:
        return TypeError(_copyto_refused())
    if method is not None:
        return TypeError(f"{name}.{method}(...) is not supported on dual values; call "
                         f"{name}(...) itself, or a reduction such as np.sum or np.max")
    hint = ("register its derivative with dd.register_elementwise(func, d1, d2)"
            if isinstance(func, np.ufunc) else
            "write it with supported numpy functions, or give it a rule with dd.custom_jvp")
    return TypeError(f"dualdiff has no derivative rule for {name}: it cannot take dual values "
                     f"(the derivative would be lost). To differentiate through it, {hint}.")


def _copyto_refused():
    """np.copyto(dst, src) of dual values into a plain dst; np.full_like(a, value) of a plain
    a calls it with a dual fill value (numpy dispatches full_like on a alone)."""
    if _arrays._numpy_caller()[0] == "full_like":
        return ("numpy.full_like(a, value) of a plain array a and a dual value fills a plain "
                "array (numpy.copyto), which cannot hold dual numbers: use "
                "np.full(np.shape(a), value) or value * np.ones_like(a), which make a dual array")
    return ("numpy.copyto(dst, src) cannot store dual values into an array: build the result "
            "instead, np.where(mask, src, dst) for where=, np.broadcast_to(src, dst.shape) "
            "otherwise")


def refuse(func, **given):
    """TypeError for keywords a handler does not implement, given at non-default values."""
    bad = [k for k, v in given.items() if v is not None and v is not NOVALUE]
    if bad:
        raise TypeError(f"{qualname(func)}(..., {', '.join(k + '=' for k in bad)}) is not "
                        "supported on dual values; drop the keyword")


def no_out(func, out):
    if out is not None:
        raise TypeError(f"{qualname(func)}(..., out=...) cannot store dual values: use the "
                        "returned result instead")


# what a caller called to convert a dual array into a plain one, and what to use instead
_REPLACEMENTS = {"scipy.special.logsumexp": "dd.logsumexp",
                 "scipy.special.softmax": "dd.softmax",
                 "scipy.special.log_softmax": "dd.log_softmax",
                 "scipy.special.polygamma": "dd.polygamma",
                 # exact=False forms, whose ufuncs dualdiff differentiates
                 "scipy.special.factorial": "scipy.special.gamma(n + 1) (for n >= 0)",
                 "scipy.special.comb": "scipy.special.binom(N, k) (for exact=False)",
                 "scipy.special.perm": "scipy.special.poch(N - k + 1, k) (for exact=False)",
                 "scipy.special.spherical_jn": "np.sqrt(np.pi / (2 * z)) * "
                                               "scipy.special.jv(n + 0.5, z)",
                 "scipy.special.spherical_yn": "np.sqrt(np.pi / (2 * z)) * "
                                               "scipy.special.yv(n + 0.5, z)",
                 "scipy.special.multigammaln": "d * (d - 1) / 4 * np.log(np.pi) + "
                                               "sum(scipy.special.gammaln(a - j / 2) for j "
                                               "in range(d))"}
_core.LIBRARY_FIXES.update(_REPLACEMENTS)


_POLYNOMIAL_FIX = ("numpy.polynomial's fits and roots compute with plain arrays; fit with "
                   "np.polyfit(x, y, deg) and find roots with np.roots(c[::-1]) of power-series "
                   "coefficients c, which differentiate. The series classes (Polynomial(c)(x), "
                   "deriv, integ, arithmetic) and the evaluation functions "
                   "(np.polynomial.chebyshev.chebval(x, c), ...) take dual coefficients")

# numpy functions whose dispatcher skips an argument they then convert
_VECTORIZE_FIX = ("it calls the function on plain floats, one element at a time. Write the "
                  "function with numpy operations on the whole array instead (np.where for "
                  "its branches), or loop over the elements x[i] yourself and np.stack the "
                  "results, which keeps the dual numbers")
_NUMPY_BYPASS = {"numpy.select": "give the default as the last choice, "
                 "np.select(condlist + [True], choicelist + [default])",
                 "numpy.vectorize": _VECTORIZE_FIX}


def lost_derivative():
    """The message of a refused conversion of a dual array to a numpy array: it names the
    function that asked for it (the first frame outside numpy and dualdiff) and the fix."""
    import sys
    frame, inner = sys._getframe(1), None
    while frame is not None:
        mod = frame.f_globals.get("__name__", "")
        if not (mod == "numpy" or mod.startswith(("numpy.", "dualdiff."))):
            break
        frame, inner = frame.f_back, frame
    if inner is None and frame is not None and _assigns(frame):
        # a[idx] = x: ndarray.__setitem__ converts x in C, below any Python frame
        return ("assigning dual values into a plain numpy array (a[...] = x, in "
                f"{frame.f_code.co_name}) would lose their derivative: a float array cannot "
                "hold dual numbers. Build the array from the dual values instead: x ** 2 "
                "rather than out[:] = x ** 2, np.concatenate or np.stack for pieces, "
                "np.where(mask, values, other) for masks, and to scatter values into zeros "
                "at indices idx: np.bincount(np.ravel_multi_index(idx, shape), "
                "weights=values, minlength=size).reshape(shape)")
    where = "np.asarray/np.array"
    if inner is not None and inner.f_globals.get("__name__", "").startswith("numpy") and \
            _public_name(inner) is not None:
        # numpy's own Python code converted an argument its dispatcher does not hand to
        # __array_function__ (np.select's default, np.polynomial's coefficients): no rule
        # of dualdiff's ever saw the call
        name = _public_name(inner)
        fix = _NUMPY_BYPASS.get(name, _POLYNOMIAL_FIX if name.startswith("numpy.polynomial.")
                                else "pass the dual values in an argument numpy dispatches "
                                "on, or use another numpy function")
        return (f"{name} converts an argument with np.asarray without asking dualdiff (numpy "
                f"does not dispatch on it), which would lose its derivative: {fix}")
    if frame is not None:
        # the outermost frame of that library: the function the user called, not its helpers
        # code exec'd without a module name (a notebook cell, a generated program) is the
        # user's own, like __main__
        root = (frame.f_globals.get("__name__") or "__main__").split(".")[0]
        while frame.f_back is not None and \
                frame.f_back.f_globals.get("__name__", "").split(".")[0] == root and \
                root not in ("__main__", "tests"):
            frame = frame.f_back
        mod = frame.f_globals.get("__name__") or "__main__"
        public = ".".join(p for p in mod.split(".") if not p.startswith("_")) or mod
        name = _public_name(frame) or (
            f"{public}.{frame.f_code.co_name}" if frame.f_code.co_name != "<module>" else public)
        if not (mod == "__main__" or mod.startswith(("test", "tests."))):
            where = f"{name} (it calls np.asarray on its input)"
        else:
            where = f"np.asarray, np.array or .__array__() in {frame.f_code.co_name}"
        fix = _REPLACEMENTS.get(name)
        if fix is not None:
            return (f"{where} would lose the derivative of a dual array: use {fix}, which "
                    "computes the same values and carries derivatives")
        method = _ndarray_method_call(frame)
        if method is not None:
            # ndarray's own methods do not dispatch: a.dot(x) of a plain (or object) array a
            # converts x in C, and the frame above is the user's line
            return (f"{where} would lose the derivative of a dual array: ndarray.{method}() of "
                    f"a plain or object array converts its argument; call the numpy function "
                    f"instead ({_METHOD_FIX.get(method, f'np.{method}(a, x)')}), and build "
                    "arrays of dual numbers with np.stack rather than np.array([...])")
    return (f"{where} would lose the derivative of a dual array. Keep it a dual array and use "
            "numpy functions on it (np.sin, np.sum, np.where, ...); give a function dualdiff "
            "cannot see into a rule with dd.custom_jvp (or dd.register_elementwise if it is "
            "elementwise); or take .real if you want the values alone. To join dual arrays "
            "use np.stack or np.concatenate rather than np.array([...]).")


# numpy.polynomial's functions that take object arrays as they convert them: the evaluation
# functions (chebval, polyval2d, ...), derivatives and integrals (chebder, legint), the
# pseudo-Vandermonde matrices (legvander, polyvander2d), and
# as_series and mapdomain, through which the series classes (Polynomial(c), Chebyshev(c)(x))
# and the arithmetic, deriv and integ functions take their coefficients and points. Fits
# convert otherwise (np.asarray(y) + 0.0: refused); roots reach numpy.linalg through out=
# (refused, naming np.roots)
_SERIES_OBJECTS = re.compile(r"((val|grid|vander)(2d|3d)?|der|int|^_(val|grid)nd|^_vander_nd|"
                             r"^as_series|^mapdomain)$")
# the methods of np.vectorize (numpy 2.0 .. 2.5) and of np.r_ / np.c_ (AxisConcatenator)
# that convert their arguments
_OBJECT_STEPS = frozenset(["__call__", "_call_as_normal", "_get_ufunc_and_otypes",
                           "_vectorize_call", "_vectorize_call_with_signature", "__getitem__"])


def _object_classes():
    """numpy's classes whose conversions take object arrays of dual scalars: np.vectorize
    (its function runs per element) and np.r_ / np.c_ (they concatenate what they convert,
    an object array then)."""
    concat = getattr(getattr(np.lib, "_index_tricks_impl", None), "AxisConcatenator", None)
    return (np.vectorize,) if concat is None else (np.vectorize, concat)


def object_elements():
    """Whether the conversion of a dual array asked now is one that computes with object
    arrays, whose elements dual scalars can be, so the array goes in as one: numpy.polynomial's
    series functions and classes (_SERIES_OBJECTS), np.vectorize, which calls its function on
    each element (then on dual scalars: their own arithmetic carries the derivatives, Python
    branches included), and np.r_ / np.c_. numpy.polynomial's fits keep the refusal."""
    import sys
    frame = sys._getframe(1)
    while frame is not None:
        mod = frame.f_globals.get("__name__", "") or ""
        if mod.startswith("numpy.polynomial.") and not frame.f_code.co_name.startswith("<"):
            return _SERIES_OBJECTS.search(frame.f_code.co_name) is not None
        if mod.startswith("numpy.lib") and frame.f_code.co_name in _OBJECT_STEPS and \
                isinstance(frame.f_locals.get("self"), _object_classes()):
            return True
        if not (mod == "numpy" or mod.startswith(("numpy.", "dualdiff."))):
            return False
        frame = frame.f_back
    return False


def _public_name(frame):
    """How a user spells the library function running in frame: module path without its
    private parts plus the function's name, where that module has it (numpy.polynomial.
    chebyshev.chebval); for a decorator's wrapper (scipy.special.spherical_jn runs as
    `wrapper`), the name of the function it wraps, read from its closure. None otherwise."""
    import sys

    def publics(mod):
        parts = (mod or "").split(".")
        return [".".join(parts[:i]) for i in range(len(parts), 0, -1)
                if not any(p.startswith("_") for p in parts[:i])]
    here = publics(frame.f_globals.get("__name__"))
    code = frame.f_code
    # (name, modules to look in): the frame's function; a decorator's wrapped function, in
    # its own module too (scipy 1.13's deprecation wrapper of comb lives in scipy._lib)
    names = [(code.co_name, here)]
    for v in code.co_freevars:
        fn = frame.f_locals.get(v)
        if callable(fn):
            names.append((getattr(fn, "__name__", ""),
                          publics(getattr(fn, "__module__", None)) + here))
    owner = frame.f_locals.get("self", frame.f_locals.get("cls"))
    if owner is not None:
        cls = owner if isinstance(owner, type) else type(owner)
        if code.co_name.startswith("__"):
            names.append((cls.__name__, here))                        # Polynomial(c).__init__
        else:
            # a method: Polynomial.fit, Chebyshev(c).roots, by the class's shortest public
            # path (numpy.polynomial.Polynomial, as users write it)
            for public in reversed(publics(cls.__module__)):
                if getattr(sys.modules.get(public), cls.__name__, None) is cls:
                    return f"{public}.{cls.__name__}.{code.co_name}"
    for name, mods in names:
        if not name or name.startswith(("_", "<")):
            continue
        for public in mods:
            if getattr(sys.modules.get(public), name, None) is not None:
                return f"{public}.{name}"
    return None


_METHOD_FIX = {"dot": "np.dot(a, x) or np.matmul(a, x)"}
# an item or slice assignment (a[i] = ..., a[:, 1:] += ...), not a comparison
_ASSIGNMENT = re.compile(r"\s*[\w.]+\s*\[.*\]\s*([-+*/@%]|//|\*\*)?=(?!=)")
_STORE_SUBSCR = {dis.opmap.get("STORE_SUBSCR"), dis.opmap.get("STORE_SLICE")} - {None}


def _assigns(frame):
    """Whether the frame is storing into an item or slice (a[idx] = x): its current
    instruction (code without a source file too: exec'd, generated), else its source line."""
    code = frame.f_code.co_code
    if 0 <= frame.f_lasti < len(code) and code[frame.f_lasti] in _STORE_SUBSCR:
        return True
    return _ASSIGNMENT.match(linecache.getline(frame.f_code.co_filename,
                                               frame.f_lineno)) is not None
_METHOD_CALL = re.compile(r"\.(dot|clip|searchsorted|compress|choose|put|take|repeat|fill)\(")


def _ndarray_method_call(frame):
    """The ndarray method the user's current line calls with an argument (a.dot(x)), if it
    does, read from the source: the conversion happens in C, below any Python frame."""
    m = _METHOD_CALL.search(linecache.getline(frame.f_code.co_filename, frame.f_lineno))
    return m.group(1) if m else None


def find_ufunc(ufunc):
    """A handler for a ufunc the tables do not hold yet: scipy.special's, registered on
    first use (so importing dualdiff does not import scipy), or one of np.frompyfunc's,
    which calls its function on dual scalars (not registered: each is made anew)."""
    from dualdiff._numpy.elementwise import object_ufunc
    from dualdiff._numpy.scipy_special import scipy_ufunc
    return object_ufunc(ufunc) or scipy_ufunc(ufunc)


_arrays.unsupported = unsupported
_arrays.qualname = qualname
_arrays.lost_derivative = lost_derivative
_arrays.object_elements = object_elements
_arrays.find_ufunc = find_ufunc


# ---- axes --------------------------------------------------------------------------------

def axes(axis, ndim, func, scalar_axis=True):
    """axis (None, int or tuple) as a tuple of non-negative axes, numpy's errors included.
    scalar_axis: a 0-d array takes axis 0 or -1, as numpy's ufunc reductions (sum, max) do;
    np.mean, var and std count the reduced elements first and refuse it."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (list, np.ndarray)):
        axis = tuple(axis)
    if not isinstance(axis, tuple):
        axis = (axis,)
    out = []
    for a in axis:
        a = operator.index(a)
        bound = max(ndim, 1) if scalar_axis else ndim
        if not -bound <= a < bound:
            raise np.exceptions.AxisError(a, ndim)
        if ndim:                  # a 0-d array reduces over axis 0 (or -1) as over nothing
            out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{qualname(func)}: repeated axis")
    return tuple(out)


def axis1(axis, ndim):
    a = operator.index(axis)
    if not -ndim <= a < ndim:
        raise np.exceptions.AxisError(a, ndim)
    return a % ndim


def ndim(a):
    t = type(a)
    if t is _arrays.DualArray or t is np.ndarray:
        return a.ndim
    return np.ndim(_arrays.value_of(a))


def shape(a):
    t = type(a)
    if t is _arrays.DualArray or t is np.ndarray:
        return a.shape
    return np.shape(_arrays.value_of(a))


def as_dual(a):
    """A dual operand as a dual array (scalars lifted), or None for a constant."""
    return _arrays.lift(a)


# ---- ufuncs ----------------------------------------------------------------------------

def _register_ufuncs():
    for code, (name, lo, hi) in enumerate(_core.UNARY_RULES):
        u = getattr(np, name, None)
        if isinstance(u, np.ufunc):
            UFUNCS[u] = functools.partial(_arrays.apply_unary, code)
    for code, (name, lo, hi) in enumerate(_core.BINARY_RULES):
        u = getattr(np, name, None)
        if isinstance(u, np.ufunc):
            UFUNCS[u] = functools.partial(_arrays.apply_binary, code)
    UFUNCS[np.fabs] = UFUNCS[np.absolute]

    # compiled handlers (no Python frame between numpy's code and the operation: see
    # _arrays.series_points)
    for op, u in enumerate((np.add, np.subtract, np.multiply, np.true_divide)):
        UFUNCS[u] = functools.partial(_arrays.arithmetic_ufunc, op, u.__name__)
    UFUNCS[np.power] = UFUNCS[np.float_power] = _arrays.power
    UFUNCS[np.negative] = lambda a: _arrays.linear(a, lambda v, nd: np.negative(v))
    UFUNCS[np.positive] = UFUNCS[np.conjugate] = lambda a: a      # real values
    for op, u in enumerate(_core.CMP_UFUNCS):
        UFUNCS[u] = functools.partial(_compare, op)
    for u in (np.isnan, np.isinf, np.isfinite, np.signbit):
        UFUNCS[u] = functools.partial(_on_values, u)


def _compare(op, a, b):
    return _arrays.compare(a, b, op)


def _on_values(u, a):
    """Predicates (isnan, ...) look at the values: their result is not differentiable."""
    return u(_arrays.value_of(a))


_register_ufuncs()

# the areas of the surface register their handlers on import
from dualdiff._numpy import manipulation as _manipulation_mod, reductions as _reductions_mod  # noqa: E402,F401
from dualdiff._numpy import products as _products_mod, linalg as _linalg_mod  # noqa: E402,F401
from dualdiff._numpy import scipy_special as _scipy_mod  # noqa: E402,F401
from dualdiff._numpy import elementwise as _elementwise_mod  # noqa: E402,F401
from dualdiff._numpy import sorting as _sorting_mod  # noqa: E402,F401
from dualdiff._numpy import values as _values_mod  # noqa: E402,F401
from dualdiff._numpy import nanfunctions as _nanfunctions_mod  # noqa: E402,F401
from dualdiff._numpy import editing as _editing_mod  # noqa: E402,F401
from dualdiff._numpy import bilinear as _bilinear_mod  # noqa: E402,F401
from dualdiff._numpy import construction as _construction_mod  # noqa: E402,F401
from dualdiff._numpy import calculus as _calculus_mod  # noqa: E402,F401
from dualdiff._numpy import statistics as _statistics_mod  # noqa: E402,F401
from dualdiff._numpy import polynomial as _polynomial_mod  # noqa: E402,F401
from dualdiff._numpy import methods as _methods_mod  # noqa: E402,F401
from dualdiff._numpy import constants as _constants_mod  # noqa: E402,F401
