/*
 * heap-count.h -- exact count of the live heap of a process, for the
 * memory figures of bench/swim and the accuracy test of
 * swim__memory_estimate. Include it in exactly one translation unit of an
 * executable: it defines the malloc family.
 *
 *   heap_bytes()   bytes of live malloc chunks (usable size + 8-byte header)
 *   heap_chunks()  live allocations (0 when not exact)
 *   heap_peak()    the live heap's high-water mark (0 when not exact)
 *   HEAP_EXACT     1 when counted exactly, 0 under AddressSanitizer
 *                  (mallinfo2 fallback); under valgrind the tool replaces
 *                  these functions and heap_bytes() stays 0.
 */
#ifndef FLOCK_HEAP_COUNT_H
#define FLOCK_HEAP_COUNT_H

#include <errno.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stddef.h>
#include <unistd.h>

/*
 * Live heap, counted exactly: this executable defines malloc, calloc,
 * realloc, free and the aligned variants, so every allocation of the
 * process (ours, the runtime's, libc's, json-c's, argobots') goes through
 * them (glibc supports this interposition). Each one forwards to glibc's
 * __libc_* entry point and adds or subtracts the chunk it got: its
 * malloc_usable_size (request + rounding) plus the 8-byte chunk header.
 * Free memory kept by the allocator (arenas, tcache, fragmentation) is not
 * counted, like Go's HeapInuse does not count idle spans. Under
 * AddressSanitizer (whose allocator must not be bypassed) it falls back to
 * mallinfo2(), which also counts allocator-internal slack.
 */
#if defined(__SANITIZE_ADDRESS__)
#define HEAP_EXACT 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HEAP_EXACT 0
#endif
#endif
#ifndef HEAP_EXACT
#define HEAP_EXACT 1
#endif

#if HEAP_EXACT
extern void* __libc_malloc(size_t);
extern void* __libc_calloc(size_t, size_t);
extern void* __libc_realloc(void*, size_t);
extern void  __libc_free(void*);
extern void* __libc_memalign(size_t, size_t);

static _Atomic long long g_live_bytes, g_live_chunks, g_peak_bytes;

static size_t chunk_bytes(void* p) { return malloc_usable_size(p) + sizeof(size_t); }

/* the live heap grew to now: keep its high-water mark */
static void peak_note(long long now)
{
    long long was = atomic_load_explicit(&g_peak_bytes, memory_order_relaxed);
    while (now > was && !atomic_compare_exchange_weak_explicit(&g_peak_bytes, &was, now,
                                                               memory_order_relaxed,
                                                               memory_order_relaxed)) {}
}

static void* counted(void* p)
{
    if (p) {
        long long n = (long long)chunk_bytes(p);
        peak_note(atomic_fetch_add_explicit(&g_live_bytes, n, memory_order_relaxed) + n);
        atomic_fetch_add_explicit(&g_live_chunks, 1, memory_order_relaxed);
    }
    return p;
}

void* malloc(size_t n) { return counted(__libc_malloc(n)); }
void* calloc(size_t a, size_t b) { return counted(__libc_calloc(a, b)); }
void  free(void* p)
{
    if (!p) return;
    atomic_fetch_sub_explicit(&g_live_bytes, (long long)chunk_bytes(p), memory_order_relaxed);
    atomic_fetch_sub_explicit(&g_live_chunks, 1, memory_order_relaxed);
    __libc_free(p);
}
void* realloc(void* p, size_t n)
{
    long long old = p ? (long long)chunk_bytes(p) : 0;
    void*     q   = __libc_realloc(p, n);
    if (q) {
        long long d = (long long)chunk_bytes(q) - old;
        peak_note(atomic_fetch_add_explicit(&g_live_bytes, d, memory_order_relaxed) + d);
        if (!p) atomic_fetch_add_explicit(&g_live_chunks, 1, memory_order_relaxed);
    } else if (p && n == 0) { /* glibc: realloc(p, 0) frees p */
        atomic_fetch_sub_explicit(&g_live_bytes, old, memory_order_relaxed);
        atomic_fetch_sub_explicit(&g_live_chunks, 1, memory_order_relaxed);
    }
    return q;
}
void* memalign(size_t al, size_t n) { return counted(__libc_memalign(al, n)); }
void* aligned_alloc(size_t al, size_t n) { return counted(__libc_memalign(al, n)); }
int   posix_memalign(void** out, size_t al, size_t n)
{
    if (al < sizeof(void*) || (al & (al - 1)) != 0) return EINVAL;
    void* p = counted(__libc_memalign(al, n));
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}
void* valloc(size_t n) { return counted(__libc_memalign((size_t)sysconf(_SC_PAGESIZE), n)); }
void* pvalloc(size_t n)
{
    size_t ps = (size_t)sysconf(_SC_PAGESIZE);
    return counted(__libc_memalign(ps, (n + ps - 1) / ps * ps));
}

static size_t heap_bytes(void)
{
    long long v = atomic_load_explicit(&g_live_bytes, memory_order_relaxed);
    return v > 0 ? (size_t)v : 0;
}
__attribute__((unused)) static long long heap_chunks(void)
{
    return atomic_load_explicit(&g_live_chunks, memory_order_relaxed);
}
/* the live heap's high-water mark since the process started (0: unknown) */
__attribute__((unused)) static size_t heap_peak(void)
{
    long long v = atomic_load_explicit(&g_peak_bytes, memory_order_relaxed);
    return v > 0 ? (size_t)v : 0;
}
#define HEAP_METHOD "live malloc chunks, counted exactly"
#else
static size_t heap_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}
__attribute__((unused)) static long long heap_chunks(void) { return 0; }
__attribute__((unused)) static size_t heap_peak(void) { return 0; }
#define HEAP_METHOD "mallinfo2, approximate (sanitizer build)"
#endif

#endif /* FLOCK_HEAP_COUNT_H */
