"""The libraries the bench compares, and how they are loaded: every thread pool pinned to one
thread, optional peers imported or skipped with one line, the battery's functions rebound to
a peer's numpy.

Import this module before numpy, torch or jax (every bench module does, first): the thread
settings are read when those libraries load, and one thread everywhere makes a ratio compare
algorithms, not core counts.
"""
import os

for _k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_k] = "1"
os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import importlib  # noqa: E402
import types  # noqa: E402

import numpy as np  # noqa: E402

# what to pip install for each optional peer (import name -> distribution names)
PEER_PIP = {
    "torch": "torch", "jax": "jax jaxlib", "autograd": "autograd", "fastdual": "fastdual",
    "num_dual": "num-dual", "matplotlib": "matplotlib",
}


def import_peers(*names):
    """optional_import of each name, in order: a module or None per peer."""
    return tuple(optional_import(n) for n in names)


def optional_import(name, why="its rows"):
    """Import an optional peer, or print ONE line saying it is skipped and return None."""
    try:
        mod = importlib.import_module(name)
    except Exception as exc:  # ImportError, or a broken install
        kind = ("not installed" if isinstance(exc, ImportError)
                else f"failed to import ({exc!r:.80})")
        print(f"{name}: {kind}; skipping {why} (pip install {PEER_PIP.get(name, name)})")
        return None
    if name == "torch":
        mod.set_num_threads(1)
        try:
            mod.set_num_interop_threads(1)
        except RuntimeError:          # already set by an earlier import in this process
            pass
    if name == "jax":
        mod.config.update("jax_enable_x64", True)
    return mod


def rebind(fn, **names):
    """fn with some of its global names replaced, e.g. rebind(rosenbrock, np=jax.numpy):
    the battery's own source, run by a peer's numpy."""
    g = dict(fn.__globals__)
    g.update(names)
    new = types.FunctionType(fn.__code__, g, fn.__name__, fn.__defaults__, fn.__closure__)
    new.__kwdefaults__ = fn.__kwdefaults__
    return new


def to_numpy(v):
    """A peer's result (torch tensor, jax array, list...) as a float64 numpy array."""
    if hasattr(v, "detach"):
        return v.detach().numpy()
    return np.asarray(v, dtype=np.float64)
