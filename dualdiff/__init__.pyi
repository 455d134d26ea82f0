"""Type stubs of the dualdiff namespace (dd.NAME): what `import dualdiff as dd` offers.

The elementary functions are set at import from the rule table (csrc/rules.h), so a type
checker learns them here; tests/test_packaging.py checks this file against the running
package (names, __all__, signatures).
"""
from typing import Any, Literal, overload

from numpy.typing import ArrayLike

from dualdiff import transforms as transforms
from dualdiff._core import (Dual as Dual, DualVec as DualVec, HyperDual as HyperDual,
                            HyperDualVec as HyperDualVec, clip as clip)
from dualdiff._core import (
    exp as exp, expm1 as expm1, exp2 as exp2, log as log, log1p as log1p, log2 as log2,
    log10 as log10, sqrt as sqrt, cbrt as cbrt, square as square, reciprocal as reciprocal,
    sin as sin, cos as cos, tan as tan, arcsin as arcsin, arccos as arccos, arctan as arctan,
    sinh as sinh, cosh as cosh, tanh as tanh, arcsinh as arcsinh, arccosh as arccosh,
    arctanh as arctanh, erf as erf, erfc as erfc, sigmoid as sigmoid, softplus as softplus,
    deg2rad as deg2rad, rad2deg as rad2deg, abs as abs, relu as relu, sign as sign,
    floor as floor, ceil as ceil, trunc as trunc, rint as rint, arctan2 as arctan2,
    hypot as hypot, maximum as maximum, minimum as minimum, fmax as fmax, fmin as fmin,
    logaddexp as logaddexp, power as power,
)
from dualdiff.custom import (check_rule as check_rule, custom_jvp as custom_jvp,
                             register_elementwise as register_elementwise)
from dualdiff.sparse import sparse_hessian as sparse_hessian, sparse_jacobian as sparse_jacobian
from dualdiff.transforms import (clear_caches as clear_caches, derivative as derivative,
                                 grad as grad, hessian as hessian, hvp as hvp,
                                 jacfwd as jacfwd, jacobian as jacobian, jvp as jvp,
                                 value_and_grad as value_and_grad)

__version__: str

# scipy.special's softmax family, differentiable (dualdiff._numpy.scipy_special)
def softmax(x: ArrayLike, axis: int | tuple[int, ...] | None = None) -> Any: ...
def log_softmax(x: ArrayLike, axis: int | tuple[int, ...] | None = None) -> Any: ...
@overload
def logsumexp(a: ArrayLike, axis: int | tuple[int, ...] | None = None, b: ArrayLike | None = None,
              keepdims: bool = False, return_sign: Literal[False] = False) -> Any: ...
@overload
def logsumexp(a: ArrayLike, axis: int | tuple[int, ...] | None, b: ArrayLike | None,
              keepdims: bool, return_sign: Literal[True]) -> tuple[Any, Any]: ...
@overload
def logsumexp(a: ArrayLike, axis: int | tuple[int, ...] | None = None, b: ArrayLike | None = None,
              keepdims: bool = False, *, return_sign: Literal[True]) -> tuple[Any, Any]: ...
# scipy.special.polygamma, differentiable in x (needs scipy)
def polygamma(n: ArrayLike, x: ArrayLike) -> Any: ...

# dd.abs exists, but `from dualdiff import *` does not shadow the builtin abs()
__all__ = [
    "Dual", "HyperDual", "DualVec", "HyperDualVec", "derivative", "grad", "value_and_grad",
    "jacobian", "jacfwd", "hessian", "jvp", "hvp", "clip", "clear_caches",
    "register_elementwise", "custom_jvp", "check_rule", "logsumexp", "softmax", "log_softmax",
    "polygamma",
    "exp", "expm1", "exp2", "log", "log1p", "log2", "log10", "sqrt", "cbrt", "square",
    "reciprocal", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh",
    "arcsinh", "arccosh", "arctanh", "erf", "erfc", "sigmoid", "softplus", "deg2rad",
    "rad2deg", "relu", "sign", "floor", "ceil", "trunc", "rint", "arctan2", "hypot", "maximum",
    "minimum", "fmax", "fmin", "logaddexp", "power", "sparse_jacobian", "sparse_hessian",
]
