"""Gazetteer service on SQLite and PostgreSQL: import (all or nothing), CSV files, search."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridgov.errors import ImportRejected, ValidationError
from gridgov.gazetteer import service
from gridgov.gazetteer.models import EntryKind, GazetteerEntry
from gridgov.geo.chinacrs import from_wgs84

ROWS = [
    {"address": "北京市东华区东四北大街12号", "lon": 116.4170, "lat": 39.9310},
    {"address": "北京市东华区东四北大街21号", "lon": 116.4172, "lat": 39.9330},
    {
        "address": "北京市东华区东四北大街12号院3号楼",
        "lon": 116.4171,
        "lat": 39.9312,
        "kind": "building",
    },
    {"address": "北京市东华区朝阳门北大街8号", "lon": "116.4340", "lat": "39.9260"},
    {"address": "东华区景山公园", "lon": 116.3970, "lat": 39.9250, "kind": "地名"},
]

CSV_TEXT = (
    "address,lon,lat,kind\n"
    "北京市东华区东四北大街12号,116.417,39.931,door_plate\n"
    "北京市东华区东四北大街21号,116.4172,39.933,\n"
    '"北京市东华区东四北大街12号院3号楼",116.4171,39.9312,building\n'
)


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(GazetteerEntry)) or 0


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# ------------------------------------------------------------------------------ add_entries


def test_add_entries_stores_normalised_form_and_initials(session: Session) -> None:
    assert service.add_entries(session, ROWS) == 5
    entry = session.scalars(
        select(GazetteerEntry).where(GazetteerEntry.address == "北京市东华区东四北大街12号")
    ).one()
    assert (entry.normalized, entry.initials, entry.kind) == (
        "东四北大街12号",
        "dsbdj12h",
        EntryKind.DOOR_PLATE,
    )
    assert (entry.lon, entry.lat) == (116.4170, 39.9310)
    kinds = dict(session.execute(select(GazetteerEntry.address, GazetteerEntry.kind)).all())
    assert kinds["东华区景山公园"] == EntryKind.PLACE
    assert kinds["北京市东华区东四北大街12号院3号楼"] == EntryKind.BUILDING


def test_adding_the_same_rows_again_writes_nothing(session: Session) -> None:
    service.add_entries(session, ROWS)
    assert service.add_entries(session, [*ROWS[:2], ROWS[0]]) == 0
    assert _count(session) == 5


def test_bad_rows_refuse_the_whole_batch(session: Session) -> None:
    rows = [
        ROWS[0],
        {"address": "  ", "lon": 116.4, "lat": 39.9},
        {"address": "东四北大街3号", "lon": 200, "lat": "abc"},
        {"address": "东四北大街4号", "lon": 116.4, "lat": 39.9, "kind": "house"},
        {"address": "东四北大街5号", "lon": 116.4, "lat": 39.9, "building_id": 987654},
    ]
    with pytest.raises(ImportRejected) as info:
        service.add_entries(session, rows)
    problems = [(p["row"], p["field"]) for p in info.value.problems]
    assert problems == [(2, "address"), (3, "lon"), (3, "lat"), (4, "kind"), (5, "building_id")]
    assert "4 row(s)" in info.value.message
    messages = {p["field"]: p["message"] for p in info.value.problems}
    assert messages["lon"] == "lon 200 is outside -180..180"
    assert messages["lat"] == "lat 'abc' is not a number"
    assert _count(session) == 0


def test_new_entries_are_searchable_at_once(session: Session) -> None:
    service.add_entries(session, ROWS[:1])
    assert [m.address for m in service.search(session, "东四北大街12号")] == [
        "北京市东华区东四北大街12号"
    ]
    service.add_entries(session, ROWS[1:])
    results = service.search(session, "东四北大街12号")
    assert results[0].address == "北京市东华区东四北大街12号"
    assert len(results) > 1


# ----------------------------------------------------------------------------------- search


def test_search_examples(session: Session) -> None:
    service.add_entries(session, ROWS)
    for query, how in [
        ("东四北大街12号", "exact"),
        ("北京市东华区东四北大街十二号", "exact"),
        ("dsbdj12", "pinyin"),
        ("东四北大接12号", "fuzzy"),
    ]:
        best = service.search(session, query)[0]
        assert (best.address, best.how) == ("北京市东华区东四北大街12号", how), query
        assert (best.lon, best.lat) == (116.4170, 39.9310)


@pytest.mark.parametrize(
    ("query", "limit", "message"),
    [
        ("", 10, "q: the search text is empty"),
        ("   ", 10, "q: the search text is empty"),
        ("东" * 101, 10, "q: the search text is 101 characters long; at most 100 are allowed"),
        ("！？", 10, "q: the search text has no letters, digits or Chinese characters"),
        ("东四", 0, "limit: must be 1..100, got 0"),
    ],
)
def test_search_refuses_bad_queries(session: Session, query: str, limit: int, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        service.search(session, query, limit)
    assert info.value.message == message


# -------------------------------------------------------------------------------------- CSV


@pytest.mark.parametrize(
    ("encoding", "data"),
    [
        ("utf-8", CSV_TEXT.encode("utf-8")),
        ("utf-8 with BOM", codecs.BOM_UTF8 + CSV_TEXT.encode("utf-8")),
        ("gbk", CSV_TEXT.encode("gbk")),
        ("gb18030, CRLF", CSV_TEXT.replace("\n", "\r\n").encode("gb18030")),
    ],
)
def test_import_csv_detects_the_encoding(
    session: Session, tmp_path: Path, encoding: str, data: bytes
) -> None:
    assert service.import_csv(session, _write(tmp_path, "门牌.csv", data)) == 3
    addresses = set(session.scalars(select(GazetteerEntry.address)))
    assert "北京市东华区东四北大街12号院3号楼" in addresses
    assert service.search(session, "dsbdj12")[0].address == "北京市东华区东四北大街12号"


def test_import_csv_with_chinese_header_and_given_encoding(
    session: Session, tmp_path: Path
) -> None:
    text = (
        "地址\t经度\t纬度\t类型\n"
        "东四北大街12号\t116.417\t39.931\t门牌\n"
        "景山公园\t116.397\t39.925\t地名\n"
    )
    path = _write(tmp_path, "a.tsv", text.encode("gbk"))
    assert service.import_csv(session, path, encoding="gbk") == 2
    assert (
        session.scalar(select(GazetteerEntry.kind).where(GazetteerEntry.address == "景山公园"))
        == EntryKind.PLACE
    )


def test_import_csv_converts_gcj02_and_bd09(session: Session, tmp_path: Path) -> None:
    gx, gy = from_wgs84(116.417, 39.931, "gcj02")
    bx, by = from_wgs84(116.397, 39.925, "bd09")
    text = f"address,lon,lat,crs\n东四北大街12号,{gx},{gy},GCJ-02\n景山公园,{bx},{by},bd09\n"
    assert service.import_csv(session, _write(tmp_path, "gcj.csv", text.encode())) == 2
    points = dict(
        (a, (lon, lat))
        for a, lon, lat in session.execute(
            select(GazetteerEntry.address, GazetteerEntry.lon, GazetteerEntry.lat)
        )
    )
    assert points["东四北大街12号"] == (
        pytest.approx(116.417, abs=1e-7),
        pytest.approx(39.931, abs=1e-7),
    )
    assert points["景山公园"] == (pytest.approx(116.397, abs=1e-7), pytest.approx(39.925, abs=1e-7))


def test_import_csv_crs_parameter_applies_to_every_row(session: Session, tmp_path: Path) -> None:
    gx, gy = from_wgs84(116.417, 39.931, "gcj02")
    path = _write(tmp_path, "gcj.csv", f"address,lon,lat\n东四北大街12号,{gx},{gy}\n".encode())
    service.import_csv(session, path, crs="gcj02")
    lon, lat = session.execute(select(GazetteerEntry.lon, GazetteerEntry.lat)).one()
    assert (lon, lat) == (pytest.approx(116.417, abs=1e-7), pytest.approx(39.931, abs=1e-7))


def test_bad_csv_rows_name_the_file_line(session: Session, tmp_path: Path) -> None:
    text = (
        "address,lon,lat\n"
        "东四北大街12号,116.417,39.931\n"
        "\n"
        "东四北大街13号,,39.931\n"
        "东四北大街14号,116.4,39.9,extra\n"
        "东四北大街15号,116.4,39.9,\n"
    )
    path = _write(tmp_path, "bad.csv", text.encode())
    with pytest.raises(ImportRejected) as info:
        service.import_csv(session, path)
    assert info.value.message == "bad.csv: 2 row(s) have problems; nothing was imported"
    assert info.value.where == {"file": "bad.csv"}
    assert [(p["row"], p["field"]) for p in info.value.problems] == [(4, "lon"), (5, "address")]
    assert _count(session) == 0


def test_progress_is_reported(session: Session, tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    path = _write(tmp_path, "a.csv", CSV_TEXT.encode())
    service.import_csv(session, path, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (3, 3)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        (
            "book.xlsx",
            b"PK\x03\x04\x14\x00\x06\x00rest of a zip",
            "book.xlsx: this is an Excel workbook",
        ),
        ("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "photo.csv: this is a binary file"),
        ("empty.csv", b"  \n", "empty.csv: the file is empty"),
        (
            "notes.csv",
            "这不是表格\n随便写的文字\n".encode(),
            "notes.csv: missing column(s) address, lon, lat",
        ),
        (
            "part.csv",
            b"address,lon\nx,1\n",
            "part.csv: missing column(s) lat; the first line has: address, lon",
        ),
        (
            "latin1.csv",
            "address,lon,lat\nCaf\xe9,1,2\n".encode("latin-1") + b"\x80\xff",
            "latin1.csv: the text is neither UTF-8 nor GBK",
        ),
    ],
)
def test_files_that_are_not_gazetteer_csv(
    session: Session, tmp_path: Path, name: str, data: bytes, message: str
) -> None:
    with pytest.raises(ValidationError) as info:
        service.import_csv(session, _write(tmp_path, name, data))
    assert info.value.message.startswith(message)
    assert info.value.where["file"] == name
    assert _count(session) == 0


def test_wrong_explicit_encoding_is_explained(session: Session, tmp_path: Path) -> None:
    path = _write(tmp_path, "a.csv", CSV_TEXT.encode("gbk"))
    with pytest.raises(ValidationError, match=r"a\.csv: not readable as utf-8"):
        service.import_csv(session, path, encoding="utf-8")


def test_export_then_import_round_trips(session: Session, tmp_path: Path) -> None:
    service.add_entries(session, ROWS)
    path = tmp_path / "out.csv"
    assert service.export_csv(session, path) == 5
    raw = path.read_bytes()
    assert raw.startswith(codecs.BOM_UTF8)
    assert raw.decode("utf-8-sig").splitlines()[0] == "address,lon,lat,kind"
    assert service.import_csv(session, path) == 0  # every row is already there
    session.execute(GazetteerEntry.__table__.delete())
    assert service.import_csv(session, path) == 5
    assert service.search(session, "景山公园")[0].kind == "place"
