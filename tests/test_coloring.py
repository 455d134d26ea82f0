"""Specification of dualdiff._coloring: colourings of sparse Jacobian/Hessian patterns are valid
(checked against the definitions by brute force), reach the known optima on stencil patterns,
follow the documented vertex orders, and recover every matrix exactly from its compressed
product; bad input raises ValueError naming the problem."""
import itertools

import numpy as np
import pytest

sp = pytest.importorskip("scipy.sparse")

from dualdiff import _coloring as C  # noqa: E402

ORDERS = C.ORDERS + ("best",)


# ------------------------------------------------------------------------------------------
# patterns
# ------------------------------------------------------------------------------------------


def _random_array(shape, density, rng, format="coo"):
    """scipy.sparse.random_array; scipy < 1.15 names the generator random_state."""
    try:
        return sp.random_array(shape, density=density, rng=rng, format=format)
    except TypeError:
        return sp.random_array(shape, density=density, random_state=rng, format=format)


def grid_pattern(shape, offsets):
    """The stencil pattern on a grid: row p has the columns p + offset that lie in the grid."""
    n = int(np.prod(shape))
    idx = np.arange(n).reshape(shape)
    rows, cols = [], []
    for off in offsets:
        src = tuple(slice(max(0, -o), s - max(0, o)) for o, s in zip(off, shape))
        dst = tuple(slice(max(0, o), s - max(0, -o)) for o, s in zip(off, shape))
        rows.append(idx[src].ravel())
        cols.append(idx[dst].ravel())
    r, c = np.concatenate(rows), np.concatenate(cols)
    return sp.csr_array((np.ones(r.size), (r, c)), shape=(n, n))


def cross(d):
    """The (2d + 1)-point stencil in d dimensions."""
    offs = [(0,) * d]
    for a in range(d):
        for s in (1, -1):
            offs.append(tuple(s if b == a else 0 for b in range(d)))
    return offs


BOX2 = [(a, b) for a in (-1, 0, 1) for b in (-1, 0, 1)]


def random_values(A, rng):
    """A copy of pattern A with entries drawn from N(0, 1): same indptr/indices."""
    A = sp.csr_array(A, copy=True)
    A.data = rng.standard_normal(A.nnz)
    return A


def pattern(make, rng):
    A = sp.csr_array(make(rng))
    A.sum_duplicates()
    return A


def _band(rng, m=60, n=60, lo=3, hi=2):
    return sp.csr_array(sp.diags_array([np.ones(min(m, n))] * (lo + hi + 1),
                                       offsets=list(range(-lo, hi + 1)), shape=(m, n)))


def _blocks(rng):
    sizes = rng.integers(1, 7, size=10)
    return sp.block_diag([np.ones((s, t)) for s, t in zip(sizes, rng.permutation(sizes))],
                         format="csr")


def _arrow(rng, n=40):
    A = np.eye(n)
    A[0, :] = A[:, 0] = 1
    return A


def _random(m, n, density):
    return lambda rng: _random_array((m, n), density=density, rng=rng, format="csr")


def _with_empty(rng, m=50, n=40):
    A = _random_array((m, n), density=0.08, rng=rng).toarray()
    A[rng.choice(m, 10, replace=False), :] = 0
    A[:, rng.choice(n, 10, replace=False)] = 0
    return A


# name -> generator of an m x n pattern
PATTERNS = {
    "banded": _band,
    "banded wide": lambda rng: _band(rng, 30, 70, 1, 4),
    "block diagonal": _blocks,
    "arrow": _arrow,
    "dense": lambda rng: np.ones((20, 15)),
    "empty rows and columns": _with_empty,
    "random": _random(100, 80, 0.05),
    "random tall": _random(300, 30, 0.05),
    "random wide": _random(20, 200, 0.05),
    "one dense row": lambda rng: np.vstack([np.ones((1, 30)), np.eye(30)]),
    "one dense column": lambda rng: np.hstack([np.ones((30, 1)), np.eye(30)]),
    "all zero": lambda rng: np.zeros((7, 9)),
    "1 x 1": lambda rng: np.ones((1, 1)),
    "1 x 1 zero": lambda rng: np.zeros((1, 1)),
    "0 x 5": lambda rng: np.zeros((0, 5)),
    "5 x 0": lambda rng: np.zeros((5, 0)),
    "0 x 0": lambda rng: np.zeros((0, 0)),
}

# name -> generator of an n x n pattern, not necessarily symmetric
SQUARE = {
    "tridiagonal": lambda rng: _band(rng, 40, 40, 1, 1),
    "banded": lambda rng: _band(rng, 50, 50, 3, 3),
    "lower triangle only": lambda rng: sp.tril(_random_array((40, 40), density=0.1, rng=rng)),
    "block diagonal": _blocks,              # square: the blocks' widths permute their heights
    "arrow": _arrow,
    "dense": lambda rng: np.ones((12, 12)),
    "random": _random(60, 60, 0.06),
    "random unsymmetric": _random(30, 30, 0.1),
    "5-point grid": lambda rng: grid_pattern((6, 7), cross(2)),
    "diagonal only": lambda rng: np.eye(9),
    "all zero": lambda rng: np.zeros((6, 6)),
    "1 x 1": lambda rng: np.ones((1, 1)),
    "0 x 0": lambda rng: np.zeros((0, 0)),
}


# ------------------------------------------------------------------------------------------
# oracles: the definitions, by brute force
# ------------------------------------------------------------------------------------------

def columns_sharing_a_row(A):
    """Set of pairs {j, k}, j != k, of columns that share a row."""
    pairs = set()
    for i in range(A.shape[0]):
        cols = A.indices[A.indptr[i]:A.indptr[i + 1]]
        pairs.update(itertools.combinations(sorted(cols), 2))
    return pairs


def neighbours_d2(A):
    """Column j -> set of the other columns sharing a row with it."""
    nb = {j: set() for j in range(A.shape[1])}
    for j, k in columns_sharing_a_row(A):
        nb[j].add(k)
        nb[k].add(j)
    return nb


def adjacency(A):
    """Vertex -> neighbours in the graph of A + A^T without the diagonal."""
    nb = {i: set() for i in range(A.shape[0])}
    coo = sp.coo_array(A)
    for i, j in zip(coo.row, coo.col):
        if i != j:
            nb[int(i)].add(int(j))
            nb[int(j)].add(int(i))
    return nb


def is_partial_d2_coloring(A, colors):
    return all(colors[j] != colors[k] for j, k in columns_sharing_a_row(A))


def bicolored_p4(nb, colors):
    """The first path a-b-c-d on four distinct vertices with only two colours, or None."""
    for b in nb:
        for c in nb[b]:
            for a in nb[b] - {c}:
                for d in nb[c] - {a, b}:
                    if len({colors[a], colors[b], colors[c], colors[d]}) < 3:
                        return a, b, c, d
    return None


def is_star_coloring(nb, colors):
    proper = all(colors[i] != colors[j] for i in nb for j in nb[i])
    return proper and bicolored_p4(nb, colors) is None


def rows_are_rainbow(A, colors):
    """Vectorized partial distance-2 check: no two entries of a row share a colour."""
    if A.nnz == 0:
        return True
    k = colors.max() + 1
    rows = np.repeat(np.arange(A.shape[0], dtype=np.int64), np.diff(A.indptr))
    return np.bincount(rows * k + colors[A.indices], minlength=A.shape[0] * k).max() == 1


def is_star_coloring_fast(A, colors):
    """Vectorized star check for large graphs. For a proper colouring, a two-coloured path
    a-b-c-d exists exactly when some edge b-c has another neighbour of c's colour at b (a)
    and another neighbour of b's colour at c (d); test_fast_star_check_agrees pins this
    equivalence against bicolored_p4."""
    G = sp.csr_array(((A + A.T) != 0).astype(np.int8))
    G.setdiag(0)
    G.eliminate_zeros()
    G.sort_indices()
    coo = sp.coo_array(G)
    b, c = coo.row, coo.col
    if np.any(colors[b] == colors[c]):
        return False
    k = colors.max() + 1
    # per vertex and colour: how many neighbours have it
    count = np.bincount(b.astype(np.int64) * k + colors[c], minlength=G.shape[0] * k)
    many_at_b = count[b.astype(np.int64) * k + colors[c]] >= 2
    many_at_c = count[c.astype(np.int64) * k + colors[b]] >= 2
    return not np.any(many_at_b & many_at_c)


def args(A):
    return A.indptr, A.indices, A.shape


# ------------------------------------------------------------------------------------------
# optima on stencils (n ~ 1e5)
# ------------------------------------------------------------------------------------------

# Distance-2 optimum = the length of the longest row (those columns need distinct colours),
# reached by (x + 2y) mod 5, (x mod 3) + 3 (y mod 3), (x + 2y + 3z) mod 7.
STENCILS = [
    ("tridiagonal", (100_000,), cross(1), 3),
    ("5-point 2-D", (316, 316), cross(2), 5),
    ("9-point 2-D", (316, 316), BOX2, 9),
    ("7-point 3-D", (46, 46, 46), cross(3), 7),
]


@pytest.mark.parametrize("name, shape, offsets, optimum", STENCILS, ids=[s[0] for s in STENCILS])
@pytest.mark.parametrize("by", ["columns", "rows"])
def test_stencil_jacobians_get_the_optimal_number_of_colours(name, shape, offsets, optimum, by):
    A = grid_pattern(shape, offsets)
    assert np.diff(A.indptr).max() == optimum           # the clique bound is the optimum
    if by == "columns":
        colors = C.column_coloring(*args(A))
        assert rows_are_rainbow(A, colors)
    else:
        colors = C.row_coloring(*args(A))
        assert rows_are_rainbow(sp.csr_array(A.T), colors)
    assert colors.max() + 1 == optimum


# Star colouring optima: a path needs 3 (two colours make any P4 bicoloured); the 2-D grid
# needs 5 (Fertin, Raspaud & Reed, "Star coloring of graphs", J. Graph Theory 47, 2004;
# test_4x4_grid_has_no_star_coloring_with_4_colours rechecks the lower bound).
STAR_OPTIMA = [
    ("tridiagonal", (100_000,), cross(1), 3),
    ("5-point 2-D", (316, 316), cross(2), 5),
]


@pytest.mark.parametrize("name, shape, offsets, optimum", STAR_OPTIMA,
                         ids=[s[0] for s in STAR_OPTIMA])
def test_stencil_hessians_get_the_optimal_star_coloring(name, shape, offsets, optimum):
    H = grid_pattern(shape, offsets)
    colors = C.star_coloring(*args(H))
    assert is_star_coloring_fast(H, colors)
    assert colors.max() + 1 == optimum


# No optimum is established for these (9-point: the king's graph; 3-D grids: Fertin et al.
# give bounds only), so only validity is specified; bench/coloring.py reports the counts.
@pytest.mark.parametrize("name, shape, offsets", [("9-point 2-D", (100, 100), BOX2),
                                                  ("7-point 3-D", (22, 22, 22), cross(3))])
def test_stencil_hessians_without_known_optimum_get_a_star_coloring(name, shape, offsets):
    H = grid_pattern(shape, offsets)
    colors = C.star_coloring(*args(H))
    assert is_star_coloring_fast(H, colors)


def test_4x4_grid_has_no_star_coloring_with_4_colours():
    """Exhaustive search (first vertex colour 0, each vertex opens at most one new colour):
    4 colours are too few, 5 suffice, as the literature says."""
    nb = adjacency(grid_pattern((4, 4), cross(2)))
    n = len(nb)

    def extend(colors, k):
        v = len(colors)
        if v == n:
            return True
        for c in range(min(k, max(colors, default=-1) + 2)):
            trial = colors + [c]
            sub = {u: {w for w in nb[u] if w <= v} for u in range(v + 1)}
            if is_star_coloring(sub, trial) and extend(trial, k):
                return True
        return False

    assert not extend([], 4)
    assert extend([], 5)


# ------------------------------------------------------------------------------------------
# validity and exact recovery on many shapes
# ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", PATTERNS)
@pytest.mark.parametrize("order", ORDERS)
def test_column_coloring_is_valid_and_recovers_the_jacobian_exactly(name, order, rng):
    A = pattern(PATTERNS[name], rng)
    colors = C.column_coloring(*args(A), order=order)
    assert colors.shape == (A.shape[1],) and colors.dtype == np.intp
    assert colors.min(initial=0) >= 0
    assert is_partial_d2_coloring(A, colors)
    J = random_values(A, rng)
    B = J.toarray() @ C.seed_matrix(colors)
    data = C.recover_columns(*args(A), colors, B)
    np.testing.assert_array_equal(data, J.data)
    index = C.column_recovery_index(*args(A), colors)
    np.testing.assert_array_equal(B.reshape(-1)[index], J.data)


@pytest.mark.parametrize("name", PATTERNS)
@pytest.mark.parametrize("order", ORDERS)
def test_row_coloring_is_valid_and_recovers_the_jacobian_exactly(name, order, rng):
    A = pattern(PATTERNS[name], rng)
    colors = C.row_coloring(*args(A), order=order)
    assert colors.shape == (A.shape[0],)
    assert is_partial_d2_coloring(sp.csr_array(A.T), colors)
    J = random_values(A, rng)
    B = C.seed_matrix(colors).T @ J.toarray()
    np.testing.assert_array_equal(C.recover_rows(*args(A), colors, B), J.data)


@pytest.mark.parametrize("name", SQUARE)
@pytest.mark.parametrize("order", ORDERS)
def test_star_coloring_is_valid_and_recovers_the_hessian_exactly(name, order, rng):
    P = pattern(SQUARE[name], rng)
    colors = C.star_coloring(*args(P), order=order)
    nb = adjacency(P)
    assert is_star_coloring(nb, colors), bicolored_p4(nb, colors)
    # a symmetric H whose nonzeros lie in P + P^T + diagonal; P itself may be one triangle
    n = P.shape[0]
    full = sp.csr_array(((P + P.T + sp.eye_array(n)) != 0).astype(float))
    upper = sp.triu(random_values(full, rng)).toarray()
    H = upper + np.triu(upper, 1).T
    B = H @ C.seed_matrix(colors)
    data = C.recover_star(*args(P), colors, B)
    rows = np.repeat(np.arange(n), np.diff(P.indptr))
    np.testing.assert_array_equal(data, H[rows, P.indices])


@pytest.mark.parametrize("name", ["banded", "random", "dense", "arrow", "5-point grid"])
def test_star_recovery_is_exactly_symmetric_when_b_holds_rounding(name, rng):
    """Sweeps give each H[i][j] twice in B (at (i, c(j)) and (j, c(i))), rounded
    differently; both triangles must be read from the same one."""
    P = pattern(SQUARE[name], rng)
    P = sp.csr_array(((P + P.T) != 0).astype(float))
    colors = C.star_coloring(*args(P))
    H = random_values(P, rng).toarray()
    H = H + H.T
    B = H @ C.seed_matrix(colors)
    B *= 1 + 1e-15 * rng.standard_normal(B.shape)        # each copy rounded its own way
    R = sp.csr_array((C.recover_star(*args(P), colors, B), P.indices, P.indptr),
                     shape=P.shape).toarray()
    np.testing.assert_array_equal(R, R.T)
    np.testing.assert_allclose(R, H, rtol=1e-14)


@pytest.mark.parametrize("name", PATTERNS)
def test_best_is_never_worse_than_any_order(name, rng):
    A = pattern(PATTERNS[name], rng)
    if A.shape[1] == 0:
        pytest.skip("no columns, no colours")
    best = C.column_coloring(*args(A)).max() + 1
    assert best <= min(C.column_coloring(*args(A), order=o).max() + 1 for o in C.ORDERS)
    assert best >= np.diff(A.indptr).max(initial=1)     # nothing beats the longest row


@pytest.mark.parametrize("name", PATTERNS)
def test_auto_is_best_where_natural_order_is_within_twice_the_bound(name, rng):
    """"auto" (the sparse transforms' order for large patterns) is "best" -- the same
    colours -- unless the search fails and natural order needs over twice the longest row
    and so do largest_first, smallest_last and incidence_degree: then it is their best. (Where
    one of those comes within twice the bound, "auto" goes on as "best" does.)"""
    A = pattern(PATTERNS[name], rng)
    if A.shape[1] == 0:
        pytest.skip("no columns, no colours")
    auto = C.column_coloring(*args(A), order="auto")
    assert rows_are_rainbow(A, auto)
    bound = np.diff(A.indptr).max(initial=1)
    natural = C.column_coloring(*args(A), order="natural").max() + 1
    best = C.column_coloring(*args(A))
    greedy = min(C.column_coloring(*args(A), order=o).max() + 1 for o in C.ORDERS[:4])
    if natural <= 2 * bound or best.max() + 1 == bound or greedy <= 2 * bound:
        np.testing.assert_array_equal(auto, best)
    else:
        assert auto.max() + 1 == greedy


def test_auto_on_an_irregular_pattern_skips_the_searches(rng):
    """A random pattern whose natural colouring needs over twice the longest row: "auto"
    takes the greedy orders' best, "best" may search further (never worse)."""
    m, n = 3000, 400
    rows = [rng.choice(n, size=rng.integers(1, 6), replace=False) for _ in range(m)]
    A = sp.csr_array((np.ones(sum(map(len, rows))), np.concatenate(rows),
                      np.concatenate([[0], np.cumsum(list(map(len, rows)))])), shape=(m, n))
    A.sort_indices()
    bound = np.diff(A.indptr).max()
    assert C.column_coloring(*args(A), order="natural").max() + 1 > 2 * bound
    auto = C.column_coloring(*args(A), order="auto")
    assert rows_are_rainbow(A, auto)
    assert auto.max() + 1 == min(C.column_coloring(*args(A), order=o).max() + 1
                                 for o in C.ORDERS[:4])
    assert C.column_coloring(*args(A)).max() <= auto.max()


def test_fast_star_check_agrees_with_the_definition(rng):
    """The vectorized check used on large stencils, against brute force on random
    colourings (valid and invalid ones) of small random graphs."""
    verdicts = set()
    for _ in range(200):
        n = int(rng.integers(2, 12))
        P = sp.csr_array(_random_array((n, n), density=0.3, rng=rng))
        nb = adjacency(P)
        colors = rng.integers(0, int(rng.integers(2, 6)), size=n)
        want = is_star_coloring(nb, colors)
        assert is_star_coloring_fast(P, colors) == want
        verdicts.add(want)
    assert verdicts == {True, False}


def test_star_colorings_of_random_graphs_are_star_colorings(rng):
    for _ in range(60):
        n = int(rng.integers(1, 25))
        P = sp.csr_array(_random_array((n, n), density=float(rng.uniform(0.05, 0.5)),
                                         rng=rng))
        nb = adjacency(P)
        for order in ORDERS:
            colors = C.star_coloring(*args(P), order=order)
            assert is_star_coloring(nb, colors), (order, bicolored_p4(nb, colors))


def test_recovery_index_can_be_reused_for_new_values(rng):
    A = pattern(PATTERNS["random"], rng)
    colors = C.column_coloring(*args(A))
    index = C.column_recovery_index(*args(A), colors)
    S = C.seed_matrix(colors)
    for _ in range(3):
        J = random_values(A, rng)
        np.testing.assert_array_equal((J.toarray() @ S).reshape(-1)[index], J.data)


def test_seed_matrix_is_one_hot():
    S = C.seed_matrix([2, 0, 1, 2])
    np.testing.assert_array_equal(S, [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    assert S.dtype == np.float64
    assert C.seed_matrix(np.zeros(0, int)).shape == (0, 0)
    assert C.seed_matrix(np.zeros(0, int), width=2).shape == (0, 2)
    # many columns (beyond the small identity that is gathered) and colours with gaps
    for colors, width in (([0, 99, 5], None), ([2, 0, 1], 1000), ([1, 0], 65), ([1, 0], 64)):
        S = C.seed_matrix(colors, width=width)
        assert S.shape == (len(colors), width or max(colors) + 1)
        np.testing.assert_array_equal(np.flatnonzero(S), np.arange(len(colors)) * S.shape[1]
                                      + np.array(colors))


def test_a_compressed_matrix_with_more_columns_than_colours(rng):
    """width: B = J [S, V] holds other directions after the colours' (the probe of sparse
    Jacobians); the seed gains zero columns and the index skips them."""
    A = pattern(PATTERNS["random"], rng)
    colors = C.column_coloring(*args(A))
    k = int(colors.max()) + 1
    J = random_values(A, rng)
    for width in (k, k + 1, k + 3):
        S = C.seed_matrix(colors, width=width)
        np.testing.assert_array_equal(S[:, :k], C.seed_matrix(colors))
        assert not S[:, k:].any()
        V = S.copy()
        V[:, k:] = rng.standard_normal((S.shape[0], width - k))
        index = C.column_recovery_index(*args(A), colors, width=width)
        np.testing.assert_array_equal((J.toarray() @ V).reshape(-1)[index], J.data)
    for bad in (k - 1, True, 2.0, "3"):
        with pytest.raises(ValueError, match="width must be an int"):
            C.column_recovery_index(*args(A), colors, width=bad)
        with pytest.raises(ValueError, match="width must be an int"):
            C.seed_matrix(colors, width=bad)


# ------------------------------------------------------------------------------------------
# vertex orders follow their definitions; greedy takes the smallest free colour
# ------------------------------------------------------------------------------------------

def check_order(name, order, nb):
    """Each order against its defining property (ties may go either way)."""
    n = len(nb)
    assert sorted(order) == list(range(n))
    pos = np.empty(n, int)
    pos[order] = np.arange(n)
    if name == "natural":
        assert list(order) == list(range(n))
    elif name == "largest_first":
        deg = [len(nb[v]) for v in order]
        assert deg == sorted(deg, reverse=True)
    for k, v in enumerate(order):
        before = [w for w in order[:k]]
        rest = [w for w in order[k:]]
        if name == "incidence_degree":   # most neighbours among those already ordered
            score = {w: len(nb[w] & set(before)) for w in rest}
            assert score[v] == max(score.values())
        elif name == "dynamic_largest_first":   # most neighbours among those left
            score = {w: len(nb[w] & set(rest)) for w in rest}
            assert score[v] == max(score.values())
        elif name == "smallest_last":    # least degree within the vertices up to here
            upto = set(order[:k + 1])
            score = {w: len(nb[w] & upto) for w in upto}
            assert score[v] == min(score.values())


@pytest.mark.parametrize("order", C.ORDERS)
def test_orders_follow_their_definitions(order, rng):
    for _ in range(30):
        m, n = (int(x) for x in rng.integers(1, 25, size=2))
        A = sp.csr_array(_random_array((m, n), density=float(rng.uniform(0.02, 0.3)),
                                         rng=rng))
        check_order(order, C._vertex_order(*args(A), order, 0), neighbours_d2(A))
        check_order(order, C._vertex_order(*args(A), order, 1),
                    neighbours_d2(sp.csr_array(A.T)))
        S = sp.csr_array(A[:min(m, n), :min(m, n)])
        check_order(order, C._vertex_order(*args(S), order, 2), adjacency(S))


@pytest.mark.parametrize("order", C.ORDERS)
def test_greedy_gives_each_column_the_smallest_colour_free_of_earlier_neighbours(order, rng):
    for _ in range(30):
        m, n = (int(x) for x in rng.integers(1, 30, size=2))
        A = sp.csr_array(_random_array((m, n), density=float(rng.uniform(0.02, 0.3)),
                                         rng=rng))
        nb = neighbours_d2(A)
        colors = C.column_coloring(*args(A), order=order)
        seen = set()
        for v in C._vertex_order(*args(A), order, 0):
            taken = {colors[w] for w in nb[v] & seen}
            assert colors[v] == min(set(range(n + 1)) - taken)
            seen.add(v)


# ------------------------------------------------------------------------------------------
# bad input
# ------------------------------------------------------------------------------------------

GOOD = (np.array([0, 2, 3]), np.array([0, 2, 1]), (2, 3))

BAD_PATTERNS = [
    ((np.array([0, 2]), GOOD[1], (2, 3)), "indptr has length 2; a pattern with 2 rows needs 3"),
    ((np.array([1, 2, 3]), GOOD[1], (2, 3)), r"indptr\[0\] must be 0, got 1"),
    ((np.array([0, 3, 2]), GOOD[1], (2, 3)),
     r"non-decreasing, but indptr\[1\] = 3 > indptr\[2\] = 2"),
    ((np.array([0, 2, 2]), GOOD[1], (2, 3)), r"indptr\[-1\] = 2 must equal len\(indices\) = 3"),
    ((GOOD[0], np.array([0, 3, 1]), (2, 3)), r"indices\[1\] = 3 is outside \[0, 3\)"),
    ((GOOD[0], np.array([0, -1, 1]), (2, 3)), r"indices\[1\] = -1 is outside \[0, 3\)"),
    ((GOOD[0], np.array([0, 2**32 + 1, 1]), (2, 3)), r"indices\[1\] = 4294967297 is outside"),
    ((GOOD[0], np.array([0, 2, 1], np.int32)[[0, 0, 2]], (2, 3)), "row 0 lists column 0 twice"),
    ((GOOD[0].astype(float), GOOD[1], (2, 3)), "indptr must be an integer array"),
    ((GOOD[0], GOOD[1].astype(bool), (2, 3)), "indices must be an integer array"),
    ((GOOD[0], GOOD[1].reshape(3, 1), (2, 3)), "indices must be a 1-D integer array"),
    ((GOOD[0], GOOD[1], (2,)), r"shape must be a pair of ints"),
    ((GOOD[0], GOOD[1], (2, 3.5)), r"shape must be a pair of ints"),
    ((GOOD[0], GOOD[1], (2, -3)), r"must have sizes between 0 and"),
    ((GOOD[0], GOOD[1], (2, 2**31)), r"must have sizes between 0 and"),
]


@pytest.mark.parametrize("bad, message", BAD_PATTERNS, ids=[m[:40] for _, m in BAD_PATTERNS])
@pytest.mark.parametrize("func", [C.column_coloring, C.row_coloring,
                                  lambda *a: C.column_recovery_index(*a, [0, 1, 2])])
def test_bad_patterns_raise_value_error_naming_the_problem(func, bad, message):
    with pytest.raises(ValueError, match=message):
        func(*bad)


def test_star_coloring_needs_a_square_pattern():
    with pytest.raises(ValueError, match=r"must be square, got shape \(2, 3\)"):
        C.star_coloring(*GOOD)


def test_unknown_order_is_named_with_the_choices():
    with pytest.raises(ValueError, match="order must be 'best', 'auto' or one of 'natural', .*; got 'lf'"):
        C.column_coloring(*GOOD, order="lf")


BAD_COLORS = [
    ([0, 1], "colors has 2 entries; this pattern has 3 columns"),
    ([0, -1, 1], r"colors must be >= 0, got colors\[1\] = -1"),
    ([0.0, 1.0, 2.0], "colors must be an integer array"),
    ([0, 2**31, 1], r"colors\[1\] = 2147483648 is beyond"),
    ([0, 1, 0], "not a valid column colouring: columns 0 and 2 share row 0 and colour 0"),
]


@pytest.mark.parametrize("colors, message", BAD_COLORS, ids=[m[:30] for _, m in BAD_COLORS])
def test_bad_colors_raise_value_error(colors, message):
    with pytest.raises(ValueError, match=message):
        C.recover_columns(*GOOD, colors, np.zeros((2, 3)))


def test_invalid_row_and_star_colorings_are_refused():
    # rows 0 and 1 share column 1
    A = sp.csr_array(np.array([[1, 1, 0], [0, 1, 1]]))
    with pytest.raises(ValueError, match="not a valid row colouring: rows 0 and 1 share "
                                         "column 1 and colour 0"):
        C.row_recovery_index(*args(A), [0, 0])
    path = sp.csr_array(_band(None, 4, 4, 1, 1))
    with pytest.raises(ValueError, match="not a star colouring: 1 and 2 are adjacent"):
        C.star_recovery_index(*args(path), [0, 1, 1, 0])
    # 0-1-2-3 coloured a b a b: proper, but entry (1, 2) is in neither place
    with pytest.raises(ValueError, match=r"not a star colouring: entry \(1, 2\) cannot be read"):
        C.star_recovery_index(*args(path), [0, 1, 0, 1])


def test_bad_compressed_matrix_is_refused():
    colors = C.column_coloring(*GOOD)
    k = colors.max() + 1
    with pytest.raises(ValueError, match=rf"B has shape \(3, {k}\); column recovery"):
        C.recover_columns(*GOOD, colors, np.zeros((3, k)))
    with pytest.raises(ValueError, match="B must be a real numeric array"):
        C.recover_columns(*GOOD, colors, np.zeros((2, k), complex))


def test_inputs_are_never_modified(rng):
    A = pattern(PATTERNS["random"], rng)
    indptr, indices = A.indptr.astype(np.int64), A.indices.astype(np.int64)
    saved = indptr.copy(), indices.copy()
    colors = C.column_coloring(indptr, indices, A.shape)
    colors_saved = colors.copy()
    B = np.asfortranarray(random_values(A, rng).toarray() @ C.seed_matrix(colors))
    B_saved = B.copy()
    C.recover_columns(indptr, indices, A.shape, colors, B)
    C.row_coloring(indptr, indices, A.shape)
    for got, want in zip((indptr, indices, colors, B), saved + (colors_saved, B_saved)):
        np.testing.assert_array_equal(got, want)
