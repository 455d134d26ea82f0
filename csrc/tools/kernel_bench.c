/* kernel_bench.c -- times the array kernels (kernels.c) by direction widths, without Python:
 * the hyper-dual product, square, exp (of an operand whose e1e2 part is absent) and sum at
 * the small width pairs of the sparse Hessians' sweeps, and the first-order product, scaling,
 * exp and square at the sparse Jacobians' colour counts. A change to the per-entry formulas
 * (rules.h, dual.h, hyperdual.h) or to the loops is judged here first, side by side with the
 * code before it (build both, run them in alternation: this machine's timings drift).
 *
 *   gcc -O3 -fno-math-errno -fno-trapping-math -ffp-contract=off -Icsrc \
 *       -o /tmp/kernel_bench csrc/tools/kernel_bench.c csrc/kernels.c -lm
 *   /tmp/kernel_bench [n]            (n elements, default 10000: the arrays fit in L2-L3)
 *
 * Add -DDD_NO_CLONES -mavx2 to build one instruction set only (3x faster to compile).
 * Prints the best of several repetitions, in microseconds per call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "kernels.h"
#include "rules.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static double *filled(size_t m)
{
    double *p = malloc(m * sizeof *p);
    if (!p) { fprintf(stderr, "out of memory\n"); exit(1); }
    for (size_t i = 0; i < m; i++) p[i] = 0.5 + rand() / (double)RAND_MAX;
    return p;
}

#define REPS 9
#define CALLS 40
#define BEST(slot, CALL)                                                                     \
    do {                                                                                     \
        double t0 = now();                                                                   \
        for (int r = 0; r < CALLS; r++) CALL;                                                \
        t0 = (now() - t0) / CALLS;                                                           \
        if (t0 < best[slot]) best[slot] = t0;                                                \
    } while (0)

int main(int argc, char **argv)
{
    const ptrdiff_t n = argc > 1 ? atol(argv[1]) : 10000;
    static const int pairs[][2] = {{1, 1}, {2, 2}, {2, 3}, {2, 4}, {2, 5}, {2, 6}, {2, 7},
                                   {3, 3}, {4, 4}, {1, 5}, {2, 8}};
    static const int widths[] = {1, 2, 3, 5, 6, 8, 16};
    printf("second order, n = %ld (us per call)\n", (long)n);
    for (size_t w = 0; w < sizeof pairs / sizeof pairs[0]; w++) {
        const int k1 = pairs[w][0], k2 = pairs[w][1];
        double *a = filled(n), *a1 = filled(n*k1), *a2 = filled(n*k2), *a12 = filled(n*k1*k2);
        double *b = filled(n), *b1 = filled(n*k1), *b2 = filled(n*k2), *b12 = filled(n*k1*k2);
        double *y = filled(n), *y1 = filled(n*k1), *y2 = filled(n*k2), *y12 = filled(n*k1*k2);
        double best[4] = {1e9, 1e9, 1e9, 1e9};
        for (int rep = 0; rep < REPS; rep++) {
            BEST(0, dd_binary2(DD_OP_MUL, n, k1, k2, a, 1, a1, a2, a12, b, 1, b1, b2, b12,
                               y, y1, y2, y12));
            BEST(1, dd_unary2(DD_U_square, n, k1, k2, a, a1, a2, a12, y, y1, y2, y12));
            BEST(2, dd_unary2(DD_U_exp, n, k1, k2, a, a1, a2, NULL, y, y1, y2, y12));
            BEST(3, dd_binary2(DD_OP_ADD, n, k1, k2, a, 1, a1, a2, a12, b, 1, b1, b2, b12,
                               y, y1, y2, y12));
        }
        printf("  %dx%d  mul %7.1f  square %7.1f  exp (e12 absent) %7.1f  add %7.1f\n",
               k1, k2, best[0]*1e6, best[1]*1e6, best[2]*1e6, best[3]*1e6);
        free(a); free(a1); free(a2); free(a12); free(b); free(b1); free(b2); free(b12);
        free(y); free(y1); free(y2); free(y12);
    }
    printf("first order, n = %ld (us per call)\n", (long)n);
    for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++) {
        const int k = widths[w];
        double *a = filled(n), *a1 = filled(n*k), *b = filled(n), *b1 = filled(n*k);
        double *y = filled(n), *y1 = filled(n*k), c = 3.0;
        double best[4] = {1e9, 1e9, 1e9, 1e9};
        for (int rep = 0; rep < REPS; rep++) {
            BEST(0, dd_binary1(DD_OP_MUL, n, k, a, 1, a1, b, 1, b1, y, y1));
            BEST(1, dd_binary1(DD_OP_MUL, n, k, &c, 0, NULL, b, 1, b1, y, y1));
            BEST(2, dd_unary1(DD_U_exp, n, k, a, a1, y, y1));
            BEST(3, dd_unary1(DD_U_square, n, k, a, a1, y, y1));
        }
        printf("  k=%-2d  mul %7.1f  scale %7.1f  exp %7.1f  square %7.1f\n",
               k, best[0]*1e6, best[1]*1e6, best[2]*1e6, best[3]*1e6);
        free(a); free(a1); free(b); free(b1); free(y); free(y1);
    }
    return 0;
}
