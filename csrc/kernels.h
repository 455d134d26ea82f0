/* kernels.h -- compiled loops over dual arrays, expanded from the rule table. Pure C99.
 *
 * Layout. An array x of n elements carrying k directions stores its values in x[n] and its
 * tangents (its e part) in xe[n*k], directions last: xe[i*k + p] is the derivative of element
 * i along direction p. One jet per element (one call of sin and cos, say) then serves all k
 * directions from adjacent memory. Second order (hyper-dual) arrays carry the parts e1, e2
 * and e12 (xe1[n*k1], xe2[n*k2], xe12[n*k1*k2], entry (p, q) of element i at
 * i*k1*k2 + p*k2 + q): the names of dd_hyper's fields, and of HyperDual's eps1, eps2, eps12.
 * Operands are x (unary) or a and b (binary), the result y, each with its parts.
 *
 * Every loop body calls the per-entry helpers of dual.h and hyperdual.h (dd_chain_eps,
 * dd_mul_eps, dd_chain_e12, ...) that the scalar types call, so an array element and the
 * scalar Dual or HyperDual computed from the same inputs agree bit for bit.
 *
 * Binary kernels take each operand either whole (stride 1) or as one element broadcast over
 * the whole output (stride 0); a constant operand passes NULL tangents and is treated as a
 * dual number with zero tangent, exactly as the scalar types coerce a float. Any other
 * broadcasting is materialised by the caller.
 *
 * Every kernel returns nonzero if some value came out non-finite from finite inputs, so the
 * caller can let numpy emit its usual warning (division by zero, log of a negative, ...).
 *
 * Outputs are restrict: they are always fresh arrays, and the promise lets loops that read a
 * table (dd_exp) vectorize. Loop indices are ptrdiff_t, never int: Python builds extensions with -fwrapv, under which
 * an int index may wrap, so GCC cannot treat p*k2 + q as an affine address and leaves the
 * second-order loops scalar (measured 3.5x slower).
 */
#ifndef DUALDIFF_KERNELS_H
#define DUALDIFF_KERNELS_H

#include <stddef.h>

/* The kernels live in kernels.c, one translation unit compiled once (with -O3 and one clone
 * per instruction set) and linked into both extension modules; this header declares them. */

/* Operations of the binary kernels: the arithmetic operators, then the binary rules. */
enum { DD_OP_ADD, DD_OP_SUB, DD_OP_MUL, DD_OP_DIV, DD_OP_RULE0 };

/* ---- rules of the table (csrc/rules.h), elementwise; nonzero return: a non-finite value
 * came out of finite inputs (the caller replays numpy's warning) --------------------------- */
int dd_unary1(int code, ptrdiff_t n, int k, const double *x, const double *xe,
              double *restrict y, double *restrict ye);
int dd_powc1(double pw, ptrdiff_t n, int k, const double *x, const double *xe,
             double *restrict y, double *restrict ye);
int dd_binary1(int op, ptrdiff_t n, int k,
               const double *a, ptrdiff_t sa, const double *ae,
               const double *b, ptrdiff_t sb, const double *be,
               double *restrict y, double *restrict ye);
/* Second order: xe12, ae12, be12 may be NULL for a zero e12 when k1*k2 <= DD_ZERO12_MAX */
#define DD_ZERO12_MAX 4096
extern const double dd_zero12[DD_ZERO12_MAX];
int dd_unary2(int code, ptrdiff_t n, int k1, int k2, const double *x,
              const double *xe1, const double *xe2, const double *xe12,
              double *restrict y, double *restrict ye1, double *restrict ye2,
              double *restrict ye12);
int dd_powc2(double pw, ptrdiff_t n, int k1, int k2, const double *x,
             const double *xe1, const double *xe2, const double *xe12,
             double *restrict y, double *restrict ye1, double *restrict ye2,
             double *restrict ye12);
int dd_binary2(int op, ptrdiff_t n, int k1, int k2,
               const double *a, ptrdiff_t sa,
               const double *ae1, const double *ae2, const double *ae12,
               const double *b, ptrdiff_t sb,
               const double *be1, const double *be2, const double *be12,
               double *restrict y, double *restrict ye1, double *restrict ye2,
               double *restrict ye12);

/* ---- the chain rule with derivatives given as arrays (functions registered from Python,
 * whose f', f'' are computed elsewhere): one varying argument (d1 = f', d2 = f'') or two
 * (j2 holds the five partials per element as a, b, aa, ab, bb arrays; f unused) ------------ */
void dd_given1(ptrdiff_t n, int k, const double *d1, const double *xe, double *restrict ye);
void dd_given2(ptrdiff_t n, int k1, int k2, const double *d1, const double *d2,
               const double *xe1, const double *xe2, const double *xe12,
               double *restrict ye1, double *restrict ye2, double *restrict ye12);
void dd_given_binary1(ptrdiff_t n, int k, const double *da, const double *db,
                      const double *ae, const double *be, double *restrict ye);
void dd_given_binary2(ptrdiff_t n, int k1, int k2, const double *const partials[5],
                      const double *ae1, const double *ae2, const double *ae12,
                      const double *be1, const double *be2, const double *be12,
                      double *restrict ye1, double *restrict ye2, double *restrict ye12);

/* ---- what has loops of its own at small widths (kernels.c, "small fixed widths"), for the
 * tests that compare them with the scalar types: the first-order k, ended by 0; the
 * second-order (k1, k2) pairs, ended by {0, 0}; and the unary rules by name, ended by NULL
 * (besides x**p and the four arithmetic operations) */
extern const int dd_small1_widths[];
extern const int dd_small_widths[][2];
extern const char *const dd_small_unary[];

/* ---- sums in numpy's pairwise order ------------------------------------------------------ */
void dd_pairwise_rows(const double *a, ptrdiff_t n, int k, double *out, double *acc);
void dd_pairwise_rows_range(const double *a, ptrdiff_t n, ptrdiff_t lo, ptrdiff_t hi,
                            int k, double *out, double *acc);
ptrdiff_t dd_pairwise_scratch(ptrdiff_t n, int k);

#endif /* DUALDIFF_KERNELS_H */
