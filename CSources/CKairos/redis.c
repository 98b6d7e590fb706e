/* Blocking hiredis client with timeouts, pipelining and reconnect (kairos_redis.h).
 *
 * Why blocking + socket timeouts rather than hiredis's async API: the only user is one writer
 * thread that flushes every few tens of ms; a blocking call bounded by SO_RCVTIMEO/SO_SNDTIMEO
 * (redisSetTimeout) is simpler and cannot stall longer than the command timeout. Nothing here is
 * on the engine's path: the engine only pushes snapshots into a ring. */
#include "kairos_redis.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

_Static_assert(sizeof(kairos_feature_snapshot) == 152, "kairos_feature_snapshot must stay 152 bytes");
_Static_assert(KAIROS_FEAT_COUNT == 12, "update the HSET argv bound and docs/redis.md");

struct kairos_redis {
    redisContext *ctx;          /* NULL when disconnected */
    uint32_t pending;           /* appended commands whose replies are unread */
    uint32_t connect_timeout_ms;
    uint32_t command_timeout_ms;
    uint16_t port;
    char host[256];
    char err[160];
};

/* Field names of the regime part of the hash; labels must equal Swift's Regime.description
 * (the FeatureCache tests read them back and compare). */
static const char *const kairos_redis_regime_labels[KAIROS_REGIME_COUNT] = {"bull", "bear", "sideways", "volatile"};
static const char *const kairos_redis_prob_fields[KAIROS_REGIME_COUNT] = {"p_bull", "p_bear", "p_sideways", "p_volatile"};

static struct timeval kairos_redis_tv(uint32_t ms) {
    struct timeval tv = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)((ms % 1000) * 1000)};
    return tv;
}

static void kairos_redis_set_err(kairos_redis *r, const char *what, const char *detail) {
    snprintf(r->err, sizeof r->err, "%s: %s", what, detail ? detail : "unknown");
}

/* Maps a failed context to a status. `saved_errno` is errno right after the failing call:
 * hiredis reports an expired SO_RCVTIMEO/SO_SNDTIMEO (EAGAIN) and a connect poll timeout
 * (ETIMEDOUT) as plain REDIS_ERR_IO, and the caller needs to tell "slow" from "gone". */
static kairos_redis_status kairos_redis_classify(const redisContext *c, int saved_errno, bool connecting) {
    if (c->err == REDIS_ERR_OOM) return KAIROS_REDIS_ERR_NOMEM;
    if (c->err == REDIS_ERR_PROTOCOL) return KAIROS_REDIS_ERR_PROTOCOL;
    if (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK || saved_errno == ETIMEDOUT ||
        strstr(c->errstr, "timed out") != NULL || strstr(c->errstr, "temporarily unavailable") != NULL)
        return KAIROS_REDIS_ERR_TIMEOUT;
    return connecting ? KAIROS_REDIS_ERR_CONNECT : KAIROS_REDIS_ERR_IO;
}

/* Writing to a socket the server closed raises SIGPIPE, whose default action kills the process.
 * Rather than changing the process-wide disposition (not ours to change), block it on this thread
 * around the write and swallow the one our write caused; write() then fails with EPIPE, which
 * hiredis reports as an I/O error. */
typedef struct kairos_redis_sigpipe_guard {
    sigset_t old;
    bool was_pending;
} kairos_redis_sigpipe_guard;

static void kairos_redis_sigpipe_enter(kairos_redis_sigpipe_guard *g) {
    sigset_t s, pending;
    sigemptyset(&s);
    sigaddset(&s, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &s, &g->old);
    sigemptyset(&pending);
    sigpending(&pending);
    g->was_pending = sigismember(&pending, SIGPIPE) == 1;
}

static void kairos_redis_sigpipe_leave(const kairos_redis_sigpipe_guard *g) {
    if (!g->was_pending) {
        sigset_t pending;
        sigemptyset(&pending);
        sigpending(&pending);
        if (sigismember(&pending, SIGPIPE) == 1) {
            sigset_t s;
            sigemptyset(&s);
            sigaddset(&s, SIGPIPE);
            const struct timespec zero = {0, 0};
            (void)sigtimedwait(&s, NULL, &zero);
        }
    }
    pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

kairos_redis *kairos_redis_create(const char *host, uint16_t port,
                                  uint32_t connect_timeout_ms, uint32_t command_timeout_ms) {
    if (host == NULL || strlen(host) >= sizeof(((kairos_redis *)0)->host)) return NULL;
    kairos_redis *r = calloc(1, sizeof *r);
    if (r == NULL) return NULL;
    strcpy(r->host, host);
    r->port = port;
    r->connect_timeout_ms = connect_timeout_ms;
    r->command_timeout_ms = command_timeout_ms;
    return r;
}

void kairos_redis_disconnect(kairos_redis *r) {
    if (r->ctx != NULL) redisFree(r->ctx);
    r->ctx = NULL;
    r->pending = 0;
}

void kairos_redis_destroy(kairos_redis *r) {
    if (r == NULL) return;
    kairos_redis_disconnect(r);
    free(r);
}

bool kairos_redis_is_connected(const kairos_redis *r) { return r->ctx != NULL; }
uint32_t kairos_redis_pending(const kairos_redis *r) { return r->pending; }
const char *kairos_redis_last_error(const kairos_redis *r) { return r->err; }

kairos_redis_status kairos_redis_connect(kairos_redis *r) {
    kairos_redis_disconnect(r);
    redisContext *c = r->connect_timeout_ms > 0
                          ? redisConnectWithTimeout(r->host, r->port, kairos_redis_tv(r->connect_timeout_ms))
                          : redisConnect(r->host, r->port);
    int saved = errno;
    if (c == NULL) {
        kairos_redis_set_err(r, "connect", "out of memory");
        return KAIROS_REDIS_ERR_NOMEM;
    }
    if (c->err != 0) {
        kairos_redis_status st = kairos_redis_classify(c, saved, true);
        kairos_redis_set_err(r, "connect", c->errstr);
        redisFree(c);
        return st;
    }
    if (r->command_timeout_ms > 0 && redisSetTimeout(c, kairos_redis_tv(r->command_timeout_ms)) != REDIS_OK) {
        kairos_redis_set_err(r, "set timeout", c->errstr);
        redisFree(c);
        return KAIROS_REDIS_ERR_IO;
    }
    r->ctx = c;
    r->err[0] = '\0';
    return KAIROS_REDIS_OK;
}

/* A transport failure leaves unread replies in flight: the stream can no longer be matched to
 * commands, so the connection is dropped and the caller reconnects. */
static kairos_redis_status kairos_redis_fail(kairos_redis *r, const char *what, int saved_errno) {
    kairos_redis_status st = kairos_redis_classify(r->ctx, saved_errno, false);
    kairos_redis_set_err(r, what, r->ctx->errstr);
    kairos_redis_disconnect(r);
    return st;
}

kairos_redis_status kairos_redis_append_argv(kairos_redis *r, int argc, const char *const *argv,
                                             const size_t *argvlen) {
    if (r->ctx == NULL) return KAIROS_REDIS_ERR_NOT_CONNECTED;
    if (argc <= 0 || argv == NULL) return KAIROS_REDIS_ERR_ARG;
    /* hiredis only fails here when it cannot grow the output buffer. */
    if (redisAppendCommandArgv(r->ctx, argc, (const char **)argv, argvlen) != REDIS_OK)
        return kairos_redis_fail(r, "append", errno);
    r->pending++;
    return KAIROS_REDIS_OK;
}

/* Formats a double with the fewest of 15, 16 or 17 significant digits that strtod turns back
 * into the same double: exact round trip, and 0.1 reads as "0.1" in redis-cli rather than
 * "0.10000000000000001". NaN and infinities come out as "nan", "inf", "-inf". */
static size_t kairos_redis_fmt_double(char *buf, size_t cap, double v) {
    int n = 0;
    for (int digits = 15; digits <= 17; digits++) {
        n = snprintf(buf, cap, "%.*g", digits, v);
        if (v != v || strtod(buf, NULL) == v) break;
    }
    return n < 0 ? 0 : (size_t)n;
}

kairos_redis_status kairos_redis_append_snapshot(kairos_redis *r, const char *key,
                                                 const char *const *feature_names,
                                                 const kairos_feature_snapshot *s,
                                                 uint32_t ttl_seconds, bool clear_regime,
                                                 uint32_t *appended) {
    if (appended != NULL) *appended = 0;
    if (r->ctx == NULL) return KAIROS_REDIS_ERR_NOT_CONNECTED;
    if (key == NULL || feature_names == NULL || s == NULL || s->regime >= KAIROS_REGIME_COUNT)
        return KAIROS_REDIS_ERR_ARG;
    enum { MAX_ARGS = 2 + 2 * (KAIROS_FEAT_COUNT + 1) + 2 * (2 + KAIROS_REGIME_COUNT), NUM_LEN = 32 };
    const char *argv[MAX_ARGS];
    size_t lens[MAX_ARGS];
    char nums[KAIROS_FEAT_COUNT + 1 + KAIROS_REGIME_COUNT + 1][NUM_LEN];
    int argc = 0, k = 0;
    const size_t keylen = strlen(key);

    argv[argc] = "HSET"; lens[argc++] = 4;
    argv[argc] = key; lens[argc++] = keylen;
    for (int f = 0; f < KAIROS_FEAT_COUNT; f++, k++) {
        argv[argc] = feature_names[f]; lens[argc++] = strlen(feature_names[f]);
        argv[argc] = nums[k]; lens[argc++] = kairos_redis_fmt_double(nums[k], NUM_LEN, s->features.v[f]);
    }
    argv[argc] = "ts"; lens[argc++] = 2;
    {
        int n = snprintf(nums[k], NUM_LEN, "%" PRId64, s->ts_ns);
        argv[argc] = nums[k++]; lens[argc++] = n < 0 ? 0 : (size_t)n;
    }
    if (s->regime >= 0) {
        argv[argc] = "regime"; lens[argc++] = 6;
        argv[argc] = kairos_redis_regime_labels[s->regime];
        lens[argc++] = strlen(kairos_redis_regime_labels[s->regime]);
        for (int q = 0; q < KAIROS_REGIME_COUNT; q++, k++) {
            argv[argc] = kairos_redis_prob_fields[q]; lens[argc++] = strlen(kairos_redis_prob_fields[q]);
            argv[argc] = nums[k]; lens[argc++] = kairos_redis_fmt_double(nums[k], NUM_LEN, s->regime_prob[q]);
        }
        argv[argc] = "confidence"; lens[argc++] = 10;
        argv[argc] = nums[k]; lens[argc++] = kairos_redis_fmt_double(nums[k], NUM_LEN, s->confidence);
        k++;
    }
    kairos_redis_status st = kairos_redis_append_argv(r, argc, argv, lens);
    if (st != KAIROS_REDIS_OK) return st;
    uint32_t count = 1;

    if (s->regime < 0 && clear_regime) {
        /* Without a regime the hash must not keep a stale estimate from an earlier snapshot. */
        const char *del[2 + 2 + KAIROS_REGIME_COUNT];
        int dc = 0;
        del[dc++] = "HDEL";
        del[dc++] = key;
        del[dc++] = "regime";
        for (int q = 0; q < KAIROS_REGIME_COUNT; q++) del[dc++] = kairos_redis_prob_fields[q];
        del[dc++] = "confidence";
        st = kairos_redis_append_argv(r, dc, del, NULL);
        if (st != KAIROS_REDIS_OK) return st;
        count++;
    }
    if (ttl_seconds > 0) {
        char ttl[16];
        snprintf(ttl, sizeof ttl, "%" PRIu32, ttl_seconds);
        const char *ex[3] = {"EXPIRE", key, ttl};
        st = kairos_redis_append_argv(r, 3, ex, NULL);
        if (st != KAIROS_REDIS_OK) return st;
        count++;
    }
    if (appended != NULL) *appended = count;
    return KAIROS_REDIS_OK;
}

kairos_redis_status kairos_redis_read_replies(kairos_redis *r, uint32_t n, uint32_t *error_replies) {
    if (error_replies != NULL) *error_replies = 0;
    if (r->ctx == NULL) return KAIROS_REDIS_ERR_NOT_CONNECTED;
    if (n > r->pending) return KAIROS_REDIS_ERR_ARG;
    kairos_redis_sigpipe_guard guard;
    kairos_redis_sigpipe_enter(&guard);
    kairos_redis_status st = KAIROS_REDIS_OK;
    for (uint32_t i = 0; i < n; i++) {
        void *reply = NULL;
        /* The first call writes the whole output buffer (blocking, bounded by SO_SNDTIMEO), then
         * every call reads one reply (bounded by SO_RCVTIMEO). */
        errno = 0;
        if (redisGetReply(r->ctx, &reply) != REDIS_OK || reply == NULL) {
            st = kairos_redis_fail(r, "read reply", errno);
            break;
        }
        r->pending--;
        if (((redisReply *)reply)->type == REDIS_REPLY_ERROR) {
            if (error_replies != NULL) (*error_replies)++;
            kairos_redis_set_err(r, "server", ((redisReply *)reply)->str);
        }
        freeReplyObject(reply);
    }
    kairos_redis_sigpipe_leave(&guard);
    return st;
}

kairos_redis_status kairos_redis_command_argv(kairos_redis *r, int argc, const char *const *argv,
                                              const size_t *argvlen, kairos_redis_reply **out) {
    *out = NULL;
    if (r->ctx == NULL) return KAIROS_REDIS_ERR_NOT_CONNECTED;
    if (r->pending != 0 || argc <= 0 || argv == NULL) return KAIROS_REDIS_ERR_ARG;
    kairos_redis_sigpipe_guard guard;
    kairos_redis_sigpipe_enter(&guard);
    errno = 0;
    void *reply = redisCommandArgv(r->ctx, argc, (const char **)argv, argvlen);
    int saved = errno;
    kairos_redis_status st = KAIROS_REDIS_OK;
    if (reply == NULL) st = kairos_redis_fail(r, "command", saved);
    kairos_redis_sigpipe_leave(&guard);
    *out = (kairos_redis_reply *)reply;
    return st;
}

/* kairos_redis_reply is hiredis's redisReply under an opaque name. */
static const redisReply *kairos_redis_rr(const kairos_redis_reply *reply) { return (const redisReply *)reply; }

kairos_redis_reply_type kairos_redis_reply_kind(const kairos_redis_reply *reply) {
    switch (kairos_redis_rr(reply)->type) {
    case REDIS_REPLY_STRING: return KAIROS_REDIS_REPLY_STRING;
    case REDIS_REPLY_ARRAY: return KAIROS_REDIS_REPLY_ARRAY;
    case REDIS_REPLY_INTEGER: return KAIROS_REDIS_REPLY_INTEGER;
    case REDIS_REPLY_STATUS: return KAIROS_REDIS_REPLY_STATUS;
    case REDIS_REPLY_ERROR: return KAIROS_REDIS_REPLY_ERROR;
    default: return KAIROS_REDIS_REPLY_NIL;
    }
}

const char *kairos_redis_reply_str(const kairos_redis_reply *reply, size_t *len) {
    const redisReply *rr = kairos_redis_rr(reply);
    bool has = rr->type == REDIS_REPLY_STRING || rr->type == REDIS_REPLY_STATUS || rr->type == REDIS_REPLY_ERROR;
    if (len != NULL) *len = has ? rr->len : 0;
    return has ? rr->str : NULL;
}

int64_t kairos_redis_reply_integer(const kairos_redis_reply *reply) {
    const redisReply *rr = kairos_redis_rr(reply);
    return rr->type == REDIS_REPLY_INTEGER ? (int64_t)rr->integer : 0;
}

size_t kairos_redis_reply_count(const kairos_redis_reply *reply) {
    const redisReply *rr = kairos_redis_rr(reply);
    return rr->type == REDIS_REPLY_ARRAY ? rr->elements : 0;
}

const kairos_redis_reply *kairos_redis_reply_element(const kairos_redis_reply *reply, size_t i) {
    const redisReply *rr = kairos_redis_rr(reply);
    if (rr->type != REDIS_REPLY_ARRAY || i >= rr->elements) return NULL;
    return (const kairos_redis_reply *)rr->element[i];
}

void kairos_redis_reply_free(kairos_redis_reply *reply) {
    if (reply != NULL) freeReplyObject(reply);
}
