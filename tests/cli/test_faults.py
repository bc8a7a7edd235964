#!/usr/bin/python3
"""Fault tests: the disk fails on demand under `auditlog` (suite `cli`).

The failsync shim (tests/tools/failsync.c; its head comment is its
specification) is LD_PRELOADed into the process under test. While the flag
file exists, calls on files whose path contains ALOG_FAILSYNC_MATCH fail as
the flag's words say ("write ENOSPC", "sync EIO", "count=1"...). The first
tests pin the shim's own contract on a small Python child; the rest make
`auditlog ingest` meet a full disk or a failing LMDB and check that exactly
the acknowledged batches are stored, that the store verifies, and that a
resend completes it. Waits poll with deadlines, never sleep.

Environment: ALOG_BIN (the binary; default build/tools/auditlog),
ALOG_BIN_WRAP (a command to run it under, e.g. valgrind), ALOG_FAILSYNC
(the shim; default build/tests/libfailsync.so; without it every test is
skipped). The last line printed is "N passed, N failed"; the exit status
is 1 when anything failed.
"""
import json
import os
import re
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
FAILSYNC = os.environ.get("ALOG_FAILSYNC") or os.path.join(
    HERE, "..", "..", "build", "tests", "libfailsync.so")
HAVE_SHIM = os.access(FAILSYNC, os.R_OK)

EXIT_OK, EXIT_VERIFY, EXIT_USAGE, EXIT_OPER = 0, 1, 2, 3
DEADLINE = 600 if WRAP else 120  # seconds for any awaited condition
BATCH = 50  # events per batch the tests send

SUMMARY_RE = re.compile(
    r"stored (\d+) events?(?: \(index (\d+)\.\.(\d+)\))?, (\d+) duplicates, "
    r"(\d+) rejected, of (\d+) lines; tree size (\d+)")


def clean_env():
    env = dict(os.environ)
    env.pop("AUDITLOG_STORE", None)
    for k in ("LD_PRELOAD", "ALOG_FAILSYNC_FLAG", "ALOG_FAILSYNC_MATCH"):
        env.pop(k, None)
    return env


def shim_env(flag, match):
    """The environment that loads the shim with this flag and match."""
    env = clean_env()
    env.update({
        "LD_PRELOAD": FAILSYNC, "ALOG_FAILSYNC_FLAG": flag,
        "ALOG_FAILSYNC_MATCH": match,
        # an ASan build must accept the shim loaded first
        "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") +
        ":verify_asan_link_order=0"})
    return env


def arm(flag, words):
    """Make the flag appear with its whole content at once (the shim reads
    a flag seen empty as "sync EIO")."""
    tmp = flag + ".tmp"
    with open(tmp, "w") as f:
        f.write(words)
    os.rename(tmp, flag)


def disarm(flag):
    try:
        os.unlink(flag)
    except FileNotFoundError:
        pass


def event(tag, i):
    """A producer event with an id of its own (deduplicated on resend)."""
    return (b'{"type":"fault.test","id":"%s-%d","source":"tests","n":%d}'
            % (tag.encode(), i, i))


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
        time.sleep(delay)  # poll interval, not a wait for an outcome
        delay = min(delay * 2, 0.01)


# ---- the shim's own contract, on a Python child ----------------------------

# The child runs every intercepted operation on one file and prints, per
# operation, "ok" or the errno name, then the file's size and content.
CHILD_OPS = r"""
import errno, json, os, sys
path = sys.argv[1]
fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
ops = [
    ("write", lambda: os.write(fd, b"abc")),
    ("pwrite", lambda: os.pwrite(fd, b"abc", 10)),
    ("writev", lambda: os.writev(fd, [b"a", b"b"])),
    ("pwritev", lambda: os.pwritev(fd, [b"a", b"b"], 20)),
    ("ftruncate", lambda: os.ftruncate(fd, 100)),
    ("posix_fallocate", lambda: os.posix_fallocate(fd, 0, 200)),
    ("fsync", lambda: os.fsync(fd)),
    ("fdatasync", lambda: os.fdatasync(fd)),
]
out = {}
for name, op in ops:
    try:
        op()
        out[name] = "ok"
    except OSError as e:
        out[name] = errno.errorcode[e.errno]
os.close(fd)
out["size"] = os.path.getsize(path)
print(json.dumps(out))
"""

WRITE_OPS = ["write", "pwrite", "writev", "pwritev", "ftruncate",
             "posix_fallocate"]
SYNC_OPS = ["fsync", "fdatasync"]

# Threads write one byte per call to one matching file; prints how many
# calls failed with ENOSPC and how many went through.
CHILD_THREADS = r"""
import errno, os, sys, threading
path, n_threads, n_calls = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
counts = {"ok": 0, "ENOSPC": 0, "other": 0}
lock = threading.Lock()
def run():
    for _ in range(n_calls):
        try:
            os.write(fd, b"x")
            k = "ok"
        except OSError as e:
            k = "ENOSPC" if e.errno == errno.ENOSPC else "other"
        with lock:
            counts[k] += 1
ts = [threading.Thread(target=run) for _ in range(n_threads)]
for t in ts: t.start()
for t in ts: t.join()
print(counts["ok"], counts["ENOSPC"], counts["other"])
"""


@unittest.skipUnless(HAVE_SHIM, "no failsync shim at " + FAILSYNC)
class ShimTest(unittest.TestCase):
    """What the shim does to any process (here Python, not auditlog)."""

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="alog-faults-")
        self.addCleanup(self._tmp.cleanup)
        self.dir = self._tmp.name
        os.mkdir(os.path.join(self.dir, "segments"))
        self.flag = os.path.join(self.dir, "fail-now")

    def child(self, script, *args, match="/segments/", expect=0):
        p = subprocess.run([sys.executable, "-c", script] + [str(a) for a in args],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=shim_env(self.flag, match), timeout=DEADLINE)
        if expect is not None and p.returncode != expect:
            self.fail("child exit %d, wanted %d\nstderr: %s" % (
                p.returncode, expect, p.stderr.decode("utf-8", "replace")))
        return p

    def ops(self, path, **kw):
        return json.loads(self.child(CHILD_OPS, path, **kw).stdout)

    def test_an_empty_flag_fails_only_fsync_and_fdatasync_with_eio(self):
        arm(self.flag, "")
        got = self.ops(os.path.join(self.dir, "segments", "a.seg"))
        for op in WRITE_OPS:
            self.assertEqual(got[op], "ok", op)
        for op in SYNC_OPS:
            self.assertEqual(got[op], "EIO", op)
        self.assertEqual(got["size"], 200)
        self.assertTrue(os.path.exists(self.flag))

    def test_each_word_set_fails_its_classes_with_its_errno_and_writes_nothing(self):
        cases = [
            ("write ENOSPC", WRITE_OPS, "ENOSPC"),
            ("ENOSPC write", WRITE_OPS, "ENOSPC"),
            ("write EIO", WRITE_OPS, "EIO"),
            ("write\tEDQUOT\n", WRITE_OPS, "EDQUOT"),
            ("sync ENOSPC", SYNC_OPS, "ENOSPC"),
            ("EDQUOT", SYNC_OPS, "EDQUOT"),
            ("sync write EIO", WRITE_OPS + SYNC_OPS, "EIO"),
            ("all ENOSPC", WRITE_OPS + SYNC_OPS, "ENOSPC"),
        ]
        for i, (words, failing, name) in enumerate(cases):
            with self.subTest(flag=words):
                arm(self.flag, words)
                path = os.path.join(self.dir, "segments", "%d.seg" % i)
                got = self.ops(path)
                for op in WRITE_OPS + SYNC_OPS:
                    self.assertEqual(got[op], name if op in failing else "ok", op)
                if "write" in words or "all" in words:
                    # not one byte, and no size change from ftruncate or
                    # posix_fallocate either
                    self.assertEqual(got["size"], 0)
                    with open(path, "rb") as f:
                        self.assertEqual(f.read(), b"")
                else:
                    self.assertEqual(got["size"], 200)

    def test_files_whose_path_does_not_match_and_a_missing_flag_are_left_alone(self):
        arm(self.flag, "all EIO")
        got = self.ops(os.path.join(self.dir, "other.seg"))  # no /segments/
        for op in WRITE_OPS + SYNC_OPS:
            self.assertEqual(got[op], "ok", op)
        disarm(self.flag)
        got = self.ops(os.path.join(self.dir, "segments", "b.seg"))
        for op in WRITE_OPS + SYNC_OPS:
            self.assertEqual(got[op], "ok", op)
        self.assertEqual(got["size"], 200)

    def test_writes_to_the_flag_file_itself_are_never_failed(self):
        # The match covers the flag's own directory; appending white space
        # to the flag keeps its meaning and must go through.
        script = r"""
import errno, os, sys
flag, other = sys.argv[1], sys.argv[2]
fd = os.open(flag, os.O_WRONLY | os.O_APPEND)
os.write(fd, b" ")
os.close(fd)
fd = os.open(other, os.O_WRONLY | os.O_CREAT, 0o644)
try:
    os.write(fd, b"x")
    print("ok")
except OSError as e:
    print(errno.errorcode[e.errno])
"""
        arm(self.flag, "write ENOSPC")
        p = self.child(script, self.flag, os.path.join(self.dir, "x"),
                       match=self.dir)
        self.assertEqual(p.stdout.strip(), b"ENOSPC")
        with open(self.flag) as f:
            self.assertEqual(f.read(), "write ENOSPC ")

    def test_count_fails_exactly_n_calls_across_threads_then_removes_the_flag(self):
        path = os.path.join(self.dir, "segments", "c.seg")
        for n in (1, 500):
            with self.subTest(count=n):
                disarm(path)
                arm(self.flag, "write ENOSPC count=%d" % n)
                p = self.child(CHILD_THREADS, path, 8, 100)
                ok, failed, other = map(int, p.stdout.split())
                self.assertEqual((failed, other), (n, 0))
                self.assertEqual(ok, 800 - n)
                self.assertEqual(os.path.getsize(path), 800 - n)
                self.assertFalse(os.path.exists(self.flag))

    def test_count_counts_only_calls_of_the_armed_class(self):
        arm(self.flag, "sync EIO count=2")
        got = self.ops(os.path.join(self.dir, "segments", "d.seg"))
        for op in WRITE_OPS:
            self.assertEqual(got[op], "ok", op)
        self.assertEqual([got[op] for op in SYNC_OPS], ["EIO", "EIO"])
        self.assertFalse(os.path.exists(self.flag))

    def test_count_zero_fails_nothing(self):
        arm(self.flag, "all EIO count=0")
        got = self.ops(os.path.join(self.dir, "segments", "e.seg"))
        for op in WRITE_OPS + SYNC_OPS:
            self.assertEqual(got[op], "ok", op)

    def test_a_misspelt_or_overlong_flag_aborts_the_process_and_says_why(self):
        word = b"unknown or repeated word"
        for words, why in (("write ENOSPACE", word + b" 'ENOSPACE'"),
                           ("write EIO ENOSPC", word + b" 'ENOSPC'"),
                           ("count=x", word + b" 'count=x'"),
                           ("count=1 count=2", word + b" 'count=2'"),
                           ("count=1000000001", word + b" 'count=1000000001'"),
                           ("write" + " " * 249 + "EIO", b"is longer than '256 bytes'")):
            with self.subTest(flag=words):
                arm(self.flag, words)
                p = self.child(CHILD_OPS, os.path.join(self.dir, "segments", "f.seg"),
                               expect=None)
                self.assertEqual(p.returncode, -signal.SIGABRT)
                self.assertIn(b"failsync: flag file '%s': " % self.flag.encode() + why,
                              p.stderr)
        # 256 bytes exactly (FLAG_MAX) is still read; 257 above is not
        arm(self.flag, "write" + " " * 248 + "EIO")
        got = self.ops(os.path.join(self.dir, "segments", "g.seg"))
        self.assertEqual(got["write"], "EIO")


# ---- auditlog ingest meets a failing disk -----------------------------------

@unittest.skipUnless(HAVE_SHIM, "no failsync shim at " + FAILSYNC)
class IngestFaultTest(unittest.TestCase):

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="alog-faults-")
        self.addCleanup(self._tmp.cleanup)
        self.dir = self._tmp.name
        self.flag = self.path("fail-now")
        self.procs = []
        self.addCleanup(self._reap)

    def _reap(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
            for f in (p.stdin, p.stdout, p.stderr):
                if f and not f.closed:
                    f.close()

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def run_cmd(self, *args, input=None, expect=None, env=None, wrap=True):
        p = subprocess.run((WRAP if wrap else []) + [BIN] + [str(a) for a in args],
                           input=input, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, cwd=self.dir,
                           env=env or clean_env(), timeout=DEADLINE)
        if expect is not None and p.returncode != expect:
            self.fail("auditlog %s: exit %d, wanted %d\nstderr: %s" % (
                " ".join(map(str, args)), p.returncode, expect,
                p.stderr.decode("utf-8", "replace")[-2000:]))
        return p

    def init(self):
        store = self.path("store")
        self.run_cmd("init", "--store", store, "--origin",
                     "test.example/faults", expect=EXIT_OK)
        return store

    def tree_size(self, store):
        p = self.run_cmd("info", "--store", store, expect=EXIT_OK, wrap=False)
        return json.loads(p.stdout)["tree_size"]

    def producer_ids(self, store):
        out = self.run_cmd("export", "--store", store, expect=EXIT_OK).stdout
        recs = [json.loads(x) for x in out.split(b"\n")[:-1]]
        return [r["id"] for r in recs if r["event"].get("source") == "tests"]

    def verify(self, store):
        p = self.run_cmd("verify", "--store", store, expect=EXIT_OK)
        res = json.loads(p.stdout)
        self.assertTrue(res["verified"])
        return res

    def summary(self, stderr):
        m = SUMMARY_RE.search(stderr)
        self.assertIsNotNone(m, "no summary in: " + stderr)
        return {"stored": int(m.group(1)),
                "first": None if m.group(2) is None else int(m.group(2)),
                "last": None if m.group(3) is None else int(m.group(3)),
                "duplicates": int(m.group(4)), "rejected": int(m.group(5))}

    def ingest_until_fault(self, store, match, words):
        """Stream one batch into `auditlog ingest` through a pipe, wait
        until it is committed, arm the fault, stream a second batch and
        close: the second batch's commit fails. Returns (batch ids, the
        result of the ingest)."""
        first = [event("a", i) for i in range(BATCH)]
        second = [event("b", i) for i in range(BATCH)]
        p = subprocess.Popen(WRAP + [BIN, "ingest", "--store", store],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, cwd=self.dir,
                             env=shim_env(self.flag, match))
        self.procs.append(p)
        p.stdin.write(b"".join(x + b"\n" for x in first))
        p.stdin.flush()
        # ingest commits whenever its input would block: the first batch
        # is acknowledged once the tree holds it.
        def committed():
            if p.poll() is not None:
                raise AssertionError("ingest exited early (%d): %s" % (
                    p.returncode, p.stderr.read().decode("utf-8", "replace")))
            return self.tree_size(store) == BATCH
        wait_for(committed, "the first batch to be committed")
        arm(self.flag, words)
        # communicate writes the second batch, closes the input, waits
        _, err = p.communicate(b"".join(x + b"\n" for x in second),
                               timeout=DEADLINE)
        return first, second, p.returncode, err.decode("utf-8", "replace")

    def check_fault_then_resend(self, match, words, messages, cut):
        store = self.init()
        first, second, code, err = self.ingest_until_fault(store, match, words)
        self.assertEqual(code, EXIT_OPER, err)
        for m in messages:
            self.assertIn(m, err)
        self.assertIn("events after the last stored one were not stored", err)
        # The summary acknowledges exactly the first batch ...
        s = self.summary(err)
        self.assertEqual((s["stored"], s["first"], s["last"]), (BATCH, 0, BATCH - 1))
        disarm(self.flag)
        # ... and the store holds exactly that and verifies.
        self.assertEqual(self.verify(store)["tree_size"], BATCH)
        self.assertEqual(self.producer_ids(store),
                         ["a-%d" % i for i in range(BATCH)])
        # Sending everything again stores the rest; the first batch is
        # recognised as duplicates.
        src = self.path("all.ndjson")
        with open(src, "wb") as f:
            f.write(b"".join(x + b"\n" for x in first + second))
        p = self.run_cmd("ingest", "--store", store, src, expect=EXIT_OK)
        err2 = p.stderr.decode("utf-8", "replace")
        s = self.summary(err2)
        self.assertEqual((s["stored"], s["duplicates"], s["rejected"]),
                         (BATCH, BATCH, 0))
        # Bytes the failed commit left in the segment (LMDB failed after
        # the segment write) are cut at the next open; when the segment
        # write itself failed, nothing was written and nothing is cut.
        self.assertEqual("uncommitted bytes from segment" in err2, cut, err2)
        self.assertEqual(self.producer_ids(store),
                         ["a-%d" % i for i in range(BATCH)] +
                         ["b-%d" % i for i in range(BATCH)])
        self.verify(store)

    def test_a_full_disk_under_the_segments_fails_ingest_and_keeps_exactly_the_acknowledged_batches(self):
        self.check_fault_then_resend(
            "/segments/", "write ENOSPC",
            ["No space left on device", "segments/00000001.seg", "cannot write"],
            cut=False)

    def test_a_failing_lmdb_write_fails_ingest_and_keeps_exactly_the_acknowledged_batches(self):
        self.check_fault_then_resend(
            "data.mdb", "write EIO", ["lmdb", "Input/output error"], cut=True)

    def test_a_failing_lmdb_sync_fails_ingest_and_keeps_exactly_the_acknowledged_batches(self):
        self.check_fault_then_resend(
            "data.mdb", "sync EIO", ["lmdb", "Input/output error"], cut=True)

    def test_count_one_fails_one_ingest_and_the_next_one_stores_everything(self):
        store = self.init()
        src = self.path("events.ndjson")
        with open(src, "wb") as f:
            f.write(b"".join(event("c", i) + b"\n" for i in range(BATCH)))
        env = shim_env(self.flag, "/segments/")
        arm(self.flag, "write ENOSPC count=1")
        p = self.run_cmd("ingest", "--store", store, src, env=env,
                         expect=EXIT_OPER)
        err = p.stderr.decode("utf-8", "replace")
        self.assertIn("No space left on device", err)
        self.assertEqual(self.summary(err)["stored"], 0)
        # The one failure used the count up: the shim removed the flag.
        self.assertFalse(os.path.exists(self.flag))
        self.assertEqual(self.verify(store)["tree_size"], 0)
        # Same shim, same flag path: writes succeed again.
        p = self.run_cmd("ingest", "--store", store, src, env=env,
                         expect=EXIT_OK)
        s = self.summary(p.stderr.decode("utf-8", "replace"))
        self.assertEqual((s["stored"], s["duplicates"]), (BATCH, 0))
        self.assertEqual(self.producer_ids(store),
                         ["c-%d" % i for i in range(BATCH)])
        self.assertEqual(self.verify(store)["tree_size"], BATCH)



if __name__ == "__main__":
    sys.path.insert(0, HERE)
    import runner  # noqa: E402
    sys.exit(runner.main(__name__, BIN))
