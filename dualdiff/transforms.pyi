"""Type stubs of dualdiff.transforms: the JAX-style transforms.

Each transform takes f and returns a function of f's arguments. Those are not carried over
(a ParamSpec would be: but numpy's ufuncs are overloaded, and a type checker then keeps only
their first, scalar, signature, so dd.jacobian(np.sin)(x) would be flagged). What the
function returns depends on the argument's structure (a float for a Python number, an array,
or the same pytree), so it is Any; a tuple of argnums gives a tuple, and has_aux=True pairs
the result with f's aux as in JAX.
"""
from concurrent.futures import Executor
from typing import Any, Callable, Literal, overload

def clear_caches() -> None: ...

# ---- derivative: scalar argument, any order ----------------------------------------------

def derivative(f: Callable[..., Any], argnum: int = 0, order: int = 1) -> Callable[..., Any]: ...

# ---- grad ----------------------------------------------------------------------------------

@overload
def grad(f: Callable[..., Any], argnums: int = 0, chunk: int | None = None,
         has_aux: Literal[False] = False,
         executor: Executor | None = None) -> Callable[..., Any]: ...
@overload
def grad(f: Callable[..., Any], argnums: tuple[int, ...], chunk: int | None = None,
         has_aux: Literal[False] = False,
         executor: Executor | None = None) -> Callable[..., tuple[Any, ...]]: ...
@overload
def grad(f: Callable[..., Any], argnums: int = 0, chunk: int | None = None, *,
         has_aux: Literal[True],
         executor: Executor | None = None) -> Callable[..., tuple[Any, Any]]: ...
@overload
def grad(f: Callable[..., Any], argnums: tuple[int, ...], chunk: int | None = None, *,
         has_aux: Literal[True],
         executor: Executor | None = None) -> Callable[..., tuple[tuple[Any, ...], Any]]: ...

# ---- value_and_grad: (value, gradient); with has_aux ((value, aux), gradient) --------------

@overload
def value_and_grad(f: Callable[..., Any], argnums: int = 0, chunk: int | None = None,
                   has_aux: Literal[False] = False,
                   executor: Executor | None = None) -> Callable[..., tuple[Any, Any]]: ...
@overload
def value_and_grad(f: Callable[..., Any], argnums: tuple[int, ...], chunk: int | None = None,
                   has_aux: Literal[False] = False, executor: Executor | None = None
                   ) -> Callable[..., tuple[Any, tuple[Any, ...]]]: ...
@overload
def value_and_grad(f: Callable[..., Any], argnums: int = 0, chunk: int | None = None, *,
                   has_aux: Literal[True], executor: Executor | None = None
                   ) -> Callable[..., tuple[tuple[Any, Any], Any]]: ...
@overload
def value_and_grad(f: Callable[..., Any], argnums: tuple[int, ...], chunk: int | None = None, *,
                   has_aux: Literal[True], executor: Executor | None = None
                   ) -> Callable[..., tuple[tuple[Any, Any], tuple[Any, ...]]]: ...

# ---- jacobian (and its JAX name jacfwd) ----------------------------------------------------

@overload
def jacobian(f: Callable[..., Any], argnums: int = 0, chunk: int | None = None,
             has_aux: Literal[False] = False,
             executor: Executor | None = None) -> Callable[..., Any]: ...
@overload
def jacobian(f: Callable[..., Any], argnums: tuple[int, ...], chunk: int | None = None,
             has_aux: Literal[False] = False,
             executor: Executor | None = None) -> Callable[..., tuple[Any, ...]]: ...
@overload
def jacobian(f: Callable[..., Any], argnums: int = 0, chunk: int | None = None, *,
             has_aux: Literal[True],
             executor: Executor | None = None) -> Callable[..., tuple[Any, Any]]: ...
@overload
def jacobian(f: Callable[..., Any], argnums: tuple[int, ...], chunk: int | None = None, *,
             has_aux: Literal[True],
             executor: Executor | None = None) -> Callable[..., tuple[tuple[Any, ...], Any]]: ...

jacfwd = jacobian

# ---- second order --------------------------------------------------------------------------

@overload
def hessian(f: Callable[..., Any], argnums: int = 0, chunk: int | None = None,
            executor: Executor | None = None) -> Callable[..., Any]: ...
@overload
def hessian(f: Callable[..., Any], argnums: tuple[int, ...], chunk: int | None = None,
            executor: Executor | None = None) -> Callable[..., tuple[tuple[Any, ...], ...]]: ...

# hvp's function takes f's arguments and then v: (*args, v) -> H v
def hvp(f: Callable[..., Any], argnums: int = 0, chunk: int | None = None,
        executor: Executor | None = None) -> Callable[..., Any]: ...

# ---- one direction -------------------------------------------------------------------------

def jvp(f: Callable[..., Any], primals: tuple[Any, ...] | list[Any],
        tangents: tuple[Any, ...] | list[Any]) -> tuple[Any, Any]: ...
