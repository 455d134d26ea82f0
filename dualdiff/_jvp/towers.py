"""Elementwise functions of dual values with three or more levels: transforms nested beyond
second order (a third derivative, the gradient of a Hessian-vector product, a derivative of
dd.derivative(f, order=2)).

One and two levels run in the compiled kernels, whose rows hold f, f' and f''. Beyond, a value
is taken one level at a time: x = P + eps T (_arrays.as_pair), where P and T have one level
less, and

    f(P + eps T)    = f(P) + eps f'(P) T                      (the chain rule)
    (Pa + eps Ta)(Pb + eps Tb) = Pa Pb + eps (Ta Pb + Pa Tb)  (the product rule)
    (Pa + eps Ta)/(Pb + eps Tb) = q + eps (Ta - q Tb)/Pb      (the quotient rule, q = Pa/Pb)

with f' the table's derivative as a function (csrc/rules.h, DD_UNARY_DERIVATIVES) evaluated
on P -- one level less, so the recursion ends in the compiled kernels. The directions of the
peeled level ride on T's trailing axis, so every factor that multiplies T gets one axis more.
"""
import numpy as np

from dualdiff import _arrays, _core

_ADD, _SUB, _MUL, _DIV, _RULE0 = range(5)        # csrc/kernels.h's DD_OP_*

_NAMESPACE = dict(_core.elementary)
_NAMESPACE.update(
    where=lambda c, a, b: np.where(np.asarray(_arrays.value_of(c), dtype=bool), a, b),
    isnan=lambda x: np.isnan(_arrays.value_of(x)),
    LN2=float(np.log(2.0)), LN10=float(np.log(10.0)), DEG=float(np.pi / 180.0),
    TWO_SQRTPI=float(2.0 / np.sqrt(np.pi)))
_UNARY_D = {}
_BINARY_D = {}


def _compiled(source, args):
    return eval(f"lambda {args}: {source}", dict(_NAMESPACE))


def derivative(code):
    """f' of unary rule `code` as a function of dual values."""
    d = _UNARY_D.get(code)
    if d is None:
        name = _core.UNARY_RULES[code][0]
        d = _UNARY_D[code] = _compiled(_core.UNARY_DERIVATIVES[name], "x")
    return d


def partials(code):
    """(f_a, f_b) of binary rule `code` as functions of dual values."""
    d = _BINARY_D.get(code)
    if d is None:
        name = _core.BINARY_RULES[code][0]
        da, db = _core.BINARY_DERIVATIVES[name]
        d = _BINARY_D[code] = (_compiled(da, "a, b"), _compiled(db, "a, b"))
    return d


def _along(d, T):
    """d (a factor of the value's shape) times T (the tangent, one trailing axis more)."""
    if T is None:
        return None
    if np.ndim(_arrays.value_of(d)) == 0 and not isinstance(d, _arrays.DualArray):
        return d * T
    return np.expand_dims(d, -1) * T


def _sum(a, b):
    return a if b is None else b if a is None else a + b


def _pair(x):
    d = _arrays.lift(x)
    if d is None:
        return _arrays.const(x), None
    return _arrays.as_pair(d)


def unary(x, code, pw, is_pow):
    """Rule `code` (or x ** pw) of a dual array of three or more levels."""
    P, T = _arrays.as_pair(x)
    if is_pow:
        out = P ** pw
        fp = 0.0 if pw == 0.0 else pw * P ** (pw - 1.0)
    else:
        out = _arrays.apply_unary(code, P)
        fp = derivative(code)(P)
    return _arrays.from_pair(out, _along(fp, T), x, x.tags)


def binary(op, a, b):
    """op(a, b) (csrc/kernels.h's DD_OP_* or DD_OP_RULE0 + a binary rule) with operands of
    three or more levels, aligned (constants are plain)."""
    like = a if isinstance(a, _arrays.DualArray) else b
    Pa, Ta = _pair(a)
    Pb, Tb = _pair(b)
    if op == _ADD or op == _SUB:
        out = Pa + Pb if op == _ADD else Pa - Pb
        tb = None if Tb is None else (Tb if op == _ADD else -Tb)
        tout = _sum(Ta, tb)
    elif op == _MUL:
        out = Pa * Pb
        tout = _sum(_along(Pb, Ta), _along(Pa, Tb))
    elif op == _DIV:
        out = Pa / Pb
        tout = _along(1.0 / Pb, _sum(Ta, None if Tb is None else -_along(out, Tb)))
    else:
        code = op - _RULE0
        out = _arrays.apply_binary(code, Pa, Pb)
        fa, fb = partials(code)
        tout = _sum(None if Ta is None else _along(fa(Pa, Pb), Ta),
                    None if Tb is None else _along(fb(Pa, Pb), Tb))
    shape = np.shape(_arrays.value_of(out))
    if tout is not None and np.shape(_arrays.value_of(tout))[:-1] != shape:
        tout = np.broadcast_to(tout, shape + np.shape(_arrays.value_of(tout))[-1:])
    return _arrays.from_pair(out, tout, like, like.tags)


_arrays.towers = __import__(__name__, fromlist=["unary"])
