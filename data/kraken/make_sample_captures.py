#!/usr/bin/env python3
"""Writes the Kraken sample captures in this folder (cryptofeed raw capture format) and prints the CRC32 of
every book state, computed from the decimal strings exactly as Kraken documents it
(https://docs.kraken.com/exchange/guides/websockets/book-checksum-v2): for the best 10 asks (low to high)
then the best 10 bids (high to low), price + qty with '.' removed and leading zeros stripped, CRC32 of
the concatenation. It works on the strings, independently of the engine's fixed-point code.

The first book message is Kraken's documented example snapshot (BTC/USD, checksum 3310070434 given by
Kraken); the script asserts that it reproduces it, then builds hand-made updates on top of it."""
import json, zlib

def fmt(s):
    return s.replace('.', '').lstrip('0')

def crc(asks, bids):
    a = sorted(asks.items(), key=lambda kv: float(kv[0]))[:10]
    b = sorted(bids.items(), key=lambda kv: -float(kv[0]))[:10]
    text = ''.join(fmt(p) + fmt(q) for p, q in a) + ''.join(fmt(p) + fmt(q) for p, q in b)
    return zlib.crc32(text.encode()), text

DOC_BIDS = [("45283.5", "0.10000000"), ("45283.4", "1.54582015"), ("45282.1", "0.10000000"), ("45281.0", "0.10000000"),
            ("45280.3", "1.54592586"), ("45279.0", "0.07990000"), ("45277.6", "0.03310103"), ("45277.5", "0.30000000"),
            ("45277.3", "1.54602737"), ("45276.6", "0.15445238")]
DOC_ASKS = [("45285.2", "0.00100000"), ("45286.4", "1.54571953"), ("45286.6", "1.54571109"), ("45289.6", "1.54560911"),
            ("45290.2", "0.15890660"), ("45291.8", "1.54553491"), ("45294.7", "0.04454749"), ("45296.1", "0.35380000"),
            ("45297.5", "0.09945542"), ("45299.5", "0.18772827")]

def levels(pairs):
    # Kraken prints numbers with the pair's full precision: keep the text as JSON number tokens.
    return '[' + ','.join('{"price":%s,"qty":%s}' % (p, q) for p, q in pairs) + ']'

bids, asks = dict(DOC_BIDS), dict(DOC_ASKS)
c, _ = crc(asks, bids)
assert c == 3310070434, c  # Kraken's documented value
URL = 'wss://ws.kraken.com/v2'
t = 1696613755.0
lines = []
def recv(msg):
    global t
    t += 0.05
    lines.append('%.6f: %s' % (t, msg))

lines.append('%s <-> %.6f' % (URL, t))
lines.append('%s <- %.6f: %s' % (URL, t + 0.01, '{"method":"subscribe","params":{"channel":"book","symbol":["BTC/USD"],"depth":10}}'))
recv('{"channel":"status","data":[{"api_version":"v2","connection_id":12393906104898154338,"system":"online","version":"2.0.0"}],"type":"update"}')
recv('{"method":"subscribe","result":{"channel":"book","depth":10,"snapshot":true,"symbol":"BTC/USD"},"success":true,"time_in":"2023-10-06T17:35:55.000000Z","time_out":"2023-10-06T17:35:55.000100Z"}')
recv('{"channel":"book","type":"snapshot","data":[{"symbol":"BTC/USD","bids":%s,"asks":%s,"checksum":3310070434}]}'
     % (levels(DOC_BIDS), levels(DOC_ASKS)))

n = 0
def update(bid_changes, ask_changes, note):
    global n
    n += 1
    for p, q in bid_changes:
        if q.strip('0.') == '': bids.pop(p, None)
        else: bids[p] = q
    for p, q in ask_changes:
        if q.strip('0.') == '': asks.pop(p, None)
        else: asks[p] = q
    # depth 10: the venue sends no delete for a level pushed out of the top 10
    for side, key in ((bids, lambda kv: -float(kv[0])), (asks, lambda kv: float(kv[0]))):
        for p, _ in sorted(side.items(), key=key)[10:]:
            side.pop(p)
    c, text = crc(asks, bids)
    print('update %d (%s): checksum %d\n  %s' % (n, note, c, text))
    recv('{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":%s,"asks":%s,"checksum":%d,"timestamp":"2023-10-06T17:36:%02d.440295Z"}]}'
         % (levels(bid_changes), levels(ask_changes), c, n))

update([("45283.5", "0.25000000")], [], "best bid size changes")
update([], [("45284.9", "0.50000000")], "new best ask pushes 45299.5 out of the top 10")
recv('{"channel":"ticker","type":"snapshot","data":[{"symbol":"ALGO/USD","bid":0.10025,"bid_qty":740.0,"ask":0.10036,"ask_qty":1361.44813783,"last":0.10035,"volume":997038.98383185,"vwap":0.10148,"low":0.09979,"high":0.10285,"change":-0.00017,"change_pct":-0.17,"timestamp":"2023-09-25T09:04:31.742648Z"}]}')
update([], [("45284.9", "0"), ("45299.5", "0.18772827")], "best ask deleted; the venue sends the level that comes into scope")
recv('{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"sell","price":45283.4,"qty":0.00500000,"ord_type":"market","trade_id":4665906,"timestamp":"2023-10-06T17:36:00.708706Z"}]}')
update([("45283.4", "0"), ("45276.0", "2.00000000")], [], "bid deleted, a new 10th bid comes into scope")
recv('{"channel":"heartbeat"}')
update([("45284.0", "0.01000000")], [("45286.4", "1.00000000")], "new best bid and an ask size change in one message")

with open('spot_v2_book_trade_ticker_docs_BTCUSD.raw.txt', 'w') as f:
    f.write('\n'.join(lines) + '\n')

# Kraken Futures v1: book_snapshot then single-level `book` updates with seq +1, a trade, ticker_lite.
FURL = 'wss://futures.kraken.com/ws/v1'
t = 1612269825.0
lines = ['%s <-> %.6f' % (FURL, t),
         '%s <- %.6f: %s' % (FURL, t + 0.01, '{"event":"subscribe","feed":"book","product_ids":["PI_XBTUSD"]}')]
recv('{"event":"info","version":1}')
recv('{"event":"subscribed","feed":"book","product_ids":["PI_XBTUSD"]}')
recv('{"feed":"book_snapshot","product_id":"PI_XBTUSD","timestamp":1612269825817,"seq":326072249,"tickSize":null,'
     '"bids":[{"price":34892.5,"qty":6385},{"price":34892,"qty":10924},{"price":34891.5,"qty":4000}],'
     '"asks":[{"price":34911.5,"qty":20598},{"price":34912,"qty":2300},{"price":34914,"qty":5000}]}')
recv('{"feed":"book","product_id":"PI_XBTUSD","side":"sell","seq":326072250,"price":34911.5,"qty":0,"timestamp":1612269825900}')
recv('{"feed":"book","product_id":"PI_XBTUSD","side":"buy","seq":326072251,"price":34893,"qty":1500,"timestamp":1612269825950}')
recv('{"feed":"trade","product_id":"PI_XBTUSD","uid":"05af78ac-a774-478c-a50c-8b9c234e071e","side":"sell","type":"fill","seq":653355,"time":1612269825960,"qty":15000,"price":34893}')
recv('{"feed":"ticker_lite","product_id":"PI_XBTUSD","bid":34893,"ask":34912,"change":3.3705205220015966,"premium":0.1,"volume":264126741,"tag":"perpetual","pair":"XBT:USD","dtm":0,"maturityTime":0,"volumeQuote":264126741}')
recv('{"feed":"heartbeat","time":1612269826000}')
recv('{"feed":"book","product_id":"PI_XBTUSD","side":"buy","seq":326072252,"price":34893,"qty":0,"timestamp":1612269826100}')
with open('futures_v1_book_trade_ticker_lite_docs_PI_XBTUSD.raw.txt', 'w') as f:
    f.write('\n'.join(lines) + '\n')
