"""Derivative rules for scipy.special's function families beyond the core table of
dualdiff/_jvp/special.py, in the same form ({name: (d1, d2)}, merged into its table):
distribution functions in their variable (Student's t, chi-square, gamma, Poisson, binomial,
negative binomial, F), the classical orthogonal polynomials and the hypergeometric functions in
x, the complete elliptic integrals, the exponential integrals E_n, and
trigonometry in degrees. Orders, degrees and shape parameters carry no derivative (None), as in
the core table.

The derivatives are the textbook identities, each written with scipy's own functions:
  a distribution function's derivative is its density (the regularised incomplete gamma and
    beta functions' densities of special_numerics, so the care taken there carries over);
  d/dx P_n = C^(3/2)_(n-1) and the other polynomials' shifts to a neighbouring family
    (Gegenbauer C^(a+1), generalised Laguerre L^(a+1)): one more polynomial evaluation, no
    division by 1 - x^2 (which the three-term recurrences of P_n' need, singular at x = +-1);
  d/dz 2F1(a, b; c; z) = ab/c 2F1(a+1, b+1; c+1; z), and likewise for 1F1 and 0F1;
  d/dx E_n = -E_(n-1), with E_0 = e^-x / x;
  the Box-Cox transforms in their data (lambda is a parameter: None), Wright's omega by
    w' = w / (1 + w), yn, kn as yv, kv, and the Struve functions H_v, L_v by their
    recurrences (DLMF 11.4).
Dawson's F: F' = 1 - 2xF and F'' = (4x^2 - 2)F - 2x cancel about 2x^4 ulps (x = 50: 3e-9),
  so from |x| = 6.5 on the asymptotic series differentiated term by term (below 6.5 the
  cancellation costs up to 8e-13, F's own accuracy times 2x^4: no better form from F);
the inverse distribution functions stdtrit and chdtri in their probability, by the inverse
  function rule x' = 1/F'(x), x'' = -F''(x)/F'(x)^3 with the densities above;
binom(n, k) and poch(z, m), ratios of gamma functions, in both arguments: their log-derivatives
  are digamma differences (each summed as one shift, no cancellation), and where one gamma
  factor sits at a pole (binom(5, 7) = 0, poch(-3, 2.5) = 0) the zeros of 1/Gamma give the
  partials instead, which the log form would make 0 * inf;
the incomplete elliptic integrals F(phi|m), E(phi|m) in phi: F' = 1/Delta, E' = Delta with
  Delta^2 = cos^2 phi + (1 - m) sin^2 phi (not 1 - m sin^2 phi, which cancels near m = 1,
  phi = pi/2); m carries no derivative here (the m-partials need both integrals: not yet).
Conventions: a polynomial's derivative below its degree's range (n < 1, n < 2) is 0, as the
constant and linear polynomials have; negative integer degrees are scipy's (P_n = P_(-n-1),
T_n = T_(-n), U_n = -U_(-n-2), C_n = 0); ellipk and ellipe near m = 0 take their Taylor series
(the closed forms divide 0 by 0 at m = 0) and at m = 1 the infinite limits of K', K'', E',
E''; where scipy's value is nan (outside a domain) so are the derivatives.
"""
import functools
import warnings

import numpy as np

from dualdiff._jvp.special import (_bessel_rule, _beta_density_d2, _gamma_density_d2,
                                   _gamma_inverse, _in_last, _rgamma_parts, _rule)
from dualdiff._jvp.special_numerics import (_beta_density, _gamma_density, _polygamma,
                                            _psi_shift, _sc, _sinpi_cospi)

_DEG = np.pi / 180.0


def _in_first(first, second):
    """A rule of two arguments differentiable in the first one (the data of a Box-Cox
    transform, whose parameter lambda carries no derivative here)."""
    return _rule(lambda *a: (first(*a), None), lambda *a: ((second(*a), None), (None, None)))


# ------------------------------------------------------------------- distributions

def _half_ratio(a):
    """Gamma(a + 1/2) / Gamma(a). scipy's beta(1/2, a) and exp(gammaln - gammaln) both lose
    digits for large a (3e-11 at a = 5e4): below a = 20 the gamma functions' quotient (no
    overflow there), above it sqrt(a) exp(-1/(8a) + 1/(192a^3) - 1/(640a^5) + 17/(14336a^7)
    - 31/(18432a^9)), whose truncation is below 2e-17 from a = 20 on."""
    sc = _sc()
    big = a >= 20.0
    ab = np.where(big, a, 20.0)
    r = 1.0 / (ab * ab)
    series = (-1.0 / 8 + r * (1.0 / 192 + r * (-1.0 / 640 + r * (17.0 / 14336 +
                                                                  r * (-31.0 / 18432))))) / ab
    small = np.where(big, 1.0, a)
    return np.where(big, np.sqrt(ab) * np.exp(series), sc.gamma(small + 0.5) / sc.gamma(small))


def _student_density(df, t):
    """Student's t density; df = inf is the normal distribution's (stdtr(inf, t) = ndtr(t))."""
    finite = np.isfinite(df)
    d = np.where(finite, df, 1.0)
    return np.where(finite, _half_ratio(0.5 * d) / np.sqrt(np.pi * d) *
                    np.exp(-0.5 * (d + 1.0) * np.log1p(t * t / d)),
                    np.exp(-0.5 * t * t) / np.sqrt(2.0 * np.pi))


def _student_d2(df, t):
    slope = np.where(np.isfinite(df), (df + 1.0) * t / (df + t * t), t)
    return -_student_density(df, t) * slope


def _fisher_parts(dfn, dfd, x):
    """(density of w, its derivative, w', w'') for fdtr = I_w(dfn/2, dfd/2) with
    w = dfn x / (dfd + dfn x); 1 - w = dfd / (dfd + dfn x) without subtracting."""
    den = dfd + dfn * x
    w, wc = dfn * x / den, dfd / den
    a, b = 0.5 * dfn, 0.5 * dfd
    w1 = dfn * dfd / (den * den)
    return _beta_density(a, b, w, wc), _beta_density_d2(a, b, w, wc), w1, -2.0 * dfn * w1 / den


def _fdtr_d1(dfn, dfd, x):
    dens, _, w1, _ = _fisher_parts(dfn, dfd, x)
    return dens * w1


def _fdtr_d2(dfn, dfd, x):
    dens, dens1, w1, w2 = _fisher_parts(dfn, dfd, x)
    return dens1 * w1 * w1 + dens * w2


def _chdtrc_below0(v, x, d):
    # scipy before 1.15 has chdtrc(v, x < 0) = 1, a constant (derivatives 0); later ones nan
    with np.errstate(invalid="ignore"):
        flat = (x < 0.0) & np.isfinite(_sc().chdtrc(v, x))
    return np.where(flat, 0.0, d)


def _signed(sign, rule_d1, rule_d2, m):
    return _in_last(m, lambda *a: sign * rule_d1(*a), lambda *a: sign * rule_d2(*a))


def _binomial_d1(k, n, p):
    # bdtr = I_(1-p)(n-k, k+1); the density at 1 - p is that of (k+1, n-k) at p. k = n:
    # bdtr is 1 for every p (B(n+1, 0) is infinite)
    k = np.floor(k)
    return np.where(k == n, 0.0, -_beta_density(k + 1.0, n - k, p))


def _binomial_d2(k, n, p):
    k = np.floor(k)
    return np.where(k == n, 0.0, -_beta_density_d2(k + 1.0, n - k, p))


def _poisson(sign, second):
    def rule(k, m):
        a = np.floor(k) + 1.0
        return sign * (_gamma_density_d2(a, m) if second else _gamma_density(a, m))
    return rule


def _stdtrit_parts(df, p, k):
    """d^k/dp^k of t = stdtrit(df, p): 1/density(t), and -density'(t)/density(t)^3 =
    slope/density^2 (slope = (df+1) t / (df + t^2), density' = -density slope)."""
    t = _sc().stdtrit(df, p)
    r = 1.0 / _student_density(df, t)
    if k == 1:
        return r
    slope = np.where(np.isfinite(df), (df + 1.0) * t / (df + t * t), t)
    return slope * r * r


# chdtri(v, y) = 2 gammainccinv(v/2, y): the gamma family's inverse rule, scaled
_GAMMAINCCINV = _gamma_inverse(lambda: _sc().gammainccinv, -1.0)


def _chdtri_d(k):
    """d^k/dy^k chdtri(v, y): twice gammainccinv's in its last argument at a = v/2."""
    def d(v, y):
        out = _GAMMAINCCINV[k - 1](0.5 * v, y)
        return 2.0 * (out[1] if k == 1 else out[1][1])
    return d


_DISTRIBUTIONS = {
    "stdtr": _in_last(2, _student_density, _student_d2),
    "stdtrit": _in_last(2, lambda df, p: _stdtrit_parts(df, p, 1),
                        lambda df, p: _stdtrit_parts(df, p, 2)),
    "chdtri": _in_last(2, _chdtri_d(1), _chdtri_d(2)),
    "chdtr": _in_last(2, lambda v, x: 0.5 * _gamma_density(0.5 * v, 0.5 * x),
                      lambda v, x: 0.25 * _gamma_density_d2(0.5 * v, 0.5 * x)),
    "chdtrc": _in_last(2, lambda v, x: _chdtrc_below0(
                           v, x, -0.5 * _gamma_density(0.5 * v, 0.5 * x)),
                       lambda v, x: _chdtrc_below0(
                           v, x, -0.25 * _gamma_density_d2(0.5 * v, 0.5 * x))),
    "gdtr": _in_last(3, lambda a, b, x: a * _gamma_density(b, a * x),
                     lambda a, b, x: a * a * _gamma_density_d2(b, a * x)),
    "gdtrc": _in_last(3, lambda a, b, x: -a * _gamma_density(b, a * x),
                      lambda a, b, x: -a * a * _gamma_density_d2(b, a * x)),
    "pdtr": _in_last(2, _poisson(-1.0, False), _poisson(-1.0, True)),
    "pdtrc": _in_last(2, _poisson(1.0, False), _poisson(1.0, True)),
    "bdtr": _signed(1.0, _binomial_d1, _binomial_d2, 3),
    "bdtrc": _signed(-1.0, _binomial_d1, _binomial_d2, 3),
    "nbdtr": _in_last(3, lambda k, n, p: _beta_density(n, np.floor(k) + 1.0, p),
                      lambda k, n, p: _beta_density_d2(n, np.floor(k) + 1.0, p)),
    "nbdtrc": _in_last(3, lambda k, n, p: -_beta_density(n, np.floor(k) + 1.0, p),
                       lambda k, n, p: -_beta_density_d2(n, np.floor(k) + 1.0, p)),
    "fdtr": _signed(1.0, _fdtr_d1, _fdtr_d2, 3),
    "fdtrc": _signed(-1.0, _fdtr_d1, _fdtr_d2, 3),
}


# ------------------------------------------------------------ orthogonal polynomials

def _shifted(family, n, shift, *params_and_x):
    """family(n - shift, *params, x), 0 where n is an integer below shift (a polynomial of
    degree below 0); integer degrees are passed as integers (scipy's exact recurrences
    rather than its hypergeometric form for real n)."""
    m = n - shift
    whole = np.all(n == np.floor(n))
    if whole:
        m = m.astype(np.int64)
    with np.errstate(all="ignore"):
        out = family(np.maximum(m, 0) if whole else m, *params_and_x)
    return np.where(whole & (n < shift), 0.0, out) if whole else out


def _gegenbauer(n, alpha, x, k):
    """d^k/dx^k C^(alpha)_n(x) = 2^k (alpha)_k C^(alpha+k)_(n-k)(x), k = 1, 2."""
    factor = 2.0 * alpha if k == 1 else 4.0 * alpha * (alpha + 1.0)
    return factor * _shifted(_sc().eval_gegenbauer, n, k, alpha + k, x)


def _laguerre(n, alpha, x, k):
    """d^k/dx^k L^(alpha)_n(x) = (-1)^k L^(alpha+k)_(n-k)(x)."""
    return (-1.0) ** k * _shifted(_sc().eval_genlaguerre, n, k, alpha + k, x)


def _hermite(n, x, k, physicists):
    """H_n' = 2n H_(n-1), He_n' = n He_(n-1), applied k times."""
    sc = _sc()
    family = sc.eval_hermite if physicists else sc.eval_hermitenorm
    c = 2.0 if physicists else 1.0
    factor = c * n if k == 1 else c * c * n * (n - 1.0)
    return factor * _shifted(family, n, k, x)


def _chebyt(n, x, k):
    if k == 1:
        return n * _shifted(_sc().eval_gegenbauer, n, 1, 1.0, x)
    return 2.0 * n * _shifted(_sc().eval_gegenbauer, n, 2, 2.0, x)


def _mirrored(n, shift):
    """A negative integer degree as scipy reads it: n -> -n - shift (Legendre: P_n =
    P_(-n-1), shift 1; Chebyshev T: T_n = T_(-n), shift 0; U: U_n = -U_(-n-2), shift 2)."""
    whole = np.all(n == np.floor(n))
    return np.where(whole & (n < 0), -n - shift, n) if whole else n


def _chebyu(n, x, k):
    sign = np.where(np.all(n == np.floor(n)) & (n < 0), -1.0, 1.0)
    return sign * _gegenbauer(_mirrored(n, 2), 1.0, x, k)


_POLYNOMIALS = {
    "eval_gegenbauer": _in_last(3, lambda n, a, x: _gegenbauer(n, a, x, 1),
                                lambda n, a, x: _gegenbauer(n, a, x, 2)),
    "eval_legendre": _in_last(2, lambda n, x: _gegenbauer(_mirrored(n, 1), 0.5, x, 1),
                              lambda n, x: _gegenbauer(_mirrored(n, 1), 0.5, x, 2)),
    "eval_chebyu": _in_last(2, lambda n, x: _chebyu(n, x, 1), lambda n, x: _chebyu(n, x, 2)),
    # T_n' = n U_(n-1) = n C^(1)_(n-1), T_n'' = n U'_(n-1)
    "eval_chebyt": _in_last(2, lambda n, x: _chebyt(_mirrored(n, 0), x, 1),
                            lambda n, x: _chebyt(_mirrored(n, 0), x, 2)),
    "eval_genlaguerre": _in_last(3, lambda n, a, x: _laguerre(n, a, x, 1),
                                 lambda n, a, x: _laguerre(n, a, x, 2)),
    "eval_laguerre": _in_last(2, lambda n, x: _laguerre(n, 0.0, x, 1),
                              lambda n, x: _laguerre(n, 0.0, x, 2)),
    "eval_hermite": _in_last(2, lambda n, x: _hermite(n, x, 1, True),
                             lambda n, x: _hermite(n, x, 2, True)),
    "eval_hermitenorm": _in_last(2, lambda n, x: _hermite(n, x, 1, False),
                                 lambda n, x: _hermite(n, x, 2, False)),
}


# ------------------------------------------------------------ hypergeometric functions

_HYPERGEOMETRIC = {
    "hyp0f1": _in_last(2, lambda v, z: _sc().hyp0f1(v + 1.0, z) / v,
                       lambda v, z: _sc().hyp0f1(v + 2.0, z) / (v * (v + 1.0))),
    "hyp1f1": _in_last(3, lambda a, b, x: a / b * _sc().hyp1f1(a + 1.0, b + 1.0, x),
                       lambda a, b, x: a * (a + 1.0) / (b * (b + 1.0)) *
                       _sc().hyp1f1(a + 2.0, b + 2.0, x)),
    "hyp2f1": _in_last(4, lambda a, b, c, z: a * b / c *
                       _sc().hyp2f1(a + 1.0, b + 1.0, c + 1.0, z),
                       lambda a, b, c, z: a * (a + 1.0) * b * (b + 1.0) / (c * (c + 1.0)) *
                       _sc().hyp2f1(a + 2.0, b + 2.0, c + 2.0, z)),
}


# ------------------------------------------------------------ complete elliptic integrals
# K(m) = pi/2 sum c_j m^j, c_j = ((2j)! / (2^2j j!^2))^2, and E(m) = pi/2 sum -c_j/(2j-1) m^j.
# Near m = 0 the closed forms K' = (E - (1-m) K) / (2m(1-m)), E' = (E - K)/(2m) subtract
# nearly equal O(1) terms (m = 1e-8: 8 digits lost, and twice that for the second
# derivatives): below |m| = 1/2 the series' derivatives are summed instead (70 terms:
# 2^-70 is far below a rounding).

_SERIES_BELOW = 0.5
_TERMS = 70


def _series(m, which, k):
    """d^k/dm^k of K (which = 'K') or E at |m| < 1/4 by the series, k = 1, 2."""
    total, c, power = np.zeros_like(m), 1.0, np.ones_like(m)
    for j in range(1, _TERMS):
        c *= ((2.0 * j - 1.0) / (2.0 * j)) ** 2
        coef = c if which == "K" else -c / (2.0 * j - 1.0)
        if j >= k:
            falling = float(j) if k == 1 else float(j * (j - 1))
            total = total + falling * coef * power
            power = power * m
    return 0.5 * np.pi * total


def _ellip_d(m, which, k, kval=None, mc=None):
    """d^k/dm^k of K or E. kval = K(m) and mc = 1 - m when the caller knows them more
    exactly than ellipk(m) and 1 - m (ellipkm1 at a small p = 1 - m)."""
    sc = _sc()
    small = np.abs(m) < _SERIES_BELOW
    mm = np.where(small, 0.5, m)                 # the closed forms away from their 0/0
    mc = 1.0 - mm if mc is None else np.where(small, 0.5, mc)
    kv = sc.ellipk(mm) if kval is None else np.where(small, sc.ellipk(mm), kval)
    ev = sc.ellipe(mm)
    dk = (ev - mc * kv) / (2.0 * mm * mc)
    de = (ev - kv) / (2.0 * mm)
    if k == 1:
        closed = dk if which == "K" else de
    elif which == "K":
        # K'' from K's differential equation m(1-m) K'' + (1-2m) K' - K/4 = 0
        closed = (0.25 * kv - (mc - mm) * dk) / (mm * mc)
    else:
        closed = (de - dk) / (2.0 * mm) - de / mm
    # m = 1: K = inf, and K', K'', -E'' grow like 1/(1-m) (E' like log): the limits
    at_one = np.inf if which == "K" else -np.inf
    closed = np.where(mc == 0.0, at_one, closed)
    return np.where(small, _series(np.where(small, m, 0.0), which, k), closed)


def _ellipinc_d(which, k):
    """d^k/dphi^k of F(phi|m) ("F") or E(phi|m) ("E"): F' = 1/Delta, F'' = h/Delta^3,
    E' = Delta, E'' = -h/Delta, with h = m sin(2 phi)/2 and
    Delta^2 = 1 - m sin^2 phi = cos^2 phi + (1-m) sin^2 phi."""
    def d(phi, m):
        s, c = np.sin(phi), np.cos(phi)
        with np.errstate(invalid="ignore"):
            delta = np.sqrt(c * c + (1.0 - m) * s * s)
        if k == 1:
            return 1.0 / delta if which == "F" else delta
        h = m * s * c
        return h / (delta * delta * delta) if which == "F" else -h / delta
    return d


_ELLIPTIC = {
    "ellipkinc": _in_first(_ellipinc_d("F", 1), _ellipinc_d("F", 2)),
    "ellipeinc": _in_first(_ellipinc_d("E", 1), _ellipinc_d("E", 2)),
    "ellipk": _rule(lambda m: _ellip_d(m, "K", 1), lambda m: _ellip_d(m, "K", 2)),
    "ellipe": _rule(lambda m: _ellip_d(m, "E", 1), lambda m: _ellip_d(m, "E", 2)),
    # ellipkm1(p) = K(1 - p); K itself from ellipkm1 keeps the digits of a small p
    "ellipkm1": _rule(lambda p: -_ellip_d(1.0 - p, "K", 1, _sc().ellipkm1(p), p),
                      lambda p: _ellip_d(1.0 - p, "K", 2, _sc().ellipkm1(p), p)),
}


# ------------------------------------------------------------ the rest

def _expn_shift(n, x, s):
    """E_(n-s)(x) for s = 1, 2, with E_0 = e^-x/x and E_-1 = e^-x (x+1)/x^2 (scipy's expn
    has no negative orders)."""
    sc = _sc()
    m = n - s
    e0 = np.exp(-x) / x
    em1 = np.exp(-x) * (x + 1.0) / (x * x)
    with np.errstate(all="ignore"):
        pos = sc.expn(np.maximum(m, 1.0).astype(np.int64), x)
    return np.where(m >= 1.0, pos, np.where(m == 0.0, e0, em1))


def _inv_boxcox(y, lam, k):
    """d^k/dy^k (lam y + 1)^(1/lam) = (1 - lam)^(k-1) (lam y + 1)^(1/lam - k); e^y at lam = 0.
    The power through log1p: pow of a rounded base 1 + lam*y near 1 would cost eps/lam."""
    lz = np.where(lam == 0.0, 1.0, lam)
    power = np.exp((1.0 / lz - k) * np.log1p(lz * y))
    return np.where(lam == 0.0, np.exp(y), (1.0 - lam) ** (k - 1) * power)


def _omega_parts(x, k):
    # w' = w/(1+w), w'' = w/(1+w)^3 from w + log w = x
    w = _sc().wrightomega(x)
    return w / (1.0 + w) if k == 1 else w / (1.0 + w) ** 3


_STRUVE_SERIES_BELOW = 0.5


def _struve_series(sign, v, x, k):
    """k-th derivative of sum_j sign^j (x/2)^(2j+v+1) / (Gamma(j+3/2) Gamma(j+v+3/2))
    (DLMF 11.2.1, 11.2.2; sign -1: H_v, +1: L_v) term by term, for |x| < 2, where the terms
    fall at least as 1/j!^2 (24 reach 1e-47). The recurrences below divide by x: at x = 1e-5
    and v = 0 they cancel terms of 6e4 to a result of 4e-6, and at x = 1e-300 they meet
    inf * 0 (H_v is below the smallest double there while 1/x^2 overflows)."""
    rgamma = _sc().rgamma
    half = 0.5 * x
    total = np.zeros(np.broadcast(v, x).shape)
    for j in range(24):
        p = 2.0 * j + v + 1.0
        fall = p if k == 1 else p * (p - 1.0)
        coeff = fall * 0.5 ** k * rgamma(j + 1.5) * rgamma(j + v + 1.5)
        # a zero coefficient (p = 0, or p = 1 at k = 2) is 0 whatever the power
        total = total + np.where(coeff == 0.0, 0.0, sign ** j * coeff * half ** (p - k))
    return total


def _struve(func, v, x, k):
    """H_v' = H_(v-1) - (v/x) H_v and H_v'' = H_(v-2) - ((2v-1)/x) H_(v-1) + (v(v+1)/x^2) H_v,
    the two recurrences of DLMF 11.4.23-24 added; the same for L_v (11.4.25-26); the power
    series below |x| = 2."""
    small = (np.abs(x) < _STRUVE_SERIES_BELOW) & (x != 0.0)
    series = _struve_series(-1.0 if func is _sc().struve else 1.0, v,
                            np.where(small, x, 1.0), k)
    return np.where(small, series, _struve_recurrence(func, v, x, k))


def _struve_recurrence(func, v, x, k):
    if k == 1:
        d = func(v - 1.0, x) - v / x * func(v, x)
        # at x = 0, from H_v ~ (x/2)^(v+1) / (Gamma(3/2) Gamma(v+3/2)) (the same for L_v)
        at0 = np.where(v == 0.0, 2.0 / np.pi, np.where(v > 0.0, 0.0, np.nan))
    else:
        d = func(v - 2.0, x) - (2.0 * v - 1.0) / x * func(v - 1.0, x) + \
            v * (v + 1.0) / (x * x) * func(v, x)
        at0 = np.where(v == 1.0, 4.0 / (3.0 * np.pi), np.where(
            (v == 0.0) | (v > 1.0), 0.0, np.where(v > 0.0, np.inf, np.nan)))
    return np.where(x == 0.0, at0, d)


# F' = -sum_k c_k x^-2k and F'' = sum_k 2k c_k x^-(2k+1), c_k = (2k-1)!!/2^k: 50 terms; at
# |x| = 6.5 the terms shrink up to k = 41 (the smallest 5e-17 of the first) and the 50th,
# past it, is 1e-16 of the first
_DAWSN_C = np.cumprod([(2.0 * k - 1.0) / 2.0 for k in range(1, 51)])


def _dawsn_parts(x, k):
    F = _sc().dawsn(x)
    far = np.abs(x) >= 6.5
    xf = np.where(far, x, 6.5)
    q = 1.0 / (xf * xf)
    series = np.zeros_like(q)
    for j in range(len(_DAWSN_C), 0, -1):        # Horner in q = 1/x^2, the k-th series only
        series = (series + (_DAWSN_C[j - 1] if k == 1 else 2.0 * j * _DAWSN_C[j - 1])) * q
    if k == 1:
        return np.where(far, -series, 1.0 - 2.0 * x * F)
    return np.where(far, series / xf, (4.0 * x * x - 2.0) * F - 2.0 * x)


# ----------------------------------------------------------------- ratios of gammas

def _nonpositive_integer(x):
    return (x <= 0.0) & (x == np.floor(x))


def _poch_parts(z, m, k):
    """poch(z, m) = Gamma(z + m) / Gamma(z) = Gamma(w) r(z), r = 1/Gamma. For z >= 1/2,
    P (log P)' and the like; below, where z nears a pole (P -> 0 while (log P)' -> inf:
    inf - inf in the second derivative at z = 1e-300), the product form with r's entire
    derivatives; at a pole z = -n where Gamma(w) leaves the range, r'(-n) = (-1)^n n! and
    the reflection Gamma(w) = pi / (sin(pi w) Gamma(1 - w)): D = (-1)^n pi poch(1 - w, m) /
    sin(pi w), and r''(-n) = -2 r'(-n) psi(n + 1) (r(-n + h) = (-1)^n n! h (1 - psi(n+1) h)). Where z and w both are poles (P a finite product, m an integer) the reflected
    digammas, whose pi cot terms cancel for an integer m -- not differentiable in m there
    (poch(-3, m) is 0 between the integers): nan."""
    sc = _sc()
    p, w = sc.poch(z, m), z + m
    pz, pw = _nonpositive_integer(z), _nonpositive_integer(w)
    both = pz & pw
    g = sc.gamma(np.where(z < 0.5, w, 1.0))
    near = (z < 0.5) & ~pw & np.isfinite(g) & (g != 0.0)
    far = pz & ~pw & ~near
    lz = np.where(both, _psi_shift(0, 1.0 - z, -m), _psi_shift(0, z, m))
    lzz = np.where(both, -_psi_shift(1, 1.0 - z, -m), _psi_shift(1, z, m))
    wr = np.where(pw, 1.0, w)
    lm, lmm = _polygamma(0, wr), _polygamma(1, wr)
    zn = np.where(near, z, 1.0)
    r0 = sc.rgamma(zn)
    r1, r2 = _rgamma_parts(zn)
    sign = np.where(np.fmod(z, 2.0) == 0.0, 1.0, -1.0)
    sin_w = _sinpi_cospi(np.where(far, w, 0.5))[0]
    big = np.pi * sign * sc.poch(np.where(far, 1.0 - w, 1.0), m) / sin_w
    nan = np.where(both, np.nan, 0.0)
    if k == 1:
        return (np.where(near, g * (lm * r0 + r1), np.where(far, big, p * lz)),
                p * lm + nan)
    lm2 = lm * lm + lmm
    zz = np.where(near, g * (lm2 * r0 + 2.0 * lm * r1 + r2),
                  np.where(far, 2.0 * big * (lm - _polygamma(0, np.where(far, 1.0 - z, 1.0))),
                           p * (lz * lz + lzz)))
    zm = np.where(near, g * (lm2 * r0 + lm * r1), np.where(far, big * lm, p * (lz * lm + lmm)))
    return (zz, zm + nan), (zm + nan, p * lm2 + nan)


def _binom_parts(n, k, order):
    """binom(n, k) = Gamma(n + 1) / (Gamma(k + 1) Gamma(n - k + 1)): B (log B)' and the like
    off the poles. Where n - k + 1 = -M is a pole (B = 0 past the top, binom(5, 7)), B =
    C r(n - k + 1) with C = Gamma(n + 1) / Gamma(k + 1) and r = 1/Gamma, whose expansion
    r(-M + h) = (-1)^M M! h (1 - psi(M + 1) h) gives every partial from E = C r' =
    (-1)^M Gamma(n + 1) / poch(k - n, n + 1); where k + 1 = -L is one (binom(5.5, -1)),
    likewise from F = (-1)^L Gamma(n + 1) / poch(-k, n + 1) (no 0 * inf at k = -1000)."""
    sc = _sc()
    b, top, low = sc.binom(n, k), n - k + 1.0, k + 1.0
    ptop, plow = _nonpositive_integer(top), _nonpositive_integer(low)
    regular = ~ptop & ~plow
    topr, lowr = np.where(ptop, 1.0, top), np.where(plow, 1.0, low)
    ln = _psi_shift(0, topr, k)                      # psi(n + 1) - psi(n - k + 1)
    lk = _psi_shift(0, lowr, n - 2.0 * k)             # psi(n - k + 1) - psi(k + 1)
    t1, l1 = _polygamma(1, topr), _polygamma(1, lowr)
    gn = sc.gamma(n + 1.0)
    e = np.where(np.fmod(top, 2.0) == 0.0, 1.0, -1.0) * gn / sc.poch(
        np.where(ptop, k - n, 1.0), n + 1.0)
    f = np.where(np.fmod(low, 2.0) == 0.0, 1.0, -1.0) * gn / sc.poch(
        np.where(plow, -k, 1.0), n + 1.0)
    pn = _polygamma(0, n + 1.0)
    if order == 1:
        return (np.where(regular, b * ln, np.where(ptop, e, 0.0)),
                np.where(regular, b * lk, np.where(ptop, -e, f)))
    pm = _polygamma(0, np.where(ptop, k - n, 1.0))      # psi(M + 1)
    nn = np.where(regular, b * (ln * ln + _psi_shift(1, topr, k)),
                  np.where(ptop, 2.0 * e * (pn - pm), 0.0))
    # psi(k + 1) - psi(M + 1) and psi(n - k + 1) - psi(L + 1) as shifts by n + 1: the plain
    # differences cancel for |k| >> n (1e-6 at k = -1e10)
    up = _psi_shift(0, np.where(ptop, k - n, 1.0), n + 1.0)
    down = _psi_shift(0, np.where(plow, -k, 1.0), n + 1.0)
    nk = np.where(regular, b * (ln * lk + t1),
                  np.where(ptop, -e * ((pn - pm) + up), f * ln))
    kk = np.where(regular, b * (lk * lk - t1 - l1),
                  np.where(ptop, 2.0 * e * up, 2.0 * f * down))
    return (nn, nk), (nk, kk)


_OTHERS = {
    "poch": _rule(lambda z, m: _poch_parts(z, m, 1), lambda z, m: _poch_parts(z, m, 2)),
    "binom": _rule(lambda n, k: _binom_parts(n, k, 1), lambda n, k: _binom_parts(n, k, 2)),
    "dawsn": _rule(lambda x: _dawsn_parts(x, 1), lambda x: _dawsn_parts(x, 2)),
    "struve": _in_last(2, lambda v, x: _struve(_sc().struve, v, x, 1),
                       lambda v, x: _struve(_sc().struve, v, x, 2)),
    "modstruve": _in_last(2, lambda v, x: _struve(_sc().modstruve, v, x, 1),
                          lambda v, x: _struve(_sc().modstruve, v, x, 2)),
    # Bessel functions of integer order, as yv and kv
    "yn": _bessel_rule("y"), "kn": _bessel_rule("k"),
    "wrightomega": _rule(lambda x: _omega_parts(x, 1), lambda x: _omega_parts(x, 2)),
    "boxcox": _in_first(lambda x, lam: x ** (lam - 1.0),
                        lambda x, lam: (lam - 1.0) * x ** (lam - 2.0)),
    "boxcox1p": _in_first(lambda x, lam: (1.0 + x) ** (lam - 1.0),
                          lambda x, lam: (lam - 1.0) * (1.0 + x) ** (lam - 2.0)),
    "inv_boxcox": _in_first(lambda y, lam: _inv_boxcox(y, lam, 1),
                            lambda y, lam: _inv_boxcox(y, lam, 2)),
    "inv_boxcox1p": _in_first(lambda y, lam: _inv_boxcox(y, lam, 1),
                              lambda y, lam: _inv_boxcox(y, lam, 2)),
    "expn": _in_last(2, lambda n, x: -_expn_shift(n, x, 1), lambda n, x: _expn_shift(n, x, 2)),
    "sindg": _rule(lambda x: _DEG * _sc().cosdg(x), lambda x: -_DEG * _DEG * _sc().sindg(x)),
    "cosdg": _rule(lambda x: -_DEG * _sc().sindg(x), lambda x: -_DEG * _DEG * _sc().cosdg(x)),
    "tandg": _rule(lambda x: _DEG * (1.0 + _sc().tandg(x) ** 2),
                   lambda x: 2.0 * _DEG * _DEG * _sc().tandg(x) * (1.0 + _sc().tandg(x) ** 2)),
    "cotdg": _rule(lambda x: -_DEG * (1.0 + _sc().cotdg(x) ** 2),
                   lambda x: 2.0 * _DEG * _DEG * _sc().cotdg(x) * (1.0 + _sc().cotdg(x) ** 2)),
    "radian": _rule(lambda d, m, s: (_DEG, _DEG / 60.0, _DEG / 3600.0),
                    lambda d, m, s: ((0.0,) * 3,) * 3),
}


# ------------------------------------------------------------ where scipy says nan
# Outside a function's domain (a negative count, a Hermite degree below 0, a Laguerre
# parameter below -1, a 0F1 of non-positive integer v, ...) scipy's value is nan, and so are
# the derivatives: the identities above would give numbers there. The value is computed
# once more, which costs what a second rule evaluation does.

def _integer(a):
    """An integer-valued degree or count as an integer, as the user's call most likely gave
    it: scipy reads a float degree by its hypergeometric form (eval_gegenbauer(-2.0, ...) is
    nan, eval_gegenbauer(-2, ...) is 0) and eval_hermite has no float degree at all."""
    a = np.asarray(a, dtype=float)
    whole = np.all((a == np.floor(a)) & (np.abs(a) < 2.0 ** 53))
    return a.astype(np.int64) if whole else a


def _value(name, args):
    func = getattr(_sc(), name)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return func(*[_integer(a) for a in args[:-1]], args[-1])


def _masked(out, bad):
    if out is None:
        return None
    if isinstance(out, tuple):
        return tuple(_masked(o, bad) for o in out)
    r = np.where(bad, np.nan, out)
    return r[()] if r.ndim == 0 else r


def _where_defined(name, rule):
    def guard(fn):
        @functools.wraps(fn)
        def guarded(*args):
            out = fn(*args)
            bad = np.isnan(_value(name, args))
            for a in args:                  # a nan argument's derivatives are nan already
                bad = bad & ~np.isnan(np.asarray(a, dtype=float))
            return _masked(out, bad) if np.any(bad) else out
        return guarded
    return tuple(guard(fn) for fn in rule)


TABLE = {name: _where_defined(name, rule) for name, rule in
         {**_DISTRIBUTIONS, **_POLYNOMIALS, **_HYPERGEOMETRIC, **_ELLIPTIC, **_OTHERS}.items()}
