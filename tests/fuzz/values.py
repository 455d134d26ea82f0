"""Numbers, dtypes and memory layouts for generated programs, drawn as Python source.

Everything a case uses is written as source text and evaluated, so a reproducer rebuilds
exactly the objects the fuzzer saw: literals print with repr (which round-trips floats), and
odd layouts come from the small helper functions in HELPERS, copied into a reproducer only
when it uses them.
"""
import re

import numpy as np

# Helpers a program's constants and inputs may use. Each keeps the VALUES of its argument and
# changes only how they sit in memory (or whether they may be written), so the plain-numpy
# oracle is unaffected by the layout while dualdiff meets every kind of buffer.
HELPERS = {
    "neg_strides": '''def neg_strides(a):
    """The same values with negative strides on every axis."""
    a = np.asarray(a)
    return np.flip(np.ascontiguousarray(np.flip(a)))''',
    "strided": '''def strided(a):
    """The same values, every other element of a larger buffer (not contiguous)."""
    a = np.asarray(a)
    if a.ndim == 0:
        return a
    buf = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), dtype=a.dtype)
    buf[..., ::2] = a
    return buf[..., ::2]''',
    "readonly": '''def readonly(a):
    """A copy that may not be written."""
    a = np.array(a)
    a.setflags(write=False)
    return a''',
    "unaligned": '''def unaligned(a):
    """The same values in a buffer one byte off the dtype's alignment."""
    a = np.asarray(a)
    raw = np.zeros(a.nbytes + 1, dtype=np.uint8)[1:]
    b = raw.view(a.dtype).reshape(a.shape)
    b[...] = a
    return b''',
    "byteswapped": '''def byteswapped(a):
    """The same values stored in the non-native byte order."""
    a = np.asarray(a)
    return a.astype(a.dtype.newbyteorder())''',
    # executor= on the transforms: two threads (the workers share this process, so f need not
    # be pickled); the fuzzer's workers share one such pool across cases
    "EX": "EX = concurrent.futures.ThreadPoolExecutor(2)",
    "shipping": '''def shipping(transform, *args):
    """transform(*args) with every sweep shipped to the executor, however cheap (the
    executor's cost model would otherwise run a cheap f here, serially)."""
    with dd._executor.policy("ship"):
        return transform(*args)''',
}

# layout name -> how to wrap an array expression (None: leave it as built)
LAYOUTS = {
    "C": None,
    "F": "np.asfortranarray({})",
    "neg_strides": "neg_strides({})",
    "strided": "strided({})",
    "readonly": "readonly({})",
    "unaligned": "unaligned({})",
    "byteswapped": "byteswapped({})",
    "transposed_view": "np.ascontiguousarray(np.asarray({}).T).T",
}
LAYOUT_WEIGHTS = {"C": 10, "F": 2, "neg_strides": 2, "strided": 2, "readonly": 1, "unaligned": 1,
                  "byteswapped": 1, "transposed_view": 1}

# Special values and how they print (np.nan and friends read better than float('nan'))
SPECIALS = [np.nan, np.inf, -np.inf, 0.0, -0.0, 5e-324, 1e-310, 2.2250738585072014e-308,
            1e300, -1e300, 1e-300, 1.0, -1.0]

# float dtypes of constants: values are rounded to them, so plain numpy and dualdiff see the
# same numbers whichever path converts them
CONST_DTYPES = {"float64": 20, "float32": 3, "float16": 1, "int64": 3, "int8": 1, "uint8": 1,
                "bool": 1, "longdouble": 1}

# dtypes of differentiated inputs: (weight, valid per the API)
INPUT_DTYPES = {"float64": (30, True), "float32": (3, True), "float16": (1, True),
                "int64": (3, True), "int32": (1, True), "int8": (1, True), "uint8": (1, True),
                "uint64": (1, True), "longdouble": (1, True), "bool": (1, False),
                "complex128": (1, False), "object": (1, False)}


def fmt(v):
    """A float literal that evaluates back to exactly v."""
    v = float(v)
    if v != v:
        return "np.nan"
    if v in (np.inf, -np.inf):
        return "np.inf" if v > 0 else "-np.inf"
    r = repr(v)
    return r


def pick(rng, weights):
    """A key of `weights` (a dict key -> weight) drawn by weight."""
    keys = list(weights)
    w = np.array([weights[k] if not isinstance(weights[k], tuple) else weights[k][0]
                  for k in keys], dtype=float)
    return keys[rng.choice(len(keys), p=w / w.sum())]


def nice_floats(rng, size, lo=-2.0, hi=2.0, special_p=0.0):
    """Short decimal floats in [lo, hi] (readable reproducers), a few special values mixed in
    with probability special_p each."""
    v = np.round(rng.uniform(lo, hi, size), 3)
    # avoid exact zeros from rounding unless a special value asks for one
    v[v == 0] = 0.125
    if special_p > 0:
        hit = rng.random(size) < special_p
        v[hit] = rng.choice(SPECIALS, size=int(hit.sum()))
    return v


def array_literal(values, shape, dtype="float64"):
    """Source for an array with these values, shape and dtype."""
    values = np.asarray(values, dtype=float).ravel()
    if dtype == "bool":
        body = "[" + ", ".join("True" if v else "False" for v in values) + "]"
    elif dtype in ("float64", "float32", "float16", "longdouble", "complex128", "object"):
        body = "[" + ", ".join(fmt(v) for v in values) + "]"
    else:
        body = "[" + ", ".join(str(int(v)) for v in values) + "]"
    dt = {"float64": "", "object": ", dtype=object"}.get(dtype, f", dtype=np.{dtype}")
    if len(shape) == 0:
        return f"np.array({body[1:-1]}{dt})"
    src = f"np.array({body}{dt})"
    if len(shape) != 1:
        src += f".reshape({', '.join(map(str, shape))})"
    return src


def values_for_dtype(rng, shape, dtype, special_p):
    """Values representable in dtype (ints for int dtypes, no specials there)."""
    size = int(np.prod(shape))
    if dtype == "bool":
        return (rng.random(size) < 0.5).astype(float)
    if dtype.startswith("int") or dtype.startswith("uint"):
        lo = 0 if dtype.startswith("uint") else -3
        v = rng.integers(lo, 4, size).astype(float)
        v[v == 0] = 1
        return v
    v = nice_floats(rng, size, special_p=special_p)
    if dtype == "float16":
        with np.errstate(over="ignore"):                # specials overflow as float16 does
            v = v.astype(np.float16).astype(float)
    return v


def big_vector_source(rng, n):
    """A readable recipe for a long vector (n > 128 exercises the chunk windows)."""
    a, b = np.round(rng.uniform(-2, 2, 2), 2)
    if rng.random() < 0.5:
        return f"np.linspace({fmt(a)}, {fmt(b)}, {n})"
    w = round(float(rng.uniform(0.1, 1.5)), 2)
    return f"{fmt(a)} + np.sin(np.arange({n}) * {fmt(w)})"


def wrap_layout(src, layout):
    tmpl = LAYOUTS[layout]
    return src if tmpl is None else tmpl.format(src)


def helpers_used(*sources):
    """Names of HELPERS that the given sources call."""
    text = "\n".join(sources)
    return [name for name in HELPERS if name + "(" in text
            or re.search(r"\b%s\b" % name, text) and not HELPERS[name].startswith("def ")]
