"""The transforms' compiled path for small inputs (dualdiff/_fastpath.pxi) gives exactly what
the general path gives -- same numbers bit for bit, same errors -- for every function of the
shared battery, every transform it serves and the chunks that keep it to one sweep."""
import numpy as np
import pytest

import dualdiff as dd
import functions as F
from dualdiff import _arrays

TRANSFORMS = {"grad": dd.grad, "value_and_grad": dd.value_and_grad, "jacobian": dd.jacobian,
              "hessian": dd.hessian}
SCALAR_OUT = [(name, f, make) for name, (f, make) in F.VECTOR.items()]
VECTOR_OUT = [(name, f, make) for name, (f, make) in F.VECTOR_VALUED.items()]


def both(call):
    """(compiled path's result or exception, general path's)."""
    out = []
    for fast in (True, False):
        _arrays.set_fast_path(fast)
        try:
            out.append(call())
        except Exception as exc:       # the same error must come from both
            out.append((type(exc), str(exc)))
        finally:
            _arrays.set_fast_path(True)
    return out


def same(a, b):
    if isinstance(a, tuple) and not isinstance(a[0], type):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, tuple):
        return a == b
    return type(a) is type(b) and np.array_equal(a, b, equal_nan=True) and \
        np.shape(a) == np.shape(b)


@pytest.mark.parametrize("name,f,make", SCALAR_OUT, ids=[c[0] for c in SCALAR_OUT])
@pytest.mark.parametrize("transform", list(TRANSFORMS))
@pytest.mark.parametrize("chunk", [None, 64])
def test_scalar_battery_fast_equals_general(rng, name, f, make, transform, chunk):
    x = make(rng)
    fast, general = both(lambda: TRANSFORMS[transform](f, chunk=chunk)(x))
    assert same(fast, general), (fast, general)


@pytest.mark.parametrize("name,f,make", VECTOR_OUT, ids=[c[0] for c in VECTOR_OUT])
@pytest.mark.parametrize("transform", list(TRANSFORMS))
def test_vector_battery_fast_equals_general(rng, name, f, make, transform):
    x = make(rng)
    fast, general = both(lambda: TRANSFORMS[transform](f)(x))
    assert same(fast, general), (fast, general)      # errors (non-scalar output) included


@pytest.mark.parametrize("transform", list(TRANSFORMS))
@pytest.mark.parametrize("f", [
    lambda x: 3.0,                                   # a constant
    lambda x: np.float64(2.0) * np.sum(x) ** 0,
    lambda x: "text",                                # not a number
    lambda x: [x[0], x[1] * x[0]],                   # a list of scalars
    lambda x: np.array([x[0] * 2.0]),                # an object array of one scalar
    lambda x: x,                                     # the input itself
    lambda x: x[0] if x[0] > 0 else -x[1],           # control flow on values
    lambda x: dd.Dual(1.0, 2.0) * x[0],              # a hand-made dual
    lambda x: [x[0], True],                          # a bool is not a number here
    lambda x: [x[0], 2, np.float32(1.5), x[1] * 2],  # plain numbers are constants
    lambda x: (x[0], [x[1]]),                        # ragged
], ids=["constant", "np-constant", "string", "list", "object-array", "identity", "branch",
        "hand-made", "bool", "numbers", "ragged"])
def test_odd_outputs_give_the_same_result_or_error(transform, f):
    x = np.array([0.7, -1.3])
    fast, general = both(lambda: TRANSFORMS[transform](f)(x))
    assert same(fast, general), (fast, general)


@pytest.mark.parametrize("transform", ["grad", "value_and_grad", "jacobian"])
@pytest.mark.parametrize("name,f,make", [(n, f, m) for n, (f, m) in F.SCALAR.items()],
                         ids=list(F.SCALAR))
def test_scalar_inputs_fast_equals_general(rng, transform, name, f, make):
    x = float(make(rng))
    fast, general = both(lambda: TRANSFORMS[transform](f)(x))
    assert same(fast, general), (fast, general)


def test_the_caller_input_is_not_the_dual_value():
    x = np.array([1.0, 2.0])
    seen = []
    dd.grad(lambda v: seen.append(v.value) or v[0] * v[1])(x)
    assert not np.shares_memory(seen[0], x)
    assert x.tolist() == [1.0, 2.0]


JVP_CASES = SCALAR_OUT + VECTOR_OUT


@pytest.mark.parametrize("name,f,make", JVP_CASES, ids=[c[0] for c in JVP_CASES])
def test_jvp_of_one_array_equals_the_general_inputs(rng, name, f, make):
    """jvp of one float64 array seeds it directly (transforms' _OneArray); the same call
    through the general inputs (the argument inside a pytree) gives the same bits."""
    x = make(rng)
    if np.ndim(x) == 0:
        pytest.skip("a scalar argument takes the general inputs anyway")
    v = rng.standard_normal(np.shape(x))
    try:
        fast = dd.jvp(f, (x,), (v,))
    except Exception as exc:
        with pytest.raises(type(exc)):
            dd.jvp(lambda t: f(t[0]), ((x,),), ((v,),))
        return
    general = dd.jvp(lambda t: f(t[0]), ((x,),), ((v,),))
    assert same(fast, general), (fast, general)
