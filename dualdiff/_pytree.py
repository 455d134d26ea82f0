"""Pytrees: arguments and results that are nested dicts, lists and tuples of arrays and
numbers, as JAX calls them. The transforms differentiate with respect to every leaf and give
results of the argument's structure.

An argument that is a list or tuple of plain numbers only (a flat or nested sequence that numpy
turns into a numeric array) is not a tree but one array argument, as dualdiff has always taken
it (API.md's "lists/tuples of numbers"); a sequence holding arrays, dicts or dual values is a
tree, and inside a tree every list and tuple is structure (as in JAX). Dict keys keep their
insertion order; namedtuples keep their type.
"""
import numbers

import numpy as np


class Tree:
    """The structure of a pytree: unflatten(leaves) rebuilds it around new leaves."""
    __slots__ = ("kind", "meta", "children")

    def __init__(self, kind, meta, children):
        self.kind, self.meta, self.children = kind, meta, children

    def unflatten(self, leaves):
        it = iter(leaves)
        out = self._build(it)
        return out

    def _build(self, it):
        if self.kind == "leaf":
            return next(it)
        kids = [c._build(it) for c in self.children]
        if self.kind == "dict":
            return dict(zip(self.meta, kids))
        if self.kind == "namedtuple":
            return self.meta(*kids)
        return self.meta(kids)                   # a list or a tuple

    @property
    def leaf_count(self):
        return 1 if self.kind == "leaf" else sum(c.leaf_count for c in self.children)


LEAF = Tree("leaf", None, ())


def is_tree(x):
    """Whether x is a pytree (rather than one array-like argument)."""
    if isinstance(x, dict):
        return True
    if isinstance(x, (list, tuple)):
        return not _numbers_only(x)
    return False


def _numbers_only(x):
    for e in x:
        if isinstance(e, (list, tuple)):
            if not _numbers_only(e):
                return False
        elif not (isinstance(e, numbers.Number) or isinstance(e, np.generic)):
            return False
    return True


def flatten(x):
    """(leaves, Tree) of x; a non-tree x is a single leaf."""
    leaves = []
    if not is_tree(x):
        leaves.append(x)
        return leaves, LEAF
    return leaves, _flatten(x, leaves)


def _flatten(x, leaves):
    if isinstance(x, dict):
        keys = list(x)
        return Tree("dict", keys, [_flatten(x[k], leaves) for k in keys])
    if isinstance(x, (list, tuple)):
        kids = [_flatten(e, leaves) for e in x]
        if hasattr(x, "_fields"):
            return Tree("namedtuple", type(x), kids)
        return Tree("seq", list if isinstance(x, list) else tuple, kids)
    leaves.append(x)
    return LEAF


def tree_map(fn, x):
    """fn applied to every leaf of x, in x's structure."""
    leaves, tree = flatten(x)
    return tree.unflatten([fn(v) for v in leaves])
