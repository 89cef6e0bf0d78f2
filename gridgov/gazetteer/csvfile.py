"""Reading and writing gazetteer CSV files: encoding detection, header aliases, row numbers.

Files from Chinese offices come as UTF-8 (often with the BOM Excel writes) or as GBK/GB18030
(Excel's "CSV" on a Chinese Windows). Headers may be English or Chinese (地址, 经度, 纬度 …).
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from gridgov.errors import ValidationError

__all__ = ["REQUIRED", "CsvRow", "read_rows", "write_rows"]

REQUIRED = ("address", "lon", "lat")
OPTIONAL = ("kind", "crs", "building_id")
_ALIASES = {
    "address": ("address", "addr", "地址", "门牌地址", "标准地址", "详细地址"),
    "lon": ("lon", "lng", "longitude", "x", "经度"),
    "lat": ("lat", "latitude", "y", "纬度"),
    "kind": ("kind", "type", "类型", "类别"),
    "crs": ("crs", "坐标系"),
    "building_id": ("building_id", "楼栋id", "楼栋编号"),
}
_HEADER = {alias: name for name, aliases in _ALIASES.items() for alias in aliases}
_SNIFF_BYTES = 8192


@dataclass(frozen=True, slots=True)
class CsvRow:
    """One data row: its line number in the file (the header is line 1) and its values."""

    line: int
    values: dict[str, str]
    extra_fields: int  # non-empty fields beyond the header's columns: a broken row


def _decode(data: bytes, name: str, encoding: str | None) -> str:
    if encoding:
        try:
            return data.decode(encoding)
        except LookupError:
            raise ValidationError(f"{name}: unknown encoding {encoding!r}", file=name) from None
        except UnicodeDecodeError as exc:
            raise ValidationError(
                f"{name}: not readable as {encoding} (byte {exc.start}); "
                "leave the encoding empty to detect it",
                file=name,
            ) from None
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="strict")
    for candidate in ("utf-8", "gb18030"):
        try:
            return data.decode(candidate)
        except UnicodeDecodeError:
            continue
    raise ValidationError(
        f"{name}: the text is neither UTF-8 nor GBK/GB18030; save the file as CSV (UTF-8)",
        file=name,
    )


def _check_not_binary(data: bytes, name: str) -> None:
    if data.startswith(b"PK\x03\x04"):
        raise ValidationError(
            f"{name}: this is an Excel workbook or zip archive, not CSV; "
            "save it as 'CSV UTF-8 (comma delimited)' first",
            file=name,
        )
    if b"\x00" in data[:_SNIFF_BYTES]:
        raise ValidationError(
            f"{name}: this is a binary file (or UTF-16 text), not CSV; save it as CSV (UTF-8)",
            file=name,
        )


def _columns(header: Sequence[str], name: str) -> dict[str, int]:
    """Column positions by canonical name; a missing required column is a ValidationError."""
    positions: dict[str, int] = {}
    for i, raw in enumerate(header):
        canonical = _HEADER.get(raw.strip().lstrip("\ufeff").lower())
        if canonical and canonical not in positions:
            positions[canonical] = i
    missing = [c for c in REQUIRED if c not in positions]
    if missing:
        found = ", ".join(h.strip() for h in header if h.strip()) or "nothing"
        raise ValidationError(
            f"{name}: missing column(s) {', '.join(missing)}; the first line has: {found}. "
            f"Expected a header with {', '.join(REQUIRED)} (and optionally "
            f"{', '.join(OPTIONAL)})",
            file=name,
            missing=missing,
        )
    return positions


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    try:
        return csv.Sniffer().sniff(text[:_SNIFF_BYTES], delimiters=",\t;|")
    except csv.Error:
        return csv.excel


def read_rows(path: Path, *, encoding: str | None = None) -> list[CsvRow]:
    """Every non-blank data row of a gazetteer CSV file.

    Raises ValidationError naming the file when it is not a text CSV file or the header lacks
    a required column.
    """
    name = path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValidationError(f"{name}: cannot read the file ({exc.strerror})", file=name) from None
    _check_not_binary(data, name)
    text = _decode(data, name, encoding)
    if not text.strip():
        raise ValidationError(f"{name}: the file is empty", file=name)
    reader = csv.reader(text.splitlines(keepends=True), _dialect(text))
    try:
        header = next(reader)
        columns = _columns(header, name)
        rows = []
        for fields in reader:
            if any(f.strip() for f in fields):
                rows.append(_row(reader.line_num, fields, columns, len(header)))
        return rows
    except csv.Error as exc:
        raise ValidationError(
            f"{name}: not a valid CSV file (line {reader.line_num}: {exc})", file=name
        ) from None


def _row(line: int, fields: list[str], columns: dict[str, int], width: int) -> CsvRow:
    values = {c: fields[i].strip() if i < len(fields) else "" for c, i in columns.items()}
    extra = sum(1 for f in fields[width:] if f.strip())  # trailing empty cells are harmless
    return CsvRow(line, values, extra)


def write_rows(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """Write a UTF-8 CSV with a BOM (so Excel shows the Chinese correctly); return data rows."""
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
            count += 1
    return count
