import pandas as pd
import pytest

from grassroots.alerts import ROUTING_FILE, _responsible_scope, _route, load_routing
from grassroots.registry import Registry

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def registry():
    return Registry.load()


@pytest.fixture(scope="module")
def routing():
    return load_routing()


def test_a_commune_file_goes_to_its_district_staff(registry, routing):
    scope = _responsible_scope(registry, "DV", "06193", "2023")
    assert scope == ("district", "183")
    assert _route(routing, registry, scope, "2023") == [
        ("bantochuc.caoloc@langson.example.vn", "Ban Tổ chức Huyện ủy Cao Lộc")
    ]


def test_a_district_without_its_own_address_falls_back_to_its_province(registry, routing):
    # 178 (Thành phố Lạng Sơn) has no row of its own: Lạng Sơn's board answers for it.
    scope = _responsible_scope(registry, "TC", "178", "2022")
    assert _route(routing, registry, scope, "2022")[0][0] == "bantochuc@langson.example.vn"


def test_after_the_reform_a_commune_goes_to_its_province(registry, routing):
    scope = _responsible_scope(registry, "DV", "06184", "2026")
    assert scope == ("province", "20")


def test_a_file_of_unknown_unit_goes_to_the_board(registry, routing):
    assert _responsible_scope(registry, "CB", "99999", "2023") is None
    assert _route(routing, registry, None, "2023") == [
        ("dulieu@bantochuc.example.vn", "Bộ phận dữ liệu Ban Tổ chức")
    ]


def test_routing_table_has_unique_rows():
    table = pd.read_csv(ROUTING_FILE, dtype=str)
    assert not table.duplicated(["scope_level", "scope_code", "recipient_email"]).any()
