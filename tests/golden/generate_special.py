"""Generate ``special.json``: mpmath oracle values for the scipy.special derivative rules.

For every function of dualdiff/_jvp/special.py's table, at fixed float64 points, this
records the value f, the first partials d1 and the Hessian d2 with respect to the
differentiable arguments (the others, e.g. the order v of jv, are held fixed).

How the values are obtained
---------------------------
* Each function is written independently in mpmath (``mpmath.besselj``, ``mpmath.betainc``,
  ``mpmath.polylog``, a root of ``mpmath.erfc`` for erfcinv, a quadrature for owens_t, ...),
  never through the formulas the rules use.
* Derivatives are ``mpmath.diff`` central differences of that function at the exact float64
  point (``mpmath.mpf(x)`` is exact), with an explicit step h = |x| 2^-180 per argument: mpmath
  then evaluates f at (prec + 20)(n + 1) bits, so the truncation error O(h^2) and the
  rounding error O(2^-prec / h^n) are both far below 50 significant digits. Mixed partials
  are nested univariate diffs, one step per argument (the arguments differ in scale).
* Self-checks, each aborting the run: every derivative is recomputed with a step 2^-20 times
  smaller and must agree to 1e-30 relative (a non-smooth or inaccurately evaluated mpmath
  function fails this); the mpmath value must match scipy's own value to 1e-9 relative
  (catches a wrong definition, e.g. spence's convention); every value must be finite and
  representable as a normal float64.

Regenerate (deterministic: a rerun reproduces the file byte for byte; 3-5 minutes):
``python tests/golden/generate_special.py`` rewrites ``special.json`` next to itself;
``python tests/golden/generate_special.py NAME ...`` regenerates the named functions only.
Edit points in ``CASES`` below.
"""
import json
import os
import sys

import mpmath as mp
import scipy.special as sc

DIGITS = 50
mp.mp.dps = DIGITS
SELF_TOL = mp.mpf("1e-30")
STEP_BITS = 180


class OracleError(RuntimeError):
    pass


# ------------------------------------------------------------- mpmath definitions

def _root(g, target_log, y0):
    """y with log g(y) = target_log, from scipy's float guess y0 (secant at the working
    precision; the log keeps tails like erfc(26) ~ 1e-296 well scaled)."""
    y0 = mp.mpf(y0)
    y1 = y0 * (1 + mp.mpf("1e-9")) if y0 != 0 else mp.mpf("1e-9")
    return mp.findroot(lambda y: mp.log(g(y)) - target_log, (y0, y1))


def _erfinv(x):
    return mp.erfinv(x)


def _erfcinv(x):
    guess = sc.erfcinv(float(x))
    if x <= 1:
        return _root(mp.erfc, mp.log(x), guess)
    return -_root(mp.erfc, mp.log(2 - x), -guess)        # erfc(-y) = 2 - x


def _ndtri_from(p_tail, upper, guess):
    """ndtri given the tail probability min(p, 1-p) (passed exactly)."""
    if upper:
        return -_root(mp.ncdf, mp.log(p_tail), -guess)
    return _root(mp.ncdf, mp.log(p_tail), guess)


def _ndtri(p):
    guess = sc.ndtri(float(p))
    return _ndtri_from(1 - p, True, guess) if p > 0.5 else _ndtri_from(p, False, guess)


def _ndtri_exp(y):
    guess = sc.ndtri_exp(float(y))
    p = mp.exp(y)
    return _ndtri_from(-mp.expm1(y), True, guess) if p > 0.5 else _ndtri_from(p, False, guess)


def _log_ndtr(x):
    return mp.log(mp.ncdf(x)) if x < 0 else mp.log1p(-mp.ncdf(-x))


def _lower_series(a, x):
    """P(a, x) = x^a e^-x sum_k x^k / Gamma(a + k + 1): all terms positive, summed until
    they pass below the working precision."""
    term = 1 / mp.gamma(a + 1)
    total, k = term, 0
    while k < x or term > total * mp.ldexp(1, -mp.mp.prec - 10):
        term *= x / (a + k + 1)
        total += term
        k += 1
    return x ** a * mp.exp(-x) * total


def _gammainc(a, x):
    # mpmath's gammainc at an integer a goes through hypercomb's perturbation of the
    # degenerate parameters and is accurate to far fewer bits than the working precision
    # (second differences at h = 2^-180 come out 0); the plain series has no such case
    if a == int(a):
        return _lower_series(a, x)
    return mp.gammainc(a, 0, x, regularized=True)


def _gammaincc(a, x):
    if a == int(a):
        return 1 - _lower_series(a, x)
    return mp.gammainc(a, x, mp.inf, regularized=True)


def _betainc(a, b, x):
    return mp.betainc(a, b, 0, x, regularized=True)


def _betaincc(a, b, x):
    return mp.betainc(a, b, x, 1, regularized=True)


def _inverse(fn, scipy_inv):
    def inv(*args):
        *params, y = args
        guess = scipy_inv(*[float(p) for p in params], float(y))
        return _root(lambda x: fn(*params, x), mp.log(y), guess)
    return inv


def _amplitude(u, m):
    """Jacobi's amplitude am(u|m): the phi with F(phi|m) = u, from scipy's float guess."""
    return mp.findroot(lambda p: mp.ellipf(p, m) - u, mp.mpf(sc.ellipj(float(u), float(m))[3]))


def _scipy(name, point):
    """scipy's own value; "name[j]" is output j of a ufunc of several outputs."""
    base, _, j = name.partition("[")
    value = getattr(sc, base)(*point)
    return value[int(j[:-1])] if j else value


def _huber(d, r):
    return r * r / 2 if abs(r) <= d else d * (abs(r) - d / 2)


def _owens_t(h, a):
    return mp.quad(lambda t: mp.exp(-h * h * (1 + t * t) / 2) / (1 + t * t), [0, a]) / (2 * mp.pi)


def _exprel(x):
    return mp.expm1(x) / x if x != 0 else mp.mpf(1)


def _cbrt(x):
    return mp.sign(x) * mp.cbrt(abs(x))


def _student_t(df, t):
    tail = mp.betainc(df / 2, mp.mpf(1) / 2, 0, df / (df + t * t), regularized=True) / 2
    return 1 - tail if t > 0 else tail


# name -> (mpmath function, which arguments are differentiable, points)
CASES = {
    "gammaln": (lambda x: mp.re(mp.loggamma(x)), [0],
                [-10.7, -2.5, -0.3, 1e-8, 0.3, 2.5, 30.0, 1000.0, 1e10, 1e100]),
    "loggamma": (lambda x: mp.loggamma(x), [0], [1e-5, 0.5, 3.7, 1e5]),
    "gamma": (mp.gamma, [0], [-3.7, -0.5, 1e-5, 0.5, 2.5, 10.1, 100.5, 170.5]),
    "rgamma": (mp.rgamma, [0], [-5.0, -4.999999, -2.5, -1.0, -1e-9, 0.0, 1e-8, 0.2, 0.45, 0.7,
                                3.3, 50.5, 150.0]),
    "digamma": (mp.digamma, [0], [-2.5, -0.7, 1e-6, 0.5, 1.0, 7.3, 1e4, 1e50]),
    "polygamma": (lambda n, x: mp.polygamma(int(n), x), [1],
                  [(1, 0.1), (1, 2.5), (1, 40.0), (1, -1.5), (2, 0.7), (2, 10.0), (3, 1.3)]),
    "zeta": (lambda s, q: mp.zeta(s, q), [1],
             [(2.0, 0.5), (2.0, 3.7), (3.5, 1.2), (1.5, 100.0), (6.0, 0.05),
              (4.0, -1.5), (1.1, 1e5)]),
    "gammasgn": (lambda x: mp.sign(mp.gamma(x)), [0], [-2.5, -0.5, 1.5]),
    "beta": (mp.beta, [0, 1], [(0.5, 0.5), (2.5, 3.5), (1e6, 1e-3), (1e-3, 1e6), (30.0, 40.0),
                               (1.0, 0.01), (-0.5, 2.3)]),
    "betaln": (lambda a, b: mp.log(abs(mp.beta(a, b))), [0, 1],
               [(0.5, 0.5), (2.5, 3.5), (1e6, 1e-3), (1e10, 3.0), (30.0, 40.0),
                (200.0, 1e-5)]),
    "gammainc": (_gammainc, [1], [(0.5, 0.1), (0.5, 3.0), (3.0, 2.0), (1e-3, 1e-5),
                                  (10.0, 1.0), (10.0, 10.0), (50.0, 45.0), (1e4, 1e4 + 50),
                                  (1e6, 1e6 - 1e3), (2.5, 600.0), (9.5, 30.0)]),
    "gammaincc": (_gammaincc, [1], [(0.5, 0.1), (3.0, 2.0), (10.0, 10.0), (1e4, 1e4 + 50),
                                    (2.5, 600.0)]),
    "gammaincinv": (_inverse(_gammainc, sc.gammaincinv), [1],
                    [(2.0, 0.3), (0.5, 0.9), (50.0, 0.5), (1e4, 1e-10), (3.0, 1e-30)]),
    "gammainccinv": (_inverse(_gammaincc, sc.gammainccinv), [1],
                     [(2.0, 0.3), (10.0, 1e-20), (0.5, 0.5), (300.0, 0.9)]),
    "betainc": (_betainc, [2], [(2.0, 3.0, 0.4), (0.5, 0.5, 0.1), (0.5, 5.0, 1e-10),
                                (20.0, 30.0, 0.4), (200.0, 300.0, 0.41),
                                (1000.0, 1500.0, 0.38), (5.0, 500.0, 0.01),
                                (1.0, 1.0, 0.5), (3.0, 0.5, 0.999), (12.0, 2.5, 0.8)]),
    "betaincc": (_betaincc, [2], [(2.0, 3.0, 0.4), (20.0, 30.0, 0.4), (5.0, 500.0, 0.01)]),
    "betaincinv": (_inverse(_betainc, sc.betaincinv), [2],
                   [(2.0, 3.0, 0.4), (20.0, 30.0, 0.1), (0.5, 0.5, 0.99)]),
    "betainccinv": (_inverse(_betaincc, sc.betainccinv), [2],
                    [(2.0, 3.0, 0.4), (20.0, 30.0, 0.1), (5.0, 0.7, 1e-5)]),
    "erf": (mp.erf, [0], [-3.0, -1e-8, 0.5, 2.0, 5.9, 26.0]),
    "erfc": (mp.erfc, [0], [-2.0, 0.1, 3.0, 10.0, 26.5]),
    "erfi": (mp.erfi, [0], [-3.0, 0.2, 5.0, 26.0]),
    "erfcx": (lambda x: mp.exp(x * x) * mp.erfc(x), [0],
              [-5.0, -0.5, 0.0, 0.5, 1.9, 2.0, 2.1, 10.0, 1000.0, 1e8, 1e12]),
    "erfinv": (_erfinv, [0], [-0.999, -0.3, 1e-10, 0.5, 0.9, 0.999999, 1 - 2.0 ** -50]),
    "erfcinv": (_erfcinv, [0], [1e-150, 1e-20, 0.01, 0.5, 1.0, 1.3, 1.9, 2 - 2.0 ** -40]),
    "ndtr": (mp.ncdf, [0], [-37.0, -5.0, -0.5, 1e-3, 1.5, 8.0]),
    "log_ndtr": (_log_ndtr, [0], [-1e5, -40.0, -5.0, -1.0, 0.0, 2.0, 10.0, 37.0]),
    "ndtri": (_ndtri, [0], [1e-140, 1e-10, 0.02, 0.5, 0.7, 0.999, 1 - 2.0 ** -45]),
    "ndtri_exp": (_ndtri_exp, [0], [-1e4, -100.0, -5.0, -0.7, -0.3, -1e-5]),
    "expit": (lambda x: 1 / (1 + mp.exp(-x)), [0], [-700.0, -40.0, -3.0, 0.5, 20.0, 700.0]),
    "logit": (lambda x: mp.log(x / (1 - x)), [0],
              [1e-100, 1e-5, 0.3, 0.75, 0.99999, 1 - 2.0 ** -40]),
    "log_expit": (lambda x: -mp.log1p(mp.exp(-x)), [0],
                  [-700.0, -30.0, -1.0, 0.0, 2.0, 40.0, 700.0]),
    "xlogy": (lambda x, y: x * mp.log(y), [0, 1],
              [(2.0, 3.0), (0.5, 1e-100), (-3.0, 0.5), (1e10, 1e-10), (0.0, 2.0)]),
    "xlog1py": (lambda x, y: x * mp.log1p(y), [0, 1],
                [(2.0, 3.0), (1.5, -0.5), (3.0, 1e-10), (0.0, 0.5), (-2.0, 1e5)]),
    "entr": (lambda x: -x * mp.log(x), [0], [1e-300, 1e-5, 0.2, 1.0, 7.0, 1e100]),
    "rel_entr": (lambda x, y: x * mp.log(x / y), [0, 1],
                 [(1.0, 2.0), (0.5, 0.5000001), (3.0, 1e-5), (1e-100, 1e100), (2.0, 2.0)]),
    "kl_div": (lambda x, y: x * mp.log(x / y) - x + y, [0, 1],
               [(1.0, 2.0), (0.5, 0.5000001), (3.0, 1e-5), (1e-100, 1e-90), (2.5, 2.0)]),
    "huber": (_huber, [0, 1], [(1.0, 0.5), (1.0, -3.0), (2.0, 5.0), (0.5, -0.2)]),
    "pseudo_huber": (lambda d, r: r * r / (mp.sqrt(1 + (r / d) ** 2) + 1), [0, 1],
                     [(1.0, 0.5), (1.0, -3.0), (2.0, 1e-5), (0.5, 100.0), (1e-3, 1e3)]),
    "jv": (mp.besselj, [1], [(0.0, 0.5), (0.0, 30.3), (1.0, 2.2), (2.5, 7.1), (0.3, 0.01),
                             (10.0, 15.0), (0.0, 10000.3), (2.0, -3.3)]),
    "yv": (mp.bessely, [1], [(0.0, 0.5), (1.0, 3.3), (2.5, 10.1), (0.3, 0.01), (5.0, 50.5)]),
    "jve": (mp.besselj, [1], [(0.0, 0.5), (1.0, 2.2), (2.5, 7.1), (10.0, 15.0)]),
    "yve": (mp.bessely, [1], [(0.0, 0.5), (1.0, 3.3), (2.5, 10.1)]),
    "iv": (mp.besseli, [1], [(0.0, 0.5), (0.0, 30.0), (1.0, 1e-5), (2.5, 7.0), (0.3, 0.2),
                             (3.0, 200.0), (1.0, -2.5), (0.7, 1e-3)]),
    "ive": (lambda v, x: mp.besseli(v, x) * mp.exp(-abs(x)), [1],
            [(0.0, 0.5), (0.0, 20.0), (0.0, 24.9), (0.0, 30.0), (0.0, 1000.0), (0.0, 1e6),
             (1.0, 5.0), (1.0, 50.0), (2.5, 100.0), (3.0, -40.0), (0.3, 0.2), (4.0, 31.0)]),
    "kv": (mp.besselk, [1], [(0.0, 0.01), (0.0, 3.0), (1.0, 0.5), (2.5, 20.0), (0.3, 100.0)]),
    "kve": (lambda v, x: mp.besselk(v, x) * mp.exp(x), [1],
            [(0.0, 0.01), (0.0, 3.0), (0.0, 24.0), (0.0, 30.0), (1.0, 1000.0), (2.5, 20.0),
             (0.3, 1e5), (5.0, 60.0)]),
    "j0": (lambda x: mp.besselj(0, x), [0], [0.1, 3.0, 50.7]),
    "j1": (lambda x: mp.besselj(1, x), [0], [1e-3, 2.5, 40.1]),
    "y0": (lambda x: mp.bessely(0, x), [0], [0.1, 2.5, 40.1]),
    "y1": (lambda x: mp.bessely(1, x), [0], [0.01, 3.0, 50.3]),
    "i0": (lambda x: mp.besseli(0, x), [0], [1e-3, 2.0, 50.0, -7.0]),
    "i1": (lambda x: mp.besseli(1, x), [0], [1e-6, 0.3, 20.0, -3.0]),
    "i0e": (lambda x: mp.besseli(0, x) * mp.exp(-abs(x)), [0], [0.5, -3.0, 20.0, 60.0, 1e4]),
    "i1e": (lambda x: mp.besseli(1, x) * mp.exp(-abs(x)), [0], [0.3, -3.0, 20.0, 60.0, 1e4]),
    "k0": (lambda x: mp.besselk(0, x), [0], [1e-3, 1.0, 30.0]),
    "k1": (lambda x: mp.besselk(1, x), [0], [1e-3, 1.0, 30.0]),
    "k0e": (lambda x: mp.besselk(0, x) * mp.exp(x), [0], [1e-3, 1.0, 20.0, 100.0, 1e5]),
    "k1e": (lambda x: mp.besselk(1, x) * mp.exp(x), [0], [1e-3, 1.0, 20.0, 100.0, 1e5]),
    "exp1": (mp.e1, [0], [1e-10, 0.5, 3.0, 50.0, 700.0]),
    "expi": (mp.ei, [0], [-50.0, -1.0, 1e-8, 0.5, 5.0, 700.0]),
    "expm1": (mp.expm1, [0], [-40.0, -1e-10, 0.5, 700.0]),
    "log1p": (mp.log1p, [0], [-0.999, -1e-10, 0.5, 1e10]),
    "exp2": (lambda x: mp.power(2, x), [0], [-1000.0, -1.5, 0.3, 1000.0]),
    "exp10": (lambda x: mp.power(10, x), [0], [-300.0, -0.5, 2.2, 300.0]),
    "cosm1": (lambda x: mp.cos(x) - 1, [0], [1e-8, 0.5, 3.0, 100.0]),
    "exprel": (_exprel, [0], [-800.0, -50.0, -2.5, -2.0, -1.99, -0.5, -1e-8, 0.0, 1e-8, 0.7,
                              1.99, 2.0, 3.0, 50.0, 700.0]),
    "powm1": (lambda x, y: mp.power(x, y) - 1, [0, 1],
              [(2.0, 3.0), (0.5, 1e-10), (1.000001, 2.5), (10.0, -2.0), (3.5, 0.7)]),
    "cbrt": (_cbrt, [0], [-8.0, -1e-5, 0.3, 1e10]),
    "spence": (lambda z: mp.polylog(2, 1 - z), [0],
               [1e-10, 0.3, 0.5, 0.75, 0.999999, 1.0, 1.000001, 1.4, 1.6, 3.0, 1e5]),
    "owens_t": (_owens_t, [0, 1], [(0.5, 0.3), (1.5, 2.0), (-1.0, 0.7), (3.0, 10.0)]),
    "sinc": (mp.sincpi, [0], [-3.3, -0.7, -1e-5, 0.2, 0.49, 0.5, 1.5, 100.25, 1e6 + 0.25]),
    # ---- families (dualdiff/_jvp/special_families.py)
    "stdtr": (_student_t, [1], [(1.0, -3.0), (3.5, 0.3), (10.0, 2.0), (1e5, -1.5)]),
    "stdtrit": (_inverse(_student_t, sc.stdtrit), [1],
                [(1.0, 0.02), (3.5, 0.3), (10.0, 0.9), (30.0, 0.999), (2.0, 1e-10)]),
    "chdtri": (_inverse(lambda v, x: _gammaincc(v / 2, x / 2), sc.chdtri), [1],
               [(1.0, 0.9), (3.0, 0.4), (10.0, 0.05), (25.0, 1e-8), (4.0, 0.999)]),
    "chdtr": (lambda v, x: _gammainc(v / 2, x / 2), [1], [(1.0, 0.3), (3.0, 2.0), (20.0, 25.0)]),
    "chdtrc": (lambda v, x: _gammaincc(v / 2, x / 2), [1], [(1.0, 0.3), (3.0, 2.0),
                                                             (20.0, 25.0)]),
    "gdtr": (lambda a, b, x: _gammainc(b, a * x), [2], [(1.5, 2.5, 0.5), (0.5, 10.0, 30.0)]),
    "gdtrc": (lambda a, b, x: _gammaincc(b, a * x), [2], [(1.5, 2.5, 0.5), (0.5, 10.0, 30.0)]),
    "pdtr": (lambda k, m: _gammaincc(mp.floor(k) + 1, m), [1], [(0.0, 0.5), (3.0, 2.0),
                                                                 (20.0, 25.0)]),
    "pdtrc": (lambda k, m: _gammainc(mp.floor(k) + 1, m), [1], [(0.0, 0.5), (3.0, 2.0),
                                                                 (20.0, 25.0)]),
    "bdtr": (lambda k, n, p: _betainc(n - k, k + 1, 1 - p), [2],
             [(3.0, 10.0, 0.1), (3.0, 10.0, 0.4), (40.0, 100.0, 0.45)]),
    "bdtrc": (lambda k, n, p: _betainc(k + 1, n - k, p), [2],
              [(3.0, 10.0, 0.1), (3.0, 10.0, 0.4), (40.0, 100.0, 0.45)]),
    "nbdtr": (lambda k, n, p: _betainc(n, k + 1, p), [2], [(3.0, 5.0, 0.2), (10.0, 2.0, 0.7)]),
    "nbdtrc": (lambda k, n, p: _betaincc(n, k + 1, p), [2], [(3.0, 5.0, 0.2),
                                                              (10.0, 2.0, 0.7)]),
    "fdtr": (lambda a, b, x: _betainc(a / 2, b / 2, a * x / (b + a * x)), [2],
             [(3.0, 7.0, 0.3), (3.0, 7.0, 1.2), (20.0, 40.0, 1.1)]),
    "fdtrc": (lambda a, b, x: _betaincc(a / 2, b / 2, a * x / (b + a * x)), [2],
              [(3.0, 7.0, 0.3), (20.0, 40.0, 1.1)]),
    "eval_gegenbauer": (lambda n, a, x: mp.gegenbauer(n, a, x), [2],
                        [(4.0, 0.7, -0.6), (7.0, 2.5, 0.3), (2.0, 0.3, 0.9), (1.0, 1.5, 0.2)]),
    "eval_legendre": (lambda n, x: mp.legendre(n, x), [1],
                      [(5.0, -0.6), (10.0, 0.35), (1.0, 0.2), (0.0, 0.5), (3.0, 0.999)]),
    "eval_chebyt": (lambda n, x: mp.chebyt(n, x), [1], [(5.0, -0.6), (8.0, 0.3), (1.0, 0.7)]),
    "eval_chebyu": (lambda n, x: mp.chebyu(n, x), [1], [(4.0, -0.6), (7.0, 0.3), (1.0, 0.7)]),
    "eval_genlaguerre": (lambda n, a, x: mp.laguerre(n, a, x), [2],
                         [(4.0, 0.5, 0.3), (6.0, 2.0, 5.0), (1.0, 0.5, 2.0)]),
    "eval_laguerre": (lambda n, x: mp.laguerre(n, 0, x), [1], [(5.0, 0.3), (8.0, 6.0),
                                                               (2.0, 1.5)]),
    # scipy's Hermite polynomials take integer degrees only
    "eval_hermite": (lambda n, x: mp.hermite(n, x), [1], [(4, -1.3), (7, 0.2), (1, 2.0),
                                                           (2, 0.5)]),
    "eval_hermitenorm": (lambda n, x: mp.hermite(n, x / mp.sqrt(2)) / mp.sqrt(2) ** n, [1],
                         [(4, -1.3), (7, 0.2), (1, 2.0)]),
    "hyp0f1": (mp.hyp0f1, [1], [(1.5, -2.0), (1.5, 0.3), (3.0, 4.0)]),
    "hyp1f1": (mp.hyp1f1, [2], [(0.7, 1.9, -2.0), (0.7, 1.9, 0.3), (2.0, 3.5, 4.0)]),
    "hyp2f1": (mp.hyp2f1, [3], [(0.7, 1.3, 2.9, -2.0), (0.7, 1.3, 2.9, 0.3),
                                (1.0, 2.0, 3.5, 0.8)]),
    "ellipk": (mp.ellipk, [0], [-3.0, -0.1, 1e-9, 0.1, 0.24, 0.26, 0.6, 0.99]),
    "ellipkinc": (mp.ellipf, [0], [(0.3, 0.5), (1.2, 0.9), (1.5707, 0.999999), (-2.0, 0.3),
                                   (10.0, -2.0), (0.7, 1.5), (1e-8, 0.4)]),
    "ellipeinc": (mp.ellipe, [0], [(0.3, 0.5), (1.2, 0.9), (1.5707, 0.999999), (-2.0, 0.3),
                                   (10.0, -2.0), (0.7, 1.5), (1e-8, 0.4)]),
    "ellipe": (mp.ellipe, [0], [-3.0, -0.1, 1e-9, 0.1, 0.24, 0.26, 0.6, 0.99]),
    "ellipkm1": (lambda p: mp.ellipk(1 - p), [0], [1e-12, 1e-3, 0.3, 0.74, 0.8, 1.2]),
    "yn": (lambda n, x: mp.bessely(int(n), x), [1], [(0, 0.5), (2, 3.3), (5, 10.1)]),
    "kn": (lambda n, x: mp.besselk(int(n), x), [1], [(0, 0.5), (2, 3.3), (5, 10.1)]),
    "wrightomega": (lambda x: mp.lambertw(mp.exp(x)), [0], [-30.0, -1.0, 0.5, 3.0, 100.0]),
    "dawsn": (lambda x: mp.sqrt(mp.pi) / 2 * mp.exp(-x * x) * mp.erfi(x), [0],
              [-8.0, -3.0, -0.5, 1e-8, 0.5, 2.0, 5.0, 6.4, 6.5, 6.9, 7.1, 30.0, 1e4]),
    "boxcox": (lambda x, lam: mp.log(x) if lam == 0 else (x ** lam - 1) / lam, [0],
               [(0.5, 0.5), (3.0, -1.5), (2.0, 0.0), (1e-3, 2.0)]),
    "boxcox1p": (lambda x, lam: mp.log1p(x) if lam == 0 else ((1 + x) ** lam - 1) / lam, [0],
                 [(0.5, 0.5), (3.0, -1.5), (1e-5, 0.0), (-0.5, 2.0)]),
    "inv_boxcox": (lambda y, lam: mp.exp(y) if lam == 0 else (lam * y + 1) ** (1 / lam), [0],
                   [(0.5, 0.5), (0.3, -1.5), (2.0, 0.0), (1.0, 1e-9)]),
    "inv_boxcox1p": (lambda y, lam: mp.expm1(y) if lam == 0 else
                     (lam * y + 1) ** (1 / lam) - 1, [0],
                     [(0.5, 0.5), (0.3, -1.5), (2.0, 0.0), (1e-4, 1e-9)]),
    "struve": (mp.struveh, [1], [(0.0, 0.5), (1.0, 3.3), (2.5, 10.1), (0.3, 25.0)]),
    "modstruve": (mp.struvel, [1], [(0.0, 0.5), (1.0, 3.3), (2.5, 10.1), (0.3, 25.0)]),
    # ratios of gamma functions, at the poles of one factor too (binom(5, 7) = 0 = poch(-3, 2.5))
    "poch": (mp.rf, [0, 1], [(2.5, 3.0), (0.5, -0.3), (-3.0, 2.5), (4.0, -2.5), (1e6, 2.0),
                             (-2.5, 1.2)]),
    "binom": (mp.binomial, [0, 1], [(5.0, 2.0), (5.5, 2.3), (1e6, 2.0), (5.0, 7.0), (5.5, -1.0),
                                    (2.5, 7.5), (-2.5, 3.0), (30.0, 14.5)]),
    # ---- ufuncs of several outputs (dualdiff/_jvp/special_outputs.py): output j as "name[j]"
    "sici[0]": (mp.si, [0], [-30.5, -2.0, 1e-8, 0.1, 0.99, 1.01, 4.5, 100.3, 1e5 + 0.3]),
    # scipy's Ci of a negative x is the real part of mpmath's (Ci(x) + i pi)
    "sici[1]": (lambda x: mp.re(mp.ci(x)), [0],
                [-30.5, -2.0, 1e-8, 0.1, 0.99, 1.01, 4.5, 100.3, 1e5 + 0.3]),
    "shichi[0]": (mp.shi, [0], [-30.0, -2.0, 1e-8, 0.1, 0.99, 1.01, 19.9, 20.1, 700.0, 709.5]),
    "shichi[1]": (lambda x: mp.re(mp.chi(x)), [0],
                  [-30.0, -2.0, 1e-8, 0.1, 0.99, 1.01, 19.9, 20.1, 700.0, 709.5]),
    "fresnel[0]": (mp.fresnels, [0], [-3.3, 1e-5, 0.4, 1.7, 10.1, 1e4 + 0.1, 3e7 + 0.5]),
    "fresnel[1]": (mp.fresnelc, [0], [-3.3, 1e-5, 0.4, 1.7, 10.1, 1e4 + 0.1, 3e7 + 0.5]),
    "airy[0]": (mp.airyai, [0], [-20.5, -2.0, 0.0, 0.7, 5.0, 50.0]),
    "airy[1]": (lambda x: mp.airyai(x, derivative=1), [0], [-20.5, -2.0, 0.0, 0.7, 5.0, 50.0]),
    "airy[2]": (mp.airybi, [0], [-20.5, -2.0, 0.0, 0.7, 5.0, 50.0]),
    "airy[3]": (lambda x: mp.airybi(x, derivative=1), [0], [-20.5, -2.0, 0.0, 0.7, 5.0, 50.0]),
    **{f"ellipj[{j}]": (fn, [0], [(0.3, 0.2), (-1.7, 0.5), (2.9, 0.9), (10.3, 0.3), (0.8, 0.0)])
       for j, fn in enumerate([lambda u, m: mp.ellipfun("sn", u, m=m),
                               lambda u, m: mp.ellipfun("cn", u, m=m),
                               lambda u, m: mp.ellipfun("dn", u, m=m),
                               lambda u, m: _amplitude(u, m)])},
    "expn": (lambda n, x: mp.expint(int(n), x), [1], [(1.0, 0.3), (2.0, 2.0), (3.0, 7.0),
                                                      (5.0, 0.5)]),
    "sindg": (lambda x: mp.sin(x * mp.pi / 180), [0], [10.0, 100.0, -45.5]),
    "cosdg": (lambda x: mp.cos(x * mp.pi / 180), [0], [10.0, 100.0, -45.5]),
    "tandg": (lambda x: mp.tan(x * mp.pi / 180), [0], [10.0, 100.0, -45.5]),
    "cotdg": (lambda x: mp.cot(x * mp.pi / 180), [0], [10.0, 100.0, -45.5]),
    "radian": (lambda d, m, s: (d + m / 60 + s / 3600) * mp.pi / 180, [0, 1, 2],
               [(10.0, 20.0, 30.0), (-3.0, 0.5, 100.0)]),
}


# ------------------------------------------------------------------ differentiation

def _step(x, scale=1):
    x = mp.mpf(x)
    return (abs(x) if x != 0 else mp.mpf(1)) * mp.ldexp(1, -STEP_BITS) * scale


def _partials(fn, point, wrt, scale):
    """(d1 list, d2 matrix) of fn at point over the arguments `wrt`."""
    pt = [mp.mpf(p) for p in point]

    def slice1(i):
        return lambda t: fn(*[t if k == i else pt[k] for k in range(len(pt))])

    d1 = [mp.diff(slice1(i), pt[i], 1, h=_step(pt[i], scale)) for i in wrt]
    d2 = [[None] * len(wrt) for _ in wrt]
    for a, i in enumerate(wrt):
        d2[a][a] = mp.diff(slice1(i), pt[i], 2, h=_step(pt[i], scale))
        for b, j in enumerate(wrt[a + 1:], start=a + 1):
            def inner(s, i=i, j=j):
                return mp.diff(lambda t: fn(*[s if k == i else t if k == j else pt[k]
                                              for k in range(len(pt))]),
                               pt[j], 1, h=_step(pt[j], scale))
            d2[a][b] = d2[b][a] = mp.diff(inner, pt[i], 1, h=_step(pt[i], scale))
    return d1, d2


def _settle(label, got, ref, floor):
    """The derivative when both steps agree to SELF_TOL; an exact 0 when both are noise
    below `floor` (1e-40 of the function's own scale: e.g. d2 of xlogy in x)."""
    scale = max(abs(got), abs(ref))
    if abs(got - ref) <= SELF_TOL * scale:
        return got
    if scale <= floor:
        return mp.mpf(0)
    raise OracleError(f"{label}: step h gives {mp.nstr(got, 25)}, h/2^20 gives "
                      f"{mp.nstr(ref, 25)}")


def _to_float(label, v):
    f = float(v)
    if v != 0 and (not mp.isfinite(v) or abs(f) < 2.2250738585072014e-308 or f in (
            float("inf"), float("-inf"))):
        raise OracleError(f"{label}: {mp.nstr(v, 10)} is not a normal float64")
    return f


def record(name, fn, wrt, point):
    point = point if isinstance(point, tuple) else (point,)
    label = f"{name}{point}"
    value = fn(*[mp.mpf(p) for p in point])
    # a loose match: it catches a wrong definition or convention, not scipy's rounding
    # (scipy's kl_div(0.5, 0.5000001) itself is 7e-4 off from cancellation)
    ref = _scipy(name, point)
    if abs(mp.mpf(float(ref)) - value) > mp.mpf("1e-2") * abs(value) + mp.mpf("1e-40"):
        raise OracleError(f"{label}: mpmath value {mp.nstr(value, 17)} is not scipy's {ref}")
    d1, d2 = _partials(fn, point, wrt, 1)
    e1, e2 = _partials(fn, point, wrt, mp.ldexp(1, -20))
    # the noise floor scales with the first partials, not with f: kl_div(x, 1e100) is
    # dominated by the constant y while its x-partials are of order 1
    floor = mp.mpf("1e-40") * max([1] + [abs(v) for v in d1])
    for a in range(len(wrt)):
        d1[a] = _settle(f"{label} d1[{a}]", d1[a], e1[a], floor)
        for b in range(len(wrt)):
            d2[a][b] = _settle(f"{label} d2[{a}][{b}]", d2[a][b], e2[a][b], floor)
    return {"args": list(point), "wrt": wrt, "f": _to_float(label, value),
            "d1": [_to_float(label, v) for v in d1],
            "d2": [[_to_float(label, v) for v in row] for row in d2]}


def main():
    out, failures = {}, []
    only = sys.argv[1:]
    for name, (fn, wrt, points) in CASES.items():
        if only and name not in only:
            continue
        rows = []
        for p in points:
            try:
                rows.append(record(name, fn, wrt, p))
            except OracleError as exc:
                failures.append(str(exc))
        out[name] = rows
        print(f"{name}: {len(points)} points", file=sys.stderr)
    if failures:
        raise OracleError("\n".join(failures))
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "special.json")
    if only:                                 # regenerate the named functions only
        with open(path) as fh:
            out = {**json.load(fh), **out}
    lines = [f"  {json.dumps(name)}: [\n" + ",\n".join(
        "    " + json.dumps(r, sort_keys=True) for r in out[name]) + "\n  ]"
        for name in sorted(out)]
    with open(path, "w") as fh:
        fh.write("{\n" + ",\n".join(lines) + "\n}\n")


if __name__ == "__main__":
    main()
