/* Raw-feed ingest: UDP datagrams (one wire tick each) and file replay of recorded wire ticks,
 * decoded straight into the slots of an SPSC ring (kairos_ring.h) of kairos_tick.
 *
 * Two backends behind one interface (docs/ingest.md):
 *   IO_URING: multishot IORING_OP_RECV with a registered provided-buffer ring where the kernel
 *             has it, else a batch of single-shot IORING_OP_RECVMSG SQEs kept in flight;
 *             file replay with large io_uring reads kept in flight.
 *   EPOLL:    epoll_wait + recvmmsg batches; file replay with read().
 *   AUTO:     IO_URING when io_uring_queue_init succeeds, else EPOLL; the errno of the failed
 *             io_uring_queue_init is kept (kairos_ingest_fallback_errno) so the caller can log why.
 *
 * Threads: one thread (the ingest thread) calls kairos_ingest_poll / kairos_replay_run; it is the
 * ring's only producer. kairos_ingest_stats_read, the getters and kairos_replay_request_stop may
 * be called from any thread while it runs. create/destroy must not race with anything.
 *
 * Counters (all monotonic; exact once the ingest thread is quiet):
 *   received       datagrams (or file records) taken from the kernel, whatever their content
 *   truncated      datagrams longer than KAIROS_INGEST_MAX_DATAGRAM (cut by the kernel; not
 *                  decoded) or, for replay, a trailing partial record at end of file
 *   decode_errors  [-kairos_wire_error] datagrams of the right length class refused by
 *                  kairos_wire_decode_tick, by reason (index 0, OK, stays 0)
 *   decoded        decoded successfully
 *   pushed         committed into the ring
 *   ring_full_drops decoded but discarded because the ring was full (also reported to the ring
 *                  through kairos_ring_count_drops, so drops are never silent)
 *   received = truncated + sum(decode_errors) + decoded;  decoded = pushed + ring_full_drops
 *   socket_drops   datagrams the kernel dropped before we saw them (socket receive queue
 *                  overflow, SO_MEMINFO SK_MEMINFO_DROPS); read at kairos_ingest_stats_read time
 */
#ifndef KAIROS_INGEST_H
#define KAIROS_INGEST_H
#include <stdbool.h>
#include <stdint.h>
#include "kairos_records.h"
#include "kairos_ring.h"
#include "kairos_wire.h"

typedef enum kairos_ingest_backend {
    KAIROS_INGEST_AUTO = 0,
    KAIROS_INGEST_IO_URING = 1,
    KAIROS_INGEST_EPOLL = 2,
} kairos_ingest_backend;

enum {
    /* Receive buffer per datagram. Equal to the largest frame the wire decoder accepts at all:
     * anything longer could never decode, so it is only counted (as truncated). */
    KAIROS_INGEST_MAX_DATAGRAM = KAIROS_WIRE_MAX_FRAME,
    /* Default datagrams per recvmmsg call / single-shot SQEs in flight. */
    KAIROS_INGEST_DEFAULT_BATCH = 64,
};

typedef struct kairos_ingest_stats {
    uint64_t received;
    uint64_t decoded;
    uint64_t pushed;
    uint64_t ring_full_drops;
    uint64_t truncated;
    uint64_t decode_errors[KAIROS_WIRE_ERROR_COUNT]; /* index = -kairos_wire_error */
    uint64_t socket_drops;   /* UDP only */
    uint64_t polls;          /* kairos_ingest_poll calls (replay: blocks read) */
    uint64_t rearms;         /* io_uring multishot receives re-armed after the kernel ended one */
    int32_t last_error;      /* last unexpected negative errno from the kernel, 0 if none */
} kairos_ingest_stats;

typedef struct kairos_ingest_config {
    kairos_ingest_backend backend;
    uint32_t batch;          /* 0 = KAIROS_INGEST_DEFAULT_BATCH; at most 1024 */
    uint32_t rcvbuf_bytes;   /* SO_RCVBUF request; 0 = 4 MiB (the kernel clamps to rmem_max) */
    bool no_multishot;       /* io_uring: use single-shot recvmsg SQEs even if multishot works */
    int clock_id;            /* clock for ts_recv_ns; 0 = CLOCK_REALTIME (wire-to-wire against
                                the sender's CLOCK_REALTIME ts_send_ns) */
} kairos_ingest_config;

typedef struct kairos_ingest kairos_ingest;

/* A UDP receiver bound to ipv4:port (dotted quad; port 0 = ephemeral), producing into ring
 * (record size must be sizeof(kairos_tick); the ring is borrowed and must outlive the ingest).
 * NULL on failure with a negative errno in *err (may be NULL): -EINVAL for bad arguments, the
 * io_uring_queue_init error when IO_URING was asked for explicitly, socket/bind errors. */
kairos_ingest *kairos_ingest_udp_create(const char *ipv4, uint16_t port, kairos_ingest_backend backend,
                                        kairos_ring *ring, int *err);
/* Same with every option; cfg NULL = defaults. */
kairos_ingest *kairos_ingest_udp_create_config(const char *ipv4, uint16_t port, const kairos_ingest_config *cfg,
                                               kairos_ring *ring, int *err);
void kairos_ingest_destroy(kairos_ingest *ing);

uint16_t kairos_ingest_port(const kairos_ingest *ing);                      /* the bound port */
kairos_ingest_backend kairos_ingest_backend_used(const kairos_ingest *ing); /* IO_URING or EPOLL */
/* Negative errno of io_uring_queue_init when AUTO fell back to EPOLL; 0 otherwise. */
int kairos_ingest_fallback_errno(const kairos_ingest *ing);
/* true when the io_uring backend runs multishot recv with provided buffers; false for single-shot
 * SQEs (kernel without it, or no_multishot) and for EPOLL. */
bool kairos_ingest_multishot(const kairos_ingest *ing);
/* Negative errno of the provided-buffer / multishot setup when io_uring fell back to single-shot; 0 otherwise. */
int kairos_ingest_multishot_errno(const kairos_ingest *ing);

/* Waits up to timeout_ms (0 = do not wait, < 0 = forever) for datagrams, handles every datagram
 * available (up to a few batches), and returns how many it handled (>= 0) or a negative errno on
 * an unexpected failure. Ingest thread only. Never allocates. */
int kairos_ingest_poll(kairos_ingest *ing, int timeout_ms);

/* Any thread: a snapshot of the counters (each read relaxed; see the sums above). Includes one
 * getsockopt for socket_drops. */
void kairos_ingest_stats_read(const kairos_ingest *ing, kairos_ingest_stats *out);
/* Any thread: the received counter alone (one relaxed load, no system call), for flow control. */
uint64_t kairos_ingest_received(const kairos_ingest *ing);

/* Pins the calling thread to one CPU (so the ingest thread owns a core). 0 or a negative errno. */
int kairos_ingest_pin_current_thread(int cpu);

/* ---- file replay ---- */
typedef struct kairos_replay kairos_replay;

/* Opens path (consecutive KAIROS_WIRE_TICK_SIZE-byte wire ticks) for replay into ring. backend as
 * for UDP (IO_URING reads blocks with io_uring, EPOLL means plain read()). NULL + *err on failure. */
kairos_replay *kairos_replay_create(const char *path, kairos_ingest_backend backend, kairos_ring *ring, int *err);
void kairos_replay_destroy(kairos_replay *rp);
kairos_ingest_backend kairos_replay_backend_used(const kairos_replay *rp);
int kairos_replay_fallback_errno(const kairos_replay *rp);
/* Replays from the current position to end of file. rate_per_s > 0 paces records (record k is not
 * pushed before start + k / rate, CLOCK_MONOTONIC); 0 = as fast as the ring drains. A full ring
 * makes replay WAIT (a file can wait, unlike a socket), so replay never drops. Returns 0 at end of
 * file, 1 when kairos_replay_request_stop was called, or a negative errno. Replay thread only. */
int kairos_replay_run(kairos_replay *rp, double rate_per_s);
/* Any thread: asks a running (or the next) kairos_replay_run to return 1 soon. */
void kairos_replay_request_stop(kairos_replay *rp);
void kairos_replay_stats_read(const kairos_replay *rp, kairos_ingest_stats *out);
#endif
