/* Order routing over ZeroMQ (kairos_zmq_orders.h): engine DEALER, gateway ROUTER + tick SUB. No
 * atomics here: every object is used by one thread at a time and ZeroMQ does its own cross-thread
 * synchronisation inside the context.
 *
 * Messages are received into zmq_msg_t and decoded in place from the library's buffer, so a
 * receive copies only the decoded fields; malformed messages are consumed entirely (every frame)
 * so the next receive starts on a message boundary. */
#include "kairos_zmq_orders.h"
#include "kairos_wire.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>
#include "kairos_zmq_security.h"

/* Sockets are closed with linger 0: an engine or gateway that stops must not hang on undelivered
 * messages (unacknowledged orders are the router's timeout's business, not the socket's). */
static void set_common(void *s) {
    int zero = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
}

/* Every socket lives in the process-wide context: a CURVE server's ZAP allowlist handler only
 * sees sockets of its own context. */
static void *make_ctx(void) { return kairos_zmq_context(); }

/* Throws away the rest of a multipart message. */
static void drain_more(void *s) {
    int more = 1;
    size_t sz = sizeof more;
    while (zmq_getsockopt(s, ZMQ_RCVMORE, &more, &sz) == 0 && more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, s, 0) < 0) {
            zmq_msg_close(&m);
            return;
        }
        zmq_msg_close(&m);
        sz = sizeof more;
    }
}

/* ------------------------------------------------------------------ DEALER */
struct kairos_zorders_dealer {
    void *ctx;
    void *sock;
};

kairos_zorders_dealer *kairos_zorders_dealer_open(const char *endpoint, const char *routing_id) {
    return kairos_zorders_dealer_open_curve(endpoint, routing_id, NULL, NULL, NULL);
}

kairos_zorders_dealer *kairos_zorders_dealer_open_curve(const char *endpoint, const char *routing_id,
                                                        const char *server_public, const char *client_public,
                                                        const char *client_secret) {
    kairos_zorders_dealer *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->ctx = make_ctx();
    if (!d->ctx) goto fail;
    d->sock = zmq_socket(d->ctx, ZMQ_DEALER);
    if (!d->sock) goto fail;
    set_common(d->sock);
    if (routing_id && routing_id[0]) {
        size_t n = strlen(routing_id);
        if (n > 255 || zmq_setsockopt(d->sock, ZMQ_ROUTING_ID, routing_id, n) != 0) goto fail;
    }
    if (server_public && kairos_zsec_client(d->sock, server_public, client_public, client_secret) != 0) goto fail;
    if (zmq_connect(d->sock, endpoint) != 0) goto fail;
    return d;
fail:;
    int e = errno;
    kairos_zorders_dealer_close(d);
    errno = e;
    return NULL;
}

void kairos_zorders_dealer_close(kairos_zorders_dealer *d) {
    if (!d) return;
    if (d->sock) zmq_close(d->sock);
    free(d);
}

int kairos_zorders_dealer_send_order(kairos_zorders_dealer *d, const kairos_order *o, int64_t ts_send_ns) {
    uint8_t buf[KAIROS_WIRE_ORDER_SIZE];
    int n = kairos_wire_encode_order(o, ts_send_ns, buf, sizeof buf);
    if (n < 0) return -EINVAL;
    return zmq_send(d->sock, buf, (size_t)n, ZMQ_DONTWAIT) == n ? 0 : -errno;
}

int kairos_zorders_dealer_recv_exec(kairos_zorders_dealer *d, kairos_exec_report *out) {
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, d->sock, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&m);
        return 0; /* EAGAIN or EINTR: nothing now */
    }
    int rc;
    if (zmq_msg_more(&m)) {
        drain_more(d->sock);
        rc = KAIROS_ZORDERS_E_FRAMES;
    } else {
        rc = kairos_wire_decode_exec(zmq_msg_data(&m), zmq_msg_size(&m), out);
        if (rc == KAIROS_WIRE_OK) rc = 1;
    }
    zmq_msg_close(&m);
    return rc;
}

int kairos_zorders_dealer_wait(kairos_zorders_dealer *d, int timeout_ms) {
    zmq_pollitem_t it = {d->sock, 0, ZMQ_POLLIN, 0};
    int n = zmq_poll(&it, 1, timeout_ms);
    return n > 0 && (it.revents & ZMQ_POLLIN) ? 1 : 0;
}

/* ------------------------------------------------------------------ ROUTER + SUB */
struct kairos_zorders_gateway {
    void *ctx;
    void *router;
    void *sub; /* NULL without a feed */
};

kairos_zorders_gateway *kairos_zorders_gateway_open(const char *bind_endpoint, const char *feed_endpoint,
                                                    const char *topic_prefix) {
    return kairos_zorders_gateway_open_curve(bind_endpoint, feed_endpoint, topic_prefix, NULL, NULL, NULL, NULL);
}

kairos_zorders_gateway *kairos_zorders_gateway_open_curve(const char *bind_endpoint, const char *feed_endpoint,
                                                          const char *topic_prefix, const char *server_secret,
                                                          const char *feed_public, const char *client_public,
                                                          const char *client_secret) {
    kairos_zorders_gateway *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->ctx = make_ctx();
    if (!g->ctx) goto fail;
    g->router = zmq_socket(g->ctx, ZMQ_ROUTER);
    if (!g->router) goto fail;
    set_common(g->router);
    /* Except the ROUTER: the CANCELLED reports a stopping gateway sends for its working orders get
     * 200 ms to leave. */
    int linger = 200;
    zmq_setsockopt(g->router, ZMQ_LINGER, &linger, sizeof linger);
    /* Mandatory routing: a report for a peer that went away fails loudly (EHOSTUNREACH) and is
     * counted by the caller instead of being dropped silently by ZeroMQ. */
    int one = 1;
    if (zmq_setsockopt(g->router, ZMQ_ROUTER_MANDATORY, &one, sizeof one) != 0) goto fail;
    if (server_secret && kairos_zsec_server(g->router, server_secret) != 0) goto fail;
    if (zmq_bind(g->router, bind_endpoint) != 0) goto fail;
    if (feed_endpoint && feed_endpoint[0]) {
        g->sub = zmq_socket(g->ctx, ZMQ_SUB);
        if (!g->sub) goto fail;
        set_common(g->sub);
        const char *t = topic_prefix ? topic_prefix : "";
        if (zmq_setsockopt(g->sub, ZMQ_SUBSCRIBE, t, strlen(t)) != 0) goto fail;
        if (feed_public && kairos_zsec_client(g->sub, feed_public, client_public, client_secret) != 0) goto fail;
        if (zmq_connect(g->sub, feed_endpoint) != 0) goto fail;
    }
    return g;
fail:;
    int e = errno;
    kairos_zorders_gateway_close(g);
    errno = e;
    return NULL;
}

void kairos_zorders_gateway_close(kairos_zorders_gateway *g) {
    if (!g) return;
    if (g->sub) zmq_close(g->sub);
    if (g->router) zmq_close(g->router);
    free(g);
}

int kairos_zorders_gateway_endpoint(kairos_zorders_gateway *g, char *buf, size_t len) {
    size_t n = len;
    if (zmq_getsockopt(g->router, ZMQ_LAST_ENDPOINT, buf, &n) != 0) return -errno;
    return 0;
}

static int poll_once(kairos_zorders_gateway *g, long timeout_ms) {
    zmq_pollitem_t it[2] = {{g->router, 0, ZMQ_POLLIN, 0}, {g->sub, 0, ZMQ_POLLIN, 0}};
    int n = zmq_poll(it, g->sub ? 2 : 1, timeout_ms);
    if (n <= 0) return 0;
    int bits = 0;
    if (it[0].revents & ZMQ_POLLIN) bits |= KAIROS_ZORDERS_READY_ORDERS;
    if (g->sub && (it[1].revents & ZMQ_POLLIN)) bits |= KAIROS_ZORDERS_READY_TICKS;
    return bits;
}

int kairos_zorders_gateway_wait(kairos_zorders_gateway *g, int64_t timeout_us) {
    /* zmq_poll has millisecond resolution: whole milliseconds go to it (it wakes as soon as a
     * message arrives); a sub-millisecond remainder is spent in short polls and 20 us sleeps so a
     * fill due in 30 us is not delayed to the next millisecond. */
    if (timeout_us >= 1000) return poll_once(g, (long)(timeout_us / 1000));
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        int bits = poll_once(g, 0);
        if (bits || timeout_us <= 0) return bits;
        clock_gettime(CLOCK_MONOTONIC, &now);
        int64_t el = (int64_t)(now.tv_sec - start.tv_sec) * 1000000 + (now.tv_nsec - start.tv_nsec) / 1000;
        if (el >= timeout_us) return 0;
        int64_t left = timeout_us - el;
        struct timespec ts = {0, (long)((left < 20 ? left : 20) * 1000)};
        nanosleep(&ts, NULL);
    }
}

int kairos_zorders_gateway_recv_order(kairos_zorders_gateway *g, kairos_zorders_identity *from, kairos_order *out) {
    zmq_msg_t id;
    zmq_msg_init(&id);
    if (zmq_msg_recv(&id, g->router, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&id);
        return 0;
    }
    int rc;
    size_t idn = zmq_msg_size(&id);
    from->len = (uint8_t)(idn > 255 ? 255 : idn);
    memcpy(from->bytes, zmq_msg_data(&id), from->len);
    if (!zmq_msg_more(&id)) {
        rc = KAIROS_ZORDERS_E_FRAMES; /* identity without a record (cannot come from a DEALER) */
    } else {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, g->router, 0) < 0) {
            rc = KAIROS_ZORDERS_E_FRAMES;
        } else if (zmq_msg_more(&m)) {
            drain_more(g->router);
            rc = KAIROS_ZORDERS_E_FRAMES;
        } else {
            rc = kairos_wire_decode_order(zmq_msg_data(&m), zmq_msg_size(&m), out);
            if (rc == KAIROS_WIRE_OK) rc = 1;
        }
        zmq_msg_close(&m);
    }
    zmq_msg_close(&id);
    return rc;
}

int kairos_zorders_gateway_recv_tick(kairos_zorders_gateway *g, int64_t recv_ns, kairos_tick *out) {
    if (!g->sub) return 0;
    zmq_msg_t topic;
    zmq_msg_init(&topic);
    if (zmq_msg_recv(&topic, g->sub, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&topic);
        return 0;
    }
    int rc;
    if (!zmq_msg_more(&topic)) {
        rc = KAIROS_ZORDERS_E_FRAMES; /* a lone frame: no [topic, record] pair */
    } else {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, g->sub, 0) < 0) {
            rc = KAIROS_ZORDERS_E_FRAMES;
        } else if (zmq_msg_more(&m)) {
            drain_more(g->sub);
            rc = KAIROS_ZORDERS_E_FRAMES;
        } else {
            rc = kairos_wire_decode_tick(zmq_msg_data(&m), zmq_msg_size(&m), recv_ns, out, NULL);
            if (rc == KAIROS_WIRE_OK) rc = 1;
        }
        zmq_msg_close(&m);
    }
    zmq_msg_close(&topic);
    return rc;
}

int kairos_zorders_gateway_send_exec(kairos_zorders_gateway *g, const kairos_zorders_identity *to,
                                     const kairos_exec_report *r, uint16_t gateway_id) {
    uint8_t buf[KAIROS_WIRE_EXEC_SIZE];
    int n = kairos_wire_encode_exec(r, gateway_id, buf, sizeof buf);
    if (n < 0) return -EINVAL;
    /* With ROUTER_MANDATORY an unroutable identity fails on the first frame, so nothing half-sent
     * is left behind. */
    if (zmq_send(g->router, to->bytes, to->len, ZMQ_DONTWAIT | ZMQ_SNDMORE) != (int)to->len) return -errno;
    return zmq_send(g->router, buf, (size_t)n, ZMQ_DONTWAIT) == n ? 0 : -errno;
}
