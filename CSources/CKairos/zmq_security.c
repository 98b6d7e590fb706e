/* Process-wide ZeroMQ context, CURVE helpers and the ZAP allowlist handler. */
#include "kairos_zmq_security.h"
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

static void *g_context;
static pthread_once_t g_context_once = PTHREAD_ONCE_INIT;
/* I/O threads of the shared context: KAIROS_ZMQ_IO_THREADS (1-16), default 1. Every Kairos socket
 * of the process shares them, so a process running several parts (kairos demo --wire, kairos bench)
 * may want more; one process per part (feed, run, gateway) has one each. */
static void make_context(void) {
    g_context = zmq_ctx_new();
    const char *env = getenv("KAIROS_ZMQ_IO_THREADS");
    int n = env ? atoi(env) : 1;
    if (g_context && n >= 1 && n <= 16) zmq_ctx_set(g_context, ZMQ_IO_THREADS, n);
}

void *kairos_zmq_context(void) {
    pthread_once(&g_context_once, make_context);
    return g_context;
}

int kairos_zsec_has_curve(void) { return zmq_has("curve") ? 1 : 0; }

int kairos_zsec_keypair(char public_z85[41], char secret_z85[41]) {
    return zmq_curve_keypair(public_z85, secret_z85) == 0 ? 0 : -1;
}

int kairos_zsec_public_from_secret(const char secret_z85[41], char public_z85[41]) {
    if (secret_z85 == NULL || strlen(secret_z85) != 40) return -1;
    return zmq_curve_public(public_z85, secret_z85) == 0 ? 0 : -1;
}

static _Atomic int g_zap_running; /* a handler is being started or runs (one per process) */
static _Atomic int g_zap_ready;   /* its REP socket is bound and its thread runs */

int kairos_zsec_server(void *socket, const char *secret_z85) {
    /* Acquire pairs with the release in kairos_zap_start after its REP socket is bound, so a server
     * made after this check finds the handler listening (requests of connections made before
     * kairos_zap_stop are answered; after it the server is closed by its owner). */
    if (atomic_load_explicit(&g_zap_ready, memory_order_acquire) == 0) {
        errno = EACCES;
        return -1;
    }
    int one = 1;
    if (zmq_setsockopt(socket, ZMQ_CURVE_SERVER, &one, sizeof one) != 0) return -1;
    if (zmq_setsockopt(socket, ZMQ_CURVE_SECRETKEY, secret_z85, 40) != 0) return -1;
    /* A non-empty domain makes libzmq consult the ZAP handler for every connection. */
    if (zmq_setsockopt(socket, ZMQ_ZAP_DOMAIN, "kairos", 6) != 0) return -1;
    return 0;
}

int kairos_zsec_client(void *socket, const char *server_public, const char *client_public,
                       const char *client_secret) {
    if (zmq_setsockopt(socket, ZMQ_CURVE_SERVERKEY, server_public, 40) != 0) return -1;
    if (zmq_setsockopt(socket, ZMQ_CURVE_PUBLICKEY, client_public, 40) != 0) return -1;
    if (zmq_setsockopt(socket, ZMQ_CURVE_SECRETKEY, client_secret, 40) != 0) return -1;
    return 0;
}

/* ---- ZAP ---- */

struct kairos_zap {
    pthread_t thread;
    void *socket;              /* REP on inproc://zeromq.zap.01; used only by the thread after start */
    int count;
    uint8_t (*keys)[32];       /* allowed client keys, binary */
    _Atomic int stop;          /* relaxed: a flag polled every 100 ms, guards no data */
    _Atomic uint64_t accepted; /* relaxed: statistics only */
    _Atomic uint64_t denied;
};

/* Receives one frame of a ZAP request into buf; returns its size or -1. */
static int recv_frame(void *s, void *buf, size_t cap, int *more) {
    zmq_msg_t m;
    zmq_msg_init(&m);
    int n = zmq_msg_recv(&m, s, 0);
    if (n < 0) { zmq_msg_close(&m); return -1; }
    size_t len = zmq_msg_size(&m);
    if (buf && cap) memcpy(buf, zmq_msg_data(&m), len < cap ? len : cap);
    *more = zmq_msg_more(&m);
    zmq_msg_close(&m);
    return (int)len;
}

static void *zap_main(void *arg) {
    kairos_zap *z = arg;
    zmq_pollitem_t item = {z->socket, 0, ZMQ_POLLIN, 0};
    while (!atomic_load_explicit(&z->stop, memory_order_relaxed)) {
        if (zmq_poll(&item, 1, 100) <= 0) continue;
        /* Request frames: version, request id, domain, address, identity, mechanism, credentials... */
        char version[8] = {0}, request_id[256] = {0}, mechanism[32] = {0};
        uint8_t key[32] = {0};
        int more = 0, idlen = 0, keylen = -1, frame = 0;
        for (;;) {
            char scratch[256];
            int n;
            if (frame == 0) n = recv_frame(z->socket, version, sizeof version - 1, &more);
            else if (frame == 1) n = idlen = recv_frame(z->socket, request_id, sizeof request_id, &more);
            else if (frame == 5) n = recv_frame(z->socket, mechanism, sizeof mechanism - 1, &more);
            else if (frame == 6) n = keylen = recv_frame(z->socket, key, sizeof key, &more);
            else n = recv_frame(z->socket, scratch, sizeof scratch, &more);
            if (n < 0) break;
            frame++;
            if (!more) break;
        }
        int ok = strcmp(version, "1.0") == 0 && strcmp(mechanism, "CURVE") == 0 && keylen == 32;
        int allowed = 0;
        for (int k = 0; ok && k < z->count && !allowed; k++) allowed = memcmp(z->keys[k], key, 32) == 0;
        if (idlen < 0) idlen = 0;
        if (idlen > (int)sizeof request_id) idlen = sizeof request_id;
        const char *code = allowed ? "200" : "400";
        const char *text = allowed ? "OK" : "client key not allowed";
        zmq_send(z->socket, "1.0", 3, ZMQ_SNDMORE);
        zmq_send(z->socket, request_id, (size_t)idlen, ZMQ_SNDMORE);
        zmq_send(z->socket, code, 3, ZMQ_SNDMORE);
        zmq_send(z->socket, text, strlen(text), ZMQ_SNDMORE);
        zmq_send(z->socket, "", 0, ZMQ_SNDMORE); /* user id */
        zmq_send(z->socket, "", 0, 0);           /* metadata */
        atomic_fetch_add_explicit(allowed ? &z->accepted : &z->denied, 1, memory_order_relaxed);
    }
    return NULL;
}

kairos_zap *kairos_zap_start(const char *const *allowed_public_z85, int count) {
    int expected = 0;
    /* acq_rel: one ZAP handler per process; the exchange orders nothing else. */
    if (!atomic_compare_exchange_strong_explicit(&g_zap_running, &expected, 1, memory_order_acq_rel,
                                                 memory_order_relaxed))
        return NULL;
    kairos_zap *z = calloc(1, sizeof *z);
    if (!z) goto fail;
    z->count = count;
    z->keys = calloc((size_t)(count > 0 ? count : 1), 32);
    if (!z->keys) goto fail;
    for (int k = 0; k < count; k++)
        if (allowed_public_z85[k] == NULL || strlen(allowed_public_z85[k]) != 40 ||
            zmq_z85_decode(z->keys[k], allowed_public_z85[k]) == NULL)
            goto fail;
    z->socket = zmq_socket(kairos_zmq_context(), ZMQ_REP);
    if (!z->socket) goto fail;
    int linger = 0;
    zmq_setsockopt(z->socket, ZMQ_LINGER, &linger, sizeof linger);
    /* A handler stopped just before may still hold the endpoint: zmq_close is asynchronous (the
     * context's reaper thread releases inproc names), so retry EADDRINUSE for up to 2 s. */
    int bound = -1;
    for (int attempt = 0; attempt < 400; attempt++) {
        bound = zmq_bind(z->socket, "inproc://zeromq.zap.01");
        if (bound == 0 || errno != EADDRINUSE) break;
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (bound != 0) goto fail;
    if (pthread_create(&z->thread, NULL, zap_main, z) != 0) goto fail;
    /* Release: publishes "bound and serving" to kairos_zsec_server's acquire load. */
    atomic_store_explicit(&g_zap_ready, 1, memory_order_release);
    return z;
fail:
    if (z) {
        if (z->socket) zmq_close(z->socket);
        free(z->keys);
        free(z);
    }
    atomic_store_explicit(&g_zap_running, 0, memory_order_release);
    return NULL;
}

void kairos_zap_stop(kairos_zap *z) {
    if (!z) return;
    /* Relaxed: only a flag for kairos_zsec_server; nothing is published through it being 0. */
    atomic_store_explicit(&g_zap_ready, 0, memory_order_relaxed);
    atomic_store_explicit(&z->stop, 1, memory_order_relaxed);
    pthread_join(z->thread, NULL); /* the join orders the thread's last socket use before close */
    /* Unbind first: releases the inproc name now rather than when the reaper gets to the close. */
    zmq_unbind(z->socket, "inproc://zeromq.zap.01");
    zmq_close(z->socket);
    free(z->keys);
    free(z);
    atomic_store_explicit(&g_zap_running, 0, memory_order_release);
}

uint64_t kairos_zap_accepted(const kairos_zap *z) { return atomic_load_explicit(&z->accepted, memory_order_relaxed); }
uint64_t kairos_zap_denied(const kairos_zap *z) { return atomic_load_explicit(&z->denied, memory_order_relaxed); }
