#!/usr/bin/python3
"""End-to-end tests of the daemon's breaker, spool and replay (SPEC.md 15.2,
16.4, 16.5, 17, 18; suite `cli`).

The real `auditlog serve` runs on its own temporary store with a
configuration file that makes its primary_store breaker quick (threshold 2,
open timeout 1 s, one probe; one test uses two probes and a backoff of 2).
The disk fails on demand through the failsync shim (tests/tools/failsync.c,
LD_PRELOADed; its head comment is its contract). Producers are Python
threads on raw Unix sockets, so every answer is checked against the exact
forms of 15.2. What is stored is checked from the outside with `auditlog
export`, `auditlog verify` and `auditlog info`; spool files are read with
an independent reader written from SPEC.md 16.1 (hashlib). Conditions are
awaited by polling with deadlines, never by sleeping.

Environment: ALOG_BIN (default build/tools/auditlog), ALOG_BIN_WRAP (a
command to run it under, e.g. valgrind; the loads are then smaller),
ALOG_FAILSYNC (default build/tests/libfailsync.so; the fault tests are
skipped without it). The last line printed is "N passed, N failed"; the
exit status is 1 when anything failed.
"""
import calendar
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)

from test_serve import (  # noqa: E402  (only helpers: no test class)
    BIN, DEADLINE, EXIT_OK, FAILSYNC, WRAP, Conn, Daemon, Producer,
    answer_kind, clean_env, wait_for)

HAVE_SHIM = os.access(FAILSYNC, os.R_OK)

# Under a wrapper (valgrind) the daemon is ~50x slower: smaller loads.
PRODUCERS = 4
WINDOW = 5 if WRAP else 8          # lines per round trip of a producer
PACE_S = 0 if WRAP else 0.01       # pause between a producer's windows
# Case 2: enough spooled events for several replay batches (4096 each).
KILL_EVENTS = 9000 if WRAP else 20000

TYPE = "spool.test"
SOURCE = "tests"
UUID7_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                      r"[0-9a-f]{12}$")
TIME_RE = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{6})Z$")

# The configuration file (SPEC.md 18.1): a quick primary_store breaker.
CONFIG = {"components": [
    {"name": "primary_store", "tier": "critical",
     "breaker": {"threshold": 2, "open_timeout_s": 1, "probes": 1}},
    {"name": "dashboard_stats", "tier": "general"}]}
CONFIG_PROBES2 = {"components": [
    {"name": "primary_store", "tier": "critical",
     "breaker": {"threshold": 2, "open_timeout_s": 1, "probes": 2,
                 "backoff": 2}}]}

# Case 1: each fault of the shim the store can meet (failsync.c words).
FAULTS = [
    ("segment write ENOSPC", "/segments/", "write ENOSPC"),
    ("segment sync EIO", "/segments/", "sync EIO"),
    ("lmdb write ENOSPC", "data.mdb", "write ENOSPC"),
    ("lmdb write EIO", "data.mdb", "write EIO"),
    ("lmdb sync EIO", "data.mdb", "sync EIO"),
]

ENVELOPE = ("type", "id", "source", "time")
# (from, to, cause) of SPEC.md 17.1.
COMBOS = {("closed", "open", "failure_threshold"),
          ("closed", "open", "failure_rate"),
          ("open", "half_open", "open_timeout"),
          ("half_open", "closed", "probe_success"),
          ("half_open", "open", "probe_failure"),
          ("closed", "open", "forced_open"),
          ("half_open", "open", "forced_open"),
          ("open", "open", "forced_open"),
          ("open", "closed", "reset"),
          ("half_open", "closed", "reset")}


def now_us():
    return time.time_ns() // 1000


def us_of(text):
    """The written time form of SPEC.md 3 "Time" to microseconds."""
    m = TIME_RE.match(text)
    assert m, "not a written time: %r" % text
    y, mo, d, h, mi, s, frac = (int(x) for x in m.groups())
    return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) * 10**6 + frac


def shim_env(flag, match):
    return {"LD_PRELOAD": FAILSYNC, "ALOG_FAILSYNC_FLAG": flag,
            "ALOG_FAILSYNC_MATCH": match,
            # an ASan build must accept the shim loaded first
            "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") +
            ":verify_asan_link_order=0"}


def arm(flag, words):
    """The flag appears with its whole content at once (failsync.c)."""
    with open(flag + ".tmp", "w") as f:
        f.write(words)
    os.rename(flag + ".tmp", flag)


def disarm(flag):
    try:
        os.unlink(flag)
    except FileNotFoundError:
        pass


def line_of(tag, i):
    """Event i of producer tag: every fourth has no id, only a unique
    member u (the daemon gives it a record id); the others carry an id."""
    if i % 4 == 3:
        return (b'{"type":"%s","source":"%s","u":"%s-%d","n":%d}'
                % (TYPE.encode(), SOURCE.encode(), tag.encode(), i, i))
    return (b'{"type":"%s","id":"%s-%d","source":"%s","n":%d}'
            % (TYPE.encode(), tag.encode(), i, SOURCE.encode(), i))


def key_of_line(line):
    ev = json.loads(line)
    return ev.get("u") or ev["id"]


def key_of_record(rec):
    return rec["event"].get("u") or rec["event"]["id"]


# ---- an independent reader of backup and spool files (SPEC.md 16.1) -------

CHAIN_PREFIX = b'{"chain":"'
BODY_OFF = 76


def read_backup(path):
    """Verify a backup/spool file as 16.1 says; return (lines, sealed):
    lines is a list of (line number from 1, decoded object). Raises
    AssertionError naming the line that breaks the format."""
    with open(path, "rb") as f:
        data = f.read()
    assert data.endswith(b"\n"), "%s: torn tail" % path
    h = bytes(32)
    out = []
    sealed = False
    records = 0
    for n, line in enumerate(data[:-1].split(b"\n")):
        where = "%s line %d" % (path, n + 1)
        assert not sealed, where + ": after the seal"
        assert line.startswith(CHAIN_PREFIX) and line[74:76] == b'",', where
        chain = line[10:74]
        assert re.fullmatch(rb"[0-9a-f]{64}", chain), where
        h = hashlib.sha256(h + line[BODY_OFF:]).digest()
        assert h.hex().encode() == chain, where + ": chain"
        obj = json.loads(line)
        keys = list(obj)
        if n == 0:
            assert keys[:4] == ["chain", "backup", "file", "created"], where
            assert obj["backup"] == "auditlog/1", where
        elif keys[1] == "event":
            assert keys in (["chain", "event"],
                            ["chain", "event", "received", "id",
                             "provenance"]), where
            records += 1
        else:
            assert keys == ["chain", "seal", "records"], where
            assert obj["seal"] is True and obj["records"] == records, where
            sealed = True
        out.append((n + 1, obj))
    return out, sealed


def spool_files(d):
    return sorted(x for x in os.listdir(d) if re.fullmatch(r"[0-9a-f]{16}\.spool", x))


class Load:
    """PRODUCERS threads, each on its own connection, sending windows of
    WINDOW lines and reading their answers, until stop() is called. Each
    answer is recorded with the wall time (µs) at which it was read."""

    def __init__(self, sock_path, tag):
        self.stop_ev = threading.Event()
        self.lock = threading.Lock()
        self.results = [[] for _ in range(PRODUCERS)]  # (line, kind, t_us)
        self.errors = []
        self.threads = [threading.Thread(target=self._run,
                                         args=(sock_path, "%s%d" % (tag, k),
                                               self.results[k]),
                                         daemon=True)
                        for k in range(PRODUCERS)]
        for t in self.threads:
            t.start()

    def _run(self, path, tag, out):
        c = None
        try:
            c = Conn.unix(path)
            i = 0
            while not self.stop_ev.is_set():
                lines = [line_of(tag, i + k) for k in range(WINDOW)]
                i += WINDOW
                c.send(b"".join(x + b"\n" for x in lines))
                answers = c.answers(WINDOW)
                t = now_us()
                with self.lock:
                    for x, a in zip(lines, answers):
                        out.append((x, answer_kind(a), t))
                # pacing the load, not a wait for a condition
                self.stop_ev.wait(PACE_S)
        except BaseException as e:  # reported by stop()
            with self.lock:
                self.errors.append("%s: %r" % (tag, e))
        finally:
            if c:
                c.close()

    def count(self, kind):
        with self.lock:
            return sum(1 for r in self.results for x in r if x[1][0] == kind)

    def stop(self):
        self.stop_ev.set()
        for t in self.threads:
            t.join(DEADLINE)
        if self.errors:
            raise AssertionError("producers failed: %s" % self.errors)
        return [x for r in self.results for x in r]


class SpoolTest(unittest.TestCase):

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="alog-spool-")
        self.addCleanup(self._tmp.cleanup)
        self.dir = self._tmp.name
        self.daemons = []
        self.addCleanup(self._reap)
        self.flag = self.path("fail-now")

    def _reap(self):
        for d in self.daemons:
            if d.proc.poll() is None:
                d.proc.kill()
                d.proc.wait()
            if not d.err.closed:
                d.err.close()

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def run_cmd(self, *args, expect=None, wrap=True):
        p = subprocess.run((WRAP if wrap else []) + [BIN] + [str(a) for a in args],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           cwd=self.dir, env=clean_env(), timeout=DEADLINE)
        if expect is not None and p.returncode != expect:
            self.fail("auditlog %s: exit %d, wanted %d\nstderr: %s" % (
                " ".join(map(str, args)), p.returncode, expect,
                p.stderr.decode("utf-8", "replace")[-2000:]))
        return p

    def init(self, name="store"):
        self.run_cmd("init", "--store", self.path(name), "--origin",
                     "test.example/spool", expect=EXIT_OK)
        return self.path(name)

    def config(self, cfg=CONFIG, name="auditlog.json"):
        with open(self.path(name), "w") as f:
            json.dump(cfg, f)
        return self.path(name)

    def daemon(self, store, *args, fault=None, cfg=CONFIG, name="daemon"):
        """serve with the test configuration; fault = the shim's MATCH
        (the flag decides when calls fail)."""
        env = shim_env(self.flag, fault) if fault else None
        return Daemon(self, store, "--config", self.config(cfg), *args,
                      name=name, env=env)

    def export(self, store):
        out = self.run_cmd("export", "--store", store, expect=EXIT_OK).stdout
        return [json.loads(x) for x in out.split(b"\n")[:-1]]

    def verify(self, store):
        p = self.run_cmd("verify", "--store", store, expect=EXIT_OK)
        v = json.loads(p.stdout)
        self.assertTrue(v["verified"], v)
        return v

    def tree_size(self, store):
        # info is read-only and works while the daemon runs; it is not the
        # program under test here, so it runs without the wrapper
        p = self.run_cmd("info", "--store", store, expect=EXIT_OK, wrap=False)
        return json.loads(p.stdout)["tree_size"]

    def wait_msg(self, d, prefix, what=None):
        return d.wait_log(lambda x: x.get("msg", "").startswith(prefix),
                          what or repr(prefix))

    def transitions_logged(self, d):
        return [(x["from"], x["to"], x["cause"]) for x in d.log()
                if x.get("msg") == "breaker transition"]

    def wait_transition(self, d, cause, n=1):
        return wait_for(
            lambda: sum(1 for t in self.transitions_logged(d) if t[2] == cause) >= n,
            "breaker transition %s (x%d)\n--- daemon log:\n%s"
            % (cause, n, d.log_text()[-3000:]))

    # ---- checks of a stored log -------------------------------------------

    def check_log_order(self, recs):
        """Indexes in order, received times never decrease (17.9)."""
        self.assertEqual([r["index"] for r in recs], list(range(len(recs))))
        last = None
        for r in recs:
            t = us_of(r["received"])
            if last is not None:
                self.assertGreaterEqual(t, last, "received time went back "
                                        "at index %d" % r["index"])
            last = t

    def check_transitions(self, recs):
        """breaker.transition of primary_store (17.6, 17.4): each from is
        the previous to, starting closed at every daemon start; an
        open_timeout comes exactly the previous period after the open.
        Returns the transitions in index order."""
        out = []
        prev = None
        for r in recs:
            ev = r["event"]
            if ev["type"] == "daemon.started":
                prev = None  # a restarted breaker starts again from closed
                continue
            if ev["type"] != "breaker.transition" or \
                    ev.get("component") != "primary_store":
                continue
            where = "transition at index %d: %s" % (r["index"], ev)
            self.assertEqual(ev["source"], "auditlog", where)
            self.assertEqual(r["provenance"]["transport"], "internal", where)
            self.assertEqual([k for k in ev if k not in ENVELOPE], [
                "component", "from", "to", "cause", "at", "at_us",
                "consecutive_failures", "window_failures", "window_calls",
                "opens", "open_timeout_ms"], where)
            self.assertIn((ev["from"], ev["to"], ev["cause"]), COMBOS, where)
            self.assertEqual(us_of(ev["at"]), ev["at_us"], where)
            self.assertLessEqual(ev["window_failures"], ev["window_calls"], where)
            self.assertEqual(ev["from"], prev["to"] if prev else "closed", where)
            if ev["cause"] == "open_timeout":
                self.assertEqual(ev["at_us"], prev["at_us"] +
                                 prev["open_timeout_ms"] * 1000, where)
                self.assertEqual(ev["open_timeout_ms"], prev["open_timeout_ms"],
                                 where)
            if prev is not None:
                self.assertGreaterEqual(ev["at_us"], prev["at_us"], where)
            prev = ev
            out.append(ev)
        return out

    def check_replayed(self, recs):
        """backup.replayed (17.9): records = imported + duplicates +
        conflicts + refused; each file once; only the last one of an
        activation has drained true. Returns them in index order."""
        reps = [r for r in recs if r["event"]["type"] == "backup.replayed"]
        self.assertTrue(reps, "no backup.replayed event")
        files = [r["event"]["file"] for r in reps]
        self.assertEqual(len(files), len(set(files)), "a file replayed twice")
        for r in reps:
            ev = r["event"]
            self.assertEqual(ev["origin"], "spool")
            self.assertEqual(ev["records"], ev["imported"] + ev["duplicates"] +
                             ev["conflicts"] + ev["refused"], ev)
            self.assertEqual(us_of(ev["replayed_at"]), ev["replayed_at_us"])
        self.assertTrue(reps[-1]["event"]["drained"])
        return reps

    def check_exactly_once(self, recs, results, received=True):
        """results: (line, answer kind, t_us). Every event answered ok or
        spooled is stored exactly once (ok: at its seq; spooled: under the
        id the answer gave and, with received, a received time no later
        than the answer and no later than its file's backup.replayed); an
        event answered with an error is stored at most once; nothing else
        of ours is stored."""
        by_key = {}
        for r in recs:
            if r["event"].get("source") == SOURCE and r["event"]["type"] == TYPE:
                by_key.setdefault(key_of_record(r), []).append(r)
        replayed_at = [(r["index"], r["event"]["replayed_at_us"]) for r in recs
                       if r["event"]["type"] == "backup.replayed"]
        answered = set()
        for line, kind, t in results:
            key = key_of_line(line)
            got = by_key.get(key, [])
            answered.add(key)
            if kind[0] == "err":
                self.assertEqual(kind[1:], ("unavailable", True), line)
                self.assertLessEqual(len(got), 1, "%s stored twice" % key)
                continue
            self.assertEqual(len(got), 1, "%s (answered %s) stored %d times"
                             % (key, kind, len(got)))
            rec = got[0]
            self.assertEqual(rec["event"], json.loads(line))
            if kind[0] == "ok":
                self.assertEqual(rec["index"], kind[1], key)
                continue
            self.assertEqual(kind[0], "spooled", line)
            self.assertEqual(rec["id"], kind[1], key)
            if b'"id"' in line:
                self.assertEqual(kind[1], json.loads(line)["id"])
            else:
                self.assertRegex(kind[1], UUID7_RE)
            if not received:
                continue
            received_us = us_of(rec["received"])
            self.assertLessEqual(received_us, t, "%s: received later than its "
                                 "spooled answer (replay changed it?)" % key)
            after = [u for i, u in replayed_at if i > rec["index"]]
            self.assertTrue(after, "%s has no backup.replayed after it" % key)
            self.assertLessEqual(received_us, after[0], key)
        self.assertEqual(set(by_key) - answered, set(), "stored, never answered")

    # ---- T-SPOOL-1: every fault: spooled answers, breaker, replay, once ----

    @unittest.skipUnless(HAVE_SHIM, "no failsync shim at " + FAILSYNC)
    def test_each_store_fault_under_load_spools_then_replays_every_acknowledged_event_exactly_once(self):
        for name, match, words in FAULTS:
            with self.subTest(fault=name):
                self.one_fault_under_load(name, match, words)

    def one_fault_under_load(self, name, match, words):
        store = self.init("store-" + name.replace(" ", "-"))
        disarm(self.flag)
        d = self.daemon(store, fault=match, name=name.replace(" ", "-"))
        load = Load(d.socket, "p")
        wait_for(lambda: load.count("ok") >= 4 * WINDOW, "answers before the fault")
        arm(self.flag, words)
        wait_for(lambda: load.count("spooled") >= 1, "a spooled answer")
        self.wait_transition(d, "probe_failure")
        disarmed_us = now_us()
        disarm(self.flag)
        self.wait_msg(d, "spool drained", "the spool to drain")
        ok_then = load.count("ok")
        wait_for(lambda: load.count("ok") >= ok_then + PRODUCERS * WINDOW,
                 "ok answers after the drain")
        results = load.stop()
        d.stop()
        print("\n  %s: %d ok, %d spooled, %d unavailable" % (
            name, sum(1 for x in results if x[1][0] == "ok"),
            sum(1 for x in results if x[1][0] == "spooled"),
            sum(1 for x in results if x[1][0] == "err")))

        # answers: ok, then spooled (or unavailable), then ok again
        for k, r in enumerate(load.results):
            seq = "".join({"ok": "o", "spooled": "s", "err": "e"}[x[1][0]]
                          for x in r)
            self.assertRegex(seq, r"^o+[se]*s[se]*o+$", "producer %d" % k)
        # the daemon's diagnostics
        log = d.log()
        causes = [x["cause"] for x in log if x.get("msg") == "breaker transition"]
        self.assertEqual(causes[0], "failure_threshold", causes)
        self.assertIn("open_timeout", causes)
        self.assertIn("probe_failure", causes)
        self.assertEqual(causes[-1], "probe_success", causes)
        self.assertTrue(any(x.get("msg", "").startswith("store failing: events go "
                                                        "to the spool") for x in log))

        recs = self.export(store)
        self.check_log_order(recs)
        self.check_exactly_once(recs, results)
        trans = self.check_transitions(recs)
        self.assertEqual((trans[0]["to"], trans[0]["cause"]),
                         ("open", "failure_threshold"))
        self.assertEqual(trans[0]["open_timeout_ms"], 1000)
        self.assertGreaterEqual(trans[0]["consecutive_failures"], 2)
        self.assertTrue(any(t["cause"] == "open_timeout" and
                            t["at_us"] < disarmed_us for t in trans))
        self.assertTrue(any(t["cause"] == "probe_failure" and
                            t["at_us"] < disarmed_us for t in trans))
        self.assertEqual((trans[-1]["to"], trans[-1]["cause"]),
                         ("closed", "probe_success"))
        acts = [r for r in recs if r["event"]["type"] == "backup.activated"]
        self.assertEqual(len(acts), 1)
        act = acts[0]["event"]
        self.assertEqual(act["component"], "primary_store")
        self.assertEqual(act["spool"], os.path.realpath(os.path.join(store, "spool")))
        self.assertEqual(us_of(act["failed_at"]), act["failed_at_us"])
        self.assertLessEqual(act["failed_at_us"], us_of(acts[0]["received"]))
        self.assertTrue(act["error"])
        spooled_idx = [r["index"] for r in recs if r["event"].get("source") == SOURCE
                       and r["id"] in {x[1][1] for x in results if x[1][0] == "spooled"}]
        self.assertTrue(spooled_idx)
        self.assertLess(acts[0]["index"], min(spooled_idx))
        reps = self.check_replayed(recs)
        self.assertEqual([r["event"]["drained"] for r in reps],
                         [False] * (len(reps) - 1) + [True])
        self.assertGreater(reps[0]["index"], acts[0]["index"])
        self.assertEqual(reps[0]["event"]["file"], act["file"])
        self.assertEqual(spool_files(os.path.join(store, "spool")), [])
        self.verify(store)

    # ---- T-SPOOL-2: SIGKILL during replay ------------------------------------

    @unittest.skipUnless(HAVE_SHIM, "no failsync shim at " + FAILSYNC)
    def test_sigkill_during_replay_then_restart_stores_every_spooled_event_exactly_once(self):
        n = KILL_EVENTS
        # kill when the store grew by: the 1st replay batch, 40 %, 60 %
        # (replay batches are ALOG_LOG_BATCH_MAX = 4096 events)
        points = [("first batch", 2), ("middle", n * 2 // 5)]
        if not WRAP:
            points.append(("later", n * 3 // 5))
        for where, grown in points:
            with self.subTest(kill=where):
                self.kill_during_replay(where.replace(" ", "-"), n, grown)

    def kill_during_replay(self, tag, n, grown):
        store = self.init("store-" + tag)
        disarm(self.flag)
        d = self.daemon(store, fault="data.mdb", name="kill-" + tag)
        c = d.connect()
        first = answer_kind(c.ask(line_of("pre", 0)))
        self.assertEqual(first[0], "ok")
        c.close()
        pre = self.tree_size(store)
        arm(self.flag, "write ENOSPC")
        # padded, so that each replay batch takes a while to commit
        lines = [line_of(tag, i)[:-1] + b',"pad":"%s"}' % (b"p" * 300)
                 for i in range(n)]
        p = Producer(d.socket, lines, chunk=500)
        p.start()
        p.join(DEADLINE)
        answered_us = now_us()
        self.assertIsNone(p.error)
        self.assertEqual(len(p.answers), n)
        kinds = [answer_kind(a) for a in p.answers]
        self.assertEqual({k[0] for k in kinds}, {"spooled"})
        self.assertEqual(self.tree_size(store), pre)
        disarm(self.flag)
        # a tight poll: the kill must land between two replay batches
        end = time.monotonic() + DEADLINE
        while self.tree_size(store) < pre + grown:
            self.assertLess(time.monotonic(), end, "the replay did not start")
        d.kill()
        self.assertGreaterEqual(self.tree_size(store), pre + grown)
        self.assertTrue(spool_files(os.path.join(store, "spool")))
        self.verify(store)  # the store is consistent after the crash
        stored = sum(1 for r in self.export(store) if r["event"]["type"] == TYPE)
        self.assertLess(stored, n + 1, "the kill came after the replay")

        d2 = self.daemon(store, name="restart-" + tag)
        self.wait_msg(d2, "spool drained", "the rest of the spool to replay")
        d2.stop()
        recs = self.export(store)
        self.check_log_order(recs)
        results = [(line_of("pre", 0), first, answered_us)]
        results += [(x, k, answered_us) for x, k in zip(lines, kinds)]
        # (when the kill cut a commit in the middle, the restart's open
        # writes store.recovered: the spooled lines keep their times)
        self.check_exactly_once(recs, results, received=True)
        reps = self.check_replayed(recs)
        for r in reps:
            # progress is committed with each batch: nothing is judged twice
            self.assertEqual(r["event"]["duplicates"], 0, r)
            self.assertEqual(r["event"]["refused"], 0, r)
        self.check_transitions(recs)
        self.assertEqual(spool_files(os.path.join(store, "spool")), [])
        self.verify(store)

    # ---- T-SPOOL-3: restart while the breaker is open -------------------------

    @unittest.skipUnless(HAVE_SHIM, "no failsync shim at " + FAILSYNC)
    def test_sigterm_while_the_breaker_is_open_keeps_the_spool_and_the_next_start_replays_it(self):
        store = self.init()
        spool = os.path.join(store, "spool")
        d1 = self.daemon(store, fault="data.mdb", name="first")
        c = d1.connect()
        first = answer_kind(c.ask(line_of("r", 0)))
        self.assertEqual(first[0], "ok")
        arm(self.flag, "write EIO")
        lines = [line_of("r", i) for i in range(1, 41)]
        c.send(b"".join(x + b"\n" for x in lines))
        kinds = [answer_kind(a) for a in c.answers(len(lines))]
        self.assertEqual({k[0] for k in kinds}, {"spooled"})
        self.wait_transition(d1, "failure_threshold")
        c.close()
        d1.stop()  # exit 0 is asserted here
        self.assertTrue(any(x.get("msg", "").startswith(
            "daemon stopped with events in the spool") for x in d1.log()))
        # every spool file verifies and is sealed; daemon.stopped is the
        # last record of the newest one
        files = spool_files(spool)
        self.assertTrue(files)
        for name in files:
            body, sealed = read_backup(os.path.join(spool, name))
            self.assertTrue(sealed, name)
        last_rec = body[-2][1]
        self.assertEqual(last_rec["event"]["type"], "daemon.stopped")
        self.assertEqual(last_rec["event"]["pid"], d1.proc.pid)
        self.assertEqual(last_rec["provenance"]["transport"], "internal")

        disarm(self.flag)
        d2 = self.daemon(store, name="second")
        self.assertTrue(any(x.get("msg", "").startswith(
            "spool holds events from before") for x in d2.log()))
        self.wait_msg(d2, "spool drained", "the replay at start")
        d2.stop()
        recs = self.export(store)
        self.check_log_order(recs)
        t = now_us()
        self.check_exactly_once(recs, [(line_of("r", 0), first, t)] +
                                [(x, k, t) for x, k in zip(lines, kinds)],
                                received=True)
        starts = [r for r in recs if r["event"]["type"] == "daemon.started"]
        stops = [r for r in recs if r["event"]["type"] == "daemon.stopped"]
        self.assertEqual([r["event"]["pid"] for r in starts],
                         [d1.proc.pid, d2.proc.pid])
        self.assertEqual([r["event"]["pid"] for r in stops],
                         [d1.proc.pid, d2.proc.pid])
        self.assertLess(stops[0]["index"], starts[1]["index"])
        self.assertEqual(stops[0]["event"]["signal_name"], "SIGTERM")
        self.assertEqual(recs[-1]["event"]["type"], "checkpoint.signed")
        self.check_transitions(recs)
        self.check_replayed(recs)
        self.assertEqual(spool_files(spool), [])
        self.verify(store)

    @unittest.skipUnless(HAVE_SHIM, "no failsync shim at " + FAILSYNC)
    def test_spooled_events_keep_their_received_time_when_the_next_start_recovers_the_store(self):
        """SPEC.md 17.8: a store.recovered written while the spool holds
        lines takes the store's latest received time, so that the spooled
        lines replayed after it keep their own (the daemon looks at the
        spool before it opens the store)."""
        store = self.init()
        d1 = self.daemon(store, fault="data.mdb", name="first")
        c = d1.connect()
        first = answer_kind(c.ask(line_of("t", 0)))
        self.assertEqual(first[0], "ok")
        arm(self.flag, "write ENOSPC")
        results = [(line_of("t", 0), first, now_us())]
        for i in range(1, 11):
            results.append((line_of("t", i), answer_kind(c.ask(line_of("t", i))),
                            now_us()))
        self.assertEqual({k[0] for _, k, _ in results[1:]}, {"spooled"})
        self.wait_transition(d1, "failure_threshold")
        c.close()
        d1.stop()
        disarm(self.flag)
        d2 = self.daemon(store, name="second")
        self.wait_msg(d2, "spool drained", "the replay at start")
        d2.stop()
        # the restart recovered the store (the failed commits left bytes)
        self.assertTrue(any(x.get("msg", "").startswith("store recovered at open")
                            for x in d2.log()), d2.log_text())
        recs = self.export(store)
        self.check_exactly_once(recs, results, received=True)

    @unittest.skipUnless(HAVE_SHIM, "no failsync shim at " + FAILSYNC)
    def test_the_daemons_breaker_transition_event_has_time_equal_to_at(self):
        """SPEC.md 17.6: the daemon writes breaker.transition "with
        "source":"auditlog", a UUIDv7 id, "time" equal to at"."""
        store = self.init()
        d = self.daemon(store, fault="data.mdb")
        c = d.connect()
        arm(self.flag, "write ENOSPC")
        self.assertEqual(answer_kind(c.ask(line_of("t", 0)))[0], "spooled")
        self.wait_transition(d, "failure_threshold")
        disarm(self.flag)
        self.wait_msg(d, "spool drained", "the spool to drain")
        c.close()
        d.stop()
        trans = self.check_transitions(self.export(store))
        self.assertTrue(trans)
        for t in trans:
            self.assertEqual(t.get("time"), t["at"], t)

    # ---- T-SPOOL-4: tampered spool files ---------------------------------------

    @unittest.skipUnless(HAVE_SHIM, "no failsync shim at " + FAILSYNC)
    def test_a_tampered_spool_file_is_quarantined_naming_its_line_and_the_other_files_replay(self):
        for how in ("changed byte", "removed line", "swapped lines"):
            with self.subTest(tamper=how):
                self.tampered(how)

    def tampered(self, how):
        tag = how.split()[0]
        store = self.init("store-" + tag)
        spool = os.path.join(store, "spool")
        disarm(self.flag)
        # three runs while the segment writes fail: each run writes its own
        # spool file(s) and seals them at SIGTERM
        for run in ("a", "b", "c"):
            d = self.daemon(store, fault="/segments/", name="%s-%s" % (tag, run))
            c = d.connect()
            if run == "a":
                self.assertEqual(answer_kind(c.ask(line_of("ok", 0)))[0], "ok")
                arm(self.flag, "write ENOSPC")
            lines = [line_of(run, i) for i in range(6)]
            c.send(b"".join(x + b"\n" for x in lines))
            self.assertEqual({answer_kind(a)[0] for a in c.answers(6)},
                             {"spooled"})
            c.close()
            d.stop()
        disarm(self.flag)
        files = spool_files(spool)
        self.assertGreaterEqual(len(files), 3)
        content = {}
        for name in files:
            body, sealed = read_backup(os.path.join(spool, name))
            self.assertTrue(sealed, name)
            content[name] = body
        # the file of run b (neither the first nor the last)
        target = [nm for nm, body in content.items()
                  if any(o.get("event", {}).get("id") == "b-0" for _, o in body)]
        self.assertEqual(len(target), 1)
        target = target[0]
        self.assertNotIn(target, (files[0], files[-1]))
        body = content[target]
        k = next(no for no, o in body if o.get("event", {}).get("id") == "b-2")
        path = os.path.join(spool, target)
        with open(path, "rb") as f:
            raw = f.read().split(b"\n")[:-1]
        if how == "changed byte":
            self.assertEqual(raw[k - 1].count(b'"n":2'), 1)
            raw[k - 1] = raw[k - 1].replace(b'"n":2', b'"n":7')
            bad = k
        elif how == "removed line":
            del raw[k - 1]
            bad = k
        else:
            raw[k - 1], raw[k] = raw[k], raw[k - 1]
            bad = k
        with open(path, "wb") as f:
            f.write(b"".join(x + b"\n" for x in raw))

        d = self.daemon(store, name=tag + "-healthy")
        self.wait_msg(d, "spool drained", "the other files to replay")
        d.stop()
        log = d.log()
        q = [x for x in log if "quarantined" in x.get("msg", "")]
        self.assertEqual(len(q), 1, d.log_text()[-3000:])
        self.assertEqual(q[0]["file"], os.path.realpath(path))
        self.assertIn("line %d:" % bad, q[0]["error"])
        qpath = os.path.join(spool, "quarantine", target)
        self.assertTrue(os.path.isfile(qpath))
        with open(qpath, "rb") as f:
            self.assertEqual(f.read().split(b"\n")[:-1], raw)
        with open(qpath + ".reason") as f:
            reason = f.read()
        self.assertTrue(reason.endswith("\n") and reason.count("\n") == 1, reason)
        self.assertIn("line %d:" % bad, reason)
        self.assertIn(target, reason)
        self.assertEqual(spool_files(spool), [])

        recs = self.export(store)
        self.check_log_order(recs)
        stored = {}
        for r in recs:
            stored[r["id"]] = stored.get(r["id"], 0) + 1
        for name, body in content.items():
            for no, o in body:
                if "event" not in o:
                    continue
                if name == target:
                    self.assertNotIn(o["id"], stored, "%s line %d stored" % (name, no))
                else:
                    self.assertEqual(stored.get(o["id"]), 1,
                                     "%s line %d: %s" % (name, no, o["id"]))
        ours = sorted(key_of_record(r) for r in recs if r["event"]["type"] == TYPE)
        self.assertEqual(ours, sorted(["ok-0"] + ["%s-%d" % (run, i)
                                                  for run in "ac"
                                                  for i in range(6)]))
        self.check_transitions(recs)
        self.verify(store)

    # ---- T-SPOOL-5: daemon-owned and unlisted components -----------------------

    def component_lines(self, tag):
        members = (b'"from":"half_open","to":"open","cause":"probe_failure",'
                   b'"at":"2024-02-29T12:34:56.789012Z","at_us":1709210096789012,'
                   b'"consecutive_failures":4,"window_failures":3,'
                   b'"window_calls":7,"opens":2,"open_timeout_ms":30000')
        out = []
        for comp, want in ((b'"primary_store"', "reserved_component"),
                           (b'"primary\\u005fstore"', "reserved_component"),
                           (b'"dashboard_stats"', None),
                           (b'"not_listed"', "unknown_component")):
            t = tag.encode()
            out.append((b'{"type":"breaker.transition","id":"%s-bt-%d","source":"app",'
                        b'"component":%s,%s}' % (t, len(out), comp, members), want))
            out.append((b'{"type":"health.probe","id":"%s-hp-%d","source":"app",'
                        b'"component":%s,"ok":true}' % (t, len(out), comp), want))
        return out

    def test_a_producer_event_about_primary_store_is_refused_reserved_component_and_one_about_a_listed_component_is_stored(self):
        store = self.init()
        fault = "data.mdb" if HAVE_SHIM else None
        d = self.daemon(store, fault=fault)
        c = d.connect()
        kept = []
        modes = ["direct"] + (["spooling"] if HAVE_SHIM else [])
        for mode in modes:
            if mode == "spooling":
                arm(self.flag, "write ENOSPC")
                self.assertEqual(answer_kind(c.ask(line_of("trigger", 0)))[0],
                                 "spooled")
            for line, want in self.component_lines(mode):
                kind = answer_kind(c.ask(line))
                if want is None:
                    self.assertEqual(kind[0], "spooled" if mode == "spooling"
                                     else "ok", line)
                    kept.append(json.loads(line)["id"])
                else:
                    self.assertEqual(kind, ("err", want, False), line)
        if HAVE_SHIM:
            disarm(self.flag)
            self.wait_msg(d, "spool drained", "the spool to drain")
        c.close()
        d.stop()
        recs = self.export(store)
        app = [r["id"] for r in recs if r["event"].get("source") == "app"]
        self.assertEqual(sorted(app), sorted(kept))
        self.assertEqual(len(kept), 2 * len(modes))
        # the daemon's own transitions are the only primary_store ones
        for r in recs:
            if r["event"].get("component") == "primary_store":
                self.assertEqual(r["event"]["source"], "auditlog")
        self.verify(store)

    # ---- T-SPOOL-6: the spool elsewhere -----------------------------------------

    def test_spool_elsewhere_is_named_in_daemon_started_with_an_accurate_same_device_flag_and_mode_0700(self):
        dirs = [("relative, same disk", os.path.join("elsewhere", "spool"))]
        os.mkdir(self.path("elsewhere"))
        shm = None
        if os.path.isdir("/dev/shm") and \
                os.stat("/dev/shm").st_dev != os.stat(self.dir).st_dev:
            shm = tempfile.mkdtemp(prefix="alog-spool-", dir="/dev/shm")
            self.addCleanup(shutil.rmtree, shm, True)
            dirs.append(("another device", os.path.join(shm, "spool")))
        else:
            print("  (no /dev/shm on another device: only the same-device case)")
        for what, spool in dirs:
            with self.subTest(spool=what):
                store = self.init("store-%d" % len(self.daemons))
                full = os.path.join(self.dir, spool)
                self.assertFalse(os.path.exists(full))
                use_fault = HAVE_SHIM and what == "another device"
                d = self.daemon(store, "--spool", spool,
                                fault="data.mdb" if use_fault else None)
                st = os.stat(full)
                self.assertTrue(stat.S_ISDIR(st.st_mode))
                self.assertEqual(stat.S_IMODE(st.st_mode), 0o700)
                self.assertTrue(os.path.isdir(os.path.join(full, "quarantine")))
                self.assertFalse(os.path.exists(os.path.join(store, "spool")))
                if use_fault:
                    c = d.connect()
                    arm(self.flag, "write ENOSPC")
                    self.assertEqual(answer_kind(c.ask(line_of("x", 0)))[0],
                                     "spooled")
                    self.assertTrue(spool_files(full))
                    disarm(self.flag)
                    self.wait_msg(d, "spool drained", "the spool to drain")
                    c.close()
                d.stop()
                recs = self.export(store)
                started = recs[0]["event"]
                self.assertEqual(started["type"], "daemon.started")
                self.assertEqual(list(started)[-2:], ["spool", "spool_same_device"])
                self.assertEqual(started["spool"], os.path.realpath(full))
                self.assertIs(started["spool_same_device"],
                              os.stat(full).st_dev == os.stat(store).st_dev)
                if use_fault:
                    self.assertFalse(started["spool_same_device"])
                    act = [r["event"] for r in recs
                           if r["event"]["type"] == "backup.activated"]
                    self.assertEqual([a["spool"] for a in act],
                                     [os.path.realpath(full)])
                    self.assertEqual(spool_files(full), [])
                else:
                    self.assertTrue(started["spool_same_device"])
                self.verify(store)

    def test_a_spool_directory_others_can_write_stops_the_start(self):
        """Spooled records are replayed with the provenance they claim
        (SPEC.md 17.8): a spool directory another user could write to is
        refused, and nothing is listening."""
        store = self.init("store-open-spool")
        spool = self.path("open-spool")
        os.mkdir(spool)
        os.chmod(spool, 0o777)
        p = self.run_cmd("serve", "--store", store, "--spool", spool,
                         "--socket", self.path("s.sock"))
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"writable by nobody else", p.stderr)
        self.assertFalse(os.path.exists(self.path("s.sock")))
        os.chmod(spool, 0o700)
        d = self.daemon(store, "--spool", spool)
        d.stop()

    # ---- T-SPOOL-7: probes 2, backoff 2 ------------------------------------------

    @unittest.skipUnless(HAVE_SHIM, "no failsync shim at " + FAILSYNC)
    def test_with_two_probes_and_backoff_two_the_second_open_lasts_twice_as_long_and_one_good_probe_does_not_close(self):
        store = self.init()
        d = self.daemon(store, fault="data.mdb", cfg=CONFIG_PROBES2)
        c = d.connect()
        first = answer_kind(c.ask(line_of("b", 0)))
        self.assertEqual(first[0], "ok")
        arm(self.flag, "write ENOSPC")
        lines = [line_of("b", i) for i in range(1, 9)]
        results = [(line_of("b", 0), first, now_us())]
        for x in lines:
            results.append((x, answer_kind(c.ask(x)), now_us()))
        self.assertEqual({k[0] for _, k, _ in results[1:]}, {"spooled"})
        self.wait_transition(d, "probe_failure")
        disarm(self.flag)
        self.wait_msg(d, "spool drained", "the spool to drain")
        after = answer_kind(c.ask(line_of("b", 9)))
        self.assertEqual(after[0], "ok")
        results.append((line_of("b", 9), after, now_us()))
        c.close()
        d.stop()
        # diagnostics: after the last half-open, a replayed file (a good
        # probe) comes before the close: one probe is not enough
        log = d.log()
        last_half = max(i for i, x in enumerate(log)
                        if x.get("msg") == "breaker transition" and
                        x["to"] == "half_open")
        close = next(i for i, x in enumerate(log)
                     if x.get("msg") == "breaker transition" and
                     x["cause"] == "probe_success")
        self.assertGreater(close, last_half)
        self.assertTrue(any(x.get("msg") == "spool file replayed"
                            for x in log[last_half:close]), d.log_text())
        recs = self.export(store)
        self.check_log_order(recs)
        self.check_exactly_once(recs, results)
        trans = self.check_transitions(recs)
        self.assertEqual([(t["cause"], t["open_timeout_ms"]) for t in trans],
                         [("failure_threshold", 1000), ("open_timeout", 1000),
                          ("probe_failure", 2000), ("open_timeout", 2000),
                          ("probe_success", 0)])
        self.assertEqual([t["opens"] for t in trans], [1, 1, 2, 2, 2])
        self.check_replayed(recs)
        self.verify(store)


if __name__ == "__main__":
    import runner  # noqa: E402
    sys.exit(runner.main(__name__, BIN))
