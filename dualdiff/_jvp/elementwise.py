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

    nout = 1

    def __init__(self, func, d1, d2, nin, name):
        self.func, self.d1, self.d2, self.nin, self.name = func, d1, d2, nin, name

    def __call__(self, *args):
        got = self._lifted(args)
        if got[1] is None:
            return self.func(*got[3])
        if got[1].order > 2:
            return self._levels(args, got[1])
        return self._first_two(got)

    def _first_two(self, got):
        """The result of a first- or second-order call (got: _lifted's)."""
        return self._chain(got, self._value(got), self.d1, self.d2)

    def _lifted(self, args):
        """(duals, like, tag, values) of the arguments: each as a dual array (None for a
        constant), the operands' common type and tag (like None: no dual among them), and
        their values."""
        if len(args) != self.nin:
            raise TypeError(f"{self.name} takes {self.nin} argument(s), got {len(args)}")
        duals = _arrays.align(*[_arrays.lift(a) for a in args])
        like, tag = _arrays.like(*duals)
        values = [_arrays.value_of(a) if d is None else d.value for a, d in zip(args, duals)]
        return duals, like, tag, values

    def _value(self, lifted):
        duals, _, _, values = lifted
        # f itself gets an integer constant as an integer (scipy's eval_hermite(n, x) has no
        # loop for a float n, and the user's call had none either); the rules get floats
        return self.func(*[_operand(v, d is None) for v, d in zip(values, duals)])

    def _chain(self, lifted, out, d1, d2):
        """The dual result of value `out` (order 1 or 2): d1 and d2 are called on the float
        arguments (broadcast) for the partials, d2 only in a second-order sweep."""
        duals, like, tag, values = lifted
        out = np.asarray(out, dtype=np.float64)
        shape = np.broadcast_shapes(*(np.shape(v) for v in values))
        values = [np.broadcast_to(np.asarray(v, dtype=np.float64), shape) for v in values]
        varying = [i for i, d in enumerate(duals) if d is not None]
        partials = self._partials(d1, values, varying, "first", shape)
        parts = [[np.broadcast_to(t, shape + t.shape[t.ndim - _arrays.ndir(p):])
                  for p, t in enumerate(_arrays.parts(duals[i]))] for i in varying]
        if like.order == 1:
            e1 = None
            for i, ps in zip(varying, parts):
                t = _arrays.chain_given(partials[i], ps[:1])[0]
                e1 = t if e1 is None else e1 + t
            return _arrays.rebuild(like, out, [e1], tag)
        if d2 is None:
            raise TypeError(f"{self.name} was registered without d2, so it has no second "
                            "derivative: register it with dd.register_elementwise(func, d1, d2) "
                            "to use it under hessian, hvp or derivative(order=2)")
        second = self._partials(d2, values, varying, "second", shape)
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
        if self.nout == 1:
            return self._level_result(out, got, pairs, like)
        return tuple(self._level_result(o, g, pairs, like) for o, g in zip(out, got))

    def _level_result(self, out, got, pairs, like):
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


class MultiRule(ElementwiseRule):
    """A ufunc of several outputs (scipy's sici, fresnel, airy, ellipj): d1 and d2 return a
    tuple with one entry per output, each what a one-output rule's d1 and d2 return. func, d1
    and d2 run once per call for all the outputs."""

    def __init__(self, func, d1, d2, nin, nout, name):
        super().__init__(func, d1, d2, nin, name)
        self.nout = nout

    def _first_two(self, got):
        outs = self._value(got)
        firsts = _shared(self.d1, self.nout, self.name, "d1")
        seconds = [None] * self.nout if self.d2 is None else \
            _shared(self.d2, self.nout, self.name, "d2")
        return tuple(self._chain(got, outs[j], firsts[j], seconds[j])
                     for j in range(self.nout))


def _shared(fn, nout, name, which):
    """nout callables, output j's entry of one call of fn (made at the first call: every
    output's chain rule passes the same arguments)."""
    box = []

    def entry(j):
        def get(*args):
            if not box:
                got = fn(*args)
                if not isinstance(got, (tuple, list)) or len(got) != nout:
                    raise TypeError(f"{name}: {which} must return a tuple of {nout} entries, "
                                    "one per output")
                box.append(got)
            return box[0][j]
        return get
    return [entry(j) for j in range(nout)]


def _operand(v, constant):
    a = np.asarray(v)
    return a if constant and a.dtype.kind in "iu" else np.asarray(a, dtype=np.float64)


def _float(a, name, which, shape):
    try:
        return np.broadcast_to(np.asarray(a, dtype=np.float64), shape)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: its {which}-derivative rule returned {type(a).__name__}, "
                        "not an array of numbers") from None
