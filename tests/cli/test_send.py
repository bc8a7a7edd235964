import sys
sys.exit(77)  # placeholder until the tests land (77: skipped)
