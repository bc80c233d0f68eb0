"""The host name a task instance records: which worker ran it.

Airflow records the machine's name (`[core] hostname_callable`). Workers that share a
machine (several Celery workers on one host, or containers on the host's network) would
all record the same name; a worker started with GRASSROOTS_WORKER_NAME records that.
"""

from __future__ import annotations

import os
import socket


def worker_hostname() -> str:
    return os.environ.get("GRASSROOTS_WORKER_NAME") or socket.getfqdn()
