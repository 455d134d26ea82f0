"""numpy's discrete calculus on dual arrays: gradient, trapezoid (and trapz where numpy still
has it), ediff1d, interp, unwrap.

gradient, trapezoid and ediff1d are numpy's formulas run on dual values (the same operations
in the same order: values are numpy's bit for bit); the spacings and sample points may be dual
too. interp is piecewise linear: the segment holding each query point is a decision on values,
then numpy's formula slope * (x - xp[j]) + fp[j] runs on dual values, differentiable in the
query points x, the samples fp and the left/right values.
"""
import numpy as np

from dualdiff import _arrays
from dualdiff._numpy import axes, axis1, implements, ndim, shape
from dualdiff._numpy.manipulation import concatenate, ravel, reshape, take, where
from dualdiff._numpy.reductions import diff, sum_


def _is_dual(x):
    return _arrays.lift(x) is not None


def _plain(x):
    v = _arrays.value_of(x)
    return np.asarray(_arrays.const(x) if v is NotImplemented else v, dtype=np.float64)


def _at(nd, axis, index):
    """The index tuple selecting `index` (an int or slice) along `axis` of an nd-array."""
    return (slice(None),) * axis + (index,)


# ---- gradient -----------------------------------------------------------------------------

def _spacings(varargs, f_shape, ax_list):
    n = len(varargs)
    if n == 0:
        return [1.0] * len(ax_list)
    if n == 1 and ndim(varargs[0]) == 0:
        return list(varargs) * len(ax_list)
    if n != len(ax_list):
        raise TypeError("invalid number of arguments")
    dx = []
    for i, distances in enumerate(varargs):
        if ndim(distances) == 0:
            dx.append(distances)
            continue
        if ndim(distances) != 1:
            raise ValueError("distances must be either scalars or 1d")
        if shape(distances)[0] != f_shape[ax_list[i]]:
            raise ValueError("when 1d, distances must match the length of the corresponding "
                             "dimension")
        if isinstance(distances, (list, tuple)) or isinstance(distances, np.ndarray):
            distances = _plain(distances)
        diffx = diff(distances)
        # numpy collapses evenly spaced coordinates to their one spacing. Dual coordinates keep
        # every spacing: the derivative in the coordinates is that of the general formula
        # (evenly spaced is a single point of coordinate space, not a piece of it)
        if not _is_dual(diffx):
            dv = _plain(diffx)
            if dv.size and (dv == dv[0]).all():
                diffx = dv[0]
        dx.append(diffx)
    return dx


@implements(np.gradient)
def gradient(f, *varargs, axis=None, edge_order=1):
    N = ndim(f)
    ax_list = axes(axis, N, np.gradient)
    if not _is_dual(f):
        f = _plain(f)                     # numpy computes in float64
    dx = _spacings(varargs, shape(f), ax_list)
    if edge_order > 2:
        raise ValueError("'edge_order' greater than 2 not supported")
    outvals = []
    for ax, ax_dx in zip(ax_list, dx):
        if shape(f)[ax] < edge_order + 1:
            raise ValueError("Shape of array too small to calculate a numerical gradient, at "
                             "least (edge_order + 1) elements are required.")
        sl = lambda index: f[_at(N, ax, index)]          # noqa: E731
        uniform = ndim(ax_dx) == 0
        if uniform:
            interior = (sl(slice(2, None)) - sl(slice(None, -2))) / (2. * ax_dx)
        else:
            dx1, dx2 = ax_dx[0:-1], ax_dx[1:]
            a = -(dx2) / (dx1 * (dx1 + dx2))
            b = (dx2 - dx1) / (dx1 * dx2)
            c = dx1 / (dx2 * (dx1 + dx2))
            bshape = tuple(-1 if i == ax else 1 for i in range(N))
            a, b, c = reshape(a, bshape), reshape(b, bshape), reshape(c, bshape)
            interior = a * sl(slice(None, -2)) + b * sl(slice(1, -1)) + c * sl(slice(2, None))
        if edge_order == 1:
            dx_0 = ax_dx if uniform else ax_dx[0]
            dx_n = ax_dx if uniform else ax_dx[-1]
            first = (sl(1) - sl(0)) / dx_0
            last = (sl(-1) - sl(-2)) / dx_n
        else:
            if uniform:
                a, b, c = -1.5 / ax_dx, 2. / ax_dx, -0.5 / ax_dx
            else:
                dx1, dx2 = ax_dx[0], ax_dx[1]
                a = -(2. * dx1 + dx2) / (dx1 * (dx1 + dx2))
                b = (dx1 + dx2) / (dx1 * dx2)
                c = - dx1 / (dx2 * (dx1 + dx2))
            first = a * sl(0) + b * sl(1) + c * sl(2)
            if uniform:
                a, b, c = 0.5 / ax_dx, -2. / ax_dx, 1.5 / ax_dx
            else:
                dx1, dx2 = ax_dx[-2], ax_dx[-1]
                a = (dx2) / (dx1 * (dx1 + dx2))
                b = - (dx2 + dx1) / (dx1 * dx2)
                c = (2. * dx2 + dx1) / (dx2 * (dx1 + dx2))
            last = a * sl(-3) + b * sl(-2) + c * sl(-1)
        edge = lambda e: reshape(e, shape(e)[:ax] + (1,) + shape(e)[ax:])   # noqa: E731
        out = concatenate([edge(first), interior, edge(last)], ax)
        outvals.append(out)
    if len(ax_list) == 1:
        return outvals[0]
    return tuple(outvals)


# ---- trapezoid, ediff1d ---------------------------------------------------------------------

@implements(getattr(np, "trapezoid", None), getattr(np, "trapz", None))
def trapezoid(y, x=None, dx=1.0, axis=-1):
    nd = ndim(y)
    ax = axis1(axis, nd)
    if x is None:
        d = dx
    elif ndim(x) == 1:
        d = diff(x)
        d = reshape(d, tuple(shape(d)[0] if i == ax else 1 for i in range(nd)))
    else:
        d = diff(x, axis=ax)
    y1 = y[_at(nd, ax, slice(1, None))]
    y0 = y[_at(nd, ax, slice(None, -1))]
    return sum_(d * (y1 + y0) / 2.0, axis=ax)


@implements(np.ediff1d)
def ediff1d(ary, to_end=None, to_begin=None):
    a = ravel(ary)
    parts = []
    if to_begin is not None:
        parts.append(ravel(to_begin))
    parts.append(a[1:] - a[:-1])
    if to_end is not None:
        parts.append(ravel(to_end))
    return concatenate(parts, 0) if len(parts) > 1 else parts[0]


# ---- interp -------------------------------------------------------------------------------

@implements(np.interp)
def interp(x, xp, fp, left=None, right=None, period=None):
    """numpy's piecewise-linear interpolation. The derivative is the one of the segment
    [xp[j], xp[j+1]) that numpy's binary search picks (at a sample point: the segment to its
    right); at x == xp[-1] the value is fp[-1] and its derivative in x is 0 (the right-hand
    extension's). Outside [xp[0], xp[-1]] the value is left / right (default fp[0] / fp[-1])
    with their derivatives. xp must be constant."""
    if _is_dual(xp) or isinstance(xp, _arrays.DualArray):
        raise TypeError("numpy.interp: the sample points xp must be constants on dual values "
                        "(x, fp, left and right may be dual)")
    xpv = np.asarray(xp, dtype=np.float64)
    # numpy's checks and errors, on the plain values
    np.interp(_plain(x), xpv, _plain(fp), None if left is None else _plain(left),
              None if right is None else _plain(right), period)
    if period is not None:
        period = abs(period)
        left = right = None
        x = np.remainder(x, period)
        xpv = xpv % period
        order = np.argsort(xpv)
        xpv = xpv[order]
        fp = take(fp, order)
        xpv = np.concatenate((xpv[-1:] - period, xpv, xpv[0:1] + period))
        fp = concatenate([fp[-1:], fp, fp[0:1]], 0)
    n = xpv.shape[0]
    left = fp[0] if left is None else left
    right = fp[-1] if right is None else right
    xv = _plain(x)
    if n == 1:
        # numpy's one-point rule (a NaN x compares false both ways: fp[0])
        return where(xv < xpv[0], left, where(xv > xpv[0], right, fp[0]))
    j = np.searchsorted(xpv, xv, side="right") - 1            # xp[j] <= x < xp[j+1]
    jc = np.clip(j, 0, n - 2)
    xpj, xpj1 = xpv[jc], xpv[jc + 1]
    fpj, fpj1 = take(fp, jc), take(fp, jc + 1)
    with np.errstate(all="ignore"):
        slope = (fpj1 - fpj) / (xpj1 - xpj)
        mid = slope * (x - xpj) + fpj
        bad = np.isnan(_plain(mid))
        if bad.any():
            # numpy: a nan in one direction is tried from the other end of the segment, then
            # equal ends give fp[j]; and x == xp[j] gives fp[j] before any slope is formed
            other = slope * (x - xpj1) + fpj1
            mid = where(bad, other, mid)
            same = np.isnan(_plain(other)) & (_plain(fpj) == _plain(fpj1))
            mid = where(bad & (same | (xv == xpj)), fpj, mid)
    last = xv == xpv[-1]
    out = where(last, take(fp, np.full(np.shape(xv), n - 1)), mid)
    out = where(xv > xpv[-1], right, out)
    out = where(xv < xpv[0], left, out)
    return where(np.isnan(xv), x, out)


# ---- unwrap -------------------------------------------------------------------------------

@implements(np.unwrap)
def unwrap(p, discont=None, axis=-1, *, period=2 * np.pi):
    """numpy's correction -- whole periods added where a step jumps by more than discont -- is
    piecewise constant in p: it is numpy's recipe run on the values, and added to the dual
    p[1:] as numpy adds it (values bit for bit). The derivative is the identity; at a step of
    exactly discont the correction jumps, and the side numpy takes is the one used."""
    if _is_dual(period) or _is_dual(discont):
        raise TypeError("numpy.unwrap: period and discont must be constants (the correction "
                        "they decide is a whole number of periods)")
    v = _plain(p)
    lifted = _arrays.lift(p)
    p = v if lifted is None else lifted         # a dual array without rows: a constant
    nd = v.ndim
    ax = axis1(axis, nd)
    dd = np.diff(v, axis=ax)
    if discont is None:
        discont = period / 2
    slice1 = _at(nd, ax, slice(1, None))
    dtype = np.result_type(dd, period)
    if np.issubdtype(dtype, np.integer):
        interval_high, rem = divmod(period, 2)
        boundary_ambiguous = rem == 0
    else:
        interval_high = period / 2
        boundary_ambiguous = True
    interval_low = -interval_high
    ddmod = np.mod(dd - interval_low, period) + interval_low
    if boundary_ambiguous:
        # a step of exactly half a period goes the way of its sign (numpy's choice)
        np.copyto(ddmod, interval_high, where=(ddmod == interval_low) & (dd > 0))
    ph_correct = ddmod - dd
    np.copyto(ph_correct, 0, where=np.abs(dd) < discont)
    head = p[_at(nd, ax, slice(0, 1))]
    return concatenate([head, p[slice1] + ph_correct.cumsum(ax)], ax)
