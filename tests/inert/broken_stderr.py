#!/usr/bin/env python3
"""broken_stderr.py PROG ARGS...: runs PROG with stderr = a pipe whose read end is already
closed (as after a log collector exits) and SIGPIPE at its default action; prints
"rc=N stdout=..." (N negative: killed by that signal)."""
import os
import subprocess
import sys

r, w = os.pipe()
os.close(r)
p = subprocess.run(sys.argv[1:], stderr=w, stdout=subprocess.PIPE, restore_signals=True)
os.close(w)
print("rc=%d stdout=%r" % (p.returncode, p.stdout.decode(errors="replace")))
