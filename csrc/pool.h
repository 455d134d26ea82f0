/* pool.h -- a small cache of large, already-touched memory blocks. Pure C.
 *
 * Why: every dual-array operation returns fresh tangent blocks (n x k doubles). Above glibc's
 * mmap threshold each of them would be mapped, zero-filled page by page on first touch and
 * unmapped again -- page faults cost more than the arithmetic (measured: 222 faults and 5x
 * the time per Rosenbrock sweep at n = 1000). Freed blocks are kept here, most recent first,
 * so the next operation reuses memory that is mapped and usually still in cache.
 *
 * The pool serves numpy itself while a transform runs (dd_np_* below, installed with
 * numpy's PyDataMem_SetHandler for that context only), so numpy may call in without the
 * GIL: a spinlock guards the cache (uncontended, it costs a few nanoseconds).
 */
#ifndef DUALDIFF_POOL_H
#define DUALDIFF_POOL_H

#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <stdatomic.h>

#define DD_POOL_SLOTS 32
#define DD_POOL_MAX_BYTES ((size_t)256 << 20)    /* keep at most 256 MiB cached */

/* gen: the epoch (one transform call, outermost) in which a block was last returned; blocks
 * the last call did not use are released when it ends (dd_pool_trim), so the pool holds one
 * call's working set, not the leftovers of every size a program ever differentiated. */
static struct {
    void *ptr[DD_POOL_SLOTS]; size_t size[DD_POOL_SLOTS]; unsigned long gen[DD_POOL_SLOTS];
    int n; size_t bytes; unsigned long epoch;
    size_t hits, misses;                   /* for pool_stats(): is memory being reused? */
} dd_pool = {{0}, {0}, {0}, 0, 0, 0, 0, 0};

static atomic_flag dd_pool_lock = ATOMIC_FLAG_INIT;
static inline void dd_pool_acquire(void)
{ while (atomic_flag_test_and_set_explicit(&dd_pool_lock, memory_order_acquire)) ; }
static inline void dd_pool_release(void)
{ atomic_flag_clear_explicit(&dd_pool_lock, memory_order_release); }

/* A block of at least `size` bytes (64-byte aligned), reusing a cached block that is not
 * more than twice too large; NULL when out of memory. *got receives the block's size. */
static void *dd_pool_get(size_t size, size_t *got)
{
    dd_pool_acquire();
    for (int i = dd_pool.n - 1; i >= 0; i--) {
        if (dd_pool.size[i] >= size && dd_pool.size[i] <= 2*size) {
            void *p = dd_pool.ptr[i];
            *got = dd_pool.size[i];
            dd_pool.bytes -= *got;
            for (int j = i; j < dd_pool.n - 1; j++) {
                dd_pool.ptr[j] = dd_pool.ptr[j + 1];
                dd_pool.size[j] = dd_pool.size[j + 1];
                dd_pool.gen[j] = dd_pool.gen[j + 1];
            }
            dd_pool.n--;
            dd_pool.hits++;
            dd_pool_release();
            return p;
        }
    }
    dd_pool.misses++;
    dd_pool_release();
    size = (size + 63) & ~(size_t)63;
    *got = size;
    return aligned_alloc(64, size);
}

/* Return a block: cached if there is room, otherwise released (the oldest block goes first). */
static void dd_pool_put(void *p, size_t size)
{
    if (size > DD_POOL_MAX_BYTES) { free(p); return; }
    dd_pool_acquire();
    while (dd_pool.n > 0 && (dd_pool.n == DD_POOL_SLOTS || dd_pool.bytes + size > DD_POOL_MAX_BYTES)) {
        free(dd_pool.ptr[0]);
        dd_pool.bytes -= dd_pool.size[0];
        for (int j = 0; j < dd_pool.n - 1; j++) {
            dd_pool.ptr[j] = dd_pool.ptr[j + 1];
            dd_pool.size[j] = dd_pool.size[j + 1];
            dd_pool.gen[j] = dd_pool.gen[j + 1];
        }
        dd_pool.n--;
    }
    dd_pool.ptr[dd_pool.n] = p;
    dd_pool.size[dd_pool.n] = size;
    dd_pool.gen[dd_pool.n] = dd_pool.epoch;
    dd_pool.n++;
    dd_pool.bytes += size;
    dd_pool_release();
}

/* A transform call begins: blocks returned from now on belong to its epoch. */
static void dd_pool_begin(void)
{
    dd_pool_acquire();
    dd_pool.epoch++;
    dd_pool_release();
}

/* A transform call ended: release the blocks it did not use (older epochs), keep the rest in
 * order for the next call of the same kind. */
static void dd_pool_trim(void)
{
    int m = 0;
    dd_pool_acquire();
    for (int i = 0; i < dd_pool.n; i++) {
        if (dd_pool.gen[i] != dd_pool.epoch) {
            free(dd_pool.ptr[i]);
            dd_pool.bytes -= dd_pool.size[i];
            continue;
        }
        dd_pool.ptr[m] = dd_pool.ptr[i];
        dd_pool.size[m] = dd_pool.size[i];
        dd_pool.gen[m] = dd_pool.gen[i];
        m++;
    }
    dd_pool.n = m;
    dd_pool_release();
}

/* Release every cached block. */
static void dd_pool_clear(void)
{
    dd_pool_acquire();
    for (int i = 0; i < dd_pool.n; i++) free(dd_pool.ptr[i]);
    dd_pool.n = 0;
    dd_pool.bytes = 0;
    dd_pool_release();
}

/* ---- numpy's data allocator (NEP 49 signatures) ------------------------------------------
 * Each block starts with a 64-byte header holding its capacity and whether it is pooled, so
 * that free and realloc know what they hold; data stays 16-byte aligned (64 when pooled).
 * Blocks of DD_POOL_MIN_BYTES and more come from the pool, smaller ones from malloc. */
#define DD_POOL_MIN_BYTES ((size_t)65536)
#define DD_HEADER 64

static void *dd_np_malloc(void *ctx, size_t size)
{
    size_t cap;
    char *base;
    (void)ctx;
    if (size > (size_t)-1 - DD_HEADER) return NULL;
    if (size + DD_HEADER >= DD_POOL_MIN_BYTES) {
        base = (char *)dd_pool_get(size + DD_HEADER, &cap);
        if (base) ((size_t *)base)[1] = 1;
    } else {
        cap = size + DD_HEADER;
        base = (char *)malloc(cap);
        if (base) ((size_t *)base)[1] = 0;
    }
    if (!base) return NULL;
    ((size_t *)base)[0] = cap;
    return base + DD_HEADER;
}

static void dd_np_free(void *ctx, void *ptr, size_t size)
{
    (void)ctx; (void)size;
    if (!ptr) return;
    char *base = (char *)ptr - DD_HEADER;
    if (((size_t *)base)[1]) dd_pool_put(base, ((size_t *)base)[0]);
    else free(base);
}

static void *dd_np_calloc(void *ctx, size_t nelem, size_t elsize)
{
    if (elsize && nelem > (size_t)-1 / elsize) return NULL;
    void *p = dd_np_malloc(ctx, nelem * elsize);
    if (p) memset(p, 0, nelem * elsize);
    return p;
}

static void *dd_np_realloc(void *ctx, void *ptr, size_t size)
{
    if (!ptr) return dd_np_malloc(ctx, size);
    size_t cap = ((size_t *)((char *)ptr - DD_HEADER))[0] - DD_HEADER;
    if (size <= cap && size + DD_HEADER + cap / 2 >= cap) return ptr;   /* fits, not wasteful */
    void *q = dd_np_malloc(ctx, size);
    if (!q) return NULL;
    memcpy(q, ptr, size < cap ? size : cap);
    dd_np_free(ctx, ptr, cap);
    return q;
}

#endif /* DUALDIFF_POOL_H */
