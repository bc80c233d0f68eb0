"""Write the bad-input corpus (tests/corpus/files/) and its expectations (EXPECTED.csv).

The files are made by grassroots.synthetic.corpus; rerun after changing it and commit
the result: `.venv/bin/python tests/corpus/make_corpus.py`.
"""

from __future__ import annotations

from pathlib import Path

from grassroots.synthetic.corpus import write_corpus

HERE = Path(__file__).resolve().parent


def main() -> None:
    files_dir, expected, count = write_corpus(HERE)
    print(f"wrote {count} files to {files_dir} and {expected}")


if __name__ == "__main__":
    main()
