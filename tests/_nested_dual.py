"""A test-only dual array (value + tangent on a trailing axis) that supports exactly the
operations the numpy.linalg rules may use, and sends np.linalg.* back to the rules.

Running a rule on Nested primals and tangents is running it at second order the way the
dual arrays do (dualdiff._jvp.apply hands a rule first-order dual arrays), but with an
independent, deliberately minimal implementation: a rule that used any other numpy operation,
took a decision on a dual value (bool) or converted one to a plain array fails here with a
TypeError. tests/test_jvp_linalg.py checks its results against finite differences.
"""
import inspect

import numpy as np

from dualdiff._jvp.linalg_svd import RULES

LA = np.linalg
# numpy function -> rule, for the functions this numpy has
JVPS = {getattr(LA, name): rule for name, rule in RULES.items() if hasattr(LA, name)}


# ---- a minimal dual array: exactly the operations the rules may use ---------------------------

class Nested:
    """value + tangent (value.shape + (q,)); any unsupported operation raises TypeError."""
    __array_priority__ = 1000

    def __init__(self, value, tangent):
        self.value, self.tangent = np.asarray(value, float), np.asarray(tangent, float)
        assert self.tangent.shape[:-1] == self.value.shape, (self.value.shape, tangent.shape)

    shape = property(lambda self: self.value.shape)
    ndim = property(lambda self: self.value.ndim)

    def __array__(self, *args, **kwargs):
        raise TypeError("Nested: converting to a plain array would drop the tangent")

    def __bool__(self):
        raise TypeError("Nested: truth value of a dual array (a decision on dual values)")

    def __getitem__(self, idx):
        idx_t = idx + (slice(None),) if isinstance(idx, tuple) and Ellipsis in idx else idx
        return Nested(self.value[idx], self.tangent[idx_t])

    __pow__ = lambda s, o: np.power(s, o)
    __neg__ = lambda s: np.negative(s)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__" or kwargs or ufunc.__name__ not in _UFUNCS:
            raise TypeError(f"Nested: numpy.{ufunc.__name__} ({method}) is not an allowed op")
        vals = [x.value if isinstance(x, Nested) else np.asarray(x, float) for x in inputs]
        q = next(x.tangent.shape[-1] for x in inputs if isinstance(x, Nested))
        tans = [x.tangent if isinstance(x, Nested) else None for x in inputs]
        value, tangent = _UFUNCS[ufunc.__name__](vals, tans, q)
        return Nested(value, np.broadcast_to(tangent, np.shape(value) + (q,)))

    def __array_function__(self, func, types, args, kwargs):
        if func in JVPS:
            return _apply_rule(func, args, kwargs)
        if func not in _FUNCS:
            raise TypeError(f"Nested: numpy.{func.__name__} is not an allowed op")
        return _FUNCS[func](*args, **kwargs)


for _op, _uf in (("add", np.add), ("sub", np.subtract), ("mul", np.multiply),
                 ("truediv", np.true_divide), ("matmul", np.matmul)):      # operators -> ufuncs
    setattr(Nested, f"__{_op}__", lambda s, o, _uf=_uf: _uf(s, o))
    setattr(Nested, f"__r{_op}__", lambda s, o, _uf=_uf: _uf(o, s))


def _z(t, v, q):
    return np.zeros(np.shape(v) + (q,)) if t is None else t


def _e(v):
    return np.expand_dims(v, -1)


def _matmul(vals, tans, q):
    a, b = vals
    a1, b1 = a.ndim == 1, b.ndim == 1
    a2, b2 = (a[None] if a1 else a), (b[:, None] if b1 else b)
    ta, tb = _z(tans[0], a, q), _z(tans[1], b, q)
    ta2, tb2 = (ta[None] if a1 else ta), (tb[:, None] if b1 else tb)
    t = (np.moveaxis(np.moveaxis(ta2, -1, -3) @ np.expand_dims(b2, -3), -3, -1)
         + np.moveaxis(np.expand_dims(a2, -3) @ np.moveaxis(tb2, -1, -3), -3, -1))
    if b1:
        t = np.squeeze(t, -2)
    if a1:
        t = np.squeeze(t, -2 if b1 else -3)
    return a @ b, t


def _chain(f, d):
    return lambda vals, tans, q: (f(vals[0]), _e(d(vals[0])) * tans[0])


_UFUNCS = {
    "add": lambda v, t, q: (v[0] + v[1], _z(t[0], v[0], q) + _z(t[1], v[1], q)),
    "subtract": lambda v, t, q: (v[0] - v[1], _z(t[0], v[0], q) - _z(t[1], v[1], q)),
    "negative": lambda v, t, q: (-v[0], -t[0]),
    "multiply": lambda v, t, q: (v[0] * v[1], _z(t[0], v[0], q) * _e(v[1])
                                 + _e(v[0]) * _z(t[1], v[1], q)),
    "divide": lambda v, t, q: (v[0] / v[1], (_z(t[0], v[0], q) - _e(v[0] / v[1])
                                             * _z(t[1], v[1], q)) / _e(v[1])),
    "power": lambda v, t, q: (v[0] ** v[1], _e(v[1] * v[0] ** (v[1] - 1)) * t[0])
    if t[1] is None else (_ for _ in ()).throw(TypeError("Nested: dual exponent")),
    "absolute": _chain(np.abs, np.sign),           # the only ufuncs the rules need
    "matmul": _matmul,
}


def _lin(f_value, f_tangent):
    """A linear operation: the same map on the value and (adapted) on the tangent."""
    def op(a, *args, **kwargs):
        return Nested(f_value(a.value, *args, **kwargs), f_tangent(a, *args, **kwargs))
    return op


def _axes(axis, nd):
    if axis is None:
        return tuple(range(nd))
    return tuple(a % nd for a in (axis if isinstance(axis, tuple) else (axis,)))


def _tri(f):
    return _lin(f, lambda a, k=0: np.moveaxis(f(np.moveaxis(a.tangent, -1, 0), k), 0, -1))


def _where(cond, x, y):
    if isinstance(cond, Nested):
        raise TypeError("Nested: np.where with a dual condition")
    vx, vy = (u.value if isinstance(u, Nested) else np.asarray(u, float) for u in (x, y))
    q = next(u.tangent.shape[-1] for u in (x, y) if isinstance(u, Nested))
    tx, ty = (_z(getattr(u, "tangent", None), v, q) for u, v in ((x, vx), (y, vy)))
    value = np.where(cond, vx, vy)
    return Nested(value, np.broadcast_to(np.where(_e(cond), tx, ty), value.shape + (q,)))


def _join(f, extra):
    def op(arrays, axis=0):
        q = next(u.tangent.shape[-1] for u in arrays if isinstance(u, Nested))
        vals = [u.value if isinstance(u, Nested) else np.asarray(u, float) for u in arrays]
        ax = axis % (vals[0].ndim + extra)
        tans = [_z(getattr(u, "tangent", None), v, q) for u, v in zip(arrays, vals)]
        return Nested(f(vals, axis=ax), f(tans, axis=ax))
    return op


_FUNCS = {
    np.moveaxis: _lin(np.moveaxis, lambda a, s, d: np.moveaxis(a.tangent, s % a.ndim, d % a.ndim)),
    np.swapaxes: _lin(np.swapaxes, lambda a, i, j: np.swapaxes(a.tangent, i % a.ndim, j % a.ndim)),
    np.transpose: _lin(np.transpose, lambda a, axes=None: np.transpose(
        a.tangent, [x % a.ndim for x in (axes if axes is not None else range(a.ndim)[::-1])]
        + [a.ndim])),
    np.reshape: _lin(np.reshape, lambda a, shape: np.reshape(
        a.tangent, np.reshape(a.value, shape).shape + a.tangent.shape[-1:])),
    np.expand_dims: _lin(np.expand_dims, lambda a, axis: np.expand_dims(
        a.tangent, axis % (a.ndim + 1))),
    np.sum: _lin(np.sum, lambda a, axis=None, keepdims=False: np.sum(
        a.tangent, axis=_axes(axis, a.ndim), keepdims=keepdims)),
    np.trace: _lin(np.trace, lambda a, offset=0, axis1=0, axis2=1: np.trace(
        a.tangent, offset, axis1 % a.ndim, axis2 % a.ndim)),
    np.diagonal: _lin(np.diagonal, lambda a, offset=0, axis1=0, axis2=1: np.moveaxis(
        np.diagonal(a.tangent, offset, axis1 % a.ndim, axis2 % a.ndim), -1, -2)),
    np.tril: _tri(np.tril), np.triu: _tri(np.triu),
    np.where: _where,
    np.concatenate: _join(np.concatenate, 0), np.stack: _join(np.stack, 1),
    np.broadcast_to: _lin(np.broadcast_to, lambda a, shape: np.broadcast_to(
        a.tangent, tuple(shape) + a.tangent.shape[-1:])),
}


def _apply_rule(func, args, kwargs):
    primals, params = split_args(func, args, kwargs)
    out, tout = JVPS[func](tuple(p.value if isinstance(p, Nested) else p for p in primals),
                           tuple(p.tangent if isinstance(p, Nested) else None for p in primals),
                           **params)
    wrap = lambda o, t: o if t is None else Nested(o, t)
    if isinstance(out, tuple):
        items = [wrap(o, t) for o, t in zip(out, tout)]
        return type(out)(*items) if hasattr(out, "_fields") else tuple(items)
    return wrap(out, tout)


_SIGNATURES = {}


def split_args(func, args, kwargs):
    """A numpy.linalg call's (args, kwargs) -> (primals, params) for ``JVPS[func]``: the
    leading array arguments (multi_dot: the arrays of its sequence) and the rest by name."""
    rule = JVPS[func]
    sig = _SIGNATURES.get(func) or _SIGNATURES.setdefault(func, inspect.signature(func))
    bound = sig.bind(*args, **kwargs).arguments
    names = list(sig.parameters)
    if rule.nargs < 0:
        return tuple(bound[names[0]]), {n: v for n, v in bound.items() if n != names[0]}
    arrays = names[:rule.nargs]
    return (tuple(bound[n] for n in arrays),
            {n: v for n, v in bound.items() if n not in arrays})
