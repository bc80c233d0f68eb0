"""The four submission forms, defined once.

Parser, loader, Great Expectations suites and docs all read these definitions
(submission-forms.md is the contract they encode).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

# Column kinds. "code" and "text" stay text; "int" and "number" accept Vietnamese
# number formats (61.491, 87,8, trailing %); enums and ratings are normalized to codes.
KINDS = ("int", "number", "code", "text", "enum", "rating", "term")


@dataclass(frozen=True)
class Column:
    name: str
    label_vi: str
    kind: str
    required: bool = True
    # Allowed codes for enums, with the Vietnamese labels staff may write instead.
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Extra Vietnamese labels accepted in headers (e.g. "Mã tỉnh" beside "Mã huyện").
    aliases_vi: tuple[str, ...] = ()
    description: str = ""
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class Form:
    code: str
    title_vi: str
    title_en: str
    columns: tuple[Column, ...]
    unit_column: str
    period_column: str
    key_columns: tuple[str, ...]
    sender_level: str  # "commune", "district_or_province", "commune_or_district"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def raw_table(self) -> str:
        return f"raw.form_{self.code.lower()}"


BRANCH_STATUS = {
    "independent": ("Sinh hoạt độc lập", "Độc lập"),
    "joint": ("Sinh hoạt ghép", "Ghép"),
    "none": ("Chưa có chi bộ",),
}

ORG_TYPES = {
    "commune": ("Xã",),
    "ward": ("Phường",),
    "town": ("Thị trấn",),
    "military": ("Quân đội", "Quân sự"),
    "police": ("Công an",),
    "agency": ("Cơ quan",),
    "school": ("Trường học", "Đơn vị sự nghiệp"),
    "enterprise": ("Doanh nghiệp",),
    "other": ("Khác",),
}

BASIS = {"per_year": ("Hằng năm", "Mỗi năm"), "term_total": ("Cả nhiệm kỳ", "Tổng nhiệm kỳ")}
DIRECTION = {"at_least": ("Tối thiểu", "Không thấp hơn"), "at_most": ("Tối đa", "Không vượt quá")}

# Ratings: code -> (Vietnamese text, abbreviation), per scale.
RATINGS_FROM_2018 = {
    "excellent": ("Hoàn thành xuất sắc nhiệm vụ", "HTXSNV"),
    "good": ("Hoàn thành tốt nhiệm vụ", "HTTNV"),
    "completed": ("Hoàn thành nhiệm vụ", "HTNV"),
    "not_completed": ("Không hoàn thành nhiệm vụ", "KHTNV"),
}
RATINGS_BEFORE_2018 = {
    "clean_strong": ("Trong sạch, vững mạnh", "TSVM"),
    "good": ("Hoàn thành tốt nhiệm vụ", "HTTNV"),
    "completed": ("Hoàn thành nhiệm vụ", "HTNV"),
    "weak": ("Yếu kém", "YK"),
}
RATING_SCALE_CHANGE_YEAR = 2018
# Old scale -> new scale, for multi-year comparison (submission-forms.md).
OLD_TO_NEW_RATING = {
    "clean_strong": "excellent",
    "good": "good",
    "completed": "completed",
    "weak": "not_completed",
}
ALL_RATINGS = {**RATINGS_BEFORE_2018, **RATINGS_FROM_2018}

# Indicator codes a congress-term target may name (indicators.md).
INDICATOR_CODES = (
    "members_total",
    "member_net_change",
    "member_growth_pct",
    "admissions",
    "admission_rate_pct",
    "probationary_share_pct",
    "members_per_population_pct",
    "villages",
    "independent_branch_ratio_pct",
    "joint_branch_villages",
    "villages_without_branch",
    "villages_without_members",
    "base_orgs",
    "subordinate_units",
    "orgs_good_or_above_pct",
    "orgs_excellent_pct",
    "orgs_not_completed",
    "branches_good_or_above_pct",
)


def ratings_for_year(year: int) -> dict[str, tuple[str, str]]:
    return RATINGS_FROM_2018 if year >= RATING_SCALE_CHANGE_YEAR else RATINGS_BEFORE_2018


_REPORT_YEAR = Column("report_year", "Năm báo cáo", "int", description="Reporting year")
_COMMUNE = Column("commune_code", "Mã xã", "code", description="Sending commune (5 digits)")

FORM_CB = Form(
    code="CB",
    title_vi="Biểu CB: Chi bộ thôn, tổ dân phố",
    title_en="Village branches",
    columns=(
        _REPORT_YEAR,
        _COMMUNE,
        Column("village_code", "Mã thôn", "code", description="<commune code>-<3 digits>"),
        Column("village_name", "Tên thôn", "text", required=False),
        Column("branch_status", "Tình trạng chi bộ", "enum", choices=BRANCH_STATUS),
        Column("host_village_code", "Mã thôn sinh hoạt ghép", "code", required=False),
        Column("members", "Số đảng viên", "int", minimum=0),
        Column("branch_rating", "Xếp loại chi bộ", "rating", required=False),
    ),
    unit_column="commune_code",
    period_column="report_year",
    key_columns=("village_code",),
    sender_level="commune",
)

FORM_DV = Form(
    code="DV",
    title_vi="Biểu DV: Biến động đảng viên",
    title_en="Membership movement",
    columns=(
        _REPORT_YEAR,
        _COMMUNE,
        Column("population", "Dân số", "int", minimum=0),
        Column("members_start", "Đảng viên đầu năm", "int", minimum=0),
        Column("admitted", "Kết nạp mới", "int", minimum=0),
        Column("transferred_in", "Chuyển đến", "int", minimum=0),
        Column("transferred_out", "Chuyển đi", "int", minimum=0),
        Column("deceased", "Từ trần", "int", minimum=0),
        Column("expelled", "Khai trừ", "int", minimum=0),
        Column("removed", "Xóa tên, xin ra khỏi Đảng", "int", minimum=0),
        Column("members_end", "Đảng viên cuối năm", "int", minimum=0),
        Column("probationary_end", "Đảng viên dự bị cuối năm", "int", minimum=0),
    ),
    unit_column="commune_code",
    period_column="report_year",
    key_columns=("commune_code",),
    sender_level="commune",
)

FORM_TC = Form(
    code="TC",
    title_vi="Biểu TC: Tổ chức cơ sở đảng",
    title_en="Base party organizations",
    columns=(
        _REPORT_YEAR,
        Column(
            "district_code",
            "Mã huyện",
            "code",
            aliases_vi=("Mã tỉnh", "Mã huyện (hoặc mã tỉnh)"),
            description="Sending district (3 digits), or province (2 digits) from 2025-07-01",
        ),
        Column("org_code", "Mã tổ chức cơ sở đảng", "code"),
        Column("org_name", "Tên tổ chức", "text", required=False),
        Column("org_type", "Loại hình", "enum", choices=ORG_TYPES),
        Column("members", "Số đảng viên", "int", minimum=0),
        Column(
            "subordinate_units",
            "Số chi bộ, đảng bộ bộ phận trực thuộc",
            "int",
            minimum=0,
        ),
        Column("rating", "Xếp loại", "rating"),
        Column("rating_points", "Điểm đánh giá", "number", required=False, minimum=0, maximum=100),
    ),
    unit_column="district_code",
    period_column="report_year",
    key_columns=("org_code",),
    sender_level="district_or_province",
)

FORM_CT = Form(
    code="CT",
    title_vi="Biểu CT: Chỉ tiêu nghị quyết đại hội",
    title_en="Congress-term targets",
    columns=(
        Column("term", "Nhiệm kỳ", "term", description="e.g. 2020-2025"),
        Column("unit_code", "Mã đơn vị", "code", description="A commune or district code"),
        Column(
            "indicator_code",
            "Mã chỉ tiêu",
            "enum",
            choices={code: () for code in INDICATOR_CODES},
        ),
        Column("target_value", "Giá trị chỉ tiêu", "number"),
        Column("basis", "Cách tính", "enum", choices=BASIS),
        Column("direction", "Chiều", "enum", required=False, choices=DIRECTION),
    ),
    unit_column="unit_code",
    period_column="term",
    key_columns=("indicator_code", "basis"),
    sender_level="commune_or_district",
)

FORMS: dict[str, Form] = {f.code: f for f in (FORM_CB, FORM_DV, FORM_TC, FORM_CT)}
# A column name means the same on every form that has it (e.g. members, report_year).
LABELS_VI: dict[str, str] = {c.name: c.label_vi for f in FORMS.values() for c in f.columns}


def describe_column(column: str) -> str:
    """How staff messages name a column: its Vietnamese label, then the canonical name."""
    return f"“{LABELS_VI.get(column, column)}” ({column})"


# --- spreadsheet number formats (blank templates) ------------------------------------

TEXT_FORMAT = "@"  # Excel "Text": codes keep their leading zeros as typed
YEAR_FORMAT = "0"  # no grouping: 2024, not 2.024
INT_FORMAT = "#,##0"
NUMBER_FORMAT = "#,##0.0#"


def excel_number_format(column: Column) -> str:
    """The cell format a template gives the column (Excel shows grouping per locale)."""
    if column.name == "report_year":
        return YEAR_FORMAT
    if column.kind == "int":
        return INT_FORMAT
    if column.kind == "number":
        return NUMBER_FORMAT
    return TEXT_FORMAT


# --- text folding shared by header matching and enum matching -------------------

_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """NFC, case fold and collapse whitespace: the comparison key for labels."""
    text = unicodedata.normalize("NFC", str(text)).casefold()
    return _SPACES.sub(" ", text).strip()


def strip_diacritics(text: str) -> str:
    """Vietnamese without tone marks: 'Số đảng viên' -> 'so dang vien'."""
    decomposed = unicodedata.normalize("NFD", fold(text).replace("đ", "d"))
    return unicodedata.normalize(
        "NFC", "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    )


def label_keys(*labels: str) -> set[str]:
    """Every accepted spelling of the given labels, folded."""
    keys: set[str] = set()
    for label in labels:
        keys.add(fold(label))
        keys.add(strip_diacritics(label))
    return keys


def header_index(form: Form) -> dict[str, str]:
    """Folded header spelling -> canonical column name."""
    index: dict[str, str] = {}
    for column in form.columns:
        for key in label_keys(column.name, column.label_vi, *column.aliases_vi):
            index[key] = column.name
    return index


def enum_index(column: Column) -> dict[str, str]:
    """Folded enum spelling (code or Vietnamese label) -> code."""
    index: dict[str, str] = {}
    for code, labels in column.choices.items():
        for key in label_keys(code, *labels):
            index[key] = code
    return index


def rating_index() -> dict[str, set[str]]:
    """Folded rating spelling -> the rating codes it may mean (both scales).

    'HTTNV' is 'good' on either scale; the scale is decided by the year.
    """
    index: dict[str, set[str]] = {}
    for code, (text_vi, abbreviation) in ALL_RATINGS.items():
        for key in label_keys(code, text_vi, abbreviation):
            index.setdefault(key, set()).add(code)
    return index


def detect_form(headers: list[str]) -> Form | None:
    """The form whose required columns the headers cover best (None if none fits)."""
    folded = {fold(h) for h in headers} | {strip_diacritics(h) for h in headers}
    best: tuple[int, Form] | None = None
    for form in FORMS.values():
        index = header_index(form)
        matched = {index[h] for h in folded if h in index}
        required = {c.name for c in form.columns if c.required}
        score = len(matched & required)
        # A form is a candidate only if its identity columns are present.
        if form.unit_column not in matched or form.period_column not in matched:
            continue
        if best is None or score > best[0]:
            best = (score, form)
    return best[1] if best else None
