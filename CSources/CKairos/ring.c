/* Bounded lock-free ring of fixed-size records, single producer / single consumer (kairos_ring).
 *
 * Design and memory orders are explained in docs/ring.md. Sources: Erik Rigtorp's SPSCQueue
 * (cached indices, cache-line separation), the Linux kernel's Documentation/core-api/
 * circular-buffers.rst (acquire on the other side's index, release on our own) and liburing's
 * khead/ktail split.
 *
 * Every atomic access below names its memory order explicitly. Relaxed is used only where a
 * thread reads an index it alone writes, or for counters through which no other memory is read.
 *
 * Build with -DKAIROS_CHECK_INVARIANTS to compile in the internal invariant checks (they abort
 * with a message on the first violation, e.g. a commit of more slots than were reserved).
 */
#include "kairos_ring.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#ifdef KAIROS_CHECK_INVARIANTS
#include <stdio.h>
#define KAIROS_RING_CHECK(cond, what)                                                              \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "kairos ring invariant violated: %s (%s) at %s:%d\n", (what), #cond,   \
                    __FILE__, __LINE__);                                                           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)
#else
#define KAIROS_RING_CHECK(cond, what) ((void)0)
#endif

/* One cache line on every x86-64 and most ARM64 cores. (Intel's adjacent-line prefetcher pairs
 * lines into 128-byte blocks; we accept that: the hot fields of the two sides are still on
 * different lines, and the read-only line sits between them.) */
#define KAIROS_CACHE_LINE 64

/* ------------------------------------------------------------------------------------------ */
/* SPSC                                                                                        */
/* ------------------------------------------------------------------------------------------ */

struct kairos_ring {
    /* Producer line: written only by the producer (head, drops) or private to it (cached_tail).
     * The consumer reads head when its cached copy says "empty"; that is the only cross-core
     * traffic on this line in the common case. */
    alignas(KAIROS_CACHE_LINE) _Atomic uint64_t head; /* next index the producer writes */
    uint64_t cached_tail;                             /* producer's last view of tail */
    _Atomic uint64_t drops;                           /* records the producer discarded */
    char pad_producer[KAIROS_CACHE_LINE - 3 * sizeof(uint64_t)];

    /* Consumer line: tail written only by the consumer, cached_head private to it. */
    alignas(KAIROS_CACHE_LINE) _Atomic uint64_t tail; /* next index the consumer reads */
    uint64_t cached_head;                             /* consumer's last view of head */
    char pad_consumer[KAIROS_CACHE_LINE - 2 * sizeof(uint64_t)];

    /* Read-only after create: shared by both sides without ever bouncing. */
    alignas(KAIROS_CACHE_LINE) uint64_t mask; /* capacity - 1 */
    uint32_t capacity;
    uint32_t record_size;
    unsigned char *slots; /* capacity * record_size bytes, 64-byte aligned */
    char pad_ro[KAIROS_CACHE_LINE - 2 * sizeof(uint64_t) - sizeof(unsigned char *)];
};

_Static_assert(sizeof(struct kairos_ring) == 3 * KAIROS_CACHE_LINE, "three cache lines");
_Static_assert(offsetof(struct kairos_ring, tail) == KAIROS_CACHE_LINE, "consumer on its own line");
_Static_assert(offsetof(struct kairos_ring, mask) == 2 * KAIROS_CACHE_LINE, "read-only on its own line");

static inline int kairos_is_pow2(uint32_t x) { return x >= 2 && (x & (x - 1)) == 0; }

/* aligned_alloc needs the size to be a multiple of the alignment (C11 7.22.3.1). */
static void *kairos_alloc_lines(size_t bytes) {
    size_t rounded = (bytes + KAIROS_CACHE_LINE - 1) & ~(size_t)(KAIROS_CACHE_LINE - 1);
    if (rounded < bytes) return NULL; /* overflow */
    return aligned_alloc(KAIROS_CACHE_LINE, rounded);
}

/* Record copy. The two sizes the engine uses get a constant-size memcpy, which the compiler
 * turns into a few vector moves instead of a library call. */
static inline void kairos_copy_record(void *restrict dst, const void *restrict src, uint32_t size) {
    if (size == 64) {
        memcpy(dst, src, 64);
    } else if (size == 8) {
        memcpy(dst, src, 8);
    } else {
        memcpy(dst, src, size);
    }
}

static inline unsigned char *kairos_ring_slot(const kairos_ring *r, uint64_t index) {
    return r->slots + (size_t)(index & r->mask) * r->record_size;
}

kairos_ring *kairos_ring_create(uint32_t capacity, uint32_t record_size) {
    if (!kairos_is_pow2(capacity) || record_size == 0) return NULL;
    size_t bytes = (size_t)capacity * (size_t)record_size;
    if (bytes / capacity != record_size) return NULL;
    kairos_ring *r = kairos_alloc_lines(sizeof *r);
    if (!r) return NULL;
    memset(r, 0, sizeof *r);
    r->slots = kairos_alloc_lines(bytes);
    if (!r->slots) {
        free(r);
        return NULL;
    }
    /* Touch the slots once so the first lap does not page-fault on the hot path. */
    memset(r->slots, 0, bytes);
    r->mask = (uint64_t)capacity - 1;
    r->capacity = capacity;
    r->record_size = record_size;
    /* Relaxed: the ring is not shared yet; whoever hands the pointer to other threads (thread
     * creation, a queue, a release store) provides the happens-before edge. */
    atomic_store_explicit(&r->head, 0, memory_order_relaxed);
    atomic_store_explicit(&r->tail, 0, memory_order_relaxed);
    atomic_store_explicit(&r->drops, 0, memory_order_relaxed);
    return r;
}

void kairos_ring_destroy(kairos_ring *r) {
    if (!r) return;
    free(r->slots);
    free(r);
}

uint32_t kairos_ring_capacity(const kairos_ring *r) { return r->capacity; }
uint32_t kairos_ring_record_size(const kairos_ring *r) { return r->record_size; }

#ifdef KAIROS_CHECK_INVARIANTS
/* Producer-side view: head - tail never exceeds capacity, the cached tail never runs ahead of the
 * real one. Reading tail here is only a check: acquire so that a later check cannot see an older
 * value than the producer's own last refresh. */
static void kairos_ring_check_producer(kairos_ring *r) {
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    KAIROS_RING_CHECK(r->cached_tail <= tail, "producer's cached tail ahead of tail");
    KAIROS_RING_CHECK(tail <= head, "tail ahead of head");
    KAIROS_RING_CHECK(head - r->cached_tail <= r->capacity, "more than capacity in flight");
}
static void kairos_ring_check_consumer(kairos_ring *r) {
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    KAIROS_RING_CHECK(r->cached_head <= head, "consumer's cached head ahead of head");
    KAIROS_RING_CHECK(tail <= r->cached_head, "tail ahead of the consumer's cached head");
    KAIROS_RING_CHECK(head - tail <= r->capacity, "more than capacity in flight");
}
#define KAIROS_RING_CHECK_PRODUCER(r) kairos_ring_check_producer(r)
#define KAIROS_RING_CHECK_CONSUMER(r) kairos_ring_check_consumer(r)
#else
#define KAIROS_RING_CHECK_PRODUCER(r) ((void)0)
#define KAIROS_RING_CHECK_CONSUMER(r) ((void)0)
#endif

/* Free slots as the producer sees them, refreshing its cached tail only when the cached view
 * offers fewer than `want`. */
static inline uint64_t kairos_ring_free(kairos_ring *r, uint64_t head, uint64_t want) {
    uint64_t free_slots = r->capacity - (head - r->cached_tail);
    if (free_slots < want) {
        /* Acquire pairs with the consumer's release store of tail: the consumer's reads of every
         * slot below the new tail happen-before our writes into those slots, so we never
         * overwrite a record the consumer is still copying out. */
        r->cached_tail = atomic_load_explicit(&r->tail, memory_order_acquire);
        free_slots = r->capacity - (head - r->cached_tail);
    }
    return free_slots;
}

/* Records readable as the consumer sees them, refreshing its cached head only when needed. */
static inline uint64_t kairos_ring_avail(kairos_ring *r, uint64_t tail, uint64_t want) {
    uint64_t avail = r->cached_head - tail;
    if (avail < want) {
        /* Acquire pairs with the producer's release store of head: the record bytes the
         * producer wrote below the new head are visible to our reads that follow. */
        r->cached_head = atomic_load_explicit(&r->head, memory_order_acquire);
        avail = r->cached_head - tail;
    }
    return avail;
}

bool kairos_ring_push(kairos_ring *r, const void *record) {
    /* Relaxed: head is written only by this (the producer) thread. */
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    if (kairos_ring_free(r, head, 1) == 0) return false;
    kairos_copy_record(kairos_ring_slot(r, head), record, r->record_size);
    /* Release: publishes the record bytes written above to the consumer's acquire load of head. */
    atomic_store_explicit(&r->head, head + 1, memory_order_release);
    KAIROS_RING_CHECK_PRODUCER(r);
    return true;
}

uint32_t kairos_ring_push_batch(kairos_ring *r, const void *records, uint32_t n) {
    if (n == 0) return 0;
    /* Relaxed: own index. */
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint64_t free_slots = kairos_ring_free(r, head, n);
    uint32_t k = free_slots < n ? (uint32_t)free_slots : n;
    if (k == 0) return 0;
    const size_t rs = r->record_size;
    const uint64_t idx = head & r->mask;
    /* At most two runs: up to the end of the slot array, then from its start. */
    uint64_t first = r->capacity - idx;
    if (first > k) first = k;
    memcpy(r->slots + idx * rs, records, (size_t)first * rs);
    if (k > first) {
        memcpy(r->slots, (const unsigned char *)records + (size_t)first * rs, (size_t)(k - first) * rs);
    }
    /* Release: publishes all k records in one store. */
    atomic_store_explicit(&r->head, head + k, memory_order_release);
    KAIROS_RING_CHECK_PRODUCER(r);
    return k;
}

void *kairos_ring_reserve(kairos_ring *r, uint32_t *n_contig) {
    /* Relaxed: own index. */
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint64_t to_wrap = r->capacity - (head & r->mask);
    /* Ask for as much as could be handed out contiguously; refreshes tail only if the cached
     * view cannot give that much. */
    uint64_t free_slots = kairos_ring_free(r, head, to_wrap);
    if (free_slots == 0) {
        *n_contig = 0;
        return NULL;
    }
    *n_contig = (uint32_t)(free_slots < to_wrap ? free_slots : to_wrap);
    return kairos_ring_slot(r, head);
}

void kairos_ring_commit(kairos_ring *r, uint32_t n) {
    if (n == 0) return;
    /* Relaxed: own index. */
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    /* cached_tail was refreshed by the reserve that handed these slots out, so the cached view
     * is exactly what reserve promised. */
    KAIROS_RING_CHECK(head - r->cached_tail + n <= r->capacity, "commit of more slots than free");
    KAIROS_RING_CHECK((head & r->mask) + n <= r->capacity, "commit across the wrap point");
    /* Release: publishes the records the caller wrote into the reserved slots. */
    atomic_store_explicit(&r->head, head + n, memory_order_release);
    KAIROS_RING_CHECK_PRODUCER(r);
}

void kairos_ring_count_drops(kairos_ring *r, uint64_t n) {
    /* Only the producer writes drops, so load + store (no read-modify-write) is enough. Relaxed:
     * readers on other threads only need an eventually-current count; no other memory is
     * published through it. */
    uint64_t d = atomic_load_explicit(&r->drops, memory_order_relaxed);
    atomic_store_explicit(&r->drops, d + n, memory_order_relaxed);
}

bool kairos_ring_pop(kairos_ring *r, void *out) {
    /* Relaxed: tail is written only by this (the consumer) thread. */
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    if (kairos_ring_avail(r, tail, 1) == 0) return false;
    kairos_copy_record(out, kairos_ring_slot(r, tail), r->record_size);
    /* Release: our read of the slot happens-before the producer's acquire of this tail and
     * hence before it overwrites the slot. */
    atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
    KAIROS_RING_CHECK_CONSUMER(r);
    return true;
}

uint32_t kairos_ring_pop_batch(kairos_ring *r, void *out, uint32_t max) {
    if (max == 0) return 0;
    /* Relaxed: own index. */
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint64_t avail = kairos_ring_avail(r, tail, max);
    uint32_t k = avail < max ? (uint32_t)avail : max;
    if (k == 0) return 0;
    const size_t rs = r->record_size;
    const uint64_t idx = tail & r->mask;
    uint64_t first = r->capacity - idx;
    if (first > k) first = k;
    memcpy(out, r->slots + idx * rs, (size_t)first * rs);
    if (k > first) {
        memcpy((unsigned char *)out + (size_t)first * rs, r->slots, (size_t)(k - first) * rs);
    }
    /* Release: frees the k slots only after our copies out of them. */
    atomic_store_explicit(&r->tail, tail + k, memory_order_release);
    KAIROS_RING_CHECK_CONSUMER(r);
    return k;
}

const void *kairos_ring_peek(kairos_ring *r, uint32_t *n_contig) {
    /* Relaxed: own index. */
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint64_t to_wrap = r->capacity - (tail & r->mask);
    uint64_t avail = kairos_ring_avail(r, tail, to_wrap);
    if (avail == 0) {
        *n_contig = 0;
        return NULL;
    }
    *n_contig = (uint32_t)(avail < to_wrap ? avail : to_wrap);
    return kairos_ring_slot(r, tail);
}

void kairos_ring_release(kairos_ring *r, uint32_t n) {
    if (n == 0) return;
    /* Relaxed: own index. */
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    KAIROS_RING_CHECK(r->cached_head - tail >= n, "release of more records than peeked");
    KAIROS_RING_CHECK((tail & r->mask) + n <= r->capacity, "release across the wrap point");
    /* Release: the caller's reads of the peeked records happen-before the producer reuses them. */
    atomic_store_explicit(&r->tail, tail + n, memory_order_release);
    KAIROS_RING_CHECK_CONSUMER(r);
}

uint32_t kairos_ring_size_approx(const kairos_ring *r) {
    kairos_ring *m = (kairos_ring *)r; /* atomic_load takes a non-const pointer in C11 */
    /* Acquire on tail first: it synchronises with the consumer's release, which came after the
     * consumer observed head >= tail, so the head we load next is at least this tail (read-read
     * coherence through happens-before). The difference is therefore never negative. */
    uint64_t tail = atomic_load_explicit(&m->tail, memory_order_acquire);
    /* Relaxed: only a number is wanted, no record is read through it. */
    uint64_t head = atomic_load_explicit(&m->head, memory_order_relaxed);
    uint64_t n = head - tail;
    /* Between the two loads the consumer may have freed slots the producer then refilled:
     * clamp, since the ring can never hold more than its capacity. */
    return n > r->capacity ? r->capacity : (uint32_t)n;
}

uint64_t kairos_ring_pushed_approx(const kairos_ring *r) {
    /* Relaxed: a monotonic counter for statistics; no record is read through it. */
    return atomic_load_explicit(&((kairos_ring *)r)->head, memory_order_relaxed);
}

uint64_t kairos_ring_popped_approx(const kairos_ring *r) {
    /* Relaxed: a monotonic counter for statistics; no record is read through it. */
    return atomic_load_explicit(&((kairos_ring *)r)->tail, memory_order_relaxed);
}

uint64_t kairos_ring_drops_approx(const kairos_ring *r) {
    /* Relaxed: pairs with the producer's relaxed stores; an eventually-current count. */
    return atomic_load_explicit(&((kairos_ring *)r)->drops, memory_order_relaxed);
}
