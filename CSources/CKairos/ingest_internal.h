/* Internals shared by the two ingest paths, UDP receive (ingest_udp.c) and file replay
 * (ingest_replay.c): the counters both publish to monitors, and the producer-side slot cursor and
 * per-record step both decode through. Private to CKairos (not under include/, so Swift never sees
 * it). Everything is static inline: these run once per record, and the per-record step must inline
 * into each path's receive loop as it did when both paths were one file.
 *
 * Memory orders: the counters are written by the ingest (or replay) thread alone (load-add-store,
 * no read-modify-write needed) and read by monitors; no other data is read through them, so every
 * access is relaxed. The records themselves are ordered by the ring (kairos_ring_commit). */
#ifndef KAIROS_INGEST_INTERNAL_H
#define KAIROS_INGEST_INTERNAL_H
#include "kairos_ingest.h"
#include "uring_tsan.h"

#include <stdatomic.h>
#include <string.h>
#include <time.h>

/* Counters shared with monitor threads: single writer (the ingest thread), relaxed everywhere. */
typedef struct kairos_ingest_counters {
    _Atomic uint64_t received, decoded, pushed, ring_full_drops, truncated, polls, rearms;
    _Atomic uint64_t decode_errors[KAIROS_WIRE_ERROR_COUNT];
    _Atomic int32_t last_error;
} kairos_ingest_counters;

/* The writer's private running totals, published to the atomics once per poll. */
typedef struct kairos_ingest_local {
    uint64_t received, decoded, pushed, ring_full_drops, truncated, polls, rearms;
    uint64_t decode_errors[KAIROS_WIRE_ERROR_COUNT];
} kairos_ingest_local;

/* Relaxed: single writer, and monitors read nothing else through these counters. */
static inline void publish(kairos_ingest_counters *c, const kairos_ingest_local *l) {
    atomic_store_explicit(&c->received, l->received, memory_order_relaxed);
    atomic_store_explicit(&c->decoded, l->decoded, memory_order_relaxed);
    atomic_store_explicit(&c->pushed, l->pushed, memory_order_relaxed);
    atomic_store_explicit(&c->ring_full_drops, l->ring_full_drops, memory_order_relaxed);
    atomic_store_explicit(&c->truncated, l->truncated, memory_order_relaxed);
    atomic_store_explicit(&c->polls, l->polls, memory_order_relaxed);
    atomic_store_explicit(&c->rearms, l->rearms, memory_order_relaxed);
    for (int i = 0; i < KAIROS_WIRE_ERROR_COUNT; i++)
        atomic_store_explicit(&c->decode_errors[i], l->decode_errors[i], memory_order_relaxed);
}

/* Relaxed: see publish. */
static inline void snapshot(const kairos_ingest_counters *c, kairos_ingest_stats *out) {
    memset(out, 0, sizeof *out);
    out->received = atomic_load_explicit(&c->received, memory_order_relaxed);
    out->decoded = atomic_load_explicit(&c->decoded, memory_order_relaxed);
    out->pushed = atomic_load_explicit(&c->pushed, memory_order_relaxed);
    out->ring_full_drops = atomic_load_explicit(&c->ring_full_drops, memory_order_relaxed);
    out->truncated = atomic_load_explicit(&c->truncated, memory_order_relaxed);
    out->polls = atomic_load_explicit(&c->polls, memory_order_relaxed);
    out->rearms = atomic_load_explicit(&c->rearms, memory_order_relaxed);
    for (int i = 0; i < KAIROS_WIRE_ERROR_COUNT; i++)
        out->decode_errors[i] = atomic_load_explicit(&c->decode_errors[i], memory_order_relaxed);
    out->last_error = atomic_load_explicit(&c->last_error, memory_order_relaxed);
}

static inline int64_t now_ns(clockid_t clk) {
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---------------------------------------------------------------------------------------- */
/* Producer-side slot cursor: decode straight into reserved ring slots, commit per batch.      */
/* ---------------------------------------------------------------------------------------- */

typedef struct kairos_slot_cursor {
    kairos_ring *ring;
    kairos_tick *slots; /* reserved run, NULL when none */
    uint32_t avail;     /* slots in the reserved run */
    uint32_t filled;    /* decoded records written into it, not yet committed */
} kairos_slot_cursor;

static inline void cursor_flush(kairos_slot_cursor *cur) {
    if (cur->filled) kairos_ring_commit(cur->ring, cur->filled);
    cur->slots = NULL;
    cur->avail = cur->filled = 0;
}

/* The slot the next record decodes into, or NULL when the ring is full. Commits the current run
 * when it is used up (runs end at the ring's wrap point) and reserves the next. */
static inline kairos_tick *cursor_slot(kairos_slot_cursor *cur) {
    if (cur->filled < cur->avail) return &cur->slots[cur->filled];
    cursor_flush(cur);
    uint32_t n = 0;
    void *p = kairos_ring_reserve(cur->ring, &n);
    if (p == NULL) return NULL;
    cur->slots = p;
    cur->avail = n;
    return &cur->slots[0];
}

/* One datagram / file record: classify, decode into the next slot (or a scratch record when the
 * ring is full, so a full ring still tells decode errors from drops), count. */
static inline void handle_record(kairos_slot_cursor *cur, kairos_ingest_local *l, const void *buf, size_t len,
                                 bool truncated, int64_t recv_ns) {
    l->received++;
    if (truncated) {
        l->truncated++;
        return;
    }
    kairos_tick scratch;
    kairos_tick *slot = cursor_slot(cur);
    int rc = kairos_wire_decode_tick(buf, len, recv_ns, slot ? slot : &scratch, NULL);
    if (rc != KAIROS_WIRE_OK) {
        l->decode_errors[-rc]++;
        return;
    }
    l->decoded++;
    if (slot) {
        cur->filled++;
        l->pushed++;
    } else {
        l->ring_full_drops++;
        kairos_ring_count_drops(cur->ring, 1);
    }
}
#endif
