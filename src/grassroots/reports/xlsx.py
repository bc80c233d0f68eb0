"""Excel workbooks: every table of a page (one sheet each, Vietnamese headers, numbers as
numbers, dates as dd/mm/yyyy) and one workbook per province with every unit under it.

A workbook is a list of sheets until it is saved. XlsxWriter writes them: the province
workbooks hold hundreds of thousands of rows, and writing them is most of the site's
build (openpyxl took about 2.5 times as long).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import xlsxwriter

from grassroots.reports.charts import RATING_LABELS

YES_NO = {True: "có", False: "không", None: None}

# Cells hold what the marts hold: no text turned into a formula or a link, no NaN refused.
OPTIONS = {
    "in_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "nan_inf_to_errors": True,
    "remove_timezone": True,
    "default_date_format": "dd/mm/yyyy",
}


@dataclass(frozen=True)
class Sheet:
    title: str
    header: list[str]
    rows: list[list]


Workbook = list[Sheet]


def _sheet(book: Workbook, title: str, header: list[str], rows: list[list]) -> None:
    book.append(Sheet(title, header, rows))


def _headline(page: dict) -> list[list]:
    return [
        [
            item["name"],
            item["indicator_code"],
            item["year"],
            item["value"],
            item["numerator"],
            item["denominator"],
            item["change_vs_previous_year"],
            item["units_reported"],
            item["units_expected"],
            YES_NO[item["is_estimate"]],
        ]
        for item in page["headline"]
    ]


def _series(page: dict) -> list[list]:
    names = page["indicator_names"]
    return [
        [
            names.get(code, code),
            code,
            row["year"],
            row["value"],
            row["numerator"],
            row["denominator"],
            row["units_reported"],
            row["units_expected"],
            YES_NO[row["is_estimate"]],
        ]
        for code, rows in page["series"].items()
        for row in rows
    ]


VALUE_HEADER = ["Giá trị", "Tử số", "Mẫu số"]
SERIES_HEADER = ["Chỉ tiêu", "Mã chỉ tiêu", "Năm", *VALUE_HEADER]


def page_workbook(page: dict) -> Workbook:
    """Every table of the page, one sheet each, in the page's order."""
    book: Workbook = []
    _sheet(
        book,
        "Chỉ tiêu",
        [
            *SERIES_HEADER,
            "So với năm trước",
            "Đơn vị đã báo cáo",
            "Đơn vị phải báo cáo",
            "Ước tính",
        ],
        _headline(page),
    )
    _sheet(
        book,
        "Diễn biến",
        [*SERIES_HEADER, "Đơn vị đã báo cáo", "Đơn vị phải báo cáo", "Ước tính"],
        _series(page),
    )
    if page["ratings"]:
        _sheet(
            book,
            "Xếp loại",
            ["Năm", *RATING_LABELS.values(), "Tổng số"],
            [[r["year"], *(r[k] for k in RATING_LABELS), r["total"]] for r in page["ratings"]],
        )
    if page["targets"]:
        _sheet(
            book,
            "Chỉ tiêu nhiệm kỳ",
            [
                "Nhiệm kỳ",
                "Mã đơn vị",
                "Đơn vị",
                "Chỉ tiêu",
                "Mã chỉ tiêu",
                "Cách tính",
                "Hướng",
                "Chỉ tiêu nhiệm kỳ",
                "Thực hiện",
                "Tiến độ (%)",
                "Đạt",
                "Số năm đã có số liệu",
                "Số năm nhiệm kỳ",
            ],
            [
                [
                    t["congress_term"],
                    t["unit_code"],
                    t["unit_name"],
                    t["name"],
                    t["indicator_code"],
                    t["basis"],
                    t["direction"],
                    t["term_target"],
                    t["actual_value"],
                    t["progress_pct"],
                    YES_NO[t["is_met"]],
                    t["years_reported"],
                    t["years_in_term"],
                ]
                for t in page["targets"]
            ],
        )
    _ranking_sheet(book, page)
    if page["geography"] == "as_reported":
        _reporting_sheets(book, page)
    return book


def _ranking_sheet(book: Workbook, page: dict) -> None:
    ranking = page["ranking"]
    codes = ranking["indicators"]
    _sheet(
        book,
        "Đơn vị trực thuộc",
        ["Hạng", "Mã", "Đơn vị", *(page["indicator_names"][c] for c in codes)],
        [
            [u["rank"], u["code"], u["name"], *(u["values"].get(c) for c in codes)]
            for u in ranking["rows"]
        ],
    )


def _reporting_sheets(book: Workbook, page: dict) -> None:
    _sheet(
        book,
        "Gửi báo cáo",
        [
            "Phạm vi",
            "Mã phạm vi",
            "Mẫu",
            "Hạn gửi",
            "Phải gửi",
            "Đã gửi",
            "Đúng hạn",
            "Muộn",
            "Quá hạn chưa gửi",
            "Đơn vị chưa gửi",
        ],
        [
            [
                r["scope_name"],
                r["scope_code"],
                r["form_code"],
                r["deadline"],
                r["expected_count"],
                r["received_count"],
                r["on_time_count"],
                r["late_count"],
                r["overdue_count"],
                "; ".join(f"{u['name']} ({u['code']})" for u in r["overdue_units"]),
            ]
            for r in page["completeness"]
        ],
    )
    _sheet(
        book,
        "Kiểm tra",
        [
            "Tệp",
            "Mã tệp",
            "Trạng thái",
            "Mẫu",
            "Đơn vị",
            "Kỳ",
            "Quy tắc",
            "Mức",
            "Dòng",
            "Cột",
            "Nội dung",
        ],
        [
            [
                f["original_name"],
                f["file_id"],
                f["file_status"],
                f["form_code"],
                f["unit_code"],
                f["period"],
                f["rule_id"],
                f["severity"],
                f["source_row_number"],
                f["column_name"],
                f["message_vi"],
            ]
            for f in page["findings"]["rows"]
        ],
    )


PROVINCE_HEADER = [
    "Cấp",
    "Mã đơn vị",
    "Đơn vị",
    "Năm",
    "Mã chỉ tiêu",
    "Chỉ tiêu",
    *VALUE_HEADER,
    "Đơn vị đã báo cáo",
    "Đơn vị phải báo cáo",
    "Ước tính",
]
LEVEL_NAMES = {"province": "tỉnh", "district": "huyện", "commune": "xã"}


def province_rows(rows: list[dict], names: dict[str, str]) -> list[list]:
    """The province workbook's rows: every value of the province and its units."""
    return [
        [
            LEVEL_NAMES.get(r["unit_level"], r["unit_level"]),
            r["unit_code"],
            r["unit_name"],
            r["year"],
            r["indicator_code"],
            names.get(r["indicator_code"], r["indicator_code"]),
            r["value"],
            r["numerator"],
            r["denominator"],
            r["units_reported"],
            r["units_expected"],
            YES_NO[r["is_estimate"]],
        ]
        for r in rows
    ]


def province_workbook(rows: list[list]) -> Workbook:
    return [Sheet("Mọi đơn vị", PROVINCE_HEADER, rows)]


def save(book: Workbook, path: Path) -> None:
    """Each sheet with its header frozen and columns as wide as their names (10 to 40);
    written beside the target and renamed, so a reader never sees half a workbook."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".xlsx.part")
    workbook = xlsxwriter.Workbook(str(partial), OPTIONS)
    try:
        for sheet in book:
            worksheet = workbook.add_worksheet(sheet.title)
            worksheet.freeze_panes(1, 0)
            for index, name in enumerate(sheet.header):
                worksheet.set_column(index, index, max(10, min(40, len(name) + 2)))
            worksheet.write_row(0, 0, sheet.header)
            for number, row in enumerate(sheet.rows, start=1):
                worksheet.write_row(number, 0, row)
    except BaseException:
        workbook.close()  # XlsxWriter insists; the half-written file is removed
        partial.unlink(missing_ok=True)
        raise
    workbook.close()
    partial.replace(path)
