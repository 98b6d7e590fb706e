/* Raw-feed ingest: UDP (io_uring multishot recv / single-shot recvmsg, or epoll + recvmmsg) and
 * file replay (io_uring reads or read()), decoding wire ticks straight into SPSC ring slots.
 * Design, fallback rule and counters: kairos_ingest.h and docs/ingest.md.
 *
 * Memory orders: the only memory shared with other threads (besides the ring, which orders its
 * own records) is the counters and the replay stop flag. The counters are written by the ingest
 * thread alone (load-add-store, no read-modify-write needed) and read by monitors; no other data
 * is read through them, so every access is relaxed. The stop flag guards no data either (relaxed).
 */
#include "kairos_ingest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef SO_MEMINFO
#define SO_MEMINFO 55
#endif

enum {
    KAIROS_INGEST_MAX_BATCH = 1024,
    /* Provided buffers for multishot recv: enough for the kernel to keep receiving while we
     * process one CQ batch (a power of two, required by the buffer ring). */
    KAIROS_INGEST_PBUF_COUNT = 4096,
    KAIROS_INGEST_PBUF_GROUP = 0,
    KAIROS_INGEST_MULTISHOT_TAG = 0xFFFFFFFFu,
    /* Batches handled per poll before returning, so the caller's stop check runs regularly. */
    KAIROS_INGEST_POLL_ROUNDS = 8,
};

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
static void publish(kairos_ingest_counters *c, const kairos_ingest_local *l) {
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
static void snapshot(const kairos_ingest_counters *c, kairos_ingest_stats *out) {
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

/* Relaxed: a diagnostic value, orders nothing. */
static void note_error(kairos_ingest_counters *c, int neg_errno) {
    atomic_store_explicit(&c->last_error, neg_errno, memory_order_relaxed);
}

static int64_t now_ns(clockid_t clk) {
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

static void cursor_flush(kairos_slot_cursor *cur) {
    if (cur->filled) kairos_ring_commit(cur->ring, cur->filled);
    cur->slots = NULL;
    cur->avail = cur->filled = 0;
}

/* The slot the next record decodes into, or NULL when the ring is full. Commits the current run
 * when it is used up (runs end at the ring's wrap point) and reserves the next. */
static kairos_tick *cursor_slot(kairos_slot_cursor *cur) {
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
static void handle_record(kairos_slot_cursor *cur, kairos_ingest_local *l, const void *buf, size_t len,
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

/* ---------------------------------------------------------------------------------------- */
/* UDP                                                                                          */
/* ---------------------------------------------------------------------------------------- */

struct kairos_ingest {
    int fd;
    kairos_ring *ring;
    kairos_ingest_backend backend;
    int fallback_errno;
    int multishot_errno;
    bool multishot;
    bool multishot_armed;
    bool started_multishot; /* armed at least once (later arms are re-arms) */
    bool started;           /* first poll done (initial SQEs queued) */
    uint16_t port;
    uint32_t batch;
    clockid_t clock;

    /* io_uring */
    struct io_uring uring;
    bool uring_ok;
    struct io_uring_buf_ring *pbuf_ring; /* provided-buffer ring (multishot) */
    uint8_t *pbufs;                      /* KAIROS_INGEST_PBUF_COUNT * MAX_DATAGRAM bytes */

    /* single-shot io_uring and epoll: one msghdr / iovec / buffer per batch entry */
    struct mmsghdr *msgs;
    struct iovec *iovs;
    uint8_t *bufs;
    uint32_t inflight; /* single-shot SQEs submitted and not completed */
    int epfd;

    kairos_ingest_local local;
    kairos_ingest_counters counters;
};

static int make_socket(const char *ipv4, uint16_t port, uint32_t rcvbuf, uint16_t *bound) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    if (ipv4 == NULL || inet_pton(AF_INET, ipv4, &a.sin_addr) != 1) return -EINVAL;
    /* Non-blocking: epoll needs it, and io_uring then arms its internal poll instead of blocking
     * an io-wq worker in recvmsg. */
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int sz = (int)(rcvbuf ? rcvbuf : 4u << 20);
    /* A deep socket queue absorbs bursts while the ingest thread is descheduled; the kernel caps
     * it at net.core.rmem_max. Failure is harmless (the default stays). */
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    socklen_t alen = sizeof a;
    if (getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    *bound = ntohs(a.sin_port);
    return fd;
}

/* Provided-buffer ring + multishot recv (kernel 6.0+ for multishot recv, 5.19+ for buffer rings).
 * Returns 0 or a negative errno (then the single-shot path is used). */
static int setup_multishot(kairos_ingest *ing) {
    size_t ring_bytes = KAIROS_INGEST_PBUF_COUNT * sizeof(struct io_uring_buf);
    void *br = NULL;
    /* The kernel maps the buffer ring by pages: it must be page aligned. */
    if (posix_memalign(&br, 4096, ring_bytes) != 0) return -ENOMEM;
    ing->pbufs = aligned_alloc(64, (size_t)KAIROS_INGEST_PBUF_COUNT * KAIROS_INGEST_MAX_DATAGRAM);
    if (ing->pbufs == NULL) {
        free(br);
        return -ENOMEM;
    }
    memset(br, 0, ring_bytes);
    struct io_uring_buf_reg reg;
    memset(&reg, 0, sizeof reg);
    reg.ring_addr = (uint64_t)(uintptr_t)br;
    reg.ring_entries = KAIROS_INGEST_PBUF_COUNT;
    reg.bgid = KAIROS_INGEST_PBUF_GROUP;
    int rc = io_uring_register_buf_ring(&ing->uring, &reg, 0);
    if (rc != 0) {
        free(br);
        free(ing->pbufs);
        ing->pbufs = NULL;
        return rc;
    }
    ing->pbuf_ring = br;
    io_uring_buf_ring_init(ing->pbuf_ring);
    int mask = io_uring_buf_ring_mask(KAIROS_INGEST_PBUF_COUNT);
    for (int i = 0; i < KAIROS_INGEST_PBUF_COUNT; i++)
        io_uring_buf_ring_add(ing->pbuf_ring, ing->pbufs + (size_t)i * KAIROS_INGEST_MAX_DATAGRAM,
                              KAIROS_INGEST_MAX_DATAGRAM, (unsigned short)i, mask, i);
    io_uring_buf_ring_advance(ing->pbuf_ring, KAIROS_INGEST_PBUF_COUNT);

    /* Probe on a throwaway socket nobody sends to: arm a multishot recv and cancel it. A kernel
     * without multishot recv fails it (-EINVAL); one with it reports -ECANCELED. The real receive
     * is armed by the first kairos_ingest_poll instead of here, because io_uring runs a request's
     * completion work (the copy into our buffers) on the task that submitted it: that must be the
     * ingest thread, not whichever thread created the receiver. */
    int probe_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (probe_fd < 0) return -errno;
    struct io_uring_sqe *sqe = io_uring_get_sqe(&ing->uring);
    /* MSG_TRUNC: UDP then returns the datagram's real length, so cut datagrams are visible. */
    io_uring_prep_recv_multishot(sqe, probe_fd, NULL, 0, MSG_TRUNC);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = KAIROS_INGEST_PBUF_GROUP;
    io_uring_sqe_set_data64(sqe, KAIROS_INGEST_MULTISHOT_TAG);
    sqe = io_uring_get_sqe(&ing->uring);
    io_uring_prep_cancel64(sqe, KAIROS_INGEST_MULTISHOT_TAG, 0);
    io_uring_sqe_set_data64(sqe, KAIROS_INGEST_MULTISHOT_TAG - 1);
    rc = io_uring_submit(&ing->uring);
    int verdict = rc < 0 ? rc : -EIO;
    /* Reap both CQEs: the probe's final one decides. */
    for (int seen = 0; rc >= 0 && seen < 2;) {
        struct io_uring_cqe *cqe = NULL;
        struct __kernel_timespec ts = {.tv_sec = 1, .tv_nsec = 0};
        if (io_uring_wait_cqe_timeout(&ing->uring, &cqe, &ts) != 0) break;
        if (io_uring_cqe_get_data64(cqe) == KAIROS_INGEST_MULTISHOT_TAG) {
            if (!(cqe->flags & IORING_CQE_F_MORE)) {
                verdict = cqe->res == -ECANCELED ? 0 : cqe->res;
                seen++;
            }
        } else {
            seen++;
        }
        io_uring_cqe_seen(&ing->uring, cqe);
    }
    close(probe_fd);
    ing->multishot_armed = false;
    return verdict;
}

static void teardown_multishot(kairos_ingest *ing) {
    if (ing->pbuf_ring) {
        io_uring_unregister_buf_ring(&ing->uring, KAIROS_INGEST_PBUF_GROUP);
        free(ing->pbuf_ring);
        ing->pbuf_ring = NULL;
    }
    free(ing->pbufs);
    ing->pbufs = NULL;
}

static void msg_init(kairos_ingest *ing, uint32_t i) {
    ing->iovs[i].iov_base = ing->bufs + (size_t)i * KAIROS_INGEST_MAX_DATAGRAM;
    ing->iovs[i].iov_len = KAIROS_INGEST_MAX_DATAGRAM;
    memset(&ing->msgs[i], 0, sizeof ing->msgs[i]);
    ing->msgs[i].msg_hdr.msg_iov = &ing->iovs[i];
    ing->msgs[i].msg_hdr.msg_iovlen = 1;
}

static int alloc_msgs(kairos_ingest *ing) {
    ing->msgs = calloc(ing->batch, sizeof *ing->msgs);
    ing->iovs = calloc(ing->batch, sizeof *ing->iovs);
    ing->bufs = aligned_alloc(64, (size_t)ing->batch * KAIROS_INGEST_MAX_DATAGRAM);
    if (!ing->msgs || !ing->iovs || !ing->bufs) return -ENOMEM;
    for (uint32_t i = 0; i < ing->batch; i++) msg_init(ing, i);
    return 0;
}

static void submit_single(kairos_ingest *ing, uint32_t i) {
    struct io_uring_sqe *sqe = io_uring_get_sqe(&ing->uring);
    if (sqe == NULL) return; /* cannot happen: the SQ has room for every batch entry */
    msg_init(ing, i);
    io_uring_prep_recvmsg(sqe, ing->fd, &ing->msgs[i].msg_hdr, MSG_TRUNC);
    io_uring_sqe_set_data64(sqe, i);
    ing->inflight++;
}

kairos_ingest *kairos_ingest_udp_create_config(const char *ipv4, uint16_t port, const kairos_ingest_config *cfg,
                                               kairos_ring *ring, int *err) {
    kairos_ingest_config defaults;
    memset(&defaults, 0, sizeof defaults);
    if (cfg == NULL) cfg = &defaults;
    int e = 0;
    if (ring == NULL || kairos_ring_record_size(ring) != sizeof(kairos_tick) || cfg->batch > KAIROS_INGEST_MAX_BATCH ||
        cfg->backend < KAIROS_INGEST_AUTO || cfg->backend > KAIROS_INGEST_EPOLL) {
        if (err) *err = -EINVAL;
        return NULL;
    }
    kairos_ingest *ing = calloc(1, sizeof *ing);
    if (ing == NULL) {
        if (err) *err = -ENOMEM;
        return NULL;
    }
    ing->fd = -1;
    ing->epfd = -1;
    ing->ring = ring;
    ing->batch = cfg->batch ? cfg->batch : KAIROS_INGEST_DEFAULT_BATCH;
    /* CLOCK_REALTIME is 0, so 0 ("not set") and CLOCK_REALTIME agree. */
    ing->clock = (clockid_t)cfg->clock_id;
    e = make_socket(ipv4, port, cfg->rcvbuf_bytes, &ing->port);
    if (e < 0) goto fail;
    ing->fd = e;
    e = 0;

    if (cfg->backend != KAIROS_INGEST_EPOLL) {
        /* Room for every single-shot SQE plus the multishot one. */
        unsigned entries = 1;
        while (entries < ing->batch * 2) entries <<= 1;
        /* A CQ as deep as the provided-buffer pool: a burst that fills every buffer still fits
         * in the CQ, so the kernel does not end the multishot for CQ overflow. */
        struct io_uring_params params;
        memset(&params, 0, sizeof params);
        params.flags = IORING_SETUP_CQSIZE;
        params.cq_entries = KAIROS_INGEST_PBUF_COUNT;
        int rc = io_uring_queue_init_params(entries, &ing->uring, &params);
        if (rc == -EINVAL) rc = io_uring_queue_init(entries, &ing->uring, 0); /* pre-5.5 kernels */
        if (rc == 0) {
            ing->uring_ok = true;
            ing->backend = KAIROS_INGEST_IO_URING;
        } else if (cfg->backend == KAIROS_INGEST_IO_URING) {
            e = rc;
            goto fail;
        } else {
            ing->fallback_errno = rc; /* AUTO: fall back to epoll, remember why */
        }
    }
    if (ing->uring_ok) {
        int rc = cfg->no_multishot ? -EPERM : setup_multishot(ing);
        if (rc == 0) {
            ing->multishot = true;
        } else {
            ing->multishot_errno = cfg->no_multishot ? 0 : rc;
            teardown_multishot(ing);
            /* The SQEs are queued by the first poll, on the ingest thread (see setup_multishot). */
            if ((e = alloc_msgs(ing)) < 0) goto fail;
        }
    } else {
        ing->backend = KAIROS_INGEST_EPOLL;
        if ((e = alloc_msgs(ing)) < 0) goto fail;
        ing->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (ing->epfd < 0) {
            e = -errno;
            goto fail;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0};
        if (epoll_ctl(ing->epfd, EPOLL_CTL_ADD, ing->fd, &ev) != 0) {
            e = -errno;
            goto fail;
        }
    }
    if (err) *err = 0;
    return ing;
fail:
    if (err) *err = e;
    kairos_ingest_destroy(ing);
    return NULL;
}

kairos_ingest *kairos_ingest_udp_create(const char *ipv4, uint16_t port, kairos_ingest_backend backend,
                                        kairos_ring *ring, int *err) {
    kairos_ingest_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.backend = backend;
    return kairos_ingest_udp_create_config(ipv4, port, &cfg, ring, err);
}

void kairos_ingest_destroy(kairos_ingest *ing) {
    if (ing == NULL) return;
    /* Closing the ring first cancels every outstanding request, so the kernel no longer writes
     * into the buffers freed below. */
    if (ing->uring_ok) io_uring_queue_exit(&ing->uring);
    if (ing->pbuf_ring) free(ing->pbuf_ring);
    free(ing->pbufs);
    if (ing->epfd >= 0) close(ing->epfd);
    if (ing->fd >= 0) close(ing->fd);
    free(ing->msgs);
    free(ing->iovs);
    free(ing->bufs);
    free(ing);
}

uint16_t kairos_ingest_port(const kairos_ingest *ing) { return ing->port; }
kairos_ingest_backend kairos_ingest_backend_used(const kairos_ingest *ing) { return ing->backend; }
int kairos_ingest_fallback_errno(const kairos_ingest *ing) { return ing->fallback_errno; }
bool kairos_ingest_multishot(const kairos_ingest *ing) { return ing->multishot; }
int kairos_ingest_multishot_errno(const kairos_ingest *ing) { return ing->multishot_errno; }

/* Handles every CQE ready now; returns datagrams handled. */
static uint32_t drain_cqes(kairos_ingest *ing, kairos_slot_cursor *cur) {
    struct io_uring_cqe *cqe;
    unsigned head, seen = 0;
    int returned = 0;
    uint32_t handled = 0;
    int mask = io_uring_buf_ring_mask(KAIROS_INGEST_PBUF_COUNT);
    /* One receive time per CQ batch: the datagrams in it became visible to us together, and one
     * vDSO call per batch instead of per datagram keeps it off the per-tick cost. */
    int64_t recv_ns = now_ns(ing->clock);
    uint32_t resubmit[KAIROS_INGEST_MAX_BATCH];
    uint32_t nresubmit = 0;
    io_uring_for_each_cqe(&ing->uring, head, cqe) {
        seen++;
        uint64_t tag = io_uring_cqe_get_data64(cqe);
        if (tag == KAIROS_INGEST_MULTISHOT_TAG) {
            if (cqe->flags & IORING_CQE_F_BUFFER) {
                unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
                uint8_t *buf = ing->pbufs + (size_t)bid * KAIROS_INGEST_MAX_DATAGRAM;
                if (cqe->res >= 0) {
                    size_t len = (size_t)cqe->res;
                    handle_record(cur, &ing->local, buf, len, len > KAIROS_INGEST_MAX_DATAGRAM, recv_ns);
                    handled++;
                }
                /* Give the buffer back to the kernel (published below with one release store). */
                io_uring_buf_ring_add(ing->pbuf_ring, buf, KAIROS_INGEST_MAX_DATAGRAM, (unsigned short)bid, mask,
                                      returned++);
            } else if (cqe->res == 0) {
                /* A zero-length datagram: the kernel ends the multishot on a 0 result (it means
                 * end of stream on TCP) without consuming a buffer. Still one datagram. */
                handle_record(cur, &ing->local, ing->pbufs, 0, false, recv_ns);
                handled++;
            } else if (cqe->res < 0 && cqe->res != -ENOBUFS && cqe->res != -ECANCELED) {
                note_error(&ing->counters, cqe->res);
            }
            /* No F_MORE: the kernel ended this multishot (typically -ENOBUFS when we fell behind
             * on returning buffers; the datagrams wait in the socket queue). Re-arm in poll. */
            if (!(cqe->flags & IORING_CQE_F_MORE)) ing->multishot_armed = false;
        } else {
            uint32_t i = (uint32_t)tag;
            ing->inflight--;
            if (cqe->res >= 0) {
                size_t len = (size_t)cqe->res;
                handle_record(cur, &ing->local, ing->iovs[i].iov_base, len, len > KAIROS_INGEST_MAX_DATAGRAM, recv_ns);
                handled++;
            } else if (cqe->res != -EAGAIN && cqe->res != -EINTR && cqe->res != -ECANCELED) {
                note_error(&ing->counters, cqe->res);
            }
            resubmit[nresubmit++] = i;
        }
    }
    /* io_uring_buf_ring_advance publishes the returned buffers with a release store to the
     * buffer ring tail (inside liburing), ordering our buffer entries before the kernel sees them. */
    if (returned) io_uring_buf_ring_advance(ing->pbuf_ring, returned);
    io_uring_cq_advance(&ing->uring, seen);
    for (uint32_t k = 0; k < nresubmit; k++) submit_single(ing, resubmit[k]);
    return handled;
}

static void arm_multishot(kairos_ingest *ing) {
    struct io_uring_sqe *sqe = io_uring_get_sqe(&ing->uring);
    if (sqe == NULL) return;
    io_uring_prep_recv_multishot(sqe, ing->fd, NULL, 0, MSG_TRUNC);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = KAIROS_INGEST_PBUF_GROUP;
    io_uring_sqe_set_data64(sqe, KAIROS_INGEST_MULTISHOT_TAG);
    if (ing->started_multishot) ing->local.rearms++; /* the first arm is not a re-arm */
    ing->multishot_armed = true;
    ing->started_multishot = true;
}

static int poll_uring(kairos_ingest *ing, int timeout_ms, kairos_slot_cursor *cur) {
    uint32_t total = 0;
    if (!ing->multishot && !ing->started)
        for (uint32_t i = 0; i < ing->batch; i++) submit_single(ing, i);
    ing->started = true;
    for (int round = 0; round < KAIROS_INGEST_POLL_ROUNDS; round++) {
        if (ing->multishot && !ing->multishot_armed) arm_multishot(ing);
        if (io_uring_cq_ready(&ing->uring) == 0) {
            struct io_uring_cqe *cqe = NULL;
            int rc;
            if (round > 0 || timeout_ms == 0) {
                /* Only flush pending SQEs (re-arms / resubmits); do not wait. */
                rc = io_uring_submit(&ing->uring);
                if (rc < 0 && rc != -EINTR && rc != -EBUSY) return rc;
                if (io_uring_cq_ready(&ing->uring) == 0) break;
            } else if (timeout_ms < 0) {
                rc = io_uring_submit_and_wait(&ing->uring, 1);
                if (rc < 0 && rc != -EINTR) return rc;
            } else {
                struct __kernel_timespec ts = {.tv_sec = timeout_ms / 1000, .tv_nsec = (long)(timeout_ms % 1000) * 1000000L};
                rc = io_uring_submit_and_wait_timeout(&ing->uring, &cqe, 1, &ts, NULL);
                if (rc == -ETIME || rc == -EINTR) break;
                if (rc < 0) return rc;
            }
        }
        uint32_t n = drain_cqes(ing, cur);
        total += n;
        if (n == 0 && round > 0) break;
    }
    /* Resubmit / re-arm SQEs queued by the last drain, so the kernel keeps receiving while the
     * caller does other work. */
    if (ing->multishot && !ing->multishot_armed) arm_multishot(ing);
    if (io_uring_sq_ready(&ing->uring)) (void)io_uring_submit(&ing->uring);
    return (int)total;
}

static int recv_batch(kairos_ingest *ing, kairos_slot_cursor *cur) {
    for (uint32_t i = 0; i < ing->batch; i++) {
        ing->msgs[i].msg_hdr.msg_flags = 0;
        ing->msgs[i].msg_len = 0;
    }
    /* MSG_TRUNC: msg_len is the datagram's real length, so cut datagrams are visible. */
    int n = recvmmsg(ing->fd, ing->msgs, ing->batch, MSG_DONTWAIT | MSG_TRUNC, NULL);
    if (n <= 0) return n < 0 ? -errno : 0;
    int64_t recv_ns = now_ns(ing->clock); /* one per batch, as for io_uring */
    for (int i = 0; i < n; i++) {
        size_t len = ing->msgs[i].msg_len;
        bool trunc = (ing->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) || len > KAIROS_INGEST_MAX_DATAGRAM;
        handle_record(cur, &ing->local, ing->iovs[i].iov_base, len, trunc, recv_ns);
    }
    return n;
}

static int poll_epoll(kairos_ingest *ing, int timeout_ms, kairos_slot_cursor *cur) {
    int total = 0;
    for (int round = 0; round < KAIROS_INGEST_POLL_ROUNDS; round++) {
        /* Under load the socket is rarely empty: try recvmmsg first and sleep in epoll_wait only
         * when it comes back empty, saving one syscall per batch. */
        int n = recv_batch(ing, cur);
        if (n == -EAGAIN || n == -EWOULDBLOCK || n == 0) {
            if (round > 0 || total > 0) break;
            struct epoll_event ev;
            int r = epoll_wait(ing->epfd, &ev, 1, timeout_ms);
            if (r < 0) return errno == EINTR ? 0 : -errno;
            if (r == 0) break;
            n = recv_batch(ing, cur);
            if (n == -EAGAIN || n == -EWOULDBLOCK) break;
        }
        if (n < 0) {
            if (n == -EINTR) break;
            note_error(&ing->counters, n);
            return n;
        }
        total += n;
        if ((uint32_t)n < ing->batch) break; /* socket drained */
    }
    return total;
}

int kairos_ingest_poll(kairos_ingest *ing, int timeout_ms) {
    kairos_slot_cursor cur = {.ring = ing->ring};
    ing->local.polls++;
    int rc = ing->backend == KAIROS_INGEST_IO_URING ? poll_uring(ing, timeout_ms, &cur) : poll_epoll(ing, timeout_ms, &cur);
    cursor_flush(&cur); /* publish the decoded records (release inside kairos_ring_commit) */
    publish(&ing->counters, &ing->local);
    return rc;
}

/* Relaxed: see publish. */
uint64_t kairos_ingest_received(const kairos_ingest *ing) {
    return atomic_load_explicit(&ing->counters.received, memory_order_relaxed);
}

void kairos_ingest_stats_read(const kairos_ingest *ing, kairos_ingest_stats *out) {
    snapshot(&ing->counters, out);
    /* The kernel's own count of datagrams dropped on this socket (receive queue full). */
    uint32_t mem[SK_MEMINFO_VARS];
    socklen_t len = sizeof mem;
    if (getsockopt(ing->fd, SOL_SOCKET, SO_MEMINFO, mem, &len) == 0 && len > SK_MEMINFO_DROPS * sizeof(uint32_t))
        out->socket_drops = mem[SK_MEMINFO_DROPS];
}

int kairos_ingest_pin_current_thread(int cpu) {
    if (cpu < 0 || cpu >= CPU_SETSIZE) return -EINVAL;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return -pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

/* ---------------------------------------------------------------------------------------- */
/* File replay                                                                                  */
/* ---------------------------------------------------------------------------------------- */

enum {
    /* Records per read block: 72 * 4096 = 288 KiB, large enough that the per-read cost vanishes. */
    KAIROS_REPLAY_BLOCK_RECORDS = 4096,
    KAIROS_REPLAY_BLOCK = KAIROS_REPLAY_BLOCK_RECORDS * KAIROS_WIRE_TICK_SIZE,
    /* io_uring reads kept in flight ahead of the decoder. */
    KAIROS_REPLAY_DEPTH = 4,
};

struct kairos_replay {
    int fd;
    kairos_ring *ring;
    kairos_ingest_backend backend;
    int fallback_errno;
    struct io_uring uring;
    bool uring_ok;
    uint8_t *blocks; /* KAIROS_REPLAY_DEPTH blocks */
    uint64_t offset; /* file offset of the next block to process */
    _Atomic int stop;
    kairos_ingest_local local;
    kairos_ingest_counters counters;
};

kairos_replay *kairos_replay_create(const char *path, kairos_ingest_backend backend, kairos_ring *ring, int *err) {
    if (path == NULL || ring == NULL || kairos_ring_record_size(ring) != sizeof(kairos_tick) ||
        backend < KAIROS_INGEST_AUTO || backend > KAIROS_INGEST_EPOLL) {
        if (err) *err = -EINVAL;
        return NULL;
    }
    kairos_replay *rp = calloc(1, sizeof *rp);
    if (rp == NULL) {
        if (err) *err = -ENOMEM;
        return NULL;
    }
    int e = 0;
    rp->ring = ring;
    rp->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (rp->fd < 0) {
        e = -errno;
        goto fail;
    }
    rp->blocks = aligned_alloc(4096, (size_t)KAIROS_REPLAY_DEPTH * KAIROS_REPLAY_BLOCK);
    if (rp->blocks == NULL) {
        e = -ENOMEM;
        goto fail;
    }
    if (backend != KAIROS_INGEST_EPOLL) {
        int rc = io_uring_queue_init(KAIROS_REPLAY_DEPTH * 2, &rp->uring, 0);
        if (rc == 0) {
            rp->uring_ok = true;
        } else if (backend == KAIROS_INGEST_IO_URING) {
            e = rc;
            goto fail;
        } else {
            rp->fallback_errno = rc;
        }
    }
    rp->backend = rp->uring_ok ? KAIROS_INGEST_IO_URING : KAIROS_INGEST_EPOLL;
    if (err) *err = 0;
    return rp;
fail:
    if (err) *err = e;
    kairos_replay_destroy(rp);
    return NULL;
}

void kairos_replay_destroy(kairos_replay *rp) {
    if (rp == NULL) return;
    if (rp->uring_ok) io_uring_queue_exit(&rp->uring); /* cancels reads before the blocks go */
    if (rp->fd >= 0) close(rp->fd);
    free(rp->blocks);
    free(rp);
}

kairos_ingest_backend kairos_replay_backend_used(const kairos_replay *rp) { return rp->backend; }
int kairos_replay_fallback_errno(const kairos_replay *rp) { return rp->fallback_errno; }

/* Relaxed: the flag orders no data (the ring orders the records). */
void kairos_replay_request_stop(kairos_replay *rp) { atomic_store_explicit(&rp->stop, 1, memory_order_relaxed); }
static bool replay_stopping(kairos_replay *rp) { return atomic_load_explicit(&rp->stop, memory_order_relaxed) != 0; }

void kairos_replay_stats_read(const kairos_replay *rp, kairos_ingest_stats *out) { snapshot(&rp->counters, out); }

static void sleep_until(int64_t t_ns) {
    struct timespec ts = {.tv_sec = t_ns / 1000000000LL, .tv_nsec = t_ns % 1000000000LL};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

/* Pushes the whole records in buf[0..len) into the ring, waiting for space and pacing. Returns
 * false when stopped. The start time and record index drive the pacing. */
static bool replay_block(kairos_replay *rp, const uint8_t *buf, size_t len, double rate, int64_t start_ns,
                         uint64_t *index) {
    size_t nrec = len / KAIROS_WIRE_TICK_SIZE;
    size_t i = 0;
    while (i < nrec) {
        if (replay_stopping(rp)) return false;
        size_t chunk = nrec - i;
        if (rate > 0) {
            /* Release the records due by now (at least one, after sleeping until it is due). */
            int64_t due = start_ns + (int64_t)((double)*index * 1e9 / rate);
            int64_t now = now_ns(CLOCK_MONOTONIC);
            if (now < due) {
                sleep_until(due);
                now = due;
            }
            size_t allowed = (size_t)((double)(now - start_ns) * rate / 1e9) + 1;
            allowed = allowed > *index ? allowed - *index : 1;
            if (chunk > allowed) chunk = allowed;
        }
        kairos_slot_cursor cur = {.ring = rp->ring};
        int64_t recv_ns = now_ns(CLOCK_REALTIME);
        size_t done = 0;
        while (done < chunk) {
            /* Wait for space instead of dropping: the file is not going anywhere. */
            if (cur.filled >= cur.avail) {
                /* Run used up: publish it and reserve the next, so handle_record always finds a
                 * slot and never takes its drop branch. */
                cursor_flush(&cur);
                uint32_t n = 0;
                void *p = kairos_ring_reserve(rp->ring, &n);
                if (p == NULL) {
                    publish(&rp->counters, &rp->local);
                    if (replay_stopping(rp)) return false;
                    struct timespec ts = {0, 20000};
                    nanosleep(&ts, NULL);
                    continue;
                }
                cur.slots = p;
                cur.avail = n;
            }
            handle_record(&cur, &rp->local, buf + (i + done) * KAIROS_WIRE_TICK_SIZE, KAIROS_WIRE_TICK_SIZE, false,
                          recv_ns);
            done++;
        }
        cursor_flush(&cur);
        publish(&rp->counters, &rp->local);
        i += chunk;
        *index += chunk;
    }
    return true;
}

static void submit_read(kairos_replay *rp, unsigned slot, uint64_t off) {
    struct io_uring_sqe *sqe = io_uring_get_sqe(&rp->uring);
    io_uring_prep_read(sqe, rp->fd, rp->blocks + (size_t)slot * KAIROS_REPLAY_BLOCK, KAIROS_REPLAY_BLOCK, off);
    io_uring_sqe_set_data64(sqe, slot);
}

int kairos_replay_run(kairos_replay *rp, double rate_per_s) {
    int64_t start_ns = now_ns(CLOCK_MONOTONIC);
    uint64_t index = 0;
    if (!rp->uring_ok) {
        for (;;) {
            if (replay_stopping(rp)) return 1;
            ssize_t n = pread(rp->fd, rp->blocks, KAIROS_REPLAY_BLOCK, (off_t)rp->offset);
            if (n < 0) {
                if (errno == EINTR) continue;
                return -errno;
            }
            rp->local.polls++;
            size_t whole = (size_t)n - (size_t)n % KAIROS_WIRE_TICK_SIZE;
            if (!replay_block(rp, rp->blocks, whole, rate_per_s, start_ns, &index)) {
                rp->offset += whole; /* resume after what was replayed (approximately) */
                return 1;
            }
            rp->offset += whole;
            if ((size_t)n < KAIROS_REPLAY_BLOCK) {
                if (n % KAIROS_WIRE_TICK_SIZE) { /* trailing partial record */
                    rp->local.received++;
                    rp->local.truncated++;
                    rp->offset += (size_t)n % KAIROS_WIRE_TICK_SIZE;
                }
                publish(&rp->counters, &rp->local);
                return 0;
            }
        }
    }
    /* io_uring: DEPTH reads of consecutive blocks in flight; blocks are processed strictly in file
     * order (block k lives in slot k % DEPTH), and a slot is re-read only after it was processed. */
    uint64_t base = rp->offset;
    int res[KAIROS_REPLAY_DEPTH];
    bool ready[KAIROS_REPLAY_DEPTH] = {false};
    for (unsigned s = 0; s < KAIROS_REPLAY_DEPTH; s++) submit_read(rp, s, base + (uint64_t)s * KAIROS_REPLAY_BLOCK);
    unsigned inflight = KAIROS_REPLAY_DEPTH;
    int rc = io_uring_submit(&rp->uring);
    if (rc < 0) return rc;
    uint64_t k = 0; /* next block to process */
    int result = 0;
    bool eof = false;
    while (!eof) {
        unsigned slot = (unsigned)(k % KAIROS_REPLAY_DEPTH);
        while (!ready[slot]) {
            struct io_uring_cqe *cqe;
            rc = io_uring_wait_cqe(&rp->uring, &cqe);
            if (rc == -EINTR) continue;
            if (rc < 0) {
                result = rc;
                goto drain;
            }
            unsigned s = (unsigned)io_uring_cqe_get_data64(cqe);
            res[s] = cqe->res;
            ready[s] = true;
            inflight--;
            io_uring_cqe_seen(&rp->uring, cqe);
        }
        ready[slot] = false;
        int n = res[slot];
        if (n < 0) {
            result = n;
            goto drain;
        }
        rp->local.polls++;
        size_t whole = (size_t)n - (size_t)n % KAIROS_WIRE_TICK_SIZE;
        uint64_t block_off = base + k * KAIROS_REPLAY_BLOCK;
        if (!replay_block(rp, rp->blocks + (size_t)slot * KAIROS_REPLAY_BLOCK, whole, rate_per_s, start_ns, &index)) {
            rp->offset = block_off + whole;
            result = 1;
            goto drain;
        }
        rp->offset = block_off + whole;
        if (n < KAIROS_REPLAY_BLOCK) {
            /* Regular files return short reads only at end of file. */
            if (n % KAIROS_WIRE_TICK_SIZE) {
                rp->local.received++;
                rp->local.truncated++;
                rp->offset += (size_t)n % KAIROS_WIRE_TICK_SIZE;
            }
            eof = true;
            break;
        }
        submit_read(rp, slot, base + (k + KAIROS_REPLAY_DEPTH) * KAIROS_REPLAY_BLOCK);
        inflight++;
        rc = io_uring_submit(&rp->uring);
        if (rc < 0) {
            inflight--;
            result = rc;
            goto drain;
        }
        k++;
    }
drain:
    /* Reap the reads still in flight so the next run starts with an empty ring. */
    while (inflight > 0) {
        struct io_uring_cqe *cqe;
        if (io_uring_wait_cqe(&rp->uring, &cqe) < 0) break;
        io_uring_cqe_seen(&rp->uring, cqe);
        inflight--;
    }
    publish(&rp->counters, &rp->local);
    return result;
}

/* ---------------------------------------------------------------------------------------- */
/* Sender (tests and benchmarks)                                                                */
/* ---------------------------------------------------------------------------------------- */

enum { KAIROS_SENDER_BATCH = 64 };

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
        int64_t ts = now_ns(CLOCK_REALTIME);
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
