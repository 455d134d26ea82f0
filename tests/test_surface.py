"""Every rule of the table is reachable in every spelling, and numpy functions called on dual
scalars keep the derivative (API.md: "Elementary functions", "Number types")."""
import numpy as np
import pytest

import dualdiff as dd
from dualdiff import Dual, HyperDual, _arrays, _core

UNARY = [name for name, lo, hi in _core.UNARY_RULES]
BINARY = [name for name, lo, hi in _core.BINARY_RULES]


def same(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


def point(name):
    lo, hi = dict((n, (l, h)) for n, l, h in _core.UNARY_RULES + _core.BINARY_RULES)[name]
    return lo + 0.37 * (hi - lo)


def parts(x):
    if isinstance(x, Dual):
        return (x.real, x.eps)
    if isinstance(x, HyperDual):
        return (x.real, x.eps1, x.eps2, x.eps12)
    return (x.value,) + tuple(_arrays.parts(x))


def samples(v):
    """The same number as Dual, HyperDual and dual arrays of both orders."""
    return [Dual(v, 0.7), HyperDual(v, 0.7, -0.3, 0.2),
            _arrays.from_parts(np.array([v, v]), np.array([[0.7, 1.0], [0.7, 1.0]])),
            _arrays.from_parts(np.array([v]), np.array([[0.7]]), np.array([[-0.3]]),
                               np.array([[[0.2]]]))]


@pytest.mark.parametrize("name", UNARY)
def test_every_unary_rule_is_dd_name_np_name_and_a_method(name):
    assert getattr(dd, name) is _core.elementary[name]
    for x in samples(point(name)):
        want = parts(getattr(dd, name)(x))
        assert type(getattr(dd, name)(x)) is type(x)
        assert all(same(a, b) for a, b in zip(parts(getattr(x, name)()), want))
        if isinstance(getattr(np, name, None), np.ufunc):
            got = getattr(np, name)(x)
            assert type(got) is type(x)
            assert all(same(a, b) for a, b in zip(parts(got), want))


@pytest.mark.parametrize("name", BINARY)
def test_every_binary_rule_is_dd_name_and_np_name(name):
    assert getattr(dd, name) is _core.elementary[name]
    v = point(name)
    for x in samples(v):
        want = parts(getattr(dd, name)(x, v * 0.9))
        if isinstance(getattr(np, name, None), np.ufunc):
            got = getattr(np, name)(x, v * 0.9)
            assert type(got) is type(x)
            assert all(same(a, b) for a, b in zip(parts(got), want))


def test_star_import_does_not_shadow_builtins():
    import builtins
    assert not [n for n in dd.__all__ if hasattr(builtins, n)]
    assert dd.abs(Dual(-2.0, 1.0)).eps == -1.0


@pytest.mark.parametrize("func,args,value,eps", [
    (np.clip, (0.0, 0.5), 0.5, 0.0),             # clipped: a Dual, not a float
    (np.clip, (0.0, 2.0), 1.0, 3.0),
    (np.sum, (), 1.0, 3.0),
    (np.prod, (), 1.0, 3.0),
    (np.max, (), 1.0, 3.0),
    (np.mean, (), 1.0, 3.0),
    (np.real, (), 1.0, 3.0),
    (np.conj, (), 1.0, 3.0),
    (np.real_if_close, (), 1.0, 3.0),
    (np.squeeze, (), 1.0, 3.0),
    (np.add.reduce, (), 1.0, 3.0),
    (np.multiply.reduce, (), 1.0, 3.0),
    (np.maximum.reduce, (), 1.0, 3.0),
    (np.minimum.reduce, (), 1.0, 3.0),
])
def test_numpy_functions_on_a_dual_scalar_keep_its_derivative(func, args, value, eps):
    r = func(Dual(1.0, 3.0), *args)
    assert type(r) is Dual and (r.real, r.eps) == (value, eps)
    h = func(HyperDual(1.0, 3.0, 1.0, 0.0), *args)
    assert type(h) is HyperDual and (h.real, h.eps1) == (value, eps)


def test_imag_and_angle_of_a_real_dual_are_constants():
    assert np.imag(Dual(1.0, 3.0)) == 0.0
    assert np.angle(Dual(-1.0, 3.0)) == np.pi


def test_clip_refuses_out():
    with pytest.raises(TypeError, match="out="):
        np.clip(Dual(1.0, 1.0), 0.0, 2.0, out=np.empty(()))


def test_readme_lists_the_registered_surface():
    """README's "Supported numpy" is generated from the handler tables (regenerate it with
    `python -m dualdiff._numpy.surface --write`)."""
    import os
    from dualdiff._numpy import surface
    path = surface.readme_path()
    if not os.path.exists(path):
        pytest.skip("no README next to this dualdiff (an installed copy without the checkout)")
    with open(path, encoding="utf-8") as fh:
        documented = surface.in_readme(fh.read())
    generated = surface.table()
    if documented.split(" (generated")[0].split("values with ")[1] != \
            generated.split(" (generated")[0].split("values with ")[1]:
        pytest.skip("the README's table was generated with another numpy/scipy version")
    assert documented == generated


def test_every_convention_note_names_a_registered_function():
    from dualdiff._numpy import FUNCTIONS, UFUNCS, surface
    assert not [f for f in surface.NOTES if f not in FUNCTIONS and f not in UFUNCS]
