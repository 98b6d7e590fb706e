#!/usr/bin/env python3
"""Publish Kairos wire v1 ticks over ZeroMQ (see docs/wire-format.md); copy into your feed handler.

usage: publisher.py [ENDPOINT] [COUNT] [SYMBOL ...]
       publisher.py tcp://127.0.0.1:5556 1000 AAPL MSFT    # then: kairos run / a ZMQTickIngest
"""
import random, struct, sys, time
import zmq

# version, type, publisher, instrument, reserved, seq, ts_exchange_ns, ts_send_ns,
# bid, ask, last, bid_size, ask_size, last_size, reserved: 72 bytes, little-endian.
TICK = struct.Struct("<BBHHHQqqdddfffI")
assert TICK.size == 72

endpoint = sys.argv[1] if len(sys.argv) > 1 else "tcp://127.0.0.1:5556"
count = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
symbols = sys.argv[3:] or ["SYN0"]
publisher_id, price = 7, 100.0

sock = zmq.Context().socket(zmq.XPUB)  # XPUB: sees subscriptions arrive
sock.setsockopt(zmq.XPUB_NODROP, 1)    # wait at the high-water mark instead of dropping
sock.bind(endpoint)
sock.recv()                            # first subscription: nothing is lost to a slow joiner
for seq in range(1, count + 1):        # one sequence per publisher, from 1
    i = (seq - 1) % len(symbols)       # instrument index; the engine maps the topic's symbol
    price *= 1 + random.gauss(0, 1e-4)
    now = time.time_ns()
    payload = TICK.pack(1, 1, publisher_id, i, 0, seq, now, now,
                        price - 0.01, price + 0.01, price, 100.0, 100.0, 10.0, 0)
    sock.send_multipart([b"tick." + symbols[i].encode(), payload])
sock.close(linger=2000)                # let queued ticks leave before exiting
