"""Per-unit signed upload links: `grassroots upload-link issue UNIT`, `revoke`, `list`.

A link is /grassroots/gui-bao-cao/<token>; the token carries the link's id, its unit and
its expiry, signed with HMAC-SHA256 under a secret of the server's secrets file
($GRASSROOTS_HOME/secrets.json, 0600, beside Airflow's keys): a forged or altered token
fails the signature without a database look-up. Every issued link has a row in
landing.upload_links; a revoked one (revoked_at) or an expired one is refused on use.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

from grassroots.config import paths
from grassroots.files import make_private, write_private

SECRET_KEY = "upload_link_secret"
DEFAULT_DAYS = 90
_SIGNATURE_CHARS = 43  # base64url of the 32-byte HMAC-SHA256, unpadded


class LinkRefused(Exception):
    """A token that does not open the upload page; `reason` goes to the upload log."""

    def __init__(self, reason: str, message_vi: str, link_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason, self.message_vi, self.link_id = reason, message_vi, link_id


@dataclass(frozen=True)
class Link:
    link_id: str
    unit_code: str
    expires_at: datetime


def link_secret() -> bytes:
    """The signing secret, generated once into the secrets file."""
    file = paths().secrets
    make_private(file)
    stored = json.loads(file.read_text()) if file.exists() else {}
    if not stored.get(SECRET_KEY):
        stored[SECRET_KEY] = secrets.token_urlsafe(32)
        write_private(file, json.dumps(stored, indent=2))
    return stored[SECRET_KEY].encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _sign(payload: str, secret: bytes) -> str:
    return _b64(hmac.new(secret, payload.encode(), hashlib.sha256).digest())


def token_of(link: Link, secret: bytes | None = None) -> str:
    payload = _b64(f"{link.link_id}|{link.unit_code}|{int(link.expires_at.timestamp())}".encode())
    return f"{payload}.{_sign(payload, secret or link_secret())}"


def _refused(link_id: str | None = None) -> LinkRefused:
    return LinkRefused(
        "bad_link", "Đường dẫn gửi báo cáo không hợp lệ. Hãy dùng đúng đường dẫn được cấp.", link_id
    )


def parse_token(token: str, secret: bytes | None = None) -> Link:
    """The link a token names, if its signature holds and it has not expired."""
    payload, _, signature = token.partition(".")
    if len(signature) != _SIGNATURE_CHARS or not hmac.compare_digest(
        signature.encode(), _sign(payload, secret or link_secret()).encode()
    ):
        raise _refused()
    try:
        link_id, unit, expires = base64.urlsafe_b64decode(payload + "==").decode().split("|")
        link = Link(link_id, unit, datetime.fromtimestamp(int(expires), UTC))
    except ValueError as error:
        raise _refused() from error
    if link.expires_at <= datetime.now(UTC):
        raise LinkRefused(
            "expired", "Đường dẫn gửi báo cáo đã hết hạn. Hãy xin đường dẫn mới.", link.link_id
        )
    return link


def verify(conn: psycopg.Connection, token: str) -> Link:
    """The link of a token that is signed, current and not revoked; else LinkRefused."""
    link = parse_token(token)
    row = conn.execute(
        "select revoked_at from landing.upload_links where link_id = %s", (link.link_id,)
    ).fetchone()
    if row is None:
        raise _refused(link.link_id)
    if row[0] is not None:
        raise LinkRefused(
            "revoked", "Đường dẫn gửi báo cáo này đã bị thu hồi. Hãy liên hệ cán bộ phụ trách.",
            link.link_id,
        )  # fmt: skip
    return link


def issue(conn: psycopg.Connection, unit_code: str, days: int = DEFAULT_DAYS) -> tuple[Link, str]:
    """A new link for a unit, recorded; returns it and its token."""
    expires = datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)
    link = Link(secrets.token_hex(8), unit_code, expires)
    conn.execute(
        "insert into landing.upload_links (link_id, unit_code, expires_at) values (%s, %s, %s)",
        (link.link_id, link.unit_code, link.expires_at),
    )
    return link, token_of(link)


def revoke(conn: psycopg.Connection, link_id: str) -> bool:
    """Revoke a link; False when no such link is valid."""
    cursor = conn.execute(
        "update landing.upload_links set revoked_at = now()"
        " where link_id = %s and revoked_at is null",
        (link_id,),
    )
    return cursor.rowcount == 1


def listed(conn: psycopg.Connection) -> list[tuple]:
    """(link_id, unit_code, issued_at, expires_at, revoked_at) of every link, newest first."""
    return conn.execute(
        "select link_id, unit_code, issued_at, expires_at, revoked_at"
        " from landing.upload_links order by issued_at desc"
    ).fetchall()


def assign(conn: psycopg.Connection, user_name: str, units: list[str]) -> int:
    """Let a staff login see these units' uploads; returns how many were new."""
    cursor = conn.execute(
        "insert into landing.upload_staff_units (user_name, unit_code)"
        " select %s, unnest(%s::text[]) on conflict do nothing",
        (user_name, units),
    )
    return cursor.rowcount


def units_of(conn: psycopg.Connection, user_name: str, role: str | None) -> list[str] | None:
    """The units whose uploads a login sees; None for the UI's admins (every unit)."""
    if (role or "").lower() == "admin":
        return None
    rows = conn.execute(
        "select unit_code from landing.upload_staff_units where user_name = %s order by 1",
        (user_name,),
    ).fetchall()
    return [unit for (unit,) in rows]
