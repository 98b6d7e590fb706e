/* Kairos C core: the umbrella header Swift imports as module CKairos.
 * Every public symbol is prefixed kairos_ / KAIROS_. Nothing here includes zmq, hiredis or
 * liburing headers: those stay inside the .c files (see CKairosSystem). */
#ifndef KAIROS_H
#define KAIROS_H
#include "kairos_records.h"
#include "kairos_ring.h"
#include "kairos_features.h"
#include "kairos_mlp.h"
#include "kairos_sys.h"
#include "kairos_wire.h"
#include "kairos_zmq_security.h"
#include "kairos_zmq_feed.h"
#include "kairos_ingest.h"
#include "kairos_redis.h"
#include "kairos_zmq_orders.h"
#include "kairos_train.h"
#endif
