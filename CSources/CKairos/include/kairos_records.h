/* Fixed-size records that travel through the rings (and, little-endian, over the wire).
 * Each is exactly 64 bytes, one cache line, so a ring slot never straddles two lines. */
#ifndef KAIROS_RECORDS_H
#define KAIROS_RECORDS_H
#include <stdint.h>

/* One market data update for one instrument. */
typedef struct kairos_tick {
    uint64_t seq;            /* per-publisher sequence number */
    int64_t  ts_exchange_ns; /* exchange / source timestamp, ns since the Unix epoch */
    int64_t  ts_recv_ns;     /* when Kairos received it (engine clock), ns */
    double   bid;
    double   ask;
    double   last;           /* last trade price (or close for bars); 0 when unknown */
    float    bid_size;
    float    ask_size;
    float    last_size;      /* size of the last trade / bar volume */
    uint16_t instrument;     /* dense instrument id, 0..KAIROS_MAX_INSTRUMENTS-1 */
    uint16_t publisher;      /* publisher id, for sequence tracking */
} kairos_tick;

enum { KAIROS_MAX_INSTRUMENTS = 4096 };

typedef enum kairos_side { KAIROS_SIDE_BUY = 1, KAIROS_SIDE_SELL = 2 } kairos_side;
typedef enum kairos_order_type { KAIROS_ORDER_MARKET = 0, KAIROS_ORDER_LIMIT = 1 } kairos_order_type;
typedef enum kairos_order_action { KAIROS_ORDER_NEW = 0, KAIROS_ORDER_CANCEL = 1 } kairos_order_action;

/* An order the engine sends towards a gateway (after the risk manager approved it). */
typedef struct kairos_order {
    uint64_t client_order_id;
    int64_t  ts_decision_ns;  /* engine clock when the order was pushed */
    int64_t  ts_tick_recv_ns; /* ts_recv_ns of the tick that triggered it (wire-to-wire latency) */
    double   quantity;        /* > 0; direction is in side */
    double   limit_price;     /* limit price; for market orders the reference price (risk band) */
    uint64_t tick_seq;        /* seq of the triggering tick */
    uint16_t instrument;
    uint8_t  side;            /* kairos_side */
    uint8_t  type;            /* kairos_order_type */
    uint8_t  action;          /* kairos_order_action */
    uint8_t  policy;          /* which policy / agent decided (engine-defined id) */
    uint16_t reserved0;
    uint64_t reserved1;
} kairos_order;

typedef enum kairos_exec_kind {
    KAIROS_EXEC_ACK = 1,
    KAIROS_EXEC_FILL = 2,      /* a (possibly partial) fill; leaves_qty says what remains */
    KAIROS_EXEC_REJECT = 3,
    KAIROS_EXEC_CANCELLED = 4,
} kairos_exec_kind;

/* What comes back from a gateway: ack, fill, reject or cancel for one client order id. */
typedef struct kairos_exec_report {
    uint64_t client_order_id;
    int64_t  ts_ns;            /* gateway clock */
    double   fill_price;
    double   fill_qty;         /* > 0 for fills */
    double   fee;              /* currency units, >= 0 */
    double   leaves_qty;
    uint16_t instrument;
    uint8_t  kind;             /* kairos_exec_kind */
    uint8_t  side;             /* kairos_side */
    uint32_t reason;           /* reject reason code, 0 otherwise */
    uint64_t reserved;
} kairos_exec_report;

_Static_assert(sizeof(kairos_tick) == 64, "kairos_tick must be one cache line");
_Static_assert(sizeof(kairos_order) == 64, "kairos_order must be one cache line");
_Static_assert(sizeof(kairos_exec_report) == 64, "kairos_exec_report must be one cache line");
#endif
