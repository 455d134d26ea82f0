"""Whole-array rules: the derivatives of numpy functions that act on whole arrays.

Besides csrc/rules.h (the elementwise table, one row per function), this package is the only
place where dualdiff writes calculus. csrc/rules.h lists it in its special-cases block.

    linear.py       linear maps (reshape, take, concatenate, cumsum, ...): the tangent is the
                    same map applied to the tangent
    products.py     the bilinear product rule (matmul, dot, einsum, tensordot, ...)
    ordering.py     max/min reductions and their tie weights, products of many factors
    linalg.py       numpy.linalg

A rule is written once, as numpy code on (primals, tangents):

    def rule(primals, tangents, **params) -> (out, tangent_out)

where each tangent is None (that argument is a constant) or an array with k directions on a
trailing axis (shape primal.shape + (k,)), and tangent_out has shape out.shape + (k,). Rules
use only numpy operations that dual arrays support, and take decisions (masks, orders, ties)
on plain values (`plain`). That is what makes them work at second order: `apply` hands a
hyper-dual array to the rule as a pair of first-order dual arrays (_arrays.as_pair), so the
rule's own arithmetic, dispatched one level down, computes every part of the result, cross
terms included (the way JAX writes JVP rules in JAX operations).

Linear maps skip that machinery: _arrays.linear applies the map to the value and to each part
directly, which is exact at any order.
"""
import numpy as np

from dualdiff import _arrays


def plain(x):
    """The float values of x, with every dual layer stripped: decisions (masks, sort orders,
    tie-breaking) are taken on these and are constants for the derivative."""
    while not isinstance(x, np.ndarray) and hasattr(x, "value"):
        x = x.value
    v = _arrays.value_of(x)
    return np.asarray(x if v is NotImplemented else v)


# rule(args) with dual arguments: _arrays.apply_rule (compiled: it runs on every product)
apply = _arrays.apply_rule

from dualdiff._jvp import towers as _towers  # noqa: E402,F401  (registers with _arrays)


def add(a, b):
    """a + b for tangents where either may be None (no contribution)."""
    if a is None:
        return b
    if b is None:
        return a
    return a + b
