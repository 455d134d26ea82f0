"""The ndarray methods and attributes the scalar types (Dual, HyperDual, DualVec,
HyperDualVec) forward to a 0-d dual array, as numpy's float64 has them: x.sum(), x.T,
x.reshape(1), ..., and the ufuncs numpy's object loops call as element methods. setup.py
reads these lists (plain literals, no imports) into the templates;
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

# numpy's object-dtype loops call these ufuncs as methods of each element (np.fabs of
# np.array([x[0], x[1]]) in loop-style code calls x[0].fabs()), beyond the methods named after
# the rule table (x.sin(), x.arctan2(y)): each is the ufunc on the dual arrays' path.
# (numpy has no object loop at all for isfinite, logaddexp, copysign, ...: dualdiff's error
# then says to build the array with np.stack.)
UFUNC_METHODS = (("fabs", 1), ("degrees", 1), ("radians", 1), ("fmod", 2), ("logical_xor", 2))
