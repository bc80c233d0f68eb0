"""A load_batch task's work in a process of its own, as a worker runs it:

    python -m tests.batch_worker RUN_ID BATCH_JSON [BATCH_JSON ...]

runs grassroots.pipeline.load_intake_batch (what the DAG's mapped task calls) for each
batch descriptor, one after another, and prints each batch's summary as one JSON line.
Crash and race tests start it with GRASSROOTS_FAILPOINT set.
"""

from __future__ import annotations

import json
import sys

from grassroots.pipeline import load_intake_batch
from grassroots.warehouse import Warehouse


def main(argv: list[str]) -> int:
    run_id, *batches = argv
    dsn = Warehouse().url()
    for batch in batches:
        print(json.dumps(load_intake_batch(dsn, json.loads(batch), run_id)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
