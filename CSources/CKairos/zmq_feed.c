/* ZeroMQ tick feed, receiving side: SUB ingest straight into the SPSC ring (the publishing side,
 * XPUB, is zmq_feed_pub.c). See kairos_zmq_feed.h for the contract and docs/wire-format.md for the
 * frames.
 *
 * Per-message path (kairos_zfeed_poll): two zmq_msg_recv into zmq_msg_t objects owned by the feed
 * (initialised once; libzmq releases the previous content on each receive), size checks on the
 * frames before anything is copied, a symbol lookup in an open-addressing table built at create,
 * then kairos_wire_decode_tick writes the record directly into the slot kairos_ring_reserve
 * handed out, and kairos_ring_commit publishes it. Nothing on this path allocates in our code.
 */
#include "kairos_zmq_feed.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>
#include "kairos_zmq_security.h"

static const char kairos_zfeed_topic_prefix[] = "tick.";
enum { KAIROS_ZFEED_PREFIX_LEN = 5 };

/* One symbol table slot. len == 0 marks an empty slot. */
typedef struct kairos_zfeed_slot {
    char symbol[KAIROS_ZFEED_MAX_SYMBOL + 1];
    uint8_t len;
    uint16_t instrument;
} kairos_zfeed_slot;

/* Counters: written only by the thread that owns the feed, read by any thread. A single writer
 * means a relaxed load + store is a correct increment; relaxed everywhere because the counters
 * publish no other memory (readers want eventually-current numbers, nothing more). */
typedef struct kairos_zfeed_counters {
    _Atomic uint64_t messages;
    _Atomic uint64_t accepted;
    _Atomic uint64_t decode_error_total;
    _Atomic uint64_t decode_errors[KAIROS_WIRE_ERROR_COUNT];
    _Atomic uint64_t unknown_topic;
    _Atomic uint64_t bad_multipart;
    _Atomic uint64_t oversized;
    _Atomic uint64_t ring_full;
    _Atomic uint64_t instrument_mismatch;
} kairos_zfeed_counters;

struct kairos_zfeed {
    void *ctx;
    void *sub;
    kairos_ring *ring;
    zmq_msg_t topic;
    zmq_msg_t payload;
    kairos_zfeed_slot *table;
    uint32_t table_mask;
    kairos_zfeed_counters c;
};

static inline void kairos_zfeed_inc(_Atomic uint64_t *c) {
    /* Relaxed: single writer (the feed's thread); see kairos_zfeed_counters. */
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1, memory_order_relaxed);
}

int64_t kairos_zfeed_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* FNV-1a: short keys, no allocation, good enough spread for a table at most half full. */
static inline uint32_t kairos_zfeed_hash(const char *s, size_t len) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t)s[i];
        h *= 16777619u;
    }
    return h;
}

int kairos_zfeed_lookup(const kairos_zfeed *f, const char *symbol, size_t len) {
    if (len == 0 || len > KAIROS_ZFEED_MAX_SYMBOL) return -1;
    uint32_t i = kairos_zfeed_hash(symbol, len) & f->table_mask;
    for (;;) {
        const kairos_zfeed_slot *s = &f->table[i];
        if (s->len == 0) return -1;
        if (s->len == len && memcmp(s->symbol, symbol, len) == 0) return s->instrument;
        i = (i + 1) & f->table_mask;
    }
}

kairos_zfeed *kairos_zfeed_create(kairos_ring *ring, const kairos_zfeed_symbol *symbols, uint32_t n_symbols,
                                  int rcvhwm, int max_msg_size) {
    if (ring == NULL || kairos_ring_record_size(ring) != sizeof(kairos_tick) || (n_symbols > 0 && symbols == NULL) ||
        n_symbols > KAIROS_MAX_INSTRUMENTS * 4u) {
        errno = EINVAL;
        return NULL;
    }
    kairos_zfeed *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->ring = ring;
    /* At most half full so probes stay short and an empty slot always ends a search. */
    uint32_t cap = 16;
    while (cap < 2 * n_symbols) cap <<= 1;
    f->table = calloc(cap, sizeof *f->table);
    if (!f->table) {
        free(f);
        return NULL;
    }
    f->table_mask = cap - 1;
    for (uint32_t k = 0; k < n_symbols; k++) {
        const char *sym = symbols[k].symbol;
        size_t len = sym ? strlen(sym) : 0;
        if (len == 0 || len > KAIROS_ZFEED_MAX_SYMBOL || symbols[k].instrument >= KAIROS_MAX_INSTRUMENTS ||
            kairos_zfeed_lookup(f, sym, len) >= 0) {
            free(f->table);
            free(f);
            errno = EINVAL;
            return NULL;
        }
        uint32_t i = kairos_zfeed_hash(sym, len) & f->table_mask;
        while (f->table[i].len != 0) i = (i + 1) & f->table_mask;
        memcpy(f->table[i].symbol, sym, len);
        f->table[i].len = (uint8_t)len;
        f->table[i].instrument = symbols[k].instrument;
    }
    /* The shared context: a CURVE server's ZAP handler only sees sockets of its own context. */
    f->ctx = kairos_zmq_context();
    if (!f->ctx) goto fail;
    f->sub = zmq_socket(f->ctx, ZMQ_SUB);
    if (!f->sub) goto fail;
    int hwm = rcvhwm > 0 ? rcvhwm : KAIROS_ZFEED_DEFAULT_HWM;
    int64_t maxmsg = max_msg_size > 0 ? max_msg_size : KAIROS_ZFEED_DEFAULT_MAX_MSG;
    /* Linger 0: an ingest that stops has nothing to flush (SUB sends only subscriptions). */
    int linger = 0;
    /* Reconnect quickly after a publisher restart, backing off to 1 s. */
    int reconnect = 100, reconnect_max = 1000;
    if (zmq_setsockopt(f->sub, ZMQ_RCVHWM, &hwm, sizeof hwm) != 0 ||
        zmq_setsockopt(f->sub, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) != 0 ||
        zmq_setsockopt(f->sub, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_setsockopt(f->sub, ZMQ_RECONNECT_IVL, &reconnect, sizeof reconnect) != 0 ||
        zmq_setsockopt(f->sub, ZMQ_RECONNECT_IVL_MAX, &reconnect_max, sizeof reconnect_max) != 0)
        goto fail;
    zmq_msg_init(&f->topic);
    zmq_msg_init(&f->payload);
    /* Relaxed: the feed is not shared yet; handing it to the ingest thread (thread start)
     * provides the happens-before edge. calloc already zeroed them; this states the intent. */
    atomic_store_explicit(&f->c.messages, 0, memory_order_relaxed);
    return f;
fail: {
    int saved = errno;
    if (f->sub) zmq_close(f->sub);
    free(f->table);
    free(f);
    errno = saved;
    return NULL;
}
}

void kairos_zfeed_destroy(kairos_zfeed *f) {
    if (!f) return;
    zmq_msg_close(&f->topic);
    zmq_msg_close(&f->payload);
    zmq_close(f->sub);
    free(f->table);
    free(f);
}

int kairos_zfeed_connect(kairos_zfeed *f, const char *endpoint) { return zmq_connect(f->sub, endpoint); }

int kairos_zfeed_set_curve(kairos_zfeed *f, const char *server_public, const char *client_public,
                           const char *client_secret) {
    return kairos_zsec_client(f->sub, server_public, client_public, client_secret);
}

int kairos_zfeed_subscribe(kairos_zfeed *f, const char *prefix) {
    return zmq_setsockopt(f->sub, ZMQ_SUBSCRIBE, prefix, strlen(prefix));
}

void kairos_zfeed_count_bad_multipart(kairos_zfeed *f) {
    kairos_zfeed_inc(&f->c.messages);
    kairos_zfeed_inc(&f->c.bad_multipart);
}

kairos_zfeed_outcome kairos_zfeed_handle(kairos_zfeed *f, const void *topic, size_t topic_len, const void *payload,
                                         size_t payload_len, int64_t recv_ns) {
    kairos_zfeed_inc(&f->c.messages);
    /* Size first: an oversized frame is refused before a byte of it is read or copied. */
    if (payload_len > KAIROS_WIRE_MAX_FRAME || topic_len > KAIROS_WIRE_MAX_FRAME) {
        kairos_zfeed_inc(&f->c.oversized);
        return KAIROS_ZFEED_OVERSIZED;
    }
    const char *t = topic;
    if (t == NULL || topic_len <= KAIROS_ZFEED_PREFIX_LEN || topic_len > KAIROS_ZFEED_MAX_TOPIC ||
        memcmp(t, kairos_zfeed_topic_prefix, KAIROS_ZFEED_PREFIX_LEN) != 0) {
        kairos_zfeed_inc(&f->c.unknown_topic);
        return KAIROS_ZFEED_UNKNOWN_TOPIC;
    }
    int instrument = kairos_zfeed_lookup(f, t + KAIROS_ZFEED_PREFIX_LEN, topic_len - KAIROS_ZFEED_PREFIX_LEN);
    if (instrument < 0) {
        kairos_zfeed_inc(&f->c.unknown_topic);
        return KAIROS_ZFEED_UNKNOWN_TOPIC;
    }
    uint32_t n = 0;
    kairos_tick *slot = kairos_ring_reserve(f->ring, &n);
    /* Ring full: still classify the payload (a malformed frame is a decode error, not a drop). */
    kairos_tick scratch;
    int rc = kairos_wire_decode_tick(payload, payload_len, recv_ns, slot ? slot : &scratch, NULL);
    if (rc != KAIROS_WIRE_OK) {
        /* Nothing committed: the slot stays free (the decoder may have left partial data in it,
         * which the next commit overwrites). */
        kairos_zfeed_inc(&f->c.decode_error_total);
        kairos_zfeed_inc(&f->c.decode_errors[-rc]);
        return KAIROS_ZFEED_DECODE_ERROR;
    }
    if (slot == NULL) {
        kairos_ring_count_drops(f->ring, 1);
        kairos_zfeed_inc(&f->c.ring_full);
        return KAIROS_ZFEED_RING_FULL;
    }
    if (slot->instrument != (uint16_t)instrument) {
        kairos_zfeed_inc(&f->c.instrument_mismatch);
        slot->instrument = (uint16_t)instrument;
    }
    kairos_ring_commit(f->ring, 1);
    kairos_zfeed_inc(&f->c.accepted);
    return KAIROS_ZFEED_ACCEPTED;
}

/* Receives and handles one message. 1 = handled, 0 = nothing to read, -1 = error. */
static int kairos_zfeed_recv_one(kairos_zfeed *f) {
    if (zmq_msg_recv(&f->topic, f->sub, ZMQ_DONTWAIT) < 0) return errno == EAGAIN ? 0 : -1;
    /* libzmq delivers multipart messages atomically, so the rest is already here. */
    if (!zmq_msg_more(&f->topic)) {
        kairos_zfeed_count_bad_multipart(f);
        return 1;
    }
    if (zmq_msg_recv(&f->payload, f->sub, ZMQ_DONTWAIT) < 0) {
        /* Cannot happen for an atomically delivered message, but a missing part is a truncated
         * multipart, not a reason to stop the ingest. */
        if (errno != EAGAIN) return -1;
        kairos_zfeed_count_bad_multipart(f);
        return 1;
    }
    if (zmq_msg_more(&f->payload)) {
        /* Too many frames: drain the rest of this message into the payload msg and count once. */
        while (zmq_msg_more(&f->payload)) {
            if (zmq_msg_recv(&f->payload, f->sub, ZMQ_DONTWAIT) < 0) {
                if (errno != EAGAIN) return -1;
                break;
            }
        }
        kairos_zfeed_count_bad_multipart(f);
        return 1;
    }
    int64_t now = kairos_zfeed_now_ns();
    /* zmq_msg_size before zmq_msg_data: kairos_zfeed_handle checks sizes before it reads. */
    kairos_zfeed_handle(f, zmq_msg_data(&f->topic), zmq_msg_size(&f->topic), zmq_msg_data(&f->payload),
                        zmq_msg_size(&f->payload), now);
    return 1;
}

int kairos_zfeed_poll(kairos_zfeed *f, int timeout_ms, uint32_t max_messages) {
    /* Fast path: drain what is already queued without a poll system call. */
    uint32_t handled = 0;
    while (handled < max_messages) {
        int r = kairos_zfeed_recv_one(f);
        if (r < 0) return errno == EINTR ? (int)handled : -1;
        if (r == 0) break;
        handled++;
    }
    if (handled > 0 || timeout_ms == 0) return (int)handled;
    zmq_pollitem_t item = {.socket = f->sub, .fd = 0, .events = ZMQ_POLLIN, .revents = 0};
    int rc = zmq_poll(&item, 1, timeout_ms);
    if (rc < 0) return errno == EINTR ? 0 : -1;
    if (rc == 0) return 0;
    while (handled < max_messages) {
        int r = kairos_zfeed_recv_one(f);
        if (r < 0) return errno == EINTR ? (int)handled : -1;
        if (r == 0) break;
        handled++;
    }
    return (int)handled;
}

void kairos_zfeed_get_stats(const kairos_zfeed *f, kairos_zfeed_stats *out) {
    kairos_zfeed_counters *c = (kairos_zfeed_counters *)&f->c; /* atomic_load takes non-const in C11 */
    /* Relaxed loads: see kairos_zfeed_counters. */
    out->messages = atomic_load_explicit(&c->messages, memory_order_relaxed);
    out->accepted = atomic_load_explicit(&c->accepted, memory_order_relaxed);
    out->decode_error_total = atomic_load_explicit(&c->decode_error_total, memory_order_relaxed);
    for (int i = 0; i < KAIROS_WIRE_ERROR_COUNT; i++)
        out->decode_errors[i] = atomic_load_explicit(&c->decode_errors[i], memory_order_relaxed);
    out->unknown_topic = atomic_load_explicit(&c->unknown_topic, memory_order_relaxed);
    out->bad_multipart = atomic_load_explicit(&c->bad_multipart, memory_order_relaxed);
    out->oversized = atomic_load_explicit(&c->oversized, memory_order_relaxed);
    out->ring_full = atomic_load_explicit(&c->ring_full, memory_order_relaxed);
    out->instrument_mismatch = atomic_load_explicit(&c->instrument_mismatch, memory_order_relaxed);
}
