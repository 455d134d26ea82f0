"""The product rule of a bilinear numpy function applied one direction at a time: np.convolve
and np.correlate (and any f(a, v) linear in each argument whose numpy implementation takes no
direction axis).

dB(a, v) = B(da, v) + B(a, dv). products.py writes B as one einsum with the directions as an
extra index; convolve and correlate are einsums with a Toeplitz index, which would cost
len(a) times the memory, so B itself is called once per direction instead (k calls of numpy's
compiled loop). At second order a, v and the tangents are first-order dual arrays, B lands in
its own handler one level down, and the same two terms give the cross terms.
"""
import numpy as np

from dualdiff._jvp import add
from dualdiff._jvp.products import term


def _per_direction(func, t, other, t_first, kwargs):
    """func applied to each direction of tangent t (shape S + (k,)) against `other`, each a
    term of a tangent (products.py: a zero factor contributes 0 against an infinite one)."""
    k = t.shape[-1]
    cols = [_direction_term(func, t[..., j], other, kwargs) if t_first else
            _direction_term(func, other, t[..., j], kwargs) for j in range(k)]
    return np.stack(cols, axis=-1)


def _direction_term(func, a, v, kwargs):
    """func(a, v) as a term of a tangent; of dual factors (second order) a rule of its own,
    so that its parts are terms one level down."""
    return term(lambda x, y: func(x, y, **kwargs), a, v, directionwise_bilinear_jvp,
                {"func": func, "kwargs": kwargs, "as_term": True})


def directionwise_bilinear_jvp(primals, tangents, *, func, kwargs, as_term=False):
    (a, v), (da, dv) = primals, tangents
    out = _direction_term(func, a, v, kwargs) if as_term else func(a, v, **kwargs)
    t = None
    if da is not None:
        t = _per_direction(func, da, v, True, kwargs)
    if dv is not None:
        t = add(t, _per_direction(func, dv, a, False, kwargs))
    return out, t
