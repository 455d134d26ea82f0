"""Derivative rules for the scipy.special ufuncs of several outputs: sici, shichi, fresnel,
airy (all in x) and ellipj (in u; the parameter m carries no derivative here). The table
maps a name to one (d1, d2) pair per output, each in the form of a one-output rule of
dualdiff/_jvp/special.py; registered as one rule per ufunc (dd.register_elementwise of a
ufunc of several outputs: _jvp/elementwise.py's MultiRule), and tested output by output
under the names "sici[0]", "sici[1]", ...

The derivatives are the defining identities:
  Si' = sin x / x, Ci' = cos x / x; Shi' = sinh x / x, Chi' = cosh x / x (scipy gives Ci and
    Chi of a negative x as the real part, Ci(|x|) and Chi(|x|): the same formulas hold);
  S' = sin(pi x^2 / 2), C' = cos(pi x^2 / 2) for Fresnel's integrals;
  Ai'' = x Ai, Bi'' = x Bi (airy returns Ai, Ai', Bi, Bi': each derivative is another output
    or x times one);
  sn' = cn dn, cn' = -sn dn, dn' = -m sn cn, am' = dn for Jacobi's functions of u.
Numerical care:
  (x cos x - sin x) / x^2, Si'', cancels as x -> 0 (3 digits lost at x = 0.1): below |x| = 1
    its Taylor series; so for Shi''. sinh x / x and cosh x / x overflow at |x| = 710 though
    Shi and Chi are finite up to 717: beyond |x| = 20 they are h (h / 2|x|), h = e^(|x|/2)
    (the dropped e^-|x| is below 2^-57 there).
  pi x^2 / 2 rounded loses the sine's argument for large x (x = 1e4: 1e-8 absolute): x^2 is
    carried as an exact hi + lo (Dekker) and reduced modulo 4 before the sine and cosine.
Conventions: at x = 0 Ci' and Chi' are infinite (cos 0 / 0, the limit from the side of 0's
sign, as numpy's 1 / +-0), Si'(0) = Shi'(0) = 1; where scipy's value is nan (ellipj outside
0 <= m <= 1) so are the derivatives.
"""
import math

import numpy as np

from dualdiff._jvp.special import _horner, _rule
from dualdiff._jvp.special_numerics import _sc, _split

# the Taylor series of (sin x / x)' = sum_k (-1)^k 2k x^(2k-1) / (2k+1)!, in x^2 after a
# factor x; (sinh x / x)' the same without the signs. 12 terms reach 2^-60 below |x| = 1
_SINC_SERIES = [(-1) ** k * 2 * k / math.factorial(2 * k + 1) for k in range(1, 13)]
_SINHC_SERIES = [2 * k / math.factorial(2 * k + 1) for k in range(1, 13)]


def _ratio_d2(x, cos_like, sin_like, series):
    """(x c(x) - s(x)) / x^2, the derivative of s(x)/x (s = sin or sinh, c = its derivative):
    below |x| = 1 the Taylor series, where the difference would cancel."""
    small = np.abs(x) < 1.0
    xs = np.where(small, x, 0.0)
    xl = np.where(small, 1.0, x)
    return np.where(small, xs * _horner(series, xs * xs),
                    (cos_like(xl) - sin_like(xl) / xl) / xl)


def _si_d1(x):
    return np.where(x == 0.0, 1.0, np.sin(x) / np.where(x == 0.0, 1.0, x))


def _exp_halves(x):
    """(h, 2|x|) with h = e^(|x|/2): sinh x / x ~ h (h / 2|x|) without overflow."""
    ax = np.abs(x)
    return np.exp(0.5 * ax), 2.0 * ax


def _sinhc(x):
    """sinh x / x (even), finite wherever Shi is."""
    big = np.abs(x) > 20.0
    h, two = _exp_halves(np.where(big, x, 20.0))
    xs = np.where(big | (x == 0.0), 1.0, x)
    return np.where(big, h * (h / two), np.where(x == 0.0, 1.0, np.sinh(xs) / xs))


def _coshc(x):
    """cosh x / x (odd)."""
    big = np.abs(x) > 20.0
    h, two = _exp_halves(np.where(big, x, 20.0))
    return np.where(big, np.sign(x) * h * (h / two), np.cosh(np.where(big, 0.0, x)) / x)


def _shi_d2(x):
    """(x cosh x - sinh x) / x^2 (odd): the series below 1, h (h (1 - 1/|x|) / 2|x|) above 20."""
    big = np.abs(x) > 20.0
    h, two = _exp_halves(np.where(big, x, 20.0))
    mid = np.where(big, 1.0, x)
    return np.where(big, np.sign(x) * h * (h * (1.0 - 2.0 / two) / two),
                    _ratio_d2(mid, np.cosh, np.sinh, _SINHC_SERIES))


def _chi_d2(x):
    """sinh x / x - cosh x / x^2 (even; -inf at 0)."""
    big = np.abs(x) > 20.0
    h, two = _exp_halves(np.where(big, x, 20.0))
    xs = np.where(big, 1.0, x)
    return np.where(big, h * (h * (1.0 - 2.0 / two) / two),
                    _sinhc(xs) - np.cosh(xs) / (xs * xs))


def _fresnel_sin_cos(x):
    """sin(pi x^2 / 2), cos(pi x^2 / 2) with x^2 = hi + lo exact and the half of it reduced
    by its nearest integer exactly (period 2 of sin(pi y))."""
    # beyond 2^60 x is an even integer and x^2 / 2 a multiple of 2: sin 0, cos 1
    xs = np.where(np.abs(x) > 2.0 ** 60, 0.0, x)
    xh, xl = _split(xs)
    hi = xs * xs
    lo = ((xh * xh - hi) + 2.0 * xh * xl) + xl * xl
    y = 0.5 * hi
    n = np.round(y)
    r = (y - n) + 0.5 * lo
    sign = np.where(np.fmod(n, 2.0) == 0.0, 1.0, -1.0)
    return sign * np.sin(np.pi * r), sign * np.sin(np.pi * (0.5 - np.abs(r)))


def _fresnel_d2(x):
    s, c = _fresnel_sin_cos(x)
    return np.pi * x * c, -np.pi * x * s


def _airy_d1(x):
    ai, aip, bi, bip = _sc().airy(x)
    return aip, x * ai, bip, x * bi


def _airy_d2(x):
    ai, aip, bi, bip = _sc().airy(x)
    return x * ai, ai + x * aip, x * bi, bi + x * bip


def _in_u(parts):
    """Partials of ellipj's outputs in u as one-output rules' (d/du, None) entries."""
    return tuple((p, None) for p in parts)


def _ellipj_d1(u, m):
    sn, cn, dn, _ = _sc().ellipj(u, m)
    return _in_u((cn * dn, -sn * dn, -m * sn * cn, dn))


def _ellipj_d2(u, m):
    sn, cn, dn, _ = _sc().ellipj(u, m)
    # dn^2 - m sn^2 = cn^2 + (1 - 2m) sn^2: for m <= 1/2 a sum of two terms >= 0 (the
    # difference would cancel where 2 m sn^2 ~ 1: 6.5e-14 at u = -1.7, m = 1/2)
    bend = np.where(m <= 0.5, cn * cn + (1.0 - 2.0 * m) * (sn * sn), dn * dn - m * (sn * sn))
    second = (-sn * (dn * dn + m * cn * cn), -cn * bend,
              -m * dn * (cn * cn - sn * sn), -m * sn * cn)
    return tuple(((p, None), (None, None)) for p in second)


# name in scipy.special -> (d1, d2), each returning one entry per output
TABLE = {
    "sici": _rule(lambda x: (_si_d1(x), np.cos(x) / x),
                  lambda x: (_ratio_d2(x, np.cos, np.sin, _SINC_SERIES),
                             -(_si_d1(x) + np.cos(x) / (x * x)))),
    "shichi": _rule(lambda x: (_sinhc(x), _coshc(x)), lambda x: (_shi_d2(x), _chi_d2(x))),
    "fresnel": _rule(_fresnel_sin_cos, _fresnel_d2),
    "airy": _rule(_airy_d1, _airy_d2),
    "ellipj": _rule(_ellipj_d1, _ellipj_d2),
}
