#!/usr/bin/env python
"""Colour counts and timings of dualdiff._coloring on stencil patterns at n ~ 1e5 and 1e6:
distance-2 column colouring of a Jacobian with the stencil's pattern and star colouring of a
Hessian with it, for each vertex order and "best", and the cost of recovery.

    PYTHONPATH=. python bench/coloring.py [--quick] [--repeat R]

Times are the best of R runs on one core (this machine may be shared: treat them as upper
bounds). Needs only numpy.
"""
import argparse
import time

import numpy as np

from dualdiff import _coloring as C


def stencil(shape, offsets):
    """CSR (indptr, indices, shape) of the stencil on a grid: row p holds the columns p + o
    that lie inside the grid, sorted."""
    shape = tuple(shape)
    n = int(np.prod(shape))
    coords = np.indices(shape).reshape(len(shape), -1)
    flat = np.ravel_multi_index(coords, shape)
    cols = np.full((n, len(offsets)), -1, np.int64)
    for t, off in enumerate(offsets):
        target = coords + np.array(off)[:, None]
        inside = np.all((target >= 0) & (target < np.array(shape)[:, None]), axis=0)
        cols[flat[inside], t] = np.ravel_multi_index(target[:, inside], shape)
    cols.sort(axis=1)
    keep = cols >= 0
    indptr = np.concatenate([[0], np.cumsum(keep.sum(axis=1))])
    return indptr, cols[keep].astype(np.int32), (n, n)


def cross(d):
    offs = [(0,) * d]
    for a in range(d):
        for s in (1, -1):
            offs.append(tuple(s if b == a else 0 for b in range(d)))
    return offs


def grids(n):
    """The four stencils of the task at about n points."""
    s2, s3 = round(n ** 0.5), round(n ** (1 / 3))
    box = [(a, b) for a in (-1, 0, 1) for b in (-1, 0, 1)]
    return [("tridiagonal", (n,), cross(1)), ("5-point 2-D", (s2, s2), cross(2)),
            ("9-point 2-D", (s2, s2), box), ("7-point 3-D", (s3, s3, s3), cross(3))]


def timed(repeat, f, *args, **kw):
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = f(*args, **kw)
        best = min(best, time.perf_counter() - t)
    return out, best


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="n ~ 1e4 only")
    ap.add_argument("--repeat", type=int, default=3)
    opt = ap.parse_args()
    sizes = [10 ** 4] if opt.quick else [10 ** 5, 10 ** 6]
    methods = C.ORDERS + ("best",)
    for n in sizes:
        for name, shape, offsets in grids(n):
            indptr, indices, shp = stencil(shape, offsets)
            bound = int(np.diff(indptr).max())
            print(f"\n{name}, grid {shape}, n = {shp[0]}, nnz = {indices.size}, "
                  f"longest row = {bound}")
            print(f"  {'order':24s} {'d2 cols':>8s} {'time':>9s}   {'star':>5s} {'time':>9s}")
            for order in methods:
                (cols, how), t_col = timed(opt.repeat, C._coloring, indptr, indices, shp,
                                           order, 0)
                (star, _), t_star = timed(opt.repeat, C._coloring, indptr, indices, shp,
                                          order, 2)
                label = order + (f" ({how})" if order == "best" else "")
                print(f"  {label:24s} {cols.max() + 1:8d} {t_col * 1e3:7.1f}ms   "
                      f"{star.max() + 1:5d} {t_star * 1e3:7.1f}ms")
            cols = C.column_coloring(indptr, indices, shp)
            B = np.random.default_rng(0).standard_normal((shp[0], cols.max() + 1))
            index, t_index = timed(opt.repeat, C.column_recovery_index, indptr, indices, shp,
                                   cols)
            _, t_gather = timed(opt.repeat, lambda: B.reshape(-1)[index])
            star = C.star_coloring(indptr, indices, shp)
            _, t_sindex = timed(opt.repeat, C.star_recovery_index, indptr, indices, shp, star)
            print(f"  recovery: column index {t_index * 1e3:.1f}ms, star index "
                  f"{t_sindex * 1e3:.1f}ms, gather B.flat[index] {t_gather * 1e3:.1f}ms")


if __name__ == "__main__":
    main()
