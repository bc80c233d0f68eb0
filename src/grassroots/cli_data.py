"""`grassroots` commands that write the repository's data: the registry seeds, the
demo inbox, synthetic submissions, the GX suites, the catalog's files and the blank
templates."""

from __future__ import annotations

import argparse
from pathlib import Path

from grassroots.config import DEMO_INBOX, REGISTRY_SOURCES_DIR, REPO_ROOT
from grassroots.synthetic.defaults import DEFAULT_PROVINCE, DEFAULT_SEED, SCALES


def _registry_build(args) -> int:
    from grassroots.registry_build import build_registry

    counts = build_registry(args.sources, args.out)
    for name, count in counts.items():
        print(f"{name}: {count} rows")
    return 0


def _demo_data(args) -> int:
    from grassroots.registry import Registry
    from grassroots.synthetic.demo import write_demo_inbox

    written = write_demo_inbox(args.out, Registry.load())
    print(f"wrote {len(written)} files to {args.out}")
    return 0


def _generate(args) -> int:
    from grassroots.synthetic.national import generate, parse_years

    summary = generate(
        args.out,
        scale=args.scale,
        years=parse_years(args.years),
        error_rate=args.error_rate,
        xlsx_share=args.xlsx_share,
        seed=args.seed,
        manifest=args.manifest,
        province=args.province,
    )
    print(
        f"wrote {summary.files} files ({summary.xlsx} XLSX, {summary.rows} rows, "
        f"{summary.bytes / 1e6:.1f} MB) to {args.out} in {summary.seconds:.1f} s; "
        f"{sum(summary.broken_by_rule.values())} broken, listed in {summary.manifest}"
    )
    return 0


def _suites(args) -> int:
    from grassroots.validation.suites import write_suites

    for path in write_suites(args.out):
        print(path)
    return 0


def _catalog(args) -> int:
    from grassroots.catalog import render

    if args.action == "sync":
        for path in render.sync():
            print(f"written: {path}")
        return 0
    differ = render.stale()
    for path in differ:
        print(f"differs from the catalog: {path} (grassroots catalog sync writes it)")
    return 1 if differ else 0


def _templates(args) -> int:
    from grassroots.templates import write_templates

    for path in write_templates(args.out):
        print(path)
    return 0


def add_data_commands(commands: argparse._SubParsersAction) -> None:
    registry = commands.add_parser("registry", help="unit registry seeds")
    registry.add_argument("action", choices=["build"])
    registry.add_argument("--sources", type=Path, default=REGISTRY_SOURCES_DIR)
    registry.add_argument("--out", type=Path, default=REPO_ROOT / "seeds" / "registry")
    registry.set_defaults(handler=_registry_build)

    demo_data = commands.add_parser("demo-data", help="regenerate the sample inbox")
    demo_data.add_argument("--out", type=Path, default=DEMO_INBOX)
    demo_data.set_defaults(handler=_demo_data)

    gen = commands.add_parser("generate", help="synthetic submissions over the real registry")
    gen.add_argument("--scale", choices=SCALES, default="demo")
    gen.add_argument("--years", default="2008-2025", help="e.g. 2008-2025, 2024 or 2016,2020")
    gen.add_argument("--out", type=Path, required=True, help="inbox folder to write")
    gen.add_argument("--error-rate", type=float, default=0.01, help="share of broken files")
    gen.add_argument("--xlsx-share", type=float, default=0.2)
    gen.add_argument("--seed", type=int, default=DEFAULT_SEED)
    gen.add_argument("--province", default=DEFAULT_PROVINCE, help="for --scale province")
    gen.add_argument("--manifest", type=Path, help="default: <out>_manifest.csv beside <out>")
    gen.set_defaults(handler=_generate)

    suites = commands.add_parser("suites", help="write the GX suites from the form definitions")
    suites.add_argument("--out", type=Path, default=REPO_ROOT / "expectations")
    suites.set_defaults(handler=_suites)

    catalog = commands.add_parser(
        "catalog", help="the files made from the catalog of forms and indicators"
    )
    catalog.add_argument(
        "action", choices=["sync", "check"], help="sync: write them; check: list those that differ"
    )
    catalog.set_defaults(handler=_catalog)

    templates = commands.add_parser("templates", help="write blank XLSX templates, one per form")
    templates.add_argument("--out", type=Path, required=True, help="folder to write them to")
    templates.set_defaults(handler=_templates)
