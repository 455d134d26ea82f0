/* hyperdual.h -- the hyper-dual number a + b*e1 + c*e2 + d*e1e2 with e1^2 = e2^2 = 0:
 * exact second derivatives (seed e1 along u and e2 along v; the e1e2 part is u^T H v).
 *
 * Pure C99 algebra, no Python: the struct, the chain rule that applies a jet of rules.h,
 * and the arithmetic. The *_e12 helpers are the per-entry formulas of the array kernels
 * (kernels.h); the e1 and e2 parts follow the dual rules (dual.h) entry by entry.
 */
#ifndef DUALDIFF_HYPERDUAL_H
#define DUALDIFF_HYPERDUAL_H

#include "dual.h"

typedef struct { double re, e1, e2, e12; } dd_hyper;

static inline dd_hyper dd_hyper_make(double re, double e1, double e2, double e12)
{ dd_hyper r = {re, e1, e2, e12}; return r; }

/* ---- per-entry formulas of the e1e2 part, shared with the kernels ---------------------- */
/* f''(u) u_1 u_2 where the row's f'' over- or underflowed (DD_FACTORED): f' q u_1 u_2 from
 * the four factors' mantissas and exponents (frexp), so no intermediate can leave the range
 * whatever their sizes (an earlier ((m s) m) t with m = sqrt|f' q| overflowed at m s m for
 * reciprocal at 1e-160, whose f'' s t is 2e160); where f' itself left the range its root r
 * gives f' = r |r| (rules.h). Three roundings and ldexp's; the tangents' mantissas meet first,
 * so the result is symmetric in them. */
static inline int dd_factored(dd_jet j)
{   /* f' (or its root) and q normal: f'' = 0 from f' = 0 (x^3 at 0, q = 2/0) is exact, not 0 inf */
    return j.q != 0.0 && !dd_normal(j.d2) && dd_normal(j.q) && (dd_normal(j.d1) || dd_rooted(j));
}
static inline double dd_second_factored(dd_jet j, double s, double t)
{
    if (s == 0.0 || t == 0.0) return 0.0;
    int ed, eq, es, et;
    double d;
    if (dd_normal(j.d1)) d = frexp(j.d1, &ed);
    else { const double r = frexp(j.r, &ed); d = r*fabs(r); ed *= 2; }
    const double q = frexp(j.q, &eq), ms = frexp(s, &es), mt = frexp(t, &et);
    return ldexp((d*q)*(ms*mt), ed + eq + es + et);
}
/* chain rule: f(u)_12 = f'(u) u_12 + f''(u) u_1 u_2. The array kernels choose between the
 * plain form and the careful one once per element (kernels.c's DD_CHAIN_E12_LOOPS). */
static inline double dd_chain_e12_plain(dd_jet j, double t1, double t2, double t12)
{ return dd_tmul(t12, j.d1) + dd_dttmul(j.d2, t1, t2); }
static inline double dd_chain_e12(dd_jet j, double t1, double t2, double t12)
{
    return dd_chain_eps_jet(j, t12) + (dd_factored(j) ? dd_second_factored(j, t1, t2)
                                                      : dd_dttmul(j.d2, t1, t2));
}
/* where dd_chain_e12_plain is dd_chain_e12: f' in range and f'' in range or not factored */
static inline int dd_chain_e12_is_plain(dd_jet j) { return !dd_rooted(j) && !dd_factored(j); }
/* binary chain rule: f_a u_12 + f_b v_12 + f_aa u_1 u_2 + f_ab (u_1 v_2 + u_2 v_1) + f_bb v_1 v_2 */
static inline double dd_chain2_e12(dd_jet2 j, double a1, double a2, double a12,
                                   double b1, double b2, double b12)
{
    if (j.sel)                            /* selection weights: no second partials */
        return dd_wmul(a12, j.a) + dd_wmul(b12, j.b);
    /* the cross term's two products are summed first (they may cancel: then 0, even where
     * f_ab is infinite); each meets f_ab alone only where their sum is out of range */
    const double x = dd_ttmul(a1, b2) + dd_ttmul(a2, b1);
    const double ab = x == 0.0 || dd_normal(x) ? dd_tmul(x, j.ab)
                                               : dd_dttmul(j.ab, a1, b2) + dd_dttmul(j.ab, a2, b1);
    /* the second-order terms first: at a tie of logaddexp (1/4, -1/2, 1/4) they cancel
     * exactly but are ~u'^2 large, and the first-order part added before them was rounded
     * away (fuzz 4343-7228: a Hessian-vector product 0 for 4e38) */
    return (dd_dttmul(j.aa, a1, a2) + ab + dd_dttmul(j.bb, b1, b2))
         + (dd_tmul(a12, j.a) + dd_tmul(b12, j.b));
}
/* product rule: (uv)_12 = u v_12 + u_12 v + u_1 v_2 + u_2 v_1 */
static inline double dd_mul_e12(double a, double a1, double a2, double a12,
                                double b, double b1, double b2, double b12)
{ return dd_tmul(b12, a) + dd_tmul(a12, b) + (dd_ttmul(a1, b2) + dd_ttmul(a2, b1)); }
/* quotient rule from q v = u differentiated twice: q_12 = (u_12 - q v_12 - q_1 v_2 - q_2 v_1)/v,
 * times rb = 1/v as in dd_div_eps */
static inline double dd_div_e12(double q, double q1, double q2, double a12,
                                double rb, double b1, double b2, double b12)
{ return dd_tmul(a12 - dd_tmul(b12, q) - (dd_ttmul(q1, b2) + dd_ttmul(q2, b1)), rb); }

/* ---- whole numbers -------------------------------------------------------------------- */
static inline dd_hyper dd_hyper_apply(dd_jet j, dd_hyper u)
{
    return dd_hyper_make(j.f, dd_chain_eps_jet(j, u.e1), dd_chain_eps_jet(j, u.e2),
                         dd_chain_e12(j, u.e1, u.e2, u.e12));
}
static inline dd_hyper dd_hyper_apply2(dd_jet2 j, dd_hyper u, dd_hyper v)
{
    return dd_hyper_make(j.f, dd_chain2_eps(j, u.e1, v.e1), dd_chain2_eps(j, u.e2, v.e2),
                         dd_chain2_e12(j, u.e1, u.e2, u.e12, v.e1, v.e2, v.e12));
}

static inline dd_hyper dd_hyper_add(dd_hyper u, dd_hyper v)
{ return dd_hyper_make(u.re + v.re, u.e1 + v.e1, u.e2 + v.e2, u.e12 + v.e12); }
static inline dd_hyper dd_hyper_sub(dd_hyper u, dd_hyper v)
{ return dd_hyper_make(u.re - v.re, u.e1 - v.e1, u.e2 - v.e2, u.e12 - v.e12); }
static inline dd_hyper dd_hyper_neg(dd_hyper u) { return dd_hyper_make(-u.re, -u.e1, -u.e2, -u.e12); }
static inline dd_hyper dd_hyper_mul(dd_hyper u, dd_hyper v)
{
    return dd_hyper_make(u.re*v.re, dd_mul_eps(u.re, u.e1, v.re, v.e1),
                         dd_mul_eps(u.re, u.e2, v.re, v.e2),
                         dd_mul_e12(u.re, u.e1, u.e2, u.e12, v.re, v.e1, v.e2, v.e12));
}
static inline dd_hyper dd_hyper_div(dd_hyper u, dd_hyper v)
{
    double q = u.re/v.re, rb = 1.0/v.re;
    double q1 = dd_div_eps(q, u.e1, rb, v.e1), q2 = dd_div_eps(q, u.e2, rb, v.e2);
    return dd_hyper_make(q, q1, q2, dd_div_e12(q, q1, q2, u.e12, rb, v.e1, v.e2, v.e12));
}

#define DD_HYPER_UNARY(name, ...)                                                            \
  static inline dd_hyper dd_hyper_##name(dd_hyper u) { return dd_hyper_apply(dd_jet_##name(u.re), u); }
#define DD_HYPER_BINARY(name, ...)                                                           \
  static inline dd_hyper dd_hyper_##name(dd_hyper u, dd_hyper v)                             \
  { return dd_hyper_apply2(dd_jet2_##name(u.re, v.re), u, v); }
DD_UNARY_RULES(DD_HYPER_UNARY)
DD_BINARY_RULES(DD_HYPER_BINARY)

static inline dd_hyper dd_hyper_powc(dd_hyper u, double p) { return dd_hyper_apply(dd_jet_powc(u.re, p), u); }

#endif /* DUALDIFF_HYPERDUAL_H */
