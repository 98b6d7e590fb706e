/* Facts about the system libraries Kairos is linked against, read through the C core so Swift
 * never includes their headers. */
#ifndef KAIROS_SYS_H
#define KAIROS_SYS_H
#include <stddef.h>

/* Writes e.g. "zmq 4.3.4, hiredis 0.14.1, io_uring available (0)" into buf (NUL-terminated, truncated). */
void kairos_sys_library_versions(char *buf, size_t len);
/* 1 when an io_uring instance can be created here (kernel support and not forbidden by seccomp),
 * 0 otherwise; *err_out (may be NULL) receives the negative errno of the failure. */
int kairos_sys_io_uring_available(int *err_out);
/* Sets the calling thread's timer slack (prctl PR_SET_TIMERSLACK): how late the kernel may wake a
 * sleeping thread to batch wake-ups. The default is 50 us, which turns every 20 us idle sleep of a
 * polling thread (engine, router, ingest) into ~70 us of added latency. 0 ok, -1 error (errno). */
int kairos_sys_set_timer_slack_ns(unsigned long ns);
/* The message for a positive errno value: strerror's, and libzmq's for its own codes (ETERM, EFSM,
 * EMTHREAD, ...), which strerror does not know. Static storage; never NULL. */
const char *kairos_sys_strerror(int err);
#endif
