#!/usr/bin/python3
"""End-to-end tests of `auditlog send` (suite `cli`): SPEC.md sections 15
(answers) and 16 (backup files).

Backup files are verified here by an independent reader written from
SPEC.md 16 alone (hashlib, json): prefix, chain, header first, records,
seal last and its count. Tests that need a running daemon start
`auditlog serve`; when serve is not built they are skipped ("serve not
available").

Environment: ALOG_BIN (the binary; default build/tools/auditlog),
ALOG_BIN_WRAP (a command to run it under, e.g. valgrind), ALOG_VECTORS.
The last line printed is "N passed, N failed"; the exit status is 1 when
anything failed.
"""
import fcntl
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
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
VECTORS = os.environ.get("ALOG_VECTORS") or os.path.join(HERE, "..", "vectors")

EXIT_OK, EXIT_VERIFY, EXIT_USAGE, EXIT_OPER, EXIT_PARTIAL = 0, 1, 2, 3, 4
BACKUP_LINE_MAX = 65536 + 1024
UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                   r"[0-9a-f]{12}$")
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?"
                     r"(Z|[+-]\d\d:\d\d)$")
CHAIN_PREFIX = re.compile(rb'^\{"chain":"([0-9a-f]{64})",')


class BackupError(Exception):
    pass


def pairs(kv):
    keys = [k for k, _ in kv]
    if len(keys) != len(set(keys)):
        raise BackupError("duplicate key")
    return kv   # keep member order


def read_backup(data: bytes):
    """Verify a backup file per SPEC.md 16.1. Returns a dict with header,
    events (raw bytes), sealed, torn (bytes of a torn tail)."""
    lines = data.split(b"\n")
    torn = lines.pop()  # after the last newline: b"" unless torn
    prev = bytes(32)
    out = {"header": None, "events": [], "sealed": False, "torn": torn}
    for n, line in enumerate(lines, start=1):
        if out["sealed"]:
            raise BackupError("line %d follows the seal" % n)
        if len(line) > BACKUP_LINE_MAX:
            raise BackupError("line %d too long" % n)
        m = CHAIN_PREFIX.match(line)
        if not m:
            raise BackupError("line %d: bad prefix" % n)
        body = line[76:]
        h = hashlib.sha256(prev + body).digest()
        if h.hex().encode() != m.group(1):
            raise BackupError("line %d: chain" % n)
        prev = h
        members = json.loads(line.decode("utf-8"), object_pairs_hook=pairs)
        keys = [k for k, _ in members]
        if n == 1:
            if keys[:4] != ["chain", "backup", "file", "created"]:
                raise BackupError("line 1: not a header")
            vals = dict(members)
            if vals["backup"] != "auditlog/1" or not UUID7.match(vals["file"]) \
                    or not RFC3339.match(vals["created"]):
                raise BackupError("line 1: header values")
            out["header"] = vals
        elif keys == ["chain", "event"]:
            if not (body.startswith(b'"event":{') and body.endswith(b"}")):
                raise BackupError("line %d: record" % n)
            out["events"].append(body[len(b'"event":'):-1])
        elif keys == ["chain", "seal", "records"]:
            vals = dict(members)
            if vals["seal"] is not True or vals["records"] != len(out["events"]):
                raise BackupError("line %d: seal" % n)
            out["sealed"] = True
        else:
            raise BackupError("line %d: unknown line" % n)
    if out["header"] is None:
        raise BackupError("no header")
    if out["sealed"] and torn:
        raise BackupError("bytes after the seal")
    return out


def clean_env():
    env = dict(os.environ)
    env.pop("AUDITLOG_STORE", None)
    return env


def events(n, tag, with_ids=True, every_nth_without=0):
    """NDJSON: events with ids of their own, some (every_nth_without)
    without an id."""
    out = []
    for i in range(n):
        if not with_ids or (every_nth_without and i % every_nth_without == 0):
            out.append(b'{"type":"test.nid","source":"tests","tag":"%s","n":%d}'
                       % (tag.encode(), i))
        else:
            out.append(b'{"type":"test.send","id":"%s-%d","source":"tests","n":%d}'
                       % (tag.encode(), i, i))
    return out


def with_inserted_id(sent: bytes, got: bytes):
    """got is sent with "id":"<uuid7>" inserted right after the first '{'."""
    brace = sent.index(b"{")
    m = re.match(rb'^\{"id":"([0-9a-f-]{36})"(,?)', got[brace:])
    if got[:brace] != sent[:brace] or not m:
        return None
    rest = got[brace + m.end():]
    if rest != sent[brace + 1:] or not UUID7.match(m.group(1).decode()):
        return None
    if (m.group(2) == b",") != (sent[brace + 1:].strip() != b"}"):
        return None
    return m.group(1).decode()


class Serve:
    """`auditlog serve` in the background; stderr drained by a thread."""

    def __init__(self, test, store, *extra):
        self.lines = []
        self.ready = threading.Event()
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(
            WRAP + [BIN, "serve", "--store", store] + list(extra),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, env=clean_env())
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()
        if not self.ready.wait(60) or self.proc.poll() is not None:
            self.proc.kill()
            self.proc.wait()
            self.thread.join(10)
            text = b"".join(self.lines).decode("utf-8", "replace")
            if "not built yet" in text:
                test.skipTest("serve not available")
            test.fail("serve did not start: %s" % text[-2000:])
        test.addCleanup(self.stop)

    def _drain(self):
        for line in self.proc.stderr:
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()
            if b'msg=listening' in line and b"transport=unix" in line:
                self.ready.set()
        self.ready.set()
        with self.cond:
            self.lines.append(b"")   # end of output
            self.cond.notify_all()

    def addr(self, transport):
        """The address of the listener of this transport (waits for its
        'listening' line)."""
        def find():
            for line in self.lines:
                if b"msg=listening" in line and \
                        b"transport=" + transport + b" " in line:
                    m = re.search(rb"addr=(\S+)", line)
                    if m:
                        return m.group(1).decode()
            if self.lines and self.lines[-1] == b"":
                return ""
            return None
        with self.cond:
            found = self.cond.wait_for(find, 60)
        return found or None

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(60)
        self.thread.join(10)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.thread.join(10)
        return self.proc.returncode


class SendTest(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="alog-send-")
        self.addCleanup(self._tmp.cleanup)
        self.dir = self._tmp.name

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def run_cmd(self, *args, input=None, expect=None):
        p = subprocess.run(WRAP + [BIN] + [str(a) for a in args], input=input,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           cwd=self.dir, env=clean_env(), timeout=300)
        if expect is not None and p.returncode != expect:
            self.fail("auditlog %s: exit %d, wanted %d\nstderr: %s" % (
                " ".join(map(str, args)), p.returncode, expect,
                p.stderr.decode("utf-8", "replace")[-2000:]))
        return p

    def send(self, *args, input=b"", expect=None):
        return self.run_cmd("send", *args, input=input, expect=expect)

    def answers(self, p):
        out = p.stdout
        self.assertTrue(out == b"" or out.endswith(b"\n"))
        return [json.loads(x, object_pairs_hook=pairs)
                for x in out.split(b"\n")[:-1]]

    def init(self, name="store"):
        self.run_cmd("init", "--store", self.path(name), "--origin",
                     "test.example/auditlog", expect=EXIT_OK)
        return self.path(name)

    def export_events(self, store):
        out = self.run_cmd("export", "--store", store, expect=EXIT_OK).stdout
        recs = []
        for line in out.split(b"\n")[:-1]:
            rec = json.loads(line)
            # the record's last member is the canonical event, verbatim
            i = line.index(b',"event":')
            recs.append((rec, line[i + len(b',"event":'):-1]))
        return recs

    def read_backup_file(self, name="backup.jsonl"):
        with open(self.path(name), "rb") as f:
            return read_backup(f.read())

    def backed_up(self, a):
        return len(a) == 4 and list(a) == [
            ("ok", False), ("code", "backed_up"), ("retry", True),
            ("error", a[3][1])] and isinstance(a[3][1], str)

    def assert_backed_up_answers(self, answers, first_line=2):
        for k, a in enumerate(answers):
            self.assertTrue(self.backed_up(a), a)
            self.assertIn("line %d" % (first_line + k), a[3][1])


class ReferenceReaderTest(unittest.TestCase):
    """The independent reader agrees with the published vector."""

    def test_reference_reader_accepts_v_backup_1_and_refuses_a_changed_byte(self):
        with open(os.path.join(VECTORS, "backup-v1.jsonl"), "rb") as f:
            data = f.read()
        b = read_backup(data)
        self.assertTrue(b["sealed"])
        self.assertEqual(b["events"], [
            b'{"type":"auth.login","id":"e1","source":"sso"}',
            b'{"type":"auth.login","id":"e2","source":"sso"}'])
        self.assertEqual(b["header"]["file"],
                         "01890a5d-ac96-774b-bcce-b302099a8057")
        for off in (5, 80, len(data) // 2, len(data) - 3):
            bad = bytearray(data)
            bad[off] ^= 0x01
            with self.assertRaises((BackupError, ValueError)):
                read_backup(bytes(bad))


class NoDaemonTest(SendTest):
    def test_send_without_daemon_and_without_backup_does_nothing_and_exits_3(self):
        p = self.send("--store", self.path("nostore"),
                      input=b'{"type":"a.b"}\n', expect=EXIT_OPER)
        self.assertEqual(p.stdout, b"")
        err = p.stderr.decode()
        self.assertIn(self.path("nostore", "auditlog.sock"), err)
        self.assertIn("--backup", err)
        p = self.send("--socket", self.path("x.sock"), input=b"",
                      expect=EXIT_OPER)
        self.assertFalse(os.path.exists(self.path("backup.jsonl")))

    def test_send_without_daemon_backs_up_every_event_and_exits_4(self):
        lines = events(30, "nd", every_nth_without=3)
        lines.append(b' \t{ "type" : "test.nid" , "ws" : [ 1 , 2 ] } ')
        lines.append(b'{}')
        p = self.send("--store", self.path("nostore"), "--backup",
                      self.path("backup.jsonl"),
                      input=b"\n".join(lines) + b"\n", expect=EXIT_PARTIAL)
        answers = self.answers(p)
        self.assertEqual(len(answers), len(lines))
        self.assert_backed_up_answers(answers)
        self.assertRegex(p.stderr.decode(), r"32 backed up to '.*backup\.jsonl'")
        self.assertEqual(os.stat(self.path("backup.jsonl")).st_mode & 0o777,
                         0o600)
        b = self.read_backup_file()
        self.assertFalse(b["sealed"])
        self.assertEqual(b["torn"], b"")
        self.assertEqual(len(b["events"]), len(lines))
        ids = set()
        for sent, got in zip(lines, b["events"]):
            if b'"id"' in sent:
                self.assertEqual(got, sent)      # byte for byte
            else:
                # the id is inserted after '{'; the writer keeps the
                # object only (whitespace outside it is not part of it)
                obj = sent.strip(b" \t")
                uid = with_inserted_id(obj, got)
                self.assertIsNotNone(uid, (sent, got))
                ids.add(uid)
        self.assertEqual(len(ids), 12)

    def test_ingest_of_the_backup_stores_each_event_once_and_again_is_all_duplicates(self):
        lines = events(40, "ing", every_nth_without=4)
        self.send("--socket", self.path("none.sock"), "--backup",
                  self.path("backup.jsonl"), input=b"\n".join(lines) + b"\n",
                  expect=EXIT_PARTIAL)
        evs = self.read_backup_file()["events"]
        store = self.init()
        p = self.run_cmd("ingest", "--store", store,
                         input=b"\n".join(evs) + b"\n", expect=EXIT_OK)
        self.assertIn("stored 40 events", p.stderr.decode())
        recs = [r for r in self.export_events(store)
                if r[0]["event"]["type"].startswith("test.")]
        self.assertEqual([e for _, e in recs], evs)
        for rec, ev in recs:
            self.assertEqual(rec["id"], json.loads(ev)["id"])
        p = self.run_cmd("ingest", "--store", store,
                         input=b"\n".join(evs) + b"\n", expect=EXIT_OK)
        self.assertIn("40 duplicates", p.stderr.decode())
        self.run_cmd("verify", "--store", store, expect=EXIT_OK)

    def test_send_appends_to_an_existing_backup_and_its_chain_goes_on(self):
        a, b = events(5, "a"), events(7, "b", with_ids=False)
        bk = self.path("backup.jsonl")
        self.send("--socket", self.path("none.sock"), "--backup", bk,
                  input=b"\n".join(a) + b"\n", expect=EXIT_PARTIAL)
        first = self.read_backup_file()
        p = self.send("--socket", self.path("none.sock"), "--backup", bk,
                      input=b"\n".join(b) + b"\n", expect=EXIT_PARTIAL)
        self.assert_backed_up_answers(self.answers(p), first_line=7)
        both = self.read_backup_file()
        self.assertEqual(both["header"], first["header"])
        self.assertEqual(both["events"][:5], a)
        self.assertEqual(len(both["events"]), 12)

    def test_send_rejects_lines_that_are_no_event_when_backing_up(self):
        lines = [b'{"type":"ok.one","id":"1"}', b"not json", b"[1,2]", b"",
                 b'{"a":"\xff"}', b'{"a":1,"a":2}', b"x" * 70000,
                 b'{"type":"ok.two","id":"2"}', b"   "]
        codes = [None, "not_json", "not_object", "empty", "bad_utf8",
                 "duplicate_key", "too_long", None, "empty"]
        p = self.send("--socket", self.path("none.sock"), "--backup",
                      self.path("backup.jsonl"),
                      input=b"\n".join(lines) + b"\n", expect=EXIT_PARTIAL)
        answers = self.answers(p)
        self.assertEqual(len(answers), len(lines))
        for a, code in zip(answers, codes):
            if code is None:
                self.assertTrue(self.backed_up(a), a)
            else:
                self.assertEqual(a[:3], [("ok", False), ("code", code),
                                         ("retry", False)])
        self.assertEqual(self.read_backup_file()["events"],
                         [lines[0], lines[7]])
        self.assertIn("7 rejected", p.stderr.decode())
        # --quiet: no answers; the rejected lines named on stderr
        p = self.send("--quiet", "--socket", self.path("none.sock"),
                      "--backup", self.path("b2.jsonl"),
                      input=b"\n".join(lines) + b"\n", expect=EXIT_PARTIAL)
        self.assertEqual(p.stdout, b"")
        err = p.stderr.decode()
        self.assertIn("stdin:2: not_json", err)
        self.assertIn("stdin:7: too_long", err)
        self.assertIn("2 backed up", err)

    def test_send_refuses_a_backup_file_locked_by_another_writer(self):
        bk = self.path("backup.jsonl")
        self.send("--socket", self.path("none.sock"), "--backup", bk,
                  input=b'{"type":"a.b","id":"1"}\n', expect=EXIT_PARTIAL)
        size = os.path.getsize(bk)
        with open(bk, "rb") as f:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            p = self.send("--socket", self.path("none.sock"), "--backup", bk,
                          input=b'{"type":"a.b","id":"2"}\n', expect=EXIT_OPER)
        self.assertIn("locked", p.stderr.decode())
        self.assertEqual(p.stdout, b"")
        self.assertEqual(os.path.getsize(bk), size)

    def test_send_refuses_a_sealed_or_tampered_backup_naming_the_line(self):
        with open(os.path.join(VECTORS, "backup-v1.jsonl"), "rb") as f:
            v1 = f.read()
        bk = self.path("backup.jsonl")
        with open(bk, "wb") as f:
            f.write(v1)
        p = self.send("--socket", self.path("none.sock"), "--backup", bk,
                      input=b'{"type":"a.b"}\n', expect=EXIT_OPER)
        self.assertIn("sealed", p.stderr.decode())
        unsealed = b"\n".join(v1.split(b"\n")[:3]) + b"\n"
        tampered = unsealed.replace(b'"e2"', b'"e3"')
        with open(bk, "wb") as f:
            f.write(tampered)
        p = self.send("--socket", self.path("none.sock"), "--backup", bk,
                      input=b'{"type":"a.b"}\n', expect=EXIT_OPER)
        self.assertIn("line 3", p.stderr.decode())
        with open(bk, "rb") as f:
            self.assertEqual(f.read(), tampered)

    def test_send_cuts_a_torn_backup_tail_reports_it_and_goes_on(self):
        with open(os.path.join(VECTORS, "backup-v1.jsonl"), "rb") as f:
            v1 = f.read()
        three = b"\n".join(v1.split(b"\n")[:3]) + b"\n"
        bk = self.path("backup.jsonl")
        with open(bk, "wb") as f:
            f.write(three + b'{"chain":"00ab')
        p = self.send("--socket", self.path("none.sock"), "--backup", bk,
                      input=b'{"type":"a.b","id":"9"}\n', expect=EXIT_PARTIAL)
        err = p.stderr.decode()
        self.assertIn("torn", err)
        self.assertIn("line 4", err)
        b = self.read_backup_file()
        self.assertEqual(b["events"][2], b'{"type":"a.b","id":"9"}')
        self.assertTrue(open(bk, "rb").read().startswith(three))

    def test_send_usage_errors_exit_2_and_help_teaches(self):
        p = self.send("--help", expect=EXIT_OK)
        out = p.stdout.decode()
        self.assertTrue(out.startswith("usage: auditlog send"))
        for word in ("--backup", "--socket", "--connect", "--tls-ca", "UUIDv7",
                     "backed_up", "exit status"):
            self.assertIn(word, out)
        self.assertEqual(p.stderr, b"")
        for args in (["--socket", "a", "--connect", "127.0.0.1:1"],
                     ["--tls-ca", "ca.pem"],
                     ["--connect", "127.0.0.1:1", "--tls-cert", "c.pem",
                      "--tls-ca", "ca.pem"],
                     ["--no-such-option"],
                     ["--connect", "nonsense"],
                     ["--connect", "[::1]80"],
                     ["--socket", "/" + "s" * 107],
                     ["--timeout", "soon"], ["--timeout", "-1"]):
            p = self.send(*args, expect=EXIT_USAGE)
            self.assertEqual(p.stdout, b"")
        self.send("--socket", "/" + "s" * 106, expect=EXIT_OPER)

    def test_send_reads_files_in_turn_and_names_them(self):
        self.write = lambda n, d: open(self.path(n), "wb").write(d)
        self.write("one.ndjson", b'{"type":"a.b","id":"1"}\nbad\n')
        self.write("two.ndjson", b'{"type":"a.b","id":"2"}\r\n{"type":"a.b","id":"3"}')
        p = self.send("--quiet", "--socket", self.path("none.sock"),
                      "--backup", self.path("backup.jsonl"),
                      self.path("one.ndjson"), self.path("two.ndjson"),
                      expect=EXIT_PARTIAL)
        self.assertIn("one.ndjson:2: not_json", p.stderr.decode())
        self.assertEqual(self.read_backup_file()["events"],
                         [b'{"type":"a.b","id":"1"}', b'{"type":"a.b","id":"2"}',
                          b'{"type":"a.b","id":"3"}'])
        self.send("--socket", self.path("none.sock"), "--backup",
                  self.path("backup.jsonl"), self.path("missing.ndjson"),
                  expect=EXIT_OPER)


class SilentDaemonTest(SendTest):
    def test_send_times_out_on_a_daemon_that_never_answers(self):
        """A daemon that takes lines and never answers: after --timeout
        every line without an answer is in the backup file."""
        import socket
        sock = self.path("silent.sock")
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(sock)
        srv.listen(1)
        got = []

        def serve():
            conn, _ = srv.accept()
            with conn:
                while True:
                    b = conn.recv(65536)
                    if not b:
                        break
                    got.append(b)

        t = threading.Thread(target=serve, daemon=True)
        t.start()
        lines = events(10, "silent")
        p = self.send("--socket", sock, "--timeout", "1", "--backup",
                      self.path("backup.jsonl"),
                      input=b"\n".join(lines) + b"\n", expect=EXIT_PARTIAL)
        t.join(60)
        srv.close()
        answers = self.answers(p)
        self.assert_backed_up_answers(answers)
        self.assertIn("no answer", answers[0][3][1])
        self.assertEqual(self.read_backup_file()["events"], lines)
        self.assertEqual(b"".join(got), b"\n".join(lines) + b"\n")


class LiveDaemonTest(SendTest):
    def start(self, store, *extra):
        return Serve(self, store, *extra)

    def test_send_to_a_live_daemon_acks_every_event_once_with_seq_values(self):
        store = self.init()
        d = self.start(store)
        lines = events(300, "live", every_nth_without=5)
        p = self.send("--store", store, "--backup", self.path("backup.jsonl"),
                      input=b"\n".join(lines) + b"\n", expect=EXIT_OK)
        answers = self.answers(p)
        self.assertEqual(len(answers), 300)
        seqs = []
        for a in answers:
            self.assertEqual([k for k, _ in a], ["ok", "seq"])
            seqs.append(a[1][1])
        self.assertEqual(seqs, sorted(set(seqs)))   # distinct, in order
        self.assertIn("300 acknowledged (300 stored", p.stderr.decode())
        self.assertFalse(os.path.exists(self.path("backup.jsonl")))
        self.assertEqual(d.stop(), 0)
        recs = self.export_events(store)
        for sent, seq in zip(lines, seqs):
            rec, ev = recs[seq]
            self.assertEqual(rec["index"], seq)
            if b'"id"' in sent:
                self.assertEqual(ev, sent)
            else:
                self.assertEqual(with_inserted_id(sent, ev), rec["id"])
        producer = [r for r in recs if r[0]["event"]["type"].startswith("test.")]
        self.assertEqual(len(producer), 300)
        self.run_cmd("verify", "--store", store, expect=EXIT_OK)

    def test_a_last_line_without_newline_is_answered_before_the_next_file(self):
        # The last line of a FILE without a final newline comes with the
        # FILE's end: it is written and answered before send opens the
        # next FILE (a FIFO here, whose open waits for a writer), so the
        # daemon's idle close of the connection meanwhile loses nothing.
        store = self.init()
        d = self.start(store, "--idle-timeout", "1")
        with open(self.path("f1"), "wb") as f:
            f.write(b'{"type":"test.a","id":"nl-1"}')
        os.mkfifo(self.path("ff"))

        def sockets():
            fds = "/proc/%d/fd" % d.proc.pid
            n = 0
            for name in os.listdir(fds):
                try:
                    n += os.readlink(os.path.join(fds, name)).startswith(
                        "socket:")
                except OSError:
                    pass   # closed meanwhile
            return n
        idle = sockets()
        p = subprocess.Popen(
            WRAP + [BIN, "send", "--store", store, "--backup",
                    self.path("backup.jsonl"), self.path("f1"),
                    self.path("ff")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=self.dir,
            env=clean_env())
        try:
            # the connection, its one line answered, goes idle and closes
            with d.cond:
                closed = d.cond.wait_for(lambda: any(
                    b"idle timeout" in x and b"lines=1 " in x
                    for x in d.lines), 60)
            self.assertTrue(closed, b"".join(d.lines)[-2000:])
            # the daemon logs the close, then closes: a line written in
            # between would meet the close (and go to the backup file)
            deadline = time.monotonic() + 60
            while sockets() != idle and time.monotonic() < deadline:
                time.sleep(0.01)  # poll interval, not a wait for an outcome
            self.assertEqual(sockets(), idle)
            with open(self.path("ff"), "wb") as f:
                f.write(b'{"type":"test.a","id":"nl-2"}\n')
            out, err = p.communicate(timeout=300)
        finally:
            if p.poll() is None:
                p.kill()
                p.communicate()
        self.assertEqual(p.returncode, EXIT_OK, err.decode("utf-8", "replace"))
        answers = [json.loads(x) for x in out.split(b"\n")[:-1]]
        self.assertEqual([list(a) for a in answers], [["ok", "seq"]] * 2)
        self.assertFalse(os.path.exists(self.path("backup.jsonl")))

    def test_resending_to_a_live_daemon_is_all_duplicates(self):
        store = self.init()
        self.start(store)
        lines = events(50, "dup")
        first = self.answers(self.send("--store", store,
                                       input=b"\n".join(lines) + b"\n",
                                       expect=EXIT_OK))
        again = self.answers(self.send("--store", store,
                                       input=b"\n".join(lines) + b"\n",
                                       expect=EXIT_OK))
        self.assertEqual(len(again), 50)
        for a, b in zip(first, again):
            self.assertEqual(b, [("ok", True), ("duplicate", True),
                                 ("seq", a[1][1])])

    def test_backup_sent_to_the_daemon_is_duplicates_of_what_it_stored(self):
        """Events backed up while the daemon was down, some of which the
        daemon had stored anyway, go in exactly once."""
        store = self.init()
        lines = events(20, "late", every_nth_without=2)
        self.send("--store", store, "--backup", self.path("backup.jsonl"),
                  input=b"\n".join(lines) + b"\n", expect=EXIT_PARTIAL)
        evs = self.read_backup_file()["events"]
        self.start(store)
        half = self.answers(self.send("--store", store,
                                      input=b"\n".join(evs[:10]) + b"\n",
                                      expect=EXIT_OK))
        self.assertTrue(all(a[1] == ("seq", a[1][1]) for a in half))
        allof = self.answers(self.send("--store", store,
                                       input=b"\n".join(evs) + b"\n",
                                       expect=EXIT_OK))
        self.assertEqual([a[1] for a in allof[:10]],
                         [("duplicate", True)] * 10)
        self.assertEqual([a[0] for a in allof[10:]], [("ok", True)] * 10)
        self.assertEqual([len(a) for a in allof[10:]], [2] * 10)

    def test_daemon_killed_mid_stream_loses_nothing_and_stores_nothing_twice(self):
        store = self.init()
        d = self.start(store)
        first = events(20000, "k1", every_nth_without=7)
        later = events(3000, "k2", every_nth_without=7)
        bk = self.path("backup.jsonl")
        p = subprocess.Popen(WRAP + [BIN, "send", "--store", store, "--backup",
                                     bk], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             cwd=self.dir, env=clean_env())
        out, errs = [], []
        flowing = threading.Event()

        def read_answers():
            for line in p.stdout:
                out.append(line)
                if len(out) >= 100:
                    flowing.set()
            flowing.set()

        readers = [threading.Thread(target=read_answers, daemon=True),
                   threading.Thread(target=lambda: errs.append(p.stderr.read()),
                                    daemon=True)]
        for t in readers:
            t.start()
        feeder = threading.Thread(
            target=lambda: p.stdin.write(b"\n".join(first) + b"\n"),
            daemon=True)
        feeder.start()
        # once answers flow, the daemon dies with lines in flight
        self.assertTrue(flowing.wait(300))
        self.assertGreaterEqual(len(out), 100, errs)
        d.kill()
        feeder.join(300)
        p.stdin.write(b"\n".join(later) + b"\n")   # after the kill
        p.stdin.close()
        code = p.wait(300)
        for t in readers:
            t.join(60)
        self.assertEqual(code, EXIT_PARTIAL, errs)
        answers = [json.loads(x, object_pairs_hook=pairs) for x in out]
        lines = first + later
        self.assertEqual(len(answers), len(lines))
        acked = sum(1 for a in answers if a[0] == ("ok", True))
        backed = sum(1 for a in answers if self.backed_up(a))
        self.assertEqual(acked + backed, len(lines))
        self.assertGreaterEqual(backed, len(later))
        self.assertRegex(errs[0].decode(), r"%d backed up" % backed)
        # everything not acknowledged is in the backup, in input order
        b = self.read_backup_file()
        self.assertEqual(len(b["events"]), backed)
        # import the backup (the daemon is gone, the store lock with it)
        p = self.run_cmd("ingest", "--store", store,
                         input=b"\n".join(b["events"]) + b"\n",
                         expect=EXIT_OK)
        m = re.search(r"stored (\d+) events?.*?, (\d+) duplicates, 0 rejected",
                      p.stderr.decode())
        self.assertIsNotNone(m, p.stderr)
        # those stored before the kill whose answers were lost: duplicates
        self.assertEqual(int(m.group(1)) + int(m.group(2)), backed)
        recs = self.export_events(store)
        seen = {}
        for rec, ev in recs:
            e = json.loads(ev)
            if e["type"].startswith("test."):
                key = (e["type"], e.get("tag"), e["n"]) if e["type"] == "test.nid" \
                    else e["id"]
                seen[key] = seen.get(key, 0) + 1
        want = set()
        for line in lines:
            e = json.loads(line)
            want.add((e["type"], e.get("tag"), e["n"])
                     if e["type"] == "test.nid" else e["id"])
        self.assertEqual(set(seen), want)
        self.assertEqual(set(seen.values()), {1})   # exactly once each
        self.run_cmd("verify", "--store", store, expect=EXIT_OK)

    def test_send_over_tls_with_client_certificate(self):
        if not shutil.which("openssl"):
            self.skipTest("openssl command not available")
        pki = self.make_pki()
        store = self.init()
        d = self.start(store, "--listen", "127.0.0.1:0", "--tls-cert",
                       pki["srv.pem"], "--tls-key", pki["srv.key"],
                       "--tls-ca", pki["ca.pem"])
        addr = d.addr(b"tls")
        self.assertIsNotNone(addr, d.lines)
        p = self.send("--connect", addr, "--tls-ca", pki["ca.pem"],
                      "--tls-cert", pki["cli.pem"], "--tls-key", pki["cli.key"],
                      input=b'{"type":"tls.one","id":"t1"}\n', expect=EXIT_OK)
        self.assertEqual(self.answers(p)[0][0], ("ok", True))
        # a daemon whose certificate does not chain to our CA: refused,
        # and nothing is sent (the input stays where it was)
        p = self.send("--connect", addr, "--tls-ca", pki["other.pem"],
                      "--tls-cert", pki["cli.pem"], "--tls-key", pki["cli.key"],
                      "--backup", self.path("backup.jsonl"),
                      input=b'{"type":"tls.two","id":"t2"}\n')
        self.assertEqual(p.returncode, EXIT_OPER, p.stderr)
        self.assertFalse(os.path.exists(self.path("backup.jsonl")))
        self.assertEqual(d.stop(), 0)
        recs = self.export_events(store)
        tls = [r for r, _ in recs if r["event"]["type"] == "tls.one"]
        self.assertEqual(len(tls), 1)
        self.assertEqual(tls[0]["provenance"]["transport"], "tls")
        self.assertIn("CN=producer-1", tls[0]["provenance"]["subject"])

    def make_pki(self):
        d = self.path("pki")
        os.mkdir(d)

        def ossl(*args):
            subprocess.run(["openssl"] + list(args), cwd=d, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

        for ca in ("ca", "other"):
            ossl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                 "ec_paramgen_curve:P-256", "-nodes", "-keyout", ca + ".key",
                 "-out", ca + ".pem", "-days", "2", "-subj", "/CN=test " + ca)
        with open(os.path.join(d, "srv.ext"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1\n")
        with open(os.path.join(d, "cli.ext"), "w") as f:
            f.write("extendedKeyUsage=clientAuth\n")
        for name, cn in (("srv", "127.0.0.1"), ("cli", "producer-1")):
            ossl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                 "-nodes", "-keyout", name + ".key", "-out", name + ".csr",
                 "-subj", "/CN=" + cn)
            ossl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem",
                 "-CAkey", "ca.key", "-CAcreateserial", "-out", name + ".pem",
                 "-days", "2", "-extfile", name + ".ext")
        for k in os.listdir(d):
            if k.endswith(".key"):
                os.chmod(os.path.join(d, k), 0o600)
        return {k: os.path.join(d, k) for k in os.listdir(d)}



if __name__ == "__main__":
    sys.path.insert(0, HERE)
    import runner  # noqa: E402
    sys.exit(runner.main(__name__, BIN))
