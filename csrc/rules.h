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

typedef struct { double f, d1, d2; } dd_jet;                 /* f, f', f'' at x         */
typedef struct { double f, a, b, aa, ab, bb; } dd_jet2;      /* f and partials at (a,b) */

#define DD_LN2     0.693147180559945309417232121458176568
#define DD_LN10    2.30258509299404568401799145468436421
#define DD_2_SQRTPI 1.12837916709551257389615890312154517   /* 2/sqrt(pi), erf' at 0 */
#define DD_DEG     0.0174532925199432957692369076848861271  /* pi/180 */

/* Tangent times derivative. A zero tangent contributes exactly zero even where the
 * derivative is infinite or NaN (sqrt'(0), log'(0), d(x^y)/dy for x < 0): the direction does
 * not move that input, so the directional derivative is 0, not 0*inf = NaN. Without this a
 * gradient of sum(sqrt(x)) at x = [0, 1] would be NaN in every direction, not only the first. */
static inline double dd_tmul(double t, double d) { return t == 0.0 ? 0.0 : t * d; }

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
  R(log,       0.01,  10,   double r = 1.0/x,                     log(x),   r,          -r*r)  \
  /* log1p keeps precision near 0; 1+x is exact enough for the derivatives (relative 1 ulp) */ \
  R(log1p,     -0.9,  10,   double r = 1.0/(1.0 + x),             log1p(x), r,          -r*r)  \
  R(log2,      0.01,  10,   double r = 1.0/(x*DD_LN2),            log2(x),  r,          -r/x)  \
  R(log10,     0.01,  10,   double r = 1.0/(x*DD_LN10),           log10(x), r,          -r/x)  \
  /* sqrt'(0) = +inf and sqrt''(0) = -inf by IEEE arithmetic, the documented convention;     \
     f'' = -1/(4 x^1.5) = -2 f'^3: multiplications instead of a second division */            \
  R(sqrt,      0.01,  10,   double s = sqrt(x); double r = 0.5/s, s,        r,          -2.0*r*r*r) \
  R(cbrt,      -10,   10,   double c = cbrt(x); double r = 1.0/(3.0*c*c), c,  r,          -2.0*r/(3.0*x)) \
  R(square,    -5,    5,    ,                                     x*x,      2.0*x,      2.0)   \
  R(reciprocal,0.1,   5,    double r = 1.0/x,                     r,        -r*r,       2.0*r*r*r) \
  R(sin,       -6,    6,    double s = sin(x); double c = cos(x), s,        c,          -s)    \
  R(cos,       -6,    6,    double s = sin(x); double c = cos(x), c,        -s,         -c)    \
  R(tan,       -1.4,  1.4,  double t = tan(x); double u = 1.0 + t*t, t,     u,          2.0*t*u) \
  /* (1-x)(1+x) instead of 1-x*x: no cancellation as |x| -> 1 */                               \
  R(arcsin,    -0.99, 0.99, double r = 1.0/sqrt((1.0 - x)*(1.0 + x)), asin(x), r,        x*r*r*r) \
  R(arccos,    -0.99, 0.99, double r = 1.0/sqrt((1.0 - x)*(1.0 + x)), acos(x), -r,       -x*r*r*r) \
  R(arctan,    -10,   10,   double r = 1.0/(1.0 + x*x),           atan(x),  r,          -2.0*x*r*r) \
  R(sinh,      -5,    5,    double s = sinh(x); double c = cosh(x), s,      c,          s)     \
  R(cosh,      -5,    5,    double s = sinh(x); double c = cosh(x), c,      s,          c)     \
  /* 1/cosh^2 instead of 1 - tanh^2: the latter cancels to 0 for |x| > 19 */                  \
  R(tanh,      -5,    5,    double t = tanh(x); double c = cosh(x); double r = 1.0/(c*c), t, r, -2.0*t*r) \
  /* hypot(x, 1) instead of sqrt(x*x + 1): no overflow for |x| > 1e154 */                      \
  R(arcsinh,   -10,   10,   double r = 1.0/hypot(x, 1.0),         asinh(x), r,          -x*r*r*r) \
  R(arccosh,   1.01,  10,   double r = 1.0/sqrt((x - 1.0)*(x + 1.0)), acosh(x), r,       -x*r*r*r) \
  R(arctanh,   -0.99, 0.99, double r = 1.0/((1.0 - x)*(1.0 + x)),  atanh(x), r,          2.0*x*r*r) \
  R(erf,       -3,    3,    double g = DD_2_SQRTPI*dd_exp(-x*x),  erf(x),   g,          -2.0*x*g) \
  R(erfc,      -3,    3,    double g = DD_2_SQRTPI*dd_exp(-x*x),  erfc(x),  -g,         2.0*x*g) \
  /* sigmoid from e^-|x| only, never e^+|x|: no overflow; and f' = s*(1-s) with 1-s = c       \
     computed directly, because 1 - s rounds to 0 for x > 37 while s*c stays exact */          \
  R(sigmoid,   -30,   30,   DD_SIGMOID_SHARED,                    s,        s*c,        s*c*(c - s)) \
  /* softplus = max(x,0) + log1p(e^-|x|): no overflow, full precision for large |x| */         \
  R(softplus,  -30,   30,   DD_SIGMOID_SHARED,                    (x > 0.0 ? x : 0.0) + log1p(e), s, s*c) \
  R(deg2rad,   -360,  360,  ,                                     x*DD_DEG, DD_DEG,     0.0)   \
  R(rad2deg,   -6,    6,    ,                                     x/DD_DEG, 1.0/DD_DEG, 0.0)   \
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
  /* arctan2(a, b) is atan(a/b) with the quadrant of (b, a): numpy's argument order (y, x) */ \
  B(arctan2,  -5,  5,  double r = 1.0/(a*a + b*b),     atan2(a, b), b*r,    -a*r,               \
    -2.0*a*b*r*r, (a*a - b*b)*r*r, 2.0*a*b*r*r)                                                \
  B(hypot,    -5,  5,  double h = hypot(a, b); double i = 1.0/h, h, a*i,  b*i,                 \
    b*b*i*i*i, -a*b*i*i*i, a*a*i*i*i)                                                          \
  /* ties give half to each argument (subgradient midpoint, as JAX); NaN wins, as in numpy */ \
  B(maximum,  -5,  5,  DD_TIE_SHARED(a > b),           DD_PICK(a > b || a != a, a, b),        \
    wa, wb, 0.0, 0.0, 0.0)                                                                     \
  B(minimum,  -5,  5,  DD_TIE_SHARED(a < b),           DD_PICK(a < b || a != a, a, b),        \
    wa, wb, 0.0, 0.0, 0.0)                                                                     \
  /* fmax/fmin ignore a NaN argument (numpy): the derivative follows the argument returned */ \
  B(fmax,     -5,  5,  DD_TIE_SHARED(a > b || b != b), fmax(a, b), wa, wb, 0.0, 0.0, 0.0)     \
  B(fmin,     -5,  5,  DD_TIE_SHARED(a < b || b != b), fmin(a, b), wa, wb, 0.0, 0.0, 0.0)     \
  /* logaddexp = max + log1p(e^-|a-b|): no overflow; equal arguments (also +-inf) give a+ln2 */\
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
  double wa = (a_wins) ? 1.0 : (a == b ? 0.5 : 0.0);                                         \
  double wb = (a == b) ? 0.5 : 1.0 - wa
#define DD_SIGMOID_SHARED                                                                    \
  double e = dd_exp(-fabs(x)); double p = 1.0/(1.0 + e);                                     \
  double s = x >= 0.0 ? p : e*p; double c = x >= 0.0 ? e*p : p
#define DD_LOGADDEXP_SHARED                                                                  \
  double e = (a == b) ? 1.0 : dd_exp(-fabs(a - b)); double p = 1.0/(1.0 + e);                \
  double sa = a >= b ? p : e*p; double sb = a >= b ? e*p : p;                                \
  double f_ = (a == b) ? a + DD_LN2 : (a > b ? a : b) + log1p(e)

/* ---------------------------------------------------------------------------------------- */
/* Special cases: each is a limit or a convention, not a formula.                           */
/* ---------------------------------------------------------------------------------------- */

/* x^p with a constant exponent p (x ** 2.5, x ** 3).
 * - p == 0: x^0 = 1 everywhere; p*x^(p-1) would be 0*inf = NaN at x = 0.
 * - p == 1: the second derivative is 0; p*(p-1)*x^(p-2) would be 0*inf at x = 0.
 * - p == 2: x*x exactly (what numpy's square does) and exact derivatives 2x, 2.
 * - x == 0, p > 1: value 0 and derivative 0 come out of the formula (0^(p-1) = 0).
 * - x < 0, integer p: pow is real and so are p*x^(p-1) and p(p-1)x^(p-2).
 * The derivatives reuse f/x when f is a normal number (one division instead of a pow call,
 * within 2 ulp); near 0, overflow or underflow they fall back to pow, which stays exact. */
static inline dd_jet dd_jet_powc(double x, double p)
{
    dd_jet j;
    if (p == 2.0) { j.f = x*x; j.d1 = 2.0*x; j.d2 = 2.0; return j; }
    j.f = pow(x, p);
    if (p == 0.0) { j.d1 = 0.0; j.d2 = 0.0; return j; }
    j.d1 = isnormal(j.f) && isnormal(x) ? p*(j.f/x) : p*pow(x, p - 1.0);
    if (p == 1.0) { j.d2 = 0.0; return j; }
    j.d2 = isnormal(j.d1) && isnormal(x) ? (p - 1.0)*(j.d1/x) : p*(p - 1.0)*pow(x, p - 2.0);
    return j;
}

/* a^b with both arguments varying. The a-partials are those of x^p above.
 * - a == 0, b > 0: d/db = a^b * ln a is 0*(-inf); its limit as a -> 0+ is 0, so ln a is taken
 *   as 0 there (x^y at 0 is flat in y).
 * - a < 0: ln a is not real, so the b-partials are NaN; dd_tmul keeps them out of results
 *   whenever the exponent is a constant (tangent 0), e.g. (-2)^3 differentiated in a. */
static inline dd_jet2 dd_power_jet2(double a, double b)
{
    dd_jet2 j;
    dd_jet pa = dd_jet_powc(a, b);
    double l = (a == 0.0 && b > 0.0) ? 0.0 : log(a);
    j.f = pa.f;
    j.a = pa.d1;
    j.aa = pa.d2;
    j.b = pa.f*l;
    j.bb = pa.f*l*l;
    /* d/db (b a^(b-1)) = a^(b-1) + b a^(b-1) ln a = a^(b-1) (1 + b ln a) */
    j.ab = (b == 0.0 ? 1.0/a : pa.d1/b)*(1.0 + b*l);
    if (a == 0.0 && b > 0.0) j.ab = b == 1.0 ? 1.0 : (b > 1.0 ? 0.0 : INFINITY);
    return j;
}

/* ---------------------------------------------------------------------------------------- */
/* Expansion of the table into inline jets, and into lists the other files iterate.         */
/* ---------------------------------------------------------------------------------------- */
#define DD_DEFINE_UNARY(name, lo, hi, shared, F, D1, D2)                                     \
  static inline dd_jet dd_jet_##name(double x) { shared; dd_jet j_ = {F, D1, D2}; return j_; }
#define DD_DEFINE_BINARY(name, lo, hi, shared, F, FA, FB, FAA, FAB, FBB)                     \
  static inline dd_jet2 dd_jet2_##name(double a, double b)                                   \
  { shared; dd_jet2 j_ = {F, FA, FB, FAA, FAB, FBB}; return j_; }
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
