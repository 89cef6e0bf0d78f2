"""What the per-layer importers share: field mapping with aliases, value conversion that collects
problems per feature and field, all-or-nothing writes, a progress counter and the summary."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from gridgov.errors import ImportRejected, ValidationError
from gridgov.geo.files import BATCH, BBox, FeatureTable, Mode, ProgressFn, as_text

_BOX = ("minx", "miny", "maxx", "maxy")

FieldKind = Literal["str", "code", "int", "float"]


@dataclass(frozen=True)
class FieldSpec:
    """One attribute an importer reads: its key, the column names it may have, its type."""

    key: str
    aliases: tuple[str, ...] = ()
    kind: FieldKind = "str"
    required: bool = False
    max_length: int | None = None

    def candidates(self) -> list[str]:
        names = [self.key, *self.aliases]
        return [n.lower() for n in names] + [n.lower()[:10] for n in names]


@dataclass
class Problems:
    """Field and geometry problems of one file, collected before anything is written."""

    file: str
    items: list[dict[str, Any]] = field(default_factory=list)

    def add(self, kind: str, reason: str, *, feature: int | None, field: str | None) -> None:
        where = f"feature {feature}: " if feature else ""
        col = f"{field}: " if field else ""
        item: dict[str, Any] = {"kind": kind, "message": f"{where}{col}{reason}", "reason": reason}
        item |= {k: v for k, v in (("feature", feature), ("field", field)) if v is not None}
        self.items.append(item)

    def raise_if_any(self) -> None:
        if self.items:
            raise rejection(self.file, self.items)


def rejection(file: str, problems: list[dict[str, Any]]) -> ImportRejected:
    """The ImportRejected for a file: count, first problem with its feature number, all problems."""
    n, first = len(problems), problems[0]
    msg = first.get("message", "")
    if first.get("feature") and not str(msg).startswith("feature"):
        msg = f"feature {first['feature']}: {msg}"
    return ImportRejected(
        f"{Path(file).name}: import refused, {n} problem{'s' if n > 1 else ''}; first: {msg}",
        problems,
        file=file,
    )


def map_fields(
    table: FeatureTable, specs: Sequence[FieldSpec], options: Mapping[str, Any]
) -> dict[str, str | None]:
    """Which column holds each field: ``<key>_field`` options first, then the aliases.

    A required field with no column, an option naming a missing column or an unknown option is
    refused with the list of columns the file has.
    """
    keys = {f"{s.key}_field": s for s in specs}
    unknown = sorted(set(options) - set(keys))
    have = ", ".join(table.columns) or "none"
    if unknown:
        raise ValidationError(
            f"unknown options {', '.join(unknown)}; field options: {', '.join(keys)}",
            code="bad_option",
        )
    by_lower = {c.lower(): c for c in table.columns}
    out: dict[str, str | None] = {}
    problems = Problems(table.file)
    for opt, spec in keys.items():
        given = options.get(opt)
        if given:
            if given.lower() not in by_lower:
                problems.add(
                    "missing_field",
                    f"no column {given!r}; columns: {have}",
                    feature=None,
                    field=spec.key,
                )
            out[spec.key] = by_lower.get(given.lower())
            continue
        out[spec.key] = next((by_lower[c] for c in spec.candidates() if c in by_lower), None)
        if spec.required and out[spec.key] is None:
            names = "/".join([spec.key, *spec.aliases][:6])
            problems.add(
                "missing_field",
                f"required column missing: expected one of {names} (or {opt}=...); columns: {have}",
                feature=None,
                field=spec.key,
            )
    problems.raise_if_any()
    return out


def convert(value: Any, spec: FieldSpec) -> tuple[Any, str | None]:
    """Convert one cell to the field's kind; returns (value, reason it is wrong or None)."""
    if isinstance(value, str):
        value = value.strip()
    if value is None or value == "":
        return None, ("is empty; a value is required" if spec.required else None)
    if spec.kind in ("int", "code"):
        number = _whole_number(value)
        if number is None:
            if spec.kind == "code":
                return str(value), None  # the service says what is wrong with the code
            return None, f"expected a whole number, got {value!r}"
        return (str(number) if spec.kind == "code" else number), None
    if spec.kind == "float":
        try:
            return float(value), None
        except (TypeError, ValueError):
            return None, f"expected a number, got {value!r}"
    text = as_text(value)
    if spec.max_length and len(text) > spec.max_length:
        return None, f"is {len(text)} characters long; at most {spec.max_length} allowed"
    return text, None


def _whole_number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    text = str(value)
    if text.isdigit():
        return int(text)
    try:
        f = float(text)
    except ValueError:
        return None
    return (
        int(f) if f.is_integer() and "." in text and text.split(".")[1].strip("0") == "" else None
    )


def read_rows(
    table: FeatureTable,
    specs: Sequence[FieldSpec],
    columns: Mapping[str, str | None],
    problems: Problems,
    tick: Tick | None = None,
) -> list[dict[str, Any]]:
    """Each feature's converted values by field key; bad cells become problems."""
    rows: list[dict[str, Any]] = []
    for i in range(table.count):
        row: dict[str, Any] = {}
        for spec in specs:
            col = columns.get(spec.key)
            value, why = convert(table.columns[col][i] if col else None, spec)
            if why and col:
                problems.add("bad_value", why, feature=i + 1, field=col)
            row[spec.key] = value
        rows.append(row)
        if tick:
            tick.advance()
    return rows


# --------------------------------------------------------------------------- plain layers


def check_mode(mode: str) -> None:
    """Plain layers (roads, buildings) are appended to or replaced wholesale."""
    if mode not in ("append", "replace"):
        raise ValidationError(f"mode must be 'append' or 'replace', not {mode!r}", field="mode")


def delete_all(session: Session, model: Any) -> int:
    """Delete every row of a plain layer; return how many there were."""
    n = session.scalar(select(func.count()).select_from(model)) or 0
    session.execute(delete(model))
    return n


def insert_with_geometry(
    session: Session,
    model: Any,
    records: list[dict[str, Any]],
    geoms: Sequence[Any] | np.ndarray,
    tick: Tick,
) -> int:
    """Insert rows with their geometry and bounding box in batches; return the count."""
    bounds = shapely.bounds(np.asarray(list(geoms), dtype=object).reshape(-1))
    for start in range(0, len(records), BATCH):
        stop = min(start + BATCH, len(records))
        chunk = [
            records[j] | {"geom": geoms[j]} | dict(zip(_BOX, map(float, bounds[j]), strict=True))
            for j in range(start, stop)
        ]
        session.execute(insert(model), chunk)
        tick.advance(len(chunk))
    return len(records)


def layer_rows(
    session: Session, model: Any, *, bbox: BBox | None = None, within: BaseGeometry | None = None
) -> list[Any]:
    """Rows of a geometry table that touch ``bbox`` and/or the geometry ``within``."""
    q = select(model).order_by(model.id)
    boxes = [bbox] if bbox else []
    if within is not None:
        boxes.append(tuple(within.bounds))
    for minx, miny, maxx, maxy in boxes:
        q = q.where(model.minx <= maxx, model.maxx >= minx, model.miny <= maxy, model.maxy >= miny)
    rows = list(session.scalars(q))
    if within is not None:
        rows = [r for r in rows if r.geom.intersects(within)]
    return rows


# --------------------------------------------------------------------------- progress, summary


class Tick:
    """Counts work done and reports ``(done, total)`` to an optional progress callback."""

    def __init__(self, progress: ProgressFn | None, total: int) -> None:
        self.progress, self.total, self.done = progress, max(total, 1), 0
        self._step = max(self.total // 200, 1)
        self._report()

    def advance(self, n: int = 1) -> None:
        before = self.done
        self.done = min(self.done + n, self.total)
        if self.done == self.total or self.done // self._step != before // self._step:
            self._report()

    def finish(self) -> None:
        self.done = self.total
        self._report()

    def _report(self) -> None:
        if self.progress:
            self.progress(self.done, self.total)


@dataclass
class ImportSummary:
    """What an import did: features read and rows created, updated, unchanged, retired."""

    layer: str
    file: str
    features: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    retired: int = 0
    crs_note: str = ""
    encoding: str | None = None


def store_layer(
    session: Session,
    model: Any,
    layer: str,
    table: FeatureTable,
    records: list[dict[str, Any]],
    mode: Mode,
    tick: Tick,
) -> ImportSummary:
    """Write a plain layer (roads, buildings) in one savepoint, replacing or appending."""
    summary = ImportSummary(
        layer, table.file, table.count, crs_note=table.crs_note, encoding=table.encoding_used
    )
    with session.begin_nested():
        if mode == "replace":
            summary.retired = delete_all(session, model)
        summary.created = insert_with_geometry(session, model, records, table.geoms, tick)
    tick.finish()
    return summary
