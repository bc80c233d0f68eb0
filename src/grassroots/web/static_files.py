"""Files of a static site folder served safely: nothing outside the folder (no `..`, no
symlink pointing out of it, no hidden file), each with its content type."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import HTTPException, Request, status
from fastapi.responses import FileResponse, RedirectResponse, Response

# The types the sites hold, set here rather than from the system's mime tables (which
# differ between machines and lack .xlsx on some).
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".gif": "image/gif",
    ".ico": "image/x-icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".txt": "text/plain; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    # The sites change every night: the browser asks again (a 304 when unchanged).
    "Cache-Control": "no-cache",
}


def content_type(path: Path) -> str:
    suffix = path.suffix.lower()
    return (
        CONTENT_TYPES.get(suffix)
        or mimetypes.guess_type(path.name)[0]
        or "application/octet-stream"
    )


def resolve(root: Path, relative: str) -> Path | None:
    """The file or folder `relative` names inside root, with symlinks resolved; None when
    it is outside root, hidden, or does not exist."""
    parts = [part for part in relative.split("/") if part not in ("", ".")]
    if any(part.startswith(".") or "\\" in part or "\0" in part for part in parts):
        return None
    base = root.resolve()
    found = base.joinpath(*parts).resolve()
    if found != base and base not in found.parents:
        return None
    return found if found.exists() else None


def serve(root: Path, relative: str, request: Request) -> Response:
    """The response for `relative` under root: the file, a folder's index.html (after a
    redirect adding the slash relative links need), else 404."""
    found = resolve(root, relative)
    if found is not None and found.is_dir():
        if relative and not relative.endswith("/"):
            return RedirectResponse(request.url.path + "/", status.HTTP_308_PERMANENT_REDIRECT)
        found = resolve(root, relative + "/index.html")
    if found is None or not found.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Không có trang này")
    return FileResponse(found, media_type=content_type(found), headers=HEADERS)
