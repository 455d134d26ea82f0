"""Which results of a rowless argument stay dual arrays.

In a sweep that does not seed an argument, the argument is a dual array without tangent rows
("rowless", dualdiff/_windows.pxi), and numpy code computed from it must return what it
returns in a sweep that does seed it: types do not depend on the chunk. So a result is a
rowless dual array exactly where a seeded argument gives a dual array, and a plain array where
a seeded argument gives a plain one (code assigns into np.zeros_like(x)). The rule in
_arrays (keep_constant): every float result of a call with a rowless argument. Here are the
exceptions -- the functions whose results, for seeded arguments, are plain floats
(tests/test_numpy_namespace.py's CONSTANT list) or come from some arguments only.
"""
import numpy as np

from dualdiff import _arrays

keep = _arrays.keep_constant


def _plain(result, args, kwargs):
    """Plain whatever the argument: the result does not depend on its values."""
    return result


def _arg(args, kwargs, i, name):
    return args[i] if len(args) > i else kwargs.get(name)


def _per_argument(result, args, kwargs):
    """One result per argument, each dual only where its own argument is."""
    if isinstance(result, (tuple, list)):
        return type(result)(keep(r, (a,)) for r, a in zip(result, args))
    return keep(result, args[:1])


def _choices(result, args, kwargs):
    """np.where: dual where a choice is; the condition is a decision on values."""
    return keep(result, tuple(args[1:]) + tuple(kwargs.values()))


def _fill(result, args, kwargs):
    """np.full_like: dual where the fill value is; the shape-giving array's values unused."""
    return keep(result, (_arg(args, kwargs, 1, "fill_value"),))


def _slogdet(result, args, kwargs):
    """(sign, logabsdet): the sign is piecewise constant, plain for seeded arguments too."""
    parts = [result[0], keep(result[1], args)]
    return type(result)._make(parts) if hasattr(result, "_make") else type(result)(parts)


def _norm(result, args, kwargs):
    """ord=0 counts the nonzero entries: plain for seeded arguments too."""
    if _arg(args, kwargs, 1, "ord") == 0:
        return result
    return keep(result, args[:1])


_arrays.CONSTANT_RESULTS.update({
    np.zeros_like: _plain, np.ones_like: _plain, np.empty_like: _plain, np.imag: _plain,
    np.angle: _plain, np.full_like: _fill, np.where: _choices,
    np.atleast_1d: _per_argument, np.atleast_2d: _per_argument, np.atleast_3d: _per_argument,
    np.broadcast_arrays: _per_argument, np.meshgrid: _per_argument,
    np.linalg.slogdet: _slogdet, np.linalg.norm: _norm,
})
