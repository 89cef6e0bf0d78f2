"""The taxonomy as an Excel workbook (openpyxl): one sheet per table.

Sheets ``classes``, ``subclasses`` and ``time_limits``, each with a header row of machine column
names (a comment on each header gives the Chinese label); codes are text cells so leading zeros
survive. A ``说明`` sheet explains the columns and is ignored on import.
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.utils.exceptions import InvalidFileException

from gridgov.errors import ImportRejected
from gridgov.taxonomy.validation import Loc, raw_key

COLUMNS: dict[str, dict[str, str]] = {
    "classes": {
        "kind": "类型 component=部件 event=事件",
        "code": "大类代码（2位）",
        "name": "大类名称",
        "is_local": "本地扩展 true/false",
        "is_active": "启用 true/false",
        "sort_order": "排序",
    },
    "subclasses": {
        "kind": "类型 component=部件 event=事件",
        "code": "小类代码（大类2位+序号2位）",
        "name": "小类名称",
        "register_condition": "立案条件",
        "close_condition": "结案条件",
        "urgency_levels": "紧急程度，逗号分隔：normal(一般),urgent(紧急),critical(特急)",
        "is_local": "本地扩展 true/false",
        "is_active": "启用 true/false",
        "sort_order": "排序",
    },
    "time_limits": {
        "kind": "类型 component/event",
        "subclass_code": "小类代码",
        "step": "环节 register(立案) dispatch(派遣) handle(处置) check(核查)",
        "urgency": "紧急程度（仅处置环节填写）",
        "value": "时限数值（>0 的整数）",
        "unit": "单位 working_hours(工作时) working_days(工作日) natural_hours(自然时)",
    },
}
REQUIRED = {
    "classes": ("kind", "code", "name"),
    "subclasses": ("kind", "code", "name", "register_condition", "close_condition"),
    "time_limits": ("kind", "subclass_code", "step", "value", "unit"),
}
TEXT_COLUMNS = {"code", "subclass_code"}
README = (
    "部件事件分类（立案条件、结案条件、处置时限）。每张表第一行为列名，请勿修改列名；"
    "代码按文本填写以保留前导零。时限数值由各城市调整。导入前整本校验，有任何错误则全部不导入。"
)

Rows = list[tuple[Loc, dict[str, Any]]]


def write_workbook(path: str | Path | IO[bytes], doc: Mapping[str, Any]) -> None:
    """Write an export document (see ``service.export_json``) as a workbook."""
    wb = Workbook()
    info = wb.active
    assert info is not None
    info.title = "说明"
    info.append([README])
    info.append([str(doc.get("note", ""))])
    limits = [
        {"kind": s["kind"], "subclass_code": s["code"], **t}
        for s in doc["subclasses"]
        for t in s["time_limits"]
    ]
    subs = [{**s, "urgency_levels": ",".join(s["urgency_levels"])} for s in doc["subclasses"]]
    for sheet, rows in (("classes", doc["classes"]), ("subclasses", subs), ("time_limits", limits)):
        ws = wb.create_sheet(sheet)
        columns = list(COLUMNS[sheet])
        ws.append(columns)
        for cell, column in zip(ws[1], columns, strict=True):
            cell.comment = Comment(COLUMNS[sheet][column], "gridgov")
        for row in rows:
            ws.append([row.get(c) for c in columns])
        for cell_row in ws.iter_rows(min_row=2):
            for cell, column in zip(cell_row, columns, strict=True):
                if column in TEXT_COLUMNS:
                    cell.number_format = "@"
    wb.save(path)


def read_workbook(
    path: str | Path | IO[bytes],
) -> tuple[Rows, Rows, list[tuple[Loc, tuple[str, str], dict[str, Any]]]]:
    """Read the three sheets into located raw rows; structural problems are refused at once."""
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportRejected(
            f"not an Excel workbook (.xlsx): {exc.__class__.__name__}",
            [{"sheet": "", "row": 0, "field": "", "reason": "not an .xlsx workbook"}],
        ) from None
    problems: list[dict[str, Any]] = []
    sheets: dict[str, Rows] = {}
    try:
        for sheet in COLUMNS:
            if sheet not in wb.sheetnames:
                problems.append({"sheet": sheet, "row": 0, "field": "", "reason": "sheet missing"})
                continue
            sheets[sheet] = _read_sheet(wb[sheet], sheet, problems)
    finally:
        wb.close()
    if problems:
        raise ImportRejected("workbook refused: sheets or columns are missing", problems)
    limits = [
        (loc, raw_key({"kind": row.get("kind"), "code": row.get("subclass_code")}), row)
        for loc, row in sheets["time_limits"]
    ]
    return sheets["classes"], sheets["subclasses"], limits


def _read_sheet(ws: Any, sheet: str, problems: list[dict[str, Any]]) -> Rows:
    rows = ws.iter_rows(values_only=True)
    header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
    missing = [c for c in REQUIRED[sheet] if c not in header]
    for column in missing:
        problems.append({"sheet": sheet, "row": 1, "field": column, "reason": "column missing"})
    if missing:
        return []
    out: Rows = []
    for number, values in enumerate(rows, start=2):
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        row = {h: v for h, v in zip(header, values, strict=False) if h in COLUMNS[sheet]}
        out.append((Loc(sheet, number), row))
    return out
