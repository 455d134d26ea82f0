"""Numerically careful helpers of the scipy.special derivative table (dualdiff/_jvp/special.py):
exact squares, continued fractions, Stirling series, densities and polygamma forms, each with
the reason it is needed. Vectorised over whole arrays; scipy is imported on first use."""
import functools
import math

import numpy as np

_SQRT_PI = math.sqrt(math.pi)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_SQRT_PI_OVER_2 = math.sqrt(math.pi / 2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_SQRT2 = math.sqrt(2.0)
_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


def _sc():
    import scipy.special
    return scipy.special


def _shaped(out, shape):
    if out is None:
        return None
    if isinstance(out, tuple):
        return tuple(_shaped(o, shape) for o in out)
    out = np.array(np.broadcast_to(np.asarray(out, dtype=float), shape))
    return out[()] if out.ndim == 0 else out


def _vectorised(fn):
    """Float64 arrays in; every partial broadcast to the arguments' common shape (a numpy
    scalar for scalar input). Floating-point warnings are silenced: both sides of each
    np.where are evaluated, and the discarded side may overflow or divide by zero; the
    value of the function itself (computed by the caller) keeps numpy's warnings."""
    @functools.wraps(fn)
    def rule(*args):
        args = [np.asarray(a, dtype=float) for a in args]
        shape = np.broadcast_shapes(*(a.shape for a in args))
        with np.errstate(all="ignore"):
            return _shaped(fn(*args), shape)
    return rule


# ----------------------------------------------------------------------------- helpers

def _exp_sq(x, c):
    """exp(c x^2) for c in {1, -1, 1/2, -1/2}. Rounding x*x would cost a relative error of
    about c x^2 * 2^-53 (1.5e-13 at x = 38); Dekker's split gives x^2 = hi + lo exactly,
    and exp(c hi) exp(c lo) is accurate to a few ulps."""
    # |c| x^2 > 1400: e^(c x^2) is 0 or inf whatever lo, and e^(c lo) may be the other one
    # (x = 1e10: e^-hi = 0 but e^-lo = inf, 0 * inf = NaN in erf's derivative, fuzz 4040-426);
    # beyond 1e150 x^2 overflows and the split would too
    big = np.abs(x) > np.sqrt(1400.0 / abs(c))
    xs = np.where(big, 0.0, x)
    xh, xl = _split(xs)
    hi = xs * xs
    lo = ((xh * xh - hi) + 2.0 * xh * xl) + xl * xl
    return np.where(big, np.exp(c * (x * x)), np.exp(c * hi) * np.exp(c * lo))


_CF_FROM = 1.0


def _cf_erfc(z, first):
    """T_first(z) = (first/2) / (z + T_{first+1}(z)), the tail of Laplace's continued
    fraction sqrt(pi) erfcx(z) = 1 / (z + T_1(z)), for z >= 1. Its convergence slows as z
    falls: 80 terms reach 1 ulp for z >= 2, 300 for z >= 1."""
    terms = 80 if np.min(z, initial=np.inf) >= 2.0 else 300
    t = np.zeros_like(z)
    for n in range(first + terms, first - 1, -1):
        t = (0.5 * n) / (z + t)
    return t


def _erfcx_gap(z):
    """T_1(z) = 1/(sqrt(pi) erfcx(z)) - z, about 1/(2z) for large z. Written as that
    difference it cancels (ln(2 z^2) digits lost); the continued fraction does not. Below
    z = 1 the difference loses at most one digit."""
    sc = _sc()
    zz = np.where(z >= _CF_FROM, z, _CF_FROM)
    return np.where(z >= _CF_FROM, _cf_erfc(zz, 1), 1.0 / (_SQRT_PI * sc.erfcx(z)) - z)


def _sinpi_cospi(x):
    """sin(pi x), cos(pi x) with exact argument reduction (x - round(x) is exact), so they
    stay accurate near the integers where pi*x would lose the small remainder. The cosine
    is sin(pi (1/2 - |h|)), exactly 0 at the half-integers, where cos(pi/2) is not."""
    n = np.round(x)
    h = x - n
    sign = np.where(np.fmod(n, 2.0) == 0.0, 1.0, -1.0)
    return sign * np.sin(np.pi * h), sign * np.sin(np.pi * (0.5 - np.abs(h)))


def _log1pmx(t):
    """log(1 + t) - t. Below |t| = 1/2 the difference cancels (2/|t| ulps); there the
    Taylor series is summed instead (60 terms reach 2^-60)."""
    small = np.abs(t) < 0.5
    ts = np.where(small, t, 0.0)
    acc = np.zeros_like(ts)
    for n in range(61, 1, -1):
        acc = (1.0 if n % 2 else -1.0) / n + ts * acc
    return np.where(small, ts * ts * acc, np.log1p(t) - t)


# Stirling: lgamma(a + 1) = (a + 1/2) log a - a + log(2 pi)/2 + R(a), R(a) = sum of
# B_2k / (2k (2k - 1) a^(2k-1)); eight terms are exact to 2^-53 for a >= 10.
_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156,
             -3617 / 122400)


def _stirling_r(a):
    inv2 = 1.0 / (a * a)
    acc = np.zeros_like(a)
    for c in reversed(_STIRLING):
        acc = c + inv2 * acc
    return acc / a


def _gamma_density(a, x):
    """x^(a-1) e^-x / Gamma(a), the x-derivative of gammainc. Where the three factors are
    normal numbers their product is accurate to a few ulps. Elsewhere, for a >= 10, logs of
    the factors would cancel (a = x = 1e6: terms of 1e7 for a result of O(1), 9 digits
    lost); instead
    x^a e^-x / Gamma(a+1) = exp(a log1pmx((x-a)/a) - R(a)) / sqrt(2 pi a), whose only
    large term a*log1pmx is as well conditioned as the density itself."""
    sc = _sc()
    factors = (x ** (a - 1.0), np.exp(-x), sc.rgamma(a))
    direct = factors[0] * factors[1] * factors[2]
    ok = _normal(direct, *factors) | ((x == 0.0) & np.isfinite(direct))
    logform = np.exp(sc.xlogy(a - 1.0, x) - x - sc.gammaln(a))
    ab = np.maximum(a, 10.0)
    t = (x - ab) / ab
    big = ab / x * np.exp(ab * _log1pmx(t) - _stirling_r(ab)) / np.sqrt(2.0 * np.pi * ab)
    big = np.where(x == 0.0, 0.0, np.where(np.isinf(x), 0.0, big))
    out = np.where(ok, direct, np.where(a >= 10.0, big, logform))
    return np.where((a < 0.0) | (x < 0.0), np.nan, out)


def _normal(*arrays):
    """True where every array holds a finite normal (not subnormal, not 0) number."""
    ok = True
    for v in arrays:
        ok = ok & np.isfinite(v) & (np.abs(v) >= 2.2250738585072014e-308)
    return ok


def _split(x):
    """Dekker: x = hi + lo with 26-bit halves, so products of halves are exact."""
    t = 134217729.0 * x                     # 2^27 + 1
    hi = t - (t - x)
    return hi, x - hi


def _mode_offset(a, b, x):
    """x (a + b) - a to a few ulps, though a + b and x (a + b) are each rounded: a + b as
    an exact two-sum s + e, x s as an exact two-product. Near the mode of the beta
    density the plain x*(a+b) - a would keep only the rounding errors of its terms."""
    s = a + b
    bb = s - a
    e = (a - (s - bb)) + (b - bb)
    p = x * s
    xh, xl = _split(x)
    sh, sl = _split(s)
    perr = ((xh * sh - p) + xh * sl + xl * sh) + xl * sl
    return ((p - a) + perr) + x * e


def _beta_density(a, b, x, xc=None):
    """x^(a-1) (1-x)^(b-1) / B(a, b), the x-derivative of betainc; xc = 1 - x if known more
    exactly than by subtraction (for the inverse functions near x = 1). Small a or b:
    powers, x^(a-1) by pow; (1-x)^(b-1) by pow of xc, else through log1p(-x) for x < 1/2,
    which keeps tiny x exact. Both >= 10: Stirling's form around the mode p = a/(a+b),
    a log1pmx((x-p)/p) + b log1pmx((p-x)/(1-p)) + log(sqrt(ab/(2 pi (a+b))) / (x(1-x)))
    + R(a+b) - R(a) - R(b), which avoids the cancelling logs of size a + b."""
    sc = _sc()
    exact_c = xc is not None
    xc = (1.0 - x) if xc is None else xc
    if exact_c:
        pw_b = xc ** (b - 1.0)
    else:
        pw_b = np.where(x >= 0.5, xc ** (b - 1.0), np.exp((b - 1.0) * np.log1p(-x)))
    factors = (x ** (a - 1.0), pw_b, _beta(a, b))
    direct = factors[0] * factors[1] / factors[2]
    # for a, b >= 10 Stirling's form below is the more accurate (the powers then carry
    # exponents of size a + b, and so does scipy's beta)
    ok = ((_normal(direct, *factors) & ((a < 10.0) | (b < 10.0)))
          | (((x == 0.0) | (xc == 0.0)) & np.isfinite(direct)))
    logform = np.exp(sc.xlogy(a - 1.0, x) + sc.xlogy(b - 1.0, xc) - sc.betaln(a, b))
    ab, bb = np.maximum(a, 10.0), np.maximum(b, 10.0)
    s = ab + bb
    off = _mode_offset(ab, bb, x)           # (x - p)(a + b)
    e = ab * _log1pmx(off / ab) + bb * _log1pmx(-off / bb)
    pref = np.sqrt(ab * bb / s / (2.0 * np.pi)) / (x * xc)
    big = np.exp(e + (_stirling_r(s) - _stirling_r(ab) - _stirling_r(bb))) * pref
    big = np.where((x == 0.0) | (xc == 0.0), 0.0, big)
    out = np.where(ok, direct, np.where((a >= 10.0) & (b >= 10.0), big, logform))
    return np.where((a <= 0.0) | (b <= 0.0) | (x < 0.0) | (x > 1.0), np.nan, out)


def _lgamma_shift(a, b):
    """lgamma(a + b) - lgamma(a) for a >= 10, a + b >= 10, as the difference of Stirling's
    series lgamma(z) = (z - 1/2) log z - z + log(2 pi)/2 + R(z) taken term by term:
    (a - 1/2) log1p(b/a) + b (log(a+b) - 1) + R(a+b) - R(a); no term cancels."""
    return ((a - 0.5) * np.log1p(b / a) + b * (np.log(a + b) - 1.0)
            + (_stirling_r(a + b) - _stirling_r(a)))


def _beta(a, b):
    """B(a, b). scipy's beta(1e6, 1e-3) is 1e-10 off (a difference of lgammas of 1e7);
    for a small argument against one >= 10, Gamma(small) exp(-(lgamma(big + small) -
    lgamma(big))) with the difference from Stirling's series is accurate."""
    sc = _sc()
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    use = (hi >= 10.0) & (lo > 0.0) & (lo < 1.0)
    hs, ls = np.where(use, hi, 10.0), np.where(use, lo, 0.5)
    return np.where(use, sc.gamma(ls) * np.exp(-_lgamma_shift(hs, ls)), sc.beta(a, b))


def _asym_start(v):
    """Where Hankel's expansion of the scaled Bessel functions reaches 2^-53 before it
    diverges: for x >= v^2 its terms a_k x^-k shrink from the start, and the smallest is
    about exp(-2x), below 2^-53 from x = 20 on."""
    return np.maximum(20.0, v * v)


def _scaled_bessel_asym(kind, v, x, m):
    """m-th x-derivative (m = 1, 2) of e^-x I_v(x) (kind "i") or e^x K_v(x) (kind "k") from
    Hankel's expansion (2 pi x)^-1/2 sum (-1)^k a_k(v) x^-k, resp. (pi/2x)^1/2 sum a_k x^-k,
    differentiated term by term. The recurrences used elsewhere cancel here: e^-x (I' - I)
    is O(I/x), a loss of log10(2x) digits, and the second derivative loses log10(x^2)."""
    mu = 4.0 * v * v
    s = -1.0 if kind == "i" else 1.0
    inv = 1.0 / x
    ak = np.ones_like(x)
    xpow = np.ones_like(x)
    total = np.zeros_like(x)
    prev = np.full_like(x, np.inf)
    alive = np.ones(x.shape, dtype=bool)
    for k in range(100):
        pk = (k + 0.5) if m == 1 else (k + 0.5) * (k + 1.5)
        # summed while the terms of the expansion itself shrink (the polynomial factors of
        # the derivative make the first few grow, which is no sign of divergence)
        mag = np.abs(ak * xpow)
        alive &= mag <= prev
        total = total + np.where(alive, s ** k * ak * pk * xpow, 0.0)
        prev = mag
        ak = ak * (mu - (2 * k + 1) ** 2) / (8.0 * (k + 1))
        xpow = xpow * inv
    c = 1.0 / _SQRT_2PI if kind == "i" else _SQRT_PI_OVER_2
    return c * (-1.0) ** m * x ** (-0.5 - m) * total


def _psi_shift(m, x, d):
    """psi^(m)(x + d) - psi^(m)(x), m = 0 or 1, for x > 0 and x + d > 0. The plain difference
    cancels when |d| << x (beta(1e6, 1e-3): 10 digits). Recurrence terms are summed exactly
    (each d / ((x+j)(x+d+j)) keeps its sign) until both arguments pass 10, then the
    asymptotic series is differenced term by term through log1p/expm1."""
    sc = _sc()
    valid = (x > 0.0) & (x + d > 0.0)
    # valid arguments need at most 10 steps; others take the plain difference below
    shift = np.where(valid, np.clip(np.ceil(10.0 - np.minimum(x, x + d)), 0.0, 10.0), 0.0)
    acc = np.zeros(np.broadcast(x, d).shape)
    for j in range(int(np.max(shift, initial=0.0))):
        p, q = x + j, x + d + j
        term = d / (p * q) if m == 0 else -d * (p + q) / (p * p * q * q)
        acc = acc + np.where(j < shift, term, 0.0)
    y = x + shift
    r = np.log1p(d / y)
    if m == 0:
        # psi(y) = log y - 1/(2y) - sum B_2k / (2k y^2k)
        out = r + 0.5 * d / (y * (y + d))
        for k, c in enumerate((1 / 12, -1 / 120, 1 / 252, -1 / 240, 1 / 132, -691 / 32760,
                               1 / 12), start=1):
            out = out - c * y ** (-2 * k) * np.expm1(-2 * k * r)
    else:
        # psi'(y) = 1/y + 1/(2 y^2) + sum B_2k / y^(2k+1)
        out = -d / (y * (y + d)) + 0.5 * y ** -2 * np.expm1(-2 * r)
        for k, c in enumerate((1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730,
                               7 / 6), start=1):
            out = out + c * y ** (-2 * k - 1) * np.expm1(-(2 * k + 1) * r)
    careful = acc + out
    plain = _polygamma(m, x + d) - _polygamma(m, x)
    return np.where(valid, careful, plain)


def _polygamma(n, x):
    """psi^(n)(x), n = 0, 1, 2; below 0 by reflection from 1 - x > 1 with an exactly
    reduced sin/cos(pi x): scipy's own values there are off by up to 60 ulps."""
    sc = _sc()
    # scipy's own value only where it is used: its zeta(n + 1, x) loops about |x| times
    # below 0 (22 s at x = -1e9; a hang at -1e300)
    plain = sc.polygamma(n, np.where(x < 0.0, 1.0, x))
    u = np.where(x < 0.0, 1.0 - x, 1.0)
    sinpi, cospi = _sinpi_cospi(x)
    if n == 0:
        refl = sc.digamma(u) - np.pi * cospi / sinpi
    elif n == 1:
        refl = (np.pi / sinpi) ** 2 - sc.polygamma(1, u)
    else:
        refl = sc.polygamma(2, u) - 2.0 * np.pi ** 3 * cospi / sinpi ** 3
    return np.where(x < 0.0, refl, plain)


def _trigamma(x):
    return _polygamma(1, x)
