"""No NumPy function drops the derivative silently (issue 11, item 1).

"Every NumPy function that returns a plain number or array when given a dual, without raising,
is a bug." The walk below calls every public callable of numpy, numpy.linalg, numpy.fft and
numpy.emath with dual arguments in a few patterns -- a dual vector, matrix and scalar, first
and second order, alone and with a second argument -- and requires of each call one of:

  * a result that carries the derivative: a dual array or scalar, or a tuple / list / object
    array holding one;
  * an exception (TypeError, ValueError, ...: the error contract of API.md);
  * a result without floats (indices, booleans, shapes, dtypes, strings) from a function of
    NO_DERIVATIVE, or a plain float result from a function of CONSTANT: each entry says why
    that is right.

A dual is only put where numpy takes data: a pattern that would pass it as a dtype, an order,
a copy flag ... (NOT_DATA) is skipped, as that is a misuse with no derivative to keep. Every
call also checks that the dual arguments come back unmodified.
"""
import contextlib
import inspect
import io
import types
import warnings

import numpy as np
import pytest

from dualdiff import Dual, HyperDual, _arrays, _core

# every scalar type dualdiff makes (DualVec / HyperDualVec: one element of a sweep with
# several directions, where dualdiff has them)
SCALARS = tuple(getattr(_core, n) for n in ("Dual", "HyperDual", "DualVec", "HyperDualVec")
                if hasattr(_core, n))

MODULES = (np, np.linalg, np.fft, np.emath)

# never called: they read or write files, change global state, or print
NOT_CALLED = {
    "save": "writes a file", "savez": "writes a file", "savez_compressed": "writes a file",
    "savetxt": "writes a file", "load": "reads a file", "loadtxt": "reads a file",
    "genfromtxt": "reads a file", "fromfile": "reads a file", "fromregex": "reads a file",
    "set_printoptions": "global state", "seterr": "global state",
    "seterrcall": "global state", "setbufsize": "global state", "printoptions": "global state",
    "errstate": "global state", "show_config": "prints", "show_runtime": "prints",
    "info": "prints", "test": "runs numpy's test suite",
}

# parameters that do not take data: a dual passed there is a misuse, not a differentiation
NOT_DATA = {"dtype", "order", "like", "device", "copy", "subok", "ndmin", "casting", "kind",
            "method", "mode", "side", "norm", "signature", "extobj", "sig", "names",
            "formats", "shape", "buffer", "offset", "strides", "fmt", "delimiter", "tol"}

# results that legitimately carry no floats: indices, truth values, shapes, types, text.
# A key is a function's name (every pattern) or name(pattern) (that call only).
NO_DERIVATIVE = {
    # positions and orders of values (decisions on values: no derivative)
    **dict.fromkeys(("argmax", "argmin", "nanargmax", "nanargmin", "argsort", "argpartition",
                     "lexsort", "searchsorted", "nonzero", "flatnonzero", "argwhere",
                     "count_nonzero", "where"), "indices or counts of values"),
    # truth values of values
    **dict.fromkeys(("isclose", "allclose", "array_equal", "array_equiv", "isreal",
                     "iscomplex", "isrealobj", "iscomplexobj", "isposinf", "isneginf", "any",
                     "all", "isin", "isnan", "isinf", "isfinite", "signbit", "equal",
                     "not_equal", "less", "less_equal", "greater", "greater_equal",
                     "logical_and", "logical_or", "logical_xor", "logical_not",
                     "shares_memory", "may_share_memory", "isscalar", "iterable"),
                    "truth values of values"),
    # the array's layout, not its values
    **dict.fromkeys(("shape", "ndim", "size", "diag_indices_from", "tril_indices_from",
                     "triu_indices_from"), "the array's shape"),
    # types and text about types
    **dict.fromkeys(("result_type", "min_scalar_type", "promote_types", "issubdtype",
                     "mintypecode"), "dtypes, not values"),
    "bmat": "numpy returns None for anything but a string, a sequence or an ndarray",
    "matrix_rank": "the rank: an integer",
}

# plain float results that are right: the result does not depend on the dual's value
CONSTANT = {
    "imag": "the imaginary part of a real number: 0",
    "angle": "the angle of a real number: 0 or pi, piecewise constant",
    "zeros_like": "a new array of zeros shaped like the argument",
    "ones_like": "a new array of ones shaped like the argument",
    "empty_like": "a new uninitialised array shaped like the argument",
    "full_like": "a constant fill value shaped like the argument (a dual fill is dual)",
    "where": "a dual condition is a decision on its values: constant choices stay constant",
    "norm(x,0)": "numpy.linalg.norm(x, ord=0) counts the nonzero entries: piecewise constant",
    "norm(X,0,1)": "numpy.linalg.norm(x, ord=0) counts the nonzero entries: piecewise constant",
    "slogdet(X)": "numpy.linalg.slogdet's sign is +-1, piecewise constant (logabsdet is dual)",
    "atleast_1d": "one result per argument: a constant argument's result is constant",
    "atleast_2d": "one result per argument: a constant argument's result is constant",
    "atleast_3d": "one result per argument: a constant argument's result is constant",
    "broadcast_arrays": "one result per argument: a constant argument's result is constant",
    "meshgrid": "one result per argument: a constant argument's result is constant",
}


def _dual_arrays():
    rng = np.random.default_rng(12345)
    v = rng.uniform(0.2, 0.9, 4)
    return {
        "x": _arrays.from_parts(v, rng.normal(size=(4, 2))),
        "X": _arrays.from_parts(rng.uniform(0.2, 0.9, (3, 3)), rng.normal(size=(3, 3, 2))),
        "h": _arrays.from_parts(v, rng.normal(size=(4, 2)), rng.normal(size=(4, 1)),
                                rng.normal(size=(4, 2, 1))),
        "d": Dual(0.3, 1.0),
        "H": HyperDual(0.3, 1.0, 0.5, 0.25),
        **({"v": _core.DualVec(0.3, [1.0, 0.5])} if hasattr(_core, "DualVec") else {}),
    }


PATTERNS = [("x",), ("X",), ("h",), ("d",), ("H",), ("x", 0), ("x", 2), ("x", "x"),
            (2.0, "x"), ("d", "d"), ("X", "X"), ("X", 0, 1), ("x", 1, "x"),
            ("x", [0.0, 0.5, 1.0, 1.5], "x")] + ([("v",)] if hasattr(_core, "DualVec") else [])


def _callables():
    seen = set()
    for mod in MODULES:
        for name in sorted(dir(mod)):
            f = getattr(mod, name)
            if name.startswith("_") or name in NOT_CALLED or id(f) in seen:
                continue
            if isinstance(f, (type, types.ModuleType)) or not callable(f):
                continue
            seen.add(id(f))
            yield f"{mod.__name__}.{name}", name, f


_DTYPE_SECOND = {"array", "asarray", "asanyarray", "ascontiguousarray", "asfortranarray"}


def _lands_in_non_data(f, args):
    """Whether a dual argument of the pattern would bind to a NOT_DATA parameter of f."""
    try:
        params = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        # builtins without a signature on older numpy (2.0): the array constructors take
        # dtype second, and numpy reads a dual array there as its .dtype (float64)
        return getattr(f, "__name__", "") in _DTYPE_SECOND and len(args) > 1 and \
            isinstance(args[1], str)
    for i, a in enumerate(args):
        if not isinstance(a, str) or i >= len(params):
            continue
        p = params[i]
        if p.kind in (p.VAR_POSITIONAL,):
            return False
        if p.name in NOT_DATA:
            return True
    return False


def _kind(r):
    """'dual' (carries the derivative), 'empty' (no numbers at all: an empty array or tuple,
    nothing to differentiate), 'none' (no floats) or 'float' (plain floats)."""
    if isinstance(r, (_arrays.DualArray,) + SCALARS):
        return "dual"
    if isinstance(r, (tuple, list)) and len(r) == 0 or \
            isinstance(r, np.ndarray) and r.ndim and r.size == 0:
        return "empty"
    if isinstance(r, (tuple, list)):
        kinds = [_kind(e) for e in r]
        if "dual" in kinds:
            return "mixed" if "float" in kinds else "dual"
        return "float" if "float" in kinds else "none"
    if isinstance(r, np.ndarray):
        if r.dtype == object:
            return "dual" if any(isinstance(e, (_arrays.DualArray,) + SCALARS)
                                 for e in np.asarray(r).flat) else (
                "none" if r.size == 0 else "float")
        return "float" if r.dtype.kind in "fc" and r.size else "none"
    if isinstance(r, (float, complex, np.floating, np.complexfloating)):
        return "float"
    return "none"


def _parts(d):
    # a rowless array's parts are not read: reading stores its zero rows (it is then an
    # ordinary dual array of zero tangents, no longer what the rowless walk is about)
    return [] if _arrays.lift(d) is None else _arrays.parts(d)


def _snapshot(duals):
    return {k: (np.copy(d.value), [np.copy(p) for p in _parts(d)])
            for k, d in duals.items() if isinstance(d, _arrays.DualArray)}


def _unchanged(duals, snap):
    for k, (v, ps) in snap.items():
        d = duals[k]
        if not (np.array_equal(d.value, v, equal_nan=True) and
                all(np.array_equal(a, b, equal_nan=True)
                    for a, b in zip(_parts(d), ps))):
            return False
    return True


def _rowless_arrays():
    """The same arrays without tangent rows: what an argument is in a sweep that does not
    seed it (a chunk that covers another argument)."""
    duals = _dual_arrays()
    return {k: _arrays.rowless(d.value, d) if isinstance(d, _arrays.DualArray) else d
            for k, d in duals.items()}


def walk(make=_dual_arrays, values=None):
    """{qualified name: {pattern: outcome}} for every callable and applicable pattern; the
    results' values go to `values` ({(name, pattern): values}) when given."""
    results = {}
    values = {} if values is None else values
    for qual, name, f in _callables():
        outcomes = {}
        for pattern in PATTERNS:
            if _lands_in_non_data(f, pattern):
                continue
            duals = make()                  # fresh: no call sees another's leftovers
            snap = _snapshot(duals)
            args = [duals[a] if isinstance(a, str) else a for a in pattern]
            key = ",".join(str(a) for a in pattern)
            try:
                with warnings.catch_warnings(), np.errstate(all="ignore"), \
                        contextlib.redirect_stdout(io.StringIO()):
                    warnings.simplefilter("ignore")
                    r = f(*args)
            except Exception as e:                      # the contract: an exception is fine
                outcomes[key] = "raises " + type(e).__name__
            else:
                outcomes[key] = _kind(r)
                values[(qual, key)] = _values(r)
            if not _unchanged(duals, snap):
                outcomes[key] = "MUTATED its dual argument"
        results[qual] = (name, outcomes)
    return results


def _values(r):
    """The float values of a result (dual parts dropped), for comparing bit for bit; None
    where there are none to compare."""
    if isinstance(r, (tuple, list)):
        return [_values(e) for e in r]
    if isinstance(r, _arrays.DualArray) or isinstance(r, SCALARS):
        return np.array(r.value if isinstance(r, _arrays.DualArray) else r.real, dtype=float)
    if isinstance(r, np.ndarray) and r.dtype.kind in "fc":
        return np.array(r)
    if isinstance(r, (float, np.floating)):
        return np.array(r, dtype=float)
    return None


def _same_bits(a, b):
    if isinstance(a, list) or isinstance(b, list):
        return isinstance(a, list) and isinstance(b, list) and len(a) == len(b) and \
            all(_same_bits(x, y) for x, y in zip(a, b))
    if a is None or b is None:
        return True
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


@pytest.fixture(scope="module")
def walked():
    return walk()


def test_arguments_outside_the_chunk_give_the_types_of_seeded_ones(walked):
    """Types do not depend on the chunk: every call that succeeds on a seeded dual array
    gives, on the same array without tangent rows (a sweep that seeds another argument), a
    dual result where it gave one and a plain one where it gave one (np.zeros_like(x) stays
    assignable). A call that raises on a seeded array may work on a rowless one: there is
    no derivative to lose in that sweep."""
    rowless = walk(_rowless_arrays)
    bad = []
    for qual, (name, outcomes) in walked.items():
        for pattern, kind in outcomes.items():
            if kind.startswith("raises"):
                continue
            got = rowless[qual][1].get(pattern)
            # an empty result has nothing to differentiate, dual or not
            if got != kind and {got, kind} != {"dual", "empty"}:
                bad.append(f"{qual}({pattern}): {kind} when seeded, {got} without rows")
    assert not bad, "\n".join(bad)


def test_arguments_outside_the_chunk_give_the_values_of_seeded_ones():
    """...and the same values, bit for bit: a value computed from x in a sweep that does
    not seed x feeds the derivatives along the inputs that sweep does seed, so any rounding
    difference between the two paths makes results depend on chunk (numpy's power rounds
    4.5 ** -1.55 one ulp away from the kernels' pow: fuzz seed 2424-21587)."""
    seeded, rowless = {}, {}
    walk(values=seeded)
    walk(_rowless_arrays, values=rowless)
    bad = [f"{q}({p})" for (q, p), v in seeded.items()
           if (q, p) in rowless and not _same_bits(v, rowless[(q, p)])]
    assert not bad, "values differ between a seeded and a rowless argument: " + ", ".join(bad)


def _exemption(name, pattern, kind):
    """The allow-list entry that covers this outcome: 'name(pattern)' or 'name', or None."""
    table = NO_DERIVATIVE if kind == "none" else CONSTANT if kind in ("float", "mixed") else {}
    for key in (f"{name}({pattern})", name):
        if key in table:
            return key
    return None


def test_no_numpy_function_drops_the_derivative(walked):
    bad = []
    for qual, (name, outcomes) in walked.items():
        for pattern, kind in outcomes.items():
            if kind in ("dual", "empty") or kind.startswith("raises"):
                continue
            if _exemption(name, pattern, kind) is None:
                bad.append(f"{qual}({pattern}) -> {kind}")
    assert not bad, "dual arguments lost their derivative or were modified:\n" + "\n".join(bad)


def test_the_allow_lists_name_real_functions_that_need_them(walked):
    """An entry that a function or pattern no longer needs (it now keeps the derivative) is
    removed, so the lists stay the exact set of exceptions. Entries for a function that
    raises for every pattern stay: it may be served later (numpy.linalg, say), and then the
    entry says what its non-dual results are."""
    used, reachable = set(), set()
    for qual, (name, outcomes) in walked.items():
        for pattern, kind in outcomes.items():
            if not kind.startswith("raises"):
                reachable.update((name, f"{name}({pattern})"))
            key = _exemption(name, pattern, kind)
            if key is not None:
                used.add(key)
    stale = sorted(k for k in set(NO_DERIVATIVE) | set(CONSTANT)
                   if k not in used and k in reachable)
    assert not stale, f"allow-list entries no longer needed: {stale}"


def test_the_walk_covers_numpy(walked):
    """The walk is not vacuous: it reaches hundreds of callables and most of the ones dual
    values support answer with a dual."""
    supported = [q for q, (_, o) in walked.items() if "dual" in o.values()]
    raising = [q for q, (_, o) in walked.items() if o and all(k.startswith("raises")
                                                               for k in o.values())]
    print(f"\nwalked {len(walked)} callables: {len(supported)} keep the derivative, "
          f"{len(raising)} raise for every pattern, "
          f"{len(NO_DERIVATIVE) + len(CONSTANT)} allow-listed")
    assert len(walked) > 400
    assert len(supported) > 150
    print("raising for every pattern:", " ".join(q.replace("numpy.", "") for q in raising))
    for must in ("numpy.sort", "numpy.median", "numpy.quantile", "numpy.interp", "numpy.pad",
                 "numpy.mod", "numpy.nanmean", "numpy.gradient", "numpy.cov"):
        assert "dual" in walked[must][1].values(), must
