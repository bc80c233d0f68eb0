"""The FastAPI app the Airflow plugin mounts under /grassroots: one router per page set."""

from __future__ import annotations

from fastapi import FastAPI

from grassroots.web import URL_PREFIX

__all__ = ["URL_PREFIX", "create_app"]


def create_app() -> FastAPI:
    from grassroots.web import sites, upload, upload_staff

    app = FastAPI(title="grassroots", docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(sites.router)
    app.include_router(upload.router, prefix="/gui-bao-cao")
    app.include_router(upload_staff.router, prefix="/gui-bao-cao")
    return app
