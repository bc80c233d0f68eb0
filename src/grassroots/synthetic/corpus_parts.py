"""The bad-input corpus's building blocks: labels, rows, the entry record, XLSX pinning.

Communes are real (Cao Lộc district 183, Lạng Sơn), valid in the registry until 2025.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from openpyxl import Workbook

from grassroots.forms import FORMS
from grassroots.synthetic.files import pin_zip, to_csv

FIXED_TIME = (2024, 1, 31, 8, 0, 0)
CORE_STAMP = b"2024-01-31T08:00:00Z"


CB_LABELS = [
    "Năm báo cáo",
    "Mã xã",
    "Mã thôn",
    "Tên thôn",
    "Tình trạng chi bộ",
    "Mã thôn sinh hoạt ghép",
    "Số đảng viên",
    "Xếp loại chi bộ",
]
DV_LABELS = [c.label_vi for c in FORMS["DV"].columns]
COMMUNES = [
    "06184", "06187", "06190", "06193", "06196", "06199", "06202", "06205", "06208",
    "06211", "06214", "06217", "06220", "06223", "06226", "06232", "06235", "06238",
    "06241", "06244", "06247", "06250",
]  # fmt: skip
VILLAGE_NAMES = ["Thôn Nà Phặc", "Bản Khuổi Cáp", "Tổ dân phố Đồng Đăng", "Thôn Phai Luông"]


@dataclass
class Entry:
    name: str
    content: bytes
    outcome: str  # loaded | quarantined | duplicate
    rules: str = ""  # rule ids of all findings (errors and warnings), ";"-separated
    rows: str = ""  # sheet rows of those findings, ";"-separated; empty = file-level
    note: str = ""


def cb_rows(commune: str, year: int = 2023, villages: int = 3) -> list[list[str]]:
    return [
        [str(year), commune, f"{commune}-{i + 1:03d}", VILLAGE_NAMES[i % 4],
         "Sinh hoạt độc lập", "", str(5 + i), "Hoàn thành tốt nhiệm vụ"]
        for i in range(villages)
    ]  # fmt: skip


def dv_row(commune: str, year: int = 2023) -> list[str]:
    # 100 + 5 + 2 - 1 - 1 - 0 - 0 = 105 (C1), probationary 10 <= 105 (C2)
    return [str(year), commune, "12.345", "100", "5", "2", "1", "1", "0", "0", "105", "10"]


def deterministic_xlsx(content: bytes, cached: dict[str, str] | None = None) -> bytes:
    """Rewrite an openpyxl zip with fixed timestamps; give formula cells cached values
    (`cached`: cell ref -> value) as Excel would have saved them."""
    return pin_zip(content, FIXED_TIME, CORE_STAMP, cached=cached)


def workbook_bytes(book: Workbook, cached: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return deterministic_xlsx(buffer.getvalue(), cached)


def cb_csv(rows: list[list[str]], **kwargs) -> bytes:
    return to_csv([CB_LABELS, *rows], **kwargs).encode("utf-8")
