/* pool.h -- a small cache of large, already-touched memory blocks. Pure C.
 *
 * Why: every dual-array operation returns fresh tangent blocks (n x k doubles). Above glibc's
 * mmap threshold each of them would be mapped, zero-filled page by page on first touch and
 * unmapped again -- page faults cost more than the arithmetic (measured: 222 faults and 5x
 * the time per Rosenbrock sweep at n = 1000). Freed blocks are kept here, most recent first,
 * so the next operation reuses memory that is mapped and usually still in cache.
 *
 * Not thread-safe by itself: every call happens with the GIL held.
 */
#ifndef DUALDIFF_POOL_H
#define DUALDIFF_POOL_H

#include <stdlib.h>
#include <stddef.h>

#define DD_POOL_SLOTS 32
#define DD_POOL_MAX_BYTES ((size_t)256 << 20)    /* keep at most 256 MiB cached */

static struct {
    void *ptr[DD_POOL_SLOTS]; size_t size[DD_POOL_SLOTS]; int n; size_t bytes;
    size_t hits, misses;                   /* for pool_stats(): is memory being reused? */
} dd_pool = {{0}, {0}, 0, 0, 0, 0};

/* A block of at least `size` bytes (64-byte aligned), reusing a cached block that is not
 * more than twice too large; NULL when out of memory. *got receives the block's size. */
static void *dd_pool_get(size_t size, size_t *got)
{
    for (int i = dd_pool.n - 1; i >= 0; i--) {
        if (dd_pool.size[i] >= size && dd_pool.size[i] <= 2*size) {
            void *p = dd_pool.ptr[i];
            *got = dd_pool.size[i];
            dd_pool.bytes -= *got;
            for (int j = i; j < dd_pool.n - 1; j++) {
                dd_pool.ptr[j] = dd_pool.ptr[j + 1];
                dd_pool.size[j] = dd_pool.size[j + 1];
            }
            dd_pool.n--;
            dd_pool.hits++;
            return p;
        }
    }
    dd_pool.misses++;
    size = (size + 63) & ~(size_t)63;
    *got = size;
    return aligned_alloc(64, size);
}

/* Return a block: cached if there is room, otherwise released (the oldest block goes first). */
static void dd_pool_put(void *p, size_t size)
{
    if (size > DD_POOL_MAX_BYTES) { free(p); return; }
    while (dd_pool.n > 0 && (dd_pool.n == DD_POOL_SLOTS || dd_pool.bytes + size > DD_POOL_MAX_BYTES)) {
        free(dd_pool.ptr[0]);
        dd_pool.bytes -= dd_pool.size[0];
        for (int j = 0; j < dd_pool.n - 1; j++) {
            dd_pool.ptr[j] = dd_pool.ptr[j + 1];
            dd_pool.size[j] = dd_pool.size[j + 1];
        }
        dd_pool.n--;
    }
    dd_pool.ptr[dd_pool.n] = p;
    dd_pool.size[dd_pool.n] = size;
    dd_pool.n++;
    dd_pool.bytes += size;
}

/* Release every cached block. */
static void dd_pool_clear(void)
{
    for (int i = 0; i < dd_pool.n; i++) free(dd_pool.ptr[i]);
    dd_pool.n = 0;
    dd_pool.bytes = 0;
}

#endif /* DUALDIFF_POOL_H */
