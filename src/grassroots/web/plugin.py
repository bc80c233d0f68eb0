"""The Airflow 3 plugin that serves grassroots' pages at the Airflow UI's address.

Registered through the `airflow.plugins` entry point (pyproject.toml), so no file in a
plugins folder is needed. The API server mounts the FastAPI app (grassroots.web.app)
under /grassroots; the UI's Plugins menu links to the home page, the reports, the Data
Docs, dbt's docs and the upload page (external views without url_route: plain links,
opened as pages of their own so the sites keep their own navigation).

Every Airflow process imports this module: it imports nothing but Airflow's plugin base
class, and builds the app only when the API server asks for it.
"""

from __future__ import annotations

from functools import cached_property
from typing import ClassVar

from airflow.plugins_manager import AirflowPlugin

from grassroots.web import URL_PREFIX

CATEGORY = "Thống kê cơ sở đảng"
MENU = (
    ("Trang chủ thống kê", "/"),
    ("Báo cáo thống kê", "/reports/"),
    ("Kết quả kiểm tra dữ liệu", "/data-docs/"),
    ("Tài liệu kho dữ liệu (dbt)", "/dbt-docs/"),
    ("Gửi báo cáo", "/gui-bao-cao/"),
)


class GrassrootsPlugin(AirflowPlugin):
    name = "grassroots"
    external_views: ClassVar[list[dict]] = [
        {"name": name, "href": URL_PREFIX + path, "destination": "nav", "category": CATEGORY}
        for name, path in MENU
    ]

    @cached_property
    def fastapi_apps(self) -> list[dict]:  # type: ignore[override]
        from grassroots.web.app import create_app

        return [{"app": create_app(), "url_prefix": URL_PREFIX, "name": "grassroots"}]
