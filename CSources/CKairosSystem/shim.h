#ifndef CKAIROS_SYSTEM_SHIM_H
#define CKAIROS_SYSTEM_SHIM_H
#include <zmq.h>
#include <hiredis/hiredis.h>
#include <liburing.h>
#endif
