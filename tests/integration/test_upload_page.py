"""The upload page against a real server on 127.0.0.1: hostile uploads are each refused
clearly and leave nothing in the inbox; a clean file is written whole, with its receipt;
every attempt is logged in landing.upload_events; the server survives 50 at once."""

from __future__ import annotations

import io
import zipfile
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import httpx
import psycopg
import pytest
from openpyxl import load_workbook

from grassroots.check import links
from grassroots.check.receive import MAX_UPLOAD_BYTES
from grassroots.config import paths
from tests.integration.test_bad_input_corpus import CORPUS
from tests.served_upload import served_app

pytestmark = pytest.mark.integration

UNIT = "06193"  # the commune of most of the corpus's files
PAGE = "/grassroots/gui-bao-cao/"
CLEAN = (CORPUS / "files" / "good_cp1258_cb.csv").read_bytes()  # CB 06193 2023
BROKEN = (CORPUS / "files" / "negative_members_cb.csv").read_bytes()  # CB 06193, S2


@pytest.fixture(scope="module")
def server(warehouse):
    from tests.conftest import reset_intake

    reset_intake(warehouse)
    with psycopg.connect(warehouse.url()) as conn:
        conn.execute("truncate landing.upload_events, landing.upload_links")
    with served_app() as url:
        yield url


@pytest.fixture(scope="module")
def token(warehouse, server) -> str:
    with psycopg.connect(warehouse.url()) as conn:
        return links.issue(conn, UNIT, days=1)[1]


def _post(url: str, token: str, content: bytes, name: str = "bao-cao.csv") -> httpx.Response:
    return httpx.post(
        f"{url}{PAGE}{token}",
        content=content,
        headers={"X-File-Name": quote(name), "Accept": "application/json"},
        timeout=None,
    )


def _inbox() -> list[str]:
    inbox = paths().inbox
    return sorted(p.name for p in inbox.iterdir()) if inbox.exists() else []


def _events(warehouse, where: str = "true", params=()) -> list[tuple]:
    with psycopg.connect(warehouse.url()) as conn:
        return conn.execute(
            "select event_id, link_id, client_ip, original_name, sha256, outcome, reason,"
            f" errors, inbox_name from landing.upload_events where {where} order by event_id",
            params,
        ).fetchall()


def test_a_clean_file_is_written_whole_into_the_inbox_with_its_receipt(server, token, warehouse):
    before = _inbox()
    answer = _post(server, token, CLEAN, "good.csv")
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["accepted"] and data["sha256"] and data["received_at"]
    added = sorted(set(_inbox()) - set(before))
    assert added == [data["inbox_name"]] and not any(n.endswith(".partial") for n in _inbox())
    assert (paths().inbox / data["inbox_name"]).read_bytes() == CLEAN
    (event,) = _events(warehouse, "event_id = %s", (data["event_id"],))
    assert event[2] == "127.0.0.1" and event[4] == data["sha256"] and event[5] == "accepted"
    assert event[1] == links.parse_token(token).link_id
    assert data["sha256"] in data["html"] and "Đã nhận tệp" in data["html"]


def test_a_file_with_errors_is_refused_kept_as_findings_and_marked_up(server, token, warehouse):
    before = _inbox()
    answer = _post(server, token, BROKEN, "loi.csv")
    assert answer.status_code == 422
    data = answer.json()
    assert not data["accepted"] and data["reason"] == "errors" and _inbox() == before
    (finding,) = data["check"]["findings"]
    assert (finding["rule_id"], finding["row"], finding["letter"]) == ("S2", 3, "G")
    (event,) = _events(warehouse, "event_id = %s", (data["event_id"],))
    assert event[5:8] == ("refused", "errors", 1)
    marked = httpx.get(f"{server}{PAGE}{token}/ket-qua/{data['event_id']}.xlsx")
    assert marked.status_code == 200
    workbook = load_workbook(io.BytesIO(marked.content))
    assert "[Lỗi S2]" in workbook.worksheets[0]["G3"].comment.text


def test_over_the_size_limit_is_refused(server, token):
    before = _inbox()
    answer = _post(server, token, CLEAN + b"2023,06193" * (MAX_UPLOAD_BYTES // 10 + 1))
    assert answer.status_code == 413 and answer.json()["reason"] == "too_large"
    assert _inbox() == before


def _zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            block = b"\0" * 2**20
            for _ in range(120):  # 120 MB of zeros, ~120 KB compressed
                member.write(block)
    return out.getvalue()


def test_a_zip_bomb_named_xlsx_is_refused_unopened(server, token):
    before = _inbox()
    bomb = _zip_bomb()
    assert len(bomb) < MAX_UPLOAD_BYTES
    answer = _post(server, token, bomb, "bao-cao.xlsx")
    assert answer.status_code == 422 and answer.json()["reason"] == "zip_bomb"
    assert answer.json()["check"] is None and _inbox() == before


def test_a_file_for_another_unit_is_refused(server, token):
    before = _inbox()
    other = (CORPUS / "files" / "good_utf8_cb.csv").read_bytes()  # commune 06184
    answer = _post(server, token, other)
    assert answer.status_code == 422 and answer.json()["reason"] == "other_unit"
    assert "06184" in answer.json()["message_vi"] and _inbox() == before


def test_a_revoked_link_is_refused(server, warehouse):
    with psycopg.connect(warehouse.url()) as conn:
        link, token = links.issue(conn, UNIT, days=1)
        assert links.revoke(conn, link.link_id)
    before = _inbox()
    answer = _post(server, token, CLEAN)
    assert answer.status_code == 403 and answer.json()["reason"] == "revoked"
    assert httpx.get(f"{server}{PAGE}{token}").status_code == 403
    assert _inbox() == before
    assert _events(warehouse, "link_id = %s", (link.link_id,))[-1][5:7] == ("refused", "revoked")


def test_a_forged_link_is_refused(server, token, warehouse):
    payload, _, signature = token.partition(".")
    forged_unit = links.Link("f" * 16, "06184", links.parse_token(token).expires_at)
    forgeries = [
        f"{payload}.{signature[:-2]}AA",  # altered signature
        links.token_of(forged_unit, secret=b"not the server's secret"),
        "nothing-at-all",
    ]
    before = _inbox()
    for forged in forgeries:
        answer = _post(server, forged, CLEAN)
        assert answer.status_code == 403 and answer.json()["reason"] == "bad_link"
        page = httpx.get(f"{server}{PAGE}{forged}")
        assert page.status_code == 403 and "không hợp lệ" in page.text
    assert _inbox() == before


def test_a_path_in_the_file_name_is_only_text(server, token, warehouse, tmp_path):
    content = CLEAN + b"\n"
    answer = _post(server, token, content, "../../../../tmp/evil/../passwd.csv")
    data = answer.json()
    assert answer.status_code == 200 and data["name"] == "passwd.csv"
    assert data["inbox_name"].startswith("upload-CB-06193-2023-")
    assert (paths().inbox / data["inbox_name"]).read_bytes() == content
    assert _events(warehouse, "event_id = %s", (data["event_id"],))[0][3] == "passwd.csv"


def test_the_night_skips_the_temporary_name(tmp_path):
    from grassroots.inbox import take

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / ".upload-CB-06193-2023-abc.csv.1a2b3c4d.partial").write_bytes(CLEAN[:100])
    taken = take(inbox, tmp_path / "staging", tmp_path / "rejected")
    assert list(taken) == [] and taken.skipped == []


def test_fifty_uploads_at_once_and_the_server_still_answers(server, token, warehouse):
    before_inbox, before_events = set(_inbox()), len(_events(warehouse))

    def one(i: int) -> httpx.Response:
        if i % 2:
            return _post(server, token, BROKEN, f"loi-{i}.csv")
        # Trailing empty lines: the same report, other bytes (another inbox name).
        return _post(server, token, CLEAN + b"\n" * (i + 2), f"dat-{i}.csv")

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(one, range(50)))
    assert sorted({a.status_code for a in answers}) == [200, 422]
    assert sum(a.status_code == 200 for a in answers) == 25
    added = set(_inbox()) - before_inbox
    assert added == {a.json()["inbox_name"] for a in answers if a.status_code == 200}
    assert len(added) == 25 and not any(n.endswith(".partial") for n in _inbox())
    assert len(_events(warehouse)) == before_events + 50
    assert httpx.get(f"{server}{PAGE}{token}").status_code == 200


def test_upload_link_commands(warehouse, capsys):
    from grassroots.cli import main

    assert main(["upload-link", "issue", "06196", "--days", "3"]) == 0
    printed = capsys.readouterr().out
    link_id = printed.split()[1]
    assert f"{PAGE}" in printed and "06196" in printed
    assert main(["upload-link", "list"]) == 0
    assert link_id in capsys.readouterr().out
    assert main(["upload-link", "revoke", link_id]) == 0
    assert main(["upload-link", "revoke", link_id]) == 1
    assert main(["upload-link", "list"]) == 0
    assert "revoked" in capsys.readouterr().out


class _Staff:
    def __init__(self, name: str, role: str | None) -> None:
        self.name, self.role = name, role

    def get_name(self) -> str:
        return self.name


_LOGINS = {
    "admin-token": _Staff("admin", "admin"),
    "xa-token": _Staff("xa06193", "user"),
    "none-token": _Staff("nobody", "user"),
}


class _AuthManager:
    """Airflow's auth manager as grassroots.web.auth calls it: a token per login (the
    real Airflow login is tests/e2e/test_web_browser.py's)."""

    async def get_user_from_token(self, token: str):
        import jwt

        if token not in _LOGINS:
            raise jwt.InvalidTokenError("unknown")
        return _LOGINS[token]

    def get_url_login(self, next_url: str | None = None) -> str:
        return f"/auth/login?next={next_url}"


def test_staff_see_the_uploads_of_their_units(server, token, warehouse, monkeypatch):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from grassroots.cli import main
    from grassroots.web import auth
    from grassroots.web.app import URL_PREFIX, create_app

    assert main(["upload-link", "assign", "xa06193", UNIT]) == 0
    monkeypatch.setattr(auth, "auth_manager", _AuthManager)
    root = FastAPI()
    root.mount(URL_PREFIX, create_app())
    own = _post(server, token, CLEAN + b"\n\n\n\n\n\n\n\n\n\n\n", "staff.csv").json()
    with TestClient(root, follow_redirects=False) as client:
        assert client.get(PAGE).status_code == 302  # anonymous: to the Airflow login
        seen = {}
        for login in ("admin-token", "xa-token", "none-token"):
            client.cookies.set(auth.TOKEN_COOKIE, login)
            page = client.get(PAGE)
            assert page.status_code == 200
            seen[login] = page.text
            markup = client.get(f"{PAGE}lan-gui/{own['event_id']}.xlsx")
            assert markup.status_code == (404 if login == "none-token" else 200)
    all_units = {u for (u,) in _units(warehouse)}
    assert all_units > {UNIT}  # other units' attempts exist (the unit-less forgeries too)
    assert "staff.csv" in seen["admin-token"] and "staff.csv" in seen["xa-token"]
    assert (
        'data-unit="06184"' not in seen["xa-token"] and "Đơn vị theo dõi: 06193" in seen["xa-token"]
    )
    assert "staff.csv" not in seen["none-token"] and "chưa được giao" in seen["none-token"]


def _units(warehouse) -> list[tuple]:
    with psycopg.connect(warehouse.url()) as conn:
        return conn.execute(
            "select distinct coalesce(unit_code, '') from landing.upload_events"
        ).fetchall()
