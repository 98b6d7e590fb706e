/* Order routing over ZeroMQ: the engine's DEALER and the paper gateway's ROUTER (+ its tick SUB).
 * docs/gateway.md describes the protocol; kairos_wire.h defines the records.
 *
 * Pattern: each engine connects one DEALER to each gateway's ROUTER. The DEALER sends one frame per
 * order (a 64-byte kairos_wire order record) and receives one frame per execution report; the
 * ROUTER sees [identity, record] and answers with [identity, record], so the gateway always knows
 * which engine to answer and many orders can be in flight at once (fully asynchronous).
 *
 * Threads: every object here wraps ZeroMQ sockets, which are not thread-safe. One thread at a time
 * uses an object; it may move to another thread across a happens-before edge (thread start/join).
 * Each object owns its own zmq context (one I/O thread) and frees it in *_close.
 *
 * Return conventions: recv functions return 1 when a record was decoded into *out, 0 when nothing
 * is waiting (or a signal interrupted), and a negative reason when a message was consumed but was
 * malformed: a kairos_wire_error (-1..-5) or KAIROS_ZORDERS_E_FRAMES. Send functions return 0 or
 * a negative errno (-EAGAIN: high-water mark reached; -EHOSTUNREACH: unknown ROUTER peer).
 */
#ifndef KAIROS_ZMQ_ORDERS_H
#define KAIROS_ZMQ_ORDERS_H
#include <stddef.h>
#include <stdint.h>
#include "kairos_records.h"

/* kairos_exec_report.reason on a REJECT carries a reason code that this layer copies and never
 * interprets: the codes are defined once, by the Swift OrderRejectReason (KairosCore/Records), and
 * documented in docs/wire-format.md. */

/* Malformed-message reason beyond the wire errors: wrong number of frames. Swift names these and
 * the kairos_wire_error codes with WireDecodeError and counts them with WireDecodeErrorCounts. */
enum { KAIROS_ZORDERS_E_FRAMES = -6 };

/* Readiness bits from kairos_zorders_gateway_wait. */
enum { KAIROS_ZORDERS_READY_ORDERS = 1, KAIROS_ZORDERS_READY_TICKS = 2 };

/* A ZeroMQ ROUTER peer identity (at most 255 bytes by the ZMTP spec). */
typedef struct kairos_zorders_identity {
    uint8_t len;
    uint8_t bytes[255];
} kairos_zorders_identity;

/* ---- engine side: DEALER ---- */
typedef struct kairos_zorders_dealer kairos_zorders_dealer;
/* Connects a DEALER to endpoint. routing_id may be NULL (the ROUTER then makes one up). Returns
 * NULL on failure (errno set). */
kairos_zorders_dealer *kairos_zorders_dealer_open(const char *endpoint, const char *routing_id);
/* The same, as a CURVE client of the gateway whose public key is server_public (NULL = plain). */
kairos_zorders_dealer *kairos_zorders_dealer_open_curve(const char *endpoint, const char *routing_id,
                                                        const char *server_public, const char *client_public,
                                                        const char *client_secret);
void kairos_zorders_dealer_close(kairos_zorders_dealer *d);
/* Encodes and sends one order record (non-blocking), stamping ts_send_ns. */
int kairos_zorders_dealer_send_order(kairos_zorders_dealer *d, const kairos_order *o, int64_t ts_send_ns);
/* Receives one execution report without blocking (see return conventions). */
int kairos_zorders_dealer_recv_exec(kairos_zorders_dealer *d, kairos_exec_report *out);
/* Waits up to timeout_ms (0 = just check) for something to read; 1 if readable, 0 otherwise. */
int kairos_zorders_dealer_wait(kairos_zorders_dealer *d, int timeout_ms);

/* ---- gateway side: ROUTER (+ optional tick SUB) ---- */
typedef struct kairos_zorders_gateway kairos_zorders_gateway;
/* Binds a ROUTER to bind_endpoint (tcp://127.0.0.1:* picks a free port) and, when feed_endpoint is
 * not NULL, connects a SUB to it subscribed to topic_prefix (e.g. "tick."). NULL on failure. */
kairos_zorders_gateway *kairos_zorders_gateway_open(const char *bind_endpoint, const char *feed_endpoint,
                                                    const char *topic_prefix);
/* The same with CURVE: server_secret (non-NULL) makes the ROUTER a CURVE server (the ZAP allowlist
 * must be running, see kairos_zsec_server); feed_public (non-NULL) makes the SUB a CURVE client of
 * that publisher with the gateway's own key pair client_public/client_secret. */
kairos_zorders_gateway *kairos_zorders_gateway_open_curve(const char *bind_endpoint, const char *feed_endpoint,
                                                          const char *topic_prefix, const char *server_secret,
                                                          const char *feed_public, const char *client_public,
                                                          const char *client_secret);
void kairos_zorders_gateway_close(kairos_zorders_gateway *g);
/* The ROUTER's resolved endpoint (ZMQ_LAST_ENDPOINT) into buf; 0 or -errno. */
int kairos_zorders_gateway_endpoint(kairos_zorders_gateway *g, char *buf, size_t len);
/* Waits up to timeout_us (0 = just check) for orders or ticks; returns KAIROS_ZORDERS_READY_* bits. */
int kairos_zorders_gateway_wait(kairos_zorders_gateway *g, int64_t timeout_us);
/* Receives one order and its sender's identity without blocking. */
int kairos_zorders_gateway_recv_order(kairos_zorders_gateway *g, kairos_zorders_identity *from, kairos_order *out);
/* Receives one tick [topic, record] without blocking; recv_ns is stored in out->ts_recv_ns. */
int kairos_zorders_gateway_recv_tick(kairos_zorders_gateway *g, int64_t recv_ns, kairos_tick *out);
/* Sends one execution report to the peer `to` (non-blocking; ROUTER_MANDATORY so an unknown or
 * gone peer is an error, not a silent drop). */
int kairos_zorders_gateway_send_exec(kairos_zorders_gateway *g, const kairos_zorders_identity *to,
                                     const kairos_exec_report *r, uint16_t gateway_id);
#endif
