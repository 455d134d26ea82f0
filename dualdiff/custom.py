"""Rules users give for functions dualdiff has none for: dd.register_elementwise for
elementwise functions (a ufunc or a vectorised callable with vectorised derivatives),
dd.custom_jvp for anything else (solvers, implicit functions), and dd.check_rule, which
compares a rule with finite differences.

dualdiff's own scipy.special table is registered through register_elementwise
(dualdiff/_jvp/special.py): the public mechanism is the one the built-ins use.
"""
import functools
import inspect

import numpy as np

from dualdiff import _arrays, _core, _numpy
from dualdiff._jvp.elementwise import ElementwiseRule, MultiRule

__all__ = ["register_elementwise", "custom_jvp", "check_rule"]

_BUILTIN_UFUNCS = None


def _builtin(func):
    """Whether func is served by dualdiff's own tables (arithmetic, the rule table)."""
    global _BUILTIN_UFUNCS
    if _BUILTIN_UFUNCS is None:
        _BUILTIN_UFUNCS = frozenset(_numpy.UFUNCS)
    return func in _BUILTIN_UFUNCS


def _arity(func):
    if isinstance(func, np.ufunc):
        return func.nin
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        raise TypeError("register_elementwise: cannot tell how many arguments "
                        f"{func!r} takes; pass nin=") from None
    return sum(1 for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
               and p.default is p.empty)


def register_elementwise(func, d1, d2=None, *, nin=None):
    """Give dualdiff the derivatives of an elementwise function.

    func: a ufunc (numpy's or scipy's), or any vectorised callable of nin arguments.
    d1:   vectorised callable with func's arguments returning f'(x) (one argument) or a tuple
          of the nin partial derivatives, None for an argument func is not differentiable in
          (an integer order, say): a varying value there raises an error.
    d2:   the same for second derivatives: f''(x), or a nin x nin nested tuple (symmetric);
          without it, second-order transforms through func raise an error naming it.
    A ufunc of several outputs (scipy.special.sici, airy, ...): d1 and d2 return a tuple with
    one entry per output, each as above.

    A ufunc is registered for every call (np.*/scipy.special.* on dual values); the return
    value is the ufunc itself. For other callables the return value is the function to call
    on dual values (it calls func itself on plain ones); a numpy function is also registered
    for numpy's own dispatch. Derivatives are evaluated once per call on whole arrays and
    applied by dualdiff's compiled chain rule.
    """
    if not callable(func) or not callable(d1) or (d2 is not None and not callable(d2)):
        raise TypeError("register_elementwise(func, d1, d2=None) takes callables")
    if isinstance(func, np.ufunc) and _builtin(func):
        raise ValueError(f"{_numpy.qualname(func)} already has a derivative rule in dualdiff "
                         "(csrc/rules.h); it cannot be registered again")
    m = nin if nin is not None else _arity(func)
    if not isinstance(m, int) or m < 1:
        raise ValueError(f"register_elementwise: nin must be a positive int, got {m!r}")
    if isinstance(func, np.ufunc) and func.nout > 1:
        rule = MultiRule(func, d1, d2, m, func.nout, _numpy.qualname(func))
    else:
        rule = ElementwiseRule(func, d1, d2, m, _numpy.qualname(func))
    if isinstance(func, np.ufunc):
        _numpy.UFUNCS[func] = rule
        return func
    _numpy.FUNCTIONS[func] = rule            # numpy functions dispatch here (np.sinc, ...)
    return functools.wraps(func)(lambda *args: call_rule(rule, args))


def call_rule(rule, args):
    """An ElementwiseRule of a plain callable (which no numpy protocol brings to dualdiff)
    applied to args: on tracers (sparsity detection) as the tracers' elementwise rule, else
    on dual values, 0-d results of one direction as the compiled scalars."""
    from dualdiff import _tracer
    if any(isinstance(a, _tracer.Tracer) for a in args):
        return _tracer.apply_ufunc(_tracer._RegisteredRule(rule), args)
    return _scalars(rule(*args))


def _scalars(r):
    """Dual results of 0 dimensions and one direction as the compiled scalars."""
    if isinstance(r, tuple):
        made = [_arrays.to_scalar(e) for e in r]
        return type(r)(*made) if hasattr(r, "_fields") else tuple(made)
    return _arrays.to_scalar(r)


class custom_jvp:
    """A function with a forward-mode rule of its own (as jax.custom_jvp):

        @dd.custom_jvp
        def f(x, y): ...                      # the value, any code (scipy solvers, loops)

        @f.defjvp
        def f_jvp(primals, tangents):
            x, y = primals; dx, dy = tangents
            out = f(x, y)
            return out, ...                   # the tangent of out

    Unlike JAX, each tangent carries the sweep's k directions on a trailing axis (shape
    primal.shape + (k,)) and tangent_out must have shape out.shape + (k,): a rule handles a
    whole chunk of directions at once (one factorisation for all of them, say). Tangents of
    arguments that do not vary are zeros. Under second-order transforms the rule runs on dual
    arrays (primals and tangents then carry the other direction), so it must use numpy
    operations dualdiff supports -- calling f itself for the value is the usual way; code that
    converts its input with np.asarray works at first order only. A rule that calls f on a
    tangent (A^-1 applied to a right-hand side, say) must let f's arguments carry extra
    trailing axes: write contractions with an ellipsis (np.einsum("ijk,j...->i...k", dA, x))
    and reshape to what f accepts (tests/test_custom.py has a worked linear solve).
    """

    def __init__(self, fun):
        self.fun = fun
        self.jvp = None
        functools.update_wrapper(self, fun)

    def defjvp(self, rule):
        if not callable(rule):
            raise TypeError("defjvp takes the rule function (primals, tangents) -> (out, tangent)")
        self.jvp = rule
        return rule

    def __call__(self, *args, **kwargs):
        if not any(_arrays.lift(a) is not None for a in args):
            return self.fun(*args, **kwargs)
        if self.jvp is None:
            raise TypeError(f"{self.__name__} is a dd.custom_jvp function without a rule: define "
                            "one with @f.defjvp before differentiating it")
        nondiff = tuple(i for i, a in enumerate(args) if not _numeric(a))
        return _scalars(_arrays.apply_rule(self._apply, tuple(args), kwargs or None, nondiff))

    def _apply(self, primals, tangents, **kwargs):
        k_shape = next(np.shape(t)[np.ndim(p):] for p, t in zip(primals, tangents)
                       if t is not None)
        full = tuple(t if t is not None or not _numeric(p) else
                     np.zeros(np.shape(p) + k_shape) for p, t in zip(primals, tangents))
        out, tout = self.jvp(primals, full, **kwargs)
        for o, t in (zip(out, tout) if isinstance(out, tuple) else [(out, tout)]):
            if t is not None and np.shape(t) != np.shape(o) + k_shape:
                raise ValueError(
                    f"{self.__name__}'s jvp rule returned a tangent of shape {np.shape(t)} for "
                    f"an output of shape {np.shape(o)}: tangents carry the sweep's directions "
                    f"on a trailing axis, so it must be {np.shape(o) + k_shape}")
        return out, tout


def _numeric(a):
    return _arrays.lift(a) is not None or _core.is_real(a) or \
        (isinstance(a, np.ndarray) and a.dtype.kind in "fiub")


def check_rule(func, *args, rtol=1e-6, atol=1e-9, seed_directions=0):
    """Compare the derivative dualdiff uses for func (a registered elementwise function, a
    dd.custom_jvp function, or anything dualdiff differentiates) with central finite
    differences at args, in random directions: the first derivative against differences of
    func, the second against differences of the first. Returns the largest scaled errors
    {"first": e1, "second": e2 or None}; raises AssertionError naming the order that
    disagrees beyond rtol (relative) / atol (absolute)."""
    from dualdiff import transforms
    rng = np.random.default_rng(seed_directions)
    xs = [np.asarray(a, dtype=np.float64) for a in args]
    us = [rng.standard_normal(x.shape) for x in xs]
    ws = [rng.standard_normal(x.shape) for x in xs]

    def f_at(s, dirs):
        return np.asarray(func(*[x + s * d for x, d in zip(xs, dirs)]), dtype=np.float64)

    def jvp_at(s, dirs):
        return np.asarray(transforms.jvp(func, tuple(x + s * d for x, d in zip(xs, dirs)),
                                         tuple(us))[1], dtype=np.float64)

    errors = {"first": _fd_error(jvp_at(0.0, ws), lambda s: f_at(s, us), rtol, atol),  # at x
              "second": None}
    try:
        second = transforms.second_directional(func, tuple(xs), tuple(us), tuple(ws))
    except TypeError as exc:
        if "without d2" not in str(exc) and "has no second derivative" not in str(exc):
            raise
        second = None
    if second is not None:
        errors["second"] = _fd_error(second, lambda s: jvp_at(s, ws), rtol, atol)
    for order, err in errors.items():
        if err is not None and err > 1.0:
            raise AssertionError(f"check_rule: the {order} derivative of "
                                 f"{getattr(func, '__name__', func)!s} disagrees with finite "
                                 f"differences (scaled error {err:.3g} > 1 at rtol={rtol}, "
                                 f"atol={atol})")
    return errors


def _fd_error(got, f, rtol, atol):
    """max |got - fd| / (atol + rtol |fd|) with a Richardson-extrapolated central difference."""
    h = 1e-3
    d1 = (f(h) - f(-h)) / (2 * h)
    d2 = (f(h / 2) - f(-h / 2)) / h
    fd = (4 * d2 - d1) / 3
    return float(np.max(np.abs(got - fd) / (atol + rtol * np.abs(fd)), initial=0.0))
