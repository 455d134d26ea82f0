"""Products of numpy that products.py does not cover, on dual arrays: kron, cross (bilinear
maps written as numpy writes them, so values are numpy's bit for bit), convolve, correlate
(served by the direction-wise product rule of dualdiff/_jvp/bilinear.py), and numpy 2's
vecdot, matvec, vecmat ufuncs (einsum contractions).

np.linalg.cross belongs to dualdiff/_numpy/linalg.py; np.cross here is numpy's top-level
function with its axisa/axisb/axisc/axis keywords.
"""
import warnings

import numpy as np

from dualdiff import _arrays
from dualdiff._jvp import apply
from dualdiff._jvp.bilinear import directionwise_bilinear_jvp
from dualdiff._numpy import UFUNCS, axis1, implements, ndim, shape
from dualdiff._numpy.manipulation import expand_dims, moveaxis, reshape, stack
from dualdiff._numpy.products import einsum


@implements(np.kron)
def kron(a, b):
    """numpy's recipe: a and b interleaved by expand_dims, one broadcast multiply, reshape."""
    ndb = ndim(b)
    if ndim(a) < ndb:
        a = reshape(a, (1,) * (ndb - ndim(a)) + shape(a))          # array(a, ndmin=b.ndim)
    nda = ndim(a)
    if nda == 0 or ndb == 0:
        return np.multiply(a, b)
    nd = nda
    bs = (1,) * (nda - ndb) + tuple(shape(b))
    a_arr = expand_dims(a, tuple(range(1, nd * 2, 2)))
    b_arr = expand_dims(reshape(b, bs), tuple(range(0, nd * 2, 2)))
    return reshape(np.multiply(a_arr, b_arr), tuple(int(i) for i in np.multiply(shape(a), bs)))


def _numpy_takes_two_vectors():
    """Whether this numpy's cross still takes 2-vectors: deprecated in 2.0, an error from
    2.5 (fuzz seed 2424 found dualdiff accepting them under numpy 2.5)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            np.cross(np.zeros(2), np.zeros(2))
        except ValueError:
            return False
    return True


_TWO_VECTORS = _numpy_takes_two_vectors()


@implements(np.cross)
def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """numpy's component formulas (a1 b2 - a2 b1, ...), for 2- and 3-vectors."""
    if axis is not None:
        axisa, axisb, axisc = (axis,) * 3
    if ndim(a) < 1 or ndim(b) < 1:
        raise ValueError("At least one array has zero dimension")
    a = moveaxis(a, axis1(axisa, ndim(a)), -1)
    b = moveaxis(b, axis1(axisb, ndim(b)), -1)
    na, nb = shape(a)[-1], shape(b)[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError("incompatible dimensions for cross product\n"
                         "(dimension must be 2 or 3)")
    if (na == 2 or nb == 2) and not _TWO_VECTORS:
        np.cross(np.zeros(na), np.zeros(nb))           # this numpy's own error (2.5 on)
    if na == 2 or nb == 2:
        warnings.warn("Arrays of 2-dimensional vectors are deprecated. Use arrays of "
                      "3-dimensional vectors instead. (deprecated in NumPy 2.0)",
                      DeprecationWarning, stacklevel=3)
    a0, a1 = a[..., 0], a[..., 1]
    b0, b1 = b[..., 0], b[..., 1]
    if na == 2 and nb == 2:
        return a0 * b1 - a1 * b0
    if na == 2:
        b2 = b[..., 2]
        cp = [a1 * b2, -(a0 * b2), a0 * b1 - a1 * b0]
    elif nb == 2:
        a2 = a[..., 2]
        cp = [-(a2 * b1), a2 * b0, a0 * b1 - a1 * b0]
    else:
        a2, b2 = a[..., 2], b[..., 2]
        cp = [a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0]
    # every component is a product of an a and a b part: all have the broadcast shape
    out = stack(cp, axis=-1)
    return moveaxis(out, -1, axis1(axisc, ndim(out)))


def _one_dimensional(func, a, v, mode):
    av, vv = _arrays.value_of(a), _arrays.value_of(v)
    func(np.atleast_1d(np.asarray(av, dtype=np.float64)),       # numpy's errors
         np.atleast_1d(np.asarray(vv, dtype=np.float64)), mode)
    if ndim(a) == 0:
        a = reshape(a, (1,))
    if ndim(v) == 0:
        v = reshape(v, (1,))
    if ndim(a) != 1 or ndim(v) != 1:
        raise ValueError(f"object too deep for desired array (numpy.{func.__name__} takes 1-d "
                         "sequences)")
    r = apply(directionwise_bilinear_jvp, (a, v), {"func": func, "kwargs": {"mode": mode}})
    return func(_arrays.const(a), _arrays.const(v), mode) if r is None else r


@implements(np.convolve)
def convolve(a, v, mode="full"):
    return _one_dimensional(np.convolve, a, v, mode)


@implements(np.correlate)
def correlate(a, v, mode="valid"):
    return _one_dimensional(np.correlate, a, v, mode)


# numpy 2's vector/matrix product ufuncs (np.linalg.vecdot is linalg.py's)
for _u, _spec in (("vecdot", "...i,...i->..."), ("matvec", "...ij,...j->...i"),
                  ("vecmat", "...i,...ij->...j")):
    if isinstance(getattr(np, _u, None), np.ufunc):
        UFUNCS[getattr(np, _u)] = lambda a, b, _spec=_spec: einsum(_spec, a, b)
