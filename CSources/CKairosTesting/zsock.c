/* Minimal ZeroMQ sockets for tests (kairos_testing.h). No atomics: a socket is used by one thread
 * at a time, and ZeroMQ synchronises its own I/O thread inside the context. */
#include "kairos_testing.h"

#include <string.h>
#include <zmq.h>
#include "kairos_wire.h"
#include "kairos_zmq_security.h"

void *kairos_zsock_new(kairos_zsock_type type) {
    int t;
    switch (type) {
    case KAIROS_ZSOCK_PUB: t = ZMQ_PUB; break;
    case KAIROS_ZSOCK_SUB: t = ZMQ_SUB; break;
    case KAIROS_ZSOCK_REQ: t = ZMQ_REQ; break;
    case KAIROS_ZSOCK_REP: t = ZMQ_REP; break;
    case KAIROS_ZSOCK_DEALER: t = ZMQ_DEALER; break;
    case KAIROS_ZSOCK_ROUTER: t = ZMQ_ROUTER; break;
    default: return NULL;
    }
    void *s = zmq_socket(kairos_zmq_context(), t);
    if (!s) return NULL;
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    return s;
}

int kairos_zsock_bind(void *s, const char *endpoint) { return zmq_bind(s, endpoint) == 0 ? 0 : -1; }
int kairos_zsock_connect(void *s, const char *endpoint) { return zmq_connect(s, endpoint) == 0 ? 0 : -1; }

int kairos_zsock_last_endpoint(void *s, char *buf, size_t len) {
    size_t n = len;
    return zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, buf, &n) == 0 ? 0 : -1;
}

int kairos_zsock_send(void *s, const void *data, size_t len, int more) {
    return zmq_send(s, data, len, more ? ZMQ_SNDMORE : 0) >= 0 ? 0 : -1;
}

int kairos_zsock_send_tick(void *s, const char *topic, const kairos_tick *t, int64_t ts_send_ns) {
    uint8_t buf[KAIROS_WIRE_TICK_SIZE];
    int n = kairos_wire_encode_tick(t, ts_send_ns, buf, sizeof buf);
    if (n < 0) return -1;
    if (kairos_zsock_send(s, topic, strlen(topic), 1) != 0) return -1;
    return kairos_zsock_send(s, buf, (size_t)n, 0);
}

int kairos_zsock_recv(void *s, void *buf, size_t cap, int timeout_ms) {
    zmq_pollitem_t item = {s, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, timeout_ms) <= 0) return -1;
    int n = zmq_recv(s, buf, cap, ZMQ_DONTWAIT);
    return n < 0 ? -1 : (n > (int)cap ? (int)cap : n);
}

void kairos_zsock_close(void *s) {
    if (s) zmq_close(s);
}
