"""Fault cases: inputs the suite must refuse cleanly (one line, a known exit status), never with a traceback."""
