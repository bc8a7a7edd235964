#!/usr/bin/python3
"""End-to-end tests of `auditlog demo history` (suite `cli`).

The command writes days of simulated history into a fresh store; the
reporter's golden numbers are checked against what it prints and against
its --truth file. These tests check, from the outside (`auditlog export`,
`verify`, `checkpoint`, `info`), that the history is what the SPEC.md
sections it feeds require: the same seed gives byte-identical records,
received times never decrease, every report input of SPEC.md 11.1
appears, every breaker.transition chain follows 17.1/17.4, spool
activations reconcile (17.9), and the truth's outages and availability
numbers are recomputed here independently from the exported records.

Environment: ALOG_BIN (default build/tools/auditlog), ALOG_BIN_WRAP (a
command to run it under, e.g. valgrind). The last line printed is
"N passed, N failed"; the exit status is 1 when anything failed.
"""
import calendar
import hashlib
import json
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
EXAMPLE = os.path.join(HERE, "..", "..", "tools", "auditlog.example.json")
EXIT_OK, EXIT_VERIFY, EXIT_USAGE, EXIT_OPER = 0, 1, 2, 3

DAYS = 3
END = "2026-01-05"             # a Monday: the period is Fri, Sat, Sun
FROM_US = 1767312000000000     # 2026-01-02T00:00:00Z (Python calendar)
TO_US = 1767571200000000       # 2026-01-05T00:00:00Z
DAY_US = 86400 * 10**6
TOLERANCE = 3                  # probe intervals a probe keeps a component known

REPORT_INPUTS = ["breaker.transition", "health.probe", "maintenance.window",
                 "auth.login", "admin.action", "integrity.verified",
                 "backup.activated", "backup.replayed"]
# SPEC.md 17.1: the only (from, to, cause) combinations.
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
RESERVED = ("daemon", "store", "checkpoint", "backup", "admin", "integrity",
            "anomaly", "report")
TIME_RE = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{6})Z$")
UUID7_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                      r"[0-9a-f]{12}$")


def us_of(text):
    """Microseconds of a 27-byte UTC time (SPEC.md section 3 "Time")."""
    m = TIME_RE.match(text)
    assert m, text
    y, mo, d, h, mi, s, f = (int(x) for x in m.groups())
    return calendar.timegm((y, mo, d, h, mi, s)) * 10**6 + f


def in_business_hours(us):
    """The example's hours: Monday..Friday 08:00-18:00 UTC (SPEC.md 18.1)."""
    days, rem = divmod(us, DAY_US)
    weekday = (days + 3) % 7          # 1970-01-01 was a Thursday (3)
    return weekday < 5 and 8 * 3600 * 10**6 <= rem < 18 * 3600 * 10**6


def clean_env():
    env = dict(os.environ)
    env.pop("AUDITLOG_STORE", None)
    return env


def run(cwd, *args, expect=None):
    p = subprocess.run(WRAP + [BIN] + [str(a) for a in args],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       cwd=cwd, env=clean_env(), timeout=600)
    if expect is not None and p.returncode != expect:
        raise AssertionError("auditlog %s: exit %d, wanted %d\nstderr: %s" % (
            " ".join(map(str, args)), p.returncode, expect,
            p.stderr.decode("utf-8", "replace")[-2000:]))
    return p


def make_history(cwd, name, seed, origin="demo.example/auditlog"):
    """init a store and write the history into it; (export bytes, truth,
    stdout)."""
    run(cwd, "init", "--store", name, "--origin", origin, expect=EXIT_OK)
    p = run(cwd, "demo", "history", "--store", name, "--days", DAYS, "--end",
            END, "--seed", seed, "--truth", name + ".truth.json",
            expect=EXIT_OK)
    export = run(cwd, "export", "--store", name, expect=EXIT_OK).stdout
    with open(os.path.join(cwd, name + ".truth.json"), "rb") as f:
        truth = json.loads(f.read())
    return export, truth, p.stdout.decode()


def episodes_of(points):
    """Outage episodes (SPEC.md 20.6) from [(t, state)] change points,
    state in up, down, partial: [(start, end)], from a point leaving up to
    the next point that is up."""
    out, start = [], None
    for t, state in points:
        if start is None and state != "up":
            start = t
        elif start is not None and state == "up":
            out.append((start, t))
            start = None
    return out


def split(segments, a, b):
    """Time of [a, b) per class of the segments [(start, end, class)]."""
    out = {"excluded": 0, "unknown": 0, "down": 0, "partial": 0, "up": 0}
    for x, y, cls in segments:
        lo, hi = max(x, a), min(y, b)
        if lo < hi:
            out[cls] += hi - lo
    return out


class DemoHistoryTest(unittest.TestCase):
    """One history of 3 days (seed 7) read by most tests, written once."""

    @classmethod
    def setUpClass(cls):
        cls._tmp = tempfile.TemporaryDirectory(prefix="alog-demo-")
        cls.dir = cls._tmp.name
        cls.export, cls.truth, cls.summary = make_history(cls.dir, "a", 7)
        cls.lines = cls.export.split(b"\n")[:-1]
        cls.recs = [json.loads(x) for x in cls.lines]
        cls.events = [r["event"] for r in cls.recs]

    @classmethod
    def tearDownClass(cls):
        cls._tmp.cleanup()

    def of_type(self, t):
        return [(r["index"], r, r["event"]) for r in self.recs
                if r["event"]["type"] == t]

    def chains(self):
        """breaker.transition events per (source, component), log order."""
        out = {}
        for _, _, e in self.of_type("breaker.transition"):
            out.setdefault((e["source"], e["component"]), []).append(e)
        return out

    # -- the run and its summary ------------------------------------------

    def test_three_days_are_written_and_the_summary_counts_every_record(self):
        self.assertTrue(self.summary.startswith(
            "history: 3 days [2026-01-02T00:00:00.000000Z, "
            "2026-01-05T00:00:00.000000Z), seed 7\n"), self.summary[:200])
        self.assertIn("events: %d (index 0..%d), 3 checkpoints\n"
                      % (len(self.recs), len(self.recs) - 1), self.summary)
        self.assertEqual(self.truth["events"]["total"], len(self.recs))
        counts = {}
        for e in self.events:
            counts[e["type"]] = counts.get(e["type"], 0) + 1
        self.assertEqual(self.truth["events"]["by_type"], counts)
        self.assertEqual((self.truth["from_us"], self.truth["to_us"]),
                         (FROM_US, TO_US))
        for c in self.truth["components"]:
            self.assertRegex(self.summary, r"\n  %s +%s +target " % (
                c["name"], c["tier"]))
            self.assertIn("raw %s %%" % c["availability_raw"], self.summary)

    def test_the_same_seed_writes_byte_identical_exports_and_another_does_not(self):
        # Another store, another key and origin: the records are the same.
        again, truth, summary = make_history(self.dir, "b", 7,
                                             origin="other.example/log")
        self.assertEqual(again, self.export)
        self.assertEqual(truth, self.truth)
        self.assertEqual(summary, self.summary)
        other, truth8, _ = make_history(self.dir, "c", 8)
        self.assertNotEqual(other, self.export)
        self.assertNotEqual(truth8, self.truth)

    def test_verify_passes_and_checkpoint_finds_the_log_covered(self):
        p = run(self.dir, "verify", "--store", "a", expect=EXIT_OK)
        res = json.loads(p.stdout)
        self.assertEqual((res["tree_size"], res["checkpoints"]),
                         (len(self.recs), DAYS))
        # The last record is the last day's checkpoint.signed: auditlog
        # checkpoint recognises it and signs nothing new.
        note = run(self.dir, "checkpoint", "--store", "a",
                   expect=EXIT_OK).stdout.decode()
        self.assertEqual(note.split("\n")[1], str(len(self.recs) - 1))
        info = json.loads(run(self.dir, "info", "--store", "a",
                              expect=EXIT_OK).stdout)
        self.assertEqual((info["tree_size"], info["checkpoints"]),
                         (len(self.recs), DAYS))
        self.assertEqual(info["latest_checkpoint"]["signed"],
                         "2026-01-05T00:00:00.000000Z")

    # -- time --------------------------------------------------------------

    def test_received_never_decreases_and_nothing_was_raised_by_the_log(self):
        received = [us_of(r["received"]) for r in self.recs]
        for i in range(1, len(received)):
            self.assertLessEqual(received[i - 1], received[i], "index %d" % i)
        self.assertEqual(received[0], FROM_US)
        self.assertLess(received[-1], TO_US + 1)
        # Checkpoints at each midnight exactly, the last at the end.
        cps = [(i, us_of(r["received"])) for i, r, _ in
               self.of_type("checkpoint.signed")]
        self.assertEqual([t for _, t in cps],
                         [FROM_US + (d + 1) * DAY_US for d in range(DAYS)])
        self.assertEqual(cps[-1][0], len(self.recs) - 1)
        # Producers' times are never after their events were received (the
        # log would have raised a received time that went back).
        for r in self.recs:
            if "time" in r["event"]:
                self.assertLessEqual(us_of(r["event"]["time"]),
                                     us_of(r["received"]), r["index"])

    def test_a_few_events_carry_a_producer_time_ten_minutes_off(self):
        off = [(i, us_of(r["received"]) - us_of(e["time"])) for i, r, e in
               self.of_type("auth.login")
               if us_of(r["received"]) - us_of(e["time"]) > 60 * 10**6]
        self.assertGreaterEqual(len(off), 3)
        for i, d in off:
            self.assertTrue(600 * 10**6 <= d < 601 * 10**6, (i, d))
        self.assertEqual([x["index"] for x in self.truth["clock_skew"]],
                         [i for i, _ in off])

    # -- vocabulary --------------------------------------------------------

    def test_every_report_input_type_appears(self):
        types = {e["type"] for e in self.events}
        for t in REPORT_INPUTS + ["daemon.started", "checkpoint.signed"]:
            self.assertIn(t, types)
        self.assertLessEqual(types, set(REPORT_INPUTS + [
            "daemon.started", "checkpoint.signed"]))

    def test_auditlogs_own_events_are_internal_with_uuid7_ids_of_their_time(self):
        for r in self.recs:
            e = r["event"]
            own = (e["type"].split(".")[0] in RESERVED or
                   e.get("component") == "primary_store" and
                   e["type"] in ("breaker.transition", "health.probe"))
            if not own:
                self.assertNotEqual(r["provenance"].get("transport"),
                                    "internal", r["index"])
                self.assertNotEqual(e.get("source"), "auditlog", r["index"])
                self.assertEqual(r["id"], e["id"], r["index"])
                continue
            self.assertEqual(e["source"], "auditlog", r["index"])
            self.assertNotIn("id", e)
            self.assertEqual(r["provenance"]["transport"], "internal")
            self.assertRegex(r["id"], UUID7_RE)
            # unix_ts_ms is the received time's millisecond (SPEC.md 3)
            self.assertEqual(int(r["id"][:8] + r["id"][9:13], 16),
                             us_of(r["received"]) // 1000, r["index"])

    def test_daemon_started_cites_the_example_configuration_by_hash(self):
        with open(EXAMPLE, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        started = self.of_type("daemon.started")
        self.assertEqual(len(started), 1)
        self.assertEqual(started[0][0], 0)
        self.assertEqual(started[0][2]["config_file_sha256"], digest)
        self.assertEqual(self.truth["config_sha256"], digest)

    # -- breakers ----------------------------------------------------------

    def test_every_breaker_chain_is_consistent_and_open_timeouts_are_exact(self):
        chains = self.chains()
        self.assertEqual(set(chains), {
            ("dashboards", "dashboard_activities"),
            ("dashboards", "security_summary"),
            ("auditlog", "primary_store")})
        with open(EXAMPLE) as f:
            cfg = {c["name"]: c for c in json.load(f)["components"]}
        for key, chain in chains.items():
            prev = None
            for e in chain:
                self.assertIn((e["from"], e["to"], e["cause"]), COMBOS, e)
                self.assertEqual(us_of(e["at"]), e["at_us"])
                self.assertLessEqual(e["window_failures"], e["window_calls"])
                self.assertEqual(e["from"], prev["to"] if prev else "closed",
                                 (key, e))
                if e["cause"] == "open_timeout":
                    self.assertEqual(e["at_us"], prev["at_us"] +
                                     prev["open_timeout_ms"] * 1000, e)
                    self.assertEqual(e["open_timeout_ms"],
                                     prev["open_timeout_ms"])
                if e["to"] == "open" and e["cause"] == "failure_threshold":
                    self.assertEqual(e["open_timeout_ms"], 1000 *
                                     cfg[key[1]]["breaker"]["open_timeout_s"])
                    self.assertEqual(e["consecutive_failures"],
                                     cfg[key[1]]["breaker"]["threshold"])
                prev = e
            self.assertEqual(chain[-1]["to"], "closed", key)

    def test_the_flapping_burst_has_three_outages_within_an_hour(self):
        chain = self.chains()[("dashboards", "dashboard_activities")]
        starts = [e["at_us"] for e in chain if e["from"] == "closed"]
        self.assertTrue(any(starts[i + 2] - starts[i] < 3600 * 10**6
                            for i in range(len(starts) - 2)), starts)
        flaps = {c["name"]: c["flapping"] for c in self.truth["components"]}
        self.assertEqual(len(flaps["dashboard_activities"]), 1)
        self.assertEqual(flaps["dashboard_activities"][0]["episodes"], 3)

    # -- the truth against the records --------------------------------------

    def signal_points(self, name):
        """The A1.2 signal of a component as change points."""
        chain = [e for (_, comp), c in self.chains().items() for e in c
                 if comp == name]
        if chain:
            st = {"closed": "up", "open": "down", "half_open": "partial"}
            return "breaker", [(e["at_us"], st[e["to"]]) for e in chain]
        st = {"up": "up", "down": "down", "degraded": "partial"}
        pts, last = [], None
        for _, _, e in self.of_type("health.probe"):
            if e["component"] == name and st[e["status"]] != last:
                last = st[e["status"]]
                pts.append((us_of(e["time"]), last))
        return "probes", pts

    def test_the_truths_outage_lengths_match_the_transitions_and_probes(self):
        total = 0
        for c in self.truth["components"]:
            signal, pts = self.signal_points(c["name"])
            self.assertEqual(c["signal"], signal)
            got = [(o["start_us"], o["end_us"]) for o in c["outages"]]
            self.assertEqual(got, episodes_of(pts), c["name"])
            segments = self.classes(c["name"])
            for o in c["outages"]:
                self.assertEqual(o["length_us"], o["end_us"] - o["start_us"])
                parts = split(segments, o["start_us"], o["end_us"])
                self.assertEqual(
                    (o["down_us"], o["partial_us"], o["excluded_us"],
                     o["unknown_us"], 0),
                    (parts["down"], parts["partial"], parts["excluded"],
                     parts["unknown"], parts["up"]), (c["name"], o))
            total += len(got)
        self.assertGreaterEqual(total, 8)
        manual = [o for c in self.truth["components"] for o in c["outages"]
                  if o["recovery"] == "manual"]
        self.assertEqual(len(manual), 2)
        maintenance = [o for c in self.truth["components"]
                       for o in c["outages"] if o["in_approved_maintenance"]]
        self.assertEqual(len(maintenance), 2)
        self.assertTrue(all(o["excluded_us"] == o["length_us"]
                            for o in maintenance))

    def classes(self, name):
        """An independent computation of the truth's definitions (SPEC.md
        20.3-20.5): the period cut into [(start, end, class)], class in
        excluded (approved windows), unknown (no probe or transition within
        3 intervals; primary_store from daemon.started), down, partial,
        up, in that order of precedence."""
        with open(EXAMPLE) as f:
            cfg = {c["name"]: c for c in json.load(f)["components"]}
        iv = cfg[name]["probe_interval_s"] * 10**6
        signal, pts = self.signal_points(name)
        if name == "primary_store":
            known = [(us_of(self.recs[0]["received"]), TO_US)]
        else:
            marks = [us_of(e["time"]) for _, _, e in
                     self.of_type("health.probe") if e["component"] == name]
            marks += [t for t, _ in pts] if signal == "breaker" else []
            known = [(t, t + TOLERANCE * iv) for t in marks]
        excl = [(us_of(w["start"]), us_of(w["end"])) for _, _, w in
                self.of_type("maintenance.window")
                if w["component"] == name and "change_ref" in w]
        cuts = {FROM_US, TO_US}
        for a, b in known + excl:
            cuts.update((min(max(a, FROM_US), TO_US),
                         min(max(b, FROM_US), TO_US)))
        cuts.update(min(max(t, FROM_US), TO_US) for t, _ in pts)
        cuts = sorted(cuts)
        out = []
        for a, b in zip(cuts, cuts[1:]):
            state = "up"
            for t, s in pts:
                if t > a:
                    break
                state = s
            if any(x <= a < y for x, y in excl):
                out.append((a, b, "excluded"))
            elif not any(x <= a < y for x, y in known):
                out.append((a, b, "unknown"))
            else:
                out.append((a, b, state))
        return out

    def test_the_truths_availability_is_recomputed_from_the_records(self):
        """SPEC.md 20.5's totals and ratios over classes() (w = 0)."""
        with open(EXAMPLE) as f:
            cfg = {c["name"]: c for c in json.load(f)["components"]}
        for c in self.truth["components"]:
            name = c["name"]
            iv = cfg[name]["probe_interval_s"] * 10**6
            parts = split(self.classes(name), FROM_US, TO_US)
            e, u, dm, dp = (parts["excluded"], parts["unknown"],
                            parts["down"], parts["partial"])
            t = TO_US - FROM_US
            self.assertEqual((c["period_us"], c["excluded_us"], c["unknown_us"],
                              c["down_us"], c["partial_us"]),
                             (t, e, u, dm, dp), name)
            self.assertEqual(c["up_us"], t - e - dm - dp - u)
            b = t - e
            ppm = (b - dm - u) * 10**6 // b
            self.assertEqual(c["availability_raw_ppm"], ppm, name)
            self.assertEqual(c["availability_weighted_ppm"], ppm, name)  # w = 0
            self.assertEqual(c["availability_raw"], "%d.%03d" % (
                ppm // 10000, ppm // 10 % 1000))
            self.assertEqual(c["pass"], ppm >= c["target_ppm"])
            # SPEC.md 20.5: the budget (1 - target) x B used, rounded up
            den = (10**6 - c["target_ppm"]) * b
            self.assertEqual(c["error_budget_used_permille"],
                             -(-dm * 1000 * 10**6 // den))
            self.assertEqual(c["unknown_decides"], not c["pass"] and u > 0 and
                             (b - dm) * 10**6 // b >= c["target_ppm"])
            if name != "primary_store":
                got = sum(1 for _, _, x in self.of_type("health.probe")
                          if x["component"] == name)
                self.assertEqual(c["probes_received"], got)
                self.assertEqual(c["probes_expected"], DAYS * DAY_US // iv)
        gap = self.truth["monitoring_gaps"][0]
        self.assertEqual(gap["length_us"], 20 * 60 * 10**6)

    def test_auditlog_report_finds_the_truth(self):
        """The reporter's A1.2 part (SPEC.md 20, 21) over the period finds
        exactly the numbers, episodes and activations of the truth."""
        if run(self.dir, "report", "--help").returncode != EXIT_OK:
            self.skipTest("this build has no 'auditlog report'")
        run(self.dir, "report", "--store", "a", "--from", "2026-01-02",
            "--to", END, "--config", os.path.abspath(EXAMPLE), "--out",
            "report-a", "--no-record", expect=EXIT_OK)
        with open(os.path.join(self.dir, "report-a", "report.json")) as f:
            rep = json.load(f)["a1_2"]
        self.assertEqual(rep["malformed_inputs"], 0)
        self.assertEqual([c["component"] for c in rep["components"]],
                         [c["name"] for c in self.truth["components"]])
        for rc, tc in zip(rep["components"], self.truth["components"]):
            for k in ("signal", "period_us", "excluded_us", "down_us",
                      "partial_us", "unknown_us", "up_us",
                      "availability_raw_ppm", "availability_raw",
                      "availability_weighted_ppm", "availability_weighted",
                      "error_budget_used_permille", "pass",
                      "unknown_decides"):
                self.assertEqual(rc[k], tc[k], (tc["name"], k))
            self.assertEqual(
                [(us_of(e["start"]), us_of(e["end"]), e["down_us"],
                  e["partial_us"], e["trigger"], e["recovery"],
                  e["half_open_failures"]) for e in rc["episodes"]],
                [(o["start_us"], o["end_us"], o["down_us"], o["partial_us"],
                  o["trigger"], o["recovery"], o["half_open_failures"])
                 for o in tc["outages"]], tc["name"])
            flapping = sum(g["episodes"] for g in tc["flapping"])
            self.assertEqual(sum(1 for e in rc["episodes"] if e["flapping"]),
                             flapping, tc["name"])
        acts = [a for c in rep["components"] for a in c["activations"]]
        self.assertEqual(
            [(a["failover_us"], a["files"], a["spooled"], a["imported"],
              a["duplicates"], a["conflicts"], a["refused"], a["drained"],
              a["reconciled"]) for a in acts],
            [(t["failover_us"], len(t["files"]), t["spooled"], t["imported"],
              t["duplicates"], t["conflicts"], t["refused"], True, True)
             for t in self.truth["spool_activations"]])

    # -- spool, maintenance, logins, operators, integrity -------------------

    def test_spool_activations_reconcile_and_drain_on_their_last_file(self):
        acts = []
        for i, r, e in self.of_type("backup.activated") + \
                self.of_type("backup.replayed"):
            acts.append((i, r, e))
        acts.sort(key=lambda x: x[0])
        groups = []
        for i, r, e in acts:
            if e["type"] == "backup.activated":
                groups.append([(i, r, e)])
            else:
                groups[-1].append((i, r, e))
        self.assertEqual(len(groups), 2)
        self.assertEqual(len(self.truth["spool_activations"]), 2)
        for g, t in zip(groups, self.truth["spool_activations"]):
            i, r, act = g[0]
            received = us_of(r["received"])
            # failed_at a few ms before the first spooled events
            self.assertTrue(0 < received - act["failed_at_us"] <= 10000)
            self.assertEqual(us_of(self.recs[i + 1]["received"]), received)
            self.assertEqual(act["file"], g[1][2]["file"])
            replayed = [e for _, _, e in g[1:]]
            self.assertGreaterEqual(len(replayed), 2)
            for e in replayed:
                self.assertEqual(e["origin"], "spool")
                self.assertEqual(e["records"], e["imported"] + e["duplicates"] +
                                 e["conflicts"] + e["refused"])
                self.assertEqual(us_of(e["replayed_at"]), e["replayed_at_us"])
            self.assertEqual([e["drained"] for e in replayed],
                             [False] * (len(replayed) - 1) + [True])
            files = [int(e["file"], 16) for e in replayed]
            self.assertEqual(files, list(range(files[0], files[0] +
                                               len(files))))
            self.assertEqual(t["activated_index"], i)
            self.assertEqual(t["failover_us"], received - act["failed_at_us"])
            self.assertEqual(t["spooled"], sum(e["records"] for e in replayed))
            self.assertEqual([f["records"] for f in t["files"]],
                             [e["records"] for e in replayed])
        self.assertEqual(sum(t["duplicates"] for t in
                             self.truth["spool_activations"]), 3)

    def test_maintenance_windows_are_approved_overlapping_and_one_is_not(self):
        windows = [e for _, _, e in self.of_type("maintenance.window")]
        approved = [w for w in windows if "change_ref" in w]
        self.assertGreaterEqual(len(approved), 3)
        for w in approved:
            self.assertRegex(w["change_ref"], r"^CHG-1\d{3}$")
            self.assertIn("approver", w)
            self.assertLess(us_of(w["start"]), us_of(w["end"]))
        self.assertEqual(len(windows) - len(approved), 1)
        overlapping = [(a, b) for a in approved for b in approved
                       if a is not b and a["component"] == b["component"] and
                       us_of(a["start"]) < us_of(b["start"]) < us_of(a["end"])]
        self.assertEqual(len(overlapping), 1)

    def test_login_failures_burst_per_actor_and_per_address(self):
        fails = [(us_of(e["time"]), e) for _, _, e in self.of_type("auth.login")
                 if e["outcome"] == "failure"]
        logins = self.of_type("auth.login")
        self.assertGreater(len(logins), 200)
        self.assertGreater(len({e["actor"] for _, _, e in logins}), 5)
        self.assertTrue(all("source_addr" in e for _, _, e in logins))

        def burst(key):
            best = 0
            for i, (t, e) in enumerate(fails):
                n = sum(1 for u, f in fails[i:] if u - t < 300 * 10**6 and
                        f[key] == e[key])
                best = max(best, n)
            return best
        self.assertGreaterEqual(burst("actor"), 12)
        self.assertGreaterEqual(burst("source_addr"), 12)
        kinds = {b["kind"]: b for b in self.truth["login_bursts"]}
        self.assertEqual(kinds["actor"]["failures"], 12)
        self.assertLess(kinds["actor"]["window_us"], 300 * 10**6)

    def test_operator_actions_reset_breakers_once_at_night_and_once_denied(self):
        acts = [(us_of(r["received"]), e) for _, r, e in
                self.of_type("admin.action")]
        for _, e in acts:
            for k in ("operator", "auth_method", "action", "target", "reason",
                      "outcome"):
                self.assertIn(k, e)
        resets = [(t, e) for t, e in acts if e["action"] == "breaker.reset"]
        self.assertEqual(len(resets), 2)
        self.assertTrue(all(e["outcome"] == "success" and "change_ref" in e
                            for _, e in resets))
        self.assertEqual(sum(1 for t, _ in resets if not in_business_hours(t)),
                         1)
        self.assertEqual([e["outcome"] for _, e in acts].count("denied"), 1)
        # each reset is followed by its breaker's reset transition
        for t, e in resets:
            chain = [x for (_, comp), c in self.chains().items() for x in c
                     if comp == e["target"] and x["cause"] == "reset"]
            self.assertEqual(len(chain), 1)
            self.assertTrue(0 < chain[0]["at_us"] - t <= 100000)
        self.assertEqual([a["in_business_hours"] for a in
                          self.truth["admin_actions"]],
                         [in_business_hours(t) for t, _ in acts])

    def test_integrity_runs_pass_daily_but_one_day_is_missing(self):
        runs = self.of_type("integrity.verified")
        self.assertEqual(len(runs), DAYS - 1)
        days = {(us_of(r["received"]) - FROM_US) // DAY_US for _, r, _ in runs}
        missing = set(range(DAYS)) - days
        self.assertEqual(len(missing), 1)
        for i, _, e in runs:
            self.assertEqual(e["result"], "pass")
            self.assertEqual(e["tree_size"], i)
        self.assertEqual(self.truth["integrity"]["runs"], DAYS - 1)
        self.assertEqual(self.truth["integrity"]["missing_day"],
                         "2026-01-0%d" % (2 + missing.pop()))


class DemoHistoryOptionsTest(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="alog-demo-")
        self.addCleanup(self._tmp.cleanup)
        self.dir = self._tmp.name

    def test_help_exits_0_and_prints_the_usage(self):
        p = run(self.dir, "demo", "history", "--help", expect=EXIT_OK)
        self.assertTrue(p.stdout.startswith(b"usage: auditlog demo history"))
        self.assertEqual(p.stderr, b"")
        p = run(self.dir, "demo", "--help", expect=EXIT_OK)
        self.assertIn(b"auditlog demo history", p.stdout)

    def test_bad_options_exit_2(self):
        run(self.dir, "init", "--store", "s", expect=EXIT_OK)
        for args in (["--days", "0"], ["--days", "3661"], ["--days", "x"],
                     ["--days", "-1"], ["--end", "yesterday"],
                     ["--end", "2026-02-30"], ["--seed", "-1"], ["--bogus"],
                     ["extra"], ["--days"], ["--end", "1970-01-02"]):
            p = run(self.dir, "demo", "history", "--store", "s", *args,
                    expect=EXIT_USAGE)
            self.assertIn(b"auditlog", p.stderr, args)
        self.assertEqual(json.loads(run(self.dir, "info", "--store", "s",
                                        expect=EXIT_OK).stdout)["tree_size"], 0)

    def test_a_store_that_is_not_empty_is_refused_with_exit_2(self):
        run(self.dir, "init", "--store", "s", expect=EXIT_OK)
        run(self.dir, "demo", "history", "--store", "s", "--days", "1",
            "--end", END, expect=EXIT_OK)
        size = json.loads(run(self.dir, "info", "--store", "s").stdout)
        p = run(self.dir, "demo", "history", "--store", "s", "--days", "1",
                "--end", END, expect=EXIT_USAGE)
        self.assertIn(b"fresh store", p.stderr)
        self.assertEqual(json.loads(run(self.dir, "info", "--store",
                                        "s").stdout), size)

    def test_a_missing_store_or_key_is_an_operational_error(self):
        run(self.dir, "demo", "history", "--store", "nowhere", "--days", "1",
            "--end", END, expect=EXIT_OPER)
        run(self.dir, "init", "--store", "s", expect=EXIT_OK)
        run(self.dir, "demo", "history", "--store", "s", "--days", "1",
            "--end", END, "--key", "no.key", expect=EXIT_OPER)

    def test_a_configuration_without_the_scenarios_components_is_refused(self):
        run(self.dir, "init", "--store", "s", expect=EXIT_OK)
        with open(os.path.join(self.dir, "c.json"), "w") as f:
            f.write('{"components":[{"name":"dashboard_stats","tier":"general"}]}')
        p = run(self.dir, "demo", "history", "--store", "s", "--days", "1",
                "--end", END, "--config", "c.json", expect=EXIT_USAGE)
        self.assertIn(b"dashboard_activities", p.stderr)
        with open(os.path.join(self.dir, "bad.json"), "w") as f:
            f.write('{"components":[{"name":"x","tier":"nope"}]}')
        run(self.dir, "demo", "history", "--store", "s", "--days", "1",
            "--end", END, "--config", "bad.json", expect=EXIT_USAGE)

    def test_a_given_configuration_is_cited_and_its_probe_intervals_used(self):
        with open(EXAMPLE) as f:
            cfg = json.load(f)
        for c in cfg["components"]:
            c["probe_interval_s"] = 120
        text = json.dumps(cfg).encode()
        with open(os.path.join(self.dir, "c.json"), "wb") as f:
            f.write(text)
        run(self.dir, "init", "--store", "s", expect=EXIT_OK)
        run(self.dir, "demo", "history", "--store", "s", "--days", "1",
            "--end", END, "--config", "c.json", expect=EXIT_OK)
        recs = [json.loads(x) for x in run(self.dir, "export", "--store", "s",
                                           expect=EXIT_OK).stdout.split(b"\n")[:-1]]
        self.assertEqual(recs[0]["event"]["config_file_sha256"],
                         hashlib.sha256(text).hexdigest())
        probes = [r for r in recs if r["event"]["type"] == "health.probe" and
                  r["event"]["component"] == "dashboard_stats"]
        self.assertEqual(len(probes), 720 - 10)   # 20 min of monitoring gap

    def test_demo_events_still_prints_its_stream(self):
        p = run(self.dir, "demo", "events", "--count", "5", expect=EXIT_OK)
        lines = p.stdout.split(b"\n")[:-1]
        self.assertEqual(len(lines), 5)
        self.assertTrue(all(json.loads(x)["type"] for x in lines))


if __name__ == "__main__":
    sys.path.insert(0, HERE)
    import runner  # noqa: E402
    sys.exit(runner.main(__name__, BIN))
