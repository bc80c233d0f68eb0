"""Excel workbooks: every table of a page (one sheet each, Vietnamese headers, numbers as
numbers) and one workbook per province with every unit under it."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from grassroots.reports.charts import RATING_LABELS

YES_NO = {True: "có", False: "không", None: None}


def _sheet(book: Workbook, title: str, header: list[str], rows: list[list]) -> None:
    sheet = book.create_sheet(title)
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    sheet.freeze_panes = "A2"
    for index, name in enumerate(header, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(10, min(40, len(name) + 2))


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
    book = Workbook()
    book.remove(book.active)
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
    book = Workbook()
    book.remove(book.active)
    _sheet(book, "Mọi đơn vị", PROVINCE_HEADER, rows)
    return book


def save(book: Workbook, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".xlsx.part")
    book.save(partial)
    partial.replace(path)
