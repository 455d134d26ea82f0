# The transforms' compiled path for small inputs. Included by _arrays.pyx.
#
# A transform of a function of a few inputs must cost little more than the function itself
# (an ODE right-hand side, a Newton step's Jacobian): here one call is one sweep over all the
# directions of one vector (or scalar) argument, seeded with the cached identity, and the
# output read straight off the compiled scalar or array f returns -- no Python bookkeeping,
# no pool, no chunk plan. Anything else (keywords, several argnums, other inputs, outputs of
# other shapes) goes to the general path in transforms.py, which gives the same bits: it
# seeds the same identity and reads the same parts (tests/test_fastpath.py compares them).

cdef enum:
    FAST_GRAD, FAST_VALUE_AND_GRAD, FAST_JACOBIAN, FAST_HESSIAN
    FAST_MAX = 128           # inputs swept at once (transforms._ONE_SWEEP)
    FAST_HESS_MAX = 32       # transforms._HESS_MAX_CHUNK

cdef bint _fast_enabled = True
cdef list _EYES = [None] * (FAST_MAX + 1)
cdef list _ZEROS12 = [None] * (FAST_HESS_MAX + 1)


def set_fast_path(bint enabled):
    """Switch the compiled small-input path off (tests compare it with the general path)."""
    global _fast_enabled
    _fast_enabled = enabled


cdef void clear_fast_caches():
    """The identities and zero blocks kept per size (at most ~8 MiB, all sizes together)."""
    cdef Py_ssize_t i
    for i in range(FAST_MAX + 1):
        _EYES[i] = None
    for i in range(FAST_HESS_MAX + 1):
        _ZEROS12[i] = None


cdef object _eye(Py_ssize_t n):
    e = _EYES[n]
    if e is None:
        e = np.eye(n)
        e.setflags(write=False)
        _EYES[n] = e
    return e


cdef object _zeros12(Py_ssize_t n):
    z = _ZEROS12[n]
    if z is None:
        z = np.zeros((n, n, n))
        z.setflags(write=False)
        _ZEROS12[n] = z
    return z


# transforms.py's general path and its reader of one sweep, registered when it is imported
general_path = None          # (kind, f, argnums, chunk, args, kwargs) -> result
finish_sweep = None          # (kind, out, tag, x, scalar) -> result of one compiled sweep


@cython.final
cdef class Transform:
    """What dd.grad, dd.value_and_grad, dd.jacobian and dd.hessian return: calls on one small
    vector or scalar argument take the compiled path, every other call the general one."""
    cdef readonly object f, argnums, chunk
    cdef int kind, argnum
    cdef Py_ssize_t k               # 0: the default chunk

    def __init__(self, f, int kind, argnums, chunk):
        self.f, self.kind, self.argnums, self.chunk = f, kind, argnums, chunk
        self.argnum = argnums if type(argnums) is int and argnums >= 0 else -1
        self.k = 0 if chunk is None else chunk

    @property
    def __name__(self):
        return f"{('grad', 'value_and_grad', 'jacobian', 'hessian')[self.kind]}" \
               f"({getattr(self.f, '__name__', type(self.f).__name__)})"

    @property
    def __wrapped__(self):
        return self.f

    def __repr__(self):
        return f"<dualdiff {self.__name__}>"

    def __call__(self, *args, **kwargs):
        cdef Py_ssize_t n
        if _fast_enabled and not kwargs and 0 <= self.argnum < len(args):
            x = args[self.argnum]
            if type(x) is np.ndarray and _is_f64(<cnp.ndarray>x) \
                    and cnp.PyArray_NDIM(<cnp.ndarray>x) == 1:
                n = cnp.PyArray_DIMS(<cnp.ndarray>x)[0]
                if 0 < n <= (FAST_HESS_MAX if self.kind == FAST_HESSIAN else FAST_MAX) and \
                        (self.k == 0 or self.k >= n):
                    return self._vector(args, x, n)
            elif type(x) is float and self.kind != FAST_HESSIAN:
                return self._scalar(args, x)
        return general_path(self.kind, self.f, self.argnums, self.chunk, args, kwargs)

    cdef object _vector(self, tuple args, object x, Py_ssize_t n):
        cdef long long tag = next_tag()
        cdef cnp.ndarray v = np.array(x)            # f must not see the caller's buffer
        cdef list call = list(args)
        if self.kind == FAST_HESSIAN:
            call[self.argnum] = _new(v, _eye(n), _eye(n), _zeros12(n), (tag, tag))
        else:
            call[self.argnum] = _new(v, _eye(n), None, None, (tag,))
        _core.enter(tag)
        try:
            out = self.f(*call)
        except _core.EXPLAINED as e:
            _core.raise_explained(e)
        finally:
            _core.leave(tag)
        r = self._read(out, tag, n, False)
        return finish_sweep(self.kind, out, tag, x, False) if r is None else r

    cdef object _scalar(self, tuple args, object x):
        cdef long long tag = next_tag()
        cdef list call = list(args)
        call[self.argnum] = make_dual(<double>x, 1.0, tag)
        _core.enter(tag)
        try:
            out = self.f(*call)
        except _core.EXPLAINED as e:
            _core.raise_explained(e)
        finally:
            _core.leave(tag)
        r = self._read(out, tag, 1, True)
        return finish_sweep(self.kind, out, tag, x, True) if r is None else r

    cdef object _read(self, object out, long long tag, Py_ssize_t n, bint scalar):
        """The result from a scalar of this sweep that f returned; None for anything else
        (finish_sweep reads it, and raises the errors)."""
        cdef double re
        cdef int k1, k2, order
        cdef long long otag
        cdef double *e
        if type(out) is Dual:
            if (<Dual>out).tag != tag or n != 1 or self.kind == FAST_HESSIAN:
                return None
            d = (<Dual>out).eps
            return self._result((<Dual>out).v.re, d if scalar else np.array([d]))
        order = vec_parts(out, &re, &k1, &k2, &e, &otag)
        if order:
            if otag != (tag if order == 1 else level_key2(tag, tag)) or k1 != n or \
                    (order == 2) != (self.kind == FAST_HESSIAN):
                return None
            if order == 1:
                return self._result(re, _from_ptr(e, (n,)))
            return self._result(re, _symmetric(_from_ptr(e + k1 + k2, (n, n))))
        if self.kind == FAST_JACOBIAN and (type(out) is list or type(out) is tuple or (
                type(out) is np.ndarray and cnp.PyArray_TYPE(<cnp.ndarray>out) == cnp.NPY_OBJECT
                and cnp.PyArray_NDIM(<cnp.ndarray>out) == 1)):
            return _read_elements(out, tag, n, scalar)
        return None

    cdef object _result(self, double value, object g):
        if self.kind == FAST_VALUE_AND_GRAD:
            return value, g
        return g


cdef object _symmetric(object h):
    """The upper triangle mirrored, as transforms.hessian keeps it (symmetric bit for bit)."""
    return np.where(np.triu(np.ones(h.shape, dtype=bool)), h, h.T)


cdef object _read_elements(object out, long long tag, Py_ssize_t n, bint scalar):
    """The Jacobian of a loop-style output -- np.array([...]) or a list of this sweep's
    scalars and plain numbers -- row by row; None for anything else."""
    cdef Py_ssize_t m = len(out), i
    cdef double re
    cdef int k1, k2, order
    cdef long long otag
    cdef double *e
    cdef cnp.ndarray J = np.zeros((m, n))
    cdef double *row
    for i in range(m):
        o = out[i]
        row = _ptr(J) + i * n
        if type(o) is Dual:
            if (<Dual>o).tag != tag or n != 1:
                return None
            row[0] = (<Dual>o).eps
            continue
        order = vec_parts(o, &re, &k1, &k2, &e, &otag)
        if order == 1 and otag == tag and k1 == n:
            memcpy(row, e, n * sizeof(double))
        elif order or not is_real(o) or type(o) is bool:
            return None                      # another sweep's dual, nested, not a number
    return J[:, 0] if scalar else J
