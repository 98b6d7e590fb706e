/* UDP ingest (kairos_ingest_*): io_uring multishot recv / single-shot recvmsg, or epoll + recvmmsg,
 * decoding datagrams straight into SPSC ring slots. Design, fallback rule and counters:
 * kairos_ingest.h and docs/ingest.md. File replay is ingest_replay.c; the two share the counters
 * and the per-record step (ingest_internal.h).
 *
 * Memory orders: the only memory shared with other threads (besides the ring, which orders its
 * own records) is the counters (relaxed, see ingest_internal.h) and last_error (relaxed, a
 * diagnostic value that orders nothing).
 */
#include "ingest_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
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

/* Relaxed: a diagnostic value, orders nothing. */
static void note_error(kairos_ingest_counters *c, int neg_errno) {
    atomic_store_explicit(&c->last_error, neg_errno, memory_order_relaxed);
}

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
            kairos_uring_mapped();
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
    if (ing->uring_ok) {
        kairos_uring_unmapping();
        io_uring_queue_exit(&ing->uring);
    }
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
