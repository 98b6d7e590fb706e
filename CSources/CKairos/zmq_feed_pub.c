/* ZeroMQ tick feed, publishing side: the XPUB socket `kairos feed` (and the tests and benchmarks)
 * publish through (the SUB ingest is zmq_feed.c). See kairos_zmq_feed.h for the contract and
 * docs/wire-format.md for the frames. No atomics: a kairos_zfeed_pub is used by one thread at a
 * time and ZeroMQ synchronises its own I/O thread. */
#include "kairos_zmq_feed.h"

#include <errno.h>
#include <stdlib.h>
#include <zmq.h>
#include "kairos_zmq_security.h"

struct kairos_zfeed_pub {
    void *ctx;
    void *xpub;
    int sndtimeo; /* the socket's current ZMQ_SNDTIMEO, to set it only when a call changes it */
    int subscriptions;
};

kairos_zfeed_pub *kairos_zfeed_pub_create(int sndhwm) {
    kairos_zfeed_pub *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    /* The shared context: the ZAP allowlist handler only sees sockets of its own context. */
    p->ctx = kairos_zmq_context();
    if (!p->ctx) goto fail;
    p->xpub = zmq_socket(p->ctx, ZMQ_XPUB);
    if (!p->xpub) goto fail;
    int hwm = sndhwm > 0 ? sndhwm : KAIROS_ZFEED_DEFAULT_HWM;
    /* NODROP: a full subscriber queue makes send report EAGAIN instead of dropping silently, so
     * the publisher applies back-pressure (or counts) rather than losing ticks unseen. */
    int nodrop = 1;
    /* Linger 2 s: a replay that ends flushes its tail to subscribers, but a dead one cannot hold
     * the process forever. */
    int linger = 2000;
    /* VERBOSE: pass every subscription up, not only the first of each topic, so waiting for N
     * subscribers counts N even when they all subscribe to "tick.". */
    int verbose = 1;
    p->sndtimeo = -1;
    if (zmq_setsockopt(p->xpub, ZMQ_SNDHWM, &hwm, sizeof hwm) != 0 ||
        zmq_setsockopt(p->xpub, ZMQ_XPUB_NODROP, &nodrop, sizeof nodrop) != 0 ||
        zmq_setsockopt(p->xpub, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_setsockopt(p->xpub, ZMQ_XPUB_VERBOSE, &verbose, sizeof verbose) != 0)
        goto fail;
    return p;
fail: {
    int saved = errno;
    if (p->xpub) zmq_close(p->xpub);
    free(p);
    errno = saved;
    return NULL;
}
}

void kairos_zfeed_pub_destroy(kairos_zfeed_pub *p) {
    if (!p) return;
    zmq_close(p->xpub);
    free(p);
}

int kairos_zfeed_pub_bind(kairos_zfeed_pub *p, const char *endpoint) { return zmq_bind(p->xpub, endpoint); }

int kairos_zfeed_pub_set_curve(kairos_zfeed_pub *p, const char *server_secret) {
    return kairos_zsec_server(p->xpub, server_secret);
}
int kairos_zfeed_pub_connect(kairos_zfeed_pub *p, const char *endpoint) { return zmq_connect(p->xpub, endpoint); }

int kairos_zfeed_pub_last_endpoint(kairos_zfeed_pub *p, char *buf, size_t buf_len) {
    size_t len = buf_len;
    return zmq_getsockopt(p->xpub, ZMQ_LAST_ENDPOINT, buf, &len);
}

int kairos_zfeed_pub_wait_subscriptions(kairos_zfeed_pub *p, int want, int timeout_ms) {
    int64_t deadline = kairos_zfeed_now_ns() + (int64_t)timeout_ms * 1000000LL;
    for (;;) {
        char buf[KAIROS_WIRE_MAX_FRAME];
        int n;
        /* XPUB delivers one frame per (un)subscription: first byte 1 = subscribe, 0 = cancel. */
        while ((n = zmq_recv(p->xpub, buf, sizeof buf, ZMQ_DONTWAIT)) >= 0) {
            if (n >= 1 && buf[0] == 1) p->subscriptions++;
        }
        if (errno != EAGAIN) return -1;
        if (p->subscriptions >= want) return p->subscriptions;
        int64_t left_ms = (deadline - kairos_zfeed_now_ns()) / 1000000LL;
        if (left_ms <= 0) return p->subscriptions;
        zmq_pollitem_t item = {.socket = p->xpub, .fd = 0, .events = ZMQ_POLLIN, .revents = 0};
        if (zmq_poll(&item, 1, (long)left_ms) < 0 && errno != EINTR) return -1;
    }
}

static int kairos_zfeed_pub_set_timeout(kairos_zfeed_pub *p, int timeout_ms) {
    if (timeout_ms == p->sndtimeo) return 0;
    if (zmq_setsockopt(p->xpub, ZMQ_SNDTIMEO, &timeout_ms, sizeof timeout_ms) != 0) return -1;
    p->sndtimeo = timeout_ms;
    return 0;
}

int kairos_zfeed_pub_send_frames(kairos_zfeed_pub *p, const void *const *frames, const size_t *lens, uint32_t n,
                                 int timeout_ms) {
    if (n == 0) {
        errno = EINVAL;
        return -1;
    }
    int flags = timeout_ms == 0 ? ZMQ_DONTWAIT : 0;
    if (timeout_ms > 0 && kairos_zfeed_pub_set_timeout(p, timeout_ms) != 0) return -1;
    for (uint32_t i = 0; i < n; i++) {
        int more = i + 1 < n ? ZMQ_SNDMORE : 0;
        for (;;) {
            if (zmq_send(p->xpub, frames[i], lens[i], flags | more) >= 0) break;
            if (errno == EINTR) continue;
            /* XPUB NODROP checks the HWM per whole message, so only the first frame can be
             * refused for back-pressure; later frames of an accepted message go through. */
            if (errno == EAGAIN && i == 0) return 1;
            return -1;
        }
    }
    return 0;
}

int kairos_zfeed_pub_send_tick(kairos_zfeed_pub *p, const char *topic, size_t topic_len, const kairos_tick *t,
                               int64_t ts_send_ns, int timeout_ms) {
    unsigned char buf[KAIROS_WIRE_TICK_SIZE];
    kairos_wire_encode_tick(t, ts_send_ns, buf, sizeof buf);
    const void *frames[2] = {topic, buf};
    size_t lens[2] = {topic_len, sizeof buf};
    return kairos_zfeed_pub_send_frames(p, frames, lens, 2, timeout_ms);
}
