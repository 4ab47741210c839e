"""Helpers shared by the CLI sub-commands: CSV reading and output formatting."""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import DataError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = ["read_csv_columns"]


def read_csv_columns(
    path: str | Path, columns: Sequence[str] | None = None, *, numeric: Sequence[str] | None = None
) -> dict[str, np.ndarray]:
    """Read named columns of a CSV file with a header row.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    columns : sequence of str, optional
        Columns to return (all when ``None``); a missing one is an error naming the columns found.
    numeric : sequence of str, optional
        Columns whose cells must all be numbers (default: every returned column); the others
        are returned as arrays of strings.

    Raises
    ------
    DataError
        Missing or unreadable file, no header, a missing or repeated column, ragged rows (too
        few cells, or extra non-empty cells), non-numeric or non-finite cells (the message
        names the file line and column).
    """
    path = Path(path)
    try:
        exists, is_dir, is_file = path.exists(), path.is_dir(), path.is_file()
    except (OSError, ValueError) as exc:  # a NUL byte or an over-long name
        raise DataError(f"cannot use {str(path)[:80]!r} as a file name: {exc}") from None
    if not exists:
        raise DataError(f"file not found: {path}")
    if is_dir:
        raise DataError(f"{path} is a directory, not a CSV file")
    if not is_file:  # devices and pipes (/dev/zero, a FIFO) could be read forever
        raise DataError(f"{path} is not a regular file; expected a CSV file")
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = _numbered_rows(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"cannot read {path}: {exc}") from None
    if not rows:
        raise DataError(f"{path} is empty; expected a header row and data rows")
    header = [h.strip() for h in rows[0][1]]
    body = rows[1:]
    if not body:
        raise DataError(f"{path} has a header but no data rows")
    wanted = list(header if columns is None else columns)
    missing = [c for c in wanted if c not in header]
    if missing:
        raise DataError(
            f"{path} has no column {', '.join(repr(m) for m in missing)}; columns are {header}"
        )
    twice = sorted({c for c in wanted if header.count(c) > 1})
    if twice:
        raise DataError(
            f"{path} has the column {', '.join(map(repr, twice))} more than once in its header "
            f"{header}; give each column a distinct name"
        )
    for line, row in body:
        if len(row) > len(header) and any(c.strip() for c in row[len(header):]):
            raise DataError(
                f"{path} line {line} has {len(row)} cells but the header has {len(header)}"
            )
    numeric_set = set(wanted if numeric is None else numeric)
    return {name: _column(path, name, header.index(name), body, name in numeric_set)
            for name in wanted}


def _numbered_rows(reader: Any) -> list[tuple[int, list[str]]]:
    """(first file line, cells) of every non-blank record: messages name file lines, also
    after blank lines and quoted cells that span lines."""
    rows, last = [], 0
    for row in reader:
        start, last = last + 1, reader.line_num
        if any(cell.strip() for cell in row):
            rows.append((start, row))
    return rows


def _column(path: Path, name: str, j: int, body: list[tuple[int, list[str]]],
            numeric: bool) -> np.ndarray:
    """Column ``j`` of the body rows, as floats (finite, checked cell by cell) or strings."""
    import numpy as np

    cells = []
    for line, row in body:
        if j >= len(row):
            raise DataError(f"{path} line {line} has {len(row)} cells; column {name!r} is missing")
        cells.append(row[j].strip())
    if not numeric:
        return np.array(cells)
    values = np.empty(len(cells))
    for i, ((line, _), cell) in enumerate(zip(body, cells)):
        try:
            values[i] = float(cell)
        except ValueError:
            raise DataError(
                f"{path} line {line}, column {name!r}: {cell!r} is not a number"
            ) from None
        if not math.isfinite(values[i]):
            raise DataError(
                f"{path} line {line}, column {name!r}: {cell!r} is not a finite number "
                "(drop or impute missing values first)"
            )
    return values
