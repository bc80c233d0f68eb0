"""Named points where crash-safety and race tests stop or pause the process.

GRASSROOTS_FAILPOINT=<name>:<action>, unset in production (the check is one dict lookup):
  kill            SIGKILL at the point (a crash)
  fail            raise FailpointError (a task that fails on every attempt)
  pause=<file>    write <file> and sleep 60 s (the test stops PostgreSQL meanwhile)
  wait=<file>     write <file> and wait until the test deletes it (at most
                  WAIT_LIMIT_SECONDS): the test changes something at exactly this point,
                  then lets the run go on
GRASSROOTS_FAILPOINT_FILE=<file>: the same spec, read from <file> at each point (none
while it is missing or empty), so that a test arms and disarms a failpoint in the tasks
of a running `grassroots serve` without restarting it.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

FAILPOINT_ENV = "GRASSROOTS_FAILPOINT"
FAILPOINT_FILE_ENV = "GRASSROOTS_FAILPOINT_FILE"
# Long enough for a test to kill PostgreSQL and see it restarted on 2 busy cores.
WAIT_LIMIT_SECONDS = 300


class FailpointError(RuntimeError):
    pass


def _spec() -> str:
    spec = os.environ.get(FAILPOINT_ENV, "")
    spec_file = os.environ.get(FAILPOINT_FILE_ENV)
    if not spec and spec_file:
        try:
            spec = Path(spec_file).read_text(encoding="utf-8").strip()
        except OSError:
            return ""
    return spec


def failpoint(name: str) -> None:
    spec = _spec()
    if not spec.startswith(name + ":"):
        return
    action = spec.split(":", 1)[1]
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif action == "fail":
        raise FailpointError(f"failpoint {name}")
    elif action.startswith("pause="):
        Path(action.split("=", 1)[1]).write_text(str(os.getpid()))
        time.sleep(60)
    elif action.startswith("wait="):
        marker = Path(action.split("=", 1)[1])
        marker.write_text(str(os.getpid()))
        deadline = time.monotonic() + WAIT_LIMIT_SECONDS
        while marker.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
