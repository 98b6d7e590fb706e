/* File replay (kairos_replay_*): recorded wire ticks read in large blocks (io_uring reads kept in
 * flight, or pread) and decoded straight into SPSC ring slots, paced or as fast as the ring drains.
 * Contract: kairos_ingest.h; design: docs/ingest.md. Shares the counters and the per-record step
 * with UDP ingest (ingest_internal.h).
 *
 * Memory orders: besides the ring (which orders its own records), only the counters (relaxed, see
 * ingest_internal.h) and the stop flag are shared; the flag guards no data either (relaxed).
 */
#include "ingest_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdlib.h>
#include <unistd.h>

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
            kairos_uring_mapped();
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
    if (rp->uring_ok) {
        kairos_uring_unmapping();
        io_uring_queue_exit(&rp->uring); /* cancels reads before the blocks go */
    }
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
