"""The main() every end-to-end test file shares: run the file's tests,
print skips and expected failures, and end with "N passed, N failed"
(the line tools/test adds up). Exit status 1 when anything failed."""
import os
import sys
import unittest


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
