"""The checks of a successful call, one function per transform (see oracle.py for the
oracles). Each raises oracle.Failure on the first problem it finds."""
import numpy as np

from .program import quiet
from .oracle import EPS, Failure, _diff_detail, _num, announce, close, fd_check, leaves, same

VALUE_ULPS = 64 * 2.0 ** -52   # values: numpy's SIMD elementary functions vs the C library's
ROUND = 1e-9            # relative tolerance where rounding may legitimately differ (BLAS)
SMALL_HESSIAN = 40      # up to this many inputs the dense chunk=1 Hessian is the reference


# ---- helpers ------------------------------------------------------------------------------

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


def _direction(run, names):
    """A random direction for each named argument (floats for scalar arguments), each entry
    scaled by the size of its input (so a 1e300 somewhere does not blow up every step)."""
    u = {}
    for p in names:
        b = _num(_base(run, p))
        # beyond 1e4 (and at inf/nan) a step is meaningless: those entries stay put
        size = np.where(np.abs(b) <= 1e4, np.maximum(1.0, np.abs(b)), 0.0)
        d = run.rng.standard_normal(np.shape(b)) * size
        u[p] = float(d) if isinstance(_base(run, p), float) else d
    return u


def _h0(run, names, given=False):
    """First FD step: 2^-7 along the input-scaled random directions; along a direction the
    user gave (jvp, hvp, derivative), 2^-7 times the typical (median) size of the inputs,
    or None (no check) when that size is beyond 1e4."""
    if not given:
        return 2.0 ** -7
    b = np.concatenate([np.abs(_num(_base(run, p))).ravel() for p in names])
    b = b[np.isfinite(b)]
    typical = max(1.0, float(np.median(b))) if b.size else 1.0
    return 2.0 ** -7 * typical if typical <= 1e4 else None


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
    where the function depends on it)."""
    J = _num(J)
    u = _num(u)
    with np.errstate(all="ignore"):
        terms = np.where(J == 0, 0.0, J * u.reshape((1,) * (J.ndim - in_ndim) + u.shape))
    axes = tuple(range(J.ndim - in_ndim, J.ndim))
    return terms.sum(axis=axes), np.abs(terms).sum(axis=axes)


def _finite_f(run):
    """Derivatives are compared only where f's value and the directions given to jvp/hvp are
    finite: the derivative of a nan or infinite value, or along an infinite direction, has
    no meaning to check (types, shapes and crashes still are)."""
    if not np.all(np.isfinite(run.plain_out)):
        return False
    for k in ["v"] + [f"t_{p}" for p in run.params]:
        if k in run.dual and not np.all(np.isfinite(_num(run.dual[k]))):
            return False
    return True


def _check_value(run, value):
    want = run.plain_out
    if run.eps != EPS:                        # plain numpy ran in float32/float16
        ok = close(value, want, 64 * run.eps)
    elif run.case["flags"]["exact"]:
        # Elementary functions (sin, exp, power, cbrt, ...) are dualdiff's C library calls,
        # while numpy may use its own SIMD routines (AVX-512 SVML on this machine): their last
        # bits may differ, and that difference carries through the rest of the program. A
        # few ulps of the largest magnitude is that; anything more is a wrong value.
        ok = same(value, want) or close(value, want, VALUE_ULPS)
    else:
        ok = close(value, want, 1e-7)
    if not ok:
        raise Failure("wrong", "value", _diff_detail("value differs from plain numpy", value, want))


def _reference(run, **override):
    """The same call with other parameters (the dense chunk=1 reference)."""
    try:
        return run.call_dual(**override)
    except Exception as e:
        opts = ", ".join(f"{k}={v!r}" for k, v in override.items())
        raise Failure("wrong", "reference raised", (
            f"the call succeeds, but the same call with {opts} raises "
            f"{type(e).__name__}: {e}")) from None


def _compare_chunks(run, got, ref, label):
    if not _finite_f(run):
        return
    exact = run.case["flags"]["chunk_exact"]
    for a, b in zip(leaves(got), leaves(ref)):
        if not (same(a, b) if exact else close(a, b, ROUND)):
            check = "chunk (ulps)" if close(a, b, 1e-13) else "chunk"
            raise Failure("wrong", check, _diff_detail(
                f"result differs from {label}{'' if exact else ' beyond rounding'}", a, b))


def _dense_chunk(run):
    c = run.call.get("chunk")
    return ({"chunk": 1}, "chunk=1") if c != 1 else ({"chunk": None}, "chunk=None")


def _fd_first(run, names, ads, what):
    """Directional derivative sum_p <ad_p, u_p> against FD of the plain f along u."""
    u = _direction(run, names)
    total, scale = 0.0, 0.0
    for p, ad in zip(names, ads):
        nd = np.ndim(_base(run, p))
        t, s = _contract(ad, u[p], nd)
        total, scale = total + t, scale + s
    phi = lambda t: run.plain(u, t)
    run.info["fd_checked"] += fd_check(phi, total, scale, _h0(run, names), what, run.eps)


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
    w = _direction(run, names)
    wf = np.concatenate([_num(w[p]).ravel() for p in names])
    with np.errstate(all="ignore"):
        hw, scale = H @ wf, np.abs(H) @ np.abs(wf)
    phi = lambda t: _grad_at(run, names, single, w, t, argnums)
    run.info["fd_checked"] += fd_check(phi, hw, scale, _h0(run, names), "hessian·w", run.eps)
    u = _direction(run, names)
    uf = np.concatenate([_num(u[p]).ravel() for p in names])
    with np.errstate(all="ignore"):
        uhu, scale = uf @ H @ uf, np.abs(uf) @ np.abs(H) @ np.abs(uf)
    phi = lambda t: run.plain(u, t)
    run.info["fd_checked"] += fd_check(phi, uhu, scale, _h0(run, names),
                                       "second difference u·H·u",
                                       run.eps)


def _sizes(run, names):
    return [int(np.size(_base(run, p))) for p in names]


# ---- per transform ------------------------------------------------------------------------

def check_grad(run, result):
    argnums = run.call.get("argnums", 0)
    names, single = _argnames(run, argnums)
    full = result
    if run.call["name"] == "value_and_grad":
        value, result = result
        _expect_shape(run, "value", value, (), True)
        _check_value(run, value)
    grads = [result] if single else list(result)
    if len(grads) != len(names):
        raise Failure("wrong", "shape", f"{len(grads)} gradients for argnums {argnums!r}")
    for p, gp in zip(names, grads):
        _expect_shape(run, f"gradient of {p}", gp, np.shape(_base(run, p)),
                      _is_scalar_input(run.plainns[p]))
    override, label = _dense_chunk(run)
    _compare_chunks(run, full, _reference(run, **override), label)
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
    _check_value(run, out)
    _expect_shape(run, "jvp tangent", tan, np.shape(run.plain_out), False)
    names = run.params
    tangents = {p: run.dual[f"t_{p}"] for p in names}
    # J.t from the dense jacobian of every primal
    J = _reference(run, name="jacobian", argnums=tuple(range(len(names))), chunk=1)
    want, scale = 0.0, 0.0
    for p, Jp in zip(names, J):
        t, s = _contract(Jp, _num(tangents[p]), np.ndim(_base(run, p)))
        want, scale = want + t, scale + s
    if _finite_f(run) and not close(tan, want, ROUND, scale=scale):
        raise Failure("wrong", "jvp vs jacobian", _diff_detail("jvp differs from jacobian·t",
                                                               tan, want))
    if not _finite_f(run):
        return
    shift = {p: _num(tangents[p]) if np.ndim(tangents[p]) else float(tangents[p]) for p in names}
    phi = lambda t: run.plain(shift, t)
    run.info["fd_checked"] += fd_check(phi, tan, scale, _h0(run, names, True), "jvp", run.eps)


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
        if not close(_num(result).ravel(), want, ROUND, scale=scale):
            raise Failure("wrong", "hvp vs hessian", _diff_detail("hvp differs from hessian·v",
                                                                  _num(result).ravel(), want))
    else:
        override, label = _dense_chunk(run)
        _compare_chunks(run, result, _reference(run, **override), label)
        scale = np.abs(_num(result).ravel())
    shift = {p: v if np.ndim(_base(run, p)) else float(v)}
    phi = lambda t: _grad_at(run, names, True, shift, t, argnums)
    run.info["fd_checked"] += fd_check(phi, _num(result).ravel(), scale, _h0(run, names, True),
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


CHECKS = {"grad": check_grad, "value_and_grad": check_grad, "jacobian": check_jacobian,
          "hessian": check_hessian, "jvp": check_jvp, "hvp": check_hvp,
          "derivative": check_derivative}
