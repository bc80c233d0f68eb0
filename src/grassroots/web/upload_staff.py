"""The upload page's staff view (/grassroots/gui-bao-cao/, behind the Airflow login): the
upload attempts and the links of the units a login follows (landing.upload_staff_units;
the UI's admins see every unit), and each attempt's marked-up workbook."""

from __future__ import annotations

import psycopg
from fastapi import APIRouter, Response
from fastapi.responses import FileResponse, HTMLResponse
from starlette.concurrency import run_in_threadpool

from grassroots.check import links, receive
from grassroots.web.auth import LoggedIn
from grassroots.web.templating import render

router = APIRouter()
SHOWN_EVENTS = 200
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _listing(dsn: str, user_name: str, role: str | None) -> dict:
    with psycopg.connect(dsn) as conn:
        units = links.units_of(conn, user_name, role)
        events = conn.execute(
            "select event_id, attempted_at, unit_code, original_name, outcome, reason, errors,"
            " warnings, sha256, client_ip from landing.upload_events"
            " where %(units)s::text[] is null or unit_code = any(%(units)s)"
            " order by event_id desc limit %(limit)s",
            {"units": units, "limit": SHOWN_EVENTS},
        ).fetchall()
        issued = conn.execute(
            "select link_id, unit_code, issued_at, expires_at, revoked_at from landing.upload_links"
            " where %(units)s::text[] is null or unit_code = any(%(units)s)"
            " order by issued_at desc",
            {"units": units},
        ).fetchall()
    return {"units": units, "events": events, "links": issued}


@router.get("/")
async def staff_view(user: LoggedIn) -> Response:
    from grassroots.web.upload import dsn

    listing = await run_in_threadpool(_listing, dsn(), user.get_name(), getattr(user, "role", None))
    return render("upload_staff.html", user=user, **listing)


def _event_unit(dsn: str, event_id: int) -> str | None:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "select unit_code from landing.upload_events where event_id = %s", (event_id,)
        ).fetchone()
    return row[0] if row else None


@router.get("/lan-gui/{event_id}.xlsx")
async def staff_markup(event_id: int, user: LoggedIn) -> Response:
    """An attempt's marked-up workbook, for a login that follows its unit."""
    from grassroots.web.upload import dsn

    listing_units = await run_in_threadpool(
        _units, dsn(), user.get_name(), getattr(user, "role", None)
    )
    unit = await run_in_threadpool(_event_unit, dsn(), event_id)
    path = receive.markup_path(event_id)
    allowed = listing_units is None or unit in listing_units
    if unit is None or not allowed or not path.exists():
        return HTMLResponse(receive.markup_gone_vi(), status_code=404)
    return FileResponse(path, media_type=XLSX_TYPE, filename=f"lan-gui-{event_id}.xlsx")


def _units(dsn: str, user_name: str, role: str | None) -> list[str] | None:
    with psycopg.connect(dsn) as conn:
        return links.units_of(conn, user_name, role)
