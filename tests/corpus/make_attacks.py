"""Write the attack corpus (tests/corpus/attacks/) and its index (ATTACKS.json).

The files are made by grassroots.synthetic.attacks; rerun after changing it and commit
the result: `.venv/bin/python tests/corpus/make_attacks.py`.
"""

from __future__ import annotations

from pathlib import Path

from grassroots.synthetic.attacks import write_attacks

HERE = Path(__file__).resolve().parent


def main() -> None:
    attacks_dir, index, count = write_attacks(HERE)
    print(f"wrote {count} files to {attacks_dir} and {index}")


if __name__ == "__main__":
    main()
