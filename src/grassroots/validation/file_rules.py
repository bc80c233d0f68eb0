"""The file-level expectations of a form suite (rules S8, S1, S4) on the "files" frame."""

from __future__ import annotations

import great_expectations.expectations as gxe

from grassroots.forms import Form
from grassroots.validation import frames as fr
from grassroots.validation.expect import expect, quoted


def _one_of_each(form: Form) -> list:
    """S4: one reporting unit and one period per file."""
    out = []
    for name, count, found, what_vi, what_en, each_vi in (
        (form.unit_column, fr.N_UNITS, fr.UNITS, "đơn vị", "reporting unit", "đơn vị"),
        (form.period_column, fr.N_PERIODS, fr.PERIODS, "kỳ báo cáo", "period", "kỳ"),
    ):
        label = quoted(form.column(name).label_vi)
        out.append(
            expect(
                gxe.ExpectColumnValuesToBeInSet,
                column=name,
                rule="S4",
                vi=f"Tệp phải chứa số liệu của đúng một {what_vi} ({label}); "
                f"tệp đang ghi: {{value}}. Mỗi {each_vi} gửi một tệp riêng.",
                en=f"A file must hold exactly one {what_en} ({name}); found: {{value}}.",
                frame=fr.FILES,
                stage=1,
                domain=count,
                extra_meta={"value_column": found},
                value_set=[1],
            )
        )
    return out


def file_expectations(form: Form) -> list:
    files = {"frame": fr.FILES, "stage": 1}
    return [
        expect(
            gxe.ExpectColumnValuesToBeBetween,
            column=None,
            rule="S8",
            vi=f"Tệp không có dòng số liệu nào: {form.title_vi} phải có ít nhất một dòng.",
            en=f"The file has no data rows: form {form.code} needs at least one row.",
            **files,
            domain=fr.N_ROWS,
            min_value=1,
        ),
        expect(
            gxe.ExpectColumnValuesToBeNull,
            column=None,
            rule="S1",
            vi="Thiếu cột bắt buộc {label} ({name}): thêm cột này vào dòng tiêu đề.",
            en="Required column {name} ({label}) is missing from the header row.",
            **files,
            domain=fr.MISSING_REQUIRED,
            extra_meta={"split": True},
        ),
        expect(
            gxe.ExpectColumnValuesToBeNull,
            column=None,
            rule="S1",
            variant="unknown_column",
            vi=f"Cột “{{value}}” không thuộc {form.title_vi} nên bị bỏ qua; "
            "kiểm tra lại tên cột nếu đây là cột cần thiết.",
            en=f"Column '{{value}}' is not part of form {form.code} and was ignored.",
            **files,
            domain=fr.UNKNOWN_COLUMNS,
            # One finding per file listing the first names and the count: a header of
            # 10,000 unknown cells must not make 10,000 findings.
            extra_meta={"split": True, "one_finding": True},
        ),
        *_one_of_each(form),
    ]
