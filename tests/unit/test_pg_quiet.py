"""Nothing of psycopg's own reaches stderr: a failed read is one line of Twofold's, never also
psycopg's warning about the pipeline it ended (which would print beside the error, and over the
console's screen)."""

from __future__ import annotations

import subprocess
import sys

import pytest

# In a process of its own: under pytest the logging plugin's handlers would swallow the warning.
SCRIPT = """
import sys
import psycopg
from store.pg.connection import Connections
conn = Connections(sys.argv[1], "the test server").connect()
try:
    with conn.pipeline():
        conn.execute("SELECT * FROM no_such_table")
        raise RuntimeError("the caller's own failure")
except RuntimeError:
    print("raised")
"""


@pytest.mark.stores("pg")
def test_a_pipeline_ended_by_a_failure_prints_nothing_of_psycopgs(server) -> None:
    # The block raising while its failed statement's result is unread: ending the pipeline fails
    # too, and psycopg logs that it ignored that (a warning on its logger).
    done = subprocess.run([sys.executable, "-c", SCRIPT, server.new_schema()], capture_output=True, text=True, timeout=60)
    assert done.stdout == "raised\n", done.stderr
    assert done.stderr == ""
