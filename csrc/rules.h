/* rules.h -- dualdiff's derivative table: the one place where calculus is written.
 *
 * Pure C99, no Python. Every elementary function appears exactly once, as a row giving its
 * value f and its first and second derivatives at a real point. Nothing else in dualdiff
 * knows a derivative: the number types (dual.h, hyperdual.h) apply the chain rule to the
 * jets these rows produce, the array kernels (kernels.h) loop over the same inline jets, and
 * the Cython layer only looks functions up by name.
 *
 * Unary rows      R(name, lo, hi, shared, f, d1, d2)
 * Binary rows     B(name, lo, hi, shared, f, fa, fb, faa, fab, fbb)
 *
 *   name      numpy's name for the function (exp, arcsin, log1p, ...)
 *   lo, hi    the test domain the golden values sample (tests/golden/generate.py)
 *   shared    statements run once per point; the locals they declare may appear in the
 *             expressions (`x` is the point of a unary row, `a`, `b` of a binary row)
 *   f, d1, d2 value, f', f''; for binary rows the value and the five partials
 *
 * A row is expanded into `dd_jet_NAME(x)` returning a dd_jet {f, d1, d2} (binary:
 * `dd_jet2_NAME(a, b)` returning a dd_jet2). Callers that need fewer derivatives rely on the
 * compiler dropping unused work, which it may because libm calls are pure under
 * -fno-math-errno (setup.py sets it).
 *
 * Functions whose derivative is a limit or a convention rather than a formula (powers at 0,
 * kinks) are written out in the "special cases" block at the end, each with its reason.
 *
 * The only other place where dualdiff writes calculus is dualdiff/_jvp/, the rules of whole
 * arrays: the tangents of linear maps, the bilinear product rule of matrix products, the
 * tie weights of max/min reductions (the counterpart of DD_TIE_SHARED below), and linear
 * algebra. Each is written once, as numpy code on values and tangents.
 */
#ifndef DUALDIFF_RULES_H
#define DUALDIFF_RULES_H

#include <math.h>
#include "exp.h"          /* dd_exp: e^x that vectorizes in the array loops (~0.5 ulp) */

/* f, f', f'' at x. Where a row sets them (DD_FACTORED, DD_ROOTED; 0: the row has none):
 * q = f''/f' in a form that stays in range where f'' itself leaves it (dd_second_factored in
 * hyperdual.h), and r, a signed square root of f' (f' = r |r|) that stays in range where f'
 * itself leaves it (dd_chain_eps_jet in dual.h); rooted, a constant of the row, says whether
 * it has r, so that the kernels of the other rows do not even test for it */
typedef struct { double f, d1, d2, q, r; int rooted; } dd_jet;
/* f and partials at (a,b); sel: the partials are selection weights (see DD_TIE_SHARED) */
typedef struct { double f, a, b, aa, ab, bb; int sel; } dd_jet2;

#define DD_LN2     0.693147180559945309417232121458176568
#define DD_LN10    2.30258509299404568401799145468436421
#define DD_2_SQRTPI 1.12837916709551257389615890312154517   /* 2/sqrt(pi), erf' at 0 */
#define DD_DEG     0.0174532925199432957692369076848861271  /* pi/180 */
/* 180/pi, multiplied as numpy's rad2deg does (x/DD_DEG differed from it by an ulp, which
   a later cosh or sin can magnify into a wrong-looking value) */
#define DD_RAD     57.2957795130823208767981548141051703  /* 180/pi */
/* 64 ln 2 = HI + LO, HI a multiple of 2^-43 so that HI - x*x is exact for x*x in [512, 1024) */
#define DD_64LN2_HI 0x1.62e42fefa39e0p+5
#define DD_64LN2_LO 0x1.e6af278ece601p-44

/* The zero-operand selects below, without a branch: all ones where x is not +-0 (NaN
 * included), else zero, as integer lanes of x's own width; p & mask is p or +0.0. Written
 * as `x == 0 ? 0 : x * d`, GCC branches in the small-width kernels' unrolled element bodies
 * (a compare and jump per entry), which also keeps them from being vectorized: the
 * hyper-dual product at 2 x 2 directions ran at 2 ns an entry, 2.3x its time with the mask
 * (csrc/tools/kernel_bench.c; 2 x 5: 1.8x; first order at 5 directions: 1.7x). The product
 * is formed either way (no trap: -fno-trapping-math, and dualdiff reads values, not FP
 * flags); the bits are those of the select. (The 1 x 1 product, 27 -> 70 us with the mask
 * at first, was not the mask's doing: see DD_HAS12 in kernels.c; now 17 us.) */
static inline uint64_t dd_nonzero_mask(double x)
{ return (uint64_t)0 - (uint64_t)((dd_bits(x) << 1) != 0); }
static inline double dd_masked(uint64_t mask, double p) { return dd_double(dd_bits(p) & mask); }

/* Tangent times derivative. A zero tangent contributes exactly zero even where the
 * derivative is infinite or NaN (sqrt'(0), log'(0), d(x^y)/dy for x < 0): the direction does
 * not move that input, so the directional derivative is 0, not 0*inf = NaN. Without this a
 * gradient of sum(sqrt(x)) at x = [0, 1] would be NaN in every direction, not only the first. */
static inline double dd_tmul(double t, double d) { return dd_masked(dd_nonzero_mask(t), t * d); }

/* Tangent times tangent (second-order parts): zero when either factor is zero, so an entry
 * whose direction does not touch an input stays exactly zero whatever the other factor (an
 * infinite tangent included). The e1e2 part of a sweep carrying several directions is then
 * the same bits as one carrying one pair, whose untouched rows are not even stored: results
 * do not depend on chunk. */
static inline double dd_ttmul(double s, double t)
{ return dd_masked(dd_nonzero_mask(s) & dd_nonzero_mask(t), s * t); }

/* Second partial times two tangents, d s t, zero when s or t is zero (as dd_ttmul). s t is
 * formed first, which keeps d s t symmetric in s and t (a Hessian's (p, q) and (q, p)
 * entries are the same bits); where s t overflows or leaves the normal range, d joins first:
 * sqrt(u) at u = 4e194 with u's tangents 1e196 has u_1 u_2 = inf but f'' u_1 = 3.6e-97
 * (fuzz seed 2424), so f'' u_1 u_2 = -3.6e99 is representable. The fallback multiplies d by
 * the larger tangent when |d| < 1 and by the smaller one otherwise, an order that still
 * depends only on the pair {s, t}. */
static inline int dd_normal(double x) { return fabs(x) >= 0x1p-1022 && fabs(x) <= 0x1.fffffffffffffp+1023; }
static inline double dd_dttmul(double d, double s, double t)
{
    if (s == 0.0 || t == 0.0) return 0.0;
    const double st = s * t;
    if (dd_normal(st)) return st * d;
    const double big = fabs(s) >= fabs(t) ? s : t, small = fabs(s) >= fabs(t) ? t : s;
    return fabs(d) < 1.0 ? (d * big) * small : (d * small) * big;
}

/* f'' and q = f''/f' of a row whose f'' over- or underflows (log at x < 1e-154 has f'' =
 * -1/x^2 = -inf) where f'' u_1 u_2 is still representable: log2(erfc(18.4)) differentiated
 * twice is -1.5e6, not -inf (fuzz 3636). The chain rule then forms f' q u_1 u_2 instead.
 * DD_ROOTED also gives r with f' = r |r| for a row whose f' itself can overflow where f' u'
 * cannot: reciprocal at 1e-160 with tangent 1e-160 has f' = -1e320 = -inf but f' u' = -1e160.
 * Not the logarithms: their f' = 1/x overflows only at a subnormal x, and the test for it
 * cost log's array loops 15-20 %. */
#define DD_FACTORED(d2, q) d2, q
#define DD_ROOTED(d2, q, r) d2, q, r, 1

/* Tangent times selection weight (maximum, minimum, fmax, fmin): a zero weight drops its
 * operand's tangent whatever it is, as numpy's choice of the other operand drops its value:
 * fmin(sqrt(-1), 5) = 5 has derivative 0, not 0*NaN. Only for selections: elsewhere a zero
 * partial keeps 0*inf = NaN, since hypot(sqrt(t), 1) at t = 0 has derivative 1/2, and 0
 * would be a wrong number. */
static inline double dd_wmul(double t, double w) { return dd_masked(dd_nonzero_mask(w), t * w); }
/* rows other than the selections: no selection (DD_TIE_SHARED shadows this with 1) */
static const int dd_sel_ = 0;

/* ---------------------------------------------------------------------------------------- */
/* The table.                                                                               */
/* Numerically careful forms carry their reason on the row above.                           */
/* ---------------------------------------------------------------------------------------- */
#define DD_UNARY_RULES(R)                                                                    \
  /* name      lo     hi    shared                                f         d1          d2 */  \
  R(exp,       -5,    5,    double e = dd_exp(x),                 e,        e,          e)     \
  /* expm1 keeps full precision of e^x - 1 for tiny x; its derivatives are plain e^x */       \
  R(expm1,     -5,    5,    double e = dd_exp(x),                 expm1(x), e,          e)     \
  R(exp2,      -5,    5,    double e = exp2(x),                   e,        e*DD_LN2,   e*DD_LN2*DD_LN2) \
  R(log,       0.01,  10,   double r = 1.0/x,                     log(x),   r,          DD_FACTORED(-r*r, -r))  \
  /* log1p keeps precision near 0; 1+x is exact enough for the derivatives (relative 1 ulp) */ \
  R(log1p,     -0.9,  10,   double r = 1.0/(1.0 + x),             log1p(x), r,          DD_FACTORED(-r*r, -r))  \
  R(log2,      0.01,  10,   double r = 1.0/(x*DD_LN2),            log2(x),  r,          DD_FACTORED(-r/x, -r*DD_LN2))  \
  R(log10,     0.01,  10,   double r = 1.0/(x*DD_LN10),           log10(x), r,          DD_FACTORED(-r/x, -r*DD_LN10))  \
  /* sqrt'(0) = +inf and sqrt''(0) = -inf by IEEE arithmetic, the documented convention;     \
     f'' = -1/(4 x^1.5) = -2 f'^3: multiplications instead of a second division */            \
  R(sqrt,      0.01,  10,   double s = sqrt(x); double r = 0.5/s, s,        r,          DD_FACTORED(-2.0*r*r*r, -2.0*r*r)) \
  R(cbrt,      -10,   10,   double c = cbrt(x); double r = 1.0/(3.0*c*c); double q = -2.0/(3.0*x), \
    c, r, DD_FACTORED(r*q, q)) \
  R(square,    -5,    5,    ,                                     x*x,      2.0*x,      2.0)   \
  R(reciprocal,0.1,   5,    double r = 1.0/x,                     r,        -r*r,       DD_ROOTED(2.0*r*r*r, -2.0*r, -fabs(r))) \
  R(sin,       -6,    6,    double s = sin(x); double c = cos(x), s,        c,          -s)    \
  R(cos,       -6,    6,    double s = sin(x); double c = cos(x), c,        -s,         -c)    \
  R(tan,       -1.4,  1.4,  double t = tan(x); double u = 1.0 + t*t, t,     u,          2.0*t*u) \
  /* 1 - x^2 as DD_ONE_MINUS_SQ: no cancellation as |x| -> 1, one rounding near 0 */          \
  R(arcsin,    -0.99, 0.99, double r = 1.0/sqrt(DD_ONE_MINUS_SQ(x)), asin(x), r,          x*r*r*r) \
  R(arccos,    -0.99, 0.99, double r = 1.0/sqrt(DD_ONE_MINUS_SQ(x)), acos(x), -r,         -x*r*r*r) \
  /* f'' = -2 r (x r) with x r = x/(1 + x^2) taken as 1/x where x^2 overflows: -2 x r r was   \
     inf * 0 = NaN at x = +-inf, whose limit is 0 */                                          \
  R(arctan,    -10,   10,   double r = 1.0/(1.0 + x*x); double q = fabs(x) > 0x1p500 ? 1.0/x : x*r, \
    atan(x),  r,          -2.0*r*q)                                                           \
  R(sinh,      -5,    5,    double s = sinh(x); double c = cosh(x), s,      c,          s)     \
  R(cosh,      -5,    5,    double s = sinh(x); double c = cosh(x), c,      s,          c)     \
  /* 1/cosh^2 instead of 1 - tanh^2: the latter cancels to 0 for |x| > 19 */                  \
  R(tanh,      -5,    5,    double t = tanh(x); double c = cosh(x); double r = 1.0/(c*c), t, r, -2.0*t*r) \
  /* hypot(x, 1) instead of sqrt(x*x + 1): no overflow for |x| > 1e154 */                      \
  R(arcsinh,   -10,   10,   double r = 1.0/hypot(x, 1.0),         asinh(x), r,          -x*r*r*r) \
  /* (x-1)(x+1): x - 1 is exact near 1, where x*x - 1 would cancel. The product overflows for  \
     x > 1.3e154, where f' ~ 1/x is still representable (it returned 0): beyond 2^500, where   \
     (x-1)(x+1) = x^2 in double anyway, f' = 1/x (a predictable branch, unlike a second sqrt) */\
  R(arccosh,   1.01,  10,   double r = x < 0x1p500 ? 1.0/sqrt((x - 1.0)*(x + 1.0)) : 1.0/x,   \
    acosh(x), r, -x*r*r*r)                                                                     \
  R(arctanh,   -0.99, 0.99, double r = 1.0/DD_ONE_MINUS_SQ(x),    atanh(x), r,          2.0*x*r*r) \
  /* g = erf' = (2/sqrt(pi)) e^(-x^2) with x^2 carried exactly (DD_ERF_SHARED): the rounding    \
     of x*x alone moved g by up to 6e-14 relative (x near 26); g2 = 2x g is formed before g is   \
     scaled into the subnormal range, where f'' is still normal (x up to 27.2), from xs (0 for   \
     |x| > 2^500, where g2 underflows anyway): 2x e at x = +-inf was inf * 0 = NaN, limit 0 */   \
  R(erf,       -3,    3,    DD_ERF_SHARED,                        erf(x),   g,          -g2)   \
  R(erfc,      -3,    3,    DD_ERF_SHARED,                        erfc(x),  -g,         g2)    \
  /* sigmoid from e^-|x| only, never e^+|x|: no overflow; and f' = s*(1-s) with 1-s = c       \
     computed directly, because 1 - s rounds to 0 for x > 37 while s*c stays exact; f'' =      \
     f' (c - s) with c - s from an accurate 1 - e^-|x| (DD_C_MINUS_S): c - s itself cancels    \
     near 0 (f'' came out 0 for |x| < 1e-16, with no correct digit below 1e-8) */              \
  R(sigmoid,   -30,   30,   DD_SIGMOID_SHARED,                    s,        s*c,        s*c*DD_C_MINUS_S) \
  /* softplus = max(x,0) + log1p(e^-|x|): no overflow, full precision for large |x| */         \
  R(softplus,  -30,   30,   DD_SIGMOID_SHARED,                    (x > 0.0 ? x : 0.0) + log1p(e), s, s*c) \
  R(deg2rad,   -360,  360,  ,                                     x*DD_DEG, DD_DEG,     0.0)   \
  R(rad2deg,   -6,    6,    ,                                     x*DD_RAD, DD_RAD,     0.0)   \
  /* kinks: abs'(0) = relu'(0) = 0; steps have derivative 0 everywhere (DD_SIGN below) */      \
  R(abs,       -5,    5,    ,                                     fabs(x),  DD_SIGN(x), 0.0)   \
  R(relu,      -5,    5,    ,                                     DD_RELU(x), (x > 0.0 ? 1.0 : 0.0), 0.0) \
  R(sign,      -5,    5,    ,                                     DD_SIGN_NAN(x), 0.0,  0.0)   \
  R(floor,     -5,    5,    ,                                     floor(x), 0.0,        0.0)   \
  R(ceil,      -5,    5,    ,                                     ceil(x),  0.0,        0.0)   \
  R(trunc,     -5,    5,    ,                                     trunc(x), 0.0,        0.0)   \
  R(rint,      -5,    5,    ,                                     rint(x),  0.0,        0.0)

#define DD_BINARY_RULES(B)                                                                   \
  /* name     lo   hi  shared                          f            fa      fb     faa fab fbb */ \
  /* arctan2(a, b) is atan(a/b) with the quadrant of (b, a): numpy's argument order (y, x).    \
     The partials are b/(a^2+b^2), ... with a, b scaled by a power of two near 1/max(|a|,|b|)  \
     (DD_ARCTAN2_SHARED): a*a + b*b overflowed for |a| > 1e154 and underflowed below 1e-154,    \
     where the partials are representable; and a^2 - b^2 as (a - b)(a + b): a*a - b*b cancels   \
     as |a| -> |b| (relative error 5e-9 at b = a (1 + 1e-8), worse closer) */                   \
  B(arctan2,  -5,  5,  DD_ARCTAN2_SHARED,              atan2(a, b), (ub*r)*sc, (-ua*r)*sc,      \
    ((-2.0*ua*ub*r*r)*sc)*sc, (((ua - ub)*(ua + ub)*r*r)*sc)*sc, ((2.0*ua*ub*r*r)*sc)*sc)      \
  /* second partials from the first ones (a/h, b/h, at most 1) and 1/h: b^2/h^3 as (fb/h) fb,   \
     never above 1/h; b*b*i*i*i overflowed to inf for |b| > 1.3e154 */                          \
  /* at an infinite argument a/h is its limit, the sign of a (1/sqrt2 each when both are), not \
     inf/inf = NaN; a finite one's is 0 */                                                      \
  B(hypot,    -5,  5,  DD_HYPOT_SHARED, \
    h, ia, ib, (ib*i)*ib, -(ia*i)*ib, (ia*i)*ia)                                               \
  /* ties give half to each argument (subgradient midpoint, as JAX); NaN wins, as in numpy */ \
  B(maximum,  -5,  5,  DD_TIE_SHARED(a > b),           DD_PICK(a > b || a != a, a, b),        \
    wa, wb, 0.0, 0.0, 0.0)                                                                     \
  B(minimum,  -5,  5,  DD_TIE_SHARED(a < b),           DD_PICK(a < b || a != a, a, b),        \
    wa, wb, 0.0, 0.0, 0.0)                                                                     \
  /* fmax/fmin ignore a NaN argument (numpy): the derivative follows the argument returned */ \
  B(fmax,     -5,  5,  DD_TIE_SHARED(a > b || b != b), fmax(a, b), wa, wb, 0.0, 0.0, 0.0)     \
  B(fmin,     -5,  5,  DD_TIE_SHARED(a < b || b != b), fmin(a, b), wa, wb, 0.0, 0.0, 0.0)     \
  /* logaddexp = max + log1p(e^-|a-b|): no overflow; equal arguments (also +-inf) give a+ln2.  \
     The partials are e^-|a-b| / (1 + e^-|a-b|): the rounding of a - b would move them by up   \
     to |a-b| ulps (250 at a - b ~ 700), so e carries the exact a - b (DD_LOGADDEXP_SHARED) */  \
  B(logaddexp, -20, 20, DD_LOGADDEXP_SHARED,           f_,          sa,     sb,                 \
    sa*sb, -sa*sb, sa*sb)                                                                      \
  B(power,    0.1, 5,  dd_jet2 p_ = dd_power_jet2(a, b), p_.f,      p_.a,   p_.b,               \
    p_.aa, p_.ab, p_.bb)

/* Helpers the rows use. */
#define DD_SIGN(x) ((double)(((x) > 0.0) - ((x) < 0.0)))            /* 0 at 0 and at NaN */
#define DD_SIGN_NAN(x) ((x) > 0.0 ? 1.0 : (x) < 0.0 ? -1.0 : (x) == 0.0 ? 0.0 : (x))
#define DD_RELU(x) ((x) > 0.0 || (x) != (x) ? (x) : 0.0)             /* NaN propagates */
#define DD_PICK(c, a, b) ((c) ? (a) : (b))
/* wa, wb: the share of the derivative each argument of max/min gets (1/0, 1/2 at a tie) */
#define DD_TIE_SHARED(a_wins)                                                                \
  const int dd_sel_ = 1;                                                                     \
  double wa = (a_wins) ? 1.0 : (a == b ? 0.5 : 0.0);                                         \
  double wb = (a == b) ? 0.5 : 1.0 - wa
/* 1 - x^2 for |x| <= 1: one rounding near 0, and (1-x)(1+x) near +-1, where x*x would cancel */
#define DD_ONE_MINUS_SQ(x) (fabs(x) < 0.5 ? 1.0 - (x)*(x) : (1.0 - (x))*(1.0 + (x)))
#define DD_SIGMOID_SHARED                                                                    \
  double e = dd_exp(-fabs(x)); double p = 1.0/(1.0 + e);                                     \
  double s = x >= 0.0 ? p : e*p; double c = x >= 0.0 ? e*p : p
/* c - s = -tanh(x/2) = -sign(x) (1 - e^-|x|) p, with 1 - e^-|x| from dd_expm1_small below
 * 1/2 (where 1 - e cancels) and 1 - e above (where it is at least 0.39 and exact). Only f''
 * uses it, so first-order loops, which drop f'', do not pay for it. */
#define DD_C_MINUS_S                                                                         \
  ((x >= 0.0 ? -1.0 : 1.0)*(fabs(x) < 0.5 ? -dd_expm1_small(fabs(x) < 0.5 ? -fabs(x) : 0.0)   \
                                          : 1.0 - e)*p)
/* d_ + r_ = a - b exactly (Knuth's two-sum; r_ is NaN when a - b overflows, where e is 0
 * anyway), and e = e^-|a-b| = e^-|d_| (1 -+ r_) to first order (|r_| < 1e-13) */
#define DD_LOGADDEXP_SHARED                                                                  \
  double d_ = a - b; double z_ = d_ - a; double r_ = (a - (d_ - z_)) + (-b - z_);            \
  double e0_ = dd_exp(-fabs(d_)); double t_ = d_ > 0.0 ? r_ : -r_;                           \
  double e = (a == b) ? 1.0 : e0_ - e0_*(t_ == t_ ? t_ : 0.0); double p = 1.0/(1.0 + e);     \
  double sa = a >= b ? p : e*p; double sb = a >= b ? e*p : p;                                \
  double f_ = (a == b) ? a + DD_LN2 : (a > b ? a : b) + log1p(e)
/* erf' = (2/sqrt(pi)) e^(-x^2). q_ + lo_ = x^2 exactly (Dekker's product, no FMA: the split
 * is exact below 2^500, and beyond that erf' is 0 anyway), and e^-lo_ = 1 - lo_ to first
 * order. Where e^(-x^2) leaves the normal range (x^2 > 512) it is computed times 2^64 (the
 * exponent shifted by 64 ln 2 in two parts) and scaled back after f'' = -2x g is formed. */
#define DD_ERF_SHARED                                                                        \
  double q_ = x*x; double xs_ = fabs(x) < 0x1p500 ? x : 0.0;                                 \
  double sp_ = 134217729.0*xs_; double xh_ = sp_ - (sp_ - xs_); double xl_ = xs_ - xh_;      \
  double lo_ = ((xh_*xh_ - xs_*xs_) + 2.0*xh_*xl_) + xl_*xl_;                                \
  double kh_ = q_ > 512.0 ? DD_64LN2_HI : 0.0; double kl_ = q_ > 512.0 ? DD_64LN2_LO : 0.0;  \
  double sc_ = q_ > 512.0 ? 0x1p-64 : 1.0;                                                   \
  double e_ = DD_2_SQRTPI*dd_exp(kh_ - q_); e_ = e_ + e_*(kl_ - lo_);                        \
  double g = e_*sc_; double g2 = ((2.0*xs_)*e_)*sc_
/* a and b times sc, a power of two near 1/max(|a|,|b|): ua, ub are exact, the larger in [1, 4)
 * (in [1, 2) but at the top binade, whose inverse is subnormal), so ua^2 + ub^2 neither
 * overflows nor underflows; each partial is scaled back last, one factor sc at a time, so no
 * intermediate leaves the range the result is in. */
#define DD_ARCTAN2_SHARED                                                                    \
  double m_ = fabs(a) > fabs(b) ? fabs(a) : fabs(b);                                         \
  uint64_t be_ = dd_bits(m_) >> 52; be_ = be_ > 2045 ? 2045 : be_;                           \
  double sc = dd_double((uint64_t)(2046 - be_) << 52); double ua = a*sc; double ub = b*sc;   \
  DD_AT_INFINITY(m_, a, b, ua, ub, sc);                                                      \
  double r = 1.0/(ua*ua + ub*ub)
/* An infinite argument: the partials' limits. The direction (ua, ub) is the signs of the
 * infinite arguments (0 for a finite one) and the scale 0: each partial is its limit, 0, not
 * inf * 0 = NaN (arctan2(y, inf) has d/dy -> 0). */
#define DD_AT_INFINITY(m, a, b, ua, ub, sc)                                                  \
  if (m == INFINITY) {                                                                       \
    ua = isinf(a) ? copysign(1.0, a) : 0.0; ub = isinf(b) ? copysign(1.0, b) : 0.0; sc = 0.0; \
  }
#define DD_HYPOT_SHARED                                                                      \
  /* a/h, not a*(1/h): 1/h overflows for a subnormal h (hypot(x, x) at x = 1e-310 gave a     \
     partial of inf, not 1/sqrt2), while a/h is at most 1 */                                  \
  double h = hypot(a, b); double i = 1.0/h; double ia = a/h; double ib = b/h;                \
  /* (0, 0) is hypot's kink, the cone's tip: every partial 0, as abs'(0) = 0 (0/0 before) */  \
  if (h == 0.0) { i = 0.0; ia = 0.0; ib = 0.0; }                                             \
  if (h == INFINITY && (isinf(a) || isinf(b))) {                                             \
    double w_ = isinf(a) && isinf(b) ? 0x1.6a09e667f3bcdp-1 : 1.0;                           \
    ia = isinf(a) ? copysign(w_, a) : 0.0; ib = isinf(b) ? copysign(w_, b) : 0.0;            \
  }

/* e^y - 1 for -1/2 <= y <= 0, branch-free like dd_exp (same reduction, exp.h): with
 * T = 2^(k/N) in [1/2, 1], T - 1 is exact and the rest T p + T_lo is small, so there is no
 * cancellation; the polynomial has one term more than dd_exp's because here it is compared
 * with e^y - 1 ~ y, not with e^y ~ 1. */
static inline double dd_expm1_small(double y)
{
    const double shift = 0x1.8p52;
    const double n_over_ln2 = 0x1.71547652b82fep+7;
    const double ln2n_hi = 0x1.62e42fee00000p-8;
    const double ln2n_lo = 0x1.a39ef35793c76p-40;
    double t = y*n_over_ln2 + shift;
    double kd = t - shift;
    int64_t k = (int64_t)(dd_bits(t) - dd_bits(shift));
    double r = (y - kd*ln2n_hi) - kd*ln2n_lo;
    double p = r + (r*r)*(0.5 + r*(1.0/6.0 + r*(1.0/24.0 + r*(1.0/120.0 + r*(1.0/720.0)))));
    int64_t j = k & (DD_EXP_N - 1);
    double sc = dd_double((uint64_t)((k >> 7) + 1023) << 52);
    double T = dd_exp_hi[j]*sc;
    return (T - 1.0) + (T*p + dd_exp_lo[j]*sc);
}

/* ---------------------------------------------------------------------------------------- */
/* Special cases: each is a limit or a convention, not a formula.                           */
/* ---------------------------------------------------------------------------------------- */

/* c x^(p-k), k = 0, 1, 2: the rare path of the power rules, taken where x^(p-k) itself is not
 * a normal number (or could not be formed from one) while c x^(p-k) may be: 0.99^71000 is
 * subnormal but 71000 * 0.99^70999 is 1.5e-302, and ln(x)^2 x^y, p (p-1) x^(p-2) likewise.
 * - x^q = t*t with t = |x|^(q/2): t stays normal while c x^q is, and the sign is (-1)^q.
 * - q = p - k is not always a double (p = 2^60, p = -255.9): q = qh + ql exactly (two-sum),
 *   and x^ql = 1 + ql ln|x| to first order (|ql ln x| < 1e-13 wherever x^q is finite).
 * - x = 0, inf, NaN or subnormal: plain c pow(x, q), whose limits are the conventions. */
#if defined(__GNUC__)
#define DD_COLD __attribute__((cold, noinline)) static    /* out of the hot loops' way */
#else
#define DD_COLD static
#endif
DD_COLD double dd_pow_scaled(double x, double p, int k, double c)
{
    double qh = p - k, z = qh - p, ql = (p - (qh - z)) + (-k - z);
    double y = pow(x, qh), r;
    if (!isnormal(x) || !isfinite(p)) return c*y;
    if (isnormal(y)) {
        r = c*y;
    } else {
        double t = pow(fabs(x), 0.5*qh);
        /* (-1)^q: pow(-1, p) is +-1 for an integer p (NaN otherwise, as pow(x, q) is); every
         * double beyond 2^53 is even, so the parity of q = p - k is taken from p and k */
        double sign = x > 0.0 ? 1.0 : pow(-1.0, p)*(k == 1 ? -1.0 : 1.0);
        r = (sign*(c*t))*t;
    }
    return ql == 0.0 || r == 0.0 || !isfinite(r) ? r : r + r*(ql*log(fabs(x)));
}

/* f, x and f/x are all normal numbers. Read off the exponent fields, so that the test does not
 * wait for the division (testing the quotient itself made the x ** c loops 10% slower); it
 * gives up one binade at each end of the range (f/x has the exponent ef - ex or one less),
 * where the callers take their exact but slower path. */
static inline int dd_quotient_normal(double f, double x)
{
    int ef = (int)((dd_bits(f) >> 52) & 0x7ff), ex = (int)((dd_bits(x) >> 52) & 0x7ff);
    return (unsigned)(ef - 1) < 2046u && (unsigned)(ex - 1) < 2046u
        && (unsigned)(ef - ex + 1021) <= 2044u;
}

/* x^p with a constant exponent p (x ** 2.5, x ** 3).
 * - p == 0: x^0 = 1 everywhere; p*x^(p-1) would be 0*inf = NaN at x = 0.
 * - p == 1: the second derivative is 0; p*(p-1)*x^(p-2) would be 0*inf at x = 0.
 * - p == 2: x*x exactly (what numpy's square does) and exact derivatives 2x, 2.
 * - x == 0, p > 1: value 0 and derivative 0 come out of the formula (0^(p-1) = 0).
 * - x < 0, integer p: pow is real and so are p*x^(p-1) and p(p-1)x^(p-2).
 * x^(p-1) = f/x and x^(p-2) = f/x^2 when every one of them is a normal number (a division
 * instead of a pow call, within 2 ulp); otherwise dd_pow_scaled, which stays exact. */
static inline dd_jet dd_jet_powc(double x, double p)
{
    dd_jet j;
    j.q = 0.0;
    j.r = 0.0;
    j.rooted = 1;
    if (p == 2.0) { j.f = x*x; j.d1 = 2.0*x; j.d2 = 2.0; return j; }
    j.f = pow(x, p);
    if (p == 0.0) { j.d1 = 0.0; j.d2 = 0.0; return j; }
    double g = j.f/x, h = g/x;
    int ok = dd_quotient_normal(j.f, x);
    j.d1 = ok ? p*g : dd_pow_scaled(x, p, 1, p);
    /* f' = r |r| for dd_chain_eps_jet where p x^(p-1) leaves the range (x ** -2 at 1e-110);
     * f' < 0 where p < 0 xor x^(p-1) < 0 (x < 0 and p - 1 an odd integer) */
    if (!dd_normal(j.d1)) {
        const int odd = x < 0.0 && fmod(p - 1.0, 2.0) != 0.0;
        j.r = ((p < 0.0) != odd ? -1.0 : 1.0) * sqrt(fabs(p)) * pow(fabs(x), 0.5*(p - 1.0));
    }
    if (p == 1.0) { j.d2 = 0.0; return j; }
    j.d2 = ok && isnormal(h) ? (p*(p - 1.0))*h : dd_pow_scaled(x, p, 2, p*(p - 1.0));
    /* f'' = f' (p - 1)/x, for dd_second_factored where x^(p-2) leaves the range (x ** 0.5 at 1e-300) */
    if (!isnormal(j.d2)) j.q = (p - 1.0)/x;
    return j;
}

/* a^b with both arguments varying. The a-partials are those of x^p above; the others are
 * a^b ln a, a^b ln^2 a and a^(b-1) (1 + b ln a), from a^b and a^(b-1) = f/a when both are
 * normal (the test of dd_jet_powc, so the compiler can share it), else from dd_pow_scaled.
 * a^(b-1) is formed directly, not as f_a / b as before, which lost every digit once
 * b a^(b-1) underflowed (b = 1e-300).
 * - a == 0, b > 0: d/db = a^b * ln a is 0*(-inf); its limit as a -> 0+ is 0, so ln a is taken
 *   as 0 there (x^y at 0 is flat in y).
 * - a < 0: ln a is not real, so the b-partials are NaN; dd_tmul keeps them out of results
 *   whenever the exponent is a constant (tangent 0), e.g. (-2)^3 differentiated in a. */
static inline dd_jet2 dd_power_jet2(double a, double b)
{
    dd_jet2 j;
    dd_jet pa = dd_jet_powc(a, b);
    double l = (a == 0.0 && b > 0.0) ? 0.0 : log(a);
    double f = pa.f, g = f/a;
    int ok = dd_quotient_normal(f, a);
    j.f = f;
    j.a = pa.d1;
    j.aa = pa.d2;
    j.b = ok ? f*l : dd_pow_scaled(a, b, 0, l);
    j.bb = ok ? (f*l)*l : dd_pow_scaled(a, b, 0, l*l);
    /* d/db (b a^(b-1)) = a^(b-1) + b a^(b-1) ln a = a^(b-1) (1 + b ln a) */
    j.ab = ok ? g*(1.0 + b*l) : dd_pow_scaled(a, b, 1, 1.0 + b*l);
    if (a == 0.0 && b > 0.0) j.ab = b == 1.0 ? 1.0 : (b > 1.0 ? 0.0 : INFINITY);
    return j;
}

/* ---------------------------------------------------------------------------------------- */
/* The derivative as a function.                                                             */
/* ---------------------------------------------------------------------------------------- */

/* f' written with the table's own functions, in Python syntax (x; a, b for binary rows;
 * where() takes a condition on values; the constants LN2, LN10, DEG, TWO_SQRTPI). dualdiff
 * evaluates it on dual values only beyond second order -- a third derivative, a transform
 * nested in a second-order one -- where the chain rule needs f' as a function it can
 * differentiate again, which the numbers f', f'' of a row are not (ForwardDiff's DiffRules
 * state f' this way for the same reason). It is the table's one other statement of f': its
 * values are checked against the rows' f' and, differentiated by dualdiff, against f''
 * (tests/test_rules.py), so the two cannot drift apart. Steps and kinks follow the rows'
 * conventions: abs' = sign (0 at 0), relu' = 0 at 0, ties of maximum/minimum give 1/2. */
#define DD_UNARY_DERIVATIVES(D)                                                              \
  D(exp,        "exp(x)")                                                                    \
  D(expm1,      "exp(x)")                                                                    \
  D(exp2,       "exp2(x) * LN2")                                                             \
  D(log,        "reciprocal(x)")                                                             \
  D(log1p,      "reciprocal(1.0 + x)")                                                       \
  D(log2,       "reciprocal(x * LN2)")                                                       \
  D(log10,      "reciprocal(x * LN10)")                                                      \
  D(sqrt,       "0.5 * reciprocal(sqrt(x))")                                                 \
  D(cbrt,       "reciprocal(3.0 * square(cbrt(x)))")                                         \
  D(square,     "2.0 * x")                                                                   \
  D(reciprocal, "-square(reciprocal(x))")                                                    \
  D(sin,        "cos(x)")                                                                    \
  D(cos,        "-sin(x)")                                                                   \
  D(tan,        "1.0 + square(tan(x))")                                                      \
  D(arcsin,     "reciprocal(sqrt((1.0 - x) * (1.0 + x)))")                                   \
  D(arccos,     "-reciprocal(sqrt((1.0 - x) * (1.0 + x)))")                                  \
  D(arctan,     "reciprocal(1.0 + square(x))")                                               \
  D(sinh,       "cosh(x)")                                                                   \
  D(cosh,       "sinh(x)")                                                                   \
  D(tanh,       "square(reciprocal(cosh(x)))")                                               \
  D(arcsinh,    "reciprocal(hypot(x, 1.0))")                                                 \
  D(arccosh,    "reciprocal(sqrt((x - 1.0) * (x + 1.0)))")                                   \
  D(arctanh,    "reciprocal((1.0 - x) * (1.0 + x))")                                         \
  D(erf,        "TWO_SQRTPI * exp(-square(x))")                                              \
  D(erfc,       "-TWO_SQRTPI * exp(-square(x))")                                             \
  D(sigmoid,    "sigmoid(x) * sigmoid(-x)")                                                  \
  D(softplus,   "sigmoid(x)")                                                                \
  D(deg2rad,    "DEG")                                                                       \
  D(rad2deg,    "1.0 / DEG")                                                                 \
  D(abs,        "sign(x)")                                                                   \
  D(relu,       "where(x > 0.0, 1.0, 0.0)")                                                  \
  D(sign,       "0.0")                                                                       \
  D(floor,      "0.0")                                                                       \
  D(ceil,       "0.0")                                                                       \
  D(trunc,      "0.0")                                                                       \
  D(rint,       "0.0")

/* binary rows: the two partials f_a, f_b */
#define DD_BINARY_DERIVATIVES(D)                                                             \
  D(arctan2,   "b * reciprocal(square(hypot(a, b)))",                                        \
               "-a * reciprocal(square(hypot(a, b)))")                                       \
  D(hypot,     "a * reciprocal(hypot(a, b))", "b * reciprocal(hypot(a, b))")                 \
  D(maximum,   "where(a > b, 1.0, where(a == b, 0.5, 0.0))",                                 \
               "where(a == b, 0.5, where(a > b, 0.0, 1.0))")                                 \
  D(minimum,   "where(a < b, 1.0, where(a == b, 0.5, 0.0))",                                 \
               "where(a == b, 0.5, where(a < b, 0.0, 1.0))")                                 \
  D(fmax,      "where((a > b) | isnan(b), 1.0, where(a == b, 0.5, 0.0))",                    \
               "where(a == b, 0.5, where((a > b) | isnan(b), 0.0, 1.0))")                    \
  D(fmin,      "where((a < b) | isnan(b), 1.0, where(a == b, 0.5, 0.0))",                    \
               "where(a == b, 0.5, where((a < b) | isnan(b), 0.0, 1.0))")                    \
  D(logaddexp, "sigmoid(a - b)", "sigmoid(b - a)")                                           \
  /* x^y is flat in y at x = 0 (the row's convention): ln taken as ln 1 = 0 there */         \
  D(power,     "b * power(a, b - 1.0)",                                                      \
               "power(a, b) * log(where((a == 0.0) & (b > 0.0), 1.0, a))")

#define DD_DERIV_OF(name, expr) expr,
#define DD_DERIV2_OF(name, ea, eb) {ea, eb},
#define DD_DNAME_OF(name, ...) #name,
static const char *const dd_unary_derivative_names[] = { DD_UNARY_DERIVATIVES(DD_DNAME_OF) 0 };
static const char *const dd_binary_derivative_names[] = { DD_BINARY_DERIVATIVES(DD_DNAME_OF) 0 };
static const char *const dd_unary_derivatives[] = { DD_UNARY_DERIVATIVES(DD_DERIV_OF) 0 };
static const char *const dd_binary_derivatives[][2] = { DD_BINARY_DERIVATIVES(DD_DERIV2_OF)
                                                        {0, 0} };

/* ---------------------------------------------------------------------------------------- */
/* Expansion of the table into inline jets, and into lists the other files iterate.         */
/* ---------------------------------------------------------------------------------------- */
#define DD_DEFINE_UNARY(name, lo, hi, shared, F, D1, D2)                                     \
  static inline dd_jet dd_jet_##name(double x) { shared; dd_jet j_ = {F, D1, D2}; return j_; }
#define DD_DEFINE_BINARY(name, lo, hi, shared, F, FA, FB, FAA, FAB, FBB)                     \
  static inline dd_jet2 dd_jet2_##name(double a, double b)                                   \
  { shared; dd_jet2 j_ = {F, FA, FB, FAA, FAB, FBB, dd_sel_}; return j_; }
DD_UNARY_RULES(DD_DEFINE_UNARY)
DD_BINARY_RULES(DD_DEFINE_BINARY)

/* Indices, names, test domains and jet pointers, so that code outside C (the Cython layer,
 * the tests) can enumerate the table instead of repeating it. */
#define DD_ENUM_U(name, ...) DD_U_##name,
#define DD_ENUM_B(name, ...) DD_B_##name,
enum { DD_UNARY_RULES(DD_ENUM_U) DD_N_UNARY };
enum { DD_BINARY_RULES(DD_ENUM_B) DD_N_BINARY };

#define DD_NAME_OF(name, ...) #name,
#define DD_DOMAIN_OF(name, lo, hi, ...) {lo, hi},
#define DD_JET_OF(name, ...) dd_jet_##name,
#define DD_JET2_OF(name, ...) dd_jet2_##name,
static const char *const dd_unary_names[] = { DD_UNARY_RULES(DD_NAME_OF) 0 };
static const char *const dd_binary_names[] = { DD_BINARY_RULES(DD_NAME_OF) 0 };
static const double dd_unary_domains[][2] = { DD_UNARY_RULES(DD_DOMAIN_OF) {0, 0} };
static const double dd_binary_domains[][2] = { DD_BINARY_RULES(DD_DOMAIN_OF) {0, 0} };

typedef dd_jet (*dd_jet_fn)(double);
typedef dd_jet2 (*dd_jet2_fn)(double, double);
static const dd_jet_fn dd_unary_jets[] = { DD_UNARY_RULES(DD_JET_OF) 0 };
static const dd_jet2_fn dd_binary_jets[] = { DD_BINARY_RULES(DD_JET2_OF) 0 };

#endif /* DUALDIFF_RULES_H */
