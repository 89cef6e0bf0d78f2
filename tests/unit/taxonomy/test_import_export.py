"""JSON and Excel import/export: round trips, and whole-file refusal of bad rows."""

from __future__ import annotations

import copy
import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from gridgov.errors import ImportRejected
from gridgov.taxonomy import service
from gridgov.taxonomy.models import Kind, Subclass, SubclassTimeLimit, TaxonomyClass


def _empty(session: Session) -> None:
    for table in (SubclassTimeLimit, Subclass, TaxonomyClass):
        session.execute(delete(table))
    session.expunge_all()


def _counts(session: Session) -> tuple[int, ...]:
    return tuple(
        session.scalar(select(func.count()).select_from(t)) or 0
        for t in (TaxonomyClass, Subclass, SubclassTimeLimit)
    )


def test_json_round_trip_into_an_empty_database(seeded: Session) -> None:
    doc = service.export_json(seeded)
    _empty(seeded)
    assert service.import_json(seeded, doc)["subclasses_created"] == len(doc["subclasses"])
    assert service.export_json(seeded) == doc


def test_json_reimport_updates_in_place(seeded: Session) -> None:
    doc = service.export_json(seeded)
    changed = copy.deepcopy(doc)
    sub = next(s for s in changed["subclasses"] if (s["kind"], s["code"]) == ("event", "0102"))
    sub["name"] = "暴露垃圾（生活）"
    sub["urgency_levels"] = ["normal"]
    sub["time_limits"] = [t for t in sub["time_limits"] if t["urgency"] in (None, "normal")]
    before = _counts(seeded)
    summary = service.import_json(seeded, changed)
    assert summary["subclasses_created"] == 0
    assert summary["subclasses_updated"] == len(doc["subclasses"])
    assert service.export_json(seeded) == changed
    assert _counts(seeded) == (before[0], before[1], before[2] - 1)  # the urgent limit is gone


def test_excel_round_trip(seeded: Session, tmp_path: Path) -> None:
    doc = service.export_json(seeded)
    path = tmp_path / "taxonomy.xlsx"
    service.export_excel(seeded, path)
    _empty(seeded)
    service.import_excel(seeded, path)
    assert service.export_json(seeded) == doc


def test_excel_keeps_codes_as_text(seeded: Session) -> None:
    buffer = io.BytesIO()
    service.export_excel(seeded, buffer)
    ws = load_workbook(io.BytesIO(buffer.getvalue()))["subclasses"]
    assert [c.value for c in ws[1]][:3] == ["kind", "code", "name"]
    assert ws["B2"].value == "0101"


def test_bad_json_rows_are_all_listed_and_nothing_is_written(session: Session) -> None:
    doc: dict[str, Any] = service.export_json(session)  # empty tables: header only
    good = service.json.loads(service.DEFAULT_FILE.read_text(encoding="utf-8"))
    doc["classes"] = good["classes"]
    doc["subclasses"] = copy.deepcopy(good["subclasses"][:5])
    doc["subclasses"][1]["name"] = ""
    doc["subclasses"][3]["time_limits"][2]["value"] = 0
    doc["subclasses"][4]["code"] = "9901"
    with pytest.raises(ImportRejected) as err:
        service.import_json(session, doc)
    got = [(p["sheet"], p["row"], p["field"]) for p in err.value.problems]
    assert got == [
        ("subclasses", 2, "name"),
        ("subclasses", 5, "code"),
        ("subclasses", 4, "time_limits[2].value"),
    ]
    assert "nothing was imported" in err.value.message
    assert _counts(session) == (0, 0, 0)


def test_a_refused_update_leaves_stored_rows_unchanged(seeded: Session) -> None:
    doc = service.export_json(seeded)
    before = copy.deepcopy(doc)
    doc["classes"][0]["name"] = "改名"
    doc["subclasses"][-1]["unit"] = "fortnights"
    doc["subclasses"][-1]["time_limits"][0]["unit"] = "fortnights"
    with pytest.raises(ImportRejected):
        service.import_json(seeded, doc)
    assert service.export_json(seeded) == before


def test_bad_excel_rows_name_the_sheet_and_spreadsheet_row(seeded: Session) -> None:
    buffer = io.BytesIO()
    service.export_excel(seeded, buffer)
    wb = load_workbook(io.BytesIO(buffer.getvalue()))
    wb["subclasses"]["C5"] = None  # name of the 4th subclass
    limits = wb["time_limits"]
    header = [c.value for c in limits[1]]
    limits.cell(row=7, column=header.index("unit") + 1, value="weeks")
    limits.cell(row=8, column=header.index("value") + 1, value=-1)
    out = io.BytesIO()
    wb.save(out)
    before = service.export_json(seeded)
    with pytest.raises(ImportRejected) as err:
        service.import_excel(seeded, io.BytesIO(out.getvalue()))
    got = {(p["sheet"], p["row"], p["field"]) for p in err.value.problems}
    assert got == {
        ("subclasses", 5, "name"),
        ("time_limits", 7, "unit"),
        ("time_limits", 8, "value"),
    }
    assert service.export_json(seeded) == before


def test_not_a_workbook_and_missing_sheets_are_refused(session: Session) -> None:
    with pytest.raises(ImportRejected) as err:
        service.import_excel(session, io.BytesIO(b"kind,code\nevent,01\n"))
    assert "not an .xlsx" in err.value.problems[0]["reason"]

    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "classes"  # type: ignore[union-attr]
    wb.active.append(["kind", "code"])  # type: ignore[union-attr]
    buffer = io.BytesIO()
    wb.save(buffer)
    with pytest.raises(ImportRejected) as err:
        service.import_excel(session, io.BytesIO(buffer.getvalue()))
    assert {(p["sheet"], p["field"], p["reason"]) for p in err.value.problems} == {
        ("classes", "name", "column missing"),
        ("subclasses", "", "sheet missing"),
        ("time_limits", "", "sheet missing"),
    }


def test_subclass_may_join_a_stored_class(seeded: Session) -> None:
    doc = {"subclasses": [service.subclass_dict(service.get_subclass(seeded, "0102", Kind.EVENT))]}
    doc["subclasses"][0]["code"] = "0199"
    doc["subclasses"][0]["name"] = "垃圾桶未归位"
    assert service.import_json(seeded, doc)["subclasses_created"] == 1
    assert service.get_subclass(seeded, "0199", Kind.EVENT).name == "垃圾桶未归位"
