"""Every scipy.special rule at extreme arguments: where scipy's value is finite, the first and
second derivatives are numbers or an honest +-inf, never NaN.

tests/test_scipy_special.py checks each rule's digits inside its domain; this file walks each
differentiable argument in turn over 0, +-1e-300 .. +-1e300 and the domain's own edges, the
other arguments held at their domain's middle, through the transforms themselves (grad and
the Hessian's diagonal of sum(f(..., x, ...)) over the whole grid at once). A NaN here is a
0/0 or inf - inf of the rule's formula at a point where the function itself is fine: the
Hessian of gdtr(1.5, 2, x^2) at 0 was one (fuzz 1-423).

Run as a script to print every point that fails: python tests/test_special_extremes.py
"""
import os
import sys
import warnings

import numpy as np
import pytest

sc = pytest.importorskip("scipy.special")

import dualdiff as dd
from dualdiff._jvp import special as ss

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_scipy_special import DOMAINS  # noqa: E402

RULES = ss.named_rules()
_MAGNITUDES = np.array([1e-300, 1e-150, 1e-20, 1e-5, 0.5, 1.0, 2.0, 10.0, 40.0, 1e3, 1e10,
                        1e100, 1e300])
GRID = np.concatenate([-_MAGNITUDES[::-1], [0.0], _MAGNITUDES])


def _middle(spec):
    lo, hi, *kind = spec
    return int((lo + hi) // 2) if kind == ["int"] else 0.5 * (lo + hi)


# scipy's own hyp1f1 takes time ~|x| for large positive x (2.4 s at 1e12): its rule's
# hyp1f1(a+1, b+1, x) no less; the walk stops where f itself would
_LARGEST = {"hyp1f1": 1e10}


def cases():
    """(name, index of the walked argument) for every float argument of every rule reached
    through a ufunc (scipy's polygamma is a Python function that converts x with asarray),
    each output of a ufunc of several outputs on its own."""
    out = []
    for name in sorted(n for n, rule in RULES.items()
                       if isinstance(rule[0], (np.ufunc, ss._Output))):
        d1 = RULES[name][1](*[_middle(s) for s in _specs(name)])
        d1 = d1 if isinstance(d1, tuple) else (d1,)
        out += [(name, i) for i, g in enumerate(d1) if g is not None]    # None: a parameter
    return out


def _specs(name):
    # huber's "outer" entry redraws r, the second argument; it is not a third one
    return [s for s in DOMAINS[name] if s[2:] != ("outer",)]


def failures(name, i):
    """[(x, f, f', f'')] where f(..., x, ...) is finite and a derivative is NaN."""
    func = RULES[name][0]
    specs = _specs(name)
    args = [_middle(s) for s in specs]
    xs = np.unique(np.concatenate([GRID, [specs[i][0], specs[i][1]]]))
    xs = xs[np.abs(xs) <= _LARGEST.get(name, np.inf)]

    def at(x):
        return args[:i] + [x] + args[i + 1:]

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        value = np.broadcast_to(func(*at(xs)), xs.shape)
        d1 = dd.grad(lambda x: np.sum(func(*at(x))))(xs.copy())
        d2 = np.diagonal(dd.hessian(lambda x: np.sum(func(*at(x))))(xs.copy()))
    bad = np.isfinite(value) & (np.isnan(d1) | np.isnan(d2))
    return [(float(x), float(v), float(a), float(b))
            for x, v, a, b in zip(xs[bad], value[bad], d1[bad], d2[bad])]


@pytest.mark.parametrize("name,i", cases())
def test_finite_value_has_no_nan_derivative(name, i):
    bad = failures(name, i)
    assert not bad, f"{name}, argument {i}: (x, f, f', f'') = {bad}"


if __name__ == "__main__":
    for name, i in cases():
        for row in failures(name, i):
            print(name, i, *row)
