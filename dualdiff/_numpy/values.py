"""numpy functions whose results carry no derivative -- indices, counts, booleans -- on dual
values: they run on the plain values.

argmax(x) or np.isclose(x, y) is a decision about values: it has no derivative to keep, and
user code takes such decisions all the time (masks, early exits, sort orders). Each function
here is called with every dual argument replaced by its values, so results, errors and
warnings are numpy's own. Functions that return floats are not listed here: those have a
derivative and are served elsewhere (or raise).
"""
import inspect

import numpy as np

from dualdiff import _arrays
from dualdiff._numpy import UFUNCS, implements, qualname


def _is_dual(o):
    """A dual array (with or without tangents) or a dual scalar of any of dualdiff's types."""
    return type(o) is _arrays.DualArray or _arrays.lift(o) is not None


def strip(o):
    """o with every dual value (at any depth of lists, tuples and dicts) replaced by its
    plain values."""
    t = type(o)
    if t is list or t is tuple:
        return t(strip(e) for e in o)
    if t is dict:
        return {k: strip(v) for k, v in o.items()}
    return _arrays.value_of(o) if _is_dual(o) else o


def _holds_dual(o):
    t = type(o)
    if t is list or t is tuple:
        return any(_holds_dual(e) for e in o)
    return _is_dual(o)


def _on_values(func):
    try:
        params = list(inspect.signature(func).parameters)
    except (TypeError, ValueError):            # ufuncs: out is a keyword
        params = []
    out_at = params.index("out") if "out" in params else None

    def handler(*args, **kwargs):
        out = kwargs.get("out", args[out_at] if out_at is not None and len(args) > out_at
                         else None)
        if _holds_dual(out):
            # the values of a dual array are its own buffer: numpy would write into it
            raise TypeError(f"{qualname(func)}(..., out=...) cannot store into a dual array "
                            "(dual arrays are immutable); use the returned result")
        return func(*strip(args), **strip(kwargs))
    handler.__name__ = getattr(func, "__name__", "handler")
    handler.__doc__ = f"numpy.{handler.__name__} on the values: its result has no derivative."
    return handler


# indices and orders
_INDICES = ("argmax", "argmin", "nanargmax", "nanargmin", "argsort", "argpartition", "lexsort",
            "searchsorted", "digitize", "nonzero", "flatnonzero", "argwhere", "count_nonzero",
            "unravel_index", "ravel_multi_index")
# truth values and comparisons
_TRUTHS = ("isclose", "allclose", "array_equal", "array_equiv", "isreal", "iscomplex",
           "isrealobj", "iscomplexobj", "isposinf", "isneginf", "any", "all", "isin",
           "shares_memory", "may_share_memory", "result_type", "min_scalar_type", "can_cast")

for _name in _INDICES + _TRUTHS:
    _f = getattr(np, _name, None)
    if _f is not None and not isinstance(_f, np.ufunc):
        implements(_f)(_on_values(_f))

# the logical ufuncs: truth values of the values
for _u in (np.logical_and, np.logical_or, np.logical_xor, np.logical_not):
    UFUNCS[_u] = _on_values(_u)
