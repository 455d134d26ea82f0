"""numpy.linalg on dual arrays: the surface; the rules are in dualdiff/_jvp/linalg.py."""
import numpy as np

from dualdiff import _arrays, _core
from dualdiff._numpy import implements, ndim
from dualdiff._numpy.reductions import amax, sum_

_SQRT = _core.UNARY_INDEX["sqrt"]
_ABS = _core.UNARY_INDEX["abs"]


@implements(np.linalg.norm)
def norm(x, ord=None, axis=None, keepdims=False):
    vector = isinstance(axis, (int, np.integer)) or (axis is None and ndim(x) == 1)
    if ord is None or ord == "fro" or (ord == 2 and vector):
        # sqrt(sum(x*x)): at x = 0 the zero-tangent rule gives gradient 0, not NaN
        return _arrays.apply_unary(_SQRT, sum_(x * x, axis=axis, keepdims=keepdims))
    if vector and ord == 1:
        return sum_(_arrays.apply_unary(_ABS, x), axis=axis, keepdims=keepdims)
    if vector and ord == np.inf:
        return amax(_arrays.apply_unary(_ABS, x), axis=axis, keepdims=keepdims)
    if vector and isinstance(ord, (int, float)) and ord > 0:
        s = sum_(_arrays.apply_unary(_ABS, x) ** float(ord), axis=axis, keepdims=keepdims)
        return s ** (1.0 / ord)
    raise TypeError(f"numpy.linalg.norm(ord={ord!r}) is not supported on dual arrays; vector "
                    "norms (ord=None, 1, 2, inf, p > 0) and the Frobenius norm are")
