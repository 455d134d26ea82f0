"""The checks of a successful call, one function per transform (see oracle.py for the
oracles). Each raises oracle.Failure on the first problem it finds."""
import numpy as np

from .program import quiet
from .oracle import (EPS, FD_KINKED, FD_TIED, HUGE_VALUES, NONFINITE_INPUTS, OBJECT_NAN, Failure, _diff_detail, _num, _show, announce, close,
                     fd_check, leaves, same)

VALUE_ULPS = 64 * 2.0 ** -52   # values: numpy's SIMD elementary functions vs the C library's
ROUND = 1e-9            # relative tolerance where rounding may legitimately differ (BLAS)
SMALL_HESSIAN = 40      # up to this many inputs the dense chunk=1 Hessian is the reference


# ---- helpers ------------------------------------------------------------------------------

def _fmax(a):
    """The largest finite magnitude in a (0 if none)."""
    a = np.abs(_num(a))
    return float(np.max(a[np.isfinite(a)], initial=0.0))


def _is_scalar_input(obj):
    return not isinstance(obj, (np.ndarray, list, tuple))


def _argnames(run, argnums):
    """Parameter names in the order of argnums (an int or a tuple; negatives allowed)."""
    n = len(run.params)
    if isinstance(argnums, tuple):
        return [run.params[i % n] for i in argnums], False
    return [run.params[argnums % n]], True


def _base(run, p):
    return run.plain_args()[run.params.index(p)]


def _direction(run, names, tied=False):
    """A random direction for each named argument (floats for scalar arguments), each entry
    scaled by the size of its input (so a 1e300 somewhere does not blow up every step).

    tied=True: a direction that keeps every tie of the inputs -- entries of equal value (in
    any of the named arguments) move by the same step, so whatever the program computes from
    them stays tied, and a max, ptp or sort over tied elements stays on one smooth piece
    along it. None when the inputs have no tie (the free direction was as good)."""
    bases = [_num(_base(run, p)) for p in names]
    if tied:
        flat = np.concatenate([b.ravel() for b in bases])
        fin = np.isfinite(flat)
        values, group = np.unique(flat[fin], return_inverse=True)
        if values.size == fin.sum():
            return None
        steps = np.zeros(flat.size)
        steps[fin] = run.rng.standard_normal(values.size)[group]
    u, start = {}, 0
    for p, b in zip(names, bases):
        # beyond 1e4 (and at inf/nan) a step is meaningless: those entries stay put
        size = np.where(np.abs(b) <= 1e4, np.maximum(1.0, np.abs(b)), 0.0)
        r = steps[start:start + b.size].reshape(b.shape) if tied else \
            run.rng.standard_normal(np.shape(b))
        start += b.size
        d = r * size
        u[p] = float(d) if isinstance(_base(run, p), float) else d
    return u


def _fd_random(run, names, check):
    """check(u) -> entries compared, along a random direction u; if finite differences
    could not be used because a kink switches along it (a tie at the point: integer inputs
    often tie), once more along a direction that keeps the inputs' ties. Not where a NaN
    met an object array of dual numbers (oracle.OBJECT_NAN): the plain program is another."""
    if OBJECT_NAN[0]:
        return
    n = check(_direction(run, names))
    if n == 0 and FD_KINKED[0]:
        u = _direction(run, names, tied=True)
        if u is not None:
            FD_TIED[0] = True
            try:
                n = check(u)
            finally:
                FD_TIED[0] = False
            run.info["fd_tied"] = run.info.get("fd_tied", 0) + (n > 0)
    run.info["fd_checked"] += n


def _h0(run, names, given=False, direction=()):
    """First FD step: 2^-7 along the input-scaled random directions; along a direction the
    user gave (jvp, hvp, derivative), 2^-7 times the typical (median) size of the inputs,
    or None (no check) when that size is beyond 1e4. A given direction with entries larger
    than 1 shrinks the step by its largest: the derivative is linear in the direction, and
    a step of 2^-7 along v = (0.4, ..., 1e300) would leave the function's neighbourhood
    (tanh saturated at 1e298 hides its curvature at x from every difference)."""
    if not given:
        return 2.0 ** -7
    b = np.concatenate([np.abs(_num(_base(run, p))).ravel() for p in names])
    b = b[np.isfinite(b)]
    typical = max(1.0, float(np.median(b))) if b.size else 1.0
    if typical > 1e4:
        return None
    d = np.concatenate([np.abs(_num(v)).ravel() for v in direction]) if direction else \
        np.zeros(0)
    d = d[np.isfinite(d)]
    return 2.0 ** -7 * typical / max(1.0, float(d.max()) if d.size else 1.0)


def _expect_shape(run, what, got, shape, scalar):
    if scalar and not isinstance(got, float):
        raise Failure("wrong", "shape", f"{what}: expected a Python float (scalar input and "
                      f"output), got {type(got).__name__} {np.shape(got)}")
    if np.shape(got) != tuple(shape):
        raise Failure("wrong", "shape", f"{what}: shape {np.shape(got)}, expected {tuple(shape)}")


def _contract(J, u, in_ndim):
    """sum over the input axes of J (shape out + in) times u (shape in), and the same sum of
    absolute values (the scale of rounding). A zero entry of J times an infinite or nan
    direction counts as zero: forward mode never multiplies them (a direction only flows
    where the function depends on it). So does a zero direction times an infinite or nan
    entry of J: the sweep's tangent along a zero direction is zero, which is linearity (the
    rules give 0 for a zero tangent at an infinite value: d(a*a) at a = -inf along 0)."""
    J = _num(J)
    u = _num(u)
    ub = u.reshape((1,) * (J.ndim - in_ndim) + u.shape)
    with np.errstate(all="ignore"):
        terms = np.where((J == 0) | (ub == 0), 0.0, J * ub)
    axes = tuple(range(J.ndim - in_ndim, J.ndim))
    return terms.sum(axis=axes), np.abs(terms).sum(axis=axes)


def _finite_f(run):
    """Derivatives are compared only where f's value and the directions given to jvp/hvp are
    finite: the derivative of a nan or infinite value, or along an infinite direction, has
    no meaning to check (types, shapes and crashes still are); nor where a NaN met an
    object array of dual numbers (oracle.OBJECT_NAN: numpy's object loops)."""
    if OBJECT_NAN[0] or not np.all(np.isfinite(run.plain_out)):
        return False
    for k in ["v"] + [f"t_{p}" for p in run.params]:
        if k in run.dual and not np.all(np.isfinite(_num(run.dual[k]))):
            return False
    return True




def _condition(run, names, jacs):
    """sum_i |x_i| |df/dx_i| per output entry, from the derivatives dualdiff computed: how
    much a relative perturbation of one ulp in the inputs (or in anything computed from them
    on the way) moves f -- the condition of f, times |f|."""
    total = 0.0
    for p, J in zip(names, jacs):
        x = np.abs(_num(_base(run, p)))
        J = np.abs(_num(J))
        with np.errstate(all="ignore"):
            _, s = _contract(np.where(np.isfinite(J), J, 0.0), np.where(np.isfinite(x), x, 0.0),
                             np.ndim(x))
            # a derivative that overflowed at a finite, nonzero input: the condition is
            # beyond any bound (sin of a product of 150 numbers, 1e274), so is the rounding
            _, inf = _contract(np.where(np.isfinite(J), 0.0, 1.0),
                               np.where(np.isfinite(x) & (x != 0), 1.0, 0.0), np.ndim(x))
        total = total + np.where(inf > 0, np.inf, s)
    return total


def _check_value(run, value, cond=0.0):
    """The value against plain numpy. cond: _condition (absolute), where known. Not where a
    NaN met an object array of dual numbers (oracle.OBJECT_NAN): numpy's object loops."""
    if OBJECT_NAN[0]:
        return
    want = run.plain_out
    if run.eps != EPS:                        # plain numpy ran in float32/float16
        ok = close(value, want, 64 * run.eps)
    elif run.case["flags"]["exact"]:
        # Elementary functions (sin, exp, power, cbrt, ...) are dualdiff's C library calls,
        # while numpy may use its own SIMD routines (AVX-512 SVML on this machine): their last
        # bits may differ, and that difference carries through the rest of the program,
        # amplified as much as f's condition number says: a few ulps times (|f| + sum_i
        # |x_i f_i'|) -- tan or sin of 1e16 turn one ulp of their argument into a different
        # value. Behind a piecewise-constant operation (floor of a mean of +-1e300) the
        # derivative is 0 and says nothing: there the largest magnitude met on the way sets
        # the scale of a rounding difference instead. Anything more is a wrong value.
        # And whatever the derivative, rounding is relative to the largest value handled on
        # the way: mean(concatenate([-x, x])) is 0 exactly here and 1e-17 in numpy's order.
        scale = np.broadcast_to(_num(cond), np.shape(want))
        scale = scale + run.plain_mag
        ok = same(value, want) or close(value, want, VALUE_ULPS, scale=np.max(np.abs(
            _num(want)[np.isfinite(want)]), initial=0.0) + scale)
    else:
        # BLAS products and pairwise products round in their own order (to 1e-7 here), and
        # f amplifies that as its condition says (sin of a product of 159 numbers, 1e19)
        ok = close(value, want, 1e-7, scale=np.max(_num(cond), initial=0.0) + run.plain_mag)
    if not ok:
        raise Failure("wrong", "value", _diff_detail("value differs from plain numpy", value, want))


def _reference(run, **override):
    """The same call with other parameters (the dense chunk=1 reference), serial unless
    override says otherwise."""
    override = {"executor": None, **override}
    try:
        return run.call_dual(**override)
    except AttributeError as e:
        if "__array__" in str(e) and "Dual" in str(e):
            # a scalar argument is a Dual at chunk=1 and an element of a 0-d dual array in a
            # sweep of several directions: only the array has numpy's __array__ protocol (a
            # dual scalar without it keeps np.array([x[0], ...]) 6x faster: numpy probes
            # every element). Calling the protocol by hand differs; numpy's calls do not.
            raise Failure("clear_error", "protocol by hand", str(e)) from None
        raise _reference_raised(override, e) from None
    except Exception as e:
        raise _reference_raised(override, e) from None


def _reference_raised(override, e):
    opts = ", ".join(f"{k}={v!r}" for k, v in override.items() if k != "executor")
    return Failure("wrong", "reference raised", (
        f"the call succeeds, but the same call with {opts} raises "
        f"{type(e).__name__}: {e}"))



def _compare_chunks(run, got, ref, label):
    if not _finite_f(run):
        return
    exact = run.case["flags"]["chunk_exact"]
    if not exact and HUGE_VALUES[0]:
        return                          # as in _compare_executor: rounding times 1e150 and up
    for a, b in zip(leaves(got), leaves(ref)):
        if not (same(a, b) if exact else close(a, b, ROUND)):
            check = "chunk (ulps)" if close(a, b, 1e-13) else "chunk"
            raise Failure("wrong", check, _diff_detail(
                f"result differs from {label}{'' if exact else ' beyond rounding'}", a, b))


def _compare_executor(run, got):
    """executor= promises the serial call's result bit for bit (API.md), except through BLAS
    products (chunk=None may also cut the sweeps into smaller chunks)."""
    if not run.call.get("executor"):
        return
    ref = _reference(run)
    # bit for bit, but not through BLAS products even at a given chunk: OpenBLAS's kernels
    # round differently with the buffers' alignment, which differs in the worker
    exact = run.case["flags"]["chunk_exact"]
    if not exact and HUGE_VALUES[0]:
        # a BLAS product's rounding, then a function whose condition is its argument's size
        # (sin of expm1(427) = 4e185, fuzz 3535-35072): no tolerance bounds the difference
        return
    dense = lambda r: r.toarray() if hasattr(r, "toarray") else r      # the sparse transforms
    for a, b in zip(leaves(dense(got)), leaves(dense(ref))):
        if not (same(a, b) if exact else close(a, b, ROUND)):
            raise Failure("wrong", "executor vs serial", _diff_detail(
                "result with executor= differs from the serial call", a, b))


def _dense_chunk(run):
    c = run.call.get("chunk")
    return ({"chunk": 1}, "chunk=1") if c != 1 else ({"chunk": None}, "chunk=None")


def _fd_first(run, names, ads, what):
    """Directional derivative sum_p <ad_p, u_p> against FD of the plain f along u."""
    def check(u):
        total, scale = 0.0, 0.0
        for p, ad in zip(names, ads):
            nd = np.ndim(_base(run, p))
            t, s = _contract(ad, u[p], nd)
            total, scale = total + t, scale + s
        phi = lambda t: run.plain(u, t)
        return fd_check(phi, total, scale, _h0(run, names), what, run.eps)
    _fd_random(run, names, check)


def _grad_at(run, names, single, shift, t, argnums, order=1):
    """dualdiff's dense gradient (or f' for derivative) at the shifted inputs, flattened."""
    dd = run.dual["dd"]
    args = run.plain_args(shift, t)
    announce(f"dd.grad(f, argnums={argnums!r}, chunk=1)(...) at inputs + {t!r} * direction "
             "(finite differences of the gradient)")
    with quiet():
        if order == 1 and run.call["name"] == "derivative":
            g = dd.derivative(run.dual["f"], argnum=run.call["argnum"])(*args)
        else:
            g = dd.grad(run.dual["f"], argnums=argnums, chunk=1)(*args)
    flat = np.concatenate([_num(x).ravel() for x in (leaves(g) if not single else [g])])
    _, kinks, mag = run.plain(shift, t)
    return flat, kinks, mag


def _fd_second(run, names, single, H, argnums):
    """H.w against FD of the dense gradient along w; u.H.u against the plain second
    difference of f along u."""
    def along_w(w):
        wf = np.concatenate([_num(w[p]).ravel() for p in names])
        with np.errstate(all="ignore"):
            hw, scale = H @ wf, np.abs(H) @ np.abs(wf)
        phi = lambda t: _grad_at(run, names, single, w, t, argnums)
        return fd_check(phi, hw, scale, _h0(run, names), "hessian·w", run.eps)

    def along_u(u):
        uf = np.concatenate([_num(u[p]).ravel() for p in names])
        with np.errstate(all="ignore"):
            uhu, scale = uf @ H @ uf, np.abs(uf) @ np.abs(H) @ np.abs(uf)
        phi = lambda t: run.plain(u, t)
        return fd_check(phi, uhu, scale, _h0(run, names), "second difference u·H·u", run.eps)
    _fd_random(run, names, along_w)
    _fd_random(run, names, along_u)


def _sizes(run, names):
    return [int(np.size(_base(run, p))) for p in names]


# ---- per transform ------------------------------------------------------------------------

def check_grad(run, result):
    argnums = run.call.get("argnums", 0)
    names, single = _argnames(run, argnums)
    full = result
    value = None
    if run.call["name"] == "value_and_grad":
        value, result = result
        _expect_shape(run, "value", value, (), True)
    grads = [result] if single else list(result)
    if value is not None:
        _check_value(run, value, _condition(run, names, grads) if len(grads) == len(names)
                     else 0.0)
    if len(grads) != len(names):
        raise Failure("wrong", "shape", f"{len(grads)} gradients for argnums {argnums!r}")
    for p, gp in zip(names, grads):
        _expect_shape(run, f"gradient of {p}", gp, np.shape(_base(run, p)),
                      _is_scalar_input(run.plainns[p]))
    _compare_executor(run, full)
    override, label = _dense_chunk(run)
    ref = _reference(run, **override)
    if value is not None:
        # the value is one sweep's: the last one's, which at another chunk seeds other inputs,
        # so an elementary function may run as numpy's SIMD loop in one (a plain operand)
        # and as the C library's in the other (a dual one), and a masked sum may add in
        # another order: as against numpy, to rounding times f's condition
        cond = _condition(run, names, grads) if len(grads) == len(names) else 0.0
        if _finite_f(run) and not close(value, ref[0], VALUE_ULPS, scale=cond):
            raise Failure("wrong", "chunk (value)", _diff_detail(
                f"value differs from {label} beyond rounding", value, ref[0]))
        full, ref = result, ref[1]
    _compare_chunks(run, full, ref, label)
    if single and np.ndim(_base(run, names[0])) == 0 and _finite_f(run):
        # grad of a scalar argument is the derivative
        d = _reference(run, name="derivative", argnum=run.params.index(names[0]), order=1)
        if not same(grads[0], d):
            raise Failure("wrong", "grad vs derivative", _diff_detail(
                "grad of a scalar argument differs from derivative", grads[0], d))
    _fd_first(run, names, grads, "grad·u")


def check_jacobian(run, result):
    argnums = run.call.get("argnums", 0)
    names, single = _argnames(run, argnums)
    jacs = [result] if single else list(result)
    out_shape = np.shape(run.plain_out)
    for p, J in zip(names, jacs):
        in_shape = np.shape(_base(run, p))
        _expect_shape(run, f"jacobian of {p}", J, out_shape + in_shape,
                      _is_scalar_input(run.plainns[p]) and out_shape == ())
    _compare_executor(run, result)
    override, label = _dense_chunk(run)
    _compare_chunks(run, result, _reference(run, **override), label)
    _fd_first(run, names, jacs, "jacobian·u")


def _full_hessian(names, single, H, sizes):
    if single:
        return _num(H).reshape(sizes[0], sizes[0])
    return np.block([[_num(H[r][c]).reshape(sizes[r], sizes[c]) for c in range(len(names))]
                     for r in range(len(names))])


def check_hessian(run, result):
    argnums = run.call.get("argnums", 0)
    names, single = _argnames(run, argnums)
    sizes = _sizes(run, names)
    if single:
        shape = np.shape(_base(run, names[0]))
        _expect_shape(run, "hessian", result, shape + shape,
                      _is_scalar_input(run.plainns[names[0]]))
    else:
        for r, p in enumerate(names):
            for c, q in enumerate(names):
                _expect_shape(run, f"hessian block ({p}, {q})", result[r][c],
                              np.shape(_base(run, p)) + np.shape(_base(run, q)),
                              _is_scalar_input(run.plainns[p]) and _is_scalar_input(run.plainns[q]))
    H = _full_hessian(names, single, result, sizes)
    if not same(H, H.T):
        raise Failure("wrong", "symmetry", _diff_detail("hessian is not symmetric", H, H.T))
    if sum(sizes) <= SMALL_HESSIAN or run.call.get("chunk") not in (None, 1):
        override, label = _dense_chunk(run)
        _compare_chunks(run, result, _reference(run, **override), label)
    if _finite_f(run):
        _fd_second(run, names, single, H, argnums)


def check_jvp(run, result):
    out, tan = result
    names = run.params
    tangents = {p: run.dual[f"t_{p}"] for p in names}
    # J.t from the dense jacobian of every primal
    J = _reference(run, name="jacobian", argnums=tuple(range(len(names))), chunk=1)
    _check_value(run, out, _condition(run, names, J))
    _expect_shape(run, "jvp tangent", tan, np.shape(run.plain_out), False)
    want, scale = 0.0, 0.0
    for p, Jp in zip(names, J):
        t, s = _contract(Jp, _num(tangents[p]), np.ndim(_base(run, p)))
        want, scale = want + t, scale + s
    # Norm-wise, as hvp against H v below: and where the derivative cancels to nothing
    # (-0.97 x / x), both sides are rounding of terms as large as |f| |t| (per unit of x),
    # which J, itself cancelled, does not show. Both non-finite is agreement: the oracle's
    # sum of infinite terms of both signs is NaN where the sweep's is inf.
    tmax = max((_fmax(tangents[p]) for p in names), default=0.0)
    # and where J itself is exactly 0 by cancellation (sum(concatenate([-x, x]))), the
    # sweep still adds n tangent terms of unit partials: rounding of sum |t| (at least)
    tsum = sum(float(np.sum(np.abs(_num(tangents[p])[np.isfinite(_num(tangents[p]))])))
               for p in names)
    jmax = max((_fmax(Jp) for Jp in J), default=0.0)
    floor = _fmax(scale) * ROUND + VALUE_ULPS * tmax * _fmax(run.plain_out) \
        + VALUE_ULPS * tsum * max(1.0, jmax)
    tn, wn = _num(tan), _num(want)
    # where the oracle's entry is NaN it knows nothing: J holds inf * 0 (an intermediate
    # partial overflowed, -1/x^2 at x = 1e-300, against a zero one), while the sweep's own
    # product of a tiny tangent (5e-324) with those partials stays finite and is right
    agree = (~np.isfinite(tn) & ~np.isfinite(wn)) | np.isnan(wn) | \
        (np.abs(tn - wn) <= ROUND * np.abs(wn) + floor)
    if _finite_f(run) and (tn.shape != wn.shape or not np.all(agree)):
        raise Failure("wrong", "jvp vs jacobian", _diff_detail("jvp differs from jacobian·t",
                                                               tan, want))
    if not _finite_f(run):
        return
    shift = {p: _num(tangents[p]) if np.ndim(tangents[p]) else float(tangents[p]) for p in names}
    phi = lambda t: run.plain(shift, t)
    run.info["fd_checked"] += fd_check(phi, tan, scale,
                                       _h0(run, names, True, [tangents[p] for p in names]),
                                       "jvp", run.eps)


def check_hvp(run, result):
    argnums = run.call.get("argnums", 0)
    names, single = _argnames(run, argnums)
    p = names[0]
    _expect_shape(run, "hvp", result, np.shape(_base(run, p)), _is_scalar_input(run.plainns[p]))
    v = _num(run.dual["v"])
    n = _sizes(run, names)[0]
    if not _finite_f(run):
        return
    if n <= SMALL_HESSIAN:
        H = _reference(run, name="hessian", chunk=1)
        with np.errstate(all="ignore"):
            Hn = _num(H).reshape(n, n)
            want, scale = Hn @ v.ravel(), np.abs(Hn) @ np.abs(v.ravel())
        # hvp is one hyper-dual sweep along v, not a product with H: its rounding follows the
        # magnitudes the sweep met, whatever row it lands in -- norm-wise, |Hv - r| against
        # rounding of max |H||v| (an entry where H v cancels to 0 may come out 1e-17)
        got = _num(result).ravel()
        if NONFINITE_INPUTS[0] or HUGE_VALUES[0]:
            # IEEE arithmetic at infinite arguments (oracle.fd_check): the sweep along v and
            # the product with H meet inf * 0 in different places (past 1e150 products of two
            # tangents overflow alike: oracle.HUGE_VALUES); finite entries must agree
            keep = np.isfinite(got) & np.isfinite(want)
            got, want = got[keep], want[keep]
        # where H v cancels to nothing (the Hessian of sqrt(m)**2 is rounding), both sides are
        # rounding of terms as large as |f| |v|^2 per unit of x^2, as jvp's floor above
        vmax = _fmax(v)
        floor = VALUE_ULPS / ROUND * vmax * vmax * max(1.0, _fmax(run.plain_out))
        # both non-finite is agreement, as for jvp: H v sums infinite entries of both signs
        # to NaN where the sweep along v gives inf
        both = ~np.isfinite(got) & ~np.isfinite(want)
        got, want = np.where(both, 0.0, got), np.where(both, 0.0, want)
        if not close(got, want, ROUND, scale=_fmax(scale) + floor):
            raise Failure("wrong", "hvp vs hessian", _diff_detail("hvp differs from hessian·v",
                                                                  _num(result).ravel(), want))
    else:
        override, label = _dense_chunk(run)
        _compare_chunks(run, result, _reference(run, **override), label)
        scale = np.abs(_num(result).ravel())
    shift = {p: v if np.ndim(_base(run, p)) else float(v)}
    phi = lambda t: _grad_at(run, names, True, shift, t, argnums)
    run.info["fd_checked"] += fd_check(phi, _num(result).ravel(), scale,
                                       _h0(run, names, True, [v]),
                                       "hvp", run.eps)


def check_derivative(run, result):
    i = run.call["argnum"] % len(run.params)
    p = run.params[i]
    order = run.call["order"]
    out_shape = np.shape(run.plain_out)
    _expect_shape(run, "derivative", result, out_shape, out_shape == ())
    if not _finite_f(run):
        return
    if order == 1:
        ref = _reference(run, name="jacobian", argnums=i, chunk=1)
        if not same(result, ref):
            raise Failure("wrong", "derivative vs jacobian", _diff_detail(
                "derivative differs from jacobian of a scalar argument", result, ref))
        _fd_first(run, [p], [result], "derivative")
        return
    if out_shape == ():
        ref = _reference(run, name="hessian", argnums=i, chunk=1)
        if not same(result, ref):
            raise Failure("wrong", "derivative vs hessian", _diff_detail(
                "second derivative differs from hessian of a scalar argument", result, ref))
    shift = {p: 1.0}
    phi = lambda t: _grad_at(run, [p], True, shift, t, i)
    run.info["fd_checked"] += fd_check(phi, _num(result).ravel(), np.abs(_num(result).ravel()),
                                       _h0(run, [p], True), "derivative order 2", run.eps)
    phi = lambda t: run.plain(shift, t)
    run.info["fd_checked"] += fd_check(phi, result, np.abs(_num(result)), _h0(run, [p], True),
                                       "second difference f''", run.eps)


# ---- the sparse transforms ---------------------------------------------------------------

def _sparse_matrix(run, result, shape, what):
    """The result as a dense float64 array, after checking it is what API.md promises: a
    scipy.sparse.csr_array of this shape and dtype float64, canonical (sorted indices, no
    duplicates)."""
    import scipy.sparse
    if not isinstance(result, scipy.sparse.csr_array):
        raise Failure("leaked", "type", f"{what}: expected a scipy.sparse.csr_array, got "
                      f"{type(result).__name__}")
    if result.dtype != np.float64:
        raise Failure("leaked", "type", f"{what}: dtype {result.dtype}, expected float64")
    if result.shape != tuple(shape):
        raise Failure("wrong", "shape", f"{what}: shape {result.shape}, expected {tuple(shape)}")
    if not result.has_canonical_format:
        raise Failure("wrong", "sparse format", f"{what}: indices unsorted or duplicated")
    return result.toarray()


def _compare_sparse(run, S, D, what):
    """The sparse result against dualdiff's dense one (both forward mode; the sparse
    transforms may sum in another order -- the numeric mode, the summands' sweep, BLAS -- so
    to rounding of the row's largest entry). Entries the dense result gives as inf/NaN are
    left out: a structural zero of the pattern (a constant 0 times an infinite partial)
    is not computed at all."""
    if not _finite_f(run):
        return
    fin = np.isfinite(D)
    with np.errstate(all="ignore"):
        row = np.max(np.where(fin, np.abs(D), 0.0), axis=1, initial=0.0)[:, None]
    bad = fin & ~(np.abs(S - D) <= ROUND * (np.abs(D) + row) + 1e-300)
    if bad.any():
        i, j = (int(k[0]) for k in np.nonzero(bad))
        raise Failure("wrong", f"{what} vs dense", (
            f"{what}: entry ({i}, {j}) is {S[i, j]!r}, the dense transform gives {D[i, j]!r} "
            f"({int(bad.sum())} of {D.size} entries differ)\n sparse {_show(S[i])}\n dense  "
            f"{_show(D[i])}"))


def _dense_reference(run, **override):
    """The dense transform's result, or None where it refuses clearly what the sparse one
    computed (the tracer and the dual arrays draw their lines in different places: a
    layout-dependent order='A' on a C-ordered input, say; x.__array__() of a scalar input,
    which a 0-d dual array answers with an object array holding it and the compiled scalar
    does not have: Python's AttributeError); finite differences still check."""
    try:
        return run.call_dual(executor=None, **override)
    except (TypeError, ValueError, AttributeError) as e:
        run.info["dense_refused"] = f"{type(e).__name__}: {e}"[:200]
        return None


def check_sparse_jacobian(run, result):
    i = run.call["argnums"] % len(run.params)
    p = run.params[i]
    in_shape, out_shape = np.shape(_base(run, p)), np.shape(run.plain_out)
    m, n = int(np.prod(out_shape)), int(np.prod(in_shape))
    S = _sparse_matrix(run, result, (m, n), "sparse_jacobian")
    _compare_executor(run, result.toarray())
    J = _dense_reference(run, name="jacobian", argnums=i, chunk=1)
    if J is not None:
        _compare_sparse(run, S, _num(J).reshape(m, n), "sparse_jacobian")
    if _finite_f(run):
        _fd_first(run, [p], [S.reshape(out_shape + in_shape)], "sparse_jacobian·u")


def check_sparse_hessian(run, result):
    i = run.call["argnums"] % len(run.params)
    p = run.params[i]
    n = int(np.size(_base(run, p)))
    S = _sparse_matrix(run, result, (n, n), "sparse_hessian")
    if not same(S, S.T):
        raise Failure("wrong", "symmetry", _diff_detail("sparse_hessian is not symmetric",
                                                        S, S.T))
    _compare_executor(run, S)
    if not _finite_f(run):
        return
    if n <= SMALL_HESSIAN:
        H = _dense_reference(run, name="hessian", argnums=i, chunk=1)
        if H is not None:
            _compare_sparse(run, S, _num(H).reshape(n, n), "sparse_hessian")
    else:
        # dense Hessians of 129+ inputs cost too much here: H w along a random w, from
        # dualdiff's hvp (one hyper-dual sweep)
        w = run.rng.standard_normal(np.shape(_base(run, p)))
        args = [run.dual[q] for q in run.params]
        announce(f"dd.hvp(f, argnums={i})(..., w) (a random w)")
        with quiet():
            hw = _num(run.dual["dd"].hvp(run.dual["f"], argnums=i)(*args, w)).ravel()
        with np.errstate(all="ignore"):
            sw, scale = S @ w.ravel(), np.abs(S) @ np.abs(w.ravel())
        if not close(sw, hw, ROUND, scale=_fmax(scale)):
            raise Failure("wrong", "sparse_hessian vs hvp", _diff_detail(
                "sparse_hessian · w differs from hvp(w)", sw, hw))
    _fd_second(run, [p], True, S, i)


CHECKS = {"grad": check_grad, "value_and_grad": check_grad, "jacobian": check_jacobian,
          "hessian": check_hessian, "jvp": check_jvp, "hvp": check_hvp,
          "derivative": check_derivative, "sparse_jacobian": check_sparse_jacobian,
          "sparse_hessian": check_sparse_hessian}
