"""Products of numpy on dual arrays: matmul, dot, inner, outer, vdot, tensordot, einsum.

Each is written as an einsum contraction of two operands and served by the bilinear product
rule (dualdiff/_jvp/products.py); einsum with more operands is contracted pair by pair along
numpy's own einsum_path.
"""
import numpy as np

from dualdiff import _arrays
from dualdiff._jvp import apply
from dualdiff._jvp.products import _LETTERS, bilinear_jvp, matmul_by_constant, matmul_jvp
from dualdiff._numpy import UFUNCS, implements, ndim, no_out, refuse, shape
from dualdiff._numpy.manipulation import ravel


def _bilinear(a, b, sa, sb, so):
    r = apply(bilinear_jvp, (a, b), {"spec": (sa, sb, so)})
    if r is None:                                   # both constant
        return np.einsum(f"{sa},{sb}->{so}", _arrays.const(a), _arrays.const(b))
    return r


@implements(np.matmul)
def matmul(a, b, out=None, **kwargs):
    if out is not None or kwargs:
        no_out(np.matmul, out)
        refuse(np.matmul, **{k: v for k, v in kwargs.items()
                             if not (k == "dtype" and v in (None, float, np.float64))})
    na, nb = ndim(a), ndim(b)
    if na == 0 or nb == 0:
        raise ValueError("matmul: Input operand does not have enough dimensions")
    if na <= 2 and nb <= 2:
        if shape(a)[-1] != shape(b)[0]:
            raise ValueError(f"matmul: mismatch in the contracted dimension ({shape(a)} @ "
                             f"{shape(b)})")
        r = matmul_by_constant(a, b)
        if r is not None:
            return r
        r = apply(matmul_jvp, (a, b))
        return np.matmul(_arrays.const(a), _arrays.const(b)) if r is None else r
    sa = "...mn" if na > 1 else "n"
    sb = "...np" if nb > 1 else "n"
    so = "..." + ("m" if na > 1 else "") + ("p" if nb > 1 else "")
    return _bilinear(a, b, sa, sb, so)


UFUNCS[np.matmul] = matmul          # numpy's @ on an ndarray and a dual array: the ufunc


@implements(np.dot)
def dot(a, b, out=None):
    no_out(np.dot, out)
    na, nb = ndim(a), ndim(b)
    if na == 0 or nb == 0:
        return a * b
    if na <= 2 and nb <= 2:
        return matmul(a, b)
    sa = _LETTERS[:na]
    sb = (_LETTERS[na:na + nb - 2] + sa[-1] + _LETTERS[na + nb - 2]) if nb >= 2 else sa[-1]
    so = sa[:-1] + sb.replace(sa[-1], "")
    return _bilinear(a, b, sa, sb, so)


@implements(np.inner)
def inner(a, b):
    na, nb = ndim(a), ndim(b)
    if na == 0 or nb == 0:
        return a * b
    sa = _LETTERS[:na - 1] + "z"
    sb = _LETTERS[na - 1:na + nb - 2] + "z"
    return _bilinear(a, b, sa, sb, sa[:-1] + sb[:-1])


@implements(np.outer)
def outer(a, b, out=None):
    no_out(np.outer, out)
    return _bilinear(ravel(a), ravel(b), "i", "j", "ij")


@implements(np.vdot)
def vdot(a, b):
    return _bilinear(ravel(a), ravel(b), "i", "i", "")


def tensordot_subscripts(shape_a, shape_b, axes):
    """np.tensordot's axes as einsum subscripts (a, b, out); the dual arrays and the sparsity
    tracer both contract with them."""
    na, nb = len(shape_a), len(shape_b)
    if isinstance(axes, (int, np.integer)):
        ax_a, ax_b = list(range(na - axes, na)), list(range(axes))
    else:
        ax_a, ax_b = axes
        ax_a = [ax_a] if isinstance(ax_a, (int, np.integer)) else list(ax_a)
        ax_b = [ax_b] if isinstance(ax_b, (int, np.integer)) else list(ax_b)
        ax_a = [i % na for i in ax_a]
        ax_b = [i % nb for i in ax_b]
    sa, sb = list(_LETTERS[:na]), list(_LETTERS[na:na + nb])
    for i, j in zip(ax_a, ax_b):
        if shape_a[i] != shape_b[j]:
            raise ValueError("tensordot: shape-mismatch for sum")
        sb[j] = sa[i]
    so = "".join(c for i, c in enumerate(sa) if i not in ax_a) + \
        "".join(c for j, c in enumerate(sb) if j not in ax_b)
    return "".join(sa), "".join(sb), so


@implements(np.tensordot)
def tensordot(a, b, axes=2):
    return _bilinear(a, b, *tensordot_subscripts(shape(a), shape(b), axes))


# ---- einsum --------------------------------------------------------------------------------

def _parse_einsum(subscripts, operands):
    """Explicit subscripts of every operand and of the output: ellipses become letters (the
    broadcast axes, aligned right as numpy aligns them) and an implicit output is numpy's
    (the letters that appear once, sorted, after the ellipsis axes)."""
    spec = subscripts.replace(" ", "")
    ins, arrow, out = spec.partition("->")
    in_specs = ins.split(",")
    if len(in_specs) != len(operands):
        raise ValueError(f"einsum: {len(in_specs)} operand subscripts for {len(operands)} operands")
    used = set(c for c in spec if c.isalpha())
    free = [c for c in _LETTERS if c not in used]
    n_ell = max([ndim(o) - len(s.replace("...", "")) for s, o in zip(in_specs, operands)
                 if "..." in s] + [0])
    ell = "".join(free[:n_ell])
    explicit = []
    for s, o in zip(in_specs, operands):
        if "..." in s:
            k = ndim(o) - len(s.replace("...", ""))
            s = s.replace("...", ell[n_ell - k:] if k else "")
        if len(s) != ndim(o) or not all(c.isalpha() for c in s):
            raise ValueError(f"einsum: subscripts {s!r} do not fit an operand of {ndim(o)} "
                             "dimensions")
        explicit.append(s)
    if arrow:
        out = out.replace("...", ell)
    else:
        counts = {}
        for s in explicit:
            for c in s:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    return explicit, out


@implements(np.einsum_path)
def einsum_path(*operands, optimize="greedy", einsum_call=False):
    """The contraction order depends on the shapes alone: numpy's on the values."""
    values = [_arrays.value_of(o) for o in operands]
    return np.einsum_path(*[o if v is NotImplemented else v for o, v in zip(operands, values)],
                          optimize=optimize, einsum_call=einsum_call)


@implements(np.einsum)
def einsum(*operands, out=None, optimize=False, **kwargs):
    no_out(np.einsum, out)
    refuse(np.einsum, **{k: v for k, v in kwargs.items()
                         if not (k == "dtype" and v in (None, float, np.float64))
                         and not (k in ("order", "casting") and v in ("K", "safe"))})
    if not operands or not isinstance(operands[0], str):
        raise TypeError("einsum on dual arrays takes the subscripts string form "
                        "('ij,jk->ik', a, b)")
    subscripts, ops = operands[0], list(operands[1:])
    specs, so = _parse_einsum(subscripts, ops)
    if len(ops) == 1:
        # one operand: a linear map (a trace, a transpose, a sum over an axis)
        return _linear_einsum(ops[0], specs[0], so)
    if len(ops) == 2:
        return _bilinear(ops[0], ops[1], specs[0], specs[1], so)
    # more operands: pairwise along numpy's optimal order, on the values' shapes
    return contract(ops, specs, so, [shape(o) for o in ops], _linear_einsum, _bilinear)


def contract(ops, specs, so, shapes, one, two):
    """An einsum of several operands as steps along numpy's greedy path: one(a, sa, sab) for a
    reduction within an operand, two(a, b, sa, sb, sab) for a pair. The dual arrays and the
    sparsity tracer walk the same path with their own one and two."""
    path = np.einsum_path(",".join(specs) + "->" + so,
                          *[np.broadcast_to(0.0, sh) for sh in shapes],
                          optimize="greedy")[0][1:]
    ops, specs = list(ops), list(specs)
    for step in path:
        if len(step) == 1:             # a reduction within one operand
            a, sa = ops.pop(step[0]), specs.pop(step[0])
            keep = set(so).union(*[set(s) for s in specs])
            sab = "".join(dict.fromkeys(c for c in sa if c in keep))
            ops.append(one(a, sa, sab))
            specs.append(sab)
            continue
        i, j = sorted(step)
        b, sb = ops.pop(j), specs.pop(j)
        a, sa = ops.pop(i), specs.pop(i)
        keep = set(so).union(*[set(s) for s in specs])
        sab = "".join(dict.fromkeys(c for c in sa + sb if c in keep))
        ops.append(two(a, b, sa, sb, sab))
        specs.append(sab)
    return ops[0] if specs[0] == so else one(ops[0], specs[0], so)


def _linear_einsum(op, spec, so):
    def fn(arr, nd):
        d = "".join(_dir_letters([spec], so, nd))
        return np.einsum(f"{spec}{d}->{so}{d}", arr)
    return _arrays.linear(op, fn)


def _dir_letters(specs, so, nd):
    """nd letters for trailing direction axes, unused by the specs."""
    used = set("".join(specs) + so)
    return [c for c in reversed(_LETTERS) if c not in used][:nd]
