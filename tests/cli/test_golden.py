#!/usr/bin/python3
"""Golden test of `auditlog report`: a small
fixed store - three days of simulated history from `auditlog demo history`
with a fixed seed and origin - must produce exactly the committed JSON
report, tests/golden/report-3d.json.

Two parts of the report depend on things the inputs do not fix, and are
replaced before the comparison: `generated_at` (the clock) and the
checkpoints' signed note texts (`note`: their signature lines depend on the
store's key, which `auditlog init` makes new each time; the checkpoints'
sizes and roots are compared).

ALOG_GOLDEN_UPDATE=1 rewrites the golden file (review the diff!).
Environment: ALOG_BIN, ALOG_BIN_WRAP. Last line "N passed, N failed".
"""
import os
import re
import shlex
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
BIN = os.environ.get("ALOG_BIN") or os.path.join(HERE, "..", "..", "build",
                                                 "tools", "auditlog")
WRAP = shlex.split(os.environ.get("ALOG_BIN_WRAP", ""))
GOLDEN = os.path.join(HERE, "..", "golden", "report-3d.json")


def normalize(raw: bytes) -> bytes:
    raw = re.sub(rb'"generated_at":"[^"]*"', b'"generated_at":"<generated_at>"', raw)
    return re.sub(rb'"note":"(?:[^"\\]|\\.)*"', b'"note":"<signed note>"', raw)


class GoldenTest(unittest.TestCase):
    def run_cmd(self, *args, cwd):
        p = subprocess.run(WRAP + [BIN] + [str(a) for a in args], cwd=cwd,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=1200)
        self.assertEqual(p.returncode, 0, p.stderr.decode()[-2000:])
        return p

    def test_a_fixed_store_gives_exactly_the_committed_report(self):
        with tempfile.TemporaryDirectory(prefix="alog-golden-") as d:
            self.run_cmd("init", "--store", "s", "--origin",
                         "golden.example.com/audit", cwd=d)
            self.run_cmd("demo", "history", "--store", "s", "--days", 3,
                         "--end", "2026-03-04", "--seed", 7, cwd=d)
            # the configuration the history simulates, under a fixed name
            with open(os.path.join(HERE, "..", "..", "tools",
                                   "auditlog.example.json"), "rb") as f:
                cfg = f.read()
            with open(os.path.join(d, "auditlog.example.json"), "wb") as f:
                f.write(cfg)
            self.run_cmd("report", "--store", "s", "--config",
                         "auditlog.example.json", "--from", "2026-03-01",
                         "--to", "2026-03-04", "--out", "r", "--sample", 5,
                         "--no-record", cwd=d)
            with open(os.path.join(d, "r", "report.json"), "rb") as f:
                got = normalize(f.read())
        if os.environ.get("ALOG_GOLDEN_UPDATE") == "1":
            with open(GOLDEN, "wb") as f:
                f.write(got)
        with open(GOLDEN, "rb") as f:
            want = f.read()
        if got != want:
            # name the first difference, not 27 KB of JSON
            i = next(k for k in range(min(len(got), len(want)))
                     if got[k] != want[k]) if got[:len(want)] != want[:len(got)] \
                else min(len(got), len(want))
            self.fail("report differs from %s at byte %d:\n got: %r\nwant: %r" % (
                GOLDEN, i, got[max(0, i - 80):i + 80], want[max(0, i - 80):i + 80]))


if __name__ == "__main__":
    sys.path.insert(0, HERE)
    import runner  # noqa: E402
    sys.exit(runner.main(__name__, BIN))
