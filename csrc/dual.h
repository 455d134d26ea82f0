/* dual.h -- the dual number a + b*eps with eps^2 = 0: first derivatives.
 *
 * Pure C99 algebra, no Python: the struct, the chain rule that applies a jet of rules.h,
 * and the arithmetic (sum, product and quotient rules). Every function here is also the
 * per-element formula of the array kernels (kernels.h), which call the *_eps helpers on
 * each tangent entry, so a Dual scalar and a dual array cannot disagree.
 */
#ifndef DUALDIFF_DUAL_H
#define DUALDIFF_DUAL_H

#include "rules.h"

typedef struct { double re, eps; } dd_dual;

static inline dd_dual dd_dual_make(double re, double eps) { dd_dual r = {re, eps}; return r; }

/* ---- per-tangent formulas, shared with the kernels ----------------------------------- */
/* chain rule: f(u) has tangent f'(u) u' */
static inline double dd_chain_eps(double d1, double t) { return dd_tmul(t, d1); }
/* the same from a jet: where f' left the range but its root r did not (rules.h,
 * DD_ROOTED), r meets the tangent first, then |r|: if |r| > 1, r t cannot overflow unless
 * the result does; if |r| < 1, |r t| <= |t| (and the same for underflow). Rows without r
 * fold to the plain product at compile time. */
static inline int dd_rooted(dd_jet j) { return j.rooted && !dd_normal(j.d1) && dd_normal(j.r); }
/* the array kernels' test, without a branch: f' of a row with a root is out of range */
static inline int dd_may_root(dd_jet j)
{ return j.rooted & !((fabs(j.d1) >= 0x1p-1022) & (fabs(j.d1) <= 0x1.fffffffffffffp+1023)); }
static inline double dd_chain_eps_jet(dd_jet j, double t)
{ return dd_rooted(j) ? (t == 0.0 ? 0.0 : (j.r*t)*fabs(j.r)) : dd_tmul(t, j.d1); }
/* binary chain rule: f(u, v) has tangent f_u u' + f_v v' */
static inline double dd_chain2_eps(dd_jet2 j, double ta, double tb)
{ return j.sel ? dd_wmul(ta, j.a) + dd_wmul(tb, j.b) : dd_tmul(ta, j.a) + dd_tmul(tb, j.b); }
/* product rule: (uv)' = u v' + u' v; a constant factor (zero tangent) contributes exactly 0,
 * so inf * 2 has derivative 2, not inf*0 = NaN (the convention of dd_tmul) */
static inline double dd_mul_eps(double a, double ta, double b, double tb)
{ return dd_tmul(tb, a) + dd_tmul(ta, b); }
/* quotient rule, in the form that reuses the quotient q = u/v: (u/v)' = (u' - q v') / v,
 * multiplied by rb = 1/v rather than divided by v: an array element carries k directions
 * and one reciprocal serves them all (a division per direction would dominate; the cost
 * is one extra rounding, half an ulp) */
static inline double dd_div_eps(double q, double ta, double rb, double tb)
{ return dd_tmul(ta - dd_tmul(tb, q), rb); }

/* ---- whole numbers -------------------------------------------------------------------- */
static inline dd_dual dd_dual_apply(dd_jet j, dd_dual u)
{ return dd_dual_make(j.f, dd_chain_eps_jet(j, u.eps)); }
static inline dd_dual dd_dual_apply2(dd_jet2 j, dd_dual u, dd_dual v)
{ return dd_dual_make(j.f, dd_chain2_eps(j, u.eps, v.eps)); }

static inline dd_dual dd_dual_add(dd_dual u, dd_dual v) { return dd_dual_make(u.re + v.re, u.eps + v.eps); }
static inline dd_dual dd_dual_sub(dd_dual u, dd_dual v) { return dd_dual_make(u.re - v.re, u.eps - v.eps); }
static inline dd_dual dd_dual_neg(dd_dual u) { return dd_dual_make(-u.re, -u.eps); }
static inline dd_dual dd_dual_mul(dd_dual u, dd_dual v)
{ return dd_dual_make(u.re*v.re, dd_mul_eps(u.re, u.eps, v.re, v.eps)); }
static inline dd_dual dd_dual_div(dd_dual u, dd_dual v)
{ double q = u.re/v.re; return dd_dual_make(q, dd_div_eps(q, u.eps, 1.0/v.re, v.eps)); }

#define DD_DUAL_UNARY(name, ...)                                                             \
  static inline dd_dual dd_dual_##name(dd_dual u) { return dd_dual_apply(dd_jet_##name(u.re), u); }
#define DD_DUAL_BINARY(name, ...)                                                            \
  static inline dd_dual dd_dual_##name(dd_dual u, dd_dual v)                                 \
  { return dd_dual_apply2(dd_jet2_##name(u.re, v.re), u, v); }
DD_UNARY_RULES(DD_DUAL_UNARY)
DD_BINARY_RULES(DD_DUAL_BINARY)

static inline dd_dual dd_dual_powc(dd_dual u, double p) { return dd_dual_apply(dd_jet_powc(u.re, p), u); }

#endif /* DUALDIFF_DUAL_H */
