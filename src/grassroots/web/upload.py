"""The upload page: a unit sends a form's file, sees the check's findings at once.

Reached through the unit's signed link, /grassroots/gui-bao-cao/<token> (grassroots
upload-link issue). The page's script sends the chosen file as the request body (its
name in X-File-Name), so the server reads it in chunks and stops at the size limit
instead of spooling a form; the answer is JSON with the findings rendered as HTML.
The accept path (limits, check, inbox, log) is grassroots.check.receive.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from urllib.parse import unquote

import psycopg
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from grassroots.check import links, receive

router = APIRouter()
TEMPLATES = Jinja2Templates(directory=Path(__file__).with_name("templates"))
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STATUS = {"too_large": 413, "bad_link": 403, "expired": 403, "revoked": 403, "other_unit": 422}


@cache
def dsn() -> str:
    from grassroots.warehouse import Warehouse

    return Warehouse().url()


def _link(token: str) -> links.Link:
    with psycopg.connect(dsn()) as conn:
        return links.verify(conn, token)


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.get("/{token}", response_class=HTMLResponse)
async def page(request: Request, token: str):
    try:
        link = await run_in_threadpool(_link, token)
    except links.LinkRefused as refused:
        return TEMPLATES.TemplateResponse(
            request, "upload.html", {"refused": refused.message_vi, "link": None}, status_code=403
        )
    context = {"link": link, "refused": None, "limit_mb": receive.MAX_UPLOAD_BYTES // 2**20}
    return TEMPLATES.TemplateResponse(request, "upload.html", context)


async def _body(request: Request) -> bytes:
    """The body, read in chunks; past the limit the rest is drained and dropped."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > receive.DRAIN_BYTES:
        raise receive.too_large(int(declared))
    parts, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > receive.MAX_UPLOAD_BYTES:
            if size > receive.DRAIN_BYTES:
                break
            parts = []  # keep counting, keep nothing
            continue
        parts.append(chunk)
    if size > receive.MAX_UPLOAD_BYTES:
        raise receive.too_large(size)
    return b"".join(parts)


def _answer(request: Request, outcome: receive.Outcome) -> JSONResponse:
    data = outcome.as_json()
    data["html"] = TEMPLATES.get_template("upload_result.html").render(
        outcome=outcome,
        result=outcome.result,
        markup_url=f"{request.url.path.rstrip('/')}/ket-qua/{outcome.event_id}.xlsx"
        if outcome.result is not None
        else None,
    )
    status = 200 if outcome.accepted else STATUS.get(outcome.reason or "", 422)
    return JSONResponse(data, status_code=status)


@router.post("/{token}")
async def upload(request: Request, token: str):
    name = unquote(request.headers.get("x-file-name", ""))
    client = _client(request)
    link = None
    try:
        link = await run_in_threadpool(_link, token)
        content = await _body(request)
    except (links.LinkRefused, receive.Refused) as error:
        size = int(request.headers.get("content-length") or 0)
        outcome = await run_in_threadpool(receive.refused, dsn(), link, name, size, client, error)
        return _answer(request, outcome)
    outcome = await run_in_threadpool(receive.receive, dsn(), link, name, content, client)
    return _answer(request, outcome)


def _event_name(link: links.Link, event_id: int) -> tuple | None:
    with psycopg.connect(dsn()) as conn:
        return conn.execute(
            "select original_name from landing.upload_events where event_id = %s and link_id = %s",
            (event_id, link.link_id),
        ).fetchone()


@router.get("/{token}/ket-qua/{event_id}.xlsx")
async def markup(token: str, event_id: int):
    """The marked-up workbook of an attempt made with this link."""
    try:
        link = await run_in_threadpool(_link, token)
    except links.LinkRefused as refused:
        return HTMLResponse(refused.message_vi, status_code=403)
    row = await run_in_threadpool(_event_name, link, event_id)
    path = receive.markup_path(event_id)
    if row is None or not path.exists():
        return HTMLResponse(receive.markup_gone_vi(), status_code=404)
    stem = receive.shown_name(row[0]).rsplit(".", 1)[0]
    return FileResponse(path, media_type=XLSX_TYPE, filename=f"{stem}-kiem-tra.xlsx")
