"""`grassroots check FILE… [--json] [--warehouse]` and `grassroots upload-link …`.

check exits 0 when every file is clean, 1 when the worst is a warning, 2 when a file
has an error (the night would quarantine it).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

UPLOAD_PATH = "/grassroots/gui-bao-cao/"
SEVERITY_VI = {"error": "LỖI", "warning": "CẢNH BÁO"}


def _where(f) -> str:
    parts = []
    if f.row is not None:
        parts.append(f"dòng {f.row}")
    if f.letter or f.header:
        parts.append("cột " + " ".join(p for p in (f.letter, f.header and f"“{f.header}”") if p))
    return ", ".join(parts) or "cả tệp"


def print_result(result, out=sys.stdout) -> None:
    identity = " ".join(x for x in (result.form_code, result.unit_code, result.period) if x)
    verdict = ("có lỗi: sẽ bị trả lại", "có cảnh báo", "đạt")[{2: 0, 1: 1, 0: 2}[result.exit_code]]
    print(f"{result.name} [{identity or 'không rõ biểu'}]: {verdict}", file=out)
    for f in result.findings:
        value = f" = {f.value}" if f.value is not None else ""
        print(f"  {SEVERITY_VI[f.severity]} {f.rule_id} {_where(f)}{value}", file=out)
        print(f"    {f.message_vi}", file=out)
        print(f"    → {f.todo_vi}", file=out)


def check_command(args) -> int:
    import logging

    from grassroots.check.core import check_contents, read_limited

    logging.getLogger().setLevel(logging.WARNING)  # GX's import chatter is not a finding

    results = check_contents([(Path(p).name, read_limited(Path(p))) for p in args.files])
    if args.warehouse:
        from grassroots.check.cross import add_warehouse_findings
        from grassroots.warehouse import Warehouse

        add_warehouse_findings(Warehouse().url(), results)
    if args.json:
        json.dump([r.as_json() for r in results], sys.stdout, ensure_ascii=False, indent=2)
        print()
    else:
        for result in results:
            print_result(result)
    return max((r.exit_code for r in results), default=0)


def upload_link_command(args) -> int:
    import psycopg

    from grassroots.check import links
    from grassroots.warehouse import Warehouse

    with psycopg.connect(Warehouse().url()) as conn:
        if args.action == "issue":
            link, token = links.issue(conn, args.target[0], args.days)
            print(f"link {link.link_id} for unit {link.unit_code}, valid until {link.expires_at}")
            print(f"{args.base_url.rstrip('/')}{UPLOAD_PATH}{token}")
        elif args.action == "revoke":
            if not links.revoke(conn, args.target[0]):
                print(f"no valid link {args.target[0]}", file=sys.stderr)
                return 1
            print(f"link {args.target[0]} revoked")
        elif args.action == "assign":
            user, units = args.target[0], args.target[1:]
            added = links.assign(conn, user, units)
            print(f"{user} sees the uploads of {', '.join(units)} ({added} new)")
        else:
            for link_id, unit, issued, expires, revoked in links.listed(conn):
                state = f"revoked {revoked:%Y-%m-%d %H:%M}" if revoked else "valid"
                dates = f"issued {issued:%Y-%m-%d}  expires {expires:%Y-%m-%d}"
                print(f"{link_id}  {unit:<8} {dates}  {state}")
    return 0


def add_check_commands(commands) -> None:
    """The check and upload-link subcommands (grassroots.cli wires them in)."""
    from grassroots.check.links import DEFAULT_DAYS

    check = commands.add_parser(
        "check", help="check files as the night would, findings in sheet coordinates"
    )
    check.add_argument("files", nargs="+", metavar="FILE")
    check.add_argument("--json", action="store_true", help="findings as JSON")
    check.add_argument(
        "--warehouse",
        action="store_true",
        help="also the cross-form and plausibility rules against the warehouse (warnings)",
    )
    check.set_defaults(handler=check_command)

    link = commands.add_parser("upload-link", help="signed links to the upload page, per unit")
    link.add_argument("action", choices=["issue", "revoke", "list", "assign"])
    link.add_argument(
        "target",
        nargs="*",
        help="issue: UNIT; revoke: LINK_ID; assign: USER UNIT… (the staff view's units)",
    )
    link.add_argument("--days", type=int, default=DEFAULT_DAYS, help="validity (issue)")
    link.add_argument(
        "--base-url", default="http://127.0.0.1:8080", help="the server's address as units see it"
    )
    link.set_defaults(handler=_upload_link_checked)


def _upload_link_checked(args) -> int:
    wanted = {"issue": (1, "UNIT"), "revoke": (1, "LINK_ID"), "assign": (2, "USER UNIT…")}
    count, shape = wanted.get(args.action, (0, ""))
    if len(args.target) < count or (count == 1 and len(args.target) > 1):
        raise SystemExit(f"usage: grassroots upload-link {args.action} {shape}")
    return upload_link_command(args)
