"""Helpers shared by the CLI sub-commands: CSV reading and output formatting."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

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
        Missing or unreadable file, no header, missing column, ragged rows or non-numeric cells
        (the message names the row and column).
    """
    import numpy as np

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
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"cannot read {path}: {exc}") from None
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise DataError(f"{path} is empty; expected a header row and data rows")
    header = [h.strip() for h in rows[0]]
    body = rows[1:]
    if not body:
        raise DataError(f"{path} has a header but no data rows")
    wanted = list(header if columns is None else columns)
    missing = [c for c in wanted if c not in header]
    if missing:
        raise DataError(
            f"{path} has no column {', '.join(repr(m) for m in missing)}; columns are {header}"
        )
    numeric_set = set(wanted if numeric is None else numeric)
    out: dict[str, np.ndarray] = {}
    for name in wanted:
        j = header.index(name)
        cells = []
        for i, row in enumerate(body, start=2):
            if j >= len(row):
                raise DataError(f"{path} line {i} has {len(row)} cells; column {name!r} is missing")
            cells.append(row[j].strip())
        if name in numeric_set:
            values = np.empty(len(cells))
            for i, cell in enumerate(cells):
                try:
                    values[i] = float(cell)
                except ValueError:
                    raise DataError(
                        f"{path} line {i + 2}, column {name!r}: {cell!r} is not a number"
                    ) from None
            out[name] = values
        else:
            out[name] = np.array(cells)
    return out
