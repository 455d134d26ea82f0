"""The chain rule for elementwise functions whose derivatives are given as arrays: the rules
registered with dd.register_elementwise (dualdiff's own scipy.special table among them).

f(u1, ..., um) has the tangent sum_i f_i u_i' (first order) and, at second order, the e1e2
part sum_i f_i u_i'' + sum_ij f_ij u_i' u_j'; the per-element arithmetic is csrc/dual.h's and
csrc/hyperdual.h's (kernels dd_given*, called through _arrays.chain_given*), so a registered
function follows the same zero-tangent convention as the built-in rules.
"""
import numpy as np

from dualdiff import _arrays


class ElementwiseRule:
    """A function with its vectorised derivatives: d1(*args) gives f' (one argument) or a
    tuple of m partials (None: not differentiable in that argument); d2 gives f'' or an m x m
    nested tuple of second partials, or is None (then second-order sweeps raise)."""

    def __init__(self, func, d1, d2, nin, name):
        self.func, self.d1, self.d2, self.nin, self.name = func, d1, d2, nin, name

    def __call__(self, *args):
        if len(args) != self.nin:
            raise TypeError(f"{self.name} takes {self.nin} argument(s), got {len(args)}")
        duals = _arrays.align(*[_arrays.lift(a) for a in args])
        like, tag = _arrays.like(*duals)
        values = [_arrays.value_of(a) if d is None else d.value for a, d in zip(args, duals)]
        if like is None:
            return self.func(*values)
        shape = np.broadcast_shapes(*(np.shape(v) for v in values))
        # f itself gets an integer constant as an integer (scipy's eval_hermite(n, x) has no
        # loop for a float n, and the user's call had none either); the rules get floats
        out = np.asarray(self.func(*[_operand(v, d is None) for v, d in zip(values, duals)]),
                         dtype=np.float64)
        values = [np.broadcast_to(np.asarray(v, dtype=np.float64), shape) for v in values]
        varying = [i for i, d in enumerate(duals) if d is not None]
        partials = self._partials(self.d1, values, varying, "first", shape)
        parts = [[np.broadcast_to(t, shape + t.shape[t.ndim - _arrays.ndir(p):])
                  for p, t in enumerate(_arrays.parts(duals[i]))] for i in varying]
        if like.order > 2:
            return self._levels(args, like)
        if like.order == 1:
            e1 = None
            for i, ps in zip(varying, parts):
                t = _arrays.chain_given(partials[i], ps[:1])[0]
                e1 = t if e1 is None else e1 + t
            return _arrays.rebuild(like, out, [e1], tag)
        if self.d2 is None:
            raise TypeError(f"{self.name} was registered without d2, so it has no second "
                            "derivative: register it with dd.register_elementwise(func, d1, d2) "
                            "to use it under hessian, hvp or derivative(order=2)")
        second = self._partials(self.d2, values, varying, "second", shape)
        if len(varying) == 1:
            i = varying[0]
            return _arrays.rebuild(like, out, _arrays.chain_given(
                partials[i], parts[0], second[i][i] if self.nin > 1 else second), tag)
        if len(varying) == 2:
            i, j = varying
            five = [partials[i], partials[j], second[i][i], second[i][j], second[j][j]]
            return _arrays.rebuild(like, out, _arrays.chain_given_binary2(
                five, parts[0], parts[1]), tag)
        raise TypeError(f"{self.name}: second derivatives in more than two varying arguments "
                        "at once are not supported; hold all but two constant")

    def _levels(self, args, like):
        """Three or more levels (nested transforms): f(P + eps T) = f(P) + eps sum_i f_i(P) T_i,
        with the partials evaluated on the dual values P -- which works when d1 itself takes
        dual values (a registered function, numpy code), one level less each time."""
        pairs = [_arrays.as_pair(d) if d is not None else (_arrays.const(a), None)
                 for a, d in zip(args, _arrays.align(*[_arrays.lift(a) for a in args]))]
        P = [p for p, t in pairs]
        out = self(*P)
        try:
            got = self.d1(*P)
        except TypeError as e:
            if not any(_arrays.lift(p) is not None for p in P):
                raise
            # the rule's derivatives are float code (scipy.special's, or a user's numpy
            # function that converts): they cannot carry the inner levels
            raise TypeError(
                f"{self.name}: its derivative rule computes on floats only, so it serves one "
                "or two levels of differentiation, not three or more (a transform nested in "
                "a second-order one, or a dual number made by hand meeting a transform's "
                f"values). Differentiate {self.name} to second order at most, or register "
                "derivatives that take dual values (dd.register_elementwise with numpy "
                "code)") from e
        parts = [got] if self.nin == 1 else list(got)
        tout = None
        for i, (p, t) in enumerate(pairs):
            if t is None:
                continue
            if parts[i] is None:
                raise TypeError(f"{self.name} is not differentiable in its argument {i}: hold "
                                "that argument constant")
            term = np.expand_dims(parts[i], -1) * t
            tout = term if tout is None else tout + term
        return _arrays.from_pair(out, tout, like, like.tags)

    def _partials(self, fn, values, varying, which, shape):
        """The partials (a list indexed by argument) or, for one argument, f'/f''; each an
        array of the broadcast shape."""
        got = fn(*values)
        if self.nin == 1:
            return [_float(got, self.name, which, shape)] if which == "first" else \
                _float(got, self.name, which, shape)
        if not isinstance(got, (tuple, list)) or len(got) != self.nin:
            raise TypeError(f"{self.name}: d{1 if which == 'first' else 2} must return a tuple "
                            f"of {self.nin} {'partials' if which == 'first' else 'rows'}")
        for i in varying:
            entry = got[i]
            if entry is None or (which == "second" and any(got[i][j] is None for j in varying)):
                raise TypeError(f"{self.name} is not differentiable in its argument {i} (its "
                                f"{which} derivative rule gives None there): hold that argument "
                                "constant")
        if which == "first":
            return [None if g is None else _float(g, self.name, which, shape) for g in got]
        return [[None if g is None else _float(g, self.name, which, shape) for g in row]
                for row in got]


def _operand(v, constant):
    a = np.asarray(v)
    return a if constant and a.dtype.kind in "iu" else np.asarray(a, dtype=np.float64)


def _float(a, name, which, shape):
    try:
        return np.broadcast_to(np.asarray(a, dtype=np.float64), shape)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: its {which}-derivative rule returned {type(a).__name__}, "
                        "not an array of numbers") from None
