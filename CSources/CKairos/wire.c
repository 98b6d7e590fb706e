/* Kairos wire format v1: explicit little-endian encoding (no struct casts), so the layout is the
 * same on every host and a record never depends on the compiler's padding. */
#include "kairos_wire.h"
#include <string.h>

static inline void put_u16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void put_u32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static inline void put_u64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static inline void put_f64(uint8_t *p, double d) { uint64_t v; memcpy(&v, &d, 8); put_u64(p, v); }
static inline void put_f32(uint8_t *p, float f) { uint32_t v; memcpy(&v, &f, 4); put_u32(p, v); }
static inline uint16_t get_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t get_u32(const uint8_t *p) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}
static inline uint64_t get_u64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}
static inline double get_f64(const uint8_t *p) { uint64_t v = get_u64(p); double d; memcpy(&d, &v, 8); return d; }
static inline float get_f32(const uint8_t *p) { uint32_t v = get_u32(p); float f; memcpy(&f, &v, 4); return f; }

static void put_header(uint8_t *p, uint8_t type, uint16_t publisher, uint16_t instrument) {
    p[0] = KAIROS_WIRE_VERSION;
    p[1] = type;
    put_u16(p + 2, publisher);
    put_u16(p + 4, instrument);
    put_u16(p + 6, 0);
}

/* Size and header checks shared by the decoders: exact size, known version, expected type. */
static int check(const void *buf, size_t len, uint8_t type, size_t size) {
    if (buf == NULL || len < 8) return KAIROS_WIRE_E_SHORT;
    if (len > KAIROS_WIRE_MAX_FRAME) return KAIROS_WIRE_E_LONG;
    const uint8_t *p = buf;
    if (p[0] != KAIROS_WIRE_VERSION) return KAIROS_WIRE_E_VERSION;
    if (p[1] != type) return KAIROS_WIRE_E_TYPE;
    if (len < size) return KAIROS_WIRE_E_SHORT;
    if (len > size) return KAIROS_WIRE_E_LONG;
    return KAIROS_WIRE_OK;
}

int kairos_wire_peek_type(const void *buf, size_t len) {
    if (buf == NULL || len < 8) return KAIROS_WIRE_E_SHORT;
    if (len > KAIROS_WIRE_MAX_FRAME) return KAIROS_WIRE_E_LONG;
    const uint8_t *p = buf;
    if (p[0] != KAIROS_WIRE_VERSION) return KAIROS_WIRE_E_VERSION;
    if (p[1] < KAIROS_WIRE_TYPE_TICK || p[1] > KAIROS_WIRE_TYPE_EXEC) return KAIROS_WIRE_E_TYPE;
    return p[1];
}

int kairos_wire_encode_tick(const kairos_tick *t, int64_t ts_send_ns, void *buf, size_t buf_len) {
    if (buf_len < KAIROS_WIRE_TICK_SIZE) return KAIROS_WIRE_E_SHORT;
    uint8_t *p = buf;
    put_header(p, KAIROS_WIRE_TYPE_TICK, t->publisher, t->instrument);
    put_u64(p + 8, t->seq);
    put_u64(p + 16, (uint64_t)t->ts_exchange_ns);
    put_u64(p + 24, (uint64_t)ts_send_ns);
    put_f64(p + 32, t->bid);
    put_f64(p + 40, t->ask);
    put_f64(p + 48, t->last);
    put_f32(p + 56, t->bid_size);
    put_f32(p + 60, t->ask_size);
    put_f32(p + 64, t->last_size);
    put_u32(p + 68, 0);
    return KAIROS_WIRE_TICK_SIZE;
}

int kairos_wire_decode_tick(const void *buf, size_t len, int64_t recv_ns, kairos_tick *out, int64_t *ts_send_ns) {
    int rc = check(buf, len, KAIROS_WIRE_TYPE_TICK, KAIROS_WIRE_TICK_SIZE);
    if (rc != KAIROS_WIRE_OK) return rc;
    const uint8_t *p = buf;
    out->publisher = get_u16(p + 2);
    out->instrument = get_u16(p + 4);
    out->seq = get_u64(p + 8);
    out->ts_exchange_ns = (int64_t)get_u64(p + 16);
    if (ts_send_ns) *ts_send_ns = (int64_t)get_u64(p + 24);
    out->ts_recv_ns = recv_ns;
    out->bid = get_f64(p + 32);
    out->ask = get_f64(p + 40);
    out->last = get_f64(p + 48);
    out->bid_size = get_f32(p + 56);
    out->ask_size = get_f32(p + 60);
    out->last_size = get_f32(p + 64);
    return KAIROS_WIRE_OK;
}

int kairos_wire_encode_order(const kairos_order *o, int64_t ts_send_ns, void *buf, size_t buf_len) {
    if (buf_len < KAIROS_WIRE_ORDER_SIZE) return KAIROS_WIRE_E_SHORT;
    uint8_t *p = buf;
    put_header(p, KAIROS_WIRE_TYPE_ORDER, 0, o->instrument);
    put_u64(p + 8, o->client_order_id);
    put_u64(p + 16, (uint64_t)ts_send_ns);
    put_u64(p + 24, (uint64_t)o->ts_tick_recv_ns);
    put_f64(p + 32, o->quantity);
    put_f64(p + 40, o->limit_price);
    p[48] = o->side;
    p[49] = o->type;
    p[50] = o->action;
    p[51] = o->policy;
    put_u32(p + 52, 0);
    put_u64(p + 56, o->tick_seq);
    return KAIROS_WIRE_ORDER_SIZE;
}

int kairos_wire_decode_order(const void *buf, size_t len, kairos_order *out) {
    int rc = check(buf, len, KAIROS_WIRE_TYPE_ORDER, KAIROS_WIRE_ORDER_SIZE);
    if (rc != KAIROS_WIRE_OK) return rc;
    const uint8_t *p = buf;
    if ((p[48] != KAIROS_SIDE_BUY && p[48] != KAIROS_SIDE_SELL) || p[49] > KAIROS_ORDER_LIMIT ||
        p[50] > KAIROS_ORDER_CANCEL)
        return KAIROS_WIRE_E_FIELD;
    memset(out, 0, sizeof *out);
    out->instrument = get_u16(p + 4);
    out->client_order_id = get_u64(p + 8);
    out->ts_decision_ns = (int64_t)get_u64(p + 16);
    out->ts_tick_recv_ns = (int64_t)get_u64(p + 24);
    out->quantity = get_f64(p + 32);
    out->limit_price = get_f64(p + 40);
    out->side = p[48];
    out->type = p[49];
    out->action = p[50];
    out->policy = p[51];
    out->tick_seq = get_u64(p + 56);
    return KAIROS_WIRE_OK;
}

int kairos_wire_encode_exec(const kairos_exec_report *r, uint16_t gateway_id, void *buf, size_t buf_len) {
    if (buf_len < KAIROS_WIRE_EXEC_SIZE) return KAIROS_WIRE_E_SHORT;
    uint8_t *p = buf;
    put_header(p, KAIROS_WIRE_TYPE_EXEC, gateway_id, r->instrument);
    put_u64(p + 8, r->client_order_id);
    put_u64(p + 16, (uint64_t)r->ts_ns);
    put_f64(p + 24, r->fill_price);
    put_f64(p + 32, r->fill_qty);
    put_f64(p + 40, r->fee);
    put_f64(p + 48, r->leaves_qty);
    p[56] = r->kind;
    p[57] = r->side;
    put_u16(p + 58, 0);
    put_u32(p + 60, r->reason);
    return KAIROS_WIRE_EXEC_SIZE;
}

int kairos_wire_decode_exec(const void *buf, size_t len, kairos_exec_report *out) {
    int rc = check(buf, len, KAIROS_WIRE_TYPE_EXEC, KAIROS_WIRE_EXEC_SIZE);
    if (rc != KAIROS_WIRE_OK) return rc;
    const uint8_t *p = buf;
    if (p[56] < KAIROS_EXEC_ACK || p[56] > KAIROS_EXEC_CANCELLED || (p[57] != KAIROS_SIDE_BUY && p[57] != KAIROS_SIDE_SELL))
        return KAIROS_WIRE_E_FIELD;
    memset(out, 0, sizeof *out);
    out->instrument = get_u16(p + 4);
    out->client_order_id = get_u64(p + 8);
    out->ts_ns = (int64_t)get_u64(p + 16);
    out->fill_price = get_f64(p + 24);
    out->fill_qty = get_f64(p + 32);
    out->fee = get_f64(p + 40);
    out->leaves_qty = get_f64(p + 48);
    out->kind = p[56];
    out->side = p[57];
    out->reason = get_u32(p + 60);
    return KAIROS_WIRE_OK;
}
