#ifndef CKAIROS_SYSTEM_SHIM_H
#define CKAIROS_SYSTEM_SHIM_H
/* liburing.h uses AT_FDCWD, hidden under strict C11 without _GNU_SOURCE. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <zmq.h>
#include <hiredis/hiredis.h>
#include <liburing.h>
#endif
