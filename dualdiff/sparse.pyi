"""Type stubs of dualdiff.sparse: sparse Jacobians and Hessians as scipy.sparse arrays."""
from concurrent.futures import Executor
from typing import Any, Callable, Literal

import numpy as np
from numpy.typing import NDArray

_Pattern = Any          # a scipy sparse matrix or array, or a 2-D boolean array
# "auto", "best" or a vertex order of dualdiff._coloring.ORDERS
_Coloring = Literal["auto", "best", "natural", "largest_first", "smallest_last",
                    "incidence_degree", "dynamic_largest_first"]

class PreparedJacobian:
    pattern: Any        # boolean scipy.sparse.csr_array
    colors: NDArray[np.intp]
    ncolors: int
    def __init__(self, f: Callable[..., Any], argnum: int, x: Any, pattern: Any, colors: Any,
                 name: str, chunk: int | None, verify: bool,
                 executor: Executor | None = None, probe: bool | None = None) -> None: ...
    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...
    def check(self, *args: Any, **kwargs: Any) -> None: ...

class PreparedHessian:
    pattern: Any
    colors: NDArray[np.intp]
    ncolors: int
    method: str
    def __init__(self, f: Callable[..., Any], argnum: int, x: Any, pattern: Any, colors: Any,
                 name: str, verify: bool, method: str,
                 executor: Executor | None = None) -> None: ...
    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...
    def check(self, *args: Any, **kwargs: Any) -> None: ...

class SparseJacobian:
    def __init__(self, f: Callable[..., Any], argnums: int, sparsity: str | _Pattern,
                 coloring: _Coloring, chunk: int | None, verify: bool,
                 executor: Executor | None) -> None: ...
    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...
    def prepare(self, *args: Any, **kwargs: Any) -> PreparedJacobian: ...

class SparseHessian:
    def __init__(self, f: Callable[..., Any], argnums: int, sparsity: str | _Pattern,
                 coloring: _Coloring, verify: bool, executor: Executor | None) -> None: ...
    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...
    def prepare(self, *args: Any, **kwargs: Any) -> PreparedHessian: ...

def sparse_jacobian(f: Callable[..., Any], argnums: int = 0, *, sparsity: str | _Pattern = "auto",
                    coloring: _Coloring = "auto", chunk: int | None = None, verify: bool = True,
                    executor: Executor | None = None) -> SparseJacobian: ...
def sparse_hessian(f: Callable[..., Any], argnums: int = 0, *, sparsity: str | _Pattern = "auto",
                   coloring: _Coloring = "auto", verify: bool = True,
                   executor: Executor | None = None) -> SparseHessian: ...
