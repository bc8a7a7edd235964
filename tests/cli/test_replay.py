#!/usr/bin/python3
"""End-to-end tests of `auditlog replay` (suite `cli`): SPEC.md 17.9
(imports of backup files), 16.1 and 16.4 (the lines of backup files).

Backup files come from `auditlog send --backup` with no daemon, or from
an independent writer written here from SPEC.md 16.1 alone (hashlib),
itself checked against the published vectors V-BACKUP-1 and V-BACKUP-2.
What was stored is read back with `auditlog export` and checked with
`auditlog verify`.

Environment: ALOG_BIN (the binary; default build/tools/auditlog),
ALOG_BIN_WRAP (a command to run it under, e.g. valgrind), ALOG_VECTORS.
The last line printed is "N passed, N failed"; the exit status is 1 when
anything failed.
"""
import hashlib
import json
import os
import re
import secrets
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
BIN = os.environ.get("ALOG_BIN") or os.path.join(HERE, "..", "..", "build",
                                                 "tools", "auditlog")
WRAP = shlex.split(os.environ.get("ALOG_BIN_WRAP", ""))
VECTORS = os.environ.get("ALOG_VECTORS") or os.path.join(HERE, "..", "vectors")
DEADLINE = 600 if WRAP else 120

EXIT_OK, EXIT_VERIFY, EXIT_USAGE, EXIT_OPER, EXIT_PARTIAL = 0, 1, 2, 3, 4
RESULT = re.compile(r"^(?P<path>.*): file (?P<file>[0-9a-f-]{36}), "
                    r"(?P<records>\d+) records: imported (?P<imported>\d+), "
                    r"duplicates (?P<duplicates>\d+), conflicts "
                    r"(?P<conflicts>\d+), refused (?P<refused>\d+)"
                    r"(?P<before> \(replayed before\))?$")

V1_HEADER = (b'"backup":"auditlog/1","file":"01890a5d-ac96-774b-bcce-b302099a8057",'
             b'"created":"2023-07-01T00:00:00.000000Z"}')


# ---- an independent backup writer (SPEC.md 16.1, 16.4) -------------------

def uuid7():
    """A UUIDv7 text (RFC 9562 5.7): 48-bit ms time, version 7, variant
    10, random bits."""
    ms = int(time.time() * 1000)
    r = secrets.randbits(74)
    v = (ms << 80) | (0x7 << 76) | ((r >> 62) << 64) | (0b10 << 62) | \
        (r & ((1 << 62) - 1))
    h = "%032x" % v
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


class Writer:
    """Lines {"chain":"<H(n)>",BODY with H(n) = SHA-256(H(n-1) || BODY),
    H(-1) = 32 zero bytes."""

    def __init__(self, header_body=None):
        self.prev = bytes(32)
        self.lines = []
        self.records = 0
        if header_body is None:
            self.file_id = uuid7()
            header_body = (b'"backup":"auditlog/1","file":"%s","created":'
                           b'"2024-02-29T12:34:56.789012Z"}'
                           % self.file_id.encode())
        self.line(header_body)

    def line(self, body: bytes):
        h = hashlib.sha256(self.prev + body).digest()
        self.prev = h
        self.lines.append(b'{"chain":"' + h.hex().encode() + b'",' + body +
                          b"\n")

    def event(self, ev: bytes):
        self.records += 1
        self.line(b'"event":' + ev + b"}")

    def spool_record(self, ev: bytes, received: bytes, rid: bytes,
                     prov: bytes):
        self.records += 1
        self.line(b'"event":' + ev + b',"received":"' + received +
                  b'","id":"' + rid + b'","provenance":' + prov + b"}")

    def seal(self):
        self.line(b'"seal":true,"records":%d}' % self.records)

    def data(self):
        return b"".join(self.lines)

    def write(self, path):
        with open(path, "wb") as f:
            f.write(self.data())


def clean_env():
    env = dict(os.environ)
    env.pop("AUDITLOG_STORE", None)
    return env


def split_lines(data: bytes):
    """The file's lines, each with its newline."""
    return [x + b"\n" for x in data.split(b"\n")[:-1]]


def tampered(data: bytes, how):
    """Line 3 (from 1) with one byte changed inside its event, removed, or
    swapped with line 4."""
    lines = split_lines(data)
    if how == "changed byte":
        line = bytearray(lines[2])
        i = line.rindex(b'"n":') + 4        # a digit: still valid JSON
        line[i] = ord("9") if line[i] != ord("9") else ord("8")
        lines[2] = bytes(line)
    elif how == "removed line":
        del lines[2]
    elif how == "swapped lines":
        lines[2], lines[3] = lines[3], lines[2]
    return b"".join(lines)


def events(n, tag, every_nth_without=0):
    out = []
    for i in range(n):
        if every_nth_without and i % every_nth_without == 0:
            out.append(b'{"type":"test.nid","source":"tests","tag":"%s","n":%d}'
                       % (tag.encode(), i))
        else:
            out.append(b'{"type":"test.replay","id":"%s-%d","source":"tests","n":%d}'
                       % (tag.encode(), i, i))
    return out


class ReplayTest(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="alog-replay-")
        self.addCleanup(self._tmp.cleanup)
        self.dir = self._tmp.name

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def run_cmd(self, *args, input=None, expect=None):
        p = subprocess.run(WRAP + [BIN] + [str(a) for a in args], input=input,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           cwd=self.dir, env=clean_env(), timeout=DEADLINE)
        if expect is not None and p.returncode != expect:
            self.fail("auditlog %s: exit %d, wanted %d\nstdout: %s\nstderr: %s" % (
                " ".join(map(str, args)), p.returncode, expect,
                p.stdout.decode("utf-8", "replace")[-2000:],
                p.stderr.decode("utf-8", "replace")[-2000:]))
        return p

    def init(self, name="store"):
        self.run_cmd("init", "--store", self.path(name), "--origin",
                     "test.example/replay", expect=EXIT_OK)
        return self.path(name)

    def replay(self, store, *files, expect=None):
        p = self.run_cmd("replay", "--store", store, *files, expect=expect)
        results = {}
        for line in p.stdout.decode().splitlines():
            m = RESULT.match(line)
            self.assertIsNotNone(m, "not a result line: %r" % line)
            results[m.group("path")] = {
                k: (int(v) if v.isdigit() else v)
                for k, v in m.groupdict().items() if v is not None}
        return p, results

    def export(self, store):
        """[(record, canonical event bytes)] in index order."""
        out = self.run_cmd("export", "--store", store, expect=EXIT_OK).stdout
        recs = []
        for line in out.split(b"\n")[:-1]:
            i = line.index(b',"event":')
            recs.append((json.loads(line), line[i + len(b',"event":'):-1]))
        return recs

    def replayed_events(self, store):
        return [r["event"] for r, _ in self.export(store)
                if r["event"]["type"] == "backup.replayed"]

    def send_backup(self, lines, name="backup.jsonl"):
        """`auditlog send --backup` with no daemon: every line backed up."""
        self.run_cmd("send", "--socket", self.path("none.sock"), "--backup",
                     self.path(name), input=b"\n".join(lines) + b"\n",
                     expect=EXIT_PARTIAL)
        with open(self.path(name), "rb") as f:
            data = f.read()
        evs = [x[76 + len(b'"event":'):-2] for x in split_lines(data)[1:]]
        return data, evs


class ReferenceWriterTest(unittest.TestCase):
    """The independent writer agrees with the published vectors."""

    def test_reference_writer_reproduces_v_backup_1_and_v_backup_2(self):
        w = Writer(V1_HEADER)
        w.event(b'{"type":"auth.login","id":"e1","source":"sso"}')
        w.event(b'{"type":"auth.login","id":"e2","source":"sso"}')
        w.seal()
        with open(os.path.join(VECTORS, "backup-v1.jsonl"), "rb") as f:
            self.assertEqual(w.data(), f.read())
        w = Writer(V1_HEADER)
        w.spool_record(b'{"type":"auth.login","id":"e1","source":"sso"}',
                       b"2023-07-01T00:00:01.250000Z", b"e1",
                       b'{"transport":"unix","uid":1000,"gid":100,"pid":4242}')
        with open(os.path.join(VECTORS, "backup-spool-1.jsonl"), "rb") as f:
            self.assertEqual(w.data(), f.read())


class ImportTest(ReplayTest):
    def test_replay_imports_every_event_of_a_send_backup_once_and_verify_passes(self):
        data, evs = self.send_backup(events(25, "imp", every_nth_without=4))
        self.assertEqual(len(evs), 25)
        store = self.init()
        p, res = self.replay(store, self.path("backup.jsonl"), expect=EXIT_OK)
        r = res[self.path("backup.jsonl")]
        file_id = json.loads(split_lines(data)[0])["file"]
        self.assertEqual((r["file"], r["records"], r["imported"],
                          r["duplicates"], r["conflicts"], r["refused"]),
                         (file_id, 25, 25, 0, 0, 0))
        self.assertNotIn("before", r)
        recs = self.export(store)
        stored = [(rec, ev) for rec, ev in recs
                  if rec["event"]["type"].startswith("test.")]
        # byte for byte, in file order, the record id is the event's id
        # (send gave the events without one a UUIDv7)
        self.assertEqual([ev for _, ev in stored], evs)
        for rec, ev in stored:
            self.assertEqual(rec["id"], json.loads(ev)["id"])
            prov = rec["provenance"]
            self.assertEqual(list(prov), ["transport", "uid", "gid", "pid"])
            self.assertEqual(prov["transport"], "replay")
            self.assertEqual(prov["uid"], os.getuid())
            self.assertEqual(prov["gid"], os.getgid())
        rp = self.replayed_events(store)
        self.assertEqual(len(rp), 1)
        self.assertEqual(
            {k: rp[0][k] for k in ("source", "origin", "file", "path",
                                   "records", "imported", "duplicates",
                                   "conflicts", "refused", "drained")},
            {"source": "auditlog", "origin": "import", "file": file_id,
             "path": self.path("backup.jsonl"), "records": 25,
             "imported": 25, "duplicates": 0, "conflicts": 0, "refused": 0,
             "drained": False})
        self.assertEqual(recs[-1][0]["event"]["type"], "backup.replayed")
        self.run_cmd("verify", "--store", store, expect=EXIT_OK)

    def test_second_replay_imports_nothing_and_logs_a_second_backup_replayed(self):
        self.send_backup(events(12, "twice", every_nth_without=3))
        store = self.init()
        bk = self.path("backup.jsonl")
        _, res = self.replay(store, bk, expect=EXIT_OK)
        self.assertEqual(res[bk]["imported"], 12)
        size = len(self.export(store))
        _, res = self.replay(store, bk, expect=EXIT_OK)
        self.assertEqual((res[bk]["imported"], res[bk]["duplicates"],
                          res[bk]["conflicts"], res[bk]["refused"]),
                         (0, 12, 0, 0))
        recs = self.export(store)
        self.assertEqual(len(recs), size + 1)     # the second backup.replayed
        rp = self.replayed_events(store)
        self.assertEqual([(e["imported"], e["duplicates"], e["records"])
                          for e in rp], [(12, 0, 12), (0, 12, 12)])
        ids = [r["id"] for r, _ in recs
               if r["event"]["type"].startswith("test.")]
        self.assertEqual(len(ids), 12)
        self.assertEqual(len(set(ids)), 12)
        self.run_cmd("verify", "--store", store, expect=EXIT_OK)

    def test_events_without_ids_get_file_line_ids_and_do_not_duplicate(self):
        w = Writer()
        noid = [b'{"type":"test.nid","n":%d}' % i for i in range(5)]
        w.event(b'{"type":"test.replay","id":"x1","source":"tests"}')
        for ev in noid:
            w.event(ev)
        w.write(self.path("noid.jsonl"))     # unsealed: accepted
        store = self.init()
        bk = self.path("noid.jsonl")
        _, res = self.replay(store, bk, expect=EXIT_OK)
        self.assertEqual(res[bk]["imported"], 6)
        _, res = self.replay(store, bk, expect=EXIT_OK)
        self.assertEqual((res[bk]["imported"], res[bk]["duplicates"]), (0, 6))
        recs = [(r, ev) for r, ev in self.export(store)
                if r["event"]["type"] == "test.nid"]
        # FILE:N, N the chain index (the header is 0, x1 is 1)
        self.assertEqual([r["id"] for r, _ in recs],
                         ["%s:%d" % (w.file_id, n) for n in range(2, 7)])
        self.assertEqual([ev for _, ev in recs], noid)   # events unchanged
        self.run_cmd("verify", "--store", store, expect=EXIT_OK)

    def test_a_conflicting_event_is_reported_with_its_line_and_exit_4(self):
        store = self.init()
        self.run_cmd("ingest", "--store", store,
                     input=b'{"type":"test.c","id":"c1","source":"tests","v":1}\n',
                     expect=EXIT_OK)
        w = Writer()
        w.event(b'{"type":"test.c","id":"c1","source":"tests","v":2}')
        w.event(b'{"type":"test.c","id":"c2","source":"tests","v":2}')
        w.seal()
        bk = self.path("c.jsonl")
        w.write(bk)
        p, res = self.replay(store, bk, expect=EXIT_PARTIAL)
        self.assertEqual((res[bk]["imported"], res[bk]["conflicts"]), (1, 1))
        err = p.stderr.decode()
        self.assertIn("%s line 2: conflict with record 0" % bk, err)
        v = [r["event"]["v"] for r, _ in self.export(store)
             if r["event"]["type"] == "test.c"]
        self.assertEqual(v, [1, 2])   # the stored c1 is unchanged


class RefusalTest(ReplayTest):
    def test_a_tampered_file_is_refused_naming_the_line_and_the_next_file_is_imported(self):
        for how in ("changed byte", "removed line", "swapped lines"):
            with self.subTest(tamper=how):
                tag = how.split()[0]
                data, _ = self.send_backup(events(4, tag), "bad-%s.jsonl" % tag)
                bad = self.path("bad-%s.jsonl" % tag)
                with open(bad, "wb") as f:
                    f.write(tampered(data, how))
                _, good_evs = self.send_backup(events(3, "good" + tag),
                                               "good-%s.jsonl" % tag)
                good = self.path("good-%s.jsonl" % tag)
                store = self.init("store-" + tag)
                p, res = self.replay(store, bad, good, expect=EXIT_VERIFY)
                err = p.stderr.decode()
                self.assertRegex(err, r"%s: refused, nothing imported: .*line 3"
                                 % re.escape(bad))
                self.assertNotIn(bad, res)
                self.assertEqual(res[good]["imported"], 3)
                recs = self.export(store)
                self.assertEqual([ev for r, ev in recs
                                  if r["event"]["type"].startswith("test.")],
                                 good_evs)
                self.assertEqual([e["path"] for e in
                                  self.replayed_events(store)], [good])
                self.run_cmd("verify", "--store", store, expect=EXIT_OK)

    def test_lines_only_the_daemon_may_write_are_refused_with_exit_4(self):
        w = Writer()
        w.event(b'{"type":"test.ok","id":"o1","source":"tests"}')
        w.event(b'{"type":"daemon.started","id":"r1","source":"tests"}')
        w.event(b'{"type":"breaker.transition","id":"r2","source":"tests",'
                b'"component":"primary_store"}')
        w.spool_record(b'{"type":"test.ok","id":"r3","source":"tests"}',
                       b"2024-02-29T12:34:56.789012Z", b"r3",
                       b'{"transport":"internal","uid":0,"pid":1}')
        w.event(b'{"type":"test.ok","id":"o2","source":"tests"}')
        w.seal()
        bk = self.path("reserved.jsonl")
        w.write(bk)
        store = self.init()
        p, res = self.replay(store, bk, expect=EXIT_PARTIAL)
        self.assertEqual((res[bk]["records"], res[bk]["imported"],
                          res[bk]["refused"]), (5, 2, 3))
        err = p.stderr.decode()
        self.assertIn("%s line 3: refused (reserved_type)" % bk, err)
        self.assertIn("%s line 4: refused (reserved_component)" % bk, err)
        self.assertIn("%s line 5: refused (bad_field)" % bk, err)
        ids = [r["id"] for r, _ in self.export(store)
               if r["event"].get("source") == "tests"]
        self.assertEqual(ids, ["o1", "o2"])
        # --quiet still names every refused line
        p, res = self.replay(store, "--quiet", bk, expect=EXIT_PARTIAL)
        self.assertEqual(res[bk]["refused"], 3)
        self.assertEqual(p.stderr.decode().count("refused ("), 3)


class UsageTest(ReplayTest):
    def test_help_exits_0_and_teaches(self):
        p = self.run_cmd("replay", "--help", expect=EXIT_OK)
        out = p.stdout.decode()
        self.assertTrue(out.startswith("usage: auditlog replay"))
        for word in ("--store", "duplicate", "conflict", "backup.replayed",
                     "exit status"):
            self.assertIn(word, out)
        self.assertEqual(p.stderr, b"")
        self.run_cmd("replay", expect=EXIT_USAGE)
        self.run_cmd("replay", "--no-such-option", "x", expect=EXIT_USAGE)

    def test_a_missing_file_exits_1_and_the_others_are_imported(self):
        store = self.init()
        self.send_backup(events(2, "m"))
        missing = self.path("missing.jsonl")
        p, res = self.replay(store, missing, self.path("backup.jsonl"),
                             expect=EXIT_VERIFY)
        self.assertIn(missing, p.stderr.decode())
        self.assertEqual(res[self.path("backup.jsonl")]["imported"], 2)

    def test_replay_while_a_daemon_holds_the_store_names_the_lock_holder(self):
        store = self.init()
        self.send_backup(events(2, "lock"))
        log = self.path("serve.log")
        with open(log, "wb") as err:
            d = subprocess.Popen(WRAP + [BIN, "serve", "--store", store],
                                 stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=err,
                                 cwd=self.dir, env=clean_env())

        def stop():
            if d.poll() is None:
                d.send_signal(signal.SIGTERM)
                try:
                    d.wait(DEADLINE)
                except subprocess.TimeoutExpired:
                    d.kill()
                    d.wait()
        self.addCleanup(stop)
        end = time.monotonic() + DEADLINE
        while True:
            with open(log, "rb") as f:
                text = f.read().decode("utf-8", "replace")
            if 'msg="daemon started"' in text:
                break
            if d.poll() is not None or time.monotonic() > end:
                self.fail("the daemon did not start:\n" + text[-2000:])
            time.sleep(0.01)   # a poll interval
        p, res = self.replay(store, self.path("backup.jsonl"),
                             expect=EXIT_OPER)
        self.assertEqual(res, {})
        self.assertIn("in use by process %d" % d.pid, p.stderr.decode())
        stop()
        self.assertEqual(d.returncode, 0)
        # once the daemon is gone, the same command works
        _, res = self.replay(store, self.path("backup.jsonl"), expect=EXIT_OK)
        self.assertEqual(res[self.path("backup.jsonl")]["imported"], 2)


if __name__ == "__main__":
    sys.path.insert(0, HERE)
    import runner  # noqa: E402
    sys.exit(runner.main(__name__, BIN))
