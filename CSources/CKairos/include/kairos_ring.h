/* Bounded lock-free ring of fixed-size records.
 *
 * kairos_ring: single producer / single consumer (SPSC). Capacity is a power of two; indices are
 * free-running 64-bit counters (head = next slot the producer writes, tail = next slot the consumer
 * reads); the producer owns head, the consumer owns tail, each on its own cache line together with
 * a cached copy of the other index so the common case touches no shared line.
 * Exactly one thread may call the producer functions and exactly one (possibly other) thread the
 * consumer functions. The *_approx queries may be called from any thread.
 */
#ifndef KAIROS_RING_H
#define KAIROS_RING_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct kairos_ring kairos_ring;

/* capacity must be a power of two >= 2; record_size > 0. Returns NULL on bad arguments or ENOMEM. */
kairos_ring *kairos_ring_create(uint32_t capacity, uint32_t record_size);
void kairos_ring_destroy(kairos_ring *r);
uint32_t kairos_ring_capacity(const kairos_ring *r);
uint32_t kairos_ring_record_size(const kairos_ring *r);

/* ---- producer side ---- */
/* Copies one record in. false when full (nothing written). */
bool kairos_ring_push(kairos_ring *r, const void *record);
/* Copies up to n records in, in order; returns how many were written (0..n). */
uint32_t kairos_ring_push_batch(kairos_ring *r, const void *records, uint32_t n);
/* Zero-copy: pointer to the first free slot and, in *n_contig, how many free slots follow it
 * contiguously (up to the wrap point). NULL with *n_contig = 0 when full. Write records, then
 * kairos_ring_commit(r, k) with k <= *n_contig publishes them. */
void *kairos_ring_reserve(kairos_ring *r, uint32_t *n_contig);
void kairos_ring_commit(kairos_ring *r, uint32_t n);
/* Drop accounting, producer side: a producer that discards a record because the ring is full
 * calls this, so drops are never silent. */
void kairos_ring_count_drops(kairos_ring *r, uint64_t n);

/* ---- consumer side ---- */
bool kairos_ring_pop(kairos_ring *r, void *out);
uint32_t kairos_ring_pop_batch(kairos_ring *r, void *out, uint32_t max);
/* Zero-copy: pointer to the first readable record and, in *n_contig, how many follow contiguously.
 * NULL with *n_contig = 0 when empty. kairos_ring_release(r, k) with k <= *n_contig frees them. */
const void *kairos_ring_peek(kairos_ring *r, uint32_t *n_contig);
void kairos_ring_release(kairos_ring *r, uint32_t n);

/* ---- any thread (monotonic counters, approximate while the other side runs) ---- */
uint32_t kairos_ring_size_approx(const kairos_ring *r);
uint64_t kairos_ring_pushed_approx(const kairos_ring *r); /* head */
uint64_t kairos_ring_popped_approx(const kairos_ring *r); /* tail */
uint64_t kairos_ring_drops_approx(const kairos_ring *r);
#endif
