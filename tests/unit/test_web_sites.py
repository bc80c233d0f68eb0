"""The pages under /grassroots (grassroots.web): mounted as the Airflow API server mounts
the plugin's app, with an auth manager that knows one token (the real Airflow login is
tests/e2e/test_web_browser.py's)."""

from __future__ import annotations

import os
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from grassroots import dbt_docs
from grassroots.web import URL_PREFIX, auth
from grassroots.web.plugin import GrassrootsPlugin

pytestmark = pytest.mark.unit

GOOD = "good-token"


class User:
    def get_name(self) -> str:
        return "admin"


class AuthManager:
    """The two calls grassroots.web.auth makes of Airflow's auth manager."""

    async def get_user_from_token(self, token: str) -> User:
        if token != GOOD:
            raise jwt.InvalidTokenError("not the test's token")
        return User()

    def get_url_login(self, next_url: str | None = None) -> str:
        return f"/auth/login?next={next_url}"


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("GRASSROOTS_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(auth, "auth_manager", AuthManager)
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


@pytest.fixture
def client(home):
    parent = FastAPI()  # as Airflow's API server: the plugin's app mounted at its prefix
    for app in GrassrootsPlugin().fastapi_apps:
        parent.mount(app["url_prefix"], app["app"])
    with TestClient(parent, follow_redirects=False) as anonymous:
        yield anonymous


@pytest.fixture
def logged_in(client):
    client.cookies.set(auth.TOKEN_COOKIE, GOOD)
    return client


def _write(path, text="x"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def reports(home):
    site = home / "reports"
    _write(site / "index.html", "<h1>Cả nước</h1>")
    _write(site / "site.css", "body{}")
    _write(site / "tinh" / "01.html", "<h1>Hà Nội</h1>")
    _write(site / "tinh" / "01.json", "{}")
    (site / "tinh" / "01.xlsx").write_bytes(b"PK\x03\x04")
    _write(site / ".workbook-digests.json", "{}")
    _write(home / "secrets.json", '{"password": "s3cret"}')
    return site


def test_anonymous_browser_goes_to_the_airflow_login_and_back(client):
    for path in ("/", "/reports/", "/data-docs/", "/dbt-docs/index.html?x=1"):
        response = client.get(URL_PREFIX + path)
        assert response.status_code == 302, path
        location = urlsplit(response.headers["location"])
        assert location.path == "/auth/login"
        assert parse_qs(location.query)["next"] == [URL_PREFIX + path]


def test_bad_tokens_are_refused(client):
    client.cookies.set(auth.TOKEN_COOKIE, "forged")
    assert client.get(f"{URL_PREFIX}/").status_code == 302
    bearer = {"Authorization": "Bearer forged"}
    assert client.get(f"{URL_PREFIX}/", headers=bearer).status_code == 401
    assert client.post(f"{URL_PREFIX}/").status_code in (401, 405)


def test_bearer_token_is_accepted(client):
    response = client.get(f"{URL_PREFIX}/", headers={"Authorization": f"Bearer {GOOD}"})
    assert response.status_code == 200


def test_home_lists_the_sites_and_how_to_build_them(logged_in):
    response = logged_in.get(f"{URL_PREFIX}/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = response.text
    for text in ("Báo cáo thống kê", "Kết quả kiểm tra dữ liệu", "Tài liệu kho dữ liệu"):
        assert text in page
    for command in ("grassroots report", "grassroots docs", "grassroots run"):
        assert f"<code>{command}</code>" in page
    assert f'href="{URL_PREFIX}/gui-bao-cao/"' in page
    assert "Đăng nhập: admin" in page


def test_a_site_not_built_names_its_command(logged_in):
    for path, command in (("reports/", "grassroots report"), ("dbt-docs/", "grassroots docs")):
        response = logged_in.get(f"{URL_PREFIX}/{path}")
        assert response.status_code == 404
        assert "chưa được tạo" in response.text
        assert f"<code>{command}</code>" in response.text
    response = logged_in.get(f"{URL_PREFIX}/data-docs/")
    assert response.status_code == 404
    assert "<code>grassroots run</code>" in response.text


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("", "text/html; charset=utf-8"),
        ("index.html", "text/html; charset=utf-8"),
        ("site.css", "text/css; charset=utf-8"),
        ("tinh/01.html", "text/html; charset=utf-8"),
        ("tinh/01.json", "application/json"),
        ("tinh/01.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ],
)
def test_report_files_with_their_content_types(logged_in, reports, path, content_type):
    response = logged_in.get(f"{URL_PREFIX}/reports/{path}")
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.headers["x-content-type-options"] == "nosniff"


def test_a_folder_gets_its_slash(logged_in, reports):
    _write(reports / "tinh" / "index.html")
    response = logged_in.get(f"{URL_PREFIX}/reports/tinh")
    assert response.status_code == 308
    assert response.headers["location"] == f"{URL_PREFIX}/reports/tinh/"
    assert logged_in.get(f"{URL_PREFIX}/reports/tinh/").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "%2e%2e/secrets.json",
        "tinh/%2e%2e/%2e%2e/secrets.json",
        "..%2fsecrets.json",
        "%2fetc%2fpasswd",
        "tinh%5c..%5c..%5csecrets.json",
        ".workbook-digests.json",
        "outside.json",
        "outside-dir/secrets.json",
        "missing.html",
    ],
)
def test_nothing_outside_the_site_is_served(logged_in, reports, home, path):
    (reports / "outside.json").symlink_to(home / "secrets.json")
    (reports / "outside-dir").symlink_to(home)
    response = logged_in.get(f"{URL_PREFIX}/reports/{path}")
    assert response.status_code == 404, path
    assert "s3cret" not in response.text


def test_a_symlink_inside_the_site_is_followed(logged_in, reports):
    (reports / "moi-nhat.html").symlink_to(reports / "tinh" / "01.html")
    response = logged_in.get(f"{URL_PREFIX}/reports/moi-nhat.html")
    assert response.status_code == 200
    assert "Hà Nội" in response.text


def test_data_docs_index_lists_runs_newest_first(logged_in, home):
    parent = home / "data_docs"
    when = {"scheduled__2026-01-30": 1_769_800_000, "manual__b": 1_769_900_000}
    when["scheduled__2026-01-31"] = 1_769_990_000
    for name, mtime in when.items():
        index = _write(parent / name / "index.html", f"<h1>{name}</h1>")
        os.utime(index, (mtime, mtime))
    (parent / "unfinished").mkdir()  # no index.html yet: not listed
    batch = parent / "manual__b" / "validations" / "grassroots" / "form_cb" / "manual__b"
    _write(batch / "20260131T200000Z" / "intake_000000001_cb_rows.html", "<h1>kết quả</h1>")
    response = logged_in.get(f"{URL_PREFIX}/data-docs/")
    assert response.status_code == 200
    page = response.text
    positions = [page.index(f'{URL_PREFIX}/data-docs/{name}/"') for name in when]
    assert positions[2] < positions[1] < positions[0]
    assert "unfinished" not in page
    # Each validation page is listed too (GX's own index needs scripts from CDNs).
    validation = (
        f"{URL_PREFIX}/data-docs/manual__b/validations/grassroots/form_cb/manual__b/"
        "20260131T200000Z/intake_000000001_cb_rows.html"
    )
    assert f'href="{validation}"' in page
    assert "grassroots.form_cb · intake_000000001_cb_rows" in page
    assert "kết quả" in logged_in.get(validation).text
    run = logged_in.get(f"{URL_PREFIX}/data-docs/manual__b/")
    assert run.status_code == 200 and "<h1>manual__b</h1>" in run.text
    assert logged_in.get(f"{URL_PREFIX}/data-docs/%2e%2e/secrets.json").status_code == 404
    assert logged_in.get(f"{URL_PREFIX}/data-docs").status_code in (307, 308)


def test_dbt_docs_files(logged_in, home):
    for name in dbt_docs.SITE_FILES:
        _write(home / "dbt_docs" / name, "{}")
    assert logged_in.get(f"{URL_PREFIX}/dbt-docs/").headers["content-type"].startswith("text/html")
    response = logged_in.get(f"{URL_PREFIX}/dbt-docs/catalog.json")
    assert response.headers["content-type"] == "application/json"


def test_dbt_docs_stale_when_missing_or_older_than_the_project(home, tmp_path):
    project = tmp_path / "project"
    model = _write(project / "models" / "a.sql", "select 1")
    _write(project / "dbt_project.yml", "name: x")
    assert dbt_docs.is_stale(project)
    for name in dbt_docs.SITE_FILES:
        os.utime(_write(home / "dbt_docs" / name), (2_000_000_000, 2_000_000_000))
    assert not dbt_docs.is_stale(project)
    os.utime(model, (2_000_000_100, 2_000_000_100))
    assert dbt_docs.is_stale(project)


def test_plugin_menu_links_are_airflow_external_views():
    from airflow.api_fastapi.core_api.datamodels.plugins import ExternalViewResponse

    views = [ExternalViewResponse(**view) for view in GrassrootsPlugin.external_views]
    hrefs = {view.href for view in views}
    assert {f"{URL_PREFIX}/reports/", f"{URL_PREFIX}/data-docs/"} <= hrefs
    assert {f"{URL_PREFIX}/dbt-docs/", f"{URL_PREFIX}/gui-bao-cao/"} <= hrefs
    assert all(view.destination == "nav" and view.url_route is None for view in views)
