/* System library facts (versions, io_uring availability, timer slack, error messages), read through
 * the C core so Swift never includes the system libraries' headers (kairos_sys.h). */
#include <sys/prctl.h>
#include "kairos_sys.h"
#include <stdio.h>
#include <zmq.h>
#include <hiredis/hiredis.h>
#include <liburing.h>
#include "uring_tsan.h"

void kairos_sys_library_versions(char *buf, size_t len) {
    int major = 0, minor = 0, patch = 0;
    zmq_version(&major, &minor, &patch);
    /* liburing 2.3 (Debian 12) has no version macros; report whether io_uring works instead. */
    int err = 0;
    int uring = kairos_sys_io_uring_available(&err);
    snprintf(buf, len, "zmq %d.%d.%d, hiredis %d.%d.%d, io_uring %s (%d)", major, minor, patch,
             HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH, uring ? "available" : "unavailable", err);
}

#ifdef KAIROS_TSAN
char kairos_uring_mappings;
#endif

int kairos_sys_io_uring_available(int *err_out) {
    struct io_uring ring;
    int rc = io_uring_queue_init(4, &ring, 0);
    if (err_out) *err_out = rc < 0 ? rc : 0;
    if (rc < 0) return 0;
    kairos_uring_mapped();
    kairos_uring_unmapping();
    io_uring_queue_exit(&ring);
    return 1;
}

int kairos_sys_set_timer_slack_ns(unsigned long ns) { return prctl(PR_SET_TIMERSLACK, ns, 0, 0, 0) == 0 ? 0 : -1; }

/* zmq_strerror falls back to strerror for every code that is not libzmq's own. */
const char *kairos_sys_strerror(int err) { return zmq_strerror(err); }
