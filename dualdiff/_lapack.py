"""Matrix inverses through the LAPACK that numpy itself loaded, for the linear-algebra rules.

numpy.linalg.inv solves A X = I (LU, then n triangular solves per side: 8/3 n^3 flops); the
derivative of slogdet, det and solve needs A^-1 for all k directions, and for the symmetric
positive definite matrices of statistics (covariances, Hessians, Gram matrices) Cholesky and
its inverse (potrf + potri) cost n^3, the general LU route (getrf + getri) 2 n^3. numpy does
not expose those routines; its wheels bundle scipy-openblas, whose LAPACKE entry points are
called here through ctypes. It is the library numpy already runs on, so its thread pool is
numpy's own: a second BLAS (scipy's) beside it made the n = 200 Gaussian likelihood's
gradient 4x slower with threads on, the two pools' idle threads spinning against each other.

Anything else -- another numpy build (MKL, Accelerate, a system OpenBLAS), a batch of
matrices, a non-finite entry -- goes to numpy.linalg.inv, so the results differ only in
rounding (the tests compare both routes). `inverse(a)` is the one entry point.
"""
import ctypes
import glob
import os
import threading

import numpy as np

_ROW_MAJOR = 101                 # LAPACKE's layout codes
_COL_MAJOR = 102
_LIB = None                      # None: not looked up yet; False: not available
_LOOKUP = threading.Lock()


def _library():
    """numpy's bundled scipy-openblas (ILP64: 64-bit integers, `64_` suffix), or False."""
    global _LIB
    if _LIB is not None:
        return _LIB
    with _LOOKUP:        # one lookup; no thread may take numpy's route while another looks
        if _LIB is None:
            _LIB = _find()
    return _LIB


def _find():
    if os.environ.get("DUALDIFF_NUMPY_LAPACK", "1") == "0":      # the tests' plain route
        return False
    here = os.path.dirname(np.__file__)
    found = []
    for d in (os.path.join(here, os.pardir, "numpy.libs"), os.path.join(here, ".dylibs")):
        found += sorted(glob.glob(os.path.join(d, "*scipy_openblas64_*")))
    for path in found:
        try:
            lib = ctypes.CDLL(path)
            fns = {name: getattr(lib, f"scipy_LAPACKE_{name}64_")
                   for name in ("dpotrf", "dpotri", "dgetrf", "dgetri")}
        except (OSError, AttributeError):
            continue
        i64, dp, ch = ctypes.c_int64, ctypes.c_void_p, ctypes.c_char
        for name, args in (("dpotrf", (ctypes.c_int, ch, i64, dp, i64)),
                           ("dpotri", (ctypes.c_int, ch, i64, dp, i64)),
                           ("dgetrf", (ctypes.c_int, i64, i64, dp, i64, dp)),
                           ("dgetri", (ctypes.c_int, i64, dp, i64, dp))):
            fns[name].argtypes, fns[name].restype = args, i64
        return fns
    return False


_BLOCK = 64
_BELOW = np.tri(_BLOCK, k=-1, dtype=bool)
# below this order numpy's inv is as fast: the calls and checks around LAPACK cost what the
# flops save (n = 16: 32 us against numpy's 19; even at n = 50)
_SMALLEST = 64


def _mirror_upper(x):
    """x's strictly lower triangle from its upper one, a block column at a time: a fancy-index
    copy of the n^2/2 entries took half as long as potri itself at n = 200 (0.29 ms), this
    0.05 ms."""
    n = x.shape[0]
    for i in range(0, n, _BLOCK):
        j = min(i + _BLOCK, n)
        x[j:, i:j] = x[i:j, j:].T
        d = x[i:j, i:j]
        np.copyto(d, d.T, where=_BELOW[:j - i, :j - i])


def available():
    return bool(_library())


def inverse(a):
    """A^-1 of a float64 array (..., n, n), as numpy.linalg.inv (its LinAlgError for a singular
    matrix); a fresh C-contiguous array."""
    lib = _library()
    if not lib or a.ndim != 2 or a.shape[0] < _SMALLEST or not np.isfinite(a).all():
        return np.linalg.inv(a)
    n = a.shape[0]
    x = np.array(a, dtype=np.float64, order="C")
    ptr = x.ctypes.data
    # the column-major view of a C array is A^T; A is symmetric here, so it is A itself
    if np.array_equal(a, a.T) and lib["dpotrf"](_COL_MAJOR, b"L", n, ptr, n) == 0:
        if lib["dpotri"](_COL_MAJOR, b"L", n, ptr, n) == 0:
            _mirror_upper(x)   # potri fills the (column-major) lower triangle: C's upper
            return x
        return np.linalg.inv(a)
    x[...] = a                           # a failed potrf (not positive definite) wrote into x
    ipiv = np.empty(n, dtype=np.int64)
    # row-major: LAPACKE hands getrf A itself (transposed into column order), so the pivots,
    # and an exactly zero one of a singular A, are those of numpy's inv
    if lib["dgetrf"](_ROW_MAJOR, n, n, ptr, n, ipiv.ctypes.data) != 0 or \
            lib["dgetri"](_ROW_MAJOR, n, ptr, n, ipiv.ctypes.data) != 0:
        return np.linalg.inv(a)          # singular (or an argument LAPACK refused): numpy's answer
    return x
