"""The static sites behind the Airflow login: reports, GX Data Docs, dbt docs.

    /grassroots/                  home: the sites, each with when it was last built
    /grassroots/reports/...       the report site (`grassroots report`, paths().reports)
    /grassroots/data-docs/        the nightly runs' GX Data Docs, newest first
    /grassroots/data-docs/<run>/  one run's site (data_docs.build_data_docs)
    /grassroots/dbt-docs/...      dbt's docs (`grassroots docs`, grassroots.dbt_docs)

Every page needs a logged-in Airflow user (grassroots.web.auth). Files are served by
grassroots.web.static_files (nothing outside a site's folder); a site not built yet
answers with a page naming the command that builds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response

from grassroots import run_folders
from grassroots.config import paths
from grassroots.web import static_files
from grassroots.web.auth import LoggedIn, User
from grassroots.web.templating import URL_PREFIX, render

router = APIRouter()
# The nightly run's schedule is in this zone (dags/): build times are shown in it.
LOCAL_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass(frozen=True)
class Site:
    slug: str
    title: str
    about: str
    command: str
    note: str = ""

    def root(self) -> Path:
        home = paths()
        return {
            "reports": home.reports,
            "data-docs": home.home / run_folders.DATA_DOCS,
            "dbt-docs": home.dbt_docs,
        }[self.slug]


REPORTS = Site(
    "reports",
    "Báo cáo thống kê",
    "Các chỉ tiêu của cả nước, từng tỉnh, từng huyện: biểu đồ, bảng và tệp Excel.",
    "grassroots report",
)
DATA_DOCS = Site(
    "data-docs",
    "Kết quả kiểm tra dữ liệu",
    "Kết quả kiểm tra từng tệp báo cáo trong mỗi lần chạy đêm (Great Expectations).",
    "grassroots run",
    "Mỗi lần chạy đêm tự tạo trang này.",
)
DBT_DOCS = Site(
    "dbt-docs",
    "Tài liệu kho dữ liệu",
    "Các bảng, cột, kiểm tra và quan hệ giữa các bảng của kho dữ liệu (dbt docs).",
    "grassroots docs",
)
SITES = (REPORTS, DATA_DOCS, DBT_DOCS)
UPLOAD = {
    "title": "Gửi báo cáo",
    "about": "Đơn vị gửi tệp báo cáo và xem ngay kết quả kiểm tra.",
    "href": f"{URL_PREFIX}/gui-bao-cao/",
}


def local_time(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, LOCAL_ZONE).strftime("%H:%M %d/%m/%Y")


def built_at(site: Site) -> float | None:
    """When the site was last built: its index's time (for Data Docs, the newest run's)."""
    if site is DATA_DOCS:
        runs = data_docs_runs()
        return runs[0][1] if runs else None
    index = site.root() / "index.html"
    return index.stat().st_mtime if index.is_file() else None


def data_docs_runs() -> list[tuple[str, float]]:
    """(run folder, time its site was built), newest first."""
    parent = DATA_DOCS.root()
    if not parent.is_dir():
        return []
    runs = [
        (folder.name, (folder / "index.html").stat().st_mtime)
        for folder in parent.iterdir()
        if not folder.name.startswith(".") and (folder / "index.html").is_file()
    ]
    return sorted(runs, key=lambda run: (run[1], run[0]), reverse=True)


def validation_pages(run: str) -> list[dict]:
    """A run's GX validation pages (validations/<suite>/<run>/<time>/<batch>.html), by
    suite and batch: listed on the index too, since GX's own index page builds its
    tables with scripts from public CDNs (empty without internet access)."""
    folder = DATA_DOCS.root() / run
    pages = []
    for path in (folder / "validations").rglob("*.html"):
        suite = ".".join(path.relative_to(folder / "validations").parts[:-3])
        href = f"{URL_PREFIX}/data-docs/{run}/{path.relative_to(folder).as_posix()}"
        pages.append({"label": f"{suite} · {path.stem}", "href": href})
    return sorted(pages, key=lambda page: page["label"])


def not_built(site: Site, user: User) -> Response:
    return render(
        "not_built.html",
        user=user,
        status_code=404,
        title=site.title,
        command=site.command,
        note=site.note,
    )


@router.get("/")
async def home(user: LoggedIn) -> Response:
    cards = []
    for site in SITES:
        when = built_at(site)
        cards.append(
            {
                "title": site.title,
                "about": site.about,
                "href": f"{URL_PREFIX}/{site.slug}/",
                "updated": local_time(when) if when else "",
                "command": site.command,
            }
        )
    cards.append({**UPLOAD, "updated": "", "command": ""})
    return render("home.html", user=user, sites=cards)


@router.get("/reports/{path:path}")
async def reports(path: str, request: Request, user: LoggedIn) -> Response:
    return _site_file(REPORTS, path, request, user)


@router.get("/dbt-docs/{path:path}")
async def dbt_docs(path: str, request: Request, user: LoggedIn) -> Response:
    return _site_file(DBT_DOCS, path, request, user)


@router.get("/data-docs/{path:path}")
async def data_docs(path: str, request: Request, user: LoggedIn) -> Response:
    if path.strip("/"):
        return static_files.serve(DATA_DOCS.root(), path, request)
    runs = data_docs_runs()
    if not runs:
        return not_built(DATA_DOCS, user)
    listed = [
        {
            "name": name,
            "updated": local_time(when),
            "href": f"{URL_PREFIX}/data-docs/{name}/",
            "validations": validation_pages(name),
        }
        for name, when in runs
    ]
    return render("data_docs.html", user=user, runs=listed)


def _site_file(site: Site, path: str, request: Request, user: User) -> Response:
    if not (site.root() / "index.html").is_file():
        return not_built(site, user)
    return static_files.serve(site.root(), path, request)
