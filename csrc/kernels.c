/* kernels.c -- the compiled loops over dual arrays declared in kernels.h. Pure C99.
 *
 * One translation unit, compiled once into a static library (setup.py) that both extension
 * modules link: the dual arrays' kernels and, entry by entry, the same loops for the scalar
 * types' multi-direction forms.
 */
#include "kernels.h"
#include "hyperdual.h"

/* Kernels are compiled once per instruction set and picked at load time (GCC/clang
 * function multiversioning): a portable wheel still runs AVX-512 loops where the CPU has
 * them. IEEE +, -, *, / and sqrt round the same in every clone, and setup.py forbids
 * contraction into FMA, so every clone gives the same bits as the scalar types. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(DD_NO_CLONES)
#define DD_KERNEL __attribute__((target_clones("default", "avx2", "avx512f")))
#else
#define DD_KERNEL
#endif


/* & rather than &&: no branch, so the loops stay vectorizable */
#define DD_BAD1(y, x) ((isfinite(y) == 0) & (isfinite(x) != 0))
#define DD_BAD2(y, a, b) ((isfinite(y) == 0) & (isfinite(a) != 0) & (isfinite(b) != 0))

/* ---------------------------------------------------------------------------------------- */
/* first order                                                                               */
/* ---------------------------------------------------------------------------------------- */

/* The tangents of one element, by the root of f' (rules.h, DD_ROOTED) where f' of a row with a
 * root is out of range. The second-order loops test per element (DD_CHAIN_EPS_LOOP). The
 * first-order loops keep their plain product, note such elements in `root` (a constant 0 for
 * rows without a root) and have dd_unary1_roots repair them after: a test inside the loops
 * made log's at k = 8 1.6x longer in instructions, and a repair loop in every case of the
 * switch cost exp's loop at k = 1 its vectorization (4x slower). */
#define DD_CHAIN_EPS_LOOP(j, k, x, y)                                                        \
    if (dd_rooted(j)) dd_chain_eps_rooted(j, k, x, y);                                      \
    else { for (ptrdiff_t p = 0; p < k; p++) y[p] = dd_chain_eps(j.d1, x[p]); }
/* The careful forms are out of line, one copy for all rows: inlined into every row of every
 * kernel they used up GCC's growth budget for the whole file, which then left dd_exp and
 * several jets uninlined and exp's loop at k = 1 unvectorized (4x slower). They run only for
 * elements at the edges of the range. */
__attribute__((noinline, cold))
static void dd_chain_eps_rooted(dd_jet j, ptrdiff_t k, const double *x, double *y)
{ for (ptrdiff_t p = 0; p < k; p++) y[p] = dd_chain_eps_jet(j, x[p]); }
__attribute__((noinline, cold))
static void dd_chain_e12_careful(dd_jet j, ptrdiff_t k1, ptrdiff_t k2, const double *x1,
                                 const double *x2, const double *x12, double *y12)
{
    for (ptrdiff_t p = 0; p < k1; p++)
        for (ptrdiff_t q = 0; q < k2; q++)
            y12[p*k2 + q] = dd_chain_e12(j, x1[p], x2[q], x12[p*k2 + q]);
}
#define DD_UNARY1_ROOTS(JET)                                                                 \
    for (ptrdiff_t i = 0; i < n; i++) {                                                      \
        const dd_jet j = JET;                                                                \
        if (dd_rooted(j))                                                                    \
            for (ptrdiff_t p = 0; p < k; p++) ye[i*k + p] = dd_chain_eps_jet(j, xe[i*k + p]); \
    }
#define DD_SMALL_POWC (-1)      /* the code of x ** p among the rules' codes */
__attribute__((noinline, cold))
static void dd_unary1_roots(int code, double pw, ptrdiff_t n, ptrdiff_t k, const double *x,
                            const double *xe, double *ye)
{
    switch (code) {
    case DD_SMALL_POWC: DD_UNARY1_ROOTS(dd_jet_powc(x[i], pw)) break;
#define DD_CASE(name, ...) case DD_U_##name: DD_UNARY1_ROOTS(dd_jet_##name(x[i])) break;
    DD_UNARY_RULES(DD_CASE)
#undef DD_CASE
    }
}

/* One direction (jvp, derivative of array code) is a loop of its own: the element loop
 * then has no inner loop and vectorizes wherever the jet has no libm call. CODE and PW name
 * the row for dd_unary1_roots. */
#define DD_UNARY1_LOOP(JET, CODE, PW)                                                        \
    if (k == 0) {                 /* values only (dd.sigmoid of a plain array): vectorizes */ \
        for (ptrdiff_t i = 0; i < n; i++) {                                                  \
            const dd_jet j = JET;                                                            \
            y[i] = j.f;                                                                      \
            bad |= DD_BAD1(j.f, x[i]);                                                       \
        }                                                                                    \
    } else {                                                                                 \
        int root = 0;                                                                        \
        if (k == 1) {                                                                        \
            for (ptrdiff_t i = 0; i < n; i++) {                                              \
                const dd_jet j = JET;                                                        \
                y[i] = j.f;                                                                  \
                bad |= DD_BAD1(j.f, x[i]);                                                   \
                root |= dd_may_root(j);                                                      \
                ye[i] = dd_chain_eps(j.d1, xe[i]);                                           \
            }                                                                                \
        } else                                                                               \
        for (ptrdiff_t i = 0; i < n; i++) {                                                  \
            const dd_jet j = JET;                                                            \
            const double *xei = xe + i*k;                                                    \
            double *yei = ye + i*k;                                                          \
            y[i] = j.f;                                                                      \
            bad |= DD_BAD1(j.f, x[i]);                                                       \
            root |= dd_may_root(j);                                                          \
            for (ptrdiff_t p = 0; p < k; p++) yei[p] = dd_chain_eps(j.d1, xei[p]);           \
        }                                                                                    \
        if (root) dd_unary1_roots(CODE, PW, n, k, x, xe, ye);                                \
    }

/* One loop of a binary kernel. VAL computes the value from av, bv (and declares what TAN
 * needs); TAN(A, B) is the tangent from the operands' tangents A, B along one direction. */
#define DD_BINARY1_LOOP(VAL, TAN, A, B)                                                      \
    for (ptrdiff_t i = 0; i < n; i++) {                                                      \
        const double av = a[i*sa], bv = b[i*sb];                                             \
        const double *aei = ae ? ae + i*sa*k : 0, *bei = be ? be + i*sb*k : 0;               \
        double *yei = ye + i*k;                                                              \
        (void)aei; (void)bei;                 /* one of them unused for a constant operand */ \
        VAL;                                                                                 \
        bad |= DD_BAD2(y[i], av, bv);                                                        \
        for (ptrdiff_t p = 0; p < k; p++) yei[p] = TAN(A, B);                                       \
    }
/* one direction: flat loops that vectorize, for whole operands (IA, IB = i) and for one
 * side a broadcast element (index 0); A, B read the tangents, 0.0 for a constant */
#define DD_BINARY1_FLAT(VAL, TAN, IA, IB, A, B)                                              \
    for (ptrdiff_t i = 0; i < n; i++) {                                                      \
        const double av = a[IA], bv = b[IB];                                                 \
        VAL;                                                                                 \
        bad |= DD_BAD2(y[i], av, bv);                                                        \
        ye[i] = TAN(A, B);                                                                    \
    }
#define DD_BINARY1_FLATS(VAL, TAN, IA, IB)                                                   \
    if (ae && be) { DD_BINARY1_FLAT(VAL, TAN, IA, IB, ae[IA], be[IB]) }                      \
    else if (ae)  { DD_BINARY1_FLAT(VAL, TAN, IA, IB, ae[IA], 0.0) }                         \
    else if (be)  { DD_BINARY1_FLAT(VAL, TAN, IA, IB, 0.0, be[IB]) }                         \
    else          { DD_BINARY1_FLAT(VAL, TAN, IA, IB, 0.0, 0.0) }
/* the cases of which operands carry tangents, so the compiler drops the zero terms. Each
 * branch tests its own pointer: in a bare `else` for "b carries them" GCC cannot assume be
 * is not NULL, keeps the select of bei = be ? ... : 0 in the loop, and a plain array times a
 * dual scalar (P * s, k = 3) ran 1.5x the time of s * P */
#define DD_BINARY1(VAL, TAN)                                                                 \
    if (k == 1 && sa == 1 && sb == 1) { DD_BINARY1_FLATS(VAL, TAN, i, i) }                   \
    else if (k == 1 && sa == 0 && sb == 1) { DD_BINARY1_FLATS(VAL, TAN, 0, i) }              \
    else if (k == 1 && sa == 1 && sb == 0) { DD_BINARY1_FLATS(VAL, TAN, i, 0) }              \
    else if (ae && be) { DD_BINARY1_LOOP(VAL, TAN, aei[p], bei[p]) }                         \
    else if (ae)  { DD_BINARY1_LOOP(VAL, TAN, aei[p], 0.0) }                                 \
    else if (be)  { DD_BINARY1_LOOP(VAL, TAN, 0.0, bei[p]) }                                 \
    else          { DD_BINARY1_LOOP(VAL, TAN, 0.0, 0.0) }

#define DD_ADD_EPS(A, B) ((A) + (B))
#define DD_SUB_EPS(A, B) ((A) - (B))
#define DD_MUL_EPS(A, B) dd_mul_eps(av, A, bv, B)
#define DD_DIV_EPS(A, B) dd_div_eps(y[i], A, rb, B)
#define DD_RULE_EPS(A, B) dd_chain2_eps(j, A, B)

/* the code of a constant power in the small-width kernels (dd_unary1_K, dd_unary2_KxK) */
/* unary rules with small-width loops (their jets: a few flops, dd_exp's table, one log) */
#define DD_SMALL_UNARY(U) U(square) U(reciprocal) U(sqrt) U(exp) U(log) U(abs)

/* Small widths, first order: as for second order below ("small fixed widths"), sweeps of 2
 * to 8 directions (a sparse Jacobian's colours: 3 for a tridiagonal pattern, 5 for a 2-D
 * five-point stencil) get loops with k constant for the arithmetic, x**p and the cheap rules
 * of DD_SMALL_UNARY; the generic loops' inner trip count of k cost more in loop control than
 * the arithmetic (callgrind, the Bratu Jacobian's five colours: 63% of a sweep's instructions). */
#define DD_SMALL1_WIDTHS(X) X(2) X(3) X(4) X(5) X(6) X(7) X(8)
#define DD_SMALL1_DISPATCH(NAME)                                                             \
    if (k >= 2 && k <= 8) {                                                                  \
        int small = -1;                                                                      \
        switch (k) {                                                                         \
        DD_SMALL1_WIDTHS(DD_SMALL1_CALL_##NAME)                                              \
        default: break;                                                                      \
        }                                                                                    \
        if (small >= 0) return small;                                                        \
    }
#define DD_SMALL1_CALL_dd_unary1_(K) case K: small = dd_unary1_##K DD_SMALL_ARGS; break;
#define DD_SMALL1_CALL_dd_binary1_(K) case K: small = dd_binary1_##K DD_SMALL_ARGS; break;
#define DD_SMALL1_UNARY_CASE(name) case DD_U_##name: DD_UNARY1_LOOP(dd_jet_##name(x[i]), DD_U_##name, 0.0) break;
#define DD_ARITH1_CASES                                                                      \
    case DD_OP_ADD: DD_BINARY1(y[i] = av + bv, DD_ADD_EPS) break;                            \
    case DD_OP_SUB: DD_BINARY1(y[i] = av - bv, DD_SUB_EPS) break;                            \
    case DD_OP_MUL: DD_BINARY1(y[i] = av*bv, DD_MUL_EPS) break;                              \
    case DD_OP_DIV: DD_BINARY1(const double rb = 1.0/bv; y[i] = av/bv, DD_DIV_EPS) break;
/* the body of every small-width kernel: its cases, and -1 for an operation without them */
#define DD_SMALL_BODY(SWITCH, CASES)                                                         \
    int bad = 0;                                                                             \
    switch (SWITCH) {                                                                        \
    CASES                                                                                    \
    default: return -1;                                                                      \
    }                                                                                        \
    return bad;
#define DD_SMALL1_UNARY_CASES                                                                \
    case DD_SMALL_POWC: DD_UNARY1_LOOP(dd_jet_powc(x[i], pw), DD_SMALL_POWC, pw) break;      \
    DD_SMALL_UNARY(DD_SMALL1_UNARY_CASE)
#define DD_DEFINE_SMALL1(K)                                                                  \
DD_KERNEL static int dd_unary1_##K(int code, double pw, ptrdiff_t n, const double *x,        \
                                   const double *xe, double *restrict y, double *restrict ye) \
{ const int k = K; DD_SMALL_BODY(code, DD_SMALL1_UNARY_CASES) }                              \
DD_KERNEL static int dd_binary1_##K(int op, ptrdiff_t n, const double *a, ptrdiff_t sa,      \
                                    const double *ae, const double *b, ptrdiff_t sb,         \
                                    const double *be, double *restrict y,                    \
                                    double *restrict ye)                                     \
{ const int k = K; DD_SMALL_BODY(op, DD_ARITH1_CASES) }
DD_SMALL1_WIDTHS(DD_DEFINE_SMALL1)
#define DD_SMALL1_ENTRY(K) K,
const int dd_small1_widths[] = { DD_SMALL1_WIDTHS(DD_SMALL1_ENTRY) 0 };

/* y = f(x), ye = f'(x) xe for rule `code` of rules.h */
DD_KERNEL int dd_unary1(int code, ptrdiff_t n, int k, const double *x, const double *xe,
                     double *restrict y, double *restrict ye)
{
#define DD_SMALL_ARGS (code, 0.0, n, x, xe, y, ye)
    DD_SMALL1_DISPATCH(dd_unary1_)
#undef DD_SMALL_ARGS
    int bad = 0;
    switch (code) {
#define DD_CASE(name, ...) case DD_U_##name: DD_UNARY1_LOOP(dd_jet_##name(x[i]), DD_U_##name, 0.0) break;
    DD_UNARY_RULES(DD_CASE)
#undef DD_CASE
    }
    return bad;
}

/* y = x^p for a constant exponent p */
DD_KERNEL int dd_powc1(double pw, ptrdiff_t n, int k, const double *x, const double *xe,
                    double *restrict y, double *restrict ye)
{
#define DD_SMALL_ARGS (DD_SMALL_POWC, pw, n, x, xe, y, ye)
    DD_SMALL1_DISPATCH(dd_unary1_)
#undef DD_SMALL_ARGS
    int bad = 0;
    DD_UNARY1_LOOP(dd_jet_powc(x[i], pw), DD_SMALL_POWC, pw)
    return bad;
}

/* y = op(a, b) with tangents; op is a DD_OP_* or DD_OP_RULE0 + a binary rule index */
DD_KERNEL int dd_binary1(int op, ptrdiff_t n, int k,
                      const double *a, ptrdiff_t sa, const double *ae,
                      const double *b, ptrdiff_t sb, const double *be,
                      double *restrict y, double *restrict ye)
{
#define DD_SMALL_ARGS (op, n, a, sa, ae, b, sb, be, y, ye)
    DD_SMALL1_DISPATCH(dd_binary1_)
#undef DD_SMALL_ARGS
    int bad = 0;
    switch (op) {
    DD_ARITH1_CASES
#define DD_CASE(name, ...)                                                                   \
    case DD_OP_RULE0 + DD_B_##name:                                                          \
        DD_BINARY1(const dd_jet2 j = dd_jet2_##name(av, bv); y[i] = j.f, DD_RULE_EPS) break;
    DD_BINARY_RULES(DD_CASE)
#undef DD_CASE
    }
    return bad;
}

/* ---------------------------------------------------------------------------------------- */
/* second order                                                                              */
/* ---------------------------------------------------------------------------------------- */

/* An absent e12 operand (NULL: a dual array whose e12 is zero until an e1 meets an e2,
 * _windows.pxi) reads this block, without advancing, in place of k1*k2 zeros per element:
 * the same formulas on the same zeros, so the bits are those of a stored zero part. */
const double dd_zero12[DD_ZERO12_MAX] = {0};

/* the e1e2 parts of one element: the form of dd_chain_e12 is chosen once per element, not
 * per direction pair (inside the k x k loop the choice made them 4x slower) */
#define DD_CHAIN_E12_LOOPS(j, k1, k2, x1, x2, x12, y12)                                      \
    if (dd_chain_e12_is_plain(j)) {                                                          \
        for (ptrdiff_t p = 0; p < k1; p++)                                                   \
            for (ptrdiff_t q = 0; q < k2; q++)                                               \
                y12[p*k2 + q] = dd_chain_e12_plain(j, x1[p], x2[q], x12[p*k2 + q]);          \
    } else dd_chain_e12_careful(j, k1, k2, x1, x2, x12, y12);

#define DD_UNARY2_LOOP(JET)                                                                  \
    { const double *x12base = xe12 ? xe12 : dd_zero12;                                       \
    const ptrdiff_t s12 = xe12 ? k1*k2 : 0;                                                  \
    for (ptrdiff_t i = 0; i < n; i++) {                                                      \
        const dd_jet j = JET;                                                                \
        const double *xi1 = xe1 + i*k1, *xi2 = xe2 + i*k2, *xi12 = x12base + i*s12;                \
        double *yi1 = ye1 + i*k1, *yi2 = ye2 + i*k2, *yi12 = ye12 + i*k1*k2;                       \
        y[i] = j.f;                                                                          \
        bad |= DD_BAD1(j.f, x[i]);                                                           \
        DD_CHAIN_EPS_LOOP(j, k1, xi1, yi1)                                                   \
        DD_CHAIN_EPS_LOOP(j, k2, xi2, yi2)                                                   \
        DD_CHAIN_E12_LOOPS(j, k1, k2, xi1, xi2, xi12, yi12)                                  \
    } }

/* VAL as in DD_BINARY1_LOOP; TAN(A, B) gives an e1 or e2 entry; TAN12(...) the e12 entry
 * from the operands' entries and the result's own e1 and e2 entries (the quotient rule
 * needs those). A1(p), A2(q), A12(p,q) read operand a's entries (0.0 for a constant). */
#define DD_BINARY2_LOOP(VAL, TAN, TAN12, A1, A2, A12, B1, B2, B12)                           \
    { const double *a12base = ae12 ? ae12 : dd_zero12, *b12base = be12 ? be12 : dd_zero12;     \
    const ptrdiff_t sa12 = ae12 ? sa*k1*k2 : 0, sb12 = be12 ? sb*k1*k2 : 0;                  \
    for (ptrdiff_t i = 0; i < n; i++) {                                                      \
        const double av = a[i*sa], bv = b[i*sb];                                             \
        const double *a1 = ae1 ? ae1 + i*sa*k1 : 0, *a2 = ae2 ? ae2 + i*sa*k2 : 0;           \
        const double *a12 = a12base + i*sa12;                                                \
        const double *b1 = be1 ? be1 + i*sb*k1 : 0, *b2 = be2 ? be2 + i*sb*k2 : 0;           \
        const double *b12 = b12base + i*sb12;                                                \
        double *yi1 = ye1 + i*k1, *yi2 = ye2 + i*k2, *yi12 = ye12 + i*k1*k2;                 \
        (void)a1; (void)a2; (void)a12; (void)b1; (void)b2; (void)b12;   /* a constant's: unused */ \
        VAL;                                                                                 \
        bad |= DD_BAD2(y[i], av, bv);                                                        \
        for (ptrdiff_t p = 0; p < k1; p++) yi1[p] = TAN(A1(p), B1(p));                              \
        for (ptrdiff_t q = 0; q < k2; q++) yi2[q] = TAN(A2(q), B2(q));                              \
        for (ptrdiff_t p = 0; p < k1; p++)                                                         \
            for (ptrdiff_t q = 0; q < k2; q++)                                                     \
                yi12[p*k2 + q] = TAN12(A1(p), A2(q), A12(p, q), B1(p), B2(q), B12(p, q),      \
                                      yi1[p], yi2[q]);                                         \
    } }
#define DD_GET1(p) a1[p]
#define DD_GET2(q) a2[q]
#define DD_GET12(p, q) a12[(p)*k2 + (q)]
#define DD_GETB1(p) b1[p]
#define DD_GETB2(q) b2[q]
#define DD_GETB12(p, q) b12[(p)*k2 + (q)]
#define DD_ZERO1(p) 0.0
#define DD_ZERO12(p, q) 0.0
/* Whether an operand carries e1 and e2 parts (both or neither, by the callers' contract). At
 * 1 x 1 the e2 pointer is tested too: otherwise GCC cannot assume it non-NULL in the loop,
 * keeps a trap for the NULL path there, and does not vectorize the element loop (the 1 x 1
 * product ran at 3x its time, csrc/tools/kernel_bench.c). Wider pairs keep the one test:
 * with both, GCC vectorized the 2 x 2 and 2 x 4 products differently and 10-20% slower. */
#define DD_HAS12(e1, e2) ((e1) && (k1 * k2 != 1 || (e2)))
#define DD_BINARY2(VAL, TAN, TAN12)                                                          \
    if (DD_HAS12(ae1, ae2) && DD_HAS12(be1, be2)) {                                          \
        DD_BINARY2_LOOP(VAL, TAN, TAN12, DD_GET1, DD_GET2, DD_GET12,                         \
                        DD_GETB1, DD_GETB2, DD_GETB12) }                                     \
    else if (DD_HAS12(ae1, ae2)) {                                                           \
        DD_BINARY2_LOOP(VAL, TAN, TAN12, DD_GET1, DD_GET2, DD_GET12,                         \
                        DD_ZERO1, DD_ZERO1, DD_ZERO12) }                                     \
    else if (DD_HAS12(be1, be2)) {  /* its own test, not a bare else: see DD_BINARY1 */      \
        DD_BINARY2_LOOP(VAL, TAN, TAN12, DD_ZERO1, DD_ZERO1, DD_ZERO12,                      \
                        DD_GETB1, DD_GETB2, DD_GETB12) }                                     \
    else {                                                                                   \
        DD_BINARY2_LOOP(VAL, TAN, TAN12, DD_ZERO1, DD_ZERO1, DD_ZERO12,                      \
                        DD_ZERO1, DD_ZERO1, DD_ZERO12) }

#define DD_ADD_E12(A1, A2, A12, B1, B2, B12, Q1, Q2) ((A12) + (B12))
#define DD_SUB_E12(A1, A2, A12, B1, B2, B12, Q1, Q2) ((A12) - (B12))
#define DD_MUL_E12(A1, A2, A12, B1, B2, B12, Q1, Q2) dd_mul_e12(av, A1, A2, A12, bv, B1, B2, B12)
#define DD_DIV_E12(A1, A2, A12, B1, B2, B12, Q1, Q2) dd_div_e12(y[i], Q1, Q2, A12, rb, B1, B2, B12)
#define DD_RULE_E12(A1, A2, A12, B1, B2, B12, Q1, Q2) dd_chain2_e12(j, A1, A2, A12, B1, B2, B12)

/* ---- small fixed widths ----------------------------------------------------------------
 * A sweep of a few second-order directions per element -- the sparse Hessian's summands
 * (k1 x k2 = 2 x 2 for extended Rosenbrock, 2 x 5 for the Bratu energy, one more e2 column
 * with verify), hvp (1 x k), a small dense Hessian (k x k) -- leaves the loops above with
 * inner trip counts of 1 to 6: too short to vectorize, so their loop control costs more than
 * the arithmetic (callgrind, Rosenbrock at 2 x 2: the kernels ran 3x the instructions of
 * loops compiled with k1 = k2 = 2). So for each width pair of DD_SMALL_WIDTHS, the cheap
 * operations -- the four arithmetic ones, constant powers and the rules whose jet is a few
 * flops or one libm call -- get their loops compiled with k1 and k2 constant and fully
 * unrolled. Other rules keep the generic loops, where the jet's cost dominates. Each copy is
 * plain (no clone per instruction set: a 2 x 2 body has nothing for AVX-512 to do), which
 * keeps the build time in check. The same macros expand, with the same per-entry helpers,
 * so the bits are those of the generic loops (tests/test_kernels.py compares them). */
#define DD_SMALL_WIDTHS(X)                                                                   \
    X(1, 1) X(1, 2) X(1, 3) X(1, 4) X(2, 2) X(2, 3) X(2, 4) X(2, 5) X(2, 6) X(2, 7)          \
    X(3, 3) X(3, 4) X(4, 4)
#define DD_SMALL_KEY(k1, k2) ((k1) * 16 + (k2))

/* return dd_NAME_K1xK2 DD_SMALL_ARGS when (k1, k2) is a small width pair and the function
 * handles the operation (it returns -1 where it does not: the generic loops follow) */
#define DD_SMALL_DISPATCH(NAME)                                                        \
    if (k1 <= 15 && k2 <= 15) {                                                              \
        int small = -1;                                                                      \
        switch (DD_SMALL_KEY(k1, k2)) {                                                      \
        DD_SMALL_WIDTHS(DD_SMALL_CALL_##NAME)                                                \
        default: break;                                                                      \
        }                                                                                    \
        if (small >= 0) return small;                                                        \
    }
#define DD_SMALL_CALL_dd_unary2_(K1, K2) \
    case DD_SMALL_KEY(K1, K2): small = dd_unary2_##K1##x##K2 DD_SMALL_ARGS; break;
#define DD_SMALL_CALL_dd_binary2_(K1, K2) \
    case DD_SMALL_KEY(K1, K2): small = dd_binary2_##K1##x##K2 DD_SMALL_ARGS; break;

#define DD_SMALL_UNARY_CASE(name) case DD_U_##name: DD_UNARY2_LOOP(dd_jet_##name(x[i])) break;
#define DD_SMALL2_UNARY_CASES                                                                \
    case DD_SMALL_POWC: DD_UNARY2_LOOP(dd_jet_powc(x[i], pw)) break;                         \
    DD_SMALL_UNARY(DD_SMALL_UNARY_CASE)
#define DD_DEFINE_SMALL(K1, K2)                                                              \
DD_KERNEL static int dd_unary2_##K1##x##K2(                                                  \
    int code, double pw, ptrdiff_t n, const double *x,                                       \
    const double *xe1, const double *xe2, const double *xe12, double *restrict y,            \
    double *restrict ye1, double *restrict ye2, double *restrict ye12)                       \
{ const ptrdiff_t k1 = K1, k2 = K2; DD_SMALL_BODY(code, DD_SMALL2_UNARY_CASES) }             \
DD_KERNEL static int dd_binary2_##K1##x##K2(                                                 \
    int op, ptrdiff_t n, const double *a, ptrdiff_t sa,                                      \
    const double *ae1, const double *ae2, const double *ae12, const double *b, ptrdiff_t sb, \
    const double *be1, const double *be2, const double *be12, double *restrict y,            \
    double *restrict ye1, double *restrict ye2, double *restrict ye12)                       \
{ const ptrdiff_t k1 = K1, k2 = K2; DD_SMALL_BODY(op, DD_ARITH2_CASES) }
/* the four arithmetic operations of dd_binary2 (shared with it) */
#define DD_ARITH2_CASES                                                                      \
    case DD_OP_ADD: DD_BINARY2(y[i] = av + bv, DD_ADD_EPS, DD_ADD_E12) break;                \
    case DD_OP_SUB: DD_BINARY2(y[i] = av - bv, DD_SUB_EPS, DD_SUB_E12) break;                \
    case DD_OP_MUL: DD_BINARY2(y[i] = av*bv, DD_MUL_EPS, DD_MUL_E12) break;                  \
    case DD_OP_DIV: DD_BINARY2(const double rb = 1.0/bv; y[i] = av/bv, DD_DIV_EPS, DD_DIV_E12) break;
DD_SMALL_WIDTHS(DD_DEFINE_SMALL)

#define DD_SMALL_PAIR(K1, K2) {K1, K2},
const int dd_small_widths[][2] = { DD_SMALL_WIDTHS(DD_SMALL_PAIR) {0, 0} };
#define DD_SMALL_NAME(name) #name,
const char *const dd_small_unary[] = { DD_SMALL_UNARY(DD_SMALL_NAME) 0 };

DD_KERNEL int dd_unary2(int code, ptrdiff_t n, int k1, int k2, const double *x,
                     const double *xe1, const double *xe2, const double *xe12,
                     double *restrict y, double *restrict ye1, double *restrict ye2,
                     double *restrict ye12)
{
#define DD_SMALL_ARGS (code, 0.0, n, x, xe1, xe2, xe12, y, ye1, ye2, ye12)
    DD_SMALL_DISPATCH(dd_unary2_)
#undef DD_SMALL_ARGS
    int bad = 0;
    switch (code) {
#define DD_CASE(name, ...) case DD_U_##name: DD_UNARY2_LOOP(dd_jet_##name(x[i])) break;
    DD_UNARY_RULES(DD_CASE)
#undef DD_CASE
    }
    return bad;
}

DD_KERNEL int dd_powc2(double pw, ptrdiff_t n, int k1, int k2, const double *x,
                    const double *xe1, const double *xe2, const double *xe12,
                    double *restrict y, double *restrict ye1, double *restrict ye2,
                    double *restrict ye12)
{
#define DD_SMALL_ARGS (DD_SMALL_POWC, pw, n, x, xe1, xe2, xe12, y, ye1, ye2, ye12)
    DD_SMALL_DISPATCH(dd_unary2_)
#undef DD_SMALL_ARGS
    int bad = 0;
    DD_UNARY2_LOOP(dd_jet_powc(x[i], pw))
    return bad;
}

DD_KERNEL int dd_binary2(int op, ptrdiff_t n, int k1, int k2,
                      const double *a, ptrdiff_t sa,
                      const double *ae1, const double *ae2, const double *ae12,
                      const double *b, ptrdiff_t sb,
                      const double *be1, const double *be2, const double *be12,
                      double *restrict y, double *restrict ye1, double *restrict ye2,
                      double *restrict ye12)
{
#define DD_SMALL_ARGS (op, n, a, sa, ae1, ae2, ae12, b, sb, be1, be2, be12, y, ye1, ye2, ye12)
    DD_SMALL_DISPATCH(dd_binary2_)
#undef DD_SMALL_ARGS
    int bad = 0;
    switch (op) {
    DD_ARITH2_CASES
#define DD_CASE(name, ...)                                                                   \
    case DD_OP_RULE0 + DD_B_##name:                                                          \
        DD_BINARY2(const dd_jet2 j = dd_jet2_##name(av, bv); y[i] = j.f,                     \
                   DD_RULE_EPS, DD_RULE_E12) break;
    DD_BINARY_RULES(DD_CASE)
#undef DD_CASE
    }
    return bad;
}

/* ---------------------------------------------------------------------------------------- */
/* reductions                                                                                */
/* ---------------------------------------------------------------------------------------- */

/* Sum of the n rows of a (n x k) block, one result per column, summed in numpy's pairwise
 * order (blocks of 128 with 8 accumulators, halves above): a single column gives exactly
 * np.sum, and each column's result does not depend on how many columns ride along, so a
 * gradient's bits do not depend on the chunk. `acc` is scratch space for 8*k doubles. */
/* numpy's pairwise_sum itself, for one column (the k == 1 case, and the values) */
static double dd_pairwise1(const double *a, ptrdiff_t n)
{
    if (n < 8) {
        double res = 0.0;
        for (ptrdiff_t i = 0; i < n; i++) res += a[i];
        return res;
    }
    if (n <= 128) {
        double r[8];
        ptrdiff_t i;
        for (ptrdiff_t j = 0; j < 8; j++) r[j] = a[j];
        for (i = 8; i < n - (n % 8); i += 8)
            for (ptrdiff_t j = 0; j < 8; j++) r[j] += a[i + j];
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) res += a[i];
        return res;
    }
    ptrdiff_t n2 = n / 2;
    n2 -= n2 % 8;
    return dd_pairwise1(a, n2) + dd_pairwise1(a + n2, n - n2);
}

/* numpy's leaf block (8 to 128 rows: eight accumulators, then the tail row by row), for k
 * columns. Inlined with k a constant for the small widths (dd_pairwise_leaf): with k a
 * variable, the inner loop of 2 to 8 trips cost more in loop control than the additions
 * (a sparse Hessian's summand sum of 10^4 rows x 2 columns: ~1 ns a number) */
static inline __attribute__((always_inline))
void dd_pairwise_leaf_k(const double *a, ptrdiff_t n, const int k, double *out, double *acc)
{
    ptrdiff_t i;
    for (ptrdiff_t j = 0; j < 8; j++)
        for (ptrdiff_t p = 0; p < k; p++) acc[j*k + p] = a[j*k + p];
    for (i = 8; i < n - (n % 8); i += 8)
        for (ptrdiff_t j = 0; j < 8; j++)
            for (ptrdiff_t p = 0; p < k; p++) acc[j*k + p] += a[(i + j)*k + p];
    for (ptrdiff_t p = 0; p < k; p++) {
        const double *r = acc + p;
        out[p] = ((r[0*k] + r[1*k]) + (r[2*k] + r[3*k])) + ((r[4*k] + r[5*k]) + (r[6*k] + r[7*k]));
    }
    for (; i < n; i++)
        for (ptrdiff_t p = 0; p < k; p++) out[p] += a[i*k + p];
}
static void dd_pairwise_leaf(const double *a, ptrdiff_t n, int k, double *out, double *acc)
{
    switch (k) {
#define DD_LEAF_CASE(K) case K: dd_pairwise_leaf_k(a, n, K, out, acc); return;
    DD_LEAF_CASE(2) DD_LEAF_CASE(3) DD_LEAF_CASE(4) DD_LEAF_CASE(5) DD_LEAF_CASE(6)
    DD_LEAF_CASE(7) DD_LEAF_CASE(8) DD_LEAF_CASE(10) DD_LEAF_CASE(12)
#undef DD_LEAF_CASE
    default: dd_pairwise_leaf_k(a, n, k, out, acc);
    }
}

void dd_pairwise_rows(const double *a, ptrdiff_t n, int k, double *out, double *acc)
{
    if (k == 1) { out[0] = dd_pairwise1(a, n); return; }
    if (n < 8) {
        for (ptrdiff_t p = 0; p < k; p++) out[p] = 0.0;
        for (ptrdiff_t i = 0; i < n; i++)
            for (ptrdiff_t p = 0; p < k; p++) out[p] += a[i*k + p];
    }
    else if (n <= 128)
        dd_pairwise_leaf(a, n, k, out, acc);
    else {
        ptrdiff_t n2 = n / 2;
        n2 -= n2 % 8;
        dd_pairwise_rows(a, n2, k, out, acc);
        /* the second half goes to the scratch tail, then adds in: out = left + right */
        double *right = acc + 8*k;
        dd_pairwise_rows(a + n2*k, n - n2, k, right, acc + 9*k);
        for (ptrdiff_t p = 0; p < k; p++) out[p] += right[p];
    }
}

/* The same sums when only rows lo..hi-1 of the n can be nonzero and only those are stored
 * (a[0] is row lo). It walks numpy's pairwise tree over all n rows but skips the subtrees
 * that hold no stored row -- they sum to exactly zero -- so the result is bit for bit the
 * dense one, however the support was cut. */
void dd_pairwise_rows_range(const double *a, ptrdiff_t n, ptrdiff_t lo, ptrdiff_t hi,
                                   int k, double *out, double *acc)
{
    if (hi <= lo || hi <= 0 || lo >= n) {
        for (ptrdiff_t p = 0; p < k; p++) out[p] = 0.0;
    }
    else if (lo <= 0 && hi >= n) {
        dd_pairwise_rows(a - lo*k, n, k, out, acc);
    }
    else if (n <= 128) {
        /* a small block crossing the support edge: the missing rows are zeros, and adding
         * a zero changes nothing, so only the stored rows are visited */
        if (n < 8) {
            for (ptrdiff_t p = 0; p < k; p++) out[p] = 0.0;
            for (ptrdiff_t i = lo; i < hi && i < n; i++)
                for (ptrdiff_t p = 0; p < k; p++) out[p] += a[(i - lo)*k + p];
            return;
        }
        ptrdiff_t i;
        for (ptrdiff_t j = 0; j < 8; j++)
            for (ptrdiff_t p = 0; p < k; p++) acc[j*k + p] = (j >= lo && j < hi) ? a[(j - lo)*k + p] : 0.0;
        for (i = 8; i < n - (n % 8); i += 8)
            for (ptrdiff_t j = 0; j < 8; j++) {
                ptrdiff_t r = i + j;
                if (r >= lo && r < hi)
                    for (ptrdiff_t p = 0; p < k; p++) acc[j*k + p] += a[(r - lo)*k + p];
            }
        for (ptrdiff_t p = 0; p < k; p++) {
            const double *r = acc + p;
            out[p] = ((r[0*k] + r[1*k]) + (r[2*k] + r[3*k])) + ((r[4*k] + r[5*k]) + (r[6*k] + r[7*k]));
        }
        for (; i < n; i++)
            if (i >= lo && i < hi)
                for (ptrdiff_t p = 0; p < k; p++) out[p] += a[(i - lo)*k + p];
    }
    else {
        ptrdiff_t n2 = n / 2;
        n2 -= n2 % 8;
        dd_pairwise_rows_range(a, n2, lo, hi, k, out, acc);
        double *right = acc + 8*k;
        /* the right half's rows start at n2: shift the support and the stored rows */
        ptrdiff_t rlo = lo - n2, rhi = hi - n2;
        const double *ra = a + (rlo < 0 ? -rlo : 0)*k;
        dd_pairwise_rows_range(ra, n - n2, rlo < 0 ? 0 : rlo, rhi, k, right, acc + 9*k);
        for (ptrdiff_t p = 0; p < k; p++) out[p] += right[p];
    }
}

/* Scratch doubles dd_pairwise_rows needs for n rows of k columns (recursion depth x k). */
ptrdiff_t dd_pairwise_scratch(ptrdiff_t n, int k)
{
    ptrdiff_t depth = 1;
    while (n > 128) { n = n - (n / 2 - (n / 2) % 8); depth++; }
    return (9*depth + 8) * (ptrdiff_t)k;
}


/* ---------------------------------------------------------------------------------------- */
/* the chain rule with given derivatives (dd.register_elementwise)                           */
/* ---------------------------------------------------------------------------------------- */

DD_KERNEL void dd_given1(ptrdiff_t n, int k, const double *d1, const double *xe,
                         double *restrict ye)
{
    for (ptrdiff_t i = 0; i < n; i++)
        for (ptrdiff_t p = 0; p < k; p++) ye[i*k + p] = dd_chain_eps(d1[i], xe[i*k + p]);
}

DD_KERNEL void dd_given2(ptrdiff_t n, int k1, int k2, const double *d1, const double *d2,
                         const double *xe1, const double *xe2, const double *xe12,
                         double *restrict ye1, double *restrict ye2, double *restrict ye12)
{
    for (ptrdiff_t i = 0; i < n; i++) {
        const dd_jet j = {0.0, d1[i], d2[i]};
        const double *xi1 = xe1 + i*k1, *xi2 = xe2 + i*k2, *xi12 = xe12 + i*k1*k2;
        double *yi1 = ye1 + i*k1, *yi2 = ye2 + i*k2, *yi12 = ye12 + i*k1*k2;
        for (ptrdiff_t p = 0; p < k1; p++) yi1[p] = dd_chain_eps(j.d1, xi1[p]);
        for (ptrdiff_t q = 0; q < k2; q++) yi2[q] = dd_chain_eps(j.d1, xi2[q]);
        DD_CHAIN_E12_LOOPS(j, k1, k2, xi1, xi2, xi12, yi12)
    }
}

DD_KERNEL void dd_given_binary1(ptrdiff_t n, int k, const double *da, const double *db,
                                const double *ae, const double *be, double *restrict ye)
{
    for (ptrdiff_t i = 0; i < n; i++) {
        const dd_jet2 j = {0.0, da[i], db[i], 0.0, 0.0, 0.0};
        for (ptrdiff_t p = 0; p < k; p++)
            ye[i*k + p] = dd_chain2_eps(j, ae[i*k + p], be[i*k + p]);
    }
}

DD_KERNEL void dd_given_binary2(ptrdiff_t n, int k1, int k2, const double *const partials[5],
                                const double *ae1, const double *ae2, const double *ae12,
                                const double *be1, const double *be2, const double *be12,
                                double *restrict ye1, double *restrict ye2, double *restrict ye12)
{
    for (ptrdiff_t i = 0; i < n; i++) {
        const dd_jet2 j = {0.0, partials[0][i], partials[1][i], partials[2][i], partials[3][i],
                           partials[4][i]};
        const double *a1 = ae1 + i*k1, *a2 = ae2 + i*k2, *a12 = ae12 + i*k1*k2;
        const double *b1 = be1 + i*k1, *b2 = be2 + i*k2, *b12 = be12 + i*k1*k2;
        double *yi1 = ye1 + i*k1, *yi2 = ye2 + i*k2, *yi12 = ye12 + i*k1*k2;
        for (ptrdiff_t p = 0; p < k1; p++) yi1[p] = dd_chain2_eps(j, a1[p], b1[p]);
        for (ptrdiff_t q = 0; q < k2; q++) yi2[q] = dd_chain2_eps(j, a2[q], b2[q]);
        for (ptrdiff_t p = 0; p < k1; p++)
            for (ptrdiff_t q = 0; q < k2; q++)
                yi12[p*k2 + q] = dd_chain2_e12(j, a1[p], a2[q], a12[p*k2 + q],
                                               b1[p], b2[q], b12[p*k2 + q]);
    }
}
