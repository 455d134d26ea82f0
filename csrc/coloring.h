/* coloring.h -- colouring of sparse Jacobian and Hessian patterns, and recovery of the matrix
 * from its compressed product. Pure C99: no Python, no numpy.
 *
 * Patterns are compressed sparse rows: row i lists its columns in ind[ptr[i] .. ptr[i+1]).
 * Offsets are int64 (nnz may pass 2^31), vertex numbers int32 (halves the memory traffic of
 * the inner loops; a pattern with 2^31 rows would not fit in memory anyway).
 *
 * Problems (definitions of Gebremedhin, Manne & Pothen, "What color is your Jacobian?",
 * SIAM Review 2005):
 *  - partial distance-2 colouring of the columns of J: two columns that share a row get
 *    different colours. Then B = J S (S the one-hot seed of the colours) holds every entry
 *    directly, J[i][j] = B[i][c(j)]. Rows are coloured the same way on the transpose.
 *  - star colouring of the adjacency graph of a symmetric H (edge i-j when H[i][j] != 0,
 *    i != j): a proper colouring in which every path on four vertices uses at least three
 *    colours. Then every H[i][j] is read directly from B = H S, at (i, c(j)) or (j, c(i)).
 * Both colourings are greedy (each vertex takes the smallest colour its constraints allow)
 * over a vertex order; the orders are those of ColPack and SparseMatrixColorings.jl. For
 * distance-2 colourings, "best" adds a bounded backtracking search (dd_d2_search), which
 * reaches the optimum on stencil patterns where every greedy order misses it.
 *
 * Every function that allocates returns DD_COLOR_NOMEM when malloc fails, after freeing
 * what it took. Nothing here reads or writes outside the arrays it is given, provided the
 * pattern passed dd_csr_check first.
 */
#ifndef DUALDIFF_COLORING_H
#define DUALDIFF_COLORING_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DD_COLOR_NOMEM (-1)

/* Vertex orders. Degrees are those of the graph being coloured: for a partial distance-2
 * colouring, the number of other columns that share a row with a column. */
enum {
    DD_ORDER_NATURAL,               /* index order */
    DD_ORDER_LARGEST_FIRST,         /* static degree, largest first (ties: index order) */
    DD_ORDER_SMALLEST_LAST,         /* filled from the back: the vertex of least degree in
                                       the graph not yet ordered goes last, and is removed */
    DD_ORDER_INCIDENCE_DEGREE,      /* filled from the front: the vertex with the most
                                       already-ordered neighbours goes next */
    DD_ORDER_DYNAMIC_LARGEST_FIRST, /* filled from the front: the vertex with the most
                                       neighbours not yet ordered goes next */
    DD_NORDERS,
    DD_ORDER_SEARCH = DD_NORDERS    /* reported by "best" when its backtracking search won */
};
#define DD_ORDER_BEST (-1)          /* try every order, keep the fewest colours (ties: first) */
#define DD_ORDER_AUTO (-2)          /* "best" for patterns the search or one of the first four
                                       orders colour within twice the bound; else those four */

/* ---------------------------------------------------------------------------------------- */
/* patterns                                                                                  */
/* ---------------------------------------------------------------------------------------- */

enum { DD_CSR_OK, DD_CSR_START, DD_CSR_DECREASING, DD_CSR_END, DD_CSR_RANGE, DD_CSR_DUPLICATE };

/* Checks a pattern: ptr[0] == 0, ptr non-decreasing, ptr[nrows] == nnz, every column in
 * [0, ncols), no column twice in one row. Returns DD_CSR_OK or the first problem found, with
 * *bad the offending row (START, DECREASING: ptr[bad] > ptr[bad + 1]) or position in ind
 * (RANGE, DUPLICATE). Repeated entries are refused because a recovered CSR array with a
 * repeated entry would be summed by scipy, doubling that entry. */
static int dd_csr_check(int32_t nrows, int32_t ncols, const int64_t *ptr, int64_t nnz,
                        const int32_t *ind, int64_t *bad)
{
    *bad = 0;
    if (ptr[0] != 0) return DD_CSR_START;
    for (int32_t i = 0; i < nrows; i++)
        if (ptr[i + 1] < ptr[i]) { *bad = i; return DD_CSR_DECREASING; }
    if (ptr[nrows] != nnz) return DD_CSR_END;
    for (int64_t p = 0; p < nnz; p++)
        if (ind[p] < 0 || ind[p] >= ncols) { *bad = p; return DD_CSR_RANGE; }
    int32_t *last = malloc(((size_t)ncols + 1) * sizeof *last);
    if (!last) return DD_COLOR_NOMEM;
    memset(last, 0xff, ((size_t)ncols + 1) * sizeof *last);
    int code = DD_CSR_OK;
    for (int32_t i = 0; i < nrows && code == DD_CSR_OK; i++)
        for (int64_t p = ptr[i]; p < ptr[i + 1]; p++) {
            if (last[ind[p]] == i) { *bad = p; code = DD_CSR_DUPLICATE; break; }
            last[ind[p]] = i;
        }
    free(last);
    return code;
}

/* The transpose (ncols x nrows) by counting sort; its rows come out sorted because the rows
 * of the input are visited in order. tptr has ncols + 1 entries, tind ptr[nrows]. */
static int dd_transpose(int32_t nrows, int32_t ncols, const int64_t *ptr, const int32_t *ind,
                        int64_t *tptr, int32_t *tind)
{
    int64_t *next = malloc(((size_t)ncols + 1) * sizeof *next);
    if (!next) return DD_COLOR_NOMEM;
    memset(tptr, 0, ((size_t)ncols + 1) * sizeof *tptr);
    for (int64_t p = 0; p < ptr[nrows]; p++) tptr[ind[p] + 1]++;
    for (int32_t j = 0; j < ncols; j++) tptr[j + 1] += tptr[j];
    memcpy(next, tptr, ((size_t)ncols + 1) * sizeof *next);
    for (int32_t i = 0; i < nrows; i++)
        for (int64_t p = ptr[i]; p < ptr[i + 1]; p++) tind[next[ind[p]]++] = i;
    free(next);
    return 0;
}

/* The adjacency graph of a square pattern: i-j is an edge when (i, j) or (j, i) is an entry
 * and i != j. Each row sorted, without repeats (star recovery binary-searches the rows).
 * *gptr and *gind are malloc'ed here; the caller frees them. */
static int dd_adjacency(int32_t n, const int64_t *ptr, const int32_t *ind,
                        int64_t **gptr, int32_t **gind)
{
    int64_t nnz = ptr[n], m = 0;
    int64_t *tptr = malloc(((size_t)n + 1) * sizeof *tptr);
    int32_t *tind = malloc(((size_t)nnz + 1) * sizeof *tind);
    int32_t *last = malloc(((size_t)n + 1) * sizeof *last);
    int64_t *uptr = malloc(((size_t)n + 1) * sizeof *uptr);
    int32_t *uind = NULL;
    *gptr = malloc(((size_t)n + 1) * sizeof **gptr);
    *gind = NULL;
    if (!tptr || !tind || !last || !uptr || !*gptr || dd_transpose(n, n, ptr, ind, tptr, tind))
        goto fail;
    /* U = rows of A and of its transpose, merged without repeats (unsorted) */
    memset(last, 0xff, ((size_t)n + 1) * sizeof *last);
    uptr[0] = 0;
    for (int32_t i = 0; i < n; i++) {
        last[i] = i;                                     /* drops the diagonal */
        for (int64_t p = ptr[i]; p < ptr[i + 1]; p++)
            if (last[ind[p]] != i) { last[ind[p]] = i; m++; }
        for (int64_t p = tptr[i]; p < tptr[i + 1]; p++)
            if (last[tind[p]] != i) { last[tind[p]] = i; m++; }
        uptr[i + 1] = m;
    }
    uind = malloc(((size_t)m + 1) * sizeof *uind);
    *gind = malloc(((size_t)m + 1) * sizeof **gind);
    if (!uind || !*gind) goto fail;
    memset(last, 0xff, ((size_t)n + 1) * sizeof *last);
    for (int32_t i = 0; i < n; i++) {
        int64_t q = uptr[i];
        last[i] = i;
        for (int64_t p = ptr[i]; p < ptr[i + 1]; p++)
            if (last[ind[p]] != i) { last[ind[p]] = i; uind[q++] = ind[p]; }
        for (int64_t p = tptr[i]; p < tptr[i + 1]; p++)
            if (last[tind[p]] != i) { last[tind[p]] = i; uind[q++] = tind[p]; }
    }
    /* U is symmetric, so its transpose is U again, now with sorted rows */
    if (dd_transpose(n, n, uptr, uind, *gptr, *gind)) goto fail;
    free(tptr); free(tind); free(last); free(uptr); free(uind);
    return 0;
fail:
    free(tptr); free(tind); free(last); free(uptr); free(uind);
    free(*gptr); free(*gind);
    *gptr = NULL; *gind = NULL;
    return DD_COLOR_NOMEM;
}

/* ---------------------------------------------------------------------------------------- */
/* graphs and vertex orders                                                                  */
/* ---------------------------------------------------------------------------------------- */

/* The graph being coloured. An adjacency graph lists each vertex's neighbours in ind1
 * (ptr2 == NULL; no repeats, no self loops). A distance-2 graph is implicit in a bipartite
 * one: the neighbours of v are the other vertices of the rows ind1[ptr1[v] ..], each row
 * listed in ind2[ptr2[r] ..]. It is never built: for a pattern with one dense row it would
 * hold n^2 edges, while walking it costs the same time and no memory. */
typedef struct {
    int32_t n;
    const int64_t *ptr1; const int32_t *ind1;
    const int64_t *ptr2; const int32_t *ind2;
} dd_graph;

/* The distinct neighbours of v, written to out; their count is returned. seen[] must hold no
 * value v on entry (the orders fill it with -1 once per pass). */
static int32_t dd_neighbors(const dd_graph *g, int32_t v, int32_t *seen, int32_t *out)
{
    int32_t k = 0;
    if (!g->ptr2) {
        for (int64_t p = g->ptr1[v]; p < g->ptr1[v + 1]; p++) out[k++] = g->ind1[p];
        return k;
    }
    seen[v] = v;
    for (int64_t p = g->ptr1[v]; p < g->ptr1[v + 1]; p++) {
        const int32_t r = g->ind1[p];
        for (int64_t q = g->ptr2[r]; q < g->ptr2[r + 1]; q++) {
            const int32_t w = g->ind2[q];
            if (seen[w] != v) { seen[w] = v; out[k++] = w; }
        }
    }
    return k;
}

/* Buckets of vertices by key (a dynamic degree): one doubly linked list per key, so moving
 * a vertex to the next key up or down is O(1) and a whole dynamic order costs O(sum of
 * degrees). A removed vertex has key -1. */
typedef struct { int32_t *head, *next, *prev, *key; } dd_buckets;

static void dd_bucket_insert(dd_buckets *b, int32_t v, int32_t k)
{
    b->key[v] = k;
    b->prev[v] = -1;
    b->next[v] = b->head[k];
    if (b->head[k] >= 0) b->prev[b->head[k]] = v;
    b->head[k] = v;
}

static void dd_bucket_remove(dd_buckets *b, int32_t v)
{
    if (b->prev[v] >= 0) b->next[b->prev[v]] = b->next[v];
    else b->head[b->key[v]] = b->next[v];
    if (b->next[v] >= 0) b->prev[b->next[v]] = b->prev[v];
    b->key[v] = -1;
}

/* Fills order[0 .. n) with a permutation of the vertices. */
static int dd_order(const dd_graph *g, int kind, int32_t *order)
{
    const int32_t n = g->n;
    if (kind == DD_ORDER_NATURAL || n == 0) {
        for (int32_t v = 0; v < n; v++) order[v] = v;
        return 0;
    }
    int32_t *deg = malloc((size_t)n * sizeof *deg), *seen = malloc((size_t)n * sizeof *seen);
    int32_t *nbr = malloc((size_t)n * sizeof *nbr);
    int32_t *head = malloc(((size_t)n + 1) * sizeof *head);
    int32_t *next = malloc((size_t)n * sizeof *next), *prev = malloc((size_t)n * sizeof *prev);
    if (!deg || !seen || !nbr || !head || !next || !prev) {
        free(deg); free(seen); free(nbr); free(head); free(next); free(prev);
        return DD_COLOR_NOMEM;
    }
    int32_t maxdeg = 0;
    memset(seen, 0xff, (size_t)n * sizeof *seen);
    for (int32_t v = 0; v < n; v++) {
        deg[v] = dd_neighbors(g, v, seen, nbr);
        if (deg[v] > maxdeg) maxdeg = deg[v];
    }
    if (kind == DD_ORDER_LARGEST_FIRST) {
        /* stable counting sort by decreasing degree; head[] counts */
        memset(head, 0, ((size_t)maxdeg + 1) * sizeof *head);
        for (int32_t v = 0; v < n; v++) head[maxdeg - deg[v]]++;
        for (int32_t d = 0, start = 0; d <= maxdeg; d++) {
            const int32_t c = head[d];
            head[d] = start;
            start += c;
        }
        for (int32_t v = 0; v < n; v++) order[head[maxdeg - deg[v]]++] = v;
    } else {
        dd_buckets b = {head, next, prev, deg};
        const int increase = (kind == DD_ORDER_INCIDENCE_DEGREE);
        memset(head, 0xff, ((size_t)maxdeg + 1) * sizeof *head);
        /* inserted backwards, so among equal keys the lowest index comes out first */
        for (int32_t v = n - 1; v >= 0; v--) dd_bucket_insert(&b, v, increase ? 0 : deg[v]);
        int32_t cur = (kind == DD_ORDER_SMALLEST_LAST || increase) ? 0 : maxdeg;
        memset(seen, 0xff, (size_t)n * sizeof *seen);
        for (int32_t k = 0; k < n; k++) {
            if (kind == DD_ORDER_SMALLEST_LAST) { while (head[cur] < 0) cur++; }
            else { while (head[cur] < 0) cur--; }
            const int32_t u = head[cur];
            dd_bucket_remove(&b, u);
            order[kind == DD_ORDER_SMALLEST_LAST ? n - 1 - k : k] = u;
            const int32_t m = dd_neighbors(g, u, seen, nbr);
            for (int32_t t = 0; t < m; t++) {
                const int32_t w = nbr[t], d = deg[w];
                if (d < 0) continue;                 /* already ordered */
                dd_bucket_remove(&b, w);
                dd_bucket_insert(&b, w, increase ? d + 1 : d - 1);
                /* cur stays the largest key (smallest, for smallest-last) left */
                if (increase && d + 1 > cur) cur = d + 1;
                if (kind == DD_ORDER_SMALLEST_LAST && d - 1 < cur) cur = d - 1;
            }
        }
    }
    free(deg); free(seen); free(nbr); free(head); free(next); free(prev);
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* colourings                                                                                */
/* ---------------------------------------------------------------------------------------- */

/* Greedy colouring of a distance-2 graph (partial distance-2 colouring of the bipartite
 * graph) in the given order. forbid has n + 1 entries. Returns the number of colours. The
 * colours of a vertex's neighbours are marked with the vertex's own number, so the marks
 * never need clearing, and a column met again through a second shared row costs nothing. */
static int32_t dd_greedy(const dd_graph *g, const int32_t *order, int32_t *color, int32_t *forbid)
{
    const int32_t n = g->n;
    int32_t ncolors = 0;
    for (int32_t v = 0; v < n; v++) color[v] = -1;
    for (int32_t c = 0; c <= n; c++) forbid[c] = -1;
    for (int32_t k = 0; k < n; k++) {
        const int32_t v = order[k];
        for (int64_t p = g->ptr1[v]; p < g->ptr1[v + 1]; p++) {
            const int32_t r = g->ind1[p];
            for (int64_t q = g->ptr2[r]; q < g->ptr2[r + 1]; q++) {
                const int32_t c = color[g->ind2[q]];
                if (c >= 0) forbid[c] = v;
            }
        }
        int32_t c = 0;
        while (forbid[c] == v) c++;
        color[v] = c;
        if (c >= ncolors) ncolors = c + 1;
    }
    return ncolors;
}

/* Greedy star colouring of an adjacency graph in the given order (the idea of Gebremedhin,
 * Tarafdar, Manne & Pothen, SIAM J. Sci. Comput. 2007, Alg. 4.1). In a star colouring the
 * edges between any two colour classes form stars; the algorithm records, for each edge
 * between coloured vertices, the star it lies in, and for each star of two or more edges its
 * hub. When v is coloured, every path on four vertices through v must keep three colours:
 *  - v inner (w - v - x - y, colours a c a c): v has two neighbours of one colour a, so v
 *    would be a hub: no neighbour of those neighbours may share v's colour ("treat" them);
 *  - v at an end (v - w - x - y, colours c a c a): x would be the hub of the {a, c} star
 *    holding w - x, so v may not take x's colour when x is that star's hub.
 * Work is O(sum over v of the degrees of v's neighbours). Returns the number of colours, or
 * DD_COLOR_NOMEM. gptr/gind come from dd_adjacency (sorted rows, symmetric). */
static int32_t dd_star_greedy(int32_t n, const int64_t *gptr, const int32_t *gind,
                              const int32_t *order, int32_t *color)
{
    const int64_t m = gptr[n];
    /* per colour a: first_v[a] == v when v has met a neighbour of colour a, at edge
     * position first_p[a]; treated[u] == v when u's neighbours' colours are forbidden */
    int32_t *forbid = malloc(((size_t)n + 1) * sizeof *forbid);
    int32_t *first_v = malloc(((size_t)n + 1) * sizeof *first_v);
    int64_t *first_p = malloc(((size_t)n + 1) * sizeof *first_p);
    int32_t *treated = malloc(((size_t)n + 1) * sizeof *treated);
    int64_t *mirror = malloc(((size_t)m + 1) * sizeof *mirror);    /* (i, j) -> (j, i) */
    int32_t *star = malloc(((size_t)m + 1) * sizeof *star);        /* per edge position */
    int32_t *hub = malloc(((size_t)m / 2 + 1) * sizeof *hub);      /* per star; -1: one edge */
    int64_t *cursor = malloc(((size_t)n + 1) * sizeof *cursor);
    int32_t ncolors = 0, nstars = 0;
    if (!forbid || !first_v || !first_p || !treated || !mirror || !star || !hub || !cursor) {
        ncolors = DD_COLOR_NOMEM;
        goto done;
    }
    /* rows are sorted: visiting (i, j) with i ascending meets the (j, i) of each row j in
     * order, so a cursor per row finds each mirror position */
    memcpy(cursor, gptr, ((size_t)n + 1) * sizeof *cursor);
    for (int32_t i = 0; i < n; i++)
        for (int64_t p = gptr[i]; p < gptr[i + 1]; p++) mirror[p] = cursor[gind[p]]++;
    for (int32_t v = 0; v < n; v++) { color[v] = -1; treated[v] = -1; }
    for (int32_t c = 0; c <= n; c++) { forbid[c] = -1; first_v[c] = -1; }
    for (int64_t p = 0; p < m; p++) star[p] = -1;

    for (int32_t k = 0; k < n; k++) {
        const int32_t v = order[k];
        for (int64_t p = gptr[v]; p < gptr[v + 1]; p++)
            if (color[gind[p]] >= 0) forbid[color[gind[p]]] = v;
        for (int64_t p = gptr[v]; p < gptr[v + 1]; p++) {
            const int32_t w = gind[p], a = color[w];
            if (a < 0) continue;
            if (first_v[a] == v) {
                /* a second neighbour of colour a: v becomes the hub of an {a, .} star */
                const int32_t q = gind[first_p[a]];
                const int32_t pair[2] = {q, w};
                for (int t = 0; t < 2; t++) {
                    const int32_t u = pair[t];
                    if (treated[u] == v) continue;
                    treated[u] = v;
                    for (int64_t pp = gptr[u]; pp < gptr[u + 1]; pp++)
                        if (color[gind[pp]] >= 0) forbid[color[gind[pp]]] = v;
                }
            } else {
                first_v[a] = v;
                first_p[a] = p;
                for (int64_t pp = gptr[w]; pp < gptr[w + 1]; pp++) {
                    const int32_t x = gind[pp];
                    if (x != v && color[x] >= 0 && hub[star[pp]] == x) forbid[color[x]] = v;
                }
            }
        }
        int32_t c = 0;
        while (forbid[c] == v) c++;
        color[v] = c;
        if (c >= ncolors) ncolors = c + 1;

        /* place the new edges v - w into stars */
        for (int64_t p = gptr[v]; p < gptr[v + 1]; p++) {
            const int32_t w = gind[p], a = color[w];
            if (a < 0) continue;
            int32_t s = -1;
            for (int64_t pp = gptr[w]; pp < gptr[w + 1]; pp++)
                if (gind[pp] != v && color[gind[pp]] == c) { s = star[pp]; break; }
            if (s >= 0) {
                hub[s] = w;               /* v joins w's star as a leaf, w is its hub */
            } else if (first_v[a] == v && first_p[a] != p) {
                s = star[first_p[a]];     /* v's second neighbour of colour a: v is hub */
                hub[s] = v;
            } else {
                s = nstars++;             /* a new one-edge star, no hub yet */
                hub[s] = -1;
            }
            star[p] = s;
            star[mirror[p]] = s;
        }
    }
done:
    free(forbid); free(first_v); free(first_p); free(treated);
    free(mirror); free(star); free(hub); free(cursor);
    return ncolors;
}

/* Cells of the per-(vertex, colour) count table of dd_d2_search above which it is skipped:
 * 2^27 int32 cells are 512 MiB, half the n x k doubles a sweep with k colours holds anyway;
 * the 3-D seven-point stencil fits up to n = 1.9e7. */
#define DD_SEARCH_MAX_CELLS ((int64_t)1 << 27)

/* Looks for a colouring of a distance-2 graph with at most k colours by Brelaz's DSATUR with
 * chronological backtracking (Brelaz 1979): the next vertex is one whose coloured neighbours
 * show the most distinct colours (ties: the one whose count changed last, which keeps the
 * search on the frontier of the coloured region), it takes the smallest colour free for it,
 * and when a vertex has none the last choice is revised. A vertex may open at most one new
 * colour (colour <= largest so far + 1), which cuts the k! relabellings of each colouring.
 *
 * Why: greedy colouring in any fixed order, smallest colour first, gets stencil Jacobians
 * wrong at the boundary (the 2-D five-point pattern takes 7 colours, the 3-D seven-point 11 to
 * 14, against optima of 5 and 7) and iterated greedy does not repair it; the search reaches the
 * optimum with a few hundred revisions, all near its starting vertex.
 *
 * Work is counted in neighbour visits (a bucket move counts 4 more, so that the work is
 * comparable with a greedy pass's); the search gives up at its first revision after spending
 * *budget, and subtracts what it spent. Returns 1 with the colouring in color[], 0 when the
 * budget ran out or no k-colouring exists (color[] then holds no colouring), or
 * DD_COLOR_NOMEM. */
static int dd_d2_search(const dd_graph *g, int32_t k, int64_t *budget, int32_t *color)
{
    const int32_t n = g->n;
    if (n == 0) return 1;
    if (k <= 0 || (int64_t)n * k > DD_SEARCH_MAX_CELLS) return 0;
    /* count[c*n + w]: coloured neighbours of w with colour c. Colour-major, because one step
     * updates many w for one c: those stay within one slab of n counts, which caches well
     * (vertex-major, a random pattern with n = 1e5 ran 10x slower on cache misses) */
    int32_t *count = calloc((size_t)n * k, sizeof *count);
    int32_t *sat = calloc((size_t)n, sizeof *sat);            /* colours seen by w */
    int32_t *head = malloc(((size_t)k + 2) * sizeof *head);
    int32_t *next = malloc((size_t)n * sizeof *next), *prev = malloc((size_t)n * sizeof *prev);
    int32_t *key = malloc((size_t)n * sizeof *key);
    int32_t *stack = malloc((size_t)n * sizeof *stack);      /* coloured vertices, in order */
    int32_t *prevmax = malloc((size_t)n * sizeof *prevmax);  /* largest colour before each */
    int result = 0;
    if (!count || !sat || !head || !next || !prev || !key || !stack || !prevmax) {
        result = DD_COLOR_NOMEM;
        goto done;
    }
    dd_buckets b = {head, next, prev, key};
    for (int32_t c = 0; c <= k + 1; c++) head[c] = -1;
    /* the search starts from a vertex of largest degree (rows weighted by their length),
     * which on a stencil is an interior point: grown from the boundary, the colouring
     * inherits the boundary's defects */
    int32_t start = 0;
    int64_t most = -1;
    for (int32_t v = n - 1; v >= 0; v--) {
        color[v] = -1;
        dd_bucket_insert(&b, v, 0);
        int64_t d = 0;
        for (int64_t p = g->ptr1[v]; p < g->ptr1[v + 1]; p++)
            d += g->ptr2[g->ind1[p] + 1] - g->ptr2[g->ind1[p]];
        if (d >= most) { most = d; start = v; }
    }
    dd_bucket_remove(&b, start);
    dd_bucket_insert(&b, start, 0);
    int64_t work = 0;
    int32_t top = 0, depth = 0, maxc = -1, v = head[0], c0 = 0;
    for (;;) {
        const int32_t lim = maxc + 2 < k ? maxc + 2 : k;
        int32_t c = c0;
        while (c < lim && count[(size_t)c * n + v]) c++;
        int32_t u = v, step = +1;
        if (c < lim) {
            dd_bucket_remove(&b, v);
            color[v] = c;
            prevmax[depth] = maxc;
            stack[depth++] = v;
            if (c > maxc) maxc = c;
        } else {
            if (depth == 0 || work > *budget) break;
            u = stack[--depth];               /* revise the last choice: u's next colour */
            c = color[u];
            color[u] = -1;
            maxc = prevmax[depth];
            step = -1;
        }
        /* u took (step +1) or gave back (step -1) colour c: update its neighbours' counts */
        int32_t *const cc = count + (size_t)c * n;
        for (int64_t p = g->ptr1[u]; p < g->ptr1[u + 1]; p++) {
            const int32_t r = g->ind1[p];
            work += g->ptr2[r + 1] - g->ptr2[r];
            for (int64_t q = g->ptr2[r]; q < g->ptr2[r + 1]; q++) {
                const int32_t w = g->ind2[q];
                if (w == u) continue;
                cc[w] += step;
                if (cc[w] != (step > 0 ? 1 : 0)) continue;  /* the set of colours is unchanged */
                sat[w] += step;
                if (color[w] >= 0) continue;
                work += 4;                 /* a bucket move: four scattered writes */
                dd_bucket_remove(&b, w);
                dd_bucket_insert(&b, w, sat[w]);
                if (sat[w] > top) top = sat[w];
            }
        }
        if (step > 0) {
            if (depth == n) { result = 1; break; }
            while (head[top] < 0) top--;
            v = head[top];
            c0 = 0;
        } else {
            dd_bucket_insert(&b, u, sat[u]);
            if (sat[u] > top) top = sat[u];
            v = u;
            c0 = c + 1;
        }
    }
    *budget -= work;
done:
    free(count); free(sat); free(head); free(next); free(prev); free(key);
    free(stack); free(prevmax);
    return result;
}

/* The number of colours of a colouring (largest + 1). */
static int32_t dd_ncolors(int32_t n, const int32_t *color)
{
    int32_t k = 0;
    for (int32_t v = 0; v < n; v++) if (color[v] >= k) k = color[v] + 1;
    return k;
}

/* A candidate of "best" (k colours in work, found by `how`) replaces the best so far only
 * with strictly fewer colours: ties keep the earlier one. */
static void dd_keep(int32_t n, const int32_t *work, int32_t k, int how, int32_t *color,
                    int32_t *best, int *used)
{
    if (*best >= 0 && k >= *best) return;
    *best = k;
    *used = how;
    memcpy(color, work, (size_t)n * sizeof *color);
}

/* Partial distance-2 colouring of the columns (by_rows == 0) or the rows (by_rows == 1) of
 * an nrows x ncols pattern, with order `kind` or DD_ORDER_BEST. Writes the colours (0-based)
 * and the order used; returns the number of colours or DD_COLOR_NOMEM. */
static int32_t dd_partial_d2_coloring(int32_t nrows, int32_t ncols, const int64_t *ptr,
                                      const int32_t *ind, int by_rows, int kind,
                                      int32_t *color, int *used)
{
    const int64_t nnz = ptr[nrows];
    int64_t *tptr = malloc(((size_t)ncols + 1) * sizeof *tptr);
    int32_t *tind = malloc(((size_t)nnz + 1) * sizeof *tind);
    const int32_t n = by_rows ? nrows : ncols;
    int32_t *order = malloc(((size_t)n + 1) * sizeof *order);
    int32_t *work = malloc(((size_t)n + 1) * sizeof *work);
    int32_t *forbid = malloc(((size_t)n + 1) * sizeof *forbid);
    int32_t best = DD_COLOR_NOMEM;
    if (!tptr || !tind || !order || !work || !forbid ||
        dd_transpose(nrows, ncols, ptr, ind, tptr, tind))
        goto done;
    dd_graph g = by_rows ? (dd_graph){nrows, ptr, ind, tptr, tind}
                         : (dd_graph){ncols, tptr, tind, ptr, ind};
    /* the largest row (for rows: column) is a clique: no colouring has fewer colours */
    int64_t bound = n > 0, pass = 0;
    for (int32_t r = 0; r < (by_rows ? ncols : nrows); r++) {
        const int64_t len = g.ptr2[r + 1] - g.ptr2[r];
        if (len > bound) bound = len;
        pass += len * len;                  /* the work of one greedy pass */
    }
    if (kind != DD_ORDER_BEST && kind != DD_ORDER_AUTO) {
        if (dd_order(&g, kind, order)) goto done;
        best = dd_greedy(&g, order, color, forbid);
        *used = kind;
        goto done;
    }
    /* "best" tries, in this sequence, keeping the first with the fewest colours: the search
     * for a colouring with `bound` colours; the orders, natural first; the search for one
     * colour fewer than the best so far, repeated while it succeeds. It stops as soon as it
     * holds `bound` colours, which nothing can beat. A search that succeeds on a stencil
     * costs about one greedy pass, so it goes first: where it succeeds (every stencil of
     * the benchmarks) no greedy pass is run at all. The first search may spend two passes,
     * the others four between them (each at least 2^22 neighbour visits, for small
     * patterns). */
    const int64_t least = (int64_t)1 << 22;
    int64_t budget = 2 * pass + least;
    int found;
    if ((found = dd_d2_search(&g, (int32_t)bound, &budget, work)) < 0) goto nomem;
    if (found) dd_keep(n, work, dd_ncolors(n, work), DD_ORDER_SEARCH, color, &best, used);
    for (int o = 0; o < DD_NORDERS && (best < 0 || best > bound); o++) {
        /* DD_ORDER_AUTO: where natural order needs more than twice the bound, the pattern
         * is irregular and the searches would cost many passes for a few percent: the
         * better of the next three greedy orders (no dynamic_largest_first, no search) */
        const int irregular = kind == DD_ORDER_AUTO && o > 0 && best > 2 * bound;
        if (irregular && o == DD_ORDER_DYNAMIC_LARGEST_FIRST) goto done;
        if (dd_order(&g, o, order)) goto nomem;
        dd_keep(n, work, dd_greedy(&g, order, work, forbid), o, color, &best, used);
    }
    if (kind == DD_ORDER_AUTO && best > 2 * bound) goto done;
    budget = 4 * pass + least;
    while (best - 1 > bound && budget > 0) {
        if ((found = dd_d2_search(&g, best - 1, &budget, work)) < 0) goto nomem;
        if (!found) break;
        dd_keep(n, work, dd_ncolors(n, work), DD_ORDER_SEARCH, color, &best, used);
    }
    goto done;
nomem:
    best = DD_COLOR_NOMEM;
done:
    free(tptr); free(tind); free(order); free(work); free(forbid);
    return best;
}

/* Star colouring of the adjacency graph of an n x n pattern (symmetrized, diagonal ignored),
 * with order `kind` or DD_ORDER_BEST. Returns the number of colours or DD_COLOR_NOMEM. */
static int32_t dd_star_coloring(int32_t n, const int64_t *ptr, const int32_t *ind, int kind,
                                int32_t *color, int *used)
{
    int64_t *gptr = NULL;
    int32_t *gind = NULL;
    int32_t *order = malloc(((size_t)n + 1) * sizeof *order);
    int32_t *work = malloc(((size_t)n + 1) * sizeof *work);
    int32_t best = DD_COLOR_NOMEM;
    if (!order || !work || dd_adjacency(n, ptr, ind, &gptr, &gind)) goto done;
    dd_graph g = {n, gptr, gind, NULL, NULL};
    /* one colour without edges, two with: nothing does better */
    const int32_t bound = (n > 0) + (gptr[n] > 0);
    const int every = kind == DD_ORDER_BEST || kind == DD_ORDER_AUTO;
    const int first = every ? 0 : kind;
    const int last = every ? DD_NORDERS - 1 : kind;
    for (int o = first; o <= last && (best < 0 || best > bound); o++) {
        int32_t k;
        if (dd_order(&g, o, order) || (k = dd_star_greedy(n, gptr, gind, order, work)) < 0) {
            best = DD_COLOR_NOMEM;
            goto done;
        }
        dd_keep(n, work, k, o, color, &best, used);
    }
done:
    free(gptr); free(gind); free(order); free(work);
    return best;
}

/* The vertex order `kind` of the graph a colouring of this pattern uses: columns (mode 0)
 * or rows (mode 1) of the distance-2 graph, or the adjacency graph (mode 2, square). For
 * tests, which check each order against its definition. */
static int dd_pattern_order(int32_t nrows, int32_t ncols, const int64_t *ptr,
                            const int32_t *ind, int mode, int kind, int32_t *order)
{
    int64_t *tptr = NULL;
    int32_t *tind = NULL;
    int code = DD_COLOR_NOMEM;
    dd_graph g;
    if (mode == 2) {
        if (dd_adjacency(nrows, ptr, ind, &tptr, &tind)) goto done;
        g = (dd_graph){nrows, tptr, tind, NULL, NULL};
    } else {
        tptr = malloc(((size_t)ncols + 1) * sizeof *tptr);
        tind = malloc(((size_t)ptr[nrows] + 1) * sizeof *tind);
        if (!tptr || !tind || dd_transpose(nrows, ncols, ptr, ind, tptr, tind)) goto done;
        g = mode ? (dd_graph){nrows, ptr, ind, tptr, tind}
                 : (dd_graph){ncols, tptr, tind, ptr, ind};
    }
    code = dd_order(&g, kind, order);
done:
    free(tptr); free(tind);
    return code;
}

/* ---------------------------------------------------------------------------------------- */
/* recovery                                                                                  */
/* ---------------------------------------------------------------------------------------- */

/* Where each entry of the pattern sits in the compressed matrix, as a flat index: entry p of
 * the pattern is B.flat[index[p]]. Recovery is then one gather, B.flat[index], and the index
 * is computed once per pattern and colouring. Each function also checks that the colouring
 * makes every entry recoverable (a wrong colouring would otherwise give silently summed
 * entries) and returns 0, or a code > 0 with the culprits in bad[]. */

enum { DD_RECOVER_OK, DD_RECOVER_SHARED, DD_RECOVER_ADJACENT, DD_RECOVER_NOT_STAR };

/* Columns: B = J S is nrows x width (width >= ncolors: columns after the colours' may hold
 * other directions, a probe), J[i][j] = B[i][c(j)]. Fails (DD_RECOVER_SHARED) when two
 * columns of one row share a colour: bad = {row, column, column}. */
static int dd_column_recovery_index(int32_t nrows, const int64_t *ptr, const int32_t *ind,
                                    const int32_t *color, int32_t ncolors, int64_t width,
                                    int64_t *index, int64_t *bad)
{
    int32_t *last = malloc(((size_t)ncolors + 1) * sizeof *last);
    int32_t *who = malloc(((size_t)ncolors + 1) * sizeof *who);
    int code = DD_RECOVER_OK;
    if (!last || !who) { free(last); free(who); return DD_COLOR_NOMEM; }
    memset(last, 0xff, ((size_t)ncolors + 1) * sizeof *last);
    for (int32_t i = 0; i < nrows && !code; i++)
        for (int64_t p = ptr[i]; p < ptr[i + 1]; p++) {
            const int32_t j = ind[p], c = color[j];
            if (last[c] == i) {
                bad[0] = i; bad[1] = who[c]; bad[2] = j;
                code = DD_RECOVER_SHARED;
                break;
            }
            last[c] = i;
            who[c] = j;
            index[p] = (int64_t)i * width + c;
        }
    free(last); free(who);
    return code;
}

/* Rows: B = S^T J is ncolors x ncols, J[i][j] = B[c(i)][j]. Fails (DD_RECOVER_SHARED) when
 * two rows of one column share a colour: bad = {column, row, row}. */
static int dd_row_recovery_index(int32_t nrows, int32_t ncols, const int64_t *ptr,
                                 const int32_t *ind, const int32_t *color, int32_t ncolors,
                                 int64_t *index, int64_t *bad)
{
    const int64_t nnz = ptr[nrows];
    int64_t *tptr = malloc(((size_t)ncols + 1) * sizeof *tptr);
    int32_t *tind = malloc(((size_t)nnz + 1) * sizeof *tind);
    int32_t *last = malloc(((size_t)ncolors + 1) * sizeof *last);
    int32_t *who = malloc(((size_t)ncolors + 1) * sizeof *who);
    int code = DD_RECOVER_OK;
    if (!tptr || !tind || !last || !who || dd_transpose(nrows, ncols, ptr, ind, tptr, tind)) {
        code = DD_COLOR_NOMEM;
        goto done;
    }
    memset(last, 0xff, ((size_t)ncolors + 1) * sizeof *last);
    for (int32_t j = 0; j < ncols && !code; j++)
        for (int64_t p = tptr[j]; p < tptr[j + 1]; p++) {
            const int32_t i = tind[p], c = color[i];
            if (last[c] == j) {
                bad[0] = j; bad[1] = who[c]; bad[2] = i;
                code = DD_RECOVER_SHARED;
                break;
            }
            last[c] = j;
            who[c] = i;
        }
    for (int32_t i = 0; i < nrows && !code; i++)
        for (int64_t p = ptr[i]; p < ptr[i + 1]; p++)
            index[p] = (int64_t)color[i] * ncols + ind[p];
done:
    free(tptr); free(tind); free(last); free(who);
    return code;
}

/* The position of j in the sorted row gind[lo .. hi), or -1. */
static int64_t dd_find(const int32_t *gind, int64_t lo, int64_t hi, int32_t j)
{
    const int64_t end = hi;
    while (lo < hi) {
        const int64_t mid = lo + (hi - lo) / 2;
        if (gind[mid] < j) lo = mid + 1;
        else hi = mid;
    }
    return (lo < end && gind[lo] == j) ? lo : -1;
}

/* Symmetric, direct: B = H S is n x ncolors. H[i][i] = B[i][c(i)]; for i < j, H[i][j] =
 * H[j][i] = B[i][c(j)] when j is i's only neighbour of colour c(j), else B[j][c(i)] when i is
 * j's only neighbour of colour c(i). Exact for any symmetric H with this pattern exactly when the
 * colouring is proper and one of the two holds for every edge (i.e. a star colouring: the
 * partition is "symmetrically orthogonal", Coleman & More 1984). Fails with
 * DD_RECOVER_ADJACENT (bad = {i, j}: an edge inside one colour) or DD_RECOVER_NOT_STAR
 * (bad = {i, j}: entry (i, j) is read from neither place). */
static int dd_star_recovery_index(int32_t n, const int64_t *ptr, const int32_t *ind,
                                  const int32_t *color, int32_t ncolors, int64_t *index,
                                  int64_t *bad)
{
    int64_t *gptr = NULL;
    int32_t *gind = NULL;
    int32_t *last = malloc(((size_t)ncolors + 1) * sizeof *last);
    int32_t *count = malloc(((size_t)ncolors + 1) * sizeof *count);
    unsigned char *only = NULL;
    int code = DD_RECOVER_OK;
    if (!last || !count || dd_adjacency(n, ptr, ind, &gptr, &gind)) {
        code = DD_COLOR_NOMEM;
        goto done;
    }
    only = malloc((size_t)gptr[n] + 1);                /* per edge (i, w): w is i's only */
    if (!only) { code = DD_COLOR_NOMEM; goto done; }   /* neighbour of colour c(w) */
    memset(last, 0xff, ((size_t)ncolors + 1) * sizeof *last);
    for (int32_t i = 0; i < n && !code; i++) {
        for (int64_t p = gptr[i]; p < gptr[i + 1]; p++) {
            const int32_t w = gind[p], c = color[w];
            if (c == color[i]) {
                bad[0] = i < w ? i : w; bad[1] = i < w ? w : i;
                code = DD_RECOVER_ADJACENT;
                break;
            }
            if (last[c] != i) { last[c] = i; count[c] = 0; }
            count[c]++;
        }
        for (int64_t p = gptr[i]; p < gptr[i + 1]; p++) only[p] = count[color[gind[p]]] == 1;
    }
    for (int32_t i = 0; i < n && !code; i++)
        for (int64_t p = ptr[i]; p < ptr[i + 1]; p++) {
            const int32_t j = ind[p];
            if (j == i) { index[p] = (int64_t)i * ncolors + color[i]; continue; }
            /* (i, j) and (j, i) are read from the same place, so the result is exactly
             * symmetric even when B's two copies of H[i][j] differ by rounding */
            const int32_t lo = i < j ? i : j, hi = i < j ? j : i;
            if (only[dd_find(gind, gptr[lo], gptr[lo + 1], hi)]) {
                index[p] = (int64_t)lo * ncolors + color[hi];
            } else if (only[dd_find(gind, gptr[hi], gptr[hi + 1], lo)]) {
                index[p] = (int64_t)hi * ncolors + color[lo];
            } else {
                bad[0] = i; bad[1] = j;
                code = DD_RECOVER_NOT_STAR;
                break;
            }
        }
done:
    free(gptr); free(gind); free(last); free(count); free(only);
    return code;
}

#endif
