"""The main() every end-to-end test file shares: run the file's tests,
print skips and expected failures, and end with "N passed, N failed"
(the line tools/test adds up). Exit status 1 when anything failed."""
import os
import pty
import subprocess
import sys
import unittest


def run_on_tty(argv, cwd, timeout=600):
    """Run argv with stderr on a pseudo-terminal (where auditlog shows
    progress) and stdout on a pipe: (exit status, stderr bytes)."""
    master, slave = pty.openpty()
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=slave,
                           cwd=cwd, timeout=timeout)
        os.close(slave)
        slave = None
        out = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:   # EIO: the terminal's other side is closed
                break
            if not chunk:
                break
            out += chunk
    finally:
        if slave is not None:
            os.close(slave)
        os.close(master)
    return p.returncode, out


def main(module_name, binary):
    if not os.access(binary, os.X_OK):
        print("auditlog binary not found at %s (set ALOG_BIN)" % binary)
        print("0 passed, 1 failed")
        return 1
    suite = unittest.defaultTestLoader.loadTestsFromModule(
        sys.modules[module_name])
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(suite)
    failed = (len(result.failures) + len(result.errors) +
              len(result.unexpectedSuccesses))
    xfail = len(result.expectedFailures)
    skipped = len(result.skipped)
    passed = result.testsRun - failed - xfail - skipped
    if skipped:
        print("%d skipped" % skipped)
    if xfail:
        print("%d expected failures (known bugs, marked BUG:)" % xfail)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0
