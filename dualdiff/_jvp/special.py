"""Derivative rules for scipy.special: one (func, d1, d2) entry per function, registered with
the public dd.register_elementwise (register(), called the first time a scipy.special ufunc
meets a dual value, so importing dualdiff never imports scipy). d1/d2 are vectorised over
whole arrays and built from scipy's own ufuncs, in numerically careful forms
(dualdiff/_jvp/special_numerics.py). Arguments that carry no derivative (the order n of polygamma,
the order v of the Bessel functions, the shape parameters a, b of the incomplete gamma/beta
functions) are None: scipy has no formula for those partials.

Conventions where a function has a kink or a domain edge (the limits, as numpy's log gives
log(0) = -inf):
  entr'(0) = +inf, entr''(0) = -inf; rel_entr and kl_div: d/dx = -inf at x = 0 < y.
  xlogy(0, y), xlog1py(0, y): the partial in y is 0 (the function is identically 0 along
    x = 0), the partial in x is log(y) (-inf at y = 0).
  rel_entr(0, 0): nan derivatives (not differentiable: x log(x/y) is homogeneous of degree 1).
  huber at |r| == delta: the inner (quadratic) branch, as scipy's `<=` does; the first
    partials agree there, the second jump.
  i0e, ive at x == 0 (|x| kink of the scale factor exp(-|x|)): the mean of the one-sided
    derivatives, as abs'(0) = 0.
  logit, erfinv, erfcinv, ndtri at the ends of their domain: infinite, with the sign of the
    one-sided limit. Outside a function's domain: nan.
  gammasgn: derivative 0, as sign' = 0.
  pseudo_huber(0, 0): nan second partials (not twice differentiable there).
"""
import math

import numpy as np

from dualdiff._jvp.special_numerics import (  # noqa: F401
    _CF_FROM,
    _LN10,
    _LN2,
    _SQRT2,
    _SQRT_2PI,
    _SQRT_2_OVER_PI,
    _SQRT_PI,
    _SQRT_PI_OVER_2,
    _TWO_OVER_SQRT_PI,
    _asym_start,
    _beta,
    _beta_density,
    _cf_erfc,
    _erfcx_gap,
    _exp_sq,
    _gamma_density,
    _polygamma,
    _psi_shift,
    _sc,
    _scaled_bessel_asym,
    _sinpi_cospi,
    _trigamma,
    _vectorised,
)


# ------------------------------------------------------------------- rule builders

def _rule(d1, d2):
    return _vectorised(d1), _vectorised(d2)


def _in_last(m, first, second):
    """A rule of m arguments differentiable in the last one only (the others are orders or
    shape parameters): `first`, `second` give that partial and its second derivative."""
    def d1(*args):
        return (None,) * (m - 1) + (first(*args),)

    def d2(*args):
        return ((None,) * m,) * (m - 1) + ((None,) * (m - 1) + (second(*args),),)
    return _rule(d1, d2)


# --------------------------------------------------------------------- gamma family

def _rgamma_parts(x):
    """(g', g'') of g = 1/Gamma. Below 1/2 through the reflection 1/Gamma(x) =
    Gamma(1-x) sin(pi x)/pi: near the zeros x = -n the plain form rgamma*(psi^2 - psi')
    subtracts two 1/h^2 terms, while the reflected one is exact at x = -n itself."""
    sc = _sc()
    r, p = sc.rgamma(x), sc.digamma(x)
    u = np.where(x < 0.5, 1.0 - x, 1.0)
    g, pu, p1u = sc.gamma(u), sc.digamma(u), _trigamma(u)
    sinpi, cospi = _sinpi_cospi(x)
    s = sinpi / np.pi
    rd1 = g * (cospi - pu * s)
    rd2 = g * ((pu * pu + p1u - np.pi ** 2) * s - 2.0 * pu * cospi)
    return (np.where(x < 0.5, rd1, -r * p),
            np.where(x < 0.5, rd2, r * (p * p - _trigamma(x))))


def _beta_psi(a, b):
    """(psi(a) - psi(a+b), psi(b) - psi(a+b)) without the cancellation of either."""
    return -_psi_shift(0, a, b), -_psi_shift(0, b, a)


def _beta_d1(a, b):
    bt = _beta(a, b)
    pa, pb = _beta_psi(a, b)
    return bt * pa, bt * pb


def _beta_d2(a, b):
    # B_ab = B (pa pb - psi'(a+b)) cancels as min(a, b) -> 0 (pa pb -> psi'(a)): a relative
    # error of about 2^-53 / min(a, b) there
    bt = _beta(a, b)
    pa, pb = _beta_psi(a, b)
    ab = bt * (pa * pb - _trigamma(a + b))
    return ((bt * (pa * pa - _psi_shift(1, a, b)), ab), (ab, bt * (pb * pb - _psi_shift(1, b, a))))


def _betaln_d2(a, b):
    tab = _trigamma(a + b)
    return (-_psi_shift(1, a, b), -tab), (-tab, -_psi_shift(1, b, a))


def _polygamma_up(n, x, k):
    # psi^(n+k)(x); orders 1 and 2 through the reflection of _polygamma
    return np.where(n + k == 1.0, _polygamma(1, x), np.where(
        n + k == 2.0, _polygamma(2, x), _sc().polygamma(n + k, x)))


# --------------------------------------------------- incomplete gamma and beta

def _gamma_density_d2(a, x):
    # (a - 1) - x: a - 1 is exact for a >= 1 and negative below, so only one rounding.
    # At x = 0 the quotient is 0/0; its limit (a - 1) x^(a-2) / Gamma(a) is 0 above a = 2,
    # 1 at a = 2, -1 at a = 1 (e^-x) and infinite between and below (fuzz 1-423: NaN in the
    # Hessian of gdtr(1.5, 2, x^2) at 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        d2 = _gamma_density(a, x) * ((a - 1.0) - x) / x
    at0 = np.where(a > 2.0, 0.0, np.where(a == 2.0, 1.0, np.where(
        a > 1.0, np.inf, np.where(a == 1.0, -1.0, -np.inf))))
    return np.where(x == 0.0, at0, d2)


def _gamma_inverse(inv, sign):
    """(x', x'') of x = inv(a, y) with F' = sign * density: x' = sign/density and
    x'' = -(F''/F') x'^2 = ((x - (a-1))/x) x'^2 (the sign cancels in F''/F')."""
    def first(a, y):
        return sign / _gamma_density(a, inv()(a, y))

    def second(a, y):
        x = inv()(a, y)
        d1 = 1.0 / _gamma_density(a, x)
        return (x - (a - 1.0)) / x * d1 * d1
    return _in_last(2, first, second)


def _beta_slope(a, b, x, xc=None):
    # d/dx log density = (a-1)/x - (b-1)/(1-x); one division each, no cancelling logs
    return (a - 1.0) / x - (b - 1.0) / ((1.0 - x) if xc is None else xc)


def _beta_density_d2(a, b, x, xc=None):
    """d/dx of the beta density. At x = 0 and x = 1 density * slope is 0 * inf; the limits,
    from x^(a-1) near 0: 0 above a = 2, 1/B(a, b) at 2, +inf between, -(b-1)/B(1, b) = -(b-1) b
    at a = 1 and -inf below; at x = 1 the same with a and b exchanged and the sign flipped
    (scan of every rule at its edges: betainc's Hessian at x = 0 was NaN)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        d2 = _beta_density(a, b, x, xc) * _beta_slope(a, b, x, xc)

    def at0(p, q):
        return np.where(p > 2.0, 0.0, np.where(p == 2.0, 1.0 / _beta(p, q), np.where(
            p > 1.0, np.inf, np.where(p == 1.0, -(q - 1.0) * q, -np.inf))))
    xc = (1.0 - x) if xc is None else xc
    return np.where(x == 0.0, at0(a, b), np.where(xc == 0.0, -at0(b, a), d2))


def _beta_inverse(inv, swapped, sign):
    """(x', x'') of x = inv(a, b, y). 1 - x comes from the swapped inverse (I_x(a, b) =
    1 - I_{1-x}(b, a)) where x > 1/2: subtracting a rounded x near 1 would cost the density
    (b-1) 2^-53/(1-x) (4e-10 at betainccinv(5, 0.7, 1e-5))."""
    def parts(a, b, y):
        x = inv()(a, b, y)
        xc = np.where(x > 0.5, swapped()(b, a, y), 1.0 - x)
        d1 = sign / _beta_density(a, b, x, xc)
        return d1, -_beta_slope(a, b, x, xc) * d1 * d1      # x'' = -(F''/F') x'^2
    return _in_last(3, lambda *v: parts(*v)[0], lambda *v: parts(*v)[1])


# --------------------------------------------------------- error function family

def _erfcx_d1(x):
    # E' = 2x E - 2/sqrt(pi) is O(1/x^2) from O(1) terms; with sqrt(pi) E = 1/(x + T1),
    # E' = -2 T1 E exactly, and T1 comes from the continued fraction
    e = _sc().erfcx(x)
    xx = np.where(x >= _CF_FROM, x, _CF_FROM)
    return np.where(x >= _CF_FROM, -2.0 * _cf_erfc(xx, 1) * e, 2.0 * x * e - _TWO_OVER_SQRT_PI)


def _erfcx_d2(x):
    # E'' = 2E(1 - 2x T1) = 2E T2/(x + T2) with T1 = (1/2)/(x + T2): no O(1) cancellation
    e = _sc().erfcx(x)
    xx = np.where(x >= _CF_FROM, x, _CF_FROM)
    t2 = _cf_erfc(xx, 2)
    plain = (4.0 * x * x + 2.0) * e - 2.0 * x * _TWO_OVER_SQRT_PI    # cancels 8x at most
    return np.where(x >= _CF_FROM, 2.0 * e * t2 / (xx + t2), plain)


def _exp_y2_from_tail(y, tail):
    """exp(y^2) where erfc(|y|) == tail exactly: erfcx(|y|)/tail. exp(y*y) would multiply
    the rounding of y by 2 y^2 (700 ulps at the end of the range); erfcx is flat there."""
    return _sc().erfcx(np.abs(y)) / tail


def _erfinv_d1(x):
    y = _sc().erfinv(x)
    # 1 - |x| is exact for |x| >= 1/2 (Sterbenz) and equals erfc(|y|)
    e = np.where(np.abs(x) >= 0.5, _exp_y2_from_tail(y, 1.0 - np.abs(x)), _exp_sq(y, 1.0))
    return np.where(np.abs(x) == 1.0, np.inf, 0.5 * _SQRT_PI * e)


def _erfinv_d2(x):
    d1 = _erfinv_d1(x)
    return np.where(np.abs(x) == 1.0, np.sign(x) * np.inf, 2.0 * _sc().erfinv(x) * d1 * d1)


def _erfcinv_d1(x):
    y = _sc().erfcinv(x)
    # erfc(|y|) is x itself below 1/2 and 2 - x (exact) above 3/2
    tail = np.where(x <= 0.5, x, 2.0 - x)
    e = np.where((x <= 0.5) | (x >= 1.5), _exp_y2_from_tail(y, tail), _exp_sq(y, 1.0))
    return np.where((x == 0.0) | (x == 2.0), -np.inf, -0.5 * _SQRT_PI * e)


def _erfcinv_d2(x):
    d1 = _erfcinv_d1(x)
    edge = np.where(x == 0.0, np.inf, -np.inf)
    return np.where((x == 0.0) | (x == 2.0), edge, 2.0 * _sc().erfcinv(x) * d1 * d1)


def _npdf(x):
    return _exp_sq(x, -0.5) / _SQRT_2PI


def _log_ndtr_ratio(x):
    """r = pdf(x)/cdf(x). For x < 0 both underflow (x = -40): r = sqrt(2/pi)/erfcx(-x/sqrt2)."""
    sc = _sc()
    return np.where(x < 0.0, _SQRT_2_OVER_PI / sc.erfcx(-x / _SQRT2), _npdf(x) / sc.ndtr(x))


def _log_ndtr_d2(x):
    # -r (x + r): for x << 0, r ~ -x and x + r ~ -1/x cancels; it equals sqrt2 T1(-x/sqrt2)
    r = _log_ndtr_ratio(x)
    return -r * np.where(x < 0.0, _SQRT2 * _erfcx_gap(-x / _SQRT2), x + r)


def _ndtri_d1(p):
    y = _sc().ndtri(p)
    # 1/pdf(y) = sqrt(2 pi) exp(y^2/2), and exp(y^2/2) = erfcx(|y|/sqrt2) / (2 min(p, 1-p))
    tail = np.minimum(p, 1.0 - p)
    d1 = _SQRT_PI_OVER_2 * _sc().erfcx(np.abs(y) / _SQRT2) / tail
    return np.where(tail == 0.0, np.inf, d1)


def _ndtri_d2(p):
    d1 = _ndtri_d1(p)
    edge = np.where(p == 0.0, -np.inf, np.inf)
    return np.where((p == 0.0) | (p == 1.0), edge, _sc().ndtri(p) * d1 * d1)


def _ndtri_exp(y):
    """ndtri_exp(y), polished by one Newton step on log_ndtr(x) = y where x < -1: scipy's
    value is 2e-14 off at y = -1e4, and the derivatives inherit that error."""
    sc = _sc()
    x = sc.ndtri_exp(y)
    step = (sc.log_ndtr(x) - y) / _log_ndtr_ratio(x)
    return np.where(x < -1.0, x - step, x)


def _ndtri_exp_d1(y):
    sc = _sc()
    x = _ndtri_exp(y)
    # dx/dy = p/pdf(x), p = e^y; for x < 0 (p < 1/2) the p's cancel exactly (see _ndtri_d1),
    # else p/(1-p) = e^y / -expm1(y)
    upper = _SQRT_PI_OVER_2 * sc.erfcx(x / _SQRT2) * np.exp(y) / -np.expm1(y)
    return np.where(x < 0.0, _SQRT_PI_OVER_2 * sc.erfcx(-x / _SQRT2),
                    np.where(y == 0.0, np.inf, upper))


def _ndtri_exp_d2(y):
    x = _ndtri_exp(y)
    d1 = _ndtri_exp_d1(y)
    # x'' = x'(1 + x x'); for x < 0, 1/x' + x = sqrt2 T1(-x/sqrt2) avoids the cancellation
    return np.where(x < 0.0, _SQRT2 * _erfcx_gap(-x / _SQRT2) * d1 * d1,
                    np.where(y == 0.0, np.inf, d1 * (1.0 + x * d1)))


# ------------------------------------------------ entropy, divergence and losses

def _log_ratio(x, y):
    """log(x/y). Near x = y as log1p((x - y)/y), x - y being exact there (the rounded
    quotient would cost 2^-53/|log(x/y)| relative); elsewhere from the quotient unless it
    over- or underflows, and then as log x - log y, whose terms are then far apart."""
    q = x / y
    near = (q >= 0.5) & (q <= 2.0)
    ok = np.isfinite(q) & (q >= 2.2250738585072014e-308)
    far = np.where(ok, np.log(q), np.log(x) - np.log(y))
    return np.where(near, np.log1p((x - y) / y), far)


def _divergence(x, y, d):
    # defined for x > 0 < y; x == 0 < y gives the one-sided value at the edge
    return np.where((x >= 0.0) & (y > 0.0), d, np.nan)


def _divergence_d1(x, y, kl):
    """(d/dx, d/dy) of rel_entr = x log(x/y), or of kl_div = rel_entr - x + y (kl True)."""
    lr = np.where(x == 0.0, -np.inf, _log_ratio(x, y))
    if kl:   # 1 - x/y as (y - x)/y: y - x is exact when x ~ y, where 1 - x/y would cancel
        return _divergence(x, y, lr), _divergence(x, y, (y - x) / y)
    return _divergence(x, y, lr + 1.0), _divergence(x, y, np.where(x == 0.0, 0.0, -x / y))


def _divergence_d2(x, y):
    xy = _divergence(x, y, -1.0 / y)
    return ((_divergence(x, y, 1.0 / x), xy),
            (xy, _divergence(x, y, np.where(x == 0.0, 0.0, x / (y * y)))))


def _huber_d1(delta, r):
    inner = np.abs(r) <= delta
    bad = delta < 0.0                                   # scipy: inf
    return (np.where(bad, np.nan, np.where(inner, 0.0, np.abs(r) - delta)),
            np.where(bad, np.nan, np.where(inner, r, delta * np.sign(r))))


def _huber_d2(delta, r):
    inner = np.abs(r) <= delta
    bad = delta < 0.0
    dd = np.where(bad, np.nan, np.where(inner, 0.0, -1.0))
    dr = np.where(bad, np.nan, np.where(inner, 0.0, np.sign(r)))
    return (dd, dr), (dr, np.where(bad, np.nan, np.where(inner, 1.0, 0.0)))


def _pseudo_huber_parts(delta, r):
    """S = hypot(delta, r), c = delta/S and 1 - c = (r/S)(r/(S + delta)): the last form has
    no cancellation for |r| << delta, where 1 - c ~ r^2/(2 delta^2)."""
    s = np.hypot(delta, r)
    return s, delta / s, (r / s) * (r / (s + delta))


def _pseudo_huber_guard(delta, r, value):
    # nan for delta < 0 (outside the domain); at delta = r = 0, where c is 0/0, every
    # derivative is 0: the function is 0 along both axes (scipy's pseudo_huber(0, r) = 0),
    # though not twice differentiable there
    return np.where(delta < 0.0, np.nan, np.where((delta == 0.0) & (r == 0.0), 0.0, value))


def _pseudo_huber_d1(delta, r):
    s, c, omc = _pseudo_huber_parts(delta, r)
    # d/d delta = S - 2 delta + delta^2/S = (S - delta)^2/S = (1 - c)(S - delta)
    return (_pseudo_huber_guard(delta, r, omc * (r * (r / (s + delta)))),
            _pseudo_huber_guard(delta, r, c * r))


def _pseudo_huber_d2(delta, r):
    s, c, omc = _pseudo_huber_parts(delta, r)
    # 3c - 2 - c^3 = -(1 - c)^2 (2 + c)
    dr = _pseudo_huber_guard(delta, r, (r / s) ** 3)
    return ((_pseudo_huber_guard(delta, r, -omc * omc * (2.0 + c)), dr),
            (dr, _pseudo_huber_guard(delta, r, c ** 3)))


# ------------------------------------------------------------------------- Bessel
# Order recurrences: J' = (J_{v-1} - J_{v+1})/2, J'' = (J_{v-2} - 2 J_v + J_{v+2})/4 (Y the
# same), I' = (I_{v-1} + I_{v+1})/2, I'' = (I_{v-2} + 2 I_v + I_{v+2})/4, and
# K' = -(K_{v-1} + K_{v+1})/2, K'' = (K_{v-2} + 2 K_v + K_{v+2})/4. For I and K every term
# has one sign for x > 0 (v >= 0), so nothing cancels; the forms J' = J_{v-1} - v J_v/x
# would cancel at small x.

def _bessel(kind, m, v, x):
    sc = _sc()
    f = {"j": sc.jv, "y": sc.yv, "i": sc.iv, "k": sc.kv}[kind]
    s = -1.0 if kind in "jy" else 1.0
    if m == 1:
        d = 0.5 * (f(v - 1.0, x) + s * f(v + 1.0, x))
        return -d if kind == "k" else d
    return 0.25 * (f(v - 2.0, x) + 2.0 * s * f(v, x) + f(v + 2.0, x))


def _ive_deriv(m, v, x):
    """Derivatives of ive = e^-|x| I_v. Below the asymptotic range: e^-|x| (I' - sign(x) I)
    and e^-|x| (I'' - 2 sign(x) I' + I) from the order recurrences on ive (sign(0) = 0 gives
    the mean of the one-sided derivatives at the |x| kink)."""
    sc = _sc()
    v, x = np.broadcast_arrays(v, x)
    sg = np.sign(x)
    d1 = 0.5 * (sc.ive(v - 1.0, x) + sc.ive(v + 1.0, x))
    if m == 1:
        rec = d1 - sg * sc.ive(v, x)
    else:
        rec = (0.25 * (sc.ive(v - 2.0, x) + 2.0 * sc.ive(v, x) + sc.ive(v + 2.0, x))
               - 2.0 * sg * d1 + sc.ive(v, x))
    ax = np.abs(x)
    start = _asym_start(v)
    use = ax >= start
    asym = _scaled_bessel_asym("i", v, np.where(use, ax, start), m)
    # I_v(-x) = (-1)^v I_v(x) for integer v; otherwise I_v is complex for x < 0
    parity = np.where(v == np.round(v), np.where(np.fmod(v, 2.0) == 0.0, 1.0, -1.0), np.nan)
    asym = np.where(x < 0.0, parity * (-1.0) ** m * asym, asym)
    return np.where(use, asym, rec)


def _kve_deriv(m, v, x):
    """Derivatives of kve = e^x K_v: e^x (K' + K) and e^x (K'' + 2K' + K) by recurrence,
    Hankel's expansion in the asymptotic range (the recurrences cancel there)."""
    sc = _sc()
    v, x = np.broadcast_arrays(v, x)
    s1 = sc.kve(v - 1.0, x) + sc.kve(v + 1.0, x)
    if m == 1:
        rec = -0.5 * s1 + sc.kve(v, x)
    else:
        rec = (0.25 * (sc.kve(v - 2.0, x) + 2.0 * sc.kve(v, x) + sc.kve(v + 2.0, x))
               - s1 + sc.kve(v, x))
    # near 0 the highest order, (v+2 or v-2 in K'', v+1 or v-1 in K'), overflows first and
    # dominates: an inf - inf there is -inf (K') or +inf (K'') (k1e'' at 1e-300 was nan)
    rec = np.where(np.isnan(rec) & (x > 0.0), -np.inf if m == 1 else np.inf, rec)
    start = _asym_start(v)
    use = x >= start
    asym = _scaled_bessel_asym("k", v, np.where(use, x, start), m)
    return np.where(use, asym, np.where(x < 0.0, np.nan, rec))


def _bessel_rule(kind, fixed=None):
    """Rule of jv/yv/iv/kv (kind j, y, i, k) or of the scaled ive/kve (ie, ke), in x with
    the order not differentiable; with `fixed`, the rule of x alone at that order (j0...)."""
    if kind in ("ie", "ke"):
        deriv = _ive_deriv if kind == "ie" else _kve_deriv
    else:
        def deriv(m, v, x):
            return _bessel(kind, m, v, x)
    if fixed is not None:
        return _rule(lambda x: deriv(1, fixed, x), lambda x: deriv(2, fixed, x))
    return _in_last(2, lambda v, x: deriv(1, v, x), lambda v, x: deriv(2, v, x))


# ----------------------------------------------- exponential and related functions

# exprel(x) = sum x^n/(n+1)!: below |x| = 2 the closed forms of its derivatives cancel
# (x e^x - e^x + 1 is O(x^2) from O(1) terms), so the Taylor series is summed; 40 terms
# reach 2^40/41! ~ 3e-38.
_EXPREL_D1 = [(n + 1) / math.factorial(n + 2) for n in range(40)]
_EXPREL_D2 = [(n + 1) * (n + 2) / math.factorial(n + 3) for n in range(40)]


def _horner(coeffs, x):
    acc = np.zeros_like(x)
    for c in reversed(coeffs):
        acc = c + x * acc
    return acc


def _exprel_parts(x):
    sc = _sc()
    r, e = sc.exprel(x), np.exp(x)
    xs = np.where(np.abs(x) < 2.0, x, 0.0)
    # x >= 2: with e^x = x r + 1 both forms are sums of positive terms and overflow only
    # with the true value; x <= -2: (e^x - r)/x and (e^x - 2 d1)/x do not cancel
    pos1 = r * (x - 1.0) / x + 1.0 / x
    neg1 = (e - r) / x
    d1 = np.where(np.abs(x) < 2.0, _horner(_EXPREL_D1, xs), np.where(x > 0.0, pos1, neg1))
    pos2 = r * ((x * x - 2.0 * x + 2.0) / (x * x)) + (x - 2.0) / (x * x)
    neg2 = (e - 2.0 * d1) / x
    d2 = np.where(np.abs(x) < 2.0, _horner(_EXPREL_D2, xs), np.where(x > 0.0, pos2, neg2))
    return d1, d2


def _times_power(c, x, p):
    # c x^p with c = 0 exactly giving 0 where x^p is infinite: powm1(x, 0) = 0 and
    # powm1(x, 1) = x - 1 have zero derivatives at x = 0 (0 * inf was nan)
    return np.where(c == 0.0, 0.0, c * np.power(x, p))


def _powm1_d1(x, y):
    dy = np.where((x == 0.0) & (y > 0.0), 0.0, np.power(x, y) * np.log(x))   # x^y log x -> 0
    return _times_power(y, x, y - 1.0), dy


def _powm1_d2(x, y):
    lg = np.log(x)
    at0 = (x == 0.0) & (y > 0.0)
    xy = np.where(at0 & (y > 1.0), 0.0, np.power(x, y - 1.0) * (1.0 + y * lg))
    yy = np.where(at0, 0.0, np.power(x, y) * lg * lg)
    return (_times_power(y * (y - 1.0), x, y - 2.0), xy), (xy, yy)


# spence(z) = integral_1^z log(t)/(1-t) dt. With u = 1 - z, spence' = -g(u) and
# spence'' = g'(u), g(u) = -log1p(-u)/u = sum u^n/(n+1). Near z = 1 the closed forms
# (log z/(1-z), and (1/z + spence')/(1-z)) are 0/0 or cancel, so below |u| = 1/2 the series
# is summed (80 terms reach 2^-80).
_SPENCE_G = [1.0 / (n + 1) for n in range(80)]
_SPENCE_DG = [(n + 1) / (n + 2) for n in range(80)]


def _spence_d1(z):
    u = 1.0 - z
    us = np.where(np.abs(u) < 0.5, u, 0.0)
    d = np.where(np.abs(u) < 0.5, -_horner(_SPENCE_G, us), np.log(z) / u)
    return np.where(z < 0.0, np.nan, d)


def _spence_d2(z):
    u = 1.0 - z
    us = np.where(np.abs(u) < 0.5, u, 0.0)
    d = np.where(np.abs(u) < 0.5, _horner(_SPENCE_DG, us), (1.0 / z + np.log(z) / u) / u)
    return np.where(z < 0.0, np.nan, np.where(z == 0.0, np.inf, d))


# owens_t(h, a) = (1/2pi) int_0^a exp(-h^2 (1+t^2)/2)/(1+t^2) dt:
#   dT/dh = -pdf(h) erf(a h/sqrt2)/2,  dT/da = exp(-h^2 (1+a^2)/2) / (2 pi (1+a^2)).
def _owens_parts(h, a):
    sc = _sc()
    ph = _npdf(h)
    g = _exp_sq(h, -0.5) * _exp_sq(a * h, -0.5) / (2.0 * np.pi)    # exp(-h^2(1+a^2)/2)/2pi
    return sc, ph, g, 1.0 + a * a


def _owens_t_d1(h, a):
    sc, ph, g, q = _owens_parts(h, a)
    return -0.5 * ph * sc.erf(a * h / _SQRT2), g / q


def _owens_t_d2(h, a):
    sc, ph, g, q = _owens_parts(h, a)
    ha = -h * g
    # -a g (h^2 q + 2) / q^2 as -g (a/q)(h^2 + 2/q): q = 1 + a^2 overflows from |a| = 1e154,
    # where the first form is inf/inf (and 0 * inf at h = 0)
    a_q = np.where(np.abs(a) > 1.0, 1.0 / (a + 1.0 / np.where(a == 0.0, 1.0, a)), a / q)
    return ((0.5 * h * ph * sc.erf(a * h / _SQRT2) - a * g, ha),
            (ha, -g * a_q * (h * h + 2.0 / q)))


# sinc(x) = sin(pi x)/(pi x) (numpy's normalised sinc, which scipy.special re-exports).
# sinc' = (cos(pi x) - sinc)/x, sinc'' = -pi^2 sinc - 2 sinc'/x, both 0/0-like at 0: below
# |x| = 1/2 their Taylor series are summed (in u = (pi x)^2, 25 terms reach 2^-60).
_SINC_D1 = [(-1) ** n * 2 * n * math.pi ** (2 * n) / math.factorial(2 * n + 1)
            for n in range(1, 26)]
_SINC_D2 = [(-1) ** n * 2 * n * (2 * n - 1) * math.pi ** (2 * n) / math.factorial(2 * n + 1)
            for n in range(1, 26)]


def _sinc_parts(x):
    small = np.abs(x) < 0.5
    xs = np.where(small, x, 0.0)
    xl = np.where(small, 1.0, x)
    sinpi, cospi = _sinpi_cospi(xl)
    sinc = sinpi / (np.pi * xl)
    d1 = (cospi - sinc) / xl
    d2 = -np.pi ** 2 * sinc - 2.0 * d1 / xl
    return (np.where(small, xs * _horner(_SINC_D1, xs * xs), d1),
            np.where(small, _horner(_SINC_D2, xs * xs), d2))


# -------------------------------------------------------------------------- table

def _cbrt_d1(x):
    c = _sc().cbrt(x)
    return 1.0 / (3.0 * c * c)


_NAN = np.nan
# name in scipy.special -> (d1, d2). digamma and psi are one ufunc: one entry.
_TABLE = {
    "gammaln": _rule(lambda x: _polygamma(0, x), lambda x: _polygamma(1, x)),
    # real loggamma is nan below 0
    "loggamma": _rule(lambda x: np.where(x < 0.0, _NAN, _polygamma(0, x)),
                      lambda x: np.where(x < 0.0, _NAN, _polygamma(1, x))),
    "gamma": _rule(lambda x: _sc().gamma(x) * _polygamma(0, x),
                   # psi^2 and psi' are both positive near the poles: the sum does not cancel
                   lambda x: _sc().gamma(x) * (_polygamma(0, x) ** 2 + _polygamma(1, x))),
    "rgamma": _rule(lambda x: _rgamma_parts(x)[0], lambda x: _rgamma_parts(x)[1]),
    "digamma": _rule(lambda x: _polygamma(1, x), lambda x: _polygamma(2, x)),
    "polygamma": _in_last(2, lambda n, x: _polygamma_up(n, x, 1),
                          lambda n, x: _polygamma_up(n, x, 2)),
    # Hurwitz zeta in q, d/dq zeta(s, q) = -s zeta(s + 1, q) (DLMF 25.11.17); scipy has no
    # derivative in s. Reached through scipy.special.zeta(s, q), which calls the ufunc
    # _ufuncs._zeta (_UFUNC_BEHIND); the Riemann zeta(s) alone has no rule
    "zeta": _in_last(2, lambda s, q: -s * _sc().zeta(s + 1.0, q),
                     lambda s, q: s * (s + 1.0) * _sc().zeta(s + 2.0, q)),
    "gammasgn": _rule(lambda x: np.where(np.isnan(x), _NAN, 0.0),
                      lambda x: np.where(np.isnan(x), _NAN, 0.0)),
    "beta": _rule(_beta_d1, _beta_d2),
    "betaln": _rule(_beta_psi, _betaln_d2),
    "gammainc": _in_last(2, _gamma_density, _gamma_density_d2),
    "gammaincc": _in_last(2, lambda a, x: -_gamma_density(a, x),
                          lambda a, x: -_gamma_density_d2(a, x)),
    "gammaincinv": _gamma_inverse(lambda: _sc().gammaincinv, 1.0),
    "gammainccinv": _gamma_inverse(lambda: _sc().gammainccinv, -1.0),
    "betainc": _in_last(3, _beta_density, _beta_density_d2),
    "betaincc": _in_last(3, lambda a, b, x: -_beta_density(a, b, x),
                         lambda a, b, x: -_beta_density_d2(a, b, x)),
    "betaincinv": _beta_inverse(lambda: _sc().betaincinv, lambda: _sc().betainccinv, 1.0),
    "betainccinv": _beta_inverse(lambda: _sc().betainccinv, lambda: _sc().betaincinv, -1.0),
    "erf": _rule(lambda x: _TWO_OVER_SQRT_PI * _exp_sq(x, -1.0),
                 lambda x: -2.0 * x * _TWO_OVER_SQRT_PI * _exp_sq(x, -1.0)),
    "erfc": _rule(lambda x: -_TWO_OVER_SQRT_PI * _exp_sq(x, -1.0),
                  lambda x: 2.0 * x * _TWO_OVER_SQRT_PI * _exp_sq(x, -1.0)),
    "erfi": _rule(lambda x: _TWO_OVER_SQRT_PI * _exp_sq(x, 1.0),
                  lambda x: 2.0 * x * _TWO_OVER_SQRT_PI * _exp_sq(x, 1.0)),
    "erfcx": _rule(_erfcx_d1, _erfcx_d2),
    "erfinv": _rule(_erfinv_d1, _erfinv_d2),
    "erfcinv": _rule(_erfcinv_d1, _erfcinv_d2),
    "ndtr": _rule(_npdf, lambda x: -x * _npdf(x)),
    "log_ndtr": _rule(_log_ndtr_ratio, _log_ndtr_d2),
    "ndtri": _rule(_ndtri_d1, _ndtri_d2),
    "ndtri_exp": _rule(_ndtri_exp_d1, _ndtri_exp_d2),
    # expit' = s(1-s) as expit(x) expit(-x): 1 - expit(x) would lose digits for x >> 0;
    # expit'' = s(1-s)(1-2s) with 1 - 2s = -tanh(x/2)
    "expit": _rule(lambda x: _sc().expit(x) * _sc().expit(-x),
                   lambda x: -_sc().expit(x) * _sc().expit(-x) * np.tanh(0.5 * x)),
    # 1 - x is exact above 1/2 and 2x - 1 above 1/4 (Sterbenz); below, nothing cancels
    "logit": _rule(lambda x: np.where((x < 0.0) | (x > 1.0), _NAN, 1.0 / (x * (1.0 - x))),
                   lambda x: np.where((x < 0.0) | (x > 1.0), _NAN, np.where(
                       x == 0.0, -np.inf, np.where(x == 1.0, np.inf,
                                                   (2.0 * x - 1.0) / (x * (1.0 - x)) ** 2)))),
    "log_expit": _rule(lambda x: _sc().expit(-x),
                       lambda x: -_sc().expit(x) * _sc().expit(-x)),
    "xlogy": _rule(lambda x, y: (np.log(y), np.where(x == 0.0, 0.0, x / y)),
                   lambda x, y: ((0.0, 1.0 / y),
                                 (1.0 / y, np.where(x == 0.0, 0.0, -x / (y * y))))),
    "xlog1py": _rule(lambda x, y: (np.log1p(y), np.where(x == 0.0, 0.0, x / (1.0 + y))),
                     lambda x, y: ((0.0, 1.0 / (1.0 + y)), (1.0 / (1.0 + y), np.where(
                         x == 0.0, 0.0, -x / ((1.0 + y) * (1.0 + y)))))),
    "entr": _rule(lambda x: np.where(x < 0.0, _NAN, -(np.log(x) + 1.0)),
                  lambda x: np.where(x < 0.0, _NAN, -1.0 / x)),
    "rel_entr": _rule(lambda x, y: _divergence_d1(x, y, False), _divergence_d2),
    "kl_div": _rule(lambda x, y: _divergence_d1(x, y, True), _divergence_d2),
    "huber": _rule(_huber_d1, _huber_d2),
    "pseudo_huber": _rule(_pseudo_huber_d1, _pseudo_huber_d2),
    **{k: _bessel_rule(k[0]) for k in ("jv", "yv", "iv", "kv")},
    # jve, yve scale by exp(-|Im z|): on real arguments they are jv, yv themselves
    "jve": _bessel_rule("j"), "yve": _bessel_rule("y"),
    "ive": _bessel_rule("ie"), "kve": _bessel_rule("ke"),
    **{f"{k}{n}": _bessel_rule(k, float(n)) for k in "jyik" for n in (0, 1)},
    **{f"{k}{n}e": _bessel_rule(k + "e", float(n)) for k in "ik" for n in (0, 1)},
    "exp1": _rule(lambda x: np.where(x < 0.0, _NAN, -np.exp(-x) / x),
                  lambda x: np.where(x < 0.0, _NAN, np.exp(-x) * (x + 1.0) / (x * x))),
    # e^x/x as h (h/x), h = e^(x/2): no overflow while e^x/x itself is finite
    "expi": _rule(lambda x: np.exp(0.5 * x) * (np.exp(0.5 * x) / x),
                  lambda x: np.exp(0.5 * x) * (np.exp(0.5 * x) * (x - 1.0) / (x * x))),
    "expm1": _rule(np.exp, np.exp),
    "log1p": _rule(lambda x: np.where(x < -1.0, _NAN, 1.0 / (1.0 + x)),
                   lambda x: np.where(x < -1.0, _NAN, -1.0 / ((1.0 + x) * (1.0 + x)))),
    "exp2": _rule(lambda x: _LN2 * _sc().exp2(x), lambda x: _LN2 * _LN2 * _sc().exp2(x)),
    "exp10": _rule(lambda x: _LN10 * _sc().exp10(x),
                   lambda x: _LN10 * _LN10 * _sc().exp10(x)),
    "cosm1": _rule(lambda x: -np.sin(x), lambda x: -np.cos(x)),
    "exprel": _rule(lambda x: _exprel_parts(x)[0], lambda x: _exprel_parts(x)[1]),
    "powm1": _rule(_powm1_d1, _powm1_d2),
    "cbrt": _rule(_cbrt_d1, lambda x: -2.0 * _cbrt_d1(x) / (3.0 * x)),
    "spence": _rule(_spence_d1, _spence_d2),
    "owens_t": _rule(_owens_t_d1, _owens_t_d2),
    "sinc": _rule(lambda x: _sinc_parts(x)[0], lambda x: _sinc_parts(x)[1]),
}


def _unwrapped(func):
    # With SCIPY_ARRAY_API=1 scipy.special replaces many ufuncs by Python wrappers that
    # dispatch on the array namespace; the ufunc itself is the wrapper's __wrapped__
    inner = getattr(func, "__wrapped__", None)
    return inner if isinstance(inner, np.ufunc) else func


# Public Python functions of scipy.special whose arguments reach a ufunc unconverted: the
# ufunc gets the rule (zeta(s, q) calls _ufuncs._zeta(s, q); zeta(s) another ufunc)
_UFUNC_BEHIND = {"zeta": "_zeta"}


class _Output:
    """Output j of a scipy.special ufunc of several outputs, as a function of its own: the
    unit the tests and the golden values check ("sici[1]" is Ci)."""

    def __init__(self, ufunc, j):
        self.ufunc, self.j, self.nin = ufunc, j, ufunc.nin

    def __call__(self, *args):
        return self.ufunc(*args)[self.j]


def _pick(rule, j):
    return lambda *args: rule(*args)[j]


def multi_rules():
    """{name: (ufunc, d1, d2)} for the ufuncs of several outputs
    (dualdiff/_jvp/special_outputs.py) this scipy has ({} without scipy)."""
    try:
        sc = _sc()
    except ImportError:
        return {}
    from dualdiff._jvp.special_outputs import TABLE as outputs
    return {name: (_unwrapped(getattr(sc, name)), d1, d2)
            for name, (d1, d2) in outputs.items() if hasattr(sc, name)}


def named_rules():
    """{name: (func, d1, d2)} for every function of the table this scipy has ({} without
    scipy); each output of a ufunc of several outputs as "name[j]"."""
    try:
        sc = _sc()
    except ImportError:
        return {}
    from dualdiff._jvp.special_families import TABLE as families

    def func(name):
        behind = getattr(getattr(sc, "_ufuncs", None), _UFUNC_BEHIND.get(name, ""), None)
        return behind if isinstance(behind, np.ufunc) else _unwrapped(getattr(sc, name))
    table = {name: (func(name), d1, d2)
             for name, (d1, d2) in {**_TABLE, **families}.items() if hasattr(sc, name)}
    for name, (ufunc, d1, d2) in multi_rules().items():
        for j in range(ufunc.nout):
            table[f"{name}[{j}]"] = (_Output(ufunc, j), _pick(d1, j), _pick(d2, j))
    return table


def rules():
    """(func, d1, d2) triples for dd.register_elementwise, one per scipy.special function
    ([] when scipy is not installed)."""
    return list(named_rules().values())


_REGISTERED = False


def register():
    """Register every rule of the table (once); False when scipy is not installed."""
    global _REGISTERED
    if _REGISTERED:
        return True
    from dualdiff.custom import register_elementwise
    table = named_rules()
    if not table:
        return False
    _REGISTERED = True
    for name, (func, d1, d2) in table.items():
        if isinstance(func, np.ufunc):
            register_elementwise(func, d1, d2)
    for name, (ufunc, d1, d2) in multi_rules().items():
        register_elementwise(ufunc, d1, d2)
    return True
