/* ZeroMQ plumbing shared by every Kairos socket: one process-wide context, CURVE keys and a ZAP
 * handler that admits only listed client public keys. Keys are Z85 strings (40 chars + NUL).
 * Swift never includes <zmq.h>: sockets cross the boundary as opaque pointers (the tests' plain
 * sockets, kairos_zsock_*, live in CKairosTesting). */
#ifndef KAIROS_ZMQ_SECURITY_H
#define KAIROS_ZMQ_SECURITY_H
#include <stddef.h>
#include <stdint.h>

/* The process-wide ZeroMQ context (created on first use, thread-safe; never destroyed). The ZAP
 * handler only sees sockets of its own context, so every Kairos socket uses this one. */
void *kairos_zmq_context(void);

/* 1 when libzmq was built with CURVE support. */
int kairos_zsec_has_curve(void);
/* New CURVE key pair; 0 ok, -1 error (errno from zmq). */
int kairos_zsec_keypair(char public_z85[41], char secret_z85[41]);
/* Derives the public key of a secret key; 0 ok, -1 bad key. */
int kairos_zsec_public_from_secret(const char secret_z85[41], char public_z85[41]);

/* Makes `socket` a CURVE server with the given secret key, in ZAP domain "kairos" (so the ZAP
 * handler is consulted). Call before bind. 0 ok, -1 error. Refuses (-1, errno EACCES) while no
 * ZAP handler runs in this process: libzmq (without the draft ZMQ_ZAP_ENFORCE_DOMAIN) admits every
 * CURVE client when no handler answers, which would make the allowlist silently void. */
int kairos_zsec_server(void *socket, const char *secret_z85);
/* Makes `socket` a CURVE client of the server with `server_public`. Call before connect. */
int kairos_zsec_client(void *socket, const char *server_public, const char *client_public,
                       const char *client_secret);

/* ZAP handler (RFC 27) on inproc://zeromq.zap.01 in kairos_zmq_context(), on its own thread:
 * admits CURVE clients whose public key is in the list, refuses every other request (other
 * mechanisms included). At most one per process. NULL on error (e.g. one is already running). */
typedef struct kairos_zap kairos_zap;
kairos_zap *kairos_zap_start(const char *const *allowed_public_z85, int count);
void kairos_zap_stop(kairos_zap *zap);
uint64_t kairos_zap_accepted(const kairos_zap *zap);
uint64_t kairos_zap_denied(const kairos_zap *zap);
#endif
