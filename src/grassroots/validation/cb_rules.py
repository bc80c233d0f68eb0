"""The CB form's own rules: village codes (S6), one row per village (S7), joint
branches and their host village (C3), villages without a branch and ratings (C4),
the three-member minimum (C5)."""

from __future__ import annotations

import great_expectations.expectations as gxe
from great_expectations.expectations.row_conditions import Column as Col

from grassroots.forms import Form
from grassroots.validation import frames as fr
from grassroots.validation.code_rules import VILLAGE_REGEX, commune_registry, shape, unique
from grassroots.validation.expect import expect, quoted

_STATUS = Col(fr.code("branch_status"))


def _villages(form: Form) -> list:
    village, host = form.column("village_code"), form.column("host_village_code")
    shape_vi = "ghi mã xã, dấu gạch ngang và 3 chữ số, ví dụ 06253-004"
    shape_en = "<commune code>-<3 digits>, e.g. 06253-004"
    return [
        *commune_registry(form),
        shape(village, VILLAGE_REGEX, shape_vi, shape_en),
        expect(
            gxe.ExpectColumnValuesToBeInSet,
            column="village_code",
            rule="S6",
            inputs=("commune_code",),
            vi=f"{quoted(village.label_vi)} “{{value}}” phải bắt đầu bằng mã xã gửi biểu: "
            "{commune}-xxx.",
            en="village_code '{value}' must start with the sending commune's code: {commune}-xxx.",
            placeholders={"commune": fr.code("commune_code")},
            domain=fr.belongs("village_code"),
            value_set=[True],
        ),
        shape(host, VILLAGE_REGEX, shape_vi, shape_en),
        unique(form, "mỗi thôn, tổ dân phố chỉ ghi một dòng", "one row per village"),
    ]


def _host_village(form: Form) -> list:
    """C3: host village given exactly when joint, and it is an independent branch here."""
    host = quoted(form.column("host_village_code").label_vi)
    status_vi = quoted(form.column("branch_status").label_vi)
    on_host = {"column": "host_village_code", "rule": "C3"}
    return [
        expect(
            gxe.ExpectColumnValuesToNotBeNull,
            **on_host,
            inputs=("branch_status",),
            vi=f"Chi bộ sinh hoạt ghép phải ghi {host}: mã thôn có chi bộ mà "
            "đảng viên của thôn này sinh hoạt cùng.",
            en="A joint branch needs host_village_code (the village whose branch its "
            "members attend).",
            domain="host_village_code",
            row_condition=_STATUS == "joint",
        ),
        expect(
            gxe.ExpectColumnValuesToBeNull,
            **on_host,
            inputs=("branch_status",),
            vi=f"Chỉ ghi {host} khi {status_vi} là Sinh hoạt ghép; thôn này ghi "
            "“{status}”. Xóa mã “{value}” hoặc sửa tình trạng chi bộ.",
            en="host_village_code is only for joint branches; this village is '{status}'.",
            placeholders={"status": "branch_status"},
            domain="host_village_code",
            row_condition=_STATUS.is_in(["independent", "none"]),
        ),
        expect(
            gxe.ExpectColumnValuesToBeInSet,
            **on_host,
            inputs=("village_code", "branch_status"),
            vi=f"{host} “{{value}}” phải là một thôn khác trong cùng biểu này, "
            "có chi bộ Sinh hoạt độc lập.",
            en="host_village_code '{value}' must be another village of this file whose "
            "branch is independent.",
            domain=fr.HOST_OK,
            value_set=[True],
        ),
    ]


def _branches(form: Form) -> list:
    """C4: no branch => no members; only independent branches are rated.
    C5: an independent branch needs at least three members."""
    status_vi = quoted(form.column("branch_status").label_vi)
    rating = quoted(form.column("branch_rating").label_vi)
    members = quoted(form.column("members").label_vi)
    by_status = {"inputs": ("branch_status",)}
    return [
        expect(
            gxe.ExpectColumnValuesToBeInSet,
            column="members",
            rule="C4",
            **by_status,
            vi=f"Thôn Chưa có chi bộ thì {members} phải bằng 0; đang ghi "
            "“{value}”. Nếu thôn có đảng viên, ghi tình trạng Sinh hoạt ghép.",
            en="A village without a branch must have members = 0; found '{value}'.",
            domain=fr.parsed("members"),
            value_set=[0],
            row_condition=_STATUS == "none",
        ),
        expect(
            gxe.ExpectColumnValuesToBeNull,
            column="branch_rating",
            rule="C4",
            **by_status,
            vi=f"Chỉ xếp loại chi bộ Sinh hoạt độc lập: thôn có {status_vi} “{{status}}” "
            f"phải để trống {rating} (đang ghi “{{value}}”).",
            en="branch_rating must be empty for a '{status}' village; found '{value}'.",
            placeholders={"status": "branch_status"},
            domain="branch_rating",
            row_condition=_STATUS.is_in(["none", "joint"]),
        ),
        expect(
            gxe.ExpectColumnValuesToNotBeNull,
            column="branch_rating",
            rule="C4",
            **by_status,
            vi=f"Chi bộ Sinh hoạt độc lập phải có {rating}.",
            en="An independent branch needs a branch_rating.",
            domain="branch_rating",
            row_condition=_STATUS == "independent",
        ),
        expect(
            gxe.ExpectColumnValuesToBeBetween,
            column="members",
            rule="C5",
            **by_status,
            vi=f"Chi bộ Sinh hoạt độc lập phải có ít nhất 3 đảng viên; {members} "
            "đang ghi “{value}”. Nếu chưa đủ 3 đảng viên, ghi tình trạng Sinh hoạt ghép.",
            en="An independent branch needs at least 3 members; found '{value}'.",
            domain=fr.parsed("members"),
            min_value=3,
            row_condition=_STATUS == "independent",
        ),
    ]


def cb_rules(form: Form) -> list:
    return [*_villages(form), *_host_village(form), *_branches(form)]
