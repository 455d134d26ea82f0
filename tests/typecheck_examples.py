"""Typed user code against dualdiff's public API, in the README's style.

`mypy --strict` (run by .ci/run) must accept this file: every assert_type pins the static type
the stubs give a result, and every `# type: ignore[...]` marks misuse the stubs must flag (mypy
reports an ignore that is no longer needed, so a stub that stops flagging it fails the check).
tests/test_packaging.py runs main(), where each assert_type checks the value's runtime type
instead: a stub cannot claim a type the code does not return.
"""
from __future__ import annotations

import typing
from typing import TYPE_CHECKING, Any, Callable, Tuple

import numpy as np
from numpy.typing import NDArray

import dualdiff as dd

if TYPE_CHECKING:
    from typing_extensions import assert_type
else:
    def assert_type(value, typ):
        """At run time: the value is an instance of the pinned static type."""
        if not _conforms(value, typ):
            raise AssertionError(f"the stubs say {typ}, but the value is {type(value).__name__}: "
                                 f"{value!r:.200}")
        return value


def _conforms(value: Any, typ: Any) -> bool:
    if typ is Any:
        return True
    origin, args = typing.get_origin(typ), typing.get_args(typ)
    if origin is tuple:
        if not isinstance(value, tuple):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_conforms(v, args[0]) for v in value)
        return len(value) == len(args) and all(_conforms(v, a) for v, a in zip(value, args))
    if origin is NDArray or origin is np.ndarray:   # NDArray[np.float64], either spelling
        # (numpy >= 2.2 on Python >= 3.12 makes NDArray an alias type of its own)
        dtype = args[0] if origin is NDArray else typing.get_args(args[1])[0]
        return isinstance(value, np.ndarray) and value.dtype == dtype
    if origin is not None and callable(origin):     # Callable[..., X]
        return callable(value)
    return isinstance(value, typ)


def rosen(x: NDArray[np.float64]) -> Any:
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def scalars() -> None:
    """The number types: arithmetic with floats on either side keeps the type."""
    d = dd.Dual(1.5, 1.0)
    assert_type(d.real, float)
    assert_type(d.eps, float)
    y = np.exp(d) / np.sqrt(np.sin(d) ** 3 + np.cos(d) ** 3)      # numpy's ufuncs: Any
    assert isinstance(y, dd.Dual)
    assert_type(dd.exp(d) / dd.sqrt(dd.sin(d) ** 3 + dd.cos(d) ** 3), dd.Dual)
    assert_type(2.0 * d - 1, dd.Dual)
    assert_type(d ** 2.5, dd.Dual)
    assert_type(2.0 ** d, dd.Dual)
    assert_type(-abs(d), dd.Dual)
    assert_type(d.exp(), dd.Dual)
    assert_type(d < 2.0, np.bool_)
    assert_type(f"{d:.3f}", str)
    h = dd.HyperDual(1.5, 1.0, 1.0, 0.0)
    assert_type(dd.sin(h) * h, dd.HyperDual)
    assert_type(dd.arctan2(h, 2.0), dd.HyperDual)
    assert_type(dd.sigmoid(h, 2.0).eps12, float)
    v = dd.DualVec(1.5, [1.0, 0.0])
    assert_type(dd.tanh(v).eps, NDArray[np.float64])
    assert_type(v.k, int)
    assert_type(dd.sin(1.5), float)
    assert_type(dd.hypot(3.0, 4.0), float)
    assert_type(dd.sin(np.linspace(0.0, 1.0, 5)), NDArray[np.float64])
    assert_type(dd.clip(d, 0.0, 1.0), dd.Dual)


def transforms() -> None:
    """The README's transforms, typed: results are Any (a float, an array or a pytree, by the
    argument), a tuple for tuple argnums, a pair with has_aux."""
    f: Callable[[Any], Any] = lambda x: np.exp(x) / np.sqrt(np.sin(x) ** 3 + np.cos(x) ** 3)
    d1: float = dd.derivative(f)(1.5)
    d2: float = dd.derivative(f, order=2)(1.5)
    assert abs(d1 - 4.053427893898621) < 1e-12 and abs(d2 - 9.463073681596603) < 1e-12

    x = np.array([0.5, -1.0, 2.0])
    g: NDArray[np.float64] = dd.grad(rosen)(x)
    assert g.shape == (3,)
    value, g2 = dd.value_and_grad(rosen, chunk=1)(x)
    assert np.array_equal(g, g2) and value == rosen(x)
    pair = dd.grad(lambda a, b: a * b ** 2, argnums=(0, 1))(3.0, 2.0)
    assert_type(pair, Tuple[Any, ...])
    assert pair == (4.0, 12.0)
    ga, gb = dd.grad(lambda a, b: a * b ** 2, argnums=(0, 1))(3.0, 2.0)
    assert (ga, gb) == (4.0, 12.0)

    A = np.arange(6.0).reshape(2, 3)
    J: NDArray[np.float64] = dd.jacobian(lambda x: np.tanh(A @ x))(np.ones(3))
    assert J.shape == (2, 3)
    assert dd.jacfwd(lambda x: np.tanh(A @ x))(np.ones(3)).shape == (2, 3)
    H: NDArray[np.float64] = dd.hessian(rosen)(np.zeros(4))
    assert H.shape == (4, 4)
    Hv: NDArray[np.float64] = dd.hvp(rosen)(np.zeros(4), np.ones(4))
    assert np.allclose(Hv, H @ np.ones(4))
    primal_out, tangent_out = dd.jvp(rosen, (x,), (np.ones(3),))
    assert_type(dd.jvp(rosen, (x,), (np.ones(3),)), Tuple[Any, Any])
    assert np.isclose(tangent_out, np.sum(g))

    # has_aux (JAX): (gradient, aux), and ((value, aux), gradient)
    def loss_aux(p: NDArray[np.float64]) -> tuple[Any, str]:
        return rosen(p), "aux"
    assert_type(dd.grad(loss_aux, has_aux=True)(x), Tuple[Any, Any])
    (val, aux), g3 = dd.value_and_grad(loss_aux, has_aux=True)(x)
    assert aux == "aux" and np.array_equal(g3, g)

    # pytrees: the result has the argument's structure
    params = {"w": np.ones((2, 3)), "b": 0.5}
    tree = dd.grad(lambda p: np.sum(np.tanh(p["w"] @ np.arange(3.0) + p["b"]) ** 2))(params)
    assert tree["w"].shape == (2, 3) and isinstance(tree["b"], float)


def misuse_is_flagged() -> None:
    """Each line raises at run time, and the stubs make mypy flag it beforehand."""
    d = dd.Dual(1.5, 1.0)
    for bad in (lambda: float(d),                  # type: ignore[arg-type]
                lambda: int(d),                    # type: ignore[call-overload]
                lambda: d + "1",                   # type: ignore[operator]
                lambda: dd.grad(rosen, argnums="0")(np.ones(3)),   # type: ignore[call-overload]
                lambda: dd.Dual("1.5")):           # type: ignore[arg-type]
        try:
            bad()
        except TypeError:
            continue
        raise AssertionError("expected a TypeError")


def main() -> None:
    scalars()
    transforms()
    misuse_is_flagged()


if __name__ == "__main__":
    main()
    print("typecheck_examples: every pinned type matches the runtime type")
