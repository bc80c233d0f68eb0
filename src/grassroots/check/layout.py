"""Sheet coordinates of a finding: the row number, column letter and header as the sender
sees them in the sheet they filled (the reader keeps where the table sits)."""

from __future__ import annotations

from dataclasses import dataclass

from openpyxl.utils import get_column_letter

from grassroots.reader import ParsedFile


@dataclass(frozen=True)
class Place:
    """Where a finding points in the sheet; None where it points at no cell."""

    row: int | None
    letter: str | None
    header: str | None


def column_letter(position: int) -> str:
    """Excel's letter for a 0-based column position (0 -> A, 26 -> AA)."""
    return get_column_letter(position + 1)


def place(parsed: ParsedFile, row: int | None, column: str | None) -> Place:
    """The sheet place of a finding on `row` (the sheet's own row number) and `column`
    (the form's column name, or for a column the form lacks, the header as written)."""
    if column is None:
        return Place(row, None, None)
    position = parsed.columns_at.get(column)
    if position is None:
        # A required column absent from the header, or an identity column taken from
        # the info sheet: named by its label in the form, with no letter.
        header = column
        if parsed.form is not None and column in parsed.form.column_names:
            header = parsed.form.column(column).label_vi
        return Place(row, None, header)
    return Place(row, column_letter(position), parsed.headers.get(column, column))


def header_cell(parsed: ParsedFile, column: str | None) -> tuple[int, int] | None:
    """(row, 1-based column) of a column's header cell, where the sheet has one."""
    if column is None or parsed.header_row is None or column not in parsed.columns_at:
        return None
    return parsed.header_row, parsed.columns_at[column] + 1
