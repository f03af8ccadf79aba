#!/usr/bin/env python3
# Issue 9 finding 3 figure: N (default 160) connections from 127.0.0.2 trickle header bytes
# at a running bridge on 127.0.0.1:PORT while /health is timed 10 times from 127.0.0.1;
# then waits (at most 40 s) until the bridge has dropped every trickler. Loopback only, bounded.
# Usage: bench/slowloris.py PORT [N]
import socket, sys, time, threading, urllib.request
port = int(sys.argv[1]); n = int(sys.argv[2]) if len(sys.argv) > 2 else 160
socks = []
for i in range(n):
    s = socket.socket(); s.bind(("127.0.0.2", 0))
    try:
        s.connect(("127.0.0.1", port)); socks.append(s)
    except OSError:
        pass
stop = False
def trickle():
    hdr = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000
    i = 0
    while not stop:
        for s in list(socks):
            try: s.send(hdr[i % len(hdr):i % len(hdr) + 1])
            except OSError: socks.remove(s)
        i += 1; time.sleep(0.5)
t = threading.Thread(target=trickle); t.start()
time.sleep(2)
worst = 0; ok = 0
for k in range(10):
    t0 = time.time()
    try:
        r = urllib.request.urlopen("http://127.0.0.1:%d/health" % port, timeout=10); r.read(); ok += r.status == 200
    except Exception as e:
        print("health failed:", e)
    worst = max(worst, time.time() - t0)
    time.sleep(0.5)
print("connected tricklers:", n, "still open after 7 s:", len(socks), "health ok: %d/10, worst %.3f s" % (ok, worst))
# how long until every trickler is dropped
t0 = time.time()
while socks and time.time() - t0 < 40: time.sleep(0.5)
print("tricklers open after %.1f s more: %d" % (time.time() - t0, len(socks)))
stop = True; t.join()
for s in socks: s.close()
