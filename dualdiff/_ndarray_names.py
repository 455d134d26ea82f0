"""The ndarray methods and attributes the scalar types (Dual, HyperDual, DualVec,
HyperDualVec) forward to a 0-d dual array, as numpy's float64 has them: x.sum(), x.T,
x.reshape(1), ... setup.py reads these lists (plain literals, no imports) into the templates;
tests/test_methods.py checks every name against DualArray."""

# read as properties: x.T, x.shape, ... Not dtype: numpy's mean/var/std of object arrays
# convert any result that has a dtype to that dtype (float64), dropping the derivative.
PROPERTIES = ("T", "shape", "ndim", "size", "imag", "flat", "itemsize", "nbytes",
              "strides", "base", "device")

# called as methods: x.sum(), x.reshape(1), ... (in-place ones raise, naming the fix)
METHODS = ("all", "any", "argmax", "argmin", "argpartition", "argsort", "astype", "choose",
           "clip", "compress", "conj", "conjugate", "copy", "cumprod", "cumsum", "diagonal",
           "dot", "flatten", "item", "max", "mean", "min", "nonzero", "prod", "ravel", "repeat",
           "reshape", "round", "searchsorted", "squeeze", "std", "sum", "swapaxes", "take",
           "to_device", "tolist", "trace", "transpose", "var", "view",
           "sort", "partition", "fill", "put", "resize", "itemset", "setfield", "setflags",
           "byteswap", "tobytes", "tofile", "dump", "dumps", "getfield")
