"""Named points where crash-safety and race tests stop or pause the process.

GRASSROOTS_FAILPOINT=<name>:<action>, unset in production (the check is one dict lookup):
  kill            SIGKILL at the point (a crash)
  pause=<file>    write <file> and sleep 60 s (the test stops PostgreSQL meanwhile)
  wait=<file>     write <file> and wait until the test deletes it (at most 60 s): the
                  test changes something at exactly this point, then lets the run go on
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

FAILPOINT_ENV = "GRASSROOTS_FAILPOINT"
WAIT_LIMIT_SECONDS = 60


def failpoint(name: str) -> None:
    spec = os.environ.get(FAILPOINT_ENV, "")
    if not spec.startswith(name + ":"):
        return
    action = spec.split(":", 1)[1]
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif action.startswith("pause="):
        Path(action.split("=", 1)[1]).write_text(str(os.getpid()))
        time.sleep(60)
    elif action.startswith("wait="):
        marker = Path(action.split("=", 1)[1])
        marker.write_text(str(os.getpid()))
        deadline = time.monotonic() + WAIT_LIMIT_SECONDS
        while marker.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
