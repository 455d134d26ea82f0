/* exp.h -- e^x in a form the array loops can vectorize. Pure C99.
 *
 * glibc's exp is a call the compiler cannot vectorize (5 to 7 ns an element here); this one
 * is branch-free straight-line arithmetic, so the kernels' loops run it 4 to 8 lanes wide,
 * and the scalar types call the same function, so arrays and scalars still agree bit for
 * bit. The method is the classic table one (as in ARM's optimized-routines and glibc):
 *
 *   x = (k/N) ln2 + r, |r| <= ln2/(2N), N = 128    (Cody-Waite: ln2/N in two parts)
 *   e^x = 2^(k div N) * 2^((k mod N)/N) * e^r       (table exp_table.h, hi + lo)
 *   e^r - 1 = r + r^2 (1/2 + r/6 + r^2/24 + r^3/120)   (truncation < 6e-19 relative)
 *
 * The last addition T + (T p + T_lo) is the only rounding that matters, so the result is
 * within about half an ulp of e^x. Overflow gives inf and underflow 0 (and subnormals,
 * rounded once, by scaling in two steps); NaN passes through.
 */
#ifndef DUALDIFF_EXP_H
#define DUALDIFF_EXP_H

#include <math.h>
#include <stdint.h>
#include "exp_table.h"
/* bit casts through a union (allowed in C99): unlike memcpy they leave the value in a
 * register, which the vectorizer needs */
typedef union { double d; uint64_t u; } dd_pun;
static inline uint64_t dd_bits(double x) { dd_pun p; p.d = x; return p.u; }
static inline double dd_double(uint64_t u) { dd_pun p; p.u = u; return p.d; }

static inline double dd_exp(double x)
{
    const double shift = 0x1.8p52;                      /* adding it rounds to an integer */
    const double n_over_ln2 = 0x1.71547652b82fep+7;
    const double ln2n_hi = 0x1.62e42fee00000p-8;        /* 32 bits: k*hi is exact */
    const double ln2n_lo = 0x1.a39ef35793c76p-40;
    double t = x*n_over_ln2 + shift;
    double kd = t - shift;
    int64_t k = (int64_t)(dd_bits(t) - dd_bits(shift));
    double r = (x - kd*ln2n_hi) - kd*ln2n_lo;
    double p = r + (r*r)*(0.5 + r*(1.0/6.0 + r*(1.0/24.0 + r*(1.0/120.0))));
    int64_t j = k & (DD_EXP_N - 1);
    double y = dd_exp_hi[j] + (dd_exp_hi[j]*p + dd_exp_lo[j]);
    /* 2^(k div N) applied in two halves: each factor is a normal number, and a subnormal
     * result is rounded once, by the second multiplication */
    int64_t e = k >> 7;                                  /* floor division by N = 128 */
    int64_t e1 = e >> 1, e2 = e - e1;
    y = (y*dd_double((uint64_t)(e1 + 1023) << 52))*dd_double((uint64_t)(e2 + 1023) << 52);
    /* beyond +-750 the reduction above overflows k (the table index stays masked, so no
     * harm): the answer there is inf or 0; selects at the end, not a clamp at the start,
     * because only this form vectorizes */
    y = x > 750.0 ? (double)INFINITY : y;
    y = x < -750.0 ? 0.0 : y;
    return x != x ? x : y;
}

#endif /* DUALDIFF_EXP_H */
