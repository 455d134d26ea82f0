# The block pool (csrc/pool.h) and numpy's allocator routed through it: included by _arrays.pyx.
#
# Why: a transform's sweeps allocate and drop the same large temporaries over and over (tangent
# blocks of n x k doubles); fresh memory above glibc's mmap threshold is page-faulted in on
# every touch, which costs more than the arithmetic. While a transform runs, numpy's data
# allocator (NEP 49, PyDataMem_SetHandler) is pointed at the pool for the current context only.

from cpython.pycapsule cimport PyCapsule_New

cdef extern from "pool.h" nogil:
    struct dd_pool_state:
        int n
        size_t bytes
        size_t hits, misses
    dd_pool_state dd_pool
    void dd_pool_clear()
    void dd_pool_begin()
    void dd_pool_trim()
    void *dd_np_malloc(void *ctx, size_t size)
    void *dd_np_calloc(void *ctx, size_t nelem, size_t elsize)
    void *dd_np_realloc(void *ctx, void *ptr, size_t size)
    void dd_np_free(void *ctx, void *ptr, size_t size)

cdef extern from "numpy/arrayobject.h":
    ctypedef struct PyDataMemAllocator:
        void *ctx
        void *(*malloc)(void *ctx, size_t size) noexcept nogil
        void *(*calloc)(void *ctx, size_t nelem, size_t elsize) noexcept nogil
        void *(*realloc)(void *ctx, void *ptr, size_t new_size) noexcept nogil
        void (*free)(void *ctx, void *ptr, size_t size) noexcept nogil
    ctypedef struct PyDataMem_Handler:
        char name[127]
        unsigned char version
        PyDataMemAllocator allocator
    object PyDataMem_SetHandler(object handler)

cdef PyDataMem_Handler _HANDLER
memcpy(_HANDLER.name, b"dualdiff_pool\0", 14)
_HANDLER.version = 1
_HANDLER.allocator.ctx = NULL
_HANDLER.allocator.malloc = dd_np_malloc
_HANDLER.allocator.calloc = dd_np_calloc
_HANDLER.allocator.realloc = dd_np_realloc
_HANDLER.allocator.free = dd_np_free
cdef object _HANDLER_CAPSULE = PyCapsule_New(&_HANDLER, "mem_handler", NULL)


cdef int _pool_depth = 0         # pooled contexts open (nested transforms, threads)


@cython.final
cdef class pooled:
    """`with pooled():` numpy allocates through the block pool until the block ends, whatever
    the block raises; the previous handler (a context variable in numpy) comes back."""
    cdef object token

    def __enter__(self):
        global _pool_depth
        if _pool_depth == 0:
            dd_pool_begin()
        _pool_depth += 1
        self.token = PyDataMem_SetHandler(_HANDLER_CAPSULE)
        return self

    def __exit__(self, *exc):
        global _pool_depth
        PyDataMem_SetHandler(self.token)
        self.token = None
        _pool_depth -= 1
        if _pool_depth == 0:
            dd_pool_trim()       # the outermost call ended: keep only what it used
        return False



def clear_pool():
    """Release the memory dualdiff keeps for reuse between array operations."""
    dd_pool_clear()


def pool_stats():
    """(blocks cached, bytes cached, reuses, fresh allocations) of the block pool."""
    return (dd_pool.n, dd_pool.bytes, dd_pool.hits, dd_pool.misses)
