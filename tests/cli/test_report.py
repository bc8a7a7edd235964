#!/usr/bin/python3
"""End-to-end tests of `auditlog report` (SPEC.md section 21; A1.2 numbers
of section 20). The events carry their own times inside a fixed period in
the future, so the expected availability is computed by hand below,
whatever the clock says when the test runs.

Environment: ALOG_BIN (default build/tools/auditlog), ALOG_BIN_WRAP (a
command to run it under, e.g. valgrind). Last line "N passed, N failed".
"""
import hashlib
import json
import os
import shlex
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import runner  # noqa: E402
BIN = os.environ.get("ALOG_BIN") or os.path.join(HERE, "..", "..", "build",
                                                 "tools", "auditlog")
WRAP = shlex.split(os.environ.get("ALOG_BIN_WRAP", ""))
EXIT_OK, EXIT_USAGE = 0, 2

CONFIG = {
    "version": 1,
    "components": [
        {"name": "api", "tier": "general", "target": 0.995,
         "probe_interval_s": 60},
        {"name": "idle", "tier": "critical"},
    ],
}


def t(h, m, s=0):
    return "2030-01-01T%02d:%02d:%02dZ" % (h, m, s)


def events():
    """A day of probes of "api" every minute, down from 10:00 to 10:44 (the
    first up probe), a maintenance window with a change reference
    (02:00-02:30, excluded) and one without (04:00-04:10, a deviation,
    not excluded). "idle" has no data at all."""
    out = []
    for minute in range(24 * 60):
        h, m = divmod(minute, 60)
        status = "down" if (h == 10 and m < 44) else "up"
        out.append({"type": "health.probe", "id": "p-%d" % minute,
                    "source": "mon", "time": t(h, m), "component": "api",
                    "status": status})
    out.append({"type": "maintenance.window", "id": "mw-1", "source": "chg",
                "component": "api", "start": t(2, 0), "end": t(2, 30),
                "change_ref": "CHG-1001", "approver": "carol"})
    out.append({"type": "maintenance.window", "id": "mw-2", "source": "chg",
                "component": "api", "start": t(4, 0), "end": t(4, 10)})
    return b"".join(json.dumps(e, separators=(",", ":")).encode() + b"\n"
                    for e in out)


class ReportTest(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="alog-report-")
        self.addCleanup(self._tmp.cleanup)
        self.dir = self._tmp.name
        self.store = os.path.join(self.dir, "store")
        self.cfg = os.path.join(self.dir, "cfg.json")
        with open(self.cfg, "w") as f:
            json.dump(CONFIG, f)
        self.run_cmd("init", "--store", self.store, expect=EXIT_OK)
        self.run_cmd("ingest", "--store", self.store, input=events(),
                     expect=EXIT_OK)

    def run_cmd(self, *args, input=None, expect=None):
        p = subprocess.run(WRAP + [BIN] + [str(a) for a in args], input=input,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           cwd=self.dir, timeout=600)
        if expect is not None and p.returncode != expect:
            self.fail("auditlog %s: exit %d, wanted %d\n%s" % (
                " ".join(map(str, args)), p.returncode, expect,
                p.stderr.decode("utf-8", "replace")[-2000:]))
        return p

    def report(self, out, *extra):
        self.run_cmd("report", "--store", self.store, "--config", self.cfg,
                     "--from", "2030-01-01", "--to", "2030-01-02", "--out",
                     out, *extra, expect=EXIT_OK)
        with open(os.path.join(out, "report.json"), "rb") as f:
            return f.read()

    def test_availability_matches_the_hand_computed_figures(self):
        r = json.loads(self.report(os.path.join(self.dir, "r1"), "--no-record"))
        comps = {c["component"]: c for c in r["a1_2"]["components"]}
        # the inventory, with the daemon's own component added last
        self.assertEqual([c["component"] for c in r["a1_2"]["components"]],
                         ["api", "idle", "primary_store"])
        api, idle = comps["api"], comps["idle"]
        self.assertEqual(api["signal"], "probes")
        # T = 86400 s; E = 1800 s (02:00-02:30, CHG-1001); down 10:00 to
        # 10:44 = 2640 s; the window without change_ref is not excluded.
        self.assertEqual(api["period_us"], 86400 * 10**6)
        self.assertEqual(api["excluded_us"], 1800 * 10**6)
        self.assertEqual(api["down_us"], 2640 * 10**6)
        self.assertEqual(api["unknown_us"], 0)
        # floor(1e6 * (86400 - 1800 - 2640) / (86400 - 1800)) = 968794
        self.assertEqual(api["availability_raw_ppm"], 968794)
        self.assertEqual(api["availability_raw"], "96.879")
        self.assertEqual(api["availability_weighted_ppm"], 968794)
        self.assertFalse(api["pass"])
        self.assertEqual(len(api["episodes"]), 1)
        self.assertEqual(api["episodes"][0]["start"], t(10, 0) [:-1] + ".000000Z")
        self.assertEqual(api["episodes"][0]["duration_us"], 2640 * 10**6)
        approved = [m["approved"] for m in api["maintenance"]]
        self.assertEqual(sorted(approved), [False, True])
        # no data: all unknown, never counted as up
        self.assertEqual(idle["unknown_us"], 86400 * 10**6)
        self.assertEqual(idle["availability_raw_ppm"], 0)
        self.assertFalse(idle["pass"])
        self.assertTrue(idle["unknown_decides"])
        # nothing was received in 2030: an empty population, recorded as 0
        self.assertEqual(r["population"]["count"], 0)
        self.assertEqual(r["population"]["sha256"], hashlib.sha256(b"").hexdigest())
        self.assertFalse(r["integrity"]["complete"])
        self.assertEqual(r["recorded"], {"recorded": False,
                                         "reason": "--no-record was given"})

    def test_the_json_is_byte_identical_for_the_same_store_apart_from_generated_at(self):
        a = self.report(os.path.join(self.dir, "a"), "--no-record")
        b = self.report(os.path.join(self.dir, "b"), "--no-record")
        ja, jb = json.loads(a), json.loads(b)
        self.assertIsNotNone(ja["generated_at"])
        strip = lambda raw, j: raw.replace(j["generated_at"].encode(), b"")
        self.assertEqual(strip(a, ja), strip(b, jb))
        self.assertRegex(ja["report_id"], "^[0-9a-f]{32}$")

    def test_the_run_is_recorded_as_report_generated_with_the_hash_of_its_output(self):
        a = self.report(os.path.join(self.dir, "a"))
        ja = json.loads(a)
        self.assertEqual(ja["recorded"], {"recorded": True, "reason": None})
        out = self.run_cmd("export", "--store", self.store, expect=EXIT_OK).stdout
        recs = [json.loads(x) for x in out.splitlines()]
        gen = [r for r in recs if r["event"]["type"] == "report.generated"]
        self.assertEqual(len(gen), 1)
        self.assertEqual(gen[0]["provenance"]["transport"], "internal")
        self.assertEqual(gen[0]["event"]["report_id"], ja["report_id"])
        hashes = [{"name": "report.json", "sha256": hashlib.sha256(a).hexdigest()}]
        for name in ("report.md", "report.html"):
            with open(os.path.join(self.dir, "a", name), "rb") as f:
                hashes.append({"name": name,
                               "sha256": hashlib.sha256(f.read()).hexdigest()})
        self.assertEqual(gen[0]["event"]["outputs"], hashes)
        self.assertEqual((gen[0]["event"]["seed"], gen[0]["event"]["sample"]),
                         (None, 25))
        self.run_cmd("verify", "--store", self.store, expect=EXIT_OK)

    def test_the_report_id_is_vector_v_report_id_1_and_covers_sample_and_seed(self):
        store = os.path.join(self.dir, "vec")
        self.run_cmd("init", "--store", store, "--origin", "example.org/log",
                     expect=EXIT_OK)

        def report_id(out, *extra):
            self.run_cmd("report", "--store", store, "--from", "2026-01-01",
                         "--to", "2026-01-02", "--out",
                         os.path.join(self.dir, out), "--no-record", *extra,
                         expect=EXIT_OK)
            with open(os.path.join(self.dir, out, "report.json"), "rb") as f:
                return json.loads(f.read())["report_id"]

        def expected(sample, seed):
            # SPEC.md 21, computed here independently of auditlog
            m = b"\0".join([b"auditlog-report-v1", b"example.org/log",
                            b"2026-01-01T00:00:00.000000Z",
                            b"2026-01-02T00:00:00.000000Z", b"",
                            str(sample).encode(), seed])
            return hashlib.sha256(m).hexdigest()[:32]

        given = report_id("g", "--seed", "auditor-7")
        self.assertEqual(given, expected(25, b"auditor-7"))
        self.assertEqual(given, "d350b9ae9318273b68195237a9970390")
        self.assertEqual(report_id("d"), expected(25, b""))
        self.assertEqual(report_id("n", "--sample", 3), expected(3, b""))
        self.assertEqual(len({given, report_id("d2"), report_id("n2", "--sample", 3)}), 3)

    def bundle(self):
        """A report over everything received so far, with a checkpoint
        signed after it: the evidence bundle is written."""
        out = self.run_cmd("export", "--store", self.store, expect=EXIT_OK).stdout
        first = json.loads(out.splitlines()[0])["received"][:10]
        last = json.loads(out.splitlines()[-1])["received"]
        # the period ends one microsecond after the last record (the
        # next second when that would carry)
        frac = int(last[20:26]) + 1
        to = "%s%06dZ" % (last[:20], frac) if frac < 10**6 else last
        # a late arrival: its own time lies in the period, it is
        # received after it
        late = {"type": "app.event", "id": "late-1", "source": "app",
                "time": json.loads(out.splitlines()[0])["received"]}
        self.run_cmd("ingest", "--store", self.store,
                     input=json.dumps(late).encode() + b"\n", expect=EXIT_OK)
        self.run_cmd("checkpoint", "--store", self.store, expect=EXIT_OK)
        out_dir = os.path.join(self.dir, "bundle")
        self.run_cmd("report", "--store", self.store, "--config", self.cfg,
                     "--from", first, "--to", to, "--out", out_dir,
                     "--sample", 7, "--no-record", expect=EXIT_OK)
        return out_dir

    def verify_bundle(self, d, expect, vkey=None):
        vkey = vkey or self.store + ".vkey"
        return self.run_cmd("verify-bundle", d, "--vkey", vkey, expect=expect)

    def test_the_evidence_bundle_verifies_offline_and_each_tampering_is_named(self):
        with open(self.store + ".vkey", "wb") as f:
            info = json.loads(self.run_cmd("info", "--store", self.store,
                                           expect=EXIT_OK).stdout)
            f.write(info["vkey"].encode() + b"\n")
        d = self.bundle()
        r = json.load(open(os.path.join(d, "report.json")))
        self.assertTrue(r["integrity"]["complete"])
        late = r["late_arrivals"]
        self.assertEqual(late["count"], 1)
        self.assertEqual(late["first"][0]["index"], r["population"]["index_to"])
        items = r["samples"]["items"]
        self.assertEqual(len(items), 7)
        self.assertTrue(all(x["proof_verified"] for x in items))
        # the samples are spread: one per seventh of the population
        n = r["population"]["count"]
        for k, x in enumerate(items):
            self.assertTrue(k * n // 7 <= x["index"] - r["population"]["index_from"]
                            < (k + 1) * n // 7, x["index"])
        ok = json.loads(self.verify_bundle(d, EXIT_OK).stdout)
        self.assertEqual((ok["verified"], ok["proofs"]), (True, 7))
        files = sorted(os.path.relpath(os.path.join(a, f), d)
                       for a, _, fs in os.walk(d) for f in fs)
        # a changed byte in any file is named
        for name in files:
            path = os.path.join(d, name)
            data = open(path, "rb").read()
            with open(path, "wb") as f:
                f.write(data[:-2] + bytes([data[-2] ^ 1]) + data[-1:]
                        if len(data) >= 2 else data + b"0")
            p = self.verify_bundle(d, 1)
            self.assertIn(name.encode(), p.stderr, name)
            with open(path, "wb") as f:
                f.write(data)
        self.verify_bundle(d, EXIT_OK)
        # a removed file; two proofs swapped
        path = os.path.join(d, "population.csv")
        data = open(path, "rb").read()
        os.unlink(path)
        self.assertIn(b"population.csv", self.verify_bundle(d, 1).stderr)
        with open(path, "wb") as f:
            f.write(data)
        proofs = sorted(os.listdir(os.path.join(d, "proofs")))
        a, b = (os.path.join(d, "proofs", x) for x in proofs[:2])
        da, db = open(a, "rb").read(), open(b, "rb").read()
        open(a, "wb").write(db)
        open(b, "wb").write(da)
        self.verify_bundle(d, 1)
        open(a, "wb").write(da)
        open(b, "wb").write(db)
        self.verify_bundle(d, EXIT_OK)
        # a checkpoint from another key: another store's verifier key
        other = os.path.join(self.dir, "other")
        self.run_cmd("init", "--store", other, expect=EXIT_OK)
        info = json.loads(self.run_cmd("info", "--store", other,
                                       expect=EXIT_OK).stdout)
        with open(other + ".vkey", "wb") as f:
            f.write(info["vkey"].encode() + b"\n")
        self.verify_bundle(d, 1, vkey=other + ".vkey")

    def test_report_inputs_written_with_escapes_count_like_plain_ones(self):
        """A probe whose status is written "\\u0064own" and one whose key is
        written "\\u0073tatus" (JSON escapes, SPEC.md 3) are down probes:
        down from 00:10 to the next up probe at 00:12, 120 s."""
        store = os.path.join(self.dir, "esc")
        self.run_cmd("init", "--store", store, expect=EXIT_OK)
        lines = []
        for m in range(60):
            status = '"status":"up"'
            if m == 10:
                status = '"status":"\\u0064own"'
            elif m == 11:
                status = '"\\u0073tatus":"down"'
            lines.append('{"type":"health.probe","id":"e-%d","source":"mon",'
                         '"time":"%s","component":"api",%s}' % (m, t(0, m), status))
        self.run_cmd("ingest", "--store", store,
                     input=("\n".join(lines) + "\n").encode(), expect=EXIT_OK)
        out = os.path.join(self.dir, "esc-r")
        self.run_cmd("report", "--store", store, "--config", self.cfg,
                     "--from", "2030-01-01T00:00:00Z", "--to",
                     "2030-01-01T01:00:00Z", "--out", out, "--no-record",
                     expect=EXIT_OK)
        with open(os.path.join(out, "report.json"), "rb") as f:
            r = json.loads(f.read())
        api = {c["component"]: c for c in r["a1_2"]["components"]}["api"]
        self.assertEqual(r["a1_2"]["malformed_inputs"], 0)
        self.assertEqual(api["down_us"], 120 * 10**6)
        self.assertEqual(len(api["episodes"]), 1)

    def test_progress_shows_on_a_terminal_and_not_in_a_pipe(self):
        rc, out = runner.run_on_tty(
            WRAP + [BIN, "report", "--store", self.store, "--config",
                    self.cfg, "--from", "2030-01-01", "--to", "2030-01-02",
                    "--out", os.path.join(self.dir, "tty"), "--no-record"],
            self.dir)
        self.assertEqual(rc, EXIT_OK)
        self.assertIn(b"auditlog: reading ", out)
        self.assertIn(b"records (100%)", out)
        piped = self.run_cmd("report", "--store", self.store, "--config",
                             self.cfg, "--from", "2030-01-01", "--to",
                             "2030-01-02", "--out",
                             os.path.join(self.dir, "pipe"), "--no-record",
                             expect=EXIT_OK)
        self.assertNotIn(b"auditlog: reading ", piped.stderr)

    def test_bad_periods_and_options_are_usage_errors(self):
        for args in (["--from", "2030-01-02", "--to", "2030-01-01"],
                     ["--from", "soon", "--to", "2030-01-01"],
                     ["--to", "2030-01-01"]):
            self.run_cmd("report", "--store", self.store, *args,
                         expect=EXIT_USAGE)
        self.assertEqual(self.run_cmd("report", "--help").returncode, EXIT_OK)


if __name__ == "__main__":
    sys.path.insert(0, HERE)
    import runner  # noqa: E402
    sys.exit(runner.main(__name__, BIN))
