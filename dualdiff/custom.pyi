"""Type stubs of dualdiff.custom: rules users give for functions dualdiff has none for."""
from typing import Any, Callable, Generic, TypeVar

from typing_extensions import ParamSpec

_P = ParamSpec("_P")
_R = TypeVar("_R")
_Rule = TypeVar("_Rule", bound=Callable[..., Any])

def register_elementwise(func: Callable[..., Any], d1: Callable[..., Any],
                         d2: Callable[..., Any] | None = None, *,
                         nin: int | None = None) -> Callable[..., Any]: ...

class custom_jvp(Generic[_P, _R]):
    """A function with a forward-mode rule of its own, as jax.custom_jvp: decorate f, then
    its rule (primals, tangents) -> (out, tangent_out) with @f.defjvp."""

    fun: Callable[_P, _R]
    jvp: Callable[..., Any] | None
    def __init__(self, fun: Callable[_P, _R]) -> None: ...
    def defjvp(self, rule: _Rule) -> _Rule: ...
    def __call__(self, *args: _P.args, **kwargs: _P.kwargs) -> _R: ...

def check_rule(func: Callable[..., Any], *args: Any, rtol: float = 1e-6, atol: float = 1e-9,
               seed_directions: int = 0) -> dict[str, float | None]: ...
