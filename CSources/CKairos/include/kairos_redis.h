/* Redis feature cache: the snapshot record the engine publishes, and a small blocking hiredis
 * client with timeouts, pipelining and reconnect, used by the Swift FeatureCacheWriter.
 *
 * Swift never sees hiredis: the client is the opaque kairos_redis, replies are the opaque
 * kairos_redis_reply read through accessors, and every failure is a kairos_redis_status code
 * (plus a message for logs from kairos_redis_last_error).
 *
 * Threads: a kairos_redis (and the replies it returned) belongs to one thread at a time.
 * Key schema and field names: docs/redis.md. */
#ifndef KAIROS_REDIS_H
#define KAIROS_REDIS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kairos_features.h"

/* ---- the record the engine pushes into an SPSC ring ---- */

enum { KAIROS_REGIME_COUNT = 4 };

/* One instrument's latest features (and regime estimate, when a detector runs). Fixed size
 * (152 bytes, no padding, 8-byte aligned) so it can travel through kairos_ring by memcpy. */
typedef struct kairos_feature_snapshot {
    uint16_t instrument;         /* dense instrument id, 0..KAIROS_MAX_INSTRUMENTS-1 */
    int16_t  regime;             /* 0 bull, 1 bear, 2 sideways, 3 volatile; -1 = no estimate */
    uint32_t reserved;           /* 0 */
    int64_t  ts_ns;              /* timestamp of the tick the features include, ns since epoch */
    kairos_feat_vector features; /* in kairos_feature order */
    double   regime_prob[KAIROS_REGIME_COUNT]; /* P(bull), P(bear), P(sideways), P(volatile) */
    double   confidence;         /* detector confidence, 0..1 */
} kairos_feature_snapshot;

/* ---- client ---- */

typedef enum kairos_redis_status {
    KAIROS_REDIS_OK = 0,
    KAIROS_REDIS_ERR_NOT_CONNECTED = 1, /* no connection (never connected, or dropped after an error) */
    KAIROS_REDIS_ERR_CONNECT = 2,       /* connect failed: refused, unreachable, bad address */
    KAIROS_REDIS_ERR_TIMEOUT = 3,       /* connect or command timed out (server slow or paused) */
    KAIROS_REDIS_ERR_IO = 4,            /* connection lost / reset / closed by the server */
    KAIROS_REDIS_ERR_PROTOCOL = 5,      /* unparsable reply */
    KAIROS_REDIS_ERR_NOMEM = 6,
    KAIROS_REDIS_ERR_ARG = 7,           /* bad argument (e.g. value does not fit the key buffer) */
} kairos_redis_status;

typedef struct kairos_redis kairos_redis;

/* Allocates a client for host:port. Does not connect. Timeouts in ms (0 = block forever; the
 * writer never uses 0). NULL when out of memory or host is longer than 255 bytes. */
kairos_redis *kairos_redis_create(const char *host, uint16_t port,
                                  uint32_t connect_timeout_ms, uint32_t command_timeout_ms);
/* Closes the connection (if any) and frees the client. NULL is allowed. */
void kairos_redis_destroy(kairos_redis *r);

/* Connects, dropping any existing connection first (so it is also the reconnect call), and sets
 * the command timeout on the new socket. Any pipelined commands not yet answered are lost. */
kairos_redis_status kairos_redis_connect(kairos_redis *r);
/* Drops the connection (pending pipelined commands are lost). */
void kairos_redis_disconnect(kairos_redis *r);
bool kairos_redis_is_connected(const kairos_redis *r);
/* Commands appended whose replies have not been read yet. */
uint32_t kairos_redis_pending(const kairos_redis *r);
/* Human-readable reason of the last failure ("" if none); valid until the next call on r. */
const char *kairos_redis_last_error(const kairos_redis *r);

/* Pipelining: appends one command to the output buffer (nothing is sent yet; the buffer is
 * written by the next read). argvlen may be NULL for NUL-terminated arguments. */
kairos_redis_status kairos_redis_append_argv(kairos_redis *r, int argc, const char *const *argv,
                                             const size_t *argvlen);

/* Appends the commands that store one snapshot under `key` (docs/redis.md):
 *   HSET key <feature_names[k]> v_k ... ts <ts_ns> [regime <name> p_bull .. p_volatile .. confidence ..]
 *   [HDEL key regime p_bull p_bear p_sideways p_volatile confidence]   when regime < 0 && clear_regime
 *   EXPIRE key ttl_seconds                                               when ttl_seconds > 0
 * Doubles are written with %.17g (they parse back to the identical double). Returns the number of
 * commands appended (1..3) through *appended; their replies must then be read with
 * kairos_redis_read_replies. No heap allocation besides hiredis's output buffer. */
kairos_redis_status kairos_redis_append_snapshot(kairos_redis *r, const char *key,
                                                 const char *const *feature_names,
                                                 const kairos_feature_snapshot *s,
                                                 uint32_t ttl_seconds, bool clear_regime,
                                                 uint32_t *appended);

/* Sends whatever is buffered (first call only) and reads n replies in order. *error_replies
 * (may be NULL) gets how many of them were server error replies (-ERR, -OOM, -LOADING ...).
 * Any transport failure (timeout, lost connection, protocol) drops the connection, because the
 * reply stream is then out of step; the unread replies are lost and the status says why. */
kairos_redis_status kairos_redis_read_replies(kairos_redis *r, uint32_t n, uint32_t *error_replies);

/* ---- one blocking command with a reply (tests, tools; not the writer's path) ---- */

typedef enum kairos_redis_reply_type {
    KAIROS_REDIS_REPLY_STRING = 1,
    KAIROS_REDIS_REPLY_ARRAY = 2,
    KAIROS_REDIS_REPLY_INTEGER = 3,
    KAIROS_REDIS_REPLY_NIL = 4,
    KAIROS_REDIS_REPLY_STATUS = 5,
    KAIROS_REDIS_REPLY_ERROR = 6,
} kairos_redis_reply_type;

typedef struct kairos_redis_reply kairos_redis_reply;

/* Sends one command and waits (up to the command timeout) for its reply. Only valid with no
 * pipelined commands pending (else KAIROS_REDIS_ERR_ARG). On success *out owns the reply; free
 * it with kairos_redis_reply_free. Transport failures drop the connection. */
kairos_redis_status kairos_redis_command_argv(kairos_redis *r, int argc, const char *const *argv,
                                              const size_t *argvlen, kairos_redis_reply **out);
kairos_redis_reply_type kairos_redis_reply_kind(const kairos_redis_reply *reply);
/* STRING, STATUS, ERROR: the bytes (not NUL-terminated in general) and their length. */
const char *kairos_redis_reply_str(const kairos_redis_reply *reply, size_t *len);
int64_t kairos_redis_reply_integer(const kairos_redis_reply *reply);
size_t kairos_redis_reply_count(const kairos_redis_reply *reply);
/* Element i of an ARRAY reply, owned by the array. */
const kairos_redis_reply *kairos_redis_reply_element(const kairos_redis_reply *reply, size_t i);
void kairos_redis_reply_free(kairos_redis_reply *reply);

#endif
