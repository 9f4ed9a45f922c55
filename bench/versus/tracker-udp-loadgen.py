#!/usr/bin/python3
"""BEP 15 announce load generator for bench/versus/tracker-udp.ts: the same program drives
every tracker under test. A synthetic swarm of TORRENTS x PEERS peers (the layout of
tracker-udp-loadgen.ts: info-hash, peer id, port 10000+p, every fifth peer a seeder, numwant 50).

Why Python and not Node: a Node dgram socket costs ~15 us of CPU per datagram on the bench
machine (about what a C tracker spends on a whole announce), so a Node generator cannot keep
a C tracker busy. This loop sends on connected non-blocking sockets and reads answers with
recv_into into one buffer, never blocking: ~3-5 us per announce, one core.

Bounded: at most --requests announces and --seconds of sending, then 0.3 s to drain. Each
socket keeps at most --window announces outstanding; a socket with no answer for 0.5 s counts
its outstanding announces lost and carries on. Prints one JSON line.

  python3 tracker-udp-loadgen.py --port P --torrents 1000 --peers 100 --mode steady --seconds 10
"""
import argparse
import json
import random
import socket
import struct
import time

PROTOCOL_ID = 0x41727101980
HASH_TAG = 0xBE7C4


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--port', type=int, required=True)
    ap.add_argument('--torrents', type=int, default=1000)
    ap.add_argument('--peers', type=int, default=100)
    ap.add_argument('--mode', choices=['load', 'steady'], default='steady')
    ap.add_argument('--requests', type=int, default=10**9)
    ap.add_argument('--seconds', type=float, default=10.0)
    ap.add_argument('--sockets', type=int, default=8)
    ap.add_argument('--window', type=int, default=16)
    ap.add_argument('--numwant', type=int, default=50)
    ap.add_argument('--seed', type=int, default=7)
    a = ap.parse_args()

    total = a.torrents * a.peers
    event = 2 if a.mode == 'load' else 0
    # The part of every announce after the transaction id, per synthetic peer (index = p*T + t).
    bodies = []
    for index in range(total):
        t = index % a.torrents
        p = index // a.torrents
        info_hash = struct.pack('>I', t) + b'\x5a' * 12 + struct.pack('>I', HASH_TAG)
        peer_id = b'-BN0001-' + struct.pack('>II', t, p) + b'0000'
        left = 0 if p % 5 == 0 else 1000
        bodies.append(info_hash + peer_id + struct.pack(
            '>QQQIIIiH', 0, left, 0, event, 0, (t * 7919 + p) & 0xFFFFFFFF, a.numwant, 10000 + p))

    socks = []
    for _ in range(a.sockets):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for opt in (socket.SO_RCVBUF, socket.SO_SNDBUF):
            try:
                s.setsockopt(socket.SOL_SOCKET, opt, 4 << 20)
            except OSError:
                pass
        s.bind(('127.0.0.1', 0))
        s.connect(('127.0.0.1', a.port))
        s.settimeout(2.0)
        cid = None
        for attempt in range(5):
            s.send(struct.pack('>QII', PROTOCOL_ID, 0, 0xC0FFEE))
            try:
                r = s.recv(64)
            except socket.timeout:
                continue
            if len(r) >= 16 and struct.unpack_from('>II', r, 0) == (0, 0xC0FFEE):
                cid = r[8:16]
                break
        if cid is None:
            print(json.dumps({'error': 'no connect answer'}))
            return
        s.setblocking(False)
        socks.append([s, cid + b'\x00\x00\x00\x01', 0, time.monotonic()])  # sock, prefix, outstanding, last answer

    rng = random.Random(a.seed)
    randrange = rng.randrange
    buf = bytearray(4096)
    issued = answered = errors = lost = peers_returned = 0
    tid = 1
    cpu0 = time.process_time()
    started = time.monotonic()
    stop_sending = started + a.seconds
    hard_stop = stop_sending + 0.3
    sending = True
    while True:
        now = time.monotonic()
        if sending and (now >= stop_sending or issued >= a.requests):
            sending = False
        if not sending and (now >= hard_stop or all(x[2] == 0 for x in socks)):
            break
        for lane in socks:
            s = lane[0]
            # Read every answer waiting on this socket.
            while True:
                try:
                    n = s.recv_into(buf)
                except BlockingIOError:
                    break
                except OSError:
                    break
                if n >= 8:
                    action = buf[3]
                    if action == 1:
                        answered += 1
                        peers_returned = (n - 20) // 6
                    else:
                        errors += 1
                    lane[2] -= 1
                    lane[3] = now
            if lane[2] > 0 and now - lane[3] > 0.5:
                lost += lane[2]
                lane[2] = 0
                lane[3] = now
            if sending:
                prefix = lane[1]
                while lane[2] < a.window and issued < a.requests:
                    index = issued % total if event == 2 else randrange(total)
                    try:
                        s.send(prefix + tid.to_bytes(4, 'big') + bodies[index])
                    except BlockingIOError:
                        break
                    issued += 1
                    tid = (tid + 1) & 0xFFFFFFFF
                    if lane[2] == 0:
                        lane[3] = now
                    lane[2] += 1
    elapsed = time.monotonic() - started
    cpu = time.process_time() - cpu0
    for lane in socks:
        lost += max(0, lane[2])
        lane[0].close()
    print(json.dumps({
        'answered': answered,
        'errors': errors,
        'lost': lost,
        'elapsedMs': elapsed * 1000,
        'announcesPerSecond': answered / elapsed if elapsed > 0 else 0,
        'peersReturned': peers_returned,
        'generatorCpuSeconds': cpu,
    }))


if __name__ == '__main__':
    main()
