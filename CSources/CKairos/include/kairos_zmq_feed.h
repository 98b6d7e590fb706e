/* ZeroMQ tick feed: a SUB ingest that decodes wire v1 ticks straight into an SPSC ring, and the
 * publishing side (XPUB) that `kairos feed`, tests and benchmarks use.
 *
 * Frames: every message is exactly two frames [topic, payload]; topic = "tick.<SYMBOL>" (so SUB
 * prefix filtering works), payload = one KAIROS_WIRE_TICK_SIZE record (kairos_wire.h).
 * docs/wire-format.md is the user-facing description.
 *
 * Threads: a kairos_zfeed is used by ONE thread (the ingest thread, which is also the ring's
 * producer) except kairos_zfeed_get_stats, which any thread may call. A kairos_zfeed_pub is used
 * by one thread at a time. zmq is hidden: Swift only sees these functions.
 */
#ifndef KAIROS_ZMQ_FEED_H
#define KAIROS_ZMQ_FEED_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kairos_records.h"
#include "kairos_ring.h"
#include "kairos_wire.h"

enum {
    /* Longest symbol in a topic (bytes, without "tick."). */
    KAIROS_ZFEED_MAX_SYMBOL = 31,
    /* Topic frames longer than "tick." + KAIROS_ZFEED_MAX_SYMBOL are unknown topics. */
    KAIROS_ZFEED_MAX_TOPIC = 5 + KAIROS_ZFEED_MAX_SYMBOL,
    /* Default ZMQ_MAXMSGSIZE of the SUB socket: libzmq refuses (and disconnects the peer) for a
     * frame larger than this before allocating it. Frames between KAIROS_WIRE_MAX_FRAME and this
     * are received by libzmq and refused by us, counted, before any copy. */
    KAIROS_ZFEED_DEFAULT_MAX_MSG = 4096,
    KAIROS_ZFEED_DEFAULT_HWM = 100000,
};

/* What happened to one received message (kairos_zfeed_handle's result). */
typedef enum kairos_zfeed_outcome {
    KAIROS_ZFEED_ACCEPTED = 0,      /* decoded into the ring */
    KAIROS_ZFEED_DECODE_ERROR = 1,  /* payload refused by kairos_wire_decode_tick (see decode_errors) */
    KAIROS_ZFEED_UNKNOWN_TOPIC = 2, /* topic is not "tick.<SYMBOL>" with SYMBOL in the table */
    KAIROS_ZFEED_BAD_MULTIPART = 3, /* not exactly two frames */
    KAIROS_ZFEED_OVERSIZED = 4,     /* a frame larger than KAIROS_WIRE_MAX_FRAME, refused uncopied */
    KAIROS_ZFEED_RING_FULL = 5,     /* decoded but the ring was full: dropped and counted on the ring */
} kairos_zfeed_outcome;
enum { KAIROS_ZFEED_OUTCOME_COUNT = 6 };

/* Counters of one feed, each monotonic. Every received message lands in exactly one of
 * accepted / decode_error_total / unknown_topic / bad_multipart / oversized / ring_full, so
 * messages == their sum. decode_errors[i] counts kairos_wire_error -i (index 0 unused). */
typedef struct kairos_zfeed_stats {
    uint64_t messages;
    uint64_t accepted;
    uint64_t decode_error_total;
    uint64_t decode_errors[KAIROS_WIRE_ERROR_COUNT];
    uint64_t unknown_topic;
    uint64_t bad_multipart;
    uint64_t oversized;
    uint64_t ring_full;
    /* Accepted ticks whose payload instrument differed from the topic's (the topic wins). */
    uint64_t instrument_mismatch;
} kairos_zfeed_stats;

/* One row of the symbol table: topic "tick.<symbol>" -> instrument id. */
typedef struct kairos_zfeed_symbol {
    const char *symbol;  /* NUL-terminated, 1..KAIROS_ZFEED_MAX_SYMBOL bytes; copied at create */
    uint16_t instrument; /* < KAIROS_MAX_INSTRUMENTS */
} kairos_zfeed_symbol;

typedef struct kairos_zfeed kairos_zfeed;

/* Creates a SUB socket (not yet connected) that will write into `ring` (record size must be
 * sizeof(kairos_tick); the feed becomes the ring's only producer). The symbol table is copied.
 * rcvhwm <= 0 uses KAIROS_ZFEED_DEFAULT_HWM; max_msg_size <= 0 uses KAIROS_ZFEED_DEFAULT_MAX_MSG.
 * Returns NULL on bad arguments (duplicate or invalid symbols, wrong record size) or failure;
 * errno is set. */
kairos_zfeed *kairos_zfeed_create(kairos_ring *ring, const kairos_zfeed_symbol *symbols, uint32_t n_symbols,
                                  int rcvhwm, int max_msg_size);
void kairos_zfeed_destroy(kairos_zfeed *f);
/* 0 or -1 with errno (zmq's). Subscribing to "tick." takes every tick; "tick.AAPL" one symbol
 * (prefix match, so also "tick.AAPLX": the table decides what is known). */
int kairos_zfeed_connect(kairos_zfeed *f, const char *endpoint);
int kairos_zfeed_subscribe(kairos_zfeed *f, const char *prefix);
/* Makes the SUB a CURVE client of a publisher whose public key is server_public (Z85, 40 chars),
 * authenticating with the client's own key pair. Call before kairos_zfeed_connect. 0 ok, -1 error. */
int kairos_zfeed_set_curve(kairos_zfeed *f, const char *server_public, const char *client_public,
                           const char *client_secret);
/* Waits up to timeout_ms for input, then receives and handles up to max_messages without waiting.
 * Returns messages handled (>= 0), or -1 with errno on a socket error other than EINTR. */
int kairos_zfeed_poll(kairos_zfeed *f, int timeout_ms, uint32_t max_messages);
/* The topic/payload step of kairos_zfeed_poll, without a socket (for tests and fuzzing):
 * classifies one two-frame message, decodes it into the ring, counts the outcome. */
kairos_zfeed_outcome kairos_zfeed_handle(kairos_zfeed *f, const void *topic, size_t topic_len,
                                         const void *payload, size_t payload_len, int64_t recv_ns);
/* Counts one message that did not have exactly two frames (what kairos_zfeed_poll does). */
void kairos_zfeed_count_bad_multipart(kairos_zfeed *f);
/* Any thread: a snapshot of the counters (each individually current; not one atomic cut). */
void kairos_zfeed_get_stats(const kairos_zfeed *f, kairos_zfeed_stats *out);
/* The instrument id of a symbol, or -1 when it is not in the table. */
int kairos_zfeed_lookup(const kairos_zfeed *f, const char *symbol, size_t len);
/* CLOCK_REALTIME in ns (the receive stamp the feed writes). */
int64_t kairos_zfeed_now_ns(void);

/* ---- publishing side ---- */
typedef struct kairos_zfeed_pub kairos_zfeed_pub;

/* An XPUB socket with ZMQ_XPUB_NODROP: when a subscriber's queue reaches sndhwm, sends report
 * "would block" instead of silently dropping (plain PUB drops). sndhwm <= 0 uses the default. */
kairos_zfeed_pub *kairos_zfeed_pub_create(int sndhwm);
void kairos_zfeed_pub_destroy(kairos_zfeed_pub *p);
int kairos_zfeed_pub_bind(kairos_zfeed_pub *p, const char *endpoint);
int kairos_zfeed_pub_connect(kairos_zfeed_pub *p, const char *endpoint);
/* Makes the XPUB a CURVE server with server_secret (Z85): only clients the ZAP allowlist admits
 * connect (kairos_zsec_server: fails with EACCES unless kairos_zap_start is running). Call before
 * kairos_zfeed_pub_bind. 0 ok, -1 error. */
int kairos_zfeed_pub_set_curve(kairos_zfeed_pub *p, const char *server_secret);
/* The endpoint actually bound (resolves "tcp://127.0.0.1:*" to the port chosen); 0 or -1. */
int kairos_zfeed_pub_last_endpoint(kairos_zfeed_pub *p, char *buf, size_t buf_len);
/* Reads pending subscription messages for up to timeout_ms, returns how many subscriptions have
 * arrived in total so far (so a publisher can wait for its first subscriber: no slow joiner). */
int kairos_zfeed_pub_wait_subscriptions(kairos_zfeed_pub *p, int want, int timeout_ms);
/* Sends [topic, encoded tick] stamped with ts_send_ns. Waits up to timeout_ms while a subscriber
 * is at its HWM (0 = do not wait). Returns 0 when sent, 1 when it would still block (nothing
 * sent; retry), -1 with errno on error. */
int kairos_zfeed_pub_send_tick(kairos_zfeed_pub *p, const char *topic, size_t topic_len, const kairos_tick *t,
                               int64_t ts_send_ns, int timeout_ms);
/* Sends n raw frames as one multipart message. kairos_zfeed_pub_send_tick is built on it (so it
 * stays in CKairos, unlike the test-only senders of kairos_testing.h); tests also use it, through
 * TickPublisher.sendRawFrames, for bad payloads and wrong frame counts. Same result convention as
 * send_tick. */
int kairos_zfeed_pub_send_frames(kairos_zfeed_pub *p, const void *const *frames, const size_t *lens, uint32_t n,
                                 int timeout_ms);
#endif
