"""The conventions JAX users expect (API.md "Additions"): has_aux, pytree arguments, jacfwd,
formatted printing of the number types, and `from dualdiff import *`."""
import collections

import numpy as np
import pytest

import dualdiff as dd
from conftest import rel_err


def loss_with_aux(x):
    r = np.sin(x) * x
    return np.sum(r ** 2), {"residual": r, "count": 3}


def test_has_aux_grad_value_and_grad_jacobian(rng):
    x = rng.normal(size=4)
    g, aux = dd.grad(loss_with_aux, has_aux=True)(x)
    assert rel_err(g, dd.grad(lambda x: loss_with_aux(x)[0])(x)) == 0.0
    assert np.array_equal(aux["residual"], np.sin(x) * x) and aux["count"] == 3
    (v, aux2), g2 = dd.value_and_grad(loss_with_aux, has_aux=True)(x)
    assert v == loss_with_aux(x)[0] and np.array_equal(g2, g)
    assert isinstance(aux2["residual"], np.ndarray)        # plain values, never dual
    J, aux3 = dd.jacobian(lambda x: (np.tanh(x), x.shape), has_aux=True, chunk=1)(x)
    assert rel_err(J, np.diag(1 - np.tanh(x) ** 2)) <= 1e-14 and aux3 == (4,)
    with pytest.raises(TypeError, match=r"pair \(output, aux\)"):
        dd.grad(lambda x: np.sum(x), has_aux=True)(x)


def test_jacfwd_is_jacobian():
    assert dd.jacfwd is dd.jacobian


Params = collections.namedtuple("Params", "w b")


def test_pytree_arguments_give_results_of_the_same_structure(rng):
    p = {"w": rng.normal(size=(2, 3)), "b": 0.5, "layers": [rng.normal(size=3), (1.5,)]}
    def f(p):
        h = np.tanh(p["w"] @ p["layers"][0] + p["b"])
        return np.sum(h ** 2) * p["layers"][1][0]
    g = dd.grad(f)(p)
    assert set(g) == {"w", "b", "layers"} and isinstance(g["layers"], list)
    assert g["w"].shape == (2, 3) and isinstance(g["b"], float)
    assert isinstance(g["layers"][1], tuple) and isinstance(g["layers"][1][0], float)
    # against finite differences on every leaf
    h = 1e-6
    w2 = p["w"].copy()
    w2[1, 2] += h
    w3 = p["w"].copy()
    w3[1, 2] -= h
    fd = (f({**p, "w": w2}) - f({**p, "w": w3})) / (2 * h)
    assert g["w"][1, 2] == pytest.approx(fd, rel=1e-6)
    fd_b = (f({**p, "b": p["b"] + h}) - f({**p, "b": p["b"] - h})) / (2 * h)
    assert g["b"] == pytest.approx(fd_b, rel=1e-6)
    # the same numbers as the flat spelling
    flat = lambda w, b, v, s: f({"w": w, "b": b, "layers": [v, (s,)]})
    gw, gb, gv, gs = dd.grad(flat, argnums=(0, 1, 2, 3))(p["w"], p["b"], p["layers"][0], 1.5)
    assert np.array_equal(g["w"], gw) and g["b"] == gb and np.array_equal(g["layers"][0], gv)


def test_pytree_hessian_jacobian_hvp_and_jvp(rng):
    params = Params(w=rng.normal(size=2), b=0.3)
    f = lambda p: np.sum(p.w ** 3) * p.b
    H = dd.hessian(f)(params)
    assert isinstance(H, Params) and isinstance(H.w, Params)
    assert rel_err(H.w.w, np.diag(6 * params.w * params.b)) <= 1e-15
    assert rel_err(H.w.b, 3 * params.w ** 2) <= 1e-15 and rel_err(H.b.w, 3 * params.w ** 2) <= 1e-15
    v = Params(w=np.ones(2), b=2.0)
    Hv = dd.hvp(f)(params, v)
    assert isinstance(Hv, Params)
    assert rel_err(Hv.w, H.w.w @ v.w + H.w.b * v.b) <= 1e-14
    J = dd.jacobian(lambda p: p.w * p.b)(params)
    assert J.w.shape == (2, 2) and J.b.shape == (2,)
    value, tangent = dd.jvp(f, (params,), (v,))
    assert tangent == pytest.approx(np.sum(3 * params.w ** 2 * params.b) + np.sum(params.w ** 3) * 2)
    with pytest.raises(ValueError, match="structure"):
        dd.jvp(f, (params,), (np.ones(3),))


def test_a_list_of_numbers_is_still_one_array_argument():
    g = dd.grad(lambda x: np.sum(x ** 2))([1.0, 2.0])
    assert isinstance(g, np.ndarray) and g.tolist() == [2.0, 4.0]


@pytest.mark.parametrize("x,spec,want", [
    (dd.Dual(1.5, 2.0), ".3f", "Dual(1.500, 2.000)"),
    (dd.HyperDual(1.0, 2.0, 3.0, 4.0), ".1e", "HyperDual(1.0e+00, 2.0e+00, 3.0e+00, 4.0e+00)"),
    (dd.DualVec(1.0, [1.0, 2.0]), ".2f", "DualVec(1.00, [1.00, 2.00])"),
    (dd.Dual(1.5, 2.0), "", "Dual(1.5, 2.0)"),
])
def test_number_types_format_every_part(x, spec, want):
    assert format(x, spec) == want


def test_star_import_gives_the_public_names_and_keeps_builtins():
    ns = {}
    exec("from dualdiff import *", ns)
    assert "grad" in ns and "sin" in ns and "abs" not in ns and "jacfwd" in ns
