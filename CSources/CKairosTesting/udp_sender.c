/* The UDP test sender (kairos_udp_sender_*, kairos_testing.h): wire ticks as datagrams in sendmmsg
 * batches, and raw datagrams for malformed-input tests. Not a production feed: tests and benchmarks
 * drive the UDP ingest (CKairos ingest_udp.c) with it. */
#include "kairos_testing.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "kairos_wire.h"

enum { KAIROS_SENDER_BATCH = 64 };

/* CLOCK_REALTIME ns: the ingest stamps ts_recv_ns on the same clock by default, so
 * ts_recv_ns - ts_send_ns is the wire latency. */
static int64_t realtime_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct kairos_udp_sender {
    int fd;
    uint8_t bufs[KAIROS_SENDER_BATCH][KAIROS_WIRE_TICK_SIZE];
    struct iovec iovs[KAIROS_SENDER_BATCH];
    struct mmsghdr msgs[KAIROS_SENDER_BATCH];
};

kairos_udp_sender *kairos_udp_sender_create(const char *ipv4, uint16_t port, int *err) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    if (ipv4 == NULL || inet_pton(AF_INET, ipv4, &a.sin_addr) != 1) {
        if (err) *err = -EINVAL;
        return NULL;
    }
    kairos_udp_sender *s = calloc(1, sizeof *s);
    if (s == NULL) {
        if (err) *err = -ENOMEM;
        return NULL;
    }
    s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    /* connect() fixes the destination, so each message needs no address. */
    if (s->fd < 0 || connect(s->fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (err) *err = -errno;
        if (s->fd >= 0) close(s->fd);
        free(s);
        return NULL;
    }
    for (int i = 0; i < KAIROS_SENDER_BATCH; i++) {
        s->iovs[i].iov_base = s->bufs[i];
        s->iovs[i].iov_len = KAIROS_WIRE_TICK_SIZE;
        s->msgs[i].msg_hdr.msg_iov = &s->iovs[i];
        s->msgs[i].msg_hdr.msg_iovlen = 1;
    }
    if (err) *err = 0;
    return s;
}

void kairos_udp_sender_destroy(kairos_udp_sender *s) {
    if (s == NULL) return;
    close(s->fd);
    free(s);
}

int64_t kairos_udp_sender_send_ticks(kairos_udp_sender *s, const kairos_tick *ticks, uint32_t n) {
    uint32_t sent = 0;
    while (sent < n) {
        uint32_t b = n - sent < KAIROS_SENDER_BATCH ? n - sent : KAIROS_SENDER_BATCH;
        int64_t ts = realtime_ns();
        for (uint32_t i = 0; i < b; i++) kairos_wire_encode_tick(&ticks[sent + i], ts, s->bufs[i], KAIROS_WIRE_TICK_SIZE);
        uint32_t done = 0;
        while (done < b) {
            int r = sendmmsg(s->fd, s->msgs + done, b - done, 0);
            if (r < 0) {
                if (errno == EINTR) continue;
                /* ECONNREFUSED: loopback ICMP port unreachable from an earlier datagram; the
                 * datagram was lost, report what we have. */
                int e = -errno;
                return sent + done > 0 ? (int64_t)(sent + done) : e;
            }
            done += (uint32_t)r;
        }
        sent += b;
    }
    return sent;
}

int kairos_udp_sender_send_bytes(kairos_udp_sender *s, const void *bytes, uint32_t len) {
    ssize_t r = send(s->fd, bytes, len, 0);
    return r < 0 ? -errno : 0;
}
