"""ndarray's methods and attributes on dual arrays (and, through a 0-d dual array, on the
scalar types, as numpy's float64 has them).

The common ones (sum, reshape, T, astype, ...) are methods of DualArray itself; this table
holds the rest, looked up by DualArray.__getattr__. Each entry says what numpy's method
means for an immutable array of dual numbers:
  * forwarded: x.argmax(...) is np.argmax(x, ...), served by the handler tables;
  * describing: x.imag (zeros: dual numbers are real), x.itemsize, x.flat, x.item(), ...;
  * refused with the fix: in-place methods (x.sort() -> np.sort(x)) and conversions that
    drop the derivative (x.tobytes() -> x.real.tobytes()).
"""
import numpy as np

from dualdiff import _arrays

ATTRIBUTES = _arrays.ATTRIBUTES          # name -> function(dual array) -> the attribute


def _forwarded(func):
    return lambda x: lambda *args, **kwargs: func(x, *args, **kwargs)


for _name in ("all", "any", "argmax", "argmin", "argpartition", "argsort", "choose", "conj",
              "conjugate", "nonzero", "round", "searchsorted"):
    ATTRIBUTES[_name] = _forwarded(getattr(np, _name))

# x.compress(condition, axis) is np.compress(condition, x, axis): the array comes second
ATTRIBUTES["compress"] = lambda x: lambda condition, *args, **kwargs: np.compress(
    condition, x, *args, **kwargs)

# x.mT: the transpose of the last two axes (numpy >= 2)
ATTRIBUTES["mT"] = lambda x: np.swapaxes(x, -1, -2)


def _imag(x):
    z = np.zeros(x.shape)          # dual numbers are real: a constant, read-only like numpy's
    z.flags.writeable = False
    return z


def _item(x):
    def item(*args):
        if not args:
            if x.size != 1:
                raise ValueError("can only convert an array of size 1 to a Python scalar")
            e = x.reshape(())
        elif len(args) == 1 and not isinstance(args[0], tuple):
            e = x.reshape(-1)[args[0]]
        else:
            e = x[args[0] if len(args) == 1 else args]
        return _arrays.to_scalar(e)
    return item


def _tolist(x):
    def tolist():
        if x.ndim == 0:
            return _arrays.to_scalar(x)
        return [e.tolist() for e in x]
    return tolist


def _view(x):
    def view(dtype=None, type=None):
        if type is None and (dtype is None or np.dtype(dtype) == np.float64):
            return x
        raise TypeError(f"view({dtype if type is None else type}) of a dual array would lose "
                        "its derivative; take x.real.view(...) for the values alone")
    return view


ATTRIBUTES.update({
    "imag": _imag,
    "item": _item,
    "tolist": _tolist,
    "view": _view,
    "flat": lambda x: x.reshape(-1),          # iterates and indexes as numpy's flatiter does
    "itemsize": lambda x: 8,
    "nbytes": lambda x: x.value.nbytes,
    "strides": lambda x: x.value.strides,
    "base": lambda x: None,
    "device": lambda x: "cpu",
    "to_device": lambda x: lambda device, **kwargs: x,
})


def _refused(message):
    def attribute(x):
        def method(*args, **kwargs):
            raise TypeError(message)
        return method
    return attribute


_IMMUTABLE = ("dual arrays are immutable, so x.{0}() cannot work in place; {1}")
for _name, _fix in (("sort", "use np.sort(x)"), ("partition", "use np.partition(x, kth)"),
                    ("fill", "use np.full_like(x, value)"), ("put", "build a new array with np.where"),
                    ("resize", "use np.resize(x, shape)"), ("itemset", "build a new array with np.where"),
                    ("setfield", "build a new array"), ("setflags", "copy x.real if you need a flag"),
                    ("byteswap", "dual arrays are float64 in this machine's byte order")):
    ATTRIBUTES[_name] = _refused(_IMMUTABLE.format(_name, _fix))

_LOST = ("x.{0}() would lose the derivative of a dual array; take x.real.{0}() for the "
         "values alone")
for _name in ("tobytes", "tofile", "dump", "dumps", "getfield"):
    ATTRIBUTES[_name] = _refused(_LOST.format(_name))


class RawMemoryError(TypeError, AttributeError):
    """x.data, x.ctypes, x.flags of a dual array: a TypeError that names the fix, and an
    AttributeError, so that hasattr(x, "flags") and getattr(x, "data", None) still say no."""


def _raw(name):
    def attribute(x):
        raise RawMemoryError(f"x.{name} exposes the raw memory of a float array, and a dual "
                             f"array has no single buffer; take x.real.{name} for the values "
                             f"alone")
    return attribute


for _name in ("data", "ctypes", "flags"):
    ATTRIBUTES[_name] = _raw(_name)

