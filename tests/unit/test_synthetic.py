"""The synthetic package: its shared core, the committed corpora it regenerates, and its
place apart from the product."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from grassroots.synthetic.attacks import write_attacks
from grassroots.synthetic.corpus import write_corpus
from grassroots.synthetic.defects import FILE_RULES, INJECTORS, RULE_FORMS
from grassroots.synthetic.membership import cap_excellent, members_end, split_members

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "corpus"


def _same_tree(written: Path, committed: Path) -> None:
    names = sorted(p.name for p in committed.iterdir())
    assert sorted(p.name for p in written.iterdir()) == names
    for name in names:
        assert (written / name).read_bytes() == (committed / name).read_bytes(), name


def test_bad_input_corpus_regenerates_identically(tmp_path):
    files_dir, expected, count = write_corpus(tmp_path)
    assert count == len(list((CORPUS / "files").iterdir()))
    _same_tree(files_dir, CORPUS / "files")
    assert expected.read_bytes() == (CORPUS / "EXPECTED.csv").read_bytes()


def test_attack_corpus_regenerates_identically(tmp_path):
    attacks_dir, index, _count = write_attacks(tmp_path)
    _same_tree(attacks_dir, CORPUS / "attacks")
    assert index.read_bytes() == (CORPUS / "ATTACKS.json").read_bytes()


def test_writing_the_corpus_twice_in_one_process_gives_the_same_files(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, _, _ = write_corpus(tmp_path / "a")
    second, _, _ = write_corpus(tmp_path / "b")
    _same_tree(first, second)


def test_every_rule_has_one_injector_and_its_forms():
    assert set(INJECTORS) == set(RULE_FORMS) == set(FILE_RULES)


def test_split_members_keeps_the_total_and_the_branch_floors():
    rng = random.Random(1)
    statuses = ["independent", "joint", "none", "independent", "independent"]
    members = split_members(60, statuses, [1.0, 1.0, 1.0, 0.7, 1.4], rng)
    assert sum(members) == 60
    assert members[2] == 0 and 1 <= members[1] <= 2
    assert min(members[i] for i in (0, 3, 4)) >= 3


def test_cap_excellent_keeps_the_first_within_a_fifth():
    ratings = ["excellent"] * 3 + ["good"] * 7
    assert cap_excellent(ratings) == ["excellent", "excellent", "good"] + ["good"] * 7


def test_members_end_is_the_balance():
    assert members_end(100, 5, 2, 1, 1, 0, 0) == 105


def test_the_product_never_imports_the_synthetic_package():
    # Only the command line (demo-data, generate) reaches it; the night never does.
    allowed = {REPO / "src" / "grassroots" / "cli_data.py"}
    sources = [*(REPO / "src" / "grassroots").rglob("*.py"), *(REPO / "dags").rglob("*.py")]
    offenders = [
        str(path.relative_to(REPO))
        for path in sources
        if "synthetic" not in path.relative_to(REPO).parts
        and path not in allowed
        and "grassroots.synthetic" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []
