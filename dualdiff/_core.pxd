# Declarations of the C core (csrc/) and of the compiled scalar types, for cimport by the
# array module. Pure declarations: the calculus lives in csrc/rules.h only.

cdef extern from "hyperdual.h" nogil:
    ctypedef struct dd_jet:
        double f, d1, d2
    ctypedef struct dd_jet2:
        double f, a, b, aa, ab, bb
    ctypedef struct dd_dual:
        double re, eps
    ctypedef struct dd_hyper:
        double re, e1, e2, e12
    ctypedef dd_jet (*dd_jet_fn)(double) noexcept
    ctypedef dd_jet2 (*dd_jet2_fn)(double, double) noexcept

    enum: DD_N_UNARY
    enum: DD_N_BINARY
    const char *dd_unary_names[]
    const char *dd_binary_names[]
    const char *dd_unary_derivatives[]
    const char *dd_binary_derivatives[][2]
    const char *dd_unary_derivative_names[]
    const char *dd_binary_derivative_names[]
    const double dd_unary_domains[][2]
    const double dd_binary_domains[][2]
    const dd_jet_fn dd_unary_jets[]
    const dd_jet2_fn dd_binary_jets[]
    dd_jet dd_jet_powc(double x, double p)

    dd_dual dd_dual_apply(dd_jet j, dd_dual u)
    dd_dual dd_dual_apply2(dd_jet2 j, dd_dual u, dd_dual v)
    dd_dual dd_dual_add(dd_dual u, dd_dual v)
    dd_dual dd_dual_sub(dd_dual u, dd_dual v)
    dd_dual dd_dual_mul(dd_dual u, dd_dual v)
    dd_dual dd_dual_div(dd_dual u, dd_dual v)
    dd_dual dd_dual_neg(dd_dual u)
    dd_dual dd_dual_powc(dd_dual u, double p)

    dd_hyper dd_hyper_apply(dd_jet j, dd_hyper u)
    dd_hyper dd_hyper_apply2(dd_jet2 j, dd_hyper u, dd_hyper v)
    dd_hyper dd_hyper_add(dd_hyper u, dd_hyper v)
    dd_hyper dd_hyper_sub(dd_hyper u, dd_hyper v)
    dd_hyper dd_hyper_mul(dd_hyper u, dd_hyper v)
    dd_hyper dd_hyper_div(dd_hyper u, dd_hyper v)
    dd_hyper dd_hyper_neg(dd_hyper u)
    dd_hyper dd_hyper_powc(dd_hyper u, double p)


cdef class Dual:
    cdef dd_dual v
    cdef long long tag    # the tag of its level's transform (0: made by hand); see _core, levels
    cdef bint frozen      # set once constructed: __init__ cannot be re-run on a live value


cdef class HyperDual:
    cdef dd_hyper v
    cdef long long tag    # its two levels' tags, t1 | t2 << 32
    cdef bint frozen


cdef Dual make_dual(double re, double eps, long long tag)
cdef HyperDual make_hyper(double re, double e1, double e2, double e12, long long tag)
cdef long long level_key2(long long t1, long long t2)
cdef long long next_tag()   # a fresh tag for one transform call

# numpy's ufunc of unary rule `code`, binary rule `code`, arithmetic operator `op` (add,
# subtract, multiply, true_divide, power); replay() runs one on the values so that numpy emits
# its own warning for a non-finite result
cdef object np_unary(int code)
cdef object np_binary(int code)
cdef object np_op(int op)
cdef void replay(object ufunc, tuple args) except *
cpdef bint is_real(object o)

# the multi-direction scalars (_vec.pxi): made from, and read into, raw partials
cdef object make_dualvec(double re, int k, const double *e1, long long tag)
cdef object make_hypervec(double re, int k1, int k2, const double *e1, const double *e2,
                          const double *e12, long long tag)
cdef int vec_parts(object o, double *re, int *k1, int *k2, double **e, long long *tag) except -1
cpdef bint is_scalar_dual(object o)
