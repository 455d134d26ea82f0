"""Rules of the numpy ufuncs (and np.sinc) that csrc/rules.h does not hold: remainder, fmod,
floor_divide, divmod, modf, frexp, ldexp, copysign, heaviside, logaddexp2, sinc, and the
piecewise-constant round and spacing.

They are whole-array rules (see dualdiff/_jvp/__init__.py) rather than rows of the C table
because each either has integer outputs, a piecewise definition whose pieces are chosen on the
values, or a value numpy computes in a way the table would not reproduce bit for bit. The value
is always numpy's own function of the primals (run on dual primals at second order, which lands
back here one level down); the tangent is written in numpy operations on dual-capable values.

Conventions at the jumps. remainder, fmod and floor_divide are piecewise: on each piece
a mod b = a - b*q with the integer q = floor(a/b) (trunc(a/b) for fmod) constant, so the
derivative is (1, -q) and every second derivative is 0. At a jump (a/b an integer) the
derivative is the one of the piece numpy's value belongs to: q is numpy's own quotient
(floor_divide, or (a - fmod(a, b))/b rounded), so value and derivative come from the same
piece. floor_divide, modf's integral part, frexp's exponent, round (to decimals) and spacing
are piecewise constant: derivative 0 (as floor and ceil in the table).
"""
import numpy as np

from dualdiff._jvp import add, plain

_LN2 = 0.6931471805599453


def _directions(tangents):
    """The number of directions k of the first tangent that is not None."""
    for t in tangents:
        if t is not None:
            return t.shape[-1]
    raise ValueError("a rule was applied without any tangent")


def _spread(t, shape):
    """Tangent t (value shape S + (k,)) broadcast to shape + (k,): operands of a broadcasting
    elementwise function contribute to every output element they reach."""
    if t is None:
        return None
    want = tuple(shape) + (t.shape[-1],)
    return t if t.shape == want else np.broadcast_to(t, want)


def _scaled(w, t, shape):
    """w * t for a weight w of (a shape broadcasting to) `shape` and a tangent t."""
    if t is None:
        return None
    return _spread(np.expand_dims(w, -1) * t, shape)


def _zeros(out, tangents):
    return np.zeros(np.shape(plain(out)) + (_directions(tangents),))


def remainder_jvp(primals, tangents):
    """a mod b (numpy's remainder, Python's %): derivative (1, -floor(a/b))."""
    (a, b), (ta, tb) = primals, tangents
    out = np.remainder(a, b)
    shape = np.shape(plain(out))
    q = np.floor_divide(plain(a), plain(b))
    return out, add(_spread(ta, shape), _scaled(-q, tb, shape))


def fmod_jvp(primals, tangents):
    """C's fmod (the sign of a): derivative (1, -trunc(a/b))."""
    (a, b), (ta, tb) = primals, tangents
    out = np.fmod(a, b)
    shape = np.shape(plain(out))
    if tb is None:
        return out, _spread(ta, shape)
    pa, pb = plain(a), plain(b)
    with np.errstate(all="ignore"):
        # a - fmod(a, b) is an exact multiple of b up to one rounding: rounding the ratio
        # recovers the integer quotient of the piece numpy's value came from
        q = np.round((pa - np.fmod(pa, pb)) / pb)
    return out, add(_spread(ta, shape), _scaled(-q, tb, shape))


def floor_divide_jvp(primals, tangents):
    """floor(a / b): piecewise constant, derivative 0 (a dual result, as floor's)."""
    out = np.floor_divide(*primals)
    return out, _zeros(out, tangents)


def piecewise_constant_jvp(primals, tangents, *, func, kwargs):
    """func(*primals) for a function constant between its jumps (np.round with decimals,
    np.spacing): derivative 0, as floor's in the table."""
    out = func(*primals, **kwargs)
    return out, _zeros(out, tangents)


def divmod_jvp(primals, tangents):
    """(floor_divide(a, b), remainder(a, b))."""
    q, tq = floor_divide_jvp(primals, tangents)
    r, tr = remainder_jvp(primals, tangents)
    return (q, r), (tq, tr)


def modf_jvp(primals, tangents):
    """(fractional part, integral part): derivatives 1 and 0."""
    (x,), (t,) = primals, tangents
    frac, whole = np.modf(x)
    return (frac, whole), (t, _zeros(whole, tangents))


def frexp_jvp(primals, tangents):
    """x = m * 2**e: the mantissa m = x * 2**-e has derivative 2**-e (exact scaling); the
    exponent is an integer (no tangent)."""
    (x,), (t,) = primals, tangents
    m, e = np.frexp(x)
    return (m, e), (np.ldexp(t, -np.expand_dims(plain(e), -1)), None)


def ldexp_jvp(primals, tangents):
    """a * 2**n with integer n (never differentiated): derivative 2**n, an exact scaling."""
    (a, n), (ta, _) = primals, tangents
    out = np.ldexp(a, n)
    return out, _spread(np.ldexp(ta, np.expand_dims(n, -1)), np.shape(plain(out)))


def copysign_jvp(primals, tangents):
    """|a| with the sign of b: derivative sign(a) * sign(b) in a, where sign(b) is b's sign
    bit (so -0.0 counts as negative, as numpy's value does) and sign(a) is 0 at a = 0 (abs'(0)
    = 0, the table's convention); 0 in b (the value moves only when b changes sign)."""
    (a, b), (ta, _) = primals, tangents
    out = np.copysign(a, b)
    if ta is None:
        return out, _zeros(out, tangents)
    s = np.sign(plain(a)) * np.copysign(1.0, plain(b))
    return out, _scaled(s, ta, np.shape(plain(out)))


def heaviside_jvp(primals, tangents):
    """The step H(x, h): 0 for x < 0, h at x = 0, 1 for x > 0. Derivative 0 in x (the jump at
    0 has none; 0 as sign' in the table); in h it is 1 where x == 0 (the value is h there)."""
    (x, h), (_, th) = primals, tangents
    out = np.heaviside(x, h)
    at_zero = plain(x) == 0
    if th is None or not np.any(at_zero):
        return out, _zeros(out, tangents)
    return out, _scaled(at_zero.astype(np.float64), th, np.shape(plain(out)))


def logaddexp2_jvp(primals, tangents):
    """log2(2**a + 2**b): derivative (w_a, w_b) with w_a = 2**a / (2**a + 2**b)
    = 1 / (1 + 2**(b - a)), written that way so that it never overflows (2**(b - a) may be
    inf, giving 0) and so that, run on dual values, it gives the second derivatives
    (ln 2) w_a w_b (-1 off the diagonal). Equal infinite arguments share 1/2 each, as
    logaddexp's row in csrc/rules.h does."""
    (a, b), (ta, tb) = primals, tangents
    out = np.logaddexp2(a, b)
    shape = np.shape(plain(out))
    pa, pb = plain(a), plain(b)
    same_inf = np.isinf(pa) & (pa == pb)
    with np.errstate(invalid="ignore"):
        d = np.where(same_inf, 0.0, b - a)          # inf - inf would be nan
    t = None
    with np.errstate(over="ignore"):               # 2**big = inf is the intended 0 weight
        if ta is not None:
            t = _scaled(1.0 / (1.0 + np.exp2(d)), ta, shape)
        if tb is not None:
            t = add(t, _scaled(1.0 / (1.0 + np.exp2(-d)), tb, shape))
    return out, t


# sinc'(x) = (cos(pi x) - sinc(x)) / x cancels to nothing as x -> 0: below |x| < 1/4 the Taylor
# series sum_{n>=1} (-1)^n 2n pi^2n x^(2n-1) / (2n+1)! is used instead (at |x| = 1/4 the
# terms fall by (pi x)^2 / 20 or faster, so 14 terms are below 1e-17 of the first).
_SINC_TERMS = 14


def _sinc_prime_series(x):
    p2 = np.pi * np.pi
    x2 = x * x
    # Horner in x^2: sum_n c_n x^(2n-1), c_n = (-1)^n 2n pi^2n / (2n+1)!
    coef = []
    c = 1.0
    for n in range(1, _SINC_TERMS + 1):
        c = c * -p2 / ((2 * n) * (2 * n + 1))          # (-1)^n pi^2n / (2n+1)!
        coef.append(2 * n * c)
    acc = coef[-1]
    for cn in reversed(coef[:-1]):
        acc = acc * x2 + cn
    return acc * x


def sinc_prime(x):
    """sinc'(x) for numpy's normalised sinc(x) = sin(pi x)/(pi x), on plain or dual x (so the
    rule below differentiates it once more at second order); exact 0 at x = 0."""
    small = np.abs(plain(x)) < 0.25
    if np.all(small):
        return _sinc_prime_series(x)
    safe = np.where(small, 1.0, x)                  # keeps 0/0 out of the unused branch
    # cos(pi x) of x reduced by whole periods first (exact: round has derivative 0): pi * x
    # itself would round with an error of |x| ulps, which the division by x does not undo
    r = safe - 2.0 * np.round(plain(safe) / 2.0)
    direct = (np.cos(np.pi * r) - np.sinc(safe)) / safe
    if not np.any(small):
        return direct
    return np.where(small, _sinc_prime_series(np.where(small, x, 0.0)), direct)


def sinc_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    out = np.sinc(x)
    return out, _scaled(sinc_prime(x), t, np.shape(plain(out)))
