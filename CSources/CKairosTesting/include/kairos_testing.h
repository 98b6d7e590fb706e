/* Kairos test support: C entry points that exist only for tests and benchmarks, kept out of the
 * CKairos umbrella header (kairos.h) so that nothing production code links against is there for a
 * test's sake. Swift imports this as module CKairosTesting; only the KairosTesting module and the
 * test target depend on it. Every symbol keeps the kairos_ / KAIROS_ prefix; zmq stays hidden as
 * in CKairos (sockets cross the boundary as opaque pointers). */
#ifndef KAIROS_TESTING_H
#define KAIROS_TESTING_H
#include <stddef.h>
#include <stdint.h>
#include "kairos_records.h"

/* ---- UDP sender (drives the UDP ingest, kairos_ingest.h) ---- */
typedef struct kairos_udp_sender kairos_udp_sender;

/* A UDP socket connected to ipv4:port (dotted quad). NULL on failure with a negative errno in *err
 * (may be NULL): -EINVAL for a bad address, socket/connect errors. */
kairos_udp_sender *kairos_udp_sender_create(const char *ipv4, uint16_t port, int *err);
void kairos_udp_sender_destroy(kairos_udp_sender *s);
/* Encodes n ticks (ts_send_ns = CLOCK_REALTIME at each batch) and sends them, one per datagram,
 * in sendmmsg batches of up to 64. Returns how many were sent, or a negative errno if none was. */
int64_t kairos_udp_sender_send_ticks(kairos_udp_sender *s, const kairos_tick *ticks, uint32_t n);
/* Sends len raw bytes as one datagram (malformed-input tests). 0 or a negative errno. */
int kairos_udp_sender_send_bytes(kairos_udp_sender *s, const void *bytes, uint32_t len);

/* ---- minimal ZeroMQ sockets ----
 * Plain sockets in the process-wide context (kairos_zmq_context, so CURVE servers made with
 * kairos_zsec_server consult the running ZAP handler): the security tests' REQ/REP peers, a raw
 * ROUTER standing in for a silent gateway, a raw DEALER and a tick PUB that send malformed frames
 * to the gateway. Every frame is sent as given, which is the point: the production wrappers
 * (kairos_zorders_*, kairos_zfeed_*) can only send well-formed records. */
typedef enum kairos_zsock_type {
    KAIROS_ZSOCK_PUB = 1, KAIROS_ZSOCK_SUB = 2, KAIROS_ZSOCK_REQ = 3, KAIROS_ZSOCK_REP = 4,
    KAIROS_ZSOCK_DEALER = 5, KAIROS_ZSOCK_ROUTER = 6,
} kairos_zsock_type;
void *kairos_zsock_new(kairos_zsock_type type);           /* linger 0; NULL on error */
int kairos_zsock_bind(void *s, const char *endpoint);     /* 0 ok, -1 error */
int kairos_zsock_connect(void *s, const char *endpoint);
/* The endpoint actually bound (resolves tcp://127.0.0.1:* to the port). */
int kairos_zsock_last_endpoint(void *s, char *buf, size_t len);
/* Sends one frame (more != 0: more frames of the same message follow). 0 ok, -1 error. */
int kairos_zsock_send(void *s, const void *data, size_t len, int more);
/* Sends the two frames of a feed message, [topic, wire tick record stamped ts_send_ns]
 * (docs/wire-format.md). 0 ok, -1 error. */
int kairos_zsock_send_tick(void *s, const char *topic, const kairos_tick *t, int64_t ts_send_ns);
/* Receives one frame within timeout_ms (-1 = block): bytes received (truncated to cap), -1 on
 * timeout or error. */
int kairos_zsock_recv(void *s, void *buf, size_t cap, int timeout_ms);
void kairos_zsock_close(void *s);
#endif
