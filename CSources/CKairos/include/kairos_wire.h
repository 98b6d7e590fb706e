/* Kairos wire format, version 1: fixed-size little-endian records, one per ZeroMQ payload frame
 * (after a topic frame such as "tick.<SYMBOL>") or one per UDP datagram / file record.
 * docs/wire-format.md is the user-facing description; this header is the definition.
 *
 * Every record starts with the same 8-byte header:
 *   off size field
 *   0   1    version        = KAIROS_WIRE_VERSION (1)
 *   1   1    type           kairos_wire_type
 *   2   2    publisher      publisher id (ticks) / engine id (orders) / gateway id (reports)
 *   4   2    instrument     dense instrument id agreed by configuration (symbol in the topic)
 *   6   2    reserved       0
 * Tick (KAIROS_WIRE_TICK_SIZE = 72 bytes):
 *   8   8    seq            per-publisher sequence number, starting at 1
 *   16  8    ts_exchange_ns i64, exchange/source time
 *   24  8    ts_send_ns     i64, publisher send time (CLOCK_REALTIME ns) for wire-to-wire latency
 *   32  8    bid            f64
 *   40  8    ask            f64
 *   48  8    last           f64 (0 = none)
 *   56  4    bid_size       f32
 *   60  4    ask_size       f32
 *   64  4    last_size      f32
 *   68  4    reserved       0
 * Order (KAIROS_WIRE_ORDER_SIZE = 64 bytes):
 *   8   8    client_order_id
 *   16  8    ts_send_ns     i64, engine send time
 *   24  8    ts_tick_ns     i64, engine receive time (ts_recv_ns) of the triggering tick
 *   32  8    quantity       f64 > 0
 *   40  8    limit_price    f64 (reference price for market orders)
 *   48  1    side           kairos_side
 *   49  1    order_type     kairos_order_type
 *   50  1    action         kairos_order_action
 *   51  1    policy
 *   52  4    reserved       0
 *   56  8    tick_seq
 * Execution report (KAIROS_WIRE_EXEC_SIZE = 64 bytes):
 *   8   8    client_order_id
 *   16  8    ts_ns          i64, gateway time
 *   24  8    fill_price     f64
 *   32  8    fill_qty       f64
 *   40  8    fee            f64
 *   48  8    leaves_qty     f64
 *   56  1    kind           kairos_exec_kind
 *   57  1    side           kairos_side
 *   58  2    reserved       0
 *   60  4    reason         reject reason code
 */
#ifndef KAIROS_WIRE_H
#define KAIROS_WIRE_H
#include <stddef.h>
#include <stdint.h>
#include "kairos_records.h"

enum {
    KAIROS_WIRE_VERSION = 1,
    KAIROS_WIRE_TICK_SIZE = 72,
    KAIROS_WIRE_ORDER_SIZE = 64,
    KAIROS_WIRE_EXEC_SIZE = 64,
    /* Frames larger than this are refused before anything is copied or allocated. */
    KAIROS_WIRE_MAX_FRAME = 256,
};

typedef enum kairos_wire_type {
    KAIROS_WIRE_TYPE_TICK = 1,
    KAIROS_WIRE_TYPE_ORDER = 2,
    KAIROS_WIRE_TYPE_EXEC = 3,
} kairos_wire_type;

/* Why a frame was refused. 0 = ok; the others are negative so decoders can return them. */
typedef enum kairos_wire_error {
    KAIROS_WIRE_OK = 0,
    KAIROS_WIRE_E_SHORT = -1,      /* fewer bytes than the header or the record */
    KAIROS_WIRE_E_LONG = -2,       /* more bytes than the record (or > KAIROS_WIRE_MAX_FRAME) */
    KAIROS_WIRE_E_VERSION = -3,    /* unknown version */
    KAIROS_WIRE_E_TYPE = -4,       /* unknown or unexpected record type */
    KAIROS_WIRE_E_FIELD = -5,      /* a field out of its domain (side, kind, action, ...) */
} kairos_wire_error;
enum { KAIROS_WIRE_ERROR_COUNT = 6 }; /* number of kairos_wire_error values incl. OK */

/* Encoders write exactly the record size into buf (buf_len must be >= it); return bytes written
 * or KAIROS_WIRE_E_SHORT when buf_len is too small. ts_send_ns is the send time to stamp. */
int kairos_wire_encode_tick(const kairos_tick *t, int64_t ts_send_ns, void *buf, size_t buf_len);
int kairos_wire_encode_order(const kairos_order *o, int64_t ts_send_ns, void *buf, size_t buf_len);
int kairos_wire_encode_exec(const kairos_exec_report *r, uint16_t gateway_id, void *buf, size_t buf_len);

/* Decoders check size, version and type, and the enumerated fields; they do not judge prices
 * (the engine's validator does). On success they fill *out and return KAIROS_WIRE_OK.
 * decode_tick sets out->ts_recv_ns = recv_ns and stores the sender's ts_send_ns in *ts_send_ns
 * (may be NULL). */
int kairos_wire_decode_tick(const void *buf, size_t len, int64_t recv_ns, kairos_tick *out, int64_t *ts_send_ns);
int kairos_wire_decode_order(const void *buf, size_t len, kairos_order *out);
int kairos_wire_decode_exec(const void *buf, size_t len, kairos_exec_report *out);
/* The type byte of a frame, or a negative kairos_wire_error when the header is not valid. */
int kairos_wire_peek_type(const void *buf, size_t len);
#endif
