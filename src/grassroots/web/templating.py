"""The Jinja2 templates of the pages under /grassroots (templates/: base.html and one per
page), rendered to an HTML response."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from grassroots.web import URL_PREFIX

TEMPLATES = Path(__file__).parent / "templates"


@cache
def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(name: str, *, user=None, status_code: int = 200, **context) -> HTMLResponse:
    """The template `name` with the context, the site's prefix and the user's name."""
    page = (
        environment()
        .get_template(name)
        .render(prefix=URL_PREFIX, user_name=user.get_name() if user is not None else "", **context)
    )
    return HTMLResponse(page, status_code=status_code, headers={"Cache-Control": "no-cache"})
