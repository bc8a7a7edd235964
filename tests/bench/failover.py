#!/usr/bin/python3
"""Failover benchmark of `auditlog serve` (SPEC.md 17.8). Prints figures;
asserts nothing about speed.

    tests/bench/failover.py [ROUNDS]     (default 5; needs ./build)

Each round: a fresh store, 8 producers over the Unix socket sending
events without pause, then the store's disk "fails" (the fault shim
tests/tools/failsync.c makes LMDB's writes fail with EIO), later it
"recovers". Read from the log afterwards (the evidence an auditor has):

  failover  = backup.activated's failed_at_us (when the failed write
              started) to the received time of the first spooled event
              (when it was durable in the spool and answered);
  recovery  = the breaker's half_open -> closed transition to the
              backup.replayed event with drained=true;
  spooled   = events answered "spooled" in the round.

The design's bound for failover is 30 s; the goal is under one second.
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.join(ROOT, "build", "tools", "auditlog")
SHIM = os.path.join(ROOT, "build", "tests", "libfailsync.so")
CONFIG = ('{"version":1,"components":[{"name":"primary_store",'
          '"tier":"critical","breaker":{"threshold":2,"open_timeout_s":1,'
          '"probes":1}}]}')


def wait(pred, what, limit=60):
    end = time.monotonic() + limit
    while not pred():
        if time.monotonic() > end:
            raise SystemExit("timed out waiting for " + what)
        time.sleep(0.005)


def producer(path, tag, stop, counts):
    c = socket.socket(socket.AF_UNIX)
    c.connect(path)
    f = c.makefile("rb")
    i = 0
    while not stop.is_set():
        batch = b"".join(b'{"type":"bench.tick","id":"%s-%d","source":"bench","n":%d}\n'
                         % (tag.encode(), i + k, i + k) for k in range(32))
        c.sendall(batch)
        for _ in range(32):
            a = f.readline()
            if b'"spooled"' in a:
                counts["spooled"] += 1
            elif b'"seq"' in a:
                counts["stored"] += 1
            else:
                counts["other"] += 1
        i += 32
    c.close()


def one_round(tmp):
    store = os.path.join(tmp, "store")
    cfg = os.path.join(tmp, "cfg.json")
    flag = os.path.join(tmp, "flag")
    with open(cfg, "w") as f:
        f.write(CONFIG)
    subprocess.run([BIN, "init", "--store", store], check=True,
                   capture_output=True)
    env = dict(os.environ, LD_PRELOAD=SHIM, ALOG_FAILSYNC_FLAG=flag,
               ALOG_FAILSYNC_MATCH="data.mdb")
    log = open(os.path.join(tmp, "serve.log"), "wb")
    d = subprocess.Popen([BIN, "serve", "--store", store, "--config", cfg],
                         stderr=log, env=env)
    sock = os.path.join(store, "auditlog.sock")
    wait(lambda: os.path.exists(sock), "the socket")
    stop = threading.Event()
    counts = {"spooled": 0, "stored": 0, "other": 0}
    ts = [threading.Thread(target=producer, args=(sock, "p%d" % k, stop, counts))
          for k in range(8)]
    for t in ts:
        t.start()
    time.sleep(0.5)                       # load, then the disk fails
    with open(flag, "w") as f:
        f.write("write EIO")
    wait(lambda: counts["spooled"] > 0, "spooled answers")
    time.sleep(1.5)                       # failing for a while
    os.unlink(flag)                       # the disk recovers
    text = lambda: open(os.path.join(tmp, "serve.log")).read()
    wait(lambda: "spool drained" in text(), "the spool to drain")
    stop.set()
    for t in ts:
        t.join()
    d.terminate()
    d.wait(60)
    out = subprocess.run([BIN, "export", "--store", store], check=True,
                         capture_output=True).stdout
    recs = [json.loads(x) for x in out.splitlines()]
    act = next(r for r in recs if r["event"]["type"] == "backup.activated")
    first = next(r for r in recs[recs.index(act) + 1:]
                 if r["event"].get("source") == "bench")
    closed = next(r for r in recs if r["event"]["type"] == "breaker.transition"
                  and r["event"]["to"] == "closed")
    drained = next(r for r in recs if r["event"]["type"] == "backup.replayed"
                   and r["event"]["drained"])
    us = lambda r: int(subprocess.run(
        ["date", "-d", r["received"], "+%s%6N"], capture_output=True,
        text=True).stdout)
    failover_ms = (us(first) - act["event"]["failed_at_us"]) / 1000
    recovery_ms = (drained["event"]["replayed_at_us"] -
                   closed["event"]["at_us"]) / 1000
    return failover_ms, recovery_ms, counts["spooled"], counts["other"]


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    if not (os.access(BIN, os.X_OK) and os.access(SHIM, os.R_OK)):
        raise SystemExit("build first (tools/setup): %s, %s" % (BIN, SHIM))
    rows = []
    for r in range(rounds):
        with tempfile.TemporaryDirectory(prefix="alog-failover-") as tmp:
            rows.append(one_round(tmp))
        f, rec, sp, other = rows[-1]
        print("round %d: failover %.1f ms, recovery %.1f ms, %d spooled, "
              "%d other answers" % (r + 1, f, rec, sp, other))
    fs = sorted(x[0] for x in rows)
    print("failover: median %.1f ms, max %.1f ms (bound 30000 ms, goal "
          "under 1000 ms: %.4f of the bound)" % (fs[len(fs) // 2], fs[-1],
                                                 fs[-1] / 30000))


if __name__ == "__main__":
    main()
