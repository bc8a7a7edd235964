#!/usr/bin/python3
"""The HTML rendering of a report in a real browser (suite `slow`):
SPEC.md 21.4.

Builds a small store (`auditlog init`, a few hundred health.probe and
maintenance.window events of a one-component configuration, a
checkpoint), runs `auditlog report --format json,md,html --no-record`
and opens report.html in headless Chromium: every section the rendering
promises (SECTIONS below) must be in the DOM the browser built, the page
must have no script and fetch nothing, and a PNG screenshot is taken
into the test's temporary directory (its path is printed; the directory
is kept when ALOG_KEEP is set).

Skipped, with the reason, when /usr/bin/chromium is missing (tools/setup
installs it) or when this auditlog does not write report.html yet.

Environment: ALOG_BIN (the binary; default build/tools/auditlog),
ALOG_BIN_WRAP (a command to run it under), ALOG_KEEP (keep the temporary
directory). The last line printed is "N passed, N failed".
"""
import datetime
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
sys.path.insert(0, os.path.join(HERE, "..", "cli"))
import runner  # noqa: E402

BIN = os.environ.get("ALOG_BIN") or os.path.join(HERE, "..", "..", "build",
                                                 "tools", "auditlog")
WRAP = shlex.split(os.environ.get("ALOG_BIN_WRAP", ""))
CHROMIUM = "/usr/bin/chromium"
EXIT_OK = 0

# What the page must hold: (element id, heading text) per section.
SECTIONS = [
    ("cover", "1. Cover"),
    ("completeness", "2. Completeness"),
    ("availability", "3. Availability (A1.2)"),
    ("component-1", "3.1 api"),
    ("monitoring", "4. Monitoring (CC7.2)"),
    ("monitoring-probes", "4.1 Health probes"),
    ("probes-1", "4.1.1 api"),
    ("monitoring-gaps", "4.2 Monitoring gaps"),
    ("monitoring-checkpoints", "4.3 Checkpoint cadence"),
    ("monitoring-verification", "4.4 Verification runs"),
    ("monitoring-rules", "4.5 Detection rules"),
    ("monitoring-anomalies", "4.6 Anomalies"),
    ("monitoring-operators", "4.7 Operator activity (CC6.1, CC8.1)"),
    ("monitoring-logins", "4.8 Logins"),
    ("tests", "5. Tests and results"),
    ("deviations", "Deviations register"),
    ("sampling", "6. Sampling worksheet"),
    ("integrity", "7. Integrity appendix"),
    ("definitions", "8. Definitions"),
]

CONFIG = {"version": 1, "components": [
    {"name": "api", "tier": "critical", "target": 0.999,
     "probe_interval_s": 60}]}


def events(day):
    """Probes of "api" every minute from 00:00 to 04:59 of the day, down
    from 02:00 to 02:09; a window with a change reference and one without
    (a deviation)."""
    def t(h, m):
        return "%sT%02d:%02d:00Z" % (day, h, m)
    out = []
    for minute in range(300):
        h, m = divmod(minute, 60)
        out.append({"type": "health.probe", "id": "p-%d" % minute,
                    "source": "mon", "time": t(h, m), "component": "api",
                    "status": "down" if h == 2 and m < 10 else "up"})
    out.append({"type": "maintenance.window", "id": "mw-1", "source": "chg",
                "component": "api", "start": t(3, 0), "end": t(3, 20),
                "change_ref": "CHG-<b>1</b>", "approver": "carol"})
    out.append({"type": "maintenance.window", "id": "mw-2", "source": "chg",
                "component": "api", "start": t(4, 0), "end": t(4, 5)})
    return b"".join(json.dumps(e, separators=(",", ":")).encode() + b"\n"
                    for e in out)


def chromium(*args):
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox",
                           "--disable-gpu", "--no-first-run",
                           "--disable-extensions"] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=180)


class RenderChromiumTest(unittest.TestCase):
    def setUp(self):
        if not os.access(CHROMIUM, os.X_OK):
            self.skipTest("%s not installed (tools/setup installs the "
                          "chromium package)" % CHROMIUM)
        self.dir = tempfile.mkdtemp(prefix="alog-render-")
        if not os.environ.get("ALOG_KEEP"):
            self.addCleanup(subprocess.run, ["rm", "-rf", self.dir])

    def run_cmd(self, *args, input=None):
        p = subprocess.run(WRAP + [BIN] + [str(a) for a in args], input=input,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           cwd=self.dir, timeout=600)
        return p

    def must(self, *args, input=None):
        p = self.run_cmd(*args, input=input)
        if p.returncode != EXIT_OK:
            self.fail("auditlog %s: exit %d\n%s" % (
                " ".join(map(str, args)), p.returncode,
                p.stderr.decode("utf-8", "replace")[-2000:]))
        return p

    def make_report(self):
        """report.html of today's period, or skip when not written."""
        store = os.path.join(self.dir, "store")
        cfg = os.path.join(self.dir, "cfg.json")
        out = os.path.join(self.dir, "out")
        today = datetime.datetime.now(datetime.timezone.utc).date()
        with open(cfg, "w") as f:
            json.dump(CONFIG, f)
        self.must("init", "--store", store)
        self.must("ingest", "--store", store, input=events(today.isoformat()))
        self.must("checkpoint", "--store", store)
        p = self.run_cmd("report", "--store", store, "--config", cfg,
                         "--from", today.isoformat(),
                         "--to", (today + datetime.timedelta(days=1)).isoformat(),
                         "--out", out, "--no-record",
                         "--format", "json,md,html")
        html = os.path.join(out, "report.html")
        if p.returncode != EXIT_OK or not os.path.exists(html):
            self.skipTest("this auditlog does not write report.html yet "
                          "(report --format json,md,html: exit %d)"
                          % p.returncode)
        self.assertTrue(os.path.exists(os.path.join(out, "report.md")))
        self.assertTrue(os.path.exists(os.path.join(out, "report.json")))
        return html

    def check_page(self, html):
        with open(html, encoding="utf-8") as f:
            text = f.read()
        # self-contained: nothing fetched, no script
        self.assertNotIn("<script", text)
        self.assertIsNone(re.search(r"\bsrc\s*=", text))
        for href in re.findall(r'href="([^"]*)"', text):
            self.assertTrue(href.startswith("#"), href)
        p = chromium("--dump-dom", "file://" + html)
        self.assertEqual(p.returncode, 0, p.stderr.decode("utf-8", "replace"))
        dom = p.stdout.decode("utf-8")
        for sid, title in SECTIONS:
            with self.subTest(section=sid):
                self.assertRegex(dom, r'<section id="%s"' % re.escape(sid))
                self.assertIn(title, dom)
        # the browser parsed the escaped change reference as text
        self.assertNotIn("<b>1</b>", dom)
        self.assertIn("CHG-&lt;b&gt;1&lt;/b&gt;", dom)
        self.assertIn('<svg class="timeline"', dom)
        self.assertIn('<svg class="volume"', dom)
        png = os.path.join(self.dir, "report.png")
        p = chromium("--screenshot=" + png, "--window-size=1200,3000",
                     "file://" + html)
        self.assertEqual(p.returncode, 0, p.stderr.decode("utf-8", "replace"))
        with open(png, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        print("screenshot: %s" % png)

    def test_report_html_shows_every_section_in_chromium(self):
        self.check_page(self.make_report())


if __name__ == "__main__":
    sys.exit(runner.main(__name__, BIN))
