"""The worked questions of docs/analyst-guide.md: their titles and SQL, read from the guide.

One source for the integration test that runs every question as the analyst role and for
the benchmark that times them (bench/questions.py).
"""

from __future__ import annotations

import re

from grassroots.config import REPO_ROOT

GUIDE = REPO_ROOT / "docs" / "analyst-guide.md"

_QUESTION = re.compile(r"^### (.+?)\n.*?```sql\n(.*?)```", flags=re.S | re.M)


def questions() -> list[tuple[str, str]]:
    """(title, sql) of each worked question, in the guide's order."""
    text = GUIDE.read_text(encoding="utf-8")
    return [(title.strip(), sql) for title, sql in _QUESTION.findall(text)]
