#!/usr/bin/python3
"""End-to-end tests of `auditlog serve` (SPEC.md section 15; suite `cli`).

Each test runs the real daemon on its own temporary store and talks to it
as producers do: raw sockets from Python (so every answer byte is checked
against the forms of SPEC.md 15.2), plus tests/tools/loadgen (a C client
that drives ingest/tls.h's client side). What is stored is checked from
the outside with `auditlog export` and `auditlog verify`. Conditions are
awaited by polling with deadlines, never by sleeping.

Environment: ALOG_BIN (the binary; default build/tools/auditlog),
ALOG_BIN_WRAP (a command to run it under, e.g. valgrind; the load is then
smaller), ALOG_LOADGEN (default build/tests/loadgen; TLS client tests are
skipped without it), ALOG_FAILSYNC (default build/tests/libfailsync.so, an
LD_PRELOAD shim that makes fsync fail; the failed-commit test needs it). The last line printed is "N passed, N failed"; the
exit status is 1 when anything failed.
"""
import datetime
import hashlib
import json
import os
import re
import shlex
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True

BIN = os.environ.get("ALOG_BIN") or os.path.join(HERE, "..", "..", "build",
                                                 "tools", "auditlog")
WRAP = shlex.split(os.environ.get("ALOG_BIN_WRAP", ""))
LOADGEN = os.environ.get("ALOG_LOADGEN") or os.path.join(
    HERE, "..", "..", "build", "tests", "loadgen")
FAILSYNC = os.environ.get("ALOG_FAILSYNC") or os.path.join(
    HERE, "..", "..", "build", "tests", "libfailsync.so")

EXIT_OK, EXIT_VERIFY, EXIT_USAGE, EXIT_OPER = 0, 1, 2, 3
LINE_MAX = 65536
# Under a wrapper (valgrind) the daemon is ~50x slower: a smaller load.
PRODUCERS = 16
EVENTS = 300 if WRAP else 5000
DEADLINE = 600 if WRAP else 120  # seconds for any awaited condition

LOGFMT = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S*)')
OK_RE = re.compile(rb'^\{"ok":true,"seq":(0|[1-9][0-9]*)\}$')
DUP_RE = re.compile(rb'^\{"ok":true,"duplicate":true,"seq":(0|[1-9][0-9]*)\}$')
SPOOLED_RE = re.compile(rb'^\{"ok":true,"spooled":true,"id":"([!#-\[\]-~]{1,128})"\}$')
ERR_RE = re.compile(rb'^\{"ok":false,"code":"([a-z0-9_]+)","retry":(true|false),'
                    rb'"error":"(?:[^"\\]|\\.)+"\}$')


def clean_env():
    env = dict(os.environ)
    env.pop("AUDITLOG_STORE", None)
    return env


def parse_logfmt(line):
    out = {}
    for k, v in LOGFMT.findall(line):
        if v.startswith('"'):
            v = re.sub(r'\\(.)', r'\1', v[1:-1])
        out[k] = v
    return out


def wait_for(pred, what, deadline=DEADLINE):
    """Poll pred() until it returns something true; fail after deadline."""
    end = time.monotonic() + deadline
    delay = 0.002
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(delay)  # a poll interval, not a wait for a condition
        delay = min(delay * 2, 0.01)


def answer_kind(a: bytes):
    """('ok', seq) | ('dup', seq) | ('spooled', id) | ('err', code, retry);
    AssertionError
    if the line is not one of the exact forms of SPEC.md 15.2."""
    m = OK_RE.match(a)
    if m:
        return ("ok", int(m.group(1)))
    m = DUP_RE.match(a)
    if m:
        return ("dup", int(m.group(1)))
    m = SPOOLED_RE.match(a)
    if m:
        return ("spooled", m.group(1).decode())
    m = ERR_RE.match(a)
    if m:
        json.loads(a)  # the message is a valid JSON string
        return ("err", m.group(1).decode(), m.group(2) == b"true")
    raise AssertionError("not an answer of SPEC.md 15.2: %r" % a[:300])


class Conn:
    """A producer's connection: write lines, read answer lines."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    @classmethod
    def unix(cls, path):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        return cls(s)

    def send(self, data: bytes):
        self.sock.sendall(data)

    def answers(self, n, deadline=DEADLINE):
        """Read exactly n answer lines (fails on EOF or deadline)."""
        out = []
        self.sock.settimeout(deadline)
        while len(out) < n:
            while b"\n" in self.buf and len(out) < n:
                line, self.buf = self.buf.split(b"\n", 1)
                out.append(line)
            if len(out) == n:
                break
            r = self.sock.recv(1 << 16)
            if not r:
                raise AssertionError("the daemon closed the connection after "
                                     "%d of %d answers" % (len(out), n))
            self.buf += r
        return out

    def ask(self, line: bytes):
        self.send(line + b"\n")
        return self.answers(1)[0]

    def read_to_eof(self, deadline=DEADLINE):
        self.sock.settimeout(deadline)
        data = self.buf
        self.buf = b""
        while True:
            try:
                r = self.sock.recv(1 << 16)
            except (ConnectionResetError, ssl.SSLError):
                break
            if not r:
                break
            data += r
        return data

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def event(tag, i, extra=b""):
    """A producer event with an id of its own (deduplicated on resend)."""
    return (b'{"type":"load.test","id":"%s-%d","source":"tests","n":%d%s}'
            % (tag.encode(), i, i, extra))


class Producer(threading.Thread):
    """Pipelined producer: one thread writes every line while this one reads
    the answers. Records each answer; stops quietly if the daemon dies."""

    def __init__(self, path, lines, chunk=200):
        super().__init__(daemon=True)
        self.path, self.lines, self.chunk = path, lines, chunk
        self.answers = []
        self.error = None
        self.sent = 0
        self.started = self.finished = None

    def _writer(self, sock):
        try:
            for i in range(0, len(self.lines), self.chunk):
                part = self.lines[i:i + self.chunk]
                sock.sendall(b"".join(x + b"\n" for x in part))
                self.sent += len(part)
        except OSError:
            pass

    def run(self):
        try:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(self.path)
        except OSError as e:
            self.error = e
            return
        self.started = time.monotonic()
        w = threading.Thread(target=self._writer, args=(sock,), daemon=True)
        w.start()
        buf = b""
        sock.settimeout(DEADLINE)
        try:
            while len(self.answers) < len(self.lines):
                r = sock.recv(1 << 16)
                if not r:
                    break
                buf += r
                *done, buf = buf.split(b"\n")
                self.answers.extend(done)
        except OSError as e:
            self.error = e
        self.finished = time.monotonic()
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        w.join(DEADLINE)
        sock.close()


class Daemon:
    """`auditlog serve` on a store, its diagnostics in a file."""

    def __init__(self, test, store, *args, name="daemon", wait=True, env=None):
        self.test = test
        self.store = store
        self.err_path = test.path("%s-%d.log" % (name, len(test.daemons)))
        self.err = open(self.err_path, "wb")
        full_env = clean_env()
        full_env.update(env or {})
        self.proc = subprocess.Popen(
            WRAP + [BIN, "serve", "--store", store] + [str(a) for a in args],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self.err, cwd=test.dir, env=full_env)
        test.daemons.append(self)
        self.socket = self.addr = None
        if wait:
            self.wait_ready()

    def log(self):
        with open(self.err_path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        return [parse_logfmt(x) for x in text.splitlines()
                if x.startswith("level=")]

    def log_text(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_log(self, pred, what):
        return wait_for(lambda: next((x for x in self.log() if pred(x)), None),
                        what + "\n--- daemon log:\n" + self.log_text()[-3000:])

    def wait_ready(self):
        def ready():
            if self.proc.poll() is not None:
                raise AssertionError("the daemon exited %d:\n%s" % (
                    self.proc.returncode, self.log_text()[-3000:]))
            return any(x.get("msg") == "daemon started" for x in self.log())
        wait_for(ready, "the daemon to start")
        for x in self.log():
            if x.get("msg") == "listening" and x.get("transport") == "unix":
                self.socket = os.path.join(self.test.dir, x["socket"])
            elif x.get("msg") == "listening":
                self.addr = x["addr"]

    def connect(self):
        return Conn.unix(self.socket)

    def stop(self, sig=signal.SIGTERM, expect=EXIT_OK):
        self.proc.send_signal(sig)
        rc = self.proc.wait(DEADLINE)
        self.err.close()
        if expect is not None and rc != expect:
            raise AssertionError("daemon exit %d, wanted %d:\n%s" % (
                rc, expect, self.log_text()[-3000:]))
        return rc

    def kill(self):
        self.proc.kill()
        self.proc.wait(DEADLINE)
        self.err.close()

    def peak_rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return None


class ServeTest(unittest.TestCase):

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="alog-serve-")
        self.addCleanup(self._tmp.cleanup)
        self.dir = self._tmp.name
        self.daemons = []
        self.addCleanup(self._reap)

    def _reap(self):
        for d in self.daemons:
            if d.proc.poll() is None:
                d.proc.kill()
                d.proc.wait()
            if not d.err.closed:
                d.err.close()

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def run_cmd(self, *args, input=None, expect=None, wrap=True):
        p = subprocess.run((WRAP if wrap else []) + [BIN] + [str(a) for a in args],
                           input=input, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, cwd=self.dir,
                           env=clean_env(), timeout=DEADLINE)
        if expect is not None and p.returncode != expect:
            self.fail("auditlog %s: exit %d, wanted %d\nstderr: %s" % (
                " ".join(map(str, args)), p.returncode, expect,
                p.stderr.decode("utf-8", "replace")[-2000:]))
        return p

    def init(self, name="store"):
        self.run_cmd("init", "--store", self.path(name), "--origin",
                     "test.example/serve", expect=EXIT_OK)
        return self.path(name)

    def export(self, store):
        out = self.run_cmd("export", "--store", store, expect=EXIT_OK).stdout
        return [json.loads(x) for x in out.split(b"\n")[:-1]], out.split(b"\n")[:-1]

    def verify(self, store):
        p = self.run_cmd("verify", "--store", store, expect=EXIT_OK)
        return json.loads(p.stdout)

    def producer_records(self, recs, source="tests"):
        return [r for r in recs if r["event"].get("source") == source]

    def assert_log_ends_stopped_and_checkpoint(self, recs):
        self.assertEqual(recs[-2]["event"]["type"], "daemon.stopped")
        self.assertEqual(recs[-1]["event"]["type"], "checkpoint.signed")
        self.assertEqual(recs[-1]["event"]["size"], len(recs) - 1)
        self.assertEqual(recs[-2]["event"]["reason"], "signal")
        self.assertEqual(recs[-2]["event"]["signal_name"], "SIGTERM")
        self.assertEqual(recs[-2]["provenance"]["transport"], "internal")

    # ---- load ----------------------------------------------------------

    def run_producers(self, d, tag, n_prod=PRODUCERS, n_events=EVENTS):
        lines = [[event("%s%d" % (tag, p), i) for i in range(n_events)]
                 for p in range(n_prod)]
        prods = [Producer(d.socket, ls) for ls in lines]
        for p in prods:
            p.start()
        return prods, lines

    def test_sixteen_pipelined_producers_get_every_answer_once_in_order_and_the_store_holds_exactly_their_events(self):
        store = self.init()
        d = Daemon(self, store, "--checkpoint-events", PRODUCERS * EVENTS // 4)
        t0 = time.monotonic()
        prods, lines = self.run_producers(d, "p")
        for p in prods:
            p.join(DEADLINE)
        elapsed = time.monotonic() - t0
        total = PRODUCERS * EVENTS
        print("\n  %d producers x %d events over the unix socket: %.2f s, "
              "%.0f events/s (pipelined, fsync per batch)"
              % (PRODUCERS, EVENTS, elapsed, total / elapsed))
        acked = {}
        for k, p in enumerate(prods):
            self.assertIsNone(p.error, "producer %d: %s" % (k, p.error))
            self.assertEqual(len(p.answers), EVENTS, "producer %d" % k)
            seqs = []
            for a in p.answers:
                kind = answer_kind(a)
                self.assertEqual(kind[0], "ok", a)
                seqs.append(kind[1])
            self.assertEqual(seqs, sorted(seqs), "answers out of order")
            self.assertEqual(len(set(seqs)), EVENTS)
            for i, s in enumerate(seqs):
                self.assertNotIn(s, acked)
                acked[s] = b"p%d-%d" % (k, i)
        d.stop()
        recs, raw = self.export(store)
        mine = self.producer_records(recs)
        self.assertEqual(len(mine), total)
        self.assertEqual(len({r["id"] for r in mine}), total)
        for s, ident in acked.items():
            self.assertEqual(recs[s]["id"].encode(), ident,
                             "record %d is not the event acked with seq %d" % (s, s))
            self.assertEqual(recs[s]["provenance"],
                             {"transport": "unix", "uid": os.getuid(),
                              "gid": os.getgid(), "pid": os.getpid()})
        self.assertEqual(recs[0]["event"]["type"], "daemon.started")
        self.assert_log_ends_stopped_and_checkpoint(recs)
        self.assertEqual(recs[-2]["event"]["events"], total)
        # --checkpoint-events N: a checkpoint at most one batch (4096
        # events) after every N events, so at least 3 during the load.
        ckpts = [r for r in recs if r["event"]["type"] == "checkpoint.signed"]
        self.assertGreaterEqual(len(ckpts), 2 if WRAP else 4)
        v = self.verify(store)
        self.assertTrue(v["verified"])
        self.assertEqual(v["tree_size"], len(recs))

    def test_sigkill_under_load_keeps_every_acknowledged_event_exactly_once_and_a_resend_stores_the_rest_once(self):
        store = self.init()
        d = Daemon(self, store)
        # The full load even under a wrapper: a small one is answered in
        # one burst, before the kill can land in the middle of it.
        n_events = 5000
        total = PRODUCERS * n_events
        prods, lines = self.run_producers(d, "k", PRODUCERS, n_events)
        wait_for(lambda: sum(len(p.answers) for p in prods) >= total // 5,
                 "a fifth of the events to be acknowledged")
        d.kill()
        for p in prods:
            p.join(DEADLINE)
        acked = {}
        for k, p in enumerate(prods):
            for i, a in enumerate(p.answers):
                kind = answer_kind(a)
                self.assertEqual(kind[0], "ok", a)
                acked[lines[k][i]] = kind[1]
        self.assertGreater(len(acked), 0)
        self.assertLess(len(acked), total, "the kill came after the load")
        # The store after the crash: every acked event, at its seq, once.
        v = self.verify(store)
        self.assertTrue(v["verified"])
        recs, _ = self.export(store)
        by_id = {}
        for r in self.producer_records(recs):
            self.assertNotIn(r["id"], by_id, "stored twice: %s" % r["id"])
            by_id[r["id"]] = r["index"]
        for line, seq in acked.items():
            ident = json.loads(line)["id"]
            self.assertEqual(by_id.get(ident), seq, "acked %s lost" % ident)
        # Restart on the same socket path (the stale socket is replaced),
        # resend everything.
        d2 = Daemon(self, store)
        self.assertEqual(d2.socket, d.socket)
        self.assertTrue(any(x.get("msg") == "removed a stale socket"
                            for x in d2.log()))
        prods2 = [Producer(d2.socket, ls) for ls in lines]
        for p in prods2:
            p.start()
        for p in prods2:
            p.join(DEADLINE)
        for k, p in enumerate(prods2):
            self.assertIsNone(p.error)
            self.assertEqual(len(p.answers), n_events)
            for i, a in enumerate(p.answers):
                kind = answer_kind(a)
                line = lines[k][i]
                if line in acked:
                    self.assertEqual(kind, ("dup", acked[line]))
                else:
                    self.assertIn(kind[0], ("ok", "dup"))
        d2.stop()
        recs, _ = self.export(store)
        mine = self.producer_records(recs)
        self.assertEqual(len(mine), total)
        self.assertEqual(len({r["id"] for r in mine}), total)
        self.assert_log_ends_stopped_and_checkpoint(recs)
        self.assertTrue(self.verify(store)["verified"])

    def test_sigterm_while_clients_send_stores_every_answered_line_and_exits_zero(self):
        store = self.init()
        d = Daemon(self, store)
        # Each producer sends far more than the daemon holds in flight and
        # reads at shutdown (ALOG_SERVER_DRAIN_MAX): ~13 MB (~6 MB wrapped).
        n_prod, n_ev = 4, 10000 if WRAP else 20000
        pad = b',"pad":"' + b"p" * 600 + b'"'
        lines = [[event("t%d" % p, i, pad) for i in range(n_ev)]
                 for p in range(n_prod)]
        prods = [Producer(d.socket, ls) for ls in lines]
        for p in prods:
            p.start()
        wait_for(lambda: sum(len(p.answers) for p in prods) >= n_prod * n_ev // 10,
                 "a tenth of the events to be acknowledged")
        d.stop()  # exit 0 is asserted here
        for p in prods:
            p.join(DEADLINE)
        answered = {}
        for k, p in enumerate(prods):
            for i, a in enumerate(p.answers):
                kind = answer_kind(a)
                self.assertEqual(kind[0], "ok", a)
                answered[json.loads(lines[k][i])["id"]] = kind[1]
        self.assertLess(len(answered), n_prod * n_ev, "SIGTERM came too late")
        recs, _ = self.export(store)
        for ident, seq in answered.items():
            self.assertEqual(recs[seq]["id"], ident)
        mine = self.producer_records(recs)
        self.assertEqual(len({r["id"] for r in mine}), len(mine))
        self.assert_log_ends_stopped_and_checkpoint(recs)
        log = d.log()
        self.assertTrue(any(x.get("msg") == "shutting down" and
                            x.get("signal") == "SIGTERM" for x in log))
        self.assertTrue(self.verify(store)["verified"])

    @unittest.skipUnless(os.access(FAILSYNC, os.R_OK), "no failsync shim")
    def test_a_failed_commit_goes_to_the_spool_and_reaches_the_store_once_the_disk_recovers(self):
        # The segment's fdatasync fails (the store stays usable), then
        # LMDB's own sync fails (the store refuses writes until reopened):
        # the batch is answered "spooled", and once the disk works again
        # the spool is replayed; every event is stored exactly once.
        # (tests/cli/test_spool.py covers the breaker and the spool.)
        for match in ("/segments/", "data.mdb"):
            with self.subTest(failing=match):
                store = self.init("store-" + match.strip("/").replace(".", "-"))
                flag = self.path("fail-now")
                d = Daemon(self, store, env={
                    "LD_PRELOAD": FAILSYNC, "ALOG_FAILSYNC_FLAG": flag,
                    "ALOG_FAILSYNC_MATCH": match,
                    # an ASan build must accept the shim loaded first
                    "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") +
                    ":verify_asan_link_order=0"})
                c = d.connect()
                self.assertEqual(answer_kind(c.ask(event("before", 1)))[0], "ok")
                batch = [event("during", i) for i in range(3)]
                open(flag, "w").close()
                c.send(b"".join(x + b"\n" for x in batch))
                for i, a in enumerate(c.answers(3)):
                    self.assertEqual(answer_kind(a), ("spooled", "during-%d" % i))
                os.unlink(flag)
                d.wait_log(lambda x: x.get("msg", "").startswith("spool drained"),
                           "the spool to be replayed")
                self.assertTrue(any(x.get("msg", "").startswith("commit failed")
                                    and x.get("level") == "error" for x in d.log()))
                # The batch is stored now: the same lines are duplicates.
                c.send(b"".join(x + b"\n" for x in batch))
                self.assertEqual([answer_kind(a)[0] for a in c.answers(3)],
                                 ["dup"] * 3)
                c.close()
                d.stop()
                recs, _ = self.export(store)
                ids = [r["id"] for r in self.producer_records(recs)]
                self.assertEqual(ids, ["before-1", "during-0", "during-1", "during-2"])
                self.assertTrue(self.verify(store)["verified"])

    def test_a_configuration_file_is_cited_by_hash_and_a_bad_one_stops_the_start(self):
        store = self.init()
        cfg = self.path("auditlog.json")
        text = (b'{"version":1,"components":[{"name":"api","tier":"general"},'
                b'{"name":"primary_store","tier":"critical",'
                b'"breaker":{"threshold":3,"open_timeout_s":20}}]}')
        with open(cfg, "wb") as f:
            f.write(text)
        d = Daemon(self, store, "--config", cfg)
        d.stop()
        recs, _ = self.export(store)
        started = recs[0]["event"]
        self.assertEqual(started["config_file"], cfg)
        self.assertEqual(started["config_file_sha256"],
                         hashlib.sha256(text).hexdigest())
        # refused (exit 2, naming the key) or unreadable (exit 3): no start
        with open(cfg, "wb") as f:
            f.write(b'{"version":1,"components":[{"name":"api","tier":"gold"}]}')
        p = self.run_cmd("serve", "--store", store, "--config", cfg,
                         expect=EXIT_USAGE)
        self.assertIn(b"tier", p.stderr)
        self.run_cmd("serve", "--store", store, "--config",
                     self.path("missing.json"), expect=EXIT_OPER)
        recs2, _ = self.export(store)
        self.assertEqual(len(recs2), len(recs))

    # ---- bad input -----------------------------------------------------

    def test_bad_input_gets_clear_refusals_and_the_daemon_keeps_serving_everyone(self):
        store = self.init()
        d = Daemon(self, store)
        c = d.connect()
        cases = [
            (b"\x00\x01\xff\xfe garbage", "nul"),
            (b"\xff\xfe\x80 binary", "not_json"),
            (b'{"type":"a.b","s":"\xc0\xaf"}', "bad_utf8"),
            (b"[1,2]", "not_object"),
            (b"", "empty"),
            (b"   \t", "empty"),
            (b'{"type":"daemon.started","id":"x1","source":"tests"}', "reserved_type"),
            (b'{"type":"checkpoint.signed"}', "reserved_type"),
            (b'{"type":"Bad"}', "bad_field"),
        ]
        c.send(b"".join(line + b"\n" for line, _ in cases))
        for (line, code), a in zip(cases, c.answers(len(cases))):
            kind = answer_kind(a)
            self.assertEqual(kind, ("err", code, False), line)
            self.assertTrue(json.loads(a)["error"])
        # The limit itself is accepted, one past it is too_long (with and
        # without CR), and the connection goes on.
        head = b'{"type":"a.b","id":"big","source":"tests","pad":"'
        exact = head + b"x" * (LINE_MAX - len(head) - 2) + b'"}'
        self.assertEqual(len(exact), LINE_MAX)
        over = head + b"x" * (LINE_MAX - len(head) - 1) + b'"}'
        c.send(exact + b"\r\n" + over + b"\n" + over + b"\r\n" +
               b"y" * (3 * LINE_MAX) + b"\n" + event("after", 1) + b"\n")
        a = c.answers(5)
        self.assertEqual(answer_kind(a[0])[0], "ok")
        for x in a[1:4]:
            self.assertEqual(answer_kind(x), ("err", "too_long", False))
        self.assertEqual(answer_kind(a[4])[0], "ok")
        # Same (source, id), different event: conflict.
        self.assertEqual(answer_kind(c.ask(event("after", 1, b',"x":2'))),
                         ("err", "conflict", False))
        # Another client is served meanwhile.
        other = d.connect()
        self.assertEqual(answer_kind(other.ask(event("other", 1)))[0], "ok")
        other.close()
        c.close()
        d.stop()
        recs, _ = self.export(store)
        ids = [r["id"] for r in self.producer_records(recs)]
        self.assertEqual(sorted(ids), ["after-1", "big", "other-1"])
        self.assertTrue(self.verify(store)["verified"])

    def test_a_huge_line_is_skipped_without_buffering_it(self):
        store = self.init()
        d = Daemon(self, store)
        c = d.connect()
        self.assertEqual(answer_kind(c.ask(event("warm", 1)))[0], "ok")
        before = d.peak_rss_kb()
        chunk = b"z" * (1 << 20)
        for _ in range(64):   # 64 MiB in one line
            c.send(chunk)
        c.send(b"\n" + event("warm", 2) + b"\n")
        a = c.answers(2)
        self.assertEqual(answer_kind(a[0]), ("err", "too_long", False))
        self.assertEqual(answer_kind(a[1])[0], "ok")
        after = d.peak_rss_kb()
        if not WRAP and before is not None:
            self.assertLess(after - before, 16 * 1024,
                            "a 64 MiB line grew the daemon by %d KiB" % (after - before))
        c.close()
        d.stop()

    def test_a_half_line_then_silence_then_disconnect_is_logged_as_lost_and_a_half_closed_client_still_gets_its_answers(self):
        store = self.init()
        d = Daemon(self, store)
        half = d.connect()
        half.send(event("half", 1) + b"\n" + b'{"type":"half.line","id":"lost"')
        self.assertEqual(answer_kind(half.answers(1)[0])[0], "ok")
        # Silence: the daemon serves someone else meanwhile.
        other = d.connect()
        self.assertEqual(answer_kind(other.ask(event("other", 1)))[0], "ok")
        other.close()
        half.close()
        entry = d.wait_log(lambda x: x.get("msg") == "partial line lost at disconnect",
                           "the lost partial line in the log")
        self.assertEqual(entry["level"], "warn")
        self.assertEqual(entry["bytes"], "31")
        # A client that half-closes (shutdown(SHUT_WR)) after its lines
        # still gets every answer; its final partial line is lost.
        hc = d.connect()
        hc.send(event("hc", 1) + b"\n" + event("hc", 2) + b"\r\n" + b'{"type":')
        hc.sock.shutdown(socket.SHUT_WR)
        got = hc.read_to_eof().split(b"\n")
        self.assertEqual(got[-1], b"")
        self.assertEqual([answer_kind(a)[0] for a in got[:-1]], ["ok", "ok"])
        hc.close()
        d.wait_log(lambda x: x.get("msg") == "partial line lost at disconnect"
                   and x.get("bytes") == "8", "the half-closed client's partial line")
        closed = d.wait_log(lambda x: x.get("msg") == "connection closed"
                            and x.get("lines") == "2", "the half-closed client's close")
        self.assertEqual(closed["reason"], "eof")
        self.assertEqual(closed["answered"], "2")
        self.assertEqual(closed["pid"], str(os.getpid()))
        d.stop()
        recs, _ = self.export(store)
        self.assertNotIn("lost", [r["id"] for r in recs])
        self.assertTrue({"hc-1", "hc-2"} <= {r["id"] for r in recs})

    def test_a_client_that_never_reads_its_answers_stalls_only_itself(self):
        store = self.init()
        d = Daemon(self, store)
        staller = d.connect()
        total = 400000  # ~40 MB of events, far past every buffer
        state = {"sent": 0, "done": False}

        def flood():
            try:
                batch = 1000
                for i in range(0, total, batch):
                    staller.sock.sendall(b"".join(
                        event("stall", j) + b"\n" for j in range(i, i + batch)))
                    state["sent"] = i + batch
            except OSError:
                pass
            state["done"] = True

        t = threading.Thread(target=flood, daemon=True)
        t.start()
        # The daemon reads the flood until the answers it cannot deliver
        # reach their limit; then it stops reading that connection.
        wait_for(lambda: state["sent"] >= 20000, "the flood to start")
        other = d.connect()
        n = 2000
        other.send(b"".join(event("busy", i) + b"\n" for i in range(n)))
        got = [answer_kind(a) for a in other.answers(n)]
        self.assertTrue(all(k[0] == "ok" for k in got))
        self.assertFalse(state["done"], "the daemon read the whole flood")
        self.assertLess(state["sent"], total)
        other.close()
        staller.sock.shutdown(socket.SHUT_RDWR)
        t.join(DEADLINE)
        staller.close()
        third = d.connect()
        self.assertEqual(answer_kind(third.ask(event("third", 1)))[0], "ok")
        third.close()
        d.stop()
        recs, _ = self.export(store)
        ids = {r["id"] for r in recs}
        self.assertTrue({"busy-%d" % i for i in range(n)} <= ids)
        self.assertTrue(self.verify(store)["verified"])

    def test_idle_connections_are_closed_and_the_connection_limit_answers_overloaded(self):
        store = self.init()
        d = Daemon(self, store, "--idle-timeout", 1, "--max-connections", 2)
        a, b = d.connect(), d.connect()
        self.assertEqual(answer_kind(a.ask(event("a", 1)))[0], "ok")
        self.assertEqual(answer_kind(b.ask(event("b", 1)))[0], "ok")
        c = d.connect()
        data = c.read_to_eof()
        self.assertEqual(answer_kind(data.rstrip(b"\n"))[:2], ("err", "overloaded"))
        self.assertTrue(json.loads(data)["retry"])
        c.close()
        # Both go idle and are closed (EOF) by the daemon.
        self.assertEqual(a.read_to_eof(), b"")
        self.assertEqual(b.read_to_eof(), b"")
        d.wait_log(lambda x: x.get("reason") == "idle timeout",
                   "an idle close in the log")
        a.close()
        b.close()
        e = d.connect()
        self.assertEqual(answer_kind(e.ask(event("e", 1)))[0], "ok")
        e.close()
        d.stop()

    # ---- provenance ----------------------------------------------------

    def test_records_carry_the_unix_peer_credentials_and_the_tcp_peer_address(self):
        store = self.init()
        d = Daemon(self, store, "--listen", "127.0.0.1:0")
        self.assertTrue(d.addr and d.addr.startswith("127.0.0.1:"))
        u = d.connect()
        self.assertEqual(answer_kind(u.ask(event("unix", 1)))[0], "ok")
        u.close()
        host, port = d.addr.rsplit(":", 1)
        s = socket.create_connection((host, int(port)))
        local = "%s:%d" % s.getsockname()[:2]
        t = Conn(s)
        self.assertEqual(answer_kind(t.ask(event("tcp", 1)))[0], "ok")
        t.close()
        d.stop()
        recs, raw = self.export(store)
        by_id = {r["id"]: (r, line) for r, line in zip(recs, raw)}
        r, line = by_id["unix-1"]
        self.assertIn(b'"provenance":{"transport":"unix","uid":%d,"gid":%d,"pid":%d}'
                      % (os.getuid(), os.getgid(), os.getpid()), line)
        r, line = by_id["tcp-1"]
        self.assertIn(b'"provenance":{"transport":"tcp","addr":"%s"}'
                      % local.encode(), line)
        started = recs[0]["event"]
        self.assertEqual(started["type"], "daemon.started")
        self.assertEqual(started["pid"], d.proc.pid)
        self.assertRegex(started["config_hash"], "^[0-9a-f]{64}$")
        self.assertEqual(started["store"], os.path.realpath(store))
        self.assertEqual(started["spool"],
                         os.path.join(os.path.realpath(store), "spool"))
        self.assertIs(started["spool_same_device"], True)
        self.assertIsNone(started["config_file"])
        self.assertIsNone(started["config_file_sha256"])
        self.assertTrue(self.verify(store)["verified"])

    def test_report_and_verify_record_their_runs_through_the_daemon_for_the_store_owner_only(self):
        store = self.init()
        d = Daemon(self, store, "--listen", "127.0.0.1:0")
        u = d.connect()
        for i in range(3):
            self.assertEqual(answer_kind(u.ask(event("app", i)))[0], "ok")
        # the owner's two record types only, and never over TCP
        self.assertEqual(answer_kind(u.ask(
            b'{"type":"admin.action","id":"a1","source":"tests"}')),
            ("err", "reserved_type", False))
        host, port = d.addr.rsplit(":", 1)
        t = Conn(socket.create_connection((host, int(port))))
        self.assertEqual(answer_kind(t.ask(
            b'{"type":"report.generated","id":"r1","source":"tests"}')),
            ("err", "reserved_type", False))
        t.close()
        u.close()
        # the daemon holds the writer lock: both commands go through it
        self.run_cmd("verify", "--store", store, "--record", expect=EXIT_OK)
        out = self.path("rep")
        today = datetime.datetime.now(datetime.timezone.utc).date()
        p = self.run_cmd("report", "--store", store, "--from",
                         today - datetime.timedelta(days=1), "--to",
                         today + datetime.timedelta(days=2), "--out", out,
                         "--seed", "s-1",
                         expect=EXIT_OK)
        self.assertIn(b"recorded as report.generated through the daemon",
                      p.stderr)
        with open(os.path.join(out, "report.json"), "rb") as f:
            raw = f.read()
        rep = json.loads(raw)
        self.assertEqual(rep["recorded"], {"recorded": True, "reason": None})
        # the verification run recorded just before counts (CC7.2)
        self.assertEqual(rep["cc7_2"]["verification"]["runs"], 1)
        self.assertEqual(rep["cc7_2"]["verification"]["pass"], 1)
        d.stop()
        recs, _ = self.export(store)
        owner = {"transport": "unix", "uid": os.getuid(), "gid": os.getgid()}
        ver = [r for r in recs if r["event"]["type"] == "integrity.verified"]
        gen = [r for r in recs if r["event"]["type"] == "report.generated"]
        self.assertEqual(len(ver), 1)
        self.assertEqual(len(gen), 1)
        for r in ver + gen:
            prov = dict(r["provenance"])
            self.assertNotEqual(prov.pop("pid"), d.proc.pid)
            self.assertEqual(prov, owner)
            self.assertEqual(r["event"]["source"], "auditlog")
        self.assertEqual(ver[0]["event"]["result"], "pass")
        g = gen[0]["event"]
        self.assertEqual((g["report_id"], g["seed"], g["sample"]),
                         (rep["report_id"], "s-1", 25))
        files = {}
        for name in ("report.json", "report.md", "report.html"):
            with open(os.path.join(out, name), "rb") as f:
                files[name] = hashlib.sha256(f.read()).hexdigest()
        self.assertEqual(g["outputs"], [{"name": n, "sha256": h}
                                        for n, h in files.items()])
        self.assertEqual(files["report.json"], hashlib.sha256(raw).hexdigest())
        self.assertTrue(self.verify(store)["verified"])

    def test_the_checkpoint_interval_signs_when_the_log_grew_and_sigint_stops_like_sigterm(self):
        store = self.init()
        d = Daemon(self, store, "--checkpoint-interval", 1)
        c = d.connect()
        for i in (1, 2):
            seq = answer_kind(c.ask(event("ck", i)))[1]
            d.wait_log(lambda x: x.get("msg") == "checkpoint signed" and
                       int(x["size"]) > seq, "a checkpoint covering seq %d" % seq)
        c.close()
        self.assertEqual(d.stop(signal.SIGINT), EXIT_OK)
        recs, _ = self.export(store)
        ck = [r for r in recs if r["event"]["type"] == "checkpoint.signed"]
        self.assertEqual([r["event"]["checkpoint"] for r in ck], list(range(len(ck))))
        for a, b in zip(ck, ck[1:]):
            # Each checkpoint.signed is record `size`; a new checkpoint
            # only when the log grew by more than that record.
            self.assertEqual(a["index"], a["event"]["size"])
            self.assertGreater(b["event"]["size"], a["event"]["size"] + 1)
        self.assertEqual(recs[-2]["event"]["signal_name"], "SIGINT")
        self.assertEqual(recs[-1]["event"]["type"], "checkpoint.signed")
        self.assertTrue(self.verify(store)["verified"])

    # ---- start-up refusals -----------------------------------------------

    def test_start_up_refuses_a_non_loopback_listen_without_tls_a_too_long_socket_path_and_a_busy_socket(self):
        store = self.init()
        p = self.run_cmd("serve", "--store", store, "--listen", "0.0.0.0:0")
        self.assertEqual(p.returncode, EXIT_USAGE)
        self.assertIn(b"not a loopback address", p.stderr)
        self.assertIn(b"--tls-cert", p.stderr)
        long_path = self.path("s" * 120 + ".sock")
        p = self.run_cmd("serve", "--store", store, "--socket", long_path)
        self.assertEqual(p.returncode, EXIT_USAGE)
        self.assertIn(b"at most 107", p.stderr)
        self.assertFalse(os.path.exists(long_path))
        p = self.run_cmd("serve", "--store", store, "--tls-cert", "x")
        self.assertEqual(p.returncode, EXIT_USAGE)
        # A second daemon on the same store is refused by the store lock
        # and leaves the first one's socket alone.
        d = Daemon(self, store)
        p = self.run_cmd("serve", "--store", store)
        self.assertEqual(p.returncode, EXIT_OPER)
        self.assertIn(b"in use", p.stderr)
        # Another store, the same socket: refused, the first keeps serving.
        other = self.init("other")
        p = self.run_cmd("serve", "--store", other, "--socket", d.socket)
        self.assertEqual(p.returncode, EXIT_OPER)
        self.assertIn(b"already answers", p.stderr)
        c = d.connect()
        self.assertEqual(answer_kind(c.ask(event("still", 1)))[0], "ok")
        c.close()
        d.stop()

    def test_help_teaches_the_protocol_and_the_options(self):
        p = self.run_cmd("serve", "--help", expect=EXIT_OK)
        text = p.stdout.decode()
        for word in ['{"ok":true,"seq":N}', "duplicate", "retry", "--socket",
                     "--listen", "--tls-ca", "--checkpoint-interval",
                     "--idle-timeout", "SIGTERM", "0660", "loopback"]:
            self.assertIn(word, text)
        self.assertEqual(self.run_cmd("serve", "--bogus").returncode, EXIT_USAGE)
        self.assertEqual(self.run_cmd("serve", "--idle-timeout", "0").returncode,
                         EXIT_USAGE)

    # ---- TLS -------------------------------------------------------------

    def openssl(self, *args):
        subprocess.run(["openssl"] + list(args), cwd=self.dir, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def make_pki(self):
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        self.openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem",
                     "-days", "2", "-subj", "/CN=Test CA",
                     "-addext", "basicConstraints=critical,CA:TRUE",
                     "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        with open(self.path("server.ext"), "w") as f:
            f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                    "extendedKeyUsage=serverAuth\n")
        with open(self.path("client.ext"), "w") as f:
            f.write("extendedKeyUsage=clientAuth\n")
        for name, subj, ext in (("server", "/CN=localhost", "server.ext"),
                                ("client", "/O=Example Corp/CN=producer-1", "client.ext")):
            self.openssl("req", *ec, "-keyout", name + ".key", "-out",
                         name + ".csr", "-subj", subj)
            self.openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem",
                         "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
                         "-out", name + ".pem", "-extfile", ext)
        self.openssl("req", "-x509", *ec, "-keyout", "rogue.key", "-out",
                     "rogue.pem", "-days", "2", "-subj", "/CN=producer-1")
        # Another CA, for a client that must refuse our server.
        self.openssl("req", "-x509", *ec, "-keyout", "ca2.key", "-out",
                     "ca2.pem", "-days", "2", "-subj", "/CN=Other CA")

    def tls_conn(self, addr, cert=None, key=None):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(self.path("ca.pem"))
        if cert:
            ctx.load_cert_chain(self.path(cert), self.path(key))
        host, port = addr.rsplit(":", 1)
        raw = socket.create_connection((host, int(port)), timeout=DEADLINE)
        local = "%s:%d" % raw.getsockname()[:2]
        s = ctx.wrap_socket(raw, server_hostname="localhost")
        return Conn(s), local

    def test_tls_accepts_a_client_certificate_from_the_ca_records_its_subject_and_refuses_others(self):
        store = self.init()
        self.make_pki()
        p = self.run_cmd("serve", "--store", store, "--listen", "127.0.0.1:0",
                         "--tls-cert", self.path("server.pem"), "--tls-key",
                         self.path("nonexistent.key"), "--tls-ca", self.path("ca.pem"))
        self.assertEqual(p.returncode, EXIT_OPER)
        self.assertIn(b"nonexistent.key", p.stderr)
        d = Daemon(self, store, "--listen", "127.0.0.1:0",
                   "--tls-cert", self.path("server.pem"),
                   "--tls-key", self.path("server.key"),
                   "--tls-ca", self.path("ca.pem"))
        self.assertTrue(any(x.get("msg") == "listening" and x.get("transport") == "tls"
                            for x in d.log()))
        good, local = self.tls_conn(d.addr, "client.pem", "client.key")
        good.send(event("tls", 1) + b"\n" + event("tls", 2) + b"\n")
        self.assertEqual([answer_kind(a)[0] for a in good.answers(2)], ["ok", "ok"])
        good.close()
        # Self-signed (same subject!) and no certificate at all: refused;
        # with TLS 1.3 the client learns it at its first read.
        for cert, key in (("rogue.pem", "rogue.key"), (None, None)):
            try:
                bad, _ = self.tls_conn(d.addr, cert, key)
                bad.send(event("rogue", 1) + b"\n")
                self.assertNotIn(b'"ok":true', bad.read_to_eof())
                bad.close()
            except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
                pass
        # (The alert reaches the client before the daemon logs it.)
        wait_for(lambda: len([x for x in d.log()
                              if x.get("msg") == "tls handshake failed"]) == 2,
                 "two refused handshakes in the log")
        failures = [x for x in d.log() if x.get("msg") == "tls handshake failed"]
        self.assertIn("certificate", failures[0]["error"])
        # Plain TCP on the TLS port gets nothing stored either.
        host, port = d.addr.rsplit(":", 1)
        plain = Conn(socket.create_connection((host, int(port))))
        plain.send(event("plain", 1) + b"\n")
        self.assertNotIn(b'"ok":true', plain.read_to_eof())
        plain.close()
        # ingest/tls.h's client side (blocking) through loadgen.
        if os.access(LOADGEN, os.X_OK):
            base = [LOADGEN, "--tcp", d.addr, "--tls-ca", self.path("ca.pem"),
                    "--tls-cert", self.path("client.pem"),
                    "--tls-key", self.path("client.key")]
            out = subprocess.run(base + ["--tls-host", "localhost", "--producers", "4",
                                         "--count", "500", "--tag", "lg"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 timeout=DEADLINE)
            self.assertEqual(out.returncode, 0, out.stderr)
            rows = [json.loads(x) for x in out.stdout.splitlines()]
            self.assertEqual(sum(r.get("ok", 0) for r in rows[:-1]), 2000)
            self.assertTrue(all(r["ordered"] for r in rows[:-1]))
            # The client refuses a server whose name or CA is wrong.
            out = subprocess.run(base + ["--tls-host", "elsewhere.example"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 timeout=DEADLINE)
            self.assertEqual(out.returncode, 1)
            self.assertIn(b"certificate was refused", out.stderr)
            wrong_ca = [a if a != self.path("ca.pem") else self.path("ca2.pem")
                        for a in base]
            out = subprocess.run(wrong_ca, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, timeout=DEADLINE)
            self.assertEqual(out.returncode, 1)
            self.assertIn(b"certificate was refused", out.stderr)
        else:
            print("  (loadgen not found at %s: TLS client side not tested)" % LOADGEN)
        d.stop()
        recs, raw = self.export(store)
        by_id = {r["id"]: line for r, line in zip(recs, raw)}
        self.assertIn(b'"provenance":{"transport":"tls","addr":"%s",'
                      b'"subject":"CN=producer-1,O=Example Corp"}' % local.encode(),
                      by_id["tls-1"])
        for ident in by_id:
            self.assertFalse(ident.startswith(("rogue", "plain")))
        if os.access(LOADGEN, os.X_OK):
            self.assertEqual(len([i for i in by_id if i.startswith("lg-")]), 2000)
        self.assertTrue(self.verify(store)["verified"])



if __name__ == "__main__":
    sys.path.insert(0, HERE)
    import runner  # noqa: E402
    sys.exit(runner.main(__name__, BIN))
